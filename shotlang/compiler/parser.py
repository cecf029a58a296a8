"""Text to syntax tree, one statement at a time.

The file is cut into statements (a line, plus the lines that continue it: see
statement_chunks), and each statement is parsed on its own: plain SHOT lines by the fast path
in quickparse.py, everything else by the Lark LALR grammar in grammar/shot.lark. So every bad
line gets its own diagnostic and the good ones still parse. Lark's parse errors are turned
here into diagnostics a writer can act on.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from . import syntax as ast
from .diagnostics import Diagnostic, closest, either
from .hints import looks_like_prose, move_prefix, number_option_hint, option_hint, statements_in_words
from .language import (
    MODE_WORDS,
    NAME_MAX_CHARS,
    NEVER_CONTINUE,
    OPTION_BY_KEYWORD,
    OPTION_BY_TERMINAL,
    OPTION_TERMINALS,
    SMART_QUOTES,
    STATEMENT_KEYWORDS,
    STATEMENT_TERMINALS,
    WRAPPING,
    token_pattern,
)
from .quickparse import LONGEST_WORD, parse_shot, unquote
from .scanner import STRING_OR_COMMENT, STRING_REST
from .source import Source, Span, describe_indent
from .vocabulary import JOINERS

_PACKAGE = Path(__file__).resolve().parent.parent  # shotlang/
# Installed wheels carry the grammar inside the package; a source checkout keeps it at the top.
_GRAMMAR_PLACES = (_PACKAGE / "grammar" / "shot.lark", _PACKAGE.parent / "grammar" / "shot.lark")

def grammar_path() -> Path:
    for place in _GRAMMAR_PLACES:
        if place.is_file():
            return place
    raise FileNotFoundError("shotlang's grammar file shot.lark is missing from the installation")


@v_args(inline=True)
class _Builder(Transformer[Token, object]):
    """Builds syntax nodes while the LALR parser runs (no intermediate tree).

    Lark counts offsets from the start of the statement it was given; `where(source, offset)`
    says which source it is and where that statement starts in it. One builder serves every
    parse (Lark calls it from the parsing thread), so that is kept per thread: several threads
    may compile at once.
    """

    def __init__(self) -> None:
        super().__init__()
        self._local = threading.local()

    def where(self, source: Source, offset: int) -> None:
        self._local.source, self._local.offset = source, offset

    def _span(self, tok: Token) -> Span:
        local = self._local
        return Span(tok.start_pos + local.offset, tok.end_pos + local.offset, local.source)

    def _word(self, tok: Token) -> ast.Word:
        # Names and words are kept up to quickparse.LONGEST_WORD characters; values exactly.
        text = str(tok[:LONGEST_WORD]) if tok.type in ("NAME", "WORD") else str(tok)
        return ast.Word(text, self._span(tok), tok.type == "NUMBER")

    # --- statements: the keyword token comes first, and is not part of the node ------------

    def shot(self, _keyword: Token, name: Token, *rest: object) -> ast.Shot:
        name_word = self._word(name)
        after = None
        if isinstance(rest[0], _After):  # `after castle`, before the move
            after, rest = rest[0].name, rest[1:]
        move: tuple[ast.Word, ...] = ()
        if not isinstance(rest[0], ast.Text):  # the move's words come first, if any
            move, rest = rest[0], rest[1:]  # type: ignore[assignment]
        prompt = rest[0]
        assert isinstance(prompt, ast.Text)
        options = tuple(o for o in rest[1:] if isinstance(o, ast.Option))
        last = options[-1].span if options else prompt.span
        return ast.Shot(name_word, move, prompt, options, name_word.span.to(last), after)

    def after(self, _keyword: Token, name: Token) -> _After:
        return _After(self._word(name))

    def sequence(self, _keyword: Token, name: Token, *options: ast.Option) -> ast.Sequence:
        name_word = self._word(name)
        options = tuple(o for o in options if isinstance(o, ast.Option))
        return ast.Sequence(name_word, options, name_word.span.to(options[-1].span) if options else name_word.span)

    def cast(self, _keyword: Token, name: Token, description: ast.Text, *rest: object) -> ast.Cast:
        name_word = self._word(name)
        options = tuple(o for o in rest if isinstance(o, ast.Option))
        also = tuple(t for t in rest if isinstance(t, ast.Text))
        spans = [description.span, *(o.span for o in options), *(t.span for t in also)]
        return ast.Cast(name_word, description, options, also, name_word.span.to(max(spans, key=lambda s: s.end)))

    def also(self, _keyword: Token, image: ast.Text) -> ast.Text:
        return image

    def move(self, *toks: Token) -> tuple[ast.Word, ...]:
        return tuple(self._word(t) for t in toks)

    def scene(self, _keyword: Token, heading: ast.Text, *options: ast.Option) -> ast.Scene:
        options = tuple(o for o in options if isinstance(o, ast.Option))
        return ast.Scene(heading, heading.span.to(options[-1].span) if options else heading.span, options)

    def title(self, _keyword: Token, title: ast.Text) -> ast.Title:
        return ast.Title(title, title.span)

    def model(self, _keyword: Token, name: Token) -> ast.ModelStatement:
        word = self._word(name)
        return ast.ModelStatement(word, word.span)

    def defaults(self, _keyword: Token, *options: ast.Option) -> ast.Defaults:
        return ast.Defaults(options, options[0].span.to(options[-1].span))

    def axes(self, _keyword: Token, value: Token) -> ast.Axes:
        word = self._word(value)
        return ast.Axes(word, word.span)

    def backend(self, _keyword: Token, value: Token) -> ast.Backend:
        word = self._word(value)
        return ast.Backend(word, word.span)

    def text(self, *strings: Token) -> ast.Text:
        return ast.Text(unquote(list(strings)), self._span(strings[0]).to(self._span(strings[-1])))

    def option(self, head: Token, *rest: ast.Text | Token | ast.Point) -> ast.Option:
        """Any alternative of the grammar's `option` rule: language.OPTIONS says which it is,
        by its keyword, or by the terminal of a bare option."""
        form = OPTION_BY_TERMINAL[head.type]
        if not rest:
            value: ast.Word | ast.Text = self._word(head)
            return ast.Option(form.kind, value, value.span)
        value = self._word(rest[0]) if isinstance(rest[0], Token) else rest[0]  # type: ignore[assignment]
        points = tuple(p for p in rest[1:] if isinstance(p, ast.Point))
        span = value.span.to(points[-1].span) if points else value.span
        return ast.Option(form.kind, value, span, points, str(head))

    def point(self, x: Token, y: Token) -> ast.Point:
        return ast.Point(str(x), str(y), self._span(x).to(self._span(y)))


class _After(NamedTuple):
    """`after NAME` as the builder passes it to `shot`."""

    name: ast.Word


_BUILDING = threading.Lock()
_BUILT: list[tuple[Lark, _Builder]] = []  # the parser, once built


def _parser() -> tuple[Lark, _Builder]:
    """The one LALR parser and its builder, built by the first thread that needs them (the
    others wait for it rather than build their own)."""
    if _BUILT:
        return _BUILT[0]
    with _BUILDING:
        if not _BUILT:
            _BUILT.append(_build_parser())
        return _BUILT[0]


def _build_parser() -> tuple[Lark, _Builder]:
    """The LALR parser, its tables cached on disk by Lark so a start does not rebuild them."""
    import tempfile  # Lark imports it anyway

    builder = _Builder()
    try:
        tempfile.gettempdir()  # where Lark keeps the tables: none usable on a full disk
        on_disk = True
    except OSError:
        on_disk = False  # build them, which works with no room at all
    parser = Lark(
        grammar_path().read_text(encoding="utf-8"),
        parser="lalr",
        lexer="contextual",
        start="statement",
        transformer=builder,
        cache=on_disk,
        maybe_placeholders=False,
    )
    return parser, builder


# A statement keyword as the grammar matches it: case-insensitive by Python's rules, under
# which `ſhot` (long s) is `shot` too; str.lower() would not say so.
_KEYWORD = re.compile("|".join(f"(?i:{k})" for k in STATEMENT_KEYWORDS))


def _first_word(line: str) -> str:
    """The line's first word, lower case; a statement keyword however the grammar would read it."""
    words = line[:64].split(None, 1)  # a keyword is short: copy no more of a long line
    word = words[0].rstrip(":") if words else ""
    return word.lower() if word.isascii() or not _KEYWORD.fullmatch(word) else _canonical(word)


