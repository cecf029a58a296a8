"""Syntax tree to lowered shots: file settings applied, words given their meaning.

Here MODEL, DEFAULTS, SCENE, TITLE, AXES and BACKEND take effect, option words become API values
(`professional` -> `pro`, `10s` -> "10") and a move's words become one camera move with a
magnitude. Anything that cannot be given a meaning is reported; the rules of the API that
relate several settings are checked later, in checks.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any, Generic, NamedTuple, TypeVar

from . import kling
from . import syntax as ast
from .diagnostics import Diagnostic, Related, closest, did_you_mean, either
from .hints import (
    guess_move,
    intensity_meant,
    model_hint,
    offer,
    option_hint,
    phrases_ending,
    phrases_starting,
    word_hint,
)
from .language import BACKENDS, OPTION_BY_KIND, REPEATABLE, Bounds
from .models import Matrix, built_in
from .source import Source, Span, describe_indent
from .vocabulary import (
    AXES,
    CONNECTORS,
    DEFAULT_MAGNITUDE,
    INTENSITIES,
    JOINERS,
    LONGEST_PHRASE,
    MOVE_HEADS,
    MOVE_WORDS,
    MOVES,
    PHRASES,
    Move,
)

T = TypeVar("T")


class Value(NamedTuple, Generic[T]):
    """A setting's value in API terms and where it was written; `inherited` if from MODEL or
    DEFAULTS."""

    value: T
    span: Span
    inherited: bool = False


@dataclass(slots=True)
class Settings:
    """What a shot's options (its own, or inherited) say: one field per option of the language
    table that a shot gives once (language.OPTIONS; `motion` may repeat and is kept apart).
    Values are the API's: "10" for `10s`, "pro" for `professional`, the text of a quoted string."""

    duration: Value[str] | None = None
    mode: Value[kling.Mode] | None = None
    aspect: Value[str] | None = None
    model: Value[str] | None = None
    negative: Value[str] | None = None
    cfg: Value[float] | None = None
    image: Value[str] | None = None
    tail: Value[str] | None = None
    mask: Value[str] | None = None
    id: Value[str] | None = None
    callback: Value[str] | None = None
    sound: Value[kling.Sound] | None = None
    watermark: Value[bool] | None = None
    moves: Value[str] | None = None
    # The other options sent as their value says (language.AS_IS), by kind: an option whose row
    # says everything about it needs no field of its own here.
    more: dict[str, Value[Any]] = field(default_factory=dict)
    # `after castle`: the shot this one continues (a shot's own, never inherited); and whether it
    # starts from that shot's last frame (a model without a video reference: image-to-video).
    after: Value[str] | None = None
    from_frame: bool = False

    @classmethod
    def of(cls, values: dict[str, Value[Any]]) -> Settings:
        """The settings from values by option kind: typed fields for those named here, `more`
        for the rest."""
        if TYPED_SETTINGS.issuperset(values):  # the usual case, at C speed
            return cls(**values)  # type: ignore[arg-type]
        more = {k: v for k, v in values.items() if k not in TYPED_SETTINGS}
        return cls(**{k: v for k, v in values.items() if k in TYPED_SETTINGS}, more=more)  # type: ignore[arg-type]

    def get(self, kind: str) -> Value[Any] | None:
        """The value of the option `kind`, if given (or inherited)."""
        if kind in TYPED_SETTINGS:
            value: Value[Any] | None = getattr(self, kind)
            return value
        return self.more.get(kind)

    @property
    def model_name(self) -> str:
        return self.model.value if self.model is not None else kling.DEFAULT_MODEL

    def mode_at(self, endpoint: kling.Endpoint) -> kling.Mode:
        """The mode the API will use at `endpoint`: the one given, else that endpoint's default
        (std; pro at the omni endpoint)."""
        return self.mode.value if self.mode is not None else kling.default_mode(endpoint)

    @property
    def to_image(self) -> bool:
        """A shot with a start or end image (or one that starts from the last frame of the shot it
        continues) goes to image2video."""
        return self.image is not None or self.tail is not None or self.from_frame


TYPED_SETTINGS = frozenset(f.name for f in fields(Settings) if f.name not in ("more", "after", "from_frame"))


# A magnitude as the API gets it: an int when whole (sent as 5, never 5.0), else a float of at
# most MAGNITUDE_DECIMALS places, whose shortest form is the number as written (2.5, 0.25).
Magnitude = int | float
# Kling takes fractions (its own ComfyUI nodes send 0.5). A magnitude stops at two places, as
# E203 says: past them no one sees a difference, and what is sent stays exactly what was written.
MAGNITUDE_DECIMALS = 2
# An aspect ratio longer than this (`16:9` is 4) is refused (E302), whatever its digits.
ASPECT_MAX_CHARS = 11


class Camera(NamedTuple):
    move: Move
    magnitude: Magnitude | None  # None for static and the presets
    span: Span  # the move's words
    strength_span: Span | None  # the intensity word or number, if written


@dataclass(slots=True)
class LoweredShot:
    syntax: ast.Shot
    scene: str | None
    settings: Settings
    motions: list[ast.Option]
    camera: Camera | None
    lowered: bool  # False if the lowering reported an error for this shot
    voices: list[ast.Option] = field(default_factory=list)
    in_sequence: bool = False
    # How its camera move is sent (camera.Sending), once camera.sending has worked it out: the
    # checks and the record ask it of every shot.
    sent: Any = None
    # The cast members its prompt names (`@keeper`), each once, in the order first named: the
    # element_list, element 1 first.
    cast: tuple[CastRef, ...] = ()

    @property
    def name(self) -> str:
        return self.syntax.name.text

    @property
    def prompt(self) -> ast.Text:
        return self.syntax.prompt


@dataclass(slots=True)
class LoweredSequence:
    """A SEQUENCE and its shots: one multi-shot generation. Its settings are the sequence's
    (its own options over the file's); each shot brings its prompt, camera words and duration."""

    syntax: ast.Sequence
    scene: str | None
    settings: Settings
    voices: list[ast.Option]
    shots: list[LoweredShot]
    lowered: bool
    # Worked out once, by the check, and carried to the record: the total and each shot's
    # seconds (sequence_timing), and each shot's prompt as sent (camera.sequence_prompt).
    timing: tuple[str, list[str]] | None = None
    prompts: list[str] | None = None

    @property
    def name(self) -> str:
        return self.syntax.name.text


