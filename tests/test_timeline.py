"""shotlang timeline (issue 12, item 4): after a run against the local Kling server, the cut is
written in each format and read back with OpenTimelineIO: every clip in place."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import opentimelineio as otio
import pytest
from mp4s import mp4
from runs import run as run_videos
from runs import shotlang as cli
from runs import shots_in

import shotlang
from shotlang.testing import FakeKling
from shotlang.tools.timeline import FORMATS as CUT_FORMATS

FORMATS = {name: suffix for name, (_, suffix) in CUT_FORMATS.items()}


def timeline(film: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return cli("timeline", str(film), *args, cwd=film.parent)


def durations(film: Path) -> list[float]:
    output = shotlang.compile_file(film).output
    assert output is not None
    return [float(r["body"]["duration"]) for r in output.records]


def clips(path: Path) -> list[otio.schema.Clip]:
    cut = otio.adapters.read_from_file(str(path))
    return list(cut.find_clips())


def test_after_a_run_the_otio_cut_has_every_clip_in_order(fake: FakeKling, film: Path) -> None:
    assert run_videos(fake, film).returncode == 0
    done = timeline(film)
    assert done.returncode == 0, done.stderr
    cut = otio.adapters.read_from_file(str(film.with_suffix(".otio")))
    found = list(cut.find_clips())
    assert [c.name for c in found] == shots_in(film)
    assert [c.duration().to_seconds() for c in found] == durations(film)
    for clip in found:
        target = Path(clip.media_reference.target_url.removeprefix("file://"))
        assert target == (film.parent / f"{clip.name}.mp4").resolve() and target.is_file()
        assert clip.metadata["shotlang"]["status"] == "succeed"
        assert clip.metadata["shotlang"]["body"]["prompt"]
    scenes = [(m.name, clip.range_in_parent().start_time.to_seconds()) for clip in found for m in clip.markers]
    assert scenes == [("EXT. HEADLAND - DAWN", 0.0), ("INT. LAMP ROOM - NIGHT", 25.0),
                      ("EXT. HEADLAND - MORNING AFTER", 55.0)], "each scene marked on its first clip"
    assert cut.duration().to_seconds() == sum(durations(film))
    assert fake.stats.creates == 8, "the timeline pays for nothing"


@pytest.mark.parametrize("fmt", ["otio", "edl"])
def test_each_clip_is_as_long_as_its_file_runs(film: Path, fmt: str) -> None:
    """Kling's videos run a little over the seconds asked for: the cut holds what the files hold."""
    with FakeKling(polls=2, video=lambda body: mp4(float(body["duration"]) + 0.041)) as fake:
        assert run_videos(fake, film).returncode == 0
    asked = durations(film)
    out = film.parent / f"cut{FORMATS[fmt]}"
    assert timeline(film, "--format", fmt, "-o", str(out)).returncode == 0
    cut = otio.adapters.read_from_file(str(out))  # kept: a clip's place is asked of its cut
    found = list(cut.find_clips())
    frames = [round((seconds + 0.041) * 24) for seconds in asked]
    assert [c.duration().rescaled_to(24).value for c in found] == frames
    assert frames != [s * 24 for s in asked], "the test tells the two apart"
    if fmt == "otio":
        assert [c.media_reference.available_range.duration.value for c in found] == frames
        assert [c.metadata["shotlang"]["seconds"]["file"] for c in found] == pytest.approx([s + 0.041 for s in asked])
        starts = [c.range_in_parent().start_time.value for c in found if c.markers]
        assert starts == [0, sum(frames[:3]), sum(frames[:6])], "the scenes start where their clips do"
    assert fake.stats.creates == 8


