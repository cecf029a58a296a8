"""The rules of the Kling API and the seed's guidance, checked before anything is paid for.

Each rule reports a diagnostic at the span a writer would edit. Errors mark the shot as not
emittable; warnings (the seed's advice on magnitudes, ignored options) do not.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from . import kling
from . import syntax as ast
from .camera import Sending, cell, choice, excluded, kind_of, prompt, sending, sequence_prompt
from .camera import words as move_sentence
from .diagnostics import Diagnostic, Related, did_you_mean, either
from .images import URL, ImageInfo, ImageStore, NotAnImage, inspect_image, resolve_image
from .language import NAME_MAX_CHARS
from .lower import (
    Lowered,
    LoweredCast,
    LoweredSequence,
    LoweredShot,
    Settings,
    Value,
    move_words,
    sequence_timing,
)
from .models import (
    FEATURE_WORDS,
    Claim,
    Matrix,
    Model,
    built_in,
    claim_text,
    combinations_text,
    durations_text,
    endpoint_key,
    no,
    says,
)
from .source import Span
from .vocabulary import INTENSITIES, JERKY_FROM, NATURAL, STRONG, VISIBLE_FROM

SAFE_NAME = re.compile(rf"[A-Za-z0-9][A-Za-z0-9_-]{{0,{NAME_MAX_CHARS - 1}}}")
WINDOWS_RESERVED = frozenset(
    ["con", "prn", "aux", "nul"] + [f"com{i}" for i in range(1, 10)] + [f"lpt{i}" for i in range(1, 10)]
)
EXTERNAL_ID = re.compile(rf"[A-Za-z0-9_.-]{{1,{kling.EXTERNAL_ID_MAX_CHARS}}}")
SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:(?!\\)")  # `ftp:`, `data:`, but not `C:\`


class Checker:
    """Checks shots one at a time; remembers only their names (for duplicates). `models` is the
    capability matrix the shots are checked against (the built-in one if None)."""

    def __init__(self, base_dir: Path, images: ImageStore, models: Matrix | None = None) -> None:
        self.base_dir = base_dir
        self.images = images
        self.models = models or built_in()
        self.seen: dict[str, ast.Word] = {}
        self.runs = [registered.run for registered in SHOT_CHECKS]
        # The model checks' inputs of shots that passed them (_model): a shot list repeats a few
        # combinations of model, mode, duration and features, each checked once.
        # The disputes they relied on are kept with them, by the index of the use.
        self.passed: dict[tuple[Any, ...], list[tuple[int, str, str]]] = {}

    def check(self, item: Lowered, axes: str) -> list[Diagnostic]:
        """What the rules say about one shot, sequence or cast member: its diagnostics, in the
        order found (the shot checks registered below, in their order)."""
        if isinstance(item, LoweredSequence):
            return self._check_sequence(item)
        if isinstance(item, LoweredCast):
            return self._check_cast(item)
        model = self.models.get(item.settings.model_name)
        looking = Looking(item, sending(item, model), model, self, axes, [])
        for run in self.runs:
            run(looking)
        return looking.report

    def _check_cast(self, cast: LoweredCast) -> list[Diagnostic]:
        """A cast member's images, by the rules of a shot's image (E310, E500-E506)."""
        found: list[Diagnostic] = []
        if cast.image is not None:
            _check_image("front image", cast.image, self.base_dir, self.images, found)
        for other in cast.syntax.also:
            _check_image("cast image", other, self.base_dir, self.images, found)
        return found

    def _check_sequence(self, sequence: LoweredSequence) -> list[Diagnostic]:
        found: list[Diagnostic] = []
        _check_name(sequence.syntax.name, self.seen, found)
        settings = sequence.settings
        for kind in ("tail", "mask"):
            value = getattr(settings, kind)
            if value is not None and not value.inherited:
                found.append(Diagnostic("E316", f"a multi-shot sequence takes no `{kind}`", value.span,
                                        "the API's multi-shot requests take a start image at most; "
                                        "make this a shot of its own"))
        aspect = settings.aspect
        if aspect is not None and not aspect.inherited and settings.to_image:
            found.append(Diagnostic("E404", "an image sequence takes its aspect ratio from the image", aspect.span,
                                    f"remove `{aspect.value}`"))
        _check_images(settings, [], self.base_dir, self.images, found)
        _check_request_options(settings, found)
        _check_takes(settings, found)
        _check_omni(settings, self.models.get(settings.model_name), found, voices=sequence.voices, tail=False)
        _check_id(settings, self.seen, found)
        for option in sequence.syntax.options:
            if option.kind == "motion":
                found.append(Diagnostic("E316", "a multi-shot sequence takes no `motion`", option.span,
                                        "make this a shot of its own"))
        shots = sequence.shots
        moves = settings.moves
        if moves is not None and not moves.inherited and moves.value in ("numeric", "both"):
            found.append(Diagnostic("E316", f"a sequence cannot send its moves `{moves.value}`", moves.span,
                                    "the API takes no camera control per shot of a multi-shot request: write "
                                    "`moves words` (each move at the start of its shot's prompt) or `moves off`"))
        sequence.prompts = [sequence_prompt(shot, settings) for shot in shots]
        facts, ratio = _FACTS + sequence.name.lower(), _aspect_of(settings)
        if ratio != kling.DEFAULT_ASPECT and facts not in self.seen:
            self.seen[facts] = ast.Word(ratio, sequence.syntax.name.span)
        for shot, sent in zip(shots, sequence.prompts, strict=True):
            _check_name(shot.syntax.name, self.seen, found)
            if _MEMBER + shot.name.lower() not in self.seen:
                self.seen[_MEMBER + shot.name.lower()] = ast.Word(sequence.name, shot.syntax.name.span)
            _check_texts(shot, found, limit=kling.MULTI_PROMPT_MAX_CHARS, sent=sent)
        if not kling.MULTI_SHOT_MIN <= len(shots) <= kling.MULTI_SHOT_MAX:
            span = shots[kling.MULTI_SHOT_MAX].syntax.name.span if shots else sequence.syntax.name.span
            found.append(Diagnostic(
                "E317", f"a sequence of {len(shots)} shot{'s' * (len(shots) != 1)}", span,
                f"a multi-shot generation has {kling.MULTI_SHOT_MIN} to {kling.MULTI_SHOT_MAX} shots; "
                + ("indent SHOT lines under the SEQUENCE line" if not shots else "split it into two sequences")))
        model = self.models.get(settings.model_name)
        timing = sequence.timing = sequence_timing(sequence, found, model.durations if model else ())
        if timing is not None:
            total, _ = timing
            uses = [Use("multi_shot", None, sequence.syntax.name.span), *_uses_of_settings(settings, sequence.voices)]
            own = settings.duration
            _check_model(settings, uses, sequence.syntax.name.span, self.models, found, duration=total,
                         duration_span=own.span if own is not None else None)
        _check_voices(sequence.voices, [s.prompt for s in shots], settings, found)
        for shot in shots:
            camera = shot.camera
            # Said unless the sequence asks for its moves as words, or none (a `moves numeric`
            # from DEFAULTS or a SCENE is for single shots: here they still go as words).
            if camera is not None and choice(settings) not in ("words", "off") and not camera.move.is_static:
                found.append(Diagnostic(
                    "W107", f"`{move_words(shot)}` is sent as words in the prompt", camera.span,
                    "the API takes no camera control per shot in a sequence, so the prompt starts "
                    f"\"{move_sentence(camera)} ...\"; write `moves words` on the SEQUENCE line to keep "
                    "this quietly, or `moves off` to leave the moves out"))
        return found


# --- the checks of a single shot: each registers itself with the codes it gives --------------


@dataclass(slots=True)
class Looking:
    """What every check of one shot sees, and where it reports."""

    shot: LoweredShot
    how: Sending  # how its camera move is sent
    model: Model | None
    checker: Checker  # the names and ids seen so far, the folder, the images, the matrix
    axes: str
    report: list[Diagnostic]
    disputes: list[tuple[str, Span, str]] | None = None  # what the matrix's sources dispute, found by `model`


class ShotCheck(NamedTuple):
    name: str
    codes: frozenset[str]  # every code it may give (tests/test_checks_registry.py holds them to checks.py)
    run: Callable[[Looking], None]


# Run in the order registered (the order of the diagnostics of one shot).
SHOT_CHECKS: list[ShotCheck] = []


def shot_check(*codes: str) -> Callable[[Callable[[Looking], None]], Callable[[Looking], None]]:
    """Register a check of single shots with the codes it gives."""
    def register(run: Callable[[Looking], None]) -> Callable[[Looking], None]:
        SHOT_CHECKS.append(ShotCheck(run.__name__.strip("_"), frozenset(codes), run))
        return run
    return register


@shot_check("E307", "E308", "E414")
def _name(at: Looking) -> None:
    """The shot's name; `after NAME`: a shot above, whole (not one of a sequence's), of the
    same aspect ratio, and what the continuing request cannot carry beside it. Then the
    aspect ratio this shot renders in, for those that continue it, where it is not the default
    (kept in `seen`, beside the names, under a key no name can have)."""
    shot = at.shot
    name = shot.syntax.name
    seen = at.checker.seen
    _check_name(name, seen, at.report)
    settings = shot.settings
    if settings.after is None and settings.aspect is None and not settings.to_image:
        return  # the usual shot: the default ratio, which a shot that continues it assumes
    aspect = _aspect_of(settings)
    if settings.after is not None:
        aspect = _check_after(shot, settings.after, seen, aspect, at.report)
    key = _FACTS + name.text.lower()
    if aspect != kling.DEFAULT_ASPECT and key not in seen:
        seen[key] = ast.Word(aspect, name.span)


@shot_check("E305", "E306")
def _texts(at: Looking) -> None:
    _check_texts(at.shot, at.report, sent=prompt(at.shot, at.how))


@shot_check("E302", "E303", "E401", "E402", "E406", "E407", "E408", "E409", "E410", "W104")
def _model(at: Looking) -> None:
    shot, model = at.shot, at.model
    at.disputes = [] if model is not None and model.contested else None
    settings, uses = shot.settings, _uses(shot, at.how)
    # Everything _check_model reads but the places it would point at.
    key = (settings.model_name, settings.to_image, settings.mode and settings.mode.value,
           settings.duration and settings.duration.value, settings.aspect and settings.aspect.value,
           tuple((u.feature, u.kind, u.off, u.chosen) for u in uses))
    passed = at.checker.passed
    disputes = at.disputes
    known = passed.get(key)
    if known is not None:  # no diagnostic; the same disputes relied on, by the same uses
        if disputes is not None:
            disputes += ((feature, uses[i].span, said) for i, feature, said in known)
        return
    count = len(at.report)
    _check_model(settings, uses, shot.syntax.name.span, at.checker.models, at.report, disputes=disputes)
    if len(at.report) == count:
        spans = [u.span for u in uses]
        passed[key] = [(spans.index(span), feature, said) for feature, span, said in disputes or ()]


@shot_check("W108")
def _disputes(at: Looking) -> None:
    if at.disputes is not None:
        assert at.model is not None
        _check_disputes(at.model, at.shot, at.how, at.disputes, at.report)


@shot_check("E400", "E403", "E404")
def _groups(at: Looking) -> None:
    _check_groups(at.shot, at.how, at.report)


@shot_check("E405", "E306", "E310", "E314", "E415")
def _options(at: Looking) -> None:
    _check_options(at.shot, at.report)
    if at.shot.settings.more:  # takes and pick live there
        _check_takes(at.shot.settings, at.report)


@shot_check("E320")
def _id(at: Looking) -> None:
    _check_id(at.shot.settings, at.checker.seen, at.report)


@shot_check("E409")
def _voices(at: Looking) -> None:
    _check_voices(at.shot.voices, [at.shot.prompt], at.shot.settings, at.report)


@shot_check("E310", "E500", "E501", "E502", "E503", "E504", "E505", "E506", "E507", "W110")
def _images(at: Looking) -> None:
    settings = at.shot.settings
    if settings.image is None and settings.tail is None and settings.mask is None and not at.shot.motions:
        return  # most shots: no file to look at
    _check_images(at.shot.settings, at.shot.motions, at.checker.base_dir, at.checker.images, at.report)


@shot_check("E411", "E412")
def _omni(at: Looking) -> None:
    if at.model is None or not at.model.omni:
        return  # most shots: nothing to build the call for
    _check_omni(at.shot.settings, at.model, at.report, motions=at.shot.motions, voices=at.shot.voices,
                camera=at.shot.camera.span if at.how.numeric and at.shot.camera is not None else None)


@shot_check("E413")
def _cast(at: Looking) -> None:
    if at.shot.cast:
        _check_cast_use(at.shot, at.model, at.checker.models, at.report)


@shot_check("W100", "W101", "W102", "W103")
def _strength(at: Looking) -> None:
    _check_strength(at.shot, at.axes, at.how, at.report)


# A multi-shot SEQUENCE is checked as one (Checker._check_sequence), with the same helpers; the
# codes only it gives:
SEQUENCE_CODES = frozenset({"E316", "E317", "W107"})


def _where(value: Value[Any]) -> str:
    return f" (set on line {value.span.line})" if value.inherited else ""


def _named(model: Value[str] | None) -> str:
    """After a model's name in a message: where it was set, if not on this line."""
    return _where(model) if model is not None else " (shotlang's default)"


