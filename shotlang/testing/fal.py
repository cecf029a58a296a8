"""The local fal server: fal's queue API for the Kling apps fal hosts, and the two calls of fal's
platform API that shotlang makes (the request listing and the prices), on one port.

    from shotlang.testing import FakeFal, FalFault

    with FakeFal(polls=2, max_running=2) as fal:       # starts on a free port
        env = fal.env()                                # FAL_KEY and FAL_API_BASE
        fal.inject(FalFault("lose", on="submit"))      # a request made whose answer is lost
        ...                                            # run your client against fal.url
        assert len(fal.created()) == 3                 # requests made: what the account pays

Its rules are written here from fal's own documents (the sources are named where each rule is
used) and not read from shotlang's translation to fal, so that it stays an independent witness of
what shotlang sends, as rules.py is for Kling. Where fal documents nothing, the server takes the
stricter reading and says so: a field an app does not define is refused (422), so a translation
bug shows at once rather than being ignored by a lenient app.
"""

from __future__ import annotations

import base64
import binascii
import heapq
import json
import re
import secrets
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from typing import Any, Literal, NamedTuple
from urllib.parse import parse_qs, urlparse

from .server import VIDEO, LocalHandler, LocalServer, Stats
from .videos import clip

__all__ = ["APPS", "PRICES", "FakeFal", "FalApp", "FalFault", "FalStats", "validate"]

# --- the apps and their inputs ------------------------------------------------------------------
# From the generated input types of every public endpoint in fal's JS client (@fal-ai/client
# 1.10.1, src/types/endpoints.d.ts, EndpointTypeMap), cross-checked with the models' llms.txt pages
# (https://fal.ai/models/<app>/llms.txt). Each field's kind is one of _KINDS' keys.
_TEXT, _URL, _URLS, _DURATION, _ASPECT, _CFG, _BOOL = "text", "url", "urls", "duration", "aspect", "cfg", "bool"
_CAMERA_PRESET, _CAMERA_MOVE, _MASKS = "camera_preset", "camera_move", "masks"
_MULTI_PROMPT, _SHOT_TYPE, _ELEMENTS, _VOICES = "multi_prompt", "shot_type", "elements", "voices"

_ASPECT_RATIOS = ("16:9", "9:16", "1:1")
_CAMERA_PRESETS = ("down_back", "forward_up", "right_turn_forward", "left_turn_forward")
_MOVEMENT_TYPES = ("horizontal", "vertical", "pan", "tilt", "roll", "zoom")
_SHOT_TYPES = ("customize", "intelligent")
_ELEMENT_FIELDS = {"frontal_image_url": _URL, "reference_image_urls": _URLS, "video_url": _URL, "voice_id": _TEXT}
# v2.6 pro image-to-video: "maximum 2 voices per task"; v3 elements: 1 to 3 reference images.
_VOICES_MAX, _REFERENCES_MIN, _REFERENCES_MAX = 2, 1, 3
_FIVE_OR_TEN = ("5", "10")
_THREE_TO_FIFTEEN = tuple(str(n) for n in range(3, 16))
_THREE_TO_TEN = tuple(str(n) for n in range(3, 11))
_SHOT_SECONDS = tuple(str(n) for n in range(1, 16))  # a multi_prompt shot's duration, "1" to "15"


@dataclass(frozen=True)
class FalApp:
    """What one app takes: each field and its kind, the fields it needs, its durations.

    `prompt_or_shots`: prompt and multi_prompt are not both given, and (on text-to-video) one is:
    v3 text-to-video's "Either prompt or multi_prompt must be provided, but not both", taken for
    every app that has both as options; an image-to-video app may have neither."""

    fields: Mapping[str, str]
    required: tuple[str, ...]
    durations: tuple[str, ...] = _FIVE_OR_TEN
    prompt_or_shots: Literal["", "not both", "exactly one"] = ""


def _app(required: tuple[str, ...], kinds: Mapping[str, str], durations: tuple[str, ...] = _FIVE_OR_TEN,
         text_only: bool = False) -> FalApp:
    assert set(required) <= set(kinds), "a required field needs a kind"
    shots: Literal["", "not both", "exactly one"] = ""
    if "multi_prompt" in kinds and "prompt" not in required:
        shots = "exactly one" if text_only else "not both"
    return FalApp(dict(kinds), required, durations, shots)


_T2V = {"prompt": _TEXT, "negative_prompt": _TEXT, "duration": _DURATION, "aspect_ratio": _ASPECT,
        "cfg_scale": _CFG}
_I2V = {"prompt": _TEXT, "image_url": _URL, "negative_prompt": _TEXT, "duration": _DURATION, "cfg_scale": _CFG}
_PROMPT, _PROMPT_AND_IMAGE = ("prompt",), ("prompt", "image_url")
_MASKED = {"static_mask_url": _URL, "dynamic_masks": _MASKS}
_MULTI = {"multi_prompt": _MULTI_PROMPT, "shot_type": _SHOT_TYPE}
_AUDIO = {"generate_audio": _BOOL}
_K = "fal-ai/kling-video/"
_BOTH_MODES = ("standard", "pro")