def _canonical(word: str) -> str:
    return next(k for k in STATEMENT_KEYWORDS if re.fullmatch(f"(?i:{k})", word))




def _ends_in_string(line: str, in_string: bool) -> bool:
    """Whether a quoted string is still open at the end of `line`."""
    if not in_string and '"' not in line:
        return False
    pos = 0
    if in_string:
        closing = STRING_REST.match(line)
        if closing is None:
            return True
        pos = closing.end()
    for m in STRING_OR_COMMENT.finditer(line, pos):
        if line[m.start()] == "#":  # not m[0]: that would copy a whole long string
            return False
        if not m[1] or m[1] != '"':
            return True
    return False


def statement_chunks(text: str) -> list[tuple[int, int]]:
    """Where each statement is: (start offset, end offset).

    A statement starts on a line of its own and goes on over the lines that continue it:
    - a line indented deeper than the statement's first, while a quoted string is open;
    - a line starting with a quote (adjacent strings join);
    - a line indented deeper than a statement whose options wrap (language.WRAPPING), unless it
      starts a statement of its own (language.NEVER_CONTINUE).
    Comment lines may come between; a blank line ends a statement.
    """
    chunks: list[list[int]] = []
    current: list[int] | None = None  # [start, end]
    indent = 0
    wraps = in_string = False
    pos = 0
    for line in text.split("\n"):
        stripped = line.lstrip(" \t\f\r")
        end = pos + len(line)
        depth = len(line) - len(stripped)
        if current is not None and in_string and depth > indent and stripped:
            current[1] = end
        elif not stripped:
            current = None
        elif stripped[0] == "#":
            pass
        elif current is not None and (
            stripped[0] == '"'
            or (wraps and depth > indent and _first_word(stripped) not in NEVER_CONTINUE)
        ):
            current[1] = end
        else:
            current = [pos, end]
            chunks.append(current)
            indent, wraps, in_string = depth, _first_word(stripped) in WRAPPING, False
        if current is not None:
            in_string = _ends_in_string(line, in_string)
        pos = end + 1
    return [(c[0], c[1]) for c in chunks]


