"""shotlang storyboard: the shot list as one self-contained HTML page (issue 12, items 1 to 3),
read here as HTML; tests/test_browser.py looks at it in a real browser."""

from __future__ import annotations

import base64
import re
import struct
import subprocess
import time
import zlib
from html.parser import HTMLParser
from pathlib import Path

import pytest
from helpers import png
from hypothesis import given
from hypothesis import strategies as st
from mp4s import mp4
from runs import run as run_videos
from runs import shotlang as cli
from runs import shots_in

import shotlang
from shotlang.compiler.vocabulary import MOVES, Move
from shotlang.testing import FakeKling, Fault
from shotlang.tools.storyboard import _DRAWN, image_size, storyboard

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.shot"))


class _Page(HTMLParser):
    """What a test looks at: the cards, the diagrams and their text, every address the page names."""

    def __init__(self) -> None:
        super().__init__()
        self.cards: list[str] = []
        self.diagrams: list[str] = []
        self.addresses: list[str] = []
        self.scripts = 0
        self.timeline: list[str] = []
        self._in_timeline = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "article":
            self.cards.append(found.get("id") or "")
        if tag == "svg" and found.get("class") == "diagram":
            self.diagrams.append(found.get("aria-label") or "")
        if tag == "script":
            self.scripts += 1
        if tag == "nav":
            self._in_timeline = True
        if tag == "a" and self._in_timeline:
            self.timeline.append(found.get("href") or "")
        for key in ("src", "href"):
            value = found.get(key)
            if value is not None:
                self.addresses.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag == "nav":
            self._in_timeline = False


def page(path: Path) -> tuple[str, _Page]:
    board = storyboard(path.read_text(encoding="utf-8"), str(path), path.parent)
    assert board.html is not None, [d.code for d in board.diagnostics]
    parsed = _Page()
    parsed.feed(board.html)
    return board.html, parsed


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_video_has_a_card_a_diagram_and_a_place_on_the_timeline(path: Path) -> None:
    html, parsed = page(path)
    output = shotlang.compile_file(path).output
    assert output is not None
    names = [r["name"] for r in output.records]
    assert parsed.cards == [f"shot-{n}" for n in names]
    assert parsed.timeline == [f"#shot-{n}" for n in names]
    shots = sum(len(r.get("shots", [])) or 1 for r in output.records)
    assert len(parsed.diagrams) == shots and all(parsed.diagrams), "a drawing, with words, for every shot"


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_before_a_run_the_page_asks_no_other_host_and_has_no_script(path: Path) -> None:
    html, parsed = page(path)
    assert parsed.scripts == 0
    assert all(a.startswith(("#", "data:image/")) for a in parsed.addresses), parsed.addresses
    assert "@import" not in html and "url(http" not in html


def test_a_card_says_what_is_sent() -> None:
    html, parsed = page(ROOT / "examples" / "seed.shot")
    assert "slow pan right: pan right, strength 5 of 10" in parsed.diagrams
    assert "tilt up 8: tilt up, strength 8 of 10" in parsed.diagrams
    assert "camera_control.config.horizontal = 5" in html
    assert "A medieval castle on a cliff at sunrise, fog in the valley below" in html
    assert "Kling camera control: cinematic shot examples" in html


def test_a_sequence_is_one_card_with_a_strip_of_its_shots() -> None:
    html, parsed = page(ROOT / "examples" / "chase.shot")
    assert parsed.cards == ["shot-chase", "shot-aftermath"]
    assert html.count('class="strip"') == 2


def test_local_images_are_inlined_and_urls_only_named() -> None:
    html, parsed = page(ROOT / "examples" / "harbour.shot")
    assert any(a.startswith("data:image/") for a in parsed.addresses)
    assert "https://example.com/quay.jpg" in html and 'src="https://' not in html


