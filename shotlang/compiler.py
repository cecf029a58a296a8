"""The compiler's driver and Python API: text in, checked requests and diagnostics out.

    parse (parser.py) -> resolve (lower.py) -> check (checks.py) -> records (records.py)
    -> envelope (payload.py, result.py)

The stages run statement by statement: each shot is parsed, resolved, checked and turned
into its JSON record before the next is read, so a 100k-shot file never holds all its syntax
trees at once. `check` stops before the records; the pydantic envelope and models (payload.py,
result.py) are imported only by `compile_*`, which keeps `check` quick to start.

Only reading the .shot file and its images touches the disk, and both happen here or through
the ImageStore passed in.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import checks, lower, parser
from .diagnostics import Diagnostic, Severity, render_text, sort_key, to_json
from .images import ImageStore
from .records import record
from .source import BOM, DecodeFailure, Source, decode

if TYPE_CHECKING:
    from .result import CompileResult


class Reports:
    """What a result says about its diagnostics; shared by Analysis and CompileResult."""

    source: Source
    diagnostics: list[Diagnostic]

    @property
    def name(self) -> str:
        return self.source.name

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity is Severity.WARNING]

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def shot_count(self) -> int:
        raise NotImplementedError

    def render(self, color: bool = False) -> str:
        """Every diagnostic, rustc-style, separated by blank lines."""
        return "\n\n".join(render_text(d, self.source, color) for d in self.diagnostics)

    def diagnostics_json(self) -> list[dict[str, object]]:
        return [to_json(d, self.source) for d in self.diagnostics]


@dataclass
class Analysis(Reports):
    """A file parsed, resolved and checked: its diagnostics and, if asked for, its records."""

    source: Source
    diagnostics: list[Diagnostic]
    title: str | None = None
    reading: str = "seed"
    shots: int = 0
    records: list[dict[str, Any]] | None = None  # the shots' JSON records, when asked for

    @property
    def shot_count(self) -> int:
        return self.shots


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cycle collector while a file compiles.

    What it buys: the compiler makes a few objects per token, none in reference cycles, so
    reference counting frees them all; but the cycle collector, triggered by the count of
    live objects, rescans everything alive again and again as a large file's trees grow,
    which made time per shot double from 1k to 10k shots. Paused, it stays linear.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def analyse(text: str, name: str, base_dir: Path, *, axes: str | None = None,
            images: ImageStore | None = None, records: bool = False) -> Analysis:
    """Parse, resolve and check `text`: every diagnostic, sorted by position; and with
    `records`, the JSON record of each shot (meaningful only if there is no error)."""
    source = Source(text.removeprefix(BOM), name)
    images = images or ImageStore()
    report: list[Diagnostic] = []
    resolver = lower.Resolver(report, reading=axes)
    checker = checks.Checker(base_dir, images, report)
    made: list[dict[str, Any]] | None = [] if records else None
    with gc_paused():
        for statement in parser.statements(source, report):
            shot = resolver.feed(statement)
            if shot is None:
                continue
            checker.check(shot, resolver.reading)
            if made is not None and shot.ok:
                made.append(record(shot, resolver.reading, base_dir, images))
    # A value inherited from DEFAULTS may draw the same warning for every shot: say it once.
    diagnostics = sorted(dict.fromkeys(report), key=sort_key)
    return Analysis(source, diagnostics, resolver.title, resolver.reading, resolver.shots, made)


def analyse_bytes(data: bytes, name: str, base_dir: Path, *, axes: str | None = None,
                  images: ImageStore | None = None, records: bool = False) -> Analysis:
    """As analyse, from raw bytes: UTF-8, a byte-order mark allowed."""
    try:
        text = decode(data)
    except DecodeFailure as bad:
        source = Source(bad.text, name)
        diagnostic = Diagnostic("E001", f"this byte is not UTF-8 ({bad.reason})",
                                source.span(bad.offset, bad.offset + 1), "save the file as UTF-8")
        return Analysis(source, [diagnostic])
    return analyse(text, name, base_dir, axes=axes, images=images, records=records)


def _place(path: str | Path | None, base_dir: Path | None) -> tuple[str, Path]:
    """The name diagnostics use, and the folder local images are read from."""
    name = str(path) if path is not None else "<input>"
    if base_dir is None:
        base_dir = Path(path).parent if path is not None else Path.cwd()
    return name, base_dir


def compile_text(text: str, path: str | Path | None = None, *, axes: str | None = None,
                 images: ImageStore | None = None) -> CompileResult:
    """Compile the text of a shot list.

    `path` names the file in diagnostics and is the folder local images are read from (the
    working folder if None). `axes` ("seed" or "official") overrides the file's AXES line.
    """
    from .result import finish

    name, base_dir = _place(path, None)
    with gc_paused():  # across both stages, so the collector does not wake up in between
        return finish(analyse(text, name, base_dir, axes=axes, images=images, records=True))


def compile_bytes(data: bytes, path: str | Path | None = None, *, axes: str | None = None,
                  images: ImageStore | None = None, base_dir: Path | None = None) -> CompileResult:
    """Compile a shot list's raw bytes: UTF-8, a byte-order mark allowed."""
    from .result import finish

    name, base_dir = _place(path, base_dir)
    with gc_paused():
        return finish(analyse_bytes(data, name, base_dir, axes=axes, images=images, records=True))


def compile_file(path: str | Path, *, axes: str | None = None) -> CompileResult:
    """Compile a .shot file. Raises OSError if it cannot be read."""
    return compile_bytes(Path(path).read_bytes(), path, axes=axes)
