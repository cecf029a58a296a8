"""How a run shows itself: a live table on a terminal, a line per event elsewhere, or JSON."""

from __future__ import annotations

import json
import os
import shutil
import sys
import threading
import time
from collections.abc import Callable
from typing import TextIO, get_args

from ..terminal import printable
from .client import Retry
from .runner import Outcome, OutcomeStatus, ShotEvent


class _Lines:
    """Writes whole lines to a stream from many threads, and knows how long the run has taken."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._lock = threading.Lock()
        self._start = time.monotonic()

    def elapsed(self) -> float:
        return time.monotonic() - self._start

    def write(self, line: str) -> None:
        with self._lock:
            print(line, file=self._stream, flush=True)

    def close(self) -> None:
        pass


def retry_text(retry: Retry) -> str:
    return f"retrying {retry.host} in {retry.wait:.1f}s (try {retry.attempt} of {retry.attempts}): {retry.why}"


class LineReporter(_Lines):
    """One plain line per event: for logs, CI and pipes."""

    def __init__(self, stream: TextIO = sys.stderr) -> None:
        super().__init__(stream)

    def event(self, name: str, event: ShotEvent, detail: str = "") -> None:
        self.write(f"[{self.elapsed():6.1f}s] {name}: {event}" + (f" ({printable(detail)})" if detail else ""))

    def retrying(self, name: str | None, retry: Retry) -> None:
        self.write(f"[{self.elapsed():6.1f}s] {name or 'run'}: {retry_text(retry)}")


class JsonReporter(_Lines):
    """One JSON object per event on standard output: {"shot", "event", "detail", "elapsed"};
    retries as {"shot", "event": "retry", "host", "attempt", "attempts", "wait", "detail", "elapsed"}."""

    def __init__(self, stream: TextIO = sys.stdout) -> None:
        super().__init__(stream)

    def event(self, name: str, event: ShotEvent, detail: str = "") -> None:
        record = {"shot": name, "event": event, "detail": detail, "elapsed": round(self.elapsed(), 3)}
        self.write(json.dumps(record, ensure_ascii=False))

    def retrying(self, name: str | None, retry: Retry) -> None:
        record = {"shot": name, "event": "retry", "host": retry.host, "attempt": retry.attempt,
                  "attempts": retry.attempts, "wait": round(retry.wait, 3), "detail": retry.why,
                  "elapsed": round(self.elapsed(), 3)}
        self.write(json.dumps(record, ensure_ascii=False))

    def summary(self, outcomes: list[Outcome]) -> None:
        for o in outcomes:
            record = {"shot": o.name, "event": "summary", "status": o.status, "seconds": round(o.seconds, 3),
                      "file": o.file, "reason": o.reason, "task_id": o.task_id}
            self.write(json.dumps(record, ensure_ascii=False))


FINISHED: tuple[str, ...] = get_args(OutcomeStatus)  # the events that end a shot
RETRY_SHOWN = 30.0  # seconds a retry stays on the live display


class LiveReporter:
    """The run on a terminal, redrawn in place and never taller than the screen: the shots at
    work first, then the most recently finished, then one line for the rest ("… and 28 more:
    14 done, 10 queued") and the latest retry. Redrawn at most every `interval` seconds, so its
    output stays near one screen per redraw; erased at the end, leaving the summary alone."""

    def __init__(self, names: list[str], stream: TextIO = sys.stderr, interval: float = 0.2,
                 size: Callable[[], os.terminal_size] = lambda: shutil.get_terminal_size((80, 24))) -> None:
        self._stream = stream
        self._names = names
        self._size = size
        self._state = dict.fromkeys(names, "queued")
        self._detail = dict.fromkeys(names, "")
        self._since = dict.fromkeys(names, time.monotonic())
        self._finished: dict[str, float] = {}  # name -> when, for "most recently finished"
        self._retry: tuple[float, str] | None = None
        self._lock = threading.Lock()
        self._drawn = 0
        self._dirty = True
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._tick, args=(interval,), daemon=True)
        self._thread.start()

    def event(self, name: str, event: ShotEvent, detail: str = "") -> None:
        with self._lock:
            now = time.monotonic()
            if event == "queued":
                self._since[name] = now
            self._state[name] = event
            self._detail[name] = printable(detail) if event in ("failed", "done", "pending", "stopped") else ""
            if event in FINISHED:
                self._finished[name] = now
            else:
                self._finished.pop(name, None)
            self._dirty = True

    def retrying(self, name: str | None, retry: Retry) -> None:
        with self._lock:
            self._retry = (time.monotonic(), f"{name or 'run'}: {retry_text(retry)}")
            self._dirty = True

    def _tick(self, interval: float) -> None:
        last = 0.0
        while not self._done.wait(interval):
            with self._lock:
                # Elapsed seconds change every second: redraw then even without news.
                if self._dirty or time.monotonic() - last >= 1.0:
                    self._draw()
                    last = time.monotonic()

    def lines(self, now: float) -> list[str]:
        """What one redraw shows, at most the terminal's height less one line, each cut to its width."""
        columns, rows = self._size()
        room = max(3, rows - 1)
        working = [n for n in self._names if self._state[n] not in FINISHED and self._state[n] != "queued"]
        recent = sorted(self._finished, key=lambda n: self._finished[n], reverse=True)
        queued = [n for n in self._names if self._state[n] == "queued"]
        footer = []
        if self._retry is not None and now - self._retry[0] < RETRY_SHOWN:
            footer.append(self._retry[1])
        shown = (working + recent + queued)[: room - len(footer) - 1]
        if len(shown) == len(self._names):
            shown = self._names  # everything fits: keep the list's order
        rest = [n for n in self._names if n not in set(shown)]
        width = max((len(n) for n in shown), default=4)
        out = []
        for name in shown:
            state = self._state[name]
            elapsed = f"{now - self._since[name]:6.0f}s" if state not in FINISHED else "       "
            out.append(f"  {name:<{width}}  {state:<12} {elapsed}  {self._detail[name]}")
        if rest:
            counts: dict[str, int] = {}
            for name in rest:
                counts[self._state[name]] = counts.get(self._state[name], 0) + 1
            ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
            out.append(f"  … and {len(rest)} more: " + ", ".join(f"{n} {state}" for state, n in ranked))
        out += [f"  {line}" for line in footer]
        return [line[: max(10, columns - 1)] for line in out]

    def _draw(self) -> None:
        lines = self.lines(time.monotonic())
        up = f"\x1b[{self._drawn}F" if self._drawn else ""
        # Back to the table's first line, clear to the end of the screen, draw: lines never wrap
        # (cut to the width) and never outnumber the rows, so the cursor lands where it should.
        self._stream.write(up + "\x1b[J" + "".join(f"{line}\n" for line in lines))
        self._stream.flush()
        self._drawn = len(lines)
        self._dirty = False

    def close(self, keep: bool = False) -> None:
        """Stop redrawing and erase the table: the summary that follows says it all once.
        `keep`: leave it as last drawn (an interrupted run prints no summary)."""
        self._done.set()
        self._thread.join()
        with self._lock:
            if keep:
                self._draw()
            elif self._drawn:
                self._stream.write(f"\x1b[{self._drawn}F\x1b[J")
                self._stream.flush()
            self._drawn = 0


def summary_table(outcomes: list[Outcome]) -> str:
    rows = [("SHOT", "STATUS", "SECONDS", "FILE OR REASON")]
    rows += [(o.name, o.status, f"{o.seconds:.1f}", printable(o.file or o.reason)) for o in outcomes]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    return "\n".join(f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:>{widths[2]}}  {r[3]}".rstrip()
                     for r in rows)
