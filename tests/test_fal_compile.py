"""`compile --backend fal` and `check --backend fal`: fal's app ids and inputs, and what fal refuses.

The input names asserted here are fal's own, as its client map gives them: the generated input
types of every public fal endpoint in @fal-ai/client 1.10.1 (npm, published 2026-05-04),
src/types/endpoints.d.ts (`EndpointTypeMap`), the source the capability matrix's fal rows cite
(shotlang/compiler/models.toml, docs/kling-mapping.md's fal section). Data URIs for file inputs: fal's CDN page,
https://docs.fal.ai/documentation/model-apis/fal-cdn ("Models also accept base64-encoded data URIs").
"""

from __future__ import annotations

import base64
import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from helpers import jpeg, png

import shotlang
from shotlang import cli, config
from shotlang.compiler import fal
from shotlang.compiler.models import built_in, read
from shotlang.testing import fal as fal_server

URL = "https://example.com/frame.jpg"
URL_END = "https://example.com/end.jpg"


def run(tmp_path: Path, text: str, *args: str, **files: bytes) -> tuple[int, str, str]:
    (tmp_path / "film.shot").write_text(text, encoding="utf-8")
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    result = CliRunner().invoke(cli.main, [*args, str(tmp_path / "film.shot")],
                                env={"SHOTLANG_CONFIG": str(tmp_path / "none.toml")})
    return result.exit_code, result.stdout, result.stderr


def shots(tmp_path: Path, text: str, **files: bytes) -> list[dict[str, Any]]:
    code, out, err = run(tmp_path, text, "compile", "--backend", "fal", **files)
    assert code == 0, err
    envelope = json.loads(out)
    assert envelope["backend"] == "fal"
    return envelope["shots"]  # type: ignore[no-any-return]


def test_text_to_video_goes_to_the_models_app_with_audio_off(tmp_path: Path) -> None:
    [shot] = shots(tmp_path, 'SHOT a: "A castle at dawn" 10s pro negative "blur" 9:16')
    assert shot["endpoint"] == "fal-ai/kling-video/v2.6/pro/text-to-video"
    # v2.6 pro text-to-video: prompt, negative_prompt, duration ("5"/"10"), aspect_ratio, cfg_scale,
    # generate_audio (default true, so false is sent)
    assert shot["body"] == {"prompt": "A castle at dawn", "negative_prompt": "blur", "duration": "10",
                            "aspect_ratio": "9:16", "generate_audio": False}


def test_sound_on_is_generate_audio_true(tmp_path: Path) -> None:
    [shot] = shots(tmp_path, 'SHOT a: "A choir sings" pro sound on')
    assert shot["body"]["generate_audio"] is True


def test_image_to_video_from_a_url_with_an_end_frame(tmp_path: Path) -> None:
    [shot] = shots(tmp_path, f'SHOT a: "A door opens" image "{URL}" tail "{URL_END}" pro')
    # v2.6 pro image-to-video: start_image_url and end_image_url (not image_url / tail_image_url)
    assert shot["endpoint"] == "fal-ai/kling-video/v2.6/pro/image-to-video"
    assert shot["body"] == {"prompt": "A door opens", "start_image_url": URL, "end_image_url": URL_END,
                            "duration": "5", "generate_audio": False}


def test_a_local_image_is_sent_as_a_data_uri(tmp_path: Path) -> None:
    [shot] = shots(tmp_path, 'SHOT a: "A harbour" image "frame.png" model kling-v2-5-turbo pro',
                   **{"frame.png": png(400, 300)})
    assert shot["endpoint"] == "fal-ai/kling-video/v2.5-turbo/pro/image-to-video"
    assert shot["body"]["image_url"].startswith("data:image/png;base64,iVBOR")


def test_an_end_frame_on_older_apps_is_tail_image_url(tmp_path: Path) -> None:
    [shot] = shots(tmp_path, f'SHOT a: "x" image "{URL}" tail "{URL_END}" model kling-v1-6 pro')
    assert shot["endpoint"] == "fal-ai/kling-video/v1.6/pro/image-to-video"
    assert shot["body"]["image_url"] == URL and shot["body"]["tail_image_url"] == URL_END
    assert "generate_audio" not in shot["body"]  # the app has no such input


