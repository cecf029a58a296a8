"""The `shotlang` command: thin click commands over the Python API.

Exit codes: exits.py (stable; docs/cli.md's table is written from it).
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import sys
from collections.abc import Iterator, Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, NoReturn

import click

from . import __version__, exits
from .compiler.kling import DEFAULT_API_BASE
from .compiler.language import BACKENDS, FAL_QUEUE_BASE
from .compiler.vocabulary import AXES
from .tools.timeline import FORMATS as CUT_FORMATS

if TYPE_CHECKING:
    from .compiler.payload import CompiledFile
    from .compiler.pipeline import Analysis, Reports
    from .compiler.result import CompileResult
    from .config import Config
    from .engine.client import KlingClient
    from .engine.runner import PlannedShot, Shot
    from .engine.state import Store

# The exit codes, each written once with what it means (exits.py; the docs' tables come from there).
EXIT_OK, EXIT_INPUT, EXIT_USAGE = exits.OK, exits.INPUT, exits.USAGE
EXIT_AUTH, EXIT_SHOTS_FAILED, EXIT_STOPPED, EXIT_LOCAL, EXIT_BUSY = (exits.AUTH, exits.SHOTS_FAILED, exits.STOPPED,
                                                                    exits.LOCAL, exits.BUSY)
EXIT_INTERRUPTED, EXIT_TERMINATED = exits.INTERRUPTED, exits.TERMINATED
AXES_CHOICE = click.Choice(AXES, case_sensitive=False)
AXES_HELP = "How moves map to camera fields; overrides the file's AXES line."
BACKEND_CHOICE = click.Choice(tuple(BACKENDS))
API_BASE_HELP = (f"The API's base URL (Kling's: $KLING_API_BASE, else {DEFAULT_API_BASE}; with --backend fal, "
                 f"fal's queue: $FAL_API_BASE, else {FAL_QUEUE_BASE}).")
BACKEND_HELP = ("Where the requests go: Kling's API, or fal.ai's Kling apps (fal's app ids and inputs). "
                "Default: the file's BACKEND line, else the config's (`[run] backend`, $SHOTLANG_BACKEND), "
                "else kling.")


class IOFailure(click.ClickException):
    """A file that cannot be read or written: exit 2, one line, no traceback."""

    exit_code = EXIT_USAGE

    def show(self, file: object = None) -> None:
        click.echo(f"shotlang: {self.message}", err=True)


def _color(stream: object) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    return bool(getattr(stream, "isatty", lambda: False)())


def _read(name: str) -> tuple[bytes, str, Path]:
    """A file's bytes, the name to report it under, and the folder its images are read from."""
    if name == "-":
        return sys.stdin.buffer.read(), "<stdin>", Path.cwd()
    try:
        return Path(name).read_bytes(), name, Path(name).parent
    except OSError as e:
        raise IOFailure(f"cannot read {name}: {e.strerror or e}") from None


def _read_all(files: tuple[str, ...]) -> tuple[list[tuple[bytes, str, Path]], list[IOFailure]]:
    """Every file that can be read, and what went wrong with the others."""
    read, failures = [], []
    for name in files:
        try:
            read.append(_read(name))
        except IOFailure as e:
            failures.append(e)
    return read, failures


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cycle collector around a large compile. The CLI owns its process, so it
    may; the library never does (the collector is the whole process's, and a program's other
    threads may need it meanwhile).

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


class Backends(NamedTuple):
    """Which backend a command compiles for: `asked` on the command line, which wins; else the
    file's BACKEND line; else `default`, the config's (docs/cli.md)."""

    asked: str | None = None
    default: str = "kling"


FILE_SAYS = Backends()  # the file's BACKEND line, else kling (pick and timeline: no config read)


def _analyse_all(files: tuple[str, ...], axes: str | None,
                 backend: Backends = FILE_SAYS) -> tuple[list[Analysis], list[IOFailure]]:
    from .compiler.pipeline import analyse_bytes

    read, failures = _read_all(files)
    with gc_paused():  # this process is ours: the collector waits while files compile
        return [analyse_bytes(data, name, base, axes=axes, backend=backend.asked, default_backend=backend.default)
                for data, name, base in read], failures


def _backend(given: str | None) -> Backends:
    """`--backend`, if given; else what the file says, or the config's (config.BACKENDS)."""
    if given is not None:
        return Backends(given, given)
    from .config import ConfigError
    from .config import load as load_config

    try:
        return Backends(None, load_config().backend)
    except ConfigError as e:
        raise IOFailure(f"{e}; or give --backend") from None


def _compile_all(files: tuple[str, ...], axes: str | None, backend: Backends = FILE_SAYS) -> list[CompileResult]:
    """Every file compiled; the first that cannot be read raises IOFailure."""
    results, failures = _compile_readable(files, axes, backend)
    if failures:
        raise failures[0]
    return results


def _compile_readable(files: tuple[str, ...], axes: str | None,
                      backend: Backends = FILE_SAYS) -> tuple[list[CompileResult], list[IOFailure]]:
    from .compiler.images import ImageStore
    from .compiler.pipeline import compile_bytes

    read, failures = _read_all(files)
    with gc_paused():  # this process is ours: the collector waits while files compile
        # The command line reads what the writer names, its user's models file too (docs/api.md).
        return [compile_bytes(data, name, axes=axes, folder=base, images=ImageStore(), user_config=True,
                              backend=backend.asked, default_backend=backend.default)
                for data, name, base in read], failures


def _give_up(failures: Sequence[IOFailure]) -> NoReturn:
    """After the readable files' diagnostics: each file that could not be read, then exit 2."""
    for failure in failures:
        failure.show()
    sys.exit(EXIT_USAGE)


def _report(results: Sequence[Reports], err: bool) -> None:
    color = _color(sys.stderr if err else sys.stdout)
    for result in results:
        if result.diagnostics:
            click.echo(result.render(color) + "\n", err=err)


def _summary(results: Sequence[Reports], unread: int = 0) -> str:
    errors = sum(len(r.errors) for r in results)
    warnings = sum(len(r.warnings) for r in results)
    shots = sum(r.shot_count for r in results)

    def n(k: int, word: str) -> str:
        return f"{k} {word}{'s' * (k != 1)}"

    files = n(len(results), "file") + (f"; {n(unread, 'file')} could not be read" if unread else "")
    if errors:
        return f"{n(errors, 'error')}, {n(warnings, 'warning')} in {files}"
    return f"{n(shots, 'shot')} ok, {n(warnings, 'warning')} in {files}"


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="shotlang")
def main() -> None:
    """Compile .shot shot lists into checked Kling AI video requests."""


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet): not the same file
        return False


