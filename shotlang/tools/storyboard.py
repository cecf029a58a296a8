"""The storyboard: a shot list as one self-contained HTML page, to look at before paying.

A card per shot, grouped by scene: its name, prompt, negative prompt, duration, mode and model,
its frame drawn in its aspect ratio with a diagram of the camera move inside, its warnings, and
its start and end images when they are local files (inlined; nothing is fetched from another
host), with the masks and motion paths drawn over the start image. A timeline strip shows each
shot's place and length in the running time; a sequence is one card with a strip of its shots.

Made from what the compiler lowered (lower.py) and the records it would send (records.py), so
the board says what `compile` says. It works with JavaScript off: the one script, on a board with
videos, only adds a button that plays them in order; a content security policy lets the page run
that script and load nothing from anywhere but itself and its videos' folder.
"""

from __future__ import annotations

import base64
import hashlib
import html
import math
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import quote

from ..compiler import kling
from ..compiler.diagnostics import Diagnostic, Severity
from ..compiler.images import PNG_SIGNATURE, URL, NotAnImage, inspect_image
from ..compiler.lower import Lowered, LoweredCast, LoweredSequence, LoweredShot
from ..compiler.pipeline import analyse
from ..compiler.records import after_placeholder, with_frames
from ..compiler.vocabulary import DEFAULT_MAGNITUDE, JOINERS, Move

if TYPE_CHECKING:
    from ..engine.state import ShotState


class Board(NamedTuple):
    """The page (None if the shot list has errors) and every diagnostic of the file."""

    html: str | None
    diagnostics: list[Diagnostic]


class Rendered(NamedTuple):
    """What a run recorded of the shot lists' videos (state.py), and where the page will be."""

    state: Callable[[str], ShotState | None]  # a video's state by its name (Store.get)
    videos: Path  # the folder `run` downloaded into
    page: Path  # where the board is written: videos are linked relative to it
    names: Callable[[], Iterable[str]] = tuple  # every name the state has (Store.names): the takes --force added
    asked: dict[str, tuple[str, ...]] | None = None  # the hashes run asks each take by (filled in by storyboard)


def storyboard(text: str, name: str, base_dir: Path, rendered: Rendered | None = None,
               axes: str | None = None) -> Board:
    """The board of a shot list (its moves read under `axes`, if given, instead of its AXES
    line); with `rendered`, each finished video plays on its card, and what failed, is still
    running or changed since its render says so."""
    items: list[Lowered] = []
    analysis = analyse(text, name, base_dir, axes=axes, records=True, lowered=items)
    if any(d.severity is Severity.ERROR for d in analysis.diagnostics):
        return Board(None, analysis.diagnostics)
    records = {r["name"]: r for r in analysis.records or []}
    warnings: dict[int, list[str]] = {}  # by line: each card takes those of its own lines
    disputes: list[str] = []  # W108 is of the whole shot list: said once, above the cards
    for d in analysis.diagnostics:
        if d.code == "W108":
            disputes.append(f"{d.code}: {d.message}")
        elif d.severity is Severity.WARNING:
            warnings.setdefault(d.span.line, []).append(f"{d.code}: {d.message}")
    cards = [_Card.of(item, records[item.name], warnings) for item in items
             if not isinstance(item, LoweredCast) and item.name in records]
    if rendered is not None:
        from ..engine.runner import asked_digests

        rendered = rendered._replace(asked=asked_digests(analysis.records or [], analysis.cast, rendered.state))
    return Board(_page(analysis.title or Path(name).stem, analysis.axes, cards, rendered, disputes),
                 analysis.diagnostics)


# --- what a card shows ----------------------------------------------------------------------------


class _Frame(NamedTuple):
    name: str
    prompt: str
    seconds: float
    move: Move | None
    magnitude: float | None
    sent: str  # what the camera fields get, in words
    written: str  # the move as the writer wrote it (`slow pan right`), joiners left out


