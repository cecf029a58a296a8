"""fal's queue: the run engine's second way to reach Kling's models (docs/running.md, "Backends").

The engine (runner.py) is the same for both ways; this is what differs: how a request is signed,
sent, asked about, read and found again. What fal documents, and what it does not, is in
docs/kling-mapping.md ("fal") with its sources. In short (fal's Inference API reference, its
queue and platform API pages, and fal-client 1.0.3's source; copies read 2026-12-07):

- A request is sent once: POST {queue}/{app id} with `Authorization: Key <key>`; the answer
  names its request_id. fal keeps no id of the client's own and takes no idempotency key, so a
  request is not sent again when its answer is lost (fal-client would: it retries a submit after
  a read timeout or a dropped connection, and each retry is a request paid for).
- Its status and result are at {queue}/{owner}/{app}/requests/{id}/status and .../{id}: the owner
  and the app only, never the app's path (as fal-client's from_request_id builds them).
- It is IN_QUEUE, IN_PROGRESS, then COMPLETED; a request that failed is COMPLETED with `error`.
- fal never refuses a request for the account's concurrency: it waits in the queue.
- The one way to find a request whose answer was lost is the platform API's listing of an app's
  requests (GET {platform}/v1/models/requests/by-endpoint, `expand=payloads` for the input each
  was sent), which shows a request once it has ended.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Collection
from typing import Any
from urllib.parse import quote

import httpx

from ..compiler import bodies
from ..compiler.kling import ID_PATTERN
from ..compiler.language import FAL_PLATFORM_BASE, FAL_QUEUE_BASE
from ..config import FalKey
from .auth import REDACTED_MAX_CHARS, redact
from .client import (
    AccountError,
    AuthError,
    Backoff,
    CreateUnknown,
    GaveUp,
    KlingClient,
    OverConcurrency,
    Retry,
    ShotError,
    TimedOut,
    _Reply,
    _Unknown,
    retry_after,
)

# fal's Kling apps (the only ones shotlang sends to): `fal-ai/kling-video/<version>/<mode>/<kind>`.
# A state file's endpoint is checked against it before anything is sent, with the key, to it.
FAL_APP = re.compile(r"fal-ai/kling-video(?:/[a-z0-9][a-z0-9.-]*){1,4}")
STATUSES = {"IN_QUEUE": "submitted", "IN_PROGRESS": "processing"}  # and COMPLETED: succeed or failed
LISTING_PAGES = 5  # pages of 100 of an app's requests looked through for a lost one
NOT_RESUBMITTED = ("unknown, not resubmitted: fal takes no id of ours, so a request sent again would be another "
                   "one, paid for again. fal lists a request once it has ended: run again later to look for it; "
                   "if fal's dashboard (fal.ai/dashboard/requests) shows it was never made, `run --force` with "
                   "this shot's name sends it again")

# What the run knows of a request it sent (by the external id it gave it, which fal never sees):
# the request ids its records already hold, never taken for another; and how many records, this one
# included, sent a request of the same input and hold no id (the requests fal lists with that input
# and no record holds may be theirs, as many of them as there are: takes of a shot, or twin shots,
# send the same input).
Ledger = Callable[[str], tuple[Collection[str], int]]


class _KeySource:
    """The fal key as the client's token source: the same key always, and texts redacted of it."""

    def __init__(self, key: FalKey) -> None:
        self._key = key

    def __repr__(self) -> str:
        return "_KeySource(<hidden>)"

    def token(self) -> str:
        return self._key.key

    def refresh(self, stale: str) -> None:  # a key does not expire
        return None

    def redact(self, text: str, limit: int | None = REDACTED_MAX_CHARS) -> str:
        return redact(text, {self._key.key}, limit)


def platform_base(queue_base: str) -> str:
    """Where fal's platform API is: fal's own host beside fal's queue; a local server (a test,
    `python -m shotlang.testing --fal`) serves both."""
    return FAL_PLATFORM_BASE if queue_base.rstrip("/") == FAL_QUEUE_BASE else queue_base.rstrip("/")


def owner_app(app: str) -> str:
    """`fal-ai/kling-video` of `fal-ai/kling-video/v2.6/pro/text-to-video`: what status and result
    addresses are made of."""
    return "/".join(app.split("/")[:2])


