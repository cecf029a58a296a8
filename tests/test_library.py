"""The Python API reads only what is under a shot list's own folder, and no user configuration
unless asked: a service compiling text it did not write leaks no file (docs/api.md)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from helpers import codes, png
from runs import shotlang as cli

import shotlang
from shotlang.compiler.images import ImageStore

_OPENED: list[str] | None = None


def _audit(event: str, args: tuple) -> None:
    if _OPENED is not None and event == "open" and isinstance(args[0], str | bytes | os.PathLike):
        _OPENED.append(os.fsdecode(args[0]))


sys.addaudithook(_audit)


@contextmanager
def opened() -> Iterator[list[str]]:
    """Every file this process opens meanwhile."""
    global _OPENED
    _OPENED = []
    try:
        yield _OPENED
    finally:
        _OPENED = None


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path]:
    """A shot list's folder, and a folder beside it with a secret image in it."""
    inside, outside = tmp_path / "film", tmp_path / "elsewhere"
    inside.mkdir()
    outside.mkdir()
    (outside / "secret.png").write_bytes(png(400, 400))
    (inside / "still.png").write_bytes(png(400, 400))
    (inside / "link.png").symlink_to(outside / "secret.png")
    return inside, outside


def test_named_files_outside_the_folder_are_refused_and_never_read(folders: tuple[Path, Path]) -> None:
    inside, outside = folders
    names = ["/etc/hostname", "/etc/passwd", str(outside / "secret.png"), "../elsewhere/secret.png", "link.png",
             "~/.ssh/id_rsa", "still.png"]
    text = "".join(f'SHOT s{i}: "x" image "{name}" model kling-v1\n' for i, name in enumerate(names))
    with opened() as files:
        result = shotlang.compile_text(text, inside / "film.shot")
    assert codes(result) == ["E507"] * 6  # all but the image beside the shot list
    assert [d.span.line for d in result.diagnostics] == [1, 2, 3, 4, 5, 6]
    read = {Path(f).resolve() for f in files}
    assert (inside / "still.png").resolve() in read
    assert not [f for f in read if f.is_relative_to(outside) or str(f).startswith(("/etc", str(Path.home())))]


def test_text_with_no_folder_reads_no_file() -> None:
    with opened() as files:
        result = shotlang.compile_text('SHOT a: "x" image "still.png" model kling-v1\n')
    assert codes(result) == ["E507"] and "given no folder" in result.diagnostics[0].hint
    assert not [f for f in files if f.endswith((".png", ".toml"))]


def test_no_user_configuration_is_read_unless_asked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mine = tmp_path / "mine.toml"
    mine.write_text('[models.house]\nendpoints = ["text2video"]\n', encoding="utf-8")
    monkeypatch.setenv("SHOTLANG_MODELS", str(mine))
    text = 'SHOT a: "x" model house\n'
    with opened() as files:
        plain = shotlang.compile_text(text, tmp_path / "a.shot")
    assert codes(plain) == ["E300"] and str(mine) not in files  # `house` is the user's: not read
    asked = shotlang.compile_text(text, tmp_path / "a.shot", user_config=True)
    assert codes(asked) == []


def test_a_caller_that_trusts_the_text_may_read_anywhere(folders: tuple[Path, Path]) -> None:
    inside, outside = folders
    text = f'SHOT a: "x" image "{outside / "secret.png"}" model kling-v1\n'
    result = shotlang.compile_text(text, inside / "film.shot", images=ImageStore(anywhere=True))
    assert codes(result) == ["W110"] and result.output is not None


def test_the_command_line_reads_what_the_writer_names_and_says_so(folders: tuple[Path, Path]) -> None:
    inside, outside = folders
    (inside / "film.shot").write_text(f'SHOT a: "x" image "{outside / "secret.png"}" model kling-v1\n',
                                      encoding="utf-8")
    checked = cli("check", str(inside / "film.shot"))
    assert checked.returncode == 0 and "W110" in checked.stderr + checked.stdout
    compiled = cli("compile", str(inside / "film.shot"))
    assert compiled.returncode == 0 and '"image": "iVBOR' in compiled.stdout


def test_text_with_no_folder_reads_no_models_file_where_the_process_runs(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "shotlang-models.toml").write_text('[models.house]\nendpoints = ["text2video"]\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    with opened() as files:
        result = shotlang.compile_text('SHOT a: "x" model house\n')
    assert codes(result) == ["E300"] and not [f for f in files if f.endswith("shotlang-models.toml")]
    assert codes(shotlang.compile_text('SHOT a: "x" model house\n', folder=tmp_path)) == []  # given: its own
