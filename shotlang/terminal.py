"""What may be shown of text that comes from elsewhere (a server, a state file): one rule, so
an escape sequence or a bidi override never reaches a terminal, whoever prints it."""

from __future__ import annotations

import re
import unicodedata


def printable(text: str) -> str:
    """`text` without control or format characters (escape sequences, bidi overrides, zero
    widths); every kind of white space as a plain space."""
    return "".join(" " if c.isspace() else c for c in text
                   if c.isspace() or unicodedata.category(c) not in ("Cc", "Cf"))


REDACTED = "<redacted>"
# Shapes of secrets a server may echo back: an Authorization value, and any JWT (base64url of
# '{"...' is 'eyJ...'), ours or not.
_SECRET_SHAPES = re.compile(r"\bBearer\s+\S+|eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*",
                            re.IGNORECASE)


def scrub(text: str) -> str:
    """Anything shaped like a bearer token or a JWT in `text` replaced by <redacted>: what the
    state file and the output hold, whatever field a server put it in."""
    return _SECRET_SHAPES.sub(REDACTED, text)


def install_hint(extra: str) -> str:
    """How to add an optional part of shotlang, wherever it was installed from: from an index
    by name, from a clone by its folder (`shotlang[lsp]` names nothing where shotlang is on no
    index)."""
    return f"pip install 'shotlang[{extra}]' (in a clone of shotlang: pip install '.[{extra}]')"