class _Card(NamedTuple):
    name: str
    scene: str | None
    line: int
    endpoint: str
    body: dict[str, Any]
    frames: list[_Frame]  # one for a shot, one per shot for a sequence
    warnings: list[str]
    takes: int = 1  # `takes`
    pick: int = 1  # `pick`: the chosen take
    after: str = ""  # the shot it continues

    @property
    def seconds(self) -> float:
        return float(self.body["duration"])  # records always carry it

    @classmethod
    def of(cls, item: LoweredShot | LoweredSequence, record: dict[str, Any], warnings: dict[int, list[str]]) -> _Card:
        body = record["body"]
        first, last = item.syntax.span.line, item.syntax.span.end_line
        if isinstance(item, LoweredSequence):
            last = max([last, *(s.syntax.span.end_line for s in item.shots)])
            frames = [_frame(shot, float(part["duration"]), part["prompt"], None)
                      for shot, part in zip(item.shots, body["multi_prompt"], strict=True)]
        else:
            frames = [_frame(item, float(body["duration"]), body.get("prompt", ""), body.get("camera_control"),
                             record.get("moves", "off"))]
        said = [w for line in range(first, last + 1) for w in warnings.get(line, ())]
        return cls(item.name, record["scene"], record["line"], record["endpoint"], body, frames, said,
                   int(record.get("takes") or 1), int(record.get("pick") or 1), str(record.get("after") or ""))


def _frame(shot: LoweredShot, seconds: float, prompt: str, camera: dict[str, Any] | None,
           moves: str = "words") -> _Frame:
    """A shot's frame; `moves` is how its record sends the move (numeric, words or both)."""
    move = shot.camera.move if shot.camera is not None else None
    magnitude = shot.camera.magnitude if shot.camera is not None else None
    if move is None:
        sent = "no camera move is sent"
    elif moves == "off":
        sent = "not sent (`moves off`)"
    elif camera is None and moves == "numeric":
        sent = "no camera_control (a static shot)"
    elif camera is None:
        sent = ("sent as words in the prompt" if not shot.in_sequence
                else "sent as words in the prompt (a sequence's shot)")
    else:
        if camera["type"] != "simple":
            sent = f'sent as camera_control type "{camera["type"]}"'
        else:
            field, value = next(((k, v) for k, v in camera["config"].items() if v), ("", 0))
            sent = f"sent as camera_control.config.{field} = {value}"
        if moves == "both":
            sent += ", and as words in the prompt"
    written = " ".join(w.text.lower() for w in shot.syntax.move if w.text.lower() not in JOINERS)
    return _Frame(shot.name, prompt, seconds, move, magnitude, sent, written)


# --- the camera move as a drawing -------------------------------------------------------------------

# How each move is drawn: a kind and a direction (x right, y up), by the move's canonical name.
_DRAWN: dict[str, tuple[str, float, float]] = {
    "pan right": ("turn", 1, 0), "pan left": ("turn", -1, 0),
    "tilt up": ("turn", 0, 1), "tilt down": ("turn", 0, -1),
    "dolly right": ("travel", 1, 0), "dolly left": ("travel", -1, 0),
    "dolly up": ("travel", 0, 1), "dolly down": ("travel", 0, -1),
    "zoom in": ("in", 0, 0), "push in": ("in", 0, 0),
    "zoom out": ("out", 0, 0), "pull back": ("out", 0, 0),
    "roll clockwise": ("roll", 1, 0), "dutch tilt": ("roll", 1, 0),
    "roll counter-clockwise": ("roll", -1, 0),
}
# The four presets as paths in a 100 x 100 box, y down: where the camera goes.
_PRESETS = {
    "down_back": "M 30 25 C 40 45, 55 60, 75 75",
    "forward_up": "M 50 80 C 50 60, 55 40, 60 20",
    "right_turn_forward": "M 40 85 C 40 60, 55 45, 80 35",
    "left_turn_forward": "M 60 85 C 60 60, 45 45, 20 35",
}


def _ratio(aspect: str | None) -> float:
    if not aspect:
        return 16 / 9
    width, _, height = aspect.partition(":")
    return int(width) / int(height) if width.isdigit() and height.isdigit() and int(height) else 16 / 9


def _strength(frame: _Frame) -> float:
    return frame.magnitude if frame.magnitude is not None else DEFAULT_MAGNITUDE


def _said(frame: _Frame) -> str:
    """The move in words: as written, and what it is and how strong when the words leave that
    open (`slow pan right: pan right, strength 5 of 10`)."""
    move = frame.move
    if move is None:
        return "no camera move given: the model chooses"
    if move.is_static or move.preset:
        return frame.written
    return f"{frame.written}: {move.name}, strength {_strength(frame):g} of 10"


