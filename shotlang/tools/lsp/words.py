"""What an editor offers at the cursor and says under the mouse, from the language's own tables.

Completion reads the statement up to the cursor and names the slot the cursor is in: a
statement keyword, the move zone of a SHOT (intensity, move, joiner), an option, or an
option's value (a model name, `on`/`off`, `seed`/`official`). The words offered come from
vocabulary.py, language.py and the capability matrix, never from a list of their own. Hover
says what a move does and sends under the file's AXES, what an intensity, option, statement
or model is, and explains the diagnostics at that place.

Nothing here knows the protocol: offsets are code points, as in a Span.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal, NamedTuple

from lark.exceptions import UnexpectedInput

from ...compiler import checks, lower, parser
from ...compiler import syntax as ast
from ...compiler.camera import sending
from ...compiler.camera import words as move_sentence
from ...compiler.diagnostics import CODES, Diagnostic, Severity
from ...compiler.images import ImageStore
from ...compiler.language import (
    BACKENDS,
    MODE_WORDS,
    OPTION_BY_KEYWORD,
    OPTION_BY_KIND,
    OPTIONS,
    REPEATABLE,
    STATEMENTS,
    Bounds,
    Option,
)
from ...compiler.models import Matrix, Model, durations_text
from ...compiler.quickparse import parse_shot
from ...compiler.scanner import Token, scan, scanner
from ...compiler.source import Source, Span
from ...compiler.vocabulary import (
    AXES,
    DEFAULT_MAGNITUDE,
    INTENSITIES,
    JERKY_FROM,
    JOINERS,
    LONGEST_PHRASE,
    MOVES,
    NATURAL,
    PHRASES,
    STRONG,
    VISIBLE_FROM,
    Move,
    phrase,
)

Kind = Literal["keyword", "move", "intensity", "joiner", "option", "value", "model"]


class Item(NamedTuple):
    """One completion: `label` replaces the text from `start` to the cursor."""

    label: str
    kind: Kind
    detail: str
    documentation: str
    start: int


class Hover(NamedTuple):
    markdown: str
    start: int
    end: int


# --- reading a statement up to the cursor -------------------------------------------------------

# A statement as an editor sees it while it is typed: a string may be open at the end of its
# line, and a word is any run up to a blank, quote, comment, colon or bracket.
_TOKEN = scanner("line_string", "comment", "aspect", "loose", "colon", "punctuation", "blank")
_KINDS = {"line_string": "string", "aspect": "word", "loose": "word", "punctuation": "other"}


def tokens(text: str, start: int, end: int) -> list[Token]:
    """The tokens of text[start:end], blanks left out; a string may be open at the end."""
    return [Token(_KINDS.get(t.kind, t.kind), t.text, t.start, t.end)
            for t in scan(_TOKEN, text, start, end, skip=frozenset({"blank"}))]


def _open_string(token: Token) -> bool:
    return token.kind == "string" and (len(token.text) < 2 or not token.text.endswith('"')
                                       or token.text.endswith('\\"') and not token.text.endswith('\\\\"'))


# --- completion ------------------------------------------------------------------------------------


def completions(text: str, statement_start: int, offset: int, matrix: Matrix, model: str,
                axes: str = "seed", state: lower.LoweringState | None = None) -> list[Item]:
    """What may be written at `offset`, in the statement that starts at `statement_start`: only
    what would compile there, as the compiler judges the statement with it (_Trial), and what
    would with one more option last, its detail saying which. `model` is the model in effect
    there (MODEL, DEFAULTS), `axes` the file's. `state`, if given, is the lowering's state before
    the statement (live.py's Step.state): all it inherits, a SCENE's options and DEFAULTS' mode
    and duration too; without it only `model` is known."""
    found = tokens(text, statement_start, offset)
    partial = found.pop() if found and found[-1].kind == "word" and found[-1].end == offset else None
    if found and (found[-1].kind == "comment" or _open_string(found[-1])):
        return []
    at = partial.start if partial is not None else offset
    if not found:
        return [Item(s.keyword.upper(), "keyword", s.written.strip("`"), s.meaning, at) for s in STATEMENTS]
    if found[0].kind != "word":
        return []
    keyword = found[0].lower
    rest = found[1:]
    if keyword == "model":
        return _models(matrix, at) if not rest else []
    if keyword == "axes":
        return [_value(w, "how moves map to the camera fields", at) for w in AXES] if not rest else []
    if keyword == "backend":
        return [Item(b, "value", "where the shots are sent", meaning, at) for b, meaning in BACKENDS.items()
                ] if not rest else []
    if keyword not in ("defaults", "shot", "sequence"):
        return []
    place = _place(text, statement_start, offset, partial, matrix, model, axes, state)
    if keyword == "defaults":
        return _options(rest, at, place, in_defaults=True)
    colon = next((i for i, t in enumerate(rest) if t.kind == "colon"), None)
    if colon is None:
        return []
    rest = rest[colon + 1 :]
    if keyword == "sequence":
        items = _options(rest, at, place, in_defaults=False)
        line_start = text.rfind("\n", 0, at) + 1
        if line_start > statement_start and not text[line_start:at].strip():  # a line under it
            items.insert(0, Item("SHOT", "keyword", "a shot of the sequence",
                                 next(s.meaning for s in STATEMENTS if s.keyword == "shot"), at))
        return items
    prompt = next((i for i, t in enumerate(rest) if t.kind == "string"), None)
    if prompt is None:
        coming = []  # the move zone's words after the cursor
        for t in place.later:
            if t.kind == "string":
                break
            if t.kind == "word":
                coming.append(t.lower)
        return _move_zone([t for t in rest if t.kind == "word"], partial, at, axes, coming)
    return _options(rest[prompt + 1 :], at, place, in_defaults=False)


class _Place(NamedTuple):
    """The statement the cursor is in: where it is, and what it is read with."""

    text: str
    start: int
    end: int
    resume: int  # where its text after the cursor goes on (past the rest of a word begun)
    later: list[Token]  # its tokens from there
    matrix: Matrix
    model: str
    axes: str
    state: lower.LoweringState | None


def _place(text: str, start: int, offset: int, partial: Token | None, matrix: Matrix, model: str, axes: str,
           state: lower.LoweringState | None) -> _Place:
    end = _statement_end(text, start, offset)
    later = tokens(text, offset, end)
    resume = offset
    if partial is not None and later and later[0].start == offset and later[0].kind == "word":
        resume = later.pop(0).end  # the cursor is inside a word: a choice replaces all of it
    return _Place(text, start, end, resume, later, matrix, model, axes, state)


def _statement_end(text: str, start: int, offset: int) -> int:
    """Where the statement that starts at `start` ends, as statement_chunks says, reading only
    the lines it must: a few past the cursor's, more while the statement may go on. The cursor
    itself if the statement ended before it (on a blank line under a SHOT)."""
    stop, lines = offset, 4
    while True:
        for _ in range(lines):
            stop = text.find("\n", stop + 1) if stop < len(text) else -1
            if stop == -1:
                stop = len(text)
                break
        chunks = parser.statement_chunks(text[start:stop])
        if len(chunks) > 1 or stop == len(text):
            return max(offset, start + chunks[0][1]) if chunks else offset
        lines *= 2


def _value(word: str, detail: str, at: int) -> Item:
    return Item(word, "value", detail, "", at)


def _models(matrix: Matrix, at: int) -> list[Item]:
    return [Item(name, "model", _model_line(model), _model_text(name, model, matrix), at)
            for name, model in matrix.models.items()]


def _model_line(model: Model) -> str:
    return f"{', '.join(model.endpoints)}; {durations_text(model.durations)}; {', '.join(model.modes)}"


def _move_zone(words: list[Token], partial: Token | None, at: int, axes: str, coming: list[str]) -> list[Item]:
    """After `SHOT name:` and before the prompt: [intensity] move [magnitude] [joiner]. Each
    choice is judged by lower_move with the zone's words around it (`coming`: those after the
    cursor), so a strength goes only with a move that takes one, and a move only where no
    other move, and no strength it cannot take, is written."""
    said = [w.lower for w in words]
    if said[:1] == ["after"]:  # `after <shot>` comes first; the camera's words after its name
        if len(said) < 2:
            return []
        words, said = words[2:], said[2:]
    i = 0
    while i < len(said) and said[i] in INTENSITIES:
        i += 1
    rest = said[i:]
    choices: list[tuple[Item, list[str], list[str]]] = []  # each, the zone with it, and without
    if i == 0 and not rest:
        choices += ((Item(w, "intensity", f"magnitude {m}", _intensity_text(w), at), [w, *coming], coming)
                    for w, m in INTENSITIES.items())
    if len(rest) < LONGEST_PHRASE and not any(_is_number(w) for w in rest) and not (set(rest) & JOINERS):
        typed = " ".join([*rest, partial.lower if partial is not None else ""])
        start = words[i].start if rest else at
        for phrase, move in _phrases():
            if phrase.startswith(typed):
                item = Item(phrase, "move", _move_line(move, phrase, axes), _move_text(
                    move, None, axes, written=False), start)
                choices.append((item, [*said[:i], *phrase.split(), *coming], [*said[:i], *coming]))
    move_words = rest[:-1] if rest and _is_number(rest[-1]) else rest
    if move_words and tuple(move_words) in PHRASES and not (set(rest) & JOINERS):
        choices += ((Item(j, "joiner", "joins the move to the prompt", "It carries no meaning.", at),
                     [*said, j, *coming], [*said, *coming]) for j in sorted(JOINERS))
    without_errors: dict[tuple[str, ...], frozenset[str]] = {}
    fitting = []
    for item, zone, without in choices:
        before = without_errors.get(tuple(without))
        if before is None:
            before = without_errors[tuple(without)] = _move_errors(without, axes)
        # What lower_move, the lowering's own reading of a shot's camera words, reports with the
        # choice and not without it: `slow crane down and back` (E205, the preset takes no
        # strength), `slow pan right 6` (E204), `pan left` before `tilt up` (E201). A strength
        # with no move yet (E206) is not an error here: the move is what the writer types next.
        if not _move_errors(zone, axes) - before - {"E206"}:
            fitting.append(item)
    return fitting


def _move_errors(said: list[str], axes: str) -> frozenset[str]:
    """The codes lower_move reports for the camera words `said`."""
    source = Source(" ".join(said), "")
    words, start = [], 0
    for word in said:
        words.append(ast.Word(word, Span(start, start + len(word), source), _is_number(word)))
        start += len(word) + 1
    report: list[Diagnostic] = []
    lower.lower_move(tuple(words), report, axes)
    return frozenset(d.code for d in report)


def _move_line(move: Move, phrase: str, axes: str) -> str:
    """`horizontal +, 5–8`: a move in a few words, for a completion's detail."""
    same = "" if phrase == move.name else f"{move.name}: "
    if move.preset:
        return f"{same}preset {move.preset}"
    axis = move.axis(axes)
    if axis is None:
        return f"{same}no camera move"
    sent = f"{axis.field} {'+' if axis.sign > 0 else '-'}"
    return f"{same}{sent}" + (f", {move.recommended[0]}–{move.recommended[1]}" if move.recommended else "")


