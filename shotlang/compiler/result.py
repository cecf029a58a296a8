"""The Python API's result: a pydantic model holding the diagnostics and the compiled output."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SkipValidation

from . import payload
from .analysis import Analysis, Reports
from .diagnostics import Diagnostic, Severity
from .models import Matrix
from .source import Source


class CompileResult(Reports, BaseModel):
    """One file's outcome: its diagnostics, and its output if no error remains."""

    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)

    # Made by the compiler itself: nothing to validate, and a span must keep pointing at its
    # source object (a copy of the source per diagnostic would be wasted work).
    source: SkipValidation[Source] = Field(repr=False)
    diagnostics: SkipValidation[list[Diagnostic]]
    output: payload.CompiledFile | None
    # The capability matrix the checks used, for what acts on the result (analysis.Analysis).
    models: SkipValidation[Matrix | None] = Field(None, repr=False, exclude=True)

    @property
    def shot_count(self) -> int:
        return len(self.output.records) if self.output is not None else 0


def finish(analysis: Analysis) -> CompileResult:
    """Build the requests of an analysed file that has no error (fal's, for the analysis's
    backend "fal": the analysis made them so)."""
    output = None
    if not any(d.severity is Severity.ERROR for d in analysis.diagnostics):
        output = _output(analysis)
    return CompileResult(source=analysis.source, diagnostics=analysis.diagnostics, output=output,
                         models=analysis.models)


def _output(analysis: Analysis) -> payload.CompiledFile:
    assert analysis.records is not None, "analyse(records=True) makes the records"
    return payload.CompiledFile(
        source=analysis.source.name,
        title=analysis.title,
        axes=analysis.axes,  # type: ignore[arg-type]
        records=analysis.records,
        notes=analysis.notes or None,
        cast=analysis.cast or None,
        backend=analysis.backend,  # type: ignore[arg-type]
    )
