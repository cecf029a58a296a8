"""The Kling video API's contract, as far as the compiler needs it: one place for every fact.

Endpoints, field limits, model capabilities and the request body's shape live here and nowhere
else; the checks, the docs and the tests read them from here. Sources: ../shared/kling-api.md
and the seed document on camera control.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

TEXT2VIDEO = "/v1/videos/text2video"
IMAGE2VIDEO = "/v1/videos/image2video"

# The six fields of a simple camera_control config, in the seed's order.
CAMERA_FIELDS = ("horizontal", "vertical", "zoom", "roll", "pan", "tilt")
CAMERA_PRESETS = ("down_back", "forward_up", "right_turn_forward", "left_turn_forward")
MAGNITUDE_MAX = 10

TEXT_MAX_CHARS = 2500  # prompt and negative_prompt
CFG_MIN, CFG_MAX = 0.0, 1.0
DURATIONS = ("5", "10")  # seconds, sent as strings
MODES = ("std", "pro")
ASPECT_RATIOS = ("16:9", "9:16", "1:1")

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
IMAGE_MAX_BYTES = 10 * 1024 * 1024
IMAGE_MIN_SIDE = 300
IMAGE_MIN_ASPECT, IMAGE_MAX_ASPECT = 1 / 2.5, 2.5  # width / height
DYNAMIC_MASKS_MAX = 6
TRAJECTORY_MIN_POINTS, TRAJECTORY_MAX_POINTS = 2, 77
EXTERNAL_ID_MAX_CHARS = 64  # the API sets no documented limit; shotlang keeps ids short and safe


@dataclass(frozen=True, slots=True)
class Model:
    """What one model offers. Capabilities change as Kling ships models: edit this table."""

    name: str
    version: tuple[int, int]
    text2video: bool
    image2video: bool = True
    uses_cfg: bool = True
    sound: bool = False

    @property
    def camera_control(self) -> bool:
        # The seed: "Available on v1.6+ models."
        return self.version >= (1, 6)


MODELS: dict[str, Model] = {
    m.name: m
    for m in (
        Model("kling-v1", (1, 0), text2video=True),
        Model("kling-v1-5", (1, 5), text2video=False),
        Model("kling-v1-6", (1, 6), text2video=True),
        Model("kling-v2-master", (2, 0), text2video=True, uses_cfg=False),
        Model("kling-v2-1", (2, 1), text2video=False, uses_cfg=False),
        Model("kling-v2-1-master", (2, 1), text2video=True, uses_cfg=False),
        Model("kling-v2-5-turbo", (2, 5), text2video=True, uses_cfg=False),
        Model("kling-v2-6", (2, 6), text2video=True, uses_cfg=False, sound=True),
    )
}
# The seed's main model, and one that takes camera control. (The API's own default is kling-v1.)
DEFAULT_MODEL = "kling-v2-6"
DEFAULT_DURATION: Literal["5", "10"] = "5"


# --- request bodies --------------------------------------------------------------------------
# Field order is the order of the emitted JSON, kept stable so compiled output diffs well.


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CameraConfig(_Body):
    horizontal: int = Field(0, ge=-MAGNITUDE_MAX, le=MAGNITUDE_MAX)
    vertical: int = Field(0, ge=-MAGNITUDE_MAX, le=MAGNITUDE_MAX)
    zoom: int = Field(0, ge=-MAGNITUDE_MAX, le=MAGNITUDE_MAX)
    roll: int = Field(0, ge=-MAGNITUDE_MAX, le=MAGNITUDE_MAX)
    pan: int = Field(0, ge=-MAGNITUDE_MAX, le=MAGNITUDE_MAX)
    tilt: int = Field(0, ge=-MAGNITUDE_MAX, le=MAGNITUDE_MAX)


class CameraControl(_Body):
    type: Literal["simple", "down_back", "forward_up", "right_turn_forward", "left_turn_forward"]
    config: CameraConfig | None = None  # only with type "simple"; presets omit it


class TrajectoryPoint(_Body):
    x: int
    y: int


class DynamicMask(_Body):
    mask: str
    trajectories: list[TrajectoryPoint]


class VideoRequest(_Body):
    """The body of POST /v1/videos/text2video or /v1/videos/image2video."""

    model_name: str
    image: str | None = None
    image_tail: str | None = None
    prompt: str | None = None
    negative_prompt: str | None = None
    cfg_scale: float | None = None
    mode: Literal["std", "pro"] | None = None
    aspect_ratio: Literal["16:9", "9:16", "1:1"] | None = None
    duration: Literal["5", "10"]
    sound: Literal["on", "off"] | None = None
    camera_control: CameraControl | None = None
    static_mask: str | None = None
    dynamic_masks: list[DynamicMask] | None = None
    callback_url: str | None = None
    external_task_id: str | None = None
