"""Golden files: the compiler's whole output for the examples and for a file of mistakes.

Run `pytest --update-golden` to rewrite them after an intended change, and review the diff.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import shotlang

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden"
EXAMPLES = sorted((ROOT / "examples").glob("*.shot"))
MISTAKES = sorted(GOLDEN.glob("*.shot"))


def _compare(path: Path, actual: str, update: bool) -> None:
    if update:
        path.write_text(actual, encoding="utf-8")
    assert path.exists(), f"{path} is missing: run pytest --update-golden"
    assert actual == path.read_text(encoding="utf-8")


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_output_matches_golden(example: Path, update_golden: bool) -> None:
    name = example.relative_to(ROOT).as_posix()
    result = shotlang.compile_bytes(example.read_bytes(), name, base_dir=example.parent)
    # Clean, but for the one warning that the sources dispute camera control (every cell is).
    assert [d.code for d in result.diagnostics] in ([], ["W108"]), result.render()
    assert result.output is not None
    assert [s.model_dump(mode="json") for s in result.output.shots] == result.output.records
    _compare(GOLDEN / f"{example.stem}.json", result.output.to_json(), update_golden)


@pytest.mark.parametrize("mistakes", MISTAKES, ids=[p.stem for p in MISTAKES])
def test_diagnostics_match_golden(mistakes: Path, update_golden: bool) -> None:
    name = mistakes.relative_to(ROOT).as_posix()
    result = shotlang.compile_bytes(mistakes.read_bytes(), name, base_dir=mistakes.parent)
    _compare(mistakes.with_suffix(".txt"), result.render() + "\n", update_golden)


def test_every_golden_file_belongs_to_an_example_or_a_file_of_mistakes() -> None:
    # An example removed or renamed must take its golden file with it: one left behind is
    # compared with nothing and would hide that the example it pinned is gone.
    shots = {p.stem for p in EXAMPLES} | {p.stem for p in MISTAKES}
    golden = {p.stem for p in GOLDEN.iterdir() if p.suffix in (".json", ".txt")}
    assert golden == shots, (sorted(golden - shots), sorted(shots - golden))