def _target(out: Path | None, default: Path, sources: tuple[str, ...]) -> Path:
    """Where a command writes: `-o`, else its default; never over a file it reads (a slip of
    `-o film.shot` would replace the shot list), never an empty name (`-o "$UNSET"`)."""
    if out is not None and str(out) in ("", "."):
        raise IOFailure("-o needs a file name: it was empty, or the current folder")
    target = out or default
    clash = next((s for s in sources if s != "-" and _same_file(target, Path(s))), None)
    if clash is not None:
        raise IOFailure(f"will not write over {clash}, which it reads: give -o another name")
    return target


@main.command()
@click.argument("files", nargs=-1, required=True, metavar="FILE...")
@click.option("-o", "--output", "out", type=click.Path(path_type=Path),
              help="Write here instead of standard output: a file, or a folder for many inputs.")
@click.option("--format", "fmt", type=click.Choice(["json", "jsonl"]), default="json",
              show_default=True, help="One JSON envelope per file, or one JSON line per shot.")
@click.option("--axes", type=AXES_CHOICE, help=AXES_HELP)
@click.option("--backend", type=BACKEND_CHOICE, help=BACKEND_HELP)
def compile(files: tuple[str, ...], out: Path | None, fmt: str, axes: str | None, backend: str | None) -> None:
    """Compile shot lists to Kling API request bodies (or fal's inputs, with --backend fal).

    FILE may be `-` for standard input. If any file has an error, nothing is written and the
    exit code is 1; warnings go to standard error. Folders missing from the -o path are made.
    """
    results, failures = _compile_readable(files, axes, _backend(backend))
    _report(results, err=True)
    if failures:
        click.echo(_summary(results, len(failures)) + "; nothing written", err=True)
        _give_up(failures)
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
    for target in targets:
        _target(target, target, files)
    from .files import write_atomic  # tempfile is slow to import; only `compile -o` needs it

    for target, output in zip(targets, outputs, strict=True):
        try:
            write_atomic(target, render(output))
        except OSError as e:
            # Name the file asked for: e.filename may be the hidden temporary file beside it.
            raise IOFailure(f"cannot write {target}: {e.strerror or e}") from None


@main.command()
@click.argument("files", nargs=-1, required=True, metavar="FILE...")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "sarif", "github"]), default="text",
              show_default=True, help="Human-readable diagnostics, a JSON list for tools, a SARIF 2.1.0 log "
              "for code scanning, or GitHub Actions annotations.")
@click.option("--axes", type=AXES_CHOICE, help=AXES_HELP)
@click.option("--backend", type=BACKEND_CHOICE, help=BACKEND_HELP)
def check(files: tuple[str, ...], fmt: str, axes: str | None, backend: str | None) -> None:
    """Report every error and warning in shot lists (against fal's apps too, with --backend fal);
    write no requests."""
    results, failures = _analyse_all(files, axes, _backend(backend))
    code = EXIT_USAGE if failures else EXIT_OK if all(r.ok for r in results) else EXIT_INPUT
    if fmt == "json":
        records = [rec for r in results for rec in r.diagnostics_json()]
        click.echo(json.dumps(records, indent=2, ensure_ascii=False))
    elif fmt == "sarif":
        from .tools.ci_formats import sarif_log

        click.echo(sarif_log(results, [f.message for f in failures], code))
    elif fmt == "github":
        from .tools.ci_formats import github_annotations

        for line in github_annotations(results, [f.message for f in failures]):
            click.echo(line)
        click.echo(_summary(results, len(failures)))
    else:
        _report(results, err=False)
        click.echo(_summary(results, len(failures)))
    if failures:
        _give_up(failures)
    sys.exit(code)


@main.command("fmt")
@click.argument("files", nargs=-1, required=True, metavar="FILE...")
@click.option("--check", "check_only", is_flag=True,
              help="Write nothing; list the files that would change, and exit 1 if any would.")
@click.option("--diff", is_flag=True, help="Write nothing; print what would change as a unified diff.")
@click.option("--brief-errors", is_flag=True,
              help="Name a file with errors in one line, without its diagnostics (`shotlang check` shows them; "
                   "the pre-commit hook runs both).")
def fmt_command(files: tuple[str, ...], check_only: bool, diff: bool, brief_errors: bool) -> None:
    """Rewrite shot lists in their canonical form (docs/language.md, "Canonical form").

    FILE may be `-`: standard input, formatted to standard output. A file with errors is left
    as it is and its diagnostics shown (exit 1).
    """
    from .compiler.analysis import render_all
    from .tools.fmt import format_bytes

    changed = same = broken = 0
    failures: list[IOFailure] = []
    for name in files:
        try:
            data, shown, base_dir = _read(name)
        except IOFailure as e:
            failures.append(e)
            continue
        done = format_bytes(data, shown, base_dir)
        if done.data is None:
            broken += 1
            if brief_errors:
                errors = sum(1 for d in done.diagnostics if d.severity == "error")
                click.echo(f"{shown}: not formatted: it has {errors} error{'s' * (errors != 1)} "
                           f"(`shotlang check {shown}` shows them)", err=True)
            else:
                click.echo(render_all(done.diagnostics, _color(sys.stderr)) + "\n", err=True)
            if name == "-" and not (check_only or diff):
                sys.stdout.buffer.write(data)  # a filter passes on what it cannot format
            continue
        if name == "-" and not (check_only or diff):
            sys.stdout.buffer.write(done.data)
            continue
        if done.data == data:
            same += 1
            continue
        changed += 1
        if diff:
            click.echo(_unified_diff(data, done.data, shown), nl=False)
        if check_only:
            click.echo(f"would reformat {shown}")
        elif not diff:
            try:
                _rewrite(Path(name), done.data)
            except OSError as e:
                failures.append(IOFailure(f"cannot write {name}: {e.strerror or e}"))
                continue
            click.echo(f"reformatted {shown}", err=True)
    if files != ("-",):
        click.echo(_fmt_summary(changed, same, broken, len(failures), check_only or diff), err=True)
    if failures:
        _give_up(failures)
    sys.exit(EXIT_INPUT if broken or (check_only and changed) else EXIT_OK)


