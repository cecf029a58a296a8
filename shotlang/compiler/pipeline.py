"""The compiler's driver and Python API: text in, checked requests and diagnostics out.

    parse (parser.py) -> lower (lower.py) -> check (checks.py) -> records (records.py)
    -> envelope (payload.py, result.py)

The stages run statement by statement: each shot is parsed, lowered, checked and turned
into its JSON record before the next is read, so a 100k-shot file never holds all its syntax
trees at once. `check` stops before the records; the pydantic envelope and models (payload.py,
result.py) are imported only by `compile_*`, which keeps `check` quick to start.

Only reading the .shot file and its images touches the disk, and both happen here or through
the ImageStore passed in.
"""

from __future__ import annotations

import bisect
import heapq
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from . import checks, lower, parser
from . import syntax as ast
from .analysis import Analysis, Reports
from .diagnostics import Diagnostic, Related, Severity, sort_key
from .images import ImageStore
from .language import BACKENDS, DEFAULT_BACKEND
from .models import Matrix, for_folder
from .records import record
from .source import BOM, DecodeFailure, Source, Span, decode
from .trivia import Trivia, mask
from .vocabulary import AXES

if TYPE_CHECKING:
    from .result import CompileResult

__all__ = ["Analysis", "Reports", "analyse", "analyse_bytes", "compile_bytes", "compile_file", "compile_text"]

# Characters a terminal acts on rather than shows (ESC starts colour and cursor codes, BEL
# rings, NUL ends a C string), sent to the API inside a prompt or printed back in a diagnostic.
# A shot list needs only tab, newline and carriage return.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
CONTROL_NAMES = {"\x00": "NUL", "\x07": "BEL", "\x08": "BS", "\x0b": "VT", "\x0c": "FF",
                 "\x1b": "ESC", "\x7f": "DEL"}


def control_name(char: str) -> str:
    """`\\x1b` (ESC): how a message names a control character without printing it."""
    code = f"\\x{ord(char):02x}"
    return f"`{code}` ({CONTROL_NAMES[char]})" if char in CONTROL_NAMES else f"`{code}`"


def analyse(text: str, name: str, base_dir: Path, *, axes: str | None = None,
            images: ImageStore | None = None, records: bool = False, models: Matrix | None = None,
            lowered: list[lower.Lowered] | None = None, user_models: bool = True, backend: str | None = None,
            default_backend: str = DEFAULT_BACKEND) -> Analysis:
    """Parse, lower and check `text`: every diagnostic, sorted by position; and with
    `records`, the JSON record of each shot (meaningful only if there is no error); into
    `lowered`, if given, each shot and sequence as the lowering made it. `models`
    is the capability matrix; if None, the one for shot lists in `base_dir` (models.py), the
    user's models file included with `user_models`. `images` says which files may be read
    (the command line's default: any, those outside `base_dir` said so). The backend is
    `backend` if given (the command line's `--backend`), else the file's BACKEND line, else
    `default_backend` (the config's); with "fal" the records are fal's requests (fal.py), and
    what no fal app takes is refused. The analysis says which it was."""
    axes = _axes_choice(axes)
    _backend_choice(backend, allow_none=True)
    _backend_choice(default_backend)
    text = text.removeprefix(BOM)
    masked = mask(text)
    source = Source(masked.text, name, written=text if masked.trivia else None)
    images = images or ImageStore()
    report: list[Diagnostic] = []
    if masked.unclosed is not None:
        report.append(unclosed(masked.unclosed, source))
    if models is None:
        models, problems = for_folder(base_dir, user=user_models)
        report += problems
    lowering = lower.Lowering(report, axes=axes, models=models)
    checker = checks.Checker(base_dir, images, models)
    made: list[dict[str, Any]] | None = [] if records else None
    cast: list[dict[str, Any]] = []

    def in_effect() -> str:
        # The file's BACKEND line comes before its first request (lower.py, E312), so every
        # request is made for the backend the whole file ends up with.
        return backend or lowering.backend or default_backend

    def take(items: list[lower.Lowered]) -> None:
        if items and in_effect() == "fal":  # the same stages, and fal's app for each shot (fal.py)
            from .fal import take_fal

            take_fal(items, checker, lowering.axes, base_dir, images, models, report, made, lowered)
            return
        for item in items:
            if lowered is not None:
                lowered.append(item)
            found = checker.check(item, lowering.axes)
            if found:
                report.extend(found)
            if made is not None and item.lowered and (not found or all(d.severity is not Severity.ERROR for d in found)):
                made_one = record(item, lowering.axes, base_dir, images, models)
                (cast if isinstance(item, lower.LoweredCast) else made).append(made_one)

    owners: list[tuple[int, str]] = []  # where each SHOT and SEQUENCE starts, and its name
    for start, _end, statement in parser.placed_statements(source, report):
        if isinstance(statement, ast.Shot | ast.Sequence):
            owners.append((start, statement.name.text))
        take(lowering.feed(statement, start))
    take(lowering.finish())
    file_notes = _notes(text, masked.trivia, owners, made) if made is not None and masked.trivia else []
    diagnostics = conclude(source, report, lowering.shots)
    return Analysis(source, diagnostics, lowering.title, lowering.axes, lowering.shots, made, file_notes, models,
                    cast if made is not None else None, in_effect())


