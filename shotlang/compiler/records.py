"""Checked shots to the JSON records `compile` writes: where to send each, and its body.

Plain dicts and no pydantic, so that records can be made shot by shot as a file is read;
payload.py wraps them in the versioned envelope and the typed models of bodies.py.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from . import kling
from . import syntax as ast
from .camera import endpoint_of, prompt, sending, sequence_prompt
from .images import ImageStore, resolve_image
from .language import AS_IS, OPTION_BY_KIND
from .lower import (
    TYPED_SETTINGS,
    Lowered,
    LoweredCast,
    LoweredSequence,
    LoweredShot,
    Magnitude,
    Settings,
    sequence_timing,
)
from .models import Matrix

# The options whose lowered value is sent as it is, under the API field their row of the language
# table names. The `made` ones are made into fields below: images inlined, the model and duration
# defaulted, aspect_ratio left out of image shots, motions and voices gathered into lists.
_AS_IS = tuple((o.kind, *o.field.partition(".")[::2]) for o in AS_IS)


@cache
def body_order(endpoint: str = kling.TEXT2VIDEO) -> tuple[str, ...]:
    """The keys of a body sent to `endpoint` in the order of its model's fields (bodies.py), so
    the emitted JSON is stable and diffs well. (Imported here, not at the top: `check` makes no
    records and does not load pydantic; `compile` loads it anyway.)"""
    from .bodies import request_model

    return tuple(request_model(endpoint).model_fields)


def camera_control(shot: LoweredShot, axes: str) -> dict[str, Any] | None:
    camera = shot.camera
    if camera is None or camera.move.is_static:
        return None
    if camera.move.preset:
        return {"type": camera.move.preset}
    axis = camera.move.axis(axes)
    assert axis is not None and camera.magnitude is not None
    config: dict[str, Magnitude] = dict.fromkeys(kling.CAMERA_FIELDS, 0)
    config[axis.field] = axis.sign * camera.magnitude
    return {"type": "simple", "config": config}


def record(item: Lowered, axes: str, base_dir: Path, images: ImageStore, models: Matrix) -> dict[str, Any]:
    """The JSON record of one shot (or sequence) that passed every check: where to send it, and
    the body. A field the shot does not set is left out, so the API applies its own default.
    `moves` says how the camera move is sent (camera.py), where one is; `cast` the cast members
    its element_list names, in order (each entry's element_id is `@name` until `run` makes the
    element and puts its id there)."""
    if isinstance(item, LoweredCast):
        return cast_record(item, base_dir, images)
    model = models.get(item.settings.model_name)
    endpoint = endpoint_of(item.settings, model)
    if isinstance(item, LoweredSequence):
        return _sequence_record(item, endpoint, base_dir, images)
    shot = item
    settings = shot.settings
    how = sending(shot, model)
    found = _settings_fields(settings, shot.voices, base_dir, images)
    found["duration"] = settings.duration.value if settings.duration else kling.DEFAULT_DURATION
    sent = prompt(shot, how)
    if sent or not settings.to_image:
        found["prompt"] = sent
    camera = camera_control(shot, axes) if how.numeric else None
    if camera is not None:
        found["camera_control"] = camera
    if shot.motions:
        found["dynamic_masks"] = [
            {"mask": _inline(m.value.value, base_dir, images),  # type: ignore[union-attr]
             "trajectories": [{"x": int(p.x), "y": int(p.y)} for p in m.points]}
            for m in shot.motions
        ]
    if shot.cast:
        found["element_list"] = [{"element_id": cast_placeholder(ref.name)} for ref in shot.cast]
    after = settings.after
    if after is not None and settings.from_frame:  # the last frame of the shot it continues, made by run
        found["image"] = after_placeholder(after.value)
    elif after is not None:  # its video, as the documented reference for the next shot
        found["video_list"] = [{"video_url": after_placeholder(after.value), "refer_type": "feature",
                                "keep_original_sound": "no"}]
    made = _record(shot.name, shot.scene, shot.syntax.span.line, endpoint, found)
    if how.how:
        made["moves"] = how.how
    if shot.cast:
        made["cast"] = [ref.name for ref in shot.cast]
    if after is not None:
        made["after"] = after.value
    _takes(settings, made)
    return made


def _takes(settings: Settings, made: dict[str, Any]) -> None:
    """The record's `takes` and `pick`, where the shot (or sequence) gives them."""
    if not settings.more:
        return
    for kind in ("takes", "pick"):
        value = settings.more.get(kind)
        if value is not None:
            made[kind] = value.value


def after_placeholder(name: str) -> str:
    """What a compiled body holds for the shot it continues until `run` has its video: in
    `image` (its last frame) or in video_list's video_url (its video)."""
    return f"@{name}"


def cast_placeholder(name: str) -> str:
    """What a compiled body's element_list holds for a cast member until `run` makes its element."""
    return f"@{name}"