@dataclass(slots=True)
class LoweredCast:
    """A CAST: a cast member made once as a Kling element, from its description and images."""

    syntax: ast.Cast
    image: Value[str] | None  # the front image; None after an error
    lowered: bool

    @property
    def name(self) -> str:
        return self.syntax.name.text

    @property
    def description(self) -> str:
        return self.syntax.description.value


class CastRef(NamedTuple):
    """`@keeper` in a prompt: the cast member's name (as its CAST writes it), and where it is named."""

    name: str
    span: Span


class CastName(NamedTuple):
    """What the lowering carries of a CAST to the shots below it: its name and where it is. (Only
    that: an edit of a CAST's words or images changes no shot, and the language server keeps
    the statements below as they were.)"""

    name: str
    span: Span


Lowered = LoweredShot | LoweredSequence | LoweredCast


class Lowering:
    """Walks a file's statements in order, carrying its settings down to each shot.

    Statements are fed one at a time, so a large file's shots can be checked and turned into
    requests as they come, without holding every syntax tree at once. `axes` (from the command
    line) overrides the file's AXES statement; `models` is the capability matrix that says
    which model names exist (the built-in one if None). `backend` is what the file's BACKEND
    line says (None without one): the pipeline weighs it against the command line's.

    A SEQUENCE gathers the SHOT statements indented deeper than it, up to the first statement
    that is not: the sequence comes back, whole, when that statement (or finish()) ends it.
    """

    def __init__(self, report: list[Diagnostic], axes: str | None = None, models: Matrix | None = None) -> None:
        self.report = report
        self.title: str | None = None
        self.axes = axes or "seed"
        self.shots = 0
        self.models = models or built_in()
        self._override = axes is not None
        self._defaults: dict[str, Value[Any]] = {}  # by option kind: Settings' fields
        self._scene: str | None = None
        # The open SCENE's options, up to the next SCENE; a later MODEL or DEFAULTS line takes an
        # option back from it (the line written last wins).
        self._scene_defaults: dict[str, Value[Any]] = {}
        self._title_seen: Span | None = None
        self._axes_seen: Span | None = None
        self.backend: str | None = None
        self._backend_seen: Span | None = None
        self._sequence: OpenSequence | None = None
        self._cast: dict[str, CastName] = {}  # by name, lower case
        # `@name`s named before any CAST of that name, and where first: a later CAST of it says so.
        self._cast_wanted: dict[str, Span] = {}

    def feed(self, stmt: ast.Statement, at: int | None = None) -> list[Lowered]:
        """Take in one statement; a SHOT comes back lowered (a sequence's shots come back in
        their sequence, when it ends), the others change the settings. `at` is where the
        statement's first line starts (parser.placed_statements): its indent is that line's,
        whichever line its name or options are on."""
        done: list[Lowered] = []
        open_sequence = self._sequence
        keyword = _first_span(stmt) if at is None else _keyword_at(stmt.span.source, at)
        if open_sequence is not None:
            indent = _indent(keyword if at is not None or not isinstance(stmt, ast.Shot) else stmt.name.span)
            if not (indent.startswith(open_sequence.indent) or open_sequence.indent.startswith(indent)):
                # Tabs and spaces mixed: whether the line is inside the sequence depends on the
                # width of a tab in the writer's editor, so it is not guessed.
                self.report.append(Diagnostic(
                    "E319", "this line's indentation mixes tabs and spaces with its SEQUENCE's", keyword,
                    f"indent the SEQUENCE ({describe_indent(open_sequence.indent)}) and its shots "
                    f"({describe_indent(indent)}) the same way: with spaces only, or tabs only"))
            deeper = indent.startswith(open_sequence.indent) and len(indent) > len(open_sequence.indent)
            if isinstance(stmt, ast.Shot) and deeper:
                self.shots += 1
                found: list[Diagnostic] = []
                member = _resolve_shot(stmt, self._scene, open_sequence.member_defaults, found, self.axes,
                                       self.models, in_sequence=True)
                if self._cast_refs(stmt, found):
                    found.append(Diagnostic(
                        "E316", "a shot in a sequence cannot name a cast member", stmt.prompt.span,
                        "a multi-shot request takes no elements here: make this a shot of its own, after the "
                        "sequence"))
                above = open_sequence.shots[-1].syntax.span if open_sequence.shots else open_sequence.syntax.span
                if at is not None and _BLANK_LINE.search(stmt.span.source.text, above.end, at):
                    found.append(Diagnostic(
                        "W111", f"`{stmt.name.text}` is a shot of the sequence `{open_sequence.syntax.name.text}`, "
                        "after a blank line", keyword,
                        "it is indented under the SEQUENCE, so it is part of that one request (paid within it): "
                        "write it at the SEQUENCE's indentation to make it a shot of its own, or remove the blank "
                        "line to keep it in the sequence"))
                self.report += found
                open_sequence.shots.append(member)
                return done
            done.append(self.finish_sequence())
            if not isinstance(stmt, ast.Shot) and deeper:
                self.report.append(Diagnostic(
                    "E315", "only SHOT lines go inside a SEQUENCE", keyword,
                    "move this line out of the sequence (indent it as the SEQUENCE line is)"))
        report = self.report
        if isinstance(stmt, ast.Shot):
            self.shots += 1
            found = []
            shot = _resolve_shot(stmt, self._scene, self._inherited(), found, self.axes, self.models)
            shot.cast = self._cast_refs(stmt, found)
            done.append(shot)
            report += found
        elif isinstance(stmt, ast.Cast):
            done.append(self._lower_cast(stmt))
        elif isinstance(stmt, ast.Sequence):
            found = []
            own = _settings(stmt.options, found, in_defaults=False, models=self.models)
            outer = {k: v for k, v in self._inherited().items() if k != "duration"}
            settings = Settings.of({**outer, **own})
            voices = [o for o in stmt.options if o.kind == "voice"]
            report += found
            members = {k: v._replace(inherited=True) for k, v in own.items() if k != "duration"}
            self._sequence = OpenSequence(stmt, self._scene, settings, voices,
                                           _indent(stmt.name.span if at is None else keyword),
                                           {**outer, **members}, not _has_error(found))
        elif isinstance(stmt, ast.Scene):
            self._scene = stmt.heading.value
            self._scene_defaults = {
                key: value._replace(inherited=True)
                for key, value in _settings(stmt.options, report, in_defaults=True, models=self.models,
                                            where="SCENE").items()}
        elif isinstance(stmt, ast.ModelStatement):
            model = _model(stmt.name, report, self.models)
            if model is not None:
                self._defaults["model"] = model._replace(inherited=True)
                self._scene_defaults.pop("model", None)
        elif isinstance(stmt, ast.Defaults):
            for key, value in _settings(stmt.options, report, in_defaults=True, models=self.models).items():
                self._defaults[key] = value._replace(inherited=True)
                self._scene_defaults.pop(key, None)
        elif isinstance(stmt, ast.Title):
            if self._title_seen:
                report.append(Diagnostic("E312", "TITLE is given twice", stmt.span, "keep one TITLE per file",
                                         (Related(self._title_seen, "the first TITLE"),)))
            else:
                self._title_seen = stmt.span
            self.title = stmt.title.value
        elif isinstance(stmt, ast.Axes):
            self._axes(stmt)
        elif isinstance(stmt, ast.Backend):
            self._backend(stmt, requested=bool(self.shots or self._cast or open_sequence is not None))
        return done

    def _inherited(self) -> dict[str, Value[Any]]:
        """What a shot below takes from the lines above it: MODEL and DEFAULTS, the open SCENE's
        options over them."""
        return {**self._defaults, **self._scene_defaults} if self._scene_defaults else self._defaults

    # --- for incremental checking (the language server): what is carried between statements ---

    def state(self, last: LoweringState | None = None) -> LoweringState:
        """What the lowering carries from one statement to the next, but the shot count (kept
        apart: a checker keeps it per statement): a value to keep, compare, and give back to
        restore(). `last` itself when nothing changed, so unchanged states are shared."""
        sequence = self._sequence
        if (last is not None and self.title == last.title and self.axes == last.axes
                and self._scene == last.scene and self._scene_defaults == last.scene_defaults
                and self._title_seen == last.title_seen and self._axes_seen == last.axes_seen
                and self.backend == last.backend and self._backend_seen == last.backend_seen
                and self._defaults == last.defaults and sequence == last.sequence
                and self._cast == last.cast and self._cast_wanted == last.cast_wanted):
            return last
        return LoweringState(self.title, self.axes, dict(self._defaults), self._scene, dict(self._scene_defaults),
                             self._title_seen, self._axes_seen, self.backend, self._backend_seen,
                             replace(sequence, shots=list(sequence.shots)) if sequence else None,
                             dict(self._cast), dict(self._cast_wanted))

    def restore(self, state: LoweringState, shots: int) -> None:
        """Go back to `state`, with `shots` shots read so far: the next statement fed is read as
        if the file had only the statements before it."""
        self.title, self.axes, self.shots = state.title, state.axes, shots
        self._defaults = dict(state.defaults)
        self._scene, self._title_seen, self._axes_seen = state.scene, state.title_seen, state.axes_seen
        self.backend, self._backend_seen = state.backend, state.backend_seen
        self._scene_defaults = dict(state.scene_defaults)
        sequence = state.sequence
        self._sequence = replace(sequence, shots=list(sequence.shots)) if sequence else None
        self._cast, self._cast_wanted = dict(state.cast), dict(state.cast_wanted)

    def finish(self) -> list[Lowered]:
        """What is still open at the end of the file: a sequence, if one is."""
        return [self.finish_sequence()] if self._sequence is not None else []

    def finish_sequence(self) -> LoweredSequence:
        open_sequence = self._sequence
        assert open_sequence is not None
        self._sequence = None
        return LoweredSequence(open_sequence.syntax, open_sequence.scene, open_sequence.settings,
                                open_sequence.voices, open_sequence.shots,
                                lowered=open_sequence.lowered and all(s.lowered for s in open_sequence.shots))

    def _lower_cast(self, stmt: ast.Cast) -> LoweredCast:
        """A CAST's own rules (E321); its images are checked with the shots' (checks.py)."""
        report = self.report
        name = stmt.name
        found: list[Diagnostic] = []
        if not CAST_NAME.fullmatch(name.text):
            found.append(Diagnostic(
                "E321", f"`{name.text}` cannot name a cast member", name.span,
                f"a cast name is its element's name, at most {kling.ELEMENT_NAME_MAX_CHARS} characters: a letter, "
                "then letters, digits, `-` or `_`"))
        key = name.text.lower()
        first = self._cast.get(key)
        if first is not None:
            found.append(Diagnostic("E321", f"`{name.text}` is cast twice", name.span,
                                    "give each cast member its own name, or remove one",
                                    (Related(first.span, "the first CAST"),)))
        wanted = self._cast_wanted.pop(key, None)
        if wanted is not None:
            found.append(Diagnostic(
                "E322", f"`@{name.text}` is named on line {wanted.line}, above its CAST", wanted,
                f"move `CAST {name.text}` above the first shot that names it",
                (Related(name.span, "its CAST"),)))
        description = stmt.description
        if not description.value.strip() or len(description.value) > kling.ELEMENT_DESCRIPTION_MAX_CHARS:
            found.append(Diagnostic(
                "E321", f"the description is {len(description.value):,} characters long" if description.value.strip()
                else "the description is empty", description.span,
                f"say who or what it is in 1 to {kling.ELEMENT_DESCRIPTION_MAX_CHARS} characters"))
        image: Value[str] | None = None
        for option in stmt.options:
            if option.kind == "image" and isinstance(option.value, ast.Text):
                if image is not None:
                    found.append(Diagnostic("E321", "the front image is given twice", option.span,
                                            'give one `image`, and the others with `also "…"`',
                                            (Related(image.span, "the first image"),)))
                else:
                    image = Value(option.value.value, option.value.span)
            else:
                found.append(Diagnostic(
                    "E321", f"a CAST takes no `{_written(option)}`", option.span,
                    'a CAST takes its front `image "…"` and 1 to 3 `also "…"` images; options go on the shots'))
        if image is None and not any(d.message.startswith("the front image") for d in found):
            found.append(Diagnostic("E321", f"`{name.text}` has no front image", stmt.span,
                                    f'add `image "{name.text}.png"`, and 1 to 3 other views with `also "…"`'))
        low, high = kling.ELEMENT_REFER_IMAGES
        if not low <= len(stmt.also) <= high:
            at = stmt.also[high].span if len(stmt.also) > high else stmt.span
            found.append(Diagnostic(
                "E321", f"`{name.text}` has {len(stmt.also) or 'no'} other image{'s' * (len(stmt.also) != 1)}", at,
                f"an element takes its front image and {low} to {high} others: `also \"{name.text}-side.png\"`"
                if not stmt.also else f"an element takes {low} to {high} images besides the front one"))
        report += found
        if first is None:
            self._cast[key] = CastName(name.text, name.span)
        return LoweredCast(stmt, image, lowered=not _has_error(found))

    def _cast_refs(self, stmt: ast.Shot, found: list[Diagnostic]) -> tuple[CastRef, ...]:
        """The cast members a shot's prompt names, each once, in order; an unknown `@name` is an
        error when it is close to a cast name (a typo), else a warning (sent as written)."""
        prompt = stmt.prompt
        if "@" not in prompt.value:
            return ()
        refs: dict[str, CastRef] = {}
        for name, start, end in cast_references(prompt.value):
            span = _within(prompt, start, end)
            cast = self._cast.get(name.lower())
            if cast is not None:
                refs.setdefault(cast.name.lower(), CastRef(cast.name, span))
                continue
            if not self._cast:
                self._cast_wanted.setdefault(name.lower(), span)
                continue
            names = [c.name for c in self._cast.values()]
            guess = closest(name, names)
            if guess:
                found.append(Diagnostic("E322", f"`@{name}` names no cast member", span,
                                        f"did you mean `@{guess}`?"))
            else:
                found.append(Diagnostic(
                    "W109", f"`@{name}` names no cast member: it is sent as written", span,
                    f"declare it above with `CAST {name}: \"…\" image \"…\" also \"…\"` if it is one; "
                    f"the cast is {', '.join(f'`@{n}`' for n in names[:5])}"))
        return tuple(refs.values())

    def _axes(self, stmt: ast.Axes) -> None:
        word = stmt.value.text.lower()
        if self._axes_seen:
            self.report.append(Diagnostic("E312", "AXES is given twice", stmt.span,
                                          "keep one AXES line, before the first SHOT",
                                          (Related(self._axes_seen, "the first AXES"),)))
        elif self.shots:
            self.report.append(Diagnostic("E312", "AXES comes after a SHOT", stmt.span,
                                          "move AXES above the first SHOT; it applies to the whole file"))
        elif word not in AXES:
            self.report.append(Diagnostic("E311", f"unknown AXES `{stmt.value.text}`", stmt.span,
                                          did_you_mean(word, AXES) or "write " + " or ".join(f"`AXES {a}`" for a in AXES)))
        elif not self._override:
            self.axes = word
        self._axes_seen = self._axes_seen or stmt.span

    def _backend(self, stmt: ast.Backend, requested: bool) -> None:
        """BACKEND: where the requests go. Before the first request of the file (a SHOT,
        SEQUENCE or CAST), as each is made for the backend in effect when it is read."""
        word = stmt.value.text.lower()
        if self._backend_seen:
            self.report.append(Diagnostic("E312", "BACKEND is given twice", stmt.span,
                                          "keep one BACKEND line, before the first SHOT",
                                          (Related(self._backend_seen, "the first BACKEND"),)))
        elif requested:
            self.report.append(Diagnostic("E312", "BACKEND comes after a SHOT, SEQUENCE or CAST", stmt.span,
                                          "move BACKEND above the first SHOT, SEQUENCE and CAST; it applies to "
                                          "the whole file"))
        elif word not in BACKENDS:
            self.report.append(Diagnostic("E311", f"unknown BACKEND `{stmt.value.text}`", stmt.span,
                                          did_you_mean(word, BACKENDS)
                                          or "write " + " or ".join(f"`BACKEND {b}`" for b in BACKENDS)))
        else:
            self.backend = word
        self._backend_seen = self._backend_seen or stmt.span