def test_warnings_show_on_their_card(tmp_path: Path) -> None:
    path = tmp_path / "w.shot"
    path.write_text('SHOT a: pan right 1 "x"\nSHOT b: pan left "y"\n')
    html, _ = page(path)
    card_a = html[html.index('id="shot-a"') : html.index('id="shot-b"')]
    assert "W100" in card_a and "W100" not in html[html.index('id="shot-b"') :]


@pytest.mark.slow
def test_board_time_grows_linearly_with_warnings() -> None:
    """Each card looked through every warning of the file: 10,000 shots of the benchmark took
    8.5 s (compile: 0.55 s). A ratio, not a time: 8 times the shots may take 8 times as long,
    not 64."""

    def seconds(shots: int) -> float:
        text = "".join(f'SHOT s{i}: pan right 1 "x"\n' for i in range(shots))  # W100 on every shot
        best = float("inf")
        for _ in range(3):
            began = time.perf_counter()
            board = storyboard(text, "t.shot", ROOT)
            best = min(best, time.perf_counter() - began)
        assert board.html is not None and board.html.count("W100") == shots
        return best

    small, large = seconds(300), seconds(2400)
    assert large < 24 * small, (small, large)


@pytest.mark.parametrize(("move", "drawn"), [
    ("pan right", "<line"), ("dolly left", "stroke-dasharray"), ("roll clockwise", "<path"),
    ("zoom in", 'class="nest"'), ("pull back", 'class="nest"'), ("crane down and back", "<path"),
    ("static", 'class="still"'), ("", 'class="free"'),
])
def test_each_kind_of_move_has_its_drawing(tmp_path: Path, move: str, drawn: str) -> None:
    path = tmp_path / "m.shot"
    path.write_text(f'SHOT a: {move} "x"\n')
    html, parsed = page(path)
    svg = html[html.index('<svg class="diagram"') :]
    svg = svg[: svg.index("</svg>")]
    assert drawn in svg and (move or "no camera move given") in parsed.diagrams[0]


@pytest.mark.parametrize("axes", ["seed", "official"])
@pytest.mark.parametrize("move", [m for m in MOVES if not m.is_static], ids=lambda m: m.name)
def test_every_move_is_drawn_as_itself_under_either_axes(tmp_path: Path, move: Move, axes: str) -> None:
    """Every move of the vocabulary has its own drawing (none falls back to another's), and the
    card says which field the file's AXES sends it to."""
    assert move.preset or move.name in _DRAWN, f"{move.name} has no drawing"
    path = tmp_path / "m.shot"
    path.write_text(f'AXES {axes}\nSHOT a: {move.name} "x"\n')
    html, parsed = page(path)
    assert parsed.diagrams[0].startswith(move.name)
    axis = getattr(move, axes)
    if axis is not None:
        sign = "" if axis.sign > 0 else "-"
        assert f"camera_control.config.{axis.field} = {sign}" in html
    else:
        assert f"camera_control type &quot;{move.preset}&quot;" in html


def test_the_arrow_grows_with_the_strength(tmp_path: Path) -> None:
    def length(strength: int) -> float:
        path = tmp_path / f"s{strength}.shot"
        path.write_text(f'SHOT a: pan right {strength} "x"\n')
        html, _ = page(path)
        x1, x2 = (float(v) for v in re.findall(r'x[12]="([\d.]+)"', html)[:2])
        return x2 - x1

    assert 0 < length(2) < length(5) < length(10)


def test_the_frame_has_the_shots_aspect(tmp_path: Path) -> None:
    path = tmp_path / "a.shot"
    path.write_text('SHOT a: pan right "x" 9:16\n')
    html, _ = page(path)
    width, height = (float(v) for v in re.search(r'class="diagram" viewBox="0 0 ([\d.]+) ([\d.]+)"', html).groups())  # type: ignore[union-attr]
    assert width / height == pytest.approx(9 / 16, rel=0.01)


