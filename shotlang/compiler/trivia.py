"""What the compiler reads past: `#` comments, `/* ... */` block comments and `[[ notes ]]`.

Block comments (to switch shots off without deleting them) and notes (a writer's remarks,
carried into the output but never sent) come from screenplay habits (Fountain). Both may run
over several lines, so they are taken out before the file is cut into statements: `mask`
blanks them, keeping every other character where it was, so that offsets, lines and columns
still point into the text as written. A line that only held one of them reads as a comment
line (it gets a `#`), so it neither ends a statement nor starts one.

Inside a quoted string or a `#` comment, `/*` and `[[` are plain text.
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections.abc import Iterator
from typing import Literal, NamedTuple

from .scanner import DELIMITERS, PATTERNS, scanner

Kind = Literal["comment", "block", "note"]


class Trivia(NamedTuple):
    kind: Kind
    start: int
    end: int  # one past the last character

    def note(self, text: str) -> str:
        """A note's words, its line breaks and runs of blanks read as one space."""
        return " ".join(text[self.start + 2 : self.end - 2].split())


class Masked(NamedTuple):
    text: str  # the same length as the text as written
    trivia: list[Trivia]  # in order; `#` comments only when asked for
    unclosed: Trivia | None  # a `/*` or `[[` with no end: it runs to the end of the file


# What opens each, and what closes it (scanner.DELIMITERS; the editor grammar is made from it too).
_OPENERS = {opener: (kind, closer) for kind, (opener, closer) in DELIMITERS.items()}
_SCAN = scanner("string", "comment", "block", "note")
_NOT_NEWLINE = re.compile(r"[^\n]")
# Everything up to the next opener, in one match: plain characters, whole strings and comments
# (what _SCAN would find one token at a time), a `/` or `[` that opens nothing. It stops at an
# opener, at the end, or at a quote that closes no string (a character like any other then).
_FIRSTS = "".join(re.escape(opener[0]) for opener in _OPENERS)
_SKIP = re.compile(f'(?:[^"#{_FIRSTS}]++|{PATTERNS["string"]}|{PATTERNS["comment"]}|'
                   + "|".join(f"{re.escape(o[0])}(?!{re.escape(o[1])})" for o in _OPENERS) + ")*+")


def _regions_from(text: str, pos: int) -> Iterator[tuple[Trivia, bool]]:
    """Each block comment and note from `pos` on, in order, and whether it is unclosed (then it
    runs to the end, and is the last). `pos` must be a place the scan reaches from the start of
    the text: outside every string, comment, block comment and note."""
    end_of_text = len(text)
    while True:
        pos = _SKIP.match(text, pos).end()  # type: ignore[union-attr]  # (it matches the empty string)
        if pos >= end_of_text:
            return
        opener = _OPENERS.get(text[pos : pos + 2])
        if opener is None:
            pos += 1  # a quote that opens no string
            continue
        kind, closer = opener
        end = text.find(closer, pos + 2)
        if end == -1:
            yield Trivia(kind, pos, end_of_text), True
            return
        yield Trivia(kind, pos, end + 2), False
        pos = end + 2


def mask(text: str, comments: bool = False) -> Masked:
    """`text` with its block comments and notes blanked, and where each is (with `comments`,
    where each `#` comment is too)."""
    if "/*" not in text and "[[" not in text and not comments:
        return Masked(text, [], None)  # most files: nothing to scan for
    if not comments:  # a match a block comment or note, not one a string or comment
        regions = []
        opened = None
        for region, unclosed_ in _regions_from(text, 0):
            regions.append(region)
            if unclosed_:
                opened = Trivia(region.kind, region.start, region.start + 2)
        return Masked(_blank(text, regions) if regions else text, regions, opened)
    found: list[Trivia] = []
    unclosed = None
    pos = 0
    while (m := _SCAN.search(text, pos)) is not None:
        token = m[0]
        if token in _OPENERS:
            kind, closer = _OPENERS[token]
            end = text.find(closer, m.end())
            if end == -1:
                unclosed = Trivia(kind, m.start(), m.end())
                found.append(Trivia(kind, m.start(), len(text)))
                break
            found.append(Trivia(kind, m.start(), end + 2))
            pos = end + 2
        else:
            if comments and token[0] == "#":
                found.append(Trivia("comment", m.start(), m.end()))
            pos = max(m.end(), m.start() + 1)
    regions = [t for t in found if t.kind != "comment"]
    if not regions:
        return Masked(text, found, unclosed)
    return Masked(_blank(text, regions), found, unclosed)


