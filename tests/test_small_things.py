"""The smaller things a newcomer hit (issue 8, item 6): odd encodings and control bytes, empty
files, unreadable files among readable ones, where `compile -o` writes, `moves` on a terminal,
and the Python API's edges. Command-line behaviour is tested through the real command."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import shotlang
from shotlang.compiler.diagnostics import CODES

ROOT = Path(__file__).resolve().parent.parent
# `moves words`: the move goes into the prompt, so the sources' dispute over camera control
# (W108) is not in the way.
GOOD = 'SHOT castle: slow pan right over "A castle at dawn" 5s moves words\n'
# What a terminal acts on: C0 controls but tab, newline and CR; DEL; C1 (as UTF-8 or raw bytes).
RAW_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]|\xc2[\x80-\x9f]")


def shotlang_cmd(*args: str, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-m", "shotlang", *args], capture_output=True, cwd=cwd,
                          env=env, timeout=60)


def assert_no_raw_control_bytes(done: subprocess.CompletedProcess[bytes]) -> None:
    for stream in (done.stdout, done.stderr):
        found = RAW_CONTROL.search(stream)
        assert found is None, f"raw control byte {found[0]!r} printed: {stream[:300]!r}"


# --- encodings and control characters -----------------------------------------------------------


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_with_a_byte_order_mark_is_read(tmp_path: Path, codec: str) -> None:
    bom = {"utf-16": b"", "utf-16-le": b"\xff\xfe", "utf-16-be": b"\xfe\xff"}[codec]
    (tmp_path / "notepad.shot").write_bytes(bom + GOOD.encode(codec))
    done = shotlang_cmd("check", "notepad.shot", cwd=tmp_path)
    assert done.returncode == 0, done.stdout
    assert done.stdout.decode().strip() == "1 shot ok, 0 warnings in 1 file"
    compiled = json.loads(shotlang_cmd("compile", "notepad.shot", cwd=tmp_path).stdout)
    assert compiled["shots"][0]["body"]["prompt"] == "The camera pans slowly to the right. A castle at dawn"


def test_utf16_without_its_mark_is_named_not_printed(tmp_path: Path) -> None:
    (tmp_path / "nomark.shot").write_bytes(GOOD.encode("utf-16-le"))
    done = shotlang_cmd("check", "nomark.shot", cwd=tmp_path)
    assert done.returncode == 1
    assert b"error[E001]: a NUL byte: this is not a text file" in done.stdout
    assert b"byte-order mark" in done.stdout
    assert_no_raw_control_bytes(done)


def test_bad_utf16_after_its_mark_says_utf16(tmp_path: Path) -> None:
    (tmp_path / "cut.shot").write_bytes(b"\xff\xfe" + GOOD.encode("utf-16-le") + b"\x00\xd8")
    done = shotlang_cmd("check", "cut.shot", cwd=tmp_path)
    assert done.returncode == 1 and b"error[E001]: this is not UTF-16" in done.stdout
    assert b"cut.shot:2:1" in done.stdout


@pytest.mark.parametrize("data", [
    pytest.param(b"\x7fELF\x02\x01\x01\x00\x00\x00\x1b[2J\x07" + bytes(range(256)) * 4, id="binary"),
    pytest.param(b"\x1b[2J\x07\x00\x00" + b"plain", id="nul-and-escapes-in-utf8"),
])
def test_a_binary_file_is_one_error_and_prints_no_control_bytes(tmp_path: Path, data: bytes) -> None:
    (tmp_path / "bin.shot").write_bytes(data)
    for command in ("check", "compile"):
        done = shotlang_cmd(command, "bin.shot", cwd=tmp_path)
        assert done.returncode == 1
        out = done.stdout + done.stderr
        assert out.count(b"error[") == 1 and b"error[E001]" in out
        assert_no_raw_control_bytes(done)


@pytest.mark.parametrize("char, name", [("\x1b", "ESC"), ("\x07", "BEL"), ("\x00", "NUL"), ("\x01", None),
                                        ("\x9b", None)])
def test_a_control_character_in_a_prompt_is_refused(char: str, name: str | None) -> None:
    result = shotlang.compile_text(f'SHOT a: "red{char}[31m castle"\n')
    assert result.output is None, "nothing may be sent"
    [d] = result.diagnostics
    assert d.code == "E002" and (d.span.line, d.span.column) == (1, 13)
    assert f"`\\x{ord(char):02x}`" + (f" ({name})" if name else "") in d.message
    assert "remove the control character" in d.hint
    assert not RAW_CONTROL.search(d.message.encode()), "the message names it escaped"


def test_a_control_character_in_a_prompt_is_shown_escaped_with_a_caret(tmp_path: Path) -> None:
    (tmp_path / "ctl.shot").write_bytes(b'SHOT a: "red \x1b[31m castle\x07" 5s\n')
    done = shotlang_cmd("check", "ctl.shot", cwd=tmp_path)
    assert done.returncode == 1
    out = done.stdout.decode()
    assert out.count("error[E002]") == 2 and "`\\x1b` (ESC)" in out and "`\\x07` (BEL)" in out
    assert "ctl.shot:1:14" in out and "help: remove the control character" in out
    assert_no_raw_control_bytes(done)
    assert shotlang_cmd("compile", "ctl.shot", cwd=tmp_path).stdout == b""


def test_a_control_character_outside_a_string_is_reported_once() -> None:
    result = shotlang.compile_text('SHOT a: \x1b "x"\n')
    assert [d.code for d in result.diagnostics] == ["E104"]


# --- empty files ------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "# a comment\n\n# and another\n", 'TITLE "Only a title"\n'])
def test_a_file_with_no_shots_warns_and_check_still_passes(tmp_path: Path, text: str) -> None:
    (tmp_path / "empty.shot").write_text(text)
    done = shotlang_cmd("check", "empty.shot", cwd=tmp_path)
    assert done.returncode == 0
    out = done.stdout.decode()
    assert "warning[W106]: this file has no shots" in out and "empty.shot:1:1" in out
    assert out.rstrip().endswith("0 shots ok, 1 warning in 1 file")
    compiled = shotlang_cmd("compile", "empty.shot", cwd=tmp_path)
    assert compiled.returncode == 0 and b"warning[W106]" in compiled.stderr
    assert json.loads(compiled.stdout)["shots"] == []
    assert CODES["W106"].severity.value == "warning"


def test_a_file_with_errors_and_no_shots_does_not_also_warn() -> None:
    assert [d.code for d in shotlang.compile_text('TITLE "a"\nTITLE "b"\n').diagnostics] == ["E312"]


# --- unreadable files among readable ones --------------------------------------------------------


def test_check_reports_the_readable_files_then_the_unreadable(tmp_path: Path) -> None:
    (tmp_path / "good.shot").write_text(GOOD + 'SHOT weak: pan right 2 over "x" moves both\n')  # W108, W100
    (tmp_path / "bad.shot").write_text('SHOT a: "x" 7s\n')
    done = shotlang_cmd("check", "good.shot", "missing.shot", "bad.shot", cwd=tmp_path)
    assert done.returncode == 2
    out = done.stdout.decode()
    assert "warning[W100]" in out and "good.shot:2:22" in out
    assert "error[E303]" in out and "bad.shot:1:13" in out
    assert "1 error, 2 warnings in 2 files; 1 file could not be read" in out
    assert done.stderr.decode() == "shotlang: cannot read missing.shot: No such file or directory\n"


def test_check_json_keeps_the_readable_files_diagnostics(tmp_path: Path) -> None:
    (tmp_path / "good.shot").write_text('SHOT weak: pan right 2 over "x" moves both\n')
    done = shotlang_cmd("check", "--format", "json", "good.shot", "missing.shot", cwd=tmp_path)
    assert done.returncode == 2
    assert [r["code"] for r in json.loads(done.stdout)] == ["W108", "W100"]
    assert b"cannot read missing.shot" in done.stderr


def test_compile_shows_the_readable_files_and_writes_nothing(tmp_path: Path) -> None:
    (tmp_path / "good.shot").write_text('SHOT weak: pan right 2 over "x"\n')
    done = shotlang_cmd("compile", "good.shot", "missing.shot", "-o", "out", cwd=tmp_path)
    assert done.returncode == 2 and done.stdout == b""
    err = done.stderr.decode()
    assert err.index("warning[W100]") < err.index("shotlang: cannot read missing.shot")
    assert "nothing written" in err
    assert not (tmp_path / "out").exists()


# --- where compile -o writes -------------------------------------------------------------------


def test_compile_output_makes_missing_folders(tmp_path: Path) -> None:
    (tmp_path / "a.shot").write_text(GOOD)
    done = shotlang_cmd("compile", "a.shot", "-o", "new/deeper/x.json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / "new/deeper/x.json").read_text())["shots"][0]["name"] == "castle"


def test_an_unwritable_target_is_named_not_its_temporary_file(tmp_path: Path) -> None:
    (tmp_path / "a.shot").write_text(GOOD)
    # /proc takes no new files, even from root (a read-only folder would not stop root).
    done = shotlang_cmd("compile", "a.shot", "-o", "/proc/x.json", cwd=tmp_path)
    assert done.returncode == 2
    err = done.stderr.decode()
    assert err.startswith("shotlang: cannot write /proc/x.json: "), err
    assert ".part" not in err


# --- moves -----------------------------------------------------------------------------------------


def test_moves_help_describes_its_own_options(tmp_path: Path) -> None:
    help_text = shotlang_cmd("moves", "--help", cwd=tmp_path).stdout.decode()
    assert "AXES line" not in help_text
    formats = help_text[help_text.index("--format"):]
    assert "table" in formats.split("-h, --help")[0], "--format has help"


@pytest.mark.parametrize("reading", ["seed", "official"])
def test_moves_fits_80_columns_and_keeps_every_word(tmp_path: Path, reading: str) -> None:
    out = shotlang_cmd("moves", "--axes", reading, cwd=tmp_path).stdout.decode()
    too_wide = [line for line in out.splitlines() if len(line) > 80]
    assert not too_wide, too_wide
    flat = " ".join(out.split())
    rows = json.loads(shotlang_cmd("moves", "--axes", reading, "--format", "json", cwd=tmp_path).stdout)
    for row in rows:
        assert row["move"] in flat
        for synonym in row["synonyms"]:
            assert f" {synonym}," in f" {flat}," or f" {synonym} " in f" {flat} ", synonym


# --- the Python API ---------------------------------------------------------------------------------


def test_compile_text_takes_bytes() -> None:
    result = shotlang.compile_text(GOOD.encode())
    assert result.ok and result.output is not None
    assert result.output.shots[0].body.prompt == "The camera pans slowly to the right. A castle at dawn"
    assert shotlang.compile_text(b"\xff\xfe" + GOOD.encode("utf-16-le")).ok


def test_compile_text_refuses_other_types_plainly() -> None:
    with pytest.raises(TypeError, match="compile_text takes the shot list as str .or bytes., not int"):
        shotlang.compile_text(5)  # type: ignore[arg-type]


@pytest.mark.parametrize("call", ["compile_text", "compile_bytes", "compile_file"])
def test_a_misspelt_axes_is_a_plain_value_error(call: str, tmp_path: Path) -> None:
    (tmp_path / "a.shot").write_text(GOOD)
    argument = {"compile_text": GOOD, "compile_bytes": GOOD.encode(), "compile_file": tmp_path / "a.shot"}[call]
    with pytest.raises(ValueError, match="axes must be 'seed' or 'official'") as raised:
        getattr(shotlang, call)(argument, axes="offical")
    assert type(raised.value) is ValueError
    assert "did you mean 'official'?" in str(raised.value)
    assert shotlang.compile_text(GOOD, axes="Official").output.axes == "official"  # type: ignore[union-attr]


def test_dir_lists_the_public_api() -> None:
    assert dir(shotlang) == sorted(shotlang.__all__)
    assert {"compile_text", "compile_file", "compile_bytes", "CompileResult"} <= set(dir(shotlang))
    assert "Any" not in dir(shotlang) and "TYPE_CHECKING" not in dir(shotlang)


# --- one warning per place ------------------------------------------------------------------------


def test_a_defaults_cfg_ignored_by_two_models_warns_once() -> None:
    text = 'DEFAULTS cfg 0.5 model kling-v2-6\nSHOT a: "x"\nSHOT b: "y" model kling-v2-1-master\nSHOT c: "z"\n'
    result = shotlang.compile_text(text)
    [d] = result.diagnostics
    assert d.code == "W104" and (d.span.line, d.span.column) == (1, 14)
    assert d.message == "kling-v2-6 ignores cfg; kling-v2-1-master ignores cfg"
    assert result.render().count("warning[W104]") == 1


# --- the moves notes in docs/language.md ------------------------------------------------------


def test_push_in_dolly_forward_and_crane_up_send_the_same_request_in_the_seed_reading() -> None:
    text = 'SHOT a: push in over "x"\nSHOT b: dolly forward over "x"\nSHOT c: crane up over "x"\n'
    seed = shotlang.compile_text(text).output
    assert seed is not None
    configs = [s.body.camera_control.config for s in seed.shots]  # type: ignore[union-attr]
    assert configs[0] == configs[1] == configs[2] and configs[0].tilt == 5  # type: ignore[union-attr]
    official = shotlang.compile_text(text, axes="official").output
    assert official is not None
    assert official.shots[0].body.camera_control != official.shots[2].body.camera_control
    docs = (ROOT / "docs" / "language.md").read_text()
    assert "| `tilt +` | `dolly up`, `crane up`" in docs


@pytest.mark.parametrize("move, warns", [("pan right", True), ("tilt up", True), ("zoom in", True),
                                         ("push in", False), ("dutch tilt", False), ("crane up", False)])
@pytest.mark.parametrize("word", ["gentle", "subtle"])
def test_gentle_and_subtle_warn_where_the_language_doc_says(move: str, warns: bool, word: str) -> None:
    result = shotlang.compile_text(f'SHOT a: {word} {move} over "x"\n')
    assert ("W102" in [d.code for d in result.diagnostics]) == warns
    docs = (ROOT / "docs" / "language.md").read_text()
    table = docs[docs.index("<!-- generated: range-warnings -->"):docs.index("<!-- end: range-warnings -->")]
    row = next((line for line in table.splitlines() if f"`{move}`" in line), "")
    assert (f"`{word}`" in row) == warns