@dataclass
class OpenSequence:
    syntax: ast.Sequence
    scene: str | None
    settings: Settings
    voices: list[ast.Option]
    indent: str
    member_defaults: dict[str, Value[Any]]  # the sequence's settings, as its shots inherit them
    lowered: bool
    shots: list[LoweredShot] = field(default_factory=list)


class LoweringState(NamedTuple):
    """What Lowering carries from one statement to the next (Lowering.state(), restore())."""

    title: str | None
    axes: str
    defaults: dict[str, Value[Any]]
    scene: str | None
    scene_defaults: dict[str, Value[Any]]
    title_seen: Span | None
    axes_seen: Span | None
    backend: str | None
    backend_seen: Span | None
    sequence: OpenSequence | None
    cast: dict[str, CastName]
    cast_wanted: dict[str, Span]


# Lowering's attributes: those LoweringState carries, and those fixed at its start (with the
# shot count). tests/test_lsp_live.py holds these equal to what a Lowering has: an attribute
# added must be carried by state() and restore(), or said to be fixed.
LOWERING_CARRIED = ("title", "axes", "_defaults", "_scene", "_scene_defaults", "_title_seen", "_axes_seen",
                    "backend", "_backend_seen", "_sequence", "_cast", "_cast_wanted")
LOWERING_FIXED = ("report", "models", "_override", "shots")


