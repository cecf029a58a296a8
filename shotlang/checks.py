"""The rules of the Kling API and the seed's guidance, checked before anything is paid for.

Each rule reports a diagnostic at the span a writer would edit. Errors mark the shot as not
emittable; warnings (the seed's advice on magnitudes, ignored options) do not.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from . import kling
from . import syntax as ast
from .diagnostics import Diagnostic, either
from .images import URL, ImageInfo, ImageStore, NotAnImage, inspect_image, resolve_image
from .language import NAME_MAX_CHARS
from .lower import ResolvedShot, Value
from .source import Span
from .vocabulary import INTENSITIES, JERKY_FROM, NATURAL, STRONG, VISIBLE_FROM

SAFE_NAME = re.compile(rf"[A-Za-z0-9][A-Za-z0-9_-]{{0,{NAME_MAX_CHARS - 1}}}")
WINDOWS_RESERVED = frozenset(
    ["con", "prn", "aux", "nul"] + [f"com{i}" for i in range(1, 10)] + [f"lpt{i}" for i in range(1, 10)]
)
EXTERNAL_ID = re.compile(rf"[A-Za-z0-9_.-]{{1,{kling.EXTERNAL_ID_MAX_CHARS}}}")
SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:(?!\\)")  # `ftp:`, `data:`, but not `C:\`


class Checker:
    """Checks shots one at a time; remembers only their names (for duplicates)."""

    def __init__(self, base_dir: Path, images: ImageStore) -> None:
        self.base_dir = base_dir
        self.images = images
        self.seen: dict[str, ast.Word] = {}

    def check(self, shot: ResolvedShot, axes: str) -> list[Diagnostic]:
        """What the rules say about one shot: its diagnostics, in the order they were found."""
        found: list[Diagnostic] = []
        _check_name(shot, self.seen, found)
        _check_texts(shot, found)
        _check_model(shot, found)
        _check_groups(shot, found)
        _check_options(shot, found)
        _check_images(shot, self.base_dir, self.images, found)
        _check_strength(shot, axes, found)
        return found


def _where(value: Value[Any]) -> str:
    return f" (set on line {value.span.line})" if value.inherited else ""


def _check_name(shot: ResolvedShot, seen: dict[str, ast.Word], report: list[Diagnostic]) -> None:
    name = shot.syntax.name
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
                                 name.span, "give each shot its own name (case is ignored)"))
    else:
        seen[key] = name


def _check_texts(shot: ResolvedShot, report: list[Diagnostic]) -> None:
    prompt = shot.prompt
    if not prompt.value.strip() and not shot.settings.to_image:
        report.append(Diagnostic("E305", "the prompt is empty", prompt.span,
                                 "say what the shot shows; only image shots may leave it empty"))
    for label, text in (("prompt", prompt), ("negative prompt", shot.settings.negative)):
        if text is not None and len(text.value) > kling.TEXT_MAX_CHARS:
            report.append(Diagnostic(
                "E306", f"the {label} is {len(text.value):,} characters long", text.span,
                f"the API takes at most {kling.TEXT_MAX_CHARS:,}; cut {len(text.value) - kling.TEXT_MAX_CHARS:,}"))


def _check_model(shot: ResolvedShot, report: list[Diagnostic]) -> None:
    model = kling.MODELS.get(shot.settings.model_name)
    if model is None:
        return  # an unknown model was reported where it was named
    given = shot.settings.model
    span = given.span if given and not given.inherited else shot.syntax.name.span
    where = _where(given) if given else " (shotlang's default)"
    if shot.settings.to_image and not model.image2video:
        report.append(Diagnostic("E402", f"{model.name}{where} does not do image-to-video", span,
                                 "pick another model with `model ...`"))
    if not shot.settings.to_image and not model.text2video:
        report.append(Diagnostic(
            "E402", f"{model.name}{where} is image-to-video only, and this shot has no image", span,
            'give the shot a start image (`image "start.jpg"`), or pick a text-to-video model '
            f"such as `model {kling.DEFAULT_MODEL}`"))
    camera = shot.camera
    if camera is not None and not camera.move.is_static and not model.camera_control:
        report.append(Diagnostic(
            "E401", f"{model.name}{where} has no camera control; `{camera.move.name}` needs {_SINCE}",
            camera.span, f"use `model {kling.DEFAULT_MODEL}` (or another {_SINCE} model), or drop the move"))
    cfg = shot.settings.cfg
    if cfg is not None and not model.uses_cfg:
        report.append(Diagnostic("W104", f"{model.name} ignores cfg", cfg.span,
                                 "remove `cfg`, or use a v1 model if you need it"))
    sound = shot.settings.sound
    if sound is not None:
        if not model.sound:
            report.append(Diagnostic("E406", f"{model.name} makes no sound", sound.span,
                                     f"sound is offered by {_sound_models()} in {kling.SOUND_MODE} mode; "
                                     "remove `sound`"))
        elif sound.value == "on" and shot.settings.mode_name != kling.SOUND_MODE:
            report.append(Diagnostic("E406", f"sound needs {kling.SOUND_MODE} mode", sound.span,
                                     f"add `{kling.SOUND_MODE}` to the shot"))


_SINCE = "v{}.{}+".format(*kling.CAMERA_CONTROL_SINCE)


def _sound_models() -> str:
    return either(m.name for m in kling.MODELS.values() if m.sound)


def _check_groups(shot: ResolvedShot, report: list[Diagnostic]) -> None:
    """camera_control, image_tail and masks exclude each other (the seed and the API docs)."""
    groups: list[tuple[str, Span]] = []
    if shot.camera is not None and not shot.camera.move.is_static:
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
            "the API takes one of: a camera move, an end image, or masks; split the shot"))
    if masks and settings.image is None:
        report.append(Diagnostic(
            "E403", "masks need a start image in the same shot", masks[0],
            'add `image "start.jpg"`; a mask marks parts of that image'))
    aspect = settings.aspect
    if aspect is not None and not aspect.inherited and shot.settings.to_image:
        report.append(Diagnostic(
            "E404", "an image shot takes its aspect ratio from the image", aspect.span,
            f"remove `{aspect.value}`"))


def _check_options(shot: ResolvedShot, report: list[Diagnostic]) -> None:
    callback = shot.settings.callback
    if callback is not None and not URL.fullmatch(callback.value):
        report.append(Diagnostic("E310", f"callback `{callback.value}` is not an http(s) URL",
                                 callback.span, "write the full address: `https://example.com/hook`"))
    task_id = shot.settings.id
    if task_id is not None and not EXTERNAL_ID.fullmatch(task_id.value):
        report.append(Diagnostic("E314", f"id `{task_id.value}` is not a valid task id", task_id.span,
                                 f"use 1 to {kling.EXTERNAL_ID_MAX_CHARS} letters, digits, `-`, `_` and `.`"))
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
    tail, mode = shot.settings.tail, shot.settings.mode_name
    if tail is not None and mode != kling.TAIL_MODE:
        report.append(Diagnostic("W105", f"an end frame in {mode} mode", tail.span,
                                 f"add `{kling.TAIL_MODE}`; most models offer end frames in "
                                 f"{kling.TAIL_MODE} mode only"))


def _check_images(shot: ResolvedShot, base_dir: Path, images: ImageStore, report: list[Diagnostic]) -> None:
    settings = shot.settings
    refs: list[tuple[str, Value[str] | ast.Text]] = [
        (role, ref) for role, ref in (("image", settings.image), ("tail", settings.tail), ("mask", settings.mask))
        if ref is not None]
    refs += [("motion mask", m.value) for m in shot.motions if isinstance(m.value, ast.Text)]
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


def _check_strength(shot: ResolvedShot, axes: str, report: list[Diagnostic]) -> None:
    """The seed's Intensity Guidelines and Shot Type Quick Reference, as warnings."""
    camera = shot.camera
    if camera is None or camera.magnitude is None:
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