# What a shot or sequence above says to one that continues it, in Checker.seen under this prefix
# and its name: the aspect ratio it renders in ("" when an image gives it), where it is not the
# default; and under _MEMBER and the name of a sequence's shot, the sequence's name (such a shot
# is no video of its own; its name is in `seen` as any shot's).
_FACTS = "\0shot:"
_MEMBER = "\0member:"


def _aspect_of(settings: Settings) -> str:
    """The aspect ratio a request renders in, when its settings say it ("" when an image does)."""
    if settings.to_image:
        return ""
    return settings.aspect.value if settings.aspect is not None else kling.DEFAULT_ASPECT


def _check_after(shot: LoweredShot, after: Value[str], seen: dict[str, ast.Word], aspect: str,
                 report: list[Diagnostic]) -> str:
    """E414 for `after NAME`; the aspect ratio of this shot, as the one it continues gives it."""
    name = after.value
    key = name.lower()
    if key == shot.name.lower():
        report.append(Diagnostic("E414", f"`{shot.name}` cannot continue itself", after.span,
                                 "name the shot above that this one follows"))
        return aspect
    member = _MEMBER + key
    if member in seen:
        sequence = seen[member].text
        report.append(Diagnostic(
            "E414", f"`{name}` is a shot of the sequence `{sequence}`, which is one video", after.span,
            f"continue the sequence: `after {sequence}`"))
        return aspect
    if key not in seen:
        names = [k for k in list(seen) if not k.startswith("\0")]
        guess = did_you_mean(name, names)
        report.append(Diagnostic(
            "E414", f"no shot `{name}` above this one to continue", after.span,
            guess or "`after` continues a shot above it: write the shot it follows first (a shot list reads in "
                     "story order, so a chain of shots can never loop)"))
        return aspect
    facts = _FACTS + key
    before = seen[facts].text if facts in seen else kling.DEFAULT_ASPECT
    settings = shot.settings
    if settings.from_frame:
        if settings.image is not None:
            report.append(Diagnostic(
                "E414", f"`{shot.name}` starts from the last frame of `{name}`: it takes no start image",
                settings.image.span, "remove `image`, or remove `after` to start from this image"))
        return before or aspect
    # Continued by its video (the omni endpoint's video reference).
    if aspect and before and aspect != before:
        at = settings.aspect.span if settings.aspect is not None else after.span
        report.append(Diagnostic(
            "E414", f"`{shot.name}` is {aspect}, `{name}` (which it continues) is {before}", at,
            f"give both one aspect ratio: write `{before}` on this shot, or change `{name}`"))
    sound = settings.sound
    if sound is not None and sound.value == "on":
        report.append(Diagnostic(
            "E414", f"`{shot.name}` continues `{name}` by its video, and takes no sound then{_where(sound)}",
            sound.span, "Kling turns sound off whenever a video is given: remove `sound on`"))
    return aspect