def diagram(frame: _Frame, aspect: str | None, backdrop: str | None = None) -> str:
    """The frame, in its aspect ratio (kept between 1:2.5 and 2.5:1, as Kling's images are),
    with the move drawn inside, over the start image when there is one (`backdrop`, a data
    URI); its words as the drawing's text alternative."""
    ratio = min(max(_ratio(aspect), 1 / 2.5), 2.5)
    width, height = (160.0, 160.0 / ratio) if ratio >= 1 else (160.0 * ratio, 160.0)
    cx, cy = width / 2, height / 2
    move, strength = frame.move, _strength(frame)
    said = _said(frame)
    parts = [f'<rect class="frame" x="1" y="1" width="{width - 2:.1f}" height="{height - 2:.1f}" rx="3"/>']
    if backdrop is not None:  # the picture the video starts from, a little veiled so the move reads
        parts.append(f'<image href="{backdrop}" x="2" y="2" width="{width - 4:.1f}" height="{height - 4:.1f}" '
                     'preserveAspectRatio="xMidYMid slice"/>'
                     f'<rect class="veil" x="2" y="2" width="{width - 4:.1f}" height="{height - 4:.1f}"/>')
    if move is None:  # nothing asked: the model moves the camera as it likes
        parts.append(f'<text class="free" x="{cx:.1f}" y="{cy:.1f}" text-anchor="middle" '
                     'dominant-baseline="central">?</text>')
    elif move.is_static:
        parts.append(f'<circle class="still" cx="{cx:.1f}" cy="{cy:.1f}" r="6"/>')
    elif move.preset:
        scale = min(width, height) / 100
        dx, dy = cx - 50 * scale, cy - 50 * scale
        parts.append(f'<path class="move" marker-end="url(#head)" transform="translate({dx:.1f} {dy:.1f}) '
                     f'scale({scale:.3f})" vector-effect="non-scaling-stroke" d="{_PRESETS[move.preset]}"/>')
    else:
        kind, x, y = _DRAWN[move.name]  # every move has its drawing (a test holds it)
        reach = (min(width, height) / 2 - 12) * min(abs(float(strength)), 10) / 10
        if kind in ("turn", "travel"):
            ex, ey = cx + x * reach * (width / height if x else 1) * 0.9, cy - y * reach
            dash = ' stroke-dasharray="6 4"' if kind == "travel" else ""
            parts.append(f'<line class="move" marker-end="url(#head)"{dash} x1="{cx:.1f}" y1="{cy:.1f}" '
                         f'x2="{ex:.1f}" y2="{ey:.1f}"/>')
        elif kind == "roll":
            sweep = math.radians(30 + 30 * min(abs(float(strength)), 10))
            r = min(width, height) / 2 - 14
            start = -math.pi / 2
            end = start + sweep * x
            x1, y1 = cx + r * math.cos(start), cy + r * math.sin(start)
            x2, y2 = cx + r * math.cos(end), cy + r * math.sin(end)
            large = 1 if sweep > math.pi else 0
            parts.append(f'<path class="move" marker-end="url(#head)" d="M {x1:.1f} {y1:.1f} '
                         f'A {r:.1f} {r:.1f} 0 {large} {1 if x > 0 else 0} {x2:.1f} {y2:.1f}"/>')
        else:  # in: frames close in on the subject; out: they open out
            for i in (1, 2, 3):
                share = 0.25 * i if kind == "in" else 1 - 0.25 * i
                w = (width - 2) * (1 - share * reach / (min(width, height) / 2))
                h = w / ratio
                parts.append(f'<rect class="nest" x="{cx - w / 2:.1f}" y="{cy - h / 2:.1f}" '
                             f'width="{w:.1f}" height="{h:.1f}"/>')
            arrow = 14 + 0.5 * reach  # long enough to read even when the move is subtle
            for sx, sy in ((-1, -1), (1, -1), (1, 1), (-1, 1)):
                a, b = (cx + sx * (width / 2 - 6), cy + sy * (height / 2 - 6))
                c, d = (cx + sx * (width / 2 - 6 - arrow), cy + sy * (height / 2 - 6 - arrow / ratio))
                if kind == "out":
                    a, b, c, d = c, d, a, b
                parts.append(f'<line class="move" marker-end="url(#head)" x1="{a:.1f}" y1="{b:.1f}" '
                             f'x2="{c:.1f}" y2="{d:.1f}"/>')
    return (f'<svg class="diagram" viewBox="0 0 {width:.1f} {height:.1f}" role="img" '
            f'aria-label="{html.escape(said)}"><title>{html.escape(said)}</title>{"".join(parts)}</svg>')