APPS: dict[str, FalApp] = {
    _K + "v1/standard/text-to-video": _app(_PROMPT, {**_T2V, "camera_control": _CAMERA_PRESET,
                                                     "advanced_camera_control": _CAMERA_MOVE}),
    _K + "v1/standard/image-to-video": _app(_PROMPT_AND_IMAGE, {**_I2V, "tail_image_url": _URL, **_MASKED}),
    _K + "v1.5/pro/text-to-video": _app(_PROMPT, _T2V),
    _K + "v1.5/pro/image-to-video": _app(_PROMPT_AND_IMAGE, {**_I2V, "aspect_ratio": _ASPECT, "tail_image_url": _URL,
                                                            **_MASKED}),
    _K + "v1.6/standard/text-to-video": _app(_PROMPT, _T2V),
    _K + "v1.6/pro/text-to-video": _app(_PROMPT, _T2V),
    _K + "v1.6/standard/image-to-video": _app(_PROMPT_AND_IMAGE, _I2V),
    _K + "v1.6/pro/image-to-video": _app(_PROMPT_AND_IMAGE, {**_I2V, "aspect_ratio": _ASPECT, "tail_image_url": _URL}),
    _K + "v2/master/text-to-video": _app(_PROMPT, _T2V),
    _K + "v2/master/image-to-video": _app(_PROMPT_AND_IMAGE, _I2V),
    _K + "v2.1/master/text-to-video": _app(_PROMPT, _T2V),
    _K + "v2.1/master/image-to-video": _app(_PROMPT_AND_IMAGE, _I2V),
    _K + "v2.1/standard/image-to-video": _app(_PROMPT_AND_IMAGE, _I2V),
    _K + "v2.5-turbo/pro/text-to-video": _app(_PROMPT, _T2V),
    _K + "v2.5-turbo/pro/image-to-video": _app(_PROMPT_AND_IMAGE, {**_I2V, "tail_image_url": _URL}),
    _K + "v2.5-turbo/standard/image-to-video": _app(_PROMPT_AND_IMAGE, _I2V),
    _K + "v2.6/pro/text-to-video": _app(_PROMPT, {**_T2V, **_AUDIO}),
    # start_image_url and end_image_url, not image_url and tail_image_url; no aspect_ratio, no cfg_scale
    _K + "v2.6/pro/image-to-video": _app(("prompt", "start_image_url"), {
        "prompt": _TEXT, "start_image_url": _URL, "end_image_url": _URL, "negative_prompt": _TEXT,
        "duration": _DURATION, **_AUDIO, "voice_ids": _VOICES}),
    **{_K + f"v3/{mode}/text-to-video": _app((), {**_T2V, **_AUDIO, **_MULTI}, _THREE_TO_FIFTEEN, text_only=True)
       for mode in _BOTH_MODES},
    **{_K + f"v3/{mode}/image-to-video": _app(("start_image_url",), {
        "start_image_url": _URL, "prompt": _TEXT, "end_image_url": _URL, "negative_prompt": _TEXT,
        "duration": _DURATION, "cfg_scale": _CFG, **_AUDIO, "elements": _ELEMENTS, **_MULTI}, _THREE_TO_FIFTEEN)
       for mode in _BOTH_MODES},
    **{_K + f"o1/{mode}image-to-video": _app(("prompt", "start_image_url"), {
        "prompt": _TEXT, "start_image_url": _URL, "end_image_url": _URL, "duration": _DURATION}, _THREE_TO_TEN)
       for mode in ("", "standard/")},
    **{_K + f"o1/{mode}reference-to-video": _app(_PROMPT, {
        "prompt": _TEXT, "image_urls": _URLS, "elements": _ELEMENTS, "aspect_ratio": _ASPECT,
        "duration": _DURATION}, _THREE_TO_TEN)
       for mode in ("", "standard/")},
    # o3: no negative_prompt, no cfg_scale; its image-to-video takes image_url again
    **{_K + f"o3/{mode}/text-to-video": _app((), {
        "prompt": _TEXT, "aspect_ratio": _ASPECT, "duration": _DURATION, **_AUDIO, **_MULTI}, _THREE_TO_FIFTEEN,
        text_only=True)
       for mode in _BOTH_MODES},
    **{_K + f"o3/{mode}/image-to-video": _app(("image_url",), {
        "image_url": _URL, "prompt": _TEXT, "end_image_url": _URL, "duration": _DURATION, **_AUDIO, **_MULTI},
        _THREE_TO_FIFTEEN)
       for mode in _BOTH_MODES},
    **{_K + f"o3/{mode}/reference-to-video": _app((), {
        "prompt": _TEXT, "start_image_url": _URL, "end_image_url": _URL, "image_urls": _URLS, "elements": _ELEMENTS,
        "aspect_ratio": _ASPECT, "duration": _DURATION, **_AUDIO, **_MULTI}, _THREE_TO_FIFTEEN)
       for mode in _BOTH_MODES},
}

# USD per second of video, from fal's model pages (https://fal.ai/models/<app>/llms.txt) as stored
# when the notes were taken; the real figures come from GET /v1/models/pricing, which is what
# this table answers. v2.1 master: "$1.40 for 5s ... $0.28 for every additional second".
PRICES: dict[str, float] = {
    _K + "v1/standard/image-to-video": 0.045,
    _K + "v2.1/master/text-to-video": 0.28,
    _K + "v2.6/pro/image-to-video": 0.07,  # without audio; 0.14 with it
    _K + "v2.6/pro/text-to-video": 0.07,  # not on a stored page: assumed as image-to-video
}

