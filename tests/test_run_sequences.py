"""A multi-shot SEQUENCE through `run`, `plan` and `status`: the real CLI against the local Kling
server. A sequence is one request, one task, one payment and one video named after it."""

from __future__ import annotations

import json
import shutil
import signal
from pathlib import Path

import pytest
from runs import EXAMPLES, run, shotlang, start_run, temporary_files, wait_for

import shotlang as api
from shotlang.engine.state import state_path
from shotlang.testing import VIDEO, FakeKling, Fault

SEQUENCES = ["chase", "aftermath"]


@pytest.fixture
def chase(tmp_path: Path) -> Path:
    shutil.copy(EXAMPLES / "chase.shot", tmp_path / "chase.shot")
    return tmp_path / "chase.shot"


def test_a_sequence_runs_as_one_task_and_downloads_as_one_video(fake: FakeKling, chase: Path) -> None:
    done = run(fake, chase)
    assert done.returncode == 0, done.stdout + done.stderr
    assert fake.stats.creates == 2, "one generation per sequence, not one per shot"
    for name in SEQUENCES:
        assert (chase.parent / f"{name}.mp4").read_bytes() == VIDEO
    assert not list(chase.parent.glob("alley*.mp4")), "a sequence's shots have no videos of their own"
    compiled = {r["name"]: r["body"] for r in api.compile_file(chase).output.records}
    for body in fake._tasks.values():
        name = next(n for n in SEQUENCES if str(body.body["external_task_id"]).startswith(n + "-"))
        assert {k: v for k, v in body.body.items() if k != "external_task_id"} == compiled[name]
    state = json.loads(state_path(chase).read_text())
    assert sorted(state["shots"]) == sorted(SEQUENCES)
    assert state["shots"]["chase"]["file"] == "chase.mp4"

    again = run(fake, chase)
    assert again.returncode == 0 and fake.stats.creates == 2, "a re-run pays nothing"


def test_plan_prices_the_whole_sequence(fake: FakeKling, chase: Path) -> None:
    plan = json.loads(shotlang("plan", str(chase), "--json").stdout)
    assert [(s["shot"], s["duration"]) for s in plan["shots"]] == [("chase", "15"), ("aftermath", "9")]
    # kling-v3's own price per second (Kling's price list): pro 0.8, std with sound 0.9.
    assert [s["credits"] for s in plan["shots"]] == [pytest.approx(12.0), pytest.approx(8.1)]
    assert all(s["price_published"] for s in plan["shots"])
    assert plan["generations"] == 2
    assert fake.stats.requests == 0, "plan asks the API nothing"


def test_a_killed_sequence_run_resumes_and_pays_once(fake: FakeKling, chase: Path) -> None:
    fake.inject(Fault("hold", times=None))
    process = start_run(fake, chase, "--concurrency", "2")
    wait_for(lambda: fake.stats.creates == 2)
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=30)
    fake.clear_faults()
    assert fake.release() == 2
    done = run(fake, chase)
    assert done.returncode == 0, done.stdout + done.stderr
    assert fake.stats.creates == 2, "the sequences in flight were resumed, not bought again"
    assert all(n == 1 for n in fake.stats.by_external_id.values())
    for name in SEQUENCES:
        assert (chase.parent / f"{name}.mp4").read_bytes() == VIDEO
    assert not [p for p in temporary_files(chase.parent) if p.name.endswith(".mp4.part")]


def test_a_changed_shot_inside_a_sequence_changes_the_sequence(fake: FakeKling, chase: Path) -> None:
    assert run(fake, chase).returncode == 0
    chase.write_text(chase.read_text().replace("leaps the gap", "vaults the gap"))
    plan = json.loads(shotlang("plan", str(chase), "--json").stdout)
    assert {s["shot"]: s["action"] for s in plan["shots"]} == {"chase": "changed", "aftermath": "unchanged"}
    assert run(fake, chase).returncode == 0
    assert fake.stats.creates == 3


def test_only_names_a_sequence_and_a_shot_inside_one_says_which(fake: FakeKling, chase: Path) -> None:
    done = run(fake, chase, "--only", "roof")
    assert done.returncode == 2 and "a shot of the sequence `chase`" in done.stderr and "--only chase" in done.stderr
    assert fake.stats.creates == 0
    assert run(fake, chase, "--only", "chase").returncode == 0 and fake.stats.creates == 1
