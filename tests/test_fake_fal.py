"""The local fal server itself (shotlang.testing.FakeFal): what it answers and what it counts, asked
with plain httpx requests over a real socket, so shotlang's own fal client is not under test here."""

from __future__ import annotations

import base64
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from shotlang.testing import VIDEO, FakeFal, FalFault, ManualClock
from shotlang.testing.fal import APPS

TASK_SECONDS = 0.3
T2V = "fal-ai/kling-video/v2.6/pro/text-to-video"
I2V = "fal-ai/kling-video/v2.6/pro/image-to-video"  # start_image_url, not image_url
OLD_I2V = "fal-ai/kling-video/v1.6/pro/image-to-video"  # image_url and tail_image_url
IMAGE = "https://example.com/first.png"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def fake(clock: ManualClock) -> Iterator[FakeFal]:
    """Requests of TASK_SECONDS on a clock the test steps: no test here sleeps for a render."""
    with FakeFal(task_seconds=TASK_SECONDS, clock=clock) as server:
        yield server


def client(server: FakeFal, key: str | None = None) -> httpx.Client:
    return httpx.Client(base_url=server.url, headers={"Authorization": f"Key {key or server.key}"}, timeout=10)


@pytest.fixture
def http(fake: FakeFal) -> Iterator[httpx.Client]:
    with client(fake) as c:
        yield c


def body(prompt: str = "a lamp on a desk", **more: Any) -> dict[str, Any]:
    return {"prompt": prompt, "duration": "5", "generate_audio": False, **more}


def submit(http: httpx.Client, app: str = T2V, payload: dict[str, Any] | None = None) -> httpx.Response:
    return http.post(f"/{app}", json=body() if payload is None else payload)


def status(http: httpx.Client, answer: dict[str, Any]) -> dict[str, Any]:
    got: dict[str, Any] = http.get(answer["status_url"]).json()
    return got


def listing(http: httpx.Client, **params: Any) -> dict[str, Any]:
    answer = http.get("/v1/models/requests/by-endpoint", params={"endpoint_id": T2V, **params})
    assert answer.status_code == 200, answer.text
    got: dict[str, Any] = answer.json()
    return got


# --- a request's life -------------------------------------------------------------------------------


def test_submit_status_result_and_file_with_owner_app_urls(fake: FakeFal, http: httpx.Client,
                                                           clock: ManualClock) -> None:
    answer = submit(http)
    assert answer.status_code == 200
    made = answer.json()
    rid = made["request_id"]
    base = f"{fake.url}/fal-ai/kling-video/requests/{rid}"
    assert made == {"request_id": rid, "status": "IN_QUEUE", "response_url": base, "status_url": f"{base}/status",
                    "cancel_url": f"{base}/cancel"}
    first = http.get(made["status_url"])
    assert first.status_code == 202 and first.json()["status"] == "IN_QUEUE" and first.json()["queue_position"] == 0
    too_soon = http.get(made["response_url"])
    assert too_soon.status_code == 400 and "progress" in too_soon.json()["detail"]
    clock.advance(TASK_SECONDS / 3)
    running = http.get(made["status_url"])
    assert running.status_code == 202 and running.json()["status"] == "IN_PROGRESS" and running.json()["logs"] == []
    clock.advance(TASK_SECONDS * 2 / 3)
    done = http.get(made["status_url"])
    assert done.status_code == 200 and done.json()["status"] == "COMPLETED" and "error" not in done.json()
    assert "metrics" in done.json()
    result = http.get(made["response_url"])
    video = result.json()["video"]
    assert result.status_code == 200 and video == {"url": f"{fake.url}/files/{rid}.mp4", "content_type": "video/mp4",
                                                   "file_name": f"{rid}.mp4", "file_size": len(VIDEO)}
    assert httpx.get(video["url"]).content == VIDEO, "fal's CDN asks no key"
    assert fake.created() == [(T2V, body())]
    assert (fake.stats.creates, fake.stats.queries, fake.stats.results, fake.stats.downloads) == (1, 3, 2, 1)


