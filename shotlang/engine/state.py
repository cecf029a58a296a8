"""The run state beside a shot list: what was submitted, what came back, what is on disk.

`castle.shot` keeps its state in two files beside it (docs/running.md has the format):

- `castle.shot.state.json`, the state itself: one JSON object, `shotlang_state` 1. It holds no
  secret, so it may be committed or ignored by choice. It is only ever replaced atomically
  (written beside, fsync, rename), so it is always complete.
- `castle.shot.state.journal`, present while a run holds the state (and after a crash): one JSON
  line per change since the state file was last written. A change costs one `write` of one line
  (O(1), where rewriting the state file cost O(shots)); the run compacts the journal into the
  state file when it starts and when it ends, and deletes it then.

Journal lines carry absolute values, never increments, so replaying a line twice is harmless:
`{"holder": {"pid", "host", "since"}}` (first line: who holds the lock; ignored by replay),
`{"shot": NAME, "state": {...}}` (the whole shot after the change), and
`{"pending_force": {NAME: GENERATION}}` (the whole map after the change).

Crash safety: each line is one `write` on an O_APPEND descriptor, so a crash leaves at most a torn
last line, which replay ignores. Lines written with `durable=True` (the `submitting` record,
written before a create is paid for) are fsynced before the call returns; the others may be lost
to a power cut, never to a crash of shotlang alone. Compaction writes the state file first, then
empties the journal; dying between the two leaves lines that replay to what the file already says.
Dying while the state file is written leaves that write's temporary file (files.atomic_file)
beside a state file still whole; the next Store.open removes it.

Lock: a run holds an exclusive `flock` on the journal for its whole length, so two runs never
decide about the same shot; the second is told who holds it. The kernel drops the lock when the
holder dies, even by kill -9, and the next run replays what it left.

Nothing read from these files may steer a request: an endpoint outside kling.ENDPOINTS or an id
outside kling.ID_PATTERN makes the whole file refused, as is a file from another shot list.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import re
import socket
import stat
import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

from pydantic import BaseModel, ValidationError, field_validator

from ..compiler import kling
from ..files import NEW_FILE_MODE, fsync_dir, remove_partials, write_atomic
from ..terminal import scrub

STATE_VERSION = 1
SUFFIX = ".state.json"
# Where a shot is: "submitting" is written before the create request is sent, so a crash
# between the request and its answer is found again by the shot's external_task_id; then the
# task's own status, as the API reports it.
Status = Literal["submitting", kling.TaskStatus]
IN_FLIGHT: tuple[Status, ...] = ("submitting", *kling.TASK_RUNNING)

_ID = re.compile(kling.ID_PATTERN)
_CHUNK = 1 << 20
_LOCK_TRIES = 20


class ShotState(BaseModel):
    body_sha256: str
    endpoint: str  # a Kling task path, or one of fal's Kling apps (its `fal-ai/kling-video/...` id)
    external_task_id: str
    generation: int = 1
    task_id: str | None = None
    status: Status = "submitting"
    status_msg: str | None = None
    result_url: str | None = None
    file: str | None = None  # relative to the state file's folder, once downloaded
    bytes: int | None = None
    sha256: str | None = None  # of the downloaded video
    mtime_ns: int | None = None  # the video's st_mtime_ns when recorded
    credits: str | None = None  # final_unit_deduction, as the API reports it
    # A cast member's element, once made (its record's name is `@name`, its endpoint the elements'):
    # sent as it came, a number or a text, in the element_list of the shots that name it.
    element_id: int | str | None = None
    # The videos this record's earlier takes left, made of an earlier request ("<sha256> <file>"):
    # a file found where a take goes is moved aside, never taken for this one (runner.arrange).
    superseded: list[str] = []
    # The requests this record sent before its current one (a retry, --force on an unknown one):
    # still fal's, so a lost answer of the current one never takes one of them (runner's ledger).
    earlier_tasks: list[str] = []
    updated: str = ""
    # A task status outside the documented four (say "canceled"), as the API last reported it:
    # the shot is left as it was, and --force may make it again.
    api_status: str | None = None

    @field_validator("status_msg", "result_url", "credits", "api_status", "file")
    @classmethod
    def _no_token(cls, value: str | None) -> str | None:
        # Whatever field a server put a token in, it is never kept at rest (client.py redacts
        # what it reads; this holds for anything else that writes a state).
        return scrub(value) if value is not None else None

    @field_validator("element_id")
    @classmethod
    def _element(cls, value: int | str | None) -> int | str | None:
        if isinstance(value, str) and not _ID.fullmatch(value):
            raise ValueError("not a Kling element id")
        return value

    @field_validator("endpoint")
    @classmethod
    def _endpoint(cls, value: str) -> str:
        # An address a request (and its key or token) goes to: only the APIs' own.
        from .fal import FAL_APP

        if value not in kling.TASK_PATHS and not FAL_APP.fullmatch(value):
            raise ValueError("not a Kling endpoint, nor one of fal's Kling apps")
        return value

    @field_validator("earlier_tasks")
    @classmethod
    def _ids(cls, value: list[str]) -> list[str]:
        if any(not _ID.fullmatch(one) for one in value):
            raise ValueError("not a task id")
        return value

    @field_validator("external_task_id", "task_id")
    @classmethod
    def _kling_id(cls, value: str | None) -> str | None:
        # These ids become a path segment of a request carrying the token.
        if value is not None and not _ID.fullmatch(value):
            raise ValueError("not a Kling task id")
        return value


class StateFile(BaseModel):
    shotlang_state: int = STATE_VERSION
    source: str
    shots: dict[str, ShotState] = {}
    # shot -> generation created by --force in a run that did not finish: resume it, do not bump it
    pending_force: dict[str, int] = {}


class _Header(BaseModel):
    """Enough of a state file to say why the rest cannot be read."""

    shotlang_state: int
    source: str


class _Record(BaseModel):
    """One journal line (unknown keys ignored, like the state file's)."""

    holder: dict[str, Any] | None = None
    shot: str | None = None
    state: dict[str, Any] | None = None
    pending_force: dict[str, int] | None = None


class StateError(Exception):
    """The state file exists but cannot be read as one, or is refused; the message is for the user."""


class StateBusy(StateError):
    """Another process holds the state (a run in progress)."""

    def __init__(self, path: Path, holder: str) -> None:
        super().__init__(f"{path} is in use by another shotlang run ({holder}); wait for it to finish, "
                         "or stop it")
        self.holder = holder


def state_path(shot_file: Path) -> Path:
    return shot_file.with_name(shot_file.name + SUFFIX)


def journal_path(state: Path) -> Path:
    """castle.shot.state.json -> castle.shot.state.journal: beside it, so it moves with it."""
    return state.with_suffix(".journal")


def body_hash(endpoint: str, body: dict[str, Any]) -> str:
    """A hash of the request as the API reads it: the endpoint and the body, keys sorted, less
    every field that only says what the API assumes anyway (kling.API_DEFAULTS: `std`, `16:9`):
    writing a default out is the same request, not a new one to pay for."""
    defaults = kling.API_DEFAULTS.get(endpoint, {})
    read = {key: value for key, value in body.items()
            if key not in defaults or value != defaults[key] or type(value) is not type(defaults[key])}
    return _hash(endpoint, read)


def body_hashes(endpoint: str, body: dict[str, Any]) -> tuple[str, str]:
    """The hashes a state may hold for this request: body_hash, and the hash of the body as
    written, which a state written before defaults were left out holds."""
    return body_hash(endpoint, body), _hash(endpoint, body)


def _hash(endpoint: str, body: dict[str, Any]) -> str:
    canonical = json.dumps([endpoint, body], sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, read in 1 MiB chunks (videos may be large)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def video_matches(path: Path, shot: ShotState) -> bool:
    """Whether `path` is still the video recorded in `shot`, so it need not be fetched again.

    A symlink or anything but a regular file never matches; the size must match; then an
    unchanged mtime is trusted, else the content is hashed. States written before sha256 was
    recorded fall back to the size (or, without a size either, to "is a regular file")."""
    try:
        st = os.lstat(path)
    except OSError:
        return False
    if not stat.S_ISREG(st.st_mode):
        return False
    if shot.bytes is not None and st.st_size != shot.bytes:
        return False
    if shot.sha256 is None:
        return True
    if shot.mtime_ns is not None and st.st_mtime_ns == shot.mtime_ns:
        return True
    try:
        return file_sha256(path) == shot.sha256
    except OSError:
        return False


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _show(value: object) -> str:
    """A value from a file, short and printable, for a message."""
    text = json.dumps(value, ensure_ascii=True)
    return text if len(text) <= 80 else text[:77] + "..."


def _refusal(where: str, error: ValidationError, shot: str | None = None) -> str | None:
    """The message for a shot whose endpoint or ids would steer a request, if that is the fault.
    Errors are located as ("shots", NAME, FIELD) in a state file, as (FIELD,) for `shot`."""
    for e in error.errors():
        loc = e["loc"]
        if shot is None and len(loc) == 3 and loc[0] == "shots":
            name, field = str(loc[1]), loc[2]
        elif shot is not None and len(loc) == 1:
            name, field = shot, loc[0]
        else:
            continue
        if e["type"] == "missing":
            continue
        if field == "endpoint":
            return (f'{where}: shot "{name}" has endpoint {_show(e["input"])}, which is not one of '
                    f'{", ".join(kling.TASK_PATHS)}; shotlang will not send a token anywhere else. '
                    f"Fix the state file or move it aside")
        if field in ("external_task_id", "task_id"):
            return (f'{where}: shot "{name}" has {field} {_show(e["input"])}, which is not a Kling task id; '
                    f"shotlang will not send a token anywhere else. Fix the state file or move it aside")
    return None


def _reason(error: ValidationError) -> str:
    """One short reason out of a pydantic error."""
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    return f"{where}: {first['msg']}" if where else str(first["msg"])


def _real_path(path: Path) -> Path:
    """The file to write: `path`, or what it links to (written through, so the link stays)."""
    if not path.is_symlink():
        return path
    try:
        real = path.resolve()
    except (OSError, RuntimeError):  # a loop of links
        raise StateError(f"{path} is a symbolic link that cannot be followed (a loop?)") from None
    if not real.exists():
        raise StateError(f"{path} is a symbolic link to {os.readlink(path)}, which does not exist") from None
    return real


def _load_state(shown: Path, real: Path, source: str) -> StateFile:
    """The state file's content, or a fresh state if there is none; StateError if refused."""
    try:
        data = real.read_bytes()
    except FileNotFoundError:
        return StateFile(source=source)
    except OSError as e:
        raise StateError(f"cannot read {shown}: {e.strerror or e}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise StateError(f"{shown} is not a shotlang state file (not UTF-8 text: byte {e.start}); "
                         f"move it aside to start afresh") from None
    try:
        state = StateFile.model_validate_json(text)
    except ValidationError as e:
        header = _header(text)
        if header is not None:
            _check_header(shown, header.shotlang_state, header.source, source)
        raise StateError(_refusal(str(shown), e)
                         or f"{shown} is not a shotlang state file ({_reason(e)}); "
                            f"move it aside to start afresh") from None
    _check_header(shown, state.shotlang_state, state.source, source)
    return state


def _header(text: str) -> _Header | None:
    try:
        return _Header.model_validate_json(text)
    except ValidationError:
        return None


def _check_header(shown: Path, version: int, found: str, source: str) -> None:
    if version != STATE_VERSION:
        raise StateError(f"{shown} has state format {version}; this shotlang reads {STATE_VERSION}")
    if found != source:
        raise StateError(f'{shown.name} belongs to {found}, not {source}; if you renamed the shot list, '
                         f'change "source" in the state file, else move it aside')


def _replay(state: StateFile, data: bytes, journal: Path) -> int:
    """Apply the journal's lines to `state`, in order; returns how many records it applied. A
    last line that cannot be parsed is the torn write of a crash and is ignored; anything else
    that is not a record is refused."""
    applied = 0
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    for number, line in enumerate(lines, 1):
        last = number == len(lines)
        if not line.strip():
            continue
        try:
            record = _Record.model_validate_json(line)
        except ValidationError as e:
            if last and any(err["type"] == "json_invalid" for err in e.errors()):
                return applied
            raise StateError(f"{journal} line {number} is not a shotlang journal record ({_reason(e)}); "
                             f"move the journal aside to go back to the state file alone") from None
        if record.holder is not None:
            continue
        applied += 1
        if record.shot is not None and record.state is not None:
            try:
                state.shots[record.shot] = ShotState.model_validate(record.state)
            except ValidationError as e:
                raise StateError(_refusal(f"{journal} line {number}", e, record.shot)
                                 or f"{journal} line {number} is not a shotlang journal record "
                                    f"({_reason(e)}); move the journal aside to go back to the state "
                                    f"file alone") from None
        elif record.pending_force is not None:
            state.pending_force = dict(record.pending_force)
        else:
            raise StateError(f"{journal} line {number} is not a shotlang journal record; "
                             f"move the journal aside to go back to the state file alone")
    return applied


def _identity(path: Path) -> tuple[int, int, int, int] | None:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns


def _read_all(fd: int) -> bytes:
    chunks = []
    offset = 0
    while chunk := os.pread(fd, _CHUNK, offset):
        chunks.append(chunk)
        offset += len(chunk)
    return b"".join(chunks)


def _holder_line() -> bytes:
    return (json.dumps({"holder": {"pid": os.getpid(), "host": socket.gethostname(), "since": _now()}})
            + "\n").encode()


def _holder(fd: int) -> str:
    """Who holds the lock: the journal's last holder line (each run writes one as soon as it
    has the lock, so a journal left by a killed run does not name the dead one); best effort."""
    try:
        lines = _read_all(fd).splitlines()
        last = next(line for line in reversed(lines) if line.startswith(b'{"holder"'))
        who = json.loads(last)["holder"]
        return f"pid {int(who['pid'])} on host {who['host']}, since {who['since']}"
    except (OSError, ValueError, KeyError, TypeError, StopIteration):
        return "pid unknown"


def _take_lock(journal: Path, shown: Path) -> int:
    """The journal, opened and exclusively locked. close() deletes the journal while holding the
    lock, so the file locked may no longer be the one at `journal`: then try again."""
    for _ in range(_LOCK_TRIES):
        try:
            # Never through a symlink: its target, wherever it is, would be truncated or appended to.
            fd = os.open(journal, os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC | os.O_NOFOLLOW,
                         NEW_FILE_MODE)
        except OSError as e:
            if e.errno == errno.ELOOP or journal.is_symlink():
                raise StateError(f"{journal} is a symbolic link: shotlang writes its journal only as a file of "
                                 "its own; remove the link (nothing was sent)") from None
            raise
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            os.close(fd)
            raise StateBusy(shown, holder) from None
        except BaseException:
            os.close(fd)
            raise
        mine, there = os.fstat(fd), _identity(journal)
        if there is not None and there[:2] == (mine.st_dev, mine.st_ino):
            os.write(fd, _holder_line())  # at once, so a second run can say who holds it
            return fd
        os.close(fd)
    raise StateBusy(shown, "pid unknown")


class Store:
    """The state of one shot list, shared by the run's threads.

    Store.open (a run, the only writer) locks, loads and compacts; every change is then one
    journal line. Store.read (plan, status --offline) loads without locking or writing."""

    def __init__(self, path: Path, real: Path, state: StateFile, fd: int | None) -> None:
        self.path = path
        self._real = real
        self._journal = journal_path(real)
        self._state = state
        self._fd = fd
        self._lock = threading.Lock()
        self._holder_line = _holder_line()
        self._journal_size = 0
        self._changes = 0  # records appended since the journal was last folded in

    @classmethod
    def open(cls, path: Path, source: str) -> Store:
        """The state for a run: locked until close(), journal replayed and compacted.

        StateBusy if another process holds it, StateError if it cannot be read, OSError as it
        came if the folder cannot be written."""
        real = _real_path(path)
        journal = journal_path(real)
        fd = _take_lock(journal, path)
        try:
            # A run killed while it saved the state leaves the temporary file of that write: the
            # state file it was to replace is whole, so the temporary file goes.
            remove_partials(real.parent, {real.name})
            state = _load_state(path, real, source)
            left = _replay(state, _read_all(fd), journal)
            store = cls(path, real, state, fd)
            if left:  # a killed run's journal: fold it in now
                store.compact()
            else:  # nothing to fold in: leave the state file untouched, start the journal afresh
                store._restart_journal()
            fsync_dir(journal.parent)  # the journal's name, so durable lines are found after a power cut
        except BaseException:
            # Leave a stale journal for the next run, but none that holds only our holder line.
            if all(line.startswith(b'{"holder"') for line in _read_all(fd).splitlines()):
                journal.unlink(missing_ok=True)
            os.close(fd)
            raise
        return store

    @classmethod
    def read(cls, path: Path, source: str) -> Store:
        """The state as it stands, for reading only: no lock taken, nothing written.

        A run may compact while we read; if the state file was replaced meanwhile, the journal
        read may not belong to it, so read both again."""
        real = _real_path(path)
        journal = journal_path(real)
        for _ in range(_LOCK_TRIES):
            before = _identity(real)
            state = _load_state(path, real, source)
            try:
                data = journal.read_bytes()
            except FileNotFoundError:
                data = b""
            except OSError as e:
                raise StateError(f"cannot read {journal}: {e.strerror or e}") from None
            if _identity(real) == before:
                break
        _replay(state, data, journal)
        return cls(path, real, state, None)

    @property
    def writable(self) -> bool:
        """Whether this store was opened for a run (and is not closed yet)."""
        return self._fd is not None

    def names(self) -> list[str]:
        """The shots the state has a record of."""
        with self._lock:
            return list(self._state.shots)

    def get(self, name: str) -> ShotState | None:
        with self._lock:
            shot = self._state.shots.get(name)
            return shot.model_copy() if shot is not None else None

    def put(self, name: str, shot: ShotState, *, durable: bool = False) -> None:
        with self._lock:
            new = ShotState.model_validate({**shot.model_dump(), "updated": _now()})
            self._append(_shot_line(name, new), durable)
            self._state.shots[name] = new

    def update(self, name: str, *, durable: bool = False, **changes: Any) -> ShotState:
        with self._lock:
            # Validated, so nothing can be recorded that the next load would refuse.
            new = ShotState.model_validate({**self._state.shots[name].model_dump(), **changes,
                                            "updated": _now()})
            self._append(_shot_line(name, new), durable)
            self._state.shots[name] = new
            return new.model_copy()

    @property
    def pending_force(self) -> dict[str, int]:
        with self._lock:
            return dict(self._state.pending_force)

    def set_pending_force(self, name: str, generation: int) -> None:
        """Record a --force generation before its create is sent (durable: a resumed run must
        find it, or it would pay for another)."""
        with self._lock:
            forced = {**self._state.pending_force, name: generation}
            self._append(_force_line(forced), durable=True)
            self._state.pending_force = forced

    def clear_pending_force(self, names: Iterable[str] | None = None) -> None:
        """Forget the --force generations of these shots (all if None): a run that went through
        them has carried them out."""
        with self._lock:
            gone = set(self._state.pending_force) if names is None else set(names)
            forced = {k: v for k, v in self._state.pending_force.items() if k not in gone}
            if forced != self._state.pending_force:
                self._append(_force_line(forced), durable=False)
                self._state.pending_force = forced

    def compact(self) -> None:
        """Write the state file atomically (fsynced), then empty the journal but for its holder line."""
        with self._lock:
            self._compact()

    def close(self) -> None:
        """Compact, delete the journal and release the lock (deleted first, still locked, so no
        other run can lock a journal that is about to vanish). Idempotent."""
        with self._lock:
            if self._fd is None:
                return
            try:
                try:
                    if self._changes:  # a store only read (say by status) leaves the file as it was
                        self._compact()
                except OSError as e:  # the journal stays, and the next run replays it
                    raise OSError(e.errno, e.strerror, e.filename or str(self.path)) from None
                self._journal.unlink()
            finally:
                os.close(self._fd)
                self._fd = None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    def _writer(self) -> int:
        if self._fd is None:
            raise RuntimeError(f"{self.path} is not open for a run (read only, or closed)")
        return self._fd

    def _compact(self) -> None:
        # A list that never recorded anything gets no state file (plan, status, a run that sent nothing).
        if self._state.shots or self._state.pending_force or self._real.exists():
            write_atomic(self._real, self._state.model_dump_json(indent=2) + "\n")
        self._restart_journal()

    def _restart_journal(self) -> None:
        """An empty journal but for our holder line (a torn line left by a crash goes too)."""
        os.ftruncate(self._writer(), 0)
        self._journal_size = 0
        self._append(self._holder_line, durable=False)
        self._changes = 0

    def _append(self, line: bytes, durable: bool) -> None:
        """One line on the journal, or nothing: a failed write is cut off again, so the journal
        never holds a torn line before a good one. Called with self._lock held."""
        fd = self._writer()
        try:
            written = os.write(fd, line)
            while written < len(line):  # a short write, as before a full disk
                written += os.write(fd, line[written:])
            if durable:
                os.fsync(fd)
        except BaseException as e:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, self._journal_size)
            if isinstance(e, OSError) and not e.filename:
                raise OSError(e.errno, e.strerror, str(self._journal)) from None
            raise
        self._journal_size += len(line)
        self._changes += 1


def _shot_line(name: str, shot: ShotState) -> bytes:
    return b'{"shot":%s,"state":%s}\n' % (json.dumps(name).encode(), shot.model_dump_json().encode())


def _force_line(forced: dict[str, int]) -> bytes:
    return (json.dumps({"pending_force": forced}, separators=(",", ":")) + "\n").encode()
