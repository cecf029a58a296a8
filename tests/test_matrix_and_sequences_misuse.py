"""Careless and hostile use of the capability matrix, models files, SEQUENCE, voices and fractional
magnitudes: each test is a defect found by trying to break the new work as a careless or
hostile user would (a deeply nested models file, tabs and spaces around a SEQUENCE, a typo in a
feature's modes, hints that led to another error...), kept as a test now that it is fixed."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import httpx
import pytest
from runs import shotlang

from shotlang.compiler import models
from shotlang.compiler.pipeline import compile_file, compile_text
from shotlang.config import Credentials
from shotlang.engine.auth import make_token
from shotlang.testing import TEST_ACCESS_KEY, TEST_SECRET_KEY, FakeKling


def project(tmp_path: Path, shots: str, models_file: str | None = None) -> Path:
    """A shot list in its own folder, with a shotlang-models.toml beside it if given."""
    if models_file is not None:
        (tmp_path / "shotlang-models.toml").write_text(models_file, encoding="utf-8")
    path = tmp_path / "film.shot"
    path.write_text(shots, encoding="utf-8")
    return path


def codes(result) -> list[str]:
    return [d.code for d in result.diagnostics]


def accepted(fake: FakeKling, endpoint: str, payload: dict) -> tuple[bool, str]:
    token, _ = make_token(Credentials(TEST_ACCESS_KEY, TEST_SECRET_KEY), time.time())
    answer = httpx.post(f"{fake.url}/v1/videos/{endpoint}", json=payload, timeout=10,
                        headers={"Authorization": f"Bearer {token}"})
    return answer.status_code == 200, answer.text


# --- models files: bad input must be a diagnostic, never a traceback -------------------------


def test_a_deeply_nested_models_file_is_e700_not_a_traceback(tmp_path):
    deep = "a = " + "{b = " * 1000 + "1" + "}" * 1000 + "\n"
    shots = project(tmp_path, 'SHOT a: "x"\n', deep)
    done = shotlang("check", str(shots))
    assert "Traceback" not in done.stderr and "RecursionError" not in done.stderr, done.stderr[-500:]
    assert "E700" in done.stdout + done.stderr


def test_defaults_that_is_not_a_table_is_e702(tmp_path):
    result = compile_file(project(tmp_path, 'SHOT a: "x"\n', "defaults = 3\n"))
    assert "E702" in codes(result), result.render()


def test_an_unknown_mode_in_a_feature_condition_is_e702(tmp_path):
    result = compile_file(project(
        tmp_path, 'SHOT a: "x" image "https://e.com/a.png" tail "https://e.com/b.png" pro model kling-v2-5-turbo\n',
        '[models.kling-v2-5-turbo]\nfeatures.image_tail = { modes = ["professional"], source = "reported" }\n'))
    assert [d.code for d in result.diagnostics if d.span.source.name.endswith(".toml")] == ["E702"], result.render()


def test_a_misspelled_table_header_is_reported_at_its_line(tmp_path):
    result = compile_file(project(tmp_path, 'SHOT a: "x"\n', '# my models\n\n[modles.kling-v9]\nlike = "kling-v3"\n'))
    [problem] = result.diagnostics
    assert problem.code == "E701" and problem.span.line == 3, result.render()


def test_a_non_utf8_models_file_points_at_the_bad_line(tmp_path):
    (tmp_path / "shotlang-models.toml").write_bytes(b'[models.kling-v3]\nnote = "caf\xe9"\n')
    result = compile_file(project(tmp_path, 'SHOT a: "x"\n'))
    [problem] = result.diagnostics
    assert problem.code == "E700" and problem.span.line == 2, result.render()


@pytest.mark.parametrize("kind", ["directory", "dangling symlink"])
def test_an_unusable_project_models_file_is_reported(tmp_path, kind):
    target = tmp_path / "shotlang-models.toml"
    if kind == "directory":
        target.mkdir()
    else:
        target.symlink_to(tmp_path / "gone.toml")
    result = compile_file(project(tmp_path, 'SHOT a: "x"\n'))
    assert "E700" in codes(result), result.render()


# --- models files: what they teach ----------------------------------------------------------


def test_a_model_like_kling_v2_6_keeps_its_camera_control(tmp_path):
    result = compile_file(project(tmp_path, 'SHOT a: pan right "x" model acme\n',
                                  '[models.acme]\nlike = "kling-v2-6"\n'))
    assert result.ok, result.render()


def test_camera_types_by_mode_are_refused_by_the_server_as_by_the_check(tmp_path):
    shots = project(tmp_path, 'SHOT a: pan right "x" model kling-v9 std moves numeric\n', """