def takes_of(settings: Settings) -> tuple[int, int]:
    """How many takes a shot or sequence asks for, and which one is chosen (1 and 1 by default)."""
    takes, pick = settings.more.get("takes"), settings.more.get("pick")
    return (takes.value if takes is not None else 1), (pick.value if pick is not None else 1)


def _check_takes(settings: Settings, report: list[Diagnostic]) -> None:
    """E415: a pick among the takes there are; no own `id` for several takes (one task per id)."""
    takes, pick = takes_of(settings)
    chosen = settings.more.get("pick")
    if chosen is not None and pick > takes:
        report.append(Diagnostic(
            "E415", f"take {pick} is chosen, but the shot has {takes} take{'s' * (takes != 1)}", chosen.span,
            f"write `takes {pick}` too (a take `--force` added is one of them), or pick 1 to {takes}"))
    own = settings.id
    if own is not None and takes > 1:
        where = settings.more["takes"]
        report.append(Diagnostic(
            "E415", f"`id` names one task, and the shot has {takes} takes{_where(where)}", own.span,
            "remove `id` (shotlang gives each take an id of its own), or make one take"))


def _check_name(name: ast.Word, seen: dict[str, ast.Word], report: list[Diagnostic]) -> None:
    key = name.text.lower()
    if not SAFE_NAME.fullmatch(name.text):
        bad = next((c for c in name.text if not (c.isascii() and (c.isalnum() or c in "-_"))), None)
        why = (f"`{bad}` is not allowed" if bad else
               "it must start with a letter or digit" if name.text[0] in "-_" else
               f"it is longer than {NAME_MAX_CHARS} characters")
        safe = re.sub(r"[^A-Za-z0-9_-]+", "-", name.text).strip("-_")[:NAME_MAX_CHARS] or "shot"
        report.append(Diagnostic("E308", f"shot name `{name.text}` is not safe as a file name: {why}",
                                 name.span, f"use letters a-z, digits, `-` and `_`, e.g. `{safe}`"))
    elif key in WINDOWS_RESERVED:
        report.append(Diagnostic("E308", f"`{name.text}` is a file name Windows reserves",
                                 name.span, f"use another name, e.g. `{name.text}-shot`"))
    if key in seen:
        first = seen[key]
        report.append(Diagnostic("E307", f"a shot named `{first.text}` is already on line {first.span.line}",
                                 name.span, "give each shot its own name (case is ignored)",
                                 (Related(first.span, f"`{first.text}` is first named here"),)))
    else:
        seen[key] = name


def _check_texts(shot: LoweredShot, report: list[Diagnostic], limit: int = kling.TEXT_MAX_CHARS,
                 sent: str | None = None) -> None:
    """The prompt: not empty (but for an image shot), and at most `limit` characters as sent
    (`sent`: with a sequence shot's camera words)."""
    prompt = shot.prompt
    if not prompt.value.strip() and not shot.settings.to_image:
        report.append(Diagnostic("E305", "the prompt is empty", prompt.span,
                                 "say what the shot shows; only image shots may leave it empty"))
    _check_length("prompt", prompt, sent if sent is not None else prompt.value, limit,
                  " in a sequence" if shot.in_sequence else "", report)