def statements(source: Source, report: list[Diagnostic]) -> Iterator[ast.Statement]:
    """The statements of a file one by one; a statement that does not parse is reported
    (in `report`) and skipped, so the rest still are."""
    for _start, _end, statement in placed_statements(source, report):
        yield statement


def placed_statements(source: Source, report: list[Diagnostic]) -> Iterator[tuple[int, int, ast.Statement]]:
    """As statements, each with where its lines are in the text (start and end offsets, as
    statement_chunks gives them): the formatter keeps what lies between."""
    previous: tuple[int, int] | None = None
    for start, end in statement_chunks(source.text):
        statement, continued = parse_statement(source, start, end, previous, report)
        if statement is not None:
            yield start, end, statement
        if continued:
            previous = (start, end)


def parse_statement(source: Source, start: int, end: int, previous: tuple[int, int] | None,
                    report: list[Diagnostic]) -> tuple[ast.Statement | None, bool]:
    """The statement at text[start:end] (one of statement_chunks), or None after reporting (in
    `report`) why it does not parse; and whether the statement after it may continue it.
    `previous` is where the statement is that this one may continue: a parse error looks back
    at it. One statement at a time, for the language server, which reads only those an edit
    touched (lsp/live.py)."""
    statement: ast.Statement | None = parse_shot(source, start, end)  # the fast path
    if statement is None:
        try:
            statement = parse_with_grammar(source, start, end)
        except UnexpectedInput as error:
            report.append(_explain(error, source, start, end, previous))
    # A stray line is skipped: the statement after it may continue the one before it.
    continued = statement is not None or _first_word(source.text[start : min(end, start + 64)]) in STATEMENT_KEYWORDS
    return statement, continued


def parse_with_grammar(source: Source, start: int, end: int) -> ast.Statement:
    """The statement in the source's text[start:end], by the Lark grammar alone.
    Raises Lark's UnexpectedInput where the grammar rejects it."""
    parser, builder = _parser()
    builder.where(source, start)
    return parser.parse(source.text[start:end])  # type: ignore[return-value]