def test_a_camera_move_goes_as_words(tmp_path: Path) -> None:
    [shot] = shots(tmp_path, 'SHOT a: slow pan right over "A castle" pro')
    assert shot["body"]["prompt"] == "The camera pans slowly to the right. A castle"
    assert shot["moves"] == "words" and "camera_control" not in json.dumps(shot["body"])


def test_kling_v1_standard_text_to_video_takes_the_move_as_a_field(tmp_path: Path) -> None:
    [shot] = shots(tmp_path, 'SHOT a: pan left 5 "A field" model kling-v1 std moves numeric')
    assert shot["endpoint"] == "fal-ai/kling-video/v1/standard/text-to-video"
    assert shot["body"]["advanced_camera_control"] == {"movement_type": "horizontal", "movement_value": -5}


def test_master_models_have_one_app_for_every_mode(tmp_path: Path) -> None:
    [shot] = shots(tmp_path, 'SHOT a: "x" model kling-v2-1-master')
    assert shot["endpoint"] == "fal-ai/kling-video/v2.1/master/text-to-video"


def test_a_sequence_on_kling_v3_is_fals_multi_prompt(tmp_path: Path) -> None:
    [shot] = shots(tmp_path, 'SEQUENCE s: model kling-v3 pro\n  SHOT a: "one" 3s\n  SHOT b: "two" 4s\n')
    assert shot["endpoint"] == "fal-ai/kling-video/v3/pro/text-to-video"
    assert shot["body"]["multi_prompt"] == [{"prompt": "one", "duration": "3"}, {"prompt": "two", "duration": "4"}]
    assert shot["body"]["duration"] == "7" and "prompt" not in shot["body"]


# Each app used above, and the exact input names shotlang may send it: fal's client map
# (@fal-ai/client 1.10.1, src/types/endpoints.d.ts).
INPUTS = {
    "fal-ai/kling-video/v2.6/pro/text-to-video":
        ("prompt", "negative_prompt", "duration", "aspect_ratio", "cfg_scale", "generate_audio"),
    "fal-ai/kling-video/v2.6/pro/image-to-video":
        ("prompt", "start_image_url", "end_image_url", "negative_prompt", "duration", "generate_audio", "voice_ids"),
    "fal-ai/kling-video/v2.5-turbo/pro/image-to-video":
        ("prompt", "image_url", "negative_prompt", "duration", "cfg_scale", "tail_image_url"),
    "fal-ai/kling-video/v1.6/pro/image-to-video":
        ("prompt", "image_url", "negative_prompt", "duration", "aspect_ratio", "cfg_scale", "tail_image_url"),
    "fal-ai/kling-video/v1/standard/text-to-video":
        ("prompt", "negative_prompt", "duration", "aspect_ratio", "cfg_scale", "camera_control",
         "advanced_camera_control"),
    "fal-ai/kling-video/v2.1/master/text-to-video": ("prompt", "negative_prompt", "duration", "aspect_ratio", "cfg_scale"),
    "fal-ai/kling-video/v3/pro/text-to-video":
        ("prompt", "negative_prompt", "duration", "aspect_ratio", "cfg_scale", "generate_audio", "multi_prompt",
         "shot_type"),
}


@pytest.mark.parametrize("app_id", INPUTS)
def test_the_input_names_of_each_app_are_fals_client_maps(app_id: str) -> None:
    app = fal.app_by_id(app_id)
    assert app is not None and app.listed
    assert app.inputs == INPUTS[app_id]
    assert "@fal-ai/client 1.10.1" in app.source


def test_every_known_model_has_a_row_and_unlisted_ids_are_not_used() -> None:
    rows = built_in().backends["fal"]
    assert set(rows) == set(built_in().names())
    unlisted = [a for a in fal.apps() if not a.listed]
    assert [a.app for a in unlisted] == ["fal-ai/kling-video/v2.1/pro/image-to-video"]
    assert fal.app_for("kling-v2-1", "image2video", "pro") is None