def _check_length(label: str, text: ast.Text | Value[str], sent: str, most: int, where: str,
                  report: list[Diagnostic]) -> None:
    if len(sent) > most:
        added = len(sent) - len(text.value)
        what = f" with its camera words ({added} characters)" if added else ""
        report.append(Diagnostic(
            "E306", f"the {label} is {len(sent):,} characters long{what}", text.span,
            f"the API takes at most {most:,}{where}; cut {len(sent) - most:,}"))


class Use(NamedTuple):
    """A feature of the matrix a request uses: the camera (of a type), an end image, sound..."""

    feature: str
    kind: str | None  # the camera_control type, for the camera
    span: Span
    label: str = ""  # what the writer wrote, when it says more than the feature's name
    off: bool = False  # `sound off`: asks for no sound, but the field is still sent
    chosen: bool = False  # the writer asked for it to be sent (`moves numeric`): any source's word will do


def _uses(shot: LoweredShot, how: Sending) -> list[Use]:
    uses = []
    camera = shot.camera
    if camera is not None and not camera.move.is_static and how.numeric:
        uses.append(Use("camera", kind_of(camera), camera.span, f"`{camera.move.name}`",
                        chosen=choice(shot.settings) != "auto"))
    settings = shot.settings
    if settings.tail is not None:
        uses.append(Use("image_tail", None, settings.tail.span))
    masks = [settings.mask.span] if settings.mask is not None else []
    masks += [m.span for m in shot.motions]
    if masks:
        uses.append(Use("masks", None, min(masks, key=lambda s: s.start)))
    return uses + _uses_of_settings(settings, shot.voices)


def _uses_of_settings(settings: Settings, voices: list[ast.Option]) -> list[Use]:
    uses = []
    if settings.sound is not None:
        uses.append(Use("sound", None, settings.sound.span, off=settings.sound.value == "off"))
    if voices:
        uses.append(Use("voice", None, voices[0].span))
    if settings.cfg is not None:
        uses.append(Use("cfg", None, settings.cfg.span))
    return uses


def _check_model(settings: Settings, uses: list[Use], name_span: Span, matrix: Matrix, report: list[Diagnostic],
                 duration: str | None = None, duration_span: Span | None = None,
                 disputes: list[tuple[str, Span, str]] | None = None) -> None:
    """The shot's model, endpoint, mode, duration and aspect ratio, and every feature it uses,
    against the capability matrix: the exact combination refused, and the nearest that works.
    Into `disputes`, if given: (feature, where, what the sources say) for each feature the shot
    relies on that they disagree about (W108)."""
    model = matrix.get(settings.model_name)
    if model is None:
        return  # an unknown model was reported where it was named
    given = settings.model
    span = given.span if given and not given.inherited else name_span
    endpoint = model.endpoint_for(settings.to_image)
    multi_shot = any(use.feature == "multi_shot" for use in uses)
    if settings.to_image and not model.image2video:
        report.append(Diagnostic("E402", f"{model.name}{_named(given)} does not do image-to-video", span,
                                 f"pick a model that does, such as {_models(matrix.offering_endpoint('image2video'))}"))
        return
    if not settings.to_image and not model.text2video:
        others = [m for m in matrix.offering_endpoint("text2video")
                  if not multi_shot or matrix.models[m].combinations("multi_shot", kling.TEXT2VIDEO)]
        such = f" such as `model {others[-1]}`" if others else ""
        report.append(Diagnostic(
            "E402", f"{model.name}{_named(given)} is image-to-video only, and this "
                    f"{'sequence' if multi_shot else 'shot'} has no image", span,
            f'give it a start image (`image "start.jpg"`), or pick a text-to-video model{such}'))
        return
    mode = settings.mode_at(endpoint)
    seconds = duration or (settings.duration.value if settings.duration else kling.DEFAULT_DURATION)
    refused = False
    if mode not in model.modes:
        at = settings.mode.span if settings.mode else span
        report.append(Diagnostic("E408", f"{model.name}{_named(given)} has no {mode} mode", at,
                                 f"{model.name} offers {either(f'`{m}`' for m in model.modes)}"))
        refused = True
    if seconds not in model.durations:
        at = duration_span or (settings.duration.span if settings.duration and duration is None else span)
        others = [m.name for m in matrix.models.values()
                  if seconds in m.durations and endpoint_key(endpoint) in m.endpoints]
        also = f"; {_models(others)} render{'s' * (len(others) == 1)} {seconds}s" if others else ""
        report.append(Diagnostic(
            "E303", f"{model.name}{_named(given)} has no {seconds}s clips", at,
            f"{model.name} renders {durations_text(model.durations)}{also}"))
        refused = True
    aspect = settings.aspect
    if aspect is not None and not settings.to_image and aspect.value not in model.aspect_ratios:
        report.append(Diagnostic("E302", f"{model.name}{_named(given)} has no aspect ratio {aspect.value}", aspect.span,
                                 f"{model.name} renders {', '.join(model.aspect_ratios)}"))
        refused = True
    for use in uses:
        # In a combination the model does not offer, only what it offers nowhere is said now.
        if not refused or not model.combinations(use.feature, endpoint, use.kind):
            _check_use(model, given, use, endpoint, mode, seconds, matrix, report, disputes)
    if not refused:
        _check_together(model, uses, endpoint, mode, seconds, report)


def _check_together(model: Model, uses: list[Use], endpoint: str, mode: str, seconds: str,
                    report: list[Diagnostic]) -> None:
    """Features a model offers only apart (kling-v2-6 renders an end frame without sound)."""
    if len(uses) < 2:
        return
    for use in uses:
        if use.off or not model.offers(use.feature, endpoint, mode, seconds, use.kind):
            continue
        excluded = model.excludes(use.feature, endpoint, mode, seconds, use.kind)
        for other in uses:
            if other.feature in excluded and not other.off:
                source = claim_text(model.features[use.feature].answer)
                report.append(Diagnostic(
                    "E407", f"{model.name} takes {FEATURE_WORDS[use.feature]} only without "
                    f"{FEATURE_WORDS[other.feature]}", other.span,
                    f"{source}; make it two shots, or drop `{other.feature}`"))