# --- errors -----------------------------------------------------------------------------------
# fal's validation errors: HTTP 422, {"detail": [{"loc", "msg", "type"}]}; "Rely on the type
# field" (https://fal.ai/docs/documentation/model-apis/errors). A missing field is the classic
# "value_error.missing" of fal's own example (docs.fal.ai/model-endpoints/webhooks); the other
# types are pydantic's names.


class _Problem(NamedTuple):
    loc: tuple[str | int, ...]
    msg: str
    type: str

    def detail(self) -> dict[str, Any]:
        return {"loc": ["body", *self.loc], "msg": self.msg, "type": self.type}


def _is_url(value: object) -> bool:
    """An http(s) URL or a data: URI, as fal's *_url fields take (the JS client uploads a Blob)."""
    if not isinstance(value, str):
        return False
    if value.startswith("data:"):
        return re.fullmatch(r"data:[\w.+-]+/[\w.+-]+(;[\w=.-]+)*(;base64)?,.+", value, re.DOTALL) is not None
    url = urlparse(value)
    return url.scheme in ("http", "https") and bool(url.netloc)


def _check(kind: str, value: Any, loc: tuple[str | int, ...], app: FalApp) -> list[_Problem]:
    """The problems of one field's value (an empty list if it is good)."""
    def wrong(msg: str, type_: str) -> list[_Problem]:
        return [_Problem(loc, msg, type_)]

    if kind == _TEXT:
        return [] if isinstance(value, str) else wrong("Input should be a valid string", "string_type")
    if kind == _URL:
        return [] if _is_url(value) else wrong("Input should be an http(s) URL or a data URI", "url_parsing")
    if kind == _BOOL:
        return [] if isinstance(value, bool) else wrong("Input should be a valid boolean", "bool_type")
    if kind == _DURATION:  # a string from the app's enum: 5 is refused, "5" taken
        return [] if value in app.durations and isinstance(value, str) else wrong(
            f"Input should be {_one_of(app.durations)}", "literal_error")
    if kind == _ASPECT:
        return [] if value in _ASPECT_RATIOS else wrong(f"Input should be {_one_of(_ASPECT_RATIOS)}", "literal_error")
    if kind == _CAMERA_PRESET:
        return [] if value in _CAMERA_PRESETS else wrong(f"Input should be {_one_of(_CAMERA_PRESETS)}",
                                                         "literal_error")
    if kind == _SHOT_TYPE:
        return [] if value in _SHOT_TYPES else wrong(f"Input should be {_one_of(_SHOT_TYPES)}", "literal_error")
    if kind == _CFG:
        if not isinstance(value, int | float) or isinstance(value, bool):
            return wrong("Input should be a valid number", "float_type")
        return [] if 0 <= value <= 1 else wrong("Input should be from 0 to 1", "less_than_equal" if value > 1
                                                 else "greater_than_equal")
    if kind == _CAMERA_MOVE:
        return _check_object(value, loc, {"movement_type": "movement_type", "movement_value": "number"},
                             ("movement_type", "movement_value"), app)
    if kind == "movement_type":
        return [] if value in _MOVEMENT_TYPES else wrong(f"Input should be {_one_of(_MOVEMENT_TYPES)}",
                                                         "literal_error")
    if kind == "number":
        return [] if isinstance(value, int | float) and not isinstance(value, bool) else wrong(
            "Input should be a valid number", "float_type")
    if kind == "shot_duration":
        return [] if value in _SHOT_SECONDS and isinstance(value, str) else wrong(
            f"Input should be {_one_of(_SHOT_SECONDS)}", "literal_error")
    if kind == "points":
        return _check_list(value, loc, lambda v, at: _check_object(v, at, {"x": "number", "y": "number"},
                                                                  ("x", "y"), app))
    if kind == _URLS:
        return _check_list(value, loc, lambda v, at: _check(_URL, v, at, app))
    if kind == _VOICES:
        return _check_list(value, loc, lambda v, at: _check(_TEXT, v, at, app), most=_VOICES_MAX)
    if kind == _MASKS:
        return _check_list(value, loc, lambda v, at: _check_object(
            v, at, {"mask_url": _URL, "trajectories": "points"}, ("mask_url",), app))
    if kind == _MULTI_PROMPT:
        return _check_list(value, loc, lambda v, at: _check_object(
            v, at, {"prompt": _TEXT, "duration": "shot_duration"}, ("prompt",), app))
    if kind == _ELEMENTS:
        return _check_list(value, loc, lambda v, at: _check_object(v, at, _ELEMENT_FIELDS, (), app))
    raise AssertionError(f"no rule for the kind {kind!r}")


def _one_of(values: tuple[str, ...]) -> str:
    return " or ".join(f"'{v}'" for v in values)


def _check_list(value: Any, loc: tuple[str | int, ...], each: Callable[[Any, tuple[str | int, ...]], list[_Problem]],
                most: int | None = None) -> list[_Problem]:
    if not isinstance(value, list):
        return [_Problem(loc, "Input should be a valid list", "list_type")]
    if most is not None and len(value) > most:
        return [_Problem(loc, f"List should have at most {most} items", "too_long")]
    return [problem for i, item in enumerate(value) for problem in each(item, (*loc, i))]


