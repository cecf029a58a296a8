"""A local Kling API for tests: a real HTTP server on 127.0.0.1 that speaks the API's contract.

    from shotlang.testing import FakeKling, Fault

    with FakeKling(task_seconds=0.5) as kling:          # starts on a free port
        env = kling.env()                              # KLING_API_BASE and test keys
        kling.inject(Fault("error", on="create", http=429, code=1302, times=2))
        ...                                            # run your client against kling.url
        assert kling.stats.creates == 3                # tasks accepted (what an account pays)

It checks the JWT (HS256 with the test secret, iss, exp, nbf), validates bodies by the API's
rules (a simple camera config with more than one non-zero field is rejected with 1201, as by
the real API), moves each task from submitted to processing to succeed over `task_seconds`,
serves a small MP4 for each, and injects faults on demand. `python -m shotlang.testing`
runs it on its own; see docs/running.md.
"""

from __future__ import annotations

import contextlib
import json
import re
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal
from urllib.parse import parse_qs, urlparse

import jwt

from . import kling

TEST_ACCESS_KEY = "test-access-key-AK0123456789"
TEST_SECRET_KEY = "test-secret-key-SK0123456789abcdef"
# A tiny file that starts like an MP4 (an ftyp box), enough for a download check.
VIDEO = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(range(256)) * 8

Where = Literal["create", "query", "list", "download", "any"]


@dataclass
class Fault:
    """Something to go wrong, `times` times (None: every time) on matching requests.

    kind: "error" answers HTTP `http` with API `code`; "drop" closes the connection without an
    answer; "lose" carries out a create and then drops its answer; "slow" waits `seconds`
    before answering; "cut" sends half a video then closes;
    "fail_task" makes the task end `failed` with `message`; "expire_token" answers 401/1004.
    `match` limits a fault to requests whose body contains that text (e.g. a word of a prompt).
    """

    kind: Literal["error", "drop", "lose", "slow", "cut", "fail_task", "expire_token"]
    on: Where = "any"
    times: int | None = 1
    http: int = 500
    code: int = 5000
    message: str = "injected fault"
    seconds: float = 0.0
    match: str | None = None
    retry_after: float | None = None


@dataclass
class Stats:
    """What the server saw. `creates` counts accepted tasks: what an account pays for."""

    creates: int = 0
    create_requests: int = 0
    queries: int = 0
    downloads: int = 0
    refused_tokens: int = 0
    by_external_id: Counter[str] = field(default_factory=Counter)
    tokens_seen: set[str] = field(default_factory=set)


@dataclass
class _Task:
    task_id: str
    endpoint: str
    body: dict[str, Any]
    created: float
    fail_message: str | None = None

    def external_id(self) -> str | None:
        value = self.body.get("external_task_id")
        return str(value) if value else None


