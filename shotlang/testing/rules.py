"""The API's rules, as the local Kling server reads them."""

from __future__ import annotations

import base64
import binascii
import math
import re
import uuid
from collections.abc import Callable
from typing import Any, NamedTuple
from urllib.parse import urlparse

# --- the API's rules, as this server reads them ------------------------------------------------
# Written here from the API's documentation (../shared/kling-api.md), and kept apart from
# shotlang/compiler/kling.py on purpose: the rules below for every field shotlang sent when they
# were written are not derived from shotlang's own code or tables, so this server is an
# independent witness of what the compiler and the client send. A change to kling.py (a limit, a
# value set, a code) cannot silently make the server agree with it; when the API changes, change
# both, each from the documentation. Shared, as data: which model offers what (the capability
# matrix's rows, _ModelRules), and, for a field none of the lists below names yet (an option
# added since), that option's row of the language table (_declared_options): such a field is
# taken as its row says, so a new option runs here at once, but its row is then not witnessed;
# writing its rule here, from the documentation, makes it so.
#
# A create body is refused (400, code 1201) with a message that names the offending field, as
# the API's "invalid parameters" does. `null` is read as absent, at any depth.
_TEXT2VIDEO, _IMAGE2VIDEO = "/v1/videos/text2video", "/v1/videos/image2video"
# kling-v3-omni and kling-video-o1: text and images alike, frames in image_list ("Omni video").
_OMNI = "/v1/videos/omni-video"
_ENDPOINTS = (_TEXT2VIDEO, _IMAGE2VIDEO, _OMNI)
_OMNI_DEFAULT_MODE = "pro"
# Elements: a cast member or an object made once from reference images (or a video), then named in
# omni and kling-v3 image-to-video requests (../shared/kling-api.md, "Elements").
_ELEMENTS = "/v1/general/advanced-custom-elements"
_ELEMENT_FIELDS = ("element_name", "element_description", "reference_type", "element_image_list",
                   "element_video_list", "element_voice_id", "tag_list", "callback_url", "external_task_id")
_ELEMENT_NAME_MAX, _ELEMENT_DESCRIPTION_MAX = 20, 100
_REFER_IMAGES_MIN, _REFER_IMAGES_MAX = 1, 3
_TAGS = tuple(f"o_{n}" for n in range(101, 109))
_FRAME_TYPES = ("first_frame", "end_frame")
_DEFAULT_MODEL, _DEFAULT_MODE, _DEFAULT_DURATION = "kling-v1", "std", "5"


class _ModelRules(NamedTuple):
    """What one model takes, from a row of the capability matrix as `shotlang models --format
    json` prints it. The matrix is the one fact the server shares with the compiler (so that
    a test of a refused combination proves the check and the server agree); the rules that
    read it below are the server's own.

    Where the matrix's sources disagree, the server takes what the believed claim offers and,
    for camera control, what any source offers (a writer may send a move `numeric` on a
    source's word). With `official_only`, it takes what Kling's own map offers wherever the map
    says something, and refuses the rest as the API would (400, 1201): a rehearsal of what the
    official API would say."""

    endpoints: tuple[str, ...]
    modes: tuple[str, ...]
    durations: tuple[str, ...]
    aspect_ratios: tuple[str, ...]
    # feature -> the (endpoint, mode, duration)s it is taken in
    offered: dict[str, frozenset[tuple[str, str, str]]]
    camera_types: dict[tuple[str, str, str], tuple[str, ...]]  # (endpoint, mode, duration) -> types taken
    # (feature, endpoint, mode, duration) -> features a request may not use beside it there
    without: dict[tuple[str, str, str, str], tuple[str, ...]]

    @classmethod
    def from_row(cls, row: dict[str, Any], official_only: bool = False) -> _ModelRules:
        features = row["features"]
        taken = {name: _taken(name, feature, official_only) for name, feature in features.items()}
        offered = {name: frozenset(cell[:3] for cell in cells) for name, cells in taken.items()}
        types: dict[tuple[str, str, str], tuple[str, ...]] = {}
        for cell in sorted(taken["camera"], key=lambda c: _CAMERA_TYPES.index(c[3] or "simple")):
            types[cell[:3]] = (*types.get(cell[:3], ()), cell[3] or "simple")
        without = {(name, f"/v1/videos/{o['endpoint']}", o["mode"], o["duration"]): tuple(o["without"])
                   for name, feature in features.items() for o in feature["offered"] if o.get("without")}
        return cls(tuple(f"/v1/videos/{e}" for e in row["endpoints"]), tuple(row["modes"]),
                   tuple(row["durations"]), tuple(row["aspect_ratios"]), offered, types, without)

    def takes(self, feature: str, endpoint: str, mode: str, duration: str) -> bool:
        return (endpoint, mode, duration) in self.offered.get(feature, frozenset())


