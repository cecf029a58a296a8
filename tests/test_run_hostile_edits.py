"""What a writer's edits between runs and a hostile server must never cost: a video of another
body saved as done, a take paid twice. Each test runs the real CLI against the local Kling
server, counts what was paid (creates) and checks the disk and the state file; every video the
server renders ends with its prompt, so a wrong video shows on disk."""

from __future__ import annotations

import json
import os
import re
import signal
import time
from pathlib import Path
from typing import Any

import pytest
from runs import FAST, run, shotlang, start_run, wait_for

from shotlang.engine.state import state_path
from shotlang.testing import VIDEO, FakeKling, Fault


def by_prompt(body: dict[str, Any]) -> bytes:
    """Each video carries its prompt: a wrong video is visible on disk."""
    return VIDEO + b"|" + str(body.get("prompt", "")).encode()


@pytest.fixture
def kling() -> Any:
    with FakeKling(polls=2, video=by_prompt) as server:
        yield server


def state_of(film: Path) -> dict[str, Any]:
    return json.loads(state_path(film).read_text(encoding="utf-8"))["shots"]


def video_of(film: Path, name: str) -> bytes:
    return (film.parent / state_of(film)[name]["file"]).read_bytes()


def write(film: Path, text: str) -> None:
    film.write_text(text, encoding="utf-8")


# --- own ids: an id used before by another body ------------------------------------------


def test_own_id_returning_to_an_earlier_id_never_gets_that_bodys_video(kling: FakeKling, tmp_path: Path) -> None:
    film = tmp_path / "film.shot"
    write(film, 'SHOT a: "A castle" model kling-v1 id "x1"\n')
    assert run(kling, film).returncode == 0
    write(film, 'SHOT a: "A tower" model kling-v1 id "x2"\n')
    assert run(kling, film).returncode == 0 and kling.stats.creates == 2
    write(film, 'SHOT a: "A bridge" model kling-v1 id "x1"\n')
    done = run(kling, film)  # the state no longer knows x1: Kling's answer (the id exists) refuses it
    assert done.returncode == 4 and "already names a task at Kling" in done.stdout, done.stdout + done.stderr
    assert kling.stats.creates == 2 and state_of(film)["a"]["status"] == "failed"


def test_a_new_shot_with_the_id_of_a_removed_shot_never_gets_its_video(kling: FakeKling, tmp_path: Path) -> None:
    film = tmp_path / "film.shot"
    write(film, 'SHOT a: "A castle" model kling-v1 id "x1"\n')
    assert run(kling, film).returncode == 0 and kling.stats.creates == 1
    write(film, 'SHOT b: "A tower" model kling-v1 id "x1"\n')
    done = run(kling, film)
    assert done.returncode == 2 and "nothing sent" in done.stderr, done.stdout + done.stderr
    assert kling.stats.creates == 1 and "b" not in state_of(film)


