"""The omni endpoint: kling-v3-omni and kling-video-o1 take text and images alike at
/v1/videos/omni-video, their frames in image_list (../shared/kling-api.md, "Omni video").

Compiled, checked, decompiled back, and run against the local Kling server through the CLI,
which pays once per shot."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from runs import cli_env, run
from runs import shotlang as shotlang_cli

import shotlang
from shotlang.compiler import kling
from shotlang.config import Credentials
from shotlang.engine.auth import make_token
from shotlang.testing import TEST_ACCESS_KEY, TEST_SECRET_KEY, FakeKling

START, END = "https://example.com/start.png", "https://example.com/end.png"
FILM = f'''\
SHOT text: slow pan right over "A castle on a cliff" model kling-v3-omni 5s
SHOT frames: "The tide comes in" model kling-v3-omni image "{START}" tail "{END}" 10s std
SHOT small: "A door opens" model kling-video-o1 9:16 sound off
SEQUENCE chase: model kling-v3-omni 8s
    SHOT chase-1: push in "A quay at dawn"
    SHOT chase-2: "A boat leaves" 3s
'''


def records(text: str) -> list[dict[str, Any]]:
    result = shotlang.compile_text(text)
    assert result.output is not None, result.render()
    return result.output.records


def test_omni_requests_are_compiled_for_the_omni_endpoint() -> None:
    made = {r["name"]: r for r in records(FILM.replace(" sound off", ""))}
    assert {r["endpoint"] for r in made.values()} == {kling.OMNI_VIDEO}
    # A move goes as words (the endpoint has no camera_control); no start frame: an aspect ratio.
    assert made["text"]["body"] == {"model_name": "kling-v3-omni", "prompt": "The camera pans slowly to the right. "
                                    "A castle on a cliff", "aspect_ratio": "16:9", "duration": "5"}
    assert made["text"]["moves"] == "words"
    # The frames in image_list, no aspect ratio: the start frame gives it.
    assert made["frames"]["body"] == {"model_name": "kling-v3-omni", "prompt": "The tide comes in", "image_list": [
        {"image_url": START, "type": "first_frame"}, {"image_url": END, "type": "end_frame"}],
        "mode": "std", "duration": "10"}
    assert list(made["frames"]["body"]) == ["model_name", "prompt", "image_list", "mode", "duration"]
    assert made["small"]["body"]["aspect_ratio"] == "9:16"
    assert made["chase"]["body"]["multi_shot"] is True and made["chase"]["body"]["aspect_ratio"] == "16:9"


@pytest.mark.parametrize(("line", "code"), [
    ('SHOT a: "x" model kling-v3-omni negative "blur"', "E411"),
    (f'SHOT a: "x" model kling-v3-omni tail "{END}"', "E412"),
    ('SHOT a: "x" model kling-v3-omni cfg 0.5', "E410"),
    ('SHOT a: pan right "x" model kling-v3-omni moves numeric', "E401"),
    (f'SHOT a: "x" model kling-v3-omni image "{START}" mask "{END}"', "E407"),
    ('SHOT a: "x" model kling-video-o1 7s', "E303"),
    ('SHOT a: "<<<voice_1>>>" model kling-v3-omni sound on voice "v"', "E409"),
])
def test_what_the_omni_endpoint_cannot_take_is_refused(line: str, code: str) -> None:
    result = shotlang.compile_text(line + "\n")
    assert code in [d.code for d in result.errors], result.render()


def test_an_omni_plan_counts_the_endpoint_s_default_mode(tmp_path: Path) -> None:
    (tmp_path / "film.shot").write_text('SHOT a: "x" model kling-v3-omni\n', encoding="utf-8")
    done = shotlang_cli("plan", "--json", str(tmp_path / "film.shot"))
    assert done.returncode == 0, done.stderr
    [shot] = json.loads(done.stdout)["shots"]
    assert shot["mode"] == "pro"  # omni's default, not text2video's std


def test_omni_records_are_decompiled_back_to_the_same_requests(tmp_path: Path) -> None:
    (tmp_path / "film.shot").write_text(FILM.replace(" sound off", ""), encoding="utf-8")
    done = shotlang_cli("compile", "film.shot", "-o", "film.json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    back = shotlang_cli("decompile", "film.json", cwd=tmp_path)
    assert back.returncode == 0, back.stderr
    assert f'image "{START}" tail "{END}"' in back.stdout
    again = records(back.stdout)
    first = json.loads((tmp_path / "film.json").read_text(encoding="utf-8"))["shots"]
    assert [(r["endpoint"], r["body"]) for r in again] == [(r["endpoint"], r["body"]) for r in first]


def test_an_omni_body_shotlang_would_not_write_is_said_with_its_path() -> None:
    body = {"model_name": "kling-v3-omni", "prompt": "x", "duration": "5",
            "image_list": [{"image_url": START}, {"image_url": END, "type": "end_frame", "x": 1}]}
    done = subprocess.run([sys.executable, "-m", "shotlang", "decompile", "-"], input=json.dumps(body),
                          capture_output=True, text=True, env=cli_env(), timeout=60)
    assert done.returncode == 1
    assert "image_list[0].type: null: shotlang writes a start and an end frame only" in done.stderr
    assert "image_list[1].x: not a field of an image" in done.stderr
    assert "Traceback" not in done.stderr


def test_an_omni_film_runs_paying_once_a_shot_and_a_rerun_pays_nothing(fake: FakeKling, tmp_path: Path) -> None:
    film = tmp_path / "film.shot"
    film.write_text(FILM.replace(" sound off", ""), encoding="utf-8")
    done = run(fake, film)
    assert done.returncode == 0, done.stderr
    assert fake.stats.creates == 4
    # The endpoint documents queries by id and no list (the server answers a list 404): the run
    # follows each task by its own queries.
    assert fake.stats.lists == 0 and fake.stats.queries >= 4
    sent = fake.created()
    assert {endpoint for endpoint, _ in sent} == {kling.OMNI_VIDEO}
    frames = next(body for _, body in sent if "image_list" in body)
    assert [i["type"] for i in frames["image_list"]] == ["first_frame", "end_frame"]
    assert sorted(p.name for p in tmp_path.glob("*.mp4")) == ["chase.mp4", "frames.mp4", "small.mp4", "text.mp4"]
    again = run(fake, film)
    assert again.returncode == 0, again.stderr
    assert fake.stats.creates == 4


def _post(fake: FakeKling, body: dict[str, Any]) -> httpx.Response:
    token, _ = make_token(Credentials(TEST_ACCESS_KEY, TEST_SECRET_KEY), time.time())
    return httpx.post(f"{fake.url}{kling.OMNI_VIDEO}", json=body, timeout=10, headers={"Authorization": f"Bearer {token}"})


@pytest.mark.parametrize(("change", "said"), [
    ({"image_list": [{"image_url": END, "type": "end_frame"}]}, "an end_frame needs a first_frame"),
    ({"image_list": [{"image_url": START, "type": "first_frame"}, {"image_url": START, "type": "first_frame"}]},
     "more than one first_frame"),
    ({"image_list": [{"image_url": START, "type": "middle"}]}, "type must be"),
    ({"aspect_ratio": None}, "aspect_ratio is required without a first_frame"),
    ({"negative_prompt": "blur"}, "negative_prompt"),
    ({"camera_control": {"type": "simple"}}, "camera_control"),
    ({"model_name": "kling-v2-6"}, "does not support this task type"),
])
def test_the_local_server_holds_the_omni_rules_of_its_own(fake: FakeKling, change: dict[str, Any], said: str) -> None:
    body = {"model_name": "kling-v3-omni", "prompt": "x", "duration": "5", "aspect_ratio": "16:9"} | change
    answer = _post(fake, {k: v for k, v in body.items() if v is not None})
    assert answer.status_code == 400 and said in answer.json()["message"], answer.text
    assert fake.stats.creates == 0


def test_the_storyboard_shows_an_omni_shot_s_frames_and_its_default_mode(tmp_path: Path) -> None:
    (tmp_path / "film.shot").write_text(FILM.replace(" sound off", ""), encoding="utf-8")
    done = shotlang_cli("storyboard", "film.shot", "-o", "board.html", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    board = (tmp_path / "board.html").read_text(encoding="utf-8")
    frames = board[board.index('id="shot-frames"'):board.index('id="shot-small"')]
    assert f"start image: {START}" in frames and f"end image: {END}" in frames
    text = board[board.index('id="shot-text"'):board.index('id="shot-frames"')]
    assert "<dt>mode</dt><dd>pro (the API&#x27;s default)" in text


def test_what_a_models_file_lets_through_the_omni_endpoint_still_refuses(tmp_path: Path) -> None:
    """A model of a models file at the omni endpoint, or a verified claim of camera control there:
    the endpoint's body has no field for them, so the check refuses them (E411), never a traceback
    in compile."""
    (tmp_path / "shotlang-models.toml").write_text(
        '[models.my-omni]\nendpoints = ["omni-video"]\nsource = "ours"\n\n'
        '[models.kling-v3-omni]\nfeatures.camera = { endpoints = ["omni-video"], source = "verified", '
        'date = "2026-12-01", rendered = "a pan" }\n', encoding="utf-8")
    (tmp_path / "film.shot").write_text(
        'SHOT a: "x" model my-omni cfg 0.5\n'
        'SHOT b: pan left "x" model kling-v3-omni moves numeric\n'
        'SHOT c: pan left "x" model kling-v3-omni\n', encoding="utf-8")
    done = shotlang_cli("check", "--format", "json", "film.shot", cwd=tmp_path)
    said = [(d["line"], d["code"], d["message"]) for d in json.loads(done.stdout)]
    assert said == [(1, "E411", "my-omni takes no cfg here"), (2, "E411", "kling-v3-omni takes no camera control here")]
    (tmp_path / "film.shot").write_text('SHOT c: pan left "x" model kling-v3-omni\n', encoding="utf-8")
    done = shotlang_cli("compile", "film.shot", cwd=tmp_path)  # under `moves auto`, the move goes as words
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    assert json.loads(done.stdout)["shots"][0]["moves"] == "words"


@pytest.mark.parametrize(("body", "said"), [
    ({"image_list": [{"image_url": START, "type": ["first_frame"]}]}, 'image_list[0].type: ["first_frame"]: shotlang'),
    ({"image_list": [{"image_url": 5, "type": "first_frame"}]}, "image_list[0].image_url: 5 is not text"),
    ({"image": START}, "image: not a field of Kling's omni-video requests"),
    ({}, "aspect_ratio: absent: an omni request without a start frame needs one"),
    ({"model_name": "kling-v2-6", "image_list": [{"image_url": START, "type": "first_frame"}]},
     'model_name: "kling-v2-6" takes its requests at text2video and image2video, not omni-video'),
])
def test_an_omni_body_decompile_cannot_say_is_reported_at_its_place(body: dict[str, Any], said: str) -> None:
    whole = {"model_name": "kling-v3-omni", "prompt": "x", "duration": "5"} | body
    done = subprocess.run([sys.executable, "-m", "shotlang", "decompile", "-"], input=json.dumps(whole),
                          capture_output=True, text=True, env=cli_env(), timeout=60)
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert f"<stdin>: {said}" in done.stderr


def test_the_timeline_keeps_an_omni_shot_s_inlined_frames_out_of_its_metadata(tmp_path: Path) -> None:
    pytest.importorskip("opentimelineio")
    image = Path(__file__).resolve().parent.parent / "examples" / "images" / "harbour-dawn.png"
    (tmp_path / "dawn.png").write_bytes(image.read_bytes())
    (tmp_path / "film.shot").write_text('SHOT a: "The tide" model kling-v3-omni image "dawn.png"\n', encoding="utf-8")
    done = shotlang_cli("timeline", "film.shot", "-o", "cut.otio", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    cut = (tmp_path / "cut.otio").read_text(encoding="utf-8")
    assert '"image_list"' not in cut and '"model_name": "kling-v3-omni"' in cut


@pytest.mark.parametrize(("change", "said"), [
    ({"image_list": 5}, "image_list must be a list of images"),
    ({"element_list": 5}, "element_list must be a list of {element_id}"),
    ({"video_list": [{"video_url": "https://e.com/v.mp4", "refer_type": "feature"}], "sound": "on"},
     "sound must be off when a video is given"),
])
def test_the_local_server_answers_a_hostile_omni_body_with_a_refusal(fake: FakeKling, change: dict[str, Any],
                                                                     said: str) -> None:
    body = {"model_name": "kling-v3-omni", "prompt": "x", "duration": "5", "aspect_ratio": "16:9"} | change
    answer = _post(fake, body)
    assert answer.status_code == 400 and said in answer.json()["message"], answer.text


def test_a_plan_with_no_known_price_says_unknown_not_zero(tmp_path: Path) -> None:
    (tmp_path / "film.shot").write_text('SHOT a: "x" model kling-v3-omni\n', encoding="utf-8")
    done = shotlang_cli("plan", str(tmp_path / "film.shot"))
    assert done.returncode == 0, done.stderr
    assert "estimated cost: unknown\n" in done.stdout and "0 credits" not in done.stdout


def test_decompile_reads_a_models_file_s_omni_model_as_compile_does(tmp_path: Path) -> None:
    (tmp_path / "shotlang-models.toml").write_text('[models.kling-v3-1-omni]\nlike = "kling-v3-omni"\n',
                                                  encoding="utf-8")
    (tmp_path / "film.shot").write_text(f'SHOT a: pan left "x" model kling-v3-1-omni image "{START}" tail "{END}"\n'
                                        'SHOT b: "y" model kling-v3-1-omni\n', encoding="utf-8")
    assert shotlang_cli("compile", "film.shot", "-o", "film.json", cwd=tmp_path).returncode == 0
    back = shotlang_cli("decompile", "film.json", cwd=tmp_path)
    assert back.returncode == 0, back.stderr  # its requests go to omni-video, as the folder's matrix says
    assert "moves" not in back.stdout  # `moves auto` sends words at the omni endpoint: nothing to say
    first = json.loads((tmp_path / "film.json").read_text(encoding="utf-8"))["shots"]
    (tmp_path / "again.shot").write_text(back.stdout, encoding="utf-8")
    again = shotlang_cli("compile", "again.shot", cwd=tmp_path)
    assert [s["body"] for s in json.loads(again.stdout)["shots"]] == [s["body"] for s in first]