def _taken(name: str, feature: dict[str, Any], official_only: bool) -> set[tuple[str, str, str, str | None]]:
    """The (endpoint, mode, duration, camera type)s a feature is taken in, from its row."""
    def cells(entries: list[dict[str, Any]]) -> set[tuple[str, str, str, str | None]]:
        found: set[tuple[str, str, str, str | None]] = set()
        for o in entries:
            for kind in o.get("types") or [o.get("type")]:
                found.add((f"/v1/videos/{o['endpoint']}", o["mode"], o["duration"], kind))
        return found

    if feature.get("settled"):
        return cells(feature["offered"])  # the user's own word (a models file): nothing else counts
    official = [c for c in feature.get("claims", []) if c["source"] == "official"]
    if official_only and official:
        return cells(official[0]["offered"])
    taken = cells(feature["offered"])
    if name == "camera" and not official_only:
        for claim in feature.get("claims", []):
            taken |= cells(claim["offered"])
    return taken


def _built_in_models() -> list[dict[str, Any]]:
    from shotlang.compiler.models import built_in, rows  # the data only: the capability matrix

    return list(rows(built_in()))


_SOUNDS = ("on", "off")
_CAMERA_TYPES = ("simple", "down_back", "forward_up", "right_turn_forward", "left_turn_forward")
_CAMERA_FIELDS = ("horizontal", "vertical", "zoom", "roll", "pan", "tilt")
_MAGNITUDE_MAX = 10  # each camera field: a number from -this to this
_CFG_MIN, _CFG_MAX = 0, 1
_TEXT_MAX_CHARS = 2500  # prompt and negative_prompt
_IMAGE_SIGNATURES = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")  # PNG, JPEG
_DYNAMIC_MASKS_MAX = 6
_TRAJECTORY_MIN_POINTS, _TRAJECTORY_MAX_POINTS = 2, 77
_VOICES_MAX = 2
_SHOT_TYPES = ("customize", "intelligence")
_SHOTS_MAX = 6  # multi_prompt entries
_SHOT_PROMPT_MAX_CHARS = 512
_LIST_PAGE_MAX = 500
_DUPLICATE_EXTERNAL_ID = 1201  # 400: an external_task_id already used
_INVALID_PARAMETERS = 1201  # 400: a body the API refuses
_OVER_CONCURRENCY = 1303  # 429: the account runs as many tasks as it may

# Every field a create body may hold, by endpoint ("Request body", and "Newer models and
# fields" for sound, voice_list, watermark_info and multi-shot); any other is refused by name.
_COMMON_FIELDS = ("model_name", "prompt", "negative_prompt", "cfg_scale", "mode", "duration", "camera_control",
                  "callback_url", "external_task_id", "sound", "voice_list", "watermark_info", "multi_shot",
                  "shot_type", "multi_prompt")


def _declared_options() -> dict[str, Any]:
    """The options the compiler sends as their value says (shotlang.compiler.language.AS_IS) whose field
    this server's own lists do not name yet, by field: a new option is taken, and its value
    checked by its own row (a text; one of its words' values; a number within its bounds), so an
    option added by the recipe in docs/contributing.md runs here without an edit. The fields
    listed above stay this server's own, a witness apart from the compiler's."""
    from shotlang.compiler.language import AS_IS  # the data only: each option's row

    return {o.field.partition(".")[0]: o for o in AS_IS if o.field.partition(".")[0] not in _COMMON_FIELDS}


_DECLARED = _declared_options()
_BODY_FIELDS = {_TEXT2VIDEO: (*_COMMON_FIELDS, *_DECLARED, "aspect_ratio"),
                _IMAGE2VIDEO: (*_COMMON_FIELDS, *_DECLARED, "image", "image_tail", "static_mask", "dynamic_masks",
                               "element_list"),
                _OMNI: ("model_name", "prompt", "multi_shot", "shot_type", "multi_prompt", "image_list", "element_list",
                        "video_list", "sound", "mode", "aspect_ratio", "duration", "watermark_info", "callback_url",
                        "external_task_id", *_DECLARED)}
