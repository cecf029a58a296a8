"""Careless and hostile use of fmt, notes and block comments, and check --format sarif|github:
each test is a defect found by trying to break the new work (a block comment that ends on a
statement's line, a note that ends in `]`, a shot's name on a continuation line, an emoji in a
block comment, a UTF-16 file under --diff, a file owned by someone else...), kept as a test of
the behaviour the docs promise."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from test_ci_formats import sarif
from test_fmt import _trivia, compiled, fmt

import shotlang
from shotlang.tools.fmt import canonical

UGLY = 'shot a:  "x"\n'


def formats_safely(text: str) -> str:
    """fmt's promises for a file that compiles: the same output, a fixed point, every comment
    and note kept in order. The formatted text."""
    before = compiled(text)
    assert before["ok"], before["codes"]
    once = fmt(text)
    assert once is not None
    assert compiled(once) == before, once
    assert fmt(once) == once
    assert _trivia(once) == _trivia(text)
    return once


# --- fmt: block comments, notes and comments -------------------------------------------------


@pytest.mark.parametrize("text", [
    '/* x\n*/ SHOT a: "one"\n',
    'SHOT z: "q"\n/* x\n*/ SHOT a: "one"\n',
    'SHOT z: "q"\n[[n\n]] SHOT a: "one"\n',
    '/* x\n*/ /* y\n*/ SHOT a: "one"\n',
    'SEQUENCE q: 15s model kling-v3\n    SHOT a: "x"\n/* c\n*/  SHOT b: "y"\n',
    '/* x \r\n*/ SHOT a: "one"\r\n',
])
def test_fmt_keeps_a_block_comment_or_note_that_ends_on_a_statements_line(text: str) -> None:
    """The `*/` (or `]]`) on the statement's line was dropped: the rest of the file was switched
    off (E107) or read as the note (E108)."""
    formats_safely(text)


@pytest.mark.parametrize("text", ['SHOT a: "x" [[see [1] ]]\n', 'SHOT a: "x" [[see [1]\n]]\n'])
def test_fmt_writes_a_note_that_ends_in_a_bracket_so_that_it_still_closes(text: str) -> None:
    """`[[see [1]]]` ends at the first `]]`, leaving a stray `]` (E104)."""
    assert formats_safely(text) == 'SHOT a: "x" [[see [1] ]]\n'


@pytest.mark.parametrize("text", ['SHOT a: "x" /* c */ [[n]] # d\n', 'SHOT a: "x" /* c */ [[n]] /* d */\n'])
def test_fmt_writes_a_note_between_trailing_comments_once(text: str) -> None:
    """The trailing comments were copied with the note between them, which also went after
    the options: one more copy of the note in the output at each pass."""
    once = formats_safely(text)
    assert once.count("[[n]]") == 1


@pytest.mark.parametrize("text", ['SHOT a: "x" /* one\n*/ # two\n', 'SHOT a: "x" /* one\n*/ [[n\n]] /* two */\n'])
def test_fmt_keeps_comments_in_order_after_a_trailing_block_comment_over_lines(text: str) -> None:
    """The comment after a trailing block comment's end moved above the statement, before it."""
    formats_safely(text)


@pytest.mark.parametrize("text", [
    'SEQUENCE q: 15s model kling-v3\n    SHOT a: "y"\nSHOT\n    b: "x"\n',
    'SEQUENCE q: 15s model kling-v3\n    SHOT\n        b: "x"\n',
    'SEQUENCE q: 15s model kling-v3\n  SHOT /* x\n*/ a: "y"\n',
    'SEQUENCE q: 15s model kling-v3\n    SHOT a: "x"\nSHOT [[x\n    ]] b: "y"\n',
])
def test_fmt_keeps_a_sequences_shots_when_a_name_is_not_on_its_keywords_line(text: str) -> None:
    """The compiler takes a shot into a sequence by the indent of its keyword's line (as the
    docs say), and fmt must decide it the same way, wherever the name is."""
    formats_safely(text)


def test_a_shot_whose_name_is_indented_is_not_in_the_sequence_for_that() -> None:
    """`SHOT` at the margin ends the sequence, whatever line its name is on (before, the name's
    line decided)."""
    assert compiled('SEQUENCE q: 15s model kling-v3\nSHOT\n    b: "x"\n')["codes"] == ["E317"]


@pytest.mark.parametrize("text", [
    'SEQUENCE q: 15s model kling-v3\n    SHOT a: "y"\nDEFAULTS\n    5s\nSHOT b: "x"\n',  # E315
    'SEQUENCE /* c\n  */ q: 15s model kling-v3\n    SHOT a: "x"\n',  # E317: the sequence's indent is 5
])
def test_a_statements_indent_is_its_keywords_lines(text: str) -> None:
    """docs/language.md: the sequence ends at the first line not indented deeper than it, and
    the SHOT lines indented below it are its shots: the keywords' lines decide."""
    assert compiled(text)["codes"] == []


