"""Kling as it is (issue 19): its own capability map in the built-in matrix, cell by cell, and
camera moves that reach the screen on every model (`moves`).

The map is read from ../shared/kling-api.md (the restated "Video Models" table of Kling's API
reference, copy dated 2026-03) where that file is beside the checkout, else from the copy in
tests/data; where both are there they must be the same text.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from helpers import codes, compile_in
from runs import shotlang

from shotlang import compile_text
from shotlang.compiler import models
from shotlang.config import Credentials
from shotlang.engine.auth import make_token
from shotlang.testing import TEST_ACCESS_KEY, TEST_SECRET_KEY, FakeKling

HERE = Path(__file__).parent
SHARED = HERE.parent.parent / "shared" / "kling-api.md"
COPY = HERE / "data" / "kling-capability-map.md"
HEADING = "## Kling's own capability map"
CELLS = (("std", "5"), ("std", "10"), ("pro", "5"), ("pro", "10"))
# The map's words for what a row is about, as the matrix's features ("generation" is the model's
# own row: its endpoints, modes and durations). Motion control is not a feature of shotlang yet.
FEATURE_OF = {"generation": "generation", "camera control": "camera", "start/end frame": "image_tail",
              "motion brush": "masks", "voice control": "voice"}


def map_text() -> str:
    copy = COPY.read_text(encoding="utf-8")
    if SHARED.exists():
        text = SHARED.read_text(encoding="utf-8")
        start = text.index(HEADING)
        shared = text[start:text.index("\n## ", start + 1) + 1]
        assert shared == copy, "tests/data/kling-capability-map.md is not the section of ../shared/kling-api.md"
    return copy


def map_rows() -> list[tuple[str, str, str, str, str, str]]:
    """(model, endpoint, feature, mode, seconds, cell) for every cell of the map's table."""
    found = []
    for line in map_text().splitlines():
        parts = [p.strip() for p in line.strip().strip("|").split("|")]
        if len(parts) != 6 or not parts[0].startswith("kling-"):
            continue
        names, what, cells = parts[0], parts[1], parts[2:]
        where, _, feature = what.partition(": ")
        if not feature:  # `text2video` alone: the endpoint is not offered; `voice control`: both
            where, feature = (what, "generation") if what.endswith("video") else ("text2video and image2video", what)
        feature = feature.split(" (")[0].split(",")[0].strip()
        if feature not in FEATURE_OF:
            continue
        for model in names.split(", "):
            for endpoint in where.split(" and "):
                for (mode, seconds), cell in zip(CELLS, cells, strict=True):
                    found.append((model, endpoint, FEATURE_OF[feature], mode, seconds, cell))
    return found


ROWS = map_rows()


def official(model: models.Model, feature: str, endpoint: str, mode: str, seconds: str) -> bool:
    kind = "simple" if feature == "camera" else None
    said = [says for claim, says in model.claims(feature, endpoint, mode, seconds, kind) if claim.source == "official"]
    assert said, f"{model.name} {feature}: no claim of Kling's own reference"
    return said[0]


def test_the_map_is_read_whole() -> None:
    assert len(ROWS) == 4 * 28, len(ROWS)  # 28 rows, once a row of several models or endpoints is one each
    assert {r[0] for r in ROWS} == {"kling-v1", "kling-v1-5", "kling-v1-6", "kling-v2-master", "kling-v2-1-master",
                                    "kling-v2-1", "kling-v2-5-turbo", "kling-v2-6"}
    assert {r[2] for r in ROWS} == set(FEATURE_OF.values())


@pytest.mark.parametrize("row", ROWS, ids=["/".join(r[:5]) for r in ROWS])
def test_every_cell_of_kling_map_is_the_matrix_official_claim(row: tuple[str, str, str, str, str, str]) -> None:
    name, endpoint, feature, mode, seconds, cell = row
    model = models.built_in().models[name]
    renders = endpoint in model.endpoints and mode in model.modes and seconds in model.durations
    if feature == "generation":
        if cell == "":  # the model has one mode: the column is not its
            assert mode not in model.modes
            return
        assert renders == cell.startswith("✅"), (name, endpoint, mode, seconds, cell)
        if cell.endswith("without audio"):
            assert not official(model, "sound", endpoint, mode, seconds)
        elif cell == "✅" and name == "kling-v2-6":
            assert official(model, "sound", endpoint, mode, seconds)
        return
    if not renders:
        assert cell in ("–", ""), (name, endpoint, mode, seconds, cell)
        return
    assert official(model, feature, endpoint, mode, seconds) == cell.startswith("✅"), row
    if cell.endswith("without audio"):
        assert "sound" in model.excludes(feature, endpoint, mode, seconds)


