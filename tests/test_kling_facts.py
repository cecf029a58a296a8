"""shotlang/compiler/kling.py is the one place for the API's facts: the request schema, the run's types
and the explanations read them from there, and what `run` sends is what `compile` writes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

import shotlang
from shotlang.compiler import bodies, kling
from shotlang.compiler.payload import CompiledShot
from shotlang.engine.runner import shots_of

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.shot"))

# Every option and kind of move at least once, beside the examples (local images from examples/).
EVERY_OPTION = """
DEFAULTS negative "blur" callback "https://example.com/hook"
SHOT a: slow pan right over "A castle" 10s pro 9:16 model kling-v1-6 cfg 0.3 id "mine-1"
SHOT b: crane down and back over "A tower" sound on pro
SHOT c: static "A field" 1:1 std cfg 1 watermark off
SHOT d: "A boat" image "images/harbour-dawn.png" mask "images/boat-mask.png" model kling-v1
SHOT e: dutch tilt 4 on "A lamp" sound off model kling-v2-6 cfg 0
SHOT f: pan left 6.5 over "A quay"
SHOT g: "<<<voice_1>>> calls out over the water" model kling-v2-6 pro sound on voice "narrator-1"
SHOT i: slow tilt up "A tower" moves both
SHOT j: push in "A door" model kling-v3 3s
SHOT k: pan left "A pier" model kling-v1 moves words
SEQUENCE h: 9s model kling-v3 moves words
    SHOT h1: slow pan right "A quay at dawn"
    SHOT h2: "A boat leaves" 4s
"""


def _records() -> list[tuple[str, dict[str, Any]]]:
    made = []
    for path in EXAMPLES:
        output = shotlang.compile_file(path).output
        assert output is not None, path
        made += [(f"{path.name}:{r['name']}", r) for r in output.records]
    output = shotlang.compile_text(EVERY_OPTION, ROOT / "examples" / "every.shot").output
    assert output is not None
    made += [(f"every:{r['name']}", r) for r in output.records]
    return made


RECORDS = _records()


@pytest.mark.parametrize(("where", "record"), RECORDS, ids=[w for w, _ in RECORDS])
def test_every_compiled_record_is_a_valid_request_and_is_sent_as_written(where: str, record: dict[str, Any]) -> None:
    """The schema in bodies.py stays a witness of what records.py makes, and `run`, which sends
    the record's body as it is, sends the very bytes the typed model would have."""
    shot = CompiledShot.model_validate(record)  # raises if the body breaks the API's schema
    typed = shot.model_dump(mode="json")
    sent, *takes = shots_of([record])  # one shot a take, each with the same body
    assert json.dumps(sent.body) == json.dumps(typed["body"])
    assert (sent.name, sent.endpoint) == (typed["name"], typed["endpoint"])
    assert len(takes) == (record.get("takes") or 1) - 1 and all(t.body is sent.body for t in takes)


def test_the_records_cover_every_field_of_a_request() -> None:
    used = {key for _, record in RECORDS for key in record["body"]}
    every = set(bodies.VideoRequest.model_fields) | set(bodies.OmniRequest.model_fields)
    assert used == every, "add a shot to EVERY_OPTION (an omni one to examples/omni.shot)"


def test_a_record_with_another_endpoint_is_not_run() -> None:
    record = dict(RECORDS[0][1], endpoint="https://elsewhere.example/v1/videos/text2video")
    with pytest.raises(ValueError, match="not a Kling endpoint"):
        shots_of([record])


@pytest.mark.parametrize(("field", "values"), [("mode", kling.MODES), ("sound", kling.SOUNDS)])
def test_the_request_schema_takes_exactly_the_values_of_kling(field: str, values: tuple[str, ...]) -> None:
    for value in values:
        assert getattr(bodies.VideoRequest(**{"model_name": "m", "duration": "5", field: value}), field) == value
    for wrong in ("", "7", "PRO", "4:3", "maybe", values[0] + " "):
        if wrong not in values:
            with pytest.raises(ValidationError):
                bodies.VideoRequest(**{"model_name": "m", "duration": "5", field: wrong})


def test_the_request_schema_takes_any_whole_seconds_and_ratio_and_the_matrix_says_which() -> None:
    # Which durations and ratios a model renders is the capability matrix's; the schema holds
    # only their form, so a model taught by a models file (3s to 20s, 4:3) still validates.
    for seconds in ("3", "15", "20"):
        assert bodies.VideoRequest(model_name="m", duration=seconds).duration == seconds
    for wrong in ("", "0", "5.5", "05", " 5", "5s"):
        with pytest.raises(ValidationError):
            bodies.VideoRequest(model_name="m", duration=wrong)
    assert bodies.VideoRequest(model_name="m", duration="5", aspect_ratio="4:3").aspect_ratio == "4:3"
    for wrong in ("", "16x9", "0:1", "16:9 "):
        with pytest.raises(ValidationError):
            bodies.VideoRequest(model_name="m", duration="5", aspect_ratio=wrong)


