"""The language as a writer uses it: lines, strings, file settings, moves and their lowering."""

from __future__ import annotations

from typing import Any

import pytest

import shotlang
from shotlang.compiler.vocabulary import INTENSITIES, MOVES


def compile_ok(text: str, **kw: Any) -> list[dict[str, Any]]:
    result = shotlang.compile_text(text, **kw)
    assert result.errors == [], result.render()
    assert result.output is not None
    return result.output.model_dump(mode="json")["shots"]


def body(text: str, **kw: Any) -> dict[str, Any]:
    shots = compile_ok(text, **kw)
    assert len(shots) == 1
    return shots[0]["body"]


def camera(text: str, **kw: Any) -> dict[str, Any] | None:
    return body(text, **kw).get("camera_control")


# --- lines, comments, strings ----------------------------------------------------------------


def test_design_card_line_compiles_as_written() -> None:
    b = body('SHOT castle: slow pan right over "medieval castle" 5s pro')
    assert b == {"model_name": "kling-v2-6", "prompt": "medieval castle", "mode": "pro",
                 "duration": "5", "camera_control": {"type": "simple", "config": {
                     "horizontal": 5, "vertical": 0, "zoom": 0, "roll": 0, "pan": 0, "tilt": 0}}}


def test_crlf_bom_comments_and_blank_lines() -> None:
    text = '\ufeff# a shot list\r\n\r\nSHOT a: pan left "x" # trailing note\r\n  # indented comment\r\nSHOT b: "y"\r\n'
    shots = compile_ok(text)
    assert [s["name"] for s in shots] == ["a", "b"]
    assert [s["line"] for s in shots] == [3, 5]
    assert shots[0]["body"]["prompt"] == "x"


def test_bytes_with_bom_and_crlf() -> None:
    result = shotlang.compile_bytes('\ufeffSHOT a: "café"\r\n'.encode())
    assert result.output is not None and result.output.shots[0].body.prompt == "café"


def test_keywords_and_vocabulary_are_case_insensitive() -> None:
    a = body('shot a: SLOW Pan RIGHT Over "x" 5S PRO MODEL Kling-V2-6')
    b = body('SHOT a: slow pan right over "x" 5s pro model kling-v2-6')
    assert a == b


def test_prompts_keep_their_text_exactly() -> None:
    prompt = r'She says \"stay\" — 東京, ñ, emoji 🎬, a back\slash and \\ two'
    assert body(f'SHOT a: "{prompt}"')["prompt"] == 'She says "stay" — 東京, ñ, emoji 🎬, a back\\slash and \\ two'


def test_hash_inside_a_string_is_not_a_comment() -> None:
    assert body('SHOT a: "take #3" # note')["prompt"] == "take #3"


@pytest.mark.parametrize("text", [
    'SHOT a: pan right over "one two\n    three four" 10s',
    'SHOT a: pan right over "one two"\n    "three four" 10s',
    'SHOT a: pan right over "one two"\n"three four"\n    10s',
    'SHOT a: pan right over\n    "one two three four"\n    10s',
    'SHOT a: pan right over "one two"\n    # a comment between\n    "three four" 10s',
])  # fmt: skip
def test_long_prompts_and_options_wrap_onto_following_lines(text: str) -> None:
    b = body(text)
    assert b["prompt"] in ("one two three four",)
    assert b["duration"] == "10"


def test_indented_shots_under_a_scene_are_statements_of_their_own() -> None:
    shots = compile_ok('SCENE "INT. HALL"\n  SHOT a: "x"\n  SHOT b: "y"\n    10s\n')
    assert [(s["name"], s["scene"], s["body"]["duration"]) for s in shots] == [
        ("a", "INT. HALL", "5"), ("b", "INT. HALL", "10")]


def test_unclosed_string_does_not_swallow_the_next_shot() -> None:
    result = shotlang.compile_text('SHOT a: "open\nSHOT b: "fine"\n')
    assert [d.code for d in result.diagnostics] == ["E101"]


# --- file settings ---------------------------------------------------------------------------


def test_model_defaults_and_scene_carry_down_and_shot_options_win() -> None:
    shots = compile_ok(
        'TITLE "T"\nMODEL kling-v2-5-turbo\nDEFAULTS 10s pro 16:9\nSCENE "S1"\n'
        'SHOT a: "x"\nSHOT b: "y" 5s std model kling-v1-6\nSCENE "S2"\nDEFAULTS 9:16\nSHOT c: "z"\n')
    a, b, c = (s["body"] for s in shots)
    assert a == {"model_name": "kling-v2-5-turbo", "prompt": "x", "mode": "pro", "aspect_ratio": "16:9",
                 "duration": "10"}
    assert (b["model_name"], b["duration"], b["mode"]) == ("kling-v1-6", "5", "std")
    assert (c["aspect_ratio"], c["mode"], c["duration"]) == ("9:16", "pro", "10")
    assert [s["scene"] for s in shots] == ["S1", "S1", "S2"]


def test_title_and_axes_go_into_the_envelope() -> None:
    out = shotlang.compile_text('TITLE "The Keep"\nAXES official\nSHOT a: "x"').output
    assert out is not None and (out.title, out.axes) == ("The Keep", "official")


def test_default_model_is_kling_v2_6() -> None:
    assert body('SHOT a: "x"')["model_name"] == "kling-v2-6"


def test_default_aspect_is_not_applied_to_image_shots() -> None:
    b = body('DEFAULTS 16:9\nSHOT a: "x" image "https://e.com/a.jpg"')
    assert "aspect_ratio" not in b


