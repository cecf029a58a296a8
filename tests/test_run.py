"""`shotlang run`, `plan` and `status` end to end: the real CLI, as a process, against the fake
Kling server on 127.0.0.1 (shotlang.testing), with faults, kills and resumes."""

from __future__ import annotations

import json
import os
import shutil
import signal
from pathlib import Path

from runs import (
    EXAMPLES,
    FAST,
    assert_all_downloaded,
    run,
    shotlang,
    shots_in,
    start_run,
    temporary_files,
    wait_for,
)

from shotlang.engine.state import state_path
from shotlang.testing import VIDEO, FakeKling, Fault

# --- the ordinary path ------------------------------------------------------------------------


def test_clean_run_downloads_every_shot_and_rerun_submits_nothing(fake: FakeKling, film: Path) -> None:
    done = run(fake, film)
    assert done.returncode == 0, done.stdout + done.stderr
    names = shots_in(film)
    assert fake.stats.creates == len(names) == 8
    assert_all_downloaded(film)
    assert [line.split()[:2] for line in done.stdout.splitlines()[1:]] == [[n, "done"] for n in names]

    again = run(fake, film)
    assert again.returncode == 0
    assert fake.stats.creates == 8, "a re-run of unchanged shots submits nothing"
    assert all(line.split()[1] == "unchanged" for line in again.stdout.splitlines()[1:])


def test_state_file_records_each_shot(fake: FakeKling, film: Path) -> None:
    assert run(fake, film).returncode == 0
    state = json.loads(state_path(film).read_text())
    assert state["shotlang_state"] == 1 and state["source"] == "film.shot"
    assert fake.stats.creates == 8
    lamp = state["shots"]["lamp"]
    assert lamp["status"] == "succeed" and lamp["file"] == "lamp.mp4" and lamp["task_id"]
    assert len(lamp["body_sha256"]) == 64 and lamp["external_task_id"].startswith("lamp-")


def test_changed_shot_is_resubmitted_alone(fake: FakeKling, film: Path) -> None:
    assert run(fake, film).returncode == 0
    film.write_text(film.read_text().replace("subtle dutch tilt", "dutch tilt 4"))
    plan = json.loads(shotlang("plan", str(film), "--json").stdout)
    assert [s["shot"] for s in plan["shots"] if s["action"] != "unchanged"] == ["lamp"]
    assert run(fake, film).returncode == 0
    assert fake.stats.creates == 9


def test_missing_video_is_downloaded_again_without_a_new_generation(fake: FakeKling, film: Path) -> None:
    assert run(fake, film).returncode == 0
    (film.parent / "storm.mp4").unlink()
    done = run(fake, film)
    assert done.returncode == 0
    assert fake.stats.creates == 8
    assert (film.parent / "storm.mp4").read_bytes() == VIDEO


def test_only_and_force(fake: FakeKling, film: Path) -> None:
    done = run(fake, film, "--only", "lamp", "--only", "calm")
    assert done.returncode == 0 and fake.stats.creates == 2
    assert sorted(p.stem for p in film.parent.glob("*.mp4")) == ["calm", "lamp"]
    done = run(fake, film, "--force", "lamp", "--only", "lamp")
    assert done.returncode == 0 and fake.stats.creates == 3, "--force pays for a new take"
    shots = json.loads(state_path(film).read_text())["shots"]
    assert shots["lamp"]["generation"] == 1 and shots["lamp.take-2"]["status"] == "succeed"
    assert sorted(p.stem for p in film.parent.glob("*.mp4")) == ["calm", "lamp", "lamp.take-2"]  # none replaced
    bad = run(fake, film, "--only", "lamps")
    assert bad.returncode == 2 and "did you mean `lamp`" in bad.stderr


def test_image_shots_run_with_inlined_images(fake: FakeKling, tmp_path: Path) -> None:
    shutil.copytree(EXAMPLES / "images", tmp_path / "images")
    shutil.copy(EXAMPLES / "harbour.shot", tmp_path / "harbour.shot")
    done = run(fake, tmp_path / "harbour.shot")
    assert done.returncode == 0, done.stdout + done.stderr
    assert_all_downloaded(tmp_path / "harbour.shot")
    assert fake.stats.creates == len(fake.tasks()) == 5