def test_camera_types_and_fields_are_the_apis() -> None:
    assert ("simple", *kling.CAMERA_PRESETS) == kling.CAMERA_TYPES
    for kind in kling.CAMERA_TYPES:
        assert bodies.CameraControl(type=kind).type == kind
    with pytest.raises(ValidationError):
        bodies.CameraControl(type="orbit")  # type: ignore[arg-type]
    assert tuple(bodies.CameraConfig.model_fields) == kling.CAMERA_FIELDS


def test_camera_fields_take_numbers_from_minus_to_plus_the_maximum_and_keep_whole_ones_whole() -> None:
    top = kling.MAGNITUDE_MAX
    for value in (top, -top, 0.5, -2.25, top - 0.01):
        assert bodies.CameraConfig(zoom=value).zoom == value
    assert bodies.CameraConfig(zoom=5).model_dump(mode="json")["zoom"] == 5
    assert isinstance(bodies.CameraConfig(zoom=5).model_dump(mode="json")["zoom"], int)
    for wrong in (top + 0.5, -top - 0.01, float("nan"), float("inf")):
        with pytest.raises(ValidationError):
            bodies.CameraConfig(zoom=wrong)
    with pytest.raises(ValidationError):
        bodies.CameraConfig(zoom=1, depth=1)  # type: ignore[call-arg]


def test_task_statuses_are_the_running_then_the_final_ones() -> None:
    assert (*kling.TASK_RUNNING, *kling.TASK_FINAL) == kling.TASK_STATUSES
    assert not set(kling.TASK_RUNNING) & set(kling.TASK_FINAL)


def test_the_over_concurrency_code_is_the_tables_wait_and_retry_entry() -> None:
    assert kling.ERRORS[kling.OVER_CONCURRENCY_CODE].action is kling.ErrorAction.WAIT_AND_RETRY
    assert kling.error_action(429, kling.OVER_CONCURRENCY_CODE) is kling.ErrorAction.WAIT_AND_RETRY


def test_the_explanations_read_the_limits_from_kling() -> None:
    """Change the limits in kling.py and `shotlang explain` says the new ones (in a child, so
    this process keeps the real table)."""
    script = """
import json
from shotlang.compiler import kling
kling.TEXT_MAX_CHARS, kling.IMAGE_MAX_BYTES, kling.IMAGE_MIN_SIDE = 3125, 20 * 1024 * 1024, 512
kling.TRAJECTORY_MAX_POINTS, kling.DYNAMIC_MASKS_MAX, kling.EXTERNAL_ID_MAX_CHARS = 99, 8, 40
kling.MAGNITUDE_MAX, kling.VOICES_MAX, kling.MULTI_SHOT_MAX = 12, 3, 8
kling.IMAGE_MAX_RATIO, kling.CFG_MAX = 3.0, 2.0
from shotlang.compiler.diagnostics import CODES
print(json.dumps({code: entry.explanation for code, entry in CODES.items()}))
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                          check=True, cwd=ROOT)
    texts = json.loads(done.stdout)
    assert "at most 3,125 characters" in texts["E306"]
    assert "at most 20 MB" in texts["E502"]
    assert "at least 512 pixels" in texts["E503"]
    assert "between 1:3 and 3:1" in texts["E504"]
    assert "2 to 99" in texts["E405"] and "most 8 of them" in texts["E405"]
    assert "1 to 40 characters" in texts["E314"]
    assert "at most 12" in texts["E202"] and "from -12 to 12" in texts["E203"]
    assert "from 0 to 2 (" in texts["E304"] and "0.5 is the default" in texts["E304"]
    assert "at most 3," in texts["E409"] and "1 to 8 shots" in texts["E317"]


def test_the_explanations_name_the_real_limits() -> None:
    from shotlang.compiler.diagnostics import CODES

    assert "at most 2,500 characters" in CODES["E306"].explanation
    assert "capability matrix" in CODES["E303"].explanation
    assert "capability matrix" in CODES["E302"].explanation


def test_a_model_with_prices_has_one_for_every_mode_and_duration_and_the_others_none() -> None:
    from shotlang.compiler.models import built_in

    matrix = built_in()
    # No public price is known for these (docs/running.md): plan says "unknown", --max-cost stops.
    unpriced = {"kling-v2-1", "kling-v2-1-master", "kling-v2-5-turbo", "kling-v3-omni", "kling-video-o1"}
    for name, model in matrix.models.items():
        assert model.prices_source or name in unpriced, name
        for mode in model.modes:
            for seconds in model.durations:
                price = matrix.price(name, mode, seconds)
                if name in unpriced:
                    assert price is None, (name, mode, seconds)
                else:
                    assert price is not None and price.credits > 0 and price.published, (name, mode, seconds)
