"""The compiler's driver and Python API: text in, checked requests and diagnostics out.

    parse (parser.py) -> resolve (lower.py) -> check (checks.py) -> build (payload.py)

Only reading the .shot file and its images touches the disk, and both happen here or through
the ImageStore passed in.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from . import checks, lower, parser, payload
from .diagnostics import Diagnostic, Severity, render_text, sort_key, to_json
from .images import ImageStore
from .source import BOM, DecodeFailure, Source, decode


class CompileResult(BaseModel):
    """One file's outcome: its diagnostics, and its output if no error remains."""

    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)

    source: Source = Field(repr=False)
    diagnostics: list[Diagnostic]
    output: payload.CompiledFile | None

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

    def render(self, color: bool = False) -> str:
        """Every diagnostic, rustc-style, separated by blank lines."""
        return "\n\n".join(render_text(d, self.source, color) for d in self.diagnostics)

    def diagnostics_json(self) -> list[dict[str, object]]:
        return [to_json(d, self.source) for d in self.diagnostics]


def compile_text(
    text: str,
    path: str | Path | None = None,
    *,
    axes: str | None = None,
    images: ImageStore | None = None,
) -> CompileResult:
    """Compile the text of a shot list.

    `path` names the file in diagnostics and is the folder local images are read from (the
    working folder if None). `axes` ("seed" or "official") overrides the file's AXES line.
    """
    name = str(path) if path is not None else "<input>"
    base_dir = Path(path).parent if path is not None else Path.cwd()
    return _compile(Source(text.removeprefix(BOM), name), base_dir, axes, images or ImageStore())


def compile_bytes(
    data: bytes,
    path: str | Path | None = None,
    *,
    axes: str | None = None,
    images: ImageStore | None = None,
    base_dir: Path | None = None,
) -> CompileResult:
    """Compile a shot list's raw bytes: UTF-8, a byte-order mark allowed."""
    name = str(path) if path is not None else "<input>"
    if base_dir is None:
        base_dir = Path(path).parent if path is not None else Path.cwd()
    try:
        text = decode(data)
    except DecodeFailure as bad:
        source = Source(bad.text, name)
        diagnostic = Diagnostic("E001", f"this byte is not UTF-8 ({bad.reason})",
                                source.span(bad.offset, bad.offset + 1),
                                "save the file as UTF-8")
        return CompileResult(source=source, diagnostics=[diagnostic], output=None)
    return _compile(Source(text, name), base_dir, axes, images or ImageStore())


def compile_file(path: str | Path, *, axes: str | None = None) -> CompileResult:
    """Compile a .shot file. Raises OSError if it cannot be read."""
    return compile_bytes(Path(path).read_bytes(), path, axes=axes)


def _compile(source: Source, base_dir: Path, axes: str | None, images: ImageStore) -> CompileResult:
    tree, report = parser.parse(source)
    resolved = lower.resolve(tree, report, reading=axes)
    checks.check(resolved, base_dir, images, report)
    # A value inherited from DEFAULTS may draw the same warning for every shot: say it once.
    diagnostics = sorted(dict.fromkeys(report), key=sort_key)
    output = None
    if not any(d.severity is Severity.ERROR for d in diagnostics):
        output = payload.CompiledFile(
            source=source.name,
            title=resolved.title,
            axes=resolved.reading,  # type: ignore[arg-type]
            shots=[payload.build(s, resolved.reading, base_dir, images) for s in resolved.shots],
        )
    return CompileResult(source=source, diagnostics=diagnostics, output=output)