def _indent(span: Span) -> str:
    """The whitespace the line of `span` starts with."""
    start, end = span.source.line_bounds(span.line)
    line = span.source.text[start:end]
    return line[: len(line) - len(line.lstrip(" \t\f"))]


_INDENTED_WORD = re.compile(r"([ \t\f]*)(\S+)")


def _keyword_at(source: Source, at: int) -> Span:
    """The first word of the line that starts at `at`: a statement's keyword."""
    found = _INDENTED_WORD.match(source.text, at)
    if found is not None:  # the usual line: its indent, then the word
        return Span(found.end(1), found.end(2), source)
    line_end = source.text.find("\n", at)
    line = source.text[at : len(source.text) if line_end == -1 else line_end]
    indent = len(line) - len(line.lstrip(" \t\f"))
    word = line[indent:].split(None, 1)[0] if line[indent:].strip() else " "
    return Span(at + indent, at + indent + len(word), source)


def _first_span(stmt: ast.Statement) -> Span:
    """The statement's keyword: the first word of its first line."""
    span = stmt.span
    start, end = span.source.line_bounds(span.line)
    line = span.source.text[start:end]
    indent = len(line) - len(line.lstrip(" \t\f"))
    word = line[indent:].split(None, 1)[0] if line[indent:].strip() else " "
    return Span(start + indent, start + indent + len(word), span.source)