def test_an_own_id_taken_at_kling_by_a_request_the_state_does_not_know_is_refused(kling: FakeKling,
                                                                                  tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir()
    two.mkdir()
    write(one / "film.shot", 'SHOT a: "A castle" model kling-v1 id "x1"\n')
    assert run(kling, one / "film.shot").returncode == 0 and kling.stats.creates == 1
    write(two / "film.shot", 'SHOT a: "A tower" model kling-v1 id "x1"\n')  # another list, same id
    done = run(kling, two / "film.shot")
    assert done.returncode != 0 and "already names a task at Kling" in done.stdout + done.stderr
    assert kling.stats.creates == 1 and not (two / "a.mp4").exists()
    assert state_of(two / "film.shot")["a"]["status"] == "failed"


def test_two_shots_swapping_ids_never_get_each_others_video(kling: FakeKling, tmp_path: Path) -> None:
    film = tmp_path / "film.shot"
    write(film, 'SHOT a: "A castle" model kling-v1 id "x1"\nSHOT b: "A tower" model kling-v1 id "x2"\n')
    assert run(kling, film).returncode == 0 and kling.stats.creates == 2
    write(film, 'SHOT a: "A castle" model kling-v1 id "x2"\nSHOT b: "A tower" model kling-v1 id "x1"\n')
    done = run(kling, film)
    assert done.returncode == 2 and "nothing sent" in done.stderr, done.stdout + done.stderr
    assert kling.stats.creates == 2
    for name, prompt in (("a", b"A castle"), ("b", b"A tower")):
        assert video_of(film, name).endswith(prompt)


# --- renames ------------------------------------------------------------------------------


def test_two_shots_swapping_names_pay_nothing(kling: FakeKling, tmp_path: Path) -> None:
    film = tmp_path / "film.shot"
    write(film, 'SHOT a: "A castle" model kling-v1\nSHOT b: "A tower" model kling-v1\n')
    assert run(kling, film).returncode == 0 and kling.stats.creates == 2
    write(film, 'SHOT a: "A tower" model kling-v1\nSHOT b: "A castle" model kling-v1\n')
    done = run(kling, film)
    assert done.returncode == 0, done.stdout + done.stderr
    assert video_of(film, "a").endswith(b"A tower") and video_of(film, "b").endswith(b"A castle")
    assert kling.stats.creates == 2, f"paid {kling.stats.creates - 2} again for the same two requests"


def test_a_rename_onto_a_name_used_before_pays_nothing(kling: FakeKling, tmp_path: Path) -> None:
    film = tmp_path / "film.shot"
    write(film, 'SHOT b: "A tower" model kling-v1\n')
    assert run(kling, film).returncode == 0
    write(film, 'SHOT a: "A castle" model kling-v1\n')  # b dropped, a made
    assert run(kling, film).returncode == 0 and kling.stats.creates == 2
    write(film, 'SHOT b: "A castle" model kling-v1\n')  # a renamed to b
    done = run(kling, film)
    assert done.returncode == 0 and kling.stats.creates == 2, done.stdout + done.stderr


def test_renaming_a_shot_in_flight_pays_nothing(tmp_path: Path) -> None:
    film = tmp_path / "film.shot"
    write(film, 'SHOT clock: "A clock tower" model kling-v1\n')
    with FakeKling(polls=2, video=by_prompt) as kling:
        kling.inject(Fault("hold", on="create"))
        first = run(kling, film, "--timeout", "1")
        assert first.returncode != 0 and kling.stats.creates == 1
        assert state_of(film)["clock"]["status"] in ("submitted", "processing")
        kling.release()
        write(film, 'SHOT tower: "A clock tower" model kling-v1\n')
        done = run(kling, film)
        assert done.returncode == 0, done.stdout + done.stderr
        assert kling.stats.creates == 1, "the render paid for under `clock` is paid again under `tower`"


def test_kill_9_then_rename_then_resume_pays_once(tmp_path: Path) -> None:
    film = tmp_path / "film.shot"
    write(film, 'SHOT clock: "A clock tower" model kling-v1\n')
    with FakeKling(polls=2, video=by_prompt) as kling:
        kling.inject(Fault("hold", on="create"))
        proc = start_run(kling, film)
        journal = state_path(film).with_suffix(".journal")
        wait_for(lambda: journal.exists() and b'"processing"' in journal.read_bytes())  # the answer recorded
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        plan = json.loads(shotlang("plan", str(film), "--json").stdout)
        assert plan["shots"][0]["action"] == "in flight", plan
        kling.release()
        write(film, 'SHOT tower: "A clock tower" model kling-v1\n')
        done = run(kling, film)
        assert done.returncode == 0, done.stdout + done.stderr
        assert kling.stats.creates == 1


def test_renaming_to_a_name_whose_file_is_the_writers_keeps_that_file(kling: FakeKling, tmp_path: Path) -> None:
    film = tmp_path / "film.shot"
    write(film, 'SHOT clock: "A clock tower" model kling-v1\n')
    assert run(kling, film).returncode == 0
    (tmp_path / "tower.mp4").write_bytes(b"the writer's own file")
    write(film, 'SHOT tower: "A clock tower" model kling-v1\n')
    done = run(kling, film)
    assert done.returncode == 0 and kling.stats.creates == 1, done.stdout + done.stderr
    assert (tmp_path / "tower.mp4").read_bytes() == b"the writer's own file"
    assert state_of(film)["tower"]["file"] == "tower.2.mp4"
    assert video_of(film, "tower").endswith(b"A clock tower")
    status = json.loads(shotlang("status", str(film), "--offline", "--json").stdout)
    assert status[0]["file"] == "tower.2.mp4"
    again = run(kling, film)
    assert again.returncode == 0 and "unchanged" in again.stdout and kling.stats.creates == 1


@pytest.mark.parametrize("spoil", ["edit", "delete", "symlink"])
def test_a_rename_never_reuses_a_spoiled_video(kling: FakeKling, tmp_path: Path, spoil: str) -> None:
    film = tmp_path / "film.shot"
    write(film, 'SHOT clock: "A clock tower" model kling-v1\n')
    assert run(kling, film).returncode == 0
    old = tmp_path / "clock.mp4"
    if spoil == "edit":
        old.write_bytes(old.read_bytes()[:-3] + b"XYZ")  # same size, new mtime
    elif spoil == "delete":
        old.unlink()
    else:
        keep = tmp_path / "keep.mp4"
        old.rename(keep)
        old.symlink_to(keep)
    write(film, 'SHOT tower: "A clock tower" model kling-v1\n')
    done = run(kling, film)
    assert done.returncode == 0, done.stdout + done.stderr
    assert kling.stats.creates == 2  # no proof the file is the take: a new take
    assert video_of(film, "tower").endswith(b"A clock tower")


def test_rename_and_a_second_shot_of_the_same_body(kling: FakeKling, tmp_path: Path) -> None:
    film = tmp_path / "film.shot"
    write(film, 'SHOT a: "A castle" model kling-v1\nSHOT b: "A castle" model kling-v1\n')
    assert run(kling, film).returncode == 0 and kling.stats.creates == 2
    ta = state_of(film)["a"]["task_id"]
    write(film, 'SHOT c: "A castle" model kling-v1\nSHOT b: "A castle" model kling-v1\n')
    done = run(kling, film)
    assert done.returncode == 0 and kling.stats.creates == 2, done.stdout + done.stderr
    assert state_of(film)["c"]["task_id"] == ta and video_of(film, "c").endswith(b"A castle")
    assert "unchanged" in done.stdout  # b


def test_two_renames_at_once_to_one_old_body(kling: FakeKling, tmp_path: Path) -> None:
    film = tmp_path / "film.shot"
    write(film, 'SHOT a: "A castle" model kling-v1\n')
    assert run(kling, film).returncode == 0
    write(film, 'SHOT c: "A castle" model kling-v1\nSHOT d: "A castle" model kling-v1\n')
    done = run(kling, film)
    assert done.returncode == 0 and kling.stats.creates == 1, done.stdout + done.stderr
    assert video_of(film, "c").endswith(b"A castle") and video_of(film, "d").endswith(b"A castle")
    forced = run(kling, film, "--force", "c")
    assert forced.returncode == 0 and kling.stats.creates == 2
    assert video_of(film, "d").endswith(b"A castle") and (tmp_path / "a.mp4").exists()


def test_rename_then_the_old_name_comes_back_with_another_body(kling: FakeKling, tmp_path: Path) -> None:
    film = tmp_path / "film.shot"
    write(film, 'SHOT a: "A castle" model kling-v1\n')
    assert run(kling, film).returncode == 0
    write(film, 'SHOT b: "A castle" model kling-v1\n')
    assert run(kling, film).returncode == 0 and kling.stats.creates == 1
    write(film, 'SHOT b: "A castle" model kling-v1\nSHOT a: "A dungeon" model kling-v1\n')
    done = run(kling, film)
    assert done.returncode == 0 and kling.stats.creates == 2, done.stdout + done.stderr
    assert video_of(film, "a").endswith(b"A dungeon") and video_of(film, "b").endswith(b"A castle")
    assert (tmp_path / "b.mp4").read_bytes().endswith(b"A castle")


def test_a_rename_with_force_on_the_new_name_pays_once(kling: FakeKling, tmp_path: Path) -> None:
    film = tmp_path / "film.shot"
    write(film, 'SHOT a: "A castle" model kling-v1\n')
    assert run(kling, film).returncode == 0
    write(film, 'SHOT b: "A castle" model kling-v1\n')
    done = run(kling, film, "--force", "b")
    assert done.returncode == 0 and kling.stats.creates == 2, done.stdout + done.stderr
    assert (tmp_path / "a.mp4").read_bytes().endswith(b"A castle")
    assert video_of(film, "b").endswith(b"A castle")


@pytest.mark.slow
def test_a_rename_across_two_lists_sharing_a_folder(kling: FakeKling, tmp_path: Path) -> None:
    out = tmp_path / "videos"
    one, two = tmp_path / "one" / "film.shot", tmp_path / "two" / "film.shot"
    for film in (one, two):
        film.parent.mkdir()
    write(one, 'SHOT x: "A castle" model kling-v1\n')
    write(two, 'SHOT y: "A tower" model kling-v1\n')
    assert run(kling, one, "--out", str(out)).returncode == 0
    assert run(kling, two, "--out", str(out)).returncode == 0 and kling.stats.creates == 2
    write(one, 'SHOT y: "A castle" model kling-v1\n')  # list one renames x to the other list's y
    done = run(kling, one, "--out", str(out))
    assert done.returncode == 0 and kling.stats.creates == 2, done.stdout + done.stderr
    assert (out / "y.mp4").read_bytes().endswith(b"A tower"), "the other list's video is kept"
    assert video_of(one, "y").endswith(b"A castle")
    again = run(kling, two, "--out", str(out))
    assert again.returncode == 0 and "unchanged" in again.stdout and kling.stats.creates == 2


# --- API defaults -------------------------------------------------------------------------


@pytest.mark.parametrize(("model", "defaults", "others"), [
    ("kling-v2-6", "5s std 16:9 sound off", ["pro", "9:16", "10s", "1:1"]),
    ("kling-v1", "5s std 16:9 cfg 0.5", ["pro", "9:16", "cfg 0.6", "10s", "cfg 0.4"]),
])
@pytest.mark.slow
def test_defaults_are_one_request_and_others_are_not(kling: FakeKling, tmp_path: Path, model: str, defaults: str,
                                                     others: list[str]) -> None:
    film = tmp_path / "film.shot"
    write(film, f'SHOT a: "A castle" model {model}\n')
    assert run(kling, film).returncode == 0 and kling.stats.creates == 1
    write(film, f'SHOT a: "A castle" model {model} {defaults}\n')
    done = run(kling, film)
    assert done.returncode == 0 and "unchanged" in done.stdout and kling.stats.creates == 1, done.stdout + done.stderr
    paid = 1
    for other in others:
        write(film, f'SHOT a: "A castle" model {model} {other}\n')
        done = run(kling, film)
        paid += 1
        assert done.returncode == 0 and kling.stats.creates == paid, (other, done.stdout, done.stderr)


@pytest.mark.slow
def test_image_to_video_defaults_are_one_request(kling: FakeKling, tmp_path: Path) -> None:
    from helpers import png

    (tmp_path / "start.png").write_bytes(png(400, 400))
    film = tmp_path / "film.shot"
    write(film, 'SHOT a: "A castle" model kling-v1 image "start.png"\n')
    assert run(kling, film).returncode == 0 and kling.stats.creates == 1
    write(film, 'SHOT a: "A castle" model kling-v1 image "start.png" 5s std cfg 0.5\n')
    done = run(kling, film)
    assert done.returncode == 0 and "unchanged" in done.stdout and kling.stats.creates == 1, done.stdout + done.stderr
    for n, other in enumerate(["pro", "cfg 0.6"], start=2):
        write(film, f'SHOT a: "A castle" model kling-v1 image "start.png" {other}\n')
        assert run(kling, film).returncode == 0 and kling.stats.creates == n, other
    (tmp_path / "start.png").write_bytes(png(400, 401))  # another image: another request
    write(film, 'SHOT a: "A castle" model kling-v1 image "start.png" cfg 0.6\n')
    assert run(kling, film).returncode == 0 and kling.stats.creates == 4


def test_a_rename_with_the_defaults_written_out_pays_nothing(kling: FakeKling, tmp_path: Path) -> None:
    film = tmp_path / "film.shot"
    write(film, 'SHOT clock: "A clock tower" model kling-v1\n')
    assert run(kling, film).returncode == 0
    write(film, 'SHOT tower: "A clock tower" model kling-v1 5s std 16:9 cfg 0.5\n')
    done = run(kling, film)
    assert done.returncode == 0 and kling.stats.creates == 1, done.stdout + done.stderr
    assert "renamed from clock" in done.stderr


# --- --max-cost with odd inputs -------------------------------------------------------------


@pytest.mark.parametrize(("limit", "code", "creates"), [
    ("$0.00", 2, 0), ("0", 2, 0), ("-0", 2, 0), ("0x10", 2, 0), ("5 credits", 2, 0), ("sNaN", 2, 0),
    ("1e400", 0, 1), (" 5 ", 0, 1), ("5USD", 0, 1), ("$ 5", 0, 1), ("1_0", 0, 1), ("0.999999", 2, 0),
    ("1e-400", 2, 0), ("", 2, 0),
])
def test_odd_limits(kling: FakeKling, tmp_path: Path, limit: str, code: int, creates: int) -> None:
    film = tmp_path / "film.shot"
    write(film, 'SHOT a: "A castle" model kling-v1\n')  # 1 credit
    done = run(kling, film, "--max-cost", limit)
    assert "Traceback" not in done.stderr
    assert (done.returncode, kling.stats.creates) == (code, creates), done.stdout + done.stderr


def test_an_unanswered_create_of_a_shot_renamed_away_is_still_counted(kling: FakeKling, tmp_path: Path) -> None:
    film = tmp_path / "film.shot"
    write(film, 'SHOT a: "A castle" model kling-v1\n')
    nowhere = {**kling.env(), "KLING_API_BASE": "http://127.0.0.1:9"}
    assert shotlang("run", str(film), *FAST, "--timeout", "2", env=nowhere).returncode != 0
    write(film, 'SHOT a: "A castle" model kling-v1\nSHOT b: "A tower" model kling-v1\n')
    over = run(kling, film, "--max-cost", "1")  # a unanswered (1) + b new (1) = 2 > 1
    assert over.returncode == 2 and kling.stats.creates == 0, over.stdout + over.stderr


# --- no token at rest -----------------------------------------------------------------------

JWT = re.compile(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*|Bearer\s+\S+", re.IGNORECASE)


class LeakyKling(FakeKling):
    """Writes the caller's token and keys into every answer about a task: creates, lists and
    queries, in every status, in every free-text field."""

    def _task_data(self, task: Any, now: float) -> dict[str, Any]:
        data = super()._task_data(task, now)
        token = next(iter(self.stats.tokens_seen), "")
        secret = f"Bearer {token} ak={self.access_key} sk={self.secret_key}"
        data["task_status_msg"] = f"{data.get('task_status_msg', 'ok')} {secret}"
        data["task_info"]["note"] = secret
        if "task_result" in data:
            for video in data["task_result"]["videos"]:
                video["url"] += f"?t={token}&sk={self.secret_key}"
                video["id"] = secret
                video["duration"] = token
        if "final_unit_deduction" in data:
            data["final_unit_deduction"] = secret
        return data


@pytest.mark.parametrize("outcome", ["succeed", "failed"])
@pytest.mark.slow
def test_no_secret_of_any_shape_is_stored_or_printed(tmp_path: Path, outcome: str) -> None:
    film = tmp_path / "film.shot"
    write(film, 'SHOT a: "A castle" model kling-v1\nSHOT b: "A tower" model kling-v1\n')
    with LeakyKling(task_seconds=0.6) as leaky:
        if outcome == "failed":
            leaky.inject(Fault("fail_task", on="create", match="tower", message="refused"))
        outputs = []
        for args in ((), ("--json",)):
            done = run(leaky, film, "--concurrency", "2", *args)
            outputs.append(done.stdout + done.stderr)
        outputs.append(shotlang("status", str(film), env=leaky.env()).stdout)
        outputs.append(shotlang("status", str(film), "--json", env=leaky.env()).stdout)
        assert leaky.stats.creates == (2 if outcome == "succeed" else 3), outputs  # a failed shot is retried
        secrets = [*leaky.stats.tokens_seen, leaky.access_key, leaky.secret_key]
    journal = state_path(film).with_name(state_path(film).name + ".journal")
    files = [state_path(film).read_text(encoding="utf-8")]
    if journal.exists():
        files.append(journal.read_text(encoding="utf-8"))
    for name in sorted(p.name for p in tmp_path.iterdir()):
        files.append(name)
    text = "\n".join(outputs + files)
    leaked = [s for s in secrets if s in text]
    assert not leaked and not JWT.search(text), (leaked, JWT.search(text))


# --- the poller at the account's limit, with hostile timestamps ------------------------------


class SkewedKling(FakeKling):
    def __init__(self, how: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.how = how

    def _task_data(self, task: Any, now: float) -> dict[str, Any]:
        data = super()._task_data(task, now)
        created, updated = data["created_at"], data["updated_at"]
        if self.how == "micro":
            data["created_at"], data["updated_at"] = created * 1000, updated * 1000
        elif self.how == "backwards":
            data["updated_at"] = created - (updated - created)
        elif self.how == "missing":
            del data["created_at"], data["updated_at"]
        elif self.how == "tiny":  # a render of a millisecond, by the stamps
            data["updated_at"] = created + 1
        elif self.how == "strings":
            data["created_at"], data["updated_at"] = str(created), str(updated)
        elif self.how == "zero":
            data["created_at"] = 0
        elif self.how == "query_time":  # updated_at is the time of the query
            data["updated_at"] = int(time.time() * 1000)
        return data


@pytest.mark.parametrize("how", ["micro", "backwards", "missing",
                                 # not strict: about 2.5 looks a shot is near the bound, and a busy
                                 # machine's timing sometimes keeps it (a CI run passed it once)
                                 pytest.param("tiny", marks=pytest.mark.xfail(strict=False, reason=(
                                     "a known limit: times that say a 1 ms render cost about 2.5 looks a "
                                     "shot (5 before), not 2; nothing paid twice"))),
                                 "strings", "zero", "query_time"])
@pytest.mark.slow
def test_hostile_timestamps_keep_two_looks_a_shot(tmp_path: Path, how: str) -> None:
    film = tmp_path / "film.shot"
    write(film, "".join(f'SHOT s{i}: "A lighthouse, take {i}" model kling-v1\n' for i in range(12)))
    with SkewedKling(how, task_seconds=1.2, max_running=4, spread=0.2) as server:
        started = time.monotonic()
        done = run(server, film, "--concurrency", "4", "--poll-interval", "1.2")
        took = time.monotonic() - started
        assert done.returncode == 0, done.stdout + done.stderr
        assert server.stats.creates == 12
        looks = server.stats.queries + server.stats.lists
        assert looks <= 2 * 12, (how, server.stats.queries, server.stats.lists, f"{took:.1f}s")


# --- symlinks --------------------------------------------------------------------------------


def test_a_state_file_linked_elsewhere_writes_no_journal_there(kling: FakeKling, tmp_path: Path) -> None:
    film = tmp_path / "film.shot"
    write(film, 'SHOT a: "A castle" model kling-v1\n')
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "kept.json").write_text('{"shotlang_state": 1, "source": "film.shot", "shots": {}}', encoding="utf-8")
    state_path(film).symlink_to(elsewhere / "kept.json")
    done = run(kling, film)
    assert done.returncode == 0 and kling.stats.creates == 1, done.stdout + done.stderr
    assert sorted(p.name for p in elsewhere.iterdir()) == ["kept.json"], list(elsewhere.iterdir())
    assert state_path(film).is_symlink() and "a" in json.loads((elsewhere / "kept.json").read_text())["shots"]


def test_a_dangling_journal_link_is_refused_and_not_created(kling: FakeKling, tmp_path: Path) -> None:
    film = tmp_path / "film.shot"
    write(film, 'SHOT a: "A castle" model kling-v1\n')
    target = tmp_path / "nowhere" / "made.txt"
    journal = state_path(film).with_name(state_path(film).name.removesuffix(".json") + ".journal")
    journal.symlink_to(target)
    done = run(kling, film)
    assert done.returncode != 0 and kling.stats.requests == 0, done.stdout + done.stderr
    assert not target.exists() and "Traceback" not in done.stderr


# --- plan/run --only: the rest of the list is not 'gone' ---------------------------------------------------


def test_only_does_not_turn_a_listed_shot_into_a_rename_source(kling: FakeKling, tmp_path: Path) -> None:
    film = tmp_path / "film.shot"
    write(film, 'SHOT a: "A castle" model kling-v1\n')
    assert run(kling, film).returncode == 0
    write(film, 'SHOT a: "A castle" model kling-v1\nSHOT b: "A castle" model kling-v1\n')
    whole = json.loads(shotlang("plan", str(film), "--json").stdout)["shots"][1]["action"]
    only = json.loads(shotlang("plan", str(film), "--json", "--only", "b").stdout)["shots"][0]["action"]
    assert whole == only, (whole, only)


# --- a create answered about another task, from a server that echoes no external id ---------------


class Mute(FakeKling):
    def _task_data(self, task: Any, now: float) -> dict[str, Any]:
        data = super()._task_data(task, now)
        data["task_info"] = {}
        return data


def test_a_swapped_create_answer_without_task_info_never_takes_another_video(tmp_path: Path) -> None:
    film = tmp_path / "film.shot"
    write(film, 'SHOT a: "A castle" model kling-v1\nSHOT b: "A tower" model kling-v1\n')
    with Mute(polls=2, video=by_prompt) as server:
        server.inject(Fault("swap", on="create", match="tower"))
        done = run(server, film, "--concurrency", "1")
        for name, prompt in (("a", b"A castle"), ("b", b"A tower")):
            if state_of(film)[name]["status"] == "succeed":
                assert video_of(film, name).endswith(prompt), (name, done.stdout, server.stats.creates)
