"""The local Kling server itself (shotlang.testing): what it answers and what it counts, asked
with plain httpx requests over a real socket, so shotlang's own client is not under test here."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from shotlang import kling
from shotlang.auth import make_token
from shotlang.config import Credentials
from shotlang.testing import TEST_ACCESS_KEY, TEST_SECRET_KEY, VIDEO, FakeKling, Fault

TASK_SECONDS = 0.3


def bearer() -> str:
    token, _ = make_token(Credentials(TEST_ACCESS_KEY, TEST_SECRET_KEY), time.time())
    return f"Bearer {token}"


@pytest.fixture
def fake() -> Iterator[FakeKling]:
    with FakeKling(task_seconds=TASK_SECONDS) as server:
        yield server


@pytest.fixture
def http(fake: FakeKling) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=fake.url, headers={"Authorization": bearer()}, timeout=10) as client:
        yield client


def body(external: str | None = None, prompt: str = "a lamp on a desk") -> dict[str, Any]:
    payload: dict[str, Any] = {"model_name": "kling-v2-6", "prompt": prompt, "duration": "5"}
    if external is not None:
        payload["external_task_id"] = external
    return payload


def create(http: httpx.Client, external: str | None = None, prompt: str = "a lamp on a desk") -> httpx.Response:
    return http.post(kling.TEXT2VIDEO, json=body(external, prompt))


def query(http: httpx.Client, key: str) -> httpx.Response:
    return http.get(f"{kling.TEXT2VIDEO}/{key}")


def wait_final(http: httpx.Client, task_id: str) -> dict[str, Any]:
    time.sleep(TASK_SECONDS + 0.05)
    data: dict[str, Any] = query(http, task_id).json()["data"]
    return data


# --- account concurrency and the timeline ------------------------------------------------------


def test_a_create_over_max_running_is_refused_with_1303_and_not_counted() -> None:
    with FakeKling(task_seconds=0.5, max_running=2) as fake, \
            httpx.Client(base_url=fake.url, headers={"Authorization": bearer()}) as http:
        assert [create(http, f"s{i}").status_code for i in range(2)] == [200, 200]
        refused = create(http, "s2")
        assert refused.status_code == 429 and refused.json()["code"] == kling.OVER_CONCURRENCY_CODE
        assert fake.stats.creates == 2 and fake.stats.refused_concurrency == 1
        assert query(http, "s2").status_code == 404, "a refused create carries out nothing"
        time.sleep(0.55)
        assert create(http, "s2").status_code == 200, "room again once a task ended"
        assert fake.stats.creates == 3 and fake.stats.peak_running == 2


def test_peak_running_and_timeline_record_every_task(fake: FakeKling, http: httpx.Client) -> None:
    before = time.monotonic()
    for i in range(3):
        create(http, f"t{i}")
    assert fake.stats.peak_running == 3
    timeline = fake.timeline()
    assert len(timeline) == 3
    assert all(before <= created and finished == pytest.approx(created + TASK_SECONDS)
               for created, finished in timeline)
    assert [c for c, _ in timeline] == sorted(c for c, _ in timeline)


def test_fail_task_and_status_work_under_max_running_and_a_refused_create_takes_neither() -> None:
    with FakeKling(task_seconds=0.2, max_running=1) as fake, \
            httpx.Client(base_url=fake.url, headers={"Authorization": bearer()}) as http:
        first = create(http, "a").json()["data"]["task_id"]
        fake.inject(Fault("fail_task", message="no"), Fault("status", status="canceled"),
                    Fault("garble", on="create", http=200, body=b"<html>"))
        refused = create(http, "b")
        assert refused.status_code == 429 and refused.json()["code"] == 1303, "answered, not garbled"
        time.sleep(0.25)
        garbled = create(http, "b")
        assert garbled.status_code == 200 and garbled.content == b"<html>"
        second = query(http, "b").json()["data"]["task_id"]
        time.sleep(0.25)
        assert query(http, first).json()["data"]["task_status"] == "succeed"
        final = query(http, second).json()["data"]
        assert final["task_status"] == "canceled"
        assert fake.stats.creates == 2 and fake.stats.refused_concurrency == 1


# --- timestamps --------------------------------------------------------------------------------


def test_created_at_and_updated_at_are_the_task_s_own_times_not_now(http: httpx.Client) -> None:
    before = time.time() * 1000
    data = create(http, "x").json()["data"]
    after = time.time() * 1000
    created = data["created_at"]
    assert before - 1 <= created <= after and data["updated_at"] == created
    time.sleep(TASK_SECONDS / 3 + 0.02)
    processing = query(http, "x").json()["data"]
    assert processing["task_status"] == "processing"
    assert processing["created_at"] == created
    assert processing["updated_at"] == pytest.approx(created + TASK_SECONDS / 3 * 1000, abs=2)
    time.sleep(TASK_SECONDS)
    done = query(http, "x").json()["data"]
    assert done["task_status"] == "succeed"
    assert done["updated_at"] == pytest.approx(created + TASK_SECONDS * 1000, abs=2)
    time.sleep(0.1)
    assert query(http, "x").json()["data"]["updated_at"] == done["updated_at"], "not the query's time"


# --- the list endpoint and request counts ------------------------------------------------------


def test_list_answers_the_endpoint_s_tasks_newest_first_by_page(fake: FakeKling, http: httpx.Client) -> None:
    ids = [create(http, f"l{i}").json()["data"]["task_id"] for i in range(5)]
    first = http.get(kling.TEXT2VIDEO, params={"pageNum": 1, "pageSize": 3}).json()["data"]
    second = http.get(kling.TEXT2VIDEO, params={"pageNum": 2, "pageSize": 3}).json()["data"]
    assert [t["task_id"] for t in first + second] == ids[::-1]
    assert http.get(kling.IMAGE2VIDEO, params={"pageNum": 1, "pageSize": 3}).json()["data"] == []
    assert fake.stats.lists == 3 and fake.stats.queries == 0


def test_list_refuses_a_page_larger_than_the_api_allows(fake: FakeKling, http: httpx.Client) -> None:
    answer = http.get(kling.TEXT2VIDEO, params={"pageNum": 1, "pageSize": kling.LIST_PAGE_MAX + 1})
    assert answer.status_code == 400 and answer.json()["code"] == 1200
    ok = http.get(kling.TEXT2VIDEO, params={"pageNum": 1, "pageSize": kling.LIST_PAGE_MAX})
    assert ok.status_code == 200


def test_every_request_and_authorization_is_recorded(fake: FakeKling, http: httpx.Client) -> None:
    with FakeKling() as foreign:
        create(http, "r")
        query(http, "r")
        http.get("/collect", headers={"Authorization": "Bearer stolen"})
        httpx.get(f"{fake.url}/videos/nothing.mp4")
        assert fake.stats.requests == 4
        assert fake.stats.authorizations == [bearer_of(http)] * 2 + ["Bearer stolen"]
        assert foreign.stats.requests == 0 and foreign.stats.authorizations == []
        httpx.request("DELETE", f"{foreign.url}/collect", headers={"Authorization": "Bearer sent"})
        assert foreign.stats.requests == 1 and foreign.stats.authorizations == ["Bearer sent"]


def bearer_of(http: httpx.Client) -> str:
    return http.headers["Authorization"]


# --- faults ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("status", "garbage"), [
    (200, b"<html><body>Service page</body></html>"),
    (200, b'{"code": 0, "data": {"task_'),
    (200, b'{"code": 9999, "message": "?"}'),
    (400, b""),
    (403, b""),
    (408, b""),
])
def test_garble_creates_the_task_then_answers_something_that_is_not_a_kling_reply(
        fake: FakeKling, http: httpx.Client, status: int, garbage: bytes) -> None:
    fake.inject(Fault("garble", on="create", http=status, body=garbage))
    answer = create(http, "g")
    assert answer.status_code == status and answer.content == garbage
    assert answer.headers["Content-Type"] == "text/html"
    assert fake.stats.creates == 1 and query(http, "g").status_code == 200, "the task exists"


def test_garble_works_on_a_query_which_is_still_counted(fake: FakeKling, http: httpx.Client) -> None:
    create(http, "q")
    fake.inject(Fault("garble", on="query", http=200, body=b"<html>"))
    assert query(http, "q").content == b"<html>"
    assert query(http, "q").json()["code"] == 0
    assert fake.stats.queries == 2


def test_lag_answers_not_found_by_external_id_while_the_task_exists(fake: FakeKling, http: httpx.Client) -> None:
    task_id = create(http, "late").json()["data"]["task_id"]
    fake.inject(Fault("lag", on="query", times=2))
    assert query(http, task_id).status_code == 200, "by task id it is found at once"
    for _ in range(2):
        lost = query(http, "late")
        assert lost.status_code == 404 and lost.json()["code"] == 1203
    assert query(http, "late").json()["data"]["task_id"] == task_id
    assert fake.stats.queries == 4


def test_drip_sends_the_full_length_then_one_byte_at_a_time(fake: FakeKling, http: httpx.Client) -> None:
    create(http, "d")
    fake.inject(Fault("drip", on="query", seconds=0.002))
    started = time.monotonic()
    with http.stream("GET", f"{kling.TEXT2VIDEO}/d") as answer:
        headers_after = time.monotonic() - started
        length = int(answer.headers["Content-Length"])
        chunks = list(answer.iter_raw())
    assert headers_after < 0.5 and length > 50
    assert b"".join(chunks).startswith(b'{"code": 0') and sum(map(len, chunks)) == length
    assert time.monotonic() - started >= length * 0.002 and len(chunks) > length // 2


def test_drip_on_a_create_still_creates_the_task(fake: FakeKling, http: httpx.Client) -> None:
    fake.inject(Fault("drip", on="create", seconds=0.001))
    assert create(http, "dc").json()["code"] == 0 and fake.stats.creates == 1


def test_drip_slows_a_video(fake: FakeKling, http: httpx.Client) -> None:
    task_id = create(http, "dv").json()["data"]["task_id"]
    fake.inject(Fault("drip", on="download", seconds=0.02))
    started = time.monotonic()
    with httpx.stream("GET", f"{fake.url}/videos/{task_id}.mp4") as answer:
        assert answer.headers["Content-Length"] == str(len(VIDEO))
        raw = answer.iter_raw()
        first = [next(raw) for _ in range(5)]
    assert b"".join(first) == VIDEO[: len(b"".join(first))] and len(b"".join(first)) <= 6
    assert time.monotonic() - started >= 0.09
    assert httpx.get(f"{fake.url}/videos/{task_id}.mp4").content == VIDEO, "the next one is whole"


def test_echo_repeats_the_authorization_header_in_the_error(fake: FakeKling, http: httpx.Client) -> None:
    fake.inject(Fault("echo", on="create", http=401, code=1002, message="bad header"))
    answer = create(http, "e")
    assert answer.status_code == 401 and answer.json()["code"] == 1002
    assert answer.json()["message"] == f"bad header: {bearer_of(http)}"
    assert fake.stats.creates == 0


@pytest.mark.parametrize("final", ["canceled", "SUCCEED"])
def test_status_ends_the_task_with_another_status_for_good(fake: FakeKling, http: httpx.Client, final: str) -> None:
    fake.inject(Fault("status", status=final))
    task_id = create(http, "st").json()["data"]["task_id"]
    assert wait_final(http, task_id)["task_status"] == final
    time.sleep(0.1)
    data = query(http, task_id).json()["data"]
    assert data["task_status"] == final and "task_result" not in data


def test_redirect_answers_a_video_302_to_itself(fake: FakeKling, http: httpx.Client) -> None:
    task_id = create(http, "rd").json()["data"]["task_id"]
    fake.inject(Fault("redirect", on="download", times=None))
    url = f"{fake.url}/videos/{task_id}.mp4"
    answer = httpx.get(url)
    assert answer.status_code == 302 and answer.headers["Location"] == url
    with pytest.raises(httpx.TooManyRedirects):
        httpx.get(url, follow_redirects=True)


def test_split_sends_the_first_four_bytes_of_a_video_alone(fake: FakeKling, http: httpx.Client) -> None:
    task_id = create(http, "sp").json()["data"]["task_id"]
    page = b"<html>this is not a video</html>"
    fake.inject(Fault("split", on="download", body=page, seconds=0.2), Fault("split", on="download"))
    with httpx.stream("GET", f"{fake.url}/videos/{task_id}.mp4") as answer:
        assert answer.headers["Content-Length"] == str(len(page))
        chunks = list(answer.iter_raw())
    assert chunks[0] == page[:4] and b"".join(chunks) == page
    with httpx.stream("GET", f"{fake.url}/videos/{task_id}.mp4") as answer:
        chunks = list(answer.iter_raw())
    assert chunks[0] == VIDEO[:4] and b"".join(chunks) == VIDEO


def test_match_limits_a_create_fault_to_bodies_with_the_text(fake: FakeKling, http: httpx.Client) -> None:
    fake.inject(Fault("status", status="canceled", match="brass"))
    plain = create(http, "m1", prompt="a lamp").json()["data"]["task_id"]
    brass = create(http, "m2", prompt="a brass lamp").json()["data"]["task_id"]
    time.sleep(TASK_SECONDS + 0.05)
    assert query(http, plain).json()["data"]["task_status"] == "succeed"
    assert query(http, brass).json()["data"]["task_status"] == "canceled"


def test_the_command_line_takes_max_running() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "shotlang.testing", "--port", str(port),
                               "--task-seconds", "5", "--max-running", "1"],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None and "fake Kling API" in server.stdout.readline()
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Authorization": bearer()}) as http:
            assert create(http, "c1").status_code == 200
            assert create(http, "c2").json()["code"] == kling.OVER_CONCURRENCY_CODE
    finally:
        server.terminate()
        server.wait(5)