def test_polled_a_request_is_in_progress_until_its_nth_look() -> None:
    with FakeFal(polls=3) as fake, client(fake) as http:
        made = submit(http).json()
        looks = [status(http, made)["status"] for _ in range(4)]
        assert looks == ["IN_PROGRESS", "IN_PROGRESS", "COMPLETED", "COMPLETED"]
        assert fake.tasks()[0]["status"] == "COMPLETED" and fake.tasks()[0]["request_id"] == made["request_id"]


def test_status_is_not_found_under_the_full_app_id_nor_another_app(fake: FakeFal, http: httpx.Client) -> None:
    rid = submit(http).json()["request_id"]
    assert http.get(f"/{T2V}/requests/{rid}/status").status_code in (404, 405)
    assert http.get(f"/{T2V}/requests/{rid}").status_code in (404, 405)
    assert http.get(f"/fal-ai/flux/requests/{rid}/status").status_code == 404
    assert http.get(f"/fal-ai/kling-video/requests/{rid}/status").status_code == 202
    assert http.get("/fal-ai/kling-video/requests/no-such-id/status").status_code == 404


def test_a_wrong_or_missing_key_is_401_and_nothing_is_made(fake: FakeFal) -> None:
    for headers in ({"Authorization": "Key wrong:key"}, {"Authorization": f"Bearer {fake.key}"}, {}):
        answer = httpx.post(f"{fake.url}/{T2V}", json=body(), headers=headers)
        assert answer.status_code == 401 and answer.json() == {"detail": "Unauthorized"}
    assert httpx.get(f"{fake.url}/v1/models/pricing", params={"endpoint_id": T2V}).status_code == 401
    assert fake.created() == [] and fake.stats.refused_tokens == 4
    assert fake.env() == {"FAL_KEY": fake.key, "FAL_API_BASE": fake.url}
    with FakeFal() as other:
        assert other.key != fake.key, "a key of its own per server"


def test_an_unknown_app_is_404(fake: FakeFal, http: httpx.Client) -> None:
    assert submit(http, "fal-ai/kling-video/v9/pro/text-to-video").status_code == 404
    assert submit(http, "fal-ai/kling-video").status_code == 404
    assert fake.created() == []


# --- the apps' schemas ------------------------------------------------------------------------------


def refusal(http: httpx.Client, app: str, payload: dict[str, Any]) -> list[dict[str, Any]]:
    answer = submit(http, app, payload)
    assert answer.status_code == 422, answer.text
    detail: list[dict[str, Any]] = answer.json()["detail"]
    return detail


@pytest.mark.parametrize(("app", "payload", "loc", "kind"), [
    (T2V, body(seed=3), ["body", "seed"], "extra_forbidden"),
    (T2V, body(model_name="kling-v2-6"), ["body", "model_name"], "extra_forbidden"),
    (T2V, {**body(), "duration": 5}, ["body", "duration"], "literal_error"),
    (T2V, {**body(), "duration": "7"}, ["body", "duration"], "literal_error"),
    (T2V, body(aspect_ratio="4:3"), ["body", "aspect_ratio"], "literal_error"),
    (T2V, body(cfg_scale=1.5), ["body", "cfg_scale"], "less_than_equal"),
    (T2V, {**body(), "generate_audio": "false"}, ["body", "generate_audio"], "bool_type"),
    (T2V, {"duration": "5"}, ["body", "prompt"], "value_error.missing"),
    (I2V, body(image_url=IMAGE), ["body", "image_url"], "extra_forbidden"),
    (I2V, body(start_image_url=IMAGE, tail_image_url=IMAGE), ["body", "tail_image_url"], "extra_forbidden"),
    (I2V, body(start_image_url="file:///tmp/a.png"), ["body", "start_image_url"], "url_parsing"),
    (I2V, body(start_image_url=IMAGE, cfg_scale=0.5), ["body", "cfg_scale"], "extra_forbidden"),
    (OLD_I2V, {"prompt": "p", "start_image_url": IMAGE}, ["body", "start_image_url"], "extra_forbidden"),
    ("fal-ai/kling-video/v3/pro/text-to-video", {"prompt": "p", "multi_prompt": [{"prompt": "a"}]},
     ["body", "prompt"], "value_error"),
    ("fal-ai/kling-video/v3/pro/text-to-video", {"prompt": "p", "duration": "16"}, ["body", "duration"],
     "literal_error"),
])
def test_a_body_the_app_does_not_take_is_422_naming_the_field(fake: FakeFal, http: httpx.Client, app: str,
                                                              payload: dict[str, Any], loc: list[str],
                                                              kind: str) -> None:
    detail = refusal(http, app, payload)
    assert [(d["loc"], d["type"]) for d in detail if d["loc"] == loc] == [(loc, kind)], detail
    assert all(d["msg"] for d in detail)
    assert fake.created() == [], "a refused body makes nothing"


