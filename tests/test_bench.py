"""The benchmark command runs from a clean clone and measures what it says (tiny sizes here;
the real figures come from running it by hand, see docs/performance.md)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_benchmark_runs_and_writes_its_figures(tmp_path: Path) -> None:
    out = tmp_path / "figures.json"
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "run.py"), "--sizes", "40", "200", "--repeat", "1",
                           "--json", str(out)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    figures = json.loads(out.read_text())
    assert [row["shots"] for row in figures["sizes"]] == [40, 200]
    for row in figures["sizes"]:
        assert row["A_shotlang_s"] > 0 and row["B_yaml_pydantic_s"] > 0 and row["C_lark_lexer_s"] > 0
        assert row["S_storyboard_s"] > 0 and row["T_timeline_s"] > 0, "the test extra has OpenTimelineIO"
    assert figures["startup"]["ratio"] > 0 and figures["peak_memory_mb"]["mb"] > 0
    assert "B/A" in done.stdout and "S/A" in done.stdout and "start-up" in done.stdout


@pytest.mark.slow
def test_engine_benchmark_runs_and_writes_its_figures(tmp_path: Path) -> None:
    out = tmp_path / "engine.json"
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "engine.py"), "--sizes", "20", "60",
                           "--limit-shots", "8", "--concurrency", "4", "8", "--json", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    figures = json.loads(out.read_text())
    assert [row["shots"] for row in figures["state_cost"]] == [20, 60]
    assert all(row["creates"] == row["shots"] and row["per_shot_ms"] > 0 for row in figures["state_cost"])
    for row in figures["at_limit"]:
        assert row["creates"] == 8 and row["ratio"] >= 1.0, "no run beats the account's limit"
        assert row["queries_per_shot"] <= 2
    assert "ratio" in done.stdout and "a shot" in done.stdout