def _phrases() -> Iterable[tuple[str, Move]]:
    for move in MOVES:
        for written in move.phrases:
            yield written, move


def _is_number(word: str) -> bool:
    return bool(re.fullmatch(r"[+-]?\d+(?:\.\d+)?", word))


class _Choice(NamedTuple):
    """One completion after a prompt, a SEQUENCE's colon or DEFAULTS: the option of `kind`, and
    the ways the trial writes it in (with each of its words, or a stand-in value): it fits if
    one of them does."""

    item: Item
    kind: str
    written: tuple[str, ...]


def _options(written: list[Token], at: int, place: _Place, *, in_defaults: bool) -> list[Item]:
    """After a prompt, a SEQUENCE's colon or DEFAULTS: an option, or the value of the keyword
    just written; each as the statement with it would compile (_judged)."""
    if any(_open_string(t) for t in written):
        return []
    matrix = place.matrix
    last = written[-1] if written and written[-1].kind == "word" else None
    option = OPTION_BY_KEYWORD.get(last.lower) if last is not None else None
    if option is not None and option.argument != "name" and not option.values:
        return []  # a quoted text or a number comes next
    # A value is judged with its keyword: the trial writes both where the keyword is.
    trial = _Trial(place, last.start if last is not None and option is not None else at)
    model = trial.model or _own_model([*written, *place.later], matrix) or place.model
    if last is not None and option is not None:
        if option.argument == "name":
            values = [_Choice(item, option.kind, (f"{last.text} {item.label}",)) for item in _models(matrix, at)]
        elif option.values:
            values = [_Choice(_value(w, option.written.replace("`", ""), at), option.kind, (f"{last.text} {w}",))
                      for w in option.values or ()]
        return _judged(values, trial, _option_choices([*written[:-1], *place.later], at, matrix, model,
                                                      in_defaults=in_defaults))
    choices = _option_choices([*written, *place.later], at, matrix, model, in_defaults=in_defaults)
    return _judged(choices, trial, choices)


