"""The recipe of docs/contributing.md, proven: a new option, `seed N`, added to a scratch copy of
the repository by the recipe's edits alone, and then seen at work in every part of shotlang.

The copy gets three edits by hand (one row in shotlang/compiler/language.py, a shot that uses it in the
API facts test, a diagnostic case) and the two generator runs the recipe names; nothing else is
touched. Then, through the copy's own CLI and modules, in subprocesses: the option is parsed,
lowered, checked (its bounds, given twice), compiled (its field last in the body), decompiled
back, formatted, completed and explained in the language server, documented (the options and
fields tables, the body order, E304's explanation, the grammar, the editor grammar), stated in
the JSON Schema, and taken by the local Kling server in a real `run` that pays once; the copy's
own consistency tests pass.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# The recipe's edits, each (file, text it follows, text added): all a maintainer writes.
SEED_ROW = '''    Option("seed", ("seed",), "number", None, "seed", False, None, "`seed <0–2147483647>`", "`seed 42`",
           "the same seed, prompt and settings give the same video", bounds=Bounds(0, 2**31 - 1, whole=True)),
'''
EDITS = (
    ("shotlang/compiler/language.py", '''           made=True, sent="nothing of its own: it says how the move is sent (see Camera moves)"),
''', SEED_ROW),
    ("tests/test_kling_facts.py", '''SHOT k: pan left "A pier" model kling-v1 moves words
''', '''SHOT l: "A bell" seed 42
'''),
    ("tests/test_diagnostics.py", '''    Case("E304", 'SHOT a: "x" cfg 1.5 model kling-v1-6', "1.5", "outside 0 to 1"),
''', '''    Case("E304", 'SHOT a: "x" seed 1.5', "1.5", "seed is a whole number, not 1.5"),
'''),
)
GENERATORS = (
    ["-m", "shotlang.tools.docs"],
    ["-m", "shotlang.tools.editor_grammar", "editors/vscode/syntaxes/shot.tmLanguage.json"],
)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the repository's files with the recipe applied to it."""
    copy = tmp_path_factory.mktemp("with-seed") / "repository"
    shutil.copytree(ROOT, copy, symlinks=True, ignore=shutil.ignore_patterns(
        ".git", "node_modules", "__pycache__", ".venv", "venv", "build", "dist", "*.egg-info", ".*_cache"))
    for name, after, added in EDITS:
        path = copy / name
        text = path.read_text(encoding="utf-8")
        assert text.count(after) == 1, f"the recipe's place in {name} moved: update EDITS"
        path.write_text(text.replace(after, after + added), encoding="utf-8")
    for generator in GENERATORS:
        done = _python(copy, *generator)
        assert done.returncode == 0, done.stderr
    return copy


def _env(copy: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(copy), "NO_COLOR": "1", "COLUMNS": "200"}


def _python(copy: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], cwd=copy, env=_env(copy), capture_output=True, text=True,
                          input=stdin, timeout=120)


