"""Syntax tree to resolved shots: file settings applied, words given their meaning.

Here MODEL, DEFAULTS, SCENE, TITLE and AXES take effect, option words become API values
(`professional` -> `pro`, `10s` -> "10") and a move's words become one camera move with a
magnitude. Anything that cannot be given a meaning is reported; the rules of the API that
relate several settings are checked later, in checks.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from . import kling
from . import syntax as ast
from .diagnostics import Diagnostic, did_you_mean
from .hints import guess_move, model_hint, offer, option_hint, phrases_ending, phrases_starting, word_hint
from .language import MODE_WORDS, OPTIONS, REPEATABLE, SOUND_WORDS
from .source import Span
from .vocabulary import (
    CONNECTORS,
    DEFAULT_MAGNITUDE,
    INTENSITIES,
    JOINERS,
    LONGEST_PHRASE,
    MOVE_HEADS,
    MOVE_WORDS,
    MOVES,
    PHRASES,
    READINGS,
    Move,
)

# Settings that belong to one shot and make no sense as a default for many.
PER_SHOT_ONLY = frozenset(o.kind for o in OPTIONS if o.per_shot)


class Value(NamedTuple):
    """A setting's value and where it was written; `inherited` if from MODEL or DEFAULTS."""

    value: Any
    span: Span
    inherited: bool = False


class Camera(NamedTuple):
    move: Move
    magnitude: int | None  # None for static and the presets
    span: Span  # the move's words
    strength_span: Span | None  # the intensity word or number, if written


@dataclass
class ResolvedShot:
    syntax: ast.Shot
    scene: str | None
    settings: dict[str, Value]
    motions: list[ast.Option]
    camera: Camera | None
    ok: bool = True  # False once an error was reported for this shot

    @property
    def name(self) -> str:
        return self.syntax.name.text

    @property
    def prompt(self) -> ast.Text:
        return self.syntax.prompt


class Resolver:
    """Walks a file's statements in order, carrying its settings down to each shot.

    Statements are fed one at a time, so a large file's shots can be checked and turned into
    requests as they come, without holding every syntax tree at once. `reading` (from the
    command line) overrides the file's AXES statement.
    """

    def __init__(self, report: list[Diagnostic], reading: str | None = None) -> None:
        self.report = report
        self.title: str | None = None
        self.reading = reading or "seed"
        self.shots = 0
        self._override = reading is not None
        self._defaults: dict[str, Value] = {}
        self._scene: str | None = None
        self._title_seen = self._axes_seen = False

    def feed(self, stmt: ast.Statement) -> ResolvedShot | None:
        """Take in one statement; a SHOT comes back resolved, the others change the settings."""
        report = self.report
        if isinstance(stmt, ast.Shot):
            self.shots += 1
            return _resolve_shot(stmt, self._scene, self._defaults, report, self.reading)
        if isinstance(stmt, ast.Scene):
            self._scene = stmt.heading.value
        elif isinstance(stmt, ast.ModelStatement):
            model = _model(stmt.name, report)
            if model is not None:
                self._defaults["model"] = Value(model.value, model.span, inherited=True)
        elif isinstance(stmt, ast.Defaults):
            for key, value in _settings(stmt.options, report, in_defaults=True).items():
                self._defaults[key] = Value(value.value, value.span, inherited=True)
        elif isinstance(stmt, ast.Title):
            if self._title_seen:
                report.append(Diagnostic("E312", "TITLE is given twice", stmt.span, "keep one TITLE per file"))
            self._title_seen = True
            self.title = stmt.title.value
        elif isinstance(stmt, ast.Axes):
            self._axes(stmt)
        return None

    def _axes(self, stmt: ast.Axes) -> None:
        word = stmt.reading.text.lower()
        if self._axes_seen:
            self.report.append(Diagnostic("E312", "AXES is given twice", stmt.span,
                                          "keep one AXES line, before the first SHOT"))
        elif self.shots:
            self.report.append(Diagnostic("E312", "AXES comes after a SHOT", stmt.span,
                                          "move AXES above the first SHOT; it applies to the whole file"))
        elif word not in READINGS:
            self.report.append(Diagnostic("E311", f"unknown AXES reading `{stmt.reading.text}`", stmt.span,
                                          did_you_mean(word, READINGS) or "write `AXES seed` or `AXES official`"))
        elif not self._override:
            self.reading = word
        self._axes_seen = True