def _notes(text: str, trivia: list[Trivia], owners: list[tuple[int, str]], made: list[dict[str, Any]]) -> list[str]:
    """Each note into the record of the SHOT or SEQUENCE it is in or follows (a sequence's
    record takes its shots' notes too, in order); the notes above the first are the file's."""
    by_name: dict[str, list[str]] = {}
    for_file: list[str] = []
    starts = [start for start, _ in owners]
    for item in trivia:
        note = item.note(text) if item.kind == "note" else ""
        if not note:
            continue
        at = bisect.bisect_right(starts, item.start) - 1
        (by_name.setdefault(owners[at][1], []) if at >= 0 else for_file).append(note)
    for rec in made:
        found = [n for name in (rec["name"], *rec.get("shots", ())) for n in by_name.get(name, ())]
        if found:
            rec["notes"] = found
    return for_file


def unclosed(opened: Trivia, source: Source) -> Diagnostic:
    """E107 or E108: a block comment or a note that runs to the end of the file."""
    if opened.kind == "block":
        return Diagnostic("E107", "this block comment is not closed: it would switch off the rest of the file",
                          source.span(opened.start, opened.end), "close it with `*/` after the last line to switch off")
    return Diagnostic("E108", "this note is not closed: the rest of the file would be read as the note",
                      source.span(opened.start, opened.end), "close it with `]]` where the note ends")


def conclude(source: Source, report: list[Diagnostic], shots: int,
             disputes: Disputes | None = None, controls: list[int] | None = None) -> list[Diagnostic]:
    """What is said of the file once its statements are read (control characters, no shots at
    all), then every diagnostic once, sorted: analyse's last stage, shared with the language
    server, which reads the statements its own way (lsp/live.py) and may bring the shots' W108s
    summed up (`disputes`) rather than in the report, and where the control characters are
    (`controls`, kept through its edits) rather than look. Extends `report`."""
    # Outside strings the parser has already called a control character unexpected (E104).
    unexpected = {d.span.start for d in report if d.code == "E104"}
    at = control_characters(source.text) if controls is None else controls
    report += (_control_character(source, i) for i in at if i not in unexpected)
    if not shots and not report:
        report.append(Diagnostic("W106", "this file has no shots", source.span(0, 1),
                                 'write one, e.g. `SHOT castle: pan right over "A castle at dawn" 5s`'))
    return _once_per_place(_one_dispute_warning(report, source, disputes))


DISPUTES_SHOWN = 4  # the disputed cells a W108 names; `shotlang models` lists them all
RELATED_SHOWN = 8  # the other shots it points at


class Disputes(NamedTuple):
    """The W108s of a shot list summed up: all that the one warning they become says."""

    messages: list[str]  # each one's message, in the report's order (repeats and all)
    places: set[tuple[int, int]]  # where they are (start and end offsets): at least the first few
    camera: bool  # one of them is about a camera move (its hint then says `moves words`)
    total: int | None = None  # how many places there are, if `places` holds only the first


def _one_dispute_warning(report: list[Diagnostic], source: Source,
                         known: Disputes | None = None) -> list[Diagnostic]:
    """The W108s the checks found, shot by shot (in the report, and summed up in `known`), as
    one warning per shot list: at the first shot that relies on a disputed cell, naming each
    disputed cell once, pointing at the others. (Every shot of a large file may have one: the
    distinct messages are few, and only the first places are sorted.)"""
    found = [d for d in report if d.code == "W108"]
    if not found and not (known and known.places):
        return report
    messages = [*(known.messages if known else ()), *(d.message for d in found)]
    places = (known.places if known else set()) | {(d.span.start, d.span.end) for d in found}
    many = len(places)
    if known is not None and known.total is not None:
        many += known.total - len(known.places)
    camera = (known is not None and known.camera) or any(d.hint == checks.DISPUTE_HINT_CAMERA for d in found)
    said: dict[tuple[str, str], list[str]] = {}  # (feature, claims) -> the models
    for message in dict.fromkeys(messages):
        for part in message.split("; "):  # checks._check_disputes: `<feature> on <model>: <claims>`
            what, _, claims = part.partition(": ")
            feature, _, model = what.rpartition(" on ")
            models = said.setdefault((feature, claims), [])
            if model not in models:
                models.append(model)
    cells = [f"{feature} on {', '.join(models)}: {claims}" for (feature, claims), models in said.items()]
    first, *others = heapq.nsmallest(RELATED_SHOWN + 1, places)
    named = "; ".join(cells[:DISPUTES_SHOWN]) + (f"; and {len(cells) - DISPUTES_SHOWN} more" if
                                                  len(cells) > DISPUTES_SHOWN else "")
    one = Diagnostic(
        "W108", f"{many} shot{'s' * (many != 1)} rel{'y' if many != 1 else 'ies'} on what the sources dispute: {named}",
        source.span(*first), checks.DISPUTE_HINT_CAMERA if camera else checks.DISPUTE_HINT,
        tuple(Related(source.span(*place), "relies on it too") for place in others))
    return [d for d in report if d.code != "W108"] + [one]


