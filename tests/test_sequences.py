"""SEQUENCE blocks: how shots are gathered, how their durations are shared out, how their
camera moves become words, and the request they make."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

import shotlang
from shotlang.compiler.bodies import VideoRequest


def compiled(text: str) -> shotlang.CompileResult:
    return shotlang.compile_text(text)


def body(text: str, name: str | None = None) -> dict:
    result = compiled(text)
    assert result.ok, result.render()
    records = result.output.records
    return next(r for r in records if name is None or r["name"] == name)["body"]


def test_shots_without_a_duration_share_what_is_left_the_earlier_taking_the_extra_seconds():
    made = body('SEQUENCE s: 15s model kling-v3\n  SHOT a: "a"\n  SHOT b: "b"\n  SHOT c: "c"\n  SHOT d: "d"\n')
    assert [p["duration"] for p in made["multi_prompt"]] == ["4", "4", "4", "3"]
    made = body('SEQUENCE s: 15s model kling-v3\n  SHOT a: "a" 4s\n  SHOT b: "b"\n  SHOT c: "c"\n')
    assert [p["duration"] for p in made["multi_prompt"]] == ["4", "6", "5"]
    made = body('SEQUENCE s: model kling-v3\n  SHOT a: "a" 4s\n  SHOT b: "b" 6s\n')
    assert made["duration"] == "10" and [p["duration"] for p in made["multi_prompt"]] == ["4", "6"]


def test_a_sequence_is_one_request_with_its_settings_and_each_shots_prompt():
    made = body('DEFAULTS 5s negative "blur"\nSEQUENCE s: 8s model kling-v3 pro 9:16 sound on\n'
                '  SHOT a: "first" 3s\n  SHOT b: "second"\n')
    # The DEFAULTS duration is no sequence's length; its prompts are its shots'.
    assert made == {
        "model_name": "kling-v3", "negative_prompt": "blur", "mode": "pro", "aspect_ratio": "9:16",
        "duration": "8", "sound": "on", "multi_shot": True, "shot_type": "customize",
        "multi_prompt": [{"index": 1, "prompt": "first", "duration": "3"},
                         {"index": 2, "prompt": "second", "duration": "5"}],
    }
    VideoRequest.model_validate(made)


def test_a_move_is_written_into_its_prompt_in_camera_language_unless_moves_off():
    text = ('SEQUENCE s: 10s model kling-v3{}\n  SHOT a: slow pan right over "a quay"\n'
            '  SHOT b: pan left 8 "a boat"\n  SHOT c: static "a gull"\n')
    prompts = [p["prompt"] for p in body(text.format(""))["multi_prompt"]]
    assert prompts == ["The camera pans slowly to the right. a quay", "The camera pans fast to the left. a boat",
                       "A static shot, the camera locked off. a gull"]
    assert [d.code for d in compiled(text.format("")).diagnostics] == ["W107", "W107"]
    assert compiled(text.format(" moves words")).diagnostics == []
    assert [p["prompt"] for p in body(text.format(" moves off"))["multi_prompt"]] == ["a quay", "a boat", "a gull"]


def test_the_sequence_ends_at_the_first_line_not_indented_under_it():
    result = compiled('SEQUENCE s: 10s model kling-v3\n  SHOT a: "a"\n  SHOT b: "b"\nSHOT c: "c" model kling-v3\n')
    assert result.ok, result.render()
    names = [(r["name"], r.get("shots")) for r in result.output.records]
    assert names == [("s", ["a", "b"]), ("c", None)]


def test_a_shot_of_a_sequence_may_wrap_its_prompt_and_options_deeper():
    result = compiled('SEQUENCE s: 10s model kling-v3\n  SHOT a: "a long\n    prompt"\n    4s\n  SHOT b: "b"\n')
    assert result.ok, result.render()
    assert result.output.records[0]["body"]["multi_prompt"][0] == {"index": 1, "prompt": "a long prompt",
                                                                   "duration": "4"}


def test_a_prompt_over_512_characters_with_its_camera_words_is_refused():
    fits = "x" * (512 - len("The camera pans slowly to the right. "))
    assert compiled(f'SEQUENCE s: 5s model kling-v3\n  SHOT a: slow pan right "{fits}"\n').ok
    result = compiled(f'SEQUENCE s: 5s model kling-v3\n  SHOT a: slow pan right "{fits}x"\n')
    assert [d.code for d in result.errors] == ["E306"]
    assert "with its camera words" in result.errors[0].message


@settings(deadline=None, max_examples=20 * settings.default.max_examples)
@given(total=st.one_of(st.none(), st.integers(1, 20)),
       given_durations=st.lists(st.one_of(st.none(), st.integers(1, 8)), min_size=1, max_size=7))
def test_generated_sequences_add_up_or_say_why_not(total, given_durations):
    head = f"SEQUENCE s: {f'{total}s ' if total else ''}model kling-v3 moves words\n"
    shots = "".join(f'  SHOT a{i}: "shot {i}"{f" {d}s" if d else ""}\n' for i, d in enumerate(given_durations))
    result = compiled(head + shots)
    fixed = [d for d in given_durations if d]
    missing = len(given_durations) - len(fixed)
    length = total if total else (sum(fixed) if not missing else None)
    expect_ok = (len(given_durations) <= 6 and length is not None and 3 <= length <= 15
                 and (sum(fixed) == length if not missing else length - sum(fixed) >= missing))
    assert result.ok == expect_ok, (head + shots, result.render())
    if result.ok:
        made = result.output.records[0]["body"]
        seconds = [int(p["duration"]) for p in made["multi_prompt"]]
        assert sum(seconds) == int(made["duration"]) == length
        assert all(s >= 1 for s in seconds)
        assert [s for s, d in zip(seconds, given_durations, strict=True) if d] == fixed
        shares = [s for s, d in zip(seconds, given_durations, strict=True) if not d]
        assert not shares or max(shares) - min(shares) <= 1 and shares == sorted(shares, reverse=True)
        json.dumps(made)
    else:
        assert all(d.code in ("E303", "E317", "E318") for d in result.errors), result.render()


def test_a_sequences_start_image_is_checked_and_inlined_as_a_shots_is(tmp_path):
    from helpers import png

    (tmp_path / "start.png").write_bytes(png(640, 360))
    text = 'SEQUENCE s: 10s model kling-v3 image "{}"\n  SHOT a: "a"\n  SHOT b: "b"\n'
    (tmp_path / "film.shot").write_text(text.format("missing.png"), encoding="utf-8")
    result = shotlang.compile_file(tmp_path / "film.shot")
    assert [d.code for d in result.errors] == ["E500"], result.render()
    (tmp_path / "film.shot").write_text(text.format("start.png"), encoding="utf-8")
    result = shotlang.compile_file(tmp_path / "film.shot")
    assert result.ok, result.render()
    [record] = result.output.records
    assert record["endpoint"] == "/v1/videos/image2video" and record["body"]["image"].startswith("iVBOR")


def test_a_sequences_own_options_are_checked_as_a_shots_are():
    def codes(options: str) -> list[str]:
        return [d.code for d in compiled(f'SEQUENCE s: 10s model kling-v3 {options}\n  SHOT a: "a"\n').errors]

    assert codes('id "no spaces please"') == ["E314"]
    assert codes('callback "ftp://example.com"') == ["E310"]
    assert codes(f'negative "{"x" * 2501}"') == ["E306"]
    assert codes('id "ep1-chase" callback "https://example.com/hook" negative "blur"') == []