def test_mode_words_are_sent_as_api_values() -> None:
    assert body('SHOT a: "x" professional')["mode"] == "pro"
    assert body('SHOT a: "x" standard')["mode"] == "std"


def test_all_options_reach_the_body() -> None:
    b = body('SHOT a: "x" negative "blur" cfg 0.3 model kling-v1-6 id "shot-1.a" '
             'callback "https://example.com/hook" 10s pro 1:1')
    assert b == {"model_name": "kling-v1-6", "prompt": "x", "negative_prompt": "blur", "cfg_scale": 0.3,
                 "mode": "pro", "aspect_ratio": "1:1", "duration": "10",
                 "callback_url": "https://example.com/hook", "external_task_id": "shot-1.a"}


def test_sound_on_v2_6_pro() -> None:
    assert body('SHOT a: "x" sound on pro')["sound"] == "on"


def test_watermark_on_or_off_is_sent_as_watermark_info_and_may_be_a_default() -> None:
    shots = compile_ok('DEFAULTS watermark off\nSHOT a: "x"\nSHOT b: "y" WATERMARK On\nDEFAULTS 10s\nSHOT c: "z"')
    assert [s["body"].get("watermark_info") for s in shots] == [{"enabled": False}, {"enabled": True},
                                                                {"enabled": False}]
    assert list(shots[1]["body"])[-1] == "watermark_info"  # in the body's field order: last
    assert "watermark_info" not in body('SHOT a: "x"')  # not given: left to the API's default


def test_image_options_go_to_image2video_with_masks_and_trajectories() -> None:
    shots = compile_ok('SHOT a: "" image "https://e.com/a.jpg" motion "https://e.com/m.png" (1, 2) (30,40) '
                       "model kling-v1 5s")
    assert shots[0]["endpoint"] == "/v1/videos/image2video"
    b = shots[0]["body"]
    assert "prompt" not in b  # an image shot may leave the prompt out
    assert b["dynamic_masks"] == [{"mask": "https://e.com/m.png",
                                   "trajectories": [{"x": 1, "y": 2}, {"x": 30, "y": 40}]}]


def test_tail_alone_makes_an_image_shot() -> None:
    shots = compile_ok('SHOT a: "x" tail "https://e.com/end.jpg" pro')
    assert shots[0]["endpoint"] == "/v1/videos/image2video"
    assert shots[0]["body"]["image_tail"] == "https://e.com/end.jpg"


# --- moves ------------------------------------------------------------------------------------


def test_no_move_and_static_send_no_camera_control() -> None:
    assert camera('SHOT hold: "x" 5s') is None
    assert camera('SHOT hold: static "x" 5s') is None
    assert camera('SHOT hold: locked off on "x"') is None


def test_magnitude_after_the_move_and_direction_gives_the_sign() -> None:
    assert camera('SHOT a: pan right 6 over "x"')["config"]["horizontal"] == 6
    assert camera('SHOT a: pan left 6 over "x"')["config"]["horizontal"] == -6


@pytest.mark.parametrize(("words", "preset"), [
    ("crane down and back", "down_back"), ("push in and up", "forward_up"),
    ("turn right forward", "right_turn_forward"), ("turn left forward", "left_turn_forward"),
    ("down_back", "down_back"),
])  # fmt: skip
def test_preset_compound_moves_have_no_config(words: str, preset: str) -> None:
    assert camera(f'SHOT a: {words} over "x"') == {"type": preset}


@pytest.mark.parametrize(("words", "field", "value"), [
    # Kling's field descriptions as of its 2026-03 copy: pan turns the camera left and right,
    # tilt up and down (the 2025-12 copy had the two the other way round; docs/kling-mapping.md).
    ("pan right", "pan", 5), ("pan left", "pan", -5), ("tilt up", "tilt", 5), ("tilt down", "tilt", -5),
    ("zoom in", "zoom", -5), ("zoom out", "zoom", 5), ("truck right", "horizontal", 5),
    ("truck left", "horizontal", -5), ("crane up", "vertical", 5), ("crane down", "vertical", -5),
    ("roll clockwise", "roll", 5), ("push in", "zoom", -5), ("pull back", "zoom", 5),
])  # fmt: skip
def test_official_reading(words: str, field: str, value: int) -> None:
    config = camera(f'AXES official\nSHOT a: {words} over "x"')["config"]  # type: ignore[index]
    assert {k: v for k, v in config.items() if v} == {field: value}


def test_cli_reading_overrides_the_file() -> None:
    assert camera('AXES official\nSHOT a: pan right "x"', axes="seed")["config"]["horizontal"] == 5
    assert camera('SHOT a: pan right "x"', axes="official")["config"]["pan"] == 5


@pytest.mark.parametrize("move", MOVES, ids=[m.name for m in MOVES])
def test_every_phrase_of_every_move_lowers_to_that_move(move: Any) -> None:
    for phrase in move.phrases:
        for reading in ("seed", "official"):
            control = camera(f'SHOT a: {phrase} on "x"', axes=reading)
            if move.preset:
                assert control == {"type": move.preset}
            elif move.is_static:
                assert control is None
            else:
                axis = move.axis(reading)
                assert control["config"][axis.field] == axis.sign * 5


def test_intensity_words_all_lower() -> None:
    for word, magnitude in INTENSITIES.items():
        assert camera(f'SHOT a: {word} zoom in "x"')["config"]["zoom"] == magnitude


def test_joiner_is_optional_and_any_joiner_works() -> None:
    for joiner in ("", "over", "through", "toward", "into", "across", "at"):
        assert camera(f'SHOT a: pan right {joiner} "x"')["config"]["horizontal"] == 5