def control_characters(text: str, start: int = 0, end: int | None = None) -> list[int]:
    """Where text[start:end] has a control character (CONTROL)."""
    return [m.start() for m in CONTROL.finditer(text, start, len(text) if end is None else end)]


def _control_character(source: Source, at: int) -> Diagnostic:
    return Diagnostic("E002", f"control character {control_name(source.text[at])} in the file",
                      source.span(at, at + 1), "remove the control character (the API would receive it in the text)")


def _once_per_place(report: list[Diagnostic]) -> list[Diagnostic]:
    """Every diagnostic sorted by position, and each said once at its place.

    A value inherited from DEFAULTS is checked in every shot that inherits it, so its warning
    would repeat at the DEFAULTS line, once per shot (and once per model the shots use: two
    models ignoring one `cfg` are one warning, naming both)."""
    said: dict[tuple[str, Span, str], list[Diagnostic]] = {}
    for d in report:
        same = said.setdefault((d.code, d.span, d.hint), [])
        if all(d.message != s.message for s in same):
            same.append(d)
    merged = [same[0]._replace(message="; ".join(s.message for s in same)) if len(same) > 1 else same[0]
              for same in said.values()]
    return sorted(merged, key=sort_key)


def analyse_bytes(data: bytes, name: str, base_dir: Path, *, axes: str | None = None,
                  images: ImageStore | None = None, records: bool = False, models: Matrix | None = None,
                  user_models: bool = True, backend: str | None = None,
                  default_backend: str = DEFAULT_BACKEND) -> Analysis:
    """As analyse, from raw bytes: UTF-8, a byte-order mark allowed, or UTF-16 with its mark."""
    axes = _axes_choice(axes)
    _backend_choice(backend, allow_none=True)
    _backend_choice(default_backend)
    text = text_of(data, name)
    if isinstance(text, Analysis):
        text.backend = backend or default_backend
        return text
    return analyse(text, name, base_dir, axes=axes, images=images, records=records, models=models,
                   user_models=user_models, backend=backend, default_backend=default_backend)


def text_of(data: bytes, name: str) -> str | Analysis:
    """A shot list's text from its bytes (UTF-8, a byte-order mark allowed, or UTF-16 with its
    mark); or, for bytes that are not one, the Analysis holding its one error (E001)."""
    try:
        text = decode(data)
    except DecodeFailure as bad:
        return _not_text(bad.text, name, bad.offset, f"this is not {bad.encoding} ({bad.reason})")
    nul = text.find("\0")
    if nul != -1:
        # A binary file, or UTF-16 saved without its mark: one error, not one per NUL byte.
        return _not_text(text, name, nul, "a NUL byte: this is not a text file")
    return text


def _not_text(text: str, name: str, offset: int, message: str) -> Analysis:
    """E001 for bytes that are not a shot list's text. The line shown has its control
    characters replaced (one character each, so the caret stays put): printed raw, a binary
    file's bytes would ring, clear or recolour the terminal."""
    source = Source(CONTROL.sub("\ufffd", text), name)
    hint = "save the file as UTF-8 (UTF-16 is read only with its byte-order mark)"
    return Analysis(source, [Diagnostic("E001", message, source.span(offset, offset + 1), hint)])


def _backend_choice(backend: str | None, allow_none: bool = False) -> None:
    """A backend checked at the API's edge, so a misspelling is a plain ValueError."""
    if backend not in BACKENDS and not (allow_none and backend is None):
        nothing = " (or None for the file's BACKEND line)" if allow_none else ""
        raise ValueError(f"backend must be {' or '.join(map(repr, BACKENDS))}{nothing}, not {backend!r}")


def _axes_choice(axes: str | None) -> str | None:
    """`axes` checked at the API's edge, so a misspelling is a plain ValueError."""
    if axes is None or axes.lower() in AXES:
        return axes and axes.lower()
    from .diagnostics import closest

    guess = closest(axes, AXES)
    raise ValueError(f"axes must be {' or '.join(map(repr, AXES))} (or None for the file's AXES line), "
                     f"not {axes!r}" + (f"; did you mean {guess!r}?" if guess else ""))


