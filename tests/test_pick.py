"""`shotlang pick`: the chosen take written into the shot list, nothing else in it moved."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from runs import run, shotlang

from shotlang.testing import FakeKling
from shotlang.tools.pick import NotPicked, pick_text

LIST = '''TITLE "t"  # the title
SHOT a: "A castle" takes 3  # three to choose from
SHOT b: slow pan right over "A quay"
    5s takes 2 [[the long one]]
SEQUENCE s: 10s takes 2 model kling-v3
    SHOT s1: "one"
    SHOT s2: "two"
'''


@pytest.mark.parametrize(("shot", "take", "line", "written"), [
    ("a", 2, 2, 'SHOT a: "A castle" takes 3 pick 2  # three to choose from'),
    ("b", 2, 3, '    5s takes 2 pick 2 [[the long one]]'),
    ("s", 2, 5, 'SEQUENCE s: 10s takes 2 model kling-v3 pick 2'),
    ("a", 5, 2, 'SHOT a: "A castle" takes 5 pick 5  # three to choose from'),  # a take --force added
])
def test_only_the_statement_of_the_shot_changes(tmp_path: Path, shot: str, take: int, line: int, written: str) -> None:
    picked = pick_text(LIST, shot, take, "t.shot", tmp_path, recorded=5)
    before, after = LIST.splitlines(), picked.text.splitlines()
    changed = [i for i, (x, y) in enumerate(zip(before, after, strict=True)) if x != y]
    assert len(changed) == 1 and after[changed[0]] == written
    assert picked.line == line


def test_a_pick_already_there_gets_its_new_number(tmp_path: Path) -> None:
    once = pick_text(LIST, "a", 2, "t.shot", tmp_path).text
    twice = pick_text(once, "a", 3, "t.shot", tmp_path).text
    assert 'SHOT a: "A castle" takes 3 pick 3  # three' in twice
    assert pick_text(twice, "a", 3, "t.shot", tmp_path).text == twice


@pytest.mark.parametrize(("shot", "take", "said"), [
    ("a", 4, "`a` has 3 takes"),
    ("s1", 1, "a shot of the sequence `s`"),
    ("zz", 1, "no shot `zz`"),
    ("A", 9, "has 3 takes"),
])
def test_what_cannot_be_picked_is_said(tmp_path: Path, shot: str, take: int, said: str) -> None:
    with pytest.raises(NotPicked, match=said):
        pick_text(LIST, shot, take, "t.shot", tmp_path)


def test_a_shot_list_with_errors_is_left_alone(tmp_path: Path) -> None:
    with pytest.raises(NotPicked, match="has errors"):
        pick_text(LIST + "SHOT a: \"again\"\n", "a", 2, "t.shot", tmp_path)


def test_pick_through_the_cli_finds_the_shot_list_and_arranges_the_files(fake: FakeKling, tmp_path: Path) -> None:
    film = tmp_path / "film.shot"
    film.write_text('SHOT castle: "A castle" takes 2\n', encoding="utf-8")
    (tmp_path / "other.shot").write_text('SHOT quay: "A quay"\n', encoding="utf-8")
    assert run(fake, film).returncode == 0
    one, two = (tmp_path / "castle.mp4").read_bytes(), (tmp_path / "castle.take-2.mp4").read_bytes()
    done = shotlang("pick", "castle", "2", env=fake.env(), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert film.read_text() == 'SHOT castle: "A castle" takes 2 pick 2\n'
    assert (tmp_path / "castle.mp4").read_bytes() == two and (tmp_path / "castle.take-1.mp4").read_bytes() == one
    assert run(fake, film).returncode == 0 and fake.stats.creates == 2  # nothing made again
    bad = shotlang("pick", "castle", "3", env=fake.env(), cwd=tmp_path)
    assert bad.returncode == 2 and "has 2 takes" in bad.stderr and "Traceback" not in bad.stderr
    assert shotlang("pick", "nowhere", "1", cwd=tmp_path).returncode == 2


def test_a_move_cut_short_by_a_crash_is_finished(fake: FakeKling, tmp_path: Path) -> None:
    film = tmp_path / "film.shot"
    film.write_text('SHOT castle: "A castle" takes 2\n', encoding="utf-8")
    assert run(fake, film).returncode == 0
    assert shotlang("pick", str(film), "castle", "2").returncode == 0
    # As a crash after a move's link and its state, before its unlink, leaves it: a second link.
    os.link(tmp_path / "castle.mp4", tmp_path / "castle.take-2.mp4")
    done = run(fake, film)
    assert done.returncode == 0, done.stdout + done.stderr
    shots = json.loads((tmp_path / "film.shot.state.json").read_text())["shots"]
    assert (shots["castle.take-2"]["file"], shots["castle"]["file"]) == ("castle.mp4", "castle.take-1.mp4")
    assert not (tmp_path / "castle.take-2.mp4").exists() and fake.stats.creates == 2


def test_a_changed_shot_s_new_takes_take_their_names_and_the_old_ones_are_kept_aside(
        fake: FakeKling, tmp_path: Path) -> None:
    film = tmp_path / "film.shot"
    film.write_text('SHOT castle: "A castle" takes 2\n', encoding="utf-8")
    assert run(fake, film).returncode == 0
    old = {n: (tmp_path / n).read_bytes() for n in ("castle.mp4", "castle.take-2.mp4")}
    film.write_text('SHOT castle: "A big castle" takes 2\n', encoding="utf-8")
    done = run(fake, film)
    assert done.returncode == 0, done.stdout + done.stderr
    shots = json.loads((tmp_path / "film.shot.state.json").read_text())["shots"]
    assert (shots["castle"]["file"], shots["castle.take-2"]["file"]) == ("castle.mp4", "castle.take-2.mp4")
    kept = {p.read_bytes() for p in tmp_path.glob("castle.superseded*.mp4")}
    assert kept == set(old.values())  # the paid takes of the earlier request, moved aside, never deleted
    refused = shotlang("pick", str(film), "castle", "3")  # no third take of this request
    assert refused.returncode == 2 and "has 2 takes" in refused.stderr


def test_force_past_the_last_take_is_refused_before_anything_is_sent(fake: FakeKling, tmp_path: Path) -> None:
    film = tmp_path / "film.shot"
    film.write_text('SHOT castle: "A castle" takes 9\n', encoding="utf-8")
    assert run(fake, film).returncode == 0 and fake.stats.creates == 9
    done = run(fake, film, "--force", "castle")
    assert done.returncode == 2 and "it has 9 takes" in done.stderr and fake.stats.creates == 9


def test_a_force_whose_take_was_pending_but_not_recorded_pays_once(fake: FakeKling, tmp_path: Path) -> None:
    film = tmp_path / "film.shot"
    film.write_text('SHOT castle: "A castle"\n', encoding="utf-8")
    assert run(fake, film).returncode == 0
    path = tmp_path / "film.shot.state.json"
    state = json.loads(path.read_text())
    state["pending_force"] = {"castle": 2}  # a kill after the pending mark, before the take's record
    path.write_text(json.dumps(state))
    done = run(fake, film, "--force", "castle")
    assert done.returncode == 0, done.stdout + done.stderr
    assert fake.stats.creates == 2 and sorted(json.loads(path.read_text())["shots"]) == ["castle", "castle.take-2"]


def test_a_file_of_the_writers_own_is_never_moved(fake: FakeKling, tmp_path: Path) -> None:
    film = tmp_path / "film.shot"
    film.write_text('SHOT castle: "A castle" takes 2 pick 2\n', encoding="utf-8")
    (tmp_path / "castle.mp4").write_bytes(b"my own cut")
    done = run(fake, film)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "castle.mp4").read_bytes() == b"my own cut"
    assert "castle.mp4 is none of its takes, and stays" in done.stderr


def test_plan_and_max_cost_count_every_take(fake: FakeKling, tmp_path: Path) -> None:
    film = tmp_path / "film.shot"
    film.write_text('DEFAULTS takes 2\nSHOT a: "A castle" model kling-v2-6\nSHOT b: "A quay" model kling-v2-6 takes 3\n',
                    encoding="utf-8")
    planned = json.loads(shotlang("plan", str(film), "--json").stdout)
    assert planned["generations"] == 5 and [p["shot"] for p in planned["shots"]] == [
        "a", "a.take-2", "b", "b.take-2", "b.take-3"]
    one = planned["shots"][0]["credits"]
    assert planned["credits"] == pytest.approx(5 * one)
    refused = run(fake, film, "--max-cost", str(4 * one))
    assert refused.returncode == 2 and "over --max-cost" in refused.stderr and fake.stats.creates == 0
    assert run(fake, film, "--max-cost", str(5 * one)).returncode == 0 and fake.stats.creates == 5


def test_takes_and_pick_are_decompiled_back(tmp_path: Path) -> None:
    from shotlang.compiler.pipeline import compile_text
    from shotlang.tools.decompile import decompile, read_payload

    text = 'SHOT a: "A castle" takes 3 pick 2\nSEQUENCE s: 10s model kling-v3 takes 2\n    SHOT s1: "one"\n'
    out = compile_text(text, tmp_path / "t.shot").output
    assert out is not None
    back = decompile([read_payload(out.to_json().encode(), "t.json")], base_dir=tmp_path)
    assert back.problems == [] and "takes 3 pick 2" in back.text and "takes 2" in back.text
    again = compile_text(back.text, tmp_path / "t.shot").output
    assert again is not None and [(r.get("takes"), r.get("pick")) for r in again.records] == [(3, 2), (2, None)]