# --- parse errors in a writer's words --------------------------------------------------------

_NAMES = {
    "NAME": "a name",
    "WORD": "a word",
    "NUMBER": "a number",
    "STRING": "a quoted string",
    "DURATION": "a duration such as 5s",
    "ASPECT": "an aspect ratio such as 16:9",
    "COLON": "`:`",
    "LPAR": "`(`",
    "RPAR": "`)`",
    "COMMA": "`,`",
    "$END": "the end of the line",
}


# Characters a word processor or a web page puts in that look like a space, or like nothing.
_INVISIBLE = {"\u00a0": "a no-break space (U+00A0)", "\u200b": "a zero-width space (U+200B)",
              "\u200c": "a zero-width non-joiner (U+200C)", "\u200d": "a zero-width joiner (U+200D)",
              "\u2060": "a word joiner (U+2060)", "\ufeff": "a zero-width no-break space (U+FEFF)",
              "\u2009": "a thin space (U+2009)", "\u202f": "a narrow no-break space (U+202F)",
              "\u3000": "an ideographic space (U+3000)", "\u00ad": "a soft hyphen (U+00AD)"}
# What a writer meant by a token the language spells otherwise.
_MEANT = (
    (re.compile(r"(\d+)\s*(?:sec|secs|second|seconds)\b", re.IGNORECASE), "a duration is whole seconds and `s`: `{0}s`"),
    (re.compile(r"(\d+)[xX×/](\d+)\b"), "an aspect ratio takes a colon: `{0}:{1}`"),
    (re.compile(r"\.(\d+)\b"), "write the number with its 0: `0.{0}`"),
)


def _unexpected_character(source: Source, at: int) -> Diagnostic:
    char = source.text[at]
    span = source.span(at, at + 1)
    if char in _INVISIBLE:
        return Diagnostic("E104", f"unexpected character: {_INVISIBLE[char]}", span,
                          "it looks like a space or like nothing, and is neither to shotlang: retype it as a plain "
                          "space, or delete it (text pasted from a web page or a word processor brings these)")
    hint = "prompts and paths go in double quotes; names use letters, digits, `-` and `_`"
    if char in SMART_QUOTES:
        hint = 'use straight double quotes "..." (your editor may have curled them)'
    else:
        line_end = source.text.find("\n", at)
        rest = source.text[at : len(source.text) if line_end == -1 else line_end]
        word_start = at
        while word_start > 0 and source.text[word_start - 1].isalnum():
            word_start -= 1  # `5sec` fails at its `e` or at its `5`: read the whole of it
        rest = source.text[word_start:at] + rest
        for pattern, said in _MEANT:
            found = pattern.match(rest)
            if found is not None:
                return Diagnostic("E104", f"unexpected `{found[0]}`", source.span(word_start, word_start + len(found[0])),
                                  said.format(*found.groups()))
        if rest.startswith("//"):
            hint = "a comment starts with `#` (or is a `/* ... */` block); `//` is not one"
    return Diagnostic("E104", f"unexpected character `{char}`", span, hint)


def _describe(terminal: str) -> str:
    if terminal in _NAMES:
        return _NAMES[terminal]
    return f"`{terminal.lower()}`"  # a keyword