def _fmt_summary(changed: int, same: int, broken: int, unread: int, dry: bool) -> str:
    def n(k: int) -> str:
        return f"{k} file{'s' * (k != 1)}"

    said = [f"{n(changed)} {'would be ' if dry else ''}reformatted", f"{n(same)} already formatted"]
    if broken:
        said.append(f"{n(broken)} with errors left as {'they were' if broken > 1 else 'it was'}")
    if unread:
        said.append(f"{n(unread)} could not be read or written")
    return ", ".join(said)


def _unified_diff(before: bytes, after: bytes, name: str) -> str:
    """The change as text, whatever the file's encoding (both parts read as the compiler read
    them: a UTF-16 file's bytes shown as UTF-8 would be NULs and noise), cut at line feeds only
    (splitlines would also cut at a U+2028 in a prompt)."""
    import difflib

    from .compiler.source import decode

    def lines(data: bytes) -> list[str]:
        *ended, last = decode(data).split("\n")
        return [line + "\n" for line in ended] + ([last] if last else [])

    diff = difflib.unified_diff(lines(before), lines(after), f"{name} (before)", f"{name} (formatted)")
    return "".join(line if line.endswith("\n") else line + "\n" for line in diff)


def _rewrite(path: Path, data: bytes) -> None:
    """Replace a file's contents atomically, keeping its permissions, owner and group; through
    a symbolic link, the file it points at (the link stays a link). A file this process may not
    write is left as it is, as open(path, "w") would leave it: replacing it by a rename would
    get round its read-only mode."""
    import errno

    from .files import atomic_file

    target = path.resolve()
    if not os.access(target, os.W_OK):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
    was = target.stat()
    with atomic_file(target) as f:
        # As open(path, "w") would leave them: the owner only root may give back; the group,
        # an owner in that group too (otherwise the new file has the writer's own group).
        for owner in (was.st_uid, -1):
            with contextlib.suppress(OSError):
                os.fchown(f.fileno(), owner, was.st_gid)
                break
        f.write(data)


@main.command()
@click.option("--axes", type=AXES_CHOICE, default="seed", show_default=True,
              help="Show the camera fields each move sends under this AXES.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="A table to read, or a JSON list of the moves for tools.")
def moves(axes: str, fmt: str) -> None:
    """The move vocabulary: words, camera field, sign and recommended range."""
    from .tools.docs import move_rows, move_table

    if fmt == "json":
        click.echo(json.dumps(move_rows(axes.lower()), indent=2))
    else:
        click.echo(move_table(axes.lower()))


@main.command("models")
@click.argument("where", required=False, metavar="[SHOTLIST|FOLDER]")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="A table to read, or JSON for tools.")
def models_command(where: str | None, fmt: str) -> None:
    """The capability matrix in effect for a shot list (or a folder; default: here): the
    built-in table with the user's models.toml and the folder's shotlang-models.toml over it."""
    from .compiler.analysis import render_all
    from .compiler.models import for_folder, rows
    from .tools.docs import model_table

    place = Path(where) if where else Path.cwd()
    if where and not place.exists():
        raise IOFailure(f"{where}: no such file or folder")
    matrix, report = for_folder(place if place.is_dir() else place.parent)
    if report:
        click.echo(render_all(report, color=_color(sys.stderr)), err=True)
        sys.exit(EXIT_INPUT)
    if fmt == "json":
        click.echo(json.dumps({"files": [str(f) for f in matrix.files], "models": list(rows(matrix))}, indent=2))
    else:
        click.echo(model_table(matrix))


@main.command()
@click.option("--format", "fmt", type=click.Choice(["json", "jsonl"]), default="json", show_default=True,
              help="The schema of `compile --format json` (the envelope) or of one `--format jsonl` line.")
def schema(fmt: str) -> None:
    """The JSON Schema of what `shotlang compile` writes (docs/schema/ holds both)."""
    from .tools.schema import schema_text

    click.echo(schema_text(fmt), nl=False)


@main.command("decompile")
@click.argument("files", nargs=-1, required=True, metavar="PAYLOAD...")
@click.option("-o", "--output", "out", type=click.Path(path_type=Path, dir_okay=False),
              help="Write the shot list to this file (atomically) instead of standard output.")
@click.option("--axes", type=AXES_CHOICE,
              help="The words camera fields are read into (default: the envelope's AXES, else seed).")
@click.option("--images", type=click.Path(path_type=Path, file_okay=False),
              help="Write images the bodies hold as Base64 to this folder, and name them in the shot list.")
def decompile_command(files: tuple[str, ...], out: Path | None, axes: str | None, images: Path | None) -> None:
    """Turn Kling request bodies (or compile's output) back into a shot list.

    PAYLOAD is a JSON body, a list of them, JSON lines, or compile's output; `-` reads standard
    input. What a shot list cannot say is listed on standard error with its JSON path and the
    exit code is 1; the rest is still written.
    """
    from .tools.decompile import ImageFolder, Unreadable, decompile, read_input, read_payload

    payloads, failures = [], []
    for name in files:
        shown = "<stdin>" if name == "-" else name
        try:
            payloads.append(read_payload(read_input(name, sys.stdin.buffer), shown))
        except Unreadable as e:
            failures.append(IOFailure(str(e)))
        except OSError as e:
            failures.append(IOFailure(f"cannot read {shown}: {e.strerror or e}"))
    if failures:
        _give_up(failures)
    folder = out.parent if out is not None else Path.cwd()
    try:
        done = decompile(payloads, axes=axes and axes.lower(), images=ImageFolder(images, folder) if images else None,
                         base_dir=folder, name=str(out) if out is not None else "<stdout>")
    except OSError as e:
        raise IOFailure(f"cannot write an image to {images}: {e.strerror or e}") from None
    for problem in done.problems:
        click.echo(str(problem), err=True)
    if out is None:
        click.echo(done.text, nl=False)
    else:
        from .files import write_atomic

        out = _target(out, out, files)
        try:
            write_atomic(out, done.text)
        except OSError as e:
            raise IOFailure(f"cannot write {out}: {e.strerror or e}") from None
    if done.problems:
        many = len(done.problems)
        click.echo(f"{many} thing{'s' * (many != 1)} the shot list does not say (listed above); "
                   f"the rest of {done.requests} request{'s' * (done.requests != 1)} written", err=True)
        sys.exit(EXIT_INPUT)


@main.command("storyboard")
@click.argument("file", metavar="FILE.shot")
@click.option("-o", "--output", "out", type=click.Path(path_type=Path, dir_okay=False),
              help="Where to write the page (default: FILE.storyboard.html beside the shot list).")