def _shotlang(copy: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return _python(copy, "-m", "shotlang", *args, stdin=stdin)


def test_the_recipe_is_three_edits_and_two_generator_runs() -> None:
    assert len(EDITS) == 3 and len({name for name, _, _ in EDITS}) == 3
    contributing = (ROOT / "docs" / "contributing.md").read_text(encoding="utf-8")
    for generator in GENERATORS:
        assert f"python {' '.join(generator)}" in contributing


def test_a_new_option_is_parsed_lowered_checked_and_compiled(scratch: Path) -> None:
    (scratch / "film.shot").write_text(textwrap.dedent('''\
        DEFAULTS seed 7
        SHOT a: slow pan right over "A castle" 5s seed 42 pro
        SHOT b: "A tower"
    '''), encoding="utf-8")
    done = _shotlang(scratch, "compile", "film.shot", "-o", "film.json")
    assert done.returncode == 0, done.stderr
    bodies = [s["body"] for s in json.loads((scratch / "film.json").read_text(encoding="utf-8"))["shots"]]
    assert [b["seed"] for b in bodies] == [42, 7]  # a whole number, sent as an int; a default is inherited
    assert list(bodies[0])[-1] == "seed"  # a field new to the body goes last, the others keep their order

    (scratch / "bad.shot").write_text(textwrap.dedent('''\
        SHOT a: "x" seed 1.5
        SHOT b: "x" seed 2147483648
        SHOT c: "x" seed 3 seed 4
        SHOT d: "x" sed 3
    '''), encoding="utf-8")
    done = _shotlang(scratch, "check", "--format", "json", "bad.shot")
    assert done.returncode == 1
    said = [(d["line"], d["column"], d["code"], d["message"], d["hint"]) for d in json.loads(done.stdout)]
    assert said == [
        (1, 18, "E304", "seed is a whole number, not 1.5", "write a whole number from 0 to 2147483647"),
        (2, 18, "E304", "seed 2147483648 is outside 0 to 2147483647", "write a whole number from 0 to 2147483647"),
        (3, 25, "E309", "seed is given twice", "keep one seed; the first is on line 3"),  # the hints know it:
        (4, 13, "E301", "unknown option `sed 3`", "did you mean `seed 3`?"),
    ]


def test_a_new_option_is_decompiled_back_and_formatted(scratch: Path) -> None:
    (scratch / "round.shot").write_text('SHOT a: "A castle" seed 9 10s\n', encoding="utf-8")
    assert _shotlang(scratch, "compile", "round.shot", "-o", "round.json").returncode == 0
    back = _shotlang(scratch, "decompile", "round.json")
    assert back.returncode == 0, back.stderr
    assert 'SHOT a: "A castle" 10s seed 9' in back.stdout
    done = _shotlang(scratch, "decompile", "-", stdin=json.dumps(
        {"model_name": "kling-v2-6", "prompt": "x", "duration": "5", "seed": -1}))
    assert "seed: -1 is not a whole number from 0 to 2147483647" in done.stdout + done.stderr

    (scratch / "messy.shot").write_text('SHOT a:  "A castle"   SEED   9 pro\n', encoding="utf-8")
    done = _shotlang(scratch, "fmt", "messy.shot")
    assert done.returncode == 0, done.stderr
    assert (scratch / "messy.shot").read_text(encoding="utf-8") == 'SHOT a: "A castle" pro seed 9\n'


def test_a_new_option_is_completed_and_explained_by_the_language_server(scratch: Path) -> None:
    probe = textwrap.dedent('''\
        import json
        from shotlang.tools.lsp.words import completions, hover
        from shotlang.compiler.models import built_in
        from shotlang.compiler.source import Source
        text = 'SHOT a: "x" se'
        items = [[i.label, i.detail] for i in completions(text, 0, len(text), built_in(), "kling-v2-6")]
        text = 'SHOT a: "x" seed 4'
        said = hover(Source(text), (0, len(text)), 13, "seed", built_in(), [])
        print(json.dumps({"items": items, "hover": said.markdown if said else None}))
    ''')
    done = _python(scratch, "-c", probe)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert ["seed", "`seed <0–2147483647>`".strip("`")] in found["items"]
    assert "the same seed, prompt and settings give the same video" in found["hover"]


def test_a_new_option_is_documented_and_in_the_schema(scratch: Path) -> None:
    docs = scratch / "docs"
    assert "| `seed <0–2147483647>` | `seed 42` | `seed` |" in (docs / "language.md").read_text(encoding="utf-8")
    assert "| `seed <0–2147483647>` | `seed` | the whole number |" in (docs / "kling-mapping.md").read_text(
        encoding="utf-8")
    assert "`watermark_info`, `seed`" in " ".join((docs / "cli.md").read_text(encoding="utf-8").split())
    assert "`seed` takes a whole number from 0 to 2147483647" in (docs / "diagnostics.md").read_text(encoding="utf-8")
    grammar = (scratch / "grammar" / "shot.lark").read_text(encoding="utf-8")
    assert "| SEED NUMBER" in grammar and 'SEED: "seed"i' in grammar
    # The editor grammar highlights it as an option keyword, beside `cfg` (`seed` is an AXES word too).
    editor = (scratch / "editors/vscode/syntaxes/shot.tmLanguage.json").read_text(encoding="utf-8")
    keyword_lists = [set(group.split("|")) for group in re.findall(r"\(\?i:([\w|-]+)\)", editor)]
    assert any({"cfg", "seed"} <= words for words in keyword_lists)

    done = _shotlang(scratch, "schema", "--format", "jsonl")
    assert done.returncode == 0, done.stderr
    field = json.loads(done.stdout)["$defs"]["VideoRequest"]["properties"]["seed"]
    assert (field["type"], field["minimum"], field["maximum"]) == ("integer", 0, 2**31 - 1)


def test_the_local_server_takes_a_new_option_and_a_run_pays_once(scratch: Path) -> None:
    (scratch / "run.shot").write_text('SHOT a: "A bell" seed 42\nSHOT b: "A bell" seed 43\n', encoding="utf-8")
    script = textwrap.dedent('''\
        import json, os, subprocess, sys
        from shotlang.testing import TEST_ACCESS_KEY, TEST_SECRET_KEY, FakeKling
        with FakeKling(polls=1) as server:
            env = dict(os.environ, KLING_API_BASE=server.url, KLING_ACCESS_KEY=TEST_ACCESS_KEY,
                       KLING_SECRET_KEY=TEST_SECRET_KEY)
            runs = [subprocess.run([sys.executable, "-m", "shotlang", "run", "run.shot", "--out", "out",
                                    "--poll-interval", "0.05"], env=env, capture_output=True, text=True)
                    for _ in range(2)]
            # The server's own handling of a create (private: the probe skips HTTP and signing).
            http, wrong, created = server._create("/v1/videos/text2video",
                                                  {"model_name": "kling-v2-6", "prompt": "x", "seed": 2**31}, b"")
            print(json.dumps({"codes": [r.returncode for r in runs], "err": runs[0].stderr,
                              "creates": server.stats.creates, "wrong": [http, wrong["message"], created],
                              "seeds": [t.body.get("seed") for t in server._tasks.values()]}))
    ''')
    done = _python(scratch, "-c", script)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert found["codes"] == [0, 0], found["err"]
    assert found["creates"] == 2 and sorted(found["seeds"]) == [42, 43]  # the second run pays nothing
    assert found["wrong"] == [400, "invalid parameter seed: 2147483648 is out of range", False]
    assert (scratch / "out" / "a.mp4").is_file()


def test_the_copy_s_own_consistency_tests_pass(scratch: Path) -> None:
    done = _python(scratch, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "0", "-o", "addopts=",
                   "tests/test_language_table.py", "tests/test_kling_facts.py", "tests/test_docs.py",
                   "tests/test_diagnostics.py", "tests/test_schema.py", "-k", "not editor")
    assert done.returncode == 0, done.stdout[-3000:]


@pytest.mark.slow
def test_the_copy_s_whole_everyday_suite_passes(scratch: Path) -> None:
    """After the recipe and nothing else, every test of the everyday suite passes in the copy
    (but this file's, which would add the option a second time)."""
    # The everyday suite, as a maintainer runs it: not CI's full one (browser, node) it runs within.
    env = {k: v for k, v in _env(scratch).items() if not k.startswith(("SHOTLANG_", "HYPOTHESIS_"))}
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x",
                           "--ignore", "tests/test_adding_an_option.py"], cwd=scratch, env=env,
                          capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, done.stdout[-5000:]
