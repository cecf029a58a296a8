"""The local Kling server itself (shotlang.testing): what it answers and what it counts, asked
with plain httpx requests over a real socket, so shotlang's own client is not under test here."""

from __future__ import annotations

import ast
import base64
import math
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from helpers import jpeg, png

import shotlang.testing
from shotlang.compiler import kling
from shotlang.compiler.models import built_in
from shotlang.config import Credentials
from shotlang.engine.auth import make_token
from shotlang.testing import TEST_ACCESS_KEY, TEST_SECRET_KEY, VIDEO, FakeKling, Fault, ManualClock

TASK_SECONDS = 0.3


def bearer() -> str:
    token, _ = make_token(Credentials(TEST_ACCESS_KEY, TEST_SECRET_KEY), time.time())
    return f"Bearer {token}"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def fake(clock: ManualClock) -> Iterator[FakeKling]:
    """Tasks of TASK_SECONDS on a clock the test steps: no test here sleeps for a task."""
    with FakeKling(task_seconds=TASK_SECONDS, clock=clock) as server:
        yield server


@pytest.fixture
def polled() -> Iterator[FakeKling]:
    """Tasks that end at their third look."""
    with FakeKling(polls=3) as server:
        yield server


def client(server: FakeKling) -> httpx.Client:
    return httpx.Client(base_url=server.url, headers={"Authorization": bearer()}, timeout=10)


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


def status(http: httpx.Client, key: str) -> str:
    return str(query(http, key).json()["data"]["task_status"])


def wait_final(http: httpx.Client, clock: ManualClock, task_id: str) -> dict[str, Any]:
    clock.advance(TASK_SECONDS)
    data: dict[str, Any] = query(http, task_id).json()["data"]
    return data


# --- how a task moves on: a clock, looks, holds ------------------------------------------------


def test_on_a_clock_a_task_is_submitted_then_processing_from_a_third_then_final(
        fake: FakeKling, http: httpx.Client, clock: ManualClock) -> None:
    create(http, "c")
    assert status(http, "c") == "submitted"
    clock.advance(TASK_SECONDS / 3 - 0.001)
    assert status(http, "c") == "submitted", "looks do not move a task on a clock"
    clock.advance(0.001)
    assert status(http, "c") == "processing"
    clock.advance(TASK_SECONDS * 2 / 3 - 0.001)
    assert status(http, "c") == "processing"
    clock.advance(0.001)
    assert status(http, "c") == "succeed" and fake.stats.queries == 5


@pytest.mark.slow
def test_the_default_is_real_time_half_a_second(http: httpx.Client) -> None:
    default = FakeKling()
    default.stop()
    assert default.task_seconds == 0.5 and default.polls is None and default.clock is time.monotonic
    # 1.2 s: `submitted` for 0.4 s, a window no busy machine misses between two requests
    with FakeKling(task_seconds=1.2) as real, client(real) as http:
        before = time.time() * 1000
        created = create(http, "r").json()["data"]["created_at"]
        after = time.time() * 1000
        assert before - 1 <= created <= after + 1
        assert status(http, "r") == "submitted"
        time.sleep(1.25)
        assert status(http, "r") == "succeed"


def test_polled_a_task_is_processing_until_its_nth_look_then_final(polled: FakeKling) -> None:
    with client(polled) as http:
        created = create(http, "p").json()["data"]
        assert created["task_status"] == "submitted"
        assert [status(http, "p") for _ in range(4)] == ["processing", "processing", "succeed", "succeed"]
        assert polled.tasks()[0]["task_status"] == "succeed"
        create(http, "q")
        assert [t["task_status"] for t in polled.tasks()] == ["succeed", "submitted"]
        assert status(http, "q") == "processing", "tasks() is not a look"


def test_polled_a_list_is_a_look_at_each_task_it_reports_and_only_those(polled: FakeKling) -> None:
    with client(polled) as http:
        for i in range(3):
            create(http, f"l{i}")
        page = {"pageNum": 1, "pageSize": 2}
        for expected in (["processing"] * 2, ["processing"] * 2, ["succeed"] * 2):
            assert [t["task_status"] for t in http.get(kling.TEXT2VIDEO, params=page).json()["data"]] == expected
        assert status(http, "l0") == "processing", "the oldest was on page 2: its first look"
        assert polled.stats.lists == 3


def test_polled_one_look_ends_a_task_and_times_are_those_of_the_looks() -> None:
    clock = ManualClock()
    with FakeKling(polls=1, clock=clock) as server, client(server) as http:
        created = create(http, "o").json()["data"]
        clock.advance(7)
        done = query(http, "o").json()["data"]
        clock.advance(5)
        again = query(http, "o").json()["data"]
    assert done["task_status"] == again["task_status"] == "succeed"
    assert done["created_at"] == created["created_at"] == created["updated_at"]
    assert done["updated_at"] - created["created_at"] == 7000 == again["updated_at"] - created["created_at"]
    assert server.timeline()[0][1] - server.timeline()[0][0] == 7