# --- the page -----------------------------------------------------------------------------------------

# Colours chosen for contrast (WCAG AA, 4.5:1 for text): ink and muted on the cards, white on
# every scene colour of the timeline. The browser test measures what the page shows.
_CSS = """
:root{--ink:#1b1d21;--muted:#4a5160;--line:#c9ced8;--card:#fff;--page:#f3f4f7;--accent:#0b5cad;--warn:#8a4b00;
 --sky:#eef1f6}
*{box-sizing:border-box}body{margin:0;font:15px/1.45 system-ui,sans-serif;color:var(--ink);background:var(--page)}
header,main{max-width:1200px;margin:0 auto;padding:16px}
h1{font-size:1.6rem;margin:.2em 0}h2{font-size:1.2rem;margin:1.4em 0 .5em}h1,h2,.meta,.legend{overflow-wrap:anywhere}
h3{font-size:1rem;margin:0;display:flex;justify-content:space-between;gap:8px}h3 .len{color:var(--muted);font-weight:400}
.meta{color:var(--muted);margin:.2em 0}
.timeline{display:flex;height:34px;border:1px solid var(--line);border-radius:4px;overflow:hidden;background:var(--card)}
.timeline a{display:block;min-width:3px;border-right:1px solid var(--page);color:#fff;text-decoration:none;
 font-size:.75rem;padding:2px 4px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.timeline a:focus-visible,.timeline a:hover{outline:3px solid var(--ink);outline-offset:-3px}
.legend{display:flex;flex-wrap:wrap;gap:4px 18px;list-style:none;padding:0;margin:8px 0 0;font-size:.85rem;color:var(--muted)}
.legend i{display:inline-block;width:.8em;height:.8em;border-radius:2px;margin-right:6px;vertical-align:-.05em}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(300px,100%),1fr));gap:14px}
.card{background:var(--card);border:1px solid var(--line);border-radius:6px;padding:12px;overflow-wrap:anywhere;
 min-width:0}
.card.sequence{grid-column:1/-1}.card.playing{outline:3px solid var(--accent)}
.diagram{display:block;width:100%;max-height:220px;margin:8px 0}
.frame{fill:var(--sky);stroke:var(--ink);stroke-width:2}.nest{fill:none;stroke:var(--muted);stroke-dasharray:3 3}
.move{fill:none;stroke:var(--accent);stroke-width:3}.still{fill:var(--muted)}.veil{fill:#fff;opacity:.35}
.free{fill:var(--muted);font:700 40px system-ui,sans-serif}
.words{font-weight:600;margin:.2em 0;color:var(--accent)}
.prompt{margin:.4em 0}.negative{color:var(--muted)}dl{display:grid;grid-template-columns:auto 1fr;gap:2px 10px;margin:.4em 0}
dt{color:var(--muted)}dd{margin:0}.warn{color:var(--warn)}
video{width:100%;margin:8px 0;background:#000}.takes{display:flex;gap:6px}.take{flex:1;margin:0}
.take video{margin:0}.take figcaption{font-size:.8em}.take.chosen figcaption{font-weight:700}.status{font-weight:600}.stale{color:var(--warn);font-weight:600}
.strip{display:flex;flex-wrap:wrap;gap:10px}.strip figure{margin:0;flex:var(--share) 1 150px;min-width:0}
.strip .diagram{max-height:120px}.strip figcaption{font-size:.85rem}.strip figcaption .words{font-size:.85rem}
.thumbs{display:flex;gap:6px}.thumbs figure{margin:0}.thumbs figcaption{font-size:.8rem;color:var(--muted)}
.thumbs img{display:block;max-width:100%;max-height:140px;border:1px solid var(--line)}
.brush{margin:8px 0}.over{position:relative;width:min(100%,calc(260px*var(--w)/var(--h)));margin:0 auto}
.over img{display:block;width:100%;height:auto}.over svg{position:absolute;inset:0;width:100%;height:100%}
.area{opacity:.5}.trail{fill:none;stroke-width:3;stroke-linejoin:round;stroke-linecap:round}
.path{filter:drop-shadow(0 0 1px #fff)}.brush .legend{margin-top:4px}
#film{font:inherit;margin-top:10px;padding:6px 14px;border:1px solid var(--accent);border-radius:4px;
 background:var(--accent);color:#fff;cursor:pointer}#film:focus-visible{outline:3px solid var(--ink);outline-offset:2px}
@media print{body{background:#fff;font-size:10pt}header,main{max-width:none;padding:0}
 .timeline,#film,video{display:none}section+section{break-before:page}
 .cards{grid-template-columns:repeat(3,1fr);gap:8px}.card{break-inside:avoid;padding:8px}
 .card.sequence{grid-column:1/-1}.diagram{max-height:90px}.over{width:min(100%,calc(110px*var(--w)/var(--h)))}.strip .diagram{max-height:70px}}
"""
_COLOURS = ["#0b5cad", "#7529e0", "#00706c", "#a8156f", "#586400", "#a2191f"]

