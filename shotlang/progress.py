"""How a run shows itself: a live table on a terminal, a line per event elsewhere, or JSON."""

from __future__ import annotations

import json
import sys
import threading
import time
import unicodedata
from typing import TextIO

from .runner import Outcome, ShotEvent


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


class LineReporter(_Lines):
    """One plain line per event: for logs, CI and pipes."""

    def __init__(self, stream: TextIO = sys.stderr) -> None:
        super().__init__(stream)

    def event(self, name: str, event: ShotEvent, detail: str = "") -> None:
        self.write(f"[{self.elapsed():6.1f}s] {name}: {event}" + (f" ({detail})" if detail else ""))


class JsonReporter(_Lines):
    """One JSON object per event on standard output: {"shot", "event", "detail", "elapsed"}."""

    def __init__(self, stream: TextIO = sys.stdout) -> None:
        super().__init__(stream)

    def event(self, name: str, event: ShotEvent, detail: str = "") -> None:
        record = {"shot": name, "event": event, "detail": detail, "elapsed": round(self.elapsed(), 3)}
        self.write(json.dumps(record, ensure_ascii=False))

    def summary(self, outcomes: list[Outcome]) -> None:
        for o in outcomes:
            record = {"shot": o.name, "event": "summary", "status": o.status, "seconds": round(o.seconds, 3),
                      "file": o.file, "reason": o.reason, "task_id": o.task_id}
            self.write(json.dumps(record, ensure_ascii=False))


class LiveReporter:
    """A table of every shot's state and elapsed time, redrawn in place on a terminal."""

    def __init__(self, names: list[str], stream: TextIO = sys.stderr, interval: float = 0.5) -> None:
        self._stream = stream
        self._names = names
        self._state = dict.fromkeys(names, "queued")
        self._detail = dict.fromkeys(names, "")
        self._since = dict.fromkeys(names, time.monotonic())
        self._lock = threading.Lock()
        self._drawn = 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._tick, args=(interval,), daemon=True)
        self._thread.start()

    def event(self, name: str, event: ShotEvent, detail: str = "") -> None:
        with self._lock:
            if event == "queued":
                self._since[name] = time.monotonic()
            self._state[name] = event
            self._detail[name] = detail if event in ("failed", "done", "pending", "stopped") else ""
            self._draw()

    def _tick(self, interval: float) -> None:
        while not self._done.wait(interval):
            with self._lock:
                self._draw()

    def _draw(self) -> None:
        width = max((len(n) for n in self._names), default=4)
        now = time.monotonic()
        lines = []
        for name in self._names:
            state = self._state[name]
            running = state not in ("done", "failed", "pending", "stopped", "unchanged")
            elapsed = f"{now - self._since[name]:6.0f}s" if running else "       "
            lines.append(f"  {name:<{width}}  {state:<12} {elapsed}  {self._detail[name]}"[:200])
        out = ("\x1b[F" * self._drawn) + "".join(f"\x1b[2K{line}\n" for line in lines)
        self._stream.write(out)
        self._stream.flush()
        self._drawn = len(lines)

    def close(self) -> None:
        self._done.set()
        self._thread.join()
        with self._lock:
            self._draw()


def printable(text: str) -> str:
    """Text from a server or a state file, safe on a terminal: no control or format characters
    (escape sequences, bidi overrides), whitespace as plain spaces."""
    return "".join(" " if c.isspace() else c for c in text if c.isspace() or unicodedata.category(c) not in ("Cc", "Cf"))


def summary_table(outcomes: list[Outcome]) -> str:
    rows = [("SHOT", "STATUS", "SECONDS", "FILE OR REASON")]
    rows += [(o.name, o.status, f"{o.seconds:.1f}", printable(o.file or o.reason)) for o in outcomes]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    return "\n".join(f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:>{widths[2]}}  {r[3]}".rstrip()
                     for r in rows)
