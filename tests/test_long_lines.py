"""Long lines: a diagnostic shows a window of its line, and checking a 50 MB one-line file
takes bounded memory and prints a few lines.

The stress tests run `shotlang check` in a child process and read the child's peak resident
memory (ru_maxrss) from a wrapper of its own, so nothing else this test process holds counts.
The child also gets a 2 GB address-space limit, so a regression fails in seconds instead of
swapping (before the fix a 50 MB prompt took 10 GB).
"""

from __future__ import annotations

import json
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import shotlang
from shotlang.compiler import diagnostics
from shotlang.compiler.diagnostics import WINDOW, Diagnostic, render_text, source_window
from shotlang.compiler.source import Source

MB = 2**20
LONG = 50 * MB
PEAK_LIMIT_MB = 300  # docs/performance.md, "Long lines"
OUTPUT_LIMIT = 8 * 1024

# Runs `python -m shotlang ARGS` under a 2 GB address-space limit and reports, as JSON, its
# exit status, its output and its peak resident memory.
_WRAPPER = r"""
import json, os, resource, subprocess, sys
def limit():
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
env = {**os.environ, "NO_COLOR": "1"}
done = subprocess.run([sys.executable, "-m", "shotlang", *sys.argv[1:]], capture_output=True,
                      preexec_fn=limit, env=env, timeout=300)
peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"returncode": done.returncode, "peak_mb": peak_kb / 1024,
                  "stdout": done.stdout.decode("utf-8", "replace")[:20000], "stdout_bytes": len(done.stdout),
                  "stderr": done.stderr.decode("utf-8", "replace")[-2000:], "stderr_bytes": len(done.stderr)}))
"""


def measured_check(*args: str, cwd: Path) -> dict[str, object]:
    done = subprocess.run([sys.executable, "-c", _WRAPPER, "check", *args], capture_output=True,
                          cwd=cwd, timeout=600, check=True)
    return json.loads(done.stdout)  # type: ignore[no-any-return]


# One 50 MB line each, with the long token in a different place.
VARIANTS = {
    "prompt": ('SHOT a: "', "x", '"\n', "E306"),
    "unknown-word": ("SHOT a: ", "x", ' "A castle"\n', "E200"),
    "name": ("SHOT ", "x", ': "A castle"\n', "E308"),
    "unterminated-string": ('SHOT a: "', "x", "\n", "E101"),
    "unknown-statement": ("", "x", "\n", "E105"),
    "escaped-quotes": ('SHOT a: "', '\\"', '"\n', "E306"),
    "wide-prompt": ('SHOT a: "', "東", '"\n', "E306"),
}