def cast_record(cast: LoweredCast, base_dir: Path, images: ImageStore) -> dict[str, Any]:
    """A CAST's record: the body that makes its element (../shared/kling-api.md, "Elements")."""
    assert cast.image is not None, "a cast member is emitted only when it passed its checks"
    body = {
        "element_name": cast.name,
        "element_description": cast.description,
        "reference_type": "image_refer",
        "element_image_list": {
            "frontal_image": _inline(cast.image.value, base_dir, images),
            "refer_images": [{"image_url": _inline(other.value, base_dir, images)} for other in cast.syntax.also],
        },
    }
    return {"name": cast.name, "line": cast.syntax.span.line, "method": "POST", "endpoint": kling.ELEMENTS,
            "body": body}


def _sequence_record(sequence: LoweredSequence, endpoint: kling.Endpoint, base_dir: Path,
                     images: ImageStore) -> dict[str, Any]:
    """A SEQUENCE as one multi-shot request: each shot's prompt (its camera move in words) and
    duration in multi_prompt, the total as the request's duration."""
    settings = sequence.settings
    timing = sequence.timing or sequence_timing(sequence, [])  # as the check worked it out
    assert timing is not None, "a sequence is emitted only when its timing is known"
    total, durations = timing
    prompts = sequence.prompts or [sequence_prompt(shot, settings) for shot in sequence.shots]
    found = _settings_fields(settings, sequence.voices, base_dir, images)
    found |= {"duration": total, "multi_shot": True, "shot_type": "customize",
              "multi_prompt": [{"index": i, "prompt": sent, "duration": seconds}
                               for i, (sent, seconds) in enumerate(zip(prompts, durations, strict=True), 1)]}
    made = _record(sequence.name, sequence.scene, sequence.syntax.span.line, endpoint, found)
    made["shots"] = [shot.name for shot in sequence.shots]
    _takes(settings, made)
    if (settings.moves is None or settings.moves.value != "off") and any(s.camera is not None for s in sequence.shots):
        made["moves"] = "words"
    return made


def _settings_fields(settings: Settings, voices: list[ast.Option], base_dir: Path,
                     images: ImageStore) -> dict[str, Any]:
    """The body fields a shot's or a sequence's settings give."""
    found: dict[str, Any] = {"model_name": settings.model_name}
    for kind, field, inner in _AS_IS:
        value = getattr(settings, kind, None) if kind in TYPED_SETTINGS else settings.more.get(kind)
        if value is not None:
            if inner:  # a field of an object: {"watermark_info": {"enabled": true}}
                found.setdefault(field, {})[inner] = value.value
            else:
                found[field] = value.value
    for kind in ("image", "tail", "mask"):
        ref = getattr(settings, kind)
        if ref is not None:
            found[OPTION_BY_KIND[kind].field] = _inline(ref.value, base_dir, images)
    if settings.aspect is not None and not settings.to_image:
        found["aspect_ratio"] = settings.aspect.value
    if voices:
        found["voice_list"] = [{"voice_id": v.value.value} for v in voices]  # type: ignore[union-attr]
    return found


def _record(name: str, scene: str | None, line: int, endpoint: kling.Endpoint, found: dict[str, Any]) -> dict[str, Any]:
    if endpoint == kling.OMNI_VIDEO:
        _as_omni(found)
    keys = tuple(found)
    order = _ORDERS.get((endpoint, keys))
    if order is None:  # a body of fields not seen together before: sorted once
        order = tuple(key for key in body_order(endpoint) if key in found)
        assert len(order) == len(found), f"fields missing from the body's model: {found.keys() - set(order)}"
        if len(_ORDERS) < _ORDERS_KEPT:
            _ORDERS[(endpoint, keys)] = order
    body = {key: found[key] for key in order}
    return {"name": name, "scene": scene, "line": line, "method": "POST", "endpoint": endpoint, "body": body}


# The body order of the fields a shot's record finds, by the order it finds them: a shot list has
# a few dozen shapes of body.
_ORDERS: dict[tuple[str, tuple[str, ...]], tuple[str, ...]] = {}
_ORDERS_KEPT = 4096


def with_frames(body: dict[str, Any]) -> dict[str, Any]:
    """A body with its start and end images under `image` and `image_tail`, whichever endpoint
    it is for (an omni request keeps them in image_list): for those who show a request."""
    frames = {kling.FRAME_FIELDS[str(i.get("type"))]: i.get("image_url") for i in body.get("image_list") or ()
              if isinstance(i, dict) and str(i.get("type")) in kling.FRAME_FIELDS}
    return {**body, **frames} if frames else body


def _as_omni(found: dict[str, Any]) -> None:
    """A request's fields as the omni endpoint takes them: the start and end frames in
    image_list, and an aspect ratio where no start frame gives one (the checks have refused
    the fields it does not take, kling.OMNI_WITHOUT)."""
    frames = [{"image_url": found.pop(key), "type": kind} for kind, key in kling.FRAME_FIELDS.items() if key in found]
    if frames:
        found["image_list"] = frames
    elif "aspect_ratio" not in found:
        found["aspect_ratio"] = kling.DEFAULT_ASPECT


def _inline(ref: str, base_dir: Path, images: ImageStore) -> str:
    path = resolve_image(ref, base_dir)
    return ref if path is None else images.base64(path)
