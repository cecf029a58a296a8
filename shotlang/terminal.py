"""What may be shown of text that comes from elsewhere (a server, a state file): one rule, so
an escape sequence or a bidi override never reaches a terminal, whoever prints it."""

from __future__ import annotations

import unicodedata


def printable(text: str) -> str:
    """`text` without control or format characters (escape sequences, bidi overrides, zero
    widths); every kind of white space as a plain space."""
    return "".join(" " if c.isspace() else c for c in text
                   if c.isspace() or unicodedata.category(c) not in ("Cc", "Cf"))