@click.option("--videos", type=click.Path(path_type=Path, file_okay=False),
              help="The folder `run --out` downloaded the videos to (default: beside the shot list).")
@click.option("--axes", type=AXES_CHOICE, help=AXES_HELP + " Give the one `run` was given.")
def storyboard_command(file: str, out: Path | None, videos: Path | None, axes: str | None) -> None:
    """A storyboard of a shot list: one self-contained HTML page, a card per shot.

    After `run`, each finished video plays on its card. Nothing is sent to the API. A shot list
    with errors gets no board: its diagnostics are shown and the exit code is 1.
    """
    from .compiler.analysis import render_all
    from .compiler.pipeline import text_of
    from .engine.state import StateError, Store, state_path
    from .files import write_atomic
    from .tools.storyboard import Rendered, storyboard

    data, shown, base_dir = _read(file)
    text = text_of(data, shown)
    if not isinstance(text, str):
        click.echo(render_all(text.diagnostics, _color(sys.stderr)), err=True)
        sys.exit(EXIT_INPUT)
    target = _target(out, Path.cwd() / "stdin.storyboard.html" if file == "-" else Path(file).with_suffix(".storyboard.html"),
                     (file,))
    rendered = None
    if file != "-" and state_path(Path(file)).is_file():
        try:
            store = Store.read(state_path(Path(file)), Path(file).name)
        except StateError as e:
            raise IOFailure(str(e)) from None
        rendered = Rendered(store.get, videos if videos is not None else Path(file).parent, target, store.names)
    board = storyboard(text, shown, base_dir, rendered, axes=axes and axes.lower())
    if board.html is None:
        click.echo(render_all(board.diagnostics, _color(sys.stderr)) + "\n", err=True)
        sys.exit(EXIT_INPUT)
    try:
        write_atomic(target, board.html)
    except OSError as e:
        raise IOFailure(f"cannot write {target}: {e.strerror or e}") from None
    click.echo(f"storyboard written to {target}", err=True)


@main.command("timeline")
@click.argument("file", metavar="FILE.shot")
@click.option("-o", "--output", "out", type=click.Path(path_type=Path, dir_okay=False),
              help="Where to write the cut (default: FILE.otio, .edl, .fcpxml or .xml beside the shot list).")
@click.option("--format", "fmt", type=click.Choice(list(CUT_FORMATS)),
              help="OpenTimelineIO, CMX 3600 EDL, Final Cut Pro X XML, or Final Cut Pro 7 XML (xmeml, "
                   "which Premiere reads); default: the one -o's suffix names, else otio.")
@click.option("--videos", type=click.Path(path_type=Path, file_okay=False),
              help="The folder `run --out` downloaded the videos to (default: beside the shot list).")
@click.option("--axes", type=AXES_CHOICE, help=AXES_HELP + " Give the one `run` was given.")
def timeline_command(file: str, out: Path | None, fmt: str | None, videos: Path | None, axes: str | None) -> None:
    """The rendered clips as an editorial timeline, for DaVinci Resolve, Premiere, Final Cut, Avid.

    One clip per video in file order, scenes as markers; a video not rendered yet is a
    placeholder of its length. Needs `pip install 'shotlang[timeline]'`.
    """
    from .terminal import install_hint

    try:
        import opentimelineio  # noqa: F401
    except ImportError:
        raise IOFailure(f"shotlang timeline needs OpenTimelineIO: {install_hint('timeline')}") from None
    from .engine.state import StateError, Store, state_path
    from .tools.timeline import FORMATS, CutError, build, format_for, missing_adapter, write

    fmt = format_for(fmt, out)
    if (package := missing_adapter(fmt)) is not None:  # an adapter is a package of its own
        raise IOFailure(f"shotlang timeline --format {fmt} needs OpenTimelineIO's {FORMATS[fmt].adapter} adapter "
                        f"({package}): {install_hint('timeline')}")
    if file == "-":
        raise IOFailure("timeline needs a .shot file (its run's state and videos are beside it)")
    [result] = _compile_all((file,), axes)
    if not result.ok or result.output is None:
        _report([result], err=True)
        click.echo(_summary([result]) + "; no timeline written", err=True)
        sys.exit(EXIT_INPUT)
    path = state_path(Path(file))
    try:
        store = Store.read(path, Path(file).name) if path.is_file() else None
    except StateError as e:
        raise IOFailure(str(e)) from None
    target = _target(out, Path(file).with_suffix(FORMATS[fmt].suffix), (file,))
    cut = build(result.output.title or Path(file).stem, result.output.records,
                store.get if store is not None else lambda name: None,
                videos if videos is not None else Path(file).parent, fmt, result.output.cast,
                store.names if store is not None else tuple)
    try:
        write(cut, target, fmt)
    except CutError as e:
        raise IOFailure(str(e)) from None
    except OSError as e:
        raise IOFailure(f"cannot write {target}: {e.strerror or e}") from None
    click.echo(f"timeline written to {target}", err=True)


@main.command()
@click.argument("code")
def explain(code: str) -> None:
    """The long explanation of a diagnostic code, such as E201."""
    from .compiler.diagnostics import CODES, closest

    found = CODES.get(code.upper())
    if found is None:
        guess = closest(code.upper(), CODES)
        hint = f" (did you mean {guess}?)" if guess else "; codes look like E201 or W100"
        raise IOFailure(f"no diagnostic code {code}{hint}")
    click.echo(f"{code.upper()} ({found.severity.value}): {found.title}\n{found.explanation}")


@main.command()
@click.option("--stdio", is_flag=True, help="Talk over standard input and output (the default and only way).")
def lsp(stdio: bool) -> None:
    """Run the language server for editors: check's diagnostics while typing, completion,
    hover and formatting (docs/cli.md, "shotlang lsp")."""
    from .tools.lsp import Unavailable, serve  # pygls is imported by this command only

    try:
        code = serve()
    except Unavailable as e:
        raise IOFailure(str(e)) from None
    sys.exit(code)


# --- running against the API ------------------------------------------------------------------
# The network modules (httpx, jwt) are imported inside these commands only, so `check` and
# `compile` start without them.


def _only(names: tuple[str, ...], shots: list[str], option: str, within: dict[str, str] | None = None) -> None:
    """Each of `names` is a shot to run; `within` maps a sequence's shots to the sequence, which
    is what runs (its shots are not requests of their own)."""
    from .compiler.diagnostics import did_you_mean

    for name in names:
        if name not in shots:
            sequence = (within or {}).get(name)
            if sequence is not None:
                raise IOFailure(f"{option} {name}: a shot of the sequence `{sequence}`, which runs as one "
                                f"(write {option} {sequence})")
            hint = did_you_mean(name, shots)
            raise IOFailure(f"{option} {name}: no shot of that name" + (f" ({hint})" if hint else ""))


