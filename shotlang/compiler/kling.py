"""The Kling video API's contract: one place for every fact about it.

Endpoints, field limits, model capabilities, error codes and prices live here and nowhere
else; the checks, the client, the docs and the tests read them from here (the shapes of the
request and response bodies are in bodies.py). Sources: ../shared/kling-api.md and the seed
document on camera control. Plain data only, so `shotlang check` loads it in no time.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal, NamedTuple, get_args

# Each set of values the API takes is written once, as a type; the tuples the code loops over
# are read from it (get_args), so a type and its values cannot drift apart.

# The only paths shotlang ever sends a request (and so a token) to: these, and one task under them.
Endpoint = Literal["/v1/videos/text2video", "/v1/videos/image2video", "/v1/videos/omni-video"]
ENDPOINTS: tuple[Endpoint, ...] = get_args(Endpoint)
TEXT2VIDEO, IMAGE2VIDEO, OMNI_VIDEO = ENDPOINTS
# The omni endpoint (kling-v3-omni, kling-video-o1) takes text and images alike, its frames in
# image_list; of the fields of text2video and image2video it has none of these
# (../shared/kling-api.md, "Omni video").
OMNI_WITHOUT = ("negative_prompt", "cfg_scale", "camera_control", "static_mask", "dynamic_masks", "voice_list")
# An omni request needs an aspect ratio unless a first frame gives it: shotlang's, when none is written.
DEFAULT_ASPECT = "16:9"
# An omni request's frames (image_list entries by `type`) and the image2video fields they stand for.
FRAME_FIELDS: dict[str, str] = {"first_frame": "image", "end_frame": "image_tail"}
# Elements: a cast member or object made once from reference images, then named in requests
# (../shared/kling-api.md, "Elements"). Made at their own path, as tasks, and not billed.
ElementsPath = Literal["/v1/general/advanced-custom-elements"]
ELEMENTS: ElementsPath = "/v1/general/advanced-custom-elements"
# Every path a task is created at and queried under: the video endpoints, and the elements'.
TaskPath = Literal[Endpoint, ElementsPath]
TASK_PATHS: tuple[TaskPath, ...] = (*ENDPOINTS, ELEMENTS)
ELEMENT_NAME_MAX_CHARS = 20
ELEMENT_DESCRIPTION_MAX_CHARS = 100
ELEMENT_REFER_IMAGES = (1, 3)  # besides the front image
ELEMENT_REFERENCE = "<<<element_{}>>>"  # how a prompt names element n of element_list
ELEMENTS_MAX = 7  # elements a request may name
ELEMENTS_MAX_WITH_FRAME = 3  # ... when it has a start frame
ELEMENTS_WITH_VIDEO = 4  # images and elements, with a reference video
# Takes: generations of one shot, each a paid request of its own (shotlang's, not Kling's).
TAKES_MAX = 9
# A video reference (omni-video's video_list): "feature" to continue a shot; the prompt then says so
# (../shared/kling-api.md, "Omni video": the documented way to continue a shot).
NEXT_SHOT = "Based on <<<video_1>>>, generate the next shot."
# Task ids and external ids as they may appear in a path segment (checked before any request).
ID_PATTERN = r"(?!\.+$)[A-Za-z0-9._=-]{1,128}"

# The six fields of a simple camera_control config, in the seed's order.
CAMERA_FIELDS = ("horizontal", "vertical", "zoom", "roll", "pan", "tilt")
# camera_control.type: "simple" (with a config), or a preset compound move (without one).
CameraPreset = Literal["down_back", "forward_up", "right_turn_forward", "left_turn_forward"]
CAMERA_PRESETS: tuple[CameraPreset, ...] = get_args(CameraPreset)
CameraType = Literal["simple", CameraPreset]
CAMERA_TYPES: tuple[CameraType, ...] = get_args(CameraType)
MAGNITUDE_MAX = 10  # each camera field is a number (fractions too) from -this to this

TEXT_MAX_CHARS = 2500  # prompt and negative_prompt
CFG_MIN, CFG_MAX = 0.0, 1.0
CFG_DEFAULT = 0.5  # the API's, when a body has no cfg_scale
Mode = Literal["std", "pro"]
MODES: tuple[Mode, ...] = get_args(Mode)
DEFAULT_MODE: Mode = "std"  # the API's, when a body has no mode
# Durations are whole seconds, sent as strings; which ones each model renders is in the
# capability matrix (models.toml). Longer than this is a typo, not a clip.
DURATION_MAX = 600
# A multi-shot request's shot_type: the caller writes each shot (shotlang's sequences), or the
# model splits one prompt.
ShotType = Literal["customize", "intelligence"]
Sound = Literal["on", "off"]
SOUNDS: tuple[Sound, ...] = get_args(Sound)

# Multi-shot generation (multi_shot: true, shot_type "customize"): each shot's prompt and
# duration in multi_prompt, the durations adding up to the request's (reported, not confirmed).
MULTI_SHOT_MIN, MULTI_SHOT_MAX = 1, 6
MULTI_PROMPT_MAX_CHARS = 512
# voice_list: up to this many {"voice_id": ...}; the prompt names each as <<<voice_1>>>, ...
VOICES_MAX = 2
VOICE_REFERENCE = "<<<voice_{}>>>"

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
IMAGE_MAX_BYTES = 10 * 1024 * 1024
IMAGE_MIN_SIDE = 300
IMAGE_MAX_RATIO = 2.5  # the longer side over the shorter one, at most
DYNAMIC_MASKS_MAX = 6
TRAJECTORY_MIN_POINTS, TRAJECTORY_MAX_POINTS = 2, 77
EXTERNAL_ID_MAX_CHARS = 64  # the API sets no documented limit; shotlang keeps ids short and safe


def as_endpoint(value: str) -> Endpoint:
    """`value` as one of the endpoints, for text read from elsewhere (a record, a file);
    ValueError for any other path."""
    for endpoint in ENDPOINTS:
        if value == endpoint:
            return endpoint
    raise ValueError(f"{value!r} is not a Kling endpoint")


# Which model offers what (endpoints, modes, durations, aspect ratios, camera control, sound...)
# is the capability matrix: data in models.toml, read by models.py, which users can extend.
# The seed's main model, and one that takes camera control: shotlang always sends a model.
DEFAULT_MODEL = "kling-v2-6"
# The API's own default, for a body with no model_name (decompile reads such bodies).
API_DEFAULT_MODEL = "kling-v1"
DEFAULT_DURATION = "5"
# What the API assumes for a field a body leaves out: a body that writes one of these out asks
# for the same video as one that does not (run's state treats them as one request, so `5s std`
# after `5s` is not paid for again). Source: Kling's reference, text2video and image2video
# request bodies ("Default to ..."), copy of 2026-03 (artykrd/ai-bot-misha docs/kling_full.md,
# committed 2026-03-27); mode and cfg_scale also ../shared/kling-api.md.
API_DEFAULTS: dict[str, dict[str, object]] = {
    TEXT2VIDEO: {"model_name": API_DEFAULT_MODEL, "mode": DEFAULT_MODE, "cfg_scale": CFG_DEFAULT,
                 "duration": DEFAULT_DURATION, "sound": "off", "multi_shot": False, "aspect_ratio": "16:9"},
    IMAGE2VIDEO: {"model_name": API_DEFAULT_MODEL, "mode": DEFAULT_MODE, "cfg_scale": CFG_DEFAULT,
                  "duration": DEFAULT_DURATION, "sound": "off", "multi_shot": False},
    # ../shared/kling-api.md, "Omni video": `mode` (default pro); no other default is documented.
    OMNI_VIDEO: {"mode": "pro"},
}


def default_mode(endpoint: str) -> Mode:
    """The mode a request to `endpoint` renders in when it names none: std; pro at omni-video."""
    return "pro" if API_DEFAULTS.get(endpoint, {}).get("mode") == "pro" else DEFAULT_MODE


# --- hosts, auth, responses ------------------------------------------------------------------

DEFAULT_API_BASE = "https://api-singapore.klingai.com"
TOKEN_LIFETIME = 1800  # seconds: the JWT's exp is now + this
TOKEN_NOT_BEFORE_SKEW = 5  # seconds: nbf is now - this
# A task's task_status: generating, then finished one way or the other. Any other status (say
# "canceled") is not refused but reported: the API may add one before shotlang knows it.
RunningStatus = Literal["submitted", "processing"]
FinalStatus = Literal["succeed", "failed"]
TaskStatus = Literal[RunningStatus, FinalStatus]
TASK_STATUSES: tuple[TaskStatus, ...] = get_args(TaskStatus)
TASK_RUNNING: tuple[RunningStatus, ...] = get_args(RunningStatus)
TASK_FINAL: tuple[FinalStatus, ...] = get_args(FinalStatus)
# The list endpoint's largest page (pageSize 1 to 500; reported, not confirmed).
LIST_PAGE_MAX = 500
# No answer of the API is this large; a bigger one is not read (a hostile or broken server).
RESPONSE_MAX_BYTES = 8 * 1024 * 1024


class ErrorAction(StrEnum):
    """What a client does about an API error (the table in ../shared/kling-api.md)."""

    REFRESH_TOKEN = "refresh_token"  # 401: make a new token once, else stop the run
    STOP_RUN = "stop_run"  # the account cannot pay or is blocked: no retry helps
    FAIL_SHOT = "fail_shot"  # this request is wrong or refused: report it, go on with others
    RETRY = "retry"  # rate limit or server trouble: back off and try again
    WAIT_AND_RETRY = "wait_and_retry"  # over the concurrency limit: wait for a task to end


# What shotlang does about each, as docs/running.md's table of Kling's codes says it (written
# from here by `python -m shotlang.tools.docs`; {auth}, {shots_failed}, {stopped}: the exit codes).
ACTION_SAYS: dict[ErrorAction, str] = {
    ErrorAction.REFRESH_TOKEN: "makes a new token and tries once more; refused again, the run stops (exit {auth})",
    ErrorAction.STOP_RUN: "stops the run: no retry would pay; shots in flight stay in the state (exit {stopped})",
    ErrorAction.FAIL_SHOT: "fails that shot with the API's message; the others go on (exit {shots_failed})",
    ErrorAction.RETRY: "waits and tries again, with backoff (a `Retry-After` of seconds or a date is honoured)",
    ErrorAction.WAIT_AND_RETRY: "not created: keeps fewer tasks at once and sends it when one of the run's ends",
}


class ApiError(NamedTuple):
    http: int
    meaning: str
    action: ErrorAction


ERRORS: dict[int, ApiError] = {
    **{c: ApiError(401, "authentication failed", ErrorAction.REFRESH_TOKEN) for c in range(1000, 1005)},
    1100: ApiError(429, "account abnormal", ErrorAction.STOP_RUN),
    1101: ApiError(429, "account in arrears", ErrorAction.STOP_RUN),
    1102: ApiError(429, "resource pack used up or expired", ErrorAction.STOP_RUN),
    1103: ApiError(403, "no permission for this resource or model", ErrorAction.FAIL_SHOT),
    1200: ApiError(400, "invalid request parameters", ErrorAction.FAIL_SHOT),
    1201: ApiError(400, "invalid request parameters", ErrorAction.FAIL_SHOT),
    1202: ApiError(404, "wrong request method", ErrorAction.FAIL_SHOT),
    1203: ApiError(404, "the resource does not exist", ErrorAction.FAIL_SHOT),
    1300: ApiError(400, "platform policy triggered", ErrorAction.FAIL_SHOT),
    1301: ApiError(400, "content safety triggered", ErrorAction.FAIL_SHOT),
    1302: ApiError(429, "request rate too high", ErrorAction.RETRY),
    1303: ApiError(429, "concurrency or QPS over the account's limit", ErrorAction.WAIT_AND_RETRY),
    1304: ApiError(429, "IP allow-list policy", ErrorAction.STOP_RUN),
    5000: ApiError(500, "server error", ErrorAction.RETRY),
    5001: ApiError(503, "server unavailable", ErrorAction.RETRY),
    5002: ApiError(504, "server timeout", ErrorAction.RETRY),
}
# The code a create answers when its external_task_id was used before (the task exists). The
# same code also means "invalid parameters": the message tells them apart ("external_task_id
# already exists"), so a 1201 whose message names the id is read as "the task exists".
DUPLICATE_EXTERNAL_ID_CODE = 1201
DUPLICATE_MESSAGE_WORDS = ("external", "exist")
# Over the account's concurrency: the create was refused (not created); wait for a task to end.
[OVER_CONCURRENCY_CODE] = [code for code, e in ERRORS.items() if e.action is ErrorAction.WAIT_AND_RETRY]
NOT_FOUND_CODES = (1203,)


def error_action(http: int, code: int | None) -> ErrorAction:
    """What to do about an error response, by its code, else by its HTTP status."""
    if code is not None and code in ERRORS:
        return ERRORS[code].action
    if http == 401:
        return ErrorAction.REFRESH_TOKEN
    if http == 429 or http >= 500:
        return ErrorAction.RETRY
    return ErrorAction.FAIL_SHOT


# --- prices (for estimates) ------------------------------------------------------------------
# Credits per generation are in the capability matrix (models.toml), beside each model; they
# change, so a models file or the config file can override them (docs/running.md).
USD_PER_CREDIT = 0.14
