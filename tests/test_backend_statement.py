"""`BACKEND kling|fal` in a shot list: parsed, lowered, checked where it stands, formatted,
completed and hovered, and weighed against `--backend` (which wins) and the config's backend
(which it wins over) by compile, check, plan and run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from runs import FAST, shotlang

import shotlang as api
from shotlang import cli
from shotlang.compiler import lower, parser
from shotlang.compiler import syntax as ast
from shotlang.compiler.diagnostics import Diagnostic
from shotlang.compiler.language import BACKENDS
from shotlang.compiler.pipeline import analyse
from shotlang.compiler.source import Source
from shotlang.testing import FakeFal
from shotlang.tools.fmt import format_text
from shotlang.tools.lsp import words
from shotlang.tools.lsp.live import LiveCheck

# Shots that fal's apps take (v2.6 pro) and Kling takes alike.
SHOTS = """\
SHOT castle: slow pan right over "A castle at dawn" 5s pro
SHOT bells: "Bells ring over the town" 10s pro
"""
FAL_FILM = 'TITLE "On fal"\nBACKEND fal\n' + SHOTS
FAL_APP = "fal-ai/kling-video/v2.6/pro/text-to-video"


def errors(text: str, **kwargs: str | None) -> list[Diagnostic]:
    return api.compile_text(text, **kwargs).errors  # type: ignore[arg-type]


# --- the statement -------------------------------------------------------------------------------


@pytest.mark.parametrize("written", ["BACKEND fal", "backend FAL", "Backend  Fal  # fal's apps"])
def test_the_statement_is_parsed_and_lowered_whatever_its_case(written: str) -> None:
    report: list[Diagnostic] = []
    source = Source(written.split("#")[0], "x.shot")
    [statement] = list(parser.statements(source, report))
    assert isinstance(statement, ast.Backend) and statement.value.text.lower() == "fal"
    lowering = lower.Lowering(report)
    lowering.feed(statement)
    assert (lowering.backend, report) == ("fal", [])


def test_without_a_backend_line_the_lowering_says_none_and_the_output_is_klings() -> None:
    lowering = lower.Lowering([])
    assert lowering.backend is None
    result = api.compile_text(SHOTS)
    assert result.output is not None and result.output.backend == "kling"
    assert "backend" not in json.loads(result.output.to_json())


def test_twice_is_e312_pointing_at_the_first() -> None:
    [error] = errors("BACKEND fal\nBACKEND kling\n" + SHOTS)
    assert (error.code, error.message, error.span.line) == ("E312", "BACKEND is given twice", 2)
    assert [r.span.line for r in error.related] == [1]


def test_an_unknown_backend_is_e311_with_a_did_you_mean() -> None:
    [error] = errors("BACKEND fall\n" + SHOTS)
    assert (error.code, error.message, error.hint) == ("E311", "unknown BACKEND `fall`", "did you mean `fal`?")
    [far] = errors("BACKEND replicate\n" + SHOTS)
    assert far.code == "E311" and far.hint == "write `BACKEND kling` or `BACKEND fal`"


@pytest.mark.parametrize("above", [
    'SHOT castle: "A castle"\n',
    'SEQUENCE chase: 15s model kling-v3\n    SHOT a: "x" 5s\n    SHOT b: "y" 10s\n',
    'CAST keeper: "a keeper" image "https://example.com/k.png" also "https://example.com/k2.png"\n',
])
def test_after_the_first_request_it_is_e312_and_the_file_keeps_its_backend(above: str) -> None:
    report: list[Diagnostic] = []
    lowering = lower.Lowering(report)
    for statement in parser.statements(Source(above + "BACKEND fal\n", "x.shot"), report):
        lowering.feed(statement)
    assert [(d.code, d.message) for d in report] == [("E312", "BACKEND comes after a SHOT, SEQUENCE or CAST")]
    assert lowering.backend is None


def test_the_api_takes_none_for_the_files_line_and_refuses_a_misspelt_backend() -> None:
    assert api.compile_text(FAL_FILM).output.backend == "fal"  # type: ignore[union-attr]
    assert api.compile_text(FAL_FILM, backend=None, default_backend="kling").output.backend == "fal"  # type: ignore[union-attr]
    assert api.compile_text(SHOTS, default_backend="fal").output.backend == "fal"  # type: ignore[union-attr]
    assert api.compile_text("BACKEND kling\n" + SHOTS, default_backend="fal").output.backend == "kling"  # type: ignore[union-attr]
    assert api.compile_text(FAL_FILM, backend="kling").output.backend == "kling"  # type: ignore[union-attr]
    with pytest.raises(ValueError, match="backend must be"):
        api.compile_text(SHOTS, backend="fall")
    with pytest.raises(ValueError, match="backend must be"):
        api.compile_text(SHOTS, default_backend="fall")


def test_the_files_backend_decides_what_is_checked() -> None:
    """A shot fal's apps do not take (kling-v2-6 in std) is refused under `BACKEND fal` only."""
    std = 'SHOT castle: "A castle" 5s std model kling-v2-6\n'
    assert errors(std) == []
    assert [e.code for e in errors("BACKEND fal\n" + std)] == ["E416"]
    assert errors("BACKEND fal\n" + std, backend="kling") == []


