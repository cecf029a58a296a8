"""The run engine's promises under hostile conditions (issue 7), each through the real CLI as a
process against the local Kling server, counting what was paid (creates) every time:
answers that are not Kling replies, lagging lookups, --force and interruptions, foreign hosts in
a state file, local errors, two processes on one file, the account's concurrency limit, slow
drips, split signatures, replaced videos, permissions, echoed secrets and odd statuses."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from runs import (
    FAST,
    as_in_a_terminal,
    assert_all_downloaded,
    cli_env,
    run,
    shotlang,
    shots_in,
    start,
    start_run,
    temporary_files,
    video_partials,
    wait_for,
)

from shotlang.engine.state import state_path
from shotlang.testing import VIDEO, FakeKling, Fault

CALM = "washed-out morning light"  # words of the prompt of the shot `calm` in lighthouse.shot


def state_of(film: Path) -> dict[str, dict[str, object]]:
    return json.loads(state_path(film).read_text())["shots"]  # type: ignore[no-any-return]


def no_partials(folder: Path) -> bool:
    """No unfinished write of any kind: neither a video's nor the state file's."""
    return not temporary_files(folder)


# --- 1. an answer shotlang cannot read is "unknown", never "not created" ------------------------

NOT_KLING_REPLIES = [
    pytest.param(200, b"<html><body>502 Bad Gateway</body></html>", id="200-html"),
    pytest.param(200, b'{"code": 0, "message": "SUCCEED", "data": {"task_', id="200-truncated-json"),
    pytest.param(200, b'{"code": 9999, "message": "something new"}', id="200-unknown-code"),
    pytest.param(400, b"<html>Bad Request</html>", id="400-html"),
    pytest.param(403, b"", id="403-empty"),
    pytest.param(408, b"<html>Request Timeout</html>", id="408-html"),
]


@pytest.mark.parametrize(("http", "body"), NOT_KLING_REPLIES)
def test_an_unreadable_answer_to_a_create_is_looked_up_not_paid_again(fake: FakeKling, film: Path, http: int,
                                                                      body: bytes) -> None:
    fake.inject(Fault("garble", on="create", http=http, body=body, times=1))
    done = run(fake, film, "--only", "lamp")
    assert done.returncode == 0, done.stdout + done.stderr
    assert fake.stats.creates == 1
    again = run(fake, film, "--only", "lamp")
    assert again.returncode == 0 and fake.stats.creates == 1, "never paid twice"
    assert (film.parent / "lamp.mp4").read_bytes() == VIDEO


def test_a_duplicate_refusal_with_a_lagging_lookup_is_not_a_failure(fake: FakeKling, film: Path) -> None:
    # The answer to the create is lost; the retried create is refused as "external_task_id
    # already exists"; the lookup by that id answers 404 once before it finds the task.
    fake.inject(Fault("lose", on="create", times=1), Fault("lag", on="query", times=1))
    done = run(fake, film, "--only", "lamp")
    assert done.returncode == 0, done.stdout + done.stderr
    assert run(fake, film, "--only", "lamp").returncode == 0
    assert fake.stats.creates == 1


@pytest.mark.slow
def test_a_shot_left_submitting_stays_unknown_while_its_lookup_fails(fake: FakeKling, film: Path) -> None:
    assert run(fake, film, "--only", "lamp").returncode == 0
    state = json.loads(state_path(film).read_text())
    state["shots"]["lamp"].update(status="submitting", task_id=None, file=None, result_url=None)
    state_path(film).write_text(json.dumps(state))
    (film.parent / "lamp.mp4").unlink()
    fake.inject(Fault("error", on="query", http=500, code=5000, times=None))
    done = run(fake, film, "--only", "lamp")
    assert done.returncode == 4
    assert "pending" in done.stdout and state_of(film)["lamp"]["status"] == "submitting", "not `failed`"
    fake.clear_faults()
    assert run(fake, film, "--only", "lamp").returncode == 0
    assert fake.stats.creates == 1 and (film.parent / "lamp.mp4").read_bytes() == VIDEO


# --- 2. --force resumes what it started ----------------------------------------------------------


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
@pytest.mark.slow
def test_force_interrupted_and_run_again_pays_once(fake: FakeKling, film: Path, sig: signal.Signals) -> None:
    assert run(fake, film, "--only", "lamp", "--only", "calm").returncode == 0
    assert fake.stats.creates == 2
    # --concurrency 1: lamp's forced generation finishes, calm's is still generating (held).
    fake.inject(Fault("hold", match=CALM, times=None))
    process = start_run(fake, film, "--force", "lamp", "--force", "calm", "--only", "lamp", "--only", "calm",
                        "--concurrency", "1")
    wait_for(lambda: fake.stats.creates == 4)
    process.send_signal(sig)
    _out, err = process.communicate(timeout=30)
    assert process.returncode == (130 if sig == signal.SIGINT else 143), err
    assert "Traceback" not in err and no_partials(film.parent)
    # A run of another shot in between does not forget what the interrupted --force made.
    assert run(fake, film, "--only", "farewell").returncode == 0
    assert fake.stats.creates == 5
    fake.clear_faults()
    assert fake.release() == 1  # calm's forced generation ends
    done = run(fake, film, "--force", "lamp", "--force", "calm", "--only", "lamp", "--only", "calm")
    assert done.returncode == 0, done.stdout + done.stderr
    assert fake.stats.creates == 5, "the forced generations were resumed, not bought again"
    assert all(n == 1 for n in fake.stats.by_external_id.values())
    # Once that run has finished, --force asks for a new generation again.
    assert run(fake, film, "--force", "lamp", "--only", "lamp").returncode == 0
    assert fake.stats.creates == 6


def test_two_forced_runs_started_together_pay_once(fake: FakeKling, film: Path) -> None:
    assert run(fake, film, "--only", "lamp").returncode == 0
    fake.inject(Fault("hold", times=None))  # the run that takes the file keeps it until released
    first = start_run(fake, film, "--force", "lamp", "--only", "lamp")
    second = start_run(fake, film, "--force", "lamp", "--only", "lamp")
    wait_for(lambda: first.poll() is not None or second.poll() is not None)
    fake.clear_faults()
    fake.release()
    results = [p.communicate(timeout=60) for p in (first, second)]
    codes = sorted([first.returncode, second.returncode])
    assert codes == [0, 7], results
    busy = next(err for (_out, err), p in zip(results, (first, second), strict=True) if p.returncode == 7)
    assert "in use by another shotlang run (pid" in busy
    assert fake.stats.creates == 2


# --- 3. nothing read from a state file chooses where a token goes -------------------------------


@pytest.mark.parametrize(("key", "value"), [("endpoint", "http://127.0.0.1:{port}/collect"),
                                            ("endpoint", "/v1/other"), ("task_id", "../../collect"),
                                            ("external_task_id", "http://127.0.0.1:{port}/x")])
def test_status_and_run_send_no_token_where_the_state_file_says(fake: FakeKling, film: Path, key: str,
                                                                value: str) -> None:
    with FakeKling() as foreign:
        with FakeKling(polls=2) as slow:
            slow.inject(Fault("hold"))
            assert run(slow, film, "--only", "lamp", "--timeout", "0.2").returncode == 4
            assert slow.stats.creates == 1
        state = json.loads(state_path(film).read_text())
        state["shots"]["lamp"][key] = value.format(port=foreign.url.rsplit(":", 1)[1])
        state_path(film).write_text(json.dumps(state))
        for args in (["status", str(film)], ["run", str(film), *FAST]):
            done = shotlang(*args, env=fake.env())
            assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
            assert "lamp" in done.stderr
        assert foreign.stats.requests == 0 and fake.stats.requests == 0


# --- 4. a local error stops the run, with its own exit code --------------------------------------


def test_an_out_folder_that_cannot_be_made_stops_before_paying(fake: FakeKling, film: Path) -> None:
    done = run(fake, film, "--out", str(film / "videos"))
    assert done.returncode == 6 and "nothing sent" in done.stderr and "Traceback" not in done.stderr
    assert fake.stats.create_requests == 0


def test_a_folder_where_a_video_should_go_stops_before_paying(fake: FakeKling, film: Path) -> None:
    (film.parent / "lamp.mp4").mkdir()
    done = run(fake, film)
    assert done.returncode == 6 and "lamp.mp4" in done.stderr and "Traceback" not in done.stderr
    assert fake.stats.create_requests == 0


def test_a_state_folder_that_cannot_be_written_stops_before_paying(fake: FakeKling, film: Path) -> None:
    (film.parent / "film.shot.state.journal").mkdir()
    done = run(fake, film)
    assert done.returncode == 6 and "Traceback" not in done.stderr, done.stderr
    assert fake.stats.create_requests == 0


@pytest.mark.parametrize("limit", [1500, 2000])  # the journal fills first, or the first video (2 KB) fails
def test_a_file_size_limit_mid_run_stops_submitting_and_the_next_run_finishes(fake: FakeKling, film: Path,
                                                                              limit: int) -> None:
    import resource

    def small_files() -> None:  # as on a full disk
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    done = subprocess.run([sys.executable, "-m", "shotlang", "run", str(film), *FAST, "--concurrency", "1"],
                          env=cli_env(fake.env()), capture_output=True, text=True, timeout=120,
                          preexec_fn=small_files)
    assert done.returncode == 6, done.stdout + done.stderr
    assert "Traceback" not in done.stderr and "the run stopped" in done.stderr
    assert fake.stats.creates <= 2, "submitting stopped at the first local error"
    assert "stopped" in done.stdout, "the summary is shown"
    again = run(fake, film)
    assert again.returncode == 0, again.stdout + again.stderr
    assert fake.stats.creates == 8 and all(n == 1 for n in fake.stats.by_external_id.values())
    assert_all_downloaded(film)


def test_a_state_file_that_is_not_utf8_is_refused_plainly(fake: FakeKling, film: Path) -> None:
    state_path(film).write_bytes(b'{"shotlang_state": 1, "source": "\xff\xfe"}')
    for args in (["run", str(film), *FAST], ["plan", str(film)], ["status", str(film)]):
        done = shotlang(*args, env=fake.env())
        assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
        assert "state" in done.stderr
    assert fake.stats.create_requests == 0


def test_a_state_file_of_another_shot_list_is_refused(fake: FakeKling, film: Path) -> None:
    assert run(fake, film, "--only", "lamp").returncode == 0
    other = film.with_name("other.shot")
    other.write_text(film.read_text())
    state_path(other).write_text(state_path(film).read_text())
    done = run(fake, other, "--only", "lamp")
    assert done.returncode == 2 and "belongs to film.shot" in done.stderr
    assert fake.stats.creates == 1


def test_a_redirect_loop_on_a_video_fails_that_shot_only(fake: FakeKling, film: Path) -> None:
    fake.inject(Fault("redirect", on="download", times=None))
    done = run(fake, film, "--only", "lamp")
    assert done.returncode == 4 and "Traceback" not in done.stderr
    assert "redirect" in done.stdout
    fake.clear_faults()
    assert run(fake, film, "--only", "lamp").returncode == 0
    assert fake.stats.creates == 1 and (film.parent / "lamp.mp4").read_bytes() == VIDEO


# --- 5. two runs on one file -------------------------------------------------------------------


def test_a_second_run_on_the_same_file_is_refused_and_nothing_is_lost(fake: FakeKling, film: Path) -> None:
    names = shots_in(film)
    fake.inject(Fault("hold", times=None))  # the first run is mid-flight while the second starts
    first = start_run(fake, film, *[a for n in names[:4] for a in ("--only", n)])
    wait_for(lambda: fake.stats.creates >= 1)
    second = run(fake, film, *[a for n in names[4:] for a in ("--only", n)])
    assert second.returncode == 7 and f"pid {first.pid}" in second.stderr
    fake.clear_faults()
    fake.release()
    first.communicate(timeout=60)
    assert first.returncode == 0
    again = run(fake, film, *[a for n in names[4:] for a in ("--only", n)])
    assert again.returncode == 0
    assert sorted(state_of(film)) == sorted(names) and fake.stats.creates == 8


# --- 7. at the account's limit -----------------------------------------------------------------


@pytest.mark.slow
def test_over_the_accounts_concurrency_the_run_adapts_instead_of_hammering(film: Path) -> None:
    with FakeKling(task_seconds=0.4, max_running=2) as server:
        done = run(server, film, "--concurrency", "8", "--poll-interval", "0.2")
        assert done.returncode == 0, done.stdout + done.stderr
        assert server.stats.creates == 8 and server.stats.peak_running <= 2
        assert server.stats.refused_concurrency <= 8, "a 1303 lowers the concurrency; it is not retried blindly"
        assert (server.stats.queries + server.stats.lists) / 8 <= 2, "at most two status queries a shot"
        assert_all_downloaded(film)


# --- 8. smaller promises -----------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("where", ["query", "download"])
def test_timeout_bounds_a_slow_drip(fake: FakeKling, film: Path, where: str) -> None:
    fake.inject(Fault("drip", on=where, seconds=1.0, times=None))  # type: ignore[arg-type]
    started = time.monotonic()
    done = run(fake, film, "--only", "lamp", "--timeout", "3", "--poll-interval", "0.3")
    assert time.monotonic() - started < 12, "--timeout 3 bounds the whole task"
    assert done.returncode == 4 and "Traceback" not in done.stderr
    assert no_partials(film.parent) and fake.stats.creates == 1


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_the_first_signal_stops_promptly_during_a_slow_download(fake: FakeKling, film: Path, sig: signal.Signals,
                                                                code: int) -> None:
    fake.inject(Fault("drip", on="download", seconds=1.0, times=None))
    process = start_run(fake, film, "--only", "lamp")
    wait_for(lambda: video_partials(film.parent))
    assert [p.name.split(".")[1] for p in video_partials(film.parent)] == ["lamp"], "caught mid-download"
    started = time.monotonic()
    process.send_signal(sig)
    _out, err = process.communicate(timeout=30)
    assert time.monotonic() - started < 4
    assert process.returncode == code and "Traceback" not in err
    assert no_partials(film.parent), "no partial download is left behind"
    assert json.loads(state_path(film).read_text())["shots"]["lamp"]["status"] == "succeed"
    assert fake.stats.creates == 1


def test_the_mp4_signature_is_checked_however_the_bytes_arrive(fake: FakeKling, film: Path) -> None:
    page = b"<html><body>this is not a video, it is an error page</body></html>"
    fake.inject(Fault("split", on="download", body=page, times=None))
    done = run(fake, film, "--only", "lamp")
    assert done.returncode == 4 and "not an MP4" in done.stdout
    assert not (film.parent / "lamp.mp4").exists()
    fake.clear_faults()
    assert run(fake, film, "--only", "lamp").returncode == 0
    fake.inject(Fault("split", on="download", body=page, times=None))
    assert run(fake, film, "--only", "lamp", "--force", "lamp").returncode == 4
    assert (film.parent / "lamp.mp4").read_bytes() == VIDEO, "a bad download never replaces a good video"
    assert fake.stats.creates == 2, "a bad download is fetched again, not generated again"


def test_a_video_replaced_after_success_is_downloaded_again_beside_it(fake: FakeKling, film: Path, tmp_path: Path) -> None:
    assert run(fake, film, "--only", "lamp", "--only", "calm").returncode == 0
    (film.parent / "lamp.mp4").write_bytes(b"something else entirely, of another size")
    elsewhere = tmp_path / "elsewhere.mp4"
    elsewhere.write_bytes(VIDEO)
    (film.parent / "calm.mp4").unlink()
    (film.parent / "calm.mp4").symlink_to(elsewhere)
    plan = json.loads(shotlang("plan", str(film), "--json", "--only", "lamp", "--only", "calm").stdout)
    assert {s["shot"]: s["action"] for s in plan["shots"]} == {"lamp": "download", "calm": "download"}
    assert run(fake, film, "--only", "lamp", "--only", "calm").returncode == 0
    # Fetched again, beside what is there now: a run never replaces a file it did not write for
    # this take (issue 20), nor writes through a link.
    assert (film.parent / "lamp.mp4").read_bytes() == b"something else entirely, of another size"
    assert (film.parent / "lamp.2.mp4").read_bytes() == VIDEO
    assert (film.parent / "calm.mp4").is_symlink() and elsewhere.read_bytes() == VIDEO
    assert not (film.parent / "calm.2.mp4").is_symlink() and (film.parent / "calm.2.mp4").read_bytes() == VIDEO
    assert fake.stats.creates == 2


def test_videos_and_state_get_the_permissions_of_the_umask(fake: FakeKling, film: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "shotlang", "run", str(film), *FAST, "--only", "lamp"],
                          env=cli_env(fake.env()), capture_output=True, text=True, timeout=120,
                          preexec_fn=lambda: os.umask(0o022))
    assert done.returncode == 0 and fake.stats.creates == 1
    for path in (film.parent / "lamp.mp4", state_path(film)):
        assert stat.S_IMODE(path.stat().st_mode) == 0o644, path


def test_a_symlinked_state_file_is_written_through(fake: FakeKling, film: Path, tmp_path: Path) -> None:
    assert run(fake, film, "--only", "lamp").returncode == 0
    real = tmp_path / "kept" / "real.json"
    real.parent.mkdir()
    state_path(film).rename(real)
    state_path(film).symlink_to(real)
    assert run(fake, film, "--only", "calm").returncode == 0
    assert state_path(film).is_symlink(), "the link is kept"
    assert sorted(json.loads(real.read_text())["shots"]) == ["calm", "lamp"]
    assert fake.stats.creates == 2


def test_a_dangling_state_symlink_is_refused_plainly(fake: FakeKling, film: Path, tmp_path: Path) -> None:
    state_path(film).symlink_to(tmp_path / "nowhere.json")
    done = run(fake, film, "--only", "lamp")
    assert done.returncode == 2 and "does not exist" in done.stderr and "Traceback" not in done.stderr
    assert fake.stats.create_requests == 0


def test_an_api_message_that_echoes_the_authorization_header_is_redacted(fake: FakeKling, film: Path) -> None:
    fake.inject(Fault("echo", on="create", http=400, code=1301, times=1))
    done = run(fake, film, "--only", "lamp", "--json")
    assert done.returncode == 4
    assert fake.stats.tokens_seen or fake.stats.authorizations
    texts = [done.stdout, done.stderr, state_path(film).read_text()]
    for secret in [*fake.stats.tokens_seen, *(a.removeprefix("Bearer ") for a in fake.stats.authorizations),
                   fake.access_key, fake.secret_key]:
        assert all(secret not in text for text in texts)
    assert "<redacted>" in done.stdout
    assert fake.stats.creates == 0, "the refused create is not paid"


@pytest.mark.slow
def test_a_senseless_retry_after_is_ignored(fake: FakeKling, film: Path) -> None:
    # Obeyed, `Retry-After: inf` would wait the backoff's cap (30 s with --retry-base 1) twice.
    # (nan and negative values, which an old client turned into no wait at all, are checked on
    # the client itself in test_client.py: they cannot be told apart from jitter end to end.)
    fake.inject(Fault("error", on="create", http=429, code=1302, times=2, retry_after=float("inf")))
    started = time.monotonic()
    done = shotlang("run", str(film), "--poll-interval", "0.05", "--retry-base", "1", "--only", "lamp",
                    env=fake.env())
    assert done.returncode == 0 and time.monotonic() - started < 20
    assert fake.stats.creates == 1


@pytest.mark.parametrize("status", ["canceled", "SUCCEED"])
def test_an_unknown_task_status_is_reported_and_left_resumable(fake: FakeKling, film: Path, status: str) -> None:
    fake.inject(Fault("status", match="brass lens", status=status, times=None))
    started = time.monotonic()
    done = run(fake, film, "--only", "lamp")
    assert time.monotonic() - started < 20, "not polled forever"
    assert done.returncode == 4 and f"`{status}`" in done.stdout and "pending" in done.stdout
    assert state_of(film)["lamp"]["status"] in ("submitted", "processing")
    again = run(fake, film, "--only", "lamp")
    assert again.returncode == 4 and fake.stats.creates == 1, "asked again, not paid again"
    fake.clear_faults()
    forced = run(fake, film, "--only", "lamp", "--force", "lamp")
    assert forced.returncode == 0 and fake.stats.creates == 2, "--force makes it again, as the message says"


START_UP_ENV = {"KLING_API_BASE": "http://127.0.0.1:9", "KLING_ACCESS_KEY": "a", "KLING_SECRET_KEY": "b"}


@pytest.mark.parametrize("module", ["click._compat", "shotlang.compiler.kling", "shotlang.compiler.vocabulary"])
def test_ctrl_c_during_start_up_exits_130_without_a_traceback(film: Path, module: str) -> None:
    # Python says each module it has imported (-X importtime, on stderr): the Ctrl-C lands at a
    # known point of shotlang's imports however busy the machine, not after a guessed delay.
    process = subprocess.Popen([sys.executable, "-X", "importtime", "-m", "shotlang", "run", str(film), *FAST],
                               env=cli_env(START_UP_ENV), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, preexec_fn=as_in_a_terminal)
    assert process.stderr is not None
    for line in process.stderr:
        if line.startswith("import time:") and line.rsplit("|", 1)[-1].strip() == module:
            break
    process.send_signal(signal.SIGINT)
    _out, err = process.communicate(timeout=30)
    assert process.returncode == 130, err
    assert "Traceback" not in err


def test_ctrl_c_while_reading_the_shot_list_exits_130(tmp_path: Path) -> None:
    # A named pipe holds the command at a known point of its start-up: reading its input.
    fifo = tmp_path / "film.shot"
    os.mkfifo(fifo)
    process = start("run", str(fifo), *FAST, env=START_UP_ENV)
    writer = -1

    def reader_is_waiting() -> bool:  # opening the write end succeeds once shotlang opened the read end
        nonlocal writer
        try:
            writer = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError:
            return False
        return True

    wait_for(reader_is_waiting, 30)
    time.sleep(0.1)  # shotlang now waits in read() for the text that never comes
    process.send_signal(signal.SIGINT)
    _out, err = process.communicate(timeout=30)
    os.close(writer)
    assert process.returncode == 130, err
    assert err.strip() == "shotlang: interrupted"


@pytest.mark.slow
def test_a_run_sharing_the_video_folder_leaves_the_other_runs_download_alone(fake: FakeKling, film: Path) -> None:
    other = film.with_name("other.shot")
    other.write_text(film.read_text())
    videos = film.parent / "videos"
    fake.inject(Fault("drip", on="download", seconds=0.002, times=1))  # about 4 s for 2 KB
    first = start_run(fake, film, "--only", "lamp", "--out", str(videos))
    wait_for(lambda: video_partials(videos))
    second = run(fake, other, "--only", "lamp", "--out", str(videos))
    assert second.returncode == 0, second.stdout + second.stderr
    out, err = first.communicate(timeout=60)
    assert first.returncode == 0, out + err
    assert (videos / "lamp.mp4").read_bytes() == VIDEO and no_partials(videos)
    assert fake.stats.creates == 1, "the same shot, the same external id: paid once for both lists"


def test_status_shows_no_terminal_escapes_from_a_state_file(fake: FakeKling, film: Path) -> None:
    fake.inject(Fault("fail_task", match="brass lens", message="generation failed"))
    assert run(fake, film, "--only", "lamp").returncode == 4
    state = json.loads(state_path(film).read_text())
    state["shots"]["lamp"]["status_msg"] = "\x1b]0;owned\x07\x1b[2J\u202eredaeh\x9b31m failed"
    state_path(film).write_text(json.dumps(state))
    done = shotlang("status", str(film), "--offline")
    assert done.returncode == 0
    assert not any(c in done.stdout for c in "\x1b\x07\x9b\u202e") and "failed" in done.stdout
    assert fake.stats.creates == 1


def test_status_during_a_run_shows_the_journal_and_asks_the_api_nothing(fake: FakeKling, film: Path) -> None:
    fake.inject(Fault("hold"))  # the run is mid-flight until released
    process = start_run(fake, film, "--only", "lamp")
    wait_for(lambda: fake.stats.queries + fake.stats.lists >= 1)  # the task is recorded: the run polls it
    # status is pointed at a server of its own: any question it asked the API would land there.
    with FakeKling(polls=2) as elsewhere:
        done = shotlang("status", str(film), "--json", env=elsewhere.env())
    assert done.returncode == 0 and f"a run is in progress (pid {process.pid}" in done.stderr
    lamp = next(r for r in json.loads(done.stdout) if r["shot"] == "lamp")
    assert lamp["status"] in ("submitted", "processing"), "read from the running run's journal"
    assert elsewhere.stats.requests == 0, "status asked the API nothing"
    assert fake.release() == 1
    process.communicate(timeout=60)
    assert process.returncode == 0 and fake.stats.creates == 1