# A line with nothing on it (a comment line is masked as `#`, so it is not one).
_BLANK_LINE = re.compile(r"\n[ \t\f\r]*\n")
# A cast member's name: its element's name (at most kling.ELEMENT_NAME_MAX_CHARS characters).
CAST_NAME = re.compile(rf"[A-Za-z][A-Za-z0-9_-]{{0,{kling.ELEMENT_NAME_MAX_CHARS - 1}}}")
# `@keeper` in a prompt: an @ not after a letter, digit or @ (an e-mail address is not a name).
# (Not before another word character either: `@keeperé` is not `@keeper` and an `é`.)
_CAST_REFERENCE = re.compile(r"(?<![\w@])@([A-Za-z][A-Za-z0-9_-]*)(?!\w)")


def cast_references(text: str) -> list[tuple[str, int, int]]:
    """Each `@name` in a prompt: the name, and where the `@name` starts and ends in `text`."""
    return [(m[1], m.start(), m.end()) for m in _CAST_REFERENCE.finditer(text)]


def with_elements(text: str, refs: Sequence[CastRef]) -> str:
    """A prompt as sent: each `@name` of its cast as `<<<element_N>>>`, N its place in the list."""
    if not refs:
        return text
    number = {ref.name.lower(): n for n, ref in enumerate(refs, 1)}

    def element(m: re.Match[str]) -> str:
        n = number.get(m[1].lower())
        return kling.ELEMENT_REFERENCE.format(n) if n is not None else m[0]

    return _CAST_REFERENCE.sub(element, text)


def _within(text: ast.Text, start: int, end: int) -> Span:
    """Where `text.value[start:end]` is written in the source, when it can be found in the
    string as written (escapes and line breaks move things); else the whole string."""
    span = text.span
    written = span.source.text[span.start:span.end]
    piece = text.value[start:end]
    at = written.find(piece)
    return Span(span.start + at, span.start + at + len(piece), span.source) if at >= 0 else span


def _has_error(found: list[Diagnostic]) -> bool:
    return any(d.severity == "error" for d in found)


def _resolve_shot(shot: ast.Shot, scene: str | None, defaults: dict[str, Value[Any]], found: list[Diagnostic],
                  axes: str, models: Matrix, in_sequence: bool = False) -> LoweredShot:
    """One shot lowered; what cannot be given a meaning goes into `found`. In a sequence a shot
    brings only its prompt, camera words and duration: any other option is the sequence's."""
    options = shot.options
    if in_sequence:
        for option in options:
            if option.kind in ("tail", "mask", "motion"):
                found.append(Diagnostic(
                    "E316", f"a shot in a sequence takes no `{option.kind}`", option.span,
                    "a multi-shot request takes no end image, mask or motion: make this a shot of its own, "
                    "after the sequence"))
            elif option.kind == "moves":
                found.append(Diagnostic(
                    "E316", f"`{_written(option)}` is for the whole sequence, not one of its shots", option.span,
                    "a sequence sends every shot's move as words at the start of its prompt: write `moves words` "
                    "or `moves off` on the SEQUENCE line"))
            elif option.kind != "duration":
                found.append(Diagnostic(
                    "E316", f"`{_written(option)}` is for the whole sequence, not one of its shots", option.span,
                    "write it on the SEQUENCE line; a shot in a sequence takes its prompt, its camera "
                    "words and a duration"))
        options = tuple(o for o in options if o.kind == "duration")
    settings = Settings.of({**defaults, **_settings(options, found, in_defaults=False, models=models)})
    motions = [o for o in options if o.kind == "motion"]
    voices = [o for o in options if o.kind == "voice"]
    camera = lower_move(shot.move, found, axes)
    if shot.after is not None:
        if in_sequence:
            found.append(Diagnostic(
                "E316", "a shot in a sequence cannot continue another", shot.after.span,
                "a sequence is one generation: make this a shot of its own after the sequence, or continue the "
                "sequence with a shot after it"))
        else:
            model = models.get(settings.model_name)
            settings.after = Value(shot.after.text, shot.after.span)
            settings.from_frame = not (model is not None and model.omni)
    return LoweredShot(shot, scene, settings, motions, camera, lowered=not _has_error(found), voices=voices,
                        in_sequence=in_sequence)


def _written(option: ast.Option) -> str:
    span = option.value.span if not option.points else option.span
    text = " ".join(span.source.text[span.start:span.end].split())
    row = OPTION_BY_KIND[option.kind]
    return f"{row.keywords[0]} {text}" if row.keywords else text