class LocalFailure(IOFailure):
    """This machine cannot keep what a run makes (the state or video folder cannot be written,
    a full disk): exit 6."""

    exit_code = EXIT_LOCAL


class Busy(IOFailure):
    """Another process is running the same shot list: exit 7."""

    exit_code = EXIT_BUSY


StoreMode = Literal["run", "read", "status"]


class Prepared(NamedTuple):
    config: Config
    store: Store
    out_dir: Path
    plans: list[PlannedShot]
    cast: list[PlannedShot]  # the cast members the plans need made (or made already)
    members: list[Shot]  # every cast member of the shot list
    backend: str  # the backend the requests are for: --backend, else the file's BACKEND, else the config's


def _prepare(file: str, axes: str | None, out: Path | None, only: tuple[str, ...],
             force: tuple[str, ...], mode: StoreMode, backends: Backends) -> Prepared:
    """Compile one shot list for running: the config, the state store, the shots' plans and
    those of the cast members they need.

    `run` holds the state's lock from here to its end, so no two processes ever decide about
    the same shot; `plan` reads without it; `status` takes it to record what it learns, or
    reads if a run holds it (and then asks the API nothing)."""
    from .compiler.models import for_folder
    from .config import ConfigError
    from .config import load as load_config
    from .engine.runner import cast_of, plan_cast, plan_shots, shots_of
    from .engine.state import StateBusy, StateError, Store, state_path

    if file == "-":
        raise IOFailure("run, plan and status need a .shot file (its state is kept beside it)")
    [result] = _compile_all((file,), axes, backends)
    if not result.ok:
        _report([result], err=True)
        click.echo(_summary([result]) + "; nothing sent", err=True)
        sys.exit(EXIT_INPUT)
    if result.warnings:
        _report([result], err=True)
    assert result.output is not None
    backend = result.output.backend  # the records are this backend's: the run must send them there
    shots = shots_of(result.output.records)  # the compiled records as they are, not rebuilt as models
    names = list(dict.fromkeys(s.shot for s in shots))  # the shots', each take's is the shot's own
    every_take = [s.name for s in shots]
    within = {member: r["name"] for r in result.output.records for member in r.get("shots") or ()}
    _only(only, names, "--only", within)
    members = [f"@{c['name']}" for c in result.output.cast or ()]
    _only(force, [*names, *members], "--force", within)  # `--force @keeper` makes an element again
    if only:
        shots = [s for s in shots if s.shot in only or s.shot in force]
    path, source = state_path(Path(file)), Path(file).name
    try:
        config = load_config()
        if mode == "status" and not _can_ask(config, backend):
            mode = "read"  # nothing will be asked, so nothing to record: no lock, no write
        if mode == "read":
            store = Store.read(path, source)
        else:
            try:
                store = Store.open(path, source)
            except StateBusy as e:
                if mode == "run":
                    raise Busy(str(e)) from None
                click.echo(f"shotlang: a run is in progress ({e.holder}); showing the recorded state", err=True)
                store = Store.read(path, source)
    except (ConfigError, StateError) as e:
        raise IOFailure(str(e)) from None
    except OSError as e:
        raise LocalFailure(f"cannot keep the run's state beside {file}: {e.strerror or e}; nothing sent") from None
    out_dir = out if out is not None else Path(file).parent
    models = result.models or for_folder(Path(file).parent)[0]  # the matrix the checks used
    cast = cast_of(result.output.cast)
    plans = plan_shots(shots, store, out_dir, config, frozenset(force), models, listed=every_take, cast=cast)
    from .compiler.kling import TAKES_MAX

    full = sorted({p.shot.shot for p in plans if p.shot.forced and p.shot.take > TAKES_MAX})
    if full:
        store.close()
        raise IOFailure(f"--force {full[0]}: it has {TAKES_MAX} takes, the most a shot list can choose from; pick "
                        "one of them, or change the shot (its takes are then made again); nothing sent")
    return Prepared(config, store, out_dir, plans, plan_cast(cast, plans, store, frozenset(force)), cast, backend)


def _preflight(out_dir: Path, plans: list[PlannedShot]) -> None:
    """Before paying for anything: can the videos be written where they should go?"""
    import tempfile

    from .engine.runner import video_path

    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out_dir):
            pass
    except OSError as e:
        raise LocalFailure(f"cannot write videos to {out_dir}: {e.strerror or e}; nothing sent") from None
    blocked = [str(video_path(out_dir, p.name)) for p in plans
               if p.action != "unchanged" and video_path(out_dir, p.name).is_dir()]
    if blocked:
        raise LocalFailure(f"a folder stands where a video should go: {', '.join(blocked)}; "
                           "move it aside; nothing sent")


def _parse_cost(text: str) -> tuple[Decimal, str]:
    """`--max-cost 50` is 50 credits; `--max-cost $7` or `7usd` is US dollars; a decimal, so
    `$1.40` is exactly what `plan` prints as $1.40. Not a number, infinite or below 0: refused."""
    raw = text.strip().lower()
    unit = "credits"
    if raw.startswith("$") or raw.endswith("usd"):
        raw, unit = raw.removeprefix("$").removesuffix("usd").strip(), "usd"
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise click.BadParameter("write a number of credits (50) or dollars ($7)", param_hint="'--max-cost'") from None
    if not value.is_finite() or value < 0:
        raise click.BadParameter(f"{text!r} is no limit: write a number of credits (50) or dollars ($7), 0 or more",
                                 param_hint="'--max-cost'")
    return value, unit


RUN_FILE = click.argument("file", metavar="FILE.shot")
OUT = click.option("--out", type=click.Path(file_okay=False, path_type=Path),
                   help="Folder for the videos (default: beside the .shot file).")
ONLY = click.option("--only", multiple=True, metavar="NAME", help="Only this shot (repeatable).")
FORCE = click.option("--force", multiple=True, metavar="NAME",
                     help="Add a take of this shot (repeatable; pays again, replaces nothing); `@member` makes a cast member's element again.")


