"""A small language client that talks to `shotlang lsp` as an editor does: a real process,
JSON-RPC messages with Content-Length headers over its standard input and output.

For the tests (tests/test_lsp.py) and the benchmark (bench/lsp_latency.py); no dependency: the
protocol's framing is a header and a JSON body. A reader thread takes every message as it
arrives and notes the time, so a measured latency is the server's, not this client's.
"""

from __future__ import annotations

import json
import queue
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any

Message = dict[str, Any]


class ServerGone(Exception):
    """The server closed its output (it exited or crashed)."""


class Client:
    """`command` started as the server; messages to it and from it."""

    def __init__(self, command: Sequence[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> None:
        self.process = subprocess.Popen(list(command), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, cwd=cwd, env=env)
        self._next_id = 0
        self._inbox: queue.Queue[tuple[float, Message] | None] = queue.Queue()
        self.notifications: list[tuple[float, Message]] = []  # received and not yet taken
        self._responses: dict[int, Message] = {}
        self.stderr = b""
        self._write_lock = threading.Lock()
        assert self.process.stdout is not None and self.process.stderr is not None
        threading.Thread(target=self._read, args=(self.process.stdout,), daemon=True).start()
        threading.Thread(target=self._drain, args=(self.process.stderr,), daemon=True).start()

    # --- the wire -----------------------------------------------------------------------------

    def _read(self, stream: IO[bytes]) -> None:
        try:
            while True:
                length = None
                while True:
                    line = stream.readline()
                    if not line:
                        return
                    line = line.strip()
                    if not line:
                        break
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                if length is None:
                    continue
                body = stream.read(length)
                self._inbox.put((time.perf_counter(), json.loads(body)))
        finally:
            self._inbox.put(None)

    def _drain(self, stream: IO[bytes]) -> None:
        for chunk in iter(lambda: stream.read(4096), b""):
            self.stderr += chunk

    def send(self, message: Message) -> float:
        """Write one message; the time it was written."""
        body = json.dumps(message).encode("utf-8")
        stdin = self.process.stdin
        assert stdin is not None
        with self._write_lock:
            stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
            stdin.flush()
            return time.perf_counter()

    def _take(self, timeout: float) -> tuple[float, Message]:
        try:
            item = self._inbox.get(timeout=timeout)
        except queue.Empty:
            raise TimeoutError("no message from the server in time") from None
        if item is None:
            self._inbox.put(None)  # stays closed for the next caller
            raise ServerGone(self.stderr.decode("utf-8", "replace")[-2000:])
        when, message = item
        if "method" in message and "id" in message:  # a request from the server: answer it
            self.send({"jsonrpc": "2.0", "id": message["id"], "result": None})
        return when, message

    # --- requests and notifications -----------------------------------------------------------

    def notify(self, method: str, params: Any) -> float:
        return self.send({"jsonrpc": "2.0", "method": method, "params": params})

    def request(self, method: str, params: Any, timeout: float = 30) -> Any:
        """Send a request and wait for its answer; an error answer raises RuntimeError."""
        self._next_id += 1
        number = self._next_id
        self.send({"jsonrpc": "2.0", "id": number, "method": method, "params": params})
        deadline = time.monotonic() + timeout
        while True:
            when, message = self._take(max(0.0, deadline - time.monotonic()))
            if message.get("id") == number and "method" not in message:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result")
            if "method" in message and "id" not in message:
                self.notifications.append((when, message))

    def wait_for(self, method: str, where: Callable[[Message], bool] = lambda m: True,
                 timeout: float = 30) -> tuple[float, Message]:
        """The first notification `method` that satisfies `where` (one already received first),
        and when it arrived."""
        for i, (when, message) in enumerate(self.notifications):
            if message.get("method") == method and where(message["params"]):
                del self.notifications[i]
                return when, message
        deadline = time.monotonic() + timeout
        while True:
            when, message = self._take(max(0.0, deadline - time.monotonic()))
            if "method" in message and "id" not in message:
                if message["method"] == method and where(message["params"]):
                    return when, message
                self.notifications.append((when, message))

    def diagnostics(self, uri: str, version: int | None = None, timeout: float = 30) -> list[Message]:
        """The next diagnostics published for `uri` (for `version`, if given)."""
        def mine(params: Message) -> bool:
            return bool(params["uri"] == uri and (version is None or params.get("version") == version))

        _, message = self.wait_for("textDocument/publishDiagnostics", mine, timeout)
        return list(message["params"]["diagnostics"])

    # --- a session ------------------------------------------------------------------------------

    def initialize(self, root: Path, capabilities: Message | None = None) -> Message:
        result = self.request("initialize", {
            "processId": None, "rootUri": root.as_uri(),
            "capabilities": capabilities if capabilities is not None else {
                "textDocument": {"publishDiagnostics": {"relatedInformation": True}}}})
        self.notify("initialized", {})
        return dict(result)

    def open(self, uri: str, text: str, version: int = 1) -> None:
        self.notify("textDocument/didOpen", {"textDocument": {
            "uri": uri, "languageId": "shot", "version": version, "text": text}})

    def change(self, uri: str, version: int, changes: list[Message]) -> float:
        return self.notify("textDocument/didChange", {
            "textDocument": {"uri": uri, "version": version}, "contentChanges": changes})

    def close(self, timeout: float = 10) -> int:
        """Shut the server down as an editor does; its exit code."""
        try:
            self.request("shutdown", None, timeout)
            self.notify("exit", None)
        except (ServerGone, BrokenPipeError, OSError, TimeoutError):
            pass
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process.poll() is None:
            self.close()
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()