def _explain(error: UnexpectedInput, source: Source, start: int, end: int,
             previous: tuple[int, int] | None = None) -> Diagnostic:
    """One diagnostic for a statement Lark could not parse; `previous` is where the
    statement before it is, for a line that was meant to continue it."""
    text = source.text
    if isinstance(error, UnexpectedCharacters):
        at = start + (error.pos_in_stream or 0)
        char = text[at]
        if char not in SMART_QUOTES and char != '"':
            unquoted = _unquoted_prompt(source, start, _line_end(text, at))
            if unquoted is not None:
                return unquoted
        if char == '"':
            line_end = text.find("\n", at)
            line_end = len(text) if line_end == -1 else line_end
            if text[line_end - 1] == "\r":
                line_end -= 1
            return Diagnostic(
                "E101",
                "this string has no closing quote",
                source.span(at, line_end),
                'close it with `"` on the same line; to continue a prompt on the next line, '
                'close it here and start the next line with a new `"`',
            )
        return _unexpected_character(source, at)

    assert isinstance(error, UnexpectedToken)
    token = error.token
    if len(token) > LONGEST_WORD:  # quoted only in part: no copies of a 50 MB token below
        token = Token.new_borrow_pos(token.type, token[:LONGEST_WORD], token)
    expected = {e for e in error.expected if not e.startswith("__")}
    if token.type == "$END":
        # Lark gives the end its last token's place: after it, a comment or blanks may follow.
        last = token.end_pos if token.end_pos is not None else len(text[start:end].rstrip(" \t\r\n"))
        at = start + last
        span = source.span(max(start, at - 1), at) if at > start else source.span(start, start)
        seen = "end of the line"
    else:
        span = source.span(start + (token.start_pos or 0), start + (token.end_pos or 0))
        seen = f"`{token}`"

    if expected <= STATEMENT_TERMINALS:
        if token.type == "STRING":
            return Diagnostic(
                "E105",
                "a quoted line with no statement above it to continue",
                span,
                "a line that starts with a quote continues the line right above it; "
                "remove the blank line between them, or start the line with SHOT",
            )
        match = closest(str(token), STATEMENT_KEYWORDS)
        named = text[span.end : end].lstrip(" \t").startswith(":")
        # `castle: …` is a shot without its SHOT, not a misspelt CAST (a keyword the name begins with).
        if match and not (named and str(token).lower().startswith(match)):
            return Diagnostic("E105", f"unknown statement {seen}", span, f"did you mean `{match.upper()}`?")
        if named:
            return Diagnostic("E105", f"unknown statement {seen}", span,
                              f"a shot starts with SHOT: `SHOT {str(token).rstrip(':')}: ...`")
        if str(token).startswith("//"):
            return Diagnostic("E105", "`//` does not start a comment", span,
                              "a comment starts with `#` (or is a `/* ... */` block): `# " +
                              text[span.start + 2 : _line_end(text, span.start)].strip()[:40] + "`")
        if previous is not None:
            astray = _not_a_continuation(source, previous, start, seen, span)
            if astray is not None:
                return astray
        return Diagnostic("E105", f"unknown statement {seen}", span,
                          f"statements start with {statements_in_words()}")
    if "COLON" in expected:
        spaced = _name_with_spaces(source, start, end)
        if spaced is not None:
            return spaced
        if _first_word(source.text[start : min(end, start + 64)]) == "sequence":
            return Diagnostic("E103", f"expected `:` after the sequence name, found {seen}", span,
                              "write the name, then a colon, then the sequence's options: "
                              "`SEQUENCE chase: 15s model kling-v3`")
        return Diagnostic("E103", f"expected `:` after the shot name, found {seen}", span,
                          "write the name, then a colon: `SHOT castle: ...`")
    missing = _missing_value(source, start, span, expected, seen, token.type == "$END")
    if missing is not None:
        return missing
    if "STRING" in expected and not expected & OPTION_TERMINALS:
        if token.type in ("DURATION", "ASPECT"):
            unquoted = _unquoted_prompt(source, start, span.start, stops_at_option=True)
            if unquoted is not None:
                return unquoted
            return Diagnostic("E106", f"option {seen} before the prompt", span,
                              'put options after the prompt: `SHOT a: pan right "..." 5s`')
        if token.type == "$END" and "WORD" in expected:
            unquoted = _unquoted_prompt(source, start, _line_end(text, start))
            if unquoted is not None:
                return unquoted
            return Diagnostic("E102", "this shot has no prompt", span,
                              'add the prompt in double quotes: `SHOT a: pan right over "..."`')
    if "LPAR" in expected and "WORD" not in expected:
        return Diagnostic("E405", "a motion needs a trajectory of points", span,
                          'write the points after the mask: motion "mask.png" (100, 200) (300, 200)')
    if expected & OPTION_TERMINALS and token.type == "NUMBER":
        # `speed 2`: the word before the number was meant as an option's keyword.
        before = _WORD_BEFORE.search(text, start, span.start)
        if before is not None and before[1].lower() not in MODE_WORDS:
            both = source.span(before.start(1), span.end)
            return Diagnostic("E301", f"unknown option `{before[1]} {token}`", both,
                              option_hint(before[1], str(token)))
        return Diagnostic("E301", f"unknown option {seen}", span, number_option_hint(str(token)))
    if expected & OPTION_TERMINALS and token.type == "STRING":
        return Diagnostic("E100", f"unexpected string {seen} after the options", span,
                          'a negative prompt is written `negative "..."`; to continue the prompt, '
                          "put the string right after it or at the start of the next line")
    unquoted = _unquoted_prompt(source, start, _line_end(text, start))
    if unquoted is not None:
        return unquoted
    if token.type == "NAME":
        # Only the fallback lexer yields a NAME where none is expected: the text holds a
        # character no word may contain. Point at that character.
        bad = next((i for i, c in enumerate(token) if not (c.isalnum() or c in "'-_")), 0)
        at = span.start + bad
        return _unexpected_character(source, at)
    names = sorted({_describe(e) for e in expected})
    wanted = either(names)
    return Diagnostic("E100", f"unexpected {seen}", span, f"expected {wanted}")