def test_kling_v3_and_no_other_model_outside_the_table_is_as_the_text_under_it_says() -> None:
    text = map_text()
    assert "voice control ❌" in text and "No model other than kling-v1 and kling-v1-5 has a camera-control row" in text
    v3 = models.built_in().models["kling-v3"]
    assert v3.durations == tuple(str(s) for s in range(3, 16)) and v3.modes == ("std", "pro")
    for endpoint in ("text2video", "image2video"):
        assert not official(v3, "voice", endpoint, "pro", "5")
        assert not official(v3, "camera", endpoint, "pro", "5")
    assert official(v3, "image_tail", "image2video", "std", "5")
    for model in models.built_in().models.values():
        if model.name not in ("kling-v1", "kling-v1-5"):
            assert not any(official(model, "camera", e, m, d)
                           for e in model.endpoints for m in model.modes for d in model.durations), model.name


# --- `moves`: how a camera move reaches the screen --------------------------------------------


def only(text: str) -> dict[str, Any]:
    result = compile_text(text)
    assert result.ok, result.render()
    [record] = result.output.records
    return record


def test_slow_pan_right_on_kling_v3_goes_as_words_at_the_start_of_the_prompt() -> None:
    record = only('SHOT a: slow pan right over "A castle at dawn" model kling-v3\n')
    assert "camera_control" not in record["body"]
    assert record["body"]["prompt"] == "The camera pans slowly to the right. A castle at dawn"
    assert record["moves"] == "words"


def test_kling_v1_std_5s_text_to_video_sends_camera_control() -> None:
    record = only('SHOT a: slow pan right over "A castle" model kling-v1 std 5s\n')
    assert record["body"]["camera_control"] == {"type": "simple", "config": {
        "horizontal": 5, "vertical": 0, "zoom": 0, "roll": 0, "pan": 0, "tilt": 0}}
    assert record["body"]["prompt"] == "A castle" and record["moves"] == "numeric"
    # Its 10 s cell has none: the move goes as words there.
    ten = only('SHOT a: slow pan right over "A castle" model kling-v1 std 10s\n')
    assert "camera_control" not in ten["body"] and ten["moves"] == "words"


def test_moves_both_sends_camera_control_and_the_words() -> None:
    record = only('SHOT a: slow pan right over "A door" model kling-v1 std moves both\n')
    assert record["body"]["camera_control"]["config"]["horizontal"] == 5
    assert record["body"]["prompt"] == "The camera pans slowly to the right. A door"
    assert record["moves"] == "both"


def test_moves_off_sends_nothing_and_numeric_where_no_source_offers_is_an_error() -> None:
    record = only('SHOT a: slow pan right over "A castle" model kling-v3 moves off\n')
    assert record["body"]["prompt"] == "A castle" and "camera_control" not in record["body"]
    assert "moves" not in record
    result = compile_text('SHOT a: slow pan right over "A castle" model kling-v1 10s moves numeric\n')
    [error] = [d for d in result.diagnostics if d.severity == "error"]
    assert error.code == "E401" and "`moves words`" in error.hint


def test_a_move_the_prompt_says_already_is_not_said_twice() -> None:
    record = only('SHOT a: pan right "The camera pans to the right over a castle" model kling-v3\n')
    assert record["body"]["prompt"] == "The camera pans to the right over a castle"
    assert record["moves"] == "words"


def test_the_prompt_limit_counts_the_words_added() -> None:
    prompt = "x" * 2490
    assert compile_text(f'SHOT a: "{prompt}" model kling-v3\n').ok
    result = compile_text(f'SHOT a: slow pan right over "{prompt}" model kling-v3\n')
    assert "E306" in codes(result), result.render()
    assert compile_text(f'SHOT a: slow pan right over "{prompt}" model kling-v3 moves off\n').ok


