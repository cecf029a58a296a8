"""Checked shots to the JSON records `compile` writes: where to send each, and its body.

Plain dicts and no pydantic, so that records can be made shot by shot as a file is read;
payload.py wraps them in the versioned envelope and the typed models of bodies.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from . import kling
from .checks import image_shot, resolve_image
from .images import ImageStore
from .lower import ResolvedShot
from .syntax import Text


def camera_control(shot: ResolvedShot, reading: str) -> dict[str, Any] | None:
    camera = shot.camera
    if camera is None or camera.move.is_static:
        return None
    if camera.move.preset:
        return {"type": camera.move.preset}
    axis = camera.move.axis(reading)
    assert axis is not None and camera.magnitude is not None
    config = dict.fromkeys(kling.CAMERA_FIELDS, 0)
    config[axis.field] = axis.sign * camera.magnitude
    return {"type": "simple", "config": config}


def record(shot: ResolvedShot, reading: str, base_dir: Path, images: ImageStore) -> dict[str, Any]:
    """The JSON record of one shot that passed every check: where to send it, and the body.

    Body keys follow the field order of bodies.VideoRequest; a field the shot does not set is
    left out, so the API applies its own default.
    """
    settings = shot.settings
    to_image = image_shot(shot)
    body: dict[str, Any] = {"model_name": settings["model"].value if "model" in settings else kling.DEFAULT_MODEL}
    for key, field in (("image", "image"), ("tail", "image_tail")):
        if key in settings:
            body[field] = _inline(settings[key].value, base_dir, images)
    if shot.prompt.value or not to_image:
        body["prompt"] = shot.prompt.value
    if "negative" in settings:
        body["negative_prompt"] = settings["negative"].value.value
    for key, field in (("cfg", "cfg_scale"), ("mode", "mode")):
        if key in settings:
            body[field] = settings[key].value
    if "aspect" in settings and not to_image:
        body["aspect_ratio"] = settings["aspect"].value
    body["duration"] = settings["duration"].value if "duration" in settings else kling.DEFAULT_DURATION
    if "sound" in settings:
        body["sound"] = settings["sound"].value
    camera = camera_control(shot, reading)
    if camera is not None:
        body["camera_control"] = camera
    if "mask" in settings:
        body["static_mask"] = _inline(settings["mask"].value, base_dir, images)
    if shot.motions:
        body["dynamic_masks"] = [
            {"mask": _inline(m.value, base_dir, images),  # type: ignore[arg-type]
             "trajectories": [{"x": int(p.x), "y": int(p.y)} for p in m.points]}
            for m in shot.motions
        ]
    for key, field in (("callback", "callback_url"), ("id", "external_task_id")):
        if key in settings:
            body[field] = settings[key].value.value
    return {"name": shot.name, "scene": shot.scene, "line": shot.syntax.span.line, "method": "POST",
            "endpoint": kling.IMAGE2VIDEO if to_image else kling.TEXT2VIDEO, "body": body}


def _inline(ref: Text, base_dir: Path, images: ImageStore) -> str:
    path = resolve_image(ref.value, base_dir)
    return ref.value if path is None else images.base64(path)
