"""Signing requests: the short-lived JWT the Kling API wants in every Authorization header."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import jwt

from ..compiler import kling
from ..config import Credentials
from ..terminal import REDACTED, printable, scrub

# Make a new token this long before the old one expires, so no request carries a stale one.
REFRESH_MARGIN = 300
# Server text shown to a user or stored (messages, reasons, task status texts) is cut to this.
REDACTED_MAX_CHARS = 300


def make_token(credentials: Credentials, now: float) -> tuple[str, float]:
    """A token as the API documents it: HS256 with the secret key, iss = access key,
    exp = now + 30 min, nbf = now - 5 s. Returns it and its expiry time."""
    expires = int(now) + kling.TOKEN_LIFETIME
    claims = {"iss": credentials.access_key, "exp": expires, "nbf": int(now) - kling.TOKEN_NOT_BEFORE_SKEW}
    token = jwt.encode(claims, credentials.secret_key, algorithm="HS256", headers={"typ": "JWT"})
    return token, expires


class TokenSource:
    """Hands out a valid token, making a new one before the old expires, or when told the
    server refused it. Safe to share between threads."""

    def __init__(self, credentials: Credentials, clock: Callable[[], float] = time.time) -> None:
        self._credentials = credentials
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires = 0.0
        # Every token handed out, so an echo of any of them can be redacted.
        self._issued: set[str] = set()

    def __repr__(self) -> str:
        return "TokenSource(<hidden>)"

    def token(self) -> str:
        with self._lock:
            now = self._clock()
            if self._token is None or now >= self._expires - REFRESH_MARGIN:
                self._token, self._expires = make_token(self._credentials, now)
                self._issued.add(self._token)
            return self._token

    def refresh(self, stale: str) -> None:
        """The server refused `stale`: make a new one unless another thread already has."""
        with self._lock:
            if self._token == stale:
                self._token = None

    def redact(self, text: str, limit: int | None = REDACTED_MAX_CHARS) -> str:
        """`text` from a server made safe to show or store: every token this source issued, the
        keys, anything like a bearer token or a JWT replaced by <redacted>; control characters
        (terminal escapes) dropped; at most `limit` characters (None: a URL, kept whole)."""
        with self._lock:
            secrets = {*self._issued, self._credentials.access_key, self._credentials.secret_key}
        return redact(text, secrets, limit)


def redact(text: str, secrets: set[str], limit: int | None = REDACTED_MAX_CHARS) -> str:
    """`text` from a server made safe to show or store: each of `secrets`, and anything like a
    bearer token or a JWT, replaced by <redacted>; control characters dropped; at most `limit`
    characters (None: a URL, kept whole)."""
    # Controls go first, so that one spliced into an echoed secret cannot hide it.
    text = printable(text)
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    text = scrub(text)
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "\u2026"
    return text


