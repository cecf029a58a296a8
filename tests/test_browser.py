"""The storyboard in a real browser (issue 12, item 5): Debian's Chromium, headless, driven over
the DevTools protocol (tests/browser.py). Each example's board is opened at a phone's width and
a desktop's: every card is there, every move is drawn inside its frame, nothing overflows, the
text has the contrast it needs, nothing is logged as an error and nothing is asked of any
address but the page itself. It prints a scene a page, works with JavaScript off, and after a
run against the local Kling server plays the film in order.

Screenshots go to build/screenshots/ (or SHOTLANG_SCREENSHOTS), for a person to look at; they
are not committed. Without Chromium these tests skip, unless SHOTLANG_REQUIRE_BROWSER_TESTS=1
(which .ci/run sets, after installing it).
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from typing import Any

import pytest
from browser import Browser, Page
from runs import run as run_videos
from runs import shotlang as cli
from runs import shots_in

import shotlang
from shotlang.testing import VIDEO, FakeKling

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.shot"))
SCREENSHOTS = Path(os.environ.get("SHOTLANG_SCREENSHOTS") or ROOT / "build" / "screenshots")
PHONE, DESKTOP = 375, 1440


def board(shots: Path, out: Path, *args: str) -> Path:
    """The board as a user makes it: through the CLI."""
    done = cli("storyboard", str(shots), "-o", str(out), *args)
    assert done.returncode == 0, done.stderr
    return out


def records(shots: Path) -> list[dict[str, Any]]:
    output = shotlang.compile_file(shots).output
    assert output is not None
    return output.records


# What the page shows, measured in the browser: the cards' boxes, each diagram and the marks
# drawn in it (relative to the drawing), and whether anything is wider than the window.
MEASURE = """(() => {
  const box = e => e.getBoundingClientRect();
  return {
    width: innerWidth, scrollWidth: document.documentElement.scrollWidth,
    cards: [...document.querySelectorAll('article.card')].map(c => ({
      id: c.id, left: box(c).left, right: box(c).right, top: box(c).top, width: box(c).width,
      sequence: c.classList.contains('sequence'), spill: c.scrollWidth - c.clientWidth})),
    diagrams: [...document.querySelectorAll('svg.diagram')].map(svg => {
      const r = box(svg);
      return {label: svg.getAttribute('aria-label'), title: svg.querySelector('title')?.textContent,
              card: svg.closest('article').id, width: r.width, height: r.height,
              moves: svg.querySelectorAll('.move').length, still: svg.querySelectorAll('.still, .free').length,
              marks: [...svg.querySelectorAll('.move, .still, .free')].map(m => {
                const b = box(m); return [b.left - r.left, b.top - r.top, b.right - r.left, b.bottom - r.top];
              })};
    }),
    timeline: [...document.querySelectorAll('nav.timeline a')].map(a => [a.getAttribute('href'), box(a).width]),
    videos: [...document.querySelectorAll('video')].map(v => v.src),
    button: document.getElementById('film')?.textContent ?? null,
  };
})()"""

# Every piece of text against what lies behind it, by WCAG 2's contrast ratio: 4.5:1, or 3:1
# for large text (24 px, or 18.66 px bold).
CONTRAST = """(() => {
  const rgba = c => { const v = c.match(/[\\d.]+/g).map(Number); return v.length > 3 ? v : [...v, 1]; };
  const lum = c => { const f = x => (x /= 255) <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4;
                     return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]); };
  const behind = el => { for (let e = el; e; e = e.parentElement) {
      const c = rgba(getComputedStyle(e).backgroundColor); if (c[3] > 0) return c; }
    return [255, 255, 255, 1]; };
  const low = [], walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  let seen = 0;
  for (let n = walk.nextNode(); n; n = walk.nextNode()) {
    const el = n.parentElement;
    if (!n.textContent.trim() || el.closest('svg') || !el.getClientRects().length) continue;
    const s = getComputedStyle(el), size = parseFloat(s.fontSize);
    const [hi, lo] = [lum(rgba(s.color)), lum(behind(el))].sort((a, b) => b - a);
    const ratio = (hi + 0.05) / (lo + 0.05), large = size >= 24 || (size >= 18.66 && +s.fontWeight >= 700);
    seen += 1;
    if (ratio < (large ? 3 : 4.5)) low.push(`${n.textContent.trim().slice(0, 30)}: ${ratio.toFixed(2)}`);
  }
  return {seen, low};
})()"""


def look(page: Page, path: Path, shot: str) -> dict[str, Any]:
    page.open(path)
    page.screenshot(SCREENSHOTS / f"{shot}.png")
    measured: dict[str, Any] = page.evaluate(MEASURE)
    return measured


def only_itself(page: Page, path: Path, allowed: tuple[Path, ...] = ()) -> None:
    """No request went anywhere but the page and the files it is allowed to show."""
    mine = {p.resolve().as_uri() for p in (path, *allowed)}
    others = [url for url in page.requests if url not in mine and not url.startswith("data:")]
    assert others == [], f"the page asked for {others}"


@pytest.mark.parametrize("width", [PHONE, DESKTOP])
@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_each_examples_board_in_a_browser(chromium: Browser, tmp_path: Path, example: Path, width: int) -> None:
    path = board(example, tmp_path / "board.html")
    sent = records(example)
    with chromium.page(width) as page:
        seen = look(page, path, f"{example.stem}-{width}")
        assert page.errors == []
        only_itself(page, path)
    # every card, in file order, and its place on the timeline
    assert [c["id"] for c in seen["cards"]] == [f"shot-{r['name']}" for r in sent]
    assert [href for href, _ in seen["timeline"]] == [f"#shot-{r['name']}" for r in sent]
    assert all(w > 0 for _, w in seen["timeline"]), "every video has a visible place on the timeline"
    # a diagram for every shot (a sequence's shots each have theirs), drawn inside its frame
    shots = sum(len(r["body"].get("multi_prompt", [])) or 1 for r in sent)
    assert len(seen["diagrams"]) == shots
    for drawn in seen["diagrams"]:
        assert drawn["label"] and drawn["label"] == drawn["title"], "words for every drawing"
        assert drawn["width"] >= 100 and drawn["height"] >= 40, drawn
        assert drawn["moves"] + drawn["still"] >= 1 and drawn["marks"], drawn
        for left, top, right, bottom in drawn["marks"]:
            assert right > left or bottom > top, f"{drawn['card']}: a mark with no size"
            assert min(left, top) >= -2 and right <= drawn["width"] + 2 and bottom <= drawn["height"] + 2, drawn
    # the layout: nothing wider than the window, no card spilling its text
    assert seen["scrollWidth"] <= width, "the page scrolls sideways"
    for card in seen["cards"]:
        assert card["left"] >= 0 and card["right"] <= width and card["spill"] <= 0, card
    singles = [c for c in seen["cards"] if not c["sequence"]]
    if width == PHONE:
        assert len({round(c["left"]) for c in seen["cards"]}) == 1, "one column on a phone"
        assert all(c["width"] >= width - 40 for c in seen["cards"]), "cards use the phone's width"
    else:
        rows = [round(c["top"]) for c in singles]
        widest = max((len(group) for group in _scenes(sent)), default=0)
        assert max((rows.count(top) for top in rows), default=0) == min(3, widest), \
            "on a desktop a scene's cards sit side by side, three to a row"
        main = max(c["right"] for c in seen["cards"]) - min(c["left"] for c in seen["cards"])
        assert all(c["width"] >= main - 2 for c in seen["cards"] if c["sequence"]), "a sequence takes the row"


def _scenes(sent: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """The single shots of each scene, as the board groups them (a sequence stands on its own row)."""
    groups: list[list[dict[str, Any]]] = []
    scene: object = object()
    for record in sent:
        if record["scene"] != scene:
            scene = record["scene"]
            groups.append([])
        if "multi_prompt" not in record["body"]:
            groups[-1].append(record)
    return groups


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_every_text_has_good_contrast(chromium: Browser, tmp_path: Path, example: Path) -> None:
    path = board(example, tmp_path / "board.html")
    with chromium.page(DESKTOP) as page:
        page.open(path)
        checked = page.evaluate(CONTRAST)
    assert checked["seen"] > 10 and checked["low"] == []


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_the_board_prints_a_scene_a_page(chromium: Browser, tmp_path: Path, example: Path) -> None:
    """On A4: every scene after the first starts a page, and each example's scenes fit theirs."""
    path = board(example, tmp_path / "board.html")
    with chromium.page(DESKTOP) as page:
        page.open(path)
        pdf = page.pdf()
        page.send("Emulation.setEmulatedMedia", {"media": "print"})
        breaks = page.evaluate("[...document.querySelectorAll('main section')].map(s => getComputedStyle(s).breakBefore)")
        hidden = page.evaluate("getComputedStyle(document.querySelector('nav.timeline')).display")
    scenes = len(_scenes(records(example)))
    assert breaks == ["auto"] + ["page"] * (scenes - 1), "every scene after the first starts a page"
    assert len(re.findall(rb"/Type\s*/Page\b", pdf)) == scenes, "each scene fits its page"
    assert hidden == "none", "the coloured timeline is for the screen"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS / f"{example.stem}-print.pdf").write_bytes(pdf)