def test_out_folder(fake: FakeKling, film: Path, tmp_path: Path) -> None:
    assert run(fake, film, "--only", "lamp", "--out", str(tmp_path / "videos")).returncode == 0
    assert (tmp_path / "videos" / "lamp.mp4").read_bytes() == VIDEO
    assert fake.stats.creates == 1


def test_json_events(fake: FakeKling, film: Path) -> None:
    done = run(fake, film, "--only", "lamp", "--json")
    events = [json.loads(line) for line in done.stdout.splitlines()]
    assert [e["event"] for e in events] == ["queued", "submitting", "submitted", "processing",
                                            "downloading", "done", "summary"]
    assert events[-1]["status"] == "done" and events[-1]["file"] == "lamp.mp4"
    assert fake.stats.creates == 1


# --- failures ---------------------------------------------------------------------------------


def test_injected_faults_are_survived(fake: FakeKling, film: Path) -> None:
    fake.inject(
        Fault("error", on="create", http=429, code=1302, times=3, retry_after=0.05),
        Fault("error", on="create", http=429, code=1303, times=2),
        Fault("error", on="query", http=500, code=5000, times=3),
        Fault("error", on="query", http=503, code=5001, times=1),
        Fault("drop", on="create", times=2),
        Fault("drop", on="query", times=2),
        Fault("slow", on="query", seconds=0.5, times=2),
        Fault("cut", on="download", times=2),
        Fault("error", on="download", http=502, times=1),
    )
    done = run(fake, film)
    assert done.returncode == 0, done.stdout + done.stderr
    assert_all_downloaded(film)
    assert all(n == 1 for n in fake.stats.by_external_id.values()), "no shot paid twice"
    assert fake.stats.creates == 8


def test_a_create_whose_answer_was_lost_is_found_not_paid_again(fake: FakeKling, film: Path) -> None:
    # The create reaches the server and the task is made, but the answer is lost: the client
    # looks the task up by its external id and takes it, without sending the create again.
    fake.inject(Fault("lose", on="create", times=1))
    done = run(fake, film, "--only", "lamp")
    assert done.returncode == 0, done.stdout + done.stderr
    assert fake.stats.create_requests == 1 and fake.stats.creates == 1


def test_crash_between_create_and_state_write_is_recovered(fake: FakeKling, film: Path) -> None:
    assert run(fake, film, "--only", "lamp").returncode == 0
    # Make it look as if the run died right after sending the create: the state says
    # "submitting" with no task id, the server has the task, the video is not on disk.
    state = json.loads(state_path(film).read_text())
    state["shots"]["lamp"].update(status="submitting", task_id=None, file=None, result_url=None)
    state_path(film).write_text(json.dumps(state))
    (film.parent / "lamp.mp4").unlink()
    done = run(fake, film, "--only", "lamp")
    assert done.returncode == 0, done.stdout + done.stderr
    assert fake.stats.creates == 1, "found by external_task_id, not created again"
    assert (film.parent / "lamp.mp4").read_bytes() == VIDEO


def test_content_policy_fails_one_shot_and_not_the_others(fake: FakeKling, film: Path) -> None:
    fake.inject(Fault("error", on="create", http=400, code=1301, times=None, match="lightning",
                      message="content safety check failed"))
    done = run(fake, film)
    assert done.returncode == 4
    rows = {line.split()[0]: line for line in done.stdout.splitlines()[1:]}
    assert "failed" in rows["storm"] and "content safety check failed" in rows["storm"]
    assert sum("done" in r for r in rows.values()) == 7
    assert fake.stats.creates == 7, "the refused create is not paid"


def test_a_task_that_fails_reports_its_status_message(fake: FakeKling, film: Path) -> None:
    fake.inject(Fault("fail_task", match="brass lens", message="generation failed: try another prompt"))
    done = run(fake, film)
    assert done.returncode == 4
    assert "generation failed: try another prompt" in done.stdout
    assert json.loads(state_path(film).read_text())["shots"]["lamp"]["status"] == "failed"
    # A failed task costs nothing: the next run tries it again, under a new external id.
    again = run(fake, film)
    assert again.returncode == 0
    assert fake.stats.creates == 9


def test_arrears_stops_the_run(fake: FakeKling, film: Path) -> None:
    fake.inject(Fault("error", on="create", http=429, code=1101, times=None, message="account in arrears"))
    done = run(fake, film, "--concurrency", "1")
    assert done.returncode == 5
    assert "account in arrears" in done.stderr
    assert fake.stats.create_requests == 0
    assert "stopped" in done.stdout


