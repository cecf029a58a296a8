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


# Bodies compile never writes, each wrong in one way (tools that write bodies by hand send such):
# the schema refuses every one. (model, endpoint, body fields beyond the model and duration)
T2V, I2V, OMNI = "/v1/videos/text2video", "/v1/videos/image2video", "/v1/videos/omni-video"
SIMPLE = {"horizontal": 0, "vertical": 0, "zoom": 0, "roll": 0, "pan": 0, "tilt": 0}
REFUSED = {
    "two camera axes": ("kling-v1-6", T2V, {"camera_control": {"type": "simple", "config": {**SIMPLE, "pan": 5,
                                                                                            "tilt": 3}}}),
    "no axis moving": ("kling-v1-6", T2V, {"camera_control": {"type": "simple", "config": SIMPLE}}),
    "a simple move without its config": ("kling-v1-6", T2V, {"camera_control": {"type": "simple"}}),
    "a preset with a config": ("kling-v1-6", T2V, {"camera_control": {"type": "down_back", "config": {**SIMPLE, "pan": 5}}}),
    "a camera value of 50": ("kling-v1-6", T2V, {"camera_control": {"type": "simple", "config": {**SIMPLE, "pan": 50}}}),
    "an unknown camera type": ("kling-v1-6", T2V, {"camera_control": {"type": "orbit"}}),
    "duration 7 on kling-v2-6": ("kling-v2-6", T2V, {"duration": "7"}),
    "duration 20 on kling-v3": ("kling-v3", T2V, {"duration": "20"}),
    "a duration in words": ("kling-v2-6", T2V, {"duration": "5s"}),
    "a 10,000-character prompt": ("kling-v2-6", T2V, {"prompt": "x" * 10_000}),
    "a 3,000-character negative prompt": ("kling-v2-6", T2V, {"negative_prompt": "x" * 3_000}),
    "sound on kling-v1": ("kling-v1", T2V, {"sound": "on"}),
    "sound off on kling-v1": ("kling-v1", T2V, {"sound": "off"}),
    "a mode Kling has not": ("kling-v2-6", T2V, {"mode": "ultra"}),
    "an aspect ratio kling-v2-6 does not render": ("kling-v2-6", T2V, {"aspect_ratio": "21:9"}),
    "an aspect ratio that is no ratio": ("kling-v2-6", T2V, {"aspect_ratio": "16x9"}),
    "cfg 1.5": ("kling-v1-6", T2V, {"cfg_scale": 1.5}),
    "voices on kling-v1": ("kling-v1", T2V, {"sound": "on", "voice_list": [{"voice_id": "n"}]}),
    "a multi-shot request on kling-v1": ("kling-v1", T2V, {"multi_shot": True, "shot_type": "customize",
                                                            "multi_prompt": [{"index": 1, "prompt": "a", "duration": "5"}]}),
    "elements on kling-v2-6": ("kling-v2-6", I2V, {"image": "https://e/a.png", "element_list": [{"element_id": "1"}]}),
    "a field Kling has not": ("kling-v2-6", T2V, {"seed_value": 3}),
    "a multi-shot index of 0": ("kling-v3", T2V, {"multi_shot": True, "shot_type": "customize",
                                                   "multi_prompt": [{"index": 0, "prompt": "a", "duration": "5"}]}),
    "a trajectory point in fractions": ("kling-v1", I2V, {"image": "https://e/a.png", "dynamic_masks": [
        {"mask": "https://e/m.png", "trajectories": [{"x": 1.5, "y": 2}, {"x": 3, "y": 4}]}]}),
    "eight elements": ("kling-v3-omni", OMNI, {"aspect_ratio": "16:9",
                                               "element_list": [{"element_id": str(i)} for i in range(8)]}),
    "a camera move at the omni endpoint": ("kling-v3-omni", OMNI, {"aspect_ratio": "16:9", "camera_control": {
        "type": "simple", "config": {**SIMPLE, "pan": 5}}}),
    "a negative prompt at the omni endpoint": ("kling-v3-omni", OMNI, {"aspect_ratio": "16:9", "negative_prompt": "b"}),
    "two reference videos": ("kling-v3-omni", OMNI, {"aspect_ratio": "16:9", "video_list": [
        {"video_url": "https://e/a.mp4"}, {"video_url": "https://e/b.mp4"}]}),
    "a frame of no known type": ("kling-v3-omni", OMNI, {"image_list": [{"image_url": "https://e/a.png",
                                                                         "type": "middle"}]}),
    "duration 3 on kling-video-o1": ("kling-video-o1", OMNI, {"aspect_ratio": "16:9", "duration": "3"}),
}


@pytest.mark.parametrize("case", REFUSED, ids=list(REFUSED))
def test_a_body_compile_would_never_write_is_refused(case: str) -> None:
    model, endpoint, fields = REFUSED[case]
    body = {"model_name": model, "prompt": "A castle", "duration": "5", **fields}
    line = {"shotlang_format": 1, "source": "x.shot", "name": "a", "scene": None, "line": 1, "method": "POST",
            "endpoint": endpoint, "body": body}
    assert list(validator("jsonl").iter_errors(line)), f"{case}: accepted"
    envelope = {"shotlang_format": 1, "source": "x.shot", "title": None, "axes": "seed", "shots": [line]}
    del envelope["shots"][0]["shotlang_format"], envelope["shots"][0]["source"]
    assert list(validator("json").iter_errors(envelope)), f"{case}: accepted in an envelope"


def test_the_same_bodies_made_right_are_taken() -> None:
    """The refusals above are of what is wrong, not of the shape around it."""
    good = {"model_name": "kling-v1-6", "prompt": "A castle", "duration": "5",
            "camera_control": {"type": "simple", "config": {**SIMPLE, "pan": 5}}}
    line = {"shotlang_format": 1, "source": "x.shot", "name": "a", "scene": None, "line": 1, "method": "POST",
            "endpoint": T2V, "body": good}
    assert not list(validator("jsonl").iter_errors(line))