def test_numeric_moves_are_refused_on_a_sequence() -> None:
    result = compile_text('SEQUENCE s: model kling-v3 moves numeric\n'
                          '  SHOT a: pan right "x" 5s\n  SHOT b: "y" 5s\n')
    assert codes(result)[0] == "E316", result.render()


def test_kling_v2_6_takes_an_end_image_only_without_sound() -> None:
    line = 'SHOT a: "x" image "https://e.com/a.png" tail "https://e.com/b.png" model kling-v2-6 pro'
    assert compile_text(line + "\n").ok
    result = compile_text(line + " sound on\n")
    assert "E407" in codes(result) and any("without sound" in d.message + d.hint for d in result.diagnostics)


def test_a_scene_gives_its_options_to_its_shots_until_the_next_scene() -> None:
    result = compile_text('MODEL kling-v1\nSCENE "EXT. DAY" moves words\n'
                          'SHOT a: pan right "x" std 5s\nSHOT b: pan right "y" std 5s moves numeric\n'
                          'SCENE "INT. NIGHT"\nSHOT c: pan right "z" std 5s\n'
                          'SCENE "EXT. DUSK" moves off\nDEFAULTS moves both\nSHOT d: pan right "w" std 5s\n')
    assert result.ok, result.render()
    assert [r.get("moves") for r in result.output.records] == ["words", "numeric", "numeric", "both"]
    result = compile_text('SCENE "EXT. DAY" id "x"\nSHOT a: "x"\n')
    assert codes(result) == ["E313"] and "SCENE" in result.diagnostics[0].message


# --- disputes: said once, settled by the user ---------------------------------------------------


def test_disputes_are_one_warning_per_shot_list_naming_both_sources() -> None:
    result = compile_text("".join(f'SHOT s{n}: pan right "x" model kling-v3\n' for n in range(5)))
    assert result.ok
    [warning] = result.diagnostics
    assert warning.code == "W108" and warning.message.startswith("5 shots rely on what the sources dispute")
    assert "Kling's reference (2026-03)" in warning.message and "the seed" in warning.message
    assert "`moves words`" in warning.hint and len(warning.related) == 4
    assert codes(compile_text('SHOT a: pan right "x" model kling-v3 moves words\n')) == []


def test_a_verified_claim_settles_a_cell_and_needs_its_date_and_render(tmp_path: Path) -> None:
    (tmp_path / "shotlang-models.toml").write_text(
        '[models.kling-v3]\nfeatures.camera = { endpoints = ["text2video"], source = "verified", '
        'date = "2026-11-30", rendered = "task 8831: pan right 5 panned right" }\n', encoding="utf-8")
    result = compile_in(tmp_path, 'SHOT a: pan right "x" model kling-v3\n')
    assert result.ok and codes(result) == [], result.render()
    assert result.output.records[0]["moves"] == "numeric"
    (tmp_path / "shotlang-models.toml").write_text(
        '[models.kling-v3]\nfeatures.camera = { source = "verified" }\n', encoding="utf-8")
    assert "E702" in codes(compile_in(tmp_path, 'SHOT a: "x" model kling-v3\n'))


def test_shotlang_models_shows_each_disputed_cell_with_both_claims() -> None:
    text = shotlang("models").stdout
    assert "Where the sources disagree" in text
    rows = json.loads(shotlang("models", "--format", "json").stdout)
    v3 = next(r for r in rows["models"] if r["name"] == "kling-v3") if isinstance(rows, dict) else \
        next(r for r in rows if r["name"] == "kling-v3")
    camera = v3["features"]["camera"]
    assert camera["disputed"] and {c["source"] for c in camera["claims"]} >= {"official", "seed", "reported"}


# --- prices -----------------------------------------------------------------------------------


def test_plan_prices_kling_v3_pro_10s_with_sound_from_its_own_row(tmp_path: Path) -> None:
    film = tmp_path / "film.shot"
    film.write_text('SHOT a: "A storm at sea" model kling-v3 pro 10s sound on\n'
                    'SHOT b: "A calm sea" model kling-v3 std 10s\n', encoding="utf-8")
    plan = json.loads(shotlang("plan", str(film), "--json").stdout)
    a, b = plan["shots"]
    assert (a["credits"], a["audio"], a["price_known"]) == (12, "sound", True)
    assert (b["credits"], b["audio"]) == (6, None)
    assert plan["credits"] == 18


