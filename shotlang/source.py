"""Source text and positions in it: what every later stage points back into."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import NamedTuple

BOM = "\ufeff"


class Span(NamedTuple):
    """A stretch of source text. Lines and columns count from 1, in characters; ends exclude."""

    line: int
    column: int
    end_line: int
    end_column: int
    start: int
    end: int

    def to(self, other: Span) -> Span:
        """The span from the start of this one to the end of `other`."""
        return Span(self.line, self.column, other.end_line, other.end_column, self.start, other.end)


@dataclass
class Source:
    """The text of one shot list and the name it is reported under."""

    text: str
    name: str = "<input>"
    _line_starts: list[int] = field(default_factory=list, repr=False)

    def line_text(self, line: int) -> str:
        """Line `line` (1-based) without its line ending."""
        starts = self.line_starts()
        if not 1 <= line <= len(starts):
            return ""
        end = starts[line] - 1 if line < len(starts) else len(self.text)
        return self.text[starts[line - 1] : end].rstrip("\r\n")

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

    def span(self, start: int, end: int) -> Span:
        """The span of text[start:end], for positions found outside the parser."""
        starts = self.line_starts()
        line = bisect.bisect_right(starts, start)
        end_line = bisect.bisect_right(starts, max(start, end - 1)) if end > start else line
        end_col = end - starts[end_line - 1] + 1
        return Span(line, start - starts[line - 1] + 1, end_line, end_col, start, end)


class DecodeFailure(Exception):
    """The bytes are not UTF-8; `offset` is the first bad byte."""

    def __init__(self, text: str, offset: int, reason: str) -> None:
        super().__init__(reason)
        self.text = text
        self.offset = offset
        self.reason = reason


def decode(data: bytes) -> str:
    """UTF-8 text with a leading byte-order mark dropped.

    On bad bytes, raises DecodeFailure carrying the text decoded so far (with the bad bytes
    replaced) so the error can still be pointed at a line and column.
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        good = data[: e.start].decode("utf-8")
        rest = data[e.start :].decode("utf-8", errors="replace")
        text = good + rest
        offset = len(good)
        if text.startswith(BOM):
            text, offset = text[1:], offset - 1
        raise DecodeFailure(text, offset, e.reason) from None
    return text[1:] if text.startswith(BOM) else text
