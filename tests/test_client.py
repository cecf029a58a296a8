"""The client's parts on their own: tokens, backoff, the error table, download checks."""

from __future__ import annotations

import hashlib
from pathlib import Path

import httpx
import jwt
import pytest

from shotlang import kling
from shotlang.auth import REFRESH_MARGIN, TokenSource, make_token
from shotlang.client import AccountError, Backoff, CreateUnknown, GaveUp, KlingClient, ShotError
from shotlang.config import ConfigError, Credentials, load
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
def server() -> FakeKling:
    with FakeKling(task_seconds=0.1) as fake:
        yield fake  # type: ignore[misc]


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
