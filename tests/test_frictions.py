"""What a newcomer's pass found misleading (issue 23, item 5), each said plainly now."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import compile_in


@pytest.mark.parametrize(("text", "at", "message", "hint"), [
    ('SHOT a: "x" 5sec', "5sec", "unexpected `5sec`", "`5s`"),
    ('SHOT a: "x" 10 seconds', "10", "unknown option `10`", "`10s`"),
    ('SHOT a: "x" 16x9', "16x9", "unexpected `16x9`", "`16:9`"),
    ('SHOT a: pan right .5 "x"', ".5", "unexpected `.5`", "`0.5`"),
    ('SHOT a: "x"\u00a05s', "\u00a0", "a no-break space (U+00A0)", "retype it as a plain space"),
    ('SHOT a: "x"\u200b 5s', "\u200b", "a zero-width space (U+200B)", "delete it"),
    ("SHOT a: 'A castle at dawn'", "'A castle", "the prompt is not in double quotes", '`SHOT a: "A castle at dawn"`'),
    ('SHOT a: "x"\n// the next shot\nSHOT b: "y"', "//", "`//` does not start a comment", "`# the next shot`"),
    ('SHOT a: pan right slowly "x"', "slowly", "unknown word `slowly`", "`slow pan right`"),
])
def test_a_newcomers_slip_is_named_with_its_fix(tmp_path: Path, text: str, at: str, message: str, hint: str) -> None:
    result = compile_in(tmp_path, text)
    found = [d for d in result.diagnostics if message in d.message]
    assert found, [(d.code, d.message, d.hint) for d in result.diagnostics]
    d = found[0]
    assert text[d.span.start:].startswith(at) and hint in d.hint, (d.message, d.hint)


def test_a_carriage_return_in_a_file_name_reaches_github_as_the_runner_reads_it(tmp_path: Path) -> None:
    from runs import shotlang

    film = tmp_path / "a\rb.shot"
    film.write_text('SHOT a: "x" 5sec\n', encoding="utf-8")
    done = shotlang("check", "--format", "github", str(film))
    line = done.stdout.splitlines()[0]
    assert "\r" not in done.stdout and f"file={str(tmp_path).replace(':', '%3A')}/a%0Db.shot," in line


def test_an_edl_title_is_ascii(tmp_path: Path) -> None:
    pytest.importorskip("opentimelineio")
    from runs import shotlang

    film = tmp_path / "film.shot"
    film.write_text('TITLE "La Côte — 城"\nSCENE "Nuit — 城"\nSHOT a: "x"\n', encoding="utf-8")
    done = shotlang("timeline", str(film), "--format", "edl", "-o", str(tmp_path / "cut.edl"))
    assert done.returncode == 0, done.stderr
    text = (tmp_path / "cut.edl").read_bytes()
    assert text.isascii() and b"TITLE: La Cote" in text and b"NUIT" in text  # the scene's marker too


def test_an_install_hint_works_from_a_clone_too() -> None:
    from shotlang.terminal import install_hint
    from shotlang.tools.lsp import INSTALL

    assert install_hint("timeline") == ("pip install 'shotlang[timeline]' "
                                        "(in a clone of shotlang: pip install '.[timeline]')")
    assert "pip install '.[lsp]'" in INSTALL


@pytest.mark.parametrize("text", [
    'SHOT a: pan right over "x" 7s pro model kling-v9',  # the shot's own model misspelt
    'MODEL kling-v9\nSHOT a: "x" 7s\nSHOT b: "y" 10s pro 9:16',  # a MODEL line's, for the shots below
])
def test_a_misspelt_model_is_one_error_not_errors_of_the_default_models(tmp_path: Path, text: str) -> None:
    # The model's name was the typo: the shots' durations and modes are not checked against
    # kling-v2-6 (shotlang's default), which has no 7s clip, instead.
    result = compile_in(tmp_path, text)
    assert [(d.code, text[d.span.start : d.span.end]) for d in result.diagnostics] == [("E300", "kling-v9")]