def test_expired_token_is_refreshed(fake: FakeKling, film: Path) -> None:
    fake.inject(Fault("expire_token", on="query", times=1), Fault("expire_token", on="create", times=1))
    done = run(fake, film, "--only", "lamp", "--only", "calm", "--concurrency", "1")
    assert done.returncode == 0, done.stdout + done.stderr
    assert fake.stats.refused_tokens == 2 and fake.stats.creates == 2


def test_rejected_credentials_stop_with_exit_3(fake: FakeKling, film: Path) -> None:
    env = {**fake.env(), "KLING_SECRET_KEY": "wrong-secret"}
    done = shotlang("run", str(film), *FAST, env=env)
    assert done.returncode == 3
    assert "refused the credentials" in done.stderr and "Traceback" not in done.stderr
    assert fake.stats.creates == 0


def test_missing_credentials_exit_3_before_anything_is_sent(film: Path) -> None:
    done = shotlang("run", str(film))
    assert done.returncode == 3
    assert "KLING_ACCESS_KEY" in done.stderr and "Traceback" not in done.stderr


def test_compile_errors_stop_before_anything_is_sent(fake: FakeKling, tmp_path: Path) -> None:
    bad = tmp_path / "bad.shot"
    bad.write_text('SHOT a: pann right "x"\n')
    done = run(fake, bad)
    assert done.returncode == 1 and "error[E200]" in done.stderr
    assert fake.stats.create_requests == 0 and not state_path(bad).exists()


def test_local_timeout_leaves_the_task_for_the_next_run(fake: FakeKling, film: Path) -> None:
    fake.inject(Fault("hold", times=None))  # the generation outlasts --timeout, on any machine
    done = run(fake, film, "--only", "lamp", "--timeout", "0.5")
    assert done.returncode == 4 and "run again to keep waiting" in done.stdout
    assert json.loads(state_path(film).read_text())["shots"]["lamp"]["status"] in ("submitted", "processing")
    assert fake.release() == 1
    again = run(fake, film, "--only", "lamp")
    assert again.returncode == 0 and fake.stats.creates == 1
    assert (film.parent / "lamp.mp4").read_bytes() == VIDEO


def test_killed_run_resumes_without_paying_twice(fake: FakeKling, film: Path) -> None:
    fake.inject(Fault("hold", times=None))  # three shots in flight when the kill lands
    process = start_run(fake, film, "--concurrency", "3")
    wait_for(lambda: fake.stats.creates >= 3)
    os.kill(process.pid, signal.SIGKILL)
    process.communicate(timeout=10)
    assert fake.stats.creates == 3, "killed while shots were in flight"
    fake.clear_faults()
    fake.release()
    done = run(fake, film)
    assert done.returncode == 0, done.stdout + done.stderr
    assert_all_downloaded(film)
    assert fake.stats.creates == 8
    assert all(n == 1 for n in fake.stats.by_external_id.values())
    # The kill may land while the state file is saved: the resumed run removes that write too.
    assert not temporary_files(film.parent), "no temporary file of any kind is left"


def test_ctrl_c_leaves_a_state_the_next_run_continues(fake: FakeKling, film: Path) -> None:
    fake.inject(Fault("hold", times=None))  # shots in flight when Ctrl-C comes
    process = start_run(fake, film)
    wait_for(lambda: fake.stats.creates >= 2)
    process.send_signal(signal.SIGINT)
    _out, err = process.communicate(timeout=30)
    assert process.returncode == 130, err
    assert "run again to continue" in err and "Traceback" not in err
    json.loads(state_path(film).read_text())  # a complete, readable state
    assert not temporary_files(film.parent), "an interrupted run cleans up after itself"
    paid = fake.stats.creates
    fake.clear_faults()
    fake.release()
    done = run(fake, film)
    assert done.returncode == 0
    assert fake.stats.creates == 8 and 2 <= paid <= 4
    assert all(n == 1 for n in fake.stats.by_external_id.values())
    assert_all_downloaded(film)