# Played only when the board has videos, and only a nicety: with JavaScript off every video still
# plays on its own. It adds a button that plays the film: each video in file order, the next one
# when one ends or cannot play.
_SCRIPT = """(()=>{const all=[...document.querySelectorAll('video.shot')];if(!all.length)return;
const button=document.createElement('button');button.id='film';button.type='button';
const idle='Play the film in order';button.textContent=idle;document.querySelector('header').append(button);
let at=-1;
function go(next){if(at>=0){all[at].pause();all[at].closest('article').classList.remove('playing');}
at=next<all.length?next:-1;button.textContent=at<0?idle:'Stop';if(at<0)return;
const video=all[at];video.closest('article').classList.add('playing');
video.scrollIntoView({block:'center'});video.currentTime=0;
video.play().catch(()=>{if(all[at]===video)go(at+1);});}
all.forEach((video,n)=>{for(const what of ['ended','error'])video.addEventListener(what,()=>{if(at===n)go(n+1);});});
button.addEventListener('click',()=>go(at<0?0:all.length));})();"""
# The page may run this script and nothing else; it loads images only from itself and media only
# from where it lies: even a page edited by hand cannot call another host.
_POLICY = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; media-src 'self'; "
           f"script-src 'sha256-{base64.b64encode(hashlib.sha256(_SCRIPT.encode()).digest()).decode()}'")


def _page(title: str, axes: str, cards: list[_Card], rendered: Rendered | None, disputes: list[str]) -> str:
    total = sum(c.seconds for c in cards)
    scenes: list[tuple[str | None, list[_Card]]] = []
    for card in cards:
        if not scenes or scenes[-1][0] != card.scene:
            scenes.append((card.scene, []))
        scenes[-1][1].append(card)
    colour = {scene: _COLOURS[i % len(_COLOURS)] for i, (scene, _) in enumerate(scenes)}
    strip = "".join(
        f'<a href="#shot-{html.escape(c.name)}" style="flex:{c.seconds:g};background:{colour[c.scene]}" '
        f'title="{html.escape(c.name)}: {c.seconds:g} s">{html.escape(c.name)}</a>' for c in cards)
    legend, start = [], 0.0
    for scene, group in scenes:
        length = sum(c.seconds for c in group)
        legend.append(f'<li><i style="background:{colour[scene]}"></i>{_clock(start)} '
                      f'{html.escape(scene or "Shots")} ({_clock(length)})</li>')
        start += length
    number = {c.name: n for n, c in enumerate(cards)}  # ids made of a number: a name may hold any character
    body = "".join(
        f'<section><h2>{html.escape(scene or "Shots")}</h2><div class="cards">'
        + "".join(_card(c, rendered, number[c.name]) for c in group) + "</div></section>" for scene, group in scenes)
    script = f"<script>{_SCRIPT}</script>" if "<video " in body else ""
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f'<meta http-equiv="Content-Security-Policy" content="{_POLICY}">'
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>{html.escape(title)}: storyboard</title><style>{_CSS}</style></head><body>"
        '<svg width="0" height="0" aria-hidden="true" style="position:absolute"><defs><marker id="head" '
        'viewBox="0 0 10 10" refX="7" refY="5" markerWidth="3.2" markerHeight="3.2" orient="auto-start-reverse">'
        '<path d="M0 0L10 5L0 10z" style="fill:var(--accent)"/></marker></defs></svg>'
        f"<header><h1>{html.escape(title)}</h1><p class=\"meta\">{len(cards)} "
        f"{'video' if len(cards) == 1 else 'videos'}, {_clock(total)} in all; moves read under AXES {axes}</p>"
        + "".join(f'<p class="meta disputed">{html.escape(d)}</p>' for d in disputes) +
        f'<nav class="timeline" aria-label="timeline: each video\'s place and length">{strip}</nav>'
        f'<ol class="legend" aria-label="scenes">{"".join(legend)}</ol></header>'
        f"<main>{body}</main>{script}</body></html>\n")


