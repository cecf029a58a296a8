"""The run state beside a shot list: what was submitted, what came back, what is on disk.

`castle.shot` keeps its state in `castle.shot.state.json` (docs/running.md has the format).
It holds no secret, so it may be committed or ignored by choice. Every change is written
atomically (write, fsync, rename), so a crash or Ctrl-C leaves the last complete state.
"""

from __future__ import annotations

import hashlib
import json
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from .files import write_atomic

STATE_VERSION = 1
SUFFIX = ".state.json"
# Where a shot is: "submitting" is written before the create request is sent, so a crash
# between the request and its answer is found again by the shot's external_task_id.
Status = Literal["submitting", "submitted", "processing", "succeed", "failed"]
IN_FLIGHT = ("submitting", "submitted", "processing")


class ShotState(BaseModel):
    body_sha256: str
    endpoint: str
    external_task_id: str
    generation: int = 1
    task_id: str | None = None
    status: Status = "submitting"
    status_msg: str | None = None
    result_url: str | None = None
    file: str | None = None  # relative to the state file's folder, once downloaded
    bytes: int | None = None
    credits: str | None = None  # final_unit_deduction, as the API reports it
    updated: str = ""


class StateFile(BaseModel):
    shotlang_state: int = STATE_VERSION
    source: str
    shots: dict[str, ShotState] = {}


class StateError(Exception):
    """The state file exists but cannot be read as one."""


def state_path(shot_file: Path) -> Path:
    return shot_file.with_name(shot_file.name + SUFFIX)


def body_hash(endpoint: str, body: dict[str, Any]) -> str:
    """A hash of exactly what would be sent: the endpoint and the body, keys sorted."""
    canonical = json.dumps([endpoint, body], sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class Store:
    """The state of one shot list, shared by the run's threads; every update is saved."""

    def __init__(self, path: Path, source: str) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._state = self._read(path, source)

    @staticmethod
    def _read(path: Path, source: str) -> StateFile:
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return StateFile(source=source)
        except OSError as e:
            raise StateError(f"cannot read {path}: {e.strerror or e}") from None
        try:
            state = StateFile.model_validate_json(text)
        except ValidationError:
            raise StateError(f"{path} is not a shotlang state file; move it aside to start afresh") from None
        if state.shotlang_state != STATE_VERSION:
            raise StateError(f"{path} has state format {state.shotlang_state}; this shotlang reads {STATE_VERSION}")
        return state

    def get(self, name: str) -> ShotState | None:
        with self._lock:
            shot = self._state.shots.get(name)
            return shot.model_copy() if shot is not None else None

    def all(self) -> dict[str, ShotState]:
        with self._lock:
            return {k: v.model_copy() for k, v in self._state.shots.items()}

    def put(self, name: str, shot: ShotState) -> None:
        with self._lock:
            shot.updated = datetime.now(UTC).isoformat(timespec="seconds")
            self._state.shots[name] = shot.model_copy()
            self._save()

    def update(self, name: str, **changes: Any) -> ShotState:
        with self._lock:
            shot = self._state.shots[name].model_copy(update=changes)
            shot.updated = datetime.now(UTC).isoformat(timespec="seconds")
            self._state.shots[name] = shot
            self._save()
            return shot.model_copy()

    def _save(self) -> None:
        write_atomic(self.path, self._state.model_dump_json(indent=2) + "\n")