def test_polled_max_running_counts_tasks_until_a_look_ends_them() -> None:
    with FakeKling(polls=2, max_running=1) as server, client(server) as http:
        create(http, "a")
        assert create(http, "b").status_code == 429
        assert status(http, "a") == "processing"
        assert create(http, "b").status_code == 429, "still running after one look"
        assert server.timeline()[0][1] == math.inf
        assert status(http, "a") == "succeed"
        assert create(http, "b").status_code == 200
        assert server.stats.creates == 2 and server.stats.refused_concurrency == 2


@pytest.mark.parametrize("pace", [{"polls": 2}, {"task_seconds": TASK_SECONDS}])
def test_a_held_task_stays_processing_until_released(pace: dict[str, Any]) -> None:
    clock = ManualClock()
    with FakeKling(clock=clock, **pace) as server, client(server) as http:
        server.inject(Fault("hold", match="brass", times=None))
        create(http, "held", prompt="a brass lamp")
        create(http, "free", prompt="a lamp")
        create(http, "also", prompt="brass again")
        create(http, "unseen", prompt="brass, never asked about until released")
        clock.advance(TASK_SECONDS)
        for _ in range(5):
            assert status(http, "held") == status(http, "also") == "processing"
        assert [status(http, "free") for _ in range(2)][-1] == "succeed"
        assert [finished == math.inf for _, finished in server.timeline()] == [True, False, True, True]
        clock.advance(1)
        assert server.release() == 3
        assert status(http, "held") == status(http, "also") == status(http, "unseen") == "succeed"
        assert server.release() == 0
        done = query(http, "held").json()["data"]
        assert done["updated_at"] - done["created_at"] == round((TASK_SECONDS + 1) * 1000), "ended at release"
        create(http, "later", prompt="brass later")
        clock.advance(TASK_SECONDS)
        assert [status(http, "later") for _ in range(3)] == ["processing"] * 3, "the fault holds on"
        server.clear_faults()
        create(http, "last", prompt="brass last")
        clock.advance(TASK_SECONDS)
        assert [status(http, "last") for _ in range(2)][-1] == "succeed"
        assert server.stats.creates == 6


def test_a_server_moves_tasks_on_one_way_only() -> None:
    with pytest.raises(ValueError, match="not both"):
        FakeKling(task_seconds=1, polls=2)
    with pytest.raises(ValueError, match="1 or more"):
        FakeKling(polls=0)


# --- account concurrency and the timeline ------------------------------------------------------


def test_a_create_over_max_running_is_refused_with_1303_and_not_counted(clock: ManualClock) -> None:
    with FakeKling(task_seconds=0.5, max_running=2, clock=clock) as fake, client(fake) as http:
        assert [create(http, f"s{i}").status_code for i in range(2)] == [200, 200]
        refused = create(http, "s2")
        assert refused.status_code == 429 and refused.json()["code"] == kling.OVER_CONCURRENCY_CODE
        assert fake.stats.creates == 2 and fake.stats.refused_concurrency == 1
        assert query(http, "s2").status_code == 404, "a refused create carries out nothing"
        clock.advance(0.499)
        assert create(http, "s2").status_code == 429, "not before a task ended"
        clock.advance(0.001)
        assert create(http, "s2").status_code == 200, "room again once a task ended"
        assert fake.stats.creates == 3 and fake.stats.peak_running == 2


def test_peak_running_and_timeline_record_every_task(fake: FakeKling, http: httpx.Client,
                                                     clock: ManualClock) -> None:
    for i in range(3):
        create(http, f"t{i}")
        clock.advance(0.1)
    assert fake.stats.peak_running == 3
    start = ManualClock()()
    assert fake.timeline() == [(start + i * 0.1, start + i * 0.1 + TASK_SECONDS) for i in range(3)]


def test_fail_task_and_status_work_under_max_running_and_a_refused_create_takes_neither(
        clock: ManualClock) -> None:
    with FakeKling(task_seconds=0.2, max_running=1, clock=clock) as fake, client(fake) as http:
        first = create(http, "a").json()["data"]["task_id"]
        fake.inject(Fault("fail_task", message="no"), Fault("status", status="canceled"),
                    Fault("garble", on="create", http=200, body=b"<html>"))
        refused = create(http, "b")
        assert refused.status_code == 429 and refused.json()["code"] == 1303, "answered, not garbled"
        clock.advance(0.2)
        garbled = create(http, "b")
        assert garbled.status_code == 200 and garbled.content == b"<html>"
        second = query(http, "b").json()["data"]["task_id"]
        clock.advance(0.2)
        assert query(http, first).json()["data"]["task_status"] == "succeed"
        final = query(http, second).json()["data"]
        assert final["task_status"] == "canceled"
        assert fake.stats.creates == 2 and fake.stats.refused_concurrency == 1