def _clock(seconds: float) -> str:
    whole = int(round(seconds))
    return f"{whole // 60}:{whole % 60:02d}"


def _card(card: _Card, rendered: Rendered | None, number: int) -> str:
    body = with_frames(card.body)
    continued = ""
    if card.after:  # its start is the last frame of the shot it continues, or that shot's video
        frame = body.get("image") == after_placeholder(card.after)
        body = {k: v for k, v in body.items() if not (k == "image" and frame)}
        continued = (f'<p class="meta">continues {html.escape(card.after)}: '
                     f'{"from its last frame" if frame else "from its video (a reference for the next shot)"}</p>')
    aspect, shown = body.get("aspect_ratio"), body.get("aspect_ratio")
    size = None
    if "image" in body:  # the video takes the start image's shape: drawn so when the image is here
        size = image_size(body["image"])
        aspect = f"{size[0]}:{size[1]}" if size else None
        shown = f"of the image ({size[0]} × {size[1]})" if size else "of the image"
    facts = [("mode", body.get("mode", f"{kling.default_mode(card.endpoint)} (the API's default)")), ("model", body["model_name"]),
             ("aspect", shown or "16:9"), ("line", str(card.line))]
    sequence = len(card.frames) > 1
    out = [f'<article class="card{" sequence" if sequence else ""}" id="shot-{html.escape(card.name)}">'
           f'<h3><span>{html.escape(card.name)}</span><span class="len">{card.seconds:g} s</span></h3>']
    if rendered is not None:
        out.append(_render(card, rendered))
    out.append(continued)
    backdrop = _inlined(body.get("image"))
    if not sequence:
        frame = card.frames[0]
        masks = brushes(body)
        # The start image is inlined once: under its masks when it has any, else behind the move.
        start = backdrop if masks and size is not None else None
        out.append(diagram(frame, aspect, None if start else backdrop))
        out.append(f'<p class="words">{html.escape(_said(frame))}</p>')
        out.append(motion_brush(masks, start, size, f"brush{number}"))
        out.append(f'<p class="prompt">{html.escape(frame.prompt)}</p>')
        out.append(f'<p class="meta">{html.escape(frame.sent)}</p>')
    else:
        out.append('<div class="strip">')
        for n, frame in enumerate(card.frames):  # the start image is the first shot's
            out.append(f'<figure style="--share:{frame.seconds:g}">{diagram(frame, aspect, None if n else backdrop)}'
                       "<figcaption>"
                       f'<b>{html.escape(frame.name)}</b> {frame.seconds:g} s'
                       f'<span class="words"> · {html.escape(_said(frame))}</span><br>'
                       f"{html.escape(frame.prompt)}</figcaption></figure>")
        out.append("</div>")
    if body.get("negative_prompt"):
        out.append(f'<p class="negative">Avoid: {html.escape(body["negative_prompt"])}</p>')
    out.append("<dl>" + "".join(f"<dt>{k}</dt><dd>{html.escape(str(v))}</dd>" for k, v in facts) + "</dl>")
    thumbs = [(what, body[key]) for what, key in (("start", "image"), ("end", "image_tail"))
              if key in body and not (key == "image" and backdrop)]  # the start image is the frame's
    if thumbs:
        out.append('<div class="thumbs">' + "".join(_thumb(what, value) for what, value in thumbs) + "</div>")
    if card.warnings:
        out.append('<ul class="warn">' + "".join(f"<li>{html.escape(w)}</li>" for w in card.warnings) + "</ul>")
    out.append("</article>")
    return "".join(out)


# --- the motion brush drawn over the start image -------------------------------------------------------

_STILL = "#1c7ed6"  # the static mask: the brush area that stays still
# Each dynamic mask and its path, in order (the API takes kling.DYNAMIC_MASKS_MAX of them).
_MOVING = ("#e8590c", "#2b8a3e", "#c2255c", "#7048e8", "#0c8599", "#a07800")


class Brush(NamedTuple):
    """A mask of the shot as the board draws it."""

    colour: str
    mask: str  # as compile sends it: Base64, or a URL (named, never fetched)
    path: tuple[tuple[int, int], ...]  # a dynamic mask's trajectory as sent (origin bottom-left); () for the static mask
    said: str  # what the colour means, for the legend


