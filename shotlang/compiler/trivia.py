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

import re
from typing import Literal, NamedTuple

from .scanner import DELIMITERS, scanner

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


def mask(text: str, comments: bool = False) -> Masked:
    """`text` with its block comments and notes blanked, and where each is (with `comments`,
    where each `#` comment is too)."""
    if "/*" not in text and "[[" not in text and not comments:
        return Masked(text, [], None)  # most files: nothing to scan for
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
