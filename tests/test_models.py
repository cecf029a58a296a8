"""The capability matrix: the built-in table, models files over it, and their diagnostics."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from shotlang.compiler import kling, models
from shotlang.compiler.diagnostics import Diagnostic, render_text


def read(tmp_path: Path, text: str, name: str = "shotlang-models.toml") -> tuple[models.Matrix, list[Diagnostic]]:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    report: list[Diagnostic] = []
    return models.read([path], report), report


def test_the_built_in_table_has_every_model_the_api_names_and_kling_v3():
    matrix = models.built_in()
    for name in ("kling-v1", "kling-v1-5", "kling-v1-6", "kling-v2-master", "kling-v2-1", "kling-v2-1-master",
                 "kling-v2-5-turbo", "kling-v2-6", "kling-v3"):
        assert name in matrix, name
    v3 = matrix.models["kling-v3"]
    assert v3.durations == tuple(str(s) for s in range(3, 16))
    assert v3.text2video and v3.image2video
    assert v3.offers("multi_shot", kling.TEXT2VIDEO, "std", "15")
    assert not matrix.models["kling-v2-6"].offers("multi_shot", kling.TEXT2VIDEO, "pro", "5")
    assert kling.DEFAULT_MODEL in matrix


def test_the_seeds_rule_and_kling_map_are_both_kept_and_each_model_believes_one():
    matrix = models.built_in()
    v1, v1_6 = matrix.models["kling-v1"], matrix.models["kling-v1-6"]
    # kling-v1 came before the seed: Kling's map is believed (std 5 s text-to-video only).
    assert v1.combinations("camera", kling.TEXT2VIDEO, "simple") == [("std", "5")]
    assert not v1.offers("camera", kling.IMAGE2VIDEO, "std", "5", "simple")
    said = {c.source: yes for c, yes in v1.claims("camera", kling.TEXT2VIDEO, "std", "5", "simple")}
    assert said == {"official": True, "seed": False, "reported": False} or said == {"official": True, "seed": False}
    assert matrix.models["kling-v1-5"].combinations("camera", kling.IMAGE2VIDEO, "simple") == [("pro", "5")]
    assert not matrix.models["kling-v1-5"].offers("camera", kling.IMAGE2VIDEO, "pro", "5", "down_back")
    # kling-v1-6 is of the seed's time: the seed's "v1.6+" is believed, the map's "no" kept beside it.
    assert v1_6.offers("camera", kling.TEXT2VIDEO, "std", "5", "simple")
    assert v1_6.features["camera"].source == "seed"
    assert [c.source for c in v1_6.disputed("camera", kling.TEXT2VIDEO, "std", "5", "simple")] == ["official"]


def test_each_fact_says_where_it_comes_from():
    for row in models.rows(models.built_in()):
        for feature, offer in row["features"].items():
            assert offer["source"], (row["name"], feature)
            assert set(offer["source"]) <= set(models.SOURCES), (row["name"], feature, offer["source"])


def test_a_price_is_the_models_own_for_its_mode_length_and_sound_or_unknown():
    matrix = models.built_in()
    assert matrix.price("kling-v1", "std", "5") == (1.0, "")
    assert matrix.price("kling-v1", "pro", "10") == (7.0, "")
    # kling-v3 is priced per second, by mode and sound (Kling's price list).
    assert matrix.price("kling-v3", "std", "3") == (pytest.approx(1.8), "")
    assert matrix.price("kling-v3", "pro", "15") == (pytest.approx(12.0), "")
    assert matrix.price("kling-v3", "pro", "10", "sound") == (pytest.approx(12.0), "")
    # kling-v2-6: std cheaper than pro, sound dearer than none; never kling-v2-master's prices.
    assert matrix.price("kling-v2-6", "pro", "10") == (5.0, "")
    assert matrix.price("kling-v2-6", "std", "5") == (1.5, "")
    assert matrix.price("kling-v2-6", "pro", "5", "sound") == (5.0, "")
    # No price guessed: not from a length of its own (no pro rata), nor from another model.
    assert matrix.price("kling-v1", "std", "7") is None
    assert matrix.price("kling-v2-1-master", "std", "5") is None
    assert matrix.price("no-such-model", "std", "5") is None


def test_a_project_file_adds_a_model_like_another(tmp_path):
    matrix, report = read(tmp_path, """
