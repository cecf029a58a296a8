"""The capability matrix in the checks, and the checks and the local Kling server agreeing.

For every model, endpoint, mode and duration of the matrix, and every feature, a shot that
uses the feature there is compiled, and the body the API would get is sent to the local
server, which validates it from the same matrix with its own code: the compiler accepts
exactly what the server accepts.
"""

from __future__ import annotations

import base64
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

import shotlang
from shotlang.compiler import models
from shotlang.compiler.pipeline import compile_text
from shotlang.config import Credentials
from shotlang.engine.auth import make_token
from shotlang.testing import TEST_ACCESS_KEY, TEST_SECRET_KEY, FakeKling

HERE = Path(__file__).parent
PNG = (HERE.parent / "examples" / "images" / "harbour-dawn.png").read_bytes()

# What each feature adds to a shot line, and to the body the server gets.
FEATURES: dict[str, tuple[str, dict[str, Any]]] = {
    "camera": ("pan right", {"camera_control": {"type": "simple", "config": {
        "horizontal": 5, "vertical": 0, "zoom": 0, "roll": 0, "pan": 0, "tilt": 0}}}),
    "camera_preset": ("crane down and back", {"camera_control": {"type": "down_back"}}),
    "image_tail": ('tail "https://example.com/end.png"', {"image_tail": "https://example.com/end.png"}),
    "masks": ('mask "https://example.com/mask.png"', {"static_mask": "https://example.com/mask.png"}),
    "sound": ("sound on", {"sound": "on"}),
    "voice": ('sound on voice "v-1"', {"sound": "on", "voice_list": [{"voice_id": "v-1"}]}),
    "cfg": ("cfg 0.5", {"cfg_scale": 0.5}),
}
IMAGE = "https://example.com/start.png"


def combinations() -> list[tuple[str, str, str, str, str]]:
    found = []
    matrix = models.built_in()
    for model in matrix.models.values():
        for endpoint in model.endpoints:
            for mode in model.modes:
                for seconds in model.durations:
                    for feature in FEATURES:
                        if feature in models.IMAGE_ONLY and endpoint == "text2video":
                            continue
                        found.append((model.name, endpoint, mode, seconds, feature))
    return found


COMBINATIONS = combinations()


def shot_line(model: str, endpoint: str, mode: str, seconds: str, feature: str) -> str:
    words, _ = FEATURES[feature]
    move = words if feature.startswith("camera") else ""
    # `moves numeric`: the move goes as camera_control wherever any source says the cell takes it
    # (as the local server takes it by default); under `auto` it would go as words where not.
    options = "moves numeric" if feature.startswith("camera") else words
    prompt = "A harbour at dawn <<<voice_1>>>" if feature == "voice" else "A harbour at dawn"
    needs_image = endpoint == "image2video" or (endpoint == "omni-video" and feature in models.IMAGE_ONLY)
    image = f' image "{IMAGE}"' if needs_image else ""
    return f'SHOT a: {move} "{prompt}"{image} {seconds}s {mode} model {model} {options}\n'


def body(model: str, endpoint: str, mode: str, seconds: str, feature: str) -> dict[str, Any]:
    _, fields = FEATURES[feature]
    prompt = "A harbour at dawn <<<voice_1>>>" if feature == "voice" else "A harbour at dawn"
    made = {"model_name": model, "prompt": prompt, "mode": mode, "duration": seconds, **fields}
    if endpoint == "image2video":
        made["image"] = IMAGE
    elif endpoint == "omni-video":  # the frames in image_list; an aspect ratio where none is given
        if feature in models.IMAGE_ONLY:
            made["image_list"] = [{"image_url": IMAGE, "type": "first_frame"}]
            if "image_tail" in made:
                made["image_list"].append({"image_url": made.pop("image_tail"), "type": "end_frame"})
        else:
            made["aspect_ratio"] = "16:9"
    return made


