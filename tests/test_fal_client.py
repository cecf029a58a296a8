"""The fal backend's client (shotlang/engine/fal.py): a request is sent once; an answer that
cannot be read means "maybe made", never "not made"; what fal says is read into Kling's terms.

Through httpx's MockTransport, which counts every request the client makes: what would be paid
is each POST that reached fal. (The end-to-end tests run `shotlang run --backend fal` against
the local server in fal mode.)"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from shotlang.config import FalKey
from shotlang.engine.client import Backoff, CreateUnknown, ShotError
from shotlang.engine.fal import FalClient, owner_app

APP = "fal-ai/kling-video/v2.6/pro/text-to-video"
INPUT = {"prompt": "A castle", "duration": "5", "generate_audio": False}
KEY = "fal-key-0123456789"

Handler = Callable[[httpx.Request], httpx.Response]


def client(handler: Handler) -> tuple[FalClient, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    made = FalClient("http://fal.test", FalKey(KEY), transport=httpx.MockTransport(record),
                     backoff=Backoff(base=0.0, cap=0.0, attempts=3))
    return made, seen


def posts(seen: list[httpx.Request]) -> list[httpx.Request]:
    return [r for r in seen if r.method == "POST"]


def submitted(request_id: str = "req-1") -> httpx.Response:
    base = f"http://fal.test/{owner_app(APP)}/requests/{request_id}"
    return httpx.Response(200, json={"request_id": request_id, "status": "IN_QUEUE", "response_url": base,
                                     "status_url": f"{base}/status", "cancel_url": f"{base}/cancel"})


def test_a_request_goes_once_with_the_key_and_without_shotlangs_own_id() -> None:
    fal, seen = client(lambda r: submitted())
    task = fal.create(APP, {**INPUT, "external_task_id": "castle-abc-g1"})
    assert (task.task_id, task.task_status) == ("req-1", "submitted")
    [post] = posts(seen)
    assert post.url == httpx.URL(f"http://fal.test/{APP}")
    assert post.headers["Authorization"] == f"Key {KEY}"
    assert json.loads(post.content) == INPUT  # fal keeps no id of ours: it is not sent


def test_a_lost_answer_is_never_sent_again() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            raise httpx.ReadError("the connection dropped after the request was sent")
        return httpx.Response(200, json={"items": [], "next_cursor": None, "has_more": False})

    fal, seen = client(handler)
    with pytest.raises(CreateUnknown, match="not resubmitted"):
        fal.create(APP, INPUT)
    assert len(posts(seen)) == 1  # fal-client would have sent it nine more times, each paid for


def test_a_lost_answer_is_found_in_the_listing_by_what_was_sent() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            raise httpx.ReadTimeout("no answer")
        if request.url.path == "/v1/models/requests/by-endpoint":
            assert request.url.params["endpoint_id"] == APP and request.url.params["expand"] == "payloads"
            return httpx.Response(200, json={"items": [
                {"request_id": "other", "json_input": {**INPUT, "prompt": "Another"}, "sent_at": "2026-12-07T05:00:00Z"},
                {"request_id": "req-9", "json_input": {**INPUT, "aspect_ratio": "16:9"}, "sent_at": "2026-12-07T05:01:00Z"},
            ], "next_cursor": None, "has_more": False})
        assert request.url.path == f"/{owner_app(APP)}/requests/req-9/status"  # owner/app only
        return httpx.Response(202, json={"status": "IN_PROGRESS", "logs": []})

    fal, seen = client(handler)
    task = fal.create(APP, INPUT)
    assert (task.task_id, task.task_status) == ("req-9", "processing")
    assert len(posts(seen)) == 1


def test_a_run_that_may_have_sent_it_looks_and_does_not_send() -> None:
    fal, seen = client(lambda r: httpx.Response(200, json={"items": [], "next_cursor": None, "has_more": False}))
    with pytest.raises(CreateUnknown, match="--force"):
        fal.create(APP, INPUT, maybe_sent=True)
    assert posts(seen) == []


def test_an_answer_from_fals_gateway_proves_nothing_reached_the_queue_and_is_sent_again() -> None:
    answers = iter([httpx.Response(502, text="<html>bad gateway</html>"), submitted("req-2")])
    fal, seen = client(lambda r: next(answers))
    assert fal.create(APP, INPUT).task_id == "req-2"
    assert len(posts(seen)) == 2


@pytest.mark.parametrize("answer", [
    httpx.Response(500, json={"detail": "internal"}, headers={"x-fal-request-id": "r"}),
    httpx.Response(200, json={"status": "IN_QUEUE"}),  # no request id: whatever it made is unknown
    httpx.Response(200, text="not json"),
])
def test_an_answer_shotlang_cannot_read_is_maybe_made(answer: httpx.Response) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return answer
        return httpx.Response(200, json={"items": [], "next_cursor": None, "has_more": False})

    fal, seen = client(handler)
    with pytest.raises(CreateUnknown):
        fal.create(APP, INPUT)
    assert len(posts(seen)) == 1


def test_a_refusal_is_said_in_fals_words_and_nothing_is_made() -> None:
    detail = [{"loc": ["body", "duration"], "msg": "unexpected value; permitted: '5', '10'", "type": "literal_error"}]
    fal, seen = client(lambda r: httpx.Response(422, json={"detail": detail}))
    with pytest.raises(ShotError, match="duration: unexpected value") as e:
        fal.create(APP, INPUT)
    assert not e.value.maybe_created


def test_statuses_and_results_read_as_klings() -> None:
    states = iter([(202, {"status": "IN_QUEUE", "queue_position": 3}), (202, {"status": "IN_PROGRESS"}),
                   (200, {"status": "COMPLETED"})])

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/status"):
            code, body = next(states)
            return httpx.Response(code, json=body)
        return httpx.Response(200, json={"video": {"url": "https://v3.fal.media/files/x.mp4"}})

    fal, _ = client(handler)
    assert fal.query(APP, "req-1").task_status == "submitted"
    assert fal.query(APP, "req-1").task_status == "processing"
    done = fal.query(APP, "req-1")
    assert done.task_status == "succeed" and done.task_result is not None
    assert [v.url for v in done.task_result.videos] == ["https://v3.fal.media/files/x.mp4"]


@pytest.mark.parametrize(("status", "result", "says"), [
    ({"status": "COMPLETED", "error": "content policy", "error_type": "content_policy_violation"}, None,
     "content policy"),
    ({"status": "COMPLETED"}, (422, {"detail": [{"loc": ["body", "prompt"], "msg": "too long"}]}), "prompt: too long"),
    ({"status": "COMPLETED"}, (200, {"video": None}), "has no video"),
])
def test_a_failed_request_is_failed_with_fals_reason(status: dict[str, Any], result: tuple[int, Any] | None,
                                                     says: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/status"):
            return httpx.Response(200, json=status)
        assert result is not None
        return httpx.Response(result[0], json=result[1])

    fal, _ = client(handler)
    task = fal.query(APP, "req-1")
    assert task is not None and task.task_status == "failed" and says in (task.task_status_msg or "")


def test_an_unknown_request_is_none_and_the_key_never_leaks_into_what_is_kept() -> None:
    fal, _ = client(lambda r: httpx.Response(404, json={"detail": "not found"}))
    assert fal.query(APP, "req-1") is None
    echo, _ = client(lambda r: httpx.Response(200, json={"status": "COMPLETED", "error": f"bad key {KEY}"}))
    task = echo.query(APP, "req-1")
    assert task is not None and KEY not in (task.task_status_msg or "")


@pytest.mark.parametrize("endpoint", ["/v1/videos/text2video", "evil.example/kling-video/v2", "fal-ai/flux/dev",
                                      "fal-ai/kling-video/../../x"])
def test_the_key_goes_only_to_fals_kling_apps(endpoint: str) -> None:
    fal, seen = client(lambda r: submitted())
    with pytest.raises(ShotError):
        fal.create(endpoint, INPUT)
    assert seen == []
