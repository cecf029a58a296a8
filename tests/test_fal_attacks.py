"""Attacks on `shotlang run --backend fal`: a hostile or broken fal, identical requests, kills.
Through the command line against the local server in fal mode (FakeFal), and FalClient alone
with httpx's MockTransport where a server cannot do it. Every run counts what fal made."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from runs import FAST, shotlang

from shotlang.config import FalKey
from shotlang.engine.client import Backoff, CreateUnknown
from shotlang.engine.fal import FalClient, Ledger
from shotlang.testing import FakeFal
from shotlang.testing.fal import FalFault

TAKES = 'SHOT castle: "A castle at dawn" 5s pro takes 3\n'
TWINS = 'SHOT castle: "A castle at dawn" 5s pro\nSHOT keep: "A castle at dawn" 5s pro\n'


@pytest.fixture
def fal() -> Iterator[FakeFal]:
    with FakeFal(task_seconds=0.2) as server:
        yield server


def run_fal(fal: FakeFal, shot_file: Path, *args: str) -> str:
    done = shotlang("run", str(shot_file), "--backend", "fal", *FAST, *args, env=fal.env())
    return done.stdout + done.stderr


def recorded(shot_file: Path) -> dict[str, str | None]:
    """Each record's request id, as the state file holds it (its last line for each name wins)."""
    ids: dict[str, str | None] = {}
    text = shot_file.with_name(shot_file.name + ".state.json").read_text()
    try:
        for name, state in json.loads(text)["shots"].items():
            ids[name] = state.get("task_id")
    except ValueError:
        for line in text.splitlines():
            entry = json.loads(line)
            if isinstance(entry, dict) and "shot" in entry:
                ids[entry["name"]] = entry["shot"].get("task_id")
    return ids


def lose_submit(fal: FakeFal, after: int) -> None:
    """The submit after `after` of them is made and its answer lost."""
    def arm() -> None:
        while fal.stats.create_requests < after:
            time.sleep(0.002)
        fal.inject(FalFault("lose", on="submit"))

    threading.Thread(target=arm, daemon=True).start()


@pytest.mark.parametrize("text", [TAKES, TWINS])
def test_a_lost_answer_never_takes_the_request_of_a_twin_with_the_same_input(fal: FakeFal, tmp_path: Path,
                                                                             text: str) -> None:
    # One at a time: the first request ends before the second is sent and lost; fal's listing
    # then shows the first (ended) with the very input the lost one was sent with.
    film = tmp_path / "film.shot"
    film.write_text(text)
    lose_submit(fal, 1)
    said = run_fal(fal, film, "--concurrency", "1")
    made = [t["request_id"] for t in fal.tasks()]
    ids = recorded(film)
    taken = [i for i in ids.values() if i]
    assert len(taken) == len(set(taken)), (ids, said)  # never one request for two records
    assert set(taken) <= set(made)
    assert len(made) == len(ids)  # each paid once
    settle(fal)
    again = run_fal(fal, film, "--concurrency", "1")
    ids = recorded(film)
    assert sorted(i for i in ids.values() if i) == sorted(made), (ids, again)  # each record its own request
    assert len(fal.created()) == len(ids)


def settle(fal: FakeFal) -> None:
    end = time.monotonic() + 10
    while time.monotonic() < end and not all(t["status"] == "COMPLETED" for t in fal.tasks()):
        time.sleep(0.05)


# --- FalClient alone, against a fal that answers what a server here would not ------------------

APP = "fal-ai/kling-video/v2.6/pro/text-to-video"
INPUT = {"prompt": "A castle", "duration": "5", "generate_audio": False}


