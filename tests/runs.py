"""What the tests of `shotlang run` share: the CLI as a process, pointed at a local Kling server,
and a fresh copy of an example shot list (the fixtures `fake` and `film` are in conftest.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from shotlang import compile_file
from shotlang.testing import VIDEO, FakeKling

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
FAST = ["--poll-interval", "0.05", "--retry-base", "0.01"]


def cli_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """This environment without any real Kling settings or config file, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KLING_", "FAL_")) and k != "SHOTLANG_BACKEND"}
    env.update({"NO_COLOR": "1", "SHOTLANG_CONFIG": "/nonexistent/config.toml",
                "SHOTLANG_MODELS": os.devnull, **(extra or {})})  # an empty models file: no user's own
    return env


def shotlang(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None,
             timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "shotlang", *args], capture_output=True, text=True,
                          env=cli_env(env), cwd=cwd, timeout=timeout)


def run(fake: FakeKling, shot_file: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return shotlang("run", str(shot_file), *FAST, *args, env=fake.env())


def as_in_a_terminal() -> None:
    """Run in the child before exec: SIGINT back to its default, as for a command typed at a
    terminal. A shell starts a background job (`pytest &`, nohup, CI runners) with SIGINT
    ignored, an ignored signal stays ignored across exec, and Python then installs no
    KeyboardInterrupt handler: the Ctrl-C a test sends would do nothing."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """`shotlang ARGS` as a process the test can signal, its output piped; Ctrl-C reaches it."""
    return subprocess.Popen([sys.executable, "-m", "shotlang", *args], env=cli_env(env), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, preexec_fn=as_in_a_terminal)


def start_run(fake: FakeKling, shot_file: Path, *args: str) -> subprocess.Popen[str]:
    return start("run", str(shot_file), *FAST, *args, env=fake.env())


def kill_run_after(fake: FakeKling, shot_file: Path, creates: int, *args: str) -> None:
    """A run killed (-9) once the server has had `creates` create requests (or once it ended)."""
    process = start_run(fake, shot_file, *args)
    wait_for(lambda: fake.stats.create_requests >= creates or process.poll() is not None)
    os.kill(process.pid, signal.SIGKILL)
    process.communicate(timeout=10)


def wait_for(condition: Callable[[], object], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.01)


def shots_in(shot_file: Path) -> list[str]:
    """The names of the videos a run of the file makes (a sequence's is the sequence's)."""
    result = compile_file(shot_file)
    assert result.output is not None, result.render()
    return [record["name"] for record in result.output.records]


def video_partials(folder: Path) -> list[Path]:
    """Unfinished downloads: `.NAME.mp4.PID-RANDOM.part` (not the state file's temporary files)."""
    return sorted(folder.glob(".*.mp4.*.part"))


def temporary_files(folder: Path) -> list[Path]:
    """Every unfinished write shotlang leaves, a video's or the state file's: `.NAME.PID-RANDOM.part`."""
    return sorted(folder.glob(".*.part"))


def assert_all_downloaded(shot_file: Path) -> None:
    for name in shots_in(shot_file):
        video = shot_file.parent / f"{name}.mp4"
        assert video.read_bytes() == VIDEO, name
    assert not video_partials(shot_file.parent), "no partial download left behind"