@main.command()
@RUN_FILE
@ONLY
@FORCE
@OUT
@click.option("--json", "as_json", is_flag=True, help="Machine-readable plan.")
@click.option("--axes", type=AXES_CHOICE, help=AXES_HELP)
@click.option("--backend", type=BACKEND_CHOICE, help=BACKEND_HELP)
def plan(file: str, only: tuple[str, ...], force: tuple[str, ...], out: Path | None, as_json: bool,
         axes: str | None, backend: str | None) -> None:
    """What `run` would do for each shot, and what it would cost. Sends nothing."""
    from .engine.pricing import estimate, plan_json, plan_table

    config, _store, _out, plans, cast, _members, _way = _prepare(file, axes, out, only, force, "read",
                                                                 _backend(backend))
    if as_json:
        click.echo(plan_json(plans, estimate(plans, config), cast))
    else:
        click.echo(plan_table(plans, estimate(plans, config), cast))


@main.command("run")
@RUN_FILE
@ONLY
@FORCE
@OUT
@click.option("--concurrency", type=click.IntRange(1, 64), default=4, show_default=True,
              help="Tasks generating at once, at most; lowered when the account says it is over its limit.")
@click.option("--max-cost", "max_cost", metavar="N|$N",
              help="Refuse to start if the estimate of what would be submitted exceeds this.")
@click.option("--json", "as_json", is_flag=True, help="Events as JSON lines on standard output.")
@click.option("--axes", type=AXES_CHOICE, help=AXES_HELP)
@click.option("--backend", type=BACKEND_CHOICE, help=BACKEND_HELP)
@click.option("--api-base", help=API_BASE_HELP)
@click.option("--poll-interval", type=click.FloatRange(0.01), default=5.0, show_default=True,
              help="Seconds before the first status query, until render times are learnt from finished tasks.")
@click.option("--timeout", "task_timeout", type=click.FloatRange(0.1), default=1800.0, show_default=True,
              help="Seconds one task may take, create to video on disk, before it is left for the next run.")
@click.option("--retry-base", type=click.FloatRange(0.0), default=1.0, show_default=True, hidden=True)
def run_command(file: str, only: tuple[str, ...], force: tuple[str, ...], out: Path | None, concurrency: int,
        max_cost: str | None, as_json: bool, axes: str | None, backend: str | None, api_base: str | None,
        poll_interval: float, task_timeout: float, retry_base: float) -> None:
    """Generate the videos of a shot list: submit, poll, download. Safe to run again."""
    config, store, out_dir, plans, cast, members, way = _prepare(file, axes, out, only, force, "run",
                                                                 _backend(backend))
    try:
        _run(config, store, out_dir, plans, cast, members, max_cost=max_cost, as_json=as_json, api_base=api_base,
             concurrency=concurrency, poll_interval=poll_interval, task_timeout=task_timeout,
             retry_base=retry_base, backend=way)
    finally:
        _close(store)


def _close(store: Store) -> None:
    """Save the state for good (its journal folded into the state file) and release its lock."""
    from .engine.state import journal_path

    try:
        store.close()
    except OSError as e:
        raise LocalFailure(f"cannot save the state to {e.filename or store.path}: {e.strerror or e}; "
                           f"it is kept in {journal_path(store.path)}, and the next run reads it") from None


class Terminated(KeyboardInterrupt):
    """SIGTERM: stopped like Ctrl-C, with exit 143."""


def _terminated(signum: int, frame: object) -> None:
    raise Terminated


def _run(config: Config, store: Store, out_dir: Path, plans: list[PlannedShot], cast: list[PlannedShot],
         members: list[Shot], *, max_cost: str | None,
         as_json: bool, api_base: str | None, concurrency: int, poll_interval: float, task_timeout: float,
         retry_base: float, backend: str = "kling") -> None:
    import threading

    from .engine.client import Backoff, Retry
    from .engine.pricing import estimate, some_names
    from .engine.progress import JsonReporter, LineReporter, LiveReporter, summary_table
    from .engine.runner import Runner, RunSettings, reused_ids

    reused = reused_ids(plans)
    if reused:
        raise IOFailure(f"{some_names(reused)}: a shot's own `id` names the task of an earlier request at "
                        "Kling (this shot's before it changed, or another shot's): sent again, it would fetch that "
                        "request's video, not make one of this body; give the shot a new `id`, or remove it "
                        "(shotlang then makes one for each body and take); nothing sent")
    if max_cost is not None:
        limit, unit = _parse_cost(max_cost)
        if backend != "kling" and unit == "credits":
            raise IOFailure(f"--max-cost {max_cost}: {backend} prices in US$, not Kling's credits: write "
                            f"--max-cost '${max_cost}'; nothing sent")
        est = estimate(plans, config)
        value = est.exact_credits if unit == "credits" else est.exact_usd
        if est.unpriced:
            raise IOFailure(f"--max-cost: no price is known for {some_names(est.unpriced_shots)} "
                            f"({', '.join(est.unpriced)}), and shotlang does not guess one; give a price in "
                            "shotlang-models.toml or the config file (docs/running.md), or leave out --max-cost")
        if value > limit:
            click.echo(f"shotlang: the estimate is {est.credits:g} credits (${est.usd:.2f}), over --max-cost "
                       f"{max_cost}; nothing sent", err=True)
            sys.exit(EXIT_USAGE)
    if not _can_ask(config, backend):
        click.echo(f"shotlang: {_NO_KEY[backend]}", err=True)
        sys.exit(EXIT_AUTH)
    _preflight(out_dir, plans)
    stop = threading.Event()
    names = [p.name for p in plans]
    reporter: LineReporter | JsonReporter | LiveReporter
    if as_json:
        reporter = JsonReporter()
    elif sys.stderr.isatty():
        reporter = LiveReporter(names)
    else:
        reporter = LineReporter()
    runner: Runner | None = None

    def retrying(retry: Retry) -> None:
        reporter.retrying(runner.current_shot() if runner is not None else None, retry)

    client = _client(backend, config, api_base, backoff=Backoff(base=retry_base, cap=max(retry_base * 30, 0.01)),
                     stop=stop, on_retry=retrying)
    settings = RunSettings(concurrency=concurrency, poll_interval=poll_interval, task_timeout=task_timeout)
    runner = Runner(client, store, out_dir, reporter, settings, stop)
    try:
        outcomes = runner.run(plans, cast)
    except KeyboardInterrupt as e:
        if isinstance(reporter, LiveReporter):
            reporter.close(keep=True)  # no summary follows: leave the last picture
        else:
            reporter.close()
        try:
            _close(store)
        except LocalFailure as failure:
            failure.show()
        # Workers still inside a slow request are daemon threads: leave without waiting for them.
        interrupted(e, "the state is saved, run again to continue")
    finally:
        client.close()
    reporter.close()
    from .engine.runner import arrange, shot_digests

    try:  # each shot's chosen take as <shot>.mp4
        for line in arrange(store, out_dir, plans, shot_digests([p.shot for p in plans], members, store.get)):
            click.echo(f"shotlang: {line}", err=True)
    except OSError as e:
        raise LocalFailure(f"cannot arrange the takes in {out_dir}: {e.strerror or e}; the state says where "
                           "each take is, and the next run arranges them") from None
    except KeyboardInterrupt as e:
        try:
            _close(store)
        except LocalFailure as failure:
            failure.show()
        interrupted(e, "the state is saved, run again to arrange the takes")
    if runner.finished:  # every shot of this run went through: its --force is carried out
        # but for a shot left pending (say a download past --timeout): its generation is paid
        # for, and the same command again must finish it, not buy another.
        pending = {o.name for o in outcomes if o.status == "pending"}
        store.clear_pending_force({p.shot.shot for p in plans} - {p.shot.shot for p in plans if p.name in pending})
    if isinstance(reporter, JsonReporter):
        reporter.summary(outcomes)
    else:
        click.echo(summary_table(outcomes))
    if runner.stop_kind == "auth":
        check = "FAL_KEY" if backend == "fal" else "KLING_ACCESS_KEY and KLING_SECRET_KEY"
        click.echo(f"shotlang: {runner.stop_reason}; check {check}", err=True)
        sys.exit(EXIT_AUTH)
    if runner.stop_kind == "account":
        click.echo(f"shotlang: the run stopped: {runner.stop_reason}", err=True)
        sys.exit(EXIT_STOPPED)
    if runner.stop_kind == "local":
        click.echo(f"shotlang: the run stopped: {runner.stop_reason}; nothing more was submitted; "
                   "fix it and run again to continue", err=True)
        sys.exit(EXIT_LOCAL)
    if any(o.status not in ("done", "unchanged") for o in outcomes):
        sys.exit(EXIT_SHOTS_FAILED)