def _check_object(value: Any, loc: tuple[str | int, ...], kinds: Mapping[str, str], required: tuple[str, ...],
                  app: FalApp) -> list[_Problem]:
    if not isinstance(value, dict):
        return [_Problem(loc, "Input should be a valid dictionary", "dict_type")]
    problems = [_Problem((*loc, name), "field required", "value_error.missing")
                for name in required if value.get(name) is None]
    for name, item in value.items():
        if name not in kinds:
            problems.append(_Problem((*loc, name), "Extra inputs are not permitted", "extra_forbidden"))
        elif item is not None:
            problems += _check(kinds[name], item, (*loc, name), app)
    if "reference_image_urls" in value and isinstance(value["reference_image_urls"], list) and not (
            _REFERENCES_MIN <= len(value["reference_image_urls"]) <= _REFERENCES_MAX):
        problems.append(_Problem((*loc, "reference_image_urls"), f"List should have {_REFERENCES_MIN} to "
                                 f"{_REFERENCES_MAX} items", "too_long"))
    return problems


def validate(app: FalApp, body: Any) -> list[_Problem]:
    """Every problem of a request's JSON input for `app`, in the order of its fields. `null`
    reads as absent (fal's optional fields default to None)."""
    if not isinstance(body, dict):
        return [_Problem((), "Input should be a valid dictionary", "dict_type")]
    problems = _check_object(body, (), app.fields, app.required, app)
    given = [name for name in ("prompt", "multi_prompt") if body.get(name) is not None]
    if len(given) > 1 or (app.prompt_or_shots == "exactly one" and not given):
        problems.append(_Problem(("prompt",), "Either prompt or multi_prompt must be provided, but not both",
                                 "value_error"))
    return problems


# --- faults -----------------------------------------------------------------------------------

FalWhere = Literal["submit", "status", "result", "cancel", "list", "pricing", "download", "any"]
FalFaultKind = Literal["error", "drop", "lose", "slow", "fail", "no_video", "hold"]


@dataclass
class FalFault:
    """Something to go wrong, `times` times (None: every time), on the calls `on` names.

    kind: "error" answers HTTP `http` with `{"detail": message, "error_type": error_type}` (422: a
    validation error's list) and carries nothing out; "drop" closes the connection without an
    answer and carries nothing out; "lose" carries out a submit (or a cancel) and then closes the
    connection: the request exists, the client never learns its id; "slow" waits `seconds`
    before answering (a hang, if long; stop() ends it); "fail" makes the submitted request end
    COMPLETED with `error` = message and `error_type`, its result answering HTTP `http`; "no_video"
    makes it end well but its result hold no `video`; "hold" keeps it IN_PROGRESS until release().
    `match` limits a fault to requests whose app id or JSON input contains that text (on status,
    result, cancel and download: the request named in the path).
    """

    kind: FalFaultKind
    on: FalWhere = "any"
    times: int | None = 1
    http: int = 500
    message: str = "injected fault"
    error_type: str = "injected_fault"
    seconds: float = 0.0
    match: str | None = None
    retry_after: float | None = None


# The kinds taken at the submit that shape the request, and where each other kind applies.
_SHAPING: tuple[FalFaultKind, ...] = ("fail", "no_video", "hold")


@dataclass
class FalStats(Stats):
    """What the server saw, in Stats' terms: `creates` counts requests made (what an account is
    charged for, at most), `create_requests` every submit that passed the key, `queries` status
    calls, `lists` listing calls, `refused_tokens` answers 401. And fal's own: `results` calls
    to a response URL, `cancels`, `price_lookups`."""

    results: int = 0
    cancels: int = 0
    price_lookups: int = 0


# --- the queue --------------------------------------------------------------------------------

_LIST_LIMIT_MAX, _LIST_DEFAULT_LIMIT, _LIST_IDS_MAX = 100, 50, 50
_DEFAULT_WINDOW, _BY_ID_WINDOW = timedelta(hours=24), timedelta(days=90)


@dataclass
class _Request:
    request_id: str
    app_id: str
    input: dict[str, Any]
    submitted: float  # on the server's clock
    fail: FalFault | None = None
    no_video: bool = False
    held: bool = False
    released: float | None = None
    forgotten: bool = False
    cancelled: float | None = None  # when a cancel took it out of the queue
    # polls mode: set as looks move it on
    looks: int = 0
    started: float | None = None
    ended: float | None = None

    @property
    def owner_app(self) -> str:
        return "/".join(self.app_id.split("/")[:2])


