"""`shotlang run --backend fal` through the command line against the local server in fal mode
(shotlang.testing.FakeFal, a real HTTP server on loopback): every test counts what fal was
asked to make (FakeFal.created: each is paid for) and holds it to one request a shot."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import png
from runs import FAST, shotlang, start, wait_for

from shotlang.testing import FakeFal
from shotlang.testing.fal import FalFault

# Text-to-video, image-to-video from an address and from a file beside the shot list, an end
# frame, and sound: fal's v2.6 pro apps (start_image_url, end_image_url, generate_audio).
FILM = """\
SHOT castle: slow pan right over "A castle at dawn" 5s pro
SHOT gate: "The gate opens" image "https://example.com/gate.jpg" 5s pro
SHOT door: "The door" image "door.png" tail "https://example.com/door-open.jpg" 5s pro
SHOT bells: "Bells ring over the town" 10s pro sound on
"""
SHOTS = ["castle", "gate", "door", "bells"]


@pytest.fixture
def fal() -> Iterator[FakeFal]:
    with FakeFal(task_seconds=0.2) as server:
        yield server


@pytest.fixture
def film(tmp_path: Path) -> Path:
    (tmp_path / "door.png").write_bytes(png(640, 360))
    path = tmp_path / "film.shot"
    path.write_text(FILM)
    return path


def run_fal(fal: FakeFal, shot_file: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return shotlang("run", str(shot_file), "--backend", "fal", *FAST, *args, env=fal.env())


def videos(folder: Path) -> list[str]:
    return sorted(p.stem for p in folder.glob("*.mp4"))


def test_a_film_runs_on_fal_paid_once_a_shot_and_never_again(fal: FakeFal, film: Path) -> None:
    done = run_fal(fal, film)
    assert done.returncode == 0, done.stderr
    sent = fal.created()
    assert sorted(app for app, _ in sent) == sorted([
        "fal-ai/kling-video/v2.6/pro/text-to-video", "fal-ai/kling-video/v2.6/pro/image-to-video",
        "fal-ai/kling-video/v2.6/pro/image-to-video", "fal-ai/kling-video/v2.6/pro/text-to-video"])
    inputs = {body["prompt"].split(".")[-1].strip(): body for _, body in sent}
    assert inputs["The gate opens"]["start_image_url"] == "https://example.com/gate.jpg"
    assert inputs["The door"]["start_image_url"].startswith("data:image/png;base64,")
    assert inputs["The door"]["end_image_url"] == "https://example.com/door-open.jpg"
    assert inputs["Bells ring over the town"]["generate_audio"] is True
    assert "camera_control" not in json.dumps(sent) and "external_task_id" not in json.dumps(sent)
    assert videos(film.parent) == sorted(SHOTS)
    assert fal.key not in done.stdout + done.stderr + (film.parent / "film.shot.state.json").read_text()
    again = run_fal(fal, film)
    assert again.returncode == 0, again.stderr
    assert len(fal.created()) == 4  # nothing paid again


@pytest.mark.parametrize("after", [1, 2, 3])
def test_killed_after_some_requests_a_run_resumes_and_pays_once_a_shot(fal: FakeFal, film: Path, after: int) -> None:
    process = start("run", str(film), "--backend", "fal", *FAST, env=fal.env())
    wait_for(lambda: fal.stats.create_requests >= after or process.poll() is not None)
    os.kill(process.pid, signal.SIGKILL)
    process.communicate(timeout=10)
    settled(fal)
    # A request the killed run sent and did not record is taken once fal lists it (it has ended);
    # one it recorded as being sent and was killed before sending is unknown to fal and to us:
    # it waits, never sent again on a guess, until the writer asks for it with --force.
    done = run_fal(fal, film)
    said = done.stdout + done.stderr
    unsure = [name for name in SHOTS if name not in videos(film.parent)]
    assert all(re.search(rf"^{name} +pending", said, re.M) for name in unsure), said
    assert ("unknown, not resubmitted" in said) == bool(unsure)
    paid = len(fal.created())
    if unsure:
        forced = run_fal(fal, film, *(arg for name in unsure for arg in ("--force", name)))
        assert forced.returncode == 0, forced.stderr + forced.stdout
        assert len(fal.created()) == paid + len(unsure)
    assert videos(film.parent) == sorted(SHOTS)
    prompts = [body["prompt"] for _, body in fal.created()]
    assert len(prompts) == len(set(prompts)) == 4, prompts  # each paid once


def settled(fal: FakeFal) -> None:
    """Once the requests fal got have all ended, and no more arrive."""
    def quiet() -> bool:
        before = len(fal.created())
        time.sleep(0.3)
        return len(fal.created()) == before and all(task["status"] == "COMPLETED" for task in fal.tasks())

    wait_for(quiet, 10)


def test_a_lost_answer_is_not_resubmitted_and_is_taken_once_fal_lists_it(fal: FakeFal, film: Path) -> None:
    fal.inject(FalFault("lose", on="submit", match="Bells"))
    first = run_fal(fal, film)
    assert first.returncode != 0
    assert "unknown, not resubmitted" in first.stdout + first.stderr
    assert len(fal.created()) == 4  # the lost one was made (and paid), once
    assert "bells" not in videos(film.parent)
    settled(fal)
    second = run_fal(fal, film)
    assert second.returncode == 0, second.stderr + second.stdout
    assert videos(film.parent) == sorted(SHOTS)
    assert len(fal.created()) == 4  # found in fal's listing by its input: not paid again


def test_a_request_fal_fails_is_failed_with_fals_reason_and_paid_once(fal: FakeFal, film: Path) -> None:
    fal.inject(FalFault("fail", on="submit", match="castle", message="content policy violation",
                        error_type="content_policy_violation"))
    done = run_fal(fal, film)
    assert done.returncode != 0
    assert "content policy violation" in done.stdout + done.stderr
    assert videos(film.parent) == ["bells", "door", "gate"]
    assert len(fal.created()) == 4


def test_without_a_key_nothing_is_sent(fal: FakeFal, film: Path) -> None:
    done = shotlang("run", str(film), "--backend", "fal", *FAST, env={"FAL_API_BASE": fal.url})
    assert done.returncode == 3 and "FAL_KEY" in done.stderr
    assert fal.created() == []


def test_a_wrong_key_stops_the_run_and_is_never_shown(fal: FakeFal, film: Path) -> None:
    done = shotlang("run", str(film), "--backend", "fal", *FAST, env={**fal.env(), "FAL_KEY": "wrong-key-123"})
    assert done.returncode == 3, done.stderr
    assert "wrong-key-123" not in done.stdout + done.stderr
    assert fal.created() == []


def test_plan_on_fal_prices_in_dollars_where_fal_gives_a_price(fal: FakeFal, film: Path) -> None:
    done = shotlang("plan", str(film), "--backend", "fal", "--json", env=fal.env())
    assert done.returncode == 0, done.stderr
    plan = json.loads(done.stdout)
    shots = {s["shot"]: s for s in plan["shots"]}
    assert shots["gate"]["usd"] == pytest.approx(0.35)  # v2.6 pro image-to-video, $0.07/s (fal's page)
    assert shots["gate"]["model"] == "kling-v2-6" and shots["gate"]["mode"] == "pro"
    assert "castle" in plan["unpriced_shots"]  # no price for v2.6 pro text-to-video: none guessed
    table = shotlang("plan", str(film), "--backend", "fal", env=fal.env())
    assert "at least $0.70 at fal's prices" in table.stdout, table.stdout
    over = shotlang("run", str(film), "--backend", "fal", "--max-cost", "5", env=fal.env())
    assert over.returncode == 2 and "US$" in over.stderr
    assert fal.created() == []


def test_status_on_fal_refreshes_from_fals_queue(fal: FakeFal, film: Path) -> None:
    assert run_fal(fal, film).returncode == 0
    done = shotlang("status", str(film), "--backend", "fal", "--json", env=fal.env())
    assert done.returncode == 0, done.stderr
    assert {row["shot"]: row["status"] for row in json.loads(done.stdout)} == dict.fromkeys(SHOTS, "succeed")


def test_status_asks_each_backend_only_about_its_own_requests(fal: FakeFal, film: Path) -> None:
    # Requests sent to fal and left in flight; `status` with Kling's backend asks Kling about none
    # of them (their ids are fal's, and the Kling token goes only to Kling), and says what is recorded.
    from shotlang.testing import FakeKling

    fal.inject(FalFault("hold", on="submit", times=None))
    start_run = start("run", str(film), "--backend", "fal", *FAST, env=fal.env())
    wait_for(lambda: len(fal.created()) == 4)
    os.kill(start_run.pid, signal.SIGKILL)
    start_run.communicate(timeout=10)
    with FakeKling(polls=1) as kling:
        done = shotlang("status", str(film), "--backend", "kling", "--json", env={**kling.env(), **fal.env()})
        assert done.returncode == 0, done.stderr
        assert kling.stats.queries == 0 and kling.stats.requests == 0
    assert {row["status"] for row in json.loads(done.stdout)} <= {"submitting", "submitted", "processing"}
    fal.release()