@pytest.fixture(scope="module")
def server():
    with FakeKling(polls=1) as fake:
        yield fake


def accepted(fake: FakeKling, endpoint: str, payload: dict[str, Any]) -> tuple[bool, str]:
    token, _ = make_token(Credentials(TEST_ACCESS_KEY, TEST_SECRET_KEY), time.time())
    answer = httpx.post(f"{fake.url}/v1/videos/{endpoint}", json=payload, timeout=10,
                        headers={"Authorization": f"Bearer {token}"})
    return answer.status_code == 200, answer.text


def test_there_are_combinations_of_every_feature_and_both_outcomes():
    assert len(COMBINATIONS) > 500
    outcomes = {(c[4], compile_text(shot_line(*c)).ok) for c in COMBINATIONS}
    assert outcomes == {(f, ok) for f in FEATURES for ok in (True, False)}


def refusals() -> list[tuple[str, str, dict[str, Any]]]:
    """For each model, what its row does not offer: a duration, each endpoint it lacks, a mode
    and an aspect ratio it lacks (one models file's worth: a mode-less model is taught below)."""
    found = []
    for model in models.built_in().models.values():
        endpoint = model.endpoints[0]
        image = f' image "{IMAGE}"' if endpoint == "image2video" else ""
        seconds = str(max(int(d) for d in model.durations) + 1)
        found.append((f'SHOT a: "x"{image} {seconds}s model {model.name}', endpoint,
                      {"model_name": model.name, "prompt": "x", "duration": seconds}
                      | ({"image": IMAGE} if image else {})))
        for other in ("text2video", "image2video"):
            if other not in model.endpoints and not model.omni:  # an omni model takes both at its own
                image = f' image "{IMAGE}"' if other == "image2video" else ""
                found.append((f'SHOT a: "x"{image} model {model.name}', other,
                              {"model_name": model.name, "prompt": "x", "duration": model.durations[0]}
                              | ({"image": IMAGE} if image else {})))
        if model.text2video:
            found.append((f'SHOT a: "x" 4:3 model {model.name}', "text2video",
                          {"model_name": model.name, "prompt": "x", "duration": model.durations[0],
                           "aspect_ratio": "4:3"}))
    return found


REFUSALS = refusals()


@pytest.mark.parametrize(("line", "endpoint", "payload"), REFUSALS, ids=[r[0] for r in REFUSALS])
def test_what_a_models_row_does_not_list_is_refused_by_both(server, line, endpoint, payload):
    compiled = compile_text(line + "\n")
    assert not compiled.ok and compiled.errors[0].code in ("E303", "E402", "E302"), compiled.render()
    ok, answer = accepted(server, endpoint, payload)
    assert not ok, answer


@pytest.mark.parametrize("combination", COMBINATIONS, ids=["/".join(c) for c in COMBINATIONS])
def test_the_check_and_the_local_server_agree(server, combination):
    compiled = compile_text(shot_line(*combination))
    server_accepts, answer = accepted(server, combination[1], body(*combination))
    assert compiled.ok == server_accepts, (compiled.render(), answer)
    if compiled.ok:
        [shot] = compiled.output.records
        wanted = body(*combination)
        assert {k: shot["body"].get(k) for k in wanted} == wanted


