"""shotlang's run-engine benchmark: what `shotlang run` costs per shot, and how close it comes to
the account's limit. Every figure comes from the real CLI, as a process, against the local Kling
server (shotlang.testing.FakeKling) on 127.0.0.1.

    python bench/engine.py --real-time          # what docs/performance.md quotes (the 1:1 run takes ~30 s)
    python bench/engine.py --sizes 500 2000 --limit-shots 16 --json /tmp/engine.json
    git worktree add /tmp/before 226d755 && python bench/engine.py --compare-with /tmp/before

1. State cost: N shots whose tasks finish at once (the server renders instantly), concurrency
   16. Everything a run pays per shot besides the network (the state journal, planning, the
   threads) shows as time per shot; flat from 500 to 10,000 shots means O(1) per event.
2. At the account's limit: N shots can finish no sooner than ceil(N / the account's
   concurrency) x render time. The server renders in 6 s and runs 4 tasks at once, with time
   scaled 1:20 (0.3 s renders, --poll-interval 0.25) at several --concurrency values, and once at
   1:1 (6 s renders, --poll-interval 5); then again with renders that vary by up to 20% either
   way, as real ones do (the limit is then the soonest those renders could all end, each started
   the moment a slot freed). Reports the span (first create to last video saved, from the run's
   own --json events) over that limit, and the status queries (single and list) per shot. At
   1:1 also from a server that writes created_at/updated_at in seconds, not milliseconds.

--compare-with DIR runs every measurement a second time, side by side, with the shotlang
package of another source tree (say an older commit checked out in DIR), on the same server.
"""

from __future__ import annotations

import argparse
import heapq
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from shotlang.testing import FakeKling

HERE = Path(__file__).resolve().parent


def shot_list(count: int) -> str:
    moves = ["slow pan right", "gentle zoom in", "tilt up 4", "dramatic roll left", "crane down"]
    lines = ['TITLE "Benchmark"', "DEFAULTS 5s std"]
    lines += [f'SHOT s{i:06d}: {moves[i % len(moves)]} over "A lighthouse in a storm, take {i}"'
              for i in range(count)]
    return "\n".join(lines) + "\n"


SOURCE = Path(__file__).resolve().parent.parent  # the shotlang measured, unless --compare-with
SPREAD = 0.2  # how much renders vary in the rows that say so: 6 s ± 1.2 s


def run_cli(server: FakeKling, folder: Path, count: int, *args: str,
            source: Path = SOURCE) -> tuple[float, list[dict[str, Any]], int]:
    """Runs `shotlang run --json` from `source`; returns the wall time, the events, the exit code."""
    film = folder / "film.shot"
    film.write_text(shot_list(count))
    env = {k: v for k, v in os.environ.items() if not k.startswith("KLING_")}
    env.update(server.env(), SHOTLANG_CONFIG="/nonexistent/config.toml", PYTHONPATH=str(source))
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "shotlang", "run", str(film), "--json", "--retry-base", "0.01",
                           *args], capture_output=True, text=True, env=env, timeout=3600, cwd=folder)
    wall = time.perf_counter() - start
    if done.returncode not in (0, 4):
        raise SystemExit(f"shotlang run failed ({done.returncode}):\n{done.stderr[-2000:]}")
    events = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    return wall, events, done.returncode


def state_cost(sizes: list[int], source: Path = SOURCE, label: str = "") -> list[dict[str, Any]]:
    rows = []
    for count in sizes:
        with tempfile.TemporaryDirectory() as tmp, FakeKling(task_seconds=0) as server:
            wall, events, _code = run_cli(server, Path(tmp), count, "--concurrency", "16", "--poll-interval", "0.05",
                                          source=source)
            engine = _span(events)
            assert server.stats.creates == count, (server.stats.creates, count)
            rows.append({"shots": count, "wall_s": round(wall, 2), "engine_s": round(engine, 2),
                         "per_shot_ms": round(1000 * engine / count, 3), "creates": server.stats.creates})
            print(f"  {label}{count:>6} shots  wall {wall:7.2f} s  engine {engine:7.2f} s  "
                  f"{1000 * engine / count:6.2f} ms a shot  creates {server.stats.creates}", flush=True)
    return rows


def _span(events: list[dict[str, Any]]) -> float:
    """First create sent to last video saved, on the run's own clock."""
    submitted = [e["elapsed"] for e in events if e["event"] == "submitting"]
    finished = [e["elapsed"] for e in events if e["event"] == "done"]
    return max(finished) - min(submitted)


def ideal(renders: list[float], account: int) -> float:
    """The soonest these renders, in the order they were created, can all be done when the
    account runs `account` at once: each starts the moment a slot frees, nothing else costs time.
    With equal renders, ceil(N / account) x the render."""
    slots = [0.0] * account
    for render in renders:
        heapq.heapreplace(slots, slots[0] + render)
    return max(slots)


