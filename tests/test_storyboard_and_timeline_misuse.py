"""Attacks on the storyboard and the timeline: each test here failed when it was written,
because of the bug its docstring names."""

from __future__ import annotations

import base64
import re
import shutil
import struct
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import opentimelineio as otio
import pytest
from browser import Browser
from mp4s import box, mp4, mvhd
from runs import run as run_videos
from runs import shotlang as cli
from runs import shots_in

import shotlang
from shotlang.testing import FakeKling

ROOT = Path(__file__).resolve().parent.parent


class _Parsed(HTMLParser):
    """Every src/href of the page, and its text."""

    def __init__(self) -> None:
        super().__init__()
        self.addresses: list[tuple[str, str]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for key, value in attrs:
            if key in ("src", "href") and value is not None:
                self.addresses.append((tag, value))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parsed(html: str) -> _Parsed:
    page = _Parsed()
    page.feed(html)
    return page


def _video_sources(html: str) -> list[str]:
    return [value for tag, value in parsed(html).addresses if tag == "video"]


# --- storyboard ---------------------------------------------------------------------------------------


def test_a_video_folder_with_url_characters_is_linked_so_a_browser_finds_the_video(fake: FakeKling,
                                                                                   film: Path) -> None:
    """The <video src> is a relative URL written as a bare path: a folder named `take #2`
    makes everything after `#` a fragment (the browser asks for `take%20`, ERR_FILE_NOT_FOUND),
    and `?` or `%` break it the same way. It must be percent-encoded."""
    videos = film.parent / "take #2 ?v=1 100%"
    assert run_videos(fake, film, "--out", str(videos)).returncode == 0
    page = film.parent / "board.html"
    done = cli("storyboard", str(film), "-o", str(page), "--videos", str(videos), cwd=film.parent)
    assert done.returncode == 0, done.stderr
    sources = _video_sources(page.read_text())
    assert len(sources) == len(shots_in(film))
    for name, src in zip(shots_in(film), sources, strict=True):
        url = urlsplit(urljoin(page.resolve().as_uri(), src))  # as a browser resolves it
        assert url.fragment == "" and url.query == "", src
        assert Path(unquote(url.path)) == (videos / f"{name}.mp4").resolve(), src


def test_an_image_url_in_capitals_is_named_not_inlined_as_broken_data(tmp_path: Path) -> None:
    """The compiler takes `HTTPS://...` as a URL (its pattern ignores case) and sends it as
    is; the board tests `startswith("https://")` and so inlines the URL as if it were Base64:
    `data:image/jpeg;base64,HTTPS://example.com/q.jpg`, a broken image, and the URL never shown."""
    path = tmp_path / "u.shot"
    path.write_text('SHOT a: "x" pro model kling-v2-1 image "HTTPS://example.com/q.jpg" '
                    'tail "Https://example.com/t.jpg"\n')
    done = cli("storyboard", str(path), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    page = parsed((tmp_path / "u.storyboard.html").read_text())
    assert [value for _, value in page.addresses if "://" in value] == [], "an image URL made into an address"
    text = " ".join(page.text)
    assert "HTTPS://example.com/q.jpg" in text and "Https://example.com/t.jpg" in text


def test_a_sequences_start_image_is_inlined_once(tmp_path: Path) -> None:
    """A sequence's start image is drawn behind every one of its shots' diagrams: a copy of the
    whole Base64 image per shot (a 10 MB image and six shots: an 80 MB page), and behind shots
    that do not start from it."""
    shutil.copy(ROOT / "examples" / "images" / "portrait.png", tmp_path / "start.png")
    path = tmp_path / "seq.shot"
    path.write_text('MODEL kling-v3\nSEQUENCE chase: 15s pro image "start.png" moves words\n'
                    '    SHOT a1: slow pan right "A"\n    SHOT a2: "B"\n    SHOT a3: "C"\n'
                    '    SHOT a4: "D"\n    SHOT a5: "E"\n')
    done = cli("storyboard", str(path), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    html = (tmp_path / "seq.storyboard.html").read_text()
    payload = base64.b64encode((tmp_path / "start.png").read_bytes()).decode()
    assert html.count(payload) == 1


def test_a_jpeg_the_compiler_accepts_is_drawn_in_its_shape(tmp_path: Path) -> None:
    """storyboard.image_size walks a JPEG's segments by itself and does not know the markers
    with no length (a TEM, a restart, a repeated SOI) that images.inspect_image skips: a portrait
    JPEG the compiler accepts is drawn 16:9, its size unknown."""
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof0 = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, 1920, 1080, 1) + b"\x01\x11\x00"
    (tmp_path / "tall.jpg").write_bytes(b"\xff\xd8" + b"\xff\x01" + app0 + sof0 + b"\xff\xd9")
    path = tmp_path / "j.shot"
    path.write_text('SHOT a: slow pan right "x" model kling-v2-1 image "tall.jpg"\n')
    done = cli("storyboard", str(path), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    html = (tmp_path / "j.storyboard.html").read_text()
    assert "of the image (1080 × 1920)" in html
    width, height = (float(v) for v in re.search(r'class="diagram" viewBox="0 0 ([\d.]+) ([\d.]+)"', html).groups())  # type: ignore[union-attr]
    assert width < height, "a portrait frame"


@pytest.mark.parametrize("command", ["storyboard", "timeline", "compile"])
def test_writing_over_the_shot_list_itself_is_refused(tmp_path: Path, command: str) -> None:
    """`-o film.shot` (a slip of the hand, or tab completion) replaces the shot list, the only
    source, with HTML or OTIO JSON, and says it succeeded."""
    path = tmp_path / "film.shot"
    shutil.copy(ROOT / "examples" / "seed.shot", path)
    before = path.read_bytes()
    done = cli(command, str(path), "-o", str(path), cwd=tmp_path)
    assert path.read_bytes() == before, "the shot list was overwritten"
    assert done.returncode != 0 and "Traceback" not in done.stderr


def test_decompile_does_not_write_over_the_payload_it_reads(tmp_path: Path) -> None:
    payload = tmp_path / "bodies.json"
    payload.write_text('{"model_name": "kling-v2-6", "prompt": "x", "duration": "5"}')
    before = payload.read_bytes()
    done = cli("decompile", str(payload), "-o", str(payload), cwd=tmp_path)
    assert done.returncode == 2 and "will not write over" in done.stderr
    assert payload.read_bytes() == before


@pytest.mark.parametrize("command", ["storyboard", "timeline"])
def test_an_empty_output_path_is_an_error_not_a_traceback(tmp_path: Path, command: str) -> None:
    """`-o ""` (an unset shell variable: `-o "$OUT"`) reaches write_atomic as Path('.'), whose
    temporary name cannot be made: ValueError, and a traceback."""
    path = tmp_path / "film.shot"
    shutil.copy(ROOT / "examples" / "seed.shot", path)
    done = cli(command, str(path), "-o", "", cwd=tmp_path)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr, done.stderr[-300:]


@pytest.mark.parametrize("line", ['TITLE "THE_LIGHTHOUSE_KEEPER_DIRECTORS_CUT_V2"',
                                  'SCENE "INT._LAMP_ROOM_NIGHT_CONTINUOUS_TAKE"'])
def test_a_long_title_or_scene_name_does_not_widen_the_page_on_a_phone(chromium: Browser, tmp_path: Path,
                                                                        line: str) -> None:
    """The cards wrap anywhere, but the h1, the scene's h2 and the legend do not: one
    unbroken 38-character title or scene name makes the page 691 px wide at 375 px, and a
    phone shows it shrunk or scrolls it sideways."""
    path = tmp_path / "t.shot"
    path.write_text(f'{line}\nSHOT a: static "x"\n')
    board = tmp_path / "board.html"
    done = cli("storyboard", str(path), "-o", str(board), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    with chromium.page(375) as page:
        page.open(board)
        width, scroll = page.evaluate("[innerWidth, document.documentElement.scrollWidth]")
    assert width == 375 and scroll <= 375


# --- timeline -----------------------------------------------------------------------------------------


def timeline(film: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return cli("timeline", str(film), *args, cwd=film.parent)


@pytest.mark.parametrize(("fmt", "suffix"), [("edl", ".edl"), ("fcpxml", ".fcpxml")])
def test_scene_markers_reach_the_edl_and_fcpxml(fake: FakeKling, film: Path, fmt: str, suffix: str) -> None:
    """The scenes are markers on the track, which neither the CMX 3600 nor the FCP XML adapter
    writes: in two of the three formats the scene boundaries are lost (markers on each scene's
    first clip would survive both)."""
    assert run_videos(fake, film).returncode == 0
    out = film.parent / f"cut{suffix}"
    done = timeline(film, "--format", fmt, "-o", str(out))
    assert done.returncode == 0, done.stderr
    cut = otio.adapters.read_from_file(str(out))
    names = [m.name.upper() for track in cut.tracks for m in track.markers]
    names += [m.name.upper() for clip in cut.find_clips() for m in clip.markers]
    assert names == ["EXT. HEADLAND - DAWN", "INT. LAMP ROOM - NIGHT", "EXT. HEADLAND - MORNING AFTER"]


def test_in_fcpxml_a_shot_not_rendered_points_at_no_file(fake: FakeKling, film: Path) -> None:
    """A placeholder (a MissingReference) is written by the FCP XML adapter as an asset at
    `file:///tmp/<shot name>`: Final Cut links the shot to whatever /tmp/coda is, and read back
    the placeholder is a clip like any other."""
    assert run_videos(fake, film).returncode == 0
    film.write_text(film.read_text() + 'SHOT coda: static "The lamp goes dark" 5s\n')
    out = film.parent / "cut.fcpxml"
    done = timeline(film, "--format", "fcpxml", "-o", str(out))
    assert done.returncode == 0, done.stderr
    cut = otio.adapters.read_from_file(str(out))
    for clip in cut.find_clips():
        if isinstance(clip.media_reference, otio.schema.ExternalReference):
            target = Path(unquote(urlsplit(clip.media_reference.target_url).path))
            assert target == (film.parent / f"{clip.name}.mp4").resolve() and target.is_file(), clip.name
    assert "coda" not in [c.name for c in cut.find_clips()]
    output = shotlang.compile_file(film).output
    assert output is not None
    asked = sum(float(r["body"]["duration"]) for r in output.records)
    # The cut keeps its length: a gap where coda goes (the adapter's reader drops a gap at the
    # end of a sequence, so the written file is what is checked).
    written = out.read_text()
    assert f'<sequence duration="{asked:g}/1s"' in written and '<gap name="Gap" duration="5/1s" offset="75s"' in written


def test_edl_reel_names_tell_the_clips_apart(fake: FakeKling, tmp_path: Path) -> None:
    """CMX 3600 keeps 8 characters of a reel name, and the adapter makes it from the file
    name: `lighthouse-dawn.mp4` and `lighthouse-dusk.mp4` are both reel `lighthou`, both from
    source timecode 00:00:00:00, so an editor conforming the EDL cannot tell them apart."""
    film = tmp_path / "film.shot"
    film.write_text('SHOT lighthouse-dawn: slow pan right "Dawn"\nSHOT lighthouse-dusk: static "Dusk"\n')
    assert run_videos(fake, film).returncode == 0
    done = timeline(film, "--format", "edl")
    assert done.returncode == 0, done.stderr
    reels = re.findall(r"^\d{3}  (.{8}) ", film.with_suffix(".edl").read_text(), re.MULTILINE)
    assert len(reels) == 2 and len(set(reels)) == 2, reels


@pytest.mark.parametrize(("fmt", "character"), [("edl", "\u2028"), ("fcpxml", "\ufffe")])
def test_a_title_the_compiler_accepts_gives_a_cut_that_reads_back(tmp_path: Path, fmt: str,
                                                                  character: str) -> None:
    """TITLE with a LINE SEPARATOR (pasted from a word processor) is accepted, and the EDL's
    TITLE line breaks in two: OpenTimelineIO cannot read the file back (EDLParseError). With a
    noncharacter (U+FFFE) the FCP XML adapter produces XML that does not parse: a traceback."""
    film = tmp_path / "film.shot"
    film.write_text(f'TITLE "The{character}Keep"\nSHOT a: static "x"\n', encoding="utf-8")
    done = timeline(film, "--format", fmt)
    assert "Traceback" not in done.stderr, done.stderr[-300:]
    assert done.returncode == 0, done.stderr
    cut = otio.adapters.read_from_file(str(film.with_suffix(f".{fmt}")))  # it reads back
    assert cut.name == "The Keep"
    if fmt == "edl":  # not rendered: black in an EDL; in FCP XML a gap, which its reader drops at the end
        assert [c.name for c in cut.find_clips()] == ["a"]


@pytest.mark.parametrize(("header", "what"), [
    (box(b"moov", mvhd(1, 0xFFFFFFFE)), "136 years"),
    (box(b"moov", mvhd(0xFFFFFFFF, 1)), "a quarter of a nanosecond"),
    (box(b"moov", mvhd(1, 90_000)), "25 hours (past the EDL's 24-hour clock)"),
])
def test_a_movie_header_far_from_the_length_asked_does_not_set_the_clips_length(tmp_path: Path, header: bytes,
                                                                                what: str) -> None:
    """A video's length is taken from its header whatever it says: a server (or a damaged
    download) whose 5 s video claims to run 136 years makes a cut of 136 years, or one frame;
    past 24 hours the EDL's timecodes wrap and its clips land elsewhere. Kling's videos run
    within a fraction of a second of what was asked; a header far from it is not the length."""
    film = tmp_path / "film.shot"
    film.write_text('SHOT a: slow pan right "x" 5s\nSHOT b: static "y" 5s\n')
    served = box(b"ftyp", b"isom") + header  # downloaded by the run, so it is the video it recorded
    with FakeKling(polls=2, video=lambda body: served if body["prompt"] == "x" else mp4(5.041)) as fake:
        assert run_videos(fake, film).returncode == 0
    done = timeline(film)
    assert done.returncode == 0, done.stderr
    first, second = otio.adapters.read_from_file(str(film.with_suffix(".otio"))).find_clips()
    assert isinstance(first.media_reference, otio.schema.ExternalReference), "the file is the video"
    assert first.metadata["shotlang"]["seconds"]["file"] is not None, "its header was read"
    assert first.duration().to_seconds() == 5.0, what
    assert second.duration().rescaled_to(24).value == 121, "a believable header is taken"


def test_a_video_replaced_by_a_symlink_is_not_followed_out_of_its_folder(fake: FakeKling, tmp_path: Path) -> None:
    """`run` never takes a symlink for the downloaded video (state.video_matches: it fetches it
    again); the timeline follows it (is_file, then resolve()) and points the editor's clip at
    whatever file the link names, outside the videos' folder."""
    film = tmp_path / "project" / "film.shot"
    film.parent.mkdir()
    film.write_text('SHOT a: slow pan right "x"\nSHOT b: static "y"\n')
    assert run_videos(fake, film).returncode == 0
    elsewhere = tmp_path / "elsewhere" / "private.mp4"
    elsewhere.parent.mkdir()
    elsewhere.write_bytes(mp4(7.0))
    (film.parent / "a.mp4").unlink()
    (film.parent / "a.mp4").symlink_to(elsewhere)
    done = timeline(film)
    assert done.returncode == 0, done.stderr
    found = list(otio.adapters.read_from_file(str(film.with_suffix(".otio"))).find_clips())
    assert isinstance(found[1].media_reference, otio.schema.ExternalReference), "b is the file downloaded"
    assert isinstance(found[0].media_reference, otio.schema.MissingReference), "a is not rendered any more"
    for clip in found:
        reference = clip.media_reference
        if isinstance(reference, otio.schema.ExternalReference):
            target = Path(unquote(urlsplit(reference.target_url).path))
            assert target.parent == film.parent.resolve(), f"{clip.name} points at {target}"