def test_max_cost_refuses_to_guess_a_price_no_one_knows(tmp_path: Path) -> None:
    film = tmp_path / "film.shot"
    film.write_text('SHOT a: "x" model kling-v2-1-master\nSHOT b: "y" model kling-v2-6 pro\n', encoding="utf-8")
    plan = json.loads(shotlang("plan", str(film), "--json").stdout)
    assert plan["unpriced_shots"] == ["a"] and plan["shots"][0]["price_known"] is False
    assert "unknown" in shotlang("plan", str(film)).stdout
    with FakeKling(polls=1) as fake:
        done = shotlang("run", str(film), "--max-cost", "100", env=fake.env())
        assert done.returncode != 0 and "no price is known for a" in done.stderr, done.stderr
        assert fake.stats.creates == 0
    (tmp_path / "shotlang-models.toml").write_text(
        '[models.kling-v2-1-master]\nprices = { std-5s = 4 }\n', encoding="utf-8")
    plan = json.loads(shotlang("plan", str(film), "--json", cwd=tmp_path).stdout)
    assert plan["unpriced_shots"] == [] and plan["shots"][0]["credits"] == 4


# --- the local server, as shotlang's matrix or as Kling's map only ------------------------------


def post(fake: FakeKling, endpoint: str, body: dict[str, Any]) -> httpx.Response:
    token, _ = make_token(Credentials(TEST_ACCESS_KEY, TEST_SECRET_KEY), time.time())
    return httpx.post(f"{fake.url}/v1/videos/{endpoint}", json=body, timeout=10,
                      headers={"Authorization": f"Bearer {token}"})


PAN = {"type": "simple", "config": {"horizontal": 0, "vertical": 0, "zoom": 0, "roll": 0, "pan": 0, "tilt": 0}}
PAN["config"]["horizontal"] = 5  # type: ignore[index]


def camera_cells() -> list[tuple[str, str, str, str]]:
    return [(m.name, e, mode, d) for m in models.built_in().models.values() for e in m.endpoints
            for mode in m.modes for d in m.durations]


@pytest.mark.slow
def test_the_official_only_server_takes_camera_control_exactly_where_kling_map_lists_it() -> None:
    matrix = models.built_in()
    with FakeKling(polls=1, official_only=True) as strict, FakeKling(polls=1) as lenient:
        for name, endpoint, mode, seconds in camera_cells():
            body = {"model_name": name, "prompt": "x", "mode": mode, "duration": seconds, "camera_control": PAN}
            if endpoint == "image2video":
                body["image"] = "https://example.com/start.png"
            answer = post(strict, endpoint, body)
            listed = official(matrix.models[name], "camera", endpoint, mode, seconds)
            assert (answer.status_code == 200) == listed, (name, endpoint, mode, seconds, answer.text)
            if not listed:
                assert answer.status_code == 400 and answer.json()["code"] == 1201
            offered = matrix.models[name].offered_by_any("camera", endpoint, mode, seconds, "simple")
            assert (post(lenient, endpoint, body).status_code == 200) == offered, (name, endpoint, mode, seconds)
        paid = strict.stats.creates
    assert paid == 2  # kling-v1 std 5 s text-to-video, kling-v1-5 pro 5 s image-to-video


def test_the_seeds_payloads_are_refused_by_the_official_only_server_and_taken_by_default() -> None:
    seed = {"model_name": "kling-v1-6", "prompt": "A castle", "mode": "pro", "duration": "5", "camera_control": PAN}
    with FakeKling(polls=1, official_only=True) as strict:
        answer = post(strict, "text2video", seed)
        assert answer.status_code == 400 and answer.json()["code"] == 1201 and "camera_control" in answer.text
        assert strict.stats.creates == 0
    with FakeKling(polls=1) as lenient:
        assert post(lenient, "text2video", seed).status_code == 200 and lenient.stats.creates == 1


