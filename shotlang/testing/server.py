"""The local Kling server: its tasks, faults and HTTP handler (the package docstring says how to use it)."""

from __future__ import annotations

import itertools
import json
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
from typing import Any, Generic, Literal, Protocol, Self, TypeVar
from urllib.parse import parse_qs, urlparse

import jwt

from .rules import (
    _DEFAULT_DURATION,
    _DUPLICATE_EXTERNAL_ID,
    _ELEMENTS,
    _ENDPOINTS,
    _INVALID_PARAMETERS,
    _LIST_PAGE_MAX,
    _OMNI,
    _OVER_CONCURRENCY,
    _built_in_models,
    _error,
    _ModelRules,
    _ok,
    _present,
    _validate,
    _validate_element,
)
from .videos import clip

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


class Injected(Protocol):
    """A fault as the servers take it in: its kind, where it strikes, what it looks for, how often."""

    times: int | None  # counted down as it is used

    @property
    def kind(self) -> str: ...

    @property
    def on(self) -> str: ...

    @property
    def match(self) -> str | None: ...


FaultT = TypeVar("FaultT", bound=Injected)


def _has(seen: str | bytes, match: str) -> bool:
    return match.encode() in seen if isinstance(seen, bytes) else match in seen


class LocalServer(Generic[FaultT]):
    """What the local servers share (Kling's, fal's): a ThreadingHTTPServer on 127.0.0.1 that
    serves in a thread of its own, how a task or request moves on (by polls or a clock), and the
    faults injected into it. A subclass calls _pace and _listen from its __init__."""

    stats: Stats

    def _pace(self, task_seconds: float | None, polls: int | None, clock: Callable[[], float]) -> None:
        if task_seconds is not None and polls is not None:
            raise ValueError("a task moves on by task_seconds or by polls, not both")
        if polls is not None and polls < 1:
            raise ValueError("polls must be 1 or more")
        self.polls = polls
        self.task_seconds = 0.5 if task_seconds is None and polls is None else (task_seconds or 0.0)
        self.clock = clock
        self._epoch = time.time() - clock()  # the server clock's reading as epoch seconds

    def _listen(self, port: int, handler: type[BaseHTTPRequestHandler], name: str) -> None:
        self._faults: list[FaultT] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server = _QuietServer(("127.0.0.1", port), handler)
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None
        self._name = name

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> Self:
        # A short poll interval: stop() waits for it, and tests start and stop many servers.
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,), name=self._name,
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # ends drips and slow answers still under way
        if self._thread is not None:  # shutdown() waits for serve_forever(): only if it runs
            self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def inject(self, *faults: FaultT) -> None:
        with self._lock:
            self._faults.extend(faults)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def _take_fault(self, where: str, seen: str | bytes, kinds: tuple[str, ...]) -> FaultT | None:
        with self._lock:
            return self._take_fault_locked(where, seen, kinds)

    def _take_fault_locked(self, where: str, seen: str | bytes, kinds: tuple[str, ...]) -> FaultT | None:
        """The first fault of one of `kinds` injected for `where` whose `match` is in `seen` (the
        request as it came, or its text), used once more (and gone when used up)."""
        for fault in self._faults:
            if fault.kind not in kinds or fault.on not in (where, "any"):
                continue
            if fault.match is not None and not _has(seen, fault.match):
                continue
            if fault.times is not None:
                fault.times -= 1
                if fault.times <= 0:
                    self._faults.remove(fault)
            return fault
        return None