def test_an_image_shot_is_drawn_in_the_images_shape() -> None:
    html, _ = page(ROOT / "examples" / "harbour.shot")
    mender = html[html.index('id="shot-net-mender"') :]
    width, height = (float(v) for v in re.search(r'class="diagram" viewBox="0 0 ([\d.]+) ([\d.]+)"', mender).groups())  # type: ignore[union-attr]
    assert width / height == pytest.approx(360 / 640, rel=0.01), "portrait.png is 360 x 640"
    assert "of the image (360 × 640)" in mender
    drawing = mender[mender.index("<svg") : mender.index("</svg>")]
    assert '<image href="data:image/png;base64,' in drawing, "the move is drawn over the start image"
    web = html[html.index('id="shot-quay-from-web"') :]
    assert "<image" not in web[: web.index("</svg>")], "a URL is not fetched, not even for the drawing"


def _jpeg(width: int, height: int) -> bytes:
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof2 = b"\xff\xc2" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + app0 + b"\xff\xff" + sof2 + b"\xff\xd9"


def test_image_sizes_are_read_from_png_and_jpeg_headers() -> None:
    png = base64.b64encode((ROOT / "examples" / "images" / "portrait.png").read_bytes()).decode()
    assert image_size(png) == (360, 640)
    assert image_size(base64.b64encode(_jpeg(1024, 768)).decode()) == (1024, 768), "a progressive JPEG, a fill byte"
    for nothing in ("https://example.com/a.jpg", "not base64!", base64.b64encode(b"GIF89a....").decode(),
                    base64.b64encode(_jpeg(0, 768)).decode(), base64.b64encode(b"\xff\xd8\xff\xe0\x00").decode()):
        assert image_size(nothing) is None, nothing


@given(st.binary(max_size=64) | st.builds(lambda tail: b"\xff\xd8" + tail, st.binary(max_size=64)))
def test_image_size_reads_any_bytes_without_failing(data: bytes) -> None:
    size = image_size(base64.b64encode(data).decode())
    assert size is None or (size[0] > 0 and size[1] > 0)


def test_text_is_escaped(tmp_path: Path) -> None:
    path = tmp_path / "e.shot"
    path.write_text('TITLE "<b>T</b>"\nSHOT a: "<script>alert(1)</script> & more"\n')
    html, parsed = page(path)
    assert "<script>" not in html and "&lt;script&gt;" in html and parsed.scripts == 0


# --- masks and motion paths (issue 23, item 5) ----------------------------------------------------------


