"""Kling request bodies back into a shot list: records.py and the lowering, run backwards.

    read_payload (JSON, JSON lines, shotlang's envelope) -> Request per body
    -> decompile: each body's fields back into a SHOT (or SEQUENCE) line, in the writer's words
    -> the shot list in fmt's canonical form, checked by the compiler

The rule is exactness: a body shotlang can write decompiles to lines that compile back to
that body, field for field (tests/test_decompile.py holds it over generated shot lists). A
part of a body the language cannot write is never dropped in silence: it becomes a Problem
naming its JSON path (`shots[2].body.camera_control.config`), and a comment above its shot.
Which words are chosen, and the few rewritings that keep a request's meaning (a `null` field
is one left out, ...), are documented in docs/cli.md.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import hashlib
import json
import os
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple

from ..compiler import kling, models
from ..compiler.bodies import OmniRequest, VideoRequest
from ..compiler.camera import said_in
from ..compiler.checks import SAFE_NAME, WINDOWS_RESERVED
from ..compiler.diagnostics import Severity
from ..compiler.images import URL, NotAnImage, inspect_image
from ..compiler.language import AS_IS, NAME_MAX_CHARS, OPTIONS, TOKENS, Option
from ..compiler.lower import ASPECT_MAX_CHARS, CAST_NAME, MAGNITUDE_DECIMALS
from ..compiler.payload import FORMAT_VERSION, CompiledShot
from ..compiler.pipeline import CONTROL, control_name
from ..compiler.records import after_placeholder
from ..compiler.source import DecodeFailure, decode
from ..compiler.vocabulary import (
    AXES,
    DEFAULT_MAGNITUDE,
    INTENSITIES,
    MOVES,
    PHRASES,
    Axis,
    Move,
    nearest_intensity,
    phrase,
)
from ..files import atomic_file
from .fmt import format_text, quote

# A payload file larger than this is refused before it is read: a compiled shot list of 100k
# shots is about 60 MB, and inlined images are at most 10 MB each.
MAX_INPUT_BYTES = 512 * 1024 * 1024

# The keys of a record in the envelope (payload.CompiledShot) and of the envelope itself.
RECORD_KEYS = tuple(CompiledShot.model_fields)
ENVELOPE_KEYS = ("shotlang_format", "source", "title", "axes", "notes", "cast", "shots")
CAST_KEYS = ("name", "line", "method", "endpoint", "body")  # a cast member's record (payload.CompiledCast)
# The order options are written in: the language table's (fmt writes them so too).
_ORDER = {o.kind: i for i, o in enumerate(OPTIONS)}
# The fields of a body each option fills, beyond those made into the move or the sequence.
_IMAGE_FIELDS = {"image": "image", "image_tail": "tail", "static_mask": "mask"}
_SEQUENCE_FIELDS = ("multi_shot", "shot_type", "multi_prompt")
_NOT_IN_A_SEQUENCE = ("prompt", "camera_control", "image_tail", "static_mask", "dynamic_masks")
_NAME = re.compile(TOKENS["NAME"][0])
_ASPECT = re.compile(TOKENS["ASPECT"][0])
_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\[[0-9]+\])*")  # `camera_control`, `voice_list[1]`
_SURROGATE = re.compile("[\ud800-\udfff]")
_ELEMENT = re.compile(re.escape(kling.ELEMENT_REFERENCE).replace(r"\{\}", r"([1-9][0-9]{0,2})"))


# --- what comes out --------------------------------------------------------------------------


class Problem(NamedTuple):
    """A part of an input that the shot list does not say: where it is, and why."""

    where: str  # the file, and for JSON lines its line: `film.jsonl:3`
    path: str  # the JSON path in it: `shots[2].body.camera_control.config`; "" for all of it
    message: str

    def said(self) -> str:
        """The problem without its file, for a comment above its shot."""
        return f"{self.path}: {self.message}" if self.path else self.message

    def __str__(self) -> str:
        return f"{self.where}: {self.path}: {self.message}" if self.path else f"{self.where}: {self.message}"


class Decompiled(NamedTuple):
    text: str  # the shot list
    problems: list[Problem]  # what it does not say; empty when it compiles back to the inputs
    requests: int  # how many request bodies were read


class Unreadable(ValueError):
    """An input that is not request bodies at all (not JSON, the wrong shape, too large): its
    message is one line, naming the file and where."""


# --- reading the inputs ----------------------------------------------------------------------


class _Object(dict[str, Any]):
    """A JSON object, remembering the keys it was given more than once (the last is kept)."""

    repeated: tuple[str, ...] = ()


def _object(pairs: list[tuple[str, Any]]) -> _Object:
    found = _Object(pairs)
    if len(found) != len(pairs):
        found.repeated = tuple(k for k, n in Counter(k for k, _ in pairs).items() if n > 1)
    return found


def _no_constant(word: str) -> Any:
    raise _Constant(word)


class _Constant(ValueError):
    pass


def _loads(text: str) -> Any:
    return json.loads(text, object_pairs_hook=_object, parse_constant=_no_constant)


@dataclass
class Request:
    """One request body found in an input, and what its record in an envelope says about it."""

    where: str
    path: str  # of the body
    body: dict[str, Any]
    record: str | None = None  # the record's path, if it came in an envelope's record
    name: str | None = None
    scene: str | None = None
    has_scene: bool = False  # a record has a scene (maybe null); a bare body says nothing
    endpoint: str | None = None
    members: list[str] | None = None  # a sequence record's shots
    after: str | None = None  # the shot a record continues (`after NAME`)
    takes: dict[str, int] = field(default_factory=dict)  # a record's `takes` and `pick`
    taken: list[str | None] = field(default_factory=list)  # those names, where they were free and safe
    notes: list[str] = field(default_factory=list)  # the record's [[notes]], writable ones
    problems: list[Problem] = field(default_factory=list)


@dataclass
class Payload:
    """What one input file holds: its request bodies, and what its envelopes say of the file."""

    name: str
    requests: list[Request] = field(default_factory=list)
    titles: list[tuple[str, str, str]] = field(default_factory=list)  # (where, path, title)
    axes: str | None = None  # the first envelope's
    notes: list[str] = field(default_factory=list)  # the envelopes' own [[notes]], above the first shot
    problems: list[Problem] = field(default_factory=list)
    cast: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)  # (where, path, record)


def read_input(name: str, stdin: Any = None) -> bytes:
    """A payload file's bytes (`-`: `stdin`, a binary stream); Unreadable when it is too large,
    OSError when it cannot be read."""
    too_large = Unreadable(f"{'<stdin>' if name == '-' else name}: larger than {MAX_INPUT_BYTES // 2**20} MB; "
                           "split it into several files")
    if name == "-":
        data: bytes = stdin.read(MAX_INPUT_BYTES + 1)
    else:
        with open(name, "rb") as f:
            if os.fstat(f.fileno()).st_size > MAX_INPUT_BYTES:  # refused unread (a pipe's size is 0)
                raise too_large
            data = f.read(MAX_INPUT_BYTES + 1)
    if len(data) > MAX_INPUT_BYTES:
        raise too_large
    return data


def read_payload(data: bytes, name: str) -> Payload:
    """The request bodies in a file: one body, a list of them, JSON lines (one body or record
    a line), or shotlang's envelope (one, or a list of them, as `compile` writes several files).
    Unreadable, naming the file and the line and column, when it is none of these."""
    try:
        text = decode(data)
    except DecodeFailure as bad:
        line, column = _line_column(bad.text, bad.offset)
        raise Unreadable(f"{name}:{line}:{column}: not {bad.encoding} text ({bad.reason})") from None
    if not text.strip():
        raise Unreadable(f"{name}: empty: no JSON in it")
    payload = Payload(name)
    try:
        document = _loads(text)
    except json.JSONDecodeError as e:
        if e.msg != "Extra data" or not _first_line_is_json(text):
            raise Unreadable(f"{name}:{e.lineno}:{e.colno}: not JSON: {e.msg}") from None
        for number, value in _json_lines(text, name):
            where = f"{name}:{number}"
            if not isinstance(value, dict):
                raise Unreadable(f"{where}: {_kind(value)}, not a request body or a record") from None
            _take(payload, value, where, "")
        return payload
    except (_Constant, RecursionError, ValueError) as e:
        raise Unreadable(f"{name}: not JSON: {_why_not_json(e)}") from None
    if isinstance(document, list):
        for i, value in enumerate(document):
            if not isinstance(value, dict):
                raise Unreadable(f"{name}: [{i}]: {_kind(value)}, not a request body, record or envelope")
            _take(payload, value, name, f"[{i}]")
    elif isinstance(document, dict):
        _take(payload, document, name, "")
    else:
        raise Unreadable(f"{name}: {_kind(document)}, not a request body, a list of them or an envelope")
    return payload


def _our_format(version: Any) -> bool:
    """Whether an envelope's `shotlang_format` is this shotlang's (`true` is not 1, though
    Python says they are equal)."""
    return not isinstance(version, bool) and version == FORMAT_VERSION


def _why_not_json(e: Exception) -> str:
    if isinstance(e, _Constant):
        return f"{e} is not a JSON number"
    if isinstance(e, RecursionError):
        return "nested too deeply"
    return str(e)


def _first_line_is_json(text: str) -> bool:
    first = next((line for line in text.split("\n") if line.strip()), "")
    try:
        _loads(first)
    except (ValueError, RecursionError):
        return False
    return True


def _json_lines(text: str, name: str) -> Iterator[tuple[int, Any]]:
    for number, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        try:
            yield number, _loads(line)
        except json.JSONDecodeError as e:
            raise Unreadable(f"{name}:{number}:{e.colno}: not JSON: {e.msg}") from None
        except (_Constant, RecursionError, ValueError) as e:
            raise Unreadable(f"{name}:{number}: not JSON: {_why_not_json(e)}") from None


def _line_column(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _take(payload: Payload, value: dict[str, Any], where: str, path: str) -> None:
    """A record, an envelope or a body, by its keys (a body has neither `body` nor `shots`)."""
    backend = value.get("backend")
    if backend is not None and ("body" in value or "shots" in value):
        # fal's app ids and inputs (an envelope or a JSON line of `--backend fal`, `BACKEND fal`):
        # no way back from them to a shot list is written yet.
        raise Unreadable(f"{where}: {_join(path, 'backend')}: {_show(backend)}: decompile reads Kling's requests; "
                         "compile the shot list with `--backend kling` and decompile that")
    if value.get("endpoint") == kling.ELEMENTS or "element_name" in value:  # a cast member's record, or its body
        payload.cast.append((where, path, value if "body" in value else {"body": value}))
    elif "body" in value:  # a JSON line of a sequence has `shots` too: its shots' names
        payload.requests.append(_record(value, where, path, payload.problems))
    elif "shots" in value and ("shotlang_format" in value or "axes" in value):
        _envelope(payload, value, where, path)
    else:
        payload.requests.append(Request(where, path, value))


def _envelope(payload: Payload, envelope: dict[str, Any], where: str, path: str) -> None:
    problems = payload.problems
    version = envelope.get("shotlang_format")
    if not _our_format(version):
        raise Unreadable(f"{where}: {_join(path, 'shotlang_format')}: {_show(version)}: this shotlang reads "
                         f"envelopes of format {FORMAT_VERSION}")
    _repeated(envelope, where, path, problems)
    for key in envelope:
        if key not in ENVELOPE_KEYS:
            problems.append(Problem(where, _join(path, key), "not a key of shotlang's envelope"))
    title = envelope.get("title")
    if isinstance(title, str):
        payload.titles.append((where, _join(path, "title"), title))
    elif title is not None:
        problems.append(Problem(where, _join(path, "title"), f"{_show(title)} is not text"))
    payload.notes += _notes(envelope.get("notes"), where, _join(path, "notes"), problems)
    axes = envelope.get("axes")
    if axes in AXES:
        payload.axes = payload.axes or axes
    elif axes is not None:
        problems.append(Problem(where, _join(path, "axes"), f"{_show(axes)} is not {' or '.join(AXES)}"))
    cast = envelope.get("cast", [])
    if not isinstance(cast, list):
        raise Unreadable(f"{where}: {_join(path, 'cast')}: {_kind(cast)}, not a list of records")
    for i, record in enumerate(cast):
        if not isinstance(record, dict) or not isinstance(record.get("body"), dict):
            raise Unreadable(f"{where}: {_join(path, 'cast')}[{i}]: {_kind(record)}, not a record with a body")
        payload.cast.append((where, f"{_join(path, 'cast')}[{i}]", record))
    shots = envelope.get("shots")
    if not isinstance(shots, list):
        raise Unreadable(f"{where}: {_join(path, 'shots')}: {_kind(shots)}, not a list of records")
    for i, record in enumerate(shots):
        at = f"{_join(path, 'shots')}[{i}]"
        if not isinstance(record, dict) or "body" not in record:
            raise Unreadable(f"{where}: {at}: {_kind(record)}, not a record with a body")
        payload.requests.append(_record(record, where, at, problems))


def _record(record: dict[str, Any], where: str, path: str, problems: list[Problem]) -> Request:
    """A record of the envelope (or a JSON line of `compile --format jsonl`)."""
    body_path = _join(path, "body")
    if not isinstance(record["body"], dict):
        raise Unreadable(f"{where}: {body_path}: {_kind(record['body'])}, not a request body")
    found = Request(where, body_path, record["body"], record=path)
    mine = found.problems
    _repeated(record, where, path, mine)
    for key, value in record.items():
        at = _join(path, key)
        if key in ("shotlang_format", "source"):  # a JSON line's envelope keys
            if key == "shotlang_format" and not _our_format(value):
                raise Unreadable(f"{where}: {at}: {_show(value)}: this shotlang reads envelopes of format "
                                 f"{FORMAT_VERSION}")
        elif key not in RECORD_KEYS:
            mine.append(Problem(where, at, "not a key of shotlang's records"))
        elif key == "name":
            if isinstance(value, str):
                found.name = value
            else:
                mine.append(Problem(where, at, f"{_show(value)} is not a name"))
        elif key == "scene":
            found.has_scene = True
            if value is None or isinstance(value, str):
                found.scene = value
            else:
                mine.append(Problem(where, at, f"{_show(value)} is not a scene heading"))
        elif key == "method" and value != "POST":
            mine.append(Problem(where, at, f"{_show(value)}: shotlang's requests are POST"))
        elif key == "endpoint":
            if isinstance(value, str):
                found.endpoint = value
            else:
                mine.append(Problem(where, at, f"{_show(value)} is not an endpoint"))
        elif key == "notes":
            found.notes = _notes(value, where, at, mine)
        elif key == "after":
            if isinstance(value, str) and _NAME.fullmatch(value):
                found.after = value
            else:
                mine.append(Problem(where, at, f"{_show(value)} is not a shot name"))
        elif key in ("takes", "pick"):
            if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= kling.TAKES_MAX:
                found.takes[key] = value
            else:
                mine.append(Problem(where, at, f"{_show(value)} is not a take's number (1 to {kling.TAKES_MAX})"))
        elif key == "shots":
            if isinstance(value, list) and all(isinstance(v, str) for v in value):
                found.members = value
            else:
                mine.append(Problem(where, at, f"{_show(value)} is not a list of shot names"))
    return found


def _notes(value: Any, where: str, path: str, problems: list[Problem]) -> list[str]:
    """The [[notes]] a shot list can hold as written: the compiler reads a note as its words
    joined by one space, up to the first `]]`."""
    if value is None:
        return []
    if not isinstance(value, list):
        problems.append(Problem(where, path, f"{_show(value)} is not a list of notes"))
        return []
    found = []
    for i, note in enumerate(value):
        at = f"{path}[{i}]"
        if not isinstance(note, str):
            problems.append(Problem(where, at, f"{_show(note)} is not text"))
        elif note != " ".join(note.split()) or not note:
            problems.append(Problem(where, at, f"{_show(note)}: a note is read as its words joined by one space"))
        elif "]]" in note or note.endswith("]"):
            problems.append(Problem(where, at, f"{_show(note)}: a note ends at the first `]]`"))
        elif _writable(note, where, at, problems):
            found.append(note)
    return found


# --- shot lines ------------------------------------------------------------------------------


@dataclass
class _Line:
    """One SHOT or SEQUENCE line in the making: its camera words, prompt and options."""

    name: str
    move: str = ""
    prompt: str | None = None  # None: no prompt (a SEQUENCE)
    options: list[tuple[str, str]] = field(default_factory=list)  # (kind, as written)
    model: str | None = None  # the body's model, written by a MODEL line or as an option
    notes: list[str] = field(default_factory=list)
    after: str | None = None
    cast: list[str] = field(default_factory=list)  # the cast members its element_list names

    def text(self, keyword: str, indent: str, model_line: str | None) -> str:
        options = list(self.options)
        if self.model is not None and self.model != model_line:
            options.append(("model", f"model {self.model}"))
        options.sort(key=lambda o: _ORDER[o[0]])
        parts = [f"{indent}{keyword} {self.name}:"]
        if self.after:
            parts.append(f"after {self.after}")
        if self.move:
            parts.append(self.move)
        if self.prompt is not None:
            parts.append(quote(self.prompt))
        # Notes on lines of their own under the statement: where fmt puts them (they belong to it
        # up to the next SHOT or SEQUENCE, and a sequence's record gathers its shots' after its own).
        return "\n".join([" ".join([*parts, *(written for _, written in options)]),
                          *(f"{indent}    [[{note}]]" for note in self.notes)])


@dataclass
class _Item:
    """A request turned into lines: a shot, or a sequence and its shots."""

    request: Request
    head: _Line
    members: list[_Line] = field(default_factory=list)
    sequence: bool = False
    problems: list[Problem] = field(default_factory=list)


class ImageFolder:
    """Where `--images` writes the images a body holds as Base64, and how the shot list names
    them (relative to the folder the shot list is read from). Each image is written once, to
    `<shot>-<role>.png` (or `.jpg`); an existing file of other content is never overwritten."""

    def __init__(self, folder: Path, shot_list_folder: Path) -> None:
        self.folder = folder
        self.shot_list_folder = shot_list_folder
        self._saved: dict[str, str] = {}  # by the image's digest: its reference

    def save(self, data: bytes, stem: str, suffix: str) -> str:
        digest = hashlib.sha256(data).hexdigest()
        if digest in self._saved:
            return self._saved[digest]
        n = 1
        while True:
            path = self.folder / f"{stem}{'-' + str(n) if n > 1 else ''}{suffix}"
            if not path.exists():
                with atomic_file(path) as f:
                    f.write(data)
                break
            if path.is_file() and path.read_bytes() == data:
                break
            n += 1
        try:
            reference = Path(os.path.relpath(path.resolve(), self.shot_list_folder.resolve())).as_posix()
        except ValueError:  # on another drive (Windows): no relative path
            reference = path.resolve().as_posix()
        self._saved[digest] = reference
        return reference


class _Reading:
    """The state of one decompile: the AXES moves are read under, the names taken, the images."""

    def __init__(self, axes: str, images: ImageFolder | None, matrix: models.Matrix | None = None) -> None:
        self.axes = axes
        self.images = images
        # The capability matrix the shot list will be compiled with (its folder's models files):
        # which endpoint a model's requests go to, how `moves auto` sends a move.
        self.models = matrix or models.built_in()
        self.names: set[str] = set()  # lower case: names are unique ignoring case
        self.counter = 0
        self.moves = _moves_by_axis(axes)

    def take_name(self, wanted: str | None) -> str | None:
        """`wanted` if it is a free, safe name (taking it), else None."""
        if wanted is None or not _safe_name(wanted) or wanted.lower() in self.names:
            return None
        self.names.add(wanted.lower())
        return wanted

    def new_name(self, base: str | None = None) -> str:
        """A free name: `shot-1`, `shot-2`, ...; or `<base>-1`, `<base>-2`, ... (a sequence's shots)."""
        n = 0
        while True:
            if base is None:
                self.counter += 1
                name = f"shot-{self.counter}"
            else:
                n += 1
                suffix = f"-{n}"
                name = base[: NAME_MAX_CHARS - len(suffix)] + suffix
            if self.take_name(name) is not None:
                return name


def _moves_by_axis(axes: str) -> dict[Axis, Move]:
    """The move a camera field and sign are written as: the first of vocabulary.MOVES that sends
    it under `axes` (never one AXES official only approximates)."""
    found: dict[Axis, Move] = {}
    for move in MOVES:
        axis = move.axis(axes)
        if axis is not None and not (axes == "official" and move.approximate_in_official):
            found.setdefault(axis, move)
    return found


_PRESETS: dict[str, Move] = {}
for _move in MOVES:
    if _move.preset:
        _PRESETS.setdefault(_move.preset, _move)
# The word for the default magnitude: the first intensity word listed for it (`slow`).
DEFAULT_WORD = next(word for word, value in INTENSITIES.items() if value == DEFAULT_MAGNITUDE)


def decompile(payloads: list[Payload], *, axes: str | None = None, images: ImageFolder | None = None,
              base_dir: Path | None = None, name: str = "<decompiled>") -> Decompiled:
    """The shot list that sends the requests of `payloads`, in fmt's canonical form, and what it
    cannot say. `axes` picks the words moves are written in (default: the first envelope's AXES,
    else seed); the requests are the same either way. `images` writes Base64 images out to
    files (else each is reported, under a file name to give it). `base_dir` is the folder the
    shot list will be read from (its images and models files; default the working folder)."""
    chosen = axes or next((p.axes for p in payloads if p.axes), None) or "seed"
    reading = _Reading(chosen, images, models.for_folder(base_dir or Path.cwd())[0])
    problems = [p for payload in payloads for p in payload.problems]
    requests = [r for payload in payloads for r in payload.requests]
    # Names from records first, then bare bodies' ids, so a made-up name never takes either:
    # every name the records give is taken before the first is made up.
    records = [r for r in requests if r.record is not None]
    own: list[str | None] = []
    for request in records:
        own.append(reading.take_name(request.name))
        request.taken = [reading.take_name(m) for m in request.members or ()]
    for request, kept in zip(records, own, strict=True):
        request.name = kept or _renamed(request, reading)
    for request in requests:
        if request.record is None:
            wanted = request.body.get("external_task_id")
            request.name = reading.take_name(wanted if isinstance(wanted, str) else None)
    items = [_item(request, reading) for request in requests]

    title: str | None = None
    for i, (where, path, text) in enumerate(t for payload in payloads for t in payload.titles):
        if i == 0:
            title = text if _writable(text, where, path, problems) else None
        elif text != title:
            problems.append(Problem(where, path, f"a second title, {_show(text)}: a shot list has one TITLE"))
    model_counts = Counter(item.head.model for item in items if item.head.model is not None)
    model_line = model_counts.most_common(1)[0][0] if model_counts else None

    lines = [f"[[{note}]]" for payload in payloads for note in payload.notes]  # the file's own
    if title is not None:
        lines.append(f"TITLE {quote(title)}")
    if chosen != "seed":
        lines.append(f"AXES {chosen}")
    if model_line is not None:
        lines.append(f"MODEL {model_line}")
    model_at = len(lines)  # the MODEL line's number, if there is one
    cast: dict[str, Any] = {}  # each cast member written, by name, with its body
    for where, path, record in (c for payload in payloads for c in payload.cast):
        name = record.get("name", record["body"].get("element_name"))
        if isinstance(name, str) and name.lower() in cast:
            if cast[name.lower()] != record["body"]:
                problems.append(Problem(where, path, f"{_show(name)} is cast again with another body: a shot list "
                                                     "casts each member once, and the first is kept"))
            continue  # the same member, from another shot list: written once
        cast[name.lower() if isinstance(name, str) else ""] = record["body"]
        lines += _cast(record, where, path, reading, problems)
    places: list[tuple[int, int, _Item]] = []  # each item's first and last line (from 1)
    scene: str | None = None
    for item in items:
        request = item.request
        for named in item.head.cast:
            if named.lower() not in cast:
                item.problems.append(Problem(request.where, _join(request.path, "element_list"), (
                    f"names the cast member {_show(named)}, whose CAST record is not among the inputs: written "
                    f"as `@{named}`, which sends its element only with a CAST of that name")))
        if request.has_scene and request.scene != scene:
            if request.scene is None:
                item.problems.append(Problem(request.where, _join(request.record or "", "scene"),
                                             "null after a SCENE: a shot list cannot end a scene"))
            elif _writable(request.scene, request.where, _join(request.record or "", "scene"), item.problems):
                scene = request.scene
                if lines:
                    lines.append("")
                lines.append(f"SCENE {quote(scene)}")
        first = len(lines) + 1
        for problem in (*request.problems, *item.problems):
            lines.append(f"# decompile: {_one_line(problem.said())}")
        lines += item.head.text("SEQUENCE" if item.sequence else "SHOT", "", model_line).split("\n")
        for member in item.members:
            lines += member.text("SHOT", "    ", model_line).split("\n")
        places.append((first, len(lines), item))
        problems += request.problems + item.problems
    text = "\n".join(lines) + "\n" if lines else ""
    # An error on the MODEL line (an unknown model) is one of each request that takes its model.
    sharing = [item for item in items if model_line is not None and item.head.model == model_line]
    text, found = _formatted(text, name, base_dir or Path.cwd(), places, (model_at, sharing))
    return Decompiled(text, problems + found, len(requests))


def _renamed(request: Request, reading: _Reading) -> str:
    made = reading.new_name()
    at = _join(request.record or "", "name")
    request.problems.append(Problem(
        request.where, at,
        f"{_show(request.name)} is not a free, safe shot name (one word of ASCII letters, digits, - and _, "
        f"unique); written as {made}" if request.name is not None else f"absent; written as {made}"))
    return made


# The errors of what decompile writes in place of a part it could not say: an image it names
# but could not write out (E500-E506), a prompt it left empty (E305). Of a request with a
# reported problem, these follow from it; every other error of that request is still reported.
_STAND_INS = frozenset({"E305", "E500", "E501", "E502", "E503", "E504", "E505", "E506"})


def _formatted(text: str, name: str, base_dir: Path, places: list[tuple[int, int, _Item]],
               model: tuple[int, list[_Item]]) -> tuple[str, list[Problem]]:
    """`text` through fmt, and the errors the compiler finds in it, each as a problem of the
    request on whose lines it is, or, on the MODEL line (`model`: its number and the requests
    that take it), of each request that takes its model (a request already reported is not
    reported twice there)."""
    done = format_text(text, name, base_dir)
    problems = []
    firsts = [first for first, _, _ in places]
    model_at, sharing = model
    for diagnostic in done.diagnostics:
        if diagnostic.severity is not Severity.ERROR:
            continue
        line = diagnostic.span.line
        said = f"does not compile: error[{diagnostic.code}]: {diagnostic.message}"
        if line == model_at and sharing:
            problems += [Problem(item.request.where, _join(item.request.path, "model_name"), said)
                         for item in sharing if not (item.problems or item.request.problems)]
            continue
        at = bisect.bisect_right(firsts, line) - 1
        item = places[at][2] if at >= 0 and line <= places[at][1] else None
        if item is not None and (item.problems or item.request.problems) and diagnostic.code in _STAND_INS:
            continue  # what stands in for a part already reported: that part's report says it
        if item is None:
            problems.append(Problem(name, "", said))
        else:
            request = item.request
            problems.append(Problem(request.where, request.record if request.record is not None else request.path,
                                    said))
    return (done.text if done.text is not None else text), problems


def _item(request: Request, reading: _Reading) -> _Item:
    where, path = request.where, request.path
    body = request.body
    problems: list[Problem] = []
    _repeated(body, where, path, problems)
    fields = {k: v for k, v in body.items() if v is not None}  # null is a field left out
    sequence = isinstance(fields.get("multi_prompt"), list) and bool(fields["multi_prompt"])
    name = request.name or reading.new_name()
    head = _Line(name, notes=request.notes)
    item = _Item(request, head, sequence=sequence, problems=problems)
    at = _Place(where, path, problems)

    model = fields.get("model_name", kling.API_DEFAULT_MODEL)
    known = reading.models.get(model) if isinstance(model, str) else None
    # An omni request by its endpoint, its frames, or its model; its own fields, and no others.
    omni = request.endpoint == kling.OMNI_VIDEO if request.endpoint is not None else (
        "image_list" in fields or (known is not None and known.omni))
    taken = _OMNI_FIELDS if omni else _KNOWN_FIELDS
    for key in fields:
        if key not in taken:
            problems.append(Problem(where, _join(path, key), f"not a field of Kling's {'omni-video' if omni else 'video'} "
                                                           "requests that shotlang writes"))
    paths: dict[str, tuple[_Place, str]] = {}  # where an omni request's frames are, for what is said of them
    if omni:
        for key in ("image", "image_tail"):
            fields.pop(key, None)  # said above: not a field of an omni request
        if "image_list" in fields:
            _frames(fields, at, paths)
        if "aspect_ratio" not in fields and "image" not in fields and not sequence:
            at.say("aspect_ratio", "absent: an omni request without a start frame needs one")
        if known is not None and not known.omni:
            at.say("model_name", f"{_show(model)} takes its requests at text2video and image2video, not omni-video")
    if at.word(model, "model_name", "a model name") and _model_name(model, at):
        head.model = model
    to_image = _after(request, fields, head, at)
    head.options += [(kind, f"{kind} {number}") for kind, number in request.takes.items()]
    if "video_list" in fields:
        at.say("video_list", "a video reference a shot list writes only as `after NAME` (the video of a shot above, "
                             "as a `feature`): left out")
    for key, kind in _IMAGE_FIELDS.items():
        if key in fields and not (sequence and key != "image"):
            place, field_name = paths.get(key, (at, key))
            ref = _image(fields[key], field_name, name, kind, place, reading)
            if ref is not None:
                head.options.append((kind, f"{kind} {quote(ref)}"))
                to_image = to_image or key in ("image", "image_tail")
    if request.endpoint is not None:
        expected = known.endpoint_for(to_image) if known is not None else (
            kling.IMAGE2VIDEO if to_image else kling.TEXT2VIDEO)
        if request.endpoint != expected and kling.OMNI_VIDEO in (request.endpoint, expected):
            problems.append(Problem(where, _join(request.record or "", "endpoint"),
                                    f"{_show(request.endpoint)}, but shotlang sends a request for {model} to "
                                    f"{expected}"))
        elif request.endpoint != expected:
            has = "has" if to_image else "has no"
            problems.append(Problem(where, _join(request.record or "", "endpoint"),
                                    f"{_show(request.endpoint)}, but the body {has} image: shotlang sends it to "
                                    f"{expected}"))
    _common(fields, head, at, to_image)
    if sequence:
        _sequence(fields, item, at, reading)
    else:
        for key in _SEQUENCE_FIELDS:
            if key in fields:
                problems.append(Problem(where, _join(path, key), _not_a_sequence(key, fields[key])))
        _shot(fields, head, at, to_image, reading)
    return item


# Every field of the bodies compile writes: to text2video and image2video, and to omni-video.
_KNOWN_FIELDS = frozenset(VideoRequest.model_fields) - {"image_list"}
_OMNI_FIELDS = frozenset(OmniRequest.model_fields)
# An omni request's frames (image_list, by type) and the fields they are read back as.


def _frames(fields: dict[str, Any], at: _Place, paths: dict[str, tuple[_Place, str]]) -> None:
    """An omni request's image_list in `fields`, read as its start image and end image (the
    `image` and `tail` it was compiled from), each one's place in `paths`; anything else in it
    is reported."""
    images = fields.pop("image_list")
    for i, image in enumerate(_listed({"image_list": images}, "image_list", "images", "image", at)):
        key = f"image_list[{i}]"
        found = at.object(image, key)
        if found is None:
            continue
        inner = at.inner(key)
        for name in found:
            if name not in ("image_url", "type"):
                inner.say(name, "not a field of an image")
        kind = found.get("type")
        target = kling.FRAME_FIELDS.get(kind) if isinstance(kind, str) else None
        if target is None:
            inner.say("type", f"{_show(found.get('type'))}: shotlang writes a start and an end frame only "
                              f"({' and '.join(kling.FRAME_FIELDS)})")
        elif target in fields:
            inner.say("type", f"a second {found['type']}")
        elif "image_url" not in found:
            inner.say("image_url", "absent")
        else:
            fields[target] = found["image_url"]
            paths[target] = (inner, "image_url")


class _Place:
    """Where a body is, and the list its problems go to: the small checks every field needs."""

    def __init__(self, where: str, path: str, problems: list[Problem]) -> None:
        self.where = where
        self.path = path
        self.problems = problems

    def say(self, key: str, message: str) -> None:
        self.problems.append(Problem(self.where, _join(self.path, key), message))

    def text(self, value: Any, key: str) -> bool:
        """Whether `value` is text a shot list's string can hold."""
        if not isinstance(value, str):
            self.say(key, f"{_show(value)} is not text")
            return False
        return _writable(value, self.where, _join(self.path, key), self.problems)

    def word(self, value: Any, key: str, what: str) -> bool:
        if not isinstance(value, str):
            self.say(key, f"{_show(value)} is not {what}")
            return False
        return True

    def object(self, value: Any, key: str) -> dict[str, Any] | None:
        """`value` if it is an object, without its null fields (null is a field left out)."""
        if not isinstance(value, dict):
            self.say(key, f"{_show(value)} is not an object")
            return None
        _repeated(value, self.where, _join(self.path, key), self.problems)
        return {k: v for k, v in value.items() if v is not None}

    def inner(self, key: str) -> _Place:
        return _Place(self.where, _join(self.path, key), self.problems)


def _model_name(model: str, at: _Place) -> bool:
    if not _NAME.fullmatch(model):
        at.say("model_name", f"{_show(model)}: a model name is one word without `:`, `\"`, `#` or brackets")
        return False
    if "[[" in model or "/*" in model:
        at.say("model_name", f"{_show(model)}: a model name cannot hold `[[` or `/*`, where a shot list "
                             "starts a note or a block comment")
        return False
    if not _writable(model, at.where, _join(at.path, "model_name"), at.problems):
        return False
    if model != model.lower():
        at.say("model_name", f"{_show(model)}: shotlang sends model names in lower case")
        return False
    return True


def _common(fields: dict[str, Any], line: _Line, at: _Place, to_image: bool) -> None:
    """The fields a shot and a sequence both take: their options."""
    for option in AS_IS:
        key = option.field.partition(".")[0]
        if key in fields:
            _as_is(option, fields[key], line, at)
    if "duration" in fields:
        seconds = fields["duration"]
        if isinstance(seconds, str) and _whole_seconds(seconds):
            line.options.append(("duration", f"{seconds}s"))
        else:
            at.say("duration", f"{_show(seconds)}: shotlang sends whole seconds from 1 to "
                               f"{kling.DURATION_MAX} as text, such as \"5\"")
    if "aspect_ratio" in fields:
        ratio = fields["aspect_ratio"]
        if to_image:
            at.say("aspect_ratio", "on an image-to-video request: shotlang sends an aspect ratio with text only "
                                   "(the image gives it)")
        elif isinstance(ratio, str) and _aspect(ratio):
            line.options.append(("aspect", ratio))
        else:
            at.say("aspect_ratio", f"{_show(ratio)} is not an aspect ratio shotlang writes (width:height, "
                                   "such as \"16:9\")")
    if "voice_list" in fields:
        for i, voice in enumerate(_listed(fields, "voice_list", "voices", "voice", at)):
            key = f"voice_list[{i}]"
            found = at.object(voice, key)
            if found is None:
                continue
            for name in found:
                if name != "voice_id":
                    at.inner(key).say(name, "not a field of a voice")
            if "voice_id" not in found:
                at.inner(key).say("voice_id", "absent")
            elif at.inner(key).text(found["voice_id"], "voice_id"):
                line.options.append(("voice", f"voice {quote(found['voice_id'])}"))


def _as_is(option: Option, value: Any, line: _Line, at: _Place) -> None:
    """An option sent as its value says (language.AS_IS), back from its field, by its row of the
    language table: a text, one of its words' values, or a number within its bounds."""
    key, _, inner = option.field.partition(".")
    if inner:  # a field of an object: {"watermark_info": {"enabled": true}}
        found = at.object(value, key)
        if found is None:
            return
        for name in found:
            if name != inner:
                at.inner(key).say(name, f"not a field of {key}")
        value, at = found.get(inner), at.inner(key)  # absent or null: said as null below
        key = inner
    keyword = f"{option.keywords[0]} " if option.keywords else ""
    if option.values is not None:
        word = next((w for w, v in option.values.items() if v == value and type(v) is type(value)), None)
        if word is None:
            shown = " or ".join(_show(v) for v in dict.fromkeys(option.values.values()))
            at.say(key, f"{_show(value)} is not {shown}")
        else:
            line.options.append((option.kind, keyword + word))
    elif option.bounds is not None:
        bounds = option.bounds
        number = _decimal(value)
        if number is None or not bounds.low <= value <= bounds.high or (bounds.whole and not isinstance(value, int)):
            what = "a whole number" if bounds.whole else "a number"
            at.say(key, f"{_show(value)} is not {what} from {bounds.number(bounds.low)} to {bounds.number(bounds.high)}")
        else:
            line.options.append((option.kind, keyword + number))
    elif at.text(value, key):
        line.options.append((option.kind, keyword + quote(value)))


def _listed(fields: dict[str, Any], key: str, items: str, one: str, at: _Place) -> list[Any]:
    """The list in fields[key]; anything else, or an empty list (which compile never writes:
    it leaves the field out), is reported and read as no items."""
    found = fields[key]
    if not isinstance(found, list):
        at.say(key, f"{_show(found)} is not a list of {items}")
        return []
    if not found:
        at.say(key, f"[]: shotlang leaves the field out of a request with no {one}")
    return found


def _after(request: Request, fields: dict[str, Any], head: _Line, at: _Place) -> bool:
    """The shot a record continues (its `after`), from the placeholder compile writes for it: the
    start image `@name` (its last frame: an image shot), or a `feature` video `@name` and the
    prompt's opening words for it. Whether it makes the request an image one."""
    after = request.after
    if after is None:
        return False
    mark = after_placeholder(after)
    if fields.get("image") == mark:
        del fields["image"]
        head.after = after
        return True
    videos = fields.get("video_list")
    if (isinstance(videos, list) and len(videos) == 1 and isinstance(videos[0], dict)
            and videos[0] == {"video_url": mark, "refer_type": "feature", "keep_original_sound": "no"}
            and isinstance(fields.get("prompt"), str) and fields["prompt"].startswith(kling.NEXT_SHOT)):
        del fields["video_list"]
        fields["prompt"] = fields["prompt"].removeprefix(kling.NEXT_SHOT).removeprefix(" ")
        head.after = after
        return False
    at.say("", f"continues {_show(after)}, but its body holds neither `image` {_show(mark)} nor a `feature` "
               f"video {_show(mark)} with the prompt's opening {_show(kling.NEXT_SHOT)}")
    return False


def _cast(record: dict[str, Any], where: str, path: str, reading: _Reading, problems: list[Problem]) -> list[str]:
    """A cast member's record as its CAST line: its name, description and images."""
    at = _Place(where, path, problems)
    for key in record:
        if key not in (*CAST_KEYS, "shotlang_format", "source"):
            at.say(key, "not a key of shotlang's cast records")
    body = record["body"]
    inside = at.inner("body")
    for key in body:
        if key not in ("element_name", "element_description", "reference_type", "element_image_list"):
            inside.say(key, "not a field of the elements shotlang makes (a CAST: a name, a description, images)")
    name = record.get("name", body.get("element_name"))
    if not (isinstance(name, str) and CAST_NAME.fullmatch(name)):
        made = reading.new_name("cast")
        at.say("name", f"{_show(name)} is not a cast name; written as {made}")
        name = made
    description = body.get("element_description", "")
    if not inside.text(description, "element_description"):
        description = ""
    if body.get("reference_type") != "image_refer":
        inside.say("reference_type", f"{_show(body.get('reference_type'))}: a CAST is made from images (image_refer)")
    images = inside.object(body.get("element_image_list"), "element_image_list") or {}
    place = inside.inner("element_image_list")
    front = _image(images.get("frontal_image"), "frontal_image", name, "front", place, reading)
    others = []
    for i, other in enumerate(_listed(images, "refer_images", "images", "image", place) if "refer_images" in images
                              else ()):
        if place.object(other, f"refer_images[{i}]") is not None:
            ref = _image(other.get("image_url"), f"refer_images[{i}].image_url", name, f"view-{i + 1}", place, reading)
            if ref is not None:
                others.append(f"also {quote(ref)}")
    written = f"CAST {name}: {quote(description)}" + (f" image {quote(front)}" if front is not None else "")
    return [" ".join([written, *others])]


def _cast_names(fields: dict[str, Any], at: _Place) -> list[str] | None:
    """The cast members an element_list names (`@name` until `run` makes them), in order; None
    when one is an element no CAST makes (reported)."""
    names = []
    for i, entry in enumerate(_listed(fields, "element_list", "elements", "element", at)):
        element = entry.get("element_id") if isinstance(entry, dict) else None
        if isinstance(element, str) and element.startswith("@") and CAST_NAME.fullmatch(element[1:]):
            names.append(element[1:])
        else:
            at.say(f"element_list[{i}]", f"{_show(entry)}: an element a shot list can name only by its CAST "
                                         "(`@name`, as compile writes it)")
            return None
    return names


def _shot(fields: dict[str, Any], line: _Line, at: _Place, to_image: bool, reading: _Reading) -> None:
    """A single shot: its prompt, move and masks."""
    prompt = fields.get("prompt", "")
    # A text shot without a prompt is written with "", which the checks refuse (E305) as the
    # API does; an image shot's "" is sent as no prompt, as the API reads it.
    line.prompt = prompt if at.text(prompt, "prompt") else ""
    names = _cast_names(fields, at) if "element_list" in fields else None
    if names:
        line.cast = names
        line.prompt = _ELEMENT.sub(lambda m: f"@{names[int(m[1]) - 1]}" if 1 <= int(m[1]) <= len(names) else m[0],
                                   line.prompt)
    moves = ""  # how the request sends its move: numeric, words or both
    if "camera_control" in fields:
        line.move = _camera(fields["camera_control"], at, reading)
        words, rest = _prompt_move(line.prompt, alone=to_image)
        if line.move and words and _sentence_of(words) == _sentence_of(line.move):
            line.prompt, moves = rest, "both"
        elif line.move:
            moves = "numeric"
    else:
        line.move, line.prompt = _prompt_move(line.prompt, alone=to_image)
        moves = "words" if line.move else ""
    if moves and moves != _auto(fields, to_image, line.move, reading.models):
        line.options.append(("moves", f"moves {moves}"))
    if "dynamic_masks" in fields:
        for i, mask in enumerate(_listed(fields, "dynamic_masks", "masks", "motion", at)):
            written = _motion(mask, f"dynamic_masks[{i}]", line.name, i + 1, at, reading)
            if written is not None:
                line.options.append(("motion", written))


def _read_move(written: str) -> tuple[Move, str | None]:
    """The move and strength a decompiled shot writes (`slow pan right`, `pan right 6`: the
    intensity word nearest to the number, as camera.strength; None when none is written)."""
    words = written.split(" ")
    strength = None
    if words[0] in INTENSITIES:
        strength, words = words[0], words[1:]
    elif words[-1][:1].isdigit():
        strength, words = nearest_intensity(float(words[-1])), words[:-1]
    return PHRASES[tuple(words)], strength


def _sentence_of(written: str) -> str:
    """The sentence the compiler writes for a move written so."""
    return phrase(*_read_move(written))


def _auto(fields: dict[str, Any], to_image: bool, written: str, matrix: models.Matrix) -> str:
    """How `moves auto` sends this move: numeric where the matrix says the model takes camera
    control in the request's cell (never at the omni endpoint, nor beside an end frame or masks),
    else words (camera.sending)."""
    model = matrix.get(str(fields.get("model_name", kling.API_DEFAULT_MODEL)))
    if model is None:
        return "numeric"
    kind = _read_move(written)[0].preset or "simple"
    endpoint = model.endpoint_for(to_image)
    if endpoint == kling.OMNI_VIDEO or any(k in fields for k in ("image_tail", "static_mask", "dynamic_masks")):
        return "words"  # no camera_control at omni-video; an end frame or masks exclude it (E400, camera.excluded)
    mode = fields.get("mode", kling.default_mode(endpoint))
    duration = fields.get("duration", kling.DEFAULT_DURATION)
    if not (isinstance(mode, str) and isinstance(duration, str)):
        return "numeric"  # reported elsewhere
    return "numeric" if model.offers("camera", endpoint, mode, duration, kind) else "words"


def _motion(mask: Any, key: str, shot: str, n: int, at: _Place, reading: _Reading) -> str | None:
    found = at.object(mask, key)
    if found is None:
        return None
    inner = at.inner(key)
    for name in found:
        if name not in ("mask", "trajectories"):
            inner.say(name, "not a field of a dynamic mask")
    if "mask" not in found:
        inner.say("mask", "absent")
        return None
    ref = _image(found["mask"], "mask", shot, f"motion-{n}", inner, reading)
    points = found.get("trajectories")
    if not isinstance(points, list):
        inner.say("trajectories", f"{_show(points)} is not a list of points")
        return None
    written = []
    for i, point in enumerate(points):
        key_i = f"trajectories[{i}]"
        got = inner.object(point, key_i)
        if got is None:
            return None
        xy = []
        for axis in ("x", "y"):
            value = got.get(axis)
            if isinstance(value, bool) or not isinstance(value, int | float) or not _whole(value) or value < 0:
                inner.inner(key_i).say(axis, f"{_show(value)} is not a whole number of pixels")
                return None
            xy.append(int(value))
        for name in got:
            if name not in ("x", "y"):
                inner.inner(key_i).say(name, "not a field of a trajectory point")
        written.append(f"({xy[0]}, {xy[1]})")
    if ref is None:
        return None
    return " ".join([f"motion {quote(ref)}", *written])


def _camera(control: Any, at: _Place, reading: _Reading) -> str:
    """camera_control as the move's words: `slow pan right`, `pan left 2.5`, `push in and up`."""
    found = at.object(control, "camera_control")
    if found is None:
        return ""
    inner = at.inner("camera_control")
    for key in found:
        if key not in ("type", "config"):
            inner.say(key, "not a field of camera_control")
    kind = found.get("type")
    config = found.get("config")
    if isinstance(kind, str) and kind in _PRESETS:  # a list or object is no preset (unhashable)
        if config is not None:
            inner.say("config", f"a preset ({kind}) takes no config; shotlang sends none")
            return ""
        return _PRESETS[kind].name
    if kind != "simple":
        inner.say("type", f"{_show(kind)} is not a camera type ({', '.join(kling.CAMERA_TYPES)})")
        return ""
    fields = inner.object(config, "config")
    if fields is None:
        return ""
    config_at = inner.inner("config")
    moving: list[tuple[str, int | float]] = []
    said = len(at.problems)
    for key, value in fields.items():
        if key not in kling.CAMERA_FIELDS:
            config_at.say(key, "not one of the six camera fields")
        elif isinstance(value, bool) or not isinstance(value, int | float):
            config_at.say(key, f"{_show(value)} is not a number")
        elif value != 0:
            moving.append((key, value))
    if not moving and len(at.problems) > said:
        return ""  # a field that is not a number is reported already
    if len(moving) > 1:
        names = " and ".join(k for k, _ in moving)
        count = ("two", "three", "four", "five", "six")[len(moving) - 2]
        inner.say("config", f"{count} axes set ({names}); a shot moves on one axis")
        return ""
    if not moving:
        inner.say("config", "every field is 0: shotlang writes a still camera as no camera_control")
        return ""
    key, value = moving[0]
    magnitude = _decimal(abs(value))
    if magnitude is None or not 0 < abs(value) <= kling.MAGNITUDE_MAX:
        config_at.say(key, f"{_show(value)} is out of range: a magnitude is above 0 and at most "
                           f"{kling.MAGNITUDE_MAX}")
        return ""
    if "." in magnitude and len(magnitude.partition(".")[2]) > MAGNITUDE_DECIMALS:
        config_at.say(key, f"{_show(value)} has more than {MAGNITUDE_DECIMALS} decimal places, which a shot "
                           "list cannot write")
        return ""
    move = reading.moves[Axis(key, 1 if value > 0 else -1)]
    if abs(value) == DEFAULT_MAGNITUDE:
        return f"{DEFAULT_WORD} {move.name}"
    return f"{move.name} {magnitude}"


def _sequence(fields: dict[str, Any], item: _Item, at: _Place, reading: _Reading) -> None:
    """A multi-shot request: a SEQUENCE line, and a SHOT line indented below it per prompt."""
    head = item.head
    if fields.get("multi_shot") is not True:
        at.say("multi_shot", f"{_show(fields.get('multi_shot'))}: shotlang sends true with multi_prompt")
    if fields.get("shot_type") != "customize":
        at.say("shot_type", f"{_show(fields.get('shot_type'))}: shotlang sends \"customize\" with multi_prompt "
                            "(each shot written out)")
    for key in _NOT_IN_A_SEQUENCE:
        if key in fields:
            at.say(key, "a multi-shot request's shots carry it, not the request: shotlang's SEQUENCE has none")
    prompts: list[Any] = fields["multi_prompt"]
    given = item.request.members
    if given is not None and len(given) != len(prompts):
        item.problems.append(Problem(item.request.where, _join(item.request.record or "", "shots"),
                                     f"{len(given)} names for {len(prompts)} shots"))
        given = None
    durations: list[int | None] = []
    for i, entry in enumerate(prompts):
        key = f"multi_prompt[{i}]"
        wanted = given[i] if given is not None else None
        name = item.request.taken[i] if given is not None and i < len(item.request.taken) else None
        if name is None:
            name = reading.new_name(head.name)
            if wanted is not None:
                item.problems.append(Problem(item.request.where, f"{_join(item.request.record or '', 'shots')}[{i}]",
                                             f"{_show(wanted)} is not a free, safe shot name; written as {name}"))
        member = _Line(name, prompt="")
        item.members.append(member)
        found = at.object(entry, key)
        seconds = None
        if found is not None:
            inner = at.inner(key)
            for field_name in found:
                if field_name not in ("index", "prompt", "duration"):
                    inner.say(field_name, "not a field of a multi_prompt entry")
            index = found.get("index")
            if isinstance(index, bool) or index != i + 1:
                inner.say("index", f"{_show(index)}: shotlang numbers the shots from 1 in order ({i + 1} here)")
            prompt = found.get("prompt", "")
            if inner.text(prompt, "prompt"):
                member.move, member.prompt = _prompt_move(prompt)
            written = found.get("duration")
            if isinstance(written, str) and _whole_seconds(written):
                seconds = int(written)
            else:
                inner.say("duration", f"{_show(written)}: each shot of a sequence has whole seconds as text, "
                                      "such as \"5\"")
        durations.append(seconds)
    if any(m.move for m in item.members):
        head.options.append(("moves", "moves words"))  # as the shots' words are sent, without W107
    _sequence_durations(head, item, durations, fields, at)


def _sequence_durations(head: _Line, item: _Item, durations: list[int | None], fields: dict[str, Any],
                        at: _Place) -> None:
    """The SEQUENCE's length, and each shot's unless sharing the length out gives it anyway."""
    total = next((int(w.removesuffix("s")) for k, w in head.options if k == "duration"), None)
    known = [d for d in durations if d is not None]
    if "duration" not in fields:
        at.say("duration", f"absent; a sequence's length is its shots' ({sum(known)}s)")
    elif total is not None and len(known) == len(durations) and sum(known) != total:
        at.say("duration", f"{total}s, but its shots take {sum(known)}s: a sequence's shots add up to its length")
        head.options = [(k, w) for k, w in head.options if k != "duration"]
        total = None
    if total is not None and _shared(total, len(durations)) == durations:
        return  # the shots share the length out evenly, as the compiler does when none is given
    for member, seconds in zip(item.members, durations, strict=True):
        if seconds is not None:
            member.options.append(("duration", f"{seconds}s"))


def _shared(total: int, shots: int) -> list[int | None] | None:
    """How the compiler shares a length among shots without a duration (lower.sequence_timing)."""
    if total < shots:
        return None
    share, extra = divmod(total, shots)
    return [share + (1 if i < extra else 0) for i in range(shots)]


def _sentences() -> dict[str, str]:
    """Each sentence the compiler puts before a prompt for a move (camera.words), back to the
    words that write it: `The camera pans slowly to the right.` is `slow pan right`. Intensity
    words that read alike (`max`, `maximum`) are written as the first; a preset or a still shot
    has one sentence whatever its strength."""
    found: dict[str, str] = {}
    for move in MOVES:
        found.setdefault(phrase(move), move.name)
        if not (move.preset or move.is_static):
            for word in INTENSITIES:
                found.setdefault(phrase(move, word), f"{word} {move.name}")
    return found


_SENTENCES = _sentences()


def _prompt_move(prompt: str, alone: bool = False) -> tuple[str, str]:
    """A prompt as sent, back into camera words and the writer's prompt where it starts with the
    sentence the compiler writes for a move (`The camera pans slowly to the right. A runner ...`
    is `slow pan right` and `A runner ...`). Any other prompt is its own text, and compiles back
    to itself (the words of a move the writer has said are not put in again: camera.said_in).
    A prompt that is the sentence alone is a move only where the shot may have no prompt of its
    own (`alone`: an image shot); elsewhere an empty prompt would not compile."""
    head, sep, rest = prompt.partition(". ")
    head += "."
    written = _SENTENCES.get(head) if sep else _SENTENCES.get(prompt) if alone else None
    if written is None:
        return "", prompt
    if sep and not rest.strip():
        return "", prompt  # before a blank prompt the compiler writes the sentence alone
    if said_in(_read_move(written)[0], rest):
        return "", prompt  # the compiler would not write the sentence before this prompt
    return written, rest


def _not_a_sequence(key: str, value: Any) -> str:
    if key == "shot_type" and value == "intelligence":
        return ("\"intelligence\": the model cuts one prompt into shots; a SEQUENCE writes each shot "
                "(\"customize\" with multi_prompt)")
    if key == "multi_prompt":
        return f"{_show(value)}: a SEQUENCE has one to six shots"
    return f"{_show(value)} without multi_prompt: shotlang writes it only for a SEQUENCE"


def _image(value: Any, key: str, shot: str, role: str, at: _Place, reading: _Reading) -> str | None:
    """An image field as the shot list names it: a URL as it is; Base64 data as the file it is
    written to with --images, else reported under the file name to give it."""
    if not at.text(value, key):
        return None
    if URL.match(value):
        return str(value)
    try:
        data = base64.b64decode(value, validate=True)
        if base64.b64encode(data).decode("ascii") != value:
            raise ValueError("not in the API's form")
        kind = inspect_image(data).kind
    except (binascii.Error, ValueError, NotAnImage):
        at.say(key, "neither an http(s) URL nor a PNG or JPEG in Base64; written as it is, "
                    "which the compiler reads as a local file's path")
        return str(value)
    suffix = ".png" if kind == "png" else ".jpg"
    if reading.images is not None:
        return reading.images.save(data, f"{shot}-{role}", suffix)
    placeholder = f"{shot}-{role}{suffix}"
    at.say(key, f"a {kind.upper()} image in Base64 ({len(data):,} bytes), which a shot list names by its file: "
                f"written as {_show(placeholder)}; give --images FOLDER to write it there")
    return placeholder


# --- small helpers ---------------------------------------------------------------------------


def _join(path: str, key: str) -> str:
    """`shots[2]` and `body` -> `shots[2].body`; a key that is not a plain word in quotes."""
    if not _PLAIN_KEY.fullmatch(key):
        return f"{path}[{json.dumps(key)}]"
    return f"{path}.{key}" if path else key


def _show(value: Any) -> str:
    """A value in a message: as JSON, ASCII only (no control character reaches the terminal),
    cut short."""
    shown = json.dumps(value, ensure_ascii=True) if not isinstance(value, float) or value == value else "NaN"
    return shown if len(shown) <= 40 else shown[:39] + "…"


def _kind(value: Any) -> str:
    kinds = ((dict, "an object"), (list, "a list"), (str, "text"), (bool, "true or false"), (type(None), "null"))
    return next((said for kind, said in kinds if isinstance(value, kind)), "a number")


def _repeated(value: Any, where: str, path: str, problems: list[Problem]) -> None:
    for key in getattr(value, "repeated", ()):
        problems.append(Problem(where, _join(path, key), "given twice; the last is read (the API may read "
                                                         "either)"))


def _writable(text: str, where: str, path: str, problems: list[Problem]) -> bool:
    """Whether a shot list's string can hold `text`: one line, no control characters."""
    if "\n" in text or "\r" in text:
        problems.append(Problem(where, path, "holds a line break, which a shot list's strings cannot (a "
                                             "wrapped string reads it as a space)"))
        return False
    bad = CONTROL.search(text)
    if bad is not None:
        problems.append(Problem(where, path, f"holds the control character {control_name(bad[0])}, which a "
                                             "shot list cannot (E002)"))
        return False
    half = _SURROGATE.search(text)
    if half is not None:  # JSON may write half of a UTF-16 pair (`\ud800`); UTF-8 text cannot hold it
        problems.append(Problem(where, path, f"holds a lone surrogate, {_show(half[0])}, which is no "
                                             "character a file's text can hold"))
        return False
    return True


def _one_line(text: str) -> str:
    """`text` with no line break or control character: safe in a comment and on a terminal."""
    return CONTROL.sub("?", text.replace("\r", "?").replace("\n", "?"))


def _safe_name(name: str) -> bool:
    return bool(SAFE_NAME.fullmatch(name)) and name.lower() not in WINDOWS_RESERVED


def _whole_seconds(text: str) -> bool:
    """Text the compiler writes as a duration: whole seconds, no leading zero, at most the
    longest clip (lower._duration)."""
    return (text.isascii() and text.isdigit() and text[0] != "0" and len(text) <= len(str(kling.DURATION_MAX))
            and int(text) <= kling.DURATION_MAX)


def _aspect(text: str) -> bool:
    if not _ASPECT.fullmatch(text) or len(text) > ASPECT_MAX_CHARS:
        return False
    width, _, height = text.partition(":")
    return int(width) > 0 and int(height) > 0


def _whole(value: int | float) -> bool:
    return isinstance(value, int) or value.is_integer()


def _decimal(value: Any) -> str | None:
    """A JSON number as a shot list writes it (`0.3`, `5`, `0.00001`), which reads back as the
    same number; None for what is not a finite number."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, int):
        return str(value)
    if value != value or value in (float("inf"), float("-inf")):
        return None
    if value.is_integer():
        return str(int(value))
    return format(Decimal(repr(value)), "f")