def _own_model(written: list[Token], matrix: Matrix) -> str | None:
    """The statement's own `model`, if it names one the matrix knows."""
    for word, value in zip(written, written[1:], strict=False):
        if word.kind == value.kind == "word" and word.lower == "model" and value.lower in matrix:
            return value.lower
    return None


def _option_choices(written: list[Token], at: int, matrix: Matrix, model: str, *,
                    in_defaults: bool) -> list[_Choice]:
    """Every option that may be written here, in the order of the language table (the modes,
    durations and aspect ratios `model` renders after the others)."""
    given = {OPTION_BY_KEYWORD[t.lower].kind for t in written if t.kind == "word" and t.lower in OPTION_BY_KEYWORD}
    choices: list[_Choice] = []
    for option in OPTIONS:
        if (not option.keywords or (in_defaults and option.per_shot)
                or (option.kind in given and option.kind not in REPEATABLE)):
            continue  # (a bare option's tokens are the model's: below)
        ways = tuple(f"{option.keywords[0]} {value}" for value in _stand_ins(option, model))
        for keyword in option.keywords:
            choices.append(_Choice(Item(keyword, "option", option.written.replace("`", ""), _option_text(option), at),
                                   option.kind, ways))
    known = matrix.get(model)
    for word, mode in MODE_WORDS.items():
        if known is None or mode in known.modes:  # `standard` is tried as `std`: the same mode
            same = next(w for w, m in MODE_WORDS.items() if m == mode)
            choices.append(_Choice(Item(word, "option", "mode", _option_text(OPTION_BY_KIND["mode"]), at), "mode",
                                   (same,)))
    if known is not None:
        choices += (_Choice(Item(f"{d}s", "option", f"duration ({model})", _option_text(OPTION_BY_KIND["duration"]),
                                 at), "duration", (f"{d}s",)) for d in _durations(known))
        if known.text2video:  # (at the omni endpoint too)
            choices += (_Choice(Item(r, "option", f"aspect ratio ({model})", _option_text(OPTION_BY_KIND["aspect"]),
                                     at), "aspect", (r,)) for r in known.aspect_ratios)
    return choices