def _mask(width: int, height: int, left: int, top: int, right: int, bottom: int) -> bytes:
    """A greyscale PNG, white inside the box (as Kling's brush masks are) and black around it."""
    rows = b"".join(b"\x00" + bytes(255 if top <= y < bottom and left <= x < right else 0 for x in range(width))
                    for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


class _Brush(HTMLParser):
    """One card's motion brush: the image under it, its SVG, masks, overlays, paths and legend."""

    def __init__(self) -> None:
        super().__init__()
        self.img: dict[str, str | None] = {}
        self.viewbox: list[str] = []
        self.masks: dict[str, str] = {}  # mask id -> the image it is made of
        self.overlays: list[tuple[str, str]] = []  # (the mask id it takes, its colour)
        self.paths: list[list[tuple[int, int]]] = []
        self.colours: list[str] = []  # each path's
        self.starts: list[tuple[int, int]] = []
        self.heads: list[str] = []
        self.legend: list[str] = []
        self._mask: str | None = None
        self._item = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        if tag == "img" and not self.viewbox:
            self.img = dict(attrs)
        elif tag == "svg" and found.get("class") == "masks":
            self.viewbox.append(found["viewbox"])  # html.parser lowers attribute names
        elif tag == "mask":
            self._mask = found["id"]
        elif tag == "image" and self._mask is not None:
            self.masks[self._mask] = found["href"]
        elif tag == "rect" and found.get("class") == "area":
            self.overlays.append((found["mask"].removeprefix("url(#").removesuffix(")"), found["fill"]))
        elif tag == "g" and found.get("class") == "path":
            self.colours.append(found["style"].removeprefix("color:"))
        elif tag == "polyline":
            self.paths.append([(int(x), int(y)) for x, y in (p.split(",") for p in found["points"].split())])
        elif tag == "circle" and found.get("class") == "start":
            self.starts.append((int(found["cx"]), int(found["cy"])))
        elif tag == "path" and found.get("class") == "head":
            self.heads.append(found["d"])
        elif tag == "li":
            self.legend.append("")
            self._item = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "mask":
            self._mask = None
        if tag == "li":
            self._item = False

    def handle_data(self, data: str) -> None:
        if self._item:
            self.legend[-1] += data


def _card_of(html: str, name: str) -> str:
    card = html[html.index(f'id="shot-{name}"') :]
    return card[: card.index("</article>")]


def _brush(html: str, name: str) -> _Brush:
    parsed = _Brush()
    parsed.feed(_card_of(html, name))
    return parsed


BRUSHED = """SHOT brushed: "The kite climbs, the dog runs off, the fence stays" model kling-v1 image "start.png"
    mask "fence.png"
    motion "kite.png" (100, 300) (200, 340) (320, 360)
    motion "dog.png" (500, 60) (420, 80) (300, 70) (300, 70)
SHOT plain: slow pan right "The same field, no brush" model kling-v2-1 image "start.png"
"""


def _brushed(tmp_path: Path) -> Path:
    (tmp_path / "start.png").write_bytes(png(640, 400))
    (tmp_path / "fence.png").write_bytes(_mask(640, 400, 0, 300, 640, 400))
    (tmp_path / "kite.png").write_bytes(_mask(640, 400, 80, 40, 140, 110))
    (tmp_path / "dog.png").write_bytes(_mask(640, 400, 470, 300, 560, 360))
    path = tmp_path / "brush.shot"
    path.write_text(BRUSHED)
    return path


def test_masks_and_motion_paths_are_drawn_over_the_start_image_at_its_pixels(tmp_path: Path) -> None:
    html, _ = page(_brushed(tmp_path))
    drawn = _brush(html, "brushed")
    inlined = {name: "data:image/png;base64," + base64.b64encode((tmp_path / name).read_bytes()).decode()
               for name in ("start.png", "fence.png", "kite.png", "dog.png")}
    assert drawn.img["src"] == inlined["start.png"] and (drawn.img["width"], drawn.img["height"]) == ("640", "400")
    assert drawn.viewbox == ["0 0 640 400"], "one SVG over the image, in the image's own pixels"
    assert html.count(inlined["start.png"]) == 2, "once on each card: under the masks, not again behind the move"
    # each mask an overlay of its own colour, in order: the static one, then each motion's
    assert [drawn.masks[mask] for mask, _ in drawn.overlays] == [inlined[n] for n in ("fence.png", "kite.png", "dog.png")]
    colours = [colour for _, colour in drawn.overlays]
    assert len(set(colours)) == 3
    # each path in the points written, its y counted from the top as SVG counts (Kling: from the bottom)
    assert drawn.paths == [[(100, 100), (200, 60), (320, 40)], [(500, 340), (420, 320), (300, 330), (300, 330)]]
    assert drawn.colours == colours[1:], "a path in the colour of its mask"
    assert drawn.starts == [(100, 100), (500, 340)], "a dot where each path starts"
    assert [d.split(" L ")[0] for d in drawn.heads] == ["M 320 40", "M 300 330"], "one arrowhead at each path's end"
    assert drawn.legend == ["stays still", "moves along path 1, from (100, 300) to (320, 360)",
                            "moves along path 2, from (500, 60) to (300, 70)"]


def test_a_shot_without_masks_has_no_overlay(tmp_path: Path) -> None:
    html, _ = page(_brushed(tmp_path))
    plain = _card_of(html, "plain")
    assert "<figure" not in plain and "<mask" not in plain and "<polyline" not in plain
    drawing = plain[plain.index('<svg class="diagram"') :]
    assert '<image href="data:image/png;base64,' in drawing[: drawing.index("</svg>")], "the image behind the move"
    html, _ = page(ROOT / "examples" / "seed.shot")
    assert 'class="brush"' not in html and "<mask" not in html


def test_a_mask_given_twice_is_inlined_once_and_a_path_off_the_image_is_said(tmp_path: Path) -> None:
    (tmp_path / "start.png").write_bytes(png(400, 300))
    (tmp_path / "m.png").write_bytes(_mask(400, 300, 10, 10, 50, 50))
    path = tmp_path / "m.shot"
    path.write_text('SHOT a: "x" model kling-v1 image "start.png" mask "m.png" motion "m.png" (20, 20) (900, 20)\n')
    html, _ = page(path)
    drawn = _brush(html, "a")
    assert len(drawn.masks) == 1 and [mask for mask, _ in drawn.overlays] == [next(iter(drawn.masks))] * 2
    assert drawn.legend[1] == "moves along path 1, from (20, 20) to (900, 20) (the path leaves the image)"


def test_masks_over_an_image_given_by_url_are_only_listed(tmp_path: Path) -> None:
    path = tmp_path / "u.shot"
    path.write_text('SHOT a: "x" model kling-v1 image "https://example.com/a.png" '
                    'motion "https://example.com/m.png?a=1&b=<2>" (20, 20) (90, 20)\n')
    html, parsed = page(path)
    card = _card_of(html, "a")
    assert "<svg class=\"masks\"" not in card and "masks not drawn: the start image is not a local file" in card
    assert "moves along path 1, from (20, 20) to (90, 20) (its mask is a URL, not drawn: " \
           "https://example.com/m.png?a=1&amp;b=&lt;2&gt;)" in card
    assert all(a.startswith(("#", "data:image/")) for a in parsed.addresses), parsed.addresses


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return cli(*args, cwd=cwd)


def test_cli_writes_the_board_beside_the_shot_list(tmp_path: Path) -> None:
    path = tmp_path / "film.shot"
    path.write_text('SHOT a: slow pan right "x"\n')
    done = run("storyboard", str(path), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    board = tmp_path / "film.storyboard.html"
    assert board.read_text().startswith("<!DOCTYPE html>") and str(board) in done.stderr
    other = tmp_path / "out" / "b.html"
    assert run("storyboard", str(path), "-o", str(other), cwd=tmp_path).returncode == 0 and other.is_file()


def test_cli_a_shot_list_with_errors_gets_no_board(tmp_path: Path) -> None:
    path = tmp_path / "bad.shot"
    path.write_text('SHOT a: pan rigt "x"\n')
    done = run("storyboard", str(path), cwd=tmp_path)
    assert done.returncode == 1 and "error[E200]" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "bad.storyboard.html").exists()
    binary = tmp_path / "binary.shot"
    binary.write_bytes(b"SHOT a: \x00\x01")
    done = run("storyboard", str(binary), cwd=tmp_path)
    assert done.returncode == 1 and "error[E001]" in done.stderr and "Traceback" not in done.stderr
    missing = run("storyboard", str(tmp_path / "none.shot"), cwd=tmp_path)
    assert missing.returncode == 2 and "cannot read" in missing.stderr


# --- after a run (item 2) -----------------------------------------------------------------------------


def test_after_a_run_each_card_plays_its_video_with_status_and_cost(fake: FakeKling, film: Path) -> None:
    assert run_videos(fake, film).returncode == 0
    assert fake.stats.creates == 8
    done = run("storyboard", str(film), "-o", str(film.parent / "boards" / "b.html"), cwd=film.parent)
    assert done.returncode == 0, done.stderr
    html = (film.parent / "boards" / "b.html").read_text()
    sources = re.findall(r'<video [^>]*src="([^"]+)"', html)
    assert sources == [f"../{n}.mp4" for n in shots_in(film)], "relative to the page, in order"
    assert all((film.parent / "boards" / s).resolve().is_file() for s in sources)
    assert html.count("status: succeed; cost: 1 credit</p>") == 8 and "stale" not in html.replace(".stale", "")
    assert html.count("<script>") == 1, "the one script, to play the film, only now there are videos"
    assert fake.stats.creates == 8, "the board pays for nothing"


def test_a_card_says_how_long_its_video_really_runs(film: Path) -> None:
    with FakeKling(polls=2, video=lambda body: mp4(float(body["duration"]) + 0.041)) as fake:
        assert run_videos(fake, film).returncode == 0
    assert run("storyboard", str(film), cwd=film.parent).returncode == 0
    html = (film.parent / "film.storyboard.html").read_text()
    approach = html[html.index('id="shot-approach"') :]
    assert "status: succeed; cost: 1 credit; runs 5.04 s</p>" in approach[: approach.index("</article>")]
    assert html.count("; runs 10.04 s</p>") == 7


def test_a_shot_changed_since_its_render_is_marked_stale_and_a_new_one_not_rendered(fake: FakeKling,
                                                                                     film: Path) -> None:
    assert run_videos(fake, film).returncode == 0
    film.write_text(film.read_text().replace("subtle dutch tilt", "dutch tilt 4")
                    + 'SHOT coda: static "The lamp goes dark"\n')
    assert run("storyboard", str(film), cwd=film.parent).returncode == 0
    html = (film.parent / "film.storyboard.html").read_text()
    lamp = html[html.index('id="shot-lamp"') :]
    lamp = lamp[: lamp.index("</article>")]
    assert "changed since its render" in lamp and "<video" in lamp
    assert html.count("changed since its render") == 1
    coda = html[html.index('id="shot-coda"') :]
    assert "not rendered yet" in coda[: coda.index("</article>")]
    assert fake.stats.creates == 8


def test_a_board_reads_moves_under_the_axes_run_was_given(fake: FakeKling, film: Path) -> None:
    assert run_videos(fake, film, "--axes", "official").returncode == 0
    assert run("storyboard", str(film), cwd=film.parent).returncode == 0
    assert "changed since its render" in (film.parent / "film.storyboard.html").read_text()
    assert run("storyboard", str(film), "--axes", "official", cwd=film.parent).returncode == 0
    html = (film.parent / "film.storyboard.html").read_text()
    assert "changed since its render" not in html and html.count("<video ") == 8
    assert "moves read under AXES official" in html


def test_a_video_gone_or_replaced_since_the_run_says_so(fake: FakeKling, film: Path) -> None:
    assert run_videos(fake, film).returncode == 0
    (film.parent / "lamp.mp4").unlink()
    (film.parent / "storm.mp4").write_bytes(b"another file")
    assert run("storyboard", str(film), cwd=film.parent).returncode == 0
    html = (film.parent / "film.storyboard.html").read_text()

    def card(name: str) -> str:
        at = html[html.index(f'id="shot-{name}"') :]
        return at[: at.index("</article>")]

    assert "the video downloaded is not in its folder" in card("lamp") and "<video" not in card("lamp")
    assert "the file in its folder is not the video downloaded" in card("storm") and "<video" not in card("storm")
    assert html.count("<video ") == 6 and fake.stats.creates == 8


def test_a_failed_shot_says_why(fake: FakeKling, film: Path) -> None:
    fake.inject(Fault("fail_task", match="brass lens", message="content policy: the lens flare"))
    run_videos(fake, film)
    assert run("storyboard", str(film), cwd=film.parent).returncode == 0
    html = (film.parent / "film.storyboard.html").read_text()
    lamp = html[html.index('id="shot-lamp"') :]
    lamp = lamp[: lamp.index("</article>")]
    assert "status: failed" in lamp and "content policy: the lens flare" in lamp and "<video" not in lamp