# --- timestamps --------------------------------------------------------------------------------


def test_created_at_and_updated_at_are_the_task_s_own_times_not_now(http: httpx.Client, clock: ManualClock) -> None:
    clock.advance(5)
    data = create(http, "x").json()["data"]
    created = data["created_at"]
    assert data["updated_at"] == created
    clock.advance(TASK_SECONDS / 3 + 0.02)
    processing = query(http, "x").json()["data"]
    assert processing["task_status"] == "processing"
    assert processing["created_at"] == created
    assert processing["updated_at"] == pytest.approx(created + TASK_SECONDS / 3 * 1000, abs=1)
    clock.advance(TASK_SECONDS)
    done = query(http, "x").json()["data"]
    assert done["task_status"] == "succeed"
    assert done["updated_at"] == pytest.approx(created + TASK_SECONDS * 1000, abs=1)
    clock.advance(10)
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
def test_status_ends_the_task_with_another_status_for_good(fake: FakeKling, http: httpx.Client, final: str,
                                                           clock: ManualClock) -> None:
    fake.inject(Fault("status", status=final))
    task_id = create(http, "st").json()["data"]["task_id"]
    assert wait_final(http, clock, task_id)["task_status"] == final
    clock.advance(10)
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


def test_match_limits_a_create_fault_to_bodies_with_the_text(fake: FakeKling, http: httpx.Client,
                                                             clock: ManualClock) -> None:
    fake.inject(Fault("status", status="canceled", match="brass"))
    plain = create(http, "m1", prompt="a lamp").json()["data"]["task_id"]
    brass = create(http, "m2", prompt="a brass lamp").json()["data"]["task_id"]
    clock.advance(TASK_SECONDS)
    assert query(http, plain).json()["data"]["task_status"] == "succeed"
    assert query(http, brass).json()["data"]["task_status"] == "canceled"


@pytest.mark.parametrize("pace", [["--task-seconds", "5"], ["--polls", "2"]])
def test_the_command_line_takes_max_running_and_a_pace(pace: list[str]) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "shotlang.testing", "--port", str(port), *pace,
                               "--max-running", "1"], stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None and "fake Kling API" in server.stdout.readline()
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Authorization": bearer()}) as http:
            assert create(http, "c1").status_code == 200
            assert create(http, "c2").json()["code"] == kling.OVER_CONCURRENCY_CODE
            looks = [status(http, "c1") for _ in range(2)]
            assert looks == (["processing", "succeed"] if "--polls" in pace else ["submitted"] * 2)
    finally:
        server.terminate()
        server.wait(5)


# --- the server's own reading of the API's rules -------------------------------------------------


def test_the_server_takes_only_data_from_shotlang() -> None:
    # An independent witness: a wrong value in kling.py must not make the server agree with it.
    # What it shares is data: the capability matrix's (which model offers what), read as the
    # rows `shotlang models --format json` prints, and the rows of options whose field its own
    # lists do not name yet (language.AS_IS: a new option runs here without an edit); the rules
    # reading them are its own.
    package = Path(shotlang.testing.__file__).parent  # its own subpackage: its modules import each other
    imports = [n for path in sorted(package.glob("*.py"))
               for n in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
               if isinstance(n, ast.ImportFrom) and (n.level or "shotlang" in (n.module or ""))]
    outside = [n for n in imports if not (n.level == 1 and n.module in {"server", "rules", "videos", "fal"})]
    assert outside and all(n.module in ("shotlang.compiler.models", "shotlang.compiler.language") for n in outside), [
        ast.unparse(n) for n in outside]


def test_the_core_never_imports_the_local_server() -> None:
    core = Path(shotlang.__file__).parent
    for path in core.rglob("*.py"):
        if path.parent.name == "testing" or path.name == "testing.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                named = (node.module or "").split(".") + [alias.name for alias in node.names]
            elif isinstance(node, ast.Import):
                named = [part for alias in node.names for part in alias.name.split(".")]
            else:
                continue
            assert "testing" not in named, f"{path.relative_to(core)}: {ast.unparse(node)}"



# Images as the API takes them: Base64 of the file's bytes (no data: prefix), or an http(s) URL.
PNG = base64.b64encode(png(320, 320)).decode()
JPEG = base64.b64encode(jpeg(640, 360)).decode()
URL = "https://example.com/a.jpg"
TRAJECTORY = [{"x": 10, "y": 20}, {"x": 30, "y": 40}]
# Masks (motion brush) are in Kling's map for kling-v1 (std and pro, 5 s) and kling-v1-5 pro 5 s only.
MASKED = {"model_name": "kling-v1", "mode": "std", "duration": "5"}