def test_each_app_takes_its_own_frame_fields_and_data_uris(fake: FakeFal, http: httpx.Client) -> None:
    data = "data:image/png;base64,iVBORw0KGgo="
    taken = [
        (I2V, body(start_image_url=IMAGE, end_image_url=data)),
        (OLD_I2V, {"prompt": "p", "image_url": data, "tail_image_url": IMAGE, "duration": "10", "cfg_scale": 0}),
        ("fal-ai/kling-video/o3/pro/image-to-video", {"image_url": IMAGE, "duration": "12"}),
        ("fal-ai/kling-video/v3/standard/image-to-video", {"start_image_url": IMAGE, "duration": "3"}),
        ("fal-ai/kling-video/v3/pro/text-to-video", {"multi_prompt": [{"prompt": "a", "duration": "2"}],
                                                     "shot_type": "customize", "duration": "15"}),
        (T2V, {"prompt": "p", "negative_prompt": None}),  # null: absent
    ]
    for app, payload in taken:
        answer = submit(http, app, payload)
        assert answer.status_code == 200, (app, answer.text)
    assert fake.created() == taken


def test_the_apps_table_speaks_in_full_app_ids_with_a_mode() -> None:
    assert all(app.startswith("fal-ai/kling-video/") and app.endswith("-to-video") for app in APPS)
    assert all(set(a.required) <= set(a.fields) and "duration" in a.fields for a in APPS.values())
    assert "start_image_url" in APPS[I2V].fields and "image_url" not in APPS[I2V].fields
    assert "image_url" in APPS[OLD_I2V].fields and "start_image_url" not in APPS[OLD_I2V].fields


# --- concurrency ------------------------------------------------------------------------------------


def test_over_max_running_requests_wait_in_queue_in_order_on_a_clock(clock: ManualClock) -> None:
    with FakeFal(task_seconds=TASK_SECONDS, clock=clock, max_running=1) as fake, client(fake) as http:
        made = [submit(http, payload=body(f"shot {i}")).json() for i in range(3)]
        assert [m["status"] for m in made] == ["IN_QUEUE"] * 3, "fal never refuses for concurrency"
        clock.advance(TASK_SECONDS / 3)
        looks = [status(http, m) for m in made]
        assert [s["status"] for s in looks] == ["IN_PROGRESS", "IN_QUEUE", "IN_QUEUE"]
        assert [s.get("queue_position") for s in looks[1:]] == [0, 1]
        clock.advance(TASK_SECONDS * 2 / 3)
        assert [status(http, m)["status"] for m in made] == ["COMPLETED", "IN_PROGRESS", "IN_QUEUE"]
        clock.advance(TASK_SECONDS * 4 / 3)
        assert [status(http, m)["status"] for m in made] == ["COMPLETED"] * 3
        assert fake.stats.peak_running == 1 and fake.stats.creates == 3