def _stand_ins(option: Option, model: str) -> tuple[str, ...]:
    """What the trial writes after an option's keyword: each of its words; else a value of the
    right kind, which the checks the trial runs take whatever it says (they judge the option,
    not its text: a path, a URL or a voice is checked when written)."""
    if option.values:
        return tuple(option.values)
    if option.argument == "name":
        return (model,)  # the model in effect: `model` is judged for being given, not for which
    if option.argument == "number":
        assert option.bounds is not None
        return (Bounds.number(option.bounds.low),)
    if option.argument == "points":
        return ('"x" (0, 0) (1, 1)',)
    return ('"x"',)


def _durations(model: Model) -> list[str]:
    return sorted(model.durations, key=int)


# What moves a shot to another cell of the capability matrix (Model.offers: an endpoint, a mode, a
# duration) and keeps its model: a choice its model offers only in another cell is offered last,
# with the option that takes the shot there (`sound on` on kling-v2-6: with `pro`).
_CELL_KINDS = frozenset({"mode", "duration", "image"})


def _judged(choices: list[_Choice], trial: _Trial, fixes: list[_Choice]) -> list[Item]:
    """The choices that compile where they would go, in order; then those that compile with a
    warning, or with one more of `fixes` that takes the shot to another cell of the matrix,
    their detail saying which and why; the others left out. All of them, unjudged, where the
    statement does not parse without them (or is too long to read a few dozen times)."""
    if not trial.readable:
        return [c.item for c in choices]
    first: list[Item] = []
    last: list[Item] = []
    failed: list[_Choice] = []
    for choice in choices:
        why = trial.verdict(choice.written)
        if why == "":
            first.append(choice.item)
        elif why is not None:
            last.append(choice.item._replace(detail=why))
        else:
            failed.append(choice)
    cells = [ways for ways in dict.fromkeys(f.written for f in fixes if f.kind in _CELL_KINDS)
             if trial.verdict(ways) is not None] if failed else []
    for choice in failed:
        needs = trial.needs(choice.written, cells)
        if needs is not None:
            last.append(choice.item._replace(detail=needs))
    return first + last