def base_of(endpoint: str) -> dict[str, Any]:
    """The least body each endpoint takes."""
    model = {"model_name": "kling-v2-6"}
    if endpoint == kling.OMNI_VIDEO:
        return {"model_name": "kling-v3-omni", "prompt": "a lamp", "aspect_ratio": "16:9"}
    return {**model, "prompt": "a lamp"} if endpoint == kling.TEXT2VIDEO else {**model, "image": PNG}


def names(message: str, field: str) -> bool:
    """Whether `message` names `field` as a whole (`model` is not named by `model_name`)."""
    return re.search(rf"(?<![\w.\]]){re.escape(field)}(?![\w\[]|\.\w)", message) is not None


def test_the_server_and_kling_py_agree_on_every_value_the_api_takes(fake: FakeKling, http: httpx.Client) -> None:
    # Both are written from the API's documentation; this shows where one of them drifted.
    def accepted(endpoint: str, **fields: Any) -> bool:
        answer = http.post(endpoint, json={**base_of(endpoint), **fields})
        return answer.status_code == 200

    for name, model in built_in().models.items():
        assert accepted(kling.TEXT2VIDEO, model_name=name) == ("text2video" in model.endpoints), name
        assert accepted(kling.IMAGE2VIDEO, model_name=name) == ("image2video" in model.endpoints), name
        assert accepted(kling.OMNI_VIDEO, model_name=name) == model.omni, name
        endpoint = model.endpoint_for(to_image="text2video" not in model.endpoints and not model.omni)
        assert accepted(endpoint, model_name=name, mode="pro", sound="on") == model.anywhere("sound"), name
        assert all(accepted(endpoint, model_name=name, duration=d) for d in model.durations), name
    assert all(accepted(kling.TEXT2VIDEO, duration=d) for d in ("5", "10"))
    assert all(accepted(kling.TEXT2VIDEO, mode=m) for m in kling.MODES)
    assert all(accepted(kling.TEXT2VIDEO, aspect_ratio=r) for r in built_in().models["kling-v2-6"].aspect_ratios)
    assert all(accepted(kling.TEXT2VIDEO, camera_control={"type": t}) for t in kling.CAMERA_PRESETS)
    for field in kling.CAMERA_FIELDS:
        config = {field: kling.MAGNITUDE_MAX}
        assert accepted(kling.TEXT2VIDEO, camera_control={"type": "simple", "config": config}), field
        config = {field: kling.MAGNITUDE_MAX + 1}
        assert not accepted(kling.TEXT2VIDEO, camera_control={"type": "simple", "config": config}), field
    assert accepted(kling.TEXT2VIDEO, prompt="x" * kling.TEXT_MAX_CHARS)
    assert not accepted(kling.TEXT2VIDEO, prompt="x" * (kling.TEXT_MAX_CHARS + 1))
    assert accepted(kling.TEXT2VIDEO, cfg_scale=kling.CFG_MIN) and accepted(kling.TEXT2VIDEO, cfg_scale=kling.CFG_MAX)
    masks = [{"mask": PNG, "trajectories": TRAJECTORY}] * kling.DYNAMIC_MASKS_MAX
    assert accepted(kling.IMAGE2VIDEO, dynamic_masks=masks, **MASKED)
    assert not accepted(kling.IMAGE2VIDEO, dynamic_masks=[*masks, masks[0]], **MASKED)
    for points in (kling.TRAJECTORY_MIN_POINTS, kling.TRAJECTORY_MAX_POINTS):
        assert accepted(kling.IMAGE2VIDEO, dynamic_masks=[{"mask": PNG, "trajectories": [{"x": 1, "y": 1}] * points}],
                        **MASKED)
    assert http.get(kling.TEXT2VIDEO, params={"pageNum": 1, "pageSize": kling.LIST_PAGE_MAX}).status_code == 200
    create(http, "dup")
    assert create(http, "dup").json()["code"] == kling.DUPLICATE_EXTERNAL_ID_CODE


T2V, I2V = kling.TEXT2VIDEO, kling.IMAGE2VIDEO
V26_PRO_SOUND = {"model_name": "kling-v2-6", "mode": "pro", "sound": "on"}
V3 = {"model_name": "kling-v3"}
CUSTOMIZE = {**V3, "multi_shot": True, "shot_type": "customize", "duration": "5"}


def shots(*seconds: str) -> list[dict[str, Any]]:
    return [{"index": i, "prompt": f"shot {i}", "duration": s} for i, s in enumerate(seconds, 1)]


def simple(**config: Any) -> dict[str, Any]:
    return {"camera_control": {"type": "simple", "config": config}}


