"""`shotlang check --format sarif|github`, end to end through the real command.

The SARIF logs are validated against the official SARIF 2.1.0 schema (tests/data/README.md
says where it comes from); the GitHub annotations are read back by the workflow-command rules.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from shotlang.compiler.diagnostics import CODES

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted(ROOT.glob("examples/*.shot"))
MISTAKES = ROOT / "tests" / "golden" / "mistakes.shot"
SCHEMA = json.loads((ROOT / "tests" / "data" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
VALIDATOR = jsonschema.Draft4Validator(SCHEMA, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)
# A shot name used twice (E307, pointing at the first) and a duration given twice (E309).
# `moves words`: no W108 (the sources' dispute over camera control) in the way.
DUPLICATES = 'SHOT a: pan right "x" 5s moves words\nSHOT A: tilt up "y" 5s 10s moves words\n'
WARNING_ONLY = 'SHOT a: "x" cfg 0.5\n'  # W104: kling-v2-6 ignores cfg
# RFC 3986's characters: a URI reference holds nothing else (the schema's "uri" format is not
# checked without an extra package).
URI_CHARACTERS = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*")


def shotlang(*args: str, stdin: str | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-m", "shotlang", *args], input=stdin, capture_output=True,
                          text=True, encoding="utf-8", cwd=cwd or ROOT, env=env, timeout=60)


def sarif(*args: str, stdin: str | None = None, cwd: Path | None = None) -> tuple[dict[str, Any], int, str]:
    """The log `check --format sarif` prints, checked against the schema; its exit code; stderr."""
    done = shotlang("check", "--format", "sarif", *args, stdin=stdin, cwd=cwd)
    log = json.loads(done.stdout)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in VALIDATOR.iter_errors(log)]
    assert errors == [], errors
    for uri in re.findall(r'"uri": "([^"]*)"', done.stdout):
        assert URI_CHARACTERS.fullmatch(uri), uri
    return log, done.returncode, done.stderr


def regions(log: dict[str, Any]) -> list[tuple[str, int, int, int, int]]:
    out = []
    for result in log["runs"][0]["results"]:
        region = result["locations"][0]["physicalLocation"]["region"]
        out.append((result["ruleId"], region["startLine"], region["startColumn"], region["endLine"],
                    region["endColumn"]))
    return out


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


# --- SARIF ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_every_example_gives_a_valid_log_with_no_results(example: Path) -> None:
    log, code, _ = sarif(str(example.relative_to(ROOT)))
    assert code == 0
    run = log["runs"][0]
    # Nothing but the one warning that the sources dispute camera control, if it has moves.
    assert [r["ruleId"] for r in run["results"]] in ([], ["W108"])
    assert run["invocations"] == [{"executionSuccessful": True, "exitCode": 0}]


def test_the_schema_refuses_what_sarif_does_not_allow() -> None:
    """The validator is strict: a log that breaks the standard is refused, so a pass means something."""
    log, _, _ = sarif(str(MISTAKES.relative_to(ROOT)))
    assert list(VALIDATOR.iter_errors(log)) == []
    broken = json.loads(json.dumps(log))
    broken["runs"][0]["results"][0]["level"] = "fatal"
    assert list(VALIDATOR.iter_errors(broken))
    broken = json.loads(json.dumps(log))
    broken["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startColumn"] = 0
    assert list(VALIDATOR.iter_errors(broken))


def test_errors_and_warnings_are_results_at_their_exact_places() -> None:
    log, code, stderr = sarif("tests/golden/mistakes.shot")
    assert code == 1 and stderr == ""
    expected = json.loads(shotlang("check", "--format", "json", "tests/golden/mistakes.shot").stdout)
    # No character outside the Basic Multilingual Plane: the columns are json's.
    assert regions(log) == [(r["code"], r["line"], r["column"], r["end_line"], r["end_column"]) for r in expected]
    results = log["runs"][0]["results"]
    assert [r["level"] for r in results] == [r["severity"] for r in expected]
    assert {r["ruleId"]: r["level"] for r in results}["W101"] == "warning"
    assert [r["ruleId"] for r in results if "relatedLocations" in r] == ["E307", "W108"]
    e201 = next(r for r in results if r["ruleId"] == "E201")
    assert e201["message"]["text"] == (
        "2 camera movements in one shot: `pan right` and `tilt up`\n"
        "help: Kling moves the camera along one axis per shot (400 invalid camera config); "
        "split this into one shot per movement")
    assert e201["locations"][0]["physicalLocation"]["artifactLocation"] == {
        "uri": "tests/golden/mistakes.shot", "uriBaseId": "%SRCROOT%"}


def test_the_sarif_result_in_the_cli_doc_is_real_output() -> None:
    """docs/cli.md shows the E201 of tests/golden/mistakes.shot as a result in `scenes.shot`."""
    doc = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    found = re.search(r'```json\n(\{\n  "ruleId".*?\n\})\n```', doc, re.DOTALL)
    assert found is not None
    shown = json.loads(found[1])
    log, _, _ = sarif("tests/golden/mistakes.shot")
    e201 = next(r for r in log["runs"][0]["results"] if r["ruleId"] == "E201")
    e201["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] = "scenes.shot"
    assert shown == e201


def test_rules_are_the_code_table() -> None:
    log, _, _ = sarif("tests/golden/mistakes.shot")
    driver = log["runs"][0]["tool"]["driver"]
    assert driver["name"] == "shotlang" and re.fullmatch(r"\d+\.\d+\.\d+.*", driver["version"])
    rules = driver["rules"]
    assert [r["id"] for r in rules] == list(CODES)
    for rule in rules:
        code = CODES[rule["id"]]
        assert rule["shortDescription"]["text"] == code.title
        # The explanation's words, its prose paragraphs each on one line (a viewer wraps them).
        assert rule["fullDescription"]["text"].split() == code.explanation.split()
        assert rule["help"]["text"].startswith(rule["fullDescription"]["text"])
        assert rule["defaultConfiguration"]["level"] == code.severity.value
    by_id = {r["id"]: r["fullDescription"]["text"] for r in rules}
    assert "\n" not in by_id["E001"]
    assert "\n    SHOT castle: pan right over \"A castle\" 5s pro" in by_id["E106"]  # an example keeps its lines
    for result in log["runs"][0]["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]


def test_related_places_are_related_locations_linked_from_the_message() -> None:
    log, code, _ = sarif("-", stdin=DUPLICATES)
    assert code == 1
    results = {r["ruleId"]: r for r in log["runs"][0]["results"]}
    e307 = results["E307"]
    [related] = e307["relatedLocations"]
    assert related["id"] == 1 and related["message"]["text"] == "`a` is first named here"
    assert related["physicalLocation"]["region"] == {"startLine": 1, "startColumn": 6, "endLine": 1, "endColumn": 7}
    assert e307["message"]["text"].endswith("\nnote: `a` is first named here ([line 1](1))")
    [related] = results["E309"]["relatedLocations"]
    assert related["physicalLocation"]["region"] == {"startLine": 2, "startColumn": 21, "endLine": 2, "endColumn": 23}


def test_columns_count_utf16_code_units_after_an_emoji() -> None:
    # 🎬 is one character but two UTF-16 code units: every column after it on its line moves by one.
    text = 'SHOT a: pan right "🎬 x" 5s 10s moves words\nSHOT b: pann right "y"\n'
    log, _, _ = sarif("-", stdin=text)
    as_json = json.loads(shotlang("check", "--format", "json", "-", stdin=text).stdout)
    assert log["runs"][0]["columnKind"] == "utf16CodeUnits"
    e309, e200 = regions(log)
    assert e309 == ("E309", 1, 29, 1, 32)
    assert (as_json[0]["column"], as_json[0]["end_column"]) == (28, 31)
    assert e200 == ("E200", 2, 9, 2, 13)  # a line with no emoji: as json counts
    related = log["runs"][0]["results"][0]["relatedLocations"][0]["physicalLocation"]["region"]
    assert (related["startColumn"], related["endColumn"]) == (26, 28)  # `5s`, after the emoji too


def test_several_files_give_one_run_in_the_order_given(tmp_path: Path) -> None:
    first = write(tmp_path, "first.shot", DUPLICATES)
    second = write(tmp_path, "second.shot", WARNING_ONLY)
    log, code, _ = sarif("second.shot", "first.shot", cwd=tmp_path)
    assert code == 1 and len(log["runs"]) == 1
    uris = [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in log["runs"][0]["results"]]
    assert uris == ["second.shot", "first.shot", "first.shot"]
    log, _, _ = sarif(str(second), str(first))
    location = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert location == {"uri": second.as_uri()}  # absolute: a file URI, no base


def test_file_names_become_uri_references(tmp_path: Path) -> None:
    (tmp_path / "my scenes").mkdir()
    write(tmp_path / "my scenes", "a:b%.shot", WARNING_ONLY)
    log, code, _ = sarif("./my scenes/a:b%.shot", cwd=tmp_path)
    assert code == 0
    location = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert location == {"uri": "my%20scenes/a%3Ab%25.shot", "uriBaseId": "%SRCROOT%"}


def test_standard_input_is_named_but_not_under_the_source_root() -> None:
    log, code, _ = sarif("-", stdin=WARNING_ONLY)
    assert code == 0
    location = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert location == {"uri": "%3Cstdin%3E", "description": {"text": "standard input"}}


def test_an_unreadable_file_is_a_failed_invocation_and_exit_2(tmp_path: Path) -> None:
    write(tmp_path, "bad.shot", DUPLICATES)
    log, code, stderr = sarif("bad.shot", "missing.shot", cwd=tmp_path)
    assert code == 2
    assert stderr == "shotlang: cannot read missing.shot: No such file or directory\n"
    run = log["runs"][0]
    assert [r["ruleId"] for r in run["results"]] == ["E307", "E309"]  # the readable file is still checked
    assert run["invocations"] == [{
        "executionSuccessful": False, "exitCode": 2,
        "toolExecutionNotifications": [
            {"level": "error", "message": {"text": "cannot read missing.shot: No such file or directory"}}]}]


def test_the_log_is_the_same_each_time_and_ascii() -> None:
    args = ("check", "--format", "sarif", "tests/golden/mistakes.shot", "-")
    first = shotlang(*args, stdin='SHOT a: "x" 🎬\n').stdout  # unexpected character `🎬`
    assert first == shotlang(*args, stdin='SHOT a: "x" 🎬\n').stdout
    assert first.isascii() and "\\ud83c\\udfac" in first


# --- GitHub Actions annotations ------------------------------------------------------------------


def unescape(text: str) -> str:
    """What the runner reads back from an escaped property or message."""
    for escaped, char in (("%0D", "\r"), ("%0A", "\n"), ("%3A", ":"), ("%2C", ","), ("%25", "%")):
        text = text.replace(escaped, char)
    return text


def parse(line: str) -> tuple[str, dict[str, str], str]:
    """A workflow command as the runner splits it: `::kind k=v,k=v::message`."""
    match = re.fullmatch(r"::(\w+)(?: ([^:]*))?::(.*)", line)
    assert match, line
    kind, props, message = match.groups()
    pairs = dict(p.split("=", 1) for p in props.split(",")) if props else {}
    return kind, {k: unescape(v) for k, v in pairs.items()}, unescape(message)


def test_github_annotation_per_diagnostic_then_the_summary() -> None:
    done = shotlang("check", "--format", "github", "tests/golden/mistakes.shot")
    assert done.returncode == 1 and done.stderr == ""
    *commands, summary = done.stdout.splitlines()
    assert summary == "10 errors, 4 warnings in 1 file"
    assert len(commands) == 14
    assert commands[6] == (
        "::error file=tests/golden/mistakes.shot,line=14,col=13,endLine=14,endColumn=34,"
        "title=shotlang E201%3A more than one camera movement in one shot::"
        "2 camera movements in one shot: `pan right` and `tilt up`%0A"
        "help: Kling moves the camera along one axis per shot (400 invalid camera config); "
        "split this into one shot per movement")
    kind, props, message = parse(commands[10])
    assert kind == "warning" and props["line"] == "18" and props["title"] == "shotlang W100: movement too weak to see"
    assert message.startswith("magnitude 1 gives no visible movement\nhelp: ")


def test_github_escapes_properties_and_messages(tmp_path: Path) -> None:
    write(tmp_path, "100%,a:b.shot", 'SHOT a: "x" image "50%,a:b.png"\n')
    done = shotlang("check", "--format", "github", "100%,a:b.shot", cwd=tmp_path)
    assert done.returncode == 1
    line = done.stdout.splitlines()[0]
    assert line.startswith("::error file=100%25%2Ca%3Ab.shot,line=1,col=19,endLine=1,endColumn=32,"
                           "title=shotlang E500%3A image file not found::image file `50%25,a:b.png` not found%0A")
    kind, props, message = parse(line)
    assert props["file"] == "100%,a:b.shot"
    assert message.splitlines()[0] == "image file `50%,a:b.png` not found"


def test_github_never_prints_a_control_character() -> None:
    done = shotlang("check", "--format", "github", "-", stdin='SHOT b: "y" fo\u202eo\n')
    assert "\u202e" not in done.stdout
    assert "unexpected character `\\u202e`" in done.stdout


def test_github_related_places_follow_the_hint() -> None:
    done = shotlang("check", "--format", "github", "-", stdin=DUPLICATES)
    _, props, message = parse(done.stdout.splitlines()[0])
    assert props == {"title": "shotlang E307: duplicate shot name"}  # standard input: no file to point at
    assert message == ("<stdin>:2:6: a shot named `a` is already on line 1\n"
                       "help: give each shot its own name (case is ignored)\n"
                       "note: `a` is first named here (<stdin>:1:6)")


def test_github_columns_only_for_a_span_on_one_line(tmp_path: Path) -> None:
    long = "x" * 1500
    write(tmp_path, "long.shot", f'SHOT a: pan right over "{long}"\n    "{long}" 5s moves words\n')
    done = shotlang("check", "--format", "github", "long.shot", cwd=tmp_path)
    _, props, _ = parse(done.stdout.splitlines()[0])
    assert props == {"file": "long.shot", "line": "1", "endLine": "2", "title": "shotlang E306: text too long"}


def test_github_columns_count_utf16_code_units(tmp_path: Path) -> None:
    write(tmp_path, "emoji.shot", 'SHOT a: pan right "🎬 x" 5s 10s moves words\n')
    done = shotlang("check", "--format", "github", "emoji.shot", cwd=tmp_path)
    _, props, message = parse(done.stdout.splitlines()[0])
    assert (props["col"], props["endColumn"]) == ("29", "32")
    assert message.endswith("note: the first duration (emoji.shot:1:26)")


def test_github_unreadable_file_is_an_error_line_and_exit_2(tmp_path: Path) -> None:
    write(tmp_path, "ok.shot", WARNING_ONLY)
    done = shotlang("check", "--format", "github", "ok.shot", "missing.shot", cwd=tmp_path)
    assert done.returncode == 2
    lines = done.stdout.splitlines()
    assert lines[0].startswith("::warning file=ok.shot,line=1,")
    assert lines[1] == ("::error title=shotlang%3A file not read::"
                        "cannot read missing.shot: No such file or directory")
    assert lines[2] == "1 shot ok, 1 warning in 1 file; 1 file could not be read"
    assert done.stderr == "shotlang: cannot read missing.shot: No such file or directory\n"


def test_github_clean_files_exit_0() -> None:
    done = shotlang("check", "--format", "github", *(str(p.relative_to(ROOT)) for p in EXAMPLES))
    assert done.returncode == 0
    *annotations, summary = done.stdout.splitlines()
    assert summary.endswith(f"0 errors, {len(annotations)} warnings in {len(EXAMPLES)} files") or \
        summary.endswith(f"{len(annotations)} warnings in {len(EXAMPLES)} files"), summary
    # Only the warning that the sources dispute camera control, at most once per file.
    assert all(a.startswith("::warning ") and "shotlang W108" in a for a in annotations), annotations
    assert len(annotations) <= len(EXAMPLES)
