"""End to end through the real command, as separate processes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
SEED = EXAMPLES / "seed.shot"
BAD = 'SHOT a: pann right over "x"\nSHOT b: "y" 7s\n'


def shotlang(*args: str, stdin: str | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-m", "shotlang", *args], input=stdin, capture_output=True,
                          text=True, cwd=cwd or ROOT, env=env, timeout=60)


def test_console_script_is_installed() -> None:
    script = Path(sys.executable).parent / "shotlang"
    found = shutil.which("shotlang", path=str(script.parent)) or shutil.which("shotlang")
    assert found, "the `shotlang` console script is not installed"
    done = subprocess.run([found, "--version"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "shotlang" in done.stdout


def test_compile_prints_the_envelope() -> None:
    done = shotlang("compile", "examples/seed.shot")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["shotlang_format"] == 1 and doc["source"] == "examples/seed.shot"
    assert [s["name"] for s in doc["shots"]][:2] == ["slow-pan-right", "dramatic-zoom-in"]
    # The one warning: the seed's camera control is disputed by Kling's own map.
    assert done.stderr.startswith("warning[W108]: 5 shots rely on what the sources dispute") and \
        done.stderr.count("warning[") == 1, done.stderr


def test_compile_several_files_as_json_is_an_array_and_jsonl_is_a_line_per_shot() -> None:
    files = ["examples/seed.shot", "examples/lighthouse.shot"]
    doc = json.loads(shotlang("compile", *files).stdout)
    assert [d["source"] for d in doc] == files
    lines = shotlang("compile", *files, "--format", "jsonl").stdout.splitlines()
    assert len(lines) == len(doc[0]["shots"]) + len(doc[1]["shots"])
    assert {json.loads(line)["source"] for line in lines} == set(files)


def test_compile_with_errors_writes_nothing_and_exits_1(tmp_path: Path) -> None:
    (tmp_path / "bad.shot").write_text(BAD)
    out = tmp_path / "out.json"
    done = shotlang("compile", str(tmp_path / "bad.shot"), "-o", str(out))
    assert done.returncode == 1
    assert done.stdout == ""
    assert not out.exists()
    assert "error[E200]" in done.stderr and "error[E303]" in done.stderr
    assert "bad.shot:1:9" in done.stderr and "nothing written" in done.stderr


def test_one_bad_file_stops_all_output(tmp_path: Path) -> None:
    (tmp_path / "bad.shot").write_text(BAD)
    done = shotlang("compile", str(SEED), str(tmp_path / "bad.shot"), "-o", str(tmp_path / "out"))
    assert done.returncode == 1
    assert not (tmp_path / "out").exists()


def test_warnings_go_to_stderr_and_output_still_written(tmp_path: Path) -> None:
    (tmp_path / "w.shot").write_text('SHOT a: pan right 2 over "x"\n')
    out = tmp_path / "w.json"
    done = shotlang("compile", str(tmp_path / "w.shot"), "-o", str(out))
    assert done.returncode == 0
    assert "warning[W100]" in done.stderr
    assert json.loads(out.read_text())["shots"][0]["body"]["camera_control"]["config"]["horizontal"] == 2


def test_output_folder_for_many_files(tmp_path: Path) -> None:
    done = shotlang("compile", "examples/seed.shot", "examples/harbour.shot", "-o", str(tmp_path / "out"),
                    "--format", "jsonl")
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["harbour.jsonl", "seed.jsonl"]


def test_stdin_is_read_with_a_dash_and_images_resolve_from_the_working_folder() -> None:
    done = shotlang("compile", "-", stdin='SHOT a: slow pan right "x" image "images/portrait.png"\n', cwd=EXAMPLES)
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)["shots"][0]["body"]
    assert body["image"].startswith("iVBORw0KGgo")  # a PNG, inlined as Base64 with no data: prefix


def test_check_text_and_json() -> None:
    done = shotlang("check", "-", stdin=BAD)
    assert done.returncode == 1
    assert "<stdin>:2:13" in done.stdout and "2 errors, 0 warnings in 1 file" in done.stdout
    done = shotlang("check", "-", "--format", "json", stdin=BAD)
    assert done.returncode == 1
    records = json.loads(done.stdout)
    assert [(r["code"], r["line"], r["column"], r["severity"]) for r in records] == [
        ("E200", 1, 9, "error"), ("E303", 2, 13, "error")]
    assert set(records[0]) == {"file", "line", "column", "end_line", "end_column", "severity", "code",
                               "message", "hint", "related"}


def test_check_clean_files_exit_0() -> None:
    examples = sorted(str(p) for p in EXAMPLES.glob("*.shot"))
    done = shotlang("check", *examples)
    assert done.returncode == 0, done.stdout
    # Clean, but for one warning a file where the sources dispute the camera control it sends.
    warned = done.stdout.count("warning[W108]")
    assert done.stdout.count("warning[") == warned <= len(examples), done.stdout
    assert done.stdout.strip().endswith(f"{warned} warnings in {len(examples)} files"), done.stdout


def test_axes_flag_switches_the_reading() -> None:
    doc = json.loads(shotlang("compile", "--axes", "official", "-", stdin='SHOT a: pan right "x"').stdout)
    assert doc["axes"] == "official"
    assert doc["shots"][0]["body"]["camera_control"]["config"]["pan"] == 5


@pytest.mark.parametrize("args", [["compile", "missing.shot"], ["check", "missing.shot"],
                                  ["explain", "E999"], ["compile"], ["compile", "--format", "xml", "x"],
                                  ["nonsense"]])
def test_usage_and_io_errors_exit_2_without_a_traceback(args: list[str]) -> None:
    done = shotlang(*args)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.strip()


def test_unwritable_output_is_exit_2(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    done = shotlang("compile", str(SEED), "-o", str(tmp_path / "file" / "out.json"))
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and "cannot write" in done.stderr


def test_not_utf8_is_a_diagnostic(tmp_path: Path) -> None:
    (tmp_path / "latin.shot").write_bytes(b'SHOT a: "caf\xe9"\n')
    done = shotlang("check", str(tmp_path / "latin.shot"))
    assert done.returncode == 1 and "error[E001]" in done.stdout


def test_moves_and_explain() -> None:
    done = shotlang("moves")
    assert done.returncode == 0 and "dutch tilt" in done.stdout and "3-5" in done.stdout
    rows = json.loads(shotlang("moves", "--format", "json", "--axes", "official").stdout)
    assert {r["move"]: r["field"] for r in rows}["pan right"] == "pan"
    done = shotlang("explain", "e201")
    assert done.returncode == 0 and "400 invalid camera config" in done.stdout


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github"])
def test_check_path_imports_no_heavy_libraries(fmt: str) -> None:
    """`check` starts on every save and in hooks: in no format does it load the network, the
    envelope's pydantic, the language server or the timeline's libraries."""
    code = (
        "import sys; from shotlang.cli import main\n"
        f"try:\n    main(['check', '--format', '{fmt}', 'examples/seed.shot'])\nexcept SystemExit:\n    pass\n"
        "heavy = ('httpx', 'jwt', 'yaml', 'PIL', 'pydantic', 'pygls', 'opentimelineio')\n"
        "print([m for m in heavy if m in sys.modules], file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.stderr.strip().splitlines()[-1] == "[]"


def test_parse_tables_come_from_the_cache_on_a_second_start() -> None:
    code = (
        "import logging, lark\n"
        "lark.logger.setLevel(logging.DEBUG)\n"
        "import shotlang; shotlang.compile_text('TITLE \"grammar needed\"')\n"
    )
    subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    second = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert "Loading grammar from cache" in second.stderr


def test_grammar_ships_with_the_package() -> None:
    import shotlang
    from shotlang.compiler.parser import grammar_path

    package = Path(shotlang.__file__).resolve().parent
    path = grammar_path()
    assert path.is_file()
    if ROOT not in package.parents:  # an installed (non-editable) copy must carry its own grammar
        assert package in path.parents


def test_two_inputs_with_one_name_are_refused_before_writing(tmp_path: Path) -> None:
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "same.shot").write_text('SHOT x: "y"\n')
    done = shotlang("compile", str(tmp_path / "a" / "same.shot"), str(tmp_path / "b" / "same.shot"),
                    "-o", str(tmp_path / "out"))
    assert done.returncode == 2 and "both be written" in done.stderr
    assert not (tmp_path / "out").exists()


def test_check_json_points_at_the_first_of_a_duplicate() -> None:
    text = ('TITLE "A"\nSHOT a: pan right "x" 5s\nSHOT A: tilt up "y" 5s 10s\nTITLE "B"\n')
    done = shotlang("check", "-", "--format", "json", stdin=text)
    records = {r["code"]: r for r in json.loads(done.stdout)}
    assert records["E307"]["related"] == [
        {"line": 2, "column": 6, "end_line": 2, "end_column": 7, "message": "`a` is first named here"}]
    assert records["E309"]["related"][0]["line"] == 3 and records["E309"]["related"][0]["column"] == 21
    assert records["E312"]["related"][0]["line"] == 1