def test_with_javascript_off_the_board_is_whole(chromium: Browser, fake: FakeKling, film: Path) -> None:
    assert run_videos(fake, film).returncode == 0
    path = board(film, film.parent / "board.html")
    with chromium.page(PHONE, javascript=False) as page:
        seen = look(page, path, "after-run-no-script-375")
        assert page.errors == []
    assert [c["id"] for c in seen["cards"]] == [f"shot-{n}" for n in shots_in(film)]
    assert len(seen["videos"]) == 8 and seen["button"] is None, "every video plays on its own; no dead button"
    assert fake.stats.creates == 8


# Which video plays, looked at every 50 ms until the film ends (the button says so again).
WATCH = """(() => {
  const all = [...document.querySelectorAll('video')], button = document.getElementById('film');
  window.order = []; window.over = false;
  const look = setInterval(() => {
    const on = all.findIndex(v => !v.paused && !v.ended);
    if (on >= 0 && order[order.length - 1] !== on) order.push(on);
    if (order.length && button.textContent !== 'Stop') { clearInterval(look); window.over = true; }
  }, 50);
})()"""


def test_after_a_run_the_board_plays_the_film_in_order(chromium: Browser, film: Path) -> None:
    # The server's real videos (H.264 made by PyAV), but the lamp's (the third): bytes no browser
    # can play. The film goes on without it.
    with FakeKling(polls=2, real_videos=True, video=lambda body: VIDEO if "brass lens" in body["prompt"] else None) as fake:
        assert run_videos(fake, film).returncode == 0
    assert fake.stats.creates == 8
    names = shots_in(film)
    path = board(film, film.parent / "boards" / "board.html")
    with chromium.page(DESKTOP) as page:
        seen = look(page, path, "after-run-1440")
        videos = tuple(film.parent / f"{name}.mp4" for name in names)
        assert seen["videos"] == [v.resolve().as_uri() for v in videos], "each card its own video, relative"
        assert seen["button"] == "Play the film in order"
        page.evaluate(WATCH)
        page.click("#film")
        deadline = time.monotonic() + 30
        while not page.evaluate("window.over") and time.monotonic() < deadline:
            page.pump(seconds=0.2)
        assert page.evaluate("window.over"), "the film ended within 30 s"
        order = page.evaluate("window.order")
        assert page.errors == []
        only_itself(page, path, videos)
    assert order == [0, 1, 3, 4, 5, 6, 7], "each video once, in file order, past one that cannot play"