def _settings(options: tuple[ast.Option, ...], report: list[Diagnostic], *,
              in_defaults: bool, models: Matrix, where: str = "DEFAULTS") -> dict[str, Value[Any]]:
    """The settings a list of options gives, each once, by option kind (Settings' fields)."""
    found: dict[str, Value[Any]] = {}
    for option in options:
        kind = option.kind
        value = _interpret(option, report, models)
        if value is None:
            continue
        if in_defaults and OPTION_BY_KIND[kind].per_shot:
            report.append(Diagnostic(
                "E313", f"`{kind}` cannot be a default" if where == "DEFAULTS" else f"`{kind}` cannot be on a {where}",
                option.span, f"give `{kind}` to each shot that needs it"))
            continue
        if kind in REPEATABLE:
            continue  # a shot may have several; checks.py counts them
        first = found.get(kind)
        if first is not None:
            report.append(Diagnostic(
                "E309", f"{kind} is given twice", option.span,
                f"keep one {kind}; the first is on line {first.span.line}",
                (Related(first.span, f"the first {kind}"),)))
            continue
        found[kind] = value
    return found


# --- each option's lowering rule: its written value to the API's, or None after a diagnostic ---

Rule = Callable[[ast.Option, list[Diagnostic]], "Value[Any] | None"]


def _interpret(option: ast.Option, report: list[Diagnostic], models: Matrix) -> Value[Any] | None:
    """An option's value in API terms, or None after reporting why it has none: by the option's
    own rule in RULES, else by its row in the language table (a quoted text is its value; a word
    from the row's `values` gives that value). A model's name is looked up in `models`."""
    if option.kind == "model":
        assert isinstance(option.value, ast.Word)
        return _model(option.value, report, models)
    rule = RULES.get(option.kind)
    if rule is not None:
        return rule(option, report)
    value = option.value
    if isinstance(value, ast.Text):
        return Value(value.value, value.span)
    bounds = OPTION_BY_KIND[option.kind].bounds
    if bounds is not None:
        return _number(option, bounds, report)
    return _word_value(option, report)


def _word_value(option: ast.Option, report: list[Diagnostic]) -> Value[Any] | None:
    """The value of one of the option's words, from its row of the language table."""
    value = option.value
    assert isinstance(value, ast.Word)
    words = OPTION_BY_KIND[option.kind].values
    assert words is not None, f"option {option.kind} has neither a rule nor value words"
    word = value.text.lower()
    if word not in words:
        choices = either(f"`{w}`" for w in words)
        report.append(Diagnostic(
            "E311", f"{option.kind} is {choices}, not `{value.text}`", value.span,
            did_you_mean(word, words) or "write " + either(f"`{option.kind} {w}`" for w in words)))
        return None
    return Value(words[word], value.span)


def _duration(option: ast.Option, report: list[Diagnostic]) -> Value[Any] | None:
    """Whole seconds (`5s`, `15s`); which ones a model renders, the checks say (by the matrix)."""
    word = option.value
    assert isinstance(word, ast.Word)
    seconds = word.text[:-1]
    if seconds.isascii() and seconds.isdigit() and len(seconds) <= 3 and seconds[0] != "0":  # 5s, 15s
        return Value(seconds, word.span)
    if seconds.isdigit() and int(seconds[:4]) == 0:
        report.append(Diagnostic("E303", f"a clip lasts at least 1s, not {word.text}", word.span,
                                 "write the whole seconds it lasts, such as `5s`"))
        return None
    if not seconds.isdigit() or not 1 <= int(seconds[:4]) <= kling.DURATION_MAX:
        whole = round(float(seconds[:12])) if seconds[:12].replace(".", "", 1).isdigit() else 0
        hint = (f"write `{whole}s`, or another whole number of seconds" if 1 <= whole <= kling.DURATION_MAX
                else "write whole seconds, such as `5s`")
        report.append(Diagnostic("E303", f"Kling renders whole seconds, not {word.text}", word.span, hint))
        return None
    return Value(str(int(seconds)), word.span)


def _aspect(option: ast.Option, report: list[Diagnostic]) -> Value[Any] | None:
    """W:H; which ratios a model renders, the checks say (by the matrix)."""
    word = option.value
    assert isinstance(word, ast.Word)
    width, _, height = word.text.partition(":")
    if int(width[:6]) == 0 or int(height[:6]) == 0 or len(word.text) > ASPECT_MAX_CHARS:
        report.append(Diagnostic(
            "E302", f"aspect ratio {word.text} is not offered", word.span,
            "write width:height, such as `16:9` (`shotlang models` lists each model's ratios)"))
        return None
    return Value(word.text, word.span)


def _mode(option: ast.Option, report: list[Diagnostic]) -> Value[Any] | None:
    """A bare word after the prompt: the only ones are modes."""
    word = option.value
    assert isinstance(word, ast.Word)
    words = OPTION_BY_KIND["mode"].values or {}
    if word.text.lower() in words:
        return Value(words[word.text.lower()], word.span)
    report.append(Diagnostic("E301", f"unknown option `{word.text}`", word.span, option_hint(word.text)))
    return None


def _number(option: ast.Option, bounds: Bounds, report: list[Diagnostic]) -> Value[Any] | None:
    """A number within the option's bounds (its row of the language table): an int if the
    option takes whole numbers, else a float."""
    word = option.value
    assert isinstance(word, ast.Word)
    low, high = bounds.number(bounds.low), bounds.number(bounds.high)
    hint = bounds.hint or f"write {'a whole number' if bounds.whole else 'a number'} from {low} to {high}"
    if bounds.whole and "." in word.text.strip("0").rstrip("."):
        report.append(Diagnostic("E304", f"{option.kind} is a whole number, not {word.text}", word.span, hint))
        return None
    digits = word.text.lstrip("+-").lstrip("0").partition(".")[0]
    number: float = float(word.text) if len(digits) <= 20 else float("inf")
    if not bounds.low <= number <= bounds.high:
        report.append(Diagnostic("E304", f"{option.kind} {word.text} is outside {low} to {high}", word.span, hint))
        return None
    return Value(int(number) if bounds.whole else number, word.span)


