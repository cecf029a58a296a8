"""A fast path for the common SHOT statement; Lark's grammar stays the definition.

What it buys: Lark's LALR parser costs about 250 µs a shot in pure Python (a Token object and
a table step for every token). Valid SHOT lines are nearly all the text of a large shot list,
and their shape is simple, so this module reads them with compiled regular expressions and a
few lines of code, in a fraction of that time. It only ever says "here is the same tree Lark
would build" or "I don't know" (None): anything unusual — other statements, odd spacing,
anything Lark would reject — goes to the grammar in parser.py, which also gives every
diagnostic. tests/test_quickparse.py checks on generated and mutated input that whenever this
returns a tree, Lark builds the same one.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from . import syntax as ast
from .language import OPTION_BY_KEYWORD, OPTION_BY_TERMINAL, token_pattern
from .scanner import scanner_after
from .source import Source, Span

# `SHOT name:` at the start of the statement (its first line has no leading blank here).
_HEAD = re.compile(rf'[ \t\f]*(?i:shot)[ \t]+({token_pattern("NAME")})[ \t]*:')
# One token of what follows the colon, named by kind: the grammar's terminals, in the order
# its contextual lexer prefers them where two could match. A point's two numbers are read again
# by _point_numbers.
# Each token with the blanks and comments before it: one match a token.
_TOKEN = scanner_after(("space", "comment"), "string", "duration", "aspect", "number", "word", "point")
_BLANKS = scanner_after(("space", "comment"))
_NAME = re.compile(token_pattern("NAME"))
# The option kind of a bare token the scanner names (its grammar terminal, in lower case).
_BARE_KIND = {name: OPTION_BY_TERMINAL[name.upper()].kind for name in ("duration", "aspect")}
_WORD_KIND = OPTION_BY_TERMINAL["WORD"].kind
# A word's or name's text is kept up to this many characters (its span still covers all of
# it). Every word the language knows and every valid name is far shorter, so a longer one is
# wrong whatever its end holds, and its diagnostic quotes only its start; what it buys is that
# a 50 MB "word" is not copied again by every stage that lowercases, compares or quotes it.
LONGEST_WORD = 1000
_ESCAPE = re.compile(r"\\([\"\\])")
_WRAP = re.compile(r"[ \t]*\r?\n[ \t]*")


def unquote(strings: list[str]) -> str:
    """The value of adjacent string tokens: escapes resolved, wrapped lines read as one line,
    the strings joined with one space (the grammar's `text` rule)."""
    return " ".join(_unquote_one(s) for s in strings)


def _unquote_one(string: str) -> str:
    return _unquote_inner(string[1:-1])


def _unquote_inner(inner: str) -> str:
    """The value of a string token's text between its quotes."""
    if "\n" in inner:  # most prompts have no line break: skip the substitution
        inner = _WRAP.sub(" ", inner)
    if "\\" in inner:
        inner = _unescape(inner)
    return inner


def _unescape(inner: str) -> str:
    """Backslash-quote and backslash-backslash read as the character escaped (as _ESCAPE.sub
    would have it).

    By str.replace, with a character the text lacks standing in for an escaped backslash:
    re.sub keeps a list entry per match, 400 MB for a 50 MB prompt of escaped quotes.
    Pairs are taken from the left in both, so a run of backslashes reads the same.
    """
    hole = next((chr(c) for c in range(0xE000, 0xF900) if chr(c) not in inner), None)
    if hole is None:  # every private-use character is in the text: fall back to the regex
        return _ESCAPE.sub(r"\1", inner)
    return inner.replace("\\\\", hole).replace('\\"', '"').replace(hole, "\\")


def word_text(text: str, start: int, end: int) -> str:
    """The text of the word at text[start:end], as the syntax tree keeps it (LONGEST_WORD)."""
    return text[start : min(end, start + LONGEST_WORD)]


# Spans, words and options made without NamedTuple's own __new__ (a frame of Python each, and a
# shot has dozens): tuple.__new__ with every field given, in the order the class declares them.
new = tuple.__new__
Word, Option = ast.Word, ast.Option


def parse_shot(source: Source, start: int, end: int) -> ast.Shot | None:
    """The SHOT statement in the source's text[start:end], or None to ask Lark."""
    text = source.text
    head = _HEAD.match(text, start, end)
    if head is None:
        return None  # another statement, or a SHOT Lark must look at

    def span(a: int, b: int) -> Span:
        return new(Span, (a, b, source))

    tokens: list[tuple[str, int, int]] = []  # (kind, start, end), blanks and comments left out
    pos = head.end()
    match = _TOKEN.match  # (not finditer: a search past a failed match could rescan a long line)
    while (m := match(text, pos, end)) is not None:
        kind: str = m.lastgroup  # type: ignore[assignment]  # a point's own groups are inside it
        pos = m.end()
        tokens.append((kind, m.start(kind), pos))
    if pos != end and not _BLANKS.fullmatch(text, pos, end):
        return None  # what no kind matches: Lark explains

    n = len(tokens)
    i = 0
    after = None
    if n and tokens[0][0] == "word" and text[tokens[0][1]:tokens[0][2]].lower() == "after":
        # `after NAME`: a name that is a word here (Lark's NAME takes more: anything else goes there)
        if n < 2 or tokens[1][0] != "word" or not text[tokens[0][1]:tokens[1][2]].isascii():
            return None
        _, a, b = tokens[1]
        if _NAME.match(text, a, end).end() != b:  # type: ignore[union-attr]  # (a word is a name)
            return None  # `in+2`: one NAME, a word and a number to the scanner
        after, i = ast.Word(word_text(text, a, b), span(a, b)), 2
    move: list[ast.Word] = []
    while i < n and tokens[i][0] in ("word", "number"):
        kind, a, b = tokens[i]
        number = kind == "number"
        move.append(new(Word, (text[a:b] if number or b - a <= LONGEST_WORD else text[a : a + LONGEST_WORD],
                               new(Span, (a, b, source)), number)))
        i += 1
    prompt, i = _text(text, tokens, i, span)
    if prompt is None:
        return None
    options: list[ast.Option] = []
    while i < n:
        kind, a, b = tokens[i]
        if kind in _BARE_KIND:
            at = new(Span, (a, b, source))
            options.append(new(Option, (_BARE_KIND[kind], new(Word, (text[a:b], at, False)), at, (), "")))
            i += 1
        elif kind == "word":
            key = text[a:b]
            if not key.isascii():  # case folds beyond str.lower (`ſound` is `sound` to Lark)
                return None
            form = OPTION_BY_KEYWORD.get(key.lower())
            if form is None:  # a bare word: the option a WORD is (a mode)
                at = new(Span, (a, b, source))
                word = new(Word, (word_text(text, a, b), at, False))
                options.append(new(Option, (_WORD_KIND, word, at, (), "")))
                i += 1
            elif form.argument == "text":
                value, i = _text(text, tokens, i + 1, span)
                if value is None:
                    return None
                options.append(ast.Option(form.kind, value, value.span, (), key))
            elif form.argument == "points":
                mask, i = _text(text, tokens, i + 1, span)
                points: list[ast.Point] = []
                while i < n and tokens[i][0] == "point":
                    _, c, d = tokens[i]
                    x, y = _point_numbers(text, c, d)
                    if x is None or y is None:
                        return None
                    points.append(ast.Point(text[x[0] : x[1]], text[y[0] : y[1]], span(x[0], y[1])))
                    i += 1
                if mask is None or not points:
                    return None
                options.append(ast.Option(form.kind, mask, mask.span.to(points[-1].span), tuple(points), key))
            else:  # a name, word or number: names that are WORDs here, the rest goes to Lark
                wanted = "number" if form.argument == "number" else "word"
                if i + 1 >= n or tokens[i + 1][0] != wanted:
                    return None
                _, c, d = tokens[i + 1]
                word = ast.Word(text[c:d] if wanted == "number" else word_text(text, c, d), span(c, d),
                                wanted == "number")
                options.append(ast.Option(form.kind, word, word.span, (), key))
                i += 2
        else:
            return None  # a number, string or point where no option takes one: Lark explains
    name_start, name_end = head.span(1)
    name = ast.Word(word_text(text, name_start, name_end), span(name_start, name_end))
    last = options[-1].span if options else prompt.span
    return ast.Shot(name, tuple(move), prompt, tuple(options), name.span.to(last), after)


_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?")


def _point_numbers(text: str, a: int, b: int) -> tuple[tuple[int, int] | None, tuple[int, int] | None]:
    found = [m.span() for m in _NUMBER.finditer(text, a, b)]
    if len(found) != 2:
        return None, None
    return found[0], found[1]


def _text(text: str, tokens: list[tuple[str, int, int]], i: int,
          span: Callable[[int, int], Span]) -> tuple[ast.Text | None, int]:
    """One or more adjacent strings from tokens[i] on: (Text, next index), or (None, i)."""
    strings = []
    while i < len(tokens) and tokens[i][0] == "string":
        strings.append(tokens[i])
        i += 1
    if not strings:
        return None, i
    # Each string's inside sliced once (not the token, then its inside): a prompt may be long.
    value = " ".join(_unquote_inner(text[a + 1 : b - 1]) for _, a, b in strings)
    return ast.Text(value, span(strings[0][1], strings[0][2]).to(span(strings[-1][1], strings[-1][2]))), i