def test_the_policy_stops_what_the_page_was_not_written_to_do(chromium: Browser, tmp_path: Path) -> None:
    """A board edited by hand (or a bug of ours) still cannot call another host or run a script
    of its own: the page's content security policy refuses them, and says so."""
    path = board(ROOT / "examples" / "seed.shot", tmp_path / "board.html")
    text = path.read_text()
    path.write_text(text.replace("</main>", '<img src="http://127.0.0.1:9/pixel.png">'
                                 "<script>document.title='ran'</script></main>"))
    with chromium.page(DESKTOP) as page:
        page.open(path)
        title = page.evaluate("document.title")
        errors = list(page.errors)
    assert title != "ran"
    assert page.blocked == [("http://127.0.0.1:9/pixel.png", "csp")], "asked for, refused, never sent"
    assert [u for u in page.requests if u.startswith("http")] == ["http://127.0.0.1:9/pixel.png"]
    assert len(errors) == 2 and all("Content Security Policy" in e for e in errors), "both refusals are reported"



# The harbour's motion brush, measured: the start image's box, the box of the SVG drawn over it,
# and where the boat's path starts on the screen.
BRUSH = """(() => {
  const card = document.getElementById('shot-boat-leaves'), box = e => e.getBoundingClientRect();
  const img = box(card.querySelector('.over img')), svg = box(card.querySelector('svg.masks'));
  const dot = box(card.querySelector('circle.start'));
  return {img: [img.left, img.top, img.width, img.height], svg: [svg.left, svg.top, svg.width, svg.height],
          dot: [(dot.left + dot.right) / 2, (dot.top + dot.bottom) / 2], card: box(card).width};
})()"""


@pytest.mark.parametrize("width", [PHONE, DESKTOP])
def test_the_masks_and_paths_lie_exactly_over_the_start_image(chromium: Browser, tmp_path: Path, width: int) -> None:
    """The SVG over the start image has the image's box at any width, so a path drawn in the
    image's pixels lands on them: the boat's path starts at (280, 150) of the 640 x 360 image,
    counted from its bottom-left."""
    path = board(ROOT / "examples" / "harbour.shot", tmp_path / "board.html")
    with chromium.page(width) as page:
        page.open(path)
        seen = page.evaluate(BRUSH)
        page.evaluate("document.getElementById('shot-boat-leaves').scrollIntoView()")
        page.screenshot(SCREENSHOTS / f"harbour-brush-{width}.png")
        assert page.errors == []
        only_itself(page, path)
    left, top, shown, high = seen["img"]
    assert seen["svg"] == pytest.approx(seen["img"], abs=0.5), "the drawing has the image's box"
    assert 100 <= shown <= seen["card"] and high == pytest.approx(shown * 360 / 640, abs=1), "the image in its shape"
    assert seen["dot"] == pytest.approx([left + shown * 280 / 640, top + high * (360 - 150) / 360], abs=1)