def test_the_server_command_takes_the_official_only_switch() -> None:
    done = shotlang("fake-server", "--help")
    if done.returncode != 0:
        import subprocess
        import sys
        done = subprocess.run([sys.executable, "-m", "shotlang.testing", "--help"], capture_output=True, text=True,
                              timeout=60)
    assert "--official-only" in done.stdout, done.stdout + done.stderr


def test_every_claim_names_its_source_and_the_official_ones_their_date() -> None:
    for model in models.built_in().models.values():
        for feature, offer in model.features.items():
            for claim in offer.claims:
                assert claim.source in models.SOURCES, (model.name, feature, claim)
                if claim.source == "official":
                    assert re.fullmatch(r"\d{4}-\d{2}(-\d{2})?", claim.date), (model.name, feature, claim)


def test_fmt_writes_a_scenes_options_in_the_tables_order_and_keeps_them() -> None:
    from shotlang.tools.fmt import format_text

    text = 'SCENE   "EXT. QUAY"  moves words   10s\nSHOT a: pan right "x"\n'
    formatted = format_text(text).text
    assert formatted.splitlines()[0] == 'SCENE "EXT. QUAY" 10s moves words'
    assert format_text(formatted).text == formatted
    assert compile_text(formatted).output.records[0]["moves"] == "words"  # type: ignore[union-attr]


def test_plan_says_the_total_leaves_out_the_shots_without_a_price_and_which_moves_go_as_words(tmp_path: Path) -> None:
    film = tmp_path / "film.shot"
    film.write_text('SHOT a: "x" model kling-v2-1-master\n'
                    'SHOT b: slow pan right "y" model kling-v3 pro 10s sound on\n', encoding="utf-8")
    done = shotlang("plan", str(film))
    assert done.returncode == 0, done.stderr
    rows = {line.split()[0]: line.split() for line in done.stdout.splitlines()[1:3]}
    assert rows["a"][-2:] == ["-", "unknown"] and rows["b"][-3:] == ["sound", "words", "12"]
    assert "estimated cost: at least 12 credits" in done.stdout
    assert "moves as words: b" in done.stdout


def test_the_storyboard_says_how_each_move_is_sent(tmp_path: Path) -> None:
    film = tmp_path / "film.shot"
    film.write_text('SHOT v3: slow pan right "A bay" model kling-v3\n'
                    'SHOT v1: slow pan right "A bay" model kling-v1 std 5s\n'
                    'SHOT hedged: slow pan right "A bay" model kling-v1 std 5s moves both\n'
                    'SHOT quiet: slow pan right "A bay" model kling-v3 moves off\n', encoding="utf-8")
    done = shotlang("storyboard", str(film), "-o", str(tmp_path / "board.html"))
    assert done.returncode == 0, done.stderr
    page = (tmp_path / "board.html").read_text(encoding="utf-8")
    cards = {name: page[page.index(f'id="shot-{name}"'):] for name in ("v3", "v1", "hedged", "quiet")}
    assert "sent as words in the prompt" in cards["v3"].split("</article>")[0]
    assert "sent as camera_control.config.horizontal = 5<" in cards["v1"].split("</article>")[0]
    assert "sent as camera_control.config.horizontal = 5, and as words in the prompt" in \
        cards["hedged"].split("</article>")[0]
    assert "not sent (`moves off`)" in cards["quiet"].split("</article>")[0]
    assert "The camera pans slowly to the right. A bay" in cards["v3"].split("</article>")[0]


def test_the_storyboard_says_the_disputes_once_above_the_cards(tmp_path: Path) -> None:
    film = tmp_path / "film.shot"
    film.write_text('SHOT a: pan right "A bay" model kling-v2-6\nSHOT b: tilt up "A cliff" model kling-v2-6\n',
                    encoding="utf-8")
    done = shotlang("storyboard", str(film), "-o", str(tmp_path / "board.html"))
    assert done.returncode == 0, done.stderr
    page = (tmp_path / "board.html").read_text(encoding="utf-8")
    header = page[page.index("<header>"):page.index("</header>")]
    assert header.count("W108: 2 shots rely on what the sources dispute") == 1
    assert page.count("W108") == 1  # not on a card as well


# --- what an adversarial pass found -------------------------------------------------------------