class FakeFal(LocalServer[FalFault]):
    """fal's queue and platform API on 127.0.0.1 (see the module docstring and docs/running.md).

    A request moves IN_QUEUE -> IN_PROGRESS -> COMPLETED: with `polls=N` at looks (each status
    call on a request that has a runner is a look; looks 1 to N-1 answer IN_PROGRESS, the N-th
    COMPLETED), else on a clock (`task_seconds`, 0.5 s by default: a runner takes it S/3 after the
    submit, it ends at S). With `max_running`, at most that many are IN_PROGRESS at once and the
    rest wait IN_QUEUE in submit order, as fal queues beyond an account's concurrency instead of
    refusing ("excess waits in the queue"). `lists_running`: the listing also shows requests not
    yet finished (fal's fields, ended_at and status_code, suggest it shows finished ones only)."""

    stats: FalStats

    def __init__(self, *, task_seconds: float | None = None, polls: int | None = None,
                 clock: Callable[[], float] = time.monotonic, key: str | None = None, port: int = 0,
                 max_running: int | None = None, lists_running: bool = False,
                 prices: Mapping[str, float] | None = None, apps: Mapping[str, FalApp] | None = None,
                 video: Callable[[dict[str, Any]], bytes | None] | None = None, real_videos: bool = False) -> None:
        self._pace(task_seconds, polls, clock)
        if max_running is not None and max_running < 1:
            raise ValueError("max_running must be 1 or more")
        self.key = key if key is not None else f"{uuid.uuid4()}:{secrets.token_hex(16)}"
        self.max_running = max_running
        self.lists_running = lists_running
        self.prices = dict(PRICES if prices is None else prices)
        self.apps = dict(APPS if apps is None else apps)
        self.video = video
        self.real_videos = real_videos
        if real_videos:
            clip("probe")  # NoEncoder now, not at the first download
        self.stats = FalStats()
        self._requests: dict[str, _Request] = {}
        self._schedule: dict[str, tuple[float, float]] | None = None  # clock mode: id -> (start, end)
        self._listen(port, _handler_for(self), "fake-fal")

    def env(self) -> dict[str, str]:
        """Environment variables that point shotlang at this server (queue and platform API alike)."""
        return {"FAL_KEY": self.key, "FAL_API_BASE": self.url}

    # --- control -----------------------------------------------------------------------------

    def forget(self, request_id: str) -> None:
        """The queue no longer knows the request (its status, result and cancel answer 404), as
        once fal's result retention is over; the platform API's listing still holds it."""
        with self._lock:
            self._requests[request_id].forgotten = True

    def release(self) -> int:
        """Let every held request end (at its next look with polls; once its time is up on a
        clock). Returns how many were released."""
        with self._lock:
            now = self.clock()
            held = [r for r in self._requests.values() if r.held]
            for request in held:
                request.held, request.released = False, now
                request.looks = max(request.looks, (self.polls or 1) - 1)
            self._schedule = None
            return len(held)

    def created(self) -> list[tuple[str, dict[str, Any]]]:
        """Each request made, in order: its app id and its JSON input (what the account pays for)."""
        with self._lock:
            return [(r.app_id, dict(r.input)) for r in self._requests.values()]

    def tasks(self) -> list[dict[str, Any]]:
        """Every request as its status call would answer it, with its request_id and app_id,
        without counting as a look."""
        with self._lock:
            now = self.clock()
            return [{"request_id": r.request_id, "app_id": r.app_id, **self._status_body(r, now)[1]}
                    for r in self._requests.values()]

    # --- faults ------------------------------------------------------------------------------

    # --- a request's life ----------------------------------------------------------------------

    def _submit(self, app_id: str, body: dict[str, Any], text: str) -> _Request:
        with self._lock:
            request = _Request(str(uuid.uuid4()), app_id, body, self.clock())
            request.fail = self._take_fault_locked("submit", text, ("fail",))
            request.no_video = self._take_fault_locked("submit", text, ("no_video",)) is not None
            request.held = self._take_fault_locked("submit", text, ("hold",)) is not None
            self._requests[request.request_id] = request
            self.stats.creates += 1
            self._schedule = None
            return request

    def _clock_schedule_locked(self) -> dict[str, tuple[float, float]]:
        """Clock mode: when each request gets a runner and when it ends, in submit order; a request
        waits for the first runner free from S/3 after its submit (inf: never ends, held)."""
        if self._schedule is not None:
            return self._schedule
        schedule: dict[str, tuple[float, float]] = {}
        runners: list[float] = [float("-inf")] * (self.max_running or 0)  # when each runner is free
        for request in self._requests.values():
            ready = request.submitted + self.task_seconds / 3
            start = ready if self.max_running is None else max(ready, runners[0])
            if request.cancelled is not None and request.cancelled < start:
                continue  # taken out of the queue before a runner took it
            # S after the submit when no runner was waited for (exactly: a ManualClock stepped by S ends it)
            end = request.submitted + self.task_seconds if start == ready else start + self.task_seconds * 2 / 3
            if request.held:
                end = float("inf")
            elif request.released is not None:
                end = max(end, request.released)
            if self.max_running is not None:
                heapq.heapreplace(runners, end)
            schedule[request.request_id] = (start, end)
        # The most runners busy at once: a sweep over starts (+1) and ends (-1), ends first at a tie.
        busy = 0
        for _, step in sorted([(s, 1) for s, _ in schedule.values()] + [(e, -1) for _, e in schedule.values()]):
            busy += step
            self.stats.peak_running = max(self.stats.peak_running, busy)
        self._schedule = schedule
        return schedule

    def _times(self, request: _Request, now: float) -> tuple[float | None, float | None]:
        """(started, ended) as of `now`, None for what has not happened yet. A request cancelled
        while queued ended then, never started."""
        if request.cancelled is not None:
            return None, request.cancelled
        if self.polls is not None:
            return request.started, request.ended
        start, end = self._clock_schedule_locked()[request.request_id]
        return (start if now >= start else None), (end if now >= end else None)

    def _waiting_locked(self, now: float) -> list[_Request]:
        """Requests without a runner yet, in submit order (the queue)."""
        return [r for r in self._requests.values() if self._times(r, now) == (None, None)]

    def _look_locked(self, request: _Request, now: float) -> None:
        """Polls mode: a status call moves the queue on (free runners take the oldest waiting
        requests) and, if the request has a runner, counts as one of its looks."""
        if self.polls is None:
            return
        running = [r for r in self._requests.values() if r.started is not None and r.ended is None]
        for waiting in self._waiting_locked(now):
            if self.max_running is not None and len(running) >= self.max_running:
                break
            waiting.started = now
            running.append(waiting)
        self.stats.peak_running = max(self.stats.peak_running, len(running))
        if request.started is not None and request.ended is None:
            request.looks += 1
            if request.looks >= self.polls and not request.held:
                request.ended = now

    def _status_body(self, request: _Request, now: float) -> tuple[int, dict[str, Any]]:
        """The status call's answer: HTTP 202 while queued or in progress, 200 once completed."""
        started, ended = self._times(request, now)
        urls = self._urls(request)
        if ended is not None:
            body: dict[str, Any] = {"status": "COMPLETED", "logs": [], "response_url": urls["response_url"],
                                    "metrics": {"inference_time": ended - started if started is not None else 0.0}}
            error = self._error_of(request)
            if error is not None:
                body["error"], body["error_type"] = error
            return 200, body
        if started is not None:
            return 202, {"status": "IN_PROGRESS", "logs": [], "response_url": urls["response_url"]}
        # queue_position: 0 for the next to be taken (fal's examples do not show the base).
        position = self._waiting_locked(now).index(request)
        return 202, {"status": "IN_QUEUE", "queue_position": position, "response_url": urls["response_url"]}

    def _error_of(self, request: _Request) -> tuple[str, str] | None:
        if request.cancelled is not None:
            return "Request was cancelled before it started", "request_cancelled"
        if request.fail is not None:
            return request.fail.message, request.fail.error_type
        return None

    def _urls(self, request: _Request) -> dict[str, str]:
        # The status, result and cancel URLs use only the owner and the app
        # (https://fal.ai/docs/api-reference/inference-api: "Do not build these URLs yourself").
        base = f"{self.url}/{request.owner_app}/requests/{request.request_id}"
        return {"response_url": base, "status_url": f"{base}/status", "cancel_url": f"{base}/cancel"}

    def _video_bytes(self, request: _Request) -> bytes:
        served = self.video(request.input) if self.video is not None else None
        if served is None:
            served = clip(request.request_id) if self.real_videos else VIDEO
        return served

    def _output(self, request: _Request) -> dict[str, Any]:
        """A finished request's output, fal's File shape (url, content_type, file_name, file_size)."""
        if request.no_video:
            return {}
        name = f"{request.request_id}.mp4"
        return {"video": {"url": f"{self.url}/files/{name}", "content_type": "video/mp4", "file_name": name,
                          "file_size": len(self._video_bytes(request))}}

    def _result(self, request: _Request, now: float) -> tuple[int, dict[str, Any], str | None]:
        """The result call's (http, body, error type)."""
        _, ended = self._times(request, now)
        if ended is None:
            # fal answers the result URL only once the request is completed; before, 400.
            return 400, {"detail": "Request is still in progress"}, None
        error = self._error_of(request)
        if error is None:
            return 200, self._output(request), None
        message, error_type = error
        http = request.fail.http if request.fail is not None and request.cancelled is None else 400
        if http == 422:
            return http, {"detail": [{"loc": ["body"], "msg": message, "type": error_type}]}, error_type
        return http, {"detail": message, "error_type": error_type}, error_type

    # --- the platform API ----------------------------------------------------------------------

    def _iso(self, moment: float) -> str:
        stamp = datetime.fromtimestamp(self._epoch + moment, UTC)
        return stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z")

    def _listing(self, query: dict[str, list[str]]) -> tuple[int, dict[str, Any]]:
        """GET /v1/models/requests/by-endpoint (https://fal.ai/docs/platform-apis/v1/models/requests/
        by-endpoint): the requests of the endpoints named, newest end first. endpoint_id is the full
        app id, as the items carry it ("fal-ai/flux/dev" in fal's example), comma-separated or
        repeated. The time window (start inclusive, end exclusive) applies to when a request ended
        (the listing sorts by end time), or to its submit if it has not ended."""
        ids = [i for value in query.get("endpoint_id", []) for i in value.split(",") if i]
        if not ids:
            return 422, _detail(("query", "endpoint_id"), "field required", "value_error.missing")
        if len(ids) > _LIST_IDS_MAX:
            return 422, _detail(("query", "endpoint_id"), f"at most {_LIST_IDS_MAX} ids", "too_long")
        try:
            limit = int(query.get("limit", [str(_LIST_DEFAULT_LIMIT)])[0])
        except ValueError:
            limit = 0
        if not 1 <= limit <= _LIST_LIMIT_MAX:
            return 422, _detail(("query", "limit"), f"Input should be from 1 to {_LIST_LIMIT_MAX}", "less_than_equal")
        page = 1
        if "cursor" in query:
            try:
                page = int(base64.b64decode(query["cursor"][0], validate=True).decode())
            except (ValueError, binascii.Error):
                return 422, _detail(("query", "cursor"), "not a cursor this API gave", "value_error")
        status = query.get("status", [None])[0]
        if status not in (None, "success", "error", "user_error"):
            return 422, _detail(("query", "status"), "Input should be 'success', 'error' or 'user_error'",
                                "literal_error")
        request_id = query.get("request_id", [None])[0]
        payloads = "payloads" in [e for value in query.get("expand", []) for e in value.split(",")]
        with self._lock:
            now = self.clock()
            try:
                end = _parse_time(query["end"][0]) if "end" in query else None
                start = _parse_time(query["start"][0]) if "start" in query else None
            except ValueError:
                return 422, _detail(("query", "start/end"), "Input should be an ISO 8601 date or time", "datetime_parsing")
            now_at = datetime.fromtimestamp(self._epoch + now, UTC)
            end = end or now_at + timedelta(microseconds=1)  # "defaults to current time"
            start = start or now_at - (_BY_ID_WINDOW if request_id else _DEFAULT_WINDOW)
            self.stats.lists += 1
            items: list[tuple[float, int, dict[str, Any]]] = []
            for request in self._requests.values():
                if request.app_id not in ids or (request_id is not None and request.request_id != request_id):
                    continue
                started, ended = self._times(request, now)
                if request.cancelled is not None and started is None:
                    continue  # taken out of the queue: it never ran
                if ended is None and not self.lists_running:
                    continue
                moment = datetime.fromtimestamp(self._epoch + (ended if ended is not None else request.submitted), UTC)
                if not start <= moment < end:
                    continue
                item = self._item(request, started, ended, now)
                if status is not None and (item["status_code"] is None or _status_class(item["status_code"]) != status):
                    continue
                if payloads:
                    item["json_input"] = dict(request.input)
                    item["json_output"] = self._result(request, now)[1] if ended is not None else None
                items.append((ended if ended is not None else float("inf"), len(items), item))
        items.sort(key=lambda entry: entry[:2], reverse=True)  # newest end first, then newest submit
        chosen = [item for _, _, item in items[(page - 1) * limit : page * limit]]
        more = len(items) > page * limit
        cursor = base64.b64encode(str(page + 1).encode()).decode() if more else None
        return 200, {"items": chosen, "next_cursor": cursor, "has_more": more}

    def _item(self, request: _Request, started: float | None, ended: float | None, now: float) -> dict[str, Any]:
        http = self._result(request, now)[0] if ended is not None else None
        return {"request_id": request.request_id, "endpoint_id": request.app_id,
                "sent_at": self._iso(request.submitted),
                "started_at": self._iso(started) if started is not None else None,
                "ended_at": self._iso(ended) if ended is not None else None,
                "status_code": http, "duration": ended - request.submitted if ended is not None else None}

    def _pricing(self, query: dict[str, list[str]]) -> tuple[int, dict[str, Any]]:
        """GET /v1/models/pricing?endpoint_id=a,b (https://docs.fal.ai/platform-apis/v1/models/pricing):
        1 to 50 ids; an id with no price here is left out of `prices`."""
        ids = [i for value in query.get("endpoint_id", []) for i in value.split(",") if i]
        if not 1 <= len(ids) <= _LIST_IDS_MAX:
            return 422, _detail(("query", "endpoint_id"), f"1 to {_LIST_IDS_MAX} ids", "value_error")
        with self._lock:
            self.stats.price_lookups += 1
        prices = [{"endpoint_id": i, "unit_price": self.prices[i], "unit": "second", "currency": "USD"}
                  for i in ids if i in self.prices]
        return 200, {"prices": prices, "next_cursor": None, "has_more": False}


