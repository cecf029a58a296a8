"""A client for the Kling video API on httpx: create, query and list tasks, download videos.

Only a Kling reply can say what happened: a body that parses as the API's envelope with an int
`code`, either 0 (on HTTP 200, with data that validates) or a code of kling.ERRORS. Anything
else (an HTML page, truncated JSON, an unknown code, a dropped connection, a deadline passing
mid-answer) is *unknown*, never a refusal. Queries and lists retry unknowns with exponential
backoff and jitter (honouring a sane Retry-After). A create never pays twice: an unknown outcome
is resolved by looking the task up by its external_task_id, and a create is only sent again,
with the same id, when the lookup says there is no such task; if that does not settle it,
CreateUnknown says so and the caller looks again later.

No key or token ever appears in an exception, a log line or a message: every text from a
server goes through TokenSource.redact. Requests carrying the token only ever go to the API's
endpoints (kling.ENDPOINTS) or one task under them; downloads carry no token at all.
"""

from __future__ import annotations

import builtins
import email.utils
import hashlib
import json
import math
import random
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple, Protocol
from urllib.parse import quote

import httpcore
import httpx
from pydantic import ValidationError

from ..compiler import bodies, kling
from ..files import atomic_file

USER_AGENT = "shotlang"
MP4_BOX = b"ftyp"  # bytes 4-8 of every MP4 file
MP4_HEAD = 8  # bytes needed to tell an MP4 from anything else
# A lookup by external id may lag the create it follows: it is asked this many times.
LOOKUP_TRIES = 3