def brushes(body: dict[str, Any]) -> list[Brush]:
    """The static mask, then each dynamic mask with its trajectory, from a request body."""
    found = [Brush(_STILL, str(body["static_mask"]), (), "stays still")] if body.get("static_mask") else []
    for n, moving in enumerate(body.get("dynamic_masks") or (), 1):
        path = tuple((int(p["x"]), int(p["y"])) for p in moving["trajectories"])
        said = f"moves along path {n}" + (f", from ({path[0][0]}, {path[0][1]}) to ({path[-1][0]}, {path[-1][1]})"
                                          if path else "")
        found.append(Brush(_MOVING[(n - 1) % len(_MOVING)], str(moving["mask"]), path, said))
    return found


def motion_brush(masks: list[Brush], start: str | None, size: tuple[int, int] | None, key: str) -> str:
    """The masks and paths over the start image (`start`, a data URI, `size` its pixels), drawn at
    the image's own pixel coordinates: an SVG whose viewBox is the image, laid over it. Kling
    counts a trajectory's y from the image's bottom (kling-api.md), SVG from its top. `key` makes
    the page's ids; without a start image here (a URL, a frame made by run) only the legend."""
    if not masks:
        return ""
    legend = []
    for brush in masks:
        said = brush.said
        if URL.match(brush.mask):
            said += f" (its mask is a URL, not drawn: {brush.mask})"
        elif size is not None and any(not (0 <= x <= size[0] and 0 <= y <= size[1]) for x, y in brush.path):
            said += " (the path leaves the image)"
        legend.append(f'<li><i style="background:{brush.colour}"></i>{html.escape(said)}</li>')
    key_list = f'<ul class="legend" aria-label="the masks">{"".join(legend)}</ul>'
    if start is None or size is None:
        return f'<p class="meta">masks not drawn: the start image is not a local file</p>{key_list}'
    width, height = size
    defs: list[str] = []
    parts: list[str] = []
    ids: dict[str, str] = {}  # a mask used twice is inlined once
    for brush in masks:
        inlined = _inlined(brush.mask)
        if inlined is not None:
            if inlined not in ids:
                ids[inlined] = f"{key}-{len(ids)}"
                defs.append(f'<mask id="{ids[inlined]}" maskUnits="userSpaceOnUse" x="0" y="0" width="{width}" '
                            f'height="{height}"><image href="{inlined}" width="{width}" height="{height}" '
                            'preserveAspectRatio="none"/></mask>')
            # The mask's light parts show the colour: Kling's masks are white where the brush painted.
            parts.append(f'<rect class="area" width="{width}" height="{height}" fill="{brush.colour}" '
                         f'mask="url(#{ids[inlined]})"/>')
    scale = min(width, height)
    for brush in masks:
        if not brush.path:
            continue
        points = [(x, height - y) for x, y in brush.path]
        parts.append(
            f'<g class="path" style="color:{brush.colour}">'
            f'<polyline class="trail" stroke="currentColor" vector-effect="non-scaling-stroke" '
            f'points="{" ".join(f"{x},{y}" for x, y in points)}"/>'
            f'<circle class="start" fill="currentColor" cx="{points[0][0]}" cy="{points[0][1]}" r="{0.022 * scale:.1f}"/>'
            f'<path class="head" fill="currentColor" d="{_arrowhead(points, 0.05 * scale)}"/></g>')
    said = html.escape("the masks and motion paths over the start image: " + "; ".join(b.said for b in masks))
    return (f'<figure class="brush"><div class="over" style="--w:{width};--h:{height}">'
            f'<img alt="the start image" src="{start}" width="{width}" height="{height}">'
            f'<svg class="masks" viewBox="0 0 {width} {height}" preserveAspectRatio="none" role="img" '
            f'aria-label="{said}"><title>{said}</title><defs>{"".join(defs)}</defs>{"".join(parts)}</svg></div>'
            f"<figcaption>{key_list}</figcaption></figure>")


def _arrowhead(points: list[tuple[int, int]], length: float) -> str:
    """A triangle whose tip is the path's last point, pointing along its last stretch (to the
    right when the path never moves)."""
    ex, ey = points[-1]
    px, py = next((p for p in reversed(points) if p != points[-1]), (ex - 1, ey))
    stretch = math.hypot(ex - px, ey - py)
    dx, dy = (ex - px) / stretch, (ey - py) / stretch
    bx, by, wing = ex - dx * length, ey - dy * length, 0.55 * length  # the base, across the stretch
    return f"M {ex} {ey} L {bx - dy * wing:.1f} {by + dx * wing:.1f} L {bx + dy * wing:.1f} {by - dx * wing:.1f} Z"


