"""The bodies of the Kling API's requests and responses, as pydantic models.

Field order is the order of the emitted JSON, kept stable so compiled output diffs well.
The value sets and limits they check come from kling.py.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from . import kling
from .kling import (
    MAGNITUDE_MAX,
    MULTI_PROMPT_MAX_CHARS,
    MULTI_SHOT_MAX,
    MULTI_SHOT_MIN,
    VOICES_MAX,
    CameraType,
    ShotType,
)
from .language import AS_IS, OPTION_BY_KIND, Option

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


class Voice(_Body):
    """One of voice_list: a voice of the account, spoken where the prompt says <<<voice_n>>>.
    Reported by third-party documentation, not confirmed (../shared/kling-api.md)."""

    voice_id: str = Field(min_length=1)


class ShotPrompt(_Body):
    """One shot of a multi-shot generation (multi_prompt). Reported, not confirmed."""

    index: int = Field(ge=1, le=MULTI_SHOT_MAX)
    prompt: str = Field(max_length=MULTI_PROMPT_MAX_CHARS)
    duration: str = Field(pattern=r"^[1-9][0-9]*$")


class ElementRef(_Body):
    """One of element_list: an element of the account, named in the prompt as <<<element_n>>>. A
    compiled body holds `@name` (its CAST) until `run` has made the element."""

    element_id: str = Field(min_length=1)


class _Made(_Body):
    """The fields of a video request made by code (records.py), as the API takes them. The
    other fields are those of the options sent as their value says (language.AS_IS): each is
    made from its option's row, below."""

    model_name: str
    image: str | None = None
    image_tail: str | None = None
    prompt: str | None = None
    aspect_ratio: str | None = Field(None, pattern=r"^[1-9][0-9]*:[1-9][0-9]*$")
    # Whole seconds as a string; which ones a model renders is in the capability matrix.
    duration: str = Field(pattern=r"^[1-9][0-9]*$")
    voice_list: list[Voice] | None = Field(None, max_length=VOICES_MAX)
    multi_shot: bool | None = None
    shot_type: ShotType | None = None
    multi_prompt: list[ShotPrompt] | None = Field(None, min_length=MULTI_SHOT_MIN, max_length=MULTI_SHOT_MAX)
    camera_control: CameraControl | None = None
    static_mask: str | None = None
    dynamic_masks: list[DynamicMask] | None = None
    element_list: list[ElementRef] | None = Field(None, min_length=1, max_length=kling.ELEMENTS_MAX)


# The order of a body's fields in emitted JSON, kept stable so compiled output diffs well (the
# order of Kling's reference, more or less). A field not named here (a new option's) goes last.
FIELD_ORDER = (
    "model_name", "image", "image_tail", "prompt", "negative_prompt", "cfg_scale", "mode", "aspect_ratio",
    "duration", "sound", "voice_list", "multi_shot", "shot_type", "multi_prompt", "camera_control",
    "static_mask", "dynamic_masks", "element_list", "callback_url", "external_task_id", "watermark_info",
)


def value_type(option: Option) -> Any:
    """The Python type of an option's API value, with its bounds: from its row alone."""
    if option.values is not None:
        values = tuple(dict.fromkeys(option.values.values()))
        return bool if all(isinstance(v, bool) for v in values) else Literal[values]
    if option.bounds is not None:
        low, high = option.bounds.low, option.bounds.high
        kind = int if option.bounds.whole else float
        return Annotated[kind, Field(ge=kind(low), le=kind(high))]
    return str


def _option_field(option: Option) -> tuple[Any, Any]:
    """An option's body field as pydantic wants it: (type, default); a field inside an object
    (`watermark_info.enabled`) is that object, a model of its own (one for every request)."""
    return _field_of_kind(option.kind)


@cache
def _field_of_kind(kind_name: str) -> tuple[Any, Any]:
    option = OPTION_BY_KIND[kind_name]
    outer, _, inner = option.field.partition(".")
    kind = value_type(option)
    if inner:
        name = "".join(part.title() for part in outer.split("_"))
        inside: dict[str, Any] = {inner: (kind, ...)}
        kind = create_model(name, __base__=_Body, __doc__=option.source or None, **inside)
    return kind | None, None