def fal_client(handler: Callable[[httpx.Request], httpx.Response],
               ledger: Ledger | None = None) -> tuple[FalClient, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    made = FalClient("http://fal.test", FalKey("fal-key-0123456789"), transport=httpx.MockTransport(record),
                     backoff=Backoff(base=0.0, cap=0.0, attempts=3), ledger=ledger)
    return made, seen


def status_or_listing(items: list[dict[str, Any]]) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            raise httpx.ReadTimeout("no answer")
        if request.url.path.endswith("/by-endpoint"):
            return httpx.Response(200, json={"items": items, "next_cursor": None, "has_more": False})
        return httpx.Response(202, json={"status": "IN_PROGRESS"})

    return handler


def test_a_submit_answered_with_another_requests_id_is_unknown_not_a_second_record_of_it() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return httpx.Response(200, json={"request_id": "req-same", "status": "IN_QUEUE"})
        return httpx.Response(200, json={"items": [], "next_cursor": None, "has_more": False})

    fal, seen = fal_client(handler)
    assert fal.create(APP, {**INPUT, "external_task_id": "a"}).task_id == "req-same"
    with pytest.raises(CreateUnknown, match="not resubmitted"):
        fal.create(APP, {**INPUT, "prompt": "Another", "external_task_id": "b"})
    assert len([r for r in seen if r.method == "POST"]) == 2  # each sent once, never again


def test_more_unheld_requests_of_one_input_than_records_that_sent_it_are_unknown() -> None:
    items = [{"request_id": f"req-{n}", "json_input": INPUT, "sent_at": f"2026-12-07T05:0{n}:00Z"} for n in (1, 2)]
    fal, _ = fal_client(status_or_listing(items), ledger=lambda ext: ((), 1))
    with pytest.raises(CreateUnknown, match="req-1, req-2"):
        fal.create(APP, {**INPUT, "external_task_id": "a"}, maybe_sent=True)


def test_takes_that_all_lost_their_answers_each_take_one_request_never_the_same() -> None:
    items = [{"request_id": f"req-{n}", "json_input": INPUT, "sent_at": f"2026-12-07T05:0{n}:00Z"}
             for n in (1, 2, 3)]
    held = {"req-1"}  # take 1's, recorded
    fal, seen = fal_client(status_or_listing(items), ledger=lambda ext: (held, 2))
    first = fal.create(APP, {**INPUT, "external_task_id": "t2"}, maybe_sent=True).task_id
    second = fal.create(APP, {**INPUT, "external_task_id": "t3"}, maybe_sent=True).task_id
    assert sorted([first, second]) == ["req-2", "req-3"]
    assert [r for r in seen if r.method == "POST"] == []


def test_a_result_missing_after_fal_said_completed_is_looked_at_again_never_failed_for_force(
        fal: FakeFal, tmp_path: Path) -> None:
    # The status says COMPLETED and the result answers 404 (fal's result not there yet, or a
    # broken fal): the request exists, so "no longer known, use --force" would pay for it twice.
    film = tmp_path / "film.shot"
    film.write_text('SHOT castle: "A castle at dawn" 5s pro\n')
    fal.inject(FalFault("error", on="result", http=404, message="Request not found", times=2))
    said = run_fal(fal, film)
    assert "--force" not in said and "failed" not in said, said
    assert (tmp_path / "castle.mp4").is_file(), said
    assert len(fal.created()) == 1


@pytest.mark.parametrize("request_id", ["..", ".", "a/b", "../../v1/models", "x" * 129, ""])
def test_a_submit_answered_with_an_id_the_state_cannot_keep_is_unknown(request_id: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return httpx.Response(200, json={"request_id": request_id, "status": "IN_QUEUE"})
        return httpx.Response(200, json={"items": [], "next_cursor": None, "has_more": False})

    fal, seen = fal_client(handler)
    with pytest.raises(CreateUnknown, match="not resubmitted"):
        fal.create(APP, INPUT)
    assert len([r for r in seen if r.method == "POST"]) == 1


def test_a_retry_whose_answer_is_lost_never_takes_the_failed_request_it_replaced(fal: FakeFal,
                                                                                 tmp_path: Path) -> None:
    # The first request fails; the run after sends it again (a retry: the same input) and loses
    # the answer. fal then lists both requests with that input: the failed one is the record's
    # earlier request, still held, so the lost retry is the other one.
    film = tmp_path / "retry.shot"
    film.write_text('SHOT castle: "A castle at dawn" 5s pro\n')
    fal.inject(FalFault("fail", on="submit", message="content policy violation"))
    assert "content policy violation" in run_fal(fal, film)
    [(_, first)] = [(t["request_id"], t) for t in fal.tasks()]
    fal.inject(FalFault("lose", on="submit"))
    assert "unknown, not resubmitted" in run_fal(fal, film)
    deadline = time.monotonic() + 10
    while not all(t["status"] == "COMPLETED" for t in fal.tasks()) or len(fal.tasks()) < 2:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    said = run_fal(fal, film)
    retry = next(t["request_id"] for t in fal.tasks() if t["request_id"] != first["request_id"])
    assert recorded(film)["castle"] == retry, said
    assert (tmp_path / "castle.mp4").is_file(), said
    assert len(fal.created()) == 2