def _model(name: ast.Word, report: list[Diagnostic], models: Matrix) -> Value[str] | None:
    if name.text.lower() in models:
        return Value(name.text.lower(), name.span)
    report.append(Diagnostic("E300", f"unknown model `{name.text}`", name.span,
                             model_hint(name.text, models.names(), models.files)))
    # Still the shot's model (and, on a MODEL line, the lines' below): what it renders is not
    # known, so nothing is checked against it, rather than against the default model, which
    # would blame the shot's duration or mode for the typo in the model's name.
    return Value(name.text.lower(), name.span)


# Options whose value needs more than the language table says (a check against the API's values).
RULES: dict[str, Rule] = {"duration": _duration, "aspect": _aspect, "mode": _mode}


# --- moves -----------------------------------------------------------------------------------


def lower_move(
    words: tuple[ast.Word, ...], report: list[Diagnostic], axes: str = "seed"
) -> Camera | None:
    """`slow pan right over` -> pan right at 5. Reports what cannot be read as one move;
    `axes` only says, in a hint, which camera field a move sends."""
    if not words:
        return None
    # How words are read depends on their spelling alone, and a shot list repeats a few dozen
    # spellings of its moves: each is read once (the diagnostics of a failed reading, each time).
    key = tuple([(w.text.lower(), w.is_number) for w in words])
    reading = _READINGS.get(key)
    if reading is None:
        found: list[Diagnostic] = []
        reading = _read_move(words, found)
        if found or reading is None:
            report += found
            return None
        if len(_READINGS) < _READINGS_KEPT:
            _READINGS[key] = reading
    move, first, last, intensities, numbers = reading
    return _strength(move, words[first].span.to(words[last].span), [words[i] for i in intensities],
                     [words[i] for i in numbers], report, axes)


class _Reading(NamedTuple):
    """Which move a shot's words name, and where: indices into its words."""

    move: Move
    first: int  # the move's first and last word
    last: int
    intensities: tuple[int, ...]
    numbers: tuple[int, ...]


_READINGS: dict[tuple[tuple[str, bool], ...], _Reading] = {}
_READINGS_KEPT = 4096  # a generated file of random words keeps no more than this


def _read_move(words: tuple[ast.Word, ...], report: list[Diagnostic]) -> _Reading | None:
    """The one move `words` name, with their strength words; or None after reporting why not."""
    count = len(words)
    if not words[-1].is_number and words[-1].text.lower() in JOINERS:
        count -= 1  # the joiner: "over", "on", ... carries no meaning
    rest = list(words[:count])
    first = 0
    while first < count and not words[first].is_number and words[first].text.lower() in INTENSITIES:
        first += 1
    intensities = tuple(range(first))

    moves: list[tuple[Move, int, int]] = []
    numbers: list[int] = []
    failed = False
    i = first
    while i < count:
        word = words[i]
        low = word.text.lower()
        if word.is_number:
            numbers.append(i)
            i += 1
            continue
        if low in CONNECTORS:
            i += 1
            continue
        for n in range(min(LONGEST_PHRASE, count - i), 0, -1):
            move = PHRASES.get(tuple(w.text.lower() for w in words[i : i + n]))
            if move is not None:
                moves.append((move, i, i + n - 1))
                i += n
                break
        else:
            diagnostic, skip = _unknown_word(rest[first:], i - first)
            report.append(diagnostic)
            failed = True
            i += skip
    if failed:
        return None
    if len(moves) > 1:
        names = " and ".join(f"`{m.name}`" for m, _, _ in moves)
        report.append(Diagnostic(
            "E201", f"{len(moves)} camera movements in one shot: {names}",
            words[moves[0][1]].span.to(words[moves[-1][2]].span),
            "Kling moves the camera along one axis per shot (400 invalid camera config); "
            "split this into one shot per movement"))
        return None
    if not moves:
        what = words[intensities[0] if intensities else numbers[0] if numbers else 0]
        report.append(Diagnostic(
            "E206", f"`{what.text}` but no camera move", what.span,
            'add a move (`slow pan right over "..."`), or leave the words out for a still shot'))
        return None
    move, start, last = moves[0]
    return _Reading(move, start, last, intensities, tuple(numbers))


