"""The run engine, round three (issue 20): what a hostile pass found a paying writer could
still lose, each through the real CLI against the local Kling server, counting what it paid."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from runs import FAST, run, shotlang

from shotlang.engine.state import state_path
from shotlang.testing import FakeKling, Fault

# --- 1. two shots with one id ------------------------------------------------------------------


def test_two_shots_with_one_id_are_refused_before_anything_is_paid(fake: FakeKling, tmp_path: Path) -> None:
    film = tmp_path / "film.shot"
    film.write_text('SHOT a: "A castle" id "take-1"\nSHOT b: "A tower" id "take-1"\n', encoding="utf-8")
    done = run(fake, film)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "error[E320]: id `take-1` is already the id of the shot on line 1" in done.stdout + done.stderr
    assert fake.stats.creates == 0 and fake.stats.create_requests == 0
    check = shotlang("check", "--format", "json", str(film))
    [found] = json.loads(check.stdout)
    assert (found["code"], found["line"], found["column"]) == ("E320", 2, 22)
    assert [(r["line"], r["column"], r["message"]) for r in found["related"]] == [(1, 23, "the first use of this id")]


def test_a_sequence_and_a_shot_with_one_id_are_refused_too(tmp_path: Path) -> None:
    film = tmp_path / "film.shot"
    film.write_text('MODEL kling-v3\nSEQUENCE s: 10s id "x-1"\n  SHOT a: "a"\n  SHOT b: "b"\n'
                    'SHOT c: "c" id "x-1"\n', encoding="utf-8")
    done = shotlang("check", str(film))
    assert done.returncode == 1 and "E320" in done.stdout


# --- 6. money limits ---------------------------------------------------------------------------


@pytest.mark.parametrize("limit", ["nan", "NaN", "inf", "-inf", "$nan", "-1", "infinityusd"])
def test_a_limit_that_is_no_number_is_refused_and_nothing_is_paid(fake: FakeKling, tmp_path: Path, limit: str) -> None:
    film = tmp_path / "film.shot"
    film.write_text('SHOT a: "A castle" model kling-v2-master\n', encoding="utf-8")
    done = run(fake, film, "--max-cost", limit)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "--max-cost" in done.stderr and "Traceback" not in done.stderr
    assert fake.stats.creates == 0 and fake.stats.requests == 0


def test_a_limit_in_dollars_is_decimal_as_plan_prints_it(fake: FakeKling, tmp_path: Path) -> None:
    film = tmp_path / "film.shot"
    film.write_text('SHOT a: "A castle" model kling-v2-master\n', encoding="utf-8")  # 10 credits, $1.40
    assert "about $1.40" in shotlang("plan", str(film)).stdout
    over = run(fake, film, "--max-cost", "$1.39")
    assert over.returncode == 2 and fake.stats.creates == 0, over.stderr
    done = run(fake, film, "--max-cost", "$1.40")
    assert done.returncode == 0, done.stdout + done.stderr
    assert fake.stats.creates == 1


@pytest.mark.slow
def test_a_create_sent_and_never_answered_counts_against_the_limit(fake: FakeKling, tmp_path: Path) -> None:
    film = tmp_path / "film.shot"
    film.write_text('SHOT a: "A castle" model kling-v1\nSHOT b: "A tower" model kling-v1\n', encoding="utf-8")
    # A run that never reached the API: its creates were sent (as far as it knows) and never answered.
    nowhere = {**fake.env(), "KLING_API_BASE": "http://127.0.0.1:9"}
    first = shotlang("run", str(film), *FAST, "--timeout", "2", env=nowhere)
    assert first.returncode != 0
    state = json.loads(state_path(film).read_text(encoding="utf-8"))
    assert {s["status"] for s in state["shots"].values()} == {"submitting"}, state
    plan = json.loads(shotlang("plan", str(film), "--json").stdout)
    assert plan["unanswered_shots"] == ["a", "b"] and plan["credits"] == 2
    done = run(fake, film, "--max-cost", "0")
    assert done.returncode == 2, done.stdout + done.stderr
    assert fake.stats.creates == 0 and fake.stats.requests == 0
    done = run(fake, film, "--max-cost", "2")
    assert done.returncode == 0, done.stdout + done.stderr
    assert fake.stats.creates == 2


# --- 12. a plain refusal is not network trouble ------------------------------------------------


def test_a_refusal_is_said_at_once_and_not_retried_as_network_trouble(tmp_path: Path) -> None:
    film = tmp_path / "film.shot"
    film.write_text('SHOT a: slow pan right over "A castle" model kling-v2-6 moves numeric\n', encoding="utf-8")
    with FakeKling(polls=1, official_only=True) as strict:  # refuses camera_control on kling-v2-6: 400, 1201
        done = run(strict, film)
        assert done.returncode == 4, done.stdout + done.stderr
        assert "retrying" not in done.stderr and "looking the task up" not in done.stderr, done.stderr
        assert "is not supported with camera_control" in done.stdout
        assert strict.stats.creates == 0 and strict.stats.queries <= 1


# --- 9. no token at rest -------------------------------------------------------------------------

JWT = re.compile(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*|Bearer\s+\S+")


def test_a_token_the_server_writes_into_its_answer_is_never_stored_or_printed(fake: FakeKling,
                                                                              tmp_path: Path) -> None:
    film = tmp_path / "film.shot"
    film.write_text('SHOT a: "A castle" model kling-v1\n', encoding="utf-8")
    fake.inject(Fault("leak", on="query", times=None))
    done = run(fake, film, "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    assert fake.stats.creates == 1
    state = state_path(film).read_text(encoding="utf-8")
    journal = state_path(film).with_name(state_path(film).name + ".journal")
    written = state + (journal.read_text(encoding="utf-8") if journal.exists() else "")
    assert fake.stats.tokens_seen and not any(token in written for token in fake.stats.tokens_seen)
    assert not JWT.search(written) and not JWT.search(done.stdout + done.stderr), written
    assert "<redacted>" in written
    status = shotlang("status", str(film), "--json", env=fake.env())
    assert not JWT.search(status.stdout + status.stderr)
    assert (tmp_path / "a.mp4").read_bytes().startswith(b"\x00\x00\x00\x18ftyp")


# --- 3. long names -------------------------------------------------------------------------------


def test_two_long_names_alike_in_their_first_40_characters_are_two_tasks(fake: FakeKling, tmp_path: Path) -> None:
    stem = "the-long-establishing-shot-of-the-harbour"  # 41 characters
    film = tmp_path / "film.shot"
    film.write_text(f'SHOT {stem}-at-dawn: "A harbour" model kling-v1\n'
                    f'SHOT {stem}-at-dusk: "A harbour" model kling-v1\n', encoding="utf-8")
    done = run(fake, film)
    assert done.returncode == 0, done.stdout + done.stderr
    assert fake.stats.creates == 2 and len(fake.stats.by_external_id) == 2
    assert all(len(external) <= 64 for external in fake.stats.by_external_id)
    state = json.loads(state_path(film).read_text(encoding="utf-8"))
    assert len({s["task_id"] for s in state["shots"].values()}) == 2
    assert (tmp_path / f"{stem}-at-dawn.mp4").exists() and (tmp_path / f"{stem}-at-dusk.mp4").exists()
    again = run(fake, film)
    assert again.returncode == 0 and fake.stats.creates == 2, "a re-run pays nothing"


# --- 10. symlinks --------------------------------------------------------------------------------


def test_a_journal_that_is_a_symlink_is_refused_and_its_target_left_alone(fake: FakeKling, tmp_path: Path) -> None:
    film = tmp_path / "film.shot"
    film.write_text('SHOT a: "A castle" model kling-v1\n', encoding="utf-8")
    target = tmp_path / "elsewhere" / "precious.txt"
    target.parent.mkdir()
    target.write_text("a file of someone else's\n", encoding="utf-8")
    journal = state_path(film).with_suffix(".journal")
    journal.symlink_to(target)
    done = run(fake, film)
    assert done.returncode != 0, done.stdout + done.stderr
    assert "symbolic link" in done.stderr and "Traceback" not in done.stderr
    assert target.read_text(encoding="utf-8") == "a file of someone else's\n"
    assert fake.stats.creates == 0 and fake.stats.requests == 0
    assert journal.is_symlink()


# --- 4. a create answer that names another shot's task ------------------------------------------


def test_a_create_answered_with_another_shots_task_never_takes_its_video(fake: FakeKling, tmp_path: Path) -> None:
    film = tmp_path / "film.shot"
    film.write_text('SHOT a: "A castle" model kling-v1\nSHOT b: "A tower" model kling-v1\n', encoding="utf-8")
    fake.inject(Fault("swap", on="create", match="tower"))
    done = run(fake, film, "--concurrency", "1")
    assert done.returncode == 0, done.stdout + done.stderr
    assert fake.stats.creates == 2
    state = json.loads(state_path(film).read_text(encoding="utf-8"))["shots"]
    assert state["a"]["task_id"] != state["b"]["task_id"]
    own = {t: e for e, t in ((s["external_task_id"], s["task_id"]) for s in state.values())}
    for shot in state.values():  # each shot's task is the one the server made for its own id
        assert own[shot["task_id"]] == shot["external_task_id"]
        found = fake._find("/v1/videos/text2video", shot["external_task_id"])[0]
        assert found is not None and found.task_id == shot["task_id"]


# --- 8. never overwrite a paid take ------------------------------------------------------------


def test_a_new_take_never_replaces_an_earlier_one_on_disk(fake: FakeKling, tmp_path: Path) -> None:
    film = tmp_path / "film.shot"
    film.write_text('SHOT a: "A castle" model kling-v1\n', encoding="utf-8")
    assert run(fake, film).returncode == 0 and fake.stats.creates == 1
    first = tmp_path / "a.mp4"
    made = first.stat().st_mtime_ns
    done = run(fake, film, "--force", "a")  # a second take, paid again
    assert done.returncode == 0, done.stdout + done.stderr
    assert fake.stats.creates == 2
    assert first.stat().st_mtime_ns == made, "the first take is kept"
    assert (tmp_path / "a.take-2.mp4").exists()
    shots = json.loads(state_path(film).read_text(encoding="utf-8"))["shots"]
    assert (shots["a"]["file"], shots["a.take-2"]["file"]) == ("a.mp4", "a.take-2.mp4")
    again = run(fake, film)  # both takes are made: nothing to do
    assert again.returncode == 0 and fake.stats.creates == 2 and not (tmp_path / "a.2.mp4").exists()
    assert "unchanged" in again.stdout
    status = json.loads(shotlang("status", str(film), "--offline", "--json").stdout)
    assert [(s["shot"], s["file"]) for s in status] == [("a", "a.mp4"), ("a.take-2", "a.take-2.mp4")]


def test_with_the_state_moved_aside_a_video_on_disk_is_not_written_over(fake: FakeKling, tmp_path: Path) -> None:
    film = tmp_path / "film.shot"
    film.write_text('SHOT a: "A castle" model kling-v1\n', encoding="utf-8")
    assert run(fake, film).returncode == 0
    video = tmp_path / "a.mp4"
    video.write_bytes(video.read_bytes() + b"a take of another generation")
    state_path(film).rename(tmp_path / "aside.json")
    done = run(fake, film)  # knows nothing: finds the task by its id, fetches it beside the file
    assert done.returncode == 0 and fake.stats.creates == 1, done.stderr
    assert video.read_bytes().endswith(b"a take of another generation")
    assert (tmp_path / "a.2.mp4").exists()


def test_a_file_the_writer_put_in_place_of_a_video_is_kept(fake: FakeKling, tmp_path: Path) -> None:
    film = tmp_path / "film.shot"
    film.write_text('SHOT a: "A castle" model kling-v1\n', encoding="utf-8")
    assert run(fake, film).returncode == 0
    (tmp_path / "a.mp4").write_bytes(b"my own edit of the take")
    done = run(fake, film)  # the recorded video is gone: fetched again, beside the writer's file
    assert done.returncode == 0 and fake.stats.creates == 1, done.stderr
    assert (tmp_path / "a.mp4").read_bytes() == b"my own edit of the take"
    assert (tmp_path / "a.2.mp4").read_bytes().startswith(b"\x00\x00\x00\x18ftyp")


# --- 11. two shot lists, one --out ---------------------------------------------------------------


def test_two_shot_lists_sharing_a_folder_keep_their_videos_apart(fake: FakeKling, tmp_path: Path) -> None:
    out = tmp_path / "videos"
    films = []
    for folder, prompt in (("one", "A castle"), ("two", "A tower")):
        (tmp_path / folder).mkdir()
        film = tmp_path / folder / "film.shot"
        film.write_text(f'SHOT x: "{prompt}" model kling-v1\n', encoding="utf-8")
        films.append(film)
    one, two = films
    assert run(fake, one, "--out", str(out)).returncode == 0
    made = (out / "x.mp4").stat().st_mtime_ns
    done = run(fake, two, "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert (out / "x.mp4").stat().st_mtime_ns == made, "the other list's video is not written over"
    assert json.loads(state_path(two).read_text(encoding="utf-8"))["shots"]["x"]["file"].endswith("x.2.mp4")
    assert fake.stats.creates == 2
    for film in (one, two):  # each list's own video: the next runs pay and fetch nothing
        before = fake.stats.downloads
        again = run(fake, film, "--out", str(out))
        assert again.returncode == 0 and "unchanged" in again.stdout, again.stdout + again.stderr
        assert fake.stats.creates == 2 and fake.stats.downloads == before
    assert sorted(p.name for p in out.iterdir()) == ["x.2.mp4", "x.mp4"]


# --- 2. a user-set id across edits ---------------------------------------------------------------


def test_a_shot_with_its_own_id_is_never_done_with_another_bodys_video(fake: FakeKling, tmp_path: Path) -> None:
    film = tmp_path / "film.shot"
    film.write_text('SHOT a: "A castle" model kling-v1 id "castle-1"\n', encoding="utf-8")
    assert run(fake, film).returncode == 0 and fake.stats.creates == 1
    film.write_text('SHOT a: "A castle at night" model kling-v1 id "castle-1"\n', encoding="utf-8")
    plan = shotlang("plan", str(film))
    assert "changed" in plan.stdout and "refused: a keep an `id` for a new request that an earlier one used" in plan.stdout
    for args in ((), ("--force", "a")):
        done = run(fake, film, *args)
        assert done.returncode == 2, done.stdout + done.stderr
        assert "names the task of an earlier request" in done.stderr and "nothing sent" in done.stderr
        assert "done" not in done.stdout
    assert fake.stats.creates == 1 and fake.stats.create_requests == 1
    film.write_text('SHOT a: "A castle at night" model kling-v1 id "castle-2"\n', encoding="utf-8")
    done = run(fake, film)  # a new id: a new request, paid once
    assert done.returncode == 0 and fake.stats.creates == 2, done.stderr


def test_a_failed_shot_with_its_own_id_is_not_retried_under_it(tmp_path: Path) -> None:
    film = tmp_path / "film.shot"
    film.write_text('SHOT a: "A castle" model kling-v1 id "castle-1"\n', encoding="utf-8")
    with FakeKling(polls=1) as fake:
        fake.inject(Fault("fail_task", on="create", message="content policy"))
        first = run(fake, film)
        assert first.returncode != 0 and "content policy" in first.stdout + first.stderr
        film.write_text('SHOT a: "A castle, at peace" model kling-v1 id "castle-1"\n', encoding="utf-8")
        done = run(fake, film)
        assert done.returncode == 2 and "nothing sent" in done.stderr, done.stdout + done.stderr
        assert fake.stats.creates == 1


# --- 7. a rename is not a new shot ---------------------------------------------------------------


@pytest.mark.parametrize("new_name", ["clock-tower", "Clock"])
def test_a_renamed_shot_reuses_its_video_and_pays_nothing(fake: FakeKling, tmp_path: Path, new_name: str) -> None:
    film = tmp_path / "film.shot"
    film.write_text('SHOT clock: "A clock tower at noon" model kling-v1\n', encoding="utf-8")
    assert run(fake, film).returncode == 0 and fake.stats.creates == 1
    film.write_text(f'SHOT {new_name}: "A clock tower at noon" model kling-v1\n', encoding="utf-8")
    plan = shotlang("plan", str(film))
    assert f"{new_name}: renamed from clock: its video is this request's, reused: 0 credits" in plan.stdout
    assert json.loads(shotlang("plan", str(film), "--json").stdout)["credits"] == 0
    sent = fake.stats.create_requests
    done = run(fake, film)
    assert done.returncode == 0, done.stdout + done.stderr
    assert fake.stats.creates == 1 and fake.stats.create_requests == sent  # nothing sent, nothing paid
    assert "renamed from clock" in done.stderr
    video = tmp_path / f"{new_name}.mp4"
    assert video.read_bytes() == (tmp_path / "clock.mp4").read_bytes()
    state = json.loads(state_path(film).read_text(encoding="utf-8"))["shots"]
    assert state[new_name]["file"] == f"{new_name}.mp4" and state[new_name]["task_id"] == state["clock"]["task_id"]
    again = run(fake, film)
    assert again.returncode == 0 and "unchanged" in again.stdout and fake.stats.creates == 1
    forced = run(fake, film, "--force", new_name)  # --force still makes a new take
    assert forced.returncode == 0 and fake.stats.creates == 2


def test_writing_out_the_apis_defaults_is_the_same_request(fake: FakeKling, tmp_path: Path) -> None:
    film = tmp_path / "film.shot"
    film.write_text('SHOT a: "A castle" model kling-v1\n', encoding="utf-8")
    assert run(fake, film).returncode == 0 and fake.stats.creates == 1
    # mode std, 16:9, cfg 0.5 and 5 s are what Kling assumes for a body without them
    film.write_text('SHOT a: "A castle" model kling-v1 5s std 16:9 cfg 0.5\n', encoding="utf-8")
    [shot] = json.loads(shotlang("plan", str(film), "--json").stdout)["shots"]
    assert (shot["action"], shot["credits"]) == ("unchanged", 0), shot
    done = run(fake, film)
    assert done.returncode == 0 and "unchanged" in done.stdout, done.stdout + done.stderr
    assert fake.stats.creates == 1
    film.write_text('SHOT a: "A castle" model kling-v1 5s pro 16:9\n', encoding="utf-8")  # pro is not the default
    assert run(fake, film).returncode == 0 and fake.stats.creates == 2


def test_a_state_written_before_defaults_were_left_out_still_holds(fake: FakeKling, tmp_path: Path) -> None:
    from shotlang.engine.state import body_hashes

    film = tmp_path / "film.shot"
    film.write_text('SHOT a: "A castle" model kling-v1 std 16:9\n', encoding="utf-8")
    assert run(fake, film).returncode == 0 and fake.stats.creates == 1
    saved = json.loads(state_path(film).read_text(encoding="utf-8"))
    [record] = [json.loads(line) for line in shotlang("compile", "--format", "jsonl", str(film)).stdout.splitlines()]
    now, written = body_hashes(record["endpoint"], record["body"])
    assert saved["shots"]["a"]["body_sha256"] == now != written
    saved["shots"]["a"]["body_sha256"] = written  # as an earlier shotlang kept it
    state_path(film).write_text(json.dumps(saved), encoding="utf-8")
    done = run(fake, film)
    assert done.returncode == 0 and "unchanged" in done.stdout, done.stdout + done.stderr
    assert fake.stats.creates == 1


# --- 13. at the account's limit -------------------------------------------------------------------
# How close a run comes to the limit is measured by bench/engine.py (docs/performance.md); what a
# test can hold without a stopwatch is how many times each task is asked about.


@pytest.mark.slow
@pytest.mark.parametrize("in_seconds", [False, True])
def test_a_run_at_the_accounts_limit_asks_about_each_task_at_most_twice(tmp_path: Path, in_seconds: bool) -> None:
    film = tmp_path / "film.shot"
    film.write_text("".join(f'SHOT s{i}: "A lighthouse, take {i}" model kling-v1\n' for i in range(12)), encoding="utf-8")
    # Renders of 1.2 s ± 20%, four at once; a server that writes its times in seconds once had
    # each task asked about every few milliseconds (a 1 s render read as 1 ms).
    with FakeKling(task_seconds=1.2, max_running=4, spread=0.2, stamps_in_seconds=in_seconds) as server:
        done = run(server, film, "--concurrency", "4", "--poll-interval", "1.2")
        assert done.returncode == 0, done.stdout + done.stderr
        assert server.stats.creates == 12
        assert server.stats.queries + server.stats.lists <= 2 * 12, (server.stats.queries, server.stats.lists)


# --- 5. slow headers -----------------------------------------------------------------------------


@pytest.mark.slow
def test_an_answer_whose_headers_drip_cannot_outlast_the_timeout(fake: FakeKling, tmp_path: Path) -> None:
    import time

    film = tmp_path / "film.shot"
    film.write_text('SHOT a: "A castle" model kling-v1\n', encoding="utf-8")
    fake.inject(Fault("drip_headers", on="create", seconds=0.2, times=None))  # ~30 s for a whole answer
    start = time.monotonic()
    done = run(fake, film, "--timeout", "3")
    took = time.monotonic() - start
    assert took < 12, f"the run took {took:.1f} s"
    assert done.returncode != 0, done.stdout + done.stderr
    assert fake.stats.creates <= 1  # sent once, its answer never read: unknown, looked up next time
    state = json.loads(state_path(film).read_text(encoding="utf-8"))["shots"]["a"]
    assert state["status"] == "submitting"
    fake.clear_faults()
    again = run(fake, film)
    assert again.returncode == 0 and fake.stats.creates == 1, again.stdout + again.stderr


@pytest.mark.slow
def test_status_holds_its_timeout_a_query_against_dripping_headers(fake: FakeKling, tmp_path: Path) -> None:
    import time

    film = tmp_path / "film.shot"
    film.write_text('SHOT a: "A castle" model kling-v1\n', encoding="utf-8")
    fake.inject(Fault("hold", on="create"))
    assert run(fake, film, "--timeout", "1").returncode != 0  # left in flight
    fake.inject(Fault("drip_headers", on="query", seconds=0.5, times=None))  # minutes for an answer
    start = time.monotonic()
    done = shotlang("status", str(film), "--timeout", "2", env=fake.env())
    took = time.monotonic() - start
    assert took < 2 + 6, f"status took {took:.1f} s"  # its 2 s a query, and a process's start
    assert "Traceback" not in done.stderr
