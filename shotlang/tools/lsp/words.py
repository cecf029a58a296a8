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
from typing import Literal, NamedTuple

from lark.exceptions import UnexpectedInput

from ...compiler import lower, parser
from ...compiler import syntax as ast
from ...compiler.camera import words as move_sentence
from ...compiler.diagnostics import CODES, Diagnostic
from ...compiler.language import MODE_WORDS, OPTION_BY_KEYWORD, OPTION_BY_KIND, OPTIONS, STATEMENTS, Option
from ...compiler.models import Matrix, Model, durations_text
from ...compiler.quickparse import parse_shot
from ...compiler.scanner import Token, scan, scanner
from ...compiler.source import Source
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
                axes: str = "seed") -> list[Item]:
    """What may be written at `offset`, in the statement that starts at `statement_start`.
    `model` is the model in effect there (for durations and aspect ratios), `axes` the file's."""
    found = tokens(text, statement_start, offset)
    partial = found.pop() if found and found[-1].kind == "word" and found[-1].end == offset else None
    if found and (found[-1].kind == "comment" or _open_string(found[-1])):
        return []
    if partial is not None and partial.kind == "comment":
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
    if keyword == "defaults":
        return _options(rest, at, matrix, model, in_defaults=True)
    if keyword in ("shot", "sequence"):
        colon = next((i for i, t in enumerate(rest) if t.kind == "colon"), None)
        if colon is None:
            return []
        rest = rest[colon + 1 :]
        if keyword == "sequence":
            items = _options(rest, at, matrix, model, in_defaults=False)
            line_start = text.rfind("\n", 0, at) + 1
            if line_start > statement_start and not text[line_start:at].strip():  # a line under it
                items.insert(0, Item("SHOT", "keyword", "a shot of the sequence",
                                     next(s.meaning for s in STATEMENTS if s.keyword == "shot"), at))
            return items
        prompt = next((i for i, t in enumerate(rest) if t.kind == "string"), None)
        if prompt is None:
            return _move_zone([t for t in rest if t.kind == "word"], partial, at, axes)
        return _options(rest[prompt + 1 :], at, matrix, model, in_defaults=False)
    return []


def _value(word: str, detail: str, at: int) -> Item:
    return Item(word, "value", detail, "", at)


def _models(matrix: Matrix, at: int) -> list[Item]:
    return [Item(name, "model", _model_line(model), _model_text(name, model, matrix), at)
            for name, model in matrix.models.items()]


def _model_line(model: Model) -> str:
    return f"{', '.join(model.endpoints)}; {durations_text(model.durations)}; {', '.join(model.modes)}"


def _move_zone(words: list[Token], partial: Token | None, at: int, axes: str) -> list[Item]:
    """After `SHOT name:` and before the prompt: [intensity] move [magnitude] [joiner]."""
    said = [w.lower for w in words]
    i = 0
    while i < len(said) and said[i] in INTENSITIES:
        i += 1
    rest = said[i:]
    items: list[Item] = []
    if i == 0 and not rest:
        items += (Item(w, "intensity", f"magnitude {m}", _intensity_text(w), at) for w, m in INTENSITIES.items())
    if len(rest) < LONGEST_PHRASE and not any(_is_number(w) for w in rest) and not (set(rest) & JOINERS):
        typed = " ".join([*rest, partial.lower if partial is not None else ""])
        start = words[i].start if rest else at
        for phrase, move in _phrases():
            if phrase.startswith(typed):
                items.append(Item(phrase, "move", _move_line(move, phrase, axes), _move_text(
                    move, None, axes, written=False), start))
    move_words = rest[:-1] if rest and _is_number(rest[-1]) else rest
    if move_words and tuple(move_words) in PHRASES and not (set(rest) & JOINERS):
        items += (Item(j, "joiner", "joins the move to the prompt", "It carries no meaning.", at) for j in sorted(JOINERS))
    return items


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


def _options(written: list[Token], at: int, matrix: Matrix, model: str, *, in_defaults: bool) -> list[Item]:
    """After a prompt, a SEQUENCE's colon or DEFAULTS: an option, or the value of the keyword
    just written."""
    if any(_open_string(t) for t in written):
        return []
    for word, value in zip(written, written[1:], strict=False):  # the statement's own model
        if word.kind == value.kind == "word" and word.lower == "model" and value.lower in matrix:
            model = value.lower
    last = written[-1] if written else None
    if last is not None and last.kind == "word":
        option = OPTION_BY_KEYWORD.get(last.lower)
        if option is not None:
            if option.argument == "name":
                return _models(matrix, at)
            if option.values:
                return [_value(w, option.written.replace("`", ""), at) for w in option.values]
            return []  # a quoted text or a number comes next
    given = {OPTION_BY_KEYWORD[t.lower].kind for t in written if t.kind == "word" and t.lower in OPTION_BY_KEYWORD}
    items: list[Item] = []
    for option in OPTIONS:
        if (in_defaults and option.per_shot) or (option.kind in given and option.kind not in ("motion", "voice")):
            continue
        for keyword in option.keywords:
            items.append(Item(keyword, "option", option.written.replace("`", ""), _option_text(option), at))
    known = matrix.get(model)
    modes = [w for w, m in MODE_WORDS.items() if known is None or m in known.modes]
    items += (Item(w, "option", "mode", _option_text(OPTION_BY_KIND["mode"]), at) for w in modes)
    if known is not None:
        items += (Item(f"{d}s", "option", f"duration ({model})", _option_text(OPTION_BY_KIND["duration"]), at)
                  for d in _durations(known))
        if "text2video" in known.endpoints:
            items += (Item(r, "option", f"aspect ratio ({model})", _option_text(OPTION_BY_KIND["aspect"]), at)
                      for r in known.aspect_ratios)
    return items


def _durations(model: Model) -> list[str]:
    return sorted(model.durations, key=int)


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