def test_prices_are_fals_or_unknown() -> None:
    # fal's page for v2.6 pro image-to-video: $0.07/s, $0.14/s with audio, $0.168/s with voices
    app = "fal-ai/kling-video/v2.6/pro/image-to-video"
    assert fal.fal_price(app, {"duration": "5", "generate_audio": False}) == 0.35
    assert fal.fal_price(app, {"duration": "10", "generate_audio": True}) == 1.4
    assert fal.fal_price(app, {"duration": "5", "generate_audio": True, "voice_ids": ["v"]}) == 0.84
    # "For 5s video your request will cost $1.40. For every aditional second ... $0.28"
    assert fal.fal_price("fal-ai/kling-video/v2.1/master/text-to-video", {"duration": "10"}) == 2.8
    assert fal.fal_price("fal-ai/kling-video/v3/pro/text-to-video", {"duration": "5"}) is None
    assert fal.fal_price("fal-ai/nothing", {}) is None


def test_fal_records_translates_compiled_kling_records() -> None:
    result = shotlang.compile_text(f'SHOT a: "<<<voice_1>>> says hi" image "{URL}" pro sound on voice "v1"')
    assert result.output is not None, result.diagnostics
    [made] = fal.fal_records(result.output.records)
    assert made["endpoint"] == "fal-ai/kling-video/v2.6/pro/image-to-video"
    assert made["body"]["voice_ids"] == ["v1"] and made["body"]["generate_audio"] is True
    bad = shotlang.compile_text('SHOT a: "x" std')
    assert bad.output is not None
    with pytest.raises(fal.NotOnFal, match="no app for kling-v2-6 text-to-video std"):
        fal.fal_records(bad.output.records)


def test_kling_shot_type_words_are_spelt_as_fals_enum() -> None:
    # fal's shot_type is "customize" or "intelligent" (fal's client map); Kling says "intelligence"
    app = fal.app_by_id("fal-ai/kling-video/v3/pro/text-to-video")
    assert app is not None
    shots = [{"prompt": "one", "duration": 3}, {"prompt": "two", "duration": 4}]
    for kling_word, fal_word in (("customize", "customize"), ("intelligence", "intelligent")):
        record = {"endpoint": "/v1/videos/text2video", "body": {
            "model_name": "kling-v3", "mode": "pro", "duration": "7", "multi_shot": True, "shot_type": kling_word,
            "multi_prompt": shots}}
        assert fal.fal_input(record, app)["shot_type"] == fal_word


def test_a_models_file_can_add_or_correct_a_row(tmp_path: Path) -> None:
    file = tmp_path / "shotlang-models.toml"
    file.write_text('[backends.fal.kling-v2-1.image2video-pro]\nlisted = true\n'
                    '[backends.fal.kling-v2-6.text2video-pro]\nprices = { per-second = 0.1 }\n', encoding="utf-8")
    report: list[Any] = []
    matrix = read([file], report)
    assert not report
    app = fal.app_for("kling-v2-1", "image2video", "pro", matrix)
    assert app is not None and app.app == "fal-ai/kling-video/v2.1/pro/image-to-video"
    assert fal.fal_price("fal-ai/kling-video/v2.6/pro/text-to-video", {"duration": "5", "generate_audio": False},
                         matrix) == 0.5
    file.write_text('[backends.fal.kling-v2-6.text2video-pro]\napp_id = "x"\n', encoding="utf-8")
    report = []
    read([file], report)
    assert [d.code for d in report] == ["E701"]