# --- slips with a likely meaning -------------------------------------------------------------

_WORD_BEFORE = re.compile(rf"(?<![\w\"'-])({token_pattern('WORD')})[ \t]+$")
_WORD_AT_END = re.compile(rf"(?<![\w\"'-])({token_pattern('WORD')})$")
_SHOT_HEAD = re.compile(r'[ \t\f]*(?i:shot)[ \t]+([^:"#\n]*?)[ \t]*:')
_PROSE_WORD = re.compile(r"[^\s#]+")
_OPTION_WORD = re.compile(f"{token_pattern('DURATION')}|{token_pattern('ASPECT')}")  # a bare option
_LONGEST_FIX = 100  # a fix longer than this shows the quoted words, not the whole line
_MOST_WORDS = 500  # words of an unquoted prompt looked at (a long line stays cheap)
_LONGEST_NAME = 200  # characters of a name with spaces looked at
_QUOTES = re.compile('["' + SMART_QUOTES + ']')
_BLANK_LINE = re.compile(r"\n[ \t\f\r]*\n")
_INDENT = re.compile(r"[ \t\f]*")


def _line_end(text: str, at: int) -> int:
    end = text.find("\n", at)
    end = len(text) if end == -1 else end
    return end - 1 if end > at and text[end - 1] == "\r" else end


def _unquoted_prompt(source: Source, start: int, stop: int,
                     stops_at_option: bool = False) -> Diagnostic | None:
    """E102 for `SHOT c: slow pan right over A castle at dawn 5s`: the words after the move
    read as a description, so the prompt lacks its quotes. The fix is shown quoted.

    The prompt ends at `stop` (an option the grammar met first, or the end of the line); when
    it ends at the line's end, options written after it (`5s`, `pro`, `16:9`) are left out."""
    text = source.text
    head = _SHOT_HEAD.match(text, start, stop)
    if head is None or _QUOTES.search(text, head.end(), stop):
        return None
    found = []
    for m in _PROSE_WORD.finditer(text, head.end(), stop):
        found.append(m)
        if len(found) > _MOST_WORDS:
            return None
    words = [m[0].lower() for m in found]
    if not stops_at_option:
        while words and (words[-1] in MODE_WORDS or _OPTION_WORD.fullmatch(words[-1])):
            words.pop()
    skip = move_prefix(words)
    prose = found[skip : len(words)]
    if not looks_like_prose(words[skip:], after_joiner=skip > 0 and words[skip - 1] in JOINERS):
        return None
    a, b = prose[0].start(), prose[-1].end()
    if text[a - 1 : a] == "'" and text[b : b + 1] == "'":  # 'A castle': single quotes are not quotes
        a, b = a - 1, b + 1
    line_start = text.rfind("\n", 0, a) + 1
    line_end = _line_end(text, b)
    if line_end - line_start <= _LONGEST_FIX and text.find("\n", start, b) == -1:
        fix = text[line_start:a].lstrip() + '"' + text[a:b].strip("'") + '"' + text[b:line_end]
    else:  # a long line or one wrapped over several: the quoted words alone
        fix = '"' + text[a:b].strip("'") + '"' if b - a <= _LONGEST_FIX else '"..."'
    return Diagnostic("E102", "the prompt is not in double quotes", source.span(a, b),
                      f"put the prompt in quotes: `{fix}`")