# --- compile and check through the command line ----------------------------------------------------


def cli_run(tmp_path: Path, text: str, *args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    (tmp_path / "film.shot").write_text(text)
    environment = {"SHOTLANG_CONFIG": str(tmp_path / "none.toml"), "SHOTLANG_BACKEND": None, **(env or {})}
    result = CliRunner().invoke(cli.main, [*args, str(tmp_path / "film.shot")], env=environment)
    return result.exit_code, result.stdout


def test_compile_writes_fals_requests_for_a_backend_fal_file_and_klings_with_backend_kling(tmp_path: Path) -> None:
    code, out = cli_run(tmp_path, FAL_FILM, "compile")
    envelope = json.loads(out)
    assert code == 0 and envelope["backend"] == "fal"
    assert [s["endpoint"] for s in envelope["shots"]] == [FAL_APP, FAL_APP]
    code, out = cli_run(tmp_path, FAL_FILM, "compile", "--backend", "kling")
    envelope = json.loads(out)
    assert code == 0 and "backend" not in envelope
    assert [s["endpoint"] for s in envelope["shots"]] == ["/v1/videos/text2video"] * 2


def test_the_file_wins_over_the_configs_backend(tmp_path: Path) -> None:
    code, out = cli_run(tmp_path, "BACKEND kling\n" + SHOTS, "compile", env={"SHOTLANG_BACKEND": "fal"})
    assert code == 0 and "backend" not in json.loads(out)
    code, out = cli_run(tmp_path, SHOTS, "compile", env={"SHOTLANG_BACKEND": "fal"})
    assert code == 0 and json.loads(out)["backend"] == "fal"


def test_check_judges_a_backend_fal_file_against_fals_apps(tmp_path: Path) -> None:
    std = 'BACKEND fal\nSHOT castle: "A castle" 5s std model kling-v2-6\n'
    code, out = cli_run(tmp_path, std, "check")
    assert code == 1 and "E416" in out
    code, _ = cli_run(tmp_path, std, "check", "--backend", "kling")
    assert code == 0


def test_decompile_refuses_fals_requests_and_says_how_to_get_klings(tmp_path: Path) -> None:
    for fmt in ("json", "jsonl"):
        code, out = cli_run(tmp_path, FAL_FILM, "compile", "--format", fmt)
        assert code == 0
        (tmp_path / f"film.{fmt}").write_text(out)
        result = CliRunner().invoke(cli.main, ["decompile", str(tmp_path / f"film.{fmt}")])
        assert result.exit_code == 2 and "--backend kling" in result.output, result.output
    code, out = cli_run(tmp_path, FAL_FILM, "compile", "--backend", "kling")
    (tmp_path / "kling.json").write_text(out)
    back = CliRunner().invoke(cli.main, ["decompile", str(tmp_path / "kling.json")])
    assert back.exit_code == 0 and "SHOT castle: slow pan right" in back.output


# --- fmt, completion, hover, the language server -----------------------------------------------------


def test_fmt_writes_it_canonically_and_a_second_pass_changes_nothing() -> None:
    text = 'title "On fal"\n  backend   FAL   # fal\nSHOT castle: "A castle at dawn" 5s pro\n'
    once = format_text(text).text
    assert once == 'TITLE "On fal"\nBACKEND fal  # fal\nSHOT castle: "A castle at dawn" 5s pro\n'
    assert format_text(once).text == once
    assert api.compile_text(once).output == api.compile_text(text).output


def test_the_language_server_completes_the_backends_after_backend() -> None:
    from shotlang.compiler.models import built_in

    for text in ("BACKEND ", "backend f"):
        items = words.completions(text, 0, len(text), built_in(), "kling-v2-6")
        assert [i.label for i in items] == list(BACKENDS)
        assert all(i.kind == "value" and i.documentation for i in items)
    assert words.completions("BACKEND fal ", 0, 12, built_in(), "kling-v2-6") == []
    keywords = [i.label for i in words.completions("", 0, 0, built_in(), "kling-v2-6")]
    assert "BACKEND" in keywords


def test_hover_says_what_the_statement_and_its_word_are() -> None:
    from shotlang.compiler.models import built_in

    source = Source("BACKEND fal\n", "x.shot")
    said = words.hover(source, (0, 11), 2, "seed", built_in(), [])
    assert said is not None and "**BACKEND**" in said.markdown
    said = words.hover(source, (0, 11), 9, "seed", built_in(), [])
    assert said is not None and said.markdown.startswith("**BACKEND fal**") and "fal.ai" in said.markdown


def test_the_language_server_checks_a_backend_fal_file_as_check_does(tmp_path: Path) -> None:
    text = 'BACKEND fal\nSHOT castle: "A castle" 5s std model kling-v2-6\n'
    live = LiveCheck(text, "x.shot", tmp_path)
    fresh = analyse(text, "x.shot", tmp_path).diagnostics
    assert [d.code for d in live.diagnostics] == [d.code for d in fresh] == ["E416"]
    live.edit(*_replacing(text, "BACKEND fal", "BACKEND kling"))
    assert live.diagnostics == []


def _replacing(text: str, old: str, new: str) -> tuple[int, int, str]:
    at = text.index(old)
    return at, at + len(old), new


# --- run: the file's backend, its key and its client ------------------------------------------------


def test_run_without_backend_sends_a_backend_fal_file_to_fal_paid_once_a_shot(tmp_path: Path) -> None:
    film = tmp_path / "film.shot"
    film.write_text(FAL_FILM)
    with FakeFal(task_seconds=0.2) as fal:
        planned = shotlang("plan", str(film), env=fal.env())
        assert planned.returncode == 0, planned.stderr
        assert "fal's pages give no price" in planned.stdout, planned.stdout  # fal's plan, not Kling's
        done = shotlang("run", str(film), *FAST, env=fal.env())  # fal's key only: no Kling credentials
        assert done.returncode == 0, done.stderr
        assert sorted(app for app, _ in fal.created()) == [FAL_APP, FAL_APP]
        assert sorted(p.stem for p in tmp_path.glob("*.mp4")) == ["bells", "castle"]
        again = shotlang("run", str(film), *FAST, env=fal.env())
        assert again.returncode == 0, again.stderr
        assert len(fal.created()) == 2  # nothing paid again
        status = shotlang("status", str(film), "--json", env=fal.env())
        assert status.returncode == 0, status.stderr
        assert {row["status"] for row in json.loads(status.stdout)} == {"succeed"}
