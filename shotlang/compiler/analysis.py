"""What the compiler found in a file: its diagnostics, and what they say about it.

Shared by the compiler's Analysis (check) and the Python API's CompileResult (compile), which
both import it from here; nothing here imports the compiler.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .diagnostics import Diagnostic, Severity, render_text, to_json
from .models import Matrix
from .source import Source


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
        return render_all(self.diagnostics, color)

    def diagnostics_json(self) -> list[dict[str, object]]:
        return [to_json(d, d.span.source) for d in self.diagnostics]


def render_all(diagnostics: list[Diagnostic], color: bool = False) -> str:
    """Diagnostics, rustc-style, each shown in its own file (a shot list's, or the models
    file's it reads), separated by blank lines."""
    return "\n\n".join(render_text(d, d.span.source, color) for d in diagnostics)


@dataclass
class Analysis(Reports):
    """A file parsed, lowered and checked: its diagnostics and, if asked for, its records."""

    source: Source
    diagnostics: list[Diagnostic]
    title: str | None = None
    axes: str = "seed"
    shots: int = 0
    records: list[dict[str, Any]] | None = None  # the shots' JSON records, when asked for
    notes: list[str] | None = None  # the notes above the first shot, with the records
    # The capability matrix the checks used (the folder's models files read once): whatever acts
    # on the result (`run`'s plans and prices) takes this one, never a second reading.
    models: Matrix | None = None
    cast: list[dict[str, Any]] | None = None  # the CASTs' records (the bodies of their elements), with the records
    # The backend the records are for: `--backend`, else the file's BACKEND, else the default.
    backend: str = "kling"

    @property
    def shot_count(self) -> int:
        return self.shots