@pytest.mark.parametrize(("endpoint", "fields", "named"), [
    # unknown or misspelled fields, at any depth, named with their place
    pytest.param(T2V, {"model": "kling-v2-6"}, "model", id="model-for-model_name"),
    pytest.param(T2V, {"negative": "blur"}, "negative", id="unknown-body-field"),
    pytest.param(T2V, {"image": PNG}, "image", id="image-on-text2video"),
    pytest.param(I2V, {"aspect_ratio": "16:9"}, "aspect_ratio", id="aspect_ratio-on-image2video"),
    pytest.param(T2V, {"camera_control": {"type": "simple", "config": {"zoom": 1}, "speed": 2}},
                 "camera_control.speed", id="unknown-in-camera_control"),
    pytest.param(T2V, simple(dolly=5), "camera_control.config.dolly", id="unknown-in-camera-config"),
    pytest.param(I2V, {"dynamic_masks": [{"mask": PNG, "trajectories": TRAJECTORY, "speed": 1}]},
                 "dynamic_masks[0].speed", id="unknown-in-dynamic-mask"),
    pytest.param(I2V, {"dynamic_masks": [{"mask": PNG, "trajectories": [TRAJECTORY[0], {"x": 1, "y": 2, "z": 3}]}]},
                 "dynamic_masks[0].trajectories[1].z", id="unknown-in-trajectory-point"),
    pytest.param(T2V, {"watermark_info": {"enabled": True, "position": "corner"}}, "watermark_info.position",
                 id="unknown-in-watermark_info"),
    pytest.param(T2V, {**V26_PRO_SOUND, "voice_list": [{"voice_id": "v1", "name": "Ann"}]}, "voice_list[0].name",
                 id="unknown-in-voice_list-entry"),
    pytest.param(T2V, {**CUSTOMIZE, "multi_prompt": [{**shots("5")[0], "camera_control": {"type": "down_back"}}]},
                 "multi_prompt[0].camera_control", id="unknown-in-multi_prompt-entry"),
    # images that do not decode
    pytest.param(I2V, {"image": base64.b64encode(b"hello").decode()}, "image", id="image-not-png-or-jpeg"),
    pytest.param(I2V, {"image": f"data:image/png;base64,{PNG}"}, "image", id="image-with-data-prefix"),
    pytest.param(I2V, {"image": "not base64 at all!"}, "image", id="image-not-base64"),
    pytest.param(I2V, {"image": "ftp://example.com/a.png"}, "image", id="image-ftp-url"),
    pytest.param(I2V, {"image": PNG[:-2]}, "image", id="image-base64-cut-short"),
    pytest.param(I2V, {"image": ""}, "image", id="image-empty"),
    pytest.param(I2V, {"image_tail": "aGk="}, "image_tail", id="image_tail-not-an-image"),
    pytest.param(I2V, {"static_mask": "aGk="}, "static_mask", id="static_mask-not-an-image"),
    pytest.param(I2V, {**MASKED, "dynamic_masks": [{"mask": "aGk=", "trajectories": TRAJECTORY}]}, "dynamic_masks[0].mask",
                 id="dynamic-mask-not-an-image"),
    pytest.param(I2V, {**MASKED, "dynamic_masks": [{"mask": PNG, "trajectories": TRAJECTORY[:1]}]},
                 "dynamic_masks[0].trajectories", id="trajectory-of-one-point"),
    pytest.param(I2V, {**MASKED, "dynamic_masks": [{"mask": PNG, "trajectories": [{"x": 1.5, "y": 2}, TRAJECTORY[1]]}]},
                 "dynamic_masks[0].trajectories[0]", id="trajectory-point-not-integer"),
    # cfg_scale
    pytest.param(T2V, {"cfg_scale": 1.5}, "cfg_scale", id="cfg_scale-over-1"),
    pytest.param(T2V, {"cfg_scale": -0.1}, "cfg_scale", id="cfg_scale-under-0"),
    pytest.param(T2V, {"cfg_scale": "0.5"}, "cfg_scale", id="cfg_scale-a-string"),
    pytest.param(T2V, {"cfg_scale": True}, "cfg_scale", id="cfg_scale-a-boolean"),
    # camera control
    pytest.param(T2V, simple(zoom=2, pan=1), "camera_control.config", id="two-non-zero-fields"),
    pytest.param(T2V, simple(zoom=0, pan=0.0), "camera_control.config", id="no-non-zero-field"),
    pytest.param(T2V, {"camera_control": {"type": "simple"}}, "camera_control.config", id="simple-without-config"),
    pytest.param(T2V, simple(zoom=10.5), "camera_control.config.zoom", id="fraction-over-10"),
    pytest.param(T2V, simple(roll=-11), "camera_control.config.roll", id="under-minus-10"),
    pytest.param(T2V, simple(zoom=True), "camera_control.config.zoom", id="camera-value-a-boolean"),
    pytest.param(T2V, simple(zoom="5"), "camera_control.config.zoom", id="camera-value-a-string"),
    pytest.param(T2V, {"camera_control": {"type": "orbit"}}, "camera_control.type", id="unknown-camera-type"),
    *(pytest.param(T2V, {"camera_control": {"type": t, "config": {"zoom": 5}}}, "camera_control.config",
                   id=f"config-with-preset-{t}")
      for t in ("down_back", "forward_up", "right_turn_forward", "left_turn_forward")),
    pytest.param(I2V, {"camera_control": {"type": "down_back"}, "image_tail": PNG}, "image_tail",
                 id="camera-with-image_tail"),
    # durations, per model, always strings
    pytest.param(T2V, {"duration": 5}, "duration", id="duration-an-integer"),
    pytest.param(T2V, {"duration": 5.0}, "duration", id="duration-a-float"),
    pytest.param(T2V, {"duration": "7"}, "duration", id="duration-not-offered"),
    pytest.param(T2V, {"model_name": "kling-v2-6", "duration": "3"}, "duration", id="v2-6-duration-3"),
    pytest.param(T2V, {**V3, "duration": "2"}, "duration", id="v3-duration-2"),
    pytest.param(T2V, {**V3, "duration": "16"}, "duration", id="v3-duration-16"),
    pytest.param(T2V, {**V3, "duration": "5.5"}, "duration", id="v3-duration-not-whole"),
    # other values
    pytest.param(T2V, {"mode": "standard"}, "mode", id="mode"),
    pytest.param(T2V, {"model_name": "kling-v9"}, "model_name", id="unknown-model"),
    pytest.param(T2V, {"model_name": "kling-v2-1"}, "model_name", id="model-without-text2video"),
    pytest.param(T2V, {"aspect_ratio": "4:3"}, "aspect_ratio", id="aspect_ratio"),
    pytest.param(T2V, {"prompt": ""}, "prompt", id="prompt-empty"),
    pytest.param(T2V, {"prompt": 12}, "prompt", id="prompt-not-a-string"),
    pytest.param(T2V, {"external_task_id": 12}, "external_task_id", id="external_task_id-not-a-string"),
    pytest.param(T2V, {"watermark_info": {"enabled": "yes"}}, "watermark_info.enabled", id="watermark-not-boolean"),
    # sound and voices
    pytest.param(T2V, {"model_name": "kling-v2-5-turbo", "sound": "off"}, "sound", id="sound-on-a-silent-model"),
    pytest.param(T2V, {"model_name": "kling-v2-6", "sound": "on"}, "sound", id="sound-on-v2-6-std"),
    pytest.param(T2V, {"model_name": "kling-v2-6", "mode": "pro", "sound": "loud"}, "sound", id="sound-loud"),
    pytest.param(T2V, {**V26_PRO_SOUND, "sound": "off", "voice_list": [{"voice_id": "v1"}]}, "voice_list",
                 id="voice_list-with-sound-off"),
    pytest.param(T2V, {"model_name": "kling-v2-5-turbo", "voice_list": [{"voice_id": "v1"}]}, "voice_list",
                 id="voice_list-on-a-silent-model"),
    pytest.param(T2V, {**V26_PRO_SOUND, "voice_list": [{"voice_id": v} for v in "abc"]}, "voice_list",
                 id="three-voices"),
    pytest.param(T2V, {**V26_PRO_SOUND, "voice_list": []}, "voice_list", id="no-voices"),
    pytest.param(T2V, {**V3, "sound": "on", "voice_list": [{"voice_id": "v1"}]}, "voice_list",
                 id="voices-on-v3"),  # Kling's map: voice control ❌ on kling-v3
    pytest.param(T2V, {**V26_PRO_SOUND, "voice_list": [{"voice_id": ""}]}, "voice_list[0].voice_id",
                 id="empty-voice_id"),
    # multi-shot
    pytest.param(T2V, {**CUSTOMIZE, "model_name": "kling-v2-6", "multi_prompt": shots("5")}, "multi_shot",
                 id="multi_shot-on-v2-6"),
    pytest.param(T2V, {**V3, "multi_shot": "yes", "shot_type": "customize"}, "multi_shot", id="multi_shot-a-string"),
    pytest.param(T2V, {**V3, "multi_shot": True}, "shot_type", id="multi_shot-without-shot_type"),
    pytest.param(T2V, {**V3, "shot_type": "intelligence"}, "shot_type", id="shot_type-without-multi_shot"),
    pytest.param(T2V, {**V3, "multi_shot": True, "shot_type": "auto"}, "shot_type", id="unknown-shot_type"),
    pytest.param(T2V, {**V3, "multi_prompt": shots("5")}, "multi_prompt", id="multi_prompt-without-multi_shot"),
    pytest.param(T2V, {**V3, "multi_shot": True, "shot_type": "intelligence", "multi_prompt": shots("5")},
                 "multi_prompt", id="multi_prompt-with-intelligence"),
    pytest.param(T2V, CUSTOMIZE, "multi_prompt", id="customize-without-multi_prompt"),
    pytest.param(T2V, {**CUSTOMIZE, "multi_prompt": shots("2", "2")}, "multi_prompt", id="shots-short-of-duration"),
    pytest.param(T2V, {**CUSTOMIZE, "duration": "10", "multi_prompt": shots(*"1111111111")[:7]}, "multi_prompt",
                 id="seven-shots"),
    pytest.param(T2V, {**CUSTOMIZE, "multi_prompt": []}, "multi_prompt", id="no-shots"),
    pytest.param(T2V, {**CUSTOMIZE, "multi_prompt": [shots("2", "3")[1], shots("2", "3")[0]]},
                 "multi_prompt[0].index", id="shots-out-of-order"),
    pytest.param(T2V, {**CUSTOMIZE, "multi_prompt": [{**shots("5")[0], "prompt": "x" * 513}]},
                 "multi_prompt[0].prompt", id="shot-prompt-over-512"),
    pytest.param(T2V, {**CUSTOMIZE, "multi_prompt": [*shots("5"), {"index": 2, "prompt": "x", "duration": "0"}]},
                 "multi_prompt[1].duration", id="shot-of-0-seconds"),
    pytest.param(T2V, {**CUSTOMIZE, "multi_prompt": [{**shots("5")[0], "duration": 5}]},
                 "multi_prompt[0].duration", id="shot-duration-an-integer"),
])
def test_a_body_the_api_refuses_is_refused_with_1201_naming_the_field_and_not_paid(
        fake: FakeKling, http: httpx.Client, endpoint: str, fields: dict[str, Any], named: str) -> None:
    answer = http.post(endpoint, json={**base_of(endpoint), **fields})
    assert answer.status_code == 400 and answer.json()["code"] == 1201, answer.text
    assert names(answer.json()["message"], named), answer.json()["message"]
    assert fake.stats.creates == 0 and fake.stats.create_requests == 0
    assert http.post(endpoint, json=base_of(endpoint)).status_code == 200, "the server still takes a good body"