def _place(path: str | Path | None, folder: str | Path | None) -> tuple[str, Path | None]:
    """The name diagnostics use, and the folder the shot list's files are read from: `folder`,
    else the folder of `path`, else none."""
    name = str(path) if path is not None else "<input>"
    if folder is not None:
        return name, Path(folder)
    return name, (Path(path).parent if path is not None else None)


def _library(folder: Path | None, images: ImageStore | None, models: Matrix | None,
             user_config: bool) -> tuple[Path, ImageStore, Matrix | None, list[Diagnostic]]:
    """Where relative paths resolve, what may be read, and the matrix: the Python API reads
    files under the shot list's folder only (none for text with no folder: not even a models
    file where the process happens to run), unless the caller's store says more."""
    problems: list[Diagnostic] = []
    if models is None and folder is None:
        models, problems = for_folder(None, user=user_config)  # the built-in table, and the user's if asked
    return (folder if folder is not None else Path.cwd()), (images or ImageStore(folder, anywhere=False)), \
        models, problems


def compile_text(text: str | bytes, path: str | Path | None = None, *, axes: str | None = None,
                 images: ImageStore | None = None, models: Matrix | None = None,
                 folder: str | Path | None = None, user_config: bool = False, backend: str | None = None,
                 default_backend: str = DEFAULT_BACKEND) -> CompileResult:
    """Compile the text of a shot list (bytes are read as by compile_bytes).

    `path` names the file in diagnostics; its folder (or `folder`) is where the shot list's
    files are read from, and the only place they are: a local image named by an absolute path,
    `~`, `..` or a link out of it is refused (E507), and text with neither `path` nor `folder`
    reads no file at all. `axes` ("seed" or "official") overrides the file's AXES line.
    `models` is the capability matrix to check against; if None, the built-in one with the
    folder's shotlang-models.toml over it, and, with `user_config`, the user's models file
    ($SHOTLANG_MODELS, ~/.config/shotlang/models.toml) too. `images` is a store of the caller's
    (`ImageStore(anywhere=True)` reads whatever the text names, as the command line does).
    `backend` "fal" makes fal's requests (each record's endpoint fal's app id, its body the
    app's input: shotlang/compiler/fal.py) and refuses what no fal app takes (E416-E419);
    `backend` "kling" Kling's; None (the default) what the file's BACKEND line says, else
    `default_backend`. The output's `backend` says which it was. docs/api.md has the whole API.
    """
    from .result import finish

    if isinstance(text, bytes | bytearray | memoryview):
        return compile_bytes(bytes(text), path, axes=axes, images=images, models=models, folder=folder,
                             user_config=user_config, backend=backend, default_backend=default_backend)
    if not isinstance(text, str):
        raise TypeError(f"compile_text takes the shot list as str (or bytes), not {type(text).__name__}")
    name, place = _place(path, folder)
    base_dir, store, matrix, problems = _library(place, images, models, user_config)
    return finish(_with(problems, analyse(text, name, base_dir, axes=axes, images=store, records=True,
                                          models=matrix, user_models=user_config, backend=backend,
                                          default_backend=default_backend)))


def compile_bytes(data: bytes, path: str | Path | None = None, *, axes: str | None = None,
                  images: ImageStore | None = None, folder: str | Path | None = None,
                  models: Matrix | None = None, user_config: bool = False,
                  base_dir: str | Path | None = None, backend: str | None = None,
                  default_backend: str = DEFAULT_BACKEND) -> CompileResult:
    """Compile a shot list's raw bytes: UTF-8, a byte-order mark allowed (as compile_text).
    `base_dir` is `folder`'s earlier name, still taken."""
    from .result import finish

    name, place = _place(path, folder if folder is not None else base_dir)
    where, store, matrix, problems = _library(place, images, models, user_config)
    return finish(_with(problems, analyse_bytes(data, name, where, axes=axes, images=store, records=True,
                                                models=matrix, user_models=user_config, backend=backend,
                                                default_backend=default_backend)))


def _with(problems: list[Diagnostic], analysis: Analysis) -> Analysis:
    """The analysis, with what was wrong with the models files read before it (sorted in)."""
    if problems:
        analysis.diagnostics = sorted([*problems, *analysis.diagnostics], key=sort_key)
    return analysis


def compile_file(path: str | Path, *, axes: str | None = None, models: Matrix | None = None,
                 images: ImageStore | None = None, user_config: bool = False, backend: str | None = None,
                 default_backend: str = DEFAULT_BACKEND) -> CompileResult:
    """Compile a .shot file, its images read from its folder (as compile_text). Raises OSError
    if it cannot be read."""
    return compile_bytes(Path(path).read_bytes(), path, axes=axes, models=models, images=images,
                         user_config=user_config, backend=backend, default_backend=default_backend)
