"""Source text and positions in it: what every later stage points back into."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import NamedTuple

BOM = "\ufeff"


class Span(NamedTuple):
    """A stretch of a source's text, by character offsets (end excluded).

    Lines and columns (counting from 1, in characters) are worked out from the source when
    asked for, which is only when a diagnostic is shown. What it buys: a span is two numbers
    and a shared reference, a third of the memory of six numbers, and a large shot list has
    a span for every word.
    """

    start: int
    end: int
    source: Source

    def to(self, other: Span) -> Span:
        """The span from the start of this one to the end of `other`."""
        return Span(self.start, other.end, self.source)

    @property
    def line(self) -> int:
        return self.source.line_of(self.start)

    @property
    def column(self) -> int:
        return self.start - self.source.line_starts()[self.line - 1] + 1

    @property
    def end_line(self) -> int:
        return self.source.line_of(max(self.start, self.end - 1))

    @property
    def end_column(self) -> int:
        return self.end - self.source.line_starts()[self.end_line - 1] + 1


@dataclass(eq=False)
class Source:
    """The text of one shot list and the name it is reported under.

    `text` is what the parser reads; where block comments and notes were blanked out of it
    (trivia.py), `written` is the text as written, the same length, which diagnostics show."""

    text: str = field(repr=False)
    name: str = "<input>"
    _line_starts: list[int] = field(default_factory=list, repr=False)
    written: str | None = field(default=None, repr=False)

    @property
    def shown(self) -> str:
        """The text as written: what a diagnostic quotes."""
        return self.text if self.written is None else self.written

    def line_bounds(self, line: int) -> tuple[int, int]:
        """Where line `line` (1-based) is in the text, without its line ending: (start, end).

        Offsets rather than the line itself, so that showing a diagnostic on a line of 50 MB
        copies only the part shown.
        """
        starts = self.line_starts()
        if not 1 <= line <= len(starts):
            return len(self.text), len(self.text)
        start = starts[line - 1]
        end = starts[line] - 1 if line < len(starts) else len(self.text)
        while end > start and self.text[end - 1] in "\r\n":
            end -= 1
        return start, end

    def line_starts(self) -> list[int]:
        if not self._line_starts:
            starts = [0]
            find = self.text.find
            i = find("\n")
            while i != -1:
                starts.append(i + 1)
                i = find("\n", i + 1)
            self._line_starts = starts
        return self._line_starts

    def line_of(self, offset: int) -> int:
        """The line (from 1) that character `offset` is on."""
        return bisect.bisect_right(self.line_starts(), offset)

    def span(self, start: int, end: int) -> Span:
        return Span(start, end, self)


class DecodeFailure(Exception):
    """The bytes are not UTF-8 (or, after its byte-order mark, UTF-16); `offset` is the first
    bad character."""

    def __init__(self, text: str, offset: int, reason: str, encoding: str = "UTF-8") -> None:
        super().__init__(reason)
        self.text = text
        self.offset = offset
        self.reason = reason
        self.encoding = encoding


# Notepad's "Unicode" and "Unicode big endian": UTF-16 is read only when its byte-order mark
# says so (UTF-8 has no NUL bytes to confuse it with, and a guess without the mark can be wrong).
UTF16_BOMS = ((b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))


def decode(data: bytes) -> str:
    """UTF-8 text with a leading byte-order mark dropped; UTF-16 if it starts with its mark.

    On bad bytes, raises DecodeFailure carrying the text decoded so far (with the bad bytes
    replaced) so the error can still be pointed at a line and column.
    """
    for bom, codec in UTF16_BOMS:
        if data.startswith(bom):
            return _decode(data[len(bom) :], codec)
    return _decode(data, "utf-8")


def _decode(data: bytes, codec: str) -> str:
    try:
        text = data.decode(codec)
    except UnicodeDecodeError as e:
        good = data[: e.start].decode(codec)
        rest = data[e.start :].decode(codec, errors="replace")
        text = good + rest
        offset = len(good)
        if text.startswith(BOM):
            text, offset = text[1:], offset - 1
        raise DecodeFailure(text, offset, e.reason, "UTF-8" if codec == "utf-8" else "UTF-16") from None
    return text[1:] if text.startswith(BOM) else text


def describe_indent(indent: str) -> str:
    """`1 tab and 4 spaces`: an indent in words, for a message about tabs and spaces."""
    if not indent:
        return "none"
    parts = []
    for char, name in (("\t", "tab"), (" ", "space")):
        count = indent.count(char)
        if count:
            parts.append(f"{count} {name}{'s' if count > 1 else ''}")
    return " and ".join(parts)
