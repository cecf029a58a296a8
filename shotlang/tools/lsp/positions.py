"""Positions as an editor counts them, and offsets as the compiler does.

A Span is a pair of offsets in code points. The Language Server Protocol speaks of a line (from
0) and a character in that line, counted in the units client and server agreed on at start-up:
UTF-16 code units unless the client offers another (an emoji is two of them, one code point),
UTF-8 bytes, or UTF-32 code points. Its lines end at `\\n`, `\\r\\n` or a lone `\\r`.
"""

from __future__ import annotations

import bisect
import itertools
import re
from typing import NamedTuple

UTF8, UTF16, UTF32 = "utf-8", "utf-16", "utf-32"
ENCODINGS = (UTF8, UTF16, UTF32)
_BREAK = re.compile(r"\r\n?|\n")


class Position(NamedTuple):
    line: int  # from 0
    character: int  # in the agreed units, from 0


def _units(text: str, encoding: str) -> int:
    """How long `text` is in the agreed units."""
    if encoding == UTF32 or text.isascii():
        return len(text)
    if encoding == UTF16:
        return len(text) + sum(1 for c in text if ord(c) > 0xFFFF)
    return len(text.encode("utf-8", "surrogatepass"))


def _code_points(line: str, units: int, encoding: str) -> int:
    """How many code points of `line` take up `units` (a position inside a character: after it)."""
    if encoding == UTF32 or line.isascii():
        return min(units, len(line))
    counted = 0
    for i, char in enumerate(line):
        if counted >= units:
            return i
        counted += _units(char, encoding)
    return len(line)


class Lines:
    """A text's line starts, for turning offsets into positions and back."""

    def __init__(self, text: str, encoding: str = UTF16) -> None:
        self.text = text
        self.encoding = encoding
        # All of it ASCII (most shot lists): a character is a unit in every encoding, so a
        # position is counted, not measured (kept through edits: what they insert decides).
        self.ascii = text.isascii()
        self.cr = "\r" in text
        if self.cr:
            self.starts = [0, *(m.end() for m in _BREAK.finditer(text))]
        else:  # the usual case, some ten times quicker
            self.starts = [0, *itertools.accumulate(len(line) + 1 for line in text.split("\n")[:-1])]

    def edited(self, start: int, end: int, inserted: str, text: str) -> Lines:
        """The index of `text`, which is this one's text with [start:end] replaced by
        `inserted`: the line starts before the edit kept, those after it moved (a `\r` anywhere
        is left to a fresh count, as it may pair with a `\n` across the edit)."""
        if "\r" in inserted or "\r" in self.text[max(0, start - 1) : end + 1] or self.cr:
            return Lines(text, self.encoding)
        starts = self.starts
        first, last = bisect.bisect_right(starts, start), bisect.bisect_right(starts, end)
        delta = len(inserted) - (end - start)
        added = [start + i + 1 for i, char in enumerate(inserted) if char == "\n"] if "\n" in inserted else []
        edited = Lines.__new__(Lines)
        edited.text, edited.encoding, edited.cr = text, self.encoding, False
        edited.ascii = self.ascii and inserted.isascii() or (not self.ascii and text.isascii())
        edited.starts = starts[:first] + added + [at + delta for at in starts[last:]]
        return edited

    def line_end(self, line: int) -> int:
        """Where line `line` (from 0) ends, before its line break."""
        if line + 1 < len(self.starts):
            end = self.starts[line + 1] - 1
            if self.text[end] == "\n" and end > self.starts[line] and self.text[end - 1] == "\r":
                end -= 1
            return end
        return len(self.text)

    def position(self, offset: int) -> Position:
        """The position of code point `offset`."""
        offset = max(0, min(offset, len(self.text)))
        line = bisect.bisect_right(self.starts, offset) - 1
        start = self.starts[line]
        if self.ascii:
            return Position(line, offset - start)
        return Position(line, _units(self.text[start:offset], self.encoding))

    def offset(self, line: int, character: int) -> int:
        """The code point at a position; past the end of its line is the line's end, past the
        last line the end of the text (as the protocol asks)."""
        if line < 0:
            return 0
        if line >= len(self.starts):
            return len(self.text)
        start, end = self.starts[line], self.line_end(line)
        return start + _code_points(self.text[start:end], max(0, character), self.encoding)
