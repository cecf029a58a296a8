"""The client's parts on their own: tokens, backoff, the error table, download checks."""

from __future__ import annotations

import email.utils
import hashlib
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import jwt
import pytest

from shotlang.compiler import kling
from shotlang.config import ConfigError, Credentials, load
from shotlang.engine.auth import REFRESH_MARGIN, TokenSource, make_token
from shotlang.engine.client import (
    LOOKUP_TRIES,
    AccountError,
    AuthError,
    Backoff,
    CreateUnknown,
    GaveUp,
    KlingClient,
    OverConcurrency,
    ShotError,
    Stopped,
    TimedOut,
    retry_after,
)
from shotlang.testing import TEST_ACCESS_KEY, TEST_SECRET_KEY, VIDEO, FakeKling, Fault

CREDS = Credentials(TEST_ACCESS_KEY, TEST_SECRET_KEY)


def test_token_has_the_documented_header_and_claims() -> None:
    token, expires = make_token(CREDS, now=1_000_000.0)
    assert jwt.get_unverified_header(token) == {"alg": "HS256", "typ": "JWT"}
    claims = jwt.decode(token, TEST_SECRET_KEY, algorithms=["HS256"], options={"verify_exp": False,
                                                                              "verify_nbf": False})
    assert claims == {"iss": TEST_ACCESS_KEY, "exp": 1_001_800, "nbf": 999_995}
    assert expires == 1_001_800


def test_token_is_renewed_before_it_expires() -> None:
    now = [1_000_000.0]
    tokens = TokenSource(CREDS, clock=lambda: now[0])
    first = tokens.token()
    now[0] += kling.TOKEN_LIFETIME - REFRESH_MARGIN - 1
    assert tokens.token() == first
    now[0] += 2
    assert tokens.token() != first


def test_credentials_never_show_in_repr() -> None:
    assert TEST_SECRET_KEY not in repr(CREDS) and TEST_ACCESS_KEY not in repr(CREDS)
    assert TEST_SECRET_KEY not in repr(TokenSource(CREDS))


def test_backoff_grows_with_jitter_and_honours_retry_after() -> None:
    backoff = Backoff(base=1, cap=10)
    assert all(0 <= backoff.delay(3) <= 8 for _ in range(100))
    assert all(backoff.delay(20) <= 10 for _ in range(100))
    assert backoff.delay(0, retry_after=4) == 4
    assert backoff.delay(0, retry_after=99) == 10


@pytest.mark.parametrize(("http", "code", "action"), [
    (401, 1004, kling.ErrorAction.REFRESH_TOKEN), (429, 1101, kling.ErrorAction.STOP_RUN),
    (429, 1102, kling.ErrorAction.STOP_RUN), (429, 1304, kling.ErrorAction.STOP_RUN),
    (403, 1103, kling.ErrorAction.FAIL_SHOT), (400, 1301, kling.ErrorAction.FAIL_SHOT),
    (429, 1302, kling.ErrorAction.RETRY), (429, 1303, kling.ErrorAction.WAIT_AND_RETRY),
    (503, 5001, kling.ErrorAction.RETRY), (502, None, kling.ErrorAction.RETRY),
    (418, None, kling.ErrorAction.FAIL_SHOT),
])  # fmt: skip
def test_error_table(http: int, code: int | None, action: kling.ErrorAction) -> None:
    assert kling.error_action(http, code) is action


@pytest.fixture
def server() -> Iterator[FakeKling]:
    with FakeKling(task_seconds=0.1) as fake:
        yield fake


def client(server: FakeKling, attempts: int = 4) -> KlingClient:
    return KlingClient(server.url, TokenSource(CREDS), backoff=Backoff(base=0.01, cap=0.05, attempts=attempts))


BODY = {"model_name": "kling-v2-6", "prompt": "x", "duration": "5"}


