"""A local Kling API for tests: a real HTTP server on 127.0.0.1 that speaks the API's contract.

    from shotlang.testing import FakeKling, Fault

    with FakeKling(polls=2, max_running=4) as kling:   # starts on a free port
        env = kling.env()                              # KLING_API_BASE and test keys
        kling.inject(Fault("error", on="create", http=429, code=1302, times=2))
        ...                                            # run your client against kling.url
        assert kling.stats.creates == 3                # tasks accepted (what an account pays)

It checks the JWT (HS256 with the test secret, iss, exp, nbf), validates bodies by the API's
rules (an unknown field, an image that does not decode or a simple camera config with more
than one non-zero field is refused 400/1201 with a message naming the field, as by the real
API; null reads as absent), refuses a reused external_task_id, moves each task from
submitted through processing to succeed, answers queries by task id or external id and lists
newest first, serves a small MP4 for each, and injects faults on demand. With `max_running`, a create while
that many tasks run is refused 429/1303, as an account over its concurrency. `stats` counts
what it saw and `timeline()` gives each task's (created, finished) times. `python -m
shotlang.testing` runs it on its own; see docs/running.md.

How a task moves on is the test's choice, so a test waits on nothing but its client:
- `polls=N`: by being looked at. The create answers `submitted`; each query or list that
  reports the task is one look; looks 1 to N-1 answer `processing`, the N-th and later the
  final status. A run that polls finishes as fast as it asks, the same way every time.
- `task_seconds=S` (the default, 0.5 s): by a clock, `processing` from S/3 after the create
  and final from S. The clock is `time.monotonic` unless `clock=` gives another, such as a
  `ManualClock` the test steps with `advance()`. Real time only where a test needs it (a
  timeout, a kill while shots are in flight, an account's limit over time). `spread=F` makes
  each task's time S × (1 ± up to F), drawn from a seeded generator (`seed=`), as real renders
  vary: the n-th task created takes the same time in every run.
- In either mode `Fault("hold")` keeps a task `processing` until `release()`: a run that is
  certainly mid-flight, however slow or fast the machine.
`created_at` and `updated_at` are the epoch milliseconds of the task's creation and of its
latest status change (on the server's clock), never of the query; `stamps_in_seconds=True`
writes them in seconds, as some servers do.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import itertools
import json
import math
import random
import re
import socket
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal, NamedTuple
from urllib.parse import parse_qs, urlparse

import jwt

TEST_ACCESS_KEY = "test-access-key-AK0123456789"
TEST_SECRET_KEY = "test-secret-key-SK0123456789abcdef"
# A tiny file that starts like an MP4 (an ftyp box), enough for a download check.
VIDEO = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(range(256)) * 8

Where = Literal["create", "query", "list", "download", "any"]
FaultKind = Literal["error", "drop", "lose", "slow", "cut", "fail_task", "expire_token",
                    "garble", "lag", "drip", "echo", "status", "redirect", "split", "hold", "leak", "swap", "drip_headers"]


@dataclass
class Fault:
    """Something to go wrong, `times` times (None: every time) on matching requests.

    kind: "error" answers HTTP `http` with API `code`; "drop" closes the connection without an
    answer; "lose" carries out a create and then drops its answer; "slow" waits `seconds`
    before answering; "cut" sends half a video then closes;
    "fail_task" makes the task end `failed` with `message`; "expire_token" answers 401/1004.
    "garble" carries out the request (a create really creates the task) and then answers HTTP
    `http` with the raw bytes `body` as text/html: not a Kling reply. On a create it waits for
    one that creates a task. "lag" answers a query by external id 404/1203 although the task
    exists (a lookup behind the create). "drip" sends the headers, then the body one byte every
    `seconds`. "echo" answers HTTP `http`, code `code` with the message
    f"{message}: {the request's Authorization header}" (an API that echoes secrets). "status"
    makes the created task end with task_status `status` (e.g. "canceled"). "redirect" answers
    a video 302 to its own URL (a loop with times=None). "split" serves a video as `body` (the
    normal video if empty), its first 4 bytes alone, the rest after `seconds` (0.05 if 0).
    "hold" keeps the created task from ending: it stays `processing` until `release()`.
    "leak" writes the query's Authorization header into a finished task's answer: its video's
    address (as `?token=`), the video's id, final_unit_deduction and task_status_msg.
    "swap" carries out a create and answers with another task of the endpoint (the newest other
    one), as a server that mixes up its answers would. "drip_headers" is "drip" from the first
    byte of the status line.
    `match` limits a fault to requests whose body contains that text (e.g. a word of a prompt);
    only creates have a body, so a fault with `match` never fires on a query or download.
    """

    kind: FaultKind
    on: Where = "any"
    times: int | None = 1
    http: int = 500
    code: int = 5000
    message: str = "injected fault"
    seconds: float = 0.0
    match: str | None = None
    retry_after: float | None = None
    body: bytes = b""
    status: str = ""


@dataclass
class Stats:
    """What the server saw. `creates` counts accepted tasks: what an account pays for.

    `requests` counts every request received (any method, any path) and `authorizations` holds
    every Authorization header received, so a test can show a host was sent nothing. `lists`
    counts list calls (queries by id are `queries`); `refused_concurrency` counts creates
    refused 429/1303 because `max_running` tasks were running; `peak_running` is the most
    tasks running at once.
    """

    creates: int = 0
    create_requests: int = 0
    queries: int = 0
    downloads: int = 0
    refused_tokens: int = 0
    by_external_id: Counter[str] = field(default_factory=Counter)
    tokens_seen: set[str] = field(default_factory=set)
    lists: int = 0
    requests: int = 0
    authorizations: list[str] = field(default_factory=list)
    refused_concurrency: int = 0
    peak_running: int = 0


class ManualClock:
    """A clock that moves only when the test says: `FakeKling(task_seconds=3, clock=clock)`,
    then `clock.advance(3)` ends every task at once, with no sleep."""

    def __init__(self, start: float = 1000.0) -> None:
        self._now = start
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += seconds


@dataclass
class _Task:
    task_id: str
    endpoint: str
    body: dict[str, Any]
    created: float  # on the server's clock: for ages, the timeline and the epoch times
    seconds: float = 0.0  # its render time, task_seconds mode
    fail_message: str | None = None
    final_status: str = "succeed"
    held: bool = False  # by a "hold" fault, until release()
    released: float | None = None  # when release() let it end
    looks: int = 0  # queries and lists that reported it (polls mode)
    processing_since: float | None = None  # polls mode: the first look
    final_since: float | None = None  # polls mode: the look that ended it

    def external_id(self) -> str | None:
        value = self.body.get("external_task_id")
        return str(value) if value else None


class FakeKling:
    def __init__(self, *, task_seconds: float | None = None, polls: int | None = None,
                 clock: Callable[[], float] = time.monotonic, access_key: str = TEST_ACCESS_KEY,
                 secret_key: str = TEST_SECRET_KEY, port: int = 0, max_running: int | None = None,
                 models: list[dict[str, Any]] | None = None,
                 video: Callable[[dict[str, Any]], bytes] | None = None, official_only: bool = False,
                 spread: float = 0.0, seed: int = 0, stamps_in_seconds: bool = False) -> None:
        if task_seconds is not None and polls is not None:
            raise ValueError("a task moves on by task_seconds or by polls, not both")
        if polls is not None and polls < 1:
            raise ValueError("polls must be 1 or more")
        self.polls = polls
        self.task_seconds = 0.5 if task_seconds is None and polls is None else (task_seconds or 0.0)
        if not 0.0 <= spread < 1.0:
            raise ValueError("spread is a fraction of task_seconds, from 0 up to 1")
        self.spread = spread
        self.stamp_unit = 1 if stamps_in_seconds else 1000  # created_at/updated_at per second
        self._renders = random.Random(seed)
        self.clock = clock
        self._epoch = time.time() - clock()  # the server clock's reading as epoch seconds
        self.access_key = access_key
        self.secret_key = secret_key
        self.max_running = max_running
        # The capability matrix's rows (`shotlang models --format json`'s "models"); the built-in
        # matrix if None. A test that teaches shotlang a model teaches the server the same way.
        # `official_only`: take only what Kling's own capability map offers (_ModelRules).
        self.official_only = official_only
        self.models = {row["name"]: _ModelRules.from_row(row, official_only)
                       for row in (models or _built_in_models())}
        self.stats = Stats()
        # What a finished task's download holds, made from its request body (the tests of the
        # timeline serve MP4s as long as each shot asked); VIDEO for every task if None.
        self.video = video
        self._tasks: dict[str, _Task] = {}
        # Indexes, so a long run costs the server the same per request at its end as at its start.
        self._by_external: dict[str, _Task] = {}
        self._running: dict[str, _Task] = {}  # tasks not yet final, oldest first
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server = _QuietServer(("127.0.0.1", port), _handler_for(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    # --- lifecycle ---------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> FakeKling:
        # A short poll interval: stop() waits for it, and tests start and stop many servers.
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,), name="fake-kling",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # ends drips still under way
        if self._thread is not None:  # shutdown() waits for serve_forever(): only if it runs
            self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeKling:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def env(self) -> dict[str, str]:
        """Environment variables that point shotlang at this server with its test keys."""
        return {"KLING_API_BASE": self.url, "KLING_ACCESS_KEY": self.access_key,
                "KLING_SECRET_KEY": self.secret_key}

    # --- control -----------------------------------------------------------------------------

    def inject(self, *faults: Fault) -> None:
        with self._lock:
            self._faults.extend(faults)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def release(self) -> int:
        """Let every held task end: with polls, at its next look; with task_seconds, once its
        time is up (at once if it is). Faults not yet taken stay: clear_faults() first to hold
        no more tasks. Returns how many tasks were released."""
        with self._lock:
            now = self.clock()
            held = [t for t in self._tasks.values() if t.held]
            for task in held:
                task.held, task.released = False, now
                task.looks = max(task.looks, (self.polls or 1) - 1)
            return len(held)

    def tasks(self) -> list[dict[str, Any]]:
        """Every task as a query would answer it, without counting as a look."""
        with self._lock:
            now = self.clock()
            return [self._task_data(t, now) for t in self._tasks.values()]

    def timeline(self) -> list[tuple[float, float]]:
        """(created, finished) on the server's clock (time.monotonic() unless a clock was given)
        for every task, in creation order; finished is inf while a task has not ended: a
        benchmark's span is the last finish minus the first creation."""
        with self._lock:
            return [(t.created, self._ended(t)) for t in self._tasks.values()]

    def _take_fault(self, where: Where, body: bytes, kinds: tuple[str, ...]) -> Fault | None:
        with self._lock:
            return self._take_fault_locked(where, body, kinds)

    def _take_fault_locked(self, where: Where, body: bytes, kinds: tuple[str, ...]) -> Fault | None:
        for fault in self._faults:
            if fault.kind not in kinds or fault.on not in (where, "any"):
                continue
            if fault.match is not None and fault.match.encode() not in body:
                continue
            if fault.times is not None:
                fault.times -= 1
                if fault.times <= 0:
                    self._faults.remove(fault)
            return fault
        return None

    # --- the API -------------------------------------------------------------------------------

    def _check_token(self, header: str | None) -> tuple[int, int, str] | None:
        """None if the Authorization header is good, else (http, code, message)."""
        if not header or not header.startswith("Bearer "):
            return 401, 1000, "Authorization header is empty or malformed"
        token = header.removeprefix("Bearer ")
        try:
            claims = jwt.decode(token, self.secret_key, algorithms=["HS256"],
                                options={"require": ["iss", "exp", "nbf"]}, leeway=0)
        except jwt.ExpiredSignatureError:
            return 401, 1004, "token expired"
        except jwt.ImmatureSignatureError:
            return 401, 1003, "token not yet valid"
        except jwt.InvalidTokenError:
            return 401, 1002, "token invalid"
        if claims.get("iss") != self.access_key:
            return 401, 1002, "token invalid"
        if jwt.get_unverified_header(token).get("typ") != "JWT":
            return 401, 1002, "token invalid"
        with self._lock:
            self.stats.tokens_seen.add(token)
        return None

    # --- a task's life -----------------------------------------------------------------------

    def render_times(self) -> list[float]:
        """How long each task created renders (task_seconds mode), in the order they were created."""
        with self._lock:
            return [task.seconds for task in self._tasks.values()]

    def _ended(self, task: _Task) -> float:
        """When the task took its final status on the server's clock (inf: not yet, or not known
        yet in polls mode until a look ends it)."""
        if task.held:
            return float("inf")
        if self.polls is not None:
            return task.final_since if task.final_since is not None else float("inf")
        end = task.created + task.seconds
        return end if task.released is None else max(end, task.released)

    def _status(self, task: _Task, now: float) -> tuple[str, float]:
        """The task's status at `now` and when it took it (server clock)."""
        if now >= self._ended(task):
            return task.final_status, self._ended(task)
        if self.polls is not None:
            if task.processing_since is None:
                return "submitted", task.created
            return "processing", task.processing_since
        if now - task.created < task.seconds / 3:
            return "submitted", task.created
        return "processing", task.created + task.seconds / 3

    def _look_locked(self, task: _Task, now: float) -> dict[str, Any]:
        """The task as a query or list reports it; in polls mode the report moves it on."""
        if self.polls is not None and task.final_since is None:
            task.looks += 1
            if task.processing_since is None:
                task.processing_since = now
            if task.looks >= self.polls and not task.held:
                task.final_since = now
        return self._task_data(task, now)

    def _look(self, task: _Task) -> dict[str, Any]:
        with self._lock:
            return self._look_locked(task, self.clock())

    def _running_locked(self, now: float) -> int:
        # Few tasks run at once (an account's limit), so checking each is cheap; ended ones go.
        for task_id, task in list(self._running.items()):
            if now >= self._ended(task):
                del self._running[task_id]
        return len(self._running)

    def _create(self, endpoint: str, body: dict[str, Any], raw: bytes) -> tuple[int, dict[str, Any], bool]:
        """Carry out a create: (http, payload, whether a task was created)."""
        body = _present(body)  # null fields are absent: the task keeps the body without them
        problem = _validate(endpoint, body, self.models)
        if problem is not None:
            return 400, _error(_INVALID_PARAMETERS, problem), False
        with self._lock:
            self.stats.create_requests += 1
            external = body.get("external_task_id")
            if external and str(external) in self._by_external:
                return 400, _error(_DUPLICATE_EXTERNAL_ID, "external_task_id already exists"), False
            now = self.clock()
            if self.max_running is not None and self._running_locked(now) >= self.max_running:
                self.stats.refused_concurrency += 1
                return 429, _error(_OVER_CONCURRENCY, "concurrency over the account's limit"), False
            seconds = self.task_seconds * (1.0 + self.spread * self._renders.uniform(-1.0, 1.0))
            task = _Task(uuid.uuid4().hex[:20], endpoint, body, now, seconds)
            # Faults that shape the task are taken with it, so no query sees it without them.
            failing = self._take_fault_locked("create", raw, ("fail_task",))
            if failing is not None:
                task.fail_message, task.final_status = failing.message, "failed"
            ending = self._take_fault_locked("create", raw, ("status",))
            if ending is not None:
                task.final_status = ending.status
            task.held = self._take_fault_locked("create", raw, ("hold",)) is not None
            self._tasks[task.task_id] = task
            self._running[task.task_id] = task
            if external:
                self._by_external[str(external)] = task
            self.stats.creates += 1
            self.stats.peak_running = max(self.stats.peak_running, self._running_locked(now))
            if external:
                self.stats.by_external_id[str(external)] += 1
            data = self._task_data(task, now)
            others = [t for t in self._tasks.values() if t is not task and t.endpoint == task.endpoint]
            if others and self._take_fault_locked("create", raw, ("swap",)) is not None:
                data = self._task_data(others[-1], now)  # the task is made; the answer names another
        return 200, _ok(data), True

    def _find(self, endpoint: str, key: str) -> tuple[_Task | None, bool]:
        """The task with this task id or external id, and whether it was found by external id."""
        with self._lock:
            task = self._tasks.get(key)
            by_external = task is None
            if task is None:
                task = self._by_external.get(key)
            return (task, by_external) if task is not None and task.endpoint == endpoint else (None, False)

    def _list(self, endpoint: str, page: int, size: int) -> list[dict[str, Any]]:
        with self._lock:
            self.stats.lists += 1
            now = self.clock()
            newest_first = (t for t in reversed(self._tasks.values()) if t.endpoint == endpoint)
            chosen = list(itertools.islice(newest_first, (page - 1) * size, page * size))
            return [self._look_locked(t, now) for t in chosen]

    def _task_data(self, task: _Task, now: float) -> dict[str, Any]:
        # Each status holds from a fixed point of the task's life, so updated_at is that point,
        # not the time of the query: a client can learn the render time from it.
        status, changed = self._status(task, now)
        data: dict[str, Any] = {
            "task_id": task.task_id, "task_status": status,
            "task_info": {"external_task_id": task.external_id()},
            "created_at": int((self._epoch + task.created) * self.stamp_unit),
            "updated_at": int((self._epoch + changed) * self.stamp_unit),
        }
        if status == "failed":
            data["task_status_msg"] = task.fail_message or "task failed"
        if status == "succeed":
            duration = str(task.body.get("duration", _DEFAULT_DURATION))
            data["task_result"] = {"videos": [{"id": task.task_id, "url": f"{self.url}/videos/{task.task_id}.mp4",
                                               "duration": duration}]}
            data["final_unit_deduction"] = "1"
        return data