def at_limit(shots: int, render: float, poll: float, concurrency: int, account: int, source: Path = SOURCE,
             label: str = "", spread: float = 0.0, stamps_in_seconds: bool = False) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp, FakeKling(task_seconds=render, max_running=account, spread=spread,
                                                         stamps_in_seconds=stamps_in_seconds) as server:
        _wall, events, code = run_cli(server, Path(tmp), shots, "--concurrency", str(concurrency),
                                      "--poll-interval", str(poll), source=source)
        span = _span(events)
        limit = ideal(server.render_times(), account)
        stats = server.stats
        if source == SOURCE:
            assert code == 0 and stats.creates == shots, (code, stats.creates, shots)
        row = {"shots": shots, "render_s": render, "spread": spread, "stamps_in_seconds": stamps_in_seconds,
               "account_limit": account,
               "concurrency": concurrency,
               "exit": code,
               "span_s": round(span, 3), "limit_s": round(limit, 3), "ratio": round(span / limit, 3),
               "queries": stats.queries, "lists": stats.lists,
               "queries_per_shot": round((stats.queries + stats.lists) / shots, 2),
               "refused_1303": stats.refused_concurrency, "creates": stats.creates}
    varies = (f" ± {spread:.0%}" if spread else "") + (", times in seconds" if stamps_in_seconds else "")
    print(f"  {label}render {render:g} s{varies}, account {account}, --concurrency {concurrency:>2}: span {span:6.3f} s, "
          f"limit {limit:6.3f} s, ratio {span / limit:5.3f}; {row['queries_per_shot']:.2f} queries a shot "
          f"({stats.queries} single, {stats.lists} list); {stats.refused_concurrency} creates refused 1303; "
          f"{stats.creates} of {shots} created, exit {code}", flush=True)
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[500, 2000, 10000])
    ap.add_argument("--limit-shots", type=int, default=16)
    ap.add_argument("--concurrency", type=int, nargs="+", default=[4, 8, 16])
    ap.add_argument("--real-time", action="store_true", help="also run at 1:1 (6 s renders; about 30 s)")
    ap.add_argument("--json", type=Path, default=HERE / "engine-results.json", help="where to write the figures")
    ap.add_argument("--compare-with", type=Path, metavar="DIR",
                    help="also measure the shotlang of this source tree, side by side")
    args = ap.parse_args()
    other: Path | None = args.compare_with.resolve() if args.compare_with else None

    print("state cost (instant renders, --concurrency 16):")
    sizes, before_sizes = [], []
    for count in args.sizes:
        if other is not None:
            before_sizes += state_cost([count], other, "before ")
        sizes += state_cost([count], label="now    " if other else "")
    print("at the account's limit (6 s renders, 4 at once), time scaled 1:20:")
    limits, before_limits = [], []
    for c in args.concurrency:
        if other is not None:
            before_limits.append(at_limit(args.limit_shots, 0.3, 0.25, c, 4, other, "before "))
        limits.append(at_limit(args.limit_shots, 0.3, 0.25, c, 4, label="now    " if other else ""))
    print(f"renders that vary (each {SPREAD:.0%} either way, the same in every run), 1:20:")
    for c in args.concurrency:
        if other is not None:
            before_limits.append(at_limit(args.limit_shots, 0.3, 0.25, c, 4, other, "before ", spread=SPREAD))
        limits.append(at_limit(args.limit_shots, 0.3, 0.25, c, 4, label="now    " if other else "", spread=SPREAD))
    if args.real_time:
        print("at 1:1 (as renders come, as they vary, and from a server that writes its times in seconds):")
        for shape in ({}, {"spread": SPREAD}, {"stamps_in_seconds": True}):
            if other is not None:
                before_limits.append(at_limit(args.limit_shots, 6.0, 5.0, 4, 4, other, "before ", **shape))
            limits.append(at_limit(args.limit_shots, 6.0, 5.0, 4, 4, label="now    " if other else "", **shape))
    flat = sizes[-1]["per_shot_ms"] / sizes[0]["per_shot_ms"] if len(sizes) > 1 else 1.0
    print(f"time per shot, {sizes[-1]['shots']} against {sizes[0]['shots']} shots: {flat:.2f}x")
    figures = {"machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                           "platform": platform.platform()},
               "date": time.strftime("%Y-%m-%d"), "state_cost": sizes, "per_shot_ratio": round(flat, 3),
               "at_limit": limits}
    if other is not None:
        figures["before"] = {"source": str(other), "state_cost": before_sizes, "at_limit": before_limits}
    args.json.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"figures written to {args.json}")


if __name__ == "__main__":
    main()