# The checks of a single shot (checks.py registers them by name) that judge its options: against
# the capability matrix (model; disputes, a cell its sources disagree about), against each other
# (groups: an end frame, masks and a move) and at the omni endpoint (omni). The others read
# names, texts, images and the prompt's own words, right or wrong whatever option is added.
_JUDGES = tuple({c.name: c for c in checks.SHOT_CHECKS}[name] for name in ("model", "disputes", "groups", "omni"))


# A statement longer than this is not read again for each choice: it is wrong anyway (a prompt
# holds 2,500 characters), and its choices are offered unjudged.
_MOST_TRIED = 20_000


class _Trial:
    """The statement at the cursor with a choice written in at the cursor (at `cut`, up to
    where the text after the cursor resumes), read as the compiler reads it: parsed, lowered in
    the settings it inherits (so E309, an option given twice, and E313, E316), and a shot
    checked by _JUDGES against the capability matrix. What a choice adds to the diagnostics the
    statement has without it is what it would cost; nothing: it compiles there.

    One statement is read, a few dozen times: never the file."""

    def __init__(self, place: _Place, cut: int) -> None:
        self.place = place
        self.head = place.text[place.start : cut]
        self.tail = place.text[place.resume : place.end]
        self.state = place.state or _state_of(place.matrix, place.model, place.axes)
        self.checker = checks.Checker(Path(), ImageStore(), place.matrix)
        self.model: str | None = None  # the shot's, as lowered without a choice
        self.said: dict[str, tuple[list[Diagnostic], list[Diagnostic]]] = {}
        self.readable, baseline = self._read(" ") if place.end - place.start <= _MOST_TRIED else (False, [])
        self.before = {key for key, _ in baseline}

    def _read(self, inserted: str) -> tuple[bool, list[tuple[tuple[Any, ...], Diagnostic]]]:
        """The statement with `inserted` at the cut: whether it parses, and its diagnostics,
        each keyed by its code and its place in the statement without `inserted` (None for a
        place inside it)."""
        text = self.head + inserted + self.tail
        source = Source(text, "")
        report: list[Diagnostic] = []
        statement, _ = parser.parse_statement(source, 0, len(text), None, report)
        lowering = lower.Lowering(report, models=self.place.matrix)
        lowering.restore(self.state, 1)
        for item in lowering.feed(statement, 0) if statement is not None else ():
            if isinstance(item, lower.LoweredShot):
                model = self.place.matrix.get(item.settings.model_name)
                if inserted == " ":
                    self.model = item.settings.model_name
                looking = checks.Looking(item, sending(item, model), model, self.checker, self.state.axes, report)
                for check in _JUDGES:
                    check.run(looking)
        if inserted == " " and self.model is None and isinstance(statement, ast.Shot):
            sequence = lowering.state().sequence  # a shot of the open sequence: its model is the sequence's
            self.model = sequence.settings.model_name if sequence is not None else None
        cut, length = len(self.head), len(inserted)

        def moved(at: int) -> int | None:
            return at if at <= cut else at - length + 1 if at >= cut + length - 1 else None

        keyed: list[tuple[tuple[Any, ...], Diagnostic]] = []
        for d in report:
            span = d.span
            if span.source is not source:  # in the state: the same in every reading
                keyed.append(((d.code, id(span.source), span.start, span.end), d))
                continue
            start, end = moved(span.start), moved(span.end)
            keyed.append(((d.code, start, end) if start is not None and end is not None else (d.code, None), d))
        return statement is not None, keyed

    def adds(self, choice: str) -> tuple[list[Diagnostic], list[Diagnostic]]:
        """The errors and the warnings writing `choice` at the cursor adds (a parse error, if
        the statement does not parse with it)."""
        found = self.said.get(choice)
        if found is None:
            parses, read = self._read(f" {choice} ")
            new = [d for key, d in read if not parses or key[1] is None or key not in self.before]
            found = ([d for d in new if d.severity == Severity.ERROR],
                     [d for d in new if d.severity == Severity.WARNING])
            self.said[choice] = found
        return found

    def verdict(self, ways: tuple[str, ...]) -> str | None:
        """The empty text if one of the `ways` of writing a choice compiles here; else the
        first warning one of them draws; None if each is an error."""
        warned = None
        for way in ways:
            errors, warnings = self.adds(way)
            if not errors and not warnings:
                return ""
            if not errors and warned is None:
                warned = f"{warnings[0].code}: {warnings[0].message}"
        return warned

    def needs(self, ways: tuple[str, ...], fixes: list[tuple[str, ...]]) -> str | None:
        """For a choice each of whose `ways` is an error here: the first of `fixes` with which
        one compiles, and why it needs it; None if none does."""
        for way in ways:
            errors, _ = self.adds(way)
            for fix in fixes:
                if any(not self.adds(f"{way} {other}")[0] for other in fix):
                    return f"needs `{fix[0].split()[0]}` too: {errors[0].message}"
        return None