def test_fmt_time_grows_linearly_with_notes() -> None:
    """Each statement scanned every note and block comment of the file: 10,000 shots with a
    note each took 10 s to format (check: 1.7 s). A ratio, not a time: 8 times the shots may
    take 8 times as long, not 64."""

    def seconds(shots: int) -> float:
        text = "".join(f'SHOT s{i}: pan right "x" [[n{i}]]\n[[a\n b]]\n' for i in range(shots))
        best = float("inf")
        for _ in range(3):
            began = time.perf_counter()
            canonical(text)
            best = min(best, time.perf_counter() - began)
        return best

    small, large = seconds(300), seconds(2400)
    assert large < 24 * small, (small, large)


@pytest.mark.parametrize("text", ['MODEL /* c\n */ kling-v2-6\nSHOT a: "x"\n', 'AXES /* c\n*/ seed\nSHOT a: "x"\n'])
def test_a_line_break_inside_a_block_comment_still_ends_a_statement_that_does_not_wrap(text: str) -> None:
    """docs/language.md: the line breaks inside a block comment count; MODEL and AXES do not go
    on over lines, so the keyword is left without its value, and shotlang says so there."""
    result = shotlang.compile_text(text)
    first = result.diagnostics[0]
    assert (first.code, first.span.line) == ("E100", 1), result.render()


def test_a_block_comment_on_one_line_inside_a_statement_reads_as_blanks() -> None:
    assert compiled('MODEL /* was kling-v2-1 */ kling-v2-6\nAXES /* x */ seed\nSHOT a: "x"\n')["codes"] == []


# --- check --format sarif|github ---------------------------------------------------------------


def test_ci_columns_count_astral_characters_inside_block_comments(tmp_path: Path) -> None:
    """The UTF-16 column counted the characters of the text with its block comments blanked,
    where an emoji is one blank: the column after one was short by 1."""
    path = tmp_path / "x.shot"
    path.write_text('SHOT a: /* \U0001f3ac */ pan rigt "x" [[\U0001f3ac]]\n', encoding="utf-8")
    log, code, _ = sarif(str(path))
    region = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]
    assert (code, region["startColumn"], region["endColumn"]) == (1, 22, 26)
    done = subprocess.run([sys.executable, "-m", "shotlang", "check", "--format", "github", str(path)],
                          capture_output=True, text=True, encoding="utf-8", timeout=60)
    assert ",col=22,endLine=1,endColumn=26," in done.stdout


# --- the fmt command -----------------------------------------------------------------------------


def _fmt(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "shotlang", "fmt", *args], capture_output=True, text=True,
                          encoding="utf-8", env={**os.environ, "NO_COLOR": "1"}, timeout=60)


def test_fmt_diff_of_a_utf16_file_is_text(tmp_path: Path) -> None:
    """--diff read a UTF-16 file's bytes as UTF-8: NULs and replacement characters."""
    path = tmp_path / "x.shot"
    path.write_bytes(b"\xff\xfe" + 'shot a:  "x"\n'.encode("utf-16-le"))
    done = _fmt("--diff", str(path))
    assert done.returncode == 0, done.stderr
    assert done.stdout.endswith('@@ -1 +1 @@\n-shot a:  "x"\n+SHOT a: "x"\n')


def test_fmt_leaves_a_read_only_file_alone(tmp_path: Path) -> None:
    """A rename replaced a file its owner had made read-only; open(path, "w") would have
    refused. Root may write any file, so as root the command runs in this process with the
    real and effective user nobody (the interpreter may be out of nobody's reach), in a folder
    of its own (pytest's are closed to nobody)."""
    if os.geteuid() != 0:
        path = tmp_path / "x.shot"
        path.write_text(UGLY, encoding="utf-8")
        path.chmod(0o444)
        done = _fmt(str(path))
        code, said, left = done.returncode, done.stderr, path.read_text(encoding="utf-8")
    else:
        from click.testing import CliRunner

        from shotlang.cli import main

        folder = Path(tempfile.mkdtemp())
        try:
            path = folder / "x.shot"
            path.write_text(UGLY, encoding="utf-8")
            folder.chmod(0o777)
            os.chown(path, 65534, 65534)
            path.chmod(0o444)
            os.setresuid(65534, 65534, 0)
            try:
                result = CliRunner().invoke(main, ["fmt", str(path)])
            finally:
                os.setresuid(0, 0, 0)
            code, said, left = result.exit_code, result.output, path.read_text(encoding="utf-8")
        finally:
            shutil.rmtree(folder)
    assert code == 2 and "cannot write" in said and "Permission denied" in said, said
    assert left == UGLY


def test_fmt_keeps_the_files_owner_and_group(tmp_path: Path) -> None:
    """The new file had the writer's owner and group: a shared file's group lost its access."""
    path = tmp_path / "x.shot"
    path.write_text('shot a:  "x"\n', encoding="utf-8")
    if os.geteuid() == 0:
        os.chown(path, 65534, 65534)
    else:
        other = [g for g in os.getgroups() if g != os.getegid()]
        if not other:
            pytest.skip("no second group to give the file")
        os.chown(path, -1, other[0])
    was = path.stat()
    path.chmod(0o664)
    done = _fmt(str(path))
    assert done.returncode == 0, done.stderr
    now = path.stat()
    assert (now.st_uid, now.st_gid, now.st_mode & 0o777) == (was.st_uid, was.st_gid, 0o664)
    assert path.read_text(encoding="utf-8") == 'SHOT a: "x"\n'
