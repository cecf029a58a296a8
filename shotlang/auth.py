"""Signing requests: the short-lived JWT the Kling API wants in every Authorization header."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import jwt

from . import kling
from .config import Credentials

# Make a new token this long before the old one expires, so no request carries a stale one.
REFRESH_MARGIN = 300


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

    def __repr__(self) -> str:
        return "TokenSource(<hidden>)"

    def token(self) -> str:
        with self._lock:
            now = self._clock()
            if self._token is None or now >= self._expires - REFRESH_MARGIN:
                self._token, self._expires = make_token(self._credentials, now)
            return self._token

    def refresh(self, stale: str) -> None:
        """The server refused `stale`: make a new one unless another thread already has."""
        with self._lock:
            if self._token == stale:
                self._token = None