class _QuietServer(ThreadingHTTPServer):
    """Dropped connections are injected on purpose: no traceback for them on stderr."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError | OSError):
            super().handle_error(request, client_address)


# --- the API's rules, as this server reads them ------------------------------------------------
# Written here from the API's documentation (../shared/kling-api.md), and kept apart from
# shotlang/kling.py on purpose: nothing below is derived from shotlang's own code or tables, so
# this server is an independent witness of what the compiler and the client send. A change to
# kling.py (a limit, a value set, a code) cannot silently make the server agree with it; when the
# API changes, change both, each from the documentation. The one shared thing is data: which
# model offers what, the capability matrix's rows (_ModelRules), read by the rules below.
#
# A create body is refused (400, code 1201) with a message that names the offending field, as
# the API's "invalid parameters" does. `null` is read as absent, at any depth.
_TEXT2VIDEO, _IMAGE2VIDEO = "/v1/videos/text2video", "/v1/videos/image2video"
_ENDPOINTS = (_TEXT2VIDEO, _IMAGE2VIDEO)
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
    from shotlang.models import built_in, rows  # the data only: the capability matrix

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
_BODY_FIELDS = {_TEXT2VIDEO: (*_COMMON_FIELDS, "aspect_ratio"),
                _IMAGE2VIDEO: (*_COMMON_FIELDS, "image", "image_tail", "static_mask", "dynamic_masks")}
# The fields of each object inside a body, by where it sits ("[]": each entry of a list).
_OBJECT_FIELDS = {
    "camera_control": ("type", "config"),
    "camera_control.config": _CAMERA_FIELDS,
    "dynamic_masks[]": ("mask", "trajectories"),
    "dynamic_masks[].trajectories[]": ("x", "y"),
    "watermark_info": ("enabled",),
    "voice_list[]": ("voice_id",),
    "multi_prompt[]": ("index", "prompt", "duration"),
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
    def image(self) -> bool:  # to image2video
        return self.endpoint == _IMAGE2VIDEO

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
    create = _Create(endpoint, body, name, models[name], body.get("mode", _DEFAULT_MODE))
    for rule in _RULES:
        problem = rule(create)
        if problem is not None:
            return problem
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


def _images(create: _Create) -> str | None:
    if not create.image:
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


# In order: the first broken rule answers.
_RULES: tuple[Callable[[_Create], str | None], ...] = (
    _strings, _prompt, _images, _duration, _mode, _aspect_ratio, _cfg_scale, _sound, _voice_list,
    _watermark, _camera, _end_frame_and_masks, _camera_alone, _dynamic_masks, _multi_shot, _multi_prompt,
)


def _handler_for(fake: FakeKling) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet in tests
            pass

        def setup(self) -> None:
            super().setup()
            # Small writes (a drip, a split video) go out at once, not held back by Nagle.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def parse_request(self) -> bool:
            """Every request received, any method and path, is counted with its Authorization."""
            parsed = super().parse_request()
            with fake._lock:
                fake.stats.requests += 1
                auth = self.headers.get("Authorization") if parsed else None
                if auth is not None:
                    fake.stats.authorizations.append(auth)
            return parsed

        def _respond(self, http: int, data: bytes, content_type: str | None = "application/json",
                     headers: tuple[tuple[str, str], ...] = (), drip: Fault | None = None) -> None:
            self.send_response(http)
            if content_type is not None:
                self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers:
                self.send_header(name, value)
            if drip is not None and drip.kind == "drip_headers":
                # The status line and headers too, one byte at a time: a client's read timeout
                # never fires, only a deadline for the whole answer stops it.
                head = b"".join(self._headers_buffer) + b"\r\n"
                self._headers_buffer: list[bytes] = []
                data = head + data
            else:
                self.end_headers()
            if drip is None:
                self.wfile.write(data)
                return
            self.wfile.flush()
            for i in range(len(data)):
                if fake._stopping.wait(drip.seconds):
                    self.close_connection = True
                    return
                self.wfile.write(data[i : i + 1])
                self.wfile.flush()

        def _send(self, http: int, payload: dict[str, Any], retry_after: float | None = None,
                  drip: Fault | None = None) -> None:
            headers = (("Retry-After", f"{retry_after:g}"),) if retry_after is not None else ()
            self._respond(http, json.dumps(payload).encode(), headers=headers, drip=drip)

        def _answer(self, where: Where, raw: bytes, http: int, payload: dict[str, Any],
                    carried_out: bool = True) -> None:
            """Send an API answer, unless a garble fault replaces it (only once the request was
            carried out) or a drip fault slows it."""
            garble = fake._take_fault(where, raw, ("garble",)) if carried_out else None
            drip = fake._take_fault(where, raw, ("drip", "drip_headers"))
            if garble is not None:
                self._respond(garble.http, garble.body, "text/html", drip=drip)
            else:
                self._send(http, payload, drip=drip)

        def _drop(self) -> None:
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)

        def _faults_first(self, where: Where, raw: bytes) -> bool:
            """Apply injected faults; True if one answered (or dropped) the request."""
            slow = fake._take_fault(where, raw, ("slow",))
            if slow is not None:
                time.sleep(slow.seconds)
            fault = fake._take_fault(where, raw, ("error", "drop", "expire_token", "echo"))
            if fault is None:
                return False
            if fault.kind == "drop":
                self._drop()
            elif fault.kind == "expire_token":
                with fake._lock:
                    fake.stats.refused_tokens += 1
                self._send(401, _error(1004, "token expired"))
            elif fault.kind == "echo":
                auth = self.headers.get("Authorization", "")
                self._send(fault.http, _error(fault.code, f"{fault.message}: {auth}"))
            else:
                self._send(fault.http, _error(fault.code, fault.message), fault.retry_after)
            return True

        def _authorized(self) -> bool:
            problem = fake._check_token(self.headers.get("Authorization"))
            if problem is None:
                return True
            with fake._lock:
                fake.stats.refused_tokens += 1
            self._send(problem[0], _error(problem[1], problem[2]))
            return False

        def do_POST(self) -> None:  # noqa: N802 - the http.server convention
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            path = urlparse(self.path).path
            if path not in _ENDPOINTS:
                self._send(404, _error(1202, "no such endpoint"))
                return
            if self._faults_first("create", raw) or not self._authorized():
                return
            try:
                body = json.loads(raw)
                assert isinstance(body, dict)
            except (ValueError, AssertionError):
                self._send(400, _error(1200, "the body is not a JSON object"))
                return
            http, payload, created = fake._create(path, body, raw)
            if created and fake._take_fault("create", raw, ("lose",)) is not None:
                self._drop()
                return
            self._answer("create", raw, http, payload, carried_out=created)

        def do_GET(self) -> None:  # noqa: N802
            url = urlparse(self.path)
            if url.path.startswith("/videos/"):
                self._video(url.path.removeprefix("/videos/").removesuffix(".mp4"))
                return
            match = re.fullmatch(r"(/v1/videos/(?:text2video|image2video))(?:/([^/]+))?", url.path)
            if match is None:
                self._send(404, _error(1202, "no such endpoint"))
                return
            where: Where = "query" if match[2] else "list"
            if self._faults_first(where, b"") or not self._authorized():
                return
            if match[2] is None:
                self._list(match[1], parse_qs(url.query))
                return
            with fake._lock:
                fake.stats.queries += 1
            task, by_external = fake._find(match[1], match[2])
            if task is not None and by_external and fake._take_fault("query", b"", ("lag",)) is not None:
                task = None
            if task is None:
                self._answer("query", b"", 404, _error(1203, "task not found"))
                return
            data = fake._look(task)
            if data.get("task_result") and fake._take_fault("query", b"", ("leak",)) is not None:
                # An API that writes the caller's token into what it answers: the video's
                # address, its id, the cost, the status text.
                auth = self.headers.get("Authorization", "")
                token = auth.removeprefix("Bearer ")
                for video in data["task_result"]["videos"]:
                    video["url"] += f"?token={token}"
                    video["id"] = auth
                data["final_unit_deduction"] = auth
                data["task_status_msg"] = f"done for {token}"
            self._answer("query", b"", 200, _ok(data))

        def _list(self, endpoint: str, query: dict[str, list[str]]) -> None:
            try:
                page, size = int(query.get("pageNum", ["1"])[0]), int(query.get("pageSize", ["30"])[0])
            except ValueError:
                page = size = 0
            if not (page >= 1 and 1 <= size <= _LIST_PAGE_MAX):
                with fake._lock:
                    fake.stats.lists += 1
                self._answer("list", b"", 400, _error(1200, f"pageNum must be >= 1 and pageSize 1 to "
                                                            f"{_LIST_PAGE_MAX}"))
                return
            self._answer("list", b"", 200, _ok(fake._list(endpoint, page, size)))

        def _video(self, task_id: str) -> None:
            if self._faults_first("download", b""):
                return
            if fake._take_fault("download", b"", ("redirect",)) is not None:
                self._respond(302, b"", None, headers=(("Location", f"{fake.url}{self.path}"),))
                return
            with fake._lock:
                task = fake._tasks.get(task_id)
                fake.stats.downloads += 1
            if task is None:
                self._respond(404, b"", None)
                return
            # One way to serve it, in this order (a fault not used stays for the next download).
            garble = fake._take_fault("download", b"", ("garble",))
            if garble is not None:
                drip = fake._take_fault("download", b"", ("drip",))
                self._respond(garble.http, garble.body, "text/html", drip=drip)
                return
            split = fake._take_fault("download", b"", ("split",))
            if split is not None:
                self._respond_split(split.body or VIDEO, split.seconds or 0.05)
                return
            if fake._take_fault("download", b"", ("cut",)) is not None:
                self.send_response(200)
                self.send_header("Content-Type", "video/mp4")
                self.send_header("Content-Length", str(len(VIDEO)))
                self.end_headers()
                self.wfile.write(VIDEO[: len(VIDEO) // 2])
                self.wfile.flush()
                self._drop()
                return
            served = fake.video(task.body) if fake.video is not None else VIDEO
            self._respond(200, served, "video/mp4", drip=fake._take_fault("download", b"", ("drip",)))

        def _respond_split(self, data: bytes, pause: float) -> None:
            """200 with `data`, its first 4 bytes sent alone: a signature check must not stop there."""
            self.send_response(200)
            self.send_header("Content-Type", "video/mp4")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[:4])
            self.wfile.flush()
            if fake._stopping.wait(pause):
                self.close_connection = True
                return
            self.wfile.write(data[4:])

    return Handler


def main() -> None:
    """Run the fake API until Ctrl-C:
    `python -m shotlang.testing [--port N] [--task-seconds S | --polls N] [--max-running N]
    [--models FOLDER]`."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m shotlang.testing", description=main.__doc__)
    parser.add_argument("--port", type=int, default=8765)
    pace = parser.add_mutually_exclusive_group()
    pace.add_argument("--task-seconds", type=float, default=None, help="each task takes S seconds (default 5)")
    pace.add_argument("--polls", type=int, default=None,
                      help="each task ends at the N-th query or list that reports it")
    parser.add_argument("--max-running", type=int, default=None,
                        help="tasks the account runs at once; more creates are refused 429/1303")
    parser.add_argument("--official-only", action="store_true",
                        help="take only what Kling's own capability map offers, and refuse the rest as the "
                             "API would (400, 1201), where shotlang's matrix believes another source")
    parser.add_argument("--models", metavar="FOLDER", default=None,
                        help="take the capability matrix that applies to shot lists in FOLDER (its "
                             "shotlang-models.toml and the user's models.toml), as shotlang does")
    args = parser.parse_args()
    seconds = 5.0 if args.task_seconds is None and args.polls is None else args.task_seconds
    rows = None
    if args.models is not None:
        from pathlib import Path

        from shotlang.models import for_folder  # the data only, as by default
        from shotlang.models import rows as matrix_rows

        matrix, problems = for_folder(Path(args.models))
        if problems:
            sys.exit(f"the models files for {args.models} have errors: run `shotlang models {args.models}`")
        rows = list(matrix_rows(matrix))
    server = FakeKling(task_seconds=seconds, polls=args.polls, port=args.port, max_running=args.max_running,
                       models=rows, official_only=args.official_only)
    print(f"fake Kling API on {server.url}")
    print(f"  export KLING_API_BASE={server.url}")
    print(f"  export KLING_ACCESS_KEY={server.access_key}")
    print(f"  export KLING_SECRET_KEY={server.secret_key}")
    with contextlib.suppress(KeyboardInterrupt):
        server._server.serve_forever()


if __name__ == "__main__":
    main()
