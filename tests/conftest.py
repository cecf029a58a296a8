from __future__ import annotations

import sys
from pathlib import Path

import pytest

# The tests import `shotlang` as installed (pytest runs with --import-mode=importlib, so the
# source tree is not put on sys.path) and their shared helpers from this folder.
sys.path.insert(0, str(Path(__file__).resolve().parent))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true",
                     help="rewrite tests/golden/ from the compiler's current output")


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))