def _render(card: _Card, rendered: Rendered) -> str:
    """The card's video (its chosen take) and how its render went, from the run's state; and its
    other takes beside it, the chosen one marked."""
    from ..engine.runner import take_name
    from ..engine.takes import shot_takes, take

    asked = rendered.asked or {}
    chosen = take_name(card.name, card.pick)
    found = take(rendered.state(chosen), rendered.videos, chosen, card.endpoint, card.body, asked.get(chosen))
    state = found.state
    takes = shot_takes(card.name, card.takes, rendered.names()) if card.takes > 1 or card.pick > 1 else []
    if state is None:
        return '<p class="status">not rendered yet</p>' + _takes(card, rendered, takes, asked)
    said = [f"status: {state.status}"] + ([f"take {card.pick} of {len(takes)} (chosen)"] if takes else [])
    if state.credits:
        said.append(f"cost: {state.credits} {'credit' if state.credits == '1' else 'credits'}")
    out = []
    if found.stale:
        out.append('<p class="stale">changed since its render: the video below is of the shot as it was</p>')
    if found.downloaded:
        if found.runs is not None:
            said.append(f"runs {found.runs:.2f} s")
        out.append(_player(found.video, rendered, f"the video of {card.name}", "shot"))
    elif found.missing:
        said.append(found.missing)
    if state.status == "failed" and state.status_msg:
        said.append(f"why: {state.status_msg}")
    return "".join(out) + f'<p class="status">{html.escape("; ".join(said))}</p>' + _takes(card, rendered, takes, asked)


def _player(video: Path, rendered: Rendered, label: str, kind: str) -> str:
    link = quote(Path(os.path.relpath(video, rendered.page.parent)).as_posix())  # `#`, `?`, `%`
    return (f'<video class="{kind}" controls preload="metadata" src="{html.escape(link)}" '
            f'aria-label="{html.escape(label)}"></video>')


def _takes(card: _Card, rendered: Rendered, takes: list[tuple[int, str]], asked: dict[str, tuple[str, ...]]) -> str:
    """A shot's takes side by side, each with its number, the chosen one marked."""
    from ..engine.takes import take

    if not takes:
        return ""
    out = ['<div class="takes">']
    for number, name in takes:
        found = take(rendered.state(name), rendered.videos, name, card.endpoint, card.body, asked.get(name))
        chosen = number == card.pick
        label = f"take {number}" + (" (chosen)" if chosen else "")
        inside = (_player(found.video, rendered, f"{label} of {card.name}", "take") if found.downloaded else
                  f'<p class="meta">{"not rendered yet" if found.state is None else html.escape(found.state.status)}</p>')
        out.append(f'<figure class="take{" chosen" if chosen else ""}">{inside}'
                   f'<figcaption>{html.escape(label)}</figcaption></figure>')
    return "".join(out) + "</div>"


def image_size(value: str) -> tuple[int, int] | None:
    """The width and height of an image given as compile sends it (Base64), read as the
    compiler reads it (images.py); None for a URL or anything else (the frame is then 16:9)."""
    if URL.match(value):
        return None
    try:
        info = inspect_image(base64.b64decode(value, validate=True))
    except (ValueError, NotAnImage):
        return None
    return (info.width, info.height) if info.width and info.height else None


_PNG_BASE64 = base64.b64encode(PNG_SIGNATURE)[:8].decode()  # how a PNG's Base64 begins ("iVBORw0K")


def _inlined(value: str | None) -> str | None:
    """A local image as a data URI, from what compile sends (Base64); None for a URL (the page
    fetches nothing from another host) or no image."""
    if value is None or URL.match(value):
        return None
    kind = "png" if value.startswith(_PNG_BASE64) else "jpeg"  # what compile inlines is one or the other
    return f"data:image/{kind};base64,{html.escape(value)}"


def _thumb(what: str, value: str) -> str:
    """A local image, inlined; a URL only named."""
    inlined = _inlined(value)
    if inlined is None:
        return f'<p class="meta">{what} image: {html.escape(value)}</p>'
    return f'<figure><img alt="the {what} image" src="{inlined}"><figcaption>{what}</figcaption></figure>'