def test_retries_run_out(server: FakeKling) -> None:
    server.inject(Fault("error", on="query", http=500, code=5000, times=None))
    with client(server) as c, pytest.raises(GaveUp, match="gave up after 4 tries"):
        c.query(kling.TEXT2VIDEO, "mine-1")


def test_create_retries_run_out_as_unknown_never_as_not_created(server: FakeKling) -> None:
    server.inject(Fault("error", on="create", http=500, code=5000, times=None))
    with client(server) as c:
        with pytest.raises(CreateUnknown, match="gave up after 4 tries"):
            c.create(kling.TEXT2VIDEO, {**BODY, "external_task_id": "mine-1"})
        with pytest.raises(CreateUnknown, match="cannot be looked up"):
            c.create(kling.TEXT2VIDEO, BODY)


def test_account_error_and_shot_error(server: FakeKling) -> None:
    with client(server) as c:
        server.inject(Fault("error", on="create", http=429, code=1102, message="resource pack used up"))
        with pytest.raises(AccountError, match="resource pack used up"):
            c.create(kling.TEXT2VIDEO, BODY)
        with pytest.raises(ShotError, match="exactly one field"):
            c.create(kling.TEXT2VIDEO, {**BODY, "camera_control": {"type": "simple", "config": {
                "horizontal": 5, "vertical": 5, "zoom": 0, "roll": 0, "pan": 0, "tilt": 0}}})


def test_query_by_external_id(server: FakeKling) -> None:
    with client(server) as c:
        task = c.create(kling.TEXT2VIDEO, {**BODY, "external_task_id": "mine-1"})
        assert c.query(kling.TEXT2VIDEO, "mine-1").task_id == task.task_id  # type: ignore[union-attr]
        assert c.query(kling.TEXT2VIDEO, "nobody") is None
        again = c.create(kling.TEXT2VIDEO, {**BODY, "external_task_id": "mine-1"})
        assert again.task_id == task.task_id and server.stats.creates == 1
        assert [t.task_id for t in c.list(kling.TEXT2VIDEO)] == [task.task_id]


def _serve(content: bytes, headers: dict[str, str] | None = None) -> httpx.MockTransport:
    return httpx.MockTransport(lambda request: httpx.Response(200, content=content, headers=headers))


@pytest.mark.parametrize(("content", "headers", "message"), [
    (b"<html>not a video</html>", None, "not an MP4"),
    (VIDEO, {"content-length": str(10**9)}, "over the"),
    (VIDEO * 100, None, "over the"),
])  # fmt: skip
def test_bad_downloads_are_not_kept(tmp_path: Path, content: bytes, headers: dict[str, str] | None,
                                    message: str) -> None:
    target = tmp_path / "v.mp4"
    target.write_bytes(b"old")
    c = KlingClient("http://127.0.0.1:9", TokenSource(CREDS), transport=_serve(content, headers))
    with pytest.raises(ShotError, match=message):
        c.download("http://cdn.example/v.mp4", target, max_bytes=len(VIDEO) * 10)
    assert target.read_bytes() == b"old"
    assert list(tmp_path.iterdir()) == [target]


def test_download_sends_no_authorization_header(tmp_path: Path) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=VIDEO)

    c = KlingClient("http://127.0.0.1:9", TokenSource(CREDS), transport=httpx.MockTransport(handler))
    assert c.download("http://cdn.example/v.mp4", tmp_path / "v.mp4", max_bytes=10**6) == (
        len(VIDEO), hashlib.sha256(VIDEO).hexdigest())
    assert "authorization" not in seen[0].headers