def _state_of(matrix: Matrix, model: str, axes: str) -> lower.LoweringState:
    """What a statement inherits when only the model in effect is known. (Not marked inherited,
    which would make a message say on which line it was set: that line is not known here.)"""
    state = lower.Lowering([], models=matrix).state()
    source = Source(f"MODEL {model}", "")
    defaults = {"model": lower.Value(model, Span(6, 6 + len(model), source))} if model in matrix else {}
    return state._replace(axes=axes, defaults=defaults)


# --- hover -------------------------------------------------------------------------------------------


def hover(source: Source, statement: tuple[int, int] | None, offset: int, axes: str, matrix: Matrix,
          diagnostics: list[Diagnostic]) -> Hover | None:
    """What to say about the word at `offset` (in the statement at `statement`, if it is in
    one), and about the diagnostics there. `axes` is the file's AXES."""
    text = source.text
    parts: list[str] = []
    start = end = offset
    said = _word_at(source, statement, offset, axes, matrix)
    if said is not None:
        parts.append(said.markdown)
        start, end = said.start, said.end
    code = _code_at(text, offset)
    if code is not None:
        parts.append(explain(code.group(0).upper()))
        start, end = code.start(), code.end()
    for d in diagnostics:
        if d.span.start <= offset < max(d.span.end, d.span.start + 1) and d.span.source is source:
            parts.append(explain(d.code))
            if said is None and code is None:
                start, end = d.span.start, d.span.end
    if not parts:
        return None
    unique = list(dict.fromkeys(parts))
    return Hover("\n\n---\n\n".join(unique), start, end)


def explain(code: str) -> str:
    """A diagnostic code as `shotlang explain` tells it, in markdown."""
    found = CODES[code]
    return f"**{code}** ({found.severity.value}): {found.title}\n\n{found.explanation.strip()}"


_CODE = re.compile(r"\b[EW]\d{3}\b", re.IGNORECASE)


def _code_at(text: str, offset: int) -> re.Match[str] | None:
    line_start = text.rfind("\n", 0, offset) + 1
    line_end = text.find("\n", offset)
    line_end = len(text) if line_end == -1 else line_end
    if line_end - line_start > 10_000:
        return None
    for m in _CODE.finditer(text, line_start, line_end):
        if m.start() <= offset <= m.end() and m.group(0).upper() in CODES:
            return m
    return None


