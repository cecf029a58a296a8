"""shotlang timeline (issue 12, item 4): after a run against the local Kling server, the cut is
written in each format and read back with OpenTimelineIO: every clip in place."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path
from urllib.parse import unquote, urlsplit
from xml.etree import ElementTree

import opentimelineio as otio
import pytest
from mp4s import mp4
from runs import ROOT, shots_in
from runs import run as run_videos
from runs import shotlang as cli

import shotlang
from shotlang.testing import FakeKling
from shotlang.tools.timeline import FORMATS as CUT_FORMATS

FORMATS = {name: cut.suffix for name, cut in CUT_FORMATS.items()}


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


# --- Final Cut Pro 7 XML (xmeml), which Premiere reads (issue 23, item 5) ------------------------


def xmeml(path: Path) -> tuple[ElementTree.Element, list[ElementTree.Element], list[ElementTree.Element]]:
    """The sequence of an FCP 7 XML file, its video clipitems, and each one's file element (a
    file written once and then named by its id alone, as the format does, is looked up)."""
    root = ElementTree.parse(path).getroot()
    assert root.tag == "xmeml"
    [sequence] = root.iter("sequence")
    [track] = sequence.findall("media/video/track")
    items = track.findall("clipitem")
    whole = {f.get("id"): f for f in root.iter("file") if len(f)}
    return sequence, items, [whole[i.find("file").get("id")] for i in items]  # type: ignore[union-attr]


def numbers(element: ElementTree.Element, *tags: str) -> tuple[int, ...]:
    return tuple(int(element.findtext(tag) or "nan") for tag in tags)


def test_xmeml_has_a_clipitem_per_shot_at_24_fps_pointing_at_its_video(film: Path) -> None:
    with FakeKling(polls=2, video=lambda body: mp4(float(body["duration"]) + 0.041)) as fake:
        assert run_videos(fake, film).returncode == 0
    done = timeline(film, "--format", "xmeml")
    assert done.returncode == 0, done.stderr
    written = film.with_suffix(".xml")
    sequence, items, files = xmeml(written)
    frames = [round((seconds + 0.041) * 24) for seconds in durations(film)]  # as long as the files run
    starts = [sum(frames[:k]) for k in range(len(frames))]
    assert sequence.findtext("name") == "The Keeper"
    assert (sequence.findtext("rate/timebase"), sequence.findtext("rate/ntsc")) == ("24", "FALSE")
    assert numbers(sequence, "duration") == (sum(frames),)
    assert [item.findtext("name") for item in items] == shots_in(film)
    assert [numbers(item, "start", "end", "in", "out", "duration") for item in items] == [
        (start, start + length, 0, length, length) for start, length in zip(starts, frames, strict=True)]
    assert {(item.findtext("rate/timebase"), item.findtext("rate/ntsc")) for item in items} == {("24", "FALSE")}
    for item, file in zip(items, files, strict=True):
        url = urlsplit(file.findtext("pathurl") or "")
        assert (url.scheme, url.netloc) == ("file", "localhost"), "the form Final Cut Pro 7 and Premiere write"
        target = Path(unquote(url.path))
        assert target == (film.parent / f"{item.findtext('name')}.mp4").resolve() and target.is_file()
        assert file.findtext("name") == target.name
        assert numbers(file, "duration") == numbers(item, "out")
    scenes = [(marker.findtext("name"), numbers(item, "start")[0]) for item in items for marker in item.iter("marker")]
    assert scenes == [("EXT. HEADLAND - DAWN", 0), ("INT. LAMP ROOM - NIGHT", starts[3]),
                      ("EXT. HEADLAND - MORNING AFTER", starts[6])]
    # And OpenTimelineIO's own reader (by the suffix) reads the same cut back.
    found = list(otio.adapters.read_from_file(str(written)).find_clips())
    assert [c.name for c in found] == shots_in(film)
    assert [c.duration().rescaled_to(24).value for c in found] == frames
    assert [Path(unquote(urlsplit(c.media_reference.target_url).path)) for c in found] == [
        (film.parent / f"{name}.mp4").resolve() for name in shots_in(film)]


def test_in_xmeml_a_shot_not_rendered_is_an_offline_file_of_its_own(film: Path) -> None:
    """Before any run every clip is a placeholder. The adapter writes a missing reference as a file
    with no path and no name, and writes the first of equal ones whole and the others by its id:
    the six 10-second shots would be one nameless offline file in Premiere."""
    out = film.parent / "cut.xml"
    done = timeline(film, "-o", str(out))  # the suffix says which format
    assert done.returncode == 0, done.stderr
    sequence, items, files = xmeml(out)
    assert [item.findtext("name") for item in items] == shots_in(film)
    assert len({item.find("file").get("id") for item in items}) == len(items)  # type: ignore[union-attr]
    assert [file.findtext("name") for file in files] == [f"{name}.mp4" for name in shots_in(film)]
    assert all(file.find("pathurl") is None for file in files), "offline: no path to a file that is not the video"
    assert numbers(sequence, "duration") == (sum(durations(film)) * 24,)
    found = list(otio.adapters.read_from_file(str(out)).find_clips())
    assert all(isinstance(c.media_reference, otio.schema.MissingReference) for c in found)
    assert [c.duration().to_seconds() for c in found] == durations(film)


def test_xmeml_cuts_the_chosen_take_and_carries_any_title(fake: FakeKling, tmp_path: Path) -> None:
    film = tmp_path / "film.shot"
    film.write_text('TITLE "C\u00f4te\u2028& <Nuit>"\nSHOT a: slow pan right "x" 5s takes 2 pick 2\n'
                    'SHOT b: static "y" 5s\n', encoding="utf-8")
    assert run_videos(fake, film).returncode == 0
    assert timeline(film, "--format", "xmeml").returncode == 0
    assert timeline(film, "--format", "otio").returncode == 0
    sequence, items, files = xmeml(film.with_suffix(".xml"))
    assert sequence.findtext("name") == "C\u00f4te & <Nuit>", "a line separator is a space; XML escapes the rest"
    chosen = [c.media_reference.target_url for c in otio.adapters.read_from_file(str(film.with_suffix(".otio"))).find_clips()]
    assert [urlsplit(file.findtext("pathurl") or "").path for file in files] == [urlsplit(url).path for url in chosen]
    assert [Path(urlsplit(url).path).name for url in chosen] == ["a.mp4", "b.mp4"]


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_the_output_suffix_chooses_the_format(film: Path, fmt: str) -> None:
    """Before, `-o cut.edl` without --format wrote OpenTimelineIO's JSON into cut.edl."""
    out = film.parent / f"cut{FORMATS[fmt]}"
    done = timeline(film, "-o", str(out))
    assert done.returncode == 0, done.stderr
    opening = {"otio": '{\n    "OTIO_SCHEMA": "Timeline', "edl": "TITLE: The Keeper", "fcpxml": "<fcpxml",
               "xmeml": "<xmeml"}[fmt]
    assert opening in out.read_text()[:200]


@pytest.mark.parametrize("fmt", ["edl", "fcpxml", "xmeml"])
def test_without_the_formats_adapter_one_line_says_how_to_install_it(film: Path, fmt: str) -> None:
    """Each adapter is a package of its own: OpenTimelineIO alone (or shotlang[timeline] installed
    before xmeml) has none of them, and the adapter's absence was an error listing every plugin."""
    done = cli("timeline", str(film), "--format", fmt, env={"OTIO_DISABLE_ENTRYPOINTS_PLUGINS": "1"}, cwd=film.parent)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert f"({CUT_FORMATS[fmt].package})" in done.stderr and "pip install 'shotlang[timeline]'" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and not film.with_suffix(FORMATS[fmt]).exists()


def test_each_formats_adapter_is_in_the_timeline_extra_and_the_test_dependencies() -> None:
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["optional-dependencies"]
    packages = {cut.package for cut in CUT_FORMATS.values() if cut.package is not None}
    for extra in ("timeline", "test"):
        assert packages <= {re.split(r"[<>=!~;\[ ]", requirement)[0] for requirement in extras[extra]}, extra