def test_no_secret_appears_in_any_output_or_file(fake: FakeKling, film: Path) -> None:
    fake.inject(Fault("expire_token", on="query", times=1), Fault("error", on="create", http=500, times=1),
                Fault("error", on="create", http=400, code=1301, match="gull", times=None))
    outputs = [run(fake, film), run(fake, film, "--json"), shotlang("status", str(film), env=fake.env()),
               shotlang("plan", str(film), env=fake.env()),
               shotlang("run", str(film), *FAST, env={**fake.env(), "KLING_SECRET_KEY": "wrong-secret-0001"})]
    secrets = [fake.access_key, fake.secret_key, "wrong-secret-0001", *fake.stats.tokens_seen]
    assert len(secrets) > 3
    assert fake.stats.creates == 6, "the two shots refused for their gulls are never paid"
    texts = [o.stdout + o.stderr for o in outputs]
    texts += [p.read_bytes().decode("latin-1") for p in film.parent.rglob("*") if p.is_file()]
    for secret in secrets:
        for text in texts:
            assert secret not in text


# --- plan, status, cost ------------------------------------------------------------------------


def test_plan_needs_no_credentials_and_sends_nothing(film: Path) -> None:
    done = shotlang("plan", str(film))
    assert done.returncode == 0, done.stderr
    assert "8 generations to submit" in done.stdout
    plan = json.loads(shotlang("plan", str(film), "--json").stdout)
    assert plan["generations"] == 8
    # lighthouse.shot: 6 shots of kling-v2-6 and 1 of kling-v2-master, 10 s by default, 2 at 5 s
    assert plan["credits"] == sum(s["credits"] for s in plan["shots"])
    assert {"model": "kling-v2-master", "mode": "std", "seconds": 10} in plan["seconds"]
    assert plan["assumed_prices"] == []  # every model here has its own price (docs/running.md)
    # kling-v2-6 by mode, length and sound; never kling-v2-master's price (20 for 10 s).
    assert [(s["shot"], s["audio"], s["credits"]) for s in plan["shots"]][-2:] == [
        ("calm", None, 5), ("farewell", "sound", 10)]


def test_prices_can_be_overridden_in_the_config_file(film: Path, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[prices]\nusd_per_credit = 0.1\n[prices.kling-v2-6]\nstd-5s = 1\nstd-10s = 2\n'
                      'pro-5s = 3\npro-10s = 6\n')
    plan = json.loads(shotlang("plan", str(film), "--json", env={"SHOTLANG_CONFIG": str(config)}).stdout)
    # DEFAULTS 10s pro; approach is 5s; logbook and spiral come after DEFAULTS std.
    # farewell has sound: pro-10s-sound is not in the config, so it keeps the built-in price.
    assert [s["credits"] for s in plan["shots"] if s["model"] == "kling-v2-6"] == [6, 3, 6, 2, 2, 6, 10]
    assert plan["assumed_prices"] == []
    assert plan["usd"] == round(plan["credits"] * 0.1, 2)


def test_max_cost_refuses_to_start(fake: FakeKling, film: Path) -> None:
    done = run(fake, film, "--max-cost", "5")
    assert done.returncode == 2 and "over --max-cost" in done.stderr
    assert fake.stats.create_requests == 0
    done = run(fake, film, "--max-cost", "$0.50")
    assert done.returncode == 2
    assert run(fake, film, "--only", "lamp", "--max-cost", "1000").returncode == 0
    assert fake.stats.creates == 1


def test_status_shows_and_refreshes_the_state(fake: FakeKling, film: Path) -> None:
    fake.inject(Fault("hold", times=None))
    done = run(fake, film, "--only", "lamp", "--timeout", "0.2")
    assert done.returncode == 4
    offline = shotlang("status", str(film), "--offline", "--json")
    lamp = next(r for r in json.loads(offline.stdout) if r["shot"] == "lamp")
    assert lamp["status"] in ("submitted", "processing") and lamp["plan"] == "in flight"
    fake.release()  # the generation ends: the next look reports it
    refreshed = shotlang("status", str(film), "--json", env=fake.env())
    lamp = next(r for r in json.loads(refreshed.stdout) if r["shot"] == "lamp")
    assert lamp["status"] == "succeed" and lamp["plan"] == "download"
    never = next(r for r in json.loads(refreshed.stdout) if r["shot"] == "storm")
    assert never["status"] == "never run" and never["plan"] == "new"
    assert fake.stats.creates == 1
