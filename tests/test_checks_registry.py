"""The checks of a shot register themselves with the codes they give (checks.shot_check): every
code the checks module can give belongs to a registered check, and each is a code `explain` knows."""

from __future__ import annotations

import re
from pathlib import Path

from shotlang.compiler import checks
from shotlang.compiler.diagnostics import CODES


def test_every_code_the_checks_give_is_registered_with_a_check() -> None:
    # the codes the checks' bodies give (not those their registrations declare)
    source = "\n".join(line for line in Path(checks.__file__).read_text(encoding="utf-8").splitlines()
                       if not line.startswith(("@shot_check(", "SEQUENCE_CODES")))
    given = set(re.findall(r'"([EW]\d{3})"', source))
    registered = set().union(*(c.codes for c in checks.SHOT_CHECKS)) | checks.SEQUENCE_CODES
    assert given == registered, (sorted(given - registered), sorted(registered - given))


def test_every_registered_code_is_explained() -> None:
    for check in checks.SHOT_CHECKS:
        assert check.codes and check.codes <= set(CODES), (check.name, sorted(check.codes - set(CODES)))


def test_each_check_is_registered_once_under_its_own_name() -> None:
    names = [c.name for c in checks.SHOT_CHECKS]
    assert len(names) == len(set(names)) and "name" in names and "strength" in names