class FakeKling:
    def __init__(self, *, task_seconds: float = 0.5, access_key: str = TEST_ACCESS_KEY,
                 secret_key: str = TEST_SECRET_KEY, port: int = 0) -> None:
        self.task_seconds = task_seconds
        self.access_key = access_key
        self.secret_key = secret_key
        self.stats = Stats()
        self._tasks: dict[str, _Task] = {}
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self._server = _QuietServer(("127.0.0.1", port), _handler_for(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    # --- lifecycle ---------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> FakeKling:
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-kling", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
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

    def tasks(self) -> list[dict[str, Any]]:
        with self._lock:
            return [self._task_data(t) for t in self._tasks.values()]

    def _take_fault(self, where: Where, body: bytes, kinds: tuple[str, ...]) -> Fault | None:
        with self._lock:
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

    def _create(self, endpoint: str, body: dict[str, Any], raw: bytes) -> tuple[int, dict[str, Any]]:
        problem = _validate(endpoint, body)
        if problem is not None:
            return 400, _error(1201, problem)
        with self._lock:
            self.stats.create_requests += 1
            external = body.get("external_task_id")
            if external and any(t.external_id() == external for t in self._tasks.values()):
                return 400, _error(kling.DUPLICATE_EXTERNAL_ID_CODE, "external_task_id already exists")
            task = _Task(uuid.uuid4().hex[:20], endpoint, body, time.monotonic())
            self._tasks[task.task_id] = task
            self.stats.creates += 1
            if external:
                self.stats.by_external_id[str(external)] += 1
        fault = self._take_fault("create", raw, ("fail_task",))
        if fault is not None:
            task.fail_message = fault.message
        return 200, _ok(self._task_data(task))

    def _find(self, endpoint: str, key: str) -> _Task | None:
        with self._lock:
            task = self._tasks.get(key)
            if task is None:
                task = next((t for t in self._tasks.values() if t.external_id() == key), None)
            return task if task is not None and task.endpoint == endpoint else None

    def _task_data(self, task: _Task) -> dict[str, Any]:
        age = time.monotonic() - task.created
        if age < self.task_seconds / 3:
            status = "submitted"
        elif age < self.task_seconds:
            status = "processing"
        else:
            status = "failed" if task.fail_message else "succeed"
        data: dict[str, Any] = {
            "task_id": task.task_id, "task_status": status,
            "task_info": {"external_task_id": task.external_id()},
            "created_at": int(task.created * 1000), "updated_at": int(time.monotonic() * 1000),
        }
        if status == "failed":
            data["task_status_msg"] = task.fail_message
        if status == "succeed":
            duration = str(task.body.get("duration", "5"))
            data["task_result"] = {"videos": [{"id": task.task_id, "url": f"{self.url}/videos/{task.task_id}.mp4",
                                               "duration": duration}]}
            data["final_unit_deduction"] = "1"
        return data


class _QuietServer(ThreadingHTTPServer):
    """Dropped connections are injected on purpose: no traceback for them on stderr."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError | OSError):
            super().handle_error(request, client_address)


_ENDPOINTS = (kling.TEXT2VIDEO, kling.IMAGE2VIDEO)
_CAMERA_TYPES = ("simple", *kling.CAMERA_PRESETS)


def _ok(data: Any) -> dict[str, Any]:
    return {"code": 0, "message": "SUCCEED", "request_id": uuid.uuid4().hex, "data": data}


def _error(code: int, message: str) -> dict[str, Any]:
    return {"code": code, "message": message, "request_id": uuid.uuid4().hex, "data": None}


def _validate(endpoint: str, body: dict[str, Any]) -> str | None:
    """The API's rules for a create body; a message if one is broken."""
    model = kling.MODELS.get(str(body.get("model_name", "kling-v1")))
    if model is None:
        return "model_name is not supported"
    image = endpoint == kling.IMAGE2VIDEO
    if (image and not model.image2video) or (not image and not model.text2video):
        return "the model does not support this task type"
    if not image and not body.get("prompt"):
        return "prompt is required"
    if image and not (body.get("image") or body.get("image_tail")):
        return "image or image_tail is required"
    for key in ("prompt", "negative_prompt"):
        if len(str(body.get(key, ""))) > kling.TEXT_MAX_CHARS:
            return f"{key} is too long"
    if str(body.get("duration", "5")) not in kling.DURATIONS:
        return "duration is invalid"
    if body.get("mode", "std") not in kling.MODES:
        return "mode is invalid"
    if "aspect_ratio" in body and (image or body["aspect_ratio"] not in kling.ASPECT_RATIOS):
        return "aspect_ratio is invalid"
    camera = body.get("camera_control")
    if camera is not None:
        if camera.get("type") not in _CAMERA_TYPES:
            return "camera_control.type is invalid"
        if camera["type"] == "simple":
            config = camera.get("config") or {}
            values = [config.get(f, 0) for f in kling.CAMERA_FIELDS]
            if any(not isinstance(v, int) or abs(v) > kling.MAGNITUDE_MAX for v in values):
                return "camera_control.config values must be integers from -10 to 10"
            if sum(1 for v in values if v) != 1:
                return "invalid camera config: exactly one field must be non-zero in simple mode"
        if image and (body.get("image_tail") or body.get("static_mask") or body.get("dynamic_masks")):
            return "camera_control cannot be combined with image_tail or masks"
    return None


def _handler_for(fake: FakeKling) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet in tests
            pass

        def _send(self, http: int, payload: dict[str, Any], retry_after: float | None = None) -> None:
            data = json.dumps(payload).encode()
            self.send_response(http)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            if retry_after is not None:
                self.send_header("Retry-After", f"{retry_after:g}")
            self.end_headers()
            self.wfile.write(data)

        def _faults_first(self, where: Where, raw: bytes) -> bool:
            """Apply injected faults; True if one answered (or dropped) the request."""
            slow = fake._take_fault(where, raw, ("slow",))
            if slow is not None:
                time.sleep(slow.seconds)
            fault = fake._take_fault(where, raw, ("error", "drop", "expire_token"))
            if fault is None:
                return False
            if fault.kind == "drop":
                self.close_connection = True
                self.connection.shutdown(2)
            elif fault.kind == "expire_token":
                with fake._lock:
                    fake.stats.refused_tokens += 1
                self._send(401, _error(1004, "token expired"))
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
            http, payload = fake._create(path, body, raw)
            if http == 200 and fake._take_fault("create", raw, ("lose",)) is not None:
                self.close_connection = True
                self.connection.shutdown(2)
                return
            self._send(http, payload)

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
                query = parse_qs(url.query)
                page, size = int(query.get("pageNum", ["1"])[0]), int(query.get("pageSize", ["30"])[0])
                with fake._lock:
                    tasks = [t for t in fake._tasks.values() if t.endpoint == match[1]]
                chosen = tasks[(page - 1) * size : page * size]
                self._send(200, _ok([fake._task_data(t) for t in chosen]))
                return
            with fake._lock:
                fake.stats.queries += 1
            task = fake._find(match[1], match[2])
            if task is None:
                self._send(404, _error(1203, "task not found"))
            else:
                self._send(200, _ok(fake._task_data(task)))

        def _video(self, task_id: str) -> None:
            if self._faults_first("download", b""):
                return
            with fake._lock:
                known = task_id in fake._tasks
                fake.stats.downloads += 1
            if not known:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            cut = fake._take_fault("download", b"", ("cut",))
            self.send_response(200)
            self.send_header("Content-Type", "video/mp4")
            self.send_header("Content-Length", str(len(VIDEO)))
            self.end_headers()
            if cut is not None:
                self.wfile.write(VIDEO[: len(VIDEO) // 2])
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(2)
                return
            self.wfile.write(VIDEO)

    return Handler


def main() -> None:
    """Run the fake API until Ctrl-C: `python -m shotlang.testing [--port N] [--task-seconds S]`."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m shotlang.testing", description=main.__doc__)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--task-seconds", type=float, default=5.0)
    args = parser.parse_args()
    server = FakeKling(task_seconds=args.task_seconds, port=args.port)
    print(f"fake Kling API on {server.url}")
    print(f"  export KLING_API_BASE={server.url}")
    print(f"  export KLING_ACCESS_KEY={server.access_key}")
    print(f"  export KLING_SECRET_KEY={server.secret_key}")
    with contextlib.suppress(KeyboardInterrupt):
        server._server.serve_forever()


if __name__ == "__main__":
    main()