# The token each kind of option argument starts with, and how a message names it.
_VALUE_TERMINALS = {"text": "STRING", "points": "STRING", "name": "NAME", "word": "WORD", "number": "NUMBER"}


def _missing_value(source: Source, start: int, span: Span, expected: set[str], seen: str,
                   at_end: bool) -> Diagnostic | None:
    """E100 for an option keyword with no value after it (`sound` at the end of the line), or
    a value of the wrong kind (`cfg high`): what it takes, from its row of the language table.
    Only where the grammar wanted nothing but that value: a word like `tail` at the end of an
    unquoted prompt is a move word to Lark, not the option."""
    if at_end:  # the span is the keyword's last character, if a keyword ended the statement
        before = _WORD_AT_END.search(source.text, max(start, span.end - 100), span.end)
    else:
        before = _WORD_BEFORE.search(source.text, max(start, span.start - 100), span.start)
    if before is None:
        return None
    option = OPTION_BY_KEYWORD.get(before[1].lower())
    if option is None or option.argument not in _VALUE_TERMINALS or expected != {_VALUE_TERMINALS[option.argument]}:
        return None
    keyword = before[1]
    if option.values:
        hint = "write " + either(f"`{keyword} {w}`" for w in option.values)
        what = either(f"`{w}`" for w in option.values)
    else:
        hint = "for example " + option.example.replace(f"`{option.keywords[0]} ", f"`{keyword} ", 1)
        what = _NAMES[_VALUE_TERMINALS[option.argument]]
    message = f"`{keyword}` needs a value" if at_end else f"`{keyword}` takes {what}, not {seen}"
    return Diagnostic("E100", message, span, hint)


def _name_with_spaces(source: Source, start: int, end: int) -> Diagnostic | None:
    """E308 for `SHOT castle at dawn: ...`: a name is one word."""
    head = _SHOT_HEAD.match(source.text, start, min(end, start + _LONGEST_NAME))
    if head is None or len(head[1].split()) < 2:
        return None
    name = head[1]
    joined = re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-_")[:NAME_MAX_CHARS] or "shot"
    return Diagnostic("E308", f"shot name `{' '.join(name.split())}` has spaces: a name is one word",
                      source.span(head.start(1), head.end(1)),
                      f"join the words: `SHOT {joined}: ...` (the name becomes the file {joined}.mp4)")


def _indent(text: str, at: int) -> str:
    return _INDENT.match(text, at)[0]  # type: ignore[index]  # it matches the empty string


def _not_a_continuation(source: Source, previous: tuple[int, int], start: int, seen: str,
                        span: Span) -> Diagnostic | None:
    """E105 for an option line meant to continue the SHOT or DEFAULTS above it, which does
    not because of its indent (or a blank line between)."""
    text = source.text
    prev_start = previous[0]
    keyword = _first_word(text[prev_start : min(_line_end(text, prev_start), prev_start + 100)])
    if keyword not in WRAPPING:
        return None
    what, line = keyword.upper(), source.line_of(prev_start)
    if _BLANK_LINE.search(text, previous[1], start):
        return Diagnostic("E105", f"unknown statement {seen}: a blank line ended the {what} above", span,
                          f"remove the blank line so this line continues the {what} on line {line}, "
                          "or start it with a statement keyword")
    mine, theirs = _indent(text, start), _indent(text, prev_start)
    message = f"unknown statement {seen}: not indented deeper than the {what} on line {line}, so it does not continue it"
    if "\t" in mine + theirs:
        return Diagnostic("E105", message, span,
                          f"a line continues a {what} when its indent is longer than the {what}'s; "
                          f"a tab counts as one column, like a space, so this indent ({describe_indent(mine)}) is not longer "
                          f"than the {what}'s ({describe_indent(theirs)}): indent with spaces only, "
                          f"deeper than the {what}")
    word = text[span.start : span.end] if span.end - span.start <= 40 else "..."
    return Diagnostic("E105", message, span,
                      f"indent this line deeper than the {what} on line {line} (e.g. "
                      f"`{theirs}    {word}`) to continue it")