class KlingError(Exception):
    """An error from the API or on the way to it; `message` is safe to show (redacted)."""

    def __init__(self, message: str, *, http: int | None = None, code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.http = http
        self.code = code
        # Set on a refusal of a create that was re-sent after an attempt whose outcome was
        # unknown: this answer refused the re-send, but the earlier attempt may have made the task.
        self.maybe_created = False


class AuthError(KlingError):
    """The credentials were refused (a Kling reply said so): nothing was created; the run stops."""


class AccountError(KlingError):
    """The account cannot go on (arrears, no resource pack, blocked IP; a Kling reply said so):
    nothing was created; the run stops."""


class ShotError(KlingError):
    """This request was refused (a Kling reply said so: parameters, permission, content policy),
    or shotlang would not send it: the shot fails, nothing was created."""


class GaveUp(KlingError):
    """Retries ran out for rate limits, server errors, unreadable answers or network trouble."""


class CreateUnknown(KlingError):
    """A create may have reached the API and its outcome could not be learnt. Leave the shot
    `submitting` and look it up by external id later; never create it under a new id.
    `exists` is True when the API said the external id is taken (the task surely exists)."""

    def __init__(self, message: str, *, http: int | None = None, code: int | None = None,
                 exists: bool = False) -> None:
        super().__init__(message, http=http, code=code)
        self.exists = exists


class OverConcurrency(KlingError):
    """A create was refused with 1303 (over the account's concurrency): nothing was created;
    run fewer tasks at once and try again later."""


class TimedOut(KlingError):
    """The call's deadline passed (a query, a list or a download)."""


class Stopped(Exception):
    """The run was asked to stop (Ctrl-C or an account error elsewhere)."""


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with full jitter: the nth wait is random in [0, min(cap, base*2^n)]."""

    base: float = 1.0
    cap: float = 60.0
    attempts: int = 8

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        if retry_after is not None and math.isfinite(retry_after):
            return min(max(retry_after, 0.0), self.cap)
        return random.uniform(0, min(self.cap, self.base * 2**attempt))

    def lag(self, attempt: int) -> float:
        """A wait for a lookup that may lag a create: never near zero, unlike `delay`."""
        return min(self.cap, self.base * 2.0**attempt) * random.uniform(0.5, 1.0)


def retry_after(response: httpx.Response) -> float | None:
    """Retry-After in seconds if it is usable: a finite number >= 0, or an HTTP date in the
    future. Anything else (nan, inf, negative, garbage, the past) is ignored."""
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
        return seconds if seconds > 0 else None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


@dataclass(frozen=True)
class _Reply:
    """A Kling reply: code 0 with `data` validated, or a code of kling.ERRORS."""

    http: int
    code: int
    message: str  # redacted
    data: Any = None
    retry_after: float | None = None
    token: str = field(default="", repr=False)  # the token the request carried

    def describe(self) -> str:
        return f"{self.message} (HTTP {self.http}, code {self.code})"


@dataclass(frozen=True)
class _Unknown:
    """An answer that is not a Kling reply, or none at all: what happened is not known."""

    why: str  # safe to show
    sent: bool = True  # False only when the request surely never left (connect failed)
    timed_out: bool = False
    retry_after: float | None = None


class _Late(Exception):
    """The deadline passed while an answer was being read."""


class _ShortDownload(Exception):
    """A download that ended early or hit a server error: worth another try."""

    def __init__(self, why: str, retry_after: float | None = None) -> None:
        super().__init__(why)
        self.retry_after = retry_after


def _passed(deadline: float | None) -> bool:
    return deadline is not None and time.monotonic() >= deadline


class _DeadlineStream(httpcore.NetworkStream):
    """A connection whose every read and write waits at most until the deadline of the request
    its thread is making (None: the timeout httpx asks for alone)."""

    def __init__(self, inner: httpcore.NetworkStream, deadlines: threading.local) -> None:
        self._inner, self._deadlines = inner, deadlines

    def _wait(self, timeout: float | None, late: type[Exception]) -> float | None:
        deadline: float | None = getattr(self._deadlines, "at", None)
        if deadline is None:
            return timeout
        left = deadline - time.monotonic()
        if left <= 0:
            raise late("the request's deadline passed")
        return left if timeout is None else min(timeout, left)

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, self._wait(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, self._wait(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context: Any, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        return _DeadlineStream(self._inner.start_tls(ssl_context, server_hostname,
                                                     self._wait(timeout, httpcore.ConnectTimeout)), self._deadlines)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    def __init__(self, inner: httpcore.NetworkBackend, deadlines: threading.local) -> None:
        self._inner, self._deadlines = inner, deadlines

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Any = None) -> httpcore.NetworkStream:
        return _DeadlineStream(self._inner.connect_tcp(host, port, timeout, local_address, socket_options),
                               self._deadlines)

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Any = None) -> httpcore.NetworkStream:
        return _DeadlineStream(self._inner.connect_unix_socket(path, timeout, socket_options), self._deadlines)

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class _DeadlineTransport(httpx.HTTPTransport):
    """httpx's own transport, its connections held to each request's deadline (_DeadlineStream).
    httpx takes no network backend, so its pool's is wrapped; the dripping-headers tests of
    tests/test_run_paid_once_after_edits.py fail if a new httpx moves it."""

    def __init__(self, deadlines: threading.local) -> None:
        super().__init__()
        pool = self._pool
        pool._network_backend = _DeadlineBackend(pool._network_backend, deadlines)


def _own(task: bodies.Task, external: object) -> bool:
    """A task answered for a request sent with `external` is that request's: it names no other
    external_task_id (an answer that names none is taken at its word)."""
    echoed = task.task_info.external_task_id
    return not isinstance(external, str) or echoed is None or echoed == external


_TAKEN = ("the id `{}` already names a task at Kling, made by another request (an earlier body of "
          "this shot, another shot, or another shot list): its video is not this body's; give the "
          "shot a new `id`, or remove it (shotlang then makes one per body and take)")


def _says_duplicate(message: str) -> bool:
    lowered = message.lower()
    return all(word in lowered for word in kling.DUPLICATE_MESSAGE_WORDS)


class Signer(Protocol):
    """What signs a client's requests and makes what servers say safe to keep: Kling's tokens
    (auth.TokenSource), fal's key (fal._KeySource)."""

    def token(self) -> str: ...

    def refresh(self, stale: str) -> None: ...

    def redact(self, text: str, limit: int | None = ...) -> str: ...


class Retry(NamedTuple):
    """A wait before another try, as it happens: for a progress display (network trouble is
    never silent). `why` is safe to show."""

    host: str
    why: str
    attempt: int  # the try about to be made: 2 for the first retry
    attempts: int  # at most
    wait: float  # seconds


class KlingClient:
    def __init__(
        self,
        base_url: str,
        tokens: Signer,
        *,
        backoff: Backoff = Backoff(),
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
        stop: threading.Event | None = None,
        on_retry: Callable[[Retry], None] | None = None,
    ) -> None:
        self._on_retry = on_retry
        self._tokens = tokens
        self._backoff = backoff
        self._timeout = timeout
        self._stop = stop or threading.Event()
        # The deadline of the request this thread is making: every socket read and write waits
        # at most until it, so an answer that drips (its headers too) cannot outlast it.
        self._deadlines = threading.local()
        if transport is None:
            transport = _DeadlineTransport(self._deadlines)
        self._http = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout, transport=transport,
                                  headers={"User-Agent": USER_AGENT}, follow_redirects=False)
        self._host = self._http.base_url.host or base_url
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

    def create(self, endpoint: str, body: dict[str, Any], *, maybe_sent: bool = False,
               deadline: float | None = None, adopt: bool = True) -> bodies.Task:
        """Create a task, or return the one its external_task_id already names.

        Raises AuthError, AccountError, ShotError or OverConcurrency only when a Kling reply
        refused the create (nothing was created), GaveUp or TimedOut only when no request can
        have reached the API, and CreateUnknown when one may have and its outcome could not be
        learnt. `maybe_sent`: an earlier process may have sent this create; it is looked up
        first and only sent if the API has no such task. `adopt=False`: the id is the caller's
        own (a writer's `id`), so a task it already names, that no attempt of this create can
        have made, is another request's: refused (ShotError), never taken for this one.
        """
        self._check_endpoint(endpoint)
        external = body.get("external_task_id")
        if external is not None and not self._is_id(external):
            raise ShotError("the external_task_id is not an id shotlang sends to the API")
        uncertain = maybe_sent  # may a request of this create have created the task?
        if maybe_sent:
            if not isinstance(external, str):
                raise CreateUnknown("an earlier create may have been sent, and with no "
                                    "external_task_id it cannot be looked up")
            found = self._look_up(endpoint, external, deadline, "resuming a create that may have been sent")
            if found is not None:
                return found
        refreshed = False
        rounds = 0
        try:
            while True:
                answer = self._exchange("POST", endpoint, self._task, body=body, deadline=deadline)
                if isinstance(answer, _Reply):
                    if answer.code == 0:
                        task: bodies.Task = answer.data
                        if isinstance(external, str) and task.task_info.external_task_id is None:
                            # An answer that names no external id: whose task it is, the API
                            # says when asked by this create's own id.
                            uncertain = True
                            why = f"the create's answer ({task.task_id}) names no external id"
                            found = self._look_up(endpoint, external, deadline, why)
                            if found is not None:
                                return found
                            raise CreateUnknown(f"{why}, and looking this shot's task up did not find it")
                        if _own(task, external):
                            return task
                        # An answer about another task (its external_task_id is not the one
                        # sent): never this shot's. Whether this create made one is unknown.
                        uncertain = True
                        why = (f"the create's answer names another task ({task.task_id}, external id "
                               f"{task.task_info.external_task_id})")
                        assert isinstance(external, str)  # _own holds for a create without one
                        found = self._look_up(endpoint, external, deadline, why)
                        if found is not None and _own(found, external):
                            return found
                        raise CreateUnknown(f"{why}, and looking up this shot's own task did not find it")
                    action = kling.error_action(answer.http, answer.code)
                    if action is kling.ErrorAction.REFRESH_TOKEN and not refreshed:
                        self._tokens.refresh(answer.token)
                        refreshed = True
                        continue
                    if action is kling.ErrorAction.REFRESH_TOKEN:
                        raise AuthError(f"the API refused the credentials: {answer.describe()}",
                                        http=answer.http, code=answer.code)
                    if action is kling.ErrorAction.STOP_RUN:
                        raise AccountError(answer.describe(), http=answer.http, code=answer.code)
                    if action is kling.ErrorAction.WAIT_AND_RETRY:
                        raise OverConcurrency(answer.describe(), http=answer.http, code=answer.code)
                    if answer.code == kling.DUPLICATE_EXTERNAL_ID_CODE and isinstance(external, str) \
                            and _says_duplicate(answer.message):
                        # The id is taken, so the task exists: find it, never make another.
                        if not adopt and not uncertain:
                            raise ShotError(_TAKEN.format(external), http=answer.http, code=answer.code)
                        why = f"the API says external_task_id {external} exists ({answer.describe()})"
                        found = self._look_up(endpoint, external, deadline, why, exists=True)
                        if found is not None:
                            return found
                        raise CreateUnknown(f"{why}, but looking it up did not find it",
                                            http=answer.http, code=answer.code, exists=True)
                    refused = action is kling.ErrorAction.FAIL_SHOT
                    if refused and answer.code == kling.DUPLICATE_EXTERNAL_ID_CODE and not uncertain \
                            and isinstance(external, str):
                        # 1201 is also the duplicate-id code, whatever its wording: if the id is
                        # taken the task exists, so look before calling this a refusal. This create
                        # is the first that may have made it, so one quiet look is enough: the
                        # refusal is said at once, never as network trouble.
                        found = self._look_up(endpoint, external, deadline, answer.describe(), tries=1)
                        if found is not None and not adopt:
                            raise ShotError(_TAKEN.format(external), http=answer.http, code=answer.code)
                        if found is not None:
                            return found
                    if refused and not (answer.code == kling.DUPLICATE_EXTERNAL_ID_CODE and uncertain):
                        raise ShotError(answer.describe(), http=answer.http, code=answer.code)
                    # 1302, 5000-5002, or a 1201 after an attempt that may have created the task.
                    why, wait_hint = answer.describe(), answer.retry_after
                elif not answer.sent:
                    # Nothing reached the API this time: simply try again (or say nothing was made).
                    rounds += 1
                    failure: type[KlingError] = CreateUnknown if uncertain else (
                        TimedOut if answer.timed_out else GaveUp)
                    if answer.timed_out or rounds >= self._backoff.attempts:
                        raise failure(f"gave up after {rounds} tries: {answer.why}")
                    self._pause_or(self._backoff.delay(rounds - 1, answer.retry_after), deadline, rounds + 1,
                                   answer.why, failure)
                    continue
                else:
                    why, wait_hint = answer.why, answer.retry_after
                # The create may have reached the API: look it up; send it again (same id) only if
                # the API has no such task. A reused id is refused with 1201, so this never pays twice.
                uncertain = True
                if not isinstance(external, str):
                    raise CreateUnknown(f"the create's outcome is unknown ({why}) and with no "
                                        "external_task_id it cannot be looked up")
                found = self._look_up(endpoint, external, deadline, why)
                if found is not None:
                    return found
                rounds += 1
                if rounds >= self._backoff.attempts:
                    raise CreateUnknown(f"gave up after {rounds} tries: {why}")
                self._pause_or(self._backoff.delay(rounds - 1, wait_hint), deadline, rounds + 1, why,
                               CreateUnknown)
        except (AuthError, AccountError, ShotError, OverConcurrency) as refusal:
            # This answer refused the create; an earlier attempt whose outcome was unknown may
            # still have made the task, and the caller must not take "refused" for "not made".
            refusal.maybe_created = uncertain
            raise


    def query(self, endpoint: str, task_or_external_id: str, *,
              deadline: float | None = None) -> bodies.Task | None:
        """One task by its task_id or external_task_id; None if the API says it has no such task."""
        self._check_endpoint(endpoint)
        if not self._is_id(task_or_external_id):
            raise ShotError("refusing to query an id that is not a Kling task id")
        path = f"{endpoint}/{quote(task_or_external_id, safe='=')}"

        def the_one_asked(data: Any) -> bodies.Task:
            # An answer about another task is no answer (read as garbled: asked again); its
            # video must never become this shot's.
            found = self._task(data)
            echoed = found.task_info.external_task_id
            if found.task_id != task_or_external_id and echoed not in (None, task_or_external_id):
                raise ValueError(f"an answer about another task ({found.task_id})")
            return found

        try:
            task: bodies.Task = self._get(path, the_one_asked, deadline=deadline,
                                          what=f"looking up task {task_or_external_id}")
        except ShotError as e:
            if e.code in kling.NOT_FOUND_CODES:  # only a Kling reply raises ShotError here
                return None
            raise
        return task

    def list(self, endpoint: str, page: int = 1, size: int = 30, *,
             deadline: float | None = None) -> list[bodies.Task]:
        self._check_endpoint(endpoint)
        tasks: builtins.list[bodies.Task] = self._get(endpoint, self._tasks, params={"pageNum": page, "pageSize": size},
                                             deadline=deadline, what="listing tasks")
        return tasks

    # --- the pieces of a call --------------------------------------------------------------

    @staticmethod
    def _check_endpoint(endpoint: str) -> None:
        # The token only ever goes to the API's own paths, whatever a state file says.
        if endpoint not in kling.TASK_PATHS:
            raise ShotError("refusing to send a request to an address that is not a Kling endpoint")

    @staticmethod
    def _is_id(value: object) -> bool:
        return isinstance(value, str) and re.fullmatch(kling.ID_PATTERN, value) is not None

    def _task(self, data: Any) -> bodies.Task:
        """`data` as a task, its server texts redacted; ValueError if it is not one."""
        task = bodies.Task.model_validate(data)
        if not self._is_id(task.task_id):
            raise ValueError("a task id shotlang cannot use")
        update: dict[str, Any] = {}
        if task.task_status_msg is not None:
            update["task_status_msg"] = self._tokens.redact(task.task_status_msg)
        if task.task_status not in kling.TASK_STATUSES:
            update["task_status"] = self._tokens.redact(task.task_status)
        if isinstance(task.final_unit_deduction, str):  # shown and stored: a server may echo a token anywhere
            update["final_unit_deduction"] = self._tokens.redact(task.final_unit_deduction)
        if task.task_result is not None and task.task_result.videos:
            # A video address that carries a token is never fetched with it: the token would go
            # to the video's host. Redacted, the address is kept whole otherwise.
            videos = [v.model_copy(update={"url": self._tokens.redact(v.url, limit=None),
                                           "id": self._tokens.redact(v.id)}) for v in task.task_result.videos]
            update["task_result"] = task.task_result.model_copy(update={"videos": videos})
        return task.model_copy(update=update) if update else task

    def _tasks(self, data: Any) -> builtins.list[bodies.Task]:
        if data is None:
            return []
        if not isinstance(data, list):
            raise ValueError("not a list of tasks")
        return [self._task(item) for item in data]

    def _get(self, path: str, parse: Callable[[Any], Any], *, params: dict[str, Any] | None = None,
             deadline: float | None, what: str) -> Any:
        """A GET with the error table applied: unknown answers and 'retry' replies are retried."""
        refreshed = False
        attempt = 0
        while True:
            answer, attempt = self._reply_to_get(path, parse, attempt, params=params, deadline=deadline, what=what)
            if answer.code == 0:
                return answer.data
            action = kling.error_action(answer.http, answer.code)
            if action is kling.ErrorAction.REFRESH_TOKEN and not refreshed:
                self._tokens.refresh(answer.token)
                refreshed = True
            elif action is kling.ErrorAction.REFRESH_TOKEN:
                raise AuthError(f"the API refused the credentials: {answer.describe()}",
                                http=answer.http, code=answer.code)
            elif action is kling.ErrorAction.STOP_RUN:
                raise AccountError(answer.describe(), http=answer.http, code=answer.code)
            elif action in (kling.ErrorAction.RETRY, kling.ErrorAction.WAIT_AND_RETRY):
                attempt = self._retry(attempt, answer.describe(), answer.retry_after, deadline, what)
            else:
                raise ShotError(answer.describe(), http=answer.http, code=answer.code)

    def _reply_to_get(self, path: str, parse: Callable[[Any], Any], attempt: int, *,
                      params: dict[str, Any] | None = None, deadline: float | None, what: str) -> tuple[_Reply, int]:
        """A GET until an answer can be read (an unknown one is asked again, with backoff): the
        reply, and the tries made so far (`attempt` before it)."""
        while True:
            answer = self._exchange("GET", path, parse, params=params, deadline=deadline)
            if isinstance(answer, _Reply):
                return answer, attempt
            if answer.timed_out:
                raise TimedOut(f"{what}: the deadline passed ({answer.why})")
            attempt = self._retry(attempt, answer.why, answer.retry_after, deadline, what)

    def _exchange(self, method: str, path: str, parse: Callable[[Any], Any], *,
                  body: dict[str, Any] | None = None, params: dict[str, Any] | None = None,
                  deadline: float | None) -> _Reply | _Unknown:
        """One request and its answer, classified. The answer is streamed so that the deadline,
        the stop event and the size cap are checked as it arrives (a slow drip cannot hang)."""
        if self._stop.is_set():
            raise Stopped
        timeout = self._timeout_until(deadline)
        if timeout is None:
            return _Unknown(f"the deadline passed before a request to {self._host}", sent=False, timed_out=True)
        token = self._tokens.token()
        headers = {"Authorization": self._authorization(token)}
        self._deadlines.at = deadline
        try:
            with self._http.stream(method, path, json=body, params=params, headers=headers,
                                   timeout=timeout) as response:
                content = bytearray()
                for chunk in self._chunks(response, deadline):
                    content += chunk
                    if len(content) > kling.RESPONSE_MAX_BYTES:
                        return _Unknown(f"the answer from {self._host} is over "
                                        f"{kling.RESPONSE_MAX_BYTES:,} bytes")
                return self._classify(response, bytes(content), parse, token)
        except _Late:
            return _Unknown(f"the answer from {self._host} was still arriving", timed_out=True)
        except httpx.ConnectError as e:
            return _Unknown(f"cannot reach {self._host}: {type(e).__name__}", sent=False)
        except httpx.RequestError as e:  # dropped, reset, timed out, undecodable: after sending
            return _Unknown(f"network error with {self._host}: {type(e).__name__}", timed_out=_passed(deadline))
        finally:
            self._deadlines.at = None

    @staticmethod
    def _authorization(token: str) -> str:
        return f"Bearer {token}"

    def _classify(self, response: httpx.Response, content: bytes, parse: Callable[[Any], Any],
                  token: str) -> _Reply | _Unknown:
        status = response.status_code
        wait_hint = retry_after(response)

        def unknown(detail: str) -> _Unknown:
            reason = self._tokens.redact(response.reason_phrase)
            return _Unknown(f"HTTP {status}{' ' + reason if reason else ''} from {self._host} is not "
                            f"a Kling reply ({detail})", retry_after=wait_hint)

        if not content.strip():
            return unknown("an empty body")
        try:
            raw = json.loads(content)
        except (ValueError, RecursionError):
            return unknown("not JSON, or cut short")
        if not isinstance(raw, dict) or type(raw.get("code")) is not int:
            return unknown("no int code")
        try:
            envelope = bodies.Envelope.model_validate(raw)
        except ValidationError:
            return unknown("not the API's envelope")
        if envelope.code == 0:
            if status != 200:
                return unknown("code 0 on an error status")
            try:
                data = parse(envelope.data)
            except (ValidationError, ValueError):
                return unknown("data shotlang cannot read")
            return _Reply(status, 0, "", data, token=token)
        if envelope.code not in kling.ERRORS:
            return unknown(f"unknown code {envelope.code}")
        message = self._tokens.redact(envelope.message or response.reason_phrase)
        return _Reply(status, envelope.code, message, retry_after=wait_hint, token=token)

    def _chunks(self, response: httpx.Response, deadline: float | None) -> Iterator[bytes]:
        """The answer's bytes, checking the stop event and the deadline after each chunk."""
        for chunk in response.iter_bytes():
            if self._stop.is_set():
                raise Stopped
            if _passed(deadline):
                raise _Late
            yield chunk

    def _timeout_until(self, deadline: float | None) -> httpx.Timeout | None:
        """httpx's timeout for one request: at most the time left (None: none left)."""
        if deadline is None:
            return httpx.Timeout(self._timeout)
        left = deadline - time.monotonic()
        return httpx.Timeout(min(self._timeout, left)) if left > 0 else None

    def _retry(self, attempt: int, why: str, wait_hint: float | None, deadline: float | None,
               what: str, host: str | None = None) -> int:
        if attempt + 1 >= self._backoff.attempts:
            raise GaveUp(f"{what}: gave up after {attempt + 1} tries: {why}")
        self._pause_or(self._backoff.delay(attempt, wait_hint), deadline, attempt + 2, f"{what}: {why}", TimedOut,
                       host=host)
        return attempt + 1

    def _pause_or(self, seconds: float, deadline: float | None, attempt: int, why: str,
                  failure: type[KlingError], attempts: int | None = None, host: str | None = None) -> None:
        """Wait before try number `attempt`, or raise `failure` now if the deadline would pass
        meanwhile; says so to on_retry first."""
        if deadline is not None and time.monotonic() + seconds >= deadline:
            raise failure(f"the deadline passed: {why}")
        if self._on_retry is not None:
            self._on_retry(Retry(host or self._host, why, attempt, attempts or self._backoff.attempts, seconds))
        self.wait(seconds)

    def _look_up(self, endpoint: str, external: str, deadline: float | None, why: str, *,
                 exists: bool = False, tries: int = LOOKUP_TRIES) -> bodies.Task | None:
        """The task of an uncertain create, or None if the API says (`tries` times, since a
        lookup can lag the create) it has none. Any other outcome raises CreateUnknown."""
        for attempt in range(tries):
            try:
                task = self.query(endpoint, external, deadline=deadline)
            except KlingError as e:
                raise CreateUnknown(f"{why}; looking the task up failed: {e.message}",
                                    http=e.http, code=e.code, exists=exists) from None
            if task is not None and _own(task, external):
                return task
            if task is not None:
                raise CreateUnknown(f"{why}; looking the task up by {external} answered another task "
                                    f"({task.task_id})", exists=exists)
            if attempt + 1 < tries:
                self._pause_or(self._backoff.lag(attempt), deadline, attempt + 2, f"looking the task up: {why}",
                               CreateUnknown, tries)
        return None

    # --- downloads -------------------------------------------------------------------------

    def download(self, url: str, target: Path, *, max_bytes: int,
                 deadline: float | None = None) -> tuple[int, str]:
        """Stream a result video to `target` atomically; returns its size and sha256 (hex).

        The download is kept only if the server said 200, sent as many bytes as it declared,
        stayed under `max_bytes`, and the file starts like an MP4. A download cut short is
        retried from the start; a bad one never replaces a good file. Errors writing the file
        (OSError) are raised as they are.
        """
        try:
            parsed = httpx.URL(url)
        except httpx.InvalidURL:
            raise ShotError("the video's address is not a valid URL") from None
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise ShotError("the video's address is not an http(s) URL")
        host = parsed.host
        attempt = 0
        while True:
            wait_hint = None
            try:
                return self._download_once(url, target, max_bytes, deadline)
            except httpx.TooManyRedirects:
                raise ShotError(f"the video's address at {host} redirects in a loop") from None
            except (httpx.UnsupportedProtocol, httpx.InvalidURL):
                raise ShotError(f"the video's address at {host} redirects to an address that "
                                "cannot be fetched") from None
            except _Late:
                raise TimedOut(f"downloading the video from {host}: the deadline passed") from None
            except httpx.ConnectError as e:
                why = f"cannot reach {host}: {type(e).__name__}"
            except (httpx.TransportError, httpx.DecodingError) as e:
                if _passed(deadline):
                    raise TimedOut(f"downloading the video from {host}: the deadline passed") from None
                why = f"network error with {host}: {type(e).__name__}"
            except _ShortDownload as e:
                why, wait_hint = f"download from {host} failed: {e}", e.retry_after
            attempt = self._retry(attempt, why, wait_hint, deadline, "downloading the video", host)

    def _download_once(self, url: str, target: Path, max_bytes: int,
                       deadline: float | None) -> tuple[int, str]:
        if self._stop.is_set():
            raise Stopped
        timeout = self._timeout_until(deadline)
        if timeout is None:
            raise _Late
        self._deadlines.at = deadline
        try:
            return self._download_stream(url, target, max_bytes, deadline, timeout)
        except httpx.TimeoutException:
            if _passed(deadline):
                raise _Late from None
            raise
        finally:
            self._deadlines.at = None

    def _download_stream(self, url: str, target: Path, max_bytes: int, deadline: float | None,
                         timeout: httpx.Timeout) -> tuple[int, str]:
        with self._downloads.stream("GET", url, timeout=timeout) as response:
            if response.status_code >= 500 or response.status_code == 429:
                raise _ShortDownload(f"HTTP {response.status_code}", retry_after(response))
            if response.status_code != 200:
                raise ShotError(f"the video could not be downloaded (HTTP {response.status_code})",
                                http=response.status_code)
            declared = response.headers.get("content-length")
            expected = int(declared) if declared and declared.isdigit() else None
            if expected is not None and expected > max_bytes:
                raise ShotError(f"the video is {expected:,} bytes, over the {max_bytes:,} byte cap")
            size = 0
            head = b""  # the first MP4_HEAD bytes, however they arrive
            digest = hashlib.sha256()
            with atomic_file(target) as f:
                for chunk in self._chunks(response, deadline):
                    if len(head) < MP4_HEAD:
                        head += chunk[: MP4_HEAD - len(head)]
                        if len(head) == MP4_HEAD and head[4:8] != MP4_BOX:
                            raise ShotError("the downloaded file is not an MP4 video")
                    size += len(chunk)
                    if size > max_bytes:
                        raise ShotError(f"the video is over the {max_bytes:,} byte cap")
                    f.write(chunk)
                    digest.update(chunk)
                if expected is not None and size != expected:
                    raise _ShortDownload(f"got {size:,} of {expected:,} bytes")
                if len(head) < MP4_HEAD:
                    raise ShotError("the downloaded file is not an MP4 video")
            return size, digest.hexdigest()
