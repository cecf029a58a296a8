"""Checked shots to API requests, and the versioned JSON envelope that carries them.

The envelope is documented in docs/cli.md. FORMAT_VERSION changes only when a key changes
meaning or goes away; new keys may be added within a version.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, SkipValidation, computed_field, field_serializer

from . import bodies, kling
from .checks import image_shot, resolve_image
from .images import ImageStore
from .lower import ResolvedShot
from .syntax import Text

FORMAT_VERSION = 1


class CompiledShot(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    scene: str | None
    line: int
    method: Literal["POST"] = "POST"
    endpoint: str
    body: bodies.VideoRequest

    @field_serializer("body")
    def _body(self, body: bodies.VideoRequest) -> dict[str, Any]:
        # Only the fields a shot sets are sent; the API applies its own defaults to the rest.
        return body.model_dump(mode="json", exclude_none=True)


class CompiledFile(BaseModel):
    """What `shotlang compile` writes for one .shot file.

    The shots are kept as the plain JSON records the compiler made (`records`), which is what
    `to_json` writes; `shots` turns them into validated pydantic models on first use. What it
    buys: a 100k-shot file is written without building 400k model objects (several hundred MB
    and most of the time); anyone who reads `shots` still gets every body checked against the
    API's schema in bodies.py.
    """

    model_config = ConfigDict(frozen=True)

    shotlang_format: int = FORMAT_VERSION
    source: str
    title: str | None
    axes: Literal["seed", "official"]
    records: SkipValidation[list[dict[str, Any]]] = Field(repr=False, exclude=True)

    @computed_field  # type: ignore[prop-decorator]
    @cached_property
    def shots(self) -> list[CompiledShot]:
        return [CompiledShot.model_validate(record) for record in self.records]

    def _envelope(self) -> dict[str, Any]:
        return {"shotlang_format": self.shotlang_format, "source": self.source, "title": self.title,
                "axes": self.axes, "shots": self.records}

    def to_json(self) -> str:
        """The envelope, indented by two spaces, UTF-8 unescaped: as json.dumps(indent=2,
        ensure_ascii=False) would write it, from orjson, which does it many times faster."""
        return orjson.dumps(self._envelope(), option=orjson.OPT_INDENT_2).decode() + "\n"

    def to_jsonl(self) -> str:
        """One line per shot, each carrying its source so lines from many files can mix."""
        head = {"shotlang_format": self.shotlang_format, "source": self.source}
        return "".join(orjson.dumps({**head, **record}).decode() + "\n" for record in self.records)


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


def build(shot: ResolvedShot, reading: str, base_dir: Path, images: ImageStore) -> dict[str, Any]:
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
