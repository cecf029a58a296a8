"""One scanner for the language's words (shotlang/compiler/scanner.py): what a string, a comment, a note
or a number is, is said once, and every reader of the text without the grammar builds on it."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from lark import Lark

from shotlang.compiler import parser, quickparse, scanner, trivia
from shotlang.compiler.language import STRING_INSIDE
from shotlang.tools.lsp import words

PACKAGE = Path(scanner.__file__).parent.parent  # all of shotlang


def kinds(pattern: re.Pattern[str], text: str) -> list[tuple[str, str]]:
    return [(t.kind, t.text) for t in scanner.scan(pattern, text, 0, len(text))]


def test_a_statement_is_scanned_into_its_words() -> None:
    fast = scanner.scanner("space", "comment", "string", "duration", "aspect", "number", "word", "point")
    text = 'slow pan right 4.5 "A \\"keep\\"" 10s 16:9 motion "m.png" (1, 2) # a note'
    assert kinds(fast, text) == [
        ("word", "slow"), ("word", "pan"), ("word", "right"), ("number", "4.5"), ("string", '"A \\"keep\\""'),
        ("duration", "10s"), ("aspect", "16:9"), ("word", "motion"), ("string", '"m.png"'), ("point", "(1, 2)"),
        ("comment", "# a note")]


def test_the_editor_s_view_takes_open_strings_and_any_word() -> None:
    assert [(t.kind, t.text) for t in words.tokens('SHOT a: "A ca', 0, 13)] == [
        ("word", "SHOT"), ("word", "a"), ("colon", ":"), ("string", '"A ca')]
    assert [t.kind for t in words.tokens("DEFAULTS 5s\u00a0pro", 0, 15)] == ["word", "word", "word"]


def test_trivia_and_the_statement_cutter_read_strings_as_the_grammar_does() -> None:
    text = 'SHOT a: "no /* here [[ or # here" [[a note]] /* off */\n'
    found = trivia.mask(text, comments=True).trivia
    assert [(t.kind, text[t.start:t.end]) for t in found] == [("note", "[[a note]]"), ("block", "/* off */")]
    cut = parser.statement_chunks('SHOT a: "runs\n  on" 5s\nSHOT b: "x"\n')
    assert len(cut) == 2


@cache
def _lexer() -> Lark:
    return Lark(parser.grammar_path().read_text(encoding="utf-8"), parser="lalr", start="statement", lexer="basic")


_PIECES = st.one_of(
    st.from_regex(r'"([^"\\]|\\.|\n[ \t]*)*"', fullmatch=True),
    st.sampled_from(["slow", "pan", "5s", "16:9", "4.5", "-3", "(1, 2)", ":", "# c", "a-b", "x'y"]),
)


@given(st.lists(_PIECES, min_size=1, max_size=12))
def test_the_scanner_and_lark_agree_on_every_string(pieces: list[str]) -> None:
    text = " ".join(p for p in pieces if not p.startswith("#")) + (" # c" if "# c" in pieces else "")
    strings = [t.text for t in scanner.scan(scanner.scanner("comment", "string", "space", "loose", "colon",
                                                            "punctuation"), text, 0, len(text))
               if t.kind == "string"]
    assert strings == [t.value for t in _lexer().lex(text) if t.type == "STRING"]


def test_only_the_language_table_spells_a_string() -> None:
    """The string's pattern is written once (language.STRING_INSIDE): no module keeps a copy.
    (The editor's view of a string being typed, scanner.PATTERNS["line_string"], is another
    thing: a string on one line that may be open at its end.)"""
    spelled = [path.name for path in PACKAGE.rglob("*.py")
               if STRING_INSIDE in path.read_text(encoding="utf-8") and path.name != "language.py"]
    assert spelled == []
    for pattern in (quickparse._TOKEN, trivia._SCAN, scanner.STRING_OR_COMMENT, scanner.STRING_REST):
        assert STRING_INSIDE in pattern.pattern