class FalClient(KlingClient):
    """fal's queue, spoken as the engine speaks to Kling: create, query, list, download. A task is
    a fal request (its id the request_id); its status one of Kling's (submitted, processing,
    succeed, failed)."""

    def __init__(self, base_url: str, key: FalKey, *, platform: str | None = None, backoff: Backoff | None = None,
                 timeout: float = 30.0, transport: httpx.BaseTransport | None = None, stop: Any = None,
                 on_retry: Callable[[Retry], None] | None = None, ledger: Ledger | None = None) -> None:
        super().__init__(base_url, _KeySource(key), backoff=backoff or Backoff(), timeout=timeout,
                         transport=transport, stop=stop, on_retry=on_retry)
        self._platform = (platform or platform_base(base_url)).rstrip("/")
        self.ledger = ledger  # the run's (Runner sets it); without one, only what this client was told
        self._claims = threading.Lock()
        self._claimed: set[str] = set()  # request ids this client returned: each for one record only

    def _held(self, ext: str) -> tuple[set[str], int]:
        """Request ids no other request may be taken for, and how many records sent this input
        and hold no id (called with the claims' lock held)."""
        held, lost = self.ledger(ext) if self.ledger is not None and ext else ((), 1)
        return set(held) | self._claimed, max(1, lost)

    @staticmethod
    def _authorization(token: str) -> str:
        return f"Key {token}"

    @staticmethod
    def _check_endpoint(endpoint: str) -> None:
        # The key only ever goes to fal's Kling apps, whatever a state file says.
        if not FAL_APP.fullmatch(endpoint):
            raise ShotError("refusing to send a request to an address that is not one of fal's Kling apps")

    # --- the answers ------------------------------------------------------------------------

    def _classify(self, response: httpx.Response, content: bytes, parse: Callable[[Any], Any],
                  token: str) -> _Reply | _Unknown:
        status = response.status_code
        wait_hint = retry_after(response)
        reason = self._tokens.redact(response.reason_phrase)
        if status in (502, 503, 504) and "x-fal-request-id" not in response.headers:
            # fal's ingress, not its queue, answered: the request never reached fal (fal-client's
            # own reading of such answers, which it sends again).
            return _Unknown(f"HTTP {status}{' ' + reason if reason else ''} from {self._host}'s gateway",
                            sent=False, retry_after=wait_hint)
        try:
            raw = json.loads(content) if content.strip() else None
        except (ValueError, RecursionError):
            raw = None
        if not isinstance(raw, dict):
            return _Unknown(f"HTTP {status}{' ' + reason if reason else ''} from {self._host} is not a fal "
                            "answer (not a JSON object)", retry_after=wait_hint)
        if 200 <= status < 300:
            try:
                data = parse(raw)
            except (ValueError, TypeError, KeyError):
                return _Unknown(f"HTTP {status} from {self._host}: an answer shotlang cannot read")
            return _Reply(status, 0, "", data, token=token)
        return _Reply(status, status, self._tokens.redact(_detail(raw) or reason), retry_after=wait_hint, token=token)

    # --- requests ---------------------------------------------------------------------------

    def create(self, endpoint: str, body: dict[str, Any], *, maybe_sent: bool = False,
               deadline: float | None = None, adopt: bool = True) -> bodies.Task:
        """Send the request to fal's queue, once. Raises AuthError, AccountError, ShotError or
        OverConcurrency when fal refused it (nothing made), GaveUp or TimedOut when nothing can
        have reached fal, and CreateUnknown when it may have and fal's listing does not show
        it: never sent again. `maybe_sent`: an earlier run may have sent it; it is looked for,
        and never sent again."""
        self._check_endpoint(endpoint)
        payload = {k: v for k, v in body.items() if k != "external_task_id"}  # fal keeps no id of ours
        ext = str(body.get("external_task_id") or "")
        if maybe_sent:
            found = self._find_sent(endpoint, payload, ext, deadline, "an earlier run sent this request and did "
                                    "not learn its answer")
            if found is not None:
                return found
            raise CreateUnknown("an earlier run sent this request and did not learn its answer, and fal's "
                                "listing of the app's requests does not show it yet; " + NOT_RESUBMITTED)
        rounds = 0
        while True:
            answer = self._exchange("POST", f"/{endpoint}", _submitted, body=payload, deadline=deadline)
            if isinstance(answer, _Unknown) and not answer.sent:
                rounds += 1
                failure = TimedOut if answer.timed_out else GaveUp
                if answer.timed_out or rounds >= self._backoff.attempts:
                    raise failure(f"gave up after {rounds} tries: {answer.why}")
                self._pause_or(self._backoff.delay(rounds - 1, answer.retry_after), deadline, rounds + 1,
                               answer.why, failure)
                continue
            if isinstance(answer, _Reply) and answer.code == 0:
                request_id: str = answer.data
                with self._claims:
                    held, _ = self._held(ext)
                    if request_id not in held:
                        self._claimed.add(request_id)
                        return bodies.Task(task_id=request_id, task_status="submitted")
                # fal made a request and named it with an id another record holds: whichever
                # it is, it is not known to be this one's.
                raise CreateUnknown(f"fal answered the request with the id of another request ({request_id}); "
                                    "it was made, and which it is cannot be told; " + NOT_RESUBMITTED)
            if isinstance(answer, _Reply):
                said = f"fal refused the request: {answer.message} (HTTP {answer.http})"
                if answer.http in (401, 403):
                    raise AuthError(f"fal refused the key: {answer.message} (HTTP {answer.http})", http=answer.http)
                if answer.http == 402:
                    raise AccountError(said, http=answer.http)
                if answer.http == 429:
                    raise OverConcurrency(said, http=answer.http)
                if 400 <= answer.http < 500:
                    raise ShotError(said, http=answer.http)
                why = f"fal answered HTTP {answer.http} to the request ({answer.message})"
            else:
                why = answer.why
            # It may have reached fal's queue: look for it; never send it again.
            found = self._find_sent(endpoint, payload, ext, deadline, why)
            if found is not None:
                return found
            raise CreateUnknown(f"{why}; it may have been made; " + NOT_RESUBMITTED)

    def query(self, endpoint: str, task_or_external_id: str, *,
              deadline: float | None = None) -> bodies.Task | None:
        """The request `task_or_external_id` (a request_id) of the app `endpoint`; None if fal has
        no such request."""
        self._check_endpoint(endpoint)
        request_id = task_or_external_id
        if not self._is_id(request_id):
            raise ShotError("refusing to ask about an id that is not a fal request id")
        where = f"/{owner_app(endpoint)}/requests/{quote(request_id, safe='')}"
        status = self._fal_get(f"{where}/status", _status, deadline, f"asking about request {request_id}")
        if status is None:
            return None
        state = status.get("status")
        if state in STATUSES:
            return bodies.Task(task_id=request_id, task_status=STATUSES[state])
        if state != "COMPLETED":
            return bodies.Task(task_id=request_id, task_status=self._tokens.redact(str(state)))
        if status.get("error"):
            return bodies.Task(task_id=request_id, task_status="failed",
                               task_status_msg=self._tokens.redact(str(status["error"])))
        result = self._fal_get(where, _result, deadline, f"reading the result of request {request_id}", refused=True)
        if result is None:
            # Its status just said it is complete: the request exists, its result is not there
            # (yet). Not "no such request", which would have it made again and paid twice.
            raise GaveUp(f"fal says request {request_id} is complete, and its result is not found (HTTP 404); "
                         "it is looked at again")
        if isinstance(result, _Reply):  # the result is the request's error
            return bodies.Task(task_id=request_id, task_status="failed",
                               task_status_msg=f"{result.message} (HTTP {result.http})")
        video = result.get("video")
        url = video.get("url") if isinstance(video, dict) else None
        if not isinstance(url, str) or not url:
            return bodies.Task(task_id=request_id, task_status="failed",
                               task_status_msg="fal says the request is complete, and its result has no video")
        url = self._tokens.redact(url, limit=None)
        return bodies.Task(task_id=request_id, task_status="succeed",
                           task_result=bodies.TaskResult(videos=[bodies.VideoResult(url=url)]))

    def list(self, endpoint: str, page: int = 1, size: int = 30, *,
             deadline: float | None = None) -> list[bodies.Task]:
        """fal lists no requests that are still running: each is asked about alone."""
        return []

    # --- the pieces of a call ---------------------------------------------------------------

    def _fal_get(self, path: str, parse: Callable[[Any], Any], deadline: float | None, what: str, *,
                 refused: bool = False) -> Any:
        """A GET: its parsed answer; None if fal has no such thing (404); with `refused`, fal's
        other refusals as they are (a request's error is its result's answer)."""
        attempt = 0
        while True:
            answer, attempt = self._reply_to_get(path, parse, attempt, deadline=deadline, what=what)
            if answer.code == 0:
                return answer.data
            if answer.http in (401, 403):
                raise AuthError(f"fal refused the key: {answer.message} (HTTP {answer.http})", http=answer.http)
            if answer.http == 404:
                return None
            if answer.http == 429 or (answer.http >= 500 and not refused):
                attempt = self._retry(attempt, f"{answer.message} (HTTP {answer.http})", answer.retry_after,
                                      deadline, what)
                continue
            if refused:
                return answer
            raise ShotError(f"{what}: fal answered {answer.message} (HTTP {answer.http})", http=answer.http)

    def _find_sent(self, endpoint: str, payload: dict[str, Any], ext: str, deadline: float | None,
                   why: str) -> bodies.Task | None:
        """The request sent with `payload` to `endpoint`, as fal's listing of the app's requests
        shows it (the last 24 hours, input and all); None if it shows none. Requests of the same
        input that a record already holds are never taken (a take's twin sent the same input);
        if fal lists more such requests than records that sent that input and hold none, which
        is this one's cannot be told, and it stays unknown. A listing that cannot be read
        raises CreateUnknown."""
        url = f"{self._platform}/v1/models/requests/by-endpoint"
        cursor = None
        matching: list[dict[str, Any]] = []
        for _ in range(LISTING_PAGES):
            params: dict[str, Any] = {"endpoint_id": endpoint, "expand": "payloads", "limit": 100}
            if cursor:
                params["cursor"] = cursor
            answer = self._exchange("GET", url, _listing, params=params, deadline=deadline)
            if isinstance(answer, _Unknown) or answer.code != 0:
                said = answer.why if isinstance(answer, _Unknown) else f"{answer.message} (HTTP {answer.http})"
                raise CreateUnknown(f"{why}; looking for it in fal's listing failed: {said}; " + NOT_RESUBMITTED)
            items, cursor, more = answer.data
            matching += [item for item in items if _sent_with(item.get("json_input"), payload)]
            if not more or not cursor:
                break
        with self._claims:
            held, lost = self._held(ext)
            free: dict[str, dict[str, Any]] = {}
            for item in sorted(matching, key=lambda item: str(item.get("sent_at") or "")):
                request_id = item.get("request_id")
                if not self._is_id(request_id):
                    raise CreateUnknown(f"{why}; fal's listing names it with an id shotlang cannot use; "
                                        + NOT_RESUBMITTED)
                if str(request_id) not in held:
                    free.setdefault(str(request_id), item)
            if not free:
                return None
            if len(free) > lost:
                raise CreateUnknown(f"{why}; fal lists {len(free)} requests sent with this input that no record "
                                    f"holds ({', '.join(free)}), for {lost} record(s) that sent it: which is "
                                    "this one's cannot be told; " + NOT_RESUBMITTED)
            request_id = next(iter(free))
            self._claimed.add(request_id)
        found = self.query(endpoint, request_id, deadline=deadline)
        if found is None:
            raise CreateUnknown(f"{why}; fal's listing names request {request_id}, which its queue does "
                                "not know; " + NOT_RESUBMITTED)
        return found