# The codes of the features with one of their own; the others are E407.
_FEATURE_CODES = {"camera": "E401", "sound": "E406", "voice": "E409", "cfg": "E410"}


def _check_use(model: Model, given: Value[str] | None, use: Use, endpoint: kling.Endpoint, mode: str, seconds: str,
               matrix: Matrix, report: list[Diagnostic], disputes: list[tuple[str, Span, str]] | None = None) -> None:
    feature = use.feature
    offer = model.features[feature]
    label = f" ({use.label})" if use.label else ""
    code = _FEATURE_CODES.get(feature, "E407")
    if use.off:
        # `sound off` asks for nothing, but a model without sound refuses the field itself.
        if not any(model.combinations("sound", endpoint)):
            others = [m for m in matrix.offering("sound", endpoint) if m != model.name]
            report.append(Diagnostic(code, f"{model.name}{_named(given)} makes no sound", use.span,
                                     f"remove `sound off`; sound is offered by {_models(others)}"))
        return
    takes = model.offers(feature, endpoint, mode, seconds, use.kind)
    if takes or (use.chosen and model.offered_by_any(feature, endpoint, mode, seconds, use.kind)):
        if offer.ignored and takes:
            report.append(Diagnostic("W104", f"{model.name} ignores {FEATURE_WORDS[feature]}", use.span,
                                     f"remove `{feature}`; {_models(matrix.offering(feature))} use it"))
        if disputes is not None:  # sent on one source's word: is it disputed?
            said = _dispute_of(model, feature, endpoint, mode, seconds, use.kind)
            if said:
                disputes.append((feature, use.span, said))
        return
    combos = model.combinations(feature, endpoint, use.kind)
    if not combos:
        others = [m for m in matrix.offering(feature, endpoint) if m != model.name]
        kind = f" in {endpoint_key(endpoint)}" if any(model.combinations(feature, e) for e in kling.ENDPOINTS) else ""
        offered = (f"{_models(others)} offer{'s' * (len(others) == 1)} {FEATURE_WORDS[feature]}{kind}"
                   if others else "no model here offers it")
        instead = "make its shots shots of their own" if feature == "multi_shot" else "drop it"
        hint = (f"remove `{feature}`: {model.name} refuses it; {offered}" if feature == "cfg" else
                f"{offered}: use `model {others[-1]}`, or {instead}" if others else f"{instead}; {offered}")
        if feature == "camera" and use.kind != "simple" and model.combinations(feature, endpoint, "simple"):
            hint = f"{model.name} takes simple moves (pan, tilt, zoom, ...) only; " + hint
        if feature == "camera":
            hint = "write `moves words` to put the move into the prompt, which every model reads; or " + hint
        why = next((c.note for c in offer.conditions if c.note), offer.note)
        if why:
            source = next((c.source for c in offer.conditions if c.note == why), offer.source)
            hint = f"{why}{f' ({source})' if source else ''}; {hint}"
        hint += _disputed(model, feature, endpoint, mode, seconds, use.kind)
        report.append(Diagnostic(code, f"{model.name}{_named(given)} has {no(feature)}{label}{kind}", use.span, hint))
        return
    words = "; or write `moves words` to put the move into the prompt" if feature == "camera" else ""
    report.append(Diagnostic(
        code, f"{model.name}{_named(given)} has {no(feature)}{label} in {mode} mode at {seconds}s", use.span,
        f"{model.name} takes {FEATURE_WORDS[feature]} in {combinations_text(model, feature, endpoint, use.kind)} "
        f"only: {_nearest(combos, mode, seconds)}{words}{_disputed(model, feature, endpoint, mode, seconds, use.kind)}"))


def _disputed(model: Model, feature: str, endpoint: str, mode: str, seconds: str, kind: str | None) -> str:
    """After a refusal's hint: the sources that say otherwise, and how to settle it."""
    others = model.disputed(feature, endpoint, mode, seconds, kind)
    if not others:
        return ""
    believed = claim_text(model.features[feature].answer)
    verb = "say" if len(others) > 1 else says(others[0])
    return (f" ({believed} is believed; {' and '.join(claim_text(c) for c in others)} {verb} "
            f"it is offered: once a render shows it, settle it with `source = \"verified\"` in shotlang-models.toml)")


def _nearest(combos: list[tuple[str, str]], mode: str, seconds: str) -> str:
    """The smallest edit that makes the combination one the model offers."""
    same_duration = [m for m, d in combos if d == seconds]
    if same_duration:
        return f"add `{same_duration[0]}`"
    same_mode = sorted((abs(int(d) - int(seconds)), d) for m, d in combos if m == mode)
    if same_mode:
        return f"write `{same_mode[0][1]}s`"
    m, d = min(combos, key=lambda c: abs(int(c[1]) - int(seconds)))
    return f"add `{m}` and write `{d}s`"


def _models(names: list[str]) -> str:
    return either(f"`{n}`" for n in names[-3:]) if names else "no model"


def _check_disputes(model: Model, shot: LoweredShot, how: Sending, disputes: list[tuple[str, Span, str]],
                    report: list[Diagnostic]) -> None:
    """W108 where the shot relies on a cell the sources disagree about: a feature it uses
    (`disputes`, from _check_model), or its camera move that `moves auto` sends as words on the
    believed source's word. compiler.conclude makes them one warning per shot list."""
    camera = shot.camera
    if how.how == "words" and camera is not None and not camera.move.is_static and choice(shot.settings) == "auto" \
            and not excluded(shot):  # words for the model's sake, not for an end frame's
        said = _dispute_of(model, "camera", *cell(shot.settings, model), kind_of(camera))
        if said:
            disputes.append(("camera", camera.span, said))
    if disputes:
        # `<feature> on <model>: <claims>`, joined by `; `: compiler.conclude gathers them.
        of_camera = any(feature == "camera" for feature, _, _ in disputes)
        report.append(Diagnostic("W108", "; ".join(said for _, _, said in disputes), disputes[0][1],
                                 DISPUTE_HINT_CAMERA if of_camera else DISPUTE_HINT))


def _dispute_of(model: Model, feature: str, endpoint: str, mode: str, seconds: str, kind: str | None) -> str:
    """What _dispute says of a cell, worked out once per model and cell (asked of every shot)."""
    return model.kept(("W108", feature, endpoint, mode, seconds, kind), _dispute, model, feature, endpoint, mode,
                      seconds, kind)


