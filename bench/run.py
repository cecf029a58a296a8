"""shotlang's benchmark: compile throughput, start-up time and memory, side by side in one run.

    python bench/run.py                    # 1k, 10k and 100k shots, 5 repeats, table + JSON
    python bench/run.py --sizes 1000 --repeat 3 --json bench/results.json

Measures, on the same generated shot lists (docs/performance.md explains each):
  A  shotlang: compile the .shot text to the JSON envelope, in process (parse, lower, check, emit)
  B  the alternative: the same shots as YAML, PyYAML's C loader, equivalent pydantic models, the
     same JSON
  C  Lark's lexer alone over the .shot text: the floor of a Lark-based design
  F  shotlang fmt on the same .shot text: check it, then write it in canonical form
  S  shotlang storyboard on the same .shot text: the check, then the HTML page (in process)
  T  shotlang timeline: compile, then the OpenTimelineIO cut written as OTIO text (no videos;
     left out when the timeline extra is not installed)
  L  the language server (`shotlang lsp`, a real process): the time from an edit of a 1,000-shot
     list to its diagnostics, median over 20 edits of each of four kinds (bench/lsp_latency.py)
and, as whole processes, `shotlang check` on a 20-shot file against
`python -c "import lark, pydantic, click"`, the peak memory of compiling the largest file, and
`shotlang check` on one line of 50 MB (a prompt that long): its time, peak memory and output.
Reports medians and the ratios the targets are stated in.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import lsp_latency  # beside this file
import yaml
from pydantic import BaseModel, Field, field_validator

import shotlang
from shotlang.cli import gc_paused
from shotlang.compiler import kling
from shotlang.compiler.models import built_in
from shotlang.compiler.parser import _parser
from shotlang.compiler.vocabulary import INTENSITIES, JERKY_FROM, MOVES, VISIBLE_FROM
from shotlang.tools.fmt import format_text
from shotlang.tools.storyboard import storyboard

HERE = Path(__file__).resolve().parent

# --- realistic shot lists ----------------------------------------------------------------------

SUBJECTS = ["a medieval castle on a cliff", "a tiger in tall grass", "a neon-lit street in the rain",
            "an old fisherman mending nets", "a glass skyscraper at dawn", "a forest path in fog",
            "a lighthouse in a storm", "children flying kites on a beach", "a desert caravan at dusk"]
DETAILS = ["golden hour light", "mist rolling through the valley", "reflections on wet cobblestones",
           "birds wheeling overhead", "dust motes in shafts of light", "waves breaking on the rocks",
           "soft bokeh in the background", "film grain, anamorphic lens", "long shadows across the ground"]
SIMPLE = [m for m in MOVES if m.seed is not None]


# One shot in WARN_EVERY draws a warning (W101: a numeric move at 9, on kling-v1-6, which
# renders its camera_control as numbers), and no other does: `shotlang compile` prints each,
# so A's time holds rendering them (issue 23: a warning's rendering once cost 1.4 ms).
WARN_EVERY = 8
CALM = [w for w in ("subtle", "gentle", "slow", "moderate", "strong", "dramatic") if VISIBLE_FROM <= INTENSITIES[w] < JERKY_FROM]


def generate(count: int, seed: int = 7) -> list[dict[str, Any]]:
    """Shots as plain data: what both the .shot and the YAML versions are written from."""
    rng = random.Random(seed)
    shots = []
    for i in range(count):
        prompt = f"{rng.choice(SUBJECTS).capitalize()}, " + ", ".join(rng.sample(DETAILS, rng.randint(2, 5)))
        shot: dict[str, Any] = {"name": f"shot-{i:06d}", "scene": f"Scene {i // 25 + 1}", "prompt": prompt,
                                "duration": rng.choice(["5", "10"]), "mode": rng.choice(["std", "pro"])}
        roll = rng.random()
        if i % WARN_EVERY == WARN_EVERY - 1:
            shot.update(move="pan right", magnitude=JERKY_FROM, model="kling-v1-6")
            shots.append(shot)
            continue
        if roll < 0.75:
            move = rng.choice(SIMPLE)
            shot["move"] = move.name
            low, high = move.recommended or (4, 6)
            low, high = max(low, VISIBLE_FROM), min(high, JERKY_FROM - 1)  # no strength warning
            calm = [w for w in CALM if low <= INTENSITIES[w] <= high]
            if calm and rng.random() < 0.5:
                shot["intensity"] = rng.choice(calm)
            else:
                shot["magnitude"] = rng.randint(low, high)
        if rng.random() < 0.3:
            shot["negative"] = "blur, text, watermark"
        if rng.random() < 0.2:
            shot["model"] = rng.choice(["kling-v2-master", "kling-v2-1-master", "kling-v1-6"])
            if shot["model"].endswith("-master"):
                shot["mode"] = "std"  # Kling's map: the master models have one mode
        if rng.random() < 0.15:
            shot["image"] = f"https://example.com/stills/{i}.jpg"
            shot["model"] = "kling-v2-1"
        elif rng.random() < 0.5:
            shot["aspect"] = rng.choice(["16:9", "9:16", "1:1"])
        shots.append(shot)
    return shots


def to_shot_text(shots: list[dict[str, Any]], notes: bool = False) -> str:
    """The shot list; with `notes`, a Fountain note on a line of its own under each shot (what
    the language server and fmt keep out of the statements)."""
    lines = ['TITLE "Benchmark"', "MODEL kling-v2-6", ""]
    scene = None
    for s in shots:
        if s["scene"] != scene:
            scene = s["scene"]
            lines += ["", f'SCENE "{scene}"', f"# {scene}: shots generated for the benchmark"]
        move = ""
        if "move" in s:
            move = f"{s.get('intensity', '')} {s['move']} {s.get('magnitude', '')} over ".replace("  ", " ").strip()
            move += " "
        opts = [f"{s['duration']}s", s["mode"]]
        for key, word in (("negative", "negative"), ("image", "image")):
            if key in s:
                opts.append(f'{word} "{s[key]}"')
        if "model" in s:
            opts.append(f"model {s['model']}")
        if "aspect" in s:
            opts.append(s["aspect"])
        lines.append(f'SHOT {s["name"]}: {move}"{s["prompt"]}"\n    {" ".join(opts)}')
        if notes:
            lines.append(f"[[ {s['name']}: check the light against the shot before it ]]")
    return "\n".join(lines) + "\n"


def to_yaml_text(shots: list[dict[str, Any]]) -> str:
    doc = {"title": "Benchmark", "model": "kling-v2-6", "shots": shots}
    return yaml.dump(doc, Dumper=yaml.CSafeDumper, sort_keys=False, allow_unicode=True)


# --- B: the YAML + pydantic alternative ------------------------------------------------------------

MOVE_TABLE = {m.name: m for m in MOVES}
MODEL_NAMES = frozenset(built_in().models)


class YamlShot(BaseModel):
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
    scene: str | None = None
    prompt: str = Field(max_length=kling.TEXT_MAX_CHARS)
    duration: str = Field(kling.DEFAULT_DURATION, pattern=r"^(5|10)$")
    mode: kling.Mode | None = None
    model: str | None = None
    move: str | None = None
    intensity: str | None = None
    magnitude: int | None = Field(None, ge=1, le=kling.MAGNITUDE_MAX)
    negative: str | None = Field(None, max_length=kling.TEXT_MAX_CHARS)
    image: str | None = None
    aspect: str | None = Field(None, pattern=r"^(16:9|9:16|1:1)$")

    @field_validator("move")
    @classmethod
    def _known_move(cls, v: str | None) -> str | None:
        if v is not None and v not in MOVE_TABLE:
            raise ValueError(f"unknown move {v}")
        return v

    @field_validator("intensity")
    @classmethod
    def _known_intensity(cls, v: str | None) -> str | None:
        if v is not None and v not in INTENSITIES:
            raise ValueError(f"unknown intensity {v}")
        return v

    @field_validator("model")
    @classmethod
    def _known_model(cls, v: str | None) -> str | None:
        if v is not None and v not in MODEL_NAMES:
            raise ValueError(f"unknown model {v}")
        return v


class YamlShotList(BaseModel):
    title: str | None = None
    model: str = kling.DEFAULT_MODEL
    shots: list[YamlShot]


def yaml_compile(text: str) -> str:
    doc = YamlShotList.model_validate(yaml.load(text, Loader=yaml.CSafeLoader))
    out = []
    for s in doc.shots:
        body: dict[str, Any] = {"model_name": s.model or doc.model}
        if s.image:
            body["image"] = s.image
        body["prompt"] = s.prompt
        if s.negative:
            body["negative_prompt"] = s.negative
        if s.mode:
            body["mode"] = s.mode
        if s.aspect and not s.image:
            body["aspect_ratio"] = s.aspect
        body["duration"] = s.duration
        if s.move:
            move = MOVE_TABLE[s.move]
            axis = move.seed
            if axis is not None:
                magnitude = s.magnitude or INTENSITIES.get(s.intensity or "", 5)
                config = dict.fromkeys(kling.CAMERA_FIELDS, 0)
                config[axis.field] = axis.sign * magnitude
                body["camera_control"] = {"type": "simple", "config": config}
        endpoint = kling.IMAGE2VIDEO if s.image else kling.TEXT2VIDEO
        out.append({"name": s.name, "scene": s.scene, "line": 0, "method": "POST", "endpoint": endpoint,
                    "body": body})
    envelope = {"shotlang_format": 1, "source": "bench.yaml", "title": doc.title, "axes": "seed", "shots": out}
    return json.dumps(envelope, indent=2, ensure_ascii=False) + "\n"


# --- A and C ----------------------------------------------------------------------------------------


def shotlang_compile(text: str) -> tuple[str, str]:
    """`shotlang compile`'s work on one file: the JSON, and the warnings as it prints them."""
    # As `shotlang compile` does it: the program, not the library, pauses the cycle collector.
    with gc_paused():
        result = shotlang.compile_text(text, "bench.shot")
        assert result.output is not None, result.render()[:2000]
        return result.output.to_json(), result.render()


