"""The bodies of the Kling API's requests and responses, as pydantic models.

Field order is the order of the emitted JSON, kept stable so compiled output diffs well.
The value sets and limits they check come from kling.py.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from .kling import (
    MAGNITUDE_MAX,
    MULTI_PROMPT_MAX_CHARS,
    MULTI_SHOT_MAX,
    MULTI_SHOT_MIN,
    VOICES_MAX,
    CameraType,
    Mode,
    ShotType,
    Sound,
)

# --- requests --------------------------------------------------------------------------------


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CameraConfig(_Body):
    # Numbers, fractions included (Kling's own ComfyUI nodes send 0.5); an int stays an int, so
    # a whole magnitude is sent as 5, not 5.0.
    horizontal: int | float = Field(0, ge=-MAGNITUDE_MAX, le=MAGNITUDE_MAX)
    vertical: int | float = Field(0, ge=-MAGNITUDE_MAX, le=MAGNITUDE_MAX)
    zoom: int | float = Field(0, ge=-MAGNITUDE_MAX, le=MAGNITUDE_MAX)
    roll: int | float = Field(0, ge=-MAGNITUDE_MAX, le=MAGNITUDE_MAX)
    pan: int | float = Field(0, ge=-MAGNITUDE_MAX, le=MAGNITUDE_MAX)
    tilt: int | float = Field(0, ge=-MAGNITUDE_MAX, le=MAGNITUDE_MAX)


class CameraControl(_Body):
    type: CameraType
    config: CameraConfig | None = None  # only with type "simple"; presets omit it


class TrajectoryPoint(_Body):
    x: int
    y: int


class DynamicMask(_Body):
    mask: str
    trajectories: list[TrajectoryPoint]


class WatermarkInfo(_Body):
    """Whether the video carries Kling's watermark. Reported by third-party documentation of
    2025-2026, not confirmed by Kling's own pages (../shared/kling-api.md)."""

    enabled: bool


class Voice(_Body):
    """One of voice_list: a voice of the account, spoken where the prompt says <<<voice_n>>>.
    Reported by third-party documentation, not confirmed (../shared/kling-api.md)."""

    voice_id: str = Field(min_length=1)


class ShotPrompt(_Body):
    """One shot of a multi-shot generation (multi_prompt). Reported, not confirmed."""

    index: int = Field(ge=1, le=MULTI_SHOT_MAX)
    prompt: str = Field(max_length=MULTI_PROMPT_MAX_CHARS)
    duration: str = Field(pattern=r"^[1-9][0-9]*$")


class VideoRequest(_Body):
    """The body of POST /v1/videos/text2video or /v1/videos/image2video."""

    model_name: str
    image: str | None = None
    image_tail: str | None = None
    prompt: str | None = None
    negative_prompt: str | None = None
    cfg_scale: float | None = None
    mode: Mode | None = None
    aspect_ratio: str | None = Field(None, pattern=r"^[1-9][0-9]*:[1-9][0-9]*$")
    # Whole seconds as a string; which ones a model renders is in the capability matrix.
    duration: str = Field(pattern=r"^[1-9][0-9]*$")
    sound: Sound | None = None
    voice_list: list[Voice] | None = Field(None, max_length=VOICES_MAX)
    multi_shot: bool | None = None
    shot_type: ShotType | None = None
    multi_prompt: list[ShotPrompt] | None = Field(None, min_length=MULTI_SHOT_MIN, max_length=MULTI_SHOT_MAX)
    camera_control: CameraControl | None = None
    static_mask: str | None = None
    dynamic_masks: list[DynamicMask] | None = None
    callback_url: str | None = None
    external_task_id: str | None = None
    watermark_info: WatermarkInfo | None = None


# --- responses -----------------------------------------------------------------------------


class VideoResult(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str = ""
    url: str
    duration: str | float | None = None


class TaskResult(BaseModel):
    model_config = ConfigDict(extra="ignore")

    videos: list[VideoResult] = []


class TaskInfo(BaseModel):
    model_config = ConfigDict(extra="ignore")

    external_task_id: str | None = None


class Task(BaseModel):
    """`data` of a create or query response."""

    model_config = ConfigDict(extra="ignore")

    task_id: str
    # Any text: a status outside kling.TASK_STATUSES (say "canceled") is reported, not refused.
    task_status: str
    task_status_msg: str | None = None
    task_info: TaskInfo = TaskInfo()
    task_result: TaskResult | None = None
    created_at: int | None = None
    updated_at: int | None = None
    final_unit_deduction: str | float | None = None


class Envelope(BaseModel):
    """Every response: code 0 and data, or a code and a message."""

    model_config = ConfigDict(extra="ignore")

    code: int
    message: str = ""
    request_id: str = ""
    data: Any = None


