"""The words of the language, scanned one way: quoted strings, `#` comments, block comments and
notes, durations, aspect ratios, numbers, words, names and the punctuation between them.

Every part of shotlang that reads the text without the grammar builds its scanner here, from
one table of patterns (the grammar's own, from language.TOKENS, plus what the grammar ignores or
the tools need): the fast path (quickparse.py) reads SHOT lines with it, the statement cutter
(parser.py) finds where strings and comments run, `trivia` finds block comments and notes
(which fmt and the language server keep), the language server reads a statement up to the
cursor, and the editor grammar (editor_grammar.py) is made from the same table. So what a
string, a comment or a note is, is said once.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Literal, NamedTuple

from .language import STRING_INSIDE, token_pattern

TriviaKind = Literal["block", "note"]
# What opens a block comment and a note, and what closes it.
DELIMITERS: dict[TriviaKind, tuple[str, str]] = {"block": ("/*", "*/"), "note": ("[[", "]]")}

# Each kind of token the scanners here tell apart, by name: its pattern.
PATTERNS: dict[str, str] = {
    "space": r"[ \t\f\r\n]+",
    "blank": r"\s+",  # any white space, Unicode's included (what an editor skips)
    "comment": r"\#[^\n]*",
    "block": re.escape(DELIMITERS["block"][0]),  # the opening only: `trivia` finds the end
    "note": re.escape(DELIMITERS["note"][0]),
    "string": token_pattern("STRING"),
    # A string the writer is still typing: on one line, maybe open at the end (an editor's view).
    "line_string": r'"[^"\\\n]*(?:\\.[^"\\\n]*)*(?:"|$)',
    "duration": token_pattern("DURATION"),
    "aspect": token_pattern("ASPECT"),
    "number": token_pattern("NUMBER"),
    "word": token_pattern("WORD"),
    "name": token_pattern("NAME"),
    # A trajectory point, as the grammar's `point` rule reads it.
    "point": r"\([ \t]*[+-]?\d+(?:\.\d+)?[ \t]*,[ \t]*[+-]?\d+(?:\.\d+)?[ \t]*\)",
    # A run of anything but blanks, quotes, comments, colons and brackets: a word as an editor
    # sees it while it is being typed, whatever it turns out to be.
    "loose": r'[^\s"#:(),]+',
    "colon": ":",
    "punctuation": r"[(),]",
}

# Where a quoted string is and runs: its inside (possessive runs of plain characters between
# escapes, so a 50 MB string is scanned in C and costs no memory), then its closing quote or
# the end of the line it runs off.
STRING_OR_COMMENT = re.compile(rf'"{STRING_INSIDE}("|\\?$)|#')
STRING_REST = re.compile(rf'{STRING_INSIDE}"')


def scanner(*kinds: str) -> re.Pattern[str]:
    """A regular expression that matches one token of any of `kinds`, tried in that order; the
    match's `lastgroup` names its kind. (A kind's pattern holds no named group of its own.)"""
    return re.compile("|".join(f"(?P<{kind}>{PATTERNS[kind]})" for kind in kinds))


def scanner_after(skipped: tuple[str, ...], *kinds: str) -> re.Pattern[str]:
    """As scanner(kinds), each token with the run of `skipped` kinds before it taken in the same
    match (one match a token, not two: the fast path's blanks and comments). The token is the
    match's `lastgroup`; a run of `skipped` at the end matches no token."""
    blanks = "|".join(PATTERNS[kind] for kind in skipped)
    return re.compile(f"(?:{blanks})*+(?:" + "|".join(f"(?P<{kind}>{PATTERNS[kind]})" for kind in kinds) + ")")


class Token(NamedTuple):
    kind: str
    text: str
    start: int
    end: int

    @property
    def lower(self) -> str:
        return self.text.lower()


def scan(pattern: re.Pattern[str], text: str, start: int, end: int, *,
         skip: frozenset[str] = frozenset({"space"})) -> Iterator[Token]:
    """The tokens of text[start:end] by `pattern` (from scanner()), those of a kind in `skip`
    left out; it stops where no kind matches."""
    pos = start
    match = pattern.match
    while pos < end:
        m = match(text, pos, end)
        if m is None:
            return
        kind = m.lastgroup or ""
        if kind not in skip:
            yield Token(kind, m[0], pos, m.end())
        pos = m.end()
