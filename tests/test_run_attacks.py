"""Attacks on `shotlang run` and `status` found in review, each through the real CLI as a process
against the local Kling server: a resumed shot whose query drips, an account kept full by
another client, `status` against a dripping server, a forced shot whose download timed out, and
a machine with no room for a temporary file."""

from __future__ import annotations

import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest
from runs import FAST, cli_env, run, shotlang

from shotlang.testing import VIDEO, FakeKling, Fault


@pytest.mark.slow
def test_a_resumed_shot_whose_query_drips_is_bounded_by_timeout(film: Path) -> None:
    # The first query of a shot left in flight (or left to download) had no deadline.
    with FakeKling(task_seconds=3) as server:
        assert run(server, film, "--only", "lamp", "--timeout", "0.3").returncode == 4
        server.inject(Fault("drip", on="query", seconds=1.0, times=None))
        start = time.monotonic()
        done = run(server, film, "--only", "lamp", "--timeout", "3")
        assert time.monotonic() - start < 15, "--timeout 3 bounds a resumed task too"
        assert done.returncode == 4 and "Traceback" not in done.stderr
        server.clear_faults()
        assert run(server, film, "--only", "lamp").returncode == 0
        assert server.stats.creates == 1


@pytest.mark.slow
def test_an_account_kept_full_by_another_client_does_not_hang_past_timeout(fake: FakeKling, film: Path) -> None:
    # Every create refused 1303 while none of this run's tasks generates: it waited forever,
    # asking again every --poll-interval.
    fake.inject(Fault("error", on="create", http=429, code=1303, times=None))
    start = time.monotonic()
    done = shotlang("run", str(film), *FAST, "--only", "lamp", "--timeout", "2", env=fake.env(), timeout=60)
    assert time.monotonic() - start < 15, "--timeout 2 bounds the wait for the account"
    assert done.returncode == 4 and "pending" in done.stdout and "Traceback" not in done.stderr
    fake.clear_faults()
    assert run(fake, film, "--only", "lamp").returncode == 0
    assert fake.stats.creates == 1 and (film.parent / "lamp.mp4").read_bytes() == VIDEO


@pytest.mark.slow
def test_status_against_a_dripping_server_ends(film: Path) -> None:
    with FakeKling(task_seconds=3) as server:
        assert run(server, film, "--only", "lamp", "--timeout", "0.3").returncode == 4
        server.inject(Fault("drip", on="query", seconds=1.0, times=None))
        start = time.monotonic()
        shown = shotlang("status", str(film), "--timeout", "2", env=server.env(), timeout=90)
        assert time.monotonic() - start < 2 + 6, "status does not wait on a server forever"
        assert shown.returncode == 2 and "Traceback" not in shown.stderr
        server.clear_faults()
        assert run(server, film, "--only", "lamp").returncode == 0, "status left the state unlocked"
        assert server.stats.creates == 1


@pytest.mark.slow
def test_a_forced_shot_whose_download_timed_out_is_not_paid_for_again(fake: FakeKling, film: Path) -> None:
    assert run(fake, film, "--only", "lamp").returncode == 0
    fake.inject(Fault("drip", on="download", seconds=1.0, times=1))
    forced = run(fake, film, "--only", "lamp", "--force", "lamp", "--timeout", "2")
    assert forced.returncode == 4 and "pending" in forced.stdout
    assert fake.stats.creates == 2
    # The same command again downloads the generation already paid for.
    again = run(fake, film, "--only", "lamp", "--force", "lamp")
    assert again.returncode == 0, again.stdout + again.stderr
    assert fake.stats.creates == 2 and (film.parent / "lamp.mp4").read_bytes() == VIDEO
    # Once it is done, --force asks for a new generation again.
    assert run(fake, film, "--only", "lamp", "--force", "lamp").returncode == 0
    assert fake.stats.creates == 3


def test_no_room_for_a_temporary_file_is_no_traceback(fake: FakeKling, film: Path) -> None:
    # RLIMIT_FSIZE 0, as a full disk: no temporary folder is usable, which the parser's table
    # cache asked for first (a traceback, exit 1: "the shot list has errors").
    def no_room() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))

    done = subprocess.run([sys.executable, "-m", "shotlang", "run", str(film), *FAST, "--only", "lamp"],
                          env=cli_env(fake.env()), capture_output=True, text=True, timeout=120,
                          preexec_fn=no_room)
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 6, done.stderr
    assert fake.stats.create_requests == 0
    assert run(fake, film, "--only", "lamp").returncode == 0 and fake.stats.creates == 1