def test_a_model_line_indented_under_a_scene_is_still_a_statement() -> None:
    result = compile_text('SCENE "X"\n    MODEL kling-v3\n    SHOT a: "A castle"\nSCENE "Y"\n    SHOT b: "A hall"\n')
    assert result.ok, result.render()
    assert [r["body"]["model_name"] for r in result.output.records] == ["kling-v3", "kling-v3"]


@pytest.mark.parametrize(("move", "prompt"), [
    ("push in on", "Soldiers move in on the farmhouse"),
    ("slow pan right over", "A frying pan right beside the stove"),
    ("pull back from", "She does not pull back from the edge"),
])
def test_a_prompt_that_uses_a_moves_words_of_something_else_still_gets_the_move(move: str, prompt: str) -> None:
    record = only(f'SHOT a: {move} "{prompt}" model kling-v3\n')
    assert record["body"]["prompt"].startswith("The camera ") and record["body"]["prompt"].endswith(prompt)


def test_moves_both_still_relies_on_the_dispute_and_is_warned() -> None:
    result = compile_text('SHOT a: slow pan right over "A castle" model kling-v2-6 moves both\n')
    assert codes(result) == ["W108"] and "`moves words`" in result.diagnostics[0].hint
    assert "`moves both`" not in result.diagnostics[0].hint


def test_a_trust_that_leaves_a_source_out_believes_it_last_and_a_misspelt_source_is_refused(tmp_path: Path) -> None:
    (tmp_path / "shotlang-models.toml").write_text('[models.kling-v2-6]\ntrust = ["seed"]\n', encoding="utf-8")
    result = compile_in(tmp_path, 'SHOT a: pan right "x"\n')
    assert result.output.records[0]["moves"] == "numeric", result.render()  # the seed, believed first
    assert "the seed yes, Kling's reference (2026-03) no" in result.diagnostics[0].message
    for text in ('[models.kling-v2-6]\ntrust = ["offical", "seed"]\n',
                 '[models.kling-v2-6]\nfeatures.camera = { offered = false, source = "offical" }\n'):
        (tmp_path / "shotlang-models.toml").write_text(text, encoding="utf-8")
        result = compile_in(tmp_path, 'SHOT a: "x"\n')
        [error] = [d for d in result.diagnostics if d.severity == "error"]
        assert error.code == "E702" and "did you mean `official`?" in error.hint, error
    (tmp_path / "shotlang-models.toml").write_text(
        '[models.kling-v3]\nfeatures.camera = { source = "verified", date = 2026-11-30, rendered = "x" }\n',
        encoding="utf-8")
    [error] = compile_in(tmp_path, 'SHOT a: "x"\n').diagnostics
    assert "the date `2026-11-30` (put it in quotes)" in error.message


def test_an_end_frame_sends_the_move_as_words_under_auto_and_relies_on_no_dispute() -> None:
    result = compile_text('SHOT e: slow zoom in "A door" image "https://e.com/a.jpg" tail "https://e.com/b.jpg" pro\n')
    assert result.ok and codes(result) == [], result.render()
    body = result.output.records[0]["body"]
    assert "camera_control" not in body and body["prompt"] == "The camera zooms in slowly. A door"


def test_a_sequence_under_a_numeric_default_still_says_its_moves_go_as_words() -> None:
    result = compile_text('MODEL kling-v3\nDEFAULTS moves numeric\nSEQUENCE s: 10s\n'
                          '  SHOT a: pan right "x"\n  SHOT b: "y"\n')
    assert result.ok and codes(result) == ["W107"], result.render()


def test_decompile_keeps_a_text_prompt_that_is_only_a_moves_sentence_and_a_sequences_moves_words(
        tmp_path: Path) -> None:
    from shotlang.tools.decompile import decompile, read_payload

    for text in ('SHOT c: "The camera pans slowly to the right." model kling-v3\n',
                 'MODEL kling-v3\nSEQUENCE s: 10s moves words\n  SHOT a: pan right "x"\n  SHOT b: "y"\n'):
        first = compile_text(text)
        assert first.ok, first.render()
        back = decompile([read_payload(first.output.to_json().encode(), "in.json")])
        again = compile_text(back.text)
        assert again.ok and codes(again) == [], (back.text, again.render())
        assert [r["body"] for r in again.output.records] == [r["body"] for r in first.output.records]