def fmt_text(text: str) -> str:
    """shotlang fmt's work on one file: the full check, then the canonical text."""
    done = format_text(text, "bench.shot", HERE)
    assert done.text is not None, "the generated shot list has errors"
    return done.text


def storyboard_page(text: str) -> str:
    """shotlang storyboard's work on one file: the check, then the page."""
    board = storyboard(text, "bench.shot", HERE)
    assert board.html is not None, "the generated shot list has errors"
    return board.html


HAS_OTIO = importlib.util.find_spec("opentimelineio") is not None


def timeline_text(text: str) -> str:
    """shotlang timeline's work on one file before any run: compile, the cut, its OTIO text."""
    import opentimelineio as otio

    from shotlang.tools.timeline import build

    result = shotlang.compile_text(text, "bench.shot")
    assert result.output is not None
    cut = build(result.output.title or "bench", result.output.records, lambda name: None, HERE)
    return str(otio.adapters.write_to_string(cut, adapter_name="otio_json"))


def lark_lex(text: str) -> int:
    parser, _ = _parser()
    return sum(1 for _ in parser.lex(text))


# --- measuring -----------------------------------------------------------------------------------


def median_time(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def median_process(cmd: list[str], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def peak_memory_mb(path: Path) -> float:
    """Peak resident memory of a fresh process that compiles `path` to JSON.

    Read from VmHWM in /proc (Linux), which starts afresh at exec; ru_maxrss would also count
    the moment after fork when the child still shares this large benchmark process's pages.
    """
    code = ("import sys, shotlang\n"
            "r = shotlang.compile_file(sys.argv[1]); r.output.to_json()\n"
            "status = open('/proc/self/status').read()\n"
            "print(next(l.split()[1] for l in status.splitlines() if l.startswith('VmHWM')))")
    out = subprocess.run([sys.executable, "-c", code, str(path)], check=True, capture_output=True, text=True)
    return int(out.stdout.strip()) / 1024  # kB


def long_line_check(folder: Path, mb: int) -> dict[str, float]:
    """`shotlang check` on a file of one line, a prompt of `mb` MB: seconds, peak resident
    memory (VmHWM, read by the process itself as it exits) and bytes printed.

    A hostile or broken file, not a shot list anyone writes; what it shows is that a line's
    length costs no more than its bytes: before the fix this took 10 GB and printed 100 MB.
    """
    path = folder / "long-line.shot"
    with open(path, "w", encoding="utf-8") as f:
        f.write('SHOT a: "' + "x" * (mb * 2**20) + '"\n')
    code = ("import sys\n"
            "from shotlang.cli import run\n"
            "sys.argv = ['shotlang', 'check', sys.argv[1]]\n"
            "try:\n    run()\n"
            "except SystemExit:\n    pass\n"
            "sys.stdout.flush()\n"
            "status = open('/proc/self/status').read()\n"
            "print(next(l.split()[1] for l in status.splitlines() if l.startswith('VmHWM')), file=sys.stderr)")
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True)
    seconds = time.perf_counter() - start
    path.unlink()
    return {"mb": mb, "seconds": seconds, "peak_mb": int(done.stderr.split()[-1]) / 1024,
            "output_bytes": len(done.stdout)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    ap.add_argument("--repeat", type=int, default=5, help="runs per measurement; the median is reported")
    ap.add_argument("--json", type=Path, default=HERE / "results.json", help="where to write the figures")
    ap.add_argument("--long-line-mb", type=int, default=50, help="length of the one-line file checked")
    ap.add_argument("--lsp-shots", type=int, default=1000, help="shots in the file the language server edits")
    ap.add_argument("--lsp-edits", type=int, default=20, help="edits of each kind timed in the language server")
    args = ap.parse_args()

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            shots = generate(size)
            shot_text, yaml_text = to_shot_text(shots), to_yaml_text(shots)
            compiled, warned = shotlang_compile(shot_text)
            assert json.loads(compiled)["shots"][0]["body"] == \
                json.loads(yaml_compile(yaml_text))["shots"][0]["body"], "A and B must produce the same request"
            warnings = warned.count("warning[")
            assert size // WARN_EVERY <= warnings <= size // WARN_EVERY + 1, f"{warnings} warnings in {size} shots"
            repeat = args.repeat if size <= 10000 else max(1, args.repeat // 2)
            a = median_time(lambda t=shot_text: shotlang_compile(t), repeat)
            b = median_time(lambda t=yaml_text: yaml_compile(t), repeat)
            c = median_time(lambda t=shot_text: lark_lex(t), repeat)
            f = median_time(lambda t=shot_text: fmt_text(t), repeat)
            sb = median_time(lambda t=shot_text: storyboard_page(t), repeat)
            tl = median_time(lambda t=shot_text: timeline_text(t), repeat) if HAS_OTIO else None
            rows.append({"shots": size, "warnings": warnings, "bytes": len(shot_text.encode()), "A_shotlang_s": a, "B_yaml_pydantic_s": b,
                         "C_lark_lexer_s": c, "F_fmt_s": f, "S_storyboard_s": sb, "T_timeline_s": tl,
                         "A_us_per_shot": a / size * 1e6, "B_over_A": b / a, "A_over_C": a / c,
                         "F_shots_per_s": size / f, "S_over_A": sb / a, "T_over_A": tl / a if tl else None})
            timed = f"  T {tl:7.3f}s" if tl is not None else "  T (no OpenTimelineIO)"
            print(f"{size:>7} shots ({warnings} warnings): A {a:7.3f}s  B {b:7.3f}s  C {c:7.3f}s  F {f:7.3f}s  S {sb:7.3f}s{timed}  "
                  f"B/A {b / a:4.2f}  A/C {a / c:4.2f}  S/A {sb / a:4.2f}  A {a / size * 1e6:6.1f} us/shot  "
                  f"fmt {size / f:,.0f} shots/s", flush=True)

        small = Path(tmp) / "small.shot"
        small.write_text(to_shot_text(generate(20)))
        largest = Path(tmp) / "largest.shot"
        largest.write_text(to_shot_text(generate(max(args.sizes))))
        runs = max(args.repeat, 5) * 2
        check = median_process([sys.executable, "-m", "shotlang", "check", str(small)], runs)
        floor = median_process([sys.executable, "-c", "import lark, pydantic, click"], runs)
        memory = peak_memory_mb(largest)
        long_line = long_line_check(Path(tmp), args.long_line_mb)
    lsp = lsp_latency.measure_if_installed(args.lsp_shots, args.lsp_edits)

    first, last = rows[0], rows[-1]
    result = {
        "machine": {"python": platform.python_version(), "platform": platform.platform(),
                    "processor": platform.processor() or platform.machine()},
        "sizes": rows,
        "startup": {"check_20_shots_s": check, "import_floor_s": floor, "ratio": check / floor},
        "peak_memory_mb": {"shots": max(args.sizes), "mb": memory},
        "long_line": long_line,
        "lsp": lsp,
        "scaling": {"us_per_shot_first": first["A_us_per_shot"], "us_per_shot_last": last["A_us_per_shot"],
                    "ratio": last["A_us_per_shot"] / first["A_us_per_shot"]},
    }
    print()
    print(f"start-up: shotlang check (20 shots) {check * 1000:.0f} ms, import floor {floor * 1000:.0f} ms, "
          f"ratio {check / floor:.2f}")
    print(f"peak memory compiling {max(args.sizes)} shots: {memory:.0f} MB")
    print(f"one line of {long_line['mb']} MB: shotlang check {long_line['seconds']:.1f}s, "
          f"peak {long_line['peak_mb']:.0f} MB, {long_line['output_bytes']:.0f} bytes printed")
    print(lsp_latency.describe(lsp))
    print(f"scaling: {first['A_us_per_shot']:.1f} us/shot at {first['shots']}, "
          f"{last['A_us_per_shot']:.1f} at {last['shots']} (ratio {result['scaling']['ratio']:.2f})")
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    print(f"figures written to {args.json}")


if __name__ == "__main__":
    main()