REFUSALS = [
    ('SHOT a: "x" std', "E416", "model kling", "fal runs kling-v2-6 as text-to-video pro, image-to-video pro"),
    ('SHOT a: "x" std', "E416", "", "fal runs kling-v2-6 as"),
    ('SHOT a: pan right "x" pro moves numeric', "E417", "pan right", "`moves words`"),
    ('SHOT a: "x" pro callback "https://example.com/done"', "E417", '"https', "compile with `--backend kling`"),
    (f'SHOT a: "x" image "{URL}" pro cfg 0.5', "E417", "0.5", "remove it on fal"),
    ('SHOT a: "x" pro id "my-1"', "E417", '"my-1"', "compile with `--backend kling`"),
    ('SHOT a: "x" pro 10s', "E418", "10s", "renders 5s: write one of those"),
    # fal's image-to-video apps require their start frame, and all but v3's and O3's a prompt
    # (fal's client map); Kling takes an end frame alone and an image shot without a prompt
    (f'SHOT a: "x" tail "{URL_END}" model kling-v1', "E417", f'"{URL_END}"', "give the shot its start frame"),
    (f'SHOT a: "" image "{URL}" model kling-v2-1-master', "E417", '""', "say in the prompt what the shot shows"),
    (f'CAST keeper: "a keeper" image "{URL}" also "{URL_END}"\nSHOT a: "@keeper waves" model kling-v3-omni',
     "E419", "keeper:", "describe the character"),
    ('SHOT a: "x" pro\nSHOT b: after a "y" pro', "E419", 'a "y"', "own start `image`"),
]


@pytest.mark.parametrize(("text", "code", "at", "hint"), REFUSALS)
def test_check_refuses_what_no_fal_app_takes(tmp_path: Path, text: str, code: str, at: str, hint: str) -> None:
    # A project's row says this app renders 5 s only (for E418: the built-in rows' durations
    # hold every duration the Kling rows let through).
    (tmp_path / "shotlang-models.toml").write_text('[backends.fal.kling-v2-6.text2video-pro]\ndurations = ["5"]\n',
                                                   encoding="utf-8")
    exit_code, out, _ = run(tmp_path, text, "check", "--backend", "fal", "--format", "json")
    assert exit_code == 1
    found = [d for d in json.loads(out) if d["code"] == code]
    assert found, out
    d = found[0]
    if at and at != "model kling":
        offset = text.index(at)
        assert (d["line"], d["column"]) == (text.count("\n", 0, offset) + 1, offset - text.rfind("\n", 0, offset))
    assert hint in d["hint"], d
    compiled, _, err = run(tmp_path, text, "compile", "--backend", "fal")
    assert compiled == 1 and f"error[{code}]" in err and "^" in err


def test_kling_output_is_unchanged_and_the_default_comes_from_the_config(tmp_path: Path) -> None:
    text = 'SHOT a: slow pan right over "A castle" pro'
    plain = run(tmp_path, text, "compile")
    assert plain[0] == 0 and "backend" not in plain[1] and "/v1/videos/text2video" in plain[1]
    assert run(tmp_path, text, "compile", "--backend", "kling")[1] == plain[1]
    (tmp_path / "none.toml").write_text('[run]\nbackend = "fal"\n', encoding="utf-8")
    assert '"backend": "fal"' in run(tmp_path, text, "compile")[1]


def test_the_commands_offer_the_configs_backends() -> None:
    assert tuple(cli.BACKEND_CHOICE.choices) == config.BACKENDS


# The codes only `--backend fal` gives: each has a case above (REFUSALS), as every other code
# has one in tests/test_diagnostics.py.
FAL_CODES = frozenset({"E416", "E417", "E418", "E419"})


def test_every_fal_code_has_a_case_and_an_explanation() -> None:
    from shotlang.compiler.diagnostics import CODES

    assert {code for _, code, _, _ in REFUSALS} == FAL_CODES <= set(CODES)


# --- every request check accepts is one fal's app takes ----------------------------------------
# The local fal server (shotlang/testing/fal.py) holds each app's input schema, written from the
# same client map independently of fal.py's rows: whatever `--backend fal` lets through must pass
# it. The shots are generated over the models of the matrix, not picked by hand.

_STARTS = {"": "", "url": f' image "{URL}"', "png": ' image "start.png"', "jpeg": ' image "start.jpg"'}
_MODES = ("", " std", " pro")
_DURATIONS = ("", " 3s", " 5s", " 7s", " 10s", " 15s")
_OPTIONS = ("", f' tail "{URL_END}"', ' tail "end.png"', ' negative "blur"', " cfg 0.5", " cfg 0", " sound on",
            " sound off", ' sound on voice "v1"', ' sound on voice "v1" voice "v2"', ' mask "mask.png"',
            ' motion "mask.png" (10, 20) (90, 40)', " 16:9", " 9:16", " 1:1", " takes 2")