def _detail(loc: tuple[str, ...], msg: str, type_: str) -> dict[str, Any]:
    return {"detail": [{"loc": list(loc), "msg": msg, "type": type_}]}


def _status_class(http: int) -> str:
    return "success" if http < 400 else "user_error" if http < 500 else "error"


def _parse_time(text: str) -> datetime:
    """An ISO 8601 date or date and time ('2025-01-01', '2025-01-01T00:00:00Z'), UTC if no zone."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


# --- HTTP ---------------------------------------------------------------------------------------

_QUEUE_PATH = re.compile(r"/([^/]+/[^/]+)/requests/([^/]+)(/status|/cancel)?")
_FILE_PATH = re.compile(r"/files/([^/]+)\.mp4")


def _handler_for(fake: FakeFal) -> type[BaseHTTPRequestHandler]:
    class Handler(LocalHandler):
        counted = fake

        def _respond(self, http: int, data: bytes, content_type: str = "application/json",
                     headers: tuple[tuple[str, str], ...] = ()) -> None:
            self.send_response(http)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def _send(self, http: int, payload: dict[str, Any], error_type: str | None = None,
                  retry_after: float | None = None) -> None:
            headers: tuple[tuple[str, str], ...] = (("X-Fal-Error-Type", error_type),) if error_type else ()
            if retry_after is not None:
                headers += (("Retry-After", f"{retry_after:g}"),)
            self._respond(http, json.dumps(payload).encode(), headers=headers)

        def _faults_first(self, where: FalWhere, text: str) -> bool:
            """Apply injected faults that come before the work; True if one answered (or dropped)."""
            slow = fake._take_fault(where, text, ("slow",))
            if slow is not None and fake._stopping.wait(slow.seconds):
                self._drop()
                return True
            fault = fake._take_fault(where, text, ("error", "drop"))
            if fault is None:
                return False
            if fault.kind == "drop":
                self._drop()
            elif fault.http == 422:
                self._send(422, _detail(("body",), fault.message, fault.error_type), fault.error_type)
            else:
                self._send(fault.http, {"detail": fault.message, "error_type": fault.error_type},
                           fault.error_type, fault.retry_after)
            return True

        def _authorized(self) -> bool:
            if secrets.compare_digest(self.headers.get("Authorization", ""), f"Key {fake.key}"):
                return True
            with fake._lock:
                fake.stats.refused_tokens += 1
            self._send(401, {"detail": "Unauthorized"})
            return False

        def _request(self, owner_app: str, request_id: str) -> tuple[_Request | None, str]:
            """The request at this owner/app path (None if unknown, forgotten, or another app's)
            and the text a fault's `match` reads."""
            with fake._lock:
                request = fake._requests.get(request_id)
            if request is None or request.forgotten or request.owner_app != owner_app:
                return None, ""
            return request, f"{request.app_id} {json.dumps(request.input)}"

        def do_POST(self) -> None:  # noqa: N802 - the http.server convention
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            app_id = urlparse(self.path).path.strip("/")
            text = f"{app_id} {raw.decode('utf-8', 'replace')}"
            if self._faults_first("submit", text) or not self._authorized():
                return
            app = fake.apps.get(app_id)
            if app is None:
                self._send(404, {"detail": f"Application '{app_id}' not found"})
                return
            with fake._lock:
                fake.stats.create_requests += 1
            try:
                body = json.loads(raw)
            except ValueError:
                self._send(422, _detail(("body",), "JSON decode error", "json_invalid"))
                return
            problems = validate(app, body)
            if problems:
                self._send(422, {"detail": [p.detail() for p in problems]})
                return
            request = fake._submit(app_id, body, text)
            if fake._take_fault("submit", text, ("lose",)) is not None:
                self._drop()
                return
            self._send(200, {"request_id": request.request_id, "status": "IN_QUEUE", **fake._urls(request)})

        def do_PUT(self) -> None:  # noqa: N802
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            match = _QUEUE_PATH.fullmatch(urlparse(self.path).path)
            if match is None or match[3] != "/cancel":
                self._send(404, {"detail": "Not Found"})
                return
            request, text = self._request(match[1], match[2])
            if self._faults_first("cancel", text) or not self._authorized():
                return
            with fake._lock:
                fake.stats.cancels += 1
                if request is None:
                    http, answer = 404, "NOT_FOUND"
                else:
                    now = fake.clock()
                    started, ended = fake._times(request, now)
                    if ended is not None:
                        http, answer = 400, "ALREADY_COMPLETED"
                    else:
                        # Queued: fal removes it. In progress: the app is told, and "the model app
                        # decides how to stop the work" (https://fal.ai/docs/inference-api/queue/cancel);
                        # a Kling render here runs on to its end.
                        if started is None:
                            request.cancelled = now
                            fake._schedule = None
                        http, answer = 202, "CANCELLATION_REQUESTED"
            if answer == "CANCELLATION_REQUESTED" and fake._take_fault("cancel", text, ("lose",)) is not None:
                self._drop()
                return
            self._send(http, {"status": answer})

        def do_GET(self) -> None:  # noqa: N802
            url = urlparse(self.path)
            query = parse_qs(url.query)
            file = _FILE_PATH.fullmatch(url.path)
            if file is not None:  # fal's CDN: no key
                self._file(file[1])
                return
            if url.path in ("/v1/models/requests/by-endpoint", "/v1/models/pricing"):
                where: FalWhere = "list" if url.path.endswith("by-endpoint") else "pricing"
                if self._faults_first(where, url.query) or not self._authorized():
                    return
                self._send(*(fake._listing(query) if where == "list" else fake._pricing(query)))
                return
            match = _QUEUE_PATH.fullmatch(url.path)
            if match is None or match[3] == "/cancel":
                # Also a status or result asked under the full app id: fal's URLs use owner/app only.
                self._send(404, {"detail": "Not Found"})
                return
            request, text = self._request(match[1], match[2])
            where = "status" if match[3] else "result"
            if self._faults_first(where, text) or not self._authorized():
                return
            with fake._lock:
                if where == "status":
                    fake.stats.queries += 1
                else:
                    fake.stats.results += 1
                if request is None:
                    http, payload, error_type = 404, {"detail": "Request not found"}, None
                else:
                    now = fake.clock()
                    if where == "status":
                        fake._look_locked(request, now)
                        http, payload = fake._status_body(request, now)
                        error_type = None
                    else:
                        http, payload, error_type = fake._result(request, now)
            self._send(http, payload, error_type)

        def _file(self, request_id: str) -> None:
            with fake._lock:
                request = fake._requests.get(request_id)
                fake.stats.downloads += 1
            text = f"{request.app_id} {json.dumps(request.input)}" if request is not None else ""
            if self._faults_first("download", text):
                return
            if request is None:
                self._respond(404, b"", "text/plain")
                return
            self._respond(200, fake._video_bytes(request), "video/mp4")

    return Handler
