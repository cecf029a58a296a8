"""The language server's re-check latency, measured as an editor meets it.

    python bench/lsp_latency.py                         # 1,000 shots, 20 edits of each kind
    python bench/lsp_latency.py --shots 1000 --edits 20 --json /tmp/lsp.json

A real `shotlang lsp` process, spoken to over its standard input and output by
shotlang/tools/lsp/client.py: a generated shot list (bench/run.py's, realistic) is opened, then edited
with incremental didChange messages. The latency of an edit is the time from writing its
didChange to reading the publishDiagnostics for that document version (the client's reader
thread notes when each message arrives). Edits of four kinds, taken in turn at random places:

  type     a character typed in a prompt
  rename   a character of a shot's name changed (the duplicate-name check looks again)
  newline  a comment line added above a shot (every line below moves)
  delete   a whole shot removed (its two lines)

It reports, for each kind and for all edits, the median, the 90th percentile and the worst,
the time to the first diagnostics after didOpen (the whole file checked), and, for scale, what
analyse() takes over the whole file in this process: what every edit would cost a server that
read everything again. bench/run.py runs it and puts the figures in its table and JSON;
docs/performance.md records them.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
KINDS = ("type", "rename", "newline", "delete")


def _edit(kind: str, lines: list[str], rng: random.Random) -> tuple[int, int, int, int, str]:
    """One edit of `kind` at a random shot: (line, character, end line, end character, text),
    the characters counted as the protocol does (the generated text is ASCII)."""
    shots = [i for i, line in enumerate(lines) if line.startswith("SHOT ")]
    at = rng.choice(shots)
    line = lines[at]
    if kind == "type":
        column = line.index('"') + 1 + rng.randrange(10)
        return at, column, at, column, rng.choice("abcdefghij ")
    if kind == "rename":
        column = line.index(":") - 1  # the last digit of `shot-000123`
        return at, column, at, column + 1, str(rng.randrange(10))
    if kind == "newline":
        return at, 0, at, 0, "# a note about the next shot\n"
    return at, 0, at + 2, 0, ""  # the SHOT line and its line of options


def _apply(lines: list[str], edit: tuple[int, int, int, int, str]) -> list[str]:
    line, column, end_line, end_column, text = edit
    joined = "\n".join(lines)
    offsets = [0]
    for each in lines:
        offsets.append(offsets[-1] + len(each) + 1)
    start, end = offsets[line] + column, offsets[end_line] + end_column
    return (joined[:start] + text + joined[end:]).split("\n")


def _summary(ms: list[float]) -> dict[str, float]:
    ordered = sorted(ms)
    return {"median_ms": statistics.median(ordered), "p90_ms": ordered[int(0.9 * (len(ordered) - 1))],
            "max_ms": ordered[-1], "edits": len(ordered)}


def measure(shots: int = 1000, edits: int = 20, seed: int = 7) -> dict[str, Any]:
    """Open a `shots`-shot list in a fresh server and time `edits` edits of each kind."""
    sys.path.insert(0, str(HERE))
    from run import generate, to_shot_text

    from shotlang.compiler.pipeline import analyse
    from shotlang.tools.lsp.client import Client

    text = to_shot_text(generate(shots, seed))
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = folder / "bench.shot"
        path.write_text(text)
        uri = path.as_uri()
        with Client([sys.executable, "-m", "shotlang", "lsp"], cwd=folder) as client:
            client.initialize(folder)
            sent = client.notify("textDocument/didOpen", {"textDocument": {
                "uri": uri, "languageId": "shot", "version": 1, "text": text}})
            arrived, _ = client.wait_for("textDocument/publishDiagnostics", lambda p: p["uri"] == uri, 120)
            opened = arrived - sent
            lines = text.split("\n")
            times: dict[str, list[float]] = {kind: [] for kind in KINDS}
            version = 1
            for _ in range(edits):
                for kind in KINDS:
                    version += 1
                    line, column, end_line, end_column, new = change = _edit(kind, lines, rng)
                    sent = client.change(uri, version, [{"range": {
                        "start": {"line": line, "character": column},
                        "end": {"line": end_line, "character": end_column}}, "text": new}])
                    arrived, message = client.wait_for(
                        "textDocument/publishDiagnostics", lambda p, v=version: p["uri"] == uri and p["version"] == v, 60)
                    times[kind].append((arrived - sent) * 1000)
                    lines = _apply(lines, change)
            published = [(d["code"], d["range"]["start"]["line"] + 1) for d in message["params"]["diagnostics"]]
            client.close()
        # What the server said last is what check says of the text it ended with; and what
        # reading that text whole takes, in process (what each edit would cost without live.py).
        final = "\n".join(lines)
        expected = [(d.code, d.span.line) for d in analyse(final, str(path), folder).diagnostics]
        assert published == expected, f"the server published {published}, check gives {expected}"
        whole = []
        for _ in range(5):
            started = time.perf_counter()
            analyse(final, str(path), folder)
            whole.append((time.perf_counter() - started) * 1000)
    everything = [t for kind in KINDS for t in times[kind]]
    return {"shots": shots, "bytes": len(text.encode()), "open_s": opened, **_summary(everything),
            "kinds": {kind: _summary(times[kind]) for kind in KINDS}, "analyse_whole_ms": statistics.median(whole)}


def measure_if_installed(shots: int, edits: int) -> dict[str, Any] | None:
    """As measure, or None when the lsp extra (pygls) is not installed."""
    import importlib.util

    if importlib.util.find_spec("pygls") is None:
        return None
    return measure(shots, edits)


def describe(figures: dict[str, Any] | None) -> str:
    if figures is None:
        return "language server: not measured (pip install 'shotlang[lsp]')"
    kinds = ", ".join(f"{kind} {figures['kinds'][kind]['median_ms']:.1f}" for kind in KINDS)
    return (f"language server, {figures['shots']:,} shots: re-check after an edit median "
            f"{figures['median_ms']:.1f} ms (p90 {figures['p90_ms']:.1f}, worst {figures['max_ms']:.1f}; "
            f"by kind, medians: {kinds}); first check on opening {figures['open_s'] * 1000:.0f} ms; "
            f"analyse of the whole file in process {figures['analyse_whole_ms']:.0f} ms")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shots", type=int, default=1000)
    ap.add_argument("--edits", type=int, default=20, help="edits of each kind")
    ap.add_argument("--json", type=Path, help="where to write the figures")
    args = ap.parse_args()
    started = time.perf_counter()
    figures = measure(args.shots, args.edits)
    print(describe(figures))
    print(f"({time.perf_counter() - started:.1f} s)")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