def _request(name: str, doc: str, made_by: type[_Body], order: tuple[str, ...],
             without: tuple[str, ...] = ()) -> Any:
    """A request body's model: the fields code makes (`made_by`), then those of the options sent
    as their value says (but the endpoint's `without`), in `order`; a field not in it goes last."""
    made = {name: (info.annotation, info) for name, info in made_by.model_fields.items()}
    sent = {o.field.partition(".")[0]: _option_field(o) for o in AS_IS if o.field.partition(".")[0] not in without}
    assert not made.keys() & sent.keys(), f"made and sent as is: {made.keys() & sent.keys()}"
    every = {**made, **sent}
    ordered = [*(n for n in order if n in every), *(n for n in every if n not in order)]
    fields: dict[str, Any] = {n: every[n] for n in ordered}
    return create_model(name, __base__=_Body, __doc__=doc, __module__=__name__, **fields)


class ImageRef(_Body):
    """One image of an omni request's image_list; `type` for a start or an end frame."""

    image_url: str
    type: Literal["first_frame", "end_frame"] | None = None


class VideoRef(_Body):
    """One of an omni request's video_list: a video to refer to; `feature` to continue a shot."""

    video_url: str
    refer_type: Literal["feature", "base"] | None = None
    keep_original_sound: Literal["yes", "no"] | None = None


class _OmniMade(_Body):
    """The fields of an omni request made by code (records.py)."""

    model_name: str
    prompt: str | None = None
    multi_shot: bool | None = None
    shot_type: ShotType | None = None
    multi_prompt: list[ShotPrompt] | None = Field(None, min_length=MULTI_SHOT_MIN, max_length=MULTI_SHOT_MAX)
    image_list: list[ImageRef] | None = Field(None, min_length=1)
    element_list: list[ElementRef] | None = Field(None, min_length=1, max_length=kling.ELEMENTS_MAX)
    video_list: list[VideoRef] | None = Field(None, min_length=1, max_length=1)
    aspect_ratio: str | None = Field(None, pattern=r"^[1-9][0-9]*:[1-9][0-9]*$")
    duration: str = Field(pattern=r"^[1-9][0-9]*$")


# An omni body's fields in the order of ../shared/kling-api.md, "Omni video".
OMNI_FIELD_ORDER = (
    "model_name", "prompt", "multi_shot", "shot_type", "multi_prompt", "image_list", "element_list", "video_list",
    "sound", "mode",
    "aspect_ratio", "duration", "watermark_info", "callback_url", "external_task_id",
)

if TYPE_CHECKING:
    VideoRequest = _Made
    OmniRequest = _OmniMade
else:
    VideoRequest = _request("VideoRequest", "The body of POST /v1/videos/text2video or /v1/videos/image2video.",
                            _Made, FIELD_ORDER)
    OmniRequest = _request("OmniRequest", "The body of POST /v1/videos/omni-video (kling-v3-omni, kling-video-o1).",
                           _OmniMade, OMNI_FIELD_ORDER, kling.OMNI_WITHOUT)


class ReferImage(_Body):
    image_url: str


class ElementImages(_Body):
    frontal_image: str
    refer_images: list[ReferImage] = Field(min_length=kling.ELEMENT_REFER_IMAGES[0],
                                           max_length=kling.ELEMENT_REFER_IMAGES[1])


class ElementRequest(_Body):
    """The body of POST /v1/general/advanced-custom-elements for a multi-image element (a CAST)."""

    element_name: str = Field(min_length=1, max_length=kling.ELEMENT_NAME_MAX_CHARS)
    element_description: str = Field(min_length=1, max_length=kling.ELEMENT_DESCRIPTION_MAX_CHARS)
    reference_type: Literal["image_refer"]
    element_image_list: ElementImages
    external_task_id: str | None = None


def request_model(endpoint: str) -> type[_Body]:
    """The model of a request body sent to `endpoint`."""
    return OmniRequest if endpoint == kling.OMNI_VIDEO else VideoRequest


# --- responses -----------------------------------------------------------------------------


class VideoResult(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str = ""
    url: str
    duration: str | float | None = None


class ElementResult(BaseModel):
    """An element made (task_result.elements of an element's task), read as it comes: run
    checks the id before it is used (runner.py), so an odd one fails that element, not the read."""

    model_config = ConfigDict(extra="ignore")

    element_id: Any = None
    element_name: Any = None


class TaskResult(BaseModel):
    model_config = ConfigDict(extra="ignore")

    videos: list[VideoResult] = []
    elements: list[ElementResult] = []


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