# The fields of each object inside a body, by where it sits ("[]": each entry of a list).
_OBJECT_FIELDS = {
    "camera_control": ("type", "config"),
    "camera_control.config": _CAMERA_FIELDS,
    "dynamic_masks[]": ("mask", "trajectories"),
    "dynamic_masks[].trajectories[]": ("x", "y"),
    "watermark_info": ("enabled",),
    "voice_list[]": ("voice_id",),
    "multi_prompt[]": ("index", "prompt", "duration"),
    "image_list[]": ("image_url", "type"),
    "element_list[]": ("element_id",),
    "video_list[]": ("video_url", "refer_type", "keep_original_sound"),
}
_STRING_FIELDS = ("prompt", "negative_prompt", "mode", "aspect_ratio", "callback_url", "external_task_id",
                  "shot_type")


def _ok(data: Any) -> dict[str, Any]:
    return {"code": 0, "message": "SUCCEED", "request_id": uuid.uuid4().hex, "data": data}


def _error(code: int, message: str) -> dict[str, Any]:
    return {"code": code, "message": message, "request_id": uuid.uuid4().hex, "data": None}


def _present(value: Any) -> Any:
    """`value` with every null field of every object dropped: the API reads null as absent."""
    if isinstance(value, dict):
        return {key: _present(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_present(item) for item in value]
    return value


def _is_number(value: Any) -> bool:
    """A JSON number (int or float, finite), not a boolean."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _is_integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class _Create(NamedTuple):
    """A create body (nulls dropped) and what several rules read from it."""

    endpoint: str
    body: dict[str, Any]
    model_name: str
    model: _ModelRules
    mode: Any

    @property
    def image(self) -> bool:  # to image2video, or an omni request with a start frame
        return self.endpoint == _IMAGE2VIDEO or self.frame("first_frame")

    def frame(self, kind: str) -> bool:
        """An omni request's image_list holds a frame of this type."""
        images = self.body.get("image_list")
        return self.endpoint == _OMNI and isinstance(images, list) and any(
            isinstance(i, dict) and i.get("type") == kind for i in images)

    def multi_shot_customize(self) -> bool:
        return self.body.get("multi_shot") is True and self.body.get("shot_type") == "customize"

    @property
    def combination(self) -> tuple[str, str, str]:
        """This request's endpoint, mode and duration: what the capability matrix is read by."""
        return self.endpoint, str(self.mode), str(self.body.get("duration", _DEFAULT_DURATION))

    def takes(self, feature: str) -> bool:
        """Whether the model takes `feature` in this request's combination."""
        return self.model.takes(feature, *self.combination)

    def refused(self, field: str) -> str:
        return (f"model/mode/duration({self.model_name}/{self.mode}/{self.body.get('duration', _DEFAULT_DURATION)}) "
                f"is not supported with {field}")


def _validate(endpoint: str, body: dict[str, Any], models: dict[str, _ModelRules]) -> str | None:
    """The API's rules for a create body with its nulls dropped; a message if one is broken."""
    problem = _unknown_field(body, endpoint) or _model_problem(endpoint, body, models)
    if problem is not None:
        return problem
    name = body.get("model_name", _DEFAULT_MODEL)
    create = _Create(endpoint, body, name, models[name],
                     body.get("mode", _OMNI_DEFAULT_MODE if endpoint == _OMNI else _DEFAULT_MODE))
    for rule in _RULES:
        problem = rule(create)
        if problem is not None:
            return problem
    return None


def _validate_element(body: dict[str, Any]) -> str | None:
    """The API's rules for an element's create body (nulls dropped); a message if one is broken."""
    for key in body:
        if key not in _ELEMENT_FIELDS:
            return f"invalid parameter {key}: not a field of advanced-custom-elements"
    name, description = body.get("element_name"), body.get("element_description")
    if not isinstance(name, str) or not 1 <= len(name) <= _ELEMENT_NAME_MAX:
        return f"element_name must be text of 1 to {_ELEMENT_NAME_MAX} characters"
    if not isinstance(description, str) or not 1 <= len(description) <= _ELEMENT_DESCRIPTION_MAX:
        return f"element_description must be text of 1 to {_ELEMENT_DESCRIPTION_MAX} characters"
    kind = body.get("reference_type")
    if kind == "image_refer":
        images = body.get("element_image_list")
        if not isinstance(images, dict) or set(images) - {"frontal_image", "refer_images"}:
            return "element_image_list must hold frontal_image and refer_images"
        problem = _image_problem("element_image_list.frontal_image", images.get("frontal_image"))
        if problem is not None:
            return problem
        refer = images.get("refer_images")
        if not isinstance(refer, list) or not _REFER_IMAGES_MIN <= len(refer) <= _REFER_IMAGES_MAX:
            return f"refer_images must hold {_REFER_IMAGES_MIN} to {_REFER_IMAGES_MAX} images"
        for i, image in enumerate(refer):
            if not isinstance(image, dict) or set(image) != {"image_url"}:
                return f"refer_images[{i}] must be an object with image_url"
            problem = _image_problem(f"refer_images[{i}].image_url", image["image_url"])
            if problem is not None:
                return problem
        if "element_video_list" in body:
            return "element_video_list is for reference_type video_refer"
    elif kind == "video_refer":
        videos = body.get("element_video_list")
        refer = videos.get("refer_videos") if isinstance(videos, dict) else None
        if not (isinstance(refer, list) and len(refer) == 1 and isinstance(refer[0], dict)
                and isinstance(refer[0].get("video_url"), str)
                and urlparse(refer[0]["video_url"]).path.lower().endswith((".mp4", ".mov"))):
            return "element_video_list.refer_videos must hold one .mp4 or .mov video_url"
        if "element_image_list" in body:
            return "element_image_list is for reference_type image_refer"
    else:
        return "reference_type must be image_refer or video_refer"
    tags = body.get("tag_list", [])
    if not (isinstance(tags, list) and all(isinstance(t, dict) and t.get("tag_id") in _TAGS and len(t) == 1
                                           for t in tags)):
        return f"tag_list must be a list of {{tag_id}}, each one of {', '.join(_TAGS)}"
    for key in ("element_voice_id", "callback_url", "external_task_id"):
        if key in body and not isinstance(body[key], str):
            return f"{key} must be a string"
    return None


def _unknown_field(value: Any, endpoint: str, where: str = "", shown: str = "") -> str | None:
    """The first field, at any depth, that the API does not take (`where` is the place in
    _OBJECT_FIELDS' terms, `shown` the same with list indexes, for the message)."""
    if isinstance(value, dict):
        known = _BODY_FIELDS[endpoint] if not where else _OBJECT_FIELDS.get(where)
        for key, item in value.items():
            name = f"{shown}.{key}" if shown else str(key)
            if known is not None and key not in known:
                return f"invalid parameter {name}: not a field of {endpoint.rsplit('/', 1)[1]}" + (
                    f" (takes {', '.join(known)})" if where else "")
            problem = _unknown_field(item, endpoint, f"{where}.{key}" if where else str(key), name)
            if problem is not None:
                return problem
    elif isinstance(value, list):
        for i, item in enumerate(value):
            problem = _unknown_field(item, endpoint, f"{where}[]", f"{shown}[{i}]")
            if problem is not None:
                return problem
    return None


def _model_problem(endpoint: str, body: dict[str, Any], models: dict[str, _ModelRules]) -> str | None:
    name = body.get("model_name", _DEFAULT_MODEL)
    if not isinstance(name, str) or name not in models:
        return "model_name is not supported"
    if endpoint not in models[name].endpoints:
        return f"model_name {name} does not support this task type"
    return None


def _strings(create: _Create) -> str | None:
    for key in _STRING_FIELDS:
        if key in create.body and not isinstance(create.body[key], str):
            return f"{key} must be a string"
    return None


def _declared(create: _Create) -> str | None:
    """A field of _DECLARED holds what its option's row says it takes."""
    for key, option in _DECLARED.items():
        if key not in create.body:
            continue
        value = create.body[key]
        inner = option.field.partition(".")[2]
        if inner:
            if not isinstance(value, dict) or set(value) != {inner}:
                return f"invalid parameter {key}: an object with {inner} alone"
            value = value[inner]
        if option.values is not None:
            if not any(value == v and type(value) is type(v) for v in option.values.values()):
                return f"invalid parameter {key}: {value!r}"
        elif option.bounds is not None:
            number = isinstance(value, int | float) and not isinstance(value, bool)
            if not number or not option.bounds.low <= value <= option.bounds.high or (
                    option.bounds.whole and not isinstance(value, int)):
                return f"invalid parameter {key}: {value!r} is out of range"
        elif not isinstance(value, str):
            return f"{key} must be a string"
    return None


def _prompt(create: _Create) -> str | None:
    # Multi-shot "customize" writes its prompts in multi_prompt: no prompt needed then.
    if not create.image and not create.body.get("prompt") and not create.multi_shot_customize():
        return "prompt is required"
    for key in ("prompt", "negative_prompt"):
        if len(create.body.get(key, "")) > _TEXT_MAX_CHARS:
            return f"{key} is too long (at most {_TEXT_MAX_CHARS} characters)"
    return None


def _image_problem(name: str, value: Any) -> str | None:
    """An image field: an http(s) URL as is, else Base64 (no data: prefix) of a PNG or JPEG."""
    if not isinstance(value, str):
        return f"{name} must be an http(s) URL or Base64 text"
    url = urlparse(value)
    if url.scheme.lower() in ("http", "https") and url.netloc:
        return None
    if value.startswith("data:"):
        return f"{name} must be Base64 without a data: prefix"
    try:
        data = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return f"{name} is neither an http(s) URL nor valid Base64"
    if not data.startswith(_IMAGE_SIGNATURES):
        return f"{name} does not decode to a PNG or JPEG image"
    return None


def _omni_images(create: _Create) -> str | None:
    """An omni request's image_list: images, each a start or an end frame or a reference; one
    start and one end frame at most, an end frame only with a start frame and where the model
    takes it; an aspect ratio unless a start frame gives it."""
    if create.endpoint != _OMNI:
        return None
    images = create.body.get("image_list")
    if images is not None:
        if not isinstance(images, list) or not images:
            return "image_list must be a list of images"
        for i, image in enumerate(images):
            if not isinstance(image, dict) or "image_url" not in image:
                return f"image_list[{i}] needs an image_url"
            problem = _image_problem(f"image_list[{i}].image_url", image["image_url"])
            if problem is not None:
                return problem
            if image.get("type", _FRAME_TYPES[0]) not in _FRAME_TYPES:
                return f"image_list[{i}].type must be {' or '.join(_FRAME_TYPES)}"
        for kind in _FRAME_TYPES:
            if sum(isinstance(i, dict) and i.get("type") == kind for i in images) > 1:
                return f"image_list has more than one {kind}"
    if create.frame("end_frame"):
        if not create.frame("first_frame"):
            return "an end_frame needs a first_frame"
        if not create.takes("image_tail"):
            return create.refused("end_frame")
    if "aspect_ratio" not in create.body and not create.frame("first_frame"):
        return "aspect_ratio is required without a first_frame"
    videos = create.body.get("video_list")
    if videos is not None:
        if not (isinstance(videos, list) and len(videos) <= 1):
            return "video_list must be a list of at most one video"
        for video in videos:
            if not (isinstance(video, dict) and isinstance(video.get("video_url"), str)
                    and video.get("refer_type", "base") in ("feature", "base")
                    and video.get("keep_original_sound", "no") in ("yes", "no")):
                return "video_list[0] needs a video_url, a refer_type feature or base, keep_original_sound yes or no"
        if videos and create.body.get("sound", "off") != "off":
            return "sound must be off when a video is given"
    return None


def _images(create: _Create) -> str | None:
    if create.endpoint != _IMAGE2VIDEO:
        return None
    if not (create.body.get("image") or create.body.get("image_tail")):
        return "image or image_tail is required"
    for key in ("image", "image_tail", "static_mask"):
        problem = _image_problem(key, create.body[key]) if key in create.body else None
        if problem is not None:
            return problem
    return None


def _duration(create: _Create) -> str | None:
    duration = create.body.get("duration", _DEFAULT_DURATION)
    if not isinstance(duration, str):
        return 'duration must be a string of seconds, such as "5"'
    if duration not in create.model.durations:
        return f"duration {duration} is invalid for {create.model_name} (takes {', '.join(create.model.durations)})"
    return None


def _mode(create: _Create) -> str | None:
    return None if create.mode in create.model.modes else f"mode is invalid for {create.model_name}"


def _aspect_ratio(create: _Create) -> str | None:
    ratio = create.body.get("aspect_ratio")
    return None if ratio is None or ratio in create.model.aspect_ratios else "aspect_ratio is invalid"


def _cfg_scale(create: _Create) -> str | None:
    if "cfg_scale" not in create.body:
        return None
    scale = create.body["cfg_scale"]
    if not (_is_number(scale) and _CFG_MIN <= scale <= _CFG_MAX):
        return f"cfg_scale must be a number from {_CFG_MIN} to {_CFG_MAX}"
    return None if create.takes("cfg") else create.refused("cfg_scale")


def _sound(create: _Create) -> str | None:
    if "sound" not in create.body:
        return None
    sound = create.body["sound"]
    if not any(offer[0] == create.endpoint for offer in create.model.offered.get("sound", ())):
        return f"sound is invalid for this model ({create.model_name} makes no audio)"
    if sound not in _SOUNDS:
        return f"sound must be {' or '.join(_SOUNDS)}"
    if sound == "on" and not create.takes("sound"):
        return create.refused("sound on")
    return None


def _voice_list(create: _Create) -> str | None:
    if "voice_list" not in create.body:
        return None
    voices = create.body["voice_list"]
    if not create.takes("voice"):
        return create.refused("voice_list")
    if create.body.get("sound") != "on":
        return 'voice_list needs sound "on"'
    if not isinstance(voices, list) or not 1 <= len(voices) <= _VOICES_MAX:
        return f"voice_list must hold 1 to {_VOICES_MAX} voices"
    for i, voice in enumerate(voices):
        voice_id = voice.get("voice_id") if isinstance(voice, dict) else None
        if not isinstance(voice_id, str) or not voice_id:
            return f"voice_list[{i}].voice_id must be a non-empty string"
    return None


def _watermark(create: _Create) -> str | None:
    if "watermark_info" not in create.body:
        return None
    watermark = create.body["watermark_info"]
    if not isinstance(watermark, dict) or not isinstance(watermark.get("enabled"), bool):
        return "watermark_info.enabled must be true or false"
    return None


def _camera(create: _Create) -> str | None:
    camera = create.body.get("camera_control")
    if camera is None:
        return None
    if not isinstance(camera, dict) or camera.get("type") not in _CAMERA_TYPES:
        return f"camera_control.type is invalid (takes {', '.join(_CAMERA_TYPES)})"
    config = camera.get("config")
    if camera["type"] != "simple" and config is not None:
        return f"camera_control.config is not taken by type {camera['type']}: omit it"
    if camera["type"] not in create.model.camera_types.get(create.combination, ()):
        return create.refused(f"camera_control type {camera['type']}")
    if camera["type"] != "simple":
        return None
    if not isinstance(config, dict):
        return "camera_control.config is required with type simple"
    # Fields left out are 0; each value is a number (fractions too), exactly one non-zero.
    for key, value in config.items():
        if not _is_number(value) or abs(value) > _MAGNITUDE_MAX:
            return f"camera_control.config.{key} must be a number from -{_MAGNITUDE_MAX} to {_MAGNITUDE_MAX}"
    if sum(1 for value in config.values() if value != 0) != 1:
        return "invalid camera_control.config: exactly one field must be non-zero in simple mode"
    return None


def _end_frame_and_masks(create: _Create) -> str | None:
    if "image_tail" in create.body and not create.takes("image_tail"):
        return create.refused("image_tail")
    if "image_tail" in create.body and create.body.get("sound") == "on" and "sound" in create.model.without.get(
            ("image_tail", *create.combination), ()):
        return create.refused("image_tail and sound on")
    if any(key in create.body for key in ("static_mask", "dynamic_masks")) and not create.takes("masks"):
        return create.refused("static_mask or dynamic_masks")
    return None


def _camera_alone(create: _Create) -> str | None:
    # Image-to-video: camera control, an end frame and masks exclude each other.
    if create.image and "camera_control" in create.body and any(
            key in create.body for key in ("image_tail", "static_mask", "dynamic_masks")):
        return "camera_control cannot be combined with image_tail or masks"
    return None


def _dynamic_masks(create: _Create) -> str | None:
    masks = create.body.get("dynamic_masks")
    if masks is None:
        return None
    if not isinstance(masks, list) or len(masks) > _DYNAMIC_MASKS_MAX:
        return f"dynamic_masks must be a list of at most {_DYNAMIC_MASKS_MAX} masks"
    for i, mask in enumerate(masks):
        where = f"dynamic_masks[{i}]"
        if not isinstance(mask, dict):
            return f"{where} must be an object with mask and trajectories"
        problem = _image_problem(f"{where}.mask", mask.get("mask"))
        if problem is not None:
            return problem
        points = mask.get("trajectories")
        if not isinstance(points, list) or not _TRAJECTORY_MIN_POINTS <= len(points) <= _TRAJECTORY_MAX_POINTS:
            return f"{where}.trajectories must hold {_TRAJECTORY_MIN_POINTS} to {_TRAJECTORY_MAX_POINTS} points"
        for j, point in enumerate(points):
            if not isinstance(point, dict) or not all(_is_integer(point.get(axis)) for axis in ("x", "y")):
                return f"{where}.trajectories[{j}] must have integer x and y"
    return None


def _multi_shot(create: _Create) -> str | None:
    """multi_shot true and shot_type go together; multi_prompt belongs to "customize" only."""
    multi, shot_type = create.body.get("multi_shot", False), create.body.get("shot_type")
    if not isinstance(multi, bool):
        return "multi_shot must be true or false"
    if multi and not create.takes("multi_shot"):
        return create.refused("multi_shot")
    if multi and shot_type is None:
        return f"multi_shot needs a shot_type ({' or '.join(_SHOT_TYPES)})"
    if shot_type is not None and not multi:
        return "shot_type needs multi_shot true"
    if shot_type is not None and shot_type not in _SHOT_TYPES:
        return f"shot_type must be {' or '.join(_SHOT_TYPES)}"
    if "multi_prompt" in create.body and not create.multi_shot_customize():
        return "multi_prompt needs multi_shot true and shot_type customize"
    if create.multi_shot_customize() and "multi_prompt" not in create.body:
        return "shot_type customize needs multi_prompt"
    return None


def _multi_prompt(create: _Create) -> str | None:
    shots = create.body.get("multi_prompt")
    if shots is None:
        return None
    if not isinstance(shots, list) or not 1 <= len(shots) <= _SHOTS_MAX:
        return f"multi_prompt must hold 1 to {_SHOTS_MAX} shots"
    total = 0
    for number, shot in enumerate(shots, 1):
        where = f"multi_prompt[{number - 1}]"
        if not isinstance(shot, dict):
            return f"{where} must be an object with index, prompt and duration"
        if not _is_integer(shot.get("index")) or shot["index"] != number:
            return f"{where}.index must be {number}: shots are numbered from 1, in order"
        prompt = shot.get("prompt")
        if not isinstance(prompt, str) or len(prompt) > _SHOT_PROMPT_MAX_CHARS:
            return f"{where}.prompt must be a string of at most {_SHOT_PROMPT_MAX_CHARS} characters"
        seconds = shot.get("duration")
        if not isinstance(seconds, str) or not re.fullmatch(r"[1-9][0-9]*", seconds):
            return f'{where}.duration must be whole seconds as a string, such as "3"'
        total += int(seconds)
    duration = create.body.get("duration", _DEFAULT_DURATION)
    if str(total) != duration:
        return f"multi_prompt durations add up to {total}, not the duration {duration}"
    return None


def _elements(create: _Create) -> str | None:
    """element_list (../shared/kling-api.md, "Elements"): where the model takes elements; at most
    3 with a start frame, images and elements at most 4 with a reference video, else 7."""
    elements = create.body.get("element_list")
    if elements is None:
        return None
    if not (isinstance(elements, list) and elements and all(
            isinstance(e, dict) and isinstance(e.get("element_id"), str | int) for e in elements)):
        return "element_list must be a list of {element_id}"
    if not create.takes("elements"):
        return create.refused("element_list")
    listed = create.body.get("image_list")
    images = listed if isinstance(listed, list) else []
    if create.body.get("video_list"):
        most, why = _ELEMENTS_WITH_VIDEO - len(images), "images and elements with a reference video"
    elif create.image:
        most, why = _ELEMENTS_WITH_FRAME, "elements with a start frame"
    else:
        most, why = _ELEMENTS_MAX, "elements"
    if len(elements) > most:
        return f"element_list: too many {why} ({len(elements)})"
    return None


_ELEMENTS_MAX, _ELEMENTS_WITH_FRAME, _ELEMENTS_WITH_VIDEO = 7, 3, 4


# In order: the first broken rule answers.
_RULES: tuple[Callable[[_Create], str | None], ...] = (
    _strings, _declared, _prompt, _images, _omni_images, _duration, _mode, _aspect_ratio, _cfg_scale, _sound, _voice_list,
    _watermark, _camera, _end_frame_and_masks, _camera_alone, _dynamic_masks, _multi_shot, _multi_prompt, _elements,
)
