"""Checked shots to API requests, and the versioned JSON envelope that carries them.

The envelope is documented in docs/cli.md. FORMAT_VERSION changes only when a key changes
meaning or goes away; new keys may be added within a version.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, field_serializer

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
    """What `shotlang compile` writes for one .shot file."""

    model_config = ConfigDict(frozen=True)

    shotlang_format: int = FORMAT_VERSION
    source: str
    title: str | None
    axes: Literal["seed", "official"]
    shots: list[CompiledShot]

    def to_json(self) -> str:
        """The envelope, indented by two spaces, UTF-8 unescaped: as json.dumps(indent=2,
        ensure_ascii=False) would write it, from orjson, which does it many times faster."""
        return orjson.dumps(self.model_dump(mode="json"), option=orjson.OPT_INDENT_2).decode() + "\n"

    def to_jsonl(self) -> str:
        """One line per shot, each carrying its source so lines from many files can mix."""
        lines = []
        for shot in self.model_dump(mode="json")["shots"]:
            record = {"shotlang_format": self.shotlang_format, "source": self.source, **shot}
            lines.append(orjson.dumps(record).decode() + "\n")
        return "".join(lines)


def camera_control(shot: ResolvedShot, reading: str) -> bodies.CameraControl | None:
    camera = shot.camera
    if camera is None or camera.move.is_static:
        return None
    if camera.move.preset:
        return bodies.CameraControl(type=camera.move.preset)  # type: ignore[arg-type]
    axis = camera.move.axis(reading)
    assert axis is not None and camera.magnitude is not None
    config = bodies.CameraConfig(**{axis.field: axis.sign * camera.magnitude})
    return bodies.CameraControl(type="simple", config=config)


def build(shot: ResolvedShot, reading: str, base_dir: Path, images: ImageStore) -> CompiledShot:
    """The request for one shot that passed every check."""
    settings = shot.settings

    def value(key: str) -> Any:
        found = settings.get(key)
        return found.value if found is not None else None

    def image(key: str) -> str | None:
        ref: Text | None = value(key)
        return None if ref is None else _inline(ref, base_dir, images)

    to_image = image_shot(shot)
    body = bodies.VideoRequest(
        model_name=value("model") or kling.DEFAULT_MODEL,
        image=image("image"),
        image_tail=image("tail"),
        prompt=shot.prompt.value if shot.prompt.value or not to_image else None,
        negative_prompt=value("negative").value if "negative" in settings else None,
        cfg_scale=value("cfg"),
        mode=value("mode"),
        aspect_ratio=None if to_image else value("aspect"),
        duration=value("duration") or kling.DEFAULT_DURATION,
        sound=value("sound"),
        camera_control=camera_control(shot, reading),
        static_mask=image("mask"),
        dynamic_masks=[
            bodies.DynamicMask(
                mask=_inline(m.value, base_dir, images),  # type: ignore[arg-type]
                trajectories=[bodies.TrajectoryPoint(x=int(p.x), y=int(p.y)) for p in m.points],
            )
            for m in shot.motions
        ] or None,
        callback_url=value("callback").value if "callback" in settings else None,
        external_task_id=value("id").value if "id" in settings else None,
    )
    return CompiledShot(
        name=shot.name,
        scene=shot.scene,
        line=shot.syntax.span.line,
        endpoint=kling.IMAGE2VIDEO if to_image else kling.TEXT2VIDEO,
        body=body,
    )


def _inline(ref: Text, base_dir: Path, images: ImageStore) -> str:
    path = resolve_image(ref.value, base_dir)
    return ref.value if path is None else images.base64(path)
