"""`shotlang decompile`: request bodies back into a shot list that compiles to the same bodies.

The round trip is a property over generated shot lists (compiled, decompiled, compiled again:
the same requests), and over generated bodies (each is either said exactly by the shot list, or
what is not said is reported). Then the words chosen, every input shape through the real
command, what cannot be said and where it is reported, and bad input.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
from helpers import png
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import shotlang
from shotlang.compiler import kling
from shotlang.compiler.vocabulary import INTENSITIES, JOINERS, MOVES
from shotlang.tools.decompile import (
    MAX_INPUT_BYTES,
    Decompiled,
    ImageFolder,
    Payload,
    Unreadable,
    decompile,
    read_input,
    read_payload,
)
from shotlang.tools.fmt import format_text

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.shot"))
# 1,000 generated cases under the ci profile (100 when quick): tests/conftest.py.
ROUND_TRIPS = settings(max_examples=10 * settings.default.max_examples, deadline=None,
                       suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])


def run(*args: str, stdin: str | bytes | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1"}
    data = stdin.encode() if isinstance(stdin, str) else stdin
    done = subprocess.run([sys.executable, "-m", "shotlang", *args], input=data, capture_output=True,
                          cwd=cwd or ROOT, env=env, timeout=60)
    assert "Traceback" not in done.stderr.decode(), done.stderr.decode()
    return subprocess.CompletedProcess(done.args, done.returncode, done.stdout.decode(), done.stderr.decode())


def requests_of(envelope: dict[str, Any]) -> list[tuple[Any, ...]]:
    """What a compiled file asks for, record by record, as exact JSON text (so `5` and `5.0`,
    `true` and `1`, and the order of keys all count)."""
    return [json.dumps([r["name"], r["scene"], r["method"], r["endpoint"], r["body"], r.get("shots")])
            for r in envelope["shots"]]


def bodies_of(envelope: dict[str, Any]) -> list[str]:
    return [json.dumps([r["endpoint"], r["body"]]) for r in envelope["shots"]]


def compiled(text: str, path: Path | None = None) -> dict[str, Any]:
    result = shotlang.compile_text(text, path)
    assert result.ok, result.render() + "\n" + text
    assert result.output is not None
    return json.loads(result.output.to_json())  # type: ignore[no-any-return]


def back(data: str | bytes, name: str = "in.json", **kw: Any) -> Decompiled:
    raw = data.encode() if isinstance(data, str) else data
    return decompile([read_payload(raw, name)], **kw)


def shot_list(body: dict[str, Any], **kw: Any) -> Decompiled:
    return back(json.dumps(body), **kw)


# --- the round trip, over generated shot lists -----------------------------------------------

AXIS_MOVES = [m for m in MOVES if m.seed is not None]
PRESETS = [m for m in MOVES if m.preset]
STILL = [m for m in MOVES if m.is_static]
MODELS = ["kling-v2-6", "kling-v3", "kling-v1-6", "kling-v2-master", "kling-v2-5-turbo"]
# What a string may hold: any text but control characters and line breaks, and the characters
# that matter to the lexer and the formatter.
SPECIAL = '"\\#\t:( \u2028\ufeff'
texts = st.text(st.characters(exclude_categories=("Cs", "Cc"), include_characters=SPECIAL) | st.sampled_from(SPECIAL),
                min_size=1, max_size=30).filter(lambda s: s.strip() != "")
magnitudes = st.one_of(st.integers(1, 10).map(str), st.sampled_from(["5.0", "2.50", "0.5", "10.00"]),
                       st.integers(1, 999).map(lambda n: f"{n // 100}.{n % 100:02d}").filter(lambda s: s != "0.00"))


# [[notes]]: none mostly, else one or two, in the line or on a line of their own.
notes = st.one_of(st.just(""), st.lists(texts.filter(lambda t: "]" not in t), min_size=1, max_size=2).map(
    lambda found: "".join(f" [[{n}]]" for n in found)), texts.filter(lambda t: "]" not in t).map(lambda n: f"\n[[ {n} ]]"))


@st.composite
def moves(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["none", "still", "preset", "axis", "axis", "axis"]))
    if kind == "none":
        return ""
    if kind in ("still", "preset"):
        words = draw(st.sampled_from([p for m in (STILL if kind == "still" else PRESETS) for p in m.phrases]))
    else:
        move = draw(st.sampled_from(AXIS_MOVES))
        words = draw(st.sampled_from(move.phrases))
        strength = draw(st.sampled_from(["", "word", "number"]))
        if strength == "word":
            words = f"{draw(st.sampled_from(list(INTENSITIES)))} {words}"
        elif strength == "number":
            words = f"{words} {draw(magnitudes)}"
    if draw(st.booleans()):
        words = words.upper()
    if draw(st.booleans()):
        words += " " + draw(st.sampled_from(sorted(JOINERS)))
    return words + " "


def q(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


@st.composite
def settings_options(draw: st.DrawFn, model: str | None) -> list[str]:
    """Options a shot, a sequence or DEFAULTS may have, within what `model` offers (mostly)."""
    found = []
    if draw(st.booleans()):
        found.append(draw(st.sampled_from(["std", "standard", "pro", "professional", "PRO"])))
    if draw(st.booleans()):
        found.append(f"negative {q(draw(texts))}")
    if draw(st.integers(0, 4)) == 0 and model in ("kling-v1-6", "kling-v2-master"):
        found.append(f"cfg {draw(st.sampled_from(['0', '0.5', '1', '0.25', '0.123456789', '1.0']))}")
    if draw(st.integers(0, 3)) == 0:
        found.append(f"callback {q('https://example.com/hook/' + draw(st.from_regex(r'[a-z0-9]{0,8}', fullmatch=True)))}")
    if draw(st.integers(0, 3)) == 0:
        found.append(f"watermark {draw(st.sampled_from(['on', 'off']))}")
    if model == "kling-v3" and draw(st.booleans()):
        found.append(f"sound {draw(st.sampled_from(['on', 'off']))}")
    return found


@st.composite
def shots(draw: st.DrawFn, name: str, file_model: str | None) -> str:
    own = draw(st.sampled_from([None, None, *MODELS]))
    model = own or file_model or kling.DEFAULT_MODEL
    options = draw(settings_options(model))
    if own:
        options.append(f"model {own}")
    move = draw(moves())
    image = draw(st.integers(0, 3)) == 0
    prompt = draw(st.one_of(texts, st.just(""))) if image else draw(texts)
    if image:
        options.append(f"image {q('https://example.com/' + name + '.jpg')}")
        group = draw(st.sampled_from(["camera", "tail", "masks", "none"]))
        if group != "camera":
            move = ""
        if group == "tail":
            options += [f"tail {q('https://example.com/end.png')}", "pro"]
        elif group == "masks":
            if draw(st.booleans()):
                options.append(f"mask {q('https://example.com/sky.png')}")
            for _ in range(draw(st.integers(0, 2))):
                points = draw(st.lists(st.tuples(st.integers(0, 999), st.integers(0, 999)), min_size=2, max_size=4))
                options.append(f"motion {q('https://example.com/m.png')} " + " ".join(f"({x}, {y})" for x, y in points))
    elif draw(st.booleans()):
        options.append(draw(st.sampled_from(["16:9", "9:16", "1:1"])))
    if draw(st.booleans()):
        options.append(draw(st.sampled_from(["5s", "10s"])))
    if draw(st.integers(0, 3)) == 0:
        options.append(f"id {q(draw(st.from_regex(r'[A-Za-z0-9_.-]{1,12}', fullmatch=True)))}")
    if model == "kling-v3" and "sound on" in options and not image and draw(st.booleans()):
        options.append('voice "narrator"')
        prompt = "<<<voice_1>>> " + prompt
    options = draw(st.permutations(options))
    return f"SHOT {name}: {move}{q(prompt)} {' '.join(options)}{draw(notes)}"


@st.composite
def sequences(draw: st.DrawFn, name: str, members: list[str], file_model: str | None) -> str:
    options = draw(settings_options("kling-v3"))
    if file_model != "kling-v3":
        options.append("model kling-v3")
    if draw(st.booleans()):
        options.append(draw(st.sampled_from(["16:9", "9:16", "1:1"])))
    if draw(st.booleans()):
        options.append(draw(st.sampled_from(["moves words", "moves off"])))
    durations = [draw(st.sampled_from([None, 1, 2, 3])) for _ in members]
    given = sum(d for d in durations if d is not None)
    missing = durations.count(None)
    total = None
    if missing or draw(st.booleans()):
        total = given + missing * draw(st.integers(1, 3))
        assume(3 <= total <= 15)
        options.append(f"{total}s")
    else:
        assume(3 <= given <= 15)
    lines = [f"SEQUENCE {name}: {' '.join(draw(st.permutations(options)))}"]
    for member, seconds in zip(members, durations, strict=True):
        lines.append(f"    SHOT {member}: {draw(moves())}{q(draw(texts))}" + (f" {seconds}s" if seconds else "")
                     + draw(notes))
    return "\n".join(lines)


@st.composite
def shot_lists(draw: st.DrawFn) -> str:
    stem = draw(st.sampled_from(["s", "Shot_", "a-", "X", "9", "take"]))
    names = (f"{stem}{n}" for n in range(100))
    lines = []
    if draw(st.booleans()):
        lines.append(f"TITLE {q(draw(texts))}")
    if draw(st.booleans()):
        lines.append(f"AXES {draw(st.sampled_from(['seed', 'official']))}")
    model = draw(st.sampled_from([None, *MODELS]))
    if model:
        lines.append(f"MODEL {model}")
    lines.append(draw(notes).strip())
    if draw(st.integers(0, 3)) == 0:
        lines.append("DEFAULTS " + " ".join(draw(settings_options(model or kling.DEFAULT_MODEL)) or ["std"]))
    for _ in range(draw(st.integers(1, 5))):
        if draw(st.integers(0, 2)) == 0:
            lines.append(f"SCENE {q(draw(texts))}")
        if draw(st.integers(0, 3)) == 0:
            members = [next(names) for _ in range(draw(st.integers(1, 4)))]
            lines.append(draw(sequences(next(names), members, model)))
        else:
            lines.append(draw(shots(next(names), model)))
    return "\n".join(lines) + "\n"


@ROUND_TRIPS
@given(text=shot_lists(), form=st.sampled_from(["json", "jsonl", "bodies"]))
def test_a_compiled_shot_list_decompiles_to_lines_that_compile_to_the_same_requests(text: str, form: str) -> None:
    result = shotlang.compile_text(text)
    assume(result.ok)
    assert result.output is not None
    first = json.loads(result.output.to_json())
    if form == "json":
        data = result.output.to_json()
    elif form == "jsonl":
        data = result.output.to_jsonl()
    else:
        data = json.dumps([r["body"] for r in first["shots"]])
    done = back(data)
    assert done.problems == [], (text, done.text)
    again = compiled(done.text)
    if form == "bodies":  # bare bodies: no names, scenes or endpoints to keep
        assert bodies_of(again) == bodies_of(first)
    else:
        assert requests_of(again) == requests_of(first), (text, done.text)
    if form == "json":
        assert (again["title"], again["axes"]) == (first["title"], first["axes"])
    # Already in fmt's canonical form.
    assert format_text(done.text).text == done.text


# --- and over generated bodies: each is said exactly, or what is not said is reported ----------

URL = "https://example.com/still.jpg"
PICTURE = base64.b64encode(png(320, 320)).decode()
GOOD = {
    "model_name": ["kling-v2-6", "kling-v3", "kling-v1-6"],
    "prompt": ["A castle at dawn", 'She says "go" \\ \t# not a comment', ""],
    "negative_prompt": ["blur"],
    "cfg_scale": [0.5, 0.25, 1, 0.0, 0.123456789],
    "mode": ["std", "pro"],
    "aspect_ratio": ["16:9", "9:16", "1:1"],
    "duration": ["5", "10"],
    "sound": ["on", "off"],
    "voice_list": [[{"voice_id": "narrator"}]],
    "image": [URL, PICTURE],
    "image_tail": [URL],
    "static_mask": [URL],
    "dynamic_masks": [[{"mask": URL, "trajectories": [{"x": 10, "y": 20}, {"x": 30.0, "y": 40}]}]],
    "callback_url": ["https://example.com/hook"],
    "external_task_id": ["ext-1"],
    "watermark_info": [{"enabled": True}, {"enabled": False}],
}
BAD = {
    "model_name": ["Kling-V3", "kling v3", 3, "a:b"],
    "prompt": ["two\nlines", "bell\x07", 5, "cr\r"],
    "negative_prompt": [["blur"]],
    "cfg_scale": [2, -0.1, "0.5", True],
    "mode": ["fast", "PRO", None],
    "aspect_ratio": ["0:9", "16x9", 16, "123456:123456"],
    "duration": ["05", "0", "601", 5, "5.5", "５"],
    "sound": ["yes", True],
    "voice_list": [[{"voice_id": 5}], {"voice_id": "v"}, [{"voice_id": "v", "speed": 1}], ["v"]],
    "image": ["not base64", "images/x.png", base64.b64encode(b"GIF89a....").decode(), "data:image/png;base64,AAAA"],
    "dynamic_masks": [[{"mask": URL, "trajectories": [{"x": 1.5, "y": 2}]}], [{"trajectories": []}], "m",
                      [{"mask": URL, "trajectories": [{"x": -1, "y": 2}]}]],
    "watermark_info": [{"enabled": "yes"}, {"enabled": True, "x": 1}, True],
    "frame_rate": [1],
    "multi_shot": [True, False],
    "shot_type": ["intelligence", "customize"],
}
CAMERA_VALUES = [5, 8, -2.5, 0.01, 10, -10, 5.0, 3, 2.345, 11, 0, True, "5", -0.0, 1e-9, None]


@st.composite
def cameras(draw: st.DrawFn) -> Any:
    kind = draw(st.sampled_from(["simple", "simple", "simple", "preset", "odd"]))
    if kind == "preset":
        control: dict[str, Any] = {"type": draw(st.sampled_from(kling.CAMERA_PRESETS))}
        if draw(st.integers(0, 4)) == 0:
            control["config"] = draw(st.sampled_from([None, {}, {"zoom": 5}]))
        return control
    if kind == "odd":
        return draw(st.sampled_from([{"type": "orbit"}, {"config": {"zoom": 5}}, "simple", {"type": "simple"},
                                     {"type": "simple", "config": {"zoom": 5}, "speed": 2},
                                     {"type": "simple", "config": {"dolly": 5}}]))
    fields = draw(st.lists(st.sampled_from(kling.CAMERA_FIELDS), min_size=1, max_size=2, unique=True))
    config = {f: draw(st.sampled_from(CAMERA_VALUES)) for f in fields}
    if draw(st.booleans()):  # the other fields written as 0, as shotlang writes them
        config = {f: config.get(f, 0) for f in kling.CAMERA_FIELDS}
    return {"type": "simple", "config": config}


@st.composite
def multi_prompts(draw: st.DrawFn) -> dict[str, Any]:
    count = draw(st.integers(1, 4))
    seconds = [draw(st.integers(1, 4)) for _ in range(count)]
    entries = []
    for i, s in enumerate(seconds, 1):
        prompt = draw(st.sampled_from(["A runner", "slow pan right: A runner", "push in and up: x", "pan left: ",
                                       "Fast zoom in: x", "static: x", "slow  pan right: x", "dolly forward: y"]))
        entries.append({"index": i, "prompt": prompt, "duration": str(s)})
    body: dict[str, Any] = {"model_name": "kling-v3", "duration": str(sum(seconds)), "multi_shot": True,
                            "shot_type": "customize", "multi_prompt": entries}
    if draw(st.integers(0, 5)) == 0:
        wrong = draw(st.sampled_from(["index", "duration", "total", "prompt", "extra"]))
        if wrong == "index":
            entries[0]["index"] = 0
        elif wrong == "duration":
            entries[-1]["duration"] = "05"
        elif wrong == "total":
            body["duration"] = str(sum(seconds) + 1)
        elif wrong == "prompt":
            body["prompt"] = "x"
        else:
            entries[0]["camera"] = "pan"
    return body


@st.composite
def bodies(draw: st.DrawFn) -> dict[str, Any]:
    if draw(st.integers(0, 4)) == 0:
        body = draw(multi_prompts())
    else:
        body = {}
        for key in draw(st.lists(st.sampled_from(sorted(GOOD)), max_size=5, unique=True)):
            body[key] = draw(st.sampled_from(GOOD[key]))
        if draw(st.booleans()):
            body["camera_control"] = draw(cameras())
        body.setdefault("prompt", "A harbour")
    for key in draw(st.lists(st.sampled_from(sorted(BAD)), max_size=1)):
        body[key] = draw(st.sampled_from(BAD[key]))
    if draw(st.integers(0, 5)) == 0:
        body[draw(st.sampled_from(sorted(body)))] = None  # null: a field left out
    return body


def without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    return [without_nulls(v) for v in value] if isinstance(value, list) else value


def normalised(body: dict[str, Any]) -> dict[str, Any]:
    """The body as the API reads it, which is what a clean decompile must compile back to: a
    null field left out, the API's model and duration when none is named, a camera config's
    missing fields 0, and an image shot's empty prompt no prompt (docs/cli.md)."""
    found = without_nulls(body)
    found.setdefault("model_name", kling.API_DEFAULT_MODEL)
    found.setdefault("duration", kling.DEFAULT_DURATION)
    control = found.get("camera_control")
    if isinstance(control, dict) and control.get("type") == "simple":
        found["camera_control"] = {**control, "config": {f: control["config"].get(f, 0) for f in kling.CAMERA_FIELDS}}
    if ("image" in found or "image_tail" in found) and found.get("prompt") == "":
        del found["prompt"]
    return found