@main.command("pick")
@click.argument("args", nargs=-1, required=True, metavar="[FILE.shot] SHOT TAKE")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Folder of the videos, if not beside the .shot file.")
def pick_command(args: tuple[str, ...], out: Path | None) -> None:
    """Choose a take of a shot: writes `pick TAKE` into the shot list (nothing else in it moves)
    and makes that take's video SHOT.mp4 (the others SHOT.take-K.mp4). Without FILE, the one
    .shot file here that has SHOT."""
    from .engine.runner import arrange, asked_digests, cast_of, plan_shots, shots_of
    from .engine.state import StateBusy, StateError, Store, state_path
    from .tools.pick import NotPicked, pick_file

    if len(args) not in (2, 3):
        raise click.UsageError("write `shotlang pick [FILE.shot] SHOT TAKE`, e.g. `shotlang pick castle 2`")
    *where, shot, number = args
    try:
        take = int(number)
    except ValueError:
        raise click.BadParameter(f"{number!r} is not a take's number (1, 2, ...)", param_hint="TAKE") from None
    if take < 1:
        raise click.BadParameter(f"takes are numbered from 1, not {take}", param_hint="TAKE")
    file = Path(where[0]) if where else _shot_list_with(shot)
    path = state_path(file)
    try:
        recorded = Store.read(path, file.name) if path.exists() else None
    except (StateError, OSError) as e:
        raise IOFailure(str(e)) from None
    made = 0
    if recorded is not None:
        [before] = _compile_all((str(file),), None)
        if before.output is not None:  # (with errors, pick_file says so)
            asked = asked_digests(before.output.records, before.output.cast, recorded.get)
            made = _takes_made(recorded, shot, asked)
    try:
        picked = pick_file(file, shot, take, made)
    except NotPicked as e:
        raise IOFailure(str(e)) from None
    except OSError as e:
        raise IOFailure(f"cannot read {file}: {e.strerror or e}") from None
    try:
        _rewrite(file, picked.text.encode("utf-8"))
    except OSError as e:
        raise IOFailure(f"cannot write {file}: {e.strerror or e}") from None
    click.echo(f"{file}:{picked.line}: take {take} of {shot} is chosen" +
               (f" (takes {picked.takes})" if picked.takes > 1 else ""))
    if recorded is None:
        return
    [result] = _compile_all((str(file),), None)
    if result.output is None:
        return
    try:
        store = Store.open(path, file.name)
    except StateBusy as e:
        click.echo(f"shotlang: a run is in progress ({e.holder}), which read the shot list before this pick: "
                   f"the next run (or `shotlang pick` again once it ends) makes {shot}.mp4 take {take}", err=True)
        return
    except (StateError, OSError) as e:
        raise IOFailure(str(e)) from None
    try:
        from .config import load as load_config

        videos = out or file.parent
        plans = plan_shots(shots_of(result.output.records), store, videos, load_config(),
                           cast=cast_of(result.output.cast))
        asked = asked_digests(result.output.records, result.output.cast, store.get)
        for line in arrange(store, videos, plans, asked):
            click.echo(line)
    except OSError as e:
        raise LocalFailure(f"cannot arrange the takes: {e.strerror or e}; the next run arranges them") from None
    finally:
        _close(store)


def _shot_list_with(shot: str) -> Path:
    """The one .shot file in the working folder that has a shot named `shot`."""
    import re

    pattern = re.compile(rf"^\s*(?:shot|sequence)\s+{re.escape(shot)}\s*:", re.IGNORECASE | re.MULTILINE)
    found = [p for p in sorted(Path.cwd().glob("*.shot")) if pattern.search(p.read_text("utf-8", "replace"))]
    if len(found) != 1:
        where = ", ".join(p.name for p in found) if found else "no .shot file here"
        raise IOFailure(f"which shot list? {shot} is in {where}: write `shotlang pick FILE.shot {shot} TAKE`")
    return found[0]


def _takes_made(store: Store, shot: str, asked: dict[str, tuple[str, ...]]) -> int:
    """The highest take of `shot` a run has recorded for its request as it is now (0 if none):
    a take of an earlier request is no take of this one."""
    from .engine.runner import TAKE_MARK

    first = next((name for name in asked if name.lower() == shot.lower()), None)
    if first is None:
        return 0
    made = 0
    for name in store.names():
        state = store.get(name)
        if state is None or state.body_sha256 not in asked[first]:
            continue
        if name.lower() == shot.lower():
            made = max(made, 1)
        elif name.lower().startswith(shot.lower() + TAKE_MARK):
            suffix = name[len(shot) + len(TAKE_MARK):]
            if suffix.isdigit():
                made = max(made, int(suffix))
    return made