def _word_at(source: Source, statement: tuple[int, int] | None, offset: int, axes: str,
             matrix: Matrix) -> Hover | None:
    if statement is None:
        return None
    start, end = statement
    text = source.text
    found = tokens(text, start, end)
    here = next((t for t in found if t.start <= offset < t.end or t.end == offset), None)
    if here is None or here.kind != "word" or not found or found[0].kind != "word":
        return None
    keyword = found[0].lower
    if here is found[0]:
        return _statement_hover(keyword, here)
    words_before = [t for t in found if t.end <= here.start]
    previous = words_before[-1].lower if words_before else ""
    if (keyword == "model" and here is found[1]) or previous == "model":
        model = matrix.get(here.lower)
        if model is not None:
            return Hover(_model_text(here.lower, model, matrix), here.start, here.end)
    if keyword == "shot":
        colon = next((i for i, t in enumerate(found) if t.kind == "colon"), None)
        prompt = next((t for t in found if t.kind == "string"), None)
        if colon is not None and here.start > found[colon].start and (prompt is None or here.end <= prompt.start):
            return _move_hover(source, start, end, here, axes)
    option = OPTION_BY_KEYWORD.get(here.lower)
    if option is not None:
        return Hover(f"**{here.text}**: {option.written} — {_option_text(option)}", here.start, here.end)
    if keyword == "backend" and here is found[1] and here.lower in BACKENDS:
        return Hover(f"**BACKEND {here.lower}**: {BACKENDS[here.lower]}", here.start, here.end)
    if here.lower in MODE_WORDS:
        return Hover(f"**{here.text}**: mode `{MODE_WORDS[here.lower]}`", here.start, here.end)
    return None


def _statement_hover(keyword: str, here: Token) -> Hover | None:
    for s in STATEMENTS:
        if s.keyword == keyword:
            return Hover(f"**{s.keyword.upper()}**: {s.written} — {s.meaning}", here.start, here.end)
    return None


def _move_hover(source: Source, start: int, end: int, here: Token, axes: str) -> Hover | None:
    """A word between a shot's colon and its prompt: the move it belongs to and what it sends,
    or what the intensity, magnitude or joiner means."""
    shot = _parsed_shot(source, start, end)
    camera = lower.lower_move(shot.move, [], axes) if shot is not None else None
    word = here.lower
    if camera is not None and camera.span.start <= here.start and here.end <= camera.span.end:
        return Hover(_camera_text(camera, axes), camera.span.start, camera.span.end)
    if word in INTENSITIES:
        return Hover(_intensity_text(word), here.start, here.end)
    if word in JOINERS:
        return Hover(f"**{here.text}**: a joiner between the move and the prompt; it carries no meaning",
                     here.start, here.end)
    if _is_number(word) and camera is not None and camera.strength_span is not None \
            and camera.strength_span.start == here.start:
        return Hover(_camera_text(camera, axes), here.start, here.end)
    found = _phrase_around(tokens(source.text, start, end), here)
    if found is not None:
        move, a, b = found  # in a shot that does not lower (two moves, a typo): what it would send
        return Hover(_move_text(move, None, axes, written=False) + _in_words(phrase(move)), a, b)
    return None


def _parsed_shot(source: Source, start: int, end: int) -> ast.Shot | None:
    shot = parse_shot(source, start, end)
    if shot is None:
        try:
            parsed = parser.parse_with_grammar(source, start, end)
        except UnexpectedInput:  # the statement is being written
            return None
        shot = parsed if isinstance(parsed, ast.Shot) else None
    return shot


def _phrase_around(found: list[Token], here: Token) -> tuple[Move, int, int] | None:
    """The longest move phrase of the statement's words that covers `here`."""
    words = [t for t in found if t.kind == "word"]
    i = words.index(here) if here in words else -1
    best: tuple[Move, int, int] | None = None
    for a in range(max(0, i - LONGEST_PHRASE + 1), i + 1):
        for b in range(i + 1, min(len(words), a + LONGEST_PHRASE) + 1):
            move = PHRASES.get(tuple(w.lower for w in words[a:b]))
            if move is not None and (best is None or words[b - 1].end - words[a].start > best[2] - best[1]):
                best = (move, words[a].start, words[b - 1].end)
    return best