def same(a: Any, b: Any) -> bool:
    """JSON values equal as the API reads them: 5 and 5.0 alike, true and 1 not."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    numbers = isinstance(a, int | float) and isinstance(b, int | float)
    return (type(a) is type(b) or numbers) and a == b


@ROUND_TRIPS
@given(body=bodies(), with_images=st.booleans())
def test_a_body_is_said_exactly_or_what_is_not_said_is_reported(body: dict[str, Any], with_images: bool) -> None:
    with tempfile.TemporaryDirectory() as folder:
        here = Path(folder)
        images = ImageFolder(here / "stills", here) if with_images else None
        done = shot_list(body, images=images, base_dir=here)
        for problem in done.problems:
            assert problem.where == "in.json"
            assert f"# decompile: {problem.said()}" in done.text or "does not compile" in problem.message
        if done.problems:
            return
        again = compiled(done.text, here / "back.shot")
    [record] = again["shots"]
    assert same(record["body"], normalised(body)), (body, done.text, record["body"])
    image = "image" in body and body["image"] is not None or body.get("image_tail") is not None
    assert record["endpoint"] == (kling.IMAGE2VIDEO if image else kling.TEXT2VIDEO)


# --- the words chosen ------------------------------------------------------------------------


def body_with(camera: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    body = {"model_name": "kling-v2-6", "prompt": "A castle", "duration": "5", **fields}
    if camera is not None:
        body["camera_control"] = {"type": "simple", "config": camera}
    return body


def shot_line(done: Decompiled) -> str:
    return next(line for line in done.text.splitlines() if line.startswith("SHOT"))


@pytest.mark.parametrize(("camera", "words"), [
    ({"horizontal": 5}, "slow pan right"),  # the default magnitude: its first intensity word
    ({"horizontal": 8}, "pan right 8"),  # any other: the number, as sent
    ({"horizontal": -2.5, "vertical": 0}, "pan left 2.5"),
    ({"zoom": 10.0}, "zoom in 10"),
    ({"zoom": -5.0}, "slow zoom out"),
    ({"roll": 3}, "roll clockwise 3"),
    ({"tilt": 4}, "dolly up 4"),  # push in sends it too; the first move listed for a field is chosen
    ({"pan": -0.01}, "dolly left 0.01"),
])
def test_a_camera_field_is_written_as_the_first_move_that_sends_it(camera: dict[str, Any], words: str) -> None:
    done = shot_list(body_with(camera))
    assert shot_line(done) == f'SHOT shot-1: {words} "A castle" 5s', done.problems
    assert done.problems == []


def test_the_two_words_of_the_issue_through_the_command() -> None:
    lines = "\n".join(json.dumps(body_with({"horizontal": n})) for n in (5, 8))
    done = run("decompile", "-", stdin=lines)
    assert done.returncode == 0, done.stderr
    assert done.stdout == ('MODEL kling-v2-6\nSHOT shot-1: slow pan right "A castle" 5s\n'
                           'SHOT shot-2: pan right 8 "A castle" 5s\n')
    assert done.stderr == ""


def test_under_axes_official_the_same_fields_are_other_moves() -> None:
    body = body_with({"horizontal": 5})
    assert shot_line(shot_list(body, axes="official")) == 'SHOT shot-1: slow dolly right "A castle" 5s'
    done = shot_list(body_with({"zoom": -4}), axes="official")
    assert "AXES official" in done.text.splitlines()
    assert shot_line(done) == 'SHOT shot-1: zoom in 4 "A castle" 5s'  # never push in, which official approximates
    assert bodies_of(compiled(done.text)) == [json.dumps(["/v1/videos/text2video", normalised(body_with({"zoom": -4}))])]


def test_axes_on_the_command_line_wins_over_the_envelopes_and_the_requests_stay_the_same() -> None:
    first = compiled('AXES official\nSHOT a: slow pan right "x"\nSHOT b: crane up 3 "y"\n')
    done = run("decompile", "-", "--axes", "seed", stdin=json.dumps(first))
    assert done.returncode == 0, done.stderr
    assert done.stdout == 'MODEL kling-v2-6\nSHOT a: slow dolly right "x" 5s\nSHOT b: tilt up 3 "y" 5s\n'
    assert bodies_of(compiled(done.stdout)) == bodies_of(first)
    official = run("decompile", "-", stdin=json.dumps(first))
    assert official.stdout.splitlines()[:2] == ["AXES official", "MODEL kling-v2-6"]


def test_no_requests_make_an_empty_shot_list() -> None:
    assert back("[]") == Decompiled("", [], 0)


def test_presets_and_other_options_are_written_in_the_language_tables_order() -> None:
    body = {"model_name": "kling-v2-5-turbo", "prompt": "x", "negative_prompt": "blur", "cfg_scale": 0.3,
            "mode": "pro", "aspect_ratio": "9:16", "duration": "10", "camera_control": {"type": "forward_up"},
            "callback_url": "https://example.com/h", "external_task_id": "my-id",
            "watermark_info": {"enabled": False}}
    done = shot_list(body)
    assert " ".join(done.text.split()) == ('MODEL kling-v2-5-turbo SHOT my-id: push in and up "x" 10s pro 9:16 '
                                           'negative "blur" cfg 0.3 id "my-id" callback "https://example.com/h" '
                                           "watermark off")
    assert done.problems == []


@pytest.mark.parametrize("prompt", ['say "hi"', "C:\\shots\\", "a \\\" b", "back\\\\slash", "tab\there", "# hash"])
def test_strings_are_quoted_so_they_read_back_the_same(prompt: str) -> None:
    done = shot_list(body_with(prompt=prompt))
    assert done.problems == []
    assert json.loads(bodies_of(compiled(done.text))[0])[1]["prompt"] == prompt


def test_a_long_prompt_is_wrapped_by_fmt() -> None:
    done = shot_list(body_with(prompt=" ".join(["word"] * 60)))
    assert max(len(line) for line in done.text.splitlines()) <= 100
    assert json.loads(bodies_of(compiled(done.text))[0])[1]["prompt"] == " ".join(["word"] * 60)


def test_a_model_most_shots_share_is_written_once() -> None:
    models = ["kling-v2-6", "kling-v3", "kling-v3", "kling-v2-6", "kling-v3"]
    done = back(json.dumps([body_with(model_name=m) for m in models]))
    lines = done.text.splitlines()
    assert lines[0] == "MODEL kling-v3"
    assert [line.endswith("model kling-v2-6") for line in lines[1:]] == [m == "kling-v2-6" for m in models]


# --- names, scenes, titles -------------------------------------------------------------------


def test_bare_bodies_are_named_by_their_id_if_it_is_a_safe_name_else_shot_n() -> None:
    ids = ["castle", "bad id", "CASTLE", "shot-2", None, "con", "x" * 65]
    done = back(json.dumps([body_with(external_task_id=i) if i else body_with() for i in ids]))
    names = [line.split(":")[0].removeprefix("SHOT ") for line in done.text.splitlines() if line.startswith("SHOT")]
    assert names == ["castle", "shot-1", "shot-3", "shot-2", "shot-4", "shot-5", "shot-6"]


def test_an_envelope_keeps_its_names_scenes_title_and_axes() -> None:
    text = ('TITLE "Night"\nAXES official\nSCENE "A"\nSHOT one: pan right "x"\nSHOT two: "y"\n'
            'SCENE "B"\nSHOT three: "z"\n')
    first = compiled(text)
    done = back(json.dumps(first))
    assert done.text.splitlines()[:2] == ['TITLE "Night"', "AXES official"]
    assert 'SCENE "A"' in done.text and 'SCENE "B"' in done.text
    again = compiled(done.text)
    assert requests_of(again) == requests_of(first)
    assert (again["title"], again["axes"]) == ("Night", "official")


def test_records_are_reported_when_their_names_scenes_or_titles_cannot_be_kept() -> None:
    first = compiled('TITLE "One"\nSCENE "A"\nSHOT a: "x"\nSHOT b: "y"\n')
    first["shots"][1]["name"] = "A"  # a name already taken (names ignore case)
    second = compiled('TITLE "Two"\nSHOT c: "z"\n')  # no scene: null after scene A
    done = back(json.dumps([first, second]))
    said = [str(p) for p in done.problems]
    assert said == [
        "in.json: [1].title: a second title, \"Two\": a shot list has one TITLE",
        'in.json: [0].shots[1].name: "A" is not a free, safe shot name (one word of ASCII letters, digits, - and _, '
        "unique); written as shot-1",
        "in.json: [1].shots[0].scene: null after a SCENE: a shot list cannot end a scene",
    ]


def test_notes_go_back_where_the_compiler_takes_them_from() -> None:
    text = ('[[for the whole film]]\nSHOT a: "x" [[one]]\n    [[two]]\n'
            'SEQUENCE s: 5s model kling-v3 [[the sequence\'s]]\n    SHOT m: "y" [[a shot of it]]\n')
    first = compiled(text)
    done = back(json.dumps(first))
    assert done.problems == []
    assert done.text.splitlines()[0] == "[[for the whole film]]"
    assert 'SHOT a: "x" 5s\n    [[one]]\n    [[two]]\n' in done.text
    again = compiled(done.text)
    assert requests_of(again) == requests_of(first)
    assert [r.get("notes") for r in again["shots"]] == [["one", "two"], ["the sequence's", "a shot of it"]]
    assert again["notes"] == ["for the whole film"]


@pytest.mark.parametrize(("notes", "said"), [
    (["a  b"], '"a  b": a note is read as its words joined by one space'),
    ([""], '"": a note is read as its words joined by one space'),
    (["a ]] b"], '"a ]] b": a note ends at the first `]]`'),
    (["[a]"], '"[a]": a note ends at the first `]]`'),
    ([5], "5 is not text"),
])
def test_a_note_the_compiler_would_read_otherwise_is_reported(notes: list[Any], said: str) -> None:
    envelope = compiled('SHOT a: "x"\n')
    envelope["shots"][0]["notes"] = notes
    assert [p.said() for p in back(json.dumps(envelope)).problems] == [f"shots[0].notes[0]: {said}"]


@pytest.mark.parametrize(("fields", "line"), [
    # kling-v3 takes no camera_control by Kling's map: `moves auto` writes the move as words there.
    ({"model_name": "kling-v3", "prompt": "The camera pans slowly to the right. A castle"},
     'SHOT shot-1: slow pan right "A castle" 5s'),
    ({"model_name": "kling-v3", "camera": {"horizontal": 5}}, 'SHOT shot-1: slow pan right "A castle" 5s moves numeric'),
    ({"model_name": "kling-v1", "mode": "std", "camera": {"horizontal": 8},
      "prompt": "The camera pans fast to the right. A castle"},
     'SHOT shot-1: pan right 8 "A castle" 5s std moves both'),
    # The sentence says another strength than the numbers: it is the writer's text.
    ({"model_name": "kling-v1", "mode": "std", "camera": {"horizontal": 8},
      "prompt": "The camera pans slowly to the right. A castle"},
     'SHOT shot-1: pan right 8 "The camera pans slowly to the right. A castle" 5s std'),
    ({"model_name": "kling-v1", "mode": "std", "prompt": "The camera pans to the right. A castle"},
     'SHOT shot-1: pan right "A castle" 5s std moves words'),
])
def test_a_move_sent_as_words_or_both_is_read_back_with_how_it_is_sent(fields: dict[str, Any], line: str) -> None:
    body = body_with(fields.pop("camera", None), **fields)
    done = shot_list(body)
    assert shot_line(done) == line and done.problems == []
    assert json.loads(bodies_of(compiled(done.text))[0])[1] == normalised(body)  # the same request


# --- sequences -------------------------------------------------------------------------------


def test_a_sequence_reads_its_camera_words_back_out_of_its_prompts() -> None:
    text = (examples := ROOT / "examples" / "chase.shot").read_text()
    first = compiled(text, examples)
    done = back(json.dumps(first))
    assert "    SHOT alley: slow pan right \"A runner in a red jacket darts into a rain-soaked alley\" 4s" in done.text
    assert "SEQUENCE aftermath: 9s std sound on moves words" in done.text.splitlines()  # 3s each: shared out
    assert requests_of(compiled(done.text)) == requests_of(first)


@pytest.mark.parametrize(("prompt", "member"), [
    ("The camera zooms in fast. She lands", 'SHOT s-1: fast zoom in "She lands"'),
    ("The camera cranes up. She rises", 'SHOT s-1: dolly up "She rises"'),  # the move's own name
    ("The camera pushes in and tilts up. x", 'SHOT s-1: push in and up "x"'),
    ("A static shot, the camera locked off. x", 'SHOT s-1: static "x"'),
    ("the camera zooms in fast. x", 'SHOT s-1: "the camera zooms in fast. x"'),  # the compiler's has a capital
    ("fast zoom in: x", 'SHOT s-1: "fast zoom in: x"'),  # the words of shotlang before camera language
    ("The camera pans slowly to the right. ", 'SHOT s-1: "The camera pans slowly to the right. "'),
    ("The camera orbits left. x", 'SHOT s-1: "The camera orbits left. x"'),
    # The rest says the move: the compiler would not have put the sentence before it.
    ("The camera pans to the right. The camera pans right again", 'SHOT s-1: "The camera pans to the right. '
                                                                  'The camera pans right again"'),
])
def test_a_prompt_is_a_move_only_when_it_reads_as_the_compilers_words(prompt: str, member: str) -> None:
    body = {"model_name": "kling-v3", "duration": "4", "multi_shot": True, "shot_type": "customize",
            "multi_prompt": [{"index": 1, "prompt": prompt, "duration": "4"}], "external_task_id": "s"}
    done = shot_list(body)
    assert done.text.splitlines()[2] == f"    {member}"
    assert done.problems == []
    assert json.loads(bodies_of(compiled(done.text))[0])[1]["multi_prompt"][0]["prompt"] == prompt


# --- every example, and every input shape through the command --------------------------------


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.stem for e in EXAMPLES])
def test_every_example_compiles_back_to_the_same_requests(example: Path, tmp_path: Path) -> None:
    first = compiled(example.read_text(encoding="utf-8"), example)
    done = back(json.dumps(first), images=ImageFolder(tmp_path / "images", tmp_path), base_dir=tmp_path)
    assert done.problems == []
    (tmp_path / "back.shot").write_text(done.text, encoding="utf-8")
    again = json.loads(shotlang.compile_file(tmp_path / "back.shot").output.to_json())  # type: ignore[union-attr]
    assert requests_of(again) == requests_of(first)
    assert (again["title"], again["axes"]) == (first["title"], first["axes"])
    assert format_text(done.text, "back.shot", tmp_path).text == done.text


def test_images_in_base64_are_written_out_once_each_and_named(tmp_path: Path) -> None:
    harbour = ROOT / "examples" / "harbour.shot"
    first = compiled(harbour.read_text(), harbour)
    (tmp_path / "compiled.json").write_text(json.dumps(first))
    (tmp_path / "stills").mkdir()
    (tmp_path / "stills" / "dawn-pan-image.png").write_bytes(b"someone else's")
    done = run("decompile", "compiled.json", "-o", "film.shot", "--images", "stills", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    written = sorted(p.name for p in (tmp_path / "stills").iterdir())
    # harbour-dawn.png is used by three shots: one file; the file in the way is left alone.
    assert written == ["boat-leaves-motion-1.png", "dawn-pan-image-2.png", "dawn-pan-image.png",
                       "day-passes-tail.png", "net-mender-image.png"]
    assert (tmp_path / "stills" / "dawn-pan-image.png").read_bytes() == b"someone else's"
    assert (tmp_path / "film.shot").read_text().count('image "stills/dawn-pan-image-2.png"') == 3
    assert requests_of(compiled((tmp_path / "film.shot").read_text(), tmp_path / "film.shot")) == requests_of(first)


def test_without_images_base64_is_reported_under_the_file_name_to_give_it() -> None:
    done = run("decompile", "-", stdin=json.dumps(body_with(image=PICTURE, prompt="")))
    assert done.returncode == 1
    size = len(png(320, 320))
    assert done.stderr.splitlines()[0] == (
        f"<stdin>: image: a PNG image in Base64 ({size:,} bytes), which a shot list names by its file: written as "
        '"shot-1-image.png"; give --images FOLDER to write it there')
    assert 'image "shot-1-image.png"' in done.stdout


@pytest.mark.parametrize("shape", ["body", "list", "jsonl", "envelope", "envelope-jsonl", "envelopes"])
def test_every_input_shape_through_the_command(shape: str, tmp_path: Path) -> None:
    night = ROOT / "examples" / "night-city.shot"
    result = shotlang.compile_file(night)
    assert result.output is not None
    first = json.loads(result.output.to_json())
    data = {
        "body": json.dumps(first["shots"][0]["body"]),
        "list": json.dumps([r["body"] for r in first["shots"]], indent=2),
        "jsonl": "".join(json.dumps(r["body"]) + "\n" for r in first["shots"]),
        "envelope": result.output.to_json(),
        "envelope-jsonl": result.output.to_jsonl(),
        "envelopes": json.dumps([first, first]),
    }[shape]
    (tmp_path / "in.json").write_text(data)
    done = run("decompile", str(tmp_path / "in.json"))
    if shape == "envelopes":  # the same names twice: the second file's are renamed, and said
        assert done.returncode == 1
        assert done.stderr.splitlines()[0].startswith(f"{tmp_path / 'in.json'}: [1].shots[0].name: \"street\"")
        return
    assert done.returncode == 0, done.stderr
    again = compiled(done.stdout)
    count = 1 if shape == "body" else len(first["shots"])
    assert bodies_of(again) == bodies_of(first)[:count]
    if shape.startswith("envelope"):
        assert requests_of(again) == requests_of(first)


def test_standard_input_and_the_output_file(tmp_path: Path) -> None:
    envelope = json.dumps(compiled((ROOT / "examples" / "seed.shot").read_text()))
    to_stdout = run("decompile", "-", stdin=envelope)
    out = tmp_path / "made" / "seed.shot"
    (tmp_path / "made").mkdir()
    to_file = run("decompile", "-", "-o", str(out), stdin=envelope)
    assert to_stdout.returncode == to_file.returncode == 0
    assert to_file.stdout == "" and out.read_text() == to_stdout.stdout
    assert [p.name for p in out.parent.iterdir()] == ["seed.shot"]  # no temporary file left


def test_several_inputs_make_one_shot_list(tmp_path: Path) -> None:
    for name in ("seed", "lighthouse"):
        (tmp_path / f"{name}.json").write_text(json.dumps(compiled((ROOT / "examples" / f"{name}.shot").read_text())))
    done = run("decompile", str(tmp_path / "seed.json"), str(tmp_path / "lighthouse.json"))
    assert done.returncode == 1  # two titles; everything else is said
    assert done.stderr.splitlines() == [
        f'{tmp_path / "lighthouse.json"}: title: a second title, "The Keeper": a shot list has one TITLE',
        "1 thing the shot list does not say (listed above); the rest of 13 requests written",
    ]
    assert done.stdout.count("\nSHOT ") == 13


# --- what a shot list cannot say: reported with its JSON path, never dropped --------------------

CANNOT = [
    ({"camera_control": {"type": "simple", "config": {"horizontal": 5, "zoom": 2}}},
     "camera_control.config: two axes set (horizontal and zoom); a shot moves on one axis"),
    ({"camera_control": {"type": "simple", "config": {"zoom": 2.345}}},
     "camera_control.config.zoom: 2.345 has more than 2 decimal places, which a shot list cannot write"),
    ({"camera_control": {"type": "simple", "config": {"zoom": -11}}},
     "camera_control.config.zoom: -11 is out of range: a magnitude is above 0 and at most 10"),
    ({"camera_control": {"type": "simple", "config": {"zoom": 0}}},
     "camera_control.config: every field is 0: shotlang writes a still camera as no camera_control"),
    ({"camera_control": {"type": "simple", "config": {"zoom": True}}}, "camera_control.config.zoom: true is not a number"),
    ({"camera_control": {"type": "down_back", "config": {"zoom": 0}}},
     "camera_control.config: a preset (down_back) takes no config; shotlang sends none"),
    ({"camera_control": {"type": "orbit"}},
     'camera_control.type: "orbit" is not a camera type (simple, down_back, forward_up, right_turn_forward, '
     "left_turn_forward)"),
    ({"camera_control": {"type": ["forward_up"]}},
     'camera_control.type: ["forward_up"] is not a camera type (simple, down_back, forward_up, right_turn_forward, '
     "left_turn_forward)"),
    ({"frame_rate": 24}, "frame_rate: not a field of Kling's video requests that shotlang writes"),
    ({"my key": 1}, "[\"my key\"]: not a field of Kling's video requests that shotlang writes"),
    ({"shot_type": "intelligence"},
     'shot_type: "intelligence": the model cuts one prompt into shots; a SEQUENCE writes each shot ("customize" '
     "with multi_prompt)"),
    ({"mode": "turbo"}, 'mode: "turbo" is not "std" or "pro"'),
    ({"duration": "05"}, 'duration: "05": shotlang sends whole seconds from 1 to 600 as text, such as "5"'),
    ({"duration": 5}, 'duration: 5: shotlang sends whole seconds from 1 to 600 as text, such as "5"'),
    ({"image": URL, "aspect_ratio": "16:9"},
     "aspect_ratio: on an image-to-video request: shotlang sends an aspect ratio with text only (the image gives it)"),
    ({"image": "stills/a.png"}, "image: neither an http(s) URL nor a PNG or JPEG in Base64; written as it is, which "
                                "the compiler reads as a local file's path"),
    ({"prompt": "one\ntwo"},
     "prompt: holds a line break, which a shot list's strings cannot (a wrapped string reads it as a space)"),
    ({"negative_prompt": "\x1b[31m"},
     "negative_prompt: holds the control character `\\x1b` (ESC), which a shot list cannot (E002)"),
    ({"model_name": "Kling-V2-6"}, 'model_name: "Kling-V2-6": shotlang sends model names in lower case'),
    ({"model_name": "kling v2"}, 'model_name: "kling v2": a model name is one word without `:`, `"`, `#` or brackets'),
    ({"cfg_scale": 1.5}, "cfg_scale: 1.5 is not a number from 0 to 1"),
    ({"watermark_info": {"enabled": 1}}, "watermark_info.enabled: 1 is not true or false"),
    ({"voice_list": [{"voice_id": "a", "pitch": 2}]}, "voice_list[0].pitch: not a field of a voice"),
    ({"image": URL, "camera_control": None, "dynamic_masks": [{"mask": URL, "trajectories": [{"x": 1.5, "y": 0}]}]},
     "dynamic_masks[0].trajectories[0].x: 1.5 is not a whole number of pixels"),
    ({"multi_prompt": [{"index": 2, "prompt": "x", "duration": "5"}], "multi_shot": True, "shot_type": "customize",
      "prompt": None},
     "multi_prompt[0].index: 2: shotlang numbers the shots from 1 in order (1 here)"),
    ({"multi_prompt": [{"index": 1, "prompt": "x", "duration": "4"}], "multi_shot": True, "shot_type": "customize",
      "prompt": None},
     "duration: 5s, but its shots take 4s: a sequence's shots add up to its length"),
    ({"model_name": "kling-v1", "duration": "10", "camera_control": {"type": "simple", "config": {"zoom": 5}}},
     "does not compile: error[E401]: kling-v1 (set on line 1) has no camera control (`zoom in`) in std mode at 10s"),
]


@pytest.mark.parametrize(("fields", "said"), CANNOT, ids=[s.split(":")[0] for _, s in CANNOT])
def test_what_a_shot_list_cannot_say_is_reported_with_its_path(fields: dict[str, Any], said: str) -> None:
    done = shot_list(body_with(**fields))
    # The part, said once; the shot list's other errors of that request (a body that breaks a
    # rule besides: voices in std mode, say) are reported after it, never left out.
    assert [p.said() for p in done.problems][:1] == [said]
    assert all(p.said().startswith("does not compile") for p in done.problems[1:])
    if "does not compile" not in said:
        assert f"# decompile: {said}" in done.text.splitlines()  # and above its shot
    # The rest of the request is still written.
    assert done.text.splitlines()[-1].startswith(("SHOT shot-1:", "SEQUENCE shot-1:", "    SHOT shot-1-1:"))


def test_paths_name_the_record_in_an_envelope_and_the_line_in_json_lines() -> None:
    envelope = compiled('SHOT a: "x"\nSHOT b: "y"\nSHOT c: "z"\n')
    envelope["shots"][2]["body"]["camera_control"] = {"type": "simple", "config": {"horizontal": 5, "zoom": 2}}
    done = back(json.dumps(envelope))
    assert [str(p) for p in done.problems] == [
        "in.json: shots[2].body.camera_control.config: two axes set (horizontal and zoom); a shot moves on one axis"]
    lines = json.dumps(body_with()) + "\n\n" + json.dumps(body_with(foo=1)) + "\n"
    assert [str(p) for p in back(lines, "in.jsonl").problems] == [
        "in.jsonl:3: foo: not a field of Kling's video requests that shotlang writes"]


def test_an_endpoint_or_method_the_body_does_not_match_is_reported() -> None:
    envelope = compiled('SHOT a: "x"\n')
    envelope["shots"][0] |= {"endpoint": kling.IMAGE2VIDEO, "method": "PUT", "extra": 1}
    assert [p.said() for p in back(json.dumps(envelope)).problems] == [
        'shots[0].method: "PUT": shotlang\'s requests are POST',
        "shots[0].extra: not a key of shotlang's records",
        'shots[0].endpoint: "/v1/videos/image2video", but the body has no image: shotlang sends it to '
        "/v1/videos/text2video",
    ]


def test_a_key_given_twice_is_reported() -> None:
    done = back('{"model_name": "kling-v2-6", "prompt": "a", "prompt": "b", "duration": "5"}')
    assert [p.said() for p in done.problems] == ["prompt: given twice; the last is read (the API may read either)"]
    assert shot_line(done) == 'SHOT shot-1: "b" 5s'


def test_the_readings_that_keep_a_requests_meaning_are_not_reported() -> None:
    """null is a field left out; no model_name is the API's model; no duration is 5 s; a camera
    config's missing fields are 0; an image shot's empty prompt is no prompt (docs/cli.md)."""
    done = shot_list({"prompt": "", "image": URL, "negative_prompt": None})
    assert done.problems == []
    assert done.text == f'MODEL {kling.API_DEFAULT_MODEL}\nSHOT shot-1: "" image "{URL}"\n'
    assert json.loads(bodies_of(compiled(done.text))[0]) == [
        kling.IMAGE2VIDEO, {"model_name": kling.API_DEFAULT_MODEL, "image": URL, "duration": "5"}]
    done = shot_list({"model_name": "kling-v2-6", "prompt": "x", "camera_control": {"config": {"vertical": -3},
                                                                                     "type": "simple"}})
    assert done.problems == []
    assert json.loads(bodies_of(compiled(done.text))[0])[1]["camera_control"]["config"] == {
        "horizontal": 0, "vertical": -3, "zoom": 0, "roll": 0, "pan": 0, "tilt": 0}


def test_the_command_writes_the_rest_and_exits_1_when_something_is_not_said(tmp_path: Path) -> None:
    bodies = [body_with({"horizontal": 5, "zoom": 2}), body_with({"zoom": 5})]
    (tmp_path / "in.json").write_text(json.dumps(bodies))
    done = run("decompile", "in.json", "-o", "out.shot", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "in.json: [0].camera_control.config: two axes set (horizontal and zoom); a shot moves on one axis",
        "1 thing the shot list does not say (listed above); the rest of 2 requests written",
    ]
    assert (tmp_path / "out.shot").read_text() == (
        "MODEL kling-v2-6\n"
        "# decompile: [0].camera_control.config: two axes set (horizontal and zoom); a shot moves on one axis\n"
        'SHOT shot-1: "A castle" 5s\n'
        'SHOT shot-2: slow zoom in "A castle" 5s\n')


# --- bad input: one line, the file and where, exit 2, nothing written ------------------------


@pytest.mark.parametrize(("data", "said"), [
    (b'{"prompt": "x",\n  "duration": 5,,}', "bad.json:2:17: not JSON: Expecting property name enclosed in double quotes"),
    (b"", "bad.json: empty: no JSON in it"),
    (b"  \n", "bad.json: empty: no JSON in it"),
    (b'"a body"', "bad.json: text, not a request body, a list of them or an envelope"),
    (b'[{"prompt": "x"}, 5]', "bad.json: [1]: a number, not a request body, record or envelope"),
    (b'{"prompt": "x"}\n[1]\n', "bad.json:2: a list, not a request body or a record"),
    (b'{"prompt": "x"}\n{"prompt": \n', "bad.json:2:12: not JSON: Expecting value"),
    (b'{"cfg_scale": NaN}', "bad.json: not JSON: NaN is not a JSON number"),
    (b"[" * 100_000, "bad.json: not JSON: nested too deeply"),
    (b'{"a": "\xff"}', "bad.json:1:8: not UTF-8 text (invalid start byte)"),
    (b'{"shotlang_format": 2, "shots": []}', "bad.json: shotlang_format: 2: this shotlang reads envelopes of format 1"),
    (b'{"shotlang_format": 1, "shots": {}}', "bad.json: shots: an object, not a list of records"),
    (b'{"shotlang_format": 1, "shots": [{"name": "a"}]}', "bad.json: shots[0]: an object, not a record with a body"),
    (b'{"name": "a", "body": []}', "bad.json: body: a list, not a request body"),
])
def test_input_that_is_not_request_bodies_is_one_line_naming_where(data: bytes, said: str) -> None:
    with pytest.raises(Unreadable) as caught:
        read_payload(data, "bad.json")
    assert str(caught.value) == said


def test_utf16_with_its_mark_is_read() -> None:
    body = json.dumps(body_with()).encode("utf-16")
    assert shot_line(back(body)) == 'SHOT shot-1: "A castle" 5s'


def test_a_file_over_the_limit_is_not_read(tmp_path: Path) -> None:
    big = tmp_path / "big.json"
    with big.open("wb") as f:
        f.truncate(MAX_INPUT_BYTES + 1)  # sparse: no disk used, and refused before it is read
    with pytest.raises(Unreadable) as caught:
        read_input(str(big))
    assert str(caught.value) == f"{big}: larger than 512 MB; split it into several files"


def test_bad_input_through_the_command_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    (tmp_path / "good.json").write_text(json.dumps(body_with()))
    (tmp_path / "bad.json").write_text("{")
    done = run("decompile", "good.json", "bad.json", "missing.json", "-o", "out.shot", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "shotlang: bad.json:1:2: not JSON: Expecting property name enclosed in double quotes",
        "shotlang: cannot read missing.json: No such file or directory",
    ]
    assert done.stdout == "" and not (tmp_path / "out.shot").exists()
    unwritable = run("decompile", "good.json", "-o", "good.json/out.shot", cwd=tmp_path)
    assert unwritable.returncode == 2
    assert unwritable.stderr.startswith("shotlang: cannot write good.json/out.shot: ")


def test_check_does_not_load_the_decompiler() -> None:
    code = "import sys, shotlang.cli; assert 'shotlang.tools.decompile' not in sys.modules, 'loaded'"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_the_envelope_keys_read_are_those_compile_writes() -> None:
    """decompile names the envelope's keys itself; they are the schema's (docs/schema/)."""
    from shotlang.tools.decompile import ENVELOPE_KEYS
    from shotlang.tools.schema import envelope_schema

    assert list(ENVELOPE_KEYS) == list(envelope_schema()["properties"])


def test_payloads_are_plain_data() -> None:
    payload = read_payload(b'{"prompt": "x"}', "a.json")
    assert isinstance(payload, Payload) and payload.requests[0].body == {"prompt": "x"}


def test_the_example_in_the_cli_doc_is_real_output(tmp_path: Path) -> None:
    doc = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    found = re.search(r"\$ cat castle\.jsonl\n(.*?)\$ shotlang decompile castle\.jsonl\n(.*?)```", doc, re.DOTALL)
    assert found is not None
    (tmp_path / "castle.jsonl").write_text(found[1])
    done = run("decompile", "castle.jsonl", cwd=tmp_path)
    assert (done.returncode, done.stdout, done.stderr) == (0, found[2], "")


def test_a_camera_move_beside_an_end_frame_is_said_numeric_and_refused(tmp_path: Path) -> None:
    """Under `moves auto` an end frame sends the move as words (camera.excluded): a body that
    sends it numeric beside one is written `moves numeric`, which compile refuses (E400) and
    decompile reports; it once came back as words, a body other than the one read (found by
    the property above in CI)."""
    body = {"model_name": "kling-v2-6", "image_tail": "https://example.com/still.jpg", "mode": "pro",
            "camera_control": {"type": "simple", "config": {"horizontal": 5}}, "prompt": "A harbour"}
    done = shot_list(body, base_dir=tmp_path)
    assert "moves numeric" in done.text
    assert [p.message for p in done.problems] == [
        "does not compile: error[E400]: an end image (tail) cannot be combined with a camera move `pan right`"]
