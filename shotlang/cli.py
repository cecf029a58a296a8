"""The `shotlang` command: thin click commands over the Python API.

Exit codes (docs/cli.md): 0 clean (warnings allowed), 1 errors in the input, 2 usage or I/O.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import click

from . import __version__

if TYPE_CHECKING:
    from .compiler import CompileResult
    from .payload import CompiledFile

EXIT_OK, EXIT_INPUT, EXIT_USAGE = 0, 1, 2
READINGS = click.Choice(["seed", "official"], case_sensitive=False)
AXES_HELP = "How moves map to camera fields; overrides the file's AXES line."


class IOFailure(click.ClickException):
    """A file that cannot be read or written: exit 2, one line, no traceback."""

    exit_code = EXIT_USAGE

    def show(self, file: object = None) -> None:
        click.echo(f"shotlang: {self.message}", err=True)


def _color(stream: object) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    return bool(getattr(stream, "isatty", lambda: False)())


def _compile_all(files: tuple[str, ...], axes: str | None) -> list[CompileResult]:
    from .compiler import compile_bytes

    results = []
    for name in files:
        if name == "-":
            results.append(compile_bytes(sys.stdin.buffer.read(), "<stdin>", axes=axes,
                                         base_dir=Path.cwd()))
            continue
        try:
            data = Path(name).read_bytes()
        except OSError as e:
            raise IOFailure(f"cannot read {name}: {e.strerror or e}") from None
        results.append(compile_bytes(data, name, axes=axes))
    return results


def _report(results: list[CompileResult], err: bool) -> None:
    color = _color(sys.stderr if err else sys.stdout)
    for result in results:
        if result.diagnostics:
            click.echo(result.render(color) + "\n", err=err)


def _summary(results: list[CompileResult]) -> str:
    errors = sum(len(r.errors) for r in results)
    warnings = sum(len(r.warnings) for r in results)
    shots = sum(len(r.output.shots) for r in results if r.output)

    def n(k: int, word: str) -> str:
        return f"{k} {word}{'s' * (k != 1)}"

    files = n(len(results), "file")
    if errors:
        return f"{n(errors, 'error')}, {n(warnings, 'warning')} in {files}"
    return f"{n(shots, 'shot')} ok, {n(warnings, 'warning')} in {files}"


def write_atomic(path: Path, text: str) -> None:
    """Write, flush to disk, then rename over the target: readers see the old or the new file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="shotlang")
def main() -> None:
    """Compile .shot shot lists into checked Kling AI video requests."""


@main.command()
@click.argument("files", nargs=-1, required=True, metavar="FILE...")
@click.option("-o", "--output", "out", type=click.Path(path_type=Path),
              help="Write here instead of standard output: a file, or a folder for many inputs.")
@click.option("--format", "fmt", type=click.Choice(["json", "jsonl"]), default="json",
              show_default=True, help="One JSON envelope per file, or one JSON line per shot.")
@click.option("--axes", type=READINGS, help=AXES_HELP)
def compile(files: tuple[str, ...], out: Path | None, fmt: str, axes: str | None) -> None:
    """Compile shot lists to Kling API request bodies.

    FILE may be `-` for standard input. If any file has an error, nothing is written and the
    exit code is 1; warnings go to standard error.
    """
    results = _compile_all(files, axes)
    _report(results, err=True)
    if not all(r.ok for r in results):
        click.echo(_summary(results) + "; nothing written", err=True)
        sys.exit(EXIT_INPUT)
    outputs = [r.output for r in results if r.output is not None]

    def render(output: CompiledFile) -> str:
        return output.to_jsonl() if fmt == "jsonl" else output.to_json()

    if out is None:
        if fmt == "json" and len(outputs) > 1:
            docs = [json.loads(o.to_json()) for o in outputs]
            click.echo(json.dumps(docs, indent=2, ensure_ascii=False))
        else:
            click.echo("".join(render(o) for o in outputs), nl=False)
        return
    targets = [out] * len(outputs)
    if len(outputs) > 1 or out.is_dir():
        stems = ["stdin" if r.name == "<stdin>" else Path(r.name).stem for r in results]
        targets = [out / f"{stem}.{fmt}" for stem in stems]
        clash = next((t for i, t in enumerate(targets) if t in targets[:i]), None)
        if clash is not None:
            raise IOFailure(f"two inputs would both be written to {clash}; compile them separately")
    try:
        for target, output in zip(targets, outputs, strict=True):
            write_atomic(target, render(output))
    except OSError as e:
        raise IOFailure(f"cannot write {e.filename or out}: {e.strerror or e}") from None


@main.command()
@click.argument("files", nargs=-1, required=True, metavar="FILE...")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="Human-readable diagnostics, or a JSON list for tools.")
@click.option("--axes", type=READINGS, help=AXES_HELP)
def check(files: tuple[str, ...], fmt: str, axes: str | None) -> None:
    """Report every error and warning in shot lists; write no requests."""
    results = _compile_all(files, axes)
    if fmt == "json":
        records = [rec for r in results for rec in r.diagnostics_json()]
        click.echo(json.dumps(records, indent=2, ensure_ascii=False))
    else:
        _report(results, err=False)
        click.echo(_summary(results))
    sys.exit(EXIT_OK if all(r.ok for r in results) else EXIT_INPUT)


@main.command()
@click.option("--axes", type=READINGS, default="seed", show_default=True, help=AXES_HELP)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
def moves(axes: str, fmt: str) -> None:
    """The move vocabulary: words, camera field, sign and recommended range."""
    from .docs import move_rows, move_table

    if fmt == "json":
        click.echo(json.dumps(move_rows(axes.lower()), indent=2))
    else:
        click.echo(move_table(axes.lower()))


@main.command()
@click.argument("code")
def explain(code: str) -> None:
    """The long explanation of a diagnostic code, such as E201."""
    from .diagnostics import CODES, closest

    found = CODES.get(code.upper())
    if found is None:
        guess = closest(code.upper(), CODES)
        hint = f" (did you mean {guess}?)" if guess else "; codes look like E201 or W100"
        raise IOFailure(f"no diagnostic code {code}{hint}")
    click.echo(f"{code.upper()} ({found.severity.value}): {found.title}\n{found.explanation}")


def run() -> None:
    """The console script: click, with a closed pipe (`| head`) ending quietly."""
    try:
        main()
    except KeyboardInterrupt:
        click.echo("shotlang: interrupted", err=True)
        sys.exit(130)
    except BrokenPipeError:
        # Python flushes stdout again at exit; point it at devnull so that does not fail too.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(EXIT_OK)