def _camera_text(camera: lower.Camera, axes: str) -> str:
    return (_move_text(camera.move, camera.magnitude, axes, written=camera.strength_span is not None)
            + _in_words(move_sentence(camera)))


def _in_words(sentence: str) -> str:
    """How the move reads where it goes as words (`moves`: camera.sending)."""
    return (f"\n\nwhere the shot's model takes no `camera_control` (or with `moves words`), the prompt "
            f"starts \"{sentence}\" instead")


def _magnitude_text(magnitude: lower.Magnitude) -> str:
    return f"{magnitude:g}" if isinstance(magnitude, float) else str(magnitude)


def _move_text(move: Move, magnitude: lower.Magnitude | None, axes: str, *, written: bool) -> str:
    """`pan right`: what it is, what it sends under `axes` (with `magnitude`, or the strength
    in general if None), its recommended range, and what the other AXES would send."""
    lines = [f"**{move.name}**: {move.description}"]
    if move.preset:
        lines.append(f"sends `camera_control.type = \"{move.preset}\"` (a compound preset; it takes no strength)")
    elif move.is_static:
        lines.append("sends no `camera_control`")
    else:
        axis = move.axis(axes)
        assert axis is not None
        sign = "+" if axis.sign > 0 else "-"
        if magnitude is None:
            sent = f"`camera_control.config.{axis.field} = {sign}strength` ({DEFAULT_MAGNITUDE} unless one is written)"
        else:
            sent = f"`camera_control.config.{axis.field} = {sign}{_magnitude_text(magnitude)}`"
        sentence = f"sends {sent} under AXES {axes}"
        nearest = " (the nearest field: it has no exact one)" if move.approximate_in_official else ""
        if axes == "official":
            sentence += nearest
        if move.recommended:
            sentence += f" (recommended {move.recommended[0]}–{move.recommended[1]})"
        if magnitude is not None and not written:
            sentence += f"; no strength is written, so {DEFAULT_MAGNITUDE}"
        lines.append(sentence)
        other = "official" if axes == "seed" else "seed"
        other_axis = move.axis(other)
        if other_axis is not None and other_axis != axis:
            amount = _magnitude_text(magnitude) if magnitude is not None else "strength"
            lines.append(f"under AXES {other} it would send `{other_axis.field} = "
                         f"{'+' if other_axis.sign > 0 else '-'}{amount}`"
                         + (nearest if other == "official" else ""))
    if move.synonyms:
        lines.append("also written " + ", ".join(f"`{s}`" for s in move.synonyms))
    return "\n\n".join(lines)


def _intensity_text(word: str) -> str:
    magnitude = INTENSITIES[word]
    if magnitude < VISIBLE_FROM:
        feel = "too weak to see"
    elif magnitude <= NATURAL[1]:
        feel = "natural" if magnitude >= NATURAL[0] else "subtle"
    elif magnitude <= STRONG[1]:
        feel = "strong"
    else:
        feel = "may look jerky" if magnitude >= JERKY_FROM else "strong"
    return (f"**{word}**: an intensity, magnitude {magnitude} ({feel}); "
            f"a move without one has {DEFAULT_MAGNITUDE}, and `pan right 6` gives a number instead")


def _option_text(option: Option) -> str:
    sent = f"; sent as `{option.field}`" if option.field else ""
    return f"{option.note}{sent}. Example: {option.example}"


def _model_text(name: str, model: Model, matrix: Matrix) -> str:
    lines = [f"**{name}**" + (f": {model.note}" if model.note else ""),
             f"endpoints: {', '.join(model.endpoints)}",
             f"modes: {', '.join(model.modes)}",
             f"durations: {durations_text(model.durations)}"]
    if model.aspect_ratios:
        lines.append(f"aspect ratios: {', '.join(model.aspect_ratios)}")
    lines.append(f"from: {matrix.source_of(name)}")
    return "\n\n".join(lines)


