from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

# The tests import `shotlang` as installed (pytest runs with --import-mode=importlib, so the
# source tree is not put on sys.path) and their shared helpers from this folder.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from browser import Browser, executable  # noqa: E402
from runs import EXAMPLES  # noqa: E402

from shotlang.testing import FakeKling  # noqa: E402

# Hypothesis profiles, chosen by HYPOTHESIS_PROFILE: "quick" (the default) for everyday runs,
# "ci" (which .ci/run exports) for hypothesis's full 100 examples. A property test asks for a
# multiple of the profile's count (`20 * settings.default.max_examples`: 2,000 in CI, 200 when
# quick), so every test keeps its strength in CI and shares the saving everywhere else.
# No user's models file (~/.config/shotlang/models.toml) may change what the tests see.
os.environ["SHOTLANG_MODELS"] = os.devnull  # an empty models file anyone may read: no user's own
# The tests start the CLI as a process a few thousand times. Each would compile shotlang's
# modules again where bytecode is not written (PYTHONDONTWRITEBYTECODE, a read-only install):
# about 0.12 s a process. The processes keep their bytecode in one folder of the session
# instead, outside the source tree.
# (One folder per user, kept from run to run: Python checks each file's bytecode against its
# source, and writes it atomically, so runs side by side and edits between runs are safe.)
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
os.environ.setdefault("PYTHONPYCACHEPREFIX", str(Path(tempfile.gettempdir()) / f"shotlang-tests-pycache-{os.getuid()}"))

settings.register_profile("ci", max_examples=100)
settings.register_profile("quick", max_examples=10)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "quick"))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true",
                     help="rewrite tests/golden/ from the compiler's current output")


# The everyday suite leaves out the tests marked `slow` (a browser, node, seconds of real time
# on a server, benchmarks, 50 MB inputs): SHOTLANG_FULL_SUITE=1 runs them too, as .ci/run does,
# and so does asking for tests by name (a node id, `-k`), by mark (`-m slow`) or `--lf`.
FULL_SUITE = os.environ.get("SHOTLANG_FULL_SUITE") == "1"


# Tests that drive a browser or node are slow whatever their marks say.
_SLOW_FIXTURES = frozenset({"chromium", "node", "tokenize"})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if _SLOW_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)
    # Asked for by name (a node id, -k), by mark (-m), or again after a failure (--lf): run them.
    if (FULL_SUITE or config.getoption("markexpr") or config.getoption("keyword") or config.getoption("lf", default=False)
            or any("::" in arg for arg in config.args)):
        return
    slow = [item for item in items if item.get_closest_marker("slow") is not None]
    if slow:
        config.hook.pytest_deselected(items=slow)
        items[:] = [item for item in items if item.get_closest_marker("slow") is None]


def pytest_report_header(config: pytest.Config) -> str:
    if FULL_SUITE:
        return "shotlang: the full suite (SHOTLANG_FULL_SUITE=1)"
    return "shotlang: the everyday suite, tests marked slow left out (SHOTLANG_FULL_SUITE=1 runs every test)"


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


@pytest.fixture
def fake() -> Iterator[FakeKling]:
    """A local Kling server whose tasks end at their second look (the first says `processing`):
    a run finishes as fast as it polls, and waits on no clock."""
    with FakeKling(polls=2) as server:
        yield server


@pytest.fixture
def film(tmp_path: Path) -> Path:
    """A copy of an example shot list in a fresh folder (its state and videos go beside it)."""
    shutil.copy(EXAMPLES / "lighthouse.shot", tmp_path / "film.shot")
    return tmp_path / "film.shot"


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    """Debian's Chromium, headless (tests/browser.py): one for the whole session. Without it
    the tests that need it skip, unless SHOTLANG_REQUIRE_BROWSER_TESTS=1 (as in .ci/run)."""
    path = executable()
    if path is None:
        if os.environ.get("SHOTLANG_REQUIRE_BROWSER_TESTS") == "1":
            pytest.fail("SHOTLANG_REQUIRE_BROWSER_TESTS=1, and no chromium is installed")
        pytest.skip("no Chromium: `apt-get install chromium` (or set SHOTLANG_CHROMIUM)")
    with Browser(path) as browser:
        yield browser
