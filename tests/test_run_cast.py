"""`run` with a cast: each element made once, before the shots that name it, and reused."""

from __future__ import annotations

import json
import os
import shutil
import signal
from pathlib import Path

import pytest
from runs import EXAMPLES, kill_run_after, run, shotlang, start_run, wait_for

from shotlang.compiler import kling
from shotlang.testing import FakeKling
from shotlang.testing.server import Fault

TWO = """MODEL kling-v3-omni
CAST keeper: "a lighthouse keeper" image "images/keeper.png" also "images/keeper-side.png"
CAST dog: "a sheepdog" image "images/dog.png" also "images/dog-side.png"
SHOT a: "@keeper climbs the stairs, @dog behind" 5s
SHOT b: "@dog sleeps by the lamp" 5s
SHOT c: "@keeper lights the lamp" 5s model kling-v3 image "images/harbour-dusk.png"
SHOT d: "The sea at night" 5s
"""


def _folder(tmp_path: Path, text: str = TWO, name: str = "film.shot") -> Path:
    if not (tmp_path / "images").exists():
        shutil.copytree(EXAMPLES / "images", tmp_path / "images")
    (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path / name


def _elements(fake: FakeKling) -> list[dict]:
    return [body for endpoint, body in fake.created() if endpoint == kling.ELEMENTS]


def test_each_element_is_made_once_and_the_shots_name_it_by_its_id(fake: FakeKling, tmp_path: Path) -> None:
    film = _folder(tmp_path)
    done = run(fake, film)
    assert done.returncode == 0, done.stderr
    elements = _elements(fake)
    assert sorted(e["element_name"] for e in elements) == ["dog", "keeper"]
    assert fake.stats.creates == 2 + 4  # two elements, four shots
    ids = {t["task_result"]["elements"][0]["element_name"]: t["task_result"]["elements"][0]["element_id"]
           for t in fake.tasks() if t.get("task_result", {}).get("elements")}
    shots = {body["prompt"]: body for endpoint, body in fake.created() if endpoint != kling.ELEMENTS}
    a = shots["<<<element_1>>> climbs the stairs, <<<element_2>>> behind"]
    assert a["element_list"] == [{"element_id": ids["keeper"]}, {"element_id": ids["dog"]}]
    assert shots["<<<element_1>>> sleeps by the lamp"]["element_list"] == [{"element_id": ids["dog"]}]
    c = shots["<<<element_1>>> lights the lamp"]
    assert c["element_list"] == [{"element_id": ids["keeper"]}] and "image" in c  # kling-v3 image2video
    assert "element_list" not in shots["The sea at night"]
    # The elements were done before any shot naming them was sent (the server refuses otherwise).
    state = json.loads((tmp_path / "film.shot.state.json").read_text())
    assert {n: s["element_id"] for n, s in state["shots"].items() if n.startswith("@")} == {
        "@keeper": ids["keeper"], "@dog": ids["dog"]}
    assert "dog" in done.stdout and "keeper" in done.stdout

    again = run(fake, film)
    assert again.returncode == 0, again.stderr
    assert fake.stats.creates == 6  # a re-run pays nothing and makes no element


def test_a_changed_cast_member_is_made_again_and_its_shots_only_are_sent_again(fake: FakeKling, tmp_path: Path) -> None:
    film = _folder(tmp_path)
    assert run(fake, film).returncode == 0
    film.write_text(TWO.replace('"a sheepdog"', '"a black sheepdog"'), encoding="utf-8")
    planned = shotlang("plan", str(film), "--json", env=fake.env())
    assert planned.returncode == 0, planned.stderr
    plan = json.loads(planned.stdout)
    assert {p["shot"]: p["action"] for p in plan["shots"]} == {"a": "changed", "b": "changed", "c": "unchanged",
                                                                "d": "unchanged"}
    assert plan["cast"] == [{"cast": "keeper", "action": "unchanged", "reused": False},
                            {"cast": "dog", "action": "changed", "reused": False}]
    assert run(fake, film).returncode == 0
    assert fake.stats.creates == 6 + 1 + 2  # the dog again, and a and b


def test_another_shot_list_in_the_folder_reuses_the_elements(fake: FakeKling, tmp_path: Path) -> None:
    film = _folder(tmp_path)
    assert run(fake, film).returncode == 0
    other = _folder(tmp_path, TWO.replace("SHOT a:", "SHOT a2:").replace("SHOT b:", "SHOT b2:")
                    .replace("SHOT c:", "SHOT c2:").replace("SHOT d:", "SHOT d2:").replace("5s", "10s"), "trailer.shot")
    planned = shotlang("plan", str(other), env=fake.env())
    assert "made by another shot list here: reused" in planned.stdout
    done = run(fake, other)
    assert done.returncode == 0, done.stderr
    assert len(_elements(fake)) == 2  # made once for the folder
    assert fake.stats.creates == 6 + 4


def test_a_failed_element_holds_back_its_shots_only_and_a_rerun_makes_it(fake: FakeKling, tmp_path: Path) -> None:
    film = _folder(tmp_path)
    fake.inject(Fault("fail_task", on="create", message="the images show no one", match='"element_name":"dog"'))
    done = run(fake, film)
    assert done.returncode != 0
    assert "@dog" in done.stdout and "no element" in done.stdout
    made = {body.get("prompt") for endpoint, body in fake.created() if endpoint != kling.ELEMENTS}
    assert made == {"<<<element_1>>> lights the lamp", "The sea at night"}  # a and b wait for the dog
    again = run(fake, film)
    assert again.returncode == 0, again.stderr
    assert sorted(e["element_name"] for e in _elements(fake)) == ["dog", "dog", "keeper"]
    assert fake.stats.creates == 2 + 2 + 1 + 2  # the keeper and the failed dog, c and d; the dog again, a and b


@pytest.mark.parametrize("after", [1, 2, 3, 4, 5, 6])
def test_a_kill_9_at_any_point_then_a_rerun_makes_each_element_and_pays_each_shot_once(
        fake: FakeKling, tmp_path: Path, after: int) -> None:
    film = _folder(tmp_path)
    fake.inject(Fault("hold", times=None, match='"model_name"'))  # the videos stay in flight until the kill
    kill_run_after(fake, film, after, "--concurrency", "4")
    fake.clear_faults()
    fake.release()
    done = run(fake, film)
    assert done.returncode == 0, done.stdout + done.stderr
    assert sorted(e["element_name"] for e in _elements(fake)) == ["dog", "keeper"]
    assert fake.stats.creates == 6
    assert all(n == 1 for n in fake.stats.by_external_id.values())
    assert {p.name for p in tmp_path.glob("*.mp4")} == {"a.mp4", "b.mp4", "c.mp4", "d.mp4"}


def test_an_element_whose_answer_is_lost_is_found_again_not_made_twice(fake: FakeKling, tmp_path: Path) -> None:
    film = _folder(tmp_path)
    fake.inject(Fault("lose", on="create", match='"element_name":"keeper"'))
    done = run(fake, film)
    assert done.returncode == 0, done.stdout + done.stderr
    assert sorted(e["element_name"] for e in _elements(fake)) == ["dog", "keeper"]
    assert fake.stats.creates == 6


def test_a_shot_whose_task_the_api_forgot_is_sent_again_with_the_element_ids(fake: FakeKling, tmp_path: Path) -> None:
    film = _folder(tmp_path)
    fake.inject(Fault("hold", times=None, match="sleeps by the lamp"))
    process = start_run(fake, film)
    wait_for(lambda: any("sleeps" in b.get("prompt", "") for _, b in fake.created()))
    os.kill(process.pid, signal.SIGKILL)
    process.communicate(timeout=10)
    fake.clear_faults()
    [lost] = [t["task_id"] for t in fake.tasks() if t.get("task_status") and
              any("sleeps" in b.get("prompt", "") and b.get("external_task_id") == t["task_info"].get("external_task_id")
                  for _, b in fake.created())]
    fake.forget(lost)
    done = run(fake, film)
    assert done.returncode == 0, done.stdout + done.stderr
    sent = [b for _, b in fake.created() if "sleeps" in b.get("prompt", "")]
    assert sent and all(not str(e["element_id"]).startswith("@") for b in sent for e in b["element_list"])


def test_elements_take_no_slot_of_the_account(fake: FakeKling, tmp_path: Path) -> None:
    film = _folder(tmp_path)
    fake.inject(Fault("hold", times=None, match='"element_name"'))  # the elements stay in the making
    process = start_run(fake, film, "--concurrency", "1")
    try:
        # `d` names nobody: it is made while the elements are not
        wait_for(lambda: any(b.get("prompt") == "The sea at night" for _, b in fake.created()))
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.communicate(timeout=10)


@pytest.mark.parametrize("answer", [{}, {"element_id": None}, {"element_id": 1.5}, {"element_id": True},
                                    {"element_id": {"id": 1}}, {"element_id": "../x"}, {"element_id": "x" * 300}])
def test_an_element_answer_without_a_usable_id_fails_that_element_and_a_rerun_makes_it_again(
        fake: FakeKling, tmp_path: Path, answer: dict) -> None:
    film = _folder(tmp_path)
    fake.element_answer = lambda task: [answer] if "keeper" in str(task.body.get("element_name")) else None
    done = shotlang("run", str(film), "--poll-interval", "0.05", "--retry-base", "0.01", "--timeout", "20",
                    env=fake.env())
    assert done.returncode != 0
    assert "no element id shotlang can use" in done.stdout
    sent = [b for _, b in fake.created() if "element_list" in b]
    assert all(e["element_id"] != answer.get("element_id") for b in sent for e in b["element_list"])
    fake.element_answer = None
    again = run(fake, film)
    assert again.returncode == 0, again.stdout + again.stderr
    assert sorted(e["element_name"] for e in _elements(fake)) == ["dog", "keeper", "keeper"]


def test_an_element_answered_with_another_s_id_is_not_used(fake: FakeKling, tmp_path: Path) -> None:
    film = _folder(tmp_path)
    fake.element_answer = lambda task: [{"element_id": "el-same", "element_name": task.body["element_name"]}]
    done = run(fake, film)
    assert done.returncode != 0 and "which another cast member has" in done.stdout
    named = [e["element_id"] for _, b in fake.created() if "element_list" in b for e in b["element_list"]]
    assert len(set(named)) <= 1  # whichever came first; never one member's id for the other


def test_force_makes_an_element_again(fake: FakeKling, tmp_path: Path) -> None:
    film = _folder(tmp_path)
    assert run(fake, film).returncode == 0
    done = run(fake, film, "--force", "@dog")
    assert done.returncode == 0, done.stdout + done.stderr
    assert sorted(e["element_name"] for e in _elements(fake)) == ["dog", "dog", "keeper"]
    assert fake.stats.creates == 7  # the element only: the shots that name it keep their videos


def test_a_fifo_or_a_device_beside_the_shot_list_is_not_read(fake: FakeKling, tmp_path: Path) -> None:
    film = _folder(tmp_path)
    os.mkfifo(tmp_path / "other.shot.state.json")
    (tmp_path / "zero.shot.state.json").symlink_to("/dev/zero")
    planned = shotlang("plan", str(film), env=fake.env(), timeout=20)
    assert planned.returncode == 0, planned.stderr