[models.kling-v3-1]
like = "kling-v3"
source = "our own renders, 2026-11"
durations = { from = 3, to = 20 }
prices = { std-5s = 4, pro-5s = 8 }
""")
    assert report == []
    model = matrix.models["kling-v3-1"]
    assert model.durations[-1] == "20" and model.anywhere("multi_shot")
    assert model.origin == f"{tmp_path / 'shotlang-models.toml'}:2"
    assert matrix.price("kling-v3-1", "pro", "5") == (8.0, "")
    assert matrix.price("kling-v3-1", "pro", "10") is None  # its own prices: kling-v3's are not its
    assert matrix.source_of("kling-v3") == models.BUILT_IN


def test_the_compile_result_carries_the_matrix_its_checks_used(tmp_path):
    """What acts on a compiled file (`run`'s plans and prices) takes the matrix the checks read,
    not a second reading that a models file changed in between would make different."""
    import shotlang

    (tmp_path / "shotlang-models.toml").write_text(
        '[models.kling-v3-1]\nlike = "kling-v3"\nsource = "ours"\nprices = { std-5s = 4 }\n', encoding="utf-8")
    (tmp_path / "a.shot").write_text('SHOT a: "x" model kling-v3-1\n', encoding="utf-8")
    result = shotlang.compile_file(tmp_path / "a.shot")
    assert result.ok and result.models is not None
    (tmp_path / "shotlang-models.toml").write_text("", encoding="utf-8")  # changed after the compile
    assert result.models.price("kling-v3-1", "std", "5") == (4.0, "")
    assert "models" not in result.model_dump()  # the Python API's output is unchanged


def test_a_later_file_overrides_one_entry_and_keeps_the_rest(tmp_path):
    user = tmp_path / "user.toml"
    user.write_text('[models.kling-v2-5-turbo]\nfeatures.image_tail = true\n', encoding="utf-8")
    project = tmp_path / "shotlang-models.toml"
    project.write_text('[models.kling-v2-5-turbo]\nprices = { std-5s = 2.5 }\n', encoding="utf-8")
    report: list[Diagnostic] = []
    matrix = models.read([user, project], report)
    assert report == []
    turbo = matrix.models["kling-v2-5-turbo"]
    assert turbo.offers("image_tail", kling.IMAGE2VIDEO, "std", "10")
    assert turbo.features["cfg"].ignored  # untouched: still the built-in entry
    assert matrix.price("kling-v2-5-turbo", "std", "5") == (2.5, "")
    assert turbo.changed == (f"{user}:1", f"{project}:1")


def test_the_files_that_apply_are_the_users_then_the_one_beside_the_shot_list(tmp_path):
    (tmp_path / "config" / "shotlang").mkdir(parents=True)
    user = tmp_path / "config" / "shotlang" / "models.toml"
    user.write_text("", encoding="utf-8")
    films = tmp_path / "films"
    films.mkdir()
    env = {"XDG_CONFIG_HOME": str(tmp_path / "config")}
    assert models.model_files(films, env) == [user]
    (films / "shotlang-models.toml").write_text("", encoding="utf-8")
    assert models.model_files(films, env) == [user, films / "shotlang-models.toml"]
    # $SHOTLANG_MODELS naming a file that is not there is read (and reported: E700), not ignored.
    assert models.model_files(films, {"SHOTLANG_MODELS": str(tmp_path / "none.toml"),
                                      "XDG_CONFIG_HOME": str(tmp_path / "config")}) == [
        tmp_path / "none.toml", films / "shotlang-models.toml"]
    _, problems = models.for_folder(films, {"SHOTLANG_MODELS": str(tmp_path / "none.toml")})
    assert [p.code for p in problems] == ["E700"] and "SHOTLANG_MODELS" in problems[0].hint


BAD_FILES = [
    ("[models.kling-v3\n", "E700", 1, "not valid TOML"),
    ('[models.kling-v9]\ndurashuns = ["5"]\n', "E701", 2, "unknown key `durashuns`"),
    ('[models.kling-v9]\nmodes = ["fast"]\n', "E702", 2, "unknown mode `fast`"),
    ('[models.kling-v9]\ndurations = { from = 15, to = 3 }\n', "E702", 2, "is not from one whole number"),
    ('[models.kling-v9]\nfeatures.sound = "maybe"\n', "E702", 2, "should be true, false"),
    ('[models.kling-v9]\nfeatures.sound = { modes = ["pro"], when = "always" }\n', "E701", 2, "unknown key `when`"),
    ('[models.kling-v9]\nfeatures.camera = { types = ["dolly"] }\n', "E702", 2, "unknown camera type `dolly`"),
    ('[models.kling-v9]\nfeatures.smell = true\n', "E701", 2, "unknown key `smell`"),
    ('[models.kling-v9]\nlike = "kling-v4"\n', "E702", 2, "names `kling-v4`, which is not a model"),
    ('[models.a]\nlike = "b"\n[models.b]\nlike = "a"\n', "E702", 2, "is `like` itself"),
    ('[models.kling-v9]\nprices = { std-5s = "cheap" }\n', "E702", 2, "should be a number of credits"),
    ('[models.kling-v9]\nprices = { turbo-5s = 1 }\n', "E702", 2, "is not a price slot"),
    ('[models."Kling V9"]\n', "E702", 1, "is not a model name"),
    ('[modles.kling-v9]\n', "E701", 1, "unknown key `modles`"),
]


@pytest.mark.parametrize(("text", "code", "line", "words"), BAD_FILES, ids=[b[1] + "-" + b[3] for b in BAD_FILES])
def test_a_bad_models_file_is_a_diagnostic_at_its_line(tmp_path, text, code, line, words):
    _, report = read(tmp_path, text)
    assert [d.code for d in report][:1] == [code], report
    first = report[0]
    assert words in first.message, first.message
    assert first.span.line == line
    assert first.span.source.name.endswith("shotlang-models.toml")
    shown = render_text(first, first.span.source)
    assert f"shotlang-models.toml:{line}:" in shown and "^" in shown and "help:" in shown


def test_the_caret_is_under_the_key_inside_an_inline_table(tmp_path):
    _, report = read(tmp_path, '[models.kling-v9]\nfeatures.sound = { modes = ["pro"], wen = "x" }\n')
    [d] = report
    assert d.span.source.text[d.span.start:d.span.end] == "wen"
    assert "did you mean `when`" not in d.hint and "`modes`" in d.hint


@pytest.mark.slow
def test_a_long_chain_of_likes_is_followed_without_recursion(tmp_path):
    chain = "".join(f'[models.m{i}]\nlike = "m{i - 1}"\n' for i in range(1, 3000))
    matrix, report = read(tmp_path, '[models.m0]\nlike = "kling-v3"\n' + chain)
    assert report == []
    assert matrix.models["m2999"].anywhere("multi_shot")


def test_an_unreadable_models_file_is_a_diagnostic(tmp_path):
    path = tmp_path / "shotlang-models.toml"
    path.write_bytes(b"\xff\xfe\x00bad")
    report: list[Diagnostic] = []
    models.read([path], report)
    assert [d.code for d in report] == ["E700"]


def test_the_json_rows_are_plain_data_for_tools():
    rows = list(models.rows(models.built_in()))
    json.dumps(rows)  # nothing that is not JSON
    v3 = next(r for r in rows if r["name"] == "kling-v3")
    assert v3["defined_in"] == models.BUILT_IN
    assert {"endpoint": "text2video", "mode": "std", "duration": "15"} in v3["features"]["multi_shot"]["offered"]
    cfg = v3["features"]["cfg"]
    assert cfg["disputed"] and {c["source"] for c in cfg["claims"]} == {"official", "reported"}
    turbo = next(r for r in rows if r["name"] == "kling-v2-5-turbo")
    assert {o["mode"] for o in turbo["features"]["image_tail"]["offered"]} == {"pro"}


# --- `shotlang models` and models files through the real CLI ------------------------------------


def test_shotlang_models_prints_the_table_and_where_each_row_comes_from(tmp_path):
    from runs import shotlang

    nobody = {"SHOTLANG_MODELS": "", "XDG_CONFIG_HOME": str(tmp_path / "config")}  # no user's models file
    done = shotlang("models", cwd=tmp_path, env=nobody)
    assert done.returncode == 0, done.stderr
    assert "kling-v3" in done.stdout and "3s–15s" in done.stdout
    assert "Models files read: none" in done.stdout
    (tmp_path / "shotlang-models.toml").write_text('[models.kling-v9]\nlike = "kling-v3"\nsource = "ours"\n',
                                                    encoding="utf-8")
    (tmp_path / "film.shot").write_text('SHOT a: "x" 12s model kling-v9\n', encoding="utf-8")
    done = shotlang("models", str(tmp_path / "film.shot"))
    assert done.returncode == 0, done.stderr
    assert f"kling-v9           {tmp_path / 'shotlang-models.toml'}:1 (ours)" in done.stdout
    rows = json.loads(shotlang("models", str(tmp_path), "--format", "json", env=nobody).stdout)
    assert rows["files"] == [str(tmp_path / "shotlang-models.toml")]
    [v9] = [m for m in rows["models"] if m["name"] == "kling-v9"]
    assert v9["durations"][-1] == "15" and v9["source"] == "ours"
    compiled = json.loads(shotlang("compile", str(tmp_path / "film.shot")).stdout)
    assert compiled["shots"][0]["body"]["model_name"] == "kling-v9"


def test_a_bad_models_file_stops_models_and_compile_with_its_place(tmp_path):
    from runs import shotlang

    (tmp_path / "shotlang-models.toml").write_text('[models.kling-v9]\nlike = "kling-v3"\nmodez = ["std"]\n',
                                                    encoding="utf-8")
    (tmp_path / "film.shot").write_text('SHOT a: "x" model kling-v9\n', encoding="utf-8")
    for args in (("models", str(tmp_path)), ("compile", str(tmp_path / "film.shot")),
                 ("check", str(tmp_path / "film.shot"))):
        done = shotlang(*args)
        assert done.returncode == 1, (args, done.stdout, done.stderr)
        shown = done.stdout + done.stderr
        assert "error[E701]: unknown key `modez`" in shown and "shotlang-models.toml:3:1" in shown, shown
        assert "did you mean `modes`?" in shown and "Traceback" not in shown


def test_the_users_models_file_is_read_under_the_projects(tmp_path):
    from runs import shotlang

    user = tmp_path / "user-models.toml"
    user.write_text('[models.kling-v9]\nlike = "kling-v3"\ndurations = ["4"]\n', encoding="utf-8")
    films = tmp_path / "films"
    films.mkdir()
    (films / "film.shot").write_text('SHOT a: "x" 6s model kling-v9\n', encoding="utf-8")
    done = shotlang("check", str(films / "film.shot"), env={"SHOTLANG_MODELS": str(user)})
    assert done.returncode == 1 and "kling-v9 has no 6s clips" in done.stdout + done.stderr
    (films / "shotlang-models.toml").write_text('[models.kling-v9]\ndurations = ["6"]\n', encoding="utf-8")
    done = shotlang("check", str(films / "film.shot"), env={"SHOTLANG_MODELS": str(user)})
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_config_files_prices_win_slot_by_slot():
    from shotlang.config import Config
    from shotlang.engine.runner import Shot, plan_shots
    from shotlang.engine.state import Store

    matrix = models.built_in().with_prices({"kling-v3": {("pro", "5", ""): 12.0}})
    assert matrix.price("kling-v3", "pro", "5") == (12.0, "")
    assert matrix.price("kling-v3", "pro", "15") == (pytest.approx(12.0), "")  # its price per second still
    assert models.built_in().price("kling-v3", "pro", "5") == (pytest.approx(4.0), ""), "the built-in is untouched"
    config = Config(prices={"kling-v3": {("pro", "5", ""): 12.0}})
    shot = Shot("a", kling.TEXT2VIDEO, {"model_name": "kling-v3", "mode": "pro", "duration": "5", "prompt": "x"})
    [plan] = plan_shots([shot], Store.read(Path("/nonexistent/a.state.json"), "a.shot"), Path("/nonexistent"), config)
    assert (plan.credits, plan.price_published) == (12.0, True)  # the user's own price: not assumed


def test_the_matrix_a_folder_gets_is_read_again_when_a_file_changes_in_place(tmp_path):
    path = tmp_path / "shotlang-models.toml"
    path.write_text("[models.kling-v9]\nlike = \"kling-v3\"\nprices = { std-5s = 1 }\n", encoding="utf-8")
    env = {"SHOTLANG_MODELS": os.devnull}
    first, _ = models.for_folder(tmp_path, env)
    stat = path.stat()
    path.write_text("[models.kling-v9]\nlike = \"kling-v3\"\nprices = { std-5s = 2 }\n", encoding="utf-8")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # same size, same time: only the bytes differ
    second, _ = models.for_folder(tmp_path, env)
    assert first.price("kling-v9", "std", "5") == (1.0, "") and second.price("kling-v9", "std", "5") == (2.0, "")
    assert models.for_folder(tmp_path, env)[0] is second, "unchanged files are parsed once"
    with pytest.raises(TypeError):
        second.models["kling-v9"].prices[("std", "5")] = 100  # type: ignore[index]
    with pytest.raises(TypeError):
        second.models["kling-v1"] = second.models["kling-v9"]  # type: ignore[index]