_SETTLE = ("a claim with `source = \"verified\"` in shotlang-models.toml once a render has shown what the model "
           "does (`shotlang models` shows every disputed cell)")


def _dispute(model: Model, feature: str, endpoint: str, mode: str, seconds: str, kind: str | None) -> str:
    """`<feature> on <model>: <claims>` where the sources disagree about this cell, else ""."""
    others = model.disputed(feature, endpoint, mode, seconds, kind)
    said = model.offers(feature, endpoint, mode, seconds, kind)
    if not others or (not said and feature != "camera"):
        return ""  # agreed; or refused (an error that names the other claims)
    believed = model.features[feature].answer
    return (f"{FEATURE_WORDS[feature]} on {model.name}: {_says(believed, said)}, "
            + ", ".join(_says(c, not said) for c in others))


DISPUTE_HINT = f"shotlang believes the first source named; settle it with {_SETTLE}"
DISPUTE_HINT_CAMERA = ("shotlang believes the first source named; settle it: `moves words` for a camera move (in "
                       f"the prompt, which every model reads), or {_SETTLE}")


def _says(claim: Claim, offered: bool) -> str:
    return f"{claim_text(claim)} {'yes' if offered else 'no'}"


def _check_groups(shot: LoweredShot, how: Sending, report: list[Diagnostic]) -> None:
    """camera_control, image_tail and masks exclude each other (the seed and the API docs); a
    move sent as words is not camera_control."""
    groups: list[tuple[str, Span]] = []
    if shot.camera is not None and not shot.camera.move.is_static and how.numeric:
        groups.append((f"a camera move `{shot.camera.move.name}`", shot.camera.span))
    settings = shot.settings
    if settings.tail is not None:
        groups.append(("an end image (tail)", settings.tail.span))
    masks = [settings.mask.span] if settings.mask is not None else []
    masks += [m.span for m in shot.motions]
    if masks:
        groups.append(("masks", min(masks, key=lambda s: s.start)))
    if len(groups) > 1:
        groups.sort(key=lambda g: g[1].start)
        (first, _), (second, span) = groups[0], groups[1]
        report.append(Diagnostic(
            "E400", f"{second} cannot be combined with {first}", span,
            "the API takes one of: a camera move, an end image, or masks; split the shot, or write "
            "`moves words` to put the move into the prompt instead"))
    if masks and settings.image is None:
        report.append(Diagnostic(
            "E403", "masks need a start image in the same shot", masks[0],
            'add `image "start.jpg"`; a mask marks parts of that image'))
    aspect = settings.aspect
    if aspect is not None and not aspect.inherited and shot.settings.to_image:
        report.append(Diagnostic(
            "E404", "a shot that continues another takes its aspect ratio from that shot's last frame"
            if settings.from_frame and settings.image is None else "an image shot takes its aspect ratio from the image",
            aspect.span, f"remove `{aspect.value}`"))


def _check_omni(settings: Settings, model: Model | None, report: list[Diagnostic], *,
                motions: Sequence[ast.Option] = (), voices: Sequence[ast.Option] = (), camera: Span | None = None,
                tail: bool = True) -> None:
    """What a request to the omni endpoint cannot carry, whatever a model's row says (its body has
    no such field: kling.OMNI_WITHOUT): a negative prompt, and, where the row would let them
    through (a models file's omni model, a `verified` claim), cfg, a numeric camera move, masks
    and voices; and an end frame without a start frame."""
    if model is None or not model.omni or model.endpoint_for(settings.to_image) != kling.OMNI_VIDEO:
        return
    endpoint, mode, seconds = cell(settings, model)
    negative = settings.negative
    if negative is not None:
        report.append(Diagnostic(
            "E411", f"{model.name} takes no negative prompt{_where(negative)}", negative.span,
            "its requests go to the omni endpoint, which has no negative_prompt: say what to avoid in the "
            "prompt, or pick another model"))
    found: list[tuple[str, str, Span]] = []  # (feature, what, where) the row did not refuse already
    if settings.cfg is not None:
        found.append(("cfg", "cfg", settings.cfg.span))
    if camera is not None:
        found.append(("camera", "camera control", camera))
    mask = settings.mask.span if settings.mask is not None else motions[0].span if motions else None
    if mask is not None:
        found.append(("masks", "masks", mask))
    if voices:
        found.append(("voice", "voices", voices[0].span))
    for feature, what, span in found:
        if model.offers(feature, endpoint, mode, seconds):
            report.append(Diagnostic(
                "E411", f"{model.name} takes no {what} here", span,
                f"its requests go to the omni endpoint, which has no field for {what}: remove it"
                + (", or write the move as words (`moves words`)" if feature == "camera" else "")))
    if tail and settings.tail is not None and settings.image is None:
        report.append(Diagnostic(
            "E412", f"{model.name} takes an end frame only with a start frame", settings.tail.span,
            'give the shot its start frame too (`image "start.png"`), or make the end frame the start'))


def _check_cast_use(shot: LoweredShot, model: Model | None, matrix: Matrix, report: list[Diagnostic]) -> None:
    """A shot that names its cast: on a cell that takes elements (the matrix's `elements`), and
    no more of them than a request takes (fewer with a start frame)."""
    first = shot.cast[0].span
    if model is None:
        return  # an unknown model was reported where it was named
    settings = shot.settings
    endpoint, mode, seconds = cell(settings, model)
    if not model.offers("elements", endpoint, mode, seconds):
        takers = matrix.offering("elements")
        image_takers = [m for m in takers if matrix.models[m].combinations("elements", kling.IMAGE2VIDEO)]
        anywhere = model.anywhere("elements")
        if anywhere and not settings.to_image and model.combinations("elements", kling.IMAGE2VIDEO):
            hint = (f'{model.name} takes elements in image-to-video: give the shot a start image (`image "…"`)'
                    + (f", or use {_models([m for m in takers if m not in image_takers])}"
                       if set(takers) - set(image_takers) else ""))
        elif anywhere:
            hint = f"{model.name} takes elements in {combinations_text(model, 'elements', endpoint, None)} only"
        else:
            hint = (f"pick a model that takes them: {_models(takers)}" if takers
                    else "no model here takes elements")
        why = _disputed(model, "elements", endpoint, mode, seconds, None)
        where = f" in {endpoint_key(endpoint)}" if anywhere else ""
        report.append(Diagnostic("E413", f"{model.name}{_named(settings.model)} takes no cast members (elements){where}",
                                 first, hint + why))
        return
    frames = (settings.image is not None) + (settings.tail is not None)
    if settings.after is not None and not settings.from_frame:  # with a reference video
        most, why = kling.ELEMENTS_WITH_VIDEO - frames, " beside a reference video and its images"
    elif settings.to_image:
        most, why = kling.ELEMENTS_MAX_WITH_FRAME, f" with a start frame ({kling.ELEMENTS_MAX} without)"
    else:
        most, why = kling.ELEMENTS_MAX, ""
    if len(shot.cast) > most:
        report.append(Diagnostic(
            "E413", f"the shot names {len(shot.cast)} cast members", shot.cast[most].span,
            f"a request takes at most {most} elements{why}: split the shot, or name fewer"))


