"""Running a compiled shot list: decide what to do per shot, then submit, poll and download.

    plan_shots (what each shot needs, from the state)  ->  Runner.run (do it, in threads)

The state file is written before every step that costs or changes something, so a run that
is killed anywhere continues where it stopped, and a shot is never paid for twice: each create
carries an external_task_id made from the shot and its body, and a resumed run finds the task
by it instead of creating another.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from . import bodies
from .client import AccountError, AuthError, GaveUp, KlingClient, KlingError, ShotError, Stopped
from .config import Config
from .payload import CompiledShot
from .state import IN_FLIGHT, ShotState, Store, body_hash

Action = Literal["new", "changed", "forced", "retry", "in flight", "download", "unchanged"]
SUBMITS: tuple[Action, ...] = ("new", "changed", "forced", "retry")
MAX_VIDEO_BYTES = 2 * 1024**3


@dataclass
class PlannedShot:
    shot: CompiledShot
    body: dict[str, Any]
    action: Action
    hash: str
    state: ShotState | None
    credits: float | None  # the estimate for a submission; None if no price is known
    price_published: bool = True

    @property
    def name(self) -> str:
        return self.shot.name

    @property
    def submits(self) -> bool:
        return self.action in SUBMITS

    @property
    def mode(self) -> str:
        return str(self.body.get("mode") or "std")


def video_path(out_dir: Path, name: str) -> Path:
    return out_dir / f"{name}.mp4"


def plan_shots(shots: list[CompiledShot], store: Store, out_dir: Path, config: Config,
               force: frozenset[str] = frozenset()) -> list[PlannedShot]:
    """What `run` would do for each shot, and what submitting it would cost."""
    plans = []
    for shot in shots:
        body = shot.model_dump(mode="json")["body"]
        digest = body_hash(shot.endpoint, body)
        state = store.get(shot.name)
        action: Action
        if shot.name in force:
            action = "forced"
        elif state is None:
            action = "new"
        elif state.body_sha256 != digest:
            action = "changed"
        elif state.status in IN_FLIGHT:
            action = "in flight"
        elif state.status == "failed":
            action = "retry"  # a failed task is not charged, so trying again is cheap
        elif video_path(out_dir, shot.name).is_file():
            action = "unchanged"
        else:
            action = "download"
        price = config.prices.get(body["model_name"])
        credits = price.credits.get((str(body.get("mode") or "std"), body["duration"])) if price else None
        plans.append(PlannedShot(shot, body, action, digest, state, credits,
                                 price.published if price else False))
    return plans


def external_id(name: str, digest: str, generation: int) -> str:
    """Unique per shot, body and deliberate re-run; short and safe for the API."""
    return f"{name[:40]}-{digest[:12]}-g{generation}"


# --- reporting -------------------------------------------------------------------------------

ShotEvent = Literal["queued", "submitting", "submitted", "processing", "downloading", "done", "failed",
                    "stopped", "unchanged"]


class Reporter(Protocol):
    def event(self, name: str, event: ShotEvent, detail: str = "") -> None: ...


@dataclass
class Outcome:
    name: str
    status: Literal["done", "unchanged", "failed", "stopped"]
    seconds: float
    file: str | None = None
    reason: str = ""
    task_id: str | None = None


@dataclass
class RunSettings:
    concurrency: int = 4
    poll_interval: float = 5.0  # the first wait between queries; it grows to poll_max
    poll_max: float = 30.0
    task_timeout: float = 30 * 60.0  # give up waiting for one task after this long (it stays resumable)
    max_video_bytes: int = MAX_VIDEO_BYTES


@dataclass
class Runner:
    client: KlingClient
    store: Store
    out_dir: Path
    reporter: Reporter
    settings: RunSettings = field(default_factory=RunSettings)
    stop: threading.Event = field(default_factory=threading.Event)
    clock: Callable[[], float] = time.monotonic
    stop_reason: str = ""
    stop_kind: type[KlingError] | None = None

    def run(self, plans: list[PlannedShot]) -> list[Outcome]:
        """Run every planned shot, at most `concurrency` at a time; returns them in order.
        On Ctrl-C, asks the workers to stop, waits for them, and raises KeyboardInterrupt."""
        for plan in plans:
            self.reporter.event(plan.name, "unchanged" if plan.action == "unchanged" else "queued")
        outcomes: dict[str, Outcome] = {}
        todo = [p for p in plans if p.action != "unchanged"]
        with ThreadPoolExecutor(max_workers=max(1, self.settings.concurrency)) as pool:
            futures: dict[Future[Outcome], PlannedShot] = {pool.submit(self._one, p): p for p in todo}
            pending: set[Future[Outcome]] = set(futures)
            try:
                while pending:
                    done, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
                    for future in done:
                        outcome = future.result()
                        outcomes[outcome.name] = outcome
            except KeyboardInterrupt:
                self.stop.set()
                self.stop_reason = "interrupted"
                for future in pending:
                    future.cancel()
                raise
        for plan in plans:
            if plan.action == "unchanged":
                file = plan.state.file if plan.state else None
                outcomes[plan.name] = Outcome(plan.name, "unchanged", 0.0, file,
                                              task_id=plan.state.task_id if plan.state else None)
        return [outcomes[p.name] for p in plans if p.name in outcomes]

    # --- one shot --------------------------------------------------------------------------

    def _one(self, plan: PlannedShot) -> Outcome:
        start = self.clock()
        if self.stop.is_set():
            return self._stopped(plan, start)
        try:
            task = self._task(plan)
            task = self._poll(plan, task, start)
            if task.task_status == "failed":
                reason = task.task_status_msg or "the task failed"
                self.store.update(plan.name, status="failed", status_msg=reason)
                return self._failed(plan, start, reason, task.task_id)
            return self._download(plan, task, start)
        except Stopped:
            return self._stopped(plan, start)
        except (AuthError, AccountError) as e:
            if not self.stop.is_set():
                self.stop_reason, self.stop_kind = e.message, type(e)
                self.stop.set()
            return self._failed(plan, start, e.message)
        except (ShotError, GaveUp, _TaskTimeout) as e:
            if isinstance(e, ShotError) and (state := self.store.get(plan.name)) and state.status == "submitting":
                self.store.update(plan.name, status="failed", status_msg=e.message)
            return self._failed(plan, start, e.message if isinstance(e, KlingError) else str(e))

    def _task(self, plan: PlannedShot) -> bodies.Task:
        """The shot's task: created, or found again from the state."""
        endpoint = plan.shot.endpoint
        if plan.action == "download" and plan.state is not None and plan.state.task_id:
            task = self.client.query(endpoint, plan.state.task_id)
            if task is None:
                raise ShotError("the finished task is no longer known to the API; use --force to make it again")
            return task
        if plan.action == "in flight" and plan.state is not None:
            state = plan.state
            task = self.client.query(endpoint, state.task_id or state.external_task_id)
            if task is not None:
                self._record(plan.name, task)
                return task
            # Never reached the API (the run stopped between writing the state and sending).
            return self._create(plan, self._body(plan, state.external_task_id))
        # new and changed shots have an id of their own (the hash differs); a deliberate
        # re-run of the same body needs the next generation, since the API refuses an old id.
        generation = 1
        if plan.state is not None and plan.action in ("forced", "retry"):
            generation = plan.state.generation + 1
        ext = plan.body.get("external_task_id") or external_id(plan.name, plan.hash, generation)
        self.store.put(plan.name, ShotState(body_sha256=plan.hash, endpoint=endpoint, external_task_id=ext,
                                            generation=generation, status="submitting"))
        return self._create(plan, self._body(plan, ext))

    @staticmethod
    def _body(plan: PlannedShot, ext: str) -> dict[str, Any]:
        return plan.body if plan.body.get("external_task_id") else {**plan.body, "external_task_id": ext}

    def _create(self, plan: PlannedShot, body: dict[str, Any]) -> bodies.Task:
        self.reporter.event(plan.name, "submitting")
        task = self.client.create(plan.shot.endpoint, body)
        self._record(plan.name, task)
        return task

    def _record(self, name: str, task: bodies.Task) -> None:
        self.store.update(name, task_id=task.task_id, status=task.task_status,
                          status_msg=task.task_status_msg)
        if task.task_status in ("submitted", "processing"):
            self.reporter.event(name, task.task_status, task.task_id)

    def _poll(self, plan: PlannedShot, task: bodies.Task, start: float) -> bodies.Task:
        interval = self.settings.poll_interval
        while task.task_status not in ("succeed", "failed"):
            if self.clock() - start > self.settings.task_timeout:
                raise _TaskTimeout(f"still {task.task_status} after {self.settings.task_timeout:.0f}s; "
                                   "run again to keep waiting (nothing is submitted twice)")
            self.client.wait(interval)
            interval = min(interval * 1.5, self.settings.poll_max)
            latest = self.client.query(plan.shot.endpoint, task.task_id)
            if latest is None:
                raise ShotError(f"the API no longer knows task {task.task_id}")
            if latest.task_status != task.task_status:
                self._record(plan.name, latest)
            task = latest
        return task

    def _download(self, plan: PlannedShot, task: bodies.Task, start: float) -> Outcome:
        videos = task.task_result.videos if task.task_result else []
        if not videos:
            raise ShotError("the task succeeded but the API gave no video")
        url = videos[0].url
        self.store.update(plan.name, status="succeed", result_url=url,
                          credits=None if task.final_unit_deduction is None else str(task.final_unit_deduction))
        target = video_path(self.out_dir, plan.name)
        self.reporter.event(plan.name, "downloading")
        size = self.client.download(url, target, max_bytes=self.settings.max_video_bytes)
        shown = os.path.relpath(target, self.store.path.parent)
        self.store.update(plan.name, file=shown, bytes=size)
        self.reporter.event(plan.name, "done", shown)
        return Outcome(plan.name, "done", self.clock() - start, shown, task_id=task.task_id)

    def _failed(self, plan: PlannedShot, start: float, reason: str, task_id: str | None = None) -> Outcome:
        self.reporter.event(plan.name, "failed", reason)
        return Outcome(plan.name, "failed", self.clock() - start, reason=reason, task_id=task_id)

    def _stopped(self, plan: PlannedShot, start: float) -> Outcome:
        reason = f"run stopped: {self.stop_reason}" if self.stop_reason else "run stopped"
        self.reporter.event(plan.name, "stopped", reason)
        return Outcome(plan.name, "stopped", self.clock() - start, reason=reason)


class _TaskTimeout(Exception):
    """A task did not finish within the local timeout."""