def _blank(text: str, regions: list[Trivia]) -> str:
    out = []
    pos = 0
    for region in regions:
        out.append(text[pos : region.start])
        out.append(_NOT_NEWLINE.sub(" ", text[region.start : region.end]))
        pos = region.end
    out.append(text[pos:])
    masked = "".join(out)
    # A line left blank by the masking would end the statement it stands in: mark it a comment
    # line, at the first character masked on it.
    marks: dict[int, int] = {}  # line start -> where its `#` goes
    for region in regions:
        line_start = text.rfind("\n", 0, region.start) + 1
        while line_start <= region.end:
            line_end = masked.find("\n", line_start)
            line_end = len(masked) if line_end == -1 else line_end
            if not masked[line_start:line_end].strip() and text[line_start:line_end].strip():
                marks.setdefault(line_start, max(region.start, line_start))
            line_start = line_end + 1
    if not marks:
        return masked
    pieces: list[str] = []
    pos = 0  # one pass: rebuilding the text for each mark made a file of notes quadratic
    for at in sorted(marks.values()):
        pieces += (masked[pos:at], "#")
        pos = at + 1
    pieces.append(masked[pos:])
    return "".join(pieces)


def remask(old: Masked, text: str, start: int, end: int, length: int) -> Masked:
    """mask(text), where `text` is the text `old` masked (without comments) with its
    [start, end) replaced by `length` characters: what an editor's keystroke makes.

    The scan starts again at the end of the last block comment or note before the edit (a place
    it reached before, outside everything) and stops at the first one after the edit that it
    finds where the old scan found it, moved by the edit: from there on the text and the scan
    are the old ones. So a keystroke in a file with a note under each of 50,000 shots scans
    from one note to the next, and only the lines between them are blanked again.
    """
    regions = old.trivia
    if old.unclosed is not None or not regions:
        return mask(text)
    delta = length - (end - start)
    new_end = start + length
    i = bisect.bisect_right(regions, start, key=lambda r: r.end)  # regions[:i] end before the edit
    restart = regions[i - 1].end if i else 0
    # A string looks ahead for its closing quote: the text's last quote, if it closed no string,
    # starts one once a quote is typed after it, and that string may take in the regions after
    # it. Then the scan restarts before that quote. (Only the last quote can close none: one
    # that has a quote after it opens a string that closes.)
    if i and '"' in text[start:new_end] and text.find('"', new_end) == -1:
        last_quote = text.rfind('"', 0, restart)
        if last_quote != -1 and text.find('"', restart, start) == -1:
            i = bisect.bisect_right(regions, last_quote, key=lambda r: r.end)
            restart = regions[i - 1].end if i else 0
    found: list[Trivia] = []
    opened = None
    met = None  # the index of the old region where the scans met
    for region, unclosed_ in _regions_from(text, restart):
        found.append(region)
        if unclosed_:
            opened = Trivia(region.kind, region.start, region.start + 2)
            break
        was = region.start - delta  # (past the edit's new end, it is past its old end)
        if region.start >= new_end:
            j = bisect.bisect_left(regions, was, key=lambda r: r.start)
            if j < len(regions) and regions[j] == (region.kind, was, region.end - delta):
                met = j
                break
    kept = regions[:i]
    after: list[Trivia] = []
    last = len(text)  # the end of the lines blanked again: all the rest, unless the scans met
    if met is not None:
        new = tuple.__new__  # (NamedTuple's own __new__ is a frame of Python a region)
        after = [new(Trivia, (kind, s + delta, e + delta)) for kind, s, e in regions[met + 1 :]]
        line_end = text.find("\n", found[-1].end)
        last = len(text) if line_end == -1 else line_end
    first = text.rfind("\n", 0, restart) + 1
    near = list(itertools.takewhile(lambda r: r.end > first, reversed(kept)))[::-1]
    later = itertools.takewhile(lambda r: r.start < last, after)
    inside = [Trivia(r.kind, max(r.start, first) - first, min(r.end, last) - first)
              for r in itertools.chain(near, found, later) if r.start < last]
    piece = _blank(text[first:last], inside) if inside else text[first:last]
    rest = old.text[last - delta :] if met is not None else ""
    return Masked(old.text[:first] + piece + rest, kept + found + after, opened)