def test_a_model_taught_by_a_models_file_is_checked_and_served_alike(tmp_path):
    (tmp_path / "shotlang-models.toml").write_text("""
[models.kling-v9]
like = "kling-v3"
durations = { from = 2, to = 20 }
features.image_tail = { modes = ["std"] }

[models.kling-v8]
like = "kling-v3"
modes = ["std"]
features.camera = { types = ["simple"] }
""", encoding="utf-8")
    shots = tmp_path / "film.shot"
    shots.write_text('SHOT a: pan right "x" 20s model kling-v9\n'
                     f'SHOT b: "y" image "{IMAGE}" tail "{IMAGE}" pro model kling-v9\n'
                     'SHOT c: "z" pro model kling-v8\n'
                     'SHOT d: crane down and back "w" model kling-v8 moves numeric\n', encoding="utf-8")
    from shotlang.compiler.pipeline import compile_file

    result = compile_file(shots)
    # kling-v9 is kling-v3's row: its camera control is disputed (W108); kling-v8's the file settles.
    assert [d.code for d in result.diagnostics] == ["W108", "E407", "E408", "E401"], result.render()
    assert "kling-v9 takes an end image in std only: add `std`" in result.diagnostics[1].hint
    assert "takes simple moves" in result.diagnostics[3].hint
    matrix, report = models.for_folder(tmp_path)
    assert report == []
    with FakeKling(polls=1, models=list(models.rows(matrix))) as fake:
        ok, _ = accepted(fake, "text2video", {"model_name": "kling-v9", "prompt": "x", "duration": "20"})
        assert ok
        refused, answer = accepted(fake, "image2video", {"model_name": "kling-v9", "image": IMAGE,
                                                        "image_tail": IMAGE, "mode": "pro", "duration": "5"})
        assert not refused and "image_tail" in answer
        assert not accepted(fake, "text2video", {"model_name": "kling-v8", "prompt": "z", "mode": "pro",
                                                 "duration": "5"})[0]
        assert not accepted(fake, "text2video", {"model_name": "kling-v8", "prompt": "w", "duration": "5",
                                                 "camera_control": {"type": "down_back"}})[0]
        assert fake.stats.creates == 1


@pytest.mark.parametrize(("line", "code", "message", "hint"), [
    ('SHOT a: "x" image "https://e.com/a.png" tail "https://e.com/b.png" model kling-v2-5-turbo 10s',
     "E407", "kling-v2-5-turbo has no end image in std mode at 10s",
     "kling-v2-5-turbo takes an end image in pro only: add `pro`"),
    ('SHOT a: "x" sound on', "E406", "kling-v2-6 (shotlang's default) has no sound in std mode at 5s",
     "add `pro`"),
    ('SHOT a: "x" model kling-v1 sound off', "E406", "kling-v1 makes no sound", "remove `sound off`"),
    ('SHOT a: "x" model kling-v3 cfg 0.5', "W108",
     "cfg on kling-v3: Kling's reference (2026-03) yes, third-party reports (2025-2026) no", "verified"),
    ('SHOT a: "x" model kling-v2-6 cfg 0.5', "W104", "kling-v2-6 ignores cfg", "remove `cfg`"),
    ('SHOT a: pan right "x" model kling-v1 10s moves numeric', "E401",
     "kling-v1 has no camera control (`pan right`)", "`moves words`"),
    ('SHOT a: "x" 15s', "E303", "kling-v2-6 (shotlang's default) has no 15s clips", "`kling-v3` renders 15s"),
    ('SHOT a: "x" 5.5s', "E303", "whole seconds, not 5.5s", "`6s`"),
    ('SHOT a: "x" 4:3', "E302", "has no aspect ratio 4:3", "16:9"),
    ('SHOT a: "x" model kling-v4', "E300", "unknown model `kling-v4`", "shotlang-models.toml"),
])
def test_a_refused_combination_names_it_and_the_nearest_that_works(line, code, message, hint):
    result = compile_text(line + "\n")
    found = [d for d in result.diagnostics if d.code == code]
    assert found, result.render()
    assert message in found[0].message, found[0].message
    assert hint in found[0].hint, found[0].hint


def test_the_issue_example_compiles_on_kling_v3():
    result = compile_text('SHOT c: dutch tilt 5 "A street at night" 15s model kling-v3\n')
    assert result.ok, result.render()
    [shot] = result.output.records
    assert shot["body"]["duration"] == "15" and shot["body"]["model_name"] == "kling-v3"


