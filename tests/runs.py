"""What the tests of `shotlang run` share: the CLI as a process, pointed at a local Kling server,
and a fresh copy of an example shot list (the fixtures `fake` and `film` are in conftest.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from shotlang.testing import VIDEO, FakeKling

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
FAST = ["--poll-interval", "0.05", "--retry-base", "0.01"]


def cli_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """This environment without any real Kling settings or config file, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KLING_")}
    env.update({"NO_COLOR": "1", "SHOTLANG_CONFIG": "/nonexistent/config.toml", **(extra or {})})
    return env


def shotlang(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None,
             timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "shotlang", *args], capture_output=True, text=True,
                          env=cli_env(env), cwd=cwd, timeout=timeout)


def run(fake: FakeKling, shot_file: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return shotlang("run", str(shot_file), *FAST, *args, env=fake.env())


def shots_in(shot_file: Path) -> list[str]:
    return [line.split(":")[0].split()[1] for line in shot_file.read_text().splitlines()
            if line.startswith("SHOT ")]


def assert_all_downloaded(shot_file: Path) -> None:
    for name in shots_in(shot_file):
        video = shot_file.parent / f"{name}.mp4"
        assert video.read_bytes() == VIDEO, name
    assert not list(shot_file.parent.glob(".*.part")), "no partial download left behind"