def test_names_tells_a_field_from_a_longer_one() -> None:
    assert names("invalid parameter model: not a field", "model")
    assert not names("model_name is not supported", "model")
    assert not names("camera_control.config is required", "camera_control")
    assert names("dynamic_masks[0].mask is bad", "dynamic_masks[0].mask")
    assert not names("dynamic_masks[0].mask is bad", "dynamic_masks")


@pytest.mark.parametrize("config", [
    {"zoom": 0.5}, {"pan": -2.5}, {"tilt": 10.0}, {"roll": -10}, {"horizontal": 7},
    {"horizontal": 0, "vertical": 0, "zoom": 0, "roll": 0, "pan": 0, "tilt": 3.25},
    {"vertical": 1e-3, "zoom": 0.0},
])
def test_a_simple_camera_config_takes_fractions_and_only_its_non_zero_field(
        fake: FakeKling, http: httpx.Client, config: dict[str, Any]) -> None:
    for endpoint in (T2V, I2V):
        answer = http.post(endpoint, json={**base_of(endpoint), "camera_control": {"type": "simple", "config": config}})
        assert answer.status_code == 200, answer.text
    assert fake.stats.creates == 2


@pytest.mark.parametrize("endpoint", [T2V, I2V])
def test_null_means_absent_for_every_optional_field(fake: FakeKling, http: httpx.Client, endpoint: str) -> None:
    optional = ["negative_prompt", "cfg_scale", "mode", "duration", "camera_control", "callback_url",
                "external_task_id", "sound", "voice_list", "watermark_info", "multi_shot", "shot_type", "multi_prompt"]
    optional += ["aspect_ratio"] if endpoint == T2V else ["image_tail", "static_mask", "dynamic_masks"]
    nulls = dict.fromkeys(optional)
    answer = http.post(endpoint, json={**base_of(endpoint), "model_name": None, **nulls})
    assert answer.status_code == 200, answer.text
    task = answer.json()["data"]
    assert task["task_info"]["external_task_id"] is None
    inner = {"camera_control": {"type": "simple", "config": {"zoom": 2, "pan": None}},
             "watermark_info": {"enabled": False}}
    assert http.post(endpoint, json={**base_of(endpoint), **inner}).status_code == 200
    end_frame_alone = {"image": None, "image_tail": PNG, "mode": "pro"}  # the matrix: end frames in pro
    assert http.post(I2V, json=end_frame_alone).status_code == 200, "an end frame alone"
    assert http.post(I2V, json={"image": None, "image_tail": None}).status_code == 400, "still one is needed"
    assert fake.stats.creates == 3


