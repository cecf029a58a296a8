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


# --- one typo, one diagnostic: at the typo, and nothing blamed on the shot list -------------------

# A project's models file and a shot list that uses its models, both right: the baseline.
STUDIO_MODELS = """\
[models.kling-v3-1]
like = "kling-v3"
source = "our own renders, 2026-11"
durations = { from = 3, to = 20 }
modes = ["std", "pro"]
features.sound = { modes = ["pro"], source = "verified", date = "2026-11-30", rendered = "pro 5s, sound on: it had sound" }
prices = { std-5s = 8, pro-5s = 12 }

[models.kling-v3-1-fast]
like = "kling-v3-1"
note = "the faster variant"
trust = ["official", "seed", "reported"]
"""
FILM = """\
SHOT opening: "a lighthouse at dusk, waves below" 20s pro model kling-v3-1 sound on
SHOT keeper: "the keeper climbs the stairs" 12s model kling-v3-1
SHOT storm: "rain lashes the lantern room" 18s pro model kling-v3-1-fast
"""
MODELS = "shotlang-models.toml"

# (what the typo is, the text it replaces, the typo, its one diagnostic: code and line, words of
# its message and help). Before each was read this way, most also drew an `unknown model` (E300)
# and an E303 at every shot using the model, or an E702 at an entry that was right.
TYPOS = [
    ("a misspelt key", "durations = {", "duratons = {", "E701", 4, "did you mean `durations`?"),
    ("a misspelt feature", "features.sound", "features.sond", "E701", 6, "did you mean `sound`?"),
    ("a misspelt mode", 'modes = ["std", "pro"]', 'modes = ["std", "prp"]', "E702", 5, "did you mean `pro`?"),
    ("a misspelt endpoint", 'modes = ["std", "pro"]', 'endpoints = ["text2video", "imag2video"]', "E702", 5,
     "did you mean `image2video`?"),
    ("a misspelt model name in a header others use", "[models.kling-v3-1]\n", "[models.kling-v3-l]\n", "E702", 1,
     "did you mean `kling-v3-1`? `kling-v3-1-fast` is `like` `kling-v3-1` (line 10)"),
    ("a misspelt base model", 'like = "kling-v3"\n', 'like = "kling-v33"\n', "E702", 2, "did you mean `kling-v3`?"),
    ("a misspelt `like`", 'like = "kling-v3"\n', 'lik = "kling-v3"\n', "E701", 2, "did you mean `like`?"),
    ("a model like itself", 'like = "kling-v3-1"', 'like = "kling-v3-1-fast"', "E702", 10, "is `like` itself"),
    ("a value of the wrong type", "durations = { from = 3, to = 20 }", 'durations = "3-20"', "E702", 4,
     "should be whole seconds"),
    ("a price of the wrong type", "std-5s = 8", 'std-5s = "8"', "E702", 7, "should be a number of credits"),
    ("a missing quote", 'renders, 2026-11"', "renders, 2026-11", "E700", 3, "not valid TOML"),
    ("a header's missing bracket", "[models.kling-v3-1]\n", "[models.kling-v3-1\n", "E700", 1, "not valid TOML"),
    ("a header's missing opening bracket", "[models.kling-v3-1]\n", "models.kling-v3-1]\n", "E700", 1,
     "not valid TOML"),
    ("an inline table's missing brace", "to = 20 }", "to = 20", "E700", 4, "not valid TOML"),
    ("a list's missing bracket", 'modes = ["std", "pro"]', 'modes = ["std",\n    "pro"', "E700", 7, "not valid TOML"),
    ("a misspelt claim's source", 'source = "verified"', 'source = "verifed"', "E702", 6, "did you mean `verified`?"),
    ("a misspelt source in `trust`", 'trust = ["official"', 'trust = ["oficial"', "E702", 12,
     "did you mean `official`?"),
    ("a misspelt `models`", "[models.kling-v3-1]\n", "[modles.kling-v3-1]\n", "E701", 1, "did you mean `models`?"),
]


def check_beside(tmp_path: Path, models_text: str) -> list[Diagnostic]:
    import shotlang

    (tmp_path / MODELS).write_text(models_text, encoding="utf-8")
    (tmp_path / "film.shot").write_text(FILM, encoding="utf-8")
    return shotlang.compile_file(tmp_path / "film.shot").diagnostics


def placed(diagnostics: list[Diagnostic]) -> list[tuple[str, str, int]]:
    return [(d.code, Path(d.span.source.name).name, d.span.line) for d in diagnostics]


def test_the_studio_models_file_and_its_shot_list_are_right(tmp_path):
    assert check_beside(tmp_path, STUDIO_MODELS) == []


