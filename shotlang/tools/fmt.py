"""The formatter: a shot list in its one canonical form, from its syntax tree.

The parser's inverse: each statement is written back from the tree parser.py builds (no second
parser), and what lies between statements (comments, blank lines) is carried over. The form:

- statement keywords in capitals, one statement a line, at the left margin; the shots of a
  SEQUENCE indented by INDENT under it;
- single spaces between words; move, intensity, joiner and option words in lower case, as the
  writer chose them (`slow` stays `slow`, `avoid` stays `avoid`); names, numbers and model
  names as written;
- a shot's options in the order of the language table (language.OPTIONS: duration, mode, aspect,
  model, negative, ...), a repeated option (`motion`, `voice`) keeping its own order;
- strings in double quotes, a backslash doubled only where it must be;
- a prompt (or a SCENE's or TITLE's text) that would take the line past WIDTH columns wrapped
  over continuation lines, each
  indented by INDENT under its statement and starting with a quote (adjacent strings join with
  one space, so the words are cut at a space);
- comments kept: a comment after a statement's last word stays at the end of its line; one
  inside a statement that spans lines goes on its own line above it; own-line comments take the
  indent of the statement below them, and a note right under a statement is indented under it;
- a run of blank lines kept as one; none at the start or the end; the file's line ending.

A file with errors is not formatted: the compiler could not say that the formatted text means
the same. format_text then returns the diagnostics and no text.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

from ..compiler import parser
from ..compiler import syntax as ast
from ..compiler.diagnostics import Diagnostic, Severity
from ..compiler.language import OPTION_BY_KIND, OPTIONS
from ..compiler.pipeline import analyse, text_of
from ..compiler.source import BOM, UTF16_BOMS, Source
from ..compiler.trivia import Trivia, mask

WIDTH = 100  # columns a prompt is wrapped at
INDENT = "    "  # a sequence's shots, and a statement's continuation lines

_ORDER = {o.kind: i for i, o in enumerate(OPTIONS)}
_BLANKS = " \t\f\r"
_INDENT = re.compile("[ \t\f]*")  # a line's indent, as lower.Lowering counts it


class Formatted(NamedTuple):
    """The canonical text (None if the file has errors, which leaves it as it is) and every
    diagnostic of the file."""

    text: str | None
    diagnostics: list[Diagnostic]


def format_text(text: str, name: str = "<input>", base_dir: Path | None = None) -> Formatted:
    """`text` in canonical form. `base_dir` is where its images are looked for (the checks that
    decide whether the file has errors need them); the working folder if None."""
    analysis = analyse(text, name, base_dir if base_dir is not None else Path.cwd())
    if any(d.severity is Severity.ERROR for d in analysis.diagnostics):
        return Formatted(None, analysis.diagnostics)
    return Formatted(canonical(text), analysis.diagnostics)


class FormattedFile(NamedTuple):
    """A file's bytes in canonical form, in the file's own encoding (None if it has errors)."""

    data: bytes | None
    diagnostics: list[Diagnostic]


def format_bytes(data: bytes, name: str, base_dir: Path) -> FormattedFile:
    """As format_text, for a file's bytes: read as the compiler reads them (UTF-8, or UTF-16
    with its byte-order mark), written back the same way, byte-order mark and all."""
    codec, mark = "utf-8", b"\xef\xbb\xbf" if data.startswith(b"\xef\xbb\xbf") else b""
    for bom, utf16 in UTF16_BOMS:
        if data.startswith(bom):
            codec, mark = utf16, bom
    text = text_of(data, name)
    if not isinstance(text, str):
        return FormattedFile(None, text.diagnostics)
    done = format_text(text, name, base_dir)
    return FormattedFile(None if done.text is None else mark + done.text.encode(codec), done.diagnostics)


def canonical(text: str) -> str:
    """The canonical form of a shot list known to parse (format_text checks that first)."""
    bom = BOM if text.startswith(BOM) else ""
    text = text.removeprefix(BOM)
    newline = "\r\n" if "\r\n" in text[: text.find("\n") + 1] else "\n"
    masked = mask(text, comments=True)  # statements are found in the text as the compiler reads it
    report: list[Diagnostic] = []
    placed = list(parser.placed_statements(Source(masked.text, "<fmt>"), report))
    assert not report and masked.unclosed is None, "canonical() is for text that parses"
    indents = _indents(masked.text, placed)
    trivia = masked.trivia
    starts = [t.start for t in trivia]
    spanning = _Spanning([t for t in trivia if "\n" in text[t.start : t.end]])

    out: list[str] = []
    pos = 0
    under: str | None = None  # the indent of the statement above
    nexts = [start for start, _, _ in placed[1:]] + [len(text) + 1] * bool(placed)
    for (start, end, statement), indent, following in zip(placed, indents, nexts, strict=True):
        out += _between(text, pos, start, indent, spanning, under)
        under = indent
        # Its comments and notes: those that start in its lines, or on the line where one of
        # them that runs over several lines ends (up to the next statement).
        first = bisect.bisect_left(starts, start)  # trivia are in order: find, not scan, a statement's own
        mine = trivia[first : bisect.bisect_left(starts, end)]
        while mine and (reach := min(_next_line(text, max(t.end for t in mine)) - 1, following)) > end:
            end = reach
            mine = trivia[first : bisect.bisect_left(starts, end)]
        trailing = _trailing(text, mine, statement.span.end)
        above = [t for t in mine if t.kind != "note" and t not in trailing]
        notes = [_note(t.note(text)) for t in mine if t.kind == "note"]
        for t in above:
            out += _verbatim(text, t.start, t.end, indent)
        lines = _statement(statement, text, indent, notes)
        if trailing:
            # One after the other, without the notes between them (those go with the statement).
            said = [line.rstrip(_BLANKS) for line in " ".join(text[t.start : t.end] for t in trailing).split("\n")]
            lines[-1] += "  " + said[0]
            lines += said[1:]
            end = max(end, trailing[-1].end)
        out += lines
        pos = _next_line(text, end)
    out += _between(text, pos, len(text), "", spanning, under)
    while out and not out[-1]:
        out.pop()
    while out and not out[0]:
        out.pop(0)
    return bom + newline.join(out) + newline if out else bom


def _trailing(text: str, mine: list[Trivia], last: int) -> list[Trivia]:
    """The comments that stay at the end of the statement's last line: those after its last
    word (at `last`) on that line, and those after them on the line where one of them that runs
    over several lines ends (so that comments keep their order); notes between them aside."""
    found: list[Trivia] = []
    at = last
    for t in mine:
        if t.start < last:
            continue
        if "\n" in text[at : t.start]:
            break
        if t.kind != "note":
            found.append(t)
        at = t.end
    return found


def _note(words: str) -> str:
    """A note written back: `[[words]]`, with a space before the `]]` if the words end in `]`
    (`[[see [1]]]` would end at the first `]]`)."""
    return f"[[{words}{' ' * words.endswith(']')}]]"


def _next_line(text: str, at: int) -> int:
    found = text.find("\n", at)
    return len(text) + 1 if found == -1 else found + 1


def _verbatim(text: str, start: int, end: int, indent: str) -> list[str]:
    """text[start:end] (comments) as lines: the first at `indent`, the rest as written, less
    the blanks at their ends."""
    lines = text[start:end].split("\n")
    return [indent + lines[0].rstrip(_BLANKS), *(line.rstrip(_BLANKS) for line in lines[1:])]


# --- layout: where each statement goes, and what lies between ------------------------------------


def _indents(text: str, placed: list[tuple[int, int, ast.Statement]]) -> list[str]:
    """Each statement's indent: INDENT for the shots of a sequence, none for the rest. Which
    shots are a sequence's is decided as lower.Lowering decides it: by the indents of the lines
    the statements start on."""
    indents = []
    open_sequence: str | None = None  # the indent of the open SEQUENCE's line
    for start, _end, statement in placed:
        own = _INDENT.match(text, start)[0]  # type: ignore[index]  # it matches the empty string
        if (open_sequence is not None and isinstance(statement, ast.Shot)
                and own.startswith(open_sequence) and len(own) > len(open_sequence)):
            indents.append(INDENT)
            continue
        open_sequence = own if isinstance(statement, ast.Sequence) else None
        indents.append("")
    return indents


class _Spanning:
    """The block comments and notes that run over several lines, in order."""

    def __init__(self, trivia: list[Trivia]) -> None:
        self.trivia = trivia
        self.starts = [t.start for t in trivia]

    def reach(self, start: int, stop: int) -> int:
        """Where the last of those that start in text[start:stop] ends, or `stop`: found by
        bisection, so that a file with many stays linear."""
        found = self.trivia[bisect.bisect_left(self.starts, start) : bisect.bisect_left(self.starts, stop)]
        return max((t.end for t in found), default=stop)


def _between(text: str, start: int, end: int, indent: str, spanning: _Spanning,
             under: str | None = None) -> Iterator[str]:
    """The lines from `start` (a line's start) to `end` (the next statement's line, or the
    end): comments and notes, at the indent of the statement below (one that runs over several
    lines keeps its other lines as written), and blank lines, a run of them as one. Notes right
    under a statement (`under` is its indent) are indented under it."""
    blank = False
    pos = start
    while pos < end:
        line_end = text.find("\n", pos, end)
        line_end = end if line_end == -1 else line_end
        line = text[pos:line_end]
        stripped = line.strip(_BLANKS)
        if not stripped:
            blank = True
            under = None
            pos = line_end + 1
            continue
        if blank:
            yield ""
            blank = False
        if not stripped.startswith("[["):
            under = None
        at = indent if under is None else under + INDENT
        stop = line_end
        while (over := spanning.reach(pos, stop)) > stop:
            # It runs over the next lines: up to the end of its last line, and of any that
            # starts there; or, if it ends on the next statement's line, up to its end.
            if over > end:
                stop = over
                break
            stop = text.find("\n", over, end)
            stop = end if stop == -1 else stop
        if stop > line_end:
            yield from _verbatim(text, pos + len(line) - len(line.lstrip(_BLANKS)), stop, at)
            pos = stop + 1
            continue
        yield at + stripped
        pos = line_end + 1
    if blank:
        yield ""


# --- a statement -------------------------------------------------------------------------------


def _statement(statement: ast.Statement, text: str, indent: str, notes: list[str]) -> list[str]:
    """A statement's lines in canonical form (several when its prompt wraps); its notes at the
    end of its last line if they fit there, else on lines of their own under it (where fmt
    leaves a note that was written on its own line, so a second pass changes nothing)."""
    lines = _written(statement, text, indent)
    if notes and len(" ".join([lines[-1], *notes])) <= WIDTH:
        lines[-1] = " ".join([lines[-1], *notes])
    else:
        lines += [indent + INDENT + note for note in notes]
    return lines


def _written(statement: ast.Statement, text: str, indent: str) -> list[str]:
    more = indent + INDENT
    if isinstance(statement, ast.Shot):
        head = f"{indent}SHOT {_source(text, statement.name)}:"
        if statement.after is not None:
            head += f" after {_source(text, statement.after)}"
        words = " ".join(_source(text, w).lower() if not w.is_number else _source(text, w) for w in statement.move)
        if words:
            head += " " + words
        return _wrapped(head, statement.prompt.value, _options(statement.options, text), indent)
    if isinstance(statement, ast.Sequence):
        return _flowed([f"{indent}SEQUENCE {_source(text, statement.name)}:"], _options(statement.options, text), more)
    if isinstance(statement, ast.Cast):  # its front image, then its other views in their order
        others = [f"also {quote(t.value)}" for t in statement.also]
        return _wrapped(f"{indent}CAST {_source(text, statement.name)}:", statement.description.value,
                        _options(statement.options, text) + others, indent)
    if isinstance(statement, ast.Scene):
        return _wrapped(f"{indent}SCENE", statement.heading.value, _options(statement.options, text), indent)
    if isinstance(statement, ast.Title):
        return _wrapped(f"{indent}TITLE", statement.title.value, [], indent)
    if isinstance(statement, ast.ModelStatement):
        return [f"{indent}MODEL {_source(text, statement.name)}"]
    if isinstance(statement, ast.Defaults):
        return _flowed([f"{indent}DEFAULTS"], _options(statement.options, text), more)
    if isinstance(statement, ast.Backend):
        return [f"{indent}BACKEND {_source(text, statement.value).lower()}"]
    assert isinstance(statement, ast.Axes)
    return [f"{indent}AXES {_source(text, statement.value).lower()}"]


def _source(text: str, word: ast.Word) -> str:
    """A word exactly as written (the tree shortens a very long one)."""
    return text[word.span.start : word.span.end]


def _options(options: tuple[ast.Option, ...], text: str) -> list[str]:
    ordered = sorted(options, key=lambda o: _ORDER[o.kind])  # stable: repeated options keep their order
    return [_option(o, text) for o in ordered]


def _option(option: ast.Option, text: str) -> str:
    form = OPTION_BY_KIND[option.kind]
    value = option.value
    if not form.keywords:  # a bare duration, aspect ratio or mode word
        assert isinstance(value, ast.Word)
        return _source(text, value).lower()
    keyword = next((k for k in form.keywords if re.fullmatch(f"(?i:{k})", option.keyword)), form.keywords[0])
    if isinstance(value, ast.Text):
        written = f"{keyword} {quote(value.value)}"
        return written + "".join(f" ({p.x}, {p.y})" for p in option.points)
    word = _source(text, value)
    return f"{keyword} {word if form.argument in ('name', 'number') else word.lower()}"


# --- strings -----------------------------------------------------------------------------------


def quote(value: str) -> str:
    """A string token whose value is `value`: `"` escaped, and a backslash doubled where it
    stands before a quote or a backslash, or last (elsewhere the lexer keeps it as written)."""
    if '"' not in value and "\\" not in value:
        return f'"{value}"'
    return '"' + _ESCAPED.sub(_escape, value) + '"'


_ESCAPED = re.compile(r'"|\\(?=["\\]|\Z)')


def _escape(found: re.Match[str]) -> str:
    return "\\" + found[0]


def _quoted_widths(word: str) -> tuple[int, int]:
    """How many columns `word` takes inside a string: followed by a space, and last."""
    if '"' not in word and "\\" not in word:
        return len(word), len(word)
    last = len(word) + len(_ESCAPED.findall(word))
    return last - word.endswith("\\"), last


def _wrapped(head: str, prompt: str, options: list[str], indent: str) -> list[str]:
    """`head "prompt" options` on one line if it fits in WIDTH. If not, the prompt is cut at
    spaces over continuation lines (a word longer than a line gets a line of its own), and the
    options follow its last line if they all fit there, else start a line of their own."""
    line = f"{head} {quote(prompt)}"
    if len(" ".join([line, *options])) <= WIDTH:
        return [" ".join([line, *options])]
    more = indent + INDENT
    lines: list[str] = []
    if len(line) <= WIDTH:
        lines.append(line)
    else:
        prefix, taken = head + " ", list[str]()
        used = 2  # the columns of the quotes and the words taken, each followed by a space
        for word in prompt.split(" "):
            middle, last = _quoted_widths(word)
            if taken and len(prefix) + used + last > WIDTH:
                lines.append(prefix + quote(" ".join(taken)))
                prefix, taken, used = more, [], 2
            taken.append(word)
            used += middle + 1
        lines.append(prefix + quote(" ".join(taken)))
    return _flowed(lines, options, more)


def _flowed(lines: list[str], options: list[str], more: str) -> list[str]:
    """The options after the last of `lines` if they all fit there; else on lines of their own
    (indented by `more`), as many to a line as fit in WIDTH (an option longer than a line gets a
    line of its own)."""
    if not options:
        return lines
    if len(" ".join([lines[-1], *options])) <= WIDTH:
        lines[-1] = " ".join([lines[-1], *options])
        return lines
    line = ""
    for option in options:
        if line and len(line) + 1 + len(option) > WIDTH:
            lines.append(line)
            line = ""
        line = f"{line} {option}" if line else more + option
    lines.append(line)
    return lines


__all__ = ["INDENT", "WIDTH", "Formatted", "FormattedFile", "canonical", "format_bytes", "format_text", "quote"]