def _detail(raw: dict[str, Any]) -> str:
    """fal's error text: `detail` (a text, or a list of {loc, msg, type}), else `error`."""
    detail = raw.get("detail", raw.get("error"))
    if isinstance(detail, list):
        parts = []
        for item in detail[:5]:
            if isinstance(item, dict):
                where = ".".join(str(x) for x in item.get("loc", ()) if x != "body")
                parts.append(f"{where}: {item.get('msg', item.get('type', ''))}" if where else str(item.get("msg", "")))
        return "; ".join(parts)
    return str(detail) if detail is not None else ""


def _submitted(raw: dict[str, Any]) -> str:
    request_id = raw.get("request_id")
    # The ids a state keeps (its records refuse any other, "." and ".." among them)
    if not isinstance(request_id, str) or not re.fullmatch(ID_PATTERN, request_id):
        raise ValueError("no request id")
    return request_id


def _status(raw: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(raw.get("status"), str):
        raise ValueError("no status")
    return raw


def _result(raw: dict[str, Any]) -> dict[str, Any]:
    return raw


def _listing(raw: dict[str, Any]) -> tuple[list[dict[str, Any]], str | None, bool]:
    items = raw.get("items")
    if not isinstance(items, list):
        raise ValueError("no items")
    cursor = raw.get("next_cursor")
    return ([item for item in items if isinstance(item, dict)], cursor if isinstance(cursor, str) else None,
            raw.get("has_more") is True)


def _sent_with(recorded: object, payload: dict[str, Any]) -> bool:
    """Whether fal's record of a request's input is `payload`: each field sent has its value
    there (fal may add the defaults it applied)."""
    return isinstance(recorded, dict) and all(recorded.get(k) == v for k, v in payload.items())