def test_over_max_running_requests_wait_in_queue_when_polled() -> None:
    with FakeFal(polls=2, max_running=2) as fake, client(fake) as http:
        made = [submit(http, payload=body(f"shot {i}")).json() for i in range(3)]
        assert [status(http, m)["status"] for m in made] == ["IN_PROGRESS", "IN_PROGRESS", "IN_QUEUE"]
        assert [status(http, m)["status"] for m in made] == ["COMPLETED", "COMPLETED", "IN_PROGRESS"]
        assert status(http, made[2])["status"] == "COMPLETED"
        assert fake.stats.peak_running == 2


# --- lost answers and the listing ---------------------------------------------------------------------


def test_a_lost_answer_still_makes_the_request_which_the_listing_finds_once_finished(
        fake: FakeFal, http: httpx.Client, clock: ManualClock) -> None:
    fake.inject(FalFault("lose", on="submit"))
    sent = body("a lamp, lost")
    with pytest.raises(httpx.TransportError):
        submit(http, payload=sent)
    assert fake.created() == [(T2V, sent)], "made, and paid, though the client never learnt its id"
    assert listing(http, expand="payloads")["items"] == [], "the listing shows finished requests only"
    clock.advance(TASK_SECONDS)
    found = listing(http, expand="payloads")
    assert found["has_more"] is False and found["next_cursor"] is None
    [item] = found["items"]
    assert item["endpoint_id"] == T2V and item["json_input"] == sent and item["status_code"] == 200
    assert item["json_output"]["video"]["url"].endswith(f"/files/{item['request_id']}.mp4")
    assert {"started_at", "sent_at", "ended_at", "duration"} <= item.keys()
    assert item["sent_at"] < item["started_at"] < item["ended_at"] and item["ended_at"].endswith("Z")
    assert "json_input" not in listing(http)["items"][0], "payloads only when expanded"
    assert listing(http, endpoint_id="fal-ai/kling-video")["items"] == [], "the full app id, not owner/app"
    assert status(http, {"status_url": f"{fake.url}/fal-ai/kling-video/requests/{item['request_id']}/status"})[
        "status"] == "COMPLETED"


def test_lists_running_shows_requests_not_yet_finished(clock: ManualClock) -> None:
    with FakeFal(task_seconds=TASK_SECONDS, clock=clock, lists_running=True) as fake, client(fake) as http:
        fake.inject(FalFault("lose", on="submit"))
        with pytest.raises(httpx.TransportError):
            submit(http)
        [item] = listing(http, expand="payloads")["items"]
        assert item["ended_at"] is None and item["status_code"] is None and item["json_input"] == body()


def test_the_listing_filters_by_window_status_and_id_and_pages_by_cursor(
        fake: FakeFal, http: httpx.Client, clock: ManualClock) -> None:
    fake.inject(FalFault("fail", on="submit", match="broken", http=422, message="content policy",
                         error_type="content_policy_violation"))
    ids = [submit(http, payload=body(f"shot {i}")).json()["request_id"] for i in range(3)]
    broken = submit(http, payload=body("a broken lamp")).json()["request_id"]
    clock.advance(TASK_SECONDS)
    assert [i["request_id"] for i in listing(http)["items"]] == [broken, *ids[::-1]], "newest end first"
    page = listing(http, limit=2)
    assert page["has_more"] is True and base64.b64decode(page["next_cursor"]) == b"2"
    rest = listing(http, limit=2, cursor=page["next_cursor"])
    assert [i["request_id"] for i in page["items"] + rest["items"]] == [broken, *ids[::-1]] and not rest["has_more"]
    assert [i["request_id"] for i in listing(http, status="user_error")["items"]] == [broken]
    assert [i["request_id"] for i in listing(http, request_id=ids[1])["items"]] == [ids[1]]
    assert listing(http, start="2000-01-01", end="2000-01-02")["items"] == []
    both = http.get("/v1/models/requests/by-endpoint", params=[("endpoint_id", T2V), ("endpoint_id", I2V)])
    assert len(both.json()["items"]) == 4
    assert len(listing(http, endpoint_id=f"{T2V},{I2V}")["items"]) == 4
    for wrong in ({"limit": 101}, {"limit": 0}, {"status": "failed"}, {"start": "yesterday"}):
        assert http.get("/v1/models/requests/by-endpoint", params={"endpoint_id": T2V, **wrong}).status_code == 422
    assert http.get("/v1/models/requests/by-endpoint").status_code == 422, "endpoint_id is required"