def _check_request_options(settings: Settings, report: list[Diagnostic]) -> None:
    """What a shot's or a sequence's own request carries: its callback, id and negative prompt."""
    negative = settings.negative
    if negative is not None:
        _check_length("negative prompt", negative, negative.value, kling.TEXT_MAX_CHARS, "", report)
    callback = settings.callback
    if callback is not None and not URL.fullmatch(callback.value):
        report.append(Diagnostic("E310", f"callback `{callback.value}` is not an http(s) URL",
                                 callback.span, "write the full address: `https://example.com/hook`"))
    task_id = settings.id
    if task_id is not None and not EXTERNAL_ID.fullmatch(task_id.value):
        report.append(Diagnostic("E314", f"id `{task_id.value}` is not a valid task id", task_id.span,
                                 f"use 1 to {kling.EXTERNAL_ID_MAX_CHARS} letters, digits, `-`, `_` and `.`"))


def _check_id(settings: Settings, seen: dict[str, ast.Word], report: list[Diagnostic]) -> None:
    """One id per request: two shots sent with one external_task_id would be one task at Kling,
    one video for both, and a wait for the other. The ids are kept beside the names in `seen`,
    under a key no name can have."""
    task_id = settings.id
    if task_id is None:
        return
    key = f"\0id:{task_id.value}"
    if key not in seen:  # `in` and [], not get(): the language server's `seen` notes what is looked up
        seen[key] = ast.Word(task_id.value, task_id.span)
        return
    first = seen[key]
    report.append(Diagnostic(
        "E320", f"id `{task_id.value}` is already the id of the shot on line {first.span.line}", task_id.span,
        "give each shot its own id, or none (shotlang then makes one): Kling keeps one task per id",
        (Related(first.span, "the first use of this id"),)))


def _check_options(shot: LoweredShot, report: list[Diagnostic]) -> None:
    _check_request_options(shot.settings, report)
    if len(shot.motions) > kling.DYNAMIC_MASKS_MAX:
        report.append(Diagnostic(
            "E405", f"{len(shot.motions)} motions in one shot", shot.motions[kling.DYNAMIC_MASKS_MAX].span,
            f"the API takes at most {kling.DYNAMIC_MASKS_MAX}"))
    for motion in shot.motions:
        points = motion.points
        if not kling.TRAJECTORY_MIN_POINTS <= len(points) <= kling.TRAJECTORY_MAX_POINTS:
            report.append(Diagnostic(
                "E405", f"a trajectory of {len(points)} point{'s' * (len(points) != 1)}", motion.span,
                f"give {kling.TRAJECTORY_MIN_POINTS} to {kling.TRAJECTORY_MAX_POINTS} points"))
        for point in points:
            if not (point.x.isdigit() and point.y.isdigit()):
                report.append(Diagnostic(
                    "E405", f"point ({point.x}, {point.y}) is not in whole, non-negative pixels",
                    point.span, "coordinates count pixels from the image's bottom-left corner"))


# <<<voice_n>>> with any digits: a reference the API would not read as a voice is reported too.
_VOICE_REFERENCE = re.compile(re.escape(kling.VOICE_REFERENCE).replace(r"\{\}", r"(\d+)"))


def _check_voices(voices: list[ast.Option], prompts: list[ast.Text], settings: Settings,
                  report: list[Diagnostic]) -> None:
    """Voices need sound, at most VOICES_MAX of them, and each is spoken: the prompt names
    voice n as <<<voice_n>>>, and names no voice that is not declared."""
    if not voices and not any("<<<voice_" in p.value for p in prompts):
        return
    referred: dict[int, ast.Text] = {}
    for text in prompts:
        for digits in _VOICE_REFERENCE.findall(text.value):
            number = int(digits) if len(digits) <= 6 else 10**6  # past that, no voice: no need to read on
            if str(number) != digits:  # <<<voice_01>>>: not how the API numbers voices
                report.append(Diagnostic(
                    "E409", f"`{kling.VOICE_REFERENCE.format(digits[:12])}` names no voice", text.span,
                    f"voices are numbered from 1, with no leading zero: `{kling.VOICE_REFERENCE.format(number)}`"
                    if 1 <= number <= kling.VOICES_MAX else f"voices are numbered 1 to {kling.VOICES_MAX}"))
                continue
            referred.setdefault(number, text)
    if len(voices) > kling.VOICES_MAX:
        report.append(Diagnostic("E409", f"{len(voices)} voices", voices[kling.VOICES_MAX].span,
                                 f"the API takes at most {kling.VOICES_MAX} voices a request"))
    sound = settings.sound
    if voices and (sound is None or sound.value != "on"):
        report.append(Diagnostic("E409", "a voice needs sound", voices[0].span,
                                 "add `sound on`" + (f" (sound is off{_where(sound)})" if sound else "")))
    for number, voice in enumerate(voices[:kling.VOICES_MAX], 1):
        assert isinstance(voice.value, ast.Text)
        if not voice.value.value.strip():
            report.append(Diagnostic("E409", "the voice id is empty", voice.span,
                                     'give the id of a voice from your Kling account: `voice "..."`'))
        elif number not in referred:
            mark = kling.VOICE_REFERENCE.format(number)
            report.append(Diagnostic(
                "E409", f"voice {number} (`{voice.value.value}`) is never spoken", voice.span,
                f"write `{mark}` in the prompt where this voice speaks"))
    for number, text in sorted(referred.items()):
        if not 1 <= number <= len(voices):
            declared = {0: "no voice is", 1: "one voice is"}.get(len(voices), f"{len(voices)} voices are")
            report.append(Diagnostic(
                "E409", f"the prompt names `{kling.VOICE_REFERENCE.format(number)}`, but {declared} declared",
                text.span, 'declare each with `voice "<id>"`; voices are numbered in the order written'))


