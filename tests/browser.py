"""Debian's Chromium, headless, driven through the DevTools protocol over a pipe.

No browser download and no client library: Chromium started with `--remote-debugging-pipe`
reads commands from its fd 3 and writes answers and events to its fd 4, each a JSON text ended by
a NUL byte. One page (a tab) at a time is enough for the storyboard's tests: `Browser.page()`
opens one, and its `Page` records what a test asks about: console errors, uncaught exceptions,
and every request the page makes.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import queue
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

# The flags this machine needs: no sandbox (root), no GPU, and none of Chromium's own calls home
# (the network is closed: they would only fail, many at a time).
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-default-apps", "--disable-extensions", "--mute-audio", "--hide-scrollbars",
         "--disable-dev-shm-usage", "--remote-debugging-pipe")


def executable() -> str | None:
    """Chromium as Debian installs it (or as SHOTLANG_CHROMIUM names it)."""
    named = os.environ.get("SHOTLANG_CHROMIUM")
    if named:
        return named
    return shutil.which("chromium") or shutil.which("chromium-browser")


class BrowserError(RuntimeError):
    pass


def _high(fd: int) -> int:
    """The same pipe end at a number above 10, so moving it to 3 or 4 in the child clobbers nothing."""
    moved = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return moved


class Browser:
    def __init__(self, path: str, timeout: float = 30.0) -> None:
        self.timeout = timeout
        self._profile = tempfile.mkdtemp(prefix="shotlang-chromium-")
        to_child, ours_w = (_high(fd) for fd in os.pipe())
        ours_r, from_child = (_high(fd) for fd in os.pipe())

        def plumb() -> None:  # in the child, before exec: its fd 3 reads, its fd 4 writes
            os.dup2(to_child, 3)
            os.dup2(from_child, 4)

        self._process = subprocess.Popen(
            [path, *FLAGS, f"--user-data-dir={self._profile}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            preexec_fn=plumb, close_fds=False, start_new_session=True)
        os.close(to_child)
        os.close(from_child)
        self._out = os.fdopen(ours_w, "wb", buffering=0)
        self._in = os.fdopen(ours_r, "rb", buffering=0)
        self._next = 0
        self._lock = threading.Lock()
        self._answers: dict[int, queue.Queue[dict[str, Any]]] = {}
        self._events: dict[str | None, queue.Queue[dict[str, Any]]] = {}
        self._stderr: list[bytes] = []
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._drain, daemon=True).start()
        self.version = self.send("Browser.getVersion")["product"]

    # --- the pipe --------------------------------------------------------------------------------

    def _read(self) -> None:
        buffered = b""
        while True:
            chunk = self._in.read(1 << 16)
            if not chunk:
                break
            buffered += chunk
            *whole, buffered = buffered.split(b"\0")
            for text in whole:
                message = json.loads(text)
                if "id" in message:
                    with self._lock:
                        waiting = self._answers.get(message["id"])
                    if waiting is not None:
                        waiting.put(message)
                else:
                    self._queue(message.get("sessionId")).put(message)

    def _drain(self) -> None:
        assert self._process.stderr is not None
        for line in self._process.stderr:
            self._stderr.append(line)

    def _queue(self, session: str | None) -> queue.Queue[dict[str, Any]]:
        with self._lock:
            return self._events.setdefault(session, queue.Queue())

    def send(self, method: str, params: dict[str, Any] | None = None, session: str | None = None) -> dict[str, Any]:
        with self._lock:
            self._next += 1
            number = self._next
            answer: queue.Queue[dict[str, Any]] = queue.Queue()
            self._answers[number] = answer
        message: dict[str, Any] = {"id": number, "method": method, "params": params or {}}
        if session is not None:
            message["sessionId"] = session
        self._out.write(json.dumps(message).encode() + b"\0")
        try:
            got = answer.get(timeout=self.timeout)
        except queue.Empty:
            raise BrowserError(f"no answer to {method} in {self.timeout} s; chromium said: "
                               + b"".join(self._stderr[-20:]).decode(errors="replace")) from None
        finally:
            with self._lock:
                del self._answers[number]
        if "error" in got:
            raise BrowserError(f"{method}: {got['error']}")
        result: dict[str, Any] = got.get("result", {})
        return result

    # --- pages -----------------------------------------------------------------------------------

    def page(self, width: int, height: int = 900, javascript: bool = True) -> Page:
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        return Page(self, target, session, width, height, javascript)

    def close(self) -> None:
        with contextlib.suppress(BrowserError, OSError):
            self.send("Browser.close")
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        for stream in (self._out, self._in):
            stream.close()
        shutil.rmtree(self._profile, ignore_errors=True)

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


class Page:
    """One tab, its viewport `width` px wide (a phone's touch and scale below 600 px)."""

    def __init__(self, browser: Browser, target: str, session: str, width: int, height: int,
                 javascript: bool) -> None:
        self.browser, self.target, self.session = browser, target, session
        self.width = width
        self.errors: list[str] = []  # console errors, uncaught exceptions, failed loads
        self.requests: list[str] = []  # every URL the page asked for
        self.loaded: set[str] = set()  # URLs whose response came
        self.blocked: list[tuple[str, str]] = []  # (URL, why) of requests the browser refused to send
        self.seen: list[str] = []  # the name of every event taken in, in order
        self._asked: dict[str, str] = {}  # request id -> URL
        self._events = browser._queue(session)
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.send(f"{domain}.enable")
        mobile = width < 600
        self.send("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile})
        if mobile:
            self.send("Emulation.setTouchEmulationEnabled", {"enabled": True})
        if not javascript:
            self.send("Emulation.setScriptExecutionDisabled", {"value": True})

    def send(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """A command to the page; the events that came meanwhile are taken in, so what the page
        logged or asked for before any answer is in `errors` and `requests`."""
        answer = self.browser.send(method, params, self.session)
        while True:
            try:
                self._note(self._events.get_nowait())
            except queue.Empty:
                return answer

    def _note(self, event: dict[str, Any]) -> str:
        method, params = event["method"], event.get("params", {})
        self.seen.append(method)
        if method == "Runtime.consoleAPICalled" and params["type"] in ("error", "assert"):
            self.errors.append("console: " + " ".join(str(a.get("value", a.get("description", "")))
                                                     for a in params.get("args", [])))
        elif method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            self.errors.append("exception: " + str(details.get("exception", {}).get("description", details["text"])))
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            self.errors.append(f"log: {params['entry']['text']} ({params['entry'].get('url', '')})")
        elif method == "Network.requestWillBeSent":
            self.requests.append(params["request"]["url"])
            self._asked[params["requestId"]] = params["request"]["url"]
        elif method == "Network.responseReceived":
            self.loaded.add(params["response"]["url"])
        elif method == "Network.loadingFailed" and params.get("blockedReason"):
            self.blocked.append((self._asked.get(params["requestId"], "?"), params["blockedReason"]))
        elif method == "Network.loadingFailed" and not params.get("canceled"):
            self.errors.append(f"load failed: {params.get('errorText')}")
        return str(method)

    def pump(self, until: str | None = None, seconds: float | None = None, since: int | None = None) -> None:
        """Take in the page's events: until one named `until` comes (or came, taken in by a
        command's answer, after the `since`-th event), or for a while."""
        if until is not None and since is not None and until in self.seen[since:]:
            return
        deadline = time.monotonic() + (seconds if seconds is not None else self.browser.timeout)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                if until is not None:
                    raise BrowserError(f"no {until} in time")
                return
            try:
                event = self._events.get(timeout=left)
            except queue.Empty:
                continue
            if self._note(event) == until:
                return

    def open(self, path: Path) -> None:
        """Loads a file and lets it settle (fonts, images, media metadata)."""
        mark = len(self.seen)
        self.send("Page.navigate", {"url": path.resolve().as_uri()})
        self.pump(until="Page.loadEventFired", since=mark)
        self.pump(seconds=0.3)

    def evaluate(self, expression: str) -> Any:
        answer = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                                "awaitPromise": True})
        if "exceptionDetails" in answer:
            raise BrowserError(f"{expression[:60]}…: {answer['exceptionDetails']}")
        return answer["result"].get("value")

    def click(self, selector: str) -> None:
        """A real click (a mouse press and release at the element's middle), which counts as the
        user's gesture where a script's `click()` would not: browsers let a video play on that."""
        x, y = self.evaluate(f"(() => {{ const r = document.querySelector({json.dumps(selector)})"
                             ".getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; })()")
        for kind in ("mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent", {"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1})

    def screenshot(self, to: Path) -> None:
        """The whole page, not only the viewport."""
        size = self.send("Page.getLayoutMetrics")["cssContentSize"]
        shot = self.send("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": self.width, "height": min(size["height"], 16000), "scale": 1}})
        to.parent.mkdir(parents=True, exist_ok=True)
        to.write_bytes(base64.b64decode(shot["data"]))

    def pdf(self) -> bytes:
        """The page as printed, on A4."""
        printed = self.send("Page.printToPDF", {"paperWidth": 8.27, "paperHeight": 11.69, "printBackground": True})
        return base64.b64decode(printed["data"])

    def close(self) -> None:
        self.browser.send("Target.closeTarget", {"targetId": self.target})

    def __enter__(self) -> Page:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