def test_every_duration_kling_v3_renders_compiles_and_none_outside():
    for seconds in range(1, 18):
        result = compile_text(f'SHOT a: "x" {seconds}s model kling-v3\n')
        assert result.ok == (3 <= seconds <= 15), (seconds, result.render())


def test_voices_need_sound_and_are_each_spoken():
    def codes(line: str) -> list[str]:
        return [d.code for d in compile_text(line + "\n").diagnostics]

    assert codes('SHOT a: "<<<voice_1>>> says hi" model kling-v2-6 pro sound on voice "v1"') == []
    assert codes('SHOT a: "<<<voice_1>>> says hi" model kling-v2-6 pro voice "v1"') == ["E409"]
    assert codes('SHOT a: "nobody speaks" model kling-v2-6 pro sound on voice "v1"') == ["E409"]
    assert codes('SHOT a: "<<<voice_2>>> speaks" model kling-v2-6 pro sound on voice "v1"') == ["E409", "E409"]
    assert codes('SHOT a: "<<<voice_1>>> <<<voice_2>>> <<<voice_3>>>" model kling-v2-6 pro sound on '
                 'voice "a" voice "b" voice "c"') == ["E409"]
    result = compile_text('SHOT a: "<<<voice_1>>> and <<<voice_2>>>" model kling-v2-6 pro sound on voice "a" voice "b"\n')
    assert result.output.records[0]["body"]["voice_list"] == [{"voice_id": "a"}, {"voice_id": "b"}]


def test_the_fake_refuses_a_matrix_refusal_with_the_combination_named(server):
    ok, answer = accepted(server, "image2video", {"model_name": "kling-v2-5-turbo", "image": IMAGE,
                                                  "image_tail": IMAGE, "mode": "std", "duration": "10"})
    assert not ok
    assert "model/mode/duration(kling-v2-5-turbo/std/10) is not supported with image_tail" in answer


def test_an_inlined_png_is_accepted_as_compiled(server, tmp_path):
    (tmp_path / "start.png").write_bytes(PNG)
    (tmp_path / "a.shot").write_text('SHOT a: "x" image "start.png"\n', encoding="utf-8")
    [record] = shotlang.compile_file(tmp_path / "a.shot").output.records
    assert record["body"]["image"] == base64.b64encode(PNG).decode()
    assert accepted(server, "image2video", record["body"])[0]


def sequence_combinations() -> list[tuple[str, str, str, str]]:
    matrix = models.built_in()
    return [(m.name, e, mode, seconds) for m in matrix.models.values() for e in m.endpoints
            for mode in m.modes for seconds in m.durations]


SEQUENCE_COMBINATIONS = sequence_combinations()


@pytest.mark.parametrize("combination", SEQUENCE_COMBINATIONS, ids=["/".join(c) for c in SEQUENCE_COMBINATIONS])
def test_a_sequence_is_checked_and_served_alike_in_every_combination(server, combination):
    """Multi-shot, per model, endpoint, mode and duration: the compiled request (or, where the
    check refuses, the request it would have been) against the server."""
    name, endpoint, mode, seconds = combination
    image = f' image "{IMAGE}"' if endpoint == "image2video" else ""
    compiled = compile_text(f'SEQUENCE s: {seconds}s {mode} model {name}{image}\n  SHOT a: "a harbour"\n')
    payload = {"model_name": name, "mode": mode, "duration": seconds, "multi_shot": True, "shot_type": "customize",
               "multi_prompt": [{"index": 1, "prompt": "a harbour", "duration": seconds}]}
    if image:
        payload["image"] = IMAGE
    if endpoint == "omni-video":  # no start frame: an aspect ratio, shotlang's default
        payload["aspect_ratio"] = "16:9"
    ok, answer = accepted(server, endpoint, payload)
    assert compiled.ok == ok, (compiled.render(), answer)
    if compiled.ok:
        assert compiled.output.records[0]["body"] == payload