def _resolve_shot(
    shot: ast.Shot, scene: str | None, defaults: dict[str, Value], report: list[Diagnostic],
    reading: str = "seed",
) -> ResolvedShot:
    before = len(report)
    own = _settings(shot.options, report, in_defaults=False)
    settings = {**defaults, **own}
    motions = [o for o in shot.options if o.kind == "motion"]
    camera = lower_move(shot.move, report, reading)
    ok = not any(d.severity == "error" for d in report[before:])
    return ResolvedShot(shot, scene, settings, motions, camera, ok)


def _settings(
    options: tuple[ast.Option, ...], report: list[Diagnostic], *, in_defaults: bool
) -> dict[str, Value]:
    """The settings a list of options gives, each once."""
    found: dict[str, Value] = {}
    for option in options:
        setting = option.kind
        value = _interpret(option, report)
        if value is None:
            continue
        if in_defaults and setting in PER_SHOT_ONLY:
            report.append(Diagnostic(
                "E313", f"`{setting}` cannot be a default", option.span,
                f"give `{setting}` to each shot that needs it"))
            continue
        if setting in REPEATABLE:
            continue  # a shot may have several; checks.py counts them
        if setting in found:
            report.append(Diagnostic(
                "E309", f"{setting} is given twice", option.span,
                f"keep one {setting}; the first is on line {found[setting].span.line}"))
            continue
        found[setting] = value
    return found


def _interpret(option: ast.Option, report: list[Diagnostic]) -> Value | None:
    """An option's value in API terms, or None after reporting why it has none."""
    kind, span = option.kind, option.value.span
    if isinstance(option.value, ast.Text):
        return Value(option.value, span)
    text = option.value.text
    word = text.lower()
    if kind == "duration":
        seconds = word[:-1]
        if seconds not in kling.DURATIONS:
            report.append(Diagnostic(
                "E303", f"Kling has no {text} clips", span,
                " or ".join(f"`{d}s`" for d in kling.DURATIONS) + " are the durations offered"))
            return None
        return Value(seconds, span)
    if kind == "aspect":
        if text not in kling.ASPECT_RATIOS:
            report.append(Diagnostic(
                "E302", f"aspect ratio {text} is not offered", span,
                "use " + ", ".join(kling.ASPECT_RATIOS)))
            return None
        return Value(text, span)
    if kind == "mode":
        if word in MODE_WORDS:
            return Value(MODE_WORDS[word], span)  # the only bare words after a prompt are modes
        report.append(Diagnostic("E301", f"unknown option `{text}`", span, option_hint(text)))
        return None
    if kind == "model":
        return _model(option.value, report)
    if kind == "cfg":
        scale = float(text)
        if not kling.CFG_MIN <= scale <= kling.CFG_MAX:
            report.append(Diagnostic(
                "E304", f"cfg {text} is outside {kling.CFG_MIN:g} to {kling.CFG_MAX:g}", span,
                "0 lets the model roam, 1 follows the prompt closely; 0.5 is the default"))
            return None
        return Value(scale, span)
    if kind == "sound":
        if word not in SOUND_WORDS:
            report.append(Diagnostic("E311", f"sound is `on` or `off`, not `{text}`", span,
                                     did_you_mean(word, SOUND_WORDS) or "write `sound on` or `sound off`"))
            return None
        return Value(SOUND_WORDS[word], span)
    raise AssertionError(f"option kind {kind} has no interpretation")


def _model(name: ast.Word, report: list[Diagnostic]) -> Value | None:
    if name.text.lower() in kling.MODELS:
        return Value(name.text.lower(), name.span)
    report.append(Diagnostic(
        "E300", f"unknown model `{name.text}`", name.span,
        model_hint(name.text)))
    return None