class FakeKling(LocalServer[Fault]):
    def __init__(self, *, task_seconds: float | None = None, polls: int | None = None,
                 clock: Callable[[], float] = time.monotonic, access_key: str = TEST_ACCESS_KEY,
                 secret_key: str = TEST_SECRET_KEY, port: int = 0, max_running: int | None = None,
                 models: list[dict[str, Any]] | None = None,
                 video: Callable[[dict[str, Any]], bytes | None] | None = None, official_only: bool = False,
                 spread: float = 0.0, seed: int = 0, stamps_in_seconds: bool = False,
                 real_videos: bool = False) -> None:
        self._pace(task_seconds, polls, clock)
        if not 0.0 <= spread < 1.0:
            raise ValueError("spread is a fraction of task_seconds, from 0 up to 1")
        self.spread = spread
        self.stamp_unit = 1 if stamps_in_seconds else 1000  # created_at/updated_at per second
        self._renders = random.Random(seed)
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
        # Each task's video a real MP4 of its own look (videos.clip, PyAV), not the tiny VIDEO.
        self.real_videos = real_videos
        # A hostile server's element answers: given an element's task, the `elements` its finished
        # answer holds (None: the usual one), e.g. an id missing, odd, or another element's.
        self.element_answer: Callable[[_Task], list[dict[str, Any]] | None] | None = None
        if real_videos:
            clip("probe")  # NoEncoder now, not at the first download
        self._tasks: dict[str, _Task] = {}
        # Indexes, so a long run costs the server the same per request at its end as at its start.
        self._by_external: dict[str, _Task] = {}
        self._running: dict[str, _Task] = {}  # tasks not yet final, oldest first
        self._listen(port, _handler_for(self), "fake-kling")

    def env(self) -> dict[str, str]:
        """Environment variables that point shotlang at this server with its test keys."""
        return {"KLING_API_BASE": self.url, "KLING_ACCESS_KEY": self.access_key,
                "KLING_SECRET_KEY": self.secret_key}

    # --- control -----------------------------------------------------------------------------

    def forget(self, task_id: str) -> None:
        """Drop a task as an API that purged it would: queries by its id or external id answer
        404 from now on, and its external id may be used again."""
        with self._lock:
            task = self._tasks.pop(task_id)
            self._running.pop(task_id, None)
            external = task.external_id()
            if external is not None:
                self._by_external.pop(external, None)

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

    def created(self) -> list[tuple[str, dict[str, Any]]]:
        """Each task created, in order: the endpoint it was created at and the body it got."""
        with self._lock:
            return [(t.endpoint, dict(t.body)) for t in self._tasks.values()]

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
        problem = _validate_element(body) if endpoint == _ELEMENTS else _validate(endpoint, body, self.models)
        if problem is not None:
            return 400, _error(_INVALID_PARAMETERS, problem), False
        with self._lock:
            problem = self._unknown_elements_locked(body)
            if problem is not None:
                return 400, _error(_INVALID_PARAMETERS, problem), False
            self.stats.create_requests += 1
            external = body.get("external_task_id")
            if external and str(external) in self._by_external:
                return 400, _error(_DUPLICATE_EXTERNAL_ID, "external_task_id already exists"), False
            now = self.clock()
            # An element is made beside the account's video tasks: it takes no place among them.
            if endpoint != _ELEMENTS and self.max_running is not None and self._running_locked(now) >= self.max_running:
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
            if endpoint != _ELEMENTS:
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

    def _unknown_elements_locked(self, body: dict[str, Any]) -> str | None:
        """A video request's element_list names only elements made here and done."""
        elements = body.get("element_list")
        if not isinstance(elements, list):
            return None
        now = self.clock()
        for i, entry in enumerate(elements):
            task = self._tasks.get(str(entry.get("element_id", ""))[2:]) if isinstance(entry, dict) else None
            if task is None or task.endpoint != _ELEMENTS or self._status(task, now)[0] != "succeed":
                return f"element_list[{i}].element_id: no such element"
        return None

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
        if status == "succeed" and task.endpoint == _ELEMENTS:
            hostile = self.element_answer(task) if self.element_answer is not None else None
            data["task_result"] = {"elements": hostile if hostile is not None else [
                {"element_id": f"el{task.task_id}", "element_name": task.body.get("element_name")}]}
        elif status == "succeed":
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




class Counted(Protocol):
    """A local server as its request handler sees it: what it counts, and the lock over it."""

    @property
    def _lock(self) -> threading.Lock: ...

    @property
    def stats(self) -> Stats: ...


class LocalHandler(BaseHTTPRequestHandler):
    """What the local servers' handlers share (Kling's and fal's): HTTP/1.1, quiet, small writes
    at once, every request counted with its Authorization in `counted.stats`."""

    protocol_version = "HTTP/1.1"
    counted: Counted

    def log_message(self, format: str, *args: Any) -> None:  # quiet in tests
        pass

    def setup(self) -> None:
        super().setup()
        # Small writes (a drip, a split video) go out at once, not held back by Nagle.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def parse_request(self) -> bool:
        """Every request received, any method and path, is counted with its Authorization."""
        parsed = super().parse_request()
        with self.counted._lock:
            self.counted.stats.requests += 1
            auth = self.headers.get("Authorization") if parsed else None
            if auth is not None:
                self.counted.stats.authorizations.append(auth)
        return parsed

    def _drop(self) -> None:
        """No answer: the connection closed."""
        self.close_connection = True
        self.connection.shutdown(socket.SHUT_RDWR)


def _handler_for(fake: FakeKling) -> type[BaseHTTPRequestHandler]:
    class Handler(LocalHandler):
        counted = fake

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
            if path not in _ENDPOINTS and path != _ELEMENTS:
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
            match = re.fullmatch(r"(/v1/videos/(?:text2video|image2video|omni-video)|/v1/general/advanced-custom-elements)"
                                 r"(?:/([^/]+))?", url.path)
            if match is None:
                self._send(404, _error(1202, "no such endpoint"))
                return
            where: Where = "query" if match[2] else "list"
            if self._faults_first(where, b"") or not self._authorized():
                return
            if match[2] is None:
                if match[1] == _OMNI:  # the omni endpoint documents queries by id, no list
                    self._answer("list", b"", 404, _error(1202, "no such endpoint"))
                    return
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
            served = fake.video(task.body) if fake.video is not None else None
            if served is None:  # the test's own bytes first, then the server's
                served = clip(task.task_id) if fake.real_videos else VIDEO
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