[models.kling-v9]
like = "kling-v3"
features.camera = [ { types = ["simple"], modes = ["pro"] }, { types = ["down_back"], modes = ["std"] } ]
""")
    result = compile_file(shots)
    assert codes(result) == ["E401"], result.render()
    matrix, report = models.for_folder(tmp_path)
    assert report == []
    with FakeKling(polls=1, models=list(models.rows(matrix))) as fake:
        ok, answer = accepted(fake, "text2video", {
            "model_name": "kling-v9", "prompt": "x", "mode": "std", "duration": "5",
            "camera_control": {"type": "simple", "config": {"horizontal": 5}}})
    assert not ok, answer


def test_e406_does_not_contradict_itself(tmp_path):
    result = compile_file(project(tmp_path, 'SHOT a: "x" model kling-v9 sound off\n',
                                  '[models.kling-v9]\nlike = "kling-v2-6"\n'
                                  'features.sound = { endpoints = ["image2video"] }\n'))
    [problem] = result.diagnostics
    assert not ("makes no sound" in problem.message and "kling-v9" in problem.hint), result.render()


def test_e402_suggests_a_model_that_does_text_to_video(tmp_path):
    result = compile_file(project(tmp_path, 'SHOT a: "x" model kling-v3\n',
                                  '[models.kling-v2-6]\nendpoints = ["image2video"]\n'
                                  '[models.kling-v3]\nendpoints = ["image2video"]\n'))
    [problem] = result.diagnostics
    assert problem.code == "E402" and "kling-v2-6" not in problem.hint, result.render()


# --- money: plan ----------------------------------------------------------------------------


def test_a_length_with_no_price_of_its_own_is_unknown_not_pro_rata(tmp_path):
    shots = project(tmp_path, 'SHOT a: "x" 20s pro model kling-v3-1\n',
                    '[models.kling-v3-1]\nlike = "kling-v3"\ndurations = { from = 3, to = 20 }\n'
                    'prices = { std-5s = 8, pro-5s = 12 }\n')
    plan = json.loads(shotlang("plan", str(shots), "--json").stdout)
    [shot] = plan["shots"]
    assert shot["price_known"] is False and shot["credits"] is None, shot  # null: unknown, never 0
    assert plan["unpriced_shots"] == ["a"]


# --- sequences ------------------------------------------------------------------------------


def test_mixing_tabs_and_spaces_around_a_sequence_is_diagnosed():
    result = compile_text('MODEL kling-v3\nSCENE "S"\n\tSEQUENCE a: 10s\n\t\tSHOT x: "X"\n    SHOT y: "Y" 5s\n')
    assert codes(result) == ["E319"], result.render()
    assert result.output is None, "nothing is sent while it is unclear which shots a sequence holds"


@pytest.mark.parametrize("shots", [
    "".join(f'    SHOT s{i}: "S"\n' for i in range(6)),  # suggests 18s; kling-v3 renders 3-15
    '    SHOT x: "X" 10s\n    SHOT y: "Y"\n',  # suggests 6s; x alone takes 10
])
def test_the_length_e318_suggests_compiles(shots):
    text = "MODEL kling-v3\nSEQUENCE a:\n" + shots
    [problem] = compile_text(text).diagnostics
    assert problem.code == "E318"
    suggested = re.search(r"`SEQUENCE a: (\d+s) \.\.\.`", problem.hint)[1]
    fixed = compile_text(text.replace("SEQUENCE a:", f"SEQUENCE a: {suggested}"))
    assert fixed.ok, fixed.render()


@pytest.mark.parametrize("option", ['tail "https://e.com/b.png"', 'mask "https://e.com/b.png"'])
def test_the_e316_hint_for_a_sequence_shot_does_not_lead_to_e316(option):
    text = f'MODEL kling-v3\nSEQUENCE a: 10s pro image "https://e.com/a.png"\n    SHOT x: "X" {option}\n'
    [problem] = compile_text(text).diagnostics
    assert problem.code == "E316"
    moved = text.replace(f" {option}", "").replace('image "https://e.com/a.png"',
                                                   f'image "https://e.com/a.png" {option}')
    assert "E316" in codes(compile_text(moved)), "a sequence takes no end image or mask either"
    assert "SEQUENCE line" not in problem.hint and "shot of its own" in problem.hint, problem.hint


def test_a_sequence_on_a_model_without_multi_shot_is_said_with_a_bad_length():
    result = compile_text('SEQUENCE a: 6s model kling-v2-6\n    SHOT x: "X"\n    SHOT y: "Y"\n')
    assert "E407" in codes(result), result.render()


# --- voices ---------------------------------------------------------------------------------


def test_a_reference_to_a_voice_with_a_long_number_is_e409():
    result = compile_text('SHOT a: "<<<voice_1>>> and <<<voice_1234>>>" 5s model kling-v3 sound on voice "v"\n')
    assert "E409" in codes(result), result.render()


def test_a_zero_padded_voice_reference_is_not_voice_1():
    result = compile_text('SHOT a: "<<<voice_01>>> hi" 5s model kling-v3 sound on voice "v"\n')
    assert "E409" in codes(result), result.render()


# --- fractional magnitudes ------------------------------------------------------------------


@pytest.mark.parametrize("magnitude", ["0.0", "+3", "10.001"])
def test_e202_states_the_range_that_is_accepted(magnitude):
    assert compile_text('SHOT a: pan right 0.5 "x" model kling-v3\n').ok
    [problem] = compile_text(f'SHOT a: pan right {magnitude} "x" model kling-v3\n').errors
    assert problem.code == "E202"
    assert "1-10" not in problem.message and "from 1 to 10" not in problem.hint, (problem.message, problem.hint)
