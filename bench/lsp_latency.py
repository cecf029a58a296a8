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

    def rank(q: float) -> float:
        return ordered[round(q * (len(ordered) - 1))]

    return {"median_ms": statistics.median(ordered), "p90_ms": rank(0.9), "p95_ms": rank(0.95),
            "max_ms": ordered[-1], "edits": len(ordered)}


BURST = 10  # keystrokes sent back to back, as a fast typist's editor sends them


def measure(shots: int = 1000, edits: int = 20, seed: int = 7, notes: bool = True) -> dict[str, Any]:
    """Open a `shots`-shot list (with `notes`, a note on a line of its own under each shot) in a
    fresh server; time `edits` edits of each kind, a burst of BURST keystrokes (from the last
    one sent to its diagnostics, and how many of the versions before it were checked at all),
    then formatting the whole file."""
    sys.path.insert(0, str(HERE))
    from run import generate, to_shot_text

    from shotlang.compiler.pipeline import analyse
    from shotlang.tools.lsp.client import Client

    text = to_shot_text(generate(shots, seed), notes=notes)
    rng = random.Random(seed)
    slow = max(60.0, shots / 100)  # seconds to wait for the first check of a large file
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = folder / "bench.shot"
        path.write_text(text)
        uri = path.as_uri()

        def published(version: int) -> tuple[float, dict[str, Any]]:
            return client.wait_for("textDocument/publishDiagnostics",
                                   lambda p: p["uri"] == uri and p.get("version") == version, slow)

        with Client([sys.executable, "-m", "shotlang", "lsp"], cwd=folder) as client:
            client.initialize(folder)
            sent = client.notify("textDocument/didOpen", {"textDocument": {
                "uri": uri, "languageId": "shot", "version": 1, "text": text}})
            arrived, _ = published(1)
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
                    arrived, message = published(version)
                    times[kind].append((arrived - sent) * 1000)
                    lines = _apply(lines, change)
            # A burst: each keystroke its own didChange, none waiting for the one before.
            line, column, _, _, _ = _edit("type", lines, rng)
            first = version + 1
            for i in range(BURST):
                version += 1
                typed = (line, column + i, line, column + i, "abcdefghij"[i % 10])
                sent = client.change(uri, version, [{"range": {
                    "start": {"line": line, "character": column + i},
                    "end": {"line": line, "character": column + i}}, "text": typed[4]}])
                lines = _apply(lines, typed)
            arrived, message = published(version)
            burst_ms = (arrived - sent) * 1000
            checked = sum(1 for _, m in client.notifications if m.get("method") == "textDocument/publishDiagnostics"
                          and first <= m["params"].get("version", 0) < version)
            final_diagnostics = [(d["code"], d["range"]["start"]["line"] + 1) for d in message["params"]["diagnostics"]]
            started = time.perf_counter()
            client.request("textDocument/formatting", {"textDocument": {"uri": uri},
                                                       "options": {"tabSize": 4, "insertSpaces": True}}, slow)
            format_s = time.perf_counter() - started
            client.close()
        # What the server said last is what check says of the text it ended with; and what
        # reading that text whole takes, in process (what each edit would cost without live.py).
        final = "\n".join(lines)
        expected = [(d.code, d.span.line) for d in analyse(final, str(path), folder).diagnostics]
        assert final_diagnostics == expected, f"the server published {final_diagnostics}, check gives {expected}"
        whole = []
        for _ in range(3):
            started = time.perf_counter()
            analyse(final, str(path), folder)
            whole.append((time.perf_counter() - started) * 1000)
    everything = [t for kind in KINDS for t in times[kind]]
    return {"shots": shots, "notes": notes, "bytes": len(text.encode()), "open_s": opened, **_summary(everything),
            "kinds": {kind: _summary(times[kind]) for kind in KINDS},
            "burst": {"keystrokes": BURST, "last_ms": burst_ms, "versions_checked_before_the_last": checked},
            "format_s": format_s, "analyse_whole_ms": statistics.median(whole)}


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
    burst = figures["burst"]
    return (f"language server, {figures['shots']:,} shots{' with a note under each' if figures['notes'] else ''}: "
            f"re-check after an edit median {figures['median_ms']:.1f} ms (p95 {figures['p95_ms']:.1f}, "
            f"worst {figures['max_ms']:.1f}; by kind, medians: {kinds}); {burst['keystrokes']} keystrokes "
            f"back to back: the last one's diagnostics {burst['last_ms']:.0f} ms after it, "
            f"{burst['versions_checked_before_the_last']} earlier versions checked; formatting "
            f"{figures['format_s']:.2f} s; first check on opening {figures['open_s'] * 1000:.0f} ms; "
            f"analyse of the whole file in process {figures['analyse_whole_ms']:.0f} ms")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shots", type=int, nargs="+", default=[1000, 50000], help="sizes of the shot lists")
    ap.add_argument("--edits", type=int, default=20, help="edits of each kind")
    ap.add_argument("--no-notes", dest="notes", action="store_false", help="no note under each shot")
    ap.add_argument("--json", type=Path, help="where to write the figures")
    args = ap.parse_args()
    results = []
    for shots in args.shots:
        started = time.perf_counter()
        figures = measure(shots, args.edits, notes=args.notes)
        print(describe(figures))
        print(f"({time.perf_counter() - started:.1f} s)", flush=True)
        results.append(figures)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