@pytest.mark.parametrize(("right", "typo", "code", "line", "words"), [t[1:] for t in TYPOS], ids=[t[0] for t in TYPOS])
def test_one_typo_in_a_models_file_is_one_diagnostic_at_the_typo(tmp_path, right, typo, code, line, words):
    assert STUDIO_MODELS.count(right) == 1
    diagnostics = check_beside(tmp_path, STUDIO_MODELS.replace(right, typo))
    assert placed(diagnostics) == [(code, MODELS, line)], [render_text(d, d.span.source) for d in diagnostics]
    [only] = diagnostics
    assert words in only.message + " " + only.hint, only
    shown = render_text(only, only.span.source)
    assert f"{MODELS}:{line}:" in shown and "^" in shown


def test_a_model_whose_table_has_a_typo_keeps_the_rest_of_its_table(tmp_path):
    matrix, report = read(tmp_path, STUDIO_MODELS.replace('modes = ["std", "pro"]', 'modes = ["std", "prp"]'))
    assert [d.code for d in report] == ["E702"]
    model = matrix.models["kling-v3-1"]
    assert model.durations[-1] == "20" and model.anywhere("multi_shot")  # its own range, kling-v3's features
    assert matrix.price("kling-v3-1", "pro", "5") == (12.0, "")
    assert "pro" in model.modes and "turbo" in model.modes, "its modes are unknown: no shot is refused by them"
    assert matrix.models["kling-v3-1-fast"].durations[-1] == "20"


def test_a_models_file_that_is_not_toml_is_read_but_for_its_broken_line(tmp_path):
    broken = STUDIO_MODELS.replace("to = 20 }", "to = 20")
    matrix, report = read(tmp_path, broken)
    assert [(d.code, d.span.line) for d in report] == [("E700", 4)]
    model = matrix.models["kling-v3-1"]
    assert "20" in model.durations and "600" in model.durations  # the line that did not say what it meant
    assert model.durations[-1] == "15"  # listed, for messages, as what it is like
    assert matrix.price("kling-v3-1", "std", "5") == (8.0, "") and matrix.models["kling-v3-1-fast"].note
    # A table whose header has lost a bracket is still that model's.
    matrix, report = read(tmp_path, "[models.kling-v9\nlike = \"kling-v3\"\n\n[models.kling-v10]\nlike = \"kling-v9\"\n")
    assert [(d.code, d.span.line) for d in report] == [("E700", 1)]
    assert matrix.models["kling-v10"].durations[-1] == "15"


def test_a_misspelt_header_named_by_one_entry_is_reported_at_that_entry_and_both_names_work(tmp_path):
    text = STUDIO_MODELS.replace("[models.kling-v3-1]\n", "[models.kling-v3-l]\n").replace(
        "[models.kling-v3-1-fast]", "[models.studio-fast]")
    matrix, report = read(tmp_path, text)
    [d] = report
    assert (d.code, d.span.line) == ("E702", 10) and "`like` names `kling-v3-1`" in d.message
    assert "did you mean `kling-v3-l`?" in d.hint and "name it `kling-v3-1` there" in d.hint
    assert {"kling-v3-1", "kling-v3-l", "studio-fast"} <= set(matrix.names())
    assert matrix.models["studio-fast"].durations[-1] == "20"


def test_a_circle_of_likes_is_reported_once(tmp_path):
    _, report = read(tmp_path, '[models.a]\nlike = "b"\n[models.b]\nlike = "a"\n[models.c]\nlike = "a"\n')
    assert [(d.code, d.span.line) for d in report] == [("E702", 2)]


def test_a_source_with_verified_in_its_name_is_the_users_own(tmp_path):
    matrix, report = read(tmp_path, '[models.kling-v3]\nfeatures.camera = { source = "unverified" }\n')
    assert report == [] and matrix.models["kling-v3"].features["camera"].source == "unverified"


def test_check_says_a_typo_in_a_models_file_once(tmp_path):
    from runs import shotlang

    (tmp_path / MODELS).write_text(STUDIO_MODELS.replace("[models.kling-v3-1]\n", "[models.kling-v3-1\n"),
                                   encoding="utf-8")
    (tmp_path / "film.shot").write_text(FILM, encoding="utf-8")
    done = shotlang("check", str(tmp_path / "film.shot"), env={"SHOTLANG_MODELS": os.devnull})
    shown = done.stdout + done.stderr
    assert done.returncode == 1 and shown.count("error[") == 1, shown
    assert f"{MODELS}:1:" in shown and "error[E700]" in shown and "1 error" in shown