# --- faults -------------------------------------------------------------------------------------------


def test_a_failed_request_completes_with_an_error_and_its_result_answers_it(
        fake: FakeFal, http: httpx.Client, clock: ManualClock) -> None:
    fake.inject(FalFault("fail", http=500, message="runner crashed", error_type="runner_disconnected"))
    made = submit(http).json()
    clock.advance(TASK_SECONDS)
    done = status(http, made)
    assert done["status"] == "COMPLETED" and done["error"] == "runner crashed"
    assert done["error_type"] == "runner_disconnected"
    result = http.get(made["response_url"])
    assert result.status_code == 500 and result.json() == {"detail": "runner crashed",
                                                           "error_type": "runner_disconnected"}
    assert result.headers["X-Fal-Error-Type"] == "runner_disconnected"
    assert [i["status_code"] for i in listing(http, status="error")["items"]] == [500]


def test_a_result_without_a_video(fake: FakeFal, http: httpx.Client, clock: ManualClock) -> None:
    fake.inject(FalFault("no_video"))
    made = submit(http).json()
    clock.advance(TASK_SECONDS)
    assert status(http, made)["status"] == "COMPLETED" and "error" not in status(http, made)
    assert http.get(made["response_url"]).json() == {}


@pytest.mark.parametrize("code", [429, 500, 502, 503])
def test_an_error_answers_with_a_body_and_makes_nothing(fake: FakeFal, http: httpx.Client, code: int) -> None:
    fake.inject(FalFault("error", on="submit", http=code, message="busy", error_type="runner_scheduling_failure",
                         retry_after=0.5))
    answer = submit(http)
    assert answer.status_code == code and answer.json() == {"detail": "busy", "error_type": "runner_scheduling_failure"}
    assert answer.headers["Retry-After"] == "0.5"
    assert fake.created() == [] and submit(http).status_code == 200, "once"


def test_a_422_on_one_app_only(fake: FakeFal, http: httpx.Client) -> None:
    fake.inject(FalFault("error", on="submit", http=422, match=I2V, times=None, message="image too small",
                         error_type="image_too_small"))
    refused = submit(http, I2V, body(start_image_url=IMAGE))
    assert refused.status_code == 422 and refused.json()["detail"][0]["type"] == "image_too_small"
    assert submit(http).status_code == 200 and submit(http, I2V, body(start_image_url=IMAGE)).status_code == 422


def test_drop_answers_nothing_and_makes_nothing(fake: FakeFal, http: httpx.Client) -> None:
    fake.inject(FalFault("drop", on="submit"), FalFault("drop", on="status"))
    with pytest.raises(httpx.TransportError):
        submit(http)
    assert fake.created() == []
    made = submit(http).json()
    with pytest.raises(httpx.TransportError):
        status(http, made)
    assert status(http, made)["status"] == "IN_QUEUE"


def test_slow_delays_an_answer_past_a_client_s_timeout(fake: FakeFal) -> None:
    fake.inject(FalFault("slow", on="result", seconds=1.0))
    with httpx.Client(base_url=fake.url, headers={"Authorization": f"Key {fake.key}"}, timeout=0.2) as http:
        made = submit(http).json()
        assert status(http, made)["status"] == "IN_QUEUE", "a status call is not slowed"
        started = time.monotonic()
        with pytest.raises(httpx.ReadTimeout):
            http.get(made["response_url"])
        assert time.monotonic() - started < 0.9