def _check_images(settings: Settings, motions: list[ast.Option], base_dir: Path, images: ImageStore,
                  report: list[Diagnostic]) -> None:
    refs: list[tuple[str, Value[str] | ast.Text]] = [
        (role, ref) for role, ref in (("image", settings.image), ("tail", settings.tail), ("mask", settings.mask))
        if ref is not None]
    refs += [("motion mask", m.value) for m in motions if isinstance(m.value, ast.Text)]
    sizes: dict[str, ImageInfo] = {}
    for role, ref in refs:
        info = _check_image(role, ref, base_dir, images, report)
        if info is not None:
            sizes.setdefault(role, info)
            if role in ("mask", "motion mask") and "image" in sizes:
                image = sizes["image"]
                if (info.width, info.height) != (image.width, image.height):
                    report.append(Diagnostic(
                        "E505", f"the {role} is {info.width}x{info.height}, the image "
                        f"{image.width}x{image.height}", ref.span,
                        "export the mask at the image's exact pixel size"))


def _check_image(role: str, ref: Value[str] | ast.Text, base_dir: Path, images: ImageStore,
                 report: list[Diagnostic]) -> ImageInfo | None:
    value = ref.value
    if not value.strip():
        report.append(Diagnostic("E500", f"the {role} is an empty string", ref.span,
                                 "give a file path or an https:// URL"))
        return None
    if URL.match(value):
        if not URL.fullmatch(value):
            report.append(Diagnostic("E310", f"`{value}` is not a valid URL", ref.span,
                                     "URLs have no spaces; encode them as %20"))
        return None
    if SCHEME.match(value) and not re.match(r"[A-Za-z]:[\\/]", value):
        report.append(Diagnostic("E310", f"the {role} `{value}` is neither a file path nor an http(s) URL",
                                 ref.span, "use an https:// address or a path to a local file"))
        return None
    try:
        path = resolve_image(value, base_dir)
        assert path is not None
        reach = images.reach(path, base_dir)
        if reach == "closed":
            where = f"under {images.folder}" if images.folder is not None else "at all"
            report.append(Diagnostic(
                "E507", f"{role} `{value}` is a file this compile may not read", ref.span,
                f"it reads files {where}: put the image in the shot list's folder and name it from there, or give "
                "an https:// address" if images.folder is not None else
                "this compile was given no folder (compile_text without `path` or `folder`): give one, or an "
                "https:// address"))
            return None
        if reach == "outside":
            report.append(Diagnostic(
                "W110", f"{role} `{value}` is outside the shot list's folder", ref.span,
                f"it is read from {path}: copy it beside the shot list, so the two travel together (the Python "
                "API reads no file outside a shot list's folder)"))
        if not path.is_file():
            report.append(Diagnostic("E500", f"{role} file `{value}` not found", ref.span,
                                     f"looked for {path}"))
            return None
        if path.suffix.lower() not in kling.IMAGE_SUFFIXES:
            report.append(Diagnostic("E501", f"{role} `{value}` is not a {either(kling.IMAGE_SUFFIXES)} file",
                                     ref.span, "convert it to JPEG or PNG"))
            return None
        size = images.stat_size(path)
        if size > kling.IMAGE_MAX_BYTES:
            report.append(Diagnostic(
                "E502", f"{role} `{value}` is {size / 1024 / 1024:.1f} MB", ref.span,
                f"the API takes at most {kling.IMAGE_MAX_BYTES // 1024 // 1024} MB; re-encode it smaller"))
            return None
        info = inspect_image(images.read(path))
    except NotAnImage as e:
        report.append(Diagnostic("E506" if e.damaged else "E501", f"{role} `{value}`: {e}", ref.span,
                                 "save it again as JPEG or PNG"))
        return None
    except (OSError, ValueError) as e:  # ValueError: a NUL character in the path
        reason = getattr(e, "strerror", None) or str(e)
        report.append(Diagnostic("E506", f"{role} `{value}` cannot be read: {reason}",
                                 ref.span, "check the path and the file's permissions"))
        return None
    if min(info.width, info.height) < kling.IMAGE_MIN_SIDE:
        report.append(Diagnostic(
            "E503", f"{role} `{value}` is {info.width}x{info.height} pixels", ref.span,
            f"the API needs at least {kling.IMAGE_MIN_SIDE} pixels a side"))
    elif max(info.width, info.height) / min(info.width, info.height) > kling.IMAGE_MAX_RATIO:
        report.append(Diagnostic(
            "E504", f"{role} `{value}` is {info.width}x{info.height}, too narrow or too wide",
            ref.span, f"crop it to between 1:{kling.IMAGE_MAX_RATIO:g} and {kling.IMAGE_MAX_RATIO:g}:1"))
    return info


def _check_strength(shot: LoweredShot, axes: str, how: Sending, report: list[Diagnostic]) -> None:
    """The seed's Intensity Guidelines and Shot Type Quick Reference, as warnings: for the
    numbers camera_control sends (a move sent as words has its strength in a word)."""
    camera = shot.camera
    if camera is None or camera.magnitude is None or not how.numeric:
        return
    span = camera.strength_span or camera.span
    magnitude, move = camera.magnitude, camera.move
    if magnitude < VISIBLE_FROM:
        word = next((f" (`{w}` is {v})" for w, v in INTENSITIES.items() if v == VISIBLE_FROM), "")
        report.append(Diagnostic("W100", f"magnitude {magnitude} gives no visible movement", span,
                                 f"use {VISIBLE_FROM} or more{word}"))
    elif magnitude >= JERKY_FROM:
        report.append(Diagnostic("W101", f"magnitude {magnitude} may feel unnatural or jerky", span,
                                 f"{NATURAL[0]}-{NATURAL[1]} is the natural range; {STRONG[0]}-{STRONG[1]} is strong"))
    elif move.recommended and not move.recommended[0] <= magnitude <= move.recommended[1]:
        low, high = move.recommended
        report.append(Diagnostic(
            "W102", f"{magnitude} is outside the {low}-{high} recommended for `{move.name}`", span,
            f"try a magnitude from {low} to {high}"))
    if axes == "official" and move.approximate_in_official:
        axis = move.axis("official")
        assert axis is not None
        report.append(Diagnostic(
            "W103", f"`{move.name}` has no field under AXES official; sent as a zoom", camera.span,
            f"the official fields have no forward travel; this is sent as {axis.field} "
            f"{axis.sign * magnitude:+}"))
