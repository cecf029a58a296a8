"""`shotlang schema`: the JSON Schema of compile's output, current in docs/schema/, and every
example's output (both formats) valid against it; what compile would never write is not."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import jsonschema
import pytest
from runs import EXAMPLES, shotlang

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = {"json": ROOT / "docs" / "schema" / "envelope.schema.json",
           "jsonl": ROOT / "docs" / "schema" / "line.schema.json"}
SHOT_LISTS = sorted(EXAMPLES.glob("*.shot"))


@pytest.mark.parametrize("fmt", SCHEMAS)
def test_the_committed_schema_is_what_shotlang_schema_prints(fmt: str) -> None:
    done = shotlang("schema", "--format", fmt)
    assert done.returncode == 0, done.stderr
    assert done.stdout == SCHEMAS[fmt].read_text(encoding="utf-8"), (
        f"docs/schema is out of date: shotlang schema --format {fmt} > {SCHEMAS[fmt].relative_to(ROOT)}")
    jsonschema.Draft202012Validator.check_schema(json.loads(done.stdout))


def validator(fmt: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json.loads(SCHEMAS[fmt].read_text(encoding="utf-8")))


@pytest.mark.parametrize("example", SHOT_LISTS, ids=[p.stem for p in SHOT_LISTS])
def test_every_examples_output_is_valid(example: Path) -> None:
    envelope = shotlang("compile", str(example), cwd=ROOT)
    assert envelope.returncode == 0, envelope.stderr
    validator("json").validate(json.loads(envelope.stdout))
    lines = shotlang("compile", "--format", "jsonl", str(example), cwd=ROOT)
    assert lines.returncode == 0, lines.stderr
    check = validator("jsonl")
    for line in lines.stdout.splitlines():
        check.validate(json.loads(line))


def test_what_compile_never_writes_is_invalid() -> None:
    good = json.loads(shotlang("compile", str(EXAMPLES / "chase.shot"), cwd=ROOT).stdout)
    check = validator("json")
    check.validate(good)

    def broken(change) -> dict:  # type: ignore[no-untyped-def]
        doc = copy.deepcopy(good)
        change(doc)
        return doc

    wrong = [
        broken(lambda d: d["shots"][0]["body"].update(model="kling-v3")),  # a misspelt field
        broken(lambda d: d["shots"][0]["body"].update(duration=15)),  # a number, not a string
        broken(lambda d: d["shots"][0]["body"].update(mode=None)),  # null: compile leaves it out
        broken(lambda d: d["shots"][0].update(endpoint="/v1/videos/elsewhere")),
        broken(lambda d: d["shots"][0]["body"].update(negative_prompt="x") or d["shots"][0].update(
            endpoint="/v1/videos/omni-video")),  # a field the omni endpoint does not take
        broken(lambda d: d["shots"][0]["body"]["multi_prompt"].append(
            {"index": 4, "prompt": "x" * 513, "duration": "1"})),
        broken(lambda d: d.update(shotlang_format=2)),
        broken(lambda d: d["shots"][0].pop("body")),
    ]
    for doc in wrong:
        assert not check.is_valid(doc)