# --- moves -----------------------------------------------------------------------------------


def lower_move(
    words: tuple[ast.Word, ...], report: list[Diagnostic], reading: str = "seed"
) -> Camera | None:
    """`slow pan right over` -> pan right at 5. Reports what cannot be read as one move;
    `reading` only says, in a hint, which camera field a move sends."""
    if not words:
        return None
    rest = list(words)
    if not rest[-1].is_number and rest[-1].text.lower() in JOINERS:
        rest.pop()  # the joiner: "over", "on", ... carries no meaning
    intensities: list[ast.Word] = []
    while rest and not rest[0].is_number and rest[0].text.lower() in INTENSITIES:
        intensities.append(rest.pop(0))

    moves: list[tuple[Move, Span]] = []
    numbers: list[ast.Word] = []
    failed = False
    i = 0
    while i < len(rest):
        word = rest[i]
        low = word.text.lower()
        if word.is_number:
            numbers.append(word)
            i += 1
            continue
        if low in CONNECTORS:
            i += 1
            continue
        for n in range(min(LONGEST_PHRASE, len(rest) - i), 0, -1):
            move = PHRASES.get(tuple(w.text.lower() for w in rest[i : i + n]))
            if move is not None:
                moves.append((move, word.span.to(rest[i + n - 1].span)))
                i += n
                break
        else:
            diagnostic, skip = _unknown_word(rest, i)
            report.append(diagnostic)
            failed = True
            i += skip
    if failed:
        return None
    if len(moves) > 1:
        names = " and ".join(f"`{m.name}`" for m, _ in moves)
        report.append(Diagnostic(
            "E201", f"{len(moves)} camera movements in one shot: {names}",
            moves[0][1].to(moves[-1][1]),
            "Kling moves the camera along one axis per shot (400 invalid camera config); "
            "split this into one shot per movement"))
        return None
    if not moves:
        what = (intensities or numbers or list(words))[0]
        report.append(Diagnostic(
            "E206", f"`{what.text}` but no camera move", what.span,
            'add a move (`slow pan right over "..."`), or leave the words out for a still shot'))
        return None
    move, span = moves[0]
    return _strength(move, span, intensities, numbers, report, reading)


def _strength(
    move: Move, span: Span, intensities: list[ast.Word], numbers: list[ast.Word],
    report: list[Diagnostic], reading: str,
) -> Camera | None:
    given = intensities + numbers
    if given and (move.preset or move.is_static):
        report.append(Diagnostic(
            "E205", f"`{move.name}` takes no strength, but `{given[0].text}` is given",
            given[0].span, f"remove `{given[0].text}`"))
        return None
    if move.preset or move.is_static:
        return Camera(move, None, span, None)
    if len(given) > 1:
        report.append(Diagnostic(
            "E204", f"the strength is given twice: `{given[0].text}` and `{given[1].text}`",
            given[1].span, "keep either the intensity word or the magnitude"))
        return None
    if numbers:
        number = numbers[0]
        if "." in number.text:
            nearest = float(number.text)  # inf for thousands of digits: no rounding to offer then
            offer = f"use {round(nearest)}, or another" if nearest < 1e6 else "use a"
            report.append(Diagnostic(
                "E203", f"magnitude {number.text} is not a whole number", number.span,
                f"{offer} whole number from 1 to 10"))
            return None
        # int() refuses over 4,300 digits; anything past a few digits is out of range anyway.
        digits = number.text.lstrip("+-")
        magnitude = int(number.text) if len(digits) <= 6 else (-1 if number.text[0] == "-" else 1) * 10**6
        if not 1 <= magnitude <= kling.MAGNITUDE_MAX or number.text[0] in "+-":
            hint = "a magnitude is from 1 to 10"
            if number.text[0] in "+-" and 1 <= abs(magnitude) <= kling.MAGNITUDE_MAX:
                hint = _sign_hint(move, abs(magnitude), span, reading)
            elif magnitude == 0:
                hint = "for no movement leave the move out, or write `static`"
            report.append(Diagnostic(
                "E202", f"magnitude {number.text} is outside 1-10", number.span, hint))
            return None
        return Camera(move, magnitude, span, number.span)
    if intensities:
        word = intensities[0]
        return Camera(move, INTENSITIES[word.text.lower()], span, word.span)
    return Camera(move, DEFAULT_MAGNITUDE, span, None)