def test_hold_keeps_a_request_in_progress_until_released(fake: FakeFal, http: httpx.Client,
                                                         clock: ManualClock) -> None:
    fake.inject(FalFault("hold", match="held"))
    held, plain = (submit(http, payload=body(p)).json() for p in ("a held lamp", "a lamp"))
    clock.advance(TASK_SECONDS * 10)
    assert [status(http, m)["status"] for m in (held, plain)] == ["IN_PROGRESS", "COMPLETED"]
    assert fake.release() == 1
    assert status(http, held)["status"] == "COMPLETED"


def test_forget_makes_the_queue_answer_404_while_the_listing_keeps_it(
        fake: FakeFal, http: httpx.Client, clock: ManualClock) -> None:
    made = submit(http).json()
    clock.advance(TASK_SECONDS)
    fake.forget(made["request_id"])
    assert http.get(made["status_url"]).status_code == 404
    assert http.get(made["response_url"]).status_code == 404
    assert [i["request_id"] for i in listing(http)["items"]] == [made["request_id"]]


def test_cancel_takes_a_queued_request_out_and_refuses_a_finished_one(clock: ManualClock) -> None:
    with FakeFal(task_seconds=TASK_SECONDS, clock=clock, max_running=1) as fake, client(fake) as http:
        first, second = (submit(http, payload=body(p)).json() for p in ("one", "two"))
        cancelled = http.put(second["cancel_url"])
        assert cancelled.status_code == 202 and cancelled.json() == {"status": "CANCELLATION_REQUESTED"}
        clock.advance(TASK_SECONDS)
        assert status(http, first)["status"] == "COMPLETED"
        assert status(http, second)["error_type"] == "request_cancelled"
        assert http.put(first["cancel_url"]).json() == {"status": "ALREADY_COMPLETED"}
        assert http.put("/fal-ai/kling-video/requests/nothing/cancel").status_code == 404
        assert [i["request_id"] for i in listing(http)["items"]] == [first["request_id"]]


# --- prices -----------------------------------------------------------------------------------------


def test_pricing_answers_the_ids_it_knows(fake: FakeFal, http: httpx.Client) -> None:
    answer = http.get("/v1/models/pricing", params={"endpoint_id": f"{I2V},fal-ai/unknown/app"})
    assert answer.status_code == 200
    assert answer.json() == {"prices": [{"endpoint_id": I2V, "unit_price": 0.07, "unit": "second", "currency": "USD"}],
                             "next_cursor": None, "has_more": False}
    assert http.get("/v1/models/pricing").status_code == 422
    with FakeFal(prices={T2V: 0.5}) as other, client(other) as own:
        assert own.get("/v1/models/pricing", params={"endpoint_id": T2V}).json()["prices"][0]["unit_price"] == 0.5


# --- the command line ---------------------------------------------------------------------------------


def test_the_command_line_serves_fal_with_its_env_lines() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "shotlang.testing", "--fal", "--port", str(port), "--polls", "2",
                               "--max-running", "1"], stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None and "fake fal API" in server.stdout.readline()
        env = dict(line.strip().removeprefix("export ").split("=", 1) for line in
                   (server.stdout.readline(), server.stdout.readline()))
        assert env["FAL_API_BASE"] == f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=env["FAL_API_BASE"], headers={"Authorization": f"Key {env['FAL_KEY']}"}) as http:
            made = [submit(http).json() for _ in range(2)]
            assert [status(http, m)["status"] for m in made] == ["IN_PROGRESS", "IN_QUEUE"]
            assert status(http, made[0])["status"] == "COMPLETED"
    finally:
        server.terminate()
        server.wait(5)
