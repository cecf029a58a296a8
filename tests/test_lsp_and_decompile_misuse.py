"""Attacks on the language server (`shotlang lsp`) and decompiler (`shotlang decompile`):
each test is a bug found by trying to break them, named for the behaviour that was wrong.

The language server through a real process where the protocol matters (tests/test_lsp.py's
client), and in process where only the check does; the decompiler through the real command
where what reaches the terminal matters, and through its library API elsewhere.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import shotlang
from shotlang.compiler.pipeline import analyse_bytes
from shotlang.tools.decompile import Decompiled, decompile, read_payload
from shotlang.tools.fmt import format_text
from shotlang.tools.lsp.client import Client
from shotlang.tools.lsp.live import LiveCheck

SHOTLANG = str(Path(sys.executable).with_name("shotlang"))


# --- helpers -------------------------------------------------------------------------------------


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-m", "shotlang", *args], capture_output=True, cwd=cwd, env=env,
                          timeout=60)


def back(data: Any, name: str = "in.json") -> Decompiled:
    raw = data if isinstance(data, str) else json.dumps(data)
    return decompile([read_payload(raw.encode(), name)])


def said(done: Decompiled) -> list[str]:
    return [str(p) for p in done.problems]


def record(name: Any, body: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "scene": None, "line": 1, "method": "POST", "endpoint": "/v1/videos/text2video",
            "body": body}


def envelope(*records: dict[str, Any], version: Any = 1) -> dict[str, Any]:
    return {"shotlang_format": version, "source": "a.shot", "title": None, "axes": "seed", "shots": list(records)}


def applied(text: str, edits: list[dict[str, Any]]) -> str:
    """`edits` applied as an editor applies them: lines end at \\r\\n, \\r or \\n, characters are
    UTF-16 units, and a character past its line's end is the line's end (the protocol's rule)."""
    starts = [0, *(m.end() for m in re.finditer(r"\r\n|\r|\n", text))]

    def offset(position: dict[str, int]) -> int:
        if position["line"] >= len(starts):
            return len(text)
        start = starts[position["line"]]
        end = starts[position["line"] + 1] if position["line"] + 1 < len(starts) else len(text)
        line = text[start:end].rstrip("\r\n")
        units = 0
        for i, char in enumerate(line):
            if units >= position["character"]:
                return start + i
            units += 2 if ord(char) > 0xFFFF else 1
        return start + len(line)

    for edit in sorted(edits, key=lambda e: (e["range"]["start"]["line"], e["range"]["start"]["character"]),
                       reverse=True):
        a, b = offset(edit["range"]["start"]), offset(edit["range"]["end"])
        text = text[:a] + edit["newText"] + text[b:]
    return text


# --- the language server -------------------------------------------------------------------------


@pytest.mark.parametrize("text", ['SHOT a: "x"\nSHOT b:  "y"\r\n', 'shot a: "x"\nSHOT b: "y"\r\nSHOT c: "z"\r\n'])
def test_lsp_formatting_a_file_of_mixed_line_ends_gives_edits_an_editor_applies_to_fmts_form(
        tmp_path: Path, text: str) -> None:
    """fmt writes every line end as the first one; the edit that drops a `\\r` must not end
    between it and its `\\n`, a place no position can name (an editor reads the end as the line's
    end and keeps the `\\r`)."""
    canonical = format_text(text, "m.shot").text
    assert canonical is not None and "\r" not in canonical
    with Client([SHOTLANG, "lsp"], cwd=tmp_path) as client:
        client.initialize(tmp_path)
        uri = (tmp_path / "m.shot").as_uri()
        client.open(uri, text)
        client.diagnostics(uri)
        edits = client.request("textDocument/formatting", {"textDocument": {"uri": uri},
                                                          "options": {"tabSize": 4, "insertSpaces": True}})
        assert applied(text, edits) == canonical
        assert client.close() == 0


@pytest.mark.parametrize("text", ['SHOT a: "x"\n/* off \0 */\n', 'SHOT a: "x" [[ a \0 note ]]\n'])
def test_lsp_a_nul_in_a_block_comment_or_a_note_is_the_e001_check_reports(tmp_path: Path, text: str) -> None:
    """The server reads a NUL as `check` reads the file's bytes (one E001, docs/cli.md); one
    the masking of comments and notes had blanked out was not seen at all."""
    expected = analyse_bytes(text.encode(), "t.shot", tmp_path).diagnostics
    assert [d.code for d in expected] == ["E001"]
    live = LiveCheck(text, "t.shot", tmp_path)
    assert [(d.code, d.span.start) for d in live.diagnostics] == [(d.code, d.span.start) for d in expected]
    # and typed in after opening
    clean = text.replace("\0", "")
    live = LiveCheck(clean, "t.shot", tmp_path)
    at = text.index("\0")
    live.edit(at, at, "\0")
    assert [d.code for d in live.diagnostics] == ["E001"]


def test_lsp_a_request_after_shutdown_is_answered_with_an_error_not_left_waiting(tmp_path: Path) -> None:
    """The protocol: a request after `shutdown` is answered with InvalidRequest; pygls dropped
    it, so a client waiting for the answer (a second `shutdown`, a late hover) waited for ever."""
    with Client([SHOTLANG, "lsp"], cwd=tmp_path) as client:
        client.initialize(tmp_path)
        assert client.request("shutdown", None) is None
        with pytest.raises(RuntimeError, match="-32600"):
            client.request("textDocument/hover", {"textDocument": {"uri": (tmp_path / "a.shot").as_uri()},
                                                  "position": {"line": 0, "character": 0}}, timeout=10)
        with pytest.raises(RuntimeError, match="-32600"):
            client.request("shutdown", None, timeout=10)
        client.notify("exit", None)
        assert client.process.wait(10) == 0


# --- the decompiler ------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["prompt", "negative_prompt", "external_task_id", "model_name"])
def test_decompile_a_lone_surrogate_is_reported_not_a_traceback(tmp_path: Path, field: str) -> None:
    """JSON may spell half a UTF-16 pair (`"\\ud800"`); no file's text can hold it. It was
    written into the shot list and printing it failed with a UnicodeEncodeError."""
    body = {"model_name": "kling-v2-6", "prompt": "a castle", field: "kling-\\ud800"}
    (tmp_path / "in.json").write_text(json.dumps(body).replace("\\\\ud800", "\\ud800"))
    for args in (["in.json"], ["in.json", "-o", "out.shot"]):
        done = run("decompile", *args, cwd=tmp_path)
        stderr = done.stderr.decode()
        assert "Traceback" not in stderr, stderr
        assert done.returncode == 1
        assert f"in.json: {field}: " in stderr and "surrogate" in stderr
    written = (tmp_path / "out.shot").read_text(encoding="utf-8")
    assert shotlang.compile_text(written).output is not None or field == "prompt"


@pytest.mark.parametrize("version", [True, 1.5, "1"])
def test_decompile_refuses_an_envelope_of_another_format_such_as_true(tmp_path: Path, version: Any) -> None:
    """`true == 1` in Python: an envelope (or a JSON line) saying `"shotlang_format": true` was
    read as format 1."""
    (tmp_path / "e.json").write_text(json.dumps(envelope(version=version)))
    line = {**record("a", {"prompt": "x"}), "shotlang_format": version, "source": "a.shot"}
    (tmp_path / "l.jsonl").write_text(json.dumps(line) + "\n" + json.dumps(line) + "\n")
    for name in ("e.json", "l.jsonl"):
        done = run("decompile", name, cwd=tmp_path)
        assert done.returncode == 2, done.stdout.decode()
        assert "this shotlang reads envelopes of format 1" in done.stderr.decode()
        assert done.stdout == b""


def test_decompile_a_made_up_name_never_takes_a_later_records_own_name() -> None:
    """A record whose name cannot be written is given `shot-1`; a later record named `shot-1`
    lost its own name to it, and was reported as not free."""
    body = {"model_name": "kling-v2-6", "prompt": "x", "duration": "5"}
    done = back(envelope(record("bad name", body), record("shot-1", body)))
    assert said(done) == ['in.json: shots[0].name: "bad name" is not a free, safe shot name (one word of ASCII '
                          "letters, digits, - and _, unique); written as shot-2"]
    assert [line for line in done.text.splitlines() if line.startswith("SHOT")] == [
        'SHOT shot-2: "x" 5s', 'SHOT shot-1: "x" 5s']


def test_decompile_an_unknown_model_is_reported_for_each_request_that_names_it() -> None:
    """docs/cli.md: each compile error is reported for its request. The model most requests
    share goes on a MODEL line, and an error there was reported for no request: the output's
    name (`<decompiled>`) and no JSON path."""
    bodies = [{"model_name": "kling-v9", "prompt": "a"}, {"model_name": "kling-v9", "prompt": "b"},
              {"model_name": "kling-v2-6", "prompt": "c"}]
    assert said(back(bodies)) == [
        "in.json: [0].model_name: does not compile: error[E300]: unknown model `kling-v9`",
        "in.json: [1].model_name: does not compile: error[E300]: unknown model `kling-v9`"]


@pytest.mark.parametrize(("model", "why"), [
    ("kling[[x", "a model name cannot hold `[[` or `/*`"),
    ("kling/*x", "a model name cannot hold `[[` or `/*`"),
    ("kling\x1b[31mx", "holds the control character `\\x1b` (ESC)")])
def test_decompile_a_model_name_the_shot_list_would_read_otherwise_is_reported_at_its_path(
        tmp_path: Path, model: str, why: str) -> None:
    """`MODEL kling[[x` opens a note and `kling/*x` a block comment; a control character was
    written raw (and stripped by click on a pipe, so standard output and -o differed). They
    were reported, if at all, as errors of the output with no JSON path."""
    done = back({"model_name": model, "prompt": "a"})
    assert len(done.problems) == 1, said(done)
    assert str(done.problems[0]).startswith("in.json: model_name: ") and why in str(done.problems[0])
    assert all(line.startswith("# decompile: ") or model not in line for line in done.text.splitlines())


@pytest.mark.parametrize("field", ["voice_list", "dynamic_masks"])
def test_decompile_an_empty_list_the_shot_list_cannot_write_is_reported(field: str) -> None:
    """`compile` never writes `"voice_list": []`: it leaves the field out. Decompiling dropped
    an empty list in silence (docs/cli.md names only null as a field left out)."""
    body: dict[str, Any] = {"model_name": "kling-v2-6", "prompt": "a", field: []}
    if field == "dynamic_masks":
        body["image"] = "https://example.com/a.png"
    done = back(body)
    assert [p.path for p in done.problems] == [field]


def test_decompile_a_compile_error_of_a_request_with_another_problem_is_still_reported() -> None:
    """docs/cli.md: the shot list is checked, and each error is reported for its request. A
    request with an unrelated problem (a key shotlang does not write) had its error dropped:
    the camera move on kling-v1 10 s (E401) was never mentioned, and the file does not compile."""
    done = back({"model_name": "kling-v1", "prompt": "a", "seed": 1, "duration": "10",
                 "camera_control": {"type": "simple", "config": {"horizontal": 5}}})
    assert any("E401" in p.message for p in done.problems), said(done)
