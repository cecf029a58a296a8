"""The docs say what the code does: generated tables are current, and examples compile."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import shotlang
from shotlang.tools.docs import refresh

ROOT = Path(__file__).resolve().parent.parent
DOCS = sorted((ROOT / "docs").glob("*.md"))
SHOT_BLOCK = re.compile(r"```shot\n(.*?)```", re.DOTALL)


GENERATED = [ROOT / "README.md", *DOCS, ROOT / "grammar" / "shot.lark"]


@pytest.mark.parametrize("doc", GENERATED, ids=[d.name for d in GENERATED])
def test_generated_tables_are_current(doc: Path) -> None:
    text = doc.read_text(encoding="utf-8")
    assert refresh(text) == text, f"run `python -m shotlang.tools.docs` to update {doc.name}"


def test_a_stale_grammar_is_caught() -> None:
    grammar = (ROOT / "grammar" / "shot.lark").read_text(encoding="utf-8")
    assert "      | CFG NUMBER" in grammar
    assert refresh(grammar.replace("      | CFG NUMBER", "      | CFG WORD")) != grammar.replace(
        "      | CFG NUMBER", "      | CFG WORD")


def _shot_blocks() -> list[tuple[str, str]]:
    blocks = []
    for doc in [ROOT / "README.md", *DOCS]:
        for i, block in enumerate(SHOT_BLOCK.findall(doc.read_text(encoding="utf-8"))):
            blocks.append((f"{doc.name}#{i}", block))
    return blocks


@pytest.mark.parametrize(("where", "block"), _shot_blocks(), ids=[w for w, _ in _shot_blocks()])
def test_shot_examples_in_the_docs_compile(where: str, block: str) -> None:
    result = shotlang.compile_text(block, ROOT / "examples" / "from-the-docs.shot")  # images as the examples'
    assert result.errors == [], result.render()


def test_docs_have_shot_examples() -> None:
    assert len(_shot_blocks()) >= 5


def test_wrapped_prompts_read_as_the_language_doc_says() -> None:
    block = next(b for w, b in _shot_blocks() if "forest" in b)
    prompts = [s.body.prompt for s in shotlang.compile_text(block).output.shots]  # type: ignore[union-attr]
    assert prompts == ["Walking through a dark forest, trees on both sides, moonlight filtering through",
                       "A river at dusk, swallows skimming the water"]


def test_seed_table_in_the_mapping_doc_matches_the_compiler() -> None:
    text = (ROOT / "docs" / "kling-mapping.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `(SHOT [^`]+)` \| (\w+) \| `(\w+): (-?\d+)` \|", text, re.MULTILINE)
    assert len(rows) == 5
    for line, endpoint, field, value in rows:
        shot = shotlang.compile_text(line).output.shots[0]  # type: ignore[union-attr]
        assert shot.endpoint.endswith(endpoint)
        config = shot.body.camera_control.config.model_dump()  # type: ignore[union-attr]
        assert {k: v for k, v in config.items() if v} == {field: int(value)}


def test_envelope_example_in_the_cli_doc_is_real_output() -> None:
    text = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    documented = json.loads(re.search(r"```json\n(\{\n  \"shotlang_format\".*?)```", text, re.DOTALL)[1])  # type: ignore[index]
    actual = json.loads(shotlang.compile_file(ROOT / "examples" / "seed.shot").output.to_json())  # type: ignore[union-attr]
    assert list(documented) == list(actual)
    assert documented["shots"][0] == actual["shots"][0]
    assert {k: v for k, v in documented.items() if k not in ("shots", "source")} == {
        k: v for k, v in actual.items() if k not in ("shots", "source")}


def test_every_exit_code_the_commands_return_is_in_the_table() -> None:
    from shotlang import cli, exits

    returned = {value for name, value in vars(cli).items() if name.startswith("EXIT_")}
    assert returned == {e.code for e in exits.EXITS.values()}
    assert len({e.code for e in exits.EXITS.values()}) == len(exits.EXITS), "two rows with one code"
    main = (ROOT / "shotlang" / "__main__.py").read_text(encoding="utf-8")
    assert f"os._exit({exits.INTERRUPTED})" in main  # written out there, before anything is imported


def test_every_action_on_kling_codes_is_said() -> None:
    from shotlang.compiler import kling

    assert set(kling.ACTION_SAYS) == set(kling.ErrorAction)
