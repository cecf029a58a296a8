"""`shotlang pick`: the chosen take of a shot, written into the shot list itself.

`pick K` is a fact of the film, kept in version control with the shots: this edits the one
statement that names the shot, in place (a `pick` there gets its new number; else ` pick K` goes
after the statement's last option), and nothing else in the file moves. A pick past the shot's
`takes` raises them with it (a take `run --force` added is one of them). The edit is checked by
compiling both texts: every request stays as it was, only the shot's `pick` and `takes` change.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

from ..compiler import parser
from ..compiler import syntax as ast
from ..compiler.diagnostics import Diagnostic, did_you_mean
from ..compiler.pipeline import analyse
from ..compiler.source import BOM, Source
from ..compiler.trivia import mask


class Picked(NamedTuple):
    text: str  # the shot list with the pick
    line: int  # the line of the statement that changed
    takes: int  # the takes the shot now has


class NotPicked(ValueError):
    """Why the pick cannot be written: a message in plain words."""


def pick_text(text: str, shot: str, take: int, name: str, base_dir: Path, recorded: int = 0) -> Picked:
    """`text` with take `take` chosen for the SHOT or SEQUENCE `shot`. `recorded`: the takes a run
    has made of it (a take --force added is one), so a pick up to there is one of its takes."""
    body = text.removeprefix(BOM)
    before = analyse(body, name, base_dir, records=True)
    errors = [d for d in before.diagnostics if d.severity == "error"]
    if errors:
        raise NotPicked(f"{name} has errors; fix them first (`shotlang check {name}`)")
    report: list[Diagnostic] = []
    found = None
    names = []
    for _start, _end, statement in parser.placed_statements(Source(mask(body).text, name), report):
        if isinstance(statement, ast.Shot | ast.Sequence):
            names.append(statement.name.text)
            if statement.name.text.lower() == shot.lower():
                found = statement
    if found is None:
        hint = did_you_mean(shot, names)
        raise NotPicked(f"{name} has no shot `{shot}`" + (f" ({hint})" if hint else ""))
    record = next(r for r in before.records or () if r["name"].lower() == found.name.text.lower()
                  or found.name.text.lower() in (m.lower() for m in r.get("shots") or ()))
    if record["name"].lower() != found.name.text.lower():
        raise NotPicked(f"`{shot}` is a shot of the sequence `{record['name']}`, which is one video: "
                        f"pick a take of `{record['name']}`")
    takes = int(record.get("takes") or 1)
    if take > max(takes, recorded):
        raise NotPicked(f"`{shot}` has {max(takes, recorded)} take{'s' * (max(takes, recorded) != 1)}: write "
                        f"`takes {take}` on it, or `shotlang run --force {shot}` to add one, then pick it")
    edits: list[tuple[int, int, str]] = []  # (start, end, new text), in the statement
    options = {o.kind: o for o in found.options}
    for kind, number in (("pick", take), ("takes", max(takes, take))):
        if kind == "takes" and number == takes:
            continue
        option = options.get(kind)
        if option is not None:
            edits.append((option.value.span.start, option.value.span.end, str(number)))
        else:
            edits.append((found.span.end, found.span.end, f" {kind} {number}"))
    for start, end, new in sorted(edits, reverse=True):
        body = body[:start] + new + body[end:]
    after = analyse(body, name, base_dir, records=True)
    if any(d.severity == "error" for d in after.diagnostics) or not _same_but_the_pick(before.records, after.records,
                                                                                          record["name"]):
        raise NotPicked(f"writing `pick {take}` into {name} would change more than the pick; edit the file by hand")
    return Picked(BOM + body if text.startswith(BOM) else body, found.span.line, max(takes, take))


def _same_but_the_pick(before: list[dict[str, Any]] | None, after: list[dict[str, Any]] | None, shot: str) -> bool:
    strip = ("pick", "takes", "line")
    return [{k: v for k, v in r.items() if k not in strip or r["name"] != shot} for r in before or ()] == \
           [{k: v for k, v in r.items() if k not in strip or r["name"] != shot} for r in after or ()]


def pick_file(path: Path, shot: str, take: int, recorded: int = 0) -> Picked:
    """As pick_text, for the shot list at `path` (its bytes read as `check` reads them)."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise NotPicked(f"{path} is not UTF-8: `pick` rewrites UTF-8 shot lists only (save it as UTF-8)") from None
    return pick_text(text, shot, take, str(path), path.parent, recorded)