_MOVES = ("pan left 5 ", "slow pan right over ", "crane down and back ", "push in and up ", "dolly up 6 ", "static ")
_MOVES_WORDS = ("", " moves numeric", " moves words", " moves both", " moves off")
_SEQUENCE_OPTIONS = ("", " sound on", ' negative "blur"', " 9:16", " cfg 0.5", f' image "{URL}"', ' image "start.png"')


def _shot_lists() -> list[str]:
    """One shot list per combination: each model with each start frame and mode, and each of
    them with every duration, each option, each move under each `moves`, and a sequence."""
    voices = {' sound on voice "v1"': '"<<<voice_1>>> speaks"',
              ' sound on voice "v1" voice "v2"': '"<<<voice_1>>> and <<<voice_2>>> speak"'}

    def prompt(option: str) -> str:
        return voices.get(option, '"A castle"')

    texts = []
    for model, start, mode in itertools.product(built_in().names(), _STARTS.values(), _MODES):
        shot = f"model {model}{mode}{start}"
        texts += [f'SHOT a: "A castle" {shot}{seconds}\n' for seconds in _DURATIONS]
        texts += [f"SHOT a: {prompt(option)} {shot}{seconds}{option}\n"
                  for option, seconds in itertools.product(_OPTIONS, ("", " 10s"))]
        texts += [f'SHOT a: "" {shot}\n']
        texts += [f'{axes}SHOT a: {move}"A castle" {shot}{moves}\n'
                  for move, moves, axes in itertools.product(_MOVES, _MOVES_WORDS, ("", "AXES official\n"))]
        if start in ("", f' image "{URL}"'):
            texts += [f"SHOT a: {prompt(one)} {shot}{one}{other}\n"
                      for one, other in itertools.combinations(_OPTIONS, 2)]
    for model, mode, option in itertools.product(built_in().names(), _MODES, _SEQUENCE_OPTIONS):
        texts.append(f'SEQUENCE s: model {model}{mode}{option}\n  SHOT a: pan left "one" 3s\n  SHOT b: "two" 4s\n')
    return texts


def test_every_request_check_accepts_is_one_the_fal_app_takes(tmp_path: Path) -> None:
    for name, data in {"start.png": png(640, 360), "start.jpg": jpeg(640, 360), "end.png": png(640, 360),
                       "mask.png": png(640, 360)}.items():
        (tmp_path / name).write_bytes(data)
    refused: list[tuple[str, str, Any]] = []
    reached: set[str] = set()
    for text in _shot_lists():
        result = shotlang.compile_text(text, folder=tmp_path, backend="fal")
        if result.output is None or any(d.severity.name == "ERROR" for d in result.diagnostics):
            continue
        for made in result.output.records:
            app, body = made["endpoint"], made["body"]
            reached.add(app)
            problems = fal_server.validate(fal_server.APPS[app], body)
            if problems:
                refused.append((text, app, problems))
            # a local file goes as a data URI of its own type
            for value in (v for k, v in body.items() if k.endswith("_url") and v.startswith("data:")):
                kind, _, data = value.partition(";base64,")
                magic = {"data:image/png": b"\x89PNG", "data:image/jpeg": b"\xff\xd8\xff"}[kind]
                assert base64.b64decode(data).startswith(magic), (text, kind)
            if "generate_audio" in body:
                assert body["generate_audio"] is ("sound on" in text), text
    assert not refused, "\n".join(f"{text.strip()}\n  {app}: {problems}" for text, app, problems in refused[:20])
    # Every app in fal's client map is reached, but kling-v1-5's text-to-video: Kling's row for
    # kling-v1-5 has image-to-video only, so no shot goes there.
    listed = {app.app for app in fal.apps() if app.listed}
    assert reached == listed - {"fal-ai/kling-video/v1.5/pro/text-to-video"}