def test_a_shot_changed_since_its_render_keeps_its_videos_own_length(film: Path) -> None:
    with FakeKling(polls=2, video=lambda body: mp4(float(body["duration"]) + 0.041)) as fake:
        assert run_videos(fake, film).returncode == 0
    film.write_text(film.read_text().replace('at his beard" 5s', 'at his beard" 10s'))
    assert durations(film)[1] == 10.0, "approach now asks 10 s; its video runs 5.041"
    assert timeline(film).returncode == 0
    cut = otio.adapters.read_from_file(str(film.with_suffix(".otio")))
    approach = list(cut.find_clips())[1]
    assert approach.name == "approach" and approach.duration().rescaled_to(24).value == 121
    assert approach.metadata["shotlang"]["changed since its render"] is True
    assert [c.metadata["shotlang"]["changed since its render"] for c in cut.find_clips()].count(True) == 1


def test_a_shot_not_rendered_keeps_its_place_and_length(fake: FakeKling, film: Path) -> None:
    assert run_videos(fake, film).returncode == 0
    film.write_text(film.read_text() + 'SHOT coda: static "The lamp goes dark" 5s\n')
    assert timeline(film).returncode == 0
    last = clips(film.with_suffix(".otio"))[-1]
    assert last.name == "coda" and last.duration().to_seconds() == 5.0
    assert isinstance(last.media_reference, otio.schema.MissingReference)
    assert last.metadata["shotlang"]["status"] == "not rendered"


def test_before_any_run_every_clip_is_a_placeholder(film: Path) -> None:
    assert timeline(film).returncode == 0
    found = clips(film.with_suffix(".otio"))
    assert len(found) == 8 and all(isinstance(c.media_reference, otio.schema.MissingReference) for c in found)


@pytest.mark.parametrize("fmt", ["edl", "fcpxml"])
def test_edl_and_fcpxml_read_back_with_every_clip(fake: FakeKling, film: Path, fmt: str) -> None:
    assert run_videos(fake, film).returncode == 0
    out = film.parent / "cuts" / f"cut{FORMATS[fmt]}"
    done = timeline(film, "--format", fmt, "-o", str(out))
    assert done.returncode == 0, done.stderr
    found = clips(out)
    assert [c.name for c in found] == shots_in(film)
    assert [round(c.duration().to_seconds(), 3) for c in found] == durations(film)


def test_a_shot_list_with_errors_gets_no_timeline(tmp_path: Path) -> None:
    bad = tmp_path / "bad.shot"
    bad.write_text('SHOT a: pan rigt "x"\n')
    done = timeline(bad)
    assert done.returncode == 1 and "error[E200]" in done.stderr and not bad.with_suffix(".otio").exists()


def test_without_opentimelineio_one_line_says_how_to_install_it(film: Path) -> None:
    hidden = ("import sys; sys.modules['opentimelineio'] = None; sys.argv = ['shotlang', 'timeline', sys.argv[1]]; "
              "from shotlang.__main__ import main; main()")
    done = subprocess.run([sys.executable, "-c", hidden, str(film)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "pip install 'shotlang[timeline]'" in done.stderr
    assert "Traceback" not in done.stderr


def test_axes_and_videos_are_those_run_was_given(fake: FakeKling, film: Path) -> None:
    """After `run --axes official --out takes`, the cut needs both to find every video as rendered."""
    takes = film.parent / "takes"
    assert run_videos(fake, film, "--axes", "official", "--out", str(takes)).returncode == 0
    assert timeline(film, "--videos", str(takes)).returncode == 0
    by_seed = clips(film.with_suffix(".otio"))
    assert any(c.metadata["shotlang"]["changed since its render"] for c in by_seed), "read under seed: changed"
    assert timeline(film, "--videos", str(takes), "--axes", "official").returncode == 0
    found = clips(film.with_suffix(".otio"))
    assert not any(c.metadata["shotlang"]["changed since its render"] for c in found)
    for clip in found:
        target = Path(clip.media_reference.target_url.removeprefix("file://"))
        assert target == (takes / f"{clip.name}.mp4").resolve()
    assert fake.stats.creates == 8