REFRESH_QUERY_SECONDS = 30.0  # `status` asks about one task for this long at most, by default


@main.command()
@RUN_FILE
@OUT
@click.option("--offline", is_flag=True, help="Show the recorded state only; ask the API nothing.")
@click.option("--json", "as_json", is_flag=True, help="The state as JSON.")
@click.option("--backend", type=BACKEND_CHOICE, help=BACKEND_HELP)
@click.option("--api-base", help=API_BASE_HELP)
@click.option("--timeout", "query_timeout", type=click.FloatRange(0.1), default=REFRESH_QUERY_SECONDS,
              show_default=True, help="Seconds to wait for the API's answer about each shot in flight.")
def status(file: str, out: Path | None, offline: bool, as_json: bool, backend: str | None, api_base: str | None,
           query_timeout: float) -> None:
    """The recorded state of each shot; with credentials, refreshed from the API first."""
    from .engine.runner import plan_cast, plan_shots, shot_video

    config, store, out_dir, plans, cast, members, way = _prepare(file, None, out, (), (),
                                                                 "read" if offline else "status", _backend(backend))
    try:
        if not offline and _can_ask(config, way) and store.writable:
            _refresh(store, [*cast, *plans], config, api_base, query_timeout, way)
            plans = plan_shots([p.shot for p in plans], store, out_dir, config, cast=members)
            cast = plan_cast(members, plans, store)
    finally:
        store.close()
    rows = []
    for plan in (*cast, *plans):
        state = store.get(plan.name)
        on_disk = shot_video(store, state, out_dir, plan.name).is_file()
        rows.append({"shot": plan.name, "plan": plan.action, "status": state.status if state else "never run",
                     "task_id": state.task_id if state else None, "file": state.file if state and on_disk else None,
                     "message": state.status_msg if state else None})
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    from .terminal import printable

    head = ("SHOT", "STATUS", "NEXT RUN", "TASK", "FILE OR MESSAGE")
    table = [head] + [(r["shot"], r["status"], r["plan"], r["task_id"] or "-",
                       printable(r["file"] or r["message"] or "")) for r in rows]
    widths = [max(len(str(row[i])) for row in table) for i in range(4)]
    for row in table:
        click.echo("  ".join(str(c).ljust(w) for c, w in zip(row[:4], widths, strict=True)) + "  " + str(row[4]))


def _refresh(store: Store, plans: list[PlannedShot], config: Config, api_base: str | None,
             query_timeout: float = REFRESH_QUERY_SECONDS, backend: str = "kling") -> None:
    """Ask the API about every shot still in flight and record the answers."""
    import time

    from .engine.client import Backoff, KlingError
    from .engine.runner import backend_of, record_task
    from .engine.state import IN_FLIGHT

    with _client(backend, config, api_base, backoff=Backoff(attempts=3)) as client:
        for plan in plans:
            state = store.get(plan.name)
            if state is None or state.status not in IN_FLIGHT or backend_of(state.endpoint) != backend:
                continue  # (a request of the other backend is asked about with --backend set to it)
            try:  # a deadline, as a server that drips its answer would hold the state's lock for ever
                task = client.query(state.endpoint, state.task_id or state.external_task_id,
                                    deadline=time.monotonic() + query_timeout)
            except KlingError as e:
                raise IOFailure(f"cannot refresh from the API: {e.message}") from None
            if task is not None:
                record_task(store, plan.name, task)


_NO_KEY = {"kling": "no Kling credentials: set KLING_ACCESS_KEY and KLING_SECRET_KEY (or the config file, see "
                    "docs/running.md)",
           "fal": "no fal key: set FAL_KEY (or `key` in the config file's [fal], see docs/running.md)"}


def _can_ask(config: Config, backend: str) -> bool:
    """Whether the config has what `backend` signs its requests with."""
    return (config.fal_key if backend == "fal" else config.credentials) is not None


def _client(backend: str, config: Config, api_base: str | None, **kwargs: Any) -> KlingClient:
    """The client that speaks to `backend`'s API (the engine is the same for each)."""
    if backend == "fal":
        from .engine.fal import FalClient

        assert config.fal_key is not None
        return FalClient(api_base or config.fal_api_base, config.fal_key, **kwargs)
    from .engine.auth import TokenSource
    from .engine.client import KlingClient

    assert config.credentials is not None
    return KlingClient(api_base or config.api_base, TokenSource(config.credentials), **kwargs)


def interrupted(cause: BaseException | None, more: str = "") -> NoReturn:
    """Ctrl-C (130) or SIGTERM (143): one line, then out at once. os._exit, since an interrupt
    that lands while the interpreter unwinds can otherwise turn the exit status into a signal."""
    sys.stderr.write(f"shotlang: interrupted{'; ' + more if more else ''}\n")
    sys.stderr.flush()
    with contextlib.suppress(OSError, ValueError):
        sys.stdout.flush()
    os._exit(EXIT_TERMINATED if isinstance(cause, Terminated) else EXIT_INTERRUPTED)


def run() -> None:
    """The console script: click, with Ctrl-C (130), SIGTERM (143) and a closed pipe (`| head`)
    ending quietly with one line at most."""
    try:  # a Ctrl-C while the signal module loads (slow on a busy machine) ends quietly too
        import signal

        # Process-wide settings belong to the program, not to the library or a click command.
        signal.signal(signal.SIGTERM, _terminated)
    except KeyboardInterrupt as e:
        interrupted(e)
    # `run`'s threads mostly wait on the network: hand the interpreter over sooner than every
    # 5 ms, so a finished task's slot is reused without a queue of hand-overs.
    sys.setswitchinterval(0.001)
    try:
        code = main.main(standalone_mode=False)
    except click.exceptions.Abort as e:  # click's name for a KeyboardInterrupt it caught
        interrupted(e.__cause__)
    except KeyboardInterrupt as e:
        interrupted(e)
    except click.ClickException as e:
        e.show()
        sys.exit(e.exit_code)
    except BrokenPipeError:
        # Python flushes stdout again at exit; point it at devnull so that does not fail too.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(EXIT_OK)
    sys.exit(code if isinstance(code, int) else EXIT_OK)
