"""What a run shows (issue 8): a live display that fits the terminal and redraws in place,
network retries that name the host, the try and the wait, and files that honour the umask."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import select
import shutil
import stat
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest
from runs import EXAMPLES, FAST, cli_env, run, shotlang

from shotlang.engine.client import Retry
from shotlang.engine.progress import LiveReporter
from shotlang.testing import FakeKling, Fault


class _Sink:
    def __init__(self) -> None:
        self.text = ""

    def write(self, text: str) -> int:
        self.text += text
        return len(text)

    def flush(self) -> None:
        pass


def test_the_live_display_fits_the_screen_and_summarises_the_rest() -> None:
    names = [f"shot-{i:02d}" for i in range(40)]
    live = LiveReporter(names, stream=_Sink(), size=lambda: os.terminal_size((60, 24)))  # type: ignore[arg-type]
    for name in names[:14]:
        live.event(name, "done", f"{name}.mp4")
    for name in names[14:18]:
        live.event(name, "processing", "task")
    live.retrying("shot-15", Retry("api.example", "server error (HTTP 503)", 2, 8, 1.5))
    lines = live.lines(time.monotonic())
    live.close()
    assert len(lines) <= 23 and all(len(line) <= 59 for line in lines)
    assert [line.split()[0] for line in lines[:4]] == names[14:18], "the shots at work come first"
    assert re.fullmatch(r"  … and \d+ more: \d+ queued(, \d+ done)?", lines[-2]), lines[-2]
    assert "retrying api.example in 1.5s (try 2 of 8)" in lines[-1]


def test_a_short_list_is_shown_whole_in_its_order() -> None:
    names = ["a", "b", "c"]
    live = LiveReporter(names, stream=_Sink(), size=lambda: os.terminal_size((80, 24)))  # type: ignore[arg-type]
    live.event("c", "done", "c.mp4")
    assert [line.split()[0] for line in live.lines(time.monotonic())] == names
    live.close()


def _pty_run(args: list[str], env: dict[str, str], rows: int = 24, columns: int = 80) -> tuple[int, bytes]:
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    process = subprocess.Popen(args, stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True)
    os.close(slave)
    output = b""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the other side closed
                break
            if not chunk:
                break
            output += chunk
        elif process.poll() is not None:
            break
    os.close(master)
    return process.wait(timeout=30), output


@pytest.mark.slow
def test_a_40_shot_run_on_a_24_row_terminal_stays_within_the_screen(tmp_path: Path) -> None:
    film = tmp_path / "film.shot"
    lines = ['DEFAULTS 5s std'] + [f'SHOT s{i:02d}: slow pan right over "Shot {i}"' for i in range(40)]
    film.write_text("\n".join(lines) + "\n")
    with FakeKling(task_seconds=1.0) as server:
        code, output = _pty_run([sys.executable, "-m", "shotlang", "run", str(film), *FAST, "--concurrency", "8"],
                                cli_env({**server.env(), "TERM": "xterm"}))
        assert code == 0, output[-2000:]
        assert server.stats.creates == 40
    text = output.decode("utf-8", "replace").replace("\r\n", "\n")
    redraws = text.count("\x1b[J")
    assert redraws >= 3, "drawn in place, more than once"
    screen = 24 * 80
    assert len(output) / redraws < 3 * screen, "each redraw is at most about one screen"
    for frame in text.split("\x1b[J")[1:-1]:
        drawn = frame.split("\n")[:-1]
        assert len(drawn) <= 23 and all(len(line) < 80 for line in drawn), drawn
    summary = text.split("\x1b[J")[-1]
    assert summary.count("SHOT  STATUS") == 1 and summary.count(" done ") == 40, "one summary, at the end"


def test_retries_name_the_host_the_try_and_the_wait(fake: FakeKling, film: Path) -> None:
    fake.inject(Fault("error", on="create", http=503, code=5001, times=2))
    done = run(fake, film, "--only", "lamp", "--json")
    assert done.returncode == 0
    retries = [json.loads(line) for line in done.stdout.splitlines() if '"retry"' in line]
    # A create answered 503 may still have made the task: each is looked up, then sent again.
    assert len(retries) >= 2 and any("HTTP 503" in r["detail"] for r in retries)
    assert all(r["shot"] == "lamp" and r["host"] == "127.0.0.1" and 2 <= r["attempt"] <= r["attempts"]
               and r["wait"] >= 0 and r["detail"] for r in retries)
    lines = run(fake, film, "--only", "calm").stderr
    assert "calm: submitting" in lines


def test_no_network_is_not_silent(film: Path) -> None:
    done = shotlang("run", str(film), *FAST, "--only", "lamp",
                    env={"KLING_API_BASE": "http://127.0.0.1:9", "KLING_ACCESS_KEY": "a", "KLING_SECRET_KEY": "b"})
    assert done.returncode == 4
    retries = [line for line in done.stderr.splitlines() if "retrying 127.0.0.1" in line]
    assert len(retries) == 7 and "(try 2 of 8)" in retries[0] and "(try 8 of 8)" in retries[-1]
    assert "127.0.0.1" in done.stdout, "the summary names the host it could not reach"


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o077, 0o600)])
def test_compiled_json_honours_the_umask(tmp_path: Path, umask: int, mode: int) -> None:
    shutil.copy(EXAMPLES / "seed.shot", tmp_path / "seed.shot")
    done = subprocess.run([sys.executable, "-m", "shotlang", "compile", str(tmp_path / "seed.shot"), "-o",
                           str(tmp_path / "seed.json")], env=cli_env(), capture_output=True, text=True,
                          preexec_fn=lambda: os.umask(umask))
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE((tmp_path / "seed.json").stat().st_mode) == mode