@pytest.mark.parametrize("image", [PNG, JPEG, URL, "http://example.com/a.png", "HTTPS://EXAMPLE.COM/A.JPG"])
def test_an_image_is_a_url_or_base64_of_a_png_or_jpeg(fake: FakeKling, http: httpx.Client, image: str) -> None:
    body = {"image": image, "image_tail": image, "static_mask": image,
            "dynamic_masks": [{"mask": image, "trajectories": TRAJECTORY}]}
    answer = http.post(I2V, json={**body, "mode": "pro"})
    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize("endpoint", [T2V, I2V])
@pytest.mark.parametrize("duration", ["3", "4", "10", "15"])
def test_kling_v3_takes_any_whole_number_of_seconds_from_3_to_15(fake: FakeKling, http: httpx.Client,
                                                                 endpoint: str, duration: str) -> None:
    answer = http.post(endpoint, json={**base_of(endpoint), **V3, "duration": duration})
    assert answer.status_code == 200, answer.text
    assert fake.stats.creates == 1


def test_a_v3_video_lasts_its_duration(fake: FakeKling, http: httpx.Client, clock: ManualClock) -> None:
    task_id = http.post(T2V, json={"prompt": "a lamp", **V3, "duration": "15"}).json()["data"]["task_id"]
    assert wait_final(http, clock, task_id)["task_result"]["videos"][0]["duration"] == "15"