@pytest.fixture(scope="module")
def long_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("long")
    for name, (head, unit, tail, _) in VARIANTS.items():
        with open(folder / f"{name}.shot", "w", encoding="utf-8") as f:
            f.write(head + unit * (LONG // len(unit.encode())) + tail)
    return folder


@pytest.mark.slow
@pytest.mark.parametrize("variant", VARIANTS)
def test_a_50_mb_line_is_checked_in_bounded_memory_with_a_short_report(long_files: Path, variant: str) -> None:
    code = VARIANTS[variant][3]
    run = measured_check(f"{variant}.shot", cwd=long_files)
    assert run["returncode"] == 1, run["stderr"]
    assert f"error[{code}]" in str(run["stdout"])
    assert run["stdout_bytes"] < OUTPUT_LIMIT, str(run["stdout"])[:2000]  # type: ignore[operator]
    assert run["stderr_bytes"] == 0, run["stderr"]
    assert run["peak_mb"] < PEAK_LIMIT_MB  # type: ignore[operator]


@pytest.mark.slow
def test_json_diagnostics_of_a_50_mb_word_keep_exact_columns(long_files: Path) -> None:
    run = measured_check("--format", "json", "unknown-word.shot", cwd=long_files)
    assert run["stdout_bytes"] < OUTPUT_LIMIT and run["peak_mb"] < PEAK_LIMIT_MB  # type: ignore[operator]
    [record] = json.loads(str(run["stdout"]))
    assert (record["code"], record["line"], record["column"]) == ("E200", 1, 9)
    assert (record["end_line"], record["end_column"]) == (1, 9 + LONG)
    assert len(record["message"]) < 200


# --- the window -----------------------------------------------------------------------------


def columns(shown: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in shown)


def window_of(line: str, start: int, end: int, width: int = WINDOW) -> tuple[str, str]:
    """The shown line and its caret line, as render_text draws them."""
    w = source_window(line, 0, len(line), start, end, width)
    return w.shown, " " * w.pad + "^" * w.carets + ("…" if w.cut else "")


def test_a_short_line_is_shown_whole() -> None:
    assert window_of("SHOT a: pann right", 8, 12) == ("SHOT a: pann right", "        ^^^^")


def test_a_long_line_is_cut_on_both_sides_around_the_span() -> None:
    line = "a" * 1000 + " pann " + "b" * 1000
    shown, carets = window_of(line, 1001, 1005)
    assert shown.startswith("…a") and shown.endswith("b…") and columns(shown) == WINDOW
    assert shown[carets.index("^") : carets.index("^") + 4] == "pann"
    assert carets.strip() == "^^^^"


def test_a_span_at_the_start_of_a_long_line_is_not_cut_on_the_left() -> None:
    shown, carets = window_of("pann " + "b" * 1000, 0, 4)
    assert shown.startswith("pann b") and shown.endswith("…") and columns(shown) == WINDOW
    assert carets == "^^^^"


def test_a_span_at_the_end_of_a_long_line_is_not_cut_on_the_right() -> None:
    line = "b" * 1000 + " pann"
    shown, carets = window_of(line, len(line) - 4, len(line))
    assert shown.startswith("…") and shown.endswith(" pann")
    assert carets.endswith("^^^^") and len(carets) == columns(shown)


def test_a_span_longer_than_the_window_shows_its_start_with_cut_carets() -> None:
    line = 'SHOT a: "' + "x" * 10_000 + '"'
    shown, carets = window_of(line, 8, len(line))
    assert shown.startswith('SHOT a: "xxx') and shown.endswith("x…") and columns(shown) == WINDOW
    assert carets == " " * 8 + "^" * (WINDOW - 9) + "…"  # the … under the line's …


def test_wide_characters_keep_the_caret_under_the_span() -> None:
    line = "東" * 500 + "pann" + "京" * 500
    shown, carets = window_of(line, 500, 504)
    assert columns(shown) <= WINDOW
    at = shown.index("pann")
    assert columns(shown[:at]) == carets.index("^") and carets.count("^") == 4


def test_control_characters_are_escaped_and_the_caret_follows_the_escape() -> None:
    line = 'SHOT a: "red \x1b[31m \u202e" pann'
    shown, carets = window_of(line, line.index("pann"), len(line))
    assert shown == 'SHOT a: "red \\x1b[31m \\u202e" pann'
    assert shown[carets.index("^") :] == "pann"
    shown, carets = window_of(line, line.index("\x1b"), line.index("\x1b") + 1)
    assert shown[carets.index("^") : len(carets)] == "\\x1b"


def test_a_rendered_diagnostic_prints_no_control_character_and_no_long_line() -> None:
    source = Source('SHOT a\x07b: "' + "\x1b" * 5000 + '" 5s\n' + "x" * 100_000 + "\n", "c\x1b.shot")
    for span in (source.span(5, 8), source.span(12, 5012), source.span(5020, 100_000)):
        text = render_text(Diagnostic("E100", "word `\x1b" + "y" * 1000 + "`", span, "help \u202e"), source)
        assert not any(unicodedata.category(c) == "Cc" and c != "\n" for c in text)
        assert "\u202e" not in text and max(map(len, text.splitlines())) <= WINDOW + 10 + 60
        assert "`\\x1b" + "y" * 59 + "…`" in text


lines = st.text(st.sampled_from(["a", " ", "\t", "東", "é", "\x1b", "\x00", "\u202e", "\x9b", "\r"]) | st.characters(),
                max_size=400)


@settings(max_examples=5 * settings.default.max_examples, deadline=None)
@given(lines, st.integers(0, 400), st.integers(0, 400), st.integers(20, 200))
def test_the_window_never_exceeds_its_width_and_escapes_every_control(line: str, a: int, b: int, width: int) -> None:
    a, b = min(a, len(line)), min(max(a, b), len(line))
    w = source_window(line, 0, len(line), a, b, width)
    assert columns(w.shown) <= width
    assert w.pad + w.carets + w.cut <= width + 1  # one past the end: a caret after the last character
    assert not any(unicodedata.category(c) == "Cc" for c in w.shown)
    assert "\u202e" not in w.shown
    if columns(line.replace("\t", " ")) <= width and line.isprintable():
        assert w.shown == line  # a short line is shown as it is


@pytest.mark.parametrize(("number", "code"), [("5" * 5000, "E202"), ("-" + "5" * 5000, "E202"),
                                              ("9" * 400 + ".5", "E202"), ("2." + "3" * 5000, "E203"),
                                              ("0." + "0" * 5000 + "1", "E203")])
def test_a_magnitude_of_thousands_of_digits_is_a_diagnostic(number: str, code: str) -> None:
    # int() refuses over 4,300 digits, and a float of 400 digits is inf: both were tracebacks.
    result = shotlang.compile_text(f'SHOT a: pan right {number} "x"')
    assert [d.code for d in result.diagnostics] == [code]


ascii_lines = st.text(st.sampled_from(["a", " ", "\t", "~"]) | st.characters(min_codepoint=32, max_codepoint=126),
                      max_size=400)


@settings(max_examples=5 * settings.default.max_examples, deadline=None)
@given(ascii_lines, st.integers(0, 400), st.integers(0, 400), st.integers(20, 200))
def test_a_plain_ascii_line_takes_the_counting_path_to_the_same_window(line: str, a: int, b: int, width: int) -> None:
    # Rendering a warning measured each character of its line for the terminal's columns;
    # printable ASCII is counted instead (a tenth of the time), and must give the same window.
    a, b = min(a, len(line)), min(max(a, b), len(line))
    assert diagnostics._PLAIN.fullmatch(line)
    assert diagnostics._plain_window(line, 0, len(line), a, b, width) == \
        diagnostics._measured_window(line, 0, len(line), a, b, width)
    assert source_window(line, 0, len(line), a, b, width) == diagnostics._measured_window(line, 0, len(line), a, b, width)


def test_the_counting_path_agrees_at_every_edge_of_the_window() -> None:
    # The places where a window's arithmetic turns: lines just under, at and over the width,
    # spans at each end, wider than the window, empty; narrow windows where the context bound bites.
    for width in (20, 21, 32, 33, 34, 60, WINDOW):
        for n in {0, 1, width - 2, width - 1, width, width + 1, width + 2, 2 * width, 5 * width}:
            line = "".join("ab\t ~"[i % 5] for i in range(n))
            points = sorted({0, 1, n // 3, n // 2, n - width, n - width // 2, n - 2, n - 1, n} & set(range(n + 1)))
            for a in points:
                for b in [p for p in points if p >= a] + [min(n, a + k) for k in (1, width - 2, width, width + 1)]:
                    assert diagnostics._plain_window(line, 0, n, a, b, width) == \
                        diagnostics._measured_window(line, 0, n, a, b, width), (width, n, a, b)