def _strength(
    move: Move, span: Span, intensities: list[ast.Word], numbers: list[ast.Word],
    report: list[Diagnostic], axes: str,
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
        magnitude = _magnitude(number, move, span, report, axes)
        return None if magnitude is None else Camera(move, magnitude, span, number.span)
    if intensities:
        word = intensities[0]
        return Camera(move, INTENSITIES[word.text.lower()], span, word.span)
    return Camera(move, DEFAULT_MAGNITUDE, span, None)


def _magnitude(number: ast.Word, move: Move, span: Span, report: list[Diagnostic], axes: str) -> Magnitude | None:
    """The magnitude a number after the move gives, or None after reporting why it gives none.

    Read from its digits, not through float() or int(): a float cannot tell `2.34` from
    `2.340000000000000001`, a number of 400 digits is inf, and int() refuses over 4,300 digits."""
    text = number.text
    units_text, _, places = text.lstrip("+-").partition(".")
    units_text = units_text.lstrip("0") or "0"
    places = places.rstrip("0")  # `5.0` is 5, `2.50` is 2.5
    # Past a few digits the number is out of range anyway: no need to read them all.
    units = int(units_text) if len(units_text) <= 6 else 10**6
    zero = units == 0 and not places
    over = units > kling.MAGNITUDE_MAX or (units == kling.MAGNITUDE_MAX and bool(places))
    signed = text[0] in "+-"
    if signed or zero or over:
        hint = f"a magnitude is a number above 0 and at most {kling.MAGNITUDE_MAX}, such as `5` or `2.5`"
        if signed and not (zero or over) and len(places) <= MAGNITUDE_DECIMALS:
            hint = _sign_hint(move, _value(units, places), span, axes)
        elif zero:
            hint = "for no movement leave the move out, or write `static`"
        report.append(Diagnostic(
            "E202", f"magnitude {text} is {'signed' if signed and not (zero or over) else 'out of range'}",
            number.span, hint))
        return None
    if len(places) > MAGNITUDE_DECIMALS:
        # The two numbers of two places either side, the nearer first (0 is not a magnitude).
        from decimal import Decimal  # here: an error's hint, not worth 5 ms of every start-up

        below = Decimal(f"{units}.{places[:MAGNITUDE_DECIMALS]}")
        above = below + Decimal(1).scaleb(-MAGNITUDE_DECIMALS)
        nearer = (above, below) if places[MAGNITUDE_DECIMALS:] >= "5" else (below, above)
        choices = [f"`{format(d.normalize(), 'f')}`" for d in nearer if d > 0]
        report.append(Diagnostic(
            "E203", f"magnitude {text} has more than two decimal places", number.span,
            f"use {either(choices)}"))
        return None
    return _value(units, places)


def _value(units: int, places: str) -> Magnitude:
    """The magnitude `units.places` (trailing zeros already gone): an int when whole."""
    return float(f"{units}.{places}") if places else units


def _opposite(move: Move) -> Move | None:
    """The move that sends the same field with the other sign, under both AXES."""
    for other in MOVES:
        if (move.seed and move.official and other.seed and other.official
                and other.seed == move.seed._replace(sign=-move.seed.sign)
                and other.official == move.official._replace(sign=-move.official.sign)):
            return other
    return None


def _sign_hint(move: Move, magnitude: Magnitude, span: Span, axes: str) -> str:
    """`pan left -6`: say what the direction word already sends, so the fix is right."""
    written = " ".join(span.source.text[span.start : span.end].split()).lower()
    axis = move.axis(axes)
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
    meant = intensity_meant(low) if i > 0 else None
    if meant is not None:  # `pan right slowly`: the strength comes first
        before = " ".join(w.text.lower() for w in words[:i])
        return _unknown(word, f"an intensity word goes first, before the move: `{meant} {before}`"), 1
    return _unknown(word, word_hint(low)), 1


def _unknown(word: ast.Word, hint: str) -> Diagnostic:
    return Diagnostic("E200", f"unknown word `{word.text}`", word.span, hint)


def _text_of(span: Span) -> str:
    return " ".join(span.source.text[span.start : span.end].split())


# --- sequences: a shot's camera words in its prompt, and the shots' durations ----------------


def move_words(shot: LoweredShot) -> str:
    """The camera move as words a prompt can carry, in the writer's own words: `slow pan right`,
    `dutch tilt`. A number becomes the intensity word nearest to it (`pan right 8` -> `fast pan
    right`): a model reads words, not magnitudes."""
    camera = shot.camera
    if camera is None:
        return ""
    source = camera.span.source.text
    words = " ".join(source[camera.span.start:camera.span.end].split()).lower()
    strength = camera.strength_span
    if camera.magnitude is None or strength is None:
        return words
    written = source[strength.start:strength.end].lower()
    if written in INTENSITIES:
        return f"{written} {words}"
    nearest = min(INTENSITIES, key=lambda w: (abs(INTENSITIES[w] - camera.magnitude), INTENSITIES[w]))  # type: ignore[operator]
    return f"{nearest} {words}"


def sequence_timing(sequence: LoweredSequence, report: list[Diagnostic],
                    renders: Sequence[str] = ()) -> tuple[str, list[str]] | None:
    """The sequence's total duration and each shot's, in whole seconds, or None after reporting
    why they cannot be told (`renders`: the durations its model renders, for the hint).

    The total is the SEQUENCE's own duration, else the sum of its shots'. Shots without a
    duration share what the others leave of the total, in whole seconds, the earlier shots taking
    a second more when it does not divide evenly (15s over 4 shots: 4, 4, 4, 3)."""
    shots = sequence.shots
    failed = [s.syntax for s in shots if not _own(s.settings.duration) and _wrote_duration(s.syntax.options)]
    if not shots or failed or (sequence.settings.duration is None and _wrote_duration(sequence.syntax.options)):
        return None  # no shots is E317; a duration that could not be read is E303 already
    own = sequence.settings.duration
    given = [s.settings.duration if _own(s.settings.duration) else None for s in shots]
    spent = sum(int(g.value) for g in given if g is not None)
    missing = [i for i, g in enumerate(given) if g is None]
    name = sequence.syntax.name
    if own is None:
        if missing:
            length = _length_for(spent, len(missing), renders)
            report.append(Diagnostic(
                "E318", f"sequence `{name.text}` has no length", name.span,
                f"give the sequence its length (`SEQUENCE {name.text}: {length}s ...`), "
                "or each of its shots a duration"))
            return None
        return str(spent), [g.value for g in given if g is not None]
    total = int(own.value)
    if not missing:
        if spent != total:
            report.append(Diagnostic(
                "E318", f"the shots of `{name.text}` add up to {spent}s, the sequence is {total}s", own.span,
                f"make the shots' durations add up to {total}s, or write `{spent}s` here"))
            return None
        return own.value, [g.value for g in given if g is not None]
    left = total - spent
    if left < len(missing):
        length = _length_for(spent, len(missing), renders)
        report.append(Diagnostic(
            "E318", f"the sequence is {total}s, and its shots with a duration take {spent}s", own.span,
            f"that leaves {max(left, 0)}s for {len(missing)} shot{'s' * (len(missing) != 1)} without one; "
            f"lengthen the sequence (`{length}s`) or shorten its shots"))
        return None
    share, extra = divmod(left, len(missing))
    durations = [g.value if g is not None else "" for g in given]
    for n, i in enumerate(missing):
        durations[i] = str(share + (1 if n < extra else 0))
    return own.value, durations


def _own(value: Value[str] | None) -> bool:
    return value is not None and not value.inherited


def _wrote_duration(options: tuple[ast.Option, ...]) -> bool:
    return any(o.kind == "duration" for o in options)


def _length_for(spent: int, missing: int, renders: Sequence[str]) -> int:
    """A length a sequence could have: room for its shots without a duration (three seconds
    each if the model renders that long, else one), among the durations its model renders."""
    lengths = sorted(int(d) for d in renders)
    for need in (spent + 3 * missing, spent + missing):
        fits = [n for n in lengths if n >= need]
        if fits or not lengths:
            return fits[0] if fits else need
    return spent + missing
