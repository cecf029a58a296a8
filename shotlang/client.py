"""A client for the Kling video API on httpx: create, query and list tasks, download videos.

Every response is read by the error table in kling.py: rate limits and server trouble are
retried with exponential backoff and jitter (honouring Retry-After), an expired token is
renewed once, account problems stop the run, and anything else fails the one shot. No key
or token ever appears in an exception, a log line or a message.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from pydantic import ValidationError

from . import bodies, kling
from .auth import TokenSource
from .files import atomic_file

USER_AGENT = "shotlang"
MP4_BOX = b"ftyp"  # bytes 4-8 of every MP4 file


class KlingError(Exception):
    """An error from the API or on the way to it; `message` is safe to show."""

    def __init__(self, message: str, *, http: int | None = None, code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.http = http
        self.code = code


class AuthError(KlingError):
    """The credentials were refused: the run stops."""


class AccountError(KlingError):
    """The account cannot go on (arrears, no resource pack, blocked IP): the run stops."""


class ShotError(KlingError):
    """This request was refused (parameters, permission, content policy): the shot fails."""


class GaveUp(KlingError):
    """Retries ran out for rate limits, server errors or network trouble."""


class Stopped(Exception):
    """The run was asked to stop (Ctrl-C or an account error elsewhere)."""


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with full jitter: the nth wait is random in [0, min(cap, base*2^n)]."""

    base: float = 1.0
    cap: float = 60.0
    attempts: int = 8

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.cap)
        return random.uniform(0, min(self.cap, self.base * 2**attempt))


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


