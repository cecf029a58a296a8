"""Fractional camera magnitudes: `pan right 2.5` is sent as 2.5, a whole one as an integer, and
a magnitude keeps at most two decimal places, so what is sent is exactly what was written."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import shotlang
from shotlang.compiler import kling
from shotlang.compiler.diagnostics import Diagnostic

ROOT = Path(__file__).resolve().parent.parent


def sent(text: str, **kw: Any) -> dict[str, Any]:
    """The camera config of a one-shot file, as the JSON `compile` writes reads back (numbers
    as Decimal, so a float the compiler rounded would show)."""
    result = shotlang.compile_text(text, **kw)
    assert result.errors == [], result.render()
    assert result.output is not None
    doc = json.loads(result.output.to_json(), parse_float=Decimal)
    config: dict[str, Any] = doc["shots"][0]["body"]["camera_control"]["config"]
    return {k: v for k, v in config.items() if v}


def diagnostics(text: str) -> list[Diagnostic]:
    """What compiling `text` says, but W108: every camera_control cell is disputed (the seed and
    Kling's own map), which tests/test_kling_map.py covers."""
    return [d for d in shotlang.compile_text(text).diagnostics if d.code != "W108"]


def compile_command(folder: Path, text: str) -> subprocess.CompletedProcess[str]:
    """`shotlang compile f.shot` as a separate process, f.shot holding `text`."""
    (folder / "f.shot").write_text(text, encoding="utf-8")
    return subprocess.run([sys.executable, "-m", "shotlang", "compile", "f.shot"], capture_output=True, text=True,
                          cwd=folder, env={**os.environ, "NO_COLOR": "1"}, timeout=60)


def test_a_fractional_magnitude_is_sent_as_written() -> None:
    assert sent('SHOT a: pan right 2.5 "x"') == {"horizontal": Decimal("2.5")}
    assert sent('SHOT a: pan left 6.25 "x"') == {"horizontal": Decimal("-6.25")}
    assert sent('SHOT a: zoom in 7.5 "x"', axes="official") == {"zoom": Decimal("-7.5")}
    result = shotlang.compile_text('SHOT a: pan right 2.5 "x"')
    assert result.output is not None
    assert '"horizontal": 2.5,' in result.output.to_json()
    assert result.output.shots[0].body.camera_control.config.horizontal == 2.5  # type: ignore[union-attr]


@pytest.mark.parametrize("written", ["5", "5.0", "5.00", "05", "005.000"])
def test_a_whole_magnitude_is_sent_as_an_integer(written: str) -> None:
    value = sent(f'SHOT a: pan right {written} "x"')["horizontal"]
    assert value == 5 and type(value) is int
    result = shotlang.compile_text(f'SHOT a: pan right {written} "x"')
    assert result.output is not None and '"horizontal": 5,' in result.output.to_json()


def test_trailing_zeros_are_not_decimal_places() -> None:
    assert sent('SHOT a: pan right 2.50 "x"') == {"horizontal": Decimal("2.5")}
    assert sent('SHOT a: pan right 2.3400 "x"') == {"horizontal": Decimal("2.34")}
    assert sent('SHOT a: zoom in 10.00 "x"') == {"zoom": 10}


def test_a_magnitude_below_one_compiles_with_w100() -> None:
    assert [(d.code, d.message) for d in diagnostics('SHOT a: pan right 0.5 "x"')] == [
        ("W100", "magnitude 0.5 gives no visible movement")]
    assert sent('SHOT a: pan right 0.5 "x"') == {"horizontal": Decimal("0.5")}
    assert sent('SHOT a: pan right 0.01 "x"') == {"horizontal": Decimal("0.01")}


@pytest.mark.parametrize(("written", "codes"), [
    ("2.99", ["W100"]), ("3", ["W102"]), ("4.99", ["W102"]), ("5", []), ("8", []), ("8.01", ["W102"]),
    ("8.99", ["W102"]), ("9", ["W101"]), ("9.5", ["W101"]), ("10", ["W101"]),
])  # fmt: skip
def test_the_seeds_guidance_goes_by_value(written: str, codes: list[str]) -> None:
    assert [d.code for d in diagnostics(f'SHOT a: pan right {written} "x"')] == codes


def test_more_than_two_decimal_places_is_e203_with_the_two_nearest() -> None:
    [d] = diagnostics('SHOT a: pan right 2.345 "x"')
    assert (d.code, d.message, d.hint) == ("E203", "magnitude 2.345 has more than two decimal places",
                                           "use `2.35` or `2.34`")
    assert diagnostics('SHOT a: pan right 2.3449 "x"')[0].hint == "use `2.34` or `2.35`"
    assert diagnostics('SHOT a: pan right 9.999 "x"')[0].hint == "use `10` or `9.99`"
    assert diagnostics('SHOT a: pan right 0.004 "x"')[0].hint == "use `0.01`"  # 0 is no magnitude


@pytest.mark.parametrize(("written", "hint"), [
    ("0", "static"), ("0.00", "static"), ("10.5", "at most 10"), ("10.01", "at most 10"), ("11", "at most 10"),
    ("-2.5", "`pan right 2.5` sends horizontal: 2.5"), ("+0.5", "`pan right 0.5` sends horizontal: 0.5"),
])  # fmt: skip
def test_zero_over_ten_and_signs_are_e202(written: str, hint: str) -> None:
    [d] = diagnostics(f'SHOT a: pan right {written} "x"')
    why = "signed" if written[0] in "+-" else "out of range"
    assert (d.code, d.message) == ("E202", f"magnitude {written} is {why}")
    assert hint in d.hint


def test_w103_names_a_fractional_value() -> None:
    [d] = [d for d in diagnostics('AXES official\nSHOT a: pull back 4.5 "x"') if d.code == "W103"]
    assert d.hint.endswith("sent as zoom +4.5")


def test_intensity_words_stay_whole() -> None:
    assert sent('SHOT a: slow pan right "x"') == {"horizontal": 5}
    assert type(sent('SHOT a: slow pan right "x"')["horizontal"]) is int


def test_the_real_command_compiles_a_fractional_magnitude(tmp_path: Path) -> None:
    done = compile_command(tmp_path, 'SHOT a: pan right 2.5 "x"\nSHOT b: tilt down 5.0 "y"\n')
    assert done.returncode == 0, done.stderr
    assert '"horizontal": 2.5,' in done.stdout and '"vertical": -5,' in done.stdout
    assert "W100" in done.stderr  # 2.5 is below 3
    configs = [s["body"]["camera_control"]["config"] for s in json.loads(done.stdout)["shots"]]
    assert (configs[0]["horizontal"], configs[1]["vertical"]) == (2.5, -5)
    assert type(configs[1]["vertical"]) is int


def test_the_real_command_refuses_a_third_decimal_place(tmp_path: Path) -> None:
    done = compile_command(tmp_path, 'SHOT a: pan right 2.345 "x"\n')
    assert done.returncode == 1 and done.stdout == ""
    assert "error[E203]: magnitude 2.345 has more than two decimal places" in done.stderr
    assert "help: use `2.35` or `2.34`" in done.stderr


@settings(max_examples=10 * settings.default.max_examples, deadline=None)
@given(st.decimals(Decimal("0.001"), Decimal(kling.MAGNITUDE_MAX) - Decimal("0.001"), places=6))
def test_every_e203_suggestion_is_a_magnitude_that_compiles_and_the_first_is_the_nearest(value: Decimal) -> None:
    written = format(value, "f")
    assume(len(written.rstrip("0").partition(".")[2]) > 2)  # two places or fewer compile: test_properties
    [d] = diagnostics(f'SHOT a: zoom in {written} "x"')
    assert d.code == "E203"
    choices = [Decimal(c) for c in d.hint.removeprefix("use ").replace("`", "").split(" or ")]
    assert all(abs(c - value) < Decimal("0.01") for c in choices)
    assert abs(choices[0] - value) <= min(abs(c - value) for c in choices)
    for choice in choices:
        assert sent(f'SHOT a: zoom in {choice} "x"') == {"zoom": choice}