@pytest.mark.parametrize("fields", [
    {**V3, "sound": "on"},  # v3: sound in std as in pro
    {**V3, "mode": "pro", "sound": "on"},
    {**V3, "sound": "off"},
    {"model_name": "kling-v2-6", "sound": "off"},
    V26_PRO_SOUND,
    {**V26_PRO_SOUND, "voice_list": [{"voice_id": "v-1"}]},
    {**V26_PRO_SOUND, "voice_list": [{"voice_id": "v-1"}, {"voice_id": "v-2"}],
     "prompt": "<<<voice_1>>> greets <<<voice_2>>>"},
])
def test_sound_and_voices_on_the_models_that_make_audio(fake: FakeKling, http: httpx.Client,
                                                        fields: dict[str, Any]) -> None:
    for endpoint in (T2V, I2V):
        answer = http.post(endpoint, json={**base_of(endpoint), **fields})
        assert answer.status_code == 200, answer.text
    assert fake.stats.creates == 2


@pytest.mark.parametrize(("duration", "seconds"), [
    ("5", ("5",)), ("10", ("3", "3", "4")), ("15", ("3", "2", "2", "3", "3", "2")), ("3", ("1", "1", "1")),
])
def test_multi_shot_customize_takes_shots_that_add_up_to_the_duration(
        fake: FakeKling, http: httpx.Client, duration: str, seconds: tuple[str, ...]) -> None:
    fields = {**CUSTOMIZE, "duration": duration, "multi_prompt": shots(*seconds)}
    assert http.post(T2V, json=fields).status_code == 200, "no top-level prompt needed"
    assert http.post(T2V, json={"prompt": "a lamp", **fields}).status_code == 200
    assert http.post(I2V, json={"image": PNG, **fields}).status_code == 200
    assert fake.stats.creates == 3


def test_multi_shot_intelligence_splits_one_prompt(fake: FakeKling, http: httpx.Client) -> None:
    fields = {**V3, "multi_shot": True, "shot_type": "intelligence", "duration": "12"}
    assert http.post(T2V, json={"prompt": "a day in a lamp shop", **fields}).status_code == 200
    refused = http.post(T2V, json=fields)
    assert refused.status_code == 400 and names(refused.json()["message"], "prompt"), "it needs the prompt"
    assert http.post(T2V, json={"prompt": "a lamp", **V3, "multi_shot": False}).status_code == 200
    assert fake.stats.creates == 2


@pytest.mark.parametrize("enabled", [True, False])
def test_watermark_info_takes_enabled_true_or_false(fake: FakeKling, http: httpx.Client, enabled: bool) -> None:
    for endpoint in (T2V, I2V):
        answer = http.post(endpoint, json={**base_of(endpoint), "watermark_info": {"enabled": enabled}})
        assert answer.status_code == 200, answer.text
    assert fake.stats.creates == 2


@pytest.mark.parametrize("pace", [{"task_seconds": TASK_SECONDS}, {"polls": 2}])
def test_created_at_and_updated_at_are_epoch_milliseconds_of_now(pace: dict[str, Any]) -> None:
    # On any clock the server runs on (here a manual one that starts at 1000 s), the times it
    # reports are Unix epoch milliseconds, as the API's are.
    clock = ManualClock()
    with FakeKling(clock=clock, **pace) as server, client(server) as http:
        data = create(http, "e").json()["data"]
        clock.advance(TASK_SECONDS)
        later = query(http, "e").json()["data"]
        now_ms = time.time() * 1000
    for stamp in (data["created_at"], data["updated_at"], later["created_at"], later["updated_at"]):
        assert isinstance(stamp, int) and abs(stamp - now_ms) < 5000, (stamp, now_ms)