class KlingClient:
    def __init__(
        self,
        base_url: str,
        tokens: TokenSource,
        *,
        backoff: Backoff = Backoff(),
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        self._tokens = tokens
        self._backoff = backoff
        self._stop = stop or threading.Event()
        self._http = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout, transport=transport,
                                  headers={"User-Agent": USER_AGENT}, follow_redirects=False)
        # Result videos live on another host: they get no Authorization header.
        self._downloads = httpx.Client(timeout=timeout, transport=transport, follow_redirects=True,
                                       headers={"User-Agent": USER_AGENT})

    def close(self) -> None:
        self._http.close()
        self._downloads.close()

    def __enter__(self) -> KlingClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def wait(self, seconds: float) -> None:
        """Sleep, unless the run is stopped meanwhile."""
        if self._stop.wait(seconds):
            raise Stopped

    # --- tasks -----------------------------------------------------------------------------

    def create(self, endpoint: str, body: dict[str, Any]) -> bodies.Task:
        """Create a task. A create whose external_task_id was used before (a retry after a lost
        answer, or a run resumed after a crash) returns the task that id already names."""
        external = body.get("external_task_id")
        try:
            return self._task(self._call("POST", endpoint, body))
        except ShotError as refused:
            if external and refused.code == kling.DUPLICATE_EXTERNAL_ID_CODE:
                existing = self.query(endpoint, external)
                if existing is not None:
                    return existing
            raise

    def query(self, endpoint: str, task_or_external_id: str) -> bodies.Task | None:
        """One task by its task_id or external_task_id; None if the API has no such task."""
        try:
            return self._task(self._call("GET", f"{endpoint}/{task_or_external_id}"))
        except ShotError as e:
            if e.http == 404 or e.code in kling.NOT_FOUND_CODES:
                return None
            raise

    def list(self, endpoint: str, page: int = 1, size: int = 30) -> list[bodies.Task]:
        data = self._call("GET", endpoint, params={"pageNum": page, "pageSize": size})
        return [self._task(item) for item in (data or [])]

    @staticmethod
    def _task(data: Any) -> bodies.Task:
        try:
            return bodies.Task.model_validate(data)
        except ValidationError:
            raise GaveUp("the API answered with a task shotlang cannot read") from None

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None,
              params: dict[str, Any] | None = None) -> Any:
        """One API call with the error table applied; returns the response's `data`."""
        refreshed = False
        attempt = 0
        while True:
            if self._stop.is_set():
                raise Stopped
            token = self._tokens.token()
            try:
                response = self._http.request(method, path, json=body, params=params,
                                              headers={"Authorization": f"Bearer {token}"})
            except httpx.TransportError as e:  # connection refused or dropped, timeouts
                attempt = self._retry(attempt, f"network error ({type(e).__name__})")
                continue
            envelope = self._envelope(response)
            if response.status_code == 200 and envelope is not None and envelope.code == 0:
                return envelope.data
            code = envelope.code if envelope is not None else None
            message = (envelope.message if envelope is not None else "") or response.reason_phrase
            action = kling.error_action(response.status_code, code)
            where = f"HTTP {response.status_code}" + (f", code {code}" if code is not None else "")
            text = f"{message} ({where})"
            if action is kling.ErrorAction.REFRESH_TOKEN:
                if refreshed:
                    raise AuthError(f"the API refused the credentials: {text}",
                                    http=response.status_code, code=code)
                self._tokens.refresh(token)
                refreshed = True
            elif action in (kling.ErrorAction.RETRY, kling.ErrorAction.WAIT_AND_RETRY):
                attempt = self._retry(attempt, text, _retry_after(response))
            elif action is kling.ErrorAction.STOP_RUN:
                raise AccountError(text, http=response.status_code, code=code)
            else:
                raise ShotError(text, http=response.status_code, code=code)

    def _retry(self, attempt: int, why: str, retry_after: float | None = None) -> int:
        if attempt + 1 >= self._backoff.attempts:
            raise GaveUp(f"gave up after {attempt + 1} tries: {why}")
        self.wait(self._backoff.delay(attempt, retry_after))
        return attempt + 1

    @staticmethod
    def _envelope(response: httpx.Response) -> bodies.Envelope | None:
        try:
            return bodies.Envelope.model_validate_json(response.content)
        except ValidationError:
            return None

    # --- downloads -------------------------------------------------------------------------

    def download(self, url: str, target: Path, *, max_bytes: int,
                 progress: Callable[[int], None] | None = None) -> int:
        """Stream a result video to `target` atomically; returns its size in bytes.

        The download is kept only if the server said 200, sent as many bytes as it declared,
        stayed under `max_bytes`, and the file starts like an MP4. A download cut short is
        retried from the start; a bad one never replaces a good file.
        """
        attempt = 0
        while True:
            try:
                return self._download_once(url, target, max_bytes, progress)
            except (httpx.TransportError, _ShortDownload) as e:
                attempt = self._retry(attempt, f"download failed: {e}")

    def _download_once(self, url: str, target: Path, max_bytes: int,
                       progress: Callable[[int], None] | None) -> int:
        with self._downloads.stream("GET", url) as response:
            if response.status_code >= 500:
                raise _ShortDownload(f"HTTP {response.status_code}")
            if response.status_code != 200:
                raise ShotError(f"the video could not be downloaded (HTTP {response.status_code})",
                                http=response.status_code)
            declared = response.headers.get("content-length")
            expected = int(declared) if declared and declared.isdigit() else None
            if expected is not None and expected > max_bytes:
                raise ShotError(f"the video is {expected:,} bytes, over the {max_bytes:,} byte cap")
            size = 0
            with atomic_file(target) as f:
                for chunk in response.iter_bytes():
                    if size == 0 and chunk[4:8] != MP4_BOX and len(chunk) >= 8:
                        raise ShotError("the downloaded file is not an MP4 video")
                    size += len(chunk)
                    if size > max_bytes:
                        raise ShotError(f"the video is over the {max_bytes:,} byte cap")
                    f.write(chunk)
                    if progress is not None:
                        progress(size)
                if expected is not None and size != expected:
                    raise _ShortDownload(f"got {size:,} of {expected:,} bytes")
                if size < 8:
                    raise ShotError("the downloaded file is not an MP4 video")
            return size


class _ShortDownload(Exception):
    """A download that ended early or hit a server error: worth another try."""