def _opposite(move: Move) -> Move | None:
    """The move that sends the same field with the other sign, in both readings."""
    for other in MOVES:
        if (move.seed and move.official and other.seed and other.official
                and other.seed == move.seed._replace(sign=-move.seed.sign)
                and other.official == move.official._replace(sign=-move.official.sign)):
            return other
    return None


def _sign_hint(move: Move, magnitude: int, span: Span, reading: str) -> str:
    """`pan left -6`: say what the direction word already sends, so the fix is right."""
    written = " ".join(span.source.text[span.start : span.end].split()).lower()
    axis = move.axis(reading)
    assert axis is not None  # only moves along an axis take a magnitude
    hint = (f"the direction word sets the sign, so a magnitude has none: `{written} {magnitude}` "
            f"sends {axis.field}: {axis.sign * magnitude}")
    opposite = _opposite(move)
    if opposite is not None:
        hint += f"; for the other way write `{opposite.name} {magnitude}`"
    return hint


def _unknown_word(words: list[ast.Word], i: int) -> tuple[Diagnostic, int]:
    """The diagnostic for words[i], and how many words it covers.

    A misspelt move is offered as a whole phrase and takes the rest of its phrase with it
    (`pann right` is one error, not two; `zoomin` -> `zoom in`), so one typo gives one
    diagnostic whose fix works.
    """
    word = words[i]
    low = word.text.lower()
    if low in INTENSITIES:
        return _unknown(word, "an intensity word goes first, before the move: `slow pan right`"), 1
    if low in JOINERS:
        return _unknown(word, "a joiner comes last, right before the prompt: `pan right over \"...\"`"), 1
    plain = []  # the words from i up to a number or connector, which no phrase contains
    for w in words[i:]:
        if w.is_number or w.text.lower() in CONNECTORS:
            break
        plain.append(w.text.lower())
    guess = guess_move(plain, 0)
    if guess is not None:
        first, last = words[i + guess.wrong[0]], words[i + guess.wrong[-1]]
        span = first.span.to(last.span)
        what = "word" if first is last else "words"
        return Diagnostic("E200", f"unknown {what} `{_text_of(span)}`", span,
                          f"did you mean `{guess.phrase}`?"), guess.covers
    if low in MOVE_HEADS or (phrases_starting(low) and not phrases_ending((low,))):
        heads = MOVE_HEADS.get(low) or phrases_starting(low)
        return Diagnostic("E200", f"`{word.text}` needs a direction", word.span, f"write {offer(heads)}"), 1
    if low in MOVE_WORDS:
        return _unknown(word, f"a direction follows its move word: {offer(phrases_ending((low,)))}"), 1
    # A word no move starts with, before a direction (`orbit left`): no guess, but the moves
    # that go that way.
    for n in range(min(LONGEST_PHRASE - 1, len(plain) - 1), 0, -1):
        ending = phrases_ending(plain[1 : 1 + n])
        if ending:
            span = word.span.to(words[i + n].span)
            return Diagnostic(
                "E200", f"unknown move `{_text_of(span)}`", span,
                f"shotlang has no such move; moves that go {' '.join(plain[1 : 1 + n])}: "
                f"{offer(ending)} (`shotlang moves` lists them all)"), n + 1
    return _unknown(word, word_hint(low)), 1


def _unknown(word: ast.Word, hint: str) -> Diagnostic:
    return Diagnostic("E200", f"unknown word `{word.text}`", word.span, hint)


def _text_of(span: Span) -> str:
    return " ".join(span.source.text[span.start : span.end].split())
