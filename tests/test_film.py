"""examples/film.shot, the "Making a film" chapter's example, run through the CLI against the
local server: a cast of two, a chain of three continuing shots, a shot of three takes."""

from __future__ import annotations

import base64
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import opentimelineio as otio
import pytest
from runs import EXAMPLES, kill_run_after, run, shotlang
from test_continuity import _near, _rgb

from shotlang.compiler import kling
from shotlang.testing import FakeKling
from shotlang.testing.videos import colors

SHOTS = {"arrival", "lamp-room", "lamp", "beam", "beam.take-2", "beam.take-3"}


@pytest.fixture
def fake() -> Iterator[FakeKling]:
    with FakeKling(polls=2, real_videos=True) as server:
        yield server


@pytest.fixture
def film(tmp_path: Path) -> Path:
    shutil.copytree(EXAMPLES / "images", tmp_path / "images")
    shutil.copy(EXAMPLES / "film.shot", tmp_path / "film.shot")
    return tmp_path / "film.shot"


def _state(film: Path) -> dict[str, dict]:
    return json.loads((film.parent / "film.shot.state.json").read_text())["shots"]


def _paid_once(fake: FakeKling) -> None:
    """One create per element and per take: two elements, six videos, each id used once."""
    made = fake.created()
    assert sorted(b["element_name"] for e, b in made if e == kling.ELEMENTS) == ["dog", "keeper"]
    videos = [b["external_task_id"] for e, b in made if e != kling.ELEMENTS]
    assert len(videos) == len(set(videos)) == 6
    assert fake.stats.creates == 8 and all(n == 1 for n in fake.stats.by_external_id.values())


def test_the_film_runs_each_element_and_take_once_in_order(fake: FakeKling, film: Path) -> None:
    done = run(fake, film)
    assert done.returncode == 0, done.stdout + done.stderr
    _paid_once(fake)
    state = _state(film)
    assert set(state) == SHOTS | {"@keeper", "@dog"}
    ids = {n: s["element_id"] for n, s in state.items() if n.startswith("@")}
    bodies = {b["external_task_id"].rsplit("-", 2)[0]: (e, b) for e, b in fake.created() if e != kling.ELEMENTS}
    # arrival names both; lamp-room continues arrival by its video; lamp starts from lamp-room's last frame.
    endpoint, arrival = bodies["arrival"]
    assert endpoint == kling.OMNI_VIDEO and arrival["element_list"] == [{"element_id": ids["@keeper"]},
                                                                       {"element_id": ids["@dog"]}]
    endpoint, room = bodies["lamp-room"]
    assert room["video_list"][0]["video_url"] == f"{fake.url}/videos/{state['arrival']['task_id']}.mp4"
    assert room["prompt"].startswith(kling.NEXT_SHOT) and room["element_list"] == [{"element_id": ids["@keeper"]}]
    endpoint, lamp = bodies["lamp"]
    assert endpoint == kling.IMAGE2VIDEO and lamp["element_list"] == [{"element_id": ids["@keeper"]}]
    frame = base64.b64decode(lamp["image"])
    assert _near(_rgb(frame, 10, 5), colors(state["lamp-room"]["task_id"])[1])
    # three takes of beam, each its own request and file
    assert {p.name for p in film.parent.glob("beam*.mp4")} == {"beam.mp4", "beam.take-2.mp4", "beam.take-3.mp4"}

    again = run(fake, film)
    assert again.returncode == 0 and fake.stats.creates == 8  # a re-run pays nothing


def test_force_adds_a_take_and_pick_changes_what_the_storyboard_and_the_timeline_use(
        fake: FakeKling, film: Path) -> None:
    assert run(fake, film).returncode == 0
    first = (film.parent / "beam.mp4").read_bytes()
    forced = run(fake, film, "--force", "beam")
    assert forced.returncode == 0 and fake.stats.creates == 9
    assert (film.parent / "beam.mp4").read_bytes() == first  # never replaced
    assert (film.parent / "beam.take-4.mp4").is_file()

    picked = shotlang("pick", str(film), "beam", "4", env=fake.env())
    assert picked.returncode == 0, picked.stderr
    assert "takes 4 pick 4" in film.read_text()
    state = _state(film)
    assert state["beam.take-4"]["file"] == "beam.mp4" and state["beam"]["file"] == "beam.take-1.mp4"
    assert (film.parent / "beam.take-1.mp4").read_bytes() == first

    board = shotlang("storyboard", str(film), "-o", str(film.parent / "board.html"))
    assert board.returncode == 0, board.stderr
    page = (film.parent / "board.html").read_text()
    assert 'aria-label="take 4 (chosen) of beam"' in page and 'src="beam.take-1.mp4"' in page
    cut = shotlang("timeline", str(film), "-o", str(film.parent / "cut.otio"))
    assert cut.returncode == 0, cut.stderr
    items = list(otio.adapters.read_from_file(str(film.parent / "cut.otio")).tracks[0])
    beams = [c for c in items if c.name == "beam"]
    assert len(beams) == 1, [(type(c).__name__, c.name) for c in items]
    [clip] = beams
    assert clip.active_media_reference_key == "take-4"
    assert clip.media_reference.target_url.endswith("/beam.mp4")
    assert sorted(clip.media_references()) == ["take-1", "take-2", "take-3", "take-4"]
    assert run(fake, film).returncode == 0 and fake.stats.creates == 9  # the pick pays nothing


@pytest.mark.parametrize("after", [1, 3, 5, 7])
def test_a_kill_9_at_any_point_then_a_rerun_pays_nothing_twice(fake: FakeKling, film: Path, after: int) -> None:
    kill_run_after(fake, film, after)
    done = run(fake, film)
    assert done.returncode == 0, done.stdout + done.stderr
    _paid_once(fake)
    assert {p.stem for p in film.parent.glob("*.mp4")} == SHOTS