def test_config_file_and_environment(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[kling]\naccess_key = "ak"\nsecret_key = "sk"\napi_base = "http://127.0.0.1:1"\n')
    config = load({"SHOTLANG_CONFIG": str(path)})
    assert config.credentials == Credentials("ak", "sk") and config.api_base == "http://127.0.0.1:1"
    config = load({"SHOTLANG_CONFIG": str(path), "KLING_ACCESS_KEY": "ak2", "KLING_SECRET_KEY": "sk2"})
    assert config.credentials == Credentials("ak2", "sk2")
    path.write_text("[prices.kling-v2-6]\nultra-5s = 3\n")
    with pytest.raises(ConfigError, match="std-5s"):
        load({"SHOTLANG_CONFIG": str(path)})
    path.write_text("not toml [")
    with pytest.raises(ConfigError, match="cannot read"):
        load({"SHOTLANG_CONFIG": str(path)})


# --- a tiny Kling API on httpx.MockTransport: exact answers, counted requests -------------------

HTML = b"<html><body>502 Bad Gateway</body></html>"
ENDPOINT = kling.TEXT2VIDEO
EXTERNAL = {**BODY, "external_task_id": "shot-lamp-1"}


def _envelope(code: int, message: str = "", data: object = None) -> dict[str, object]:
    return {"code": code, "message": message, "request_id": "r", "data": data}


Scripted = tuple[str, bool, "httpx.Response | Exception"]


@dataclass
class Api:
    """Tasks by external id, and scripted answers: (kind, processed, answer) sends `answer` to
    the next request of that kind ("create", "query", "list"), after doing what it asks if
    `processed` (so a create can succeed and its answer be lost). `lag` lookups by external id
    answer 404 although the task exists."""

    script: list[Scripted] = field(default_factory=list)
    lag: int = 0
    tasks: dict[str, dict[str, object]] = field(default_factory=dict)
    creates: int = 0  # creates accepted (each one paid)
    requests: list[httpx.Request] = field(default_factory=list)

    def count(self, kind: str) -> int:
        return sum(_kind(r) == kind for r in self.requests)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        kind = _kind(request)
        scripted = next((s for s in self.script if s[0] == kind), None)
        if scripted is not None:
            self.script.remove(scripted)
            if scripted[1]:
                self._answer(request, kind)
            if isinstance(scripted[2], Exception):
                raise scripted[2]
            return scripted[2]
        return self._answer(request, kind)

    def _answer(self, request: httpx.Request, kind: str) -> httpx.Response:
        if kind == "create":
            body = json.loads(request.content)
            external = body.get("external_task_id")
            if external is not None and external in self.tasks:
                return httpx.Response(400, json=_envelope(1201, "external_task_id already exists"))
            self.creates += 1
            task: dict[str, object] = {"task_id": f"t{self.creates}", "task_status": "submitted",
                                       "task_info": {"external_task_id": external}}
            self.tasks[external or f"t{self.creates}"] = task
            return httpx.Response(200, json=_envelope(0, "SUCCEED", task))
        if kind == "list":
            return httpx.Response(200, json=_envelope(0, "SUCCEED", list(self.tasks.values())))
        key = request.url.path.rsplit("/", 1)[1]
        found = self.tasks.get(key) or next((t for t in self.tasks.values() if t["task_id"] == key), None)
        if found is not None and key in self.tasks and self.lag > 0:
            self.lag -= 1
            found = None
        if found is None:
            return httpx.Response(404, json=_envelope(1203, "task not found"))
        return httpx.Response(200, json=_envelope(0, "SUCCEED", found))


def _kind(request: httpx.Request) -> str:
    if request.method == "POST":
        return "create"
    return "list" if request.url.path in kling.ENDPOINTS else "query"


def mock_client(api: Api, attempts: int = 4, tokens: TokenSource | None = None) -> KlingClient:
    return KlingClient("https://api.test", tokens or TokenSource(CREDS), transport=httpx.MockTransport(api),
                       backoff=Backoff(base=0.001, cap=0.01, attempts=attempts))


NOT_KLING_REPLIES = [
    pytest.param(httpx.Response(200, content=HTML), id="html-200"),
    pytest.param(httpx.Response(200, content=b'{"code": 0, "data": {"task_id": "t1", "task_'), id="truncated-json"),
    pytest.param(httpx.Response(200, json=_envelope(9999, "who knows")), id="unknown-code"),
    pytest.param(httpx.Response(403, content=b""), id="403-empty"),
    pytest.param(httpx.Response(400, content=HTML), id="400-html"),
    pytest.param(httpx.Response(408, content=b""), id="408-empty"),
    pytest.param(httpx.Response(200, content=b""), id="200-empty"),
    pytest.param(httpx.Response(200, json=_envelope(0, "SUCCEED", {"status": "?"})), id="unreadable-data"),
    pytest.param(httpx.Response(500, json=_envelope(5000, "server error")), id="5000"),
    pytest.param(httpx.ReadError("connection reset"), id="dropped-after-sending"),
]


@pytest.mark.parametrize("answer", NOT_KLING_REPLIES)
def test_an_unreadable_answer_to_a_create_that_was_made_is_resolved_by_lookup(
        answer: httpx.Response | Exception) -> None:
    api = Api(script=[("create", True, answer)])
    task = mock_client(api).create(ENDPOINT, EXTERNAL)
    assert task.task_id == "t1" and api.creates == 1 and api.count("create") == 1


@pytest.mark.parametrize("answer", NOT_KLING_REPLIES)
def test_an_unreadable_answer_to_a_create_that_was_not_made_is_sent_again_with_the_same_id(
        answer: httpx.Response | Exception) -> None:
    api = Api(script=[("create", False, answer)])
    task = mock_client(api).create(ENDPOINT, EXTERNAL)
    assert task.task_id == "t1" and api.creates == 1 and api.count("create") == 2
    assert [json.loads(r.content)["external_task_id"] for r in api.requests if _kind(r) == "create"] == [
        "shot-lamp-1", "shot-lamp-1"]
    assert api.count("query") == LOOKUP_TRIES  # the lookup is asked again in case it lags


def test_a_lost_answer_and_a_lagging_lookup_still_pay_once() -> None:
    api = Api(script=[("create", True, httpx.Response(502, content=HTML))], lag=LOOKUP_TRIES)
    task = mock_client(api).create(ENDPOINT, EXTERNAL)
    # The lookup lags past its tries, the create is sent again, is refused as a duplicate
    # (the id proves the task exists), and the task is found.
    assert task.task_id == "t1" and api.creates == 1


def test_duplicate_external_id_with_a_lagging_lookup_returns_the_task() -> None:
    api = Api()
    c = mock_client(api)
    first = c.create(ENDPOINT, EXTERNAL)
    api.lag = 2
    again = c.create(ENDPOINT, EXTERNAL)
    assert again.task_id == first.task_id and api.creates == 1 and api.count("create") == 2


def test_duplicate_external_id_never_found_is_unknown_not_refused() -> None:
    api = Api()
    c = mock_client(api)
    c.create(ENDPOINT, EXTERNAL)
    api.lag = 100
    with pytest.raises(CreateUnknown) as caught:
        c.create(ENDPOINT, EXTERNAL)
    assert caught.value.exists and not isinstance(caught.value, ShotError) and api.creates == 1


def test_1201_that_is_not_a_duplicate_refuses_a_fresh_create() -> None:
    refusal = httpx.Response(400, json=_envelope(1201, "prompt is invalid"))
    api = Api(script=[("create", False, refusal)])
    with pytest.raises(ShotError, match="prompt is invalid") as caught:
        mock_client(api).create(ENDPOINT, EXTERNAL)
    # 1201 is also the duplicate-id code whatever its wording: the id is looked up before the
    # create is called refused (the API has no such task here).
    assert caught.value.code == 1201 and api.count("create") == 1 and api.count("query") >= 1
    assert not caught.value.maybe_created


def test_1201_worded_otherwise_for_an_id_that_is_taken_finds_the_task() -> None:
    api = Api(script=[("create", True, httpx.Response(400, json=_envelope(1201, "duplicate request")))])
    task = mock_client(api).create(ENDPOINT, EXTERNAL)
    assert task.task_id and api.creates == 1


def test_1201_after_an_unknown_outcome_is_unknown() -> None:
    refusal: Scripted = ("create", False, httpx.Response(400, json=_envelope(1201, "prompt is invalid")))
    api = Api(script=[("create", False, httpx.Response(200, content=HTML)), *[refusal] * 9])
    with pytest.raises(CreateUnknown):
        mock_client(api).create(ENDPOINT, EXTERNAL)
    api = Api(script=[refusal] * 9)
    with pytest.raises(CreateUnknown):
        mock_client(api).create(ENDPOINT, EXTERNAL, maybe_sent=True)
    assert api.creates == 0


def test_over_concurrency_is_not_retried_by_create() -> None:
    api = Api(script=[("create", False, httpx.Response(429, json=_envelope(1303, "over the limit")))])
    with pytest.raises(OverConcurrency, match="over the limit") as caught:
        mock_client(api).create(ENDPOINT, EXTERNAL)
    assert caught.value.code == kling.OVER_CONCURRENCY_CODE and api.count("create") == 1


def test_rate_limited_create_is_looked_up_then_sent_again() -> None:
    api = Api(script=[("create", False, httpx.Response(429, json=_envelope(1302, "slow down")))])
    assert mock_client(api).create(ENDPOINT, EXTERNAL).task_id == "t1"
    assert api.creates == 1 and api.count("create") == 2


def test_connect_error_is_simply_retried() -> None:
    api = Api(script=[("create", False, httpx.ConnectError("refused"))])
    assert mock_client(api).create(ENDPOINT, EXTERNAL).task_id == "t1"
    assert api.count("create") == 2 and api.count("query") == 0


def test_unknown_outcome_without_external_id_is_create_unknown() -> None:
    api = Api(script=[("create", True, httpx.Response(200, content=HTML))])
    with pytest.raises(CreateUnknown, match="cannot be looked up"):
        mock_client(api).create(ENDPOINT, BODY)
    assert api.count("create") == 1


def test_maybe_sent_looks_up_first_and_creates_only_if_missing() -> None:
    api = Api()
    c = mock_client(api)
    task = c.create(ENDPOINT, EXTERNAL, maybe_sent=True)
    assert task.task_id == "t1" and api.count("query") == LOOKUP_TRIES and api.count("create") == 1
    again = c.create(ENDPOINT, EXTERNAL, maybe_sent=True)
    assert again.task_id == "t1" and api.count("create") == 1


def test_a_failing_lookup_is_unknown_not_refused() -> None:
    api = Api(script=[("create", True, httpx.Response(200, content=HTML)),
                      ("query", False, httpx.Response(400, json=_envelope(1200, "bad")))])
    with pytest.raises(CreateUnknown, match="looking the task up failed"):
        mock_client(api).create(ENDPOINT, EXTERNAL)
    assert api.creates == 1


@pytest.mark.parametrize("answer", NOT_KLING_REPLIES)
def test_an_unreadable_answer_to_a_query_is_retried(answer: httpx.Response | Exception) -> None:
    api = Api(script=[("query", False, answer)])
    c = mock_client(api)
    c.create(ENDPOINT, EXTERNAL)
    assert c.query(ENDPOINT, "shot-lamp-1") is not None and api.count("query") == 2


def test_unreadable_answers_to_a_query_end_in_gave_up_naming_the_host() -> None:
    api = Api(script=[("query", False, httpx.Response(404, content=HTML))] * 4)
    with pytest.raises(GaveUp, match="gave up after 4 tries.*api.test"):
        mock_client(api).query(ENDPOINT, "t1")
    api = Api(script=[("list", False, httpx.ConnectError("refused"))] * 4)
    with pytest.raises(GaveUp, match="cannot reach api.test: ConnectError"):
        mock_client(api).list(ENDPOINT)


def test_a_task_status_outside_the_four_is_returned_as_it_is() -> None:
    api = Api(tasks={"x": {"task_id": "t9", "task_status": "canceled"}})
    task = mock_client(api).query(ENDPOINT, "t9")
    assert task is not None and task.task_status == "canceled" and api.count("query") == 1


def test_401_refreshes_the_token_once() -> None:
    refused = httpx.Response(401, json=_envelope(1004, "token expired"))
    api = Api(script=[("create", False, refused)])
    assert mock_client(api).create(ENDPOINT, EXTERNAL).task_id == "t1"
    api = Api(script=[("create", False, refused)] * 2)
    with pytest.raises(AuthError):
        mock_client(api).create(ENDPOINT, EXTERNAL)
    assert api.creates == 0


@pytest.mark.parametrize("bad", ["../x", "http://evil/", "a/b", "..", "", "x" * 200, "é"])
def test_query_refuses_ids_that_are_not_ids(bad: str) -> None:
    api = Api()
    with pytest.raises(ShotError, match="not a Kling task id"):
        mock_client(api).query(ENDPOINT, bad)
    assert api.requests == []


@pytest.mark.parametrize("endpoint", ["http://attacker/collect", "/v1/videos/text2video/../../x", "//evil/x"])
def test_no_request_goes_outside_the_endpoints(endpoint: str) -> None:
    api = Api()
    c = mock_client(api)
    with pytest.raises(ShotError, match="not a Kling endpoint"):
        c.create(endpoint, EXTERNAL)
    with pytest.raises(ShotError, match="not a Kling endpoint"):
        c.list(endpoint)
    with pytest.raises(ShotError, match="not a Kling endpoint"):
        c.query(endpoint, "t1")
    assert api.requests == []


def test_an_echoed_authorization_header_is_redacted() -> None:
    def echo(request: httpx.Request) -> httpx.Response:
        seen = request.headers["authorization"]
        return httpx.Response(400, json=_envelope(1200, f"bad header Authorization: {seen} ({seen[7:]})"))

    tokens = TokenSource(CREDS)
    c = KlingClient("https://api.test", tokens, transport=httpx.MockTransport(echo))
    with pytest.raises(ShotError) as caught:
        c.create(ENDPOINT, EXTERNAL)
    token = tokens.token()
    assert token not in str(caught.value) and token not in caught.value.message
    assert "Bearer" not in caught.value.message and "<redacted>" in caught.value.message


def test_task_status_messages_are_redacted() -> None:
    foreign = jwt.encode({"iss": "someone"}, "other-secret-0123456789-0123456789", algorithm="HS256")
    message = f"failed: {foreign} key={TEST_SECRET_KEY} \x1b[31mred\x1b[0m"
    api = Api(tasks={"x": {"task_id": "t9", "task_status": "failed", "task_status_msg": message}})
    task = mock_client(api).query(ENDPOINT, "t9")
    assert task is not None and task.task_status_msg == "failed: <redacted> key=<redacted> [31mred[0m"


def test_redact_removes_tokens_keys_bearers_controls_and_keeps_it_short() -> None:
    tokens = TokenSource(CREDS)
    issued = tokens.token()
    text = f"{issued[:20]}\x07{issued[20:]} ak={TEST_ACCESS_KEY} bearer abc.def x\u202e" + "y" * 400
    redacted = tokens.redact(text)
    assert issued not in redacted and TEST_ACCESS_KEY not in redacted and "abc.def" not in redacted
    assert not any(ord(ch) < 32 or ch == "\u202e" for ch in redacted)
    assert redacted.startswith("<redacted> ak=<redacted> <redacted> x") and len(redacted) == 300
    assert "secret" not in repr(tokens) and tokens.redact("plain text") == "plain text"


@pytest.mark.parametrize(("value", "expected"), [
    ("3", 3.0), ("0", 0.0), ("nan", None), ("-5", None), ("inf", None), ("-inf", None),
    ("soon", None), ("", None), ("Wed, 21 Oct 2015 07:28:00 GMT", None),
])  # fmt: skip
def test_retry_after_is_used_only_when_sane(value: str, expected: float | None) -> None:
    assert retry_after(httpx.Response(429, headers={"retry-after": value})) == expected


def test_retry_after_as_a_future_date() -> None:
    when = email.utils.format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    seconds = retry_after(httpx.Response(429, headers={"retry-after": when}))
    assert seconds is not None and 25 < seconds <= 30


def test_a_nan_retry_after_is_not_obeyed() -> None:
    slow = httpx.Response(429, json=_envelope(1302, "slow down"), headers={"retry-after": "nan"})
    api = Api(tasks={"x": {"task_id": "t9", "task_status": "submitted"}}, script=[("query", False, slow)])
    started = time.monotonic()
    assert mock_client(api).query(ENDPOINT, "t9") is not None
    assert time.monotonic() - started < 1
    assert Backoff(base=1, cap=10).delay(0, retry_after=float("nan")) <= 1


# --- downloads -------------------------------------------------------------------------------


def test_mp4_signature_is_checked_however_the_first_bytes_arrive(tmp_path: Path) -> None:
    target = tmp_path / "lamp.mp4"
    target.write_bytes(b"old")
    split = httpx.MockTransport(lambda r: httpx.Response(200, content=iter([HTML[:4], HTML[4:]])))
    c = KlingClient("https://api.test", TokenSource(CREDS), transport=split)
    with pytest.raises(ShotError, match="not an MP4"):
        c.download("http://cdn.example/v.mp4", target, max_bytes=10**6)
    assert target.read_bytes() == b"old" and list(tmp_path.iterdir()) == [target]
    drip = httpx.MockTransport(lambda r: httpx.Response(200, content=iter([VIDEO[i:i + 1] for i in range(len(VIDEO))])))
    c = KlingClient("https://api.test", TokenSource(CREDS), transport=drip)
    assert c.download("http://cdn.example/v.mp4", target, max_bytes=10**6) == (
        len(VIDEO), hashlib.sha256(VIDEO).hexdigest())
    assert target.read_bytes() == VIDEO


@pytest.mark.parametrize(("url", "location", "message"), [
    ("http://cdn.example/v.mp4", "http://cdn.example/v.mp4", "redirects in a loop"),
    ("http://cdn.example/v.mp4", "file:///etc/passwd", "cannot be fetched"),
    ("ftp://cdn.example/v.mp4", None, "not an http"),
    ("http://[::1/v.mp4", None, "not a valid URL"),
    ("/v1/videos/text2video", None, "not an http"),
])  # fmt: skip
def test_bad_video_addresses_fail_the_shot_plainly(tmp_path: Path, url: str, location: str | None,
                                                   message: str) -> None:
    def moved(request: httpx.Request) -> httpx.Response:
        if request.url.scheme not in ("http", "https"):  # as httpx's own transport does
            raise httpx.UnsupportedProtocol(f"unsupported {request.url.scheme}")
        return httpx.Response(302, headers={"location": location or ""})

    c = KlingClient("https://api.test", TokenSource(CREDS), transport=httpx.MockTransport(moved))
    with pytest.raises(ShotError, match=message):
        c.download(url, tmp_path / "v.mp4", max_bytes=10**6)


def test_local_write_errors_propagate(tmp_path: Path) -> None:
    (tmp_path / "out").write_text("a file where a folder should be")
    c = KlingClient("https://api.test", TokenSource(CREDS), transport=_serve(VIDEO))
    with pytest.raises(OSError):
        c.download("http://cdn.example/v.mp4", tmp_path / "out" / "v.mp4", max_bytes=10**6)


def test_download_network_errors_name_the_host(tmp_path: Path) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    c = KlingClient("https://api.test", TokenSource(CREDS), transport=httpx.MockTransport(refuse),
                    backoff=Backoff(base=0.001, cap=0.01, attempts=3))
    with pytest.raises(GaveUp, match="cannot reach cdn.example: ConnectError"):
        c.download("http://cdn.example/v.mp4", tmp_path / "v.mp4", max_bytes=10**6)


# --- slow drips against a real socket --------------------------------------------------------


@contextmanager
def dripping(first: bytes, interval: float) -> Iterator[str]:
    """A server on 127.0.0.1 that answers every request 200 and then sends its body one byte
    every `interval` seconds, for far longer than any test waits."""

    class Drip(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", "100000")
            self.end_headers()
            try:
                for byte in first + b" " * 1000:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(interval)
            except OSError:
                pass

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length", "0")))
            self.do_GET()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Drip)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.slow
def test_a_slow_drip_query_times_out_at_its_deadline() -> None:
    with dripping(b'{"code": 0, "data": ', 0.2) as url:
        c = KlingClient(url, TokenSource(CREDS), timeout=3.0)
        deadline = time.monotonic() + 1.0
        with pytest.raises(TimedOut):
            c.query(ENDPOINT, "t1", deadline=deadline)
        assert time.monotonic() < deadline + 1
        deadline = time.monotonic() + 1.0
        with pytest.raises(TimedOut):
            c.list(ENDPOINT, deadline=deadline)
        assert time.monotonic() < deadline + 1


@pytest.mark.slow
def test_a_slow_drip_create_is_unknown_at_its_deadline() -> None:
    with dripping(b'{"code": 0, "data": ', 0.2) as url:
        c = KlingClient(url, TokenSource(CREDS), timeout=3.0)
        deadline = time.monotonic() + 1.0
        with pytest.raises(CreateUnknown):
            c.create(ENDPOINT, EXTERNAL, deadline=deadline)
        assert time.monotonic() < deadline + 1


@pytest.mark.slow
def test_a_slow_drip_download_times_out_and_leaves_nothing(tmp_path: Path) -> None:
    with dripping(VIDEO[:16], 0.2) as url:
        c = KlingClient("https://api.test", TokenSource(CREDS), timeout=3.0)
        deadline = time.monotonic() + 1.0
        with pytest.raises(TimedOut, match="127.0.0.1"):
            c.download(f"{url}/v.mp4", tmp_path / "v.mp4", max_bytes=10**6, deadline=deadline)
        assert time.monotonic() < deadline + 1 and list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_stop_ends_a_slow_drip_promptly() -> None:
    stop = threading.Event()
    with dripping(b'{"code": 0, "data": ', 0.2) as url:
        c = KlingClient(url, TokenSource(CREDS), timeout=3.0, stop=stop)
        threading.Timer(0.5, stop.set).start()
        started = time.monotonic()
        with pytest.raises(Stopped):
            c.query(ENDPOINT, "t1")
        assert time.monotonic() - started < 1.5


def test_an_undecodable_answer_is_unknown_not_a_crash() -> None:
    garbled = httpx.Response(200, stream=httpx.ByteStream(b"not gzip"), headers={"content-encoding": "gzip"})
    api = Api(script=[("create", True, garbled)])
    assert mock_client(api).create(ENDPOINT, EXTERNAL).task_id == "t1" and api.creates == 1



def test_a_query_answered_with_another_task_is_no_answer() -> None:
    """Asked about t1, a server answers about t2 (another external id): read as garbled, asked
    again, never taken for t1 (issue 20: the wrong video saved as done)."""
    asked: list[str] = []

    def api(request: httpx.Request) -> httpx.Response:
        asked.append(request.url.path)
        other = {"task_id": "t2", "task_status": "succeed", "task_info": {"external_task_id": "other-1"},
                 "task_result": {"videos": [{"id": "v2", "url": "https://cdn.test/t2.mp4"}]}}
        return httpx.Response(200, json={"code": 0, "message": "SUCCEED", "data": other})

    with mock_client(api, attempts=3) as c, pytest.raises(GaveUp) as raised:
        c.query(kling.TEXT2VIDEO, "t1")
    assert "data shotlang cannot read" in raised.value.message and len(asked) == 3
