"""shotlang's language server (`shotlang lsp`), for editors: the diagnostics of `check` while
typing, completion, hover and formatting (docs/cli.md, "shotlang lsp").

    live.py       the check, kept up to date through edits (no protocol)
    words.py      what completion offers and hover says (no protocol)
    positions.py  offsets and the protocol's line/character positions
    server.py     the protocol, on pygls
    client.py     a small client over a real process, for the tests and the benchmark

pygls is an optional dependency (`pip install 'shotlang[lsp]'`): nothing else in shotlang
imports this package.
"""

from __future__ import annotations

from ...terminal import install_hint

INSTALL = install_hint("lsp")
# The packages the server stands on; their absence is a missing extra, not a bug.
NEEDS = ("pygls", "lsprotocol", "cattrs", "attrs")


class Unavailable(Exception):
    """pygls (or a package it needs) is not installed."""


def serve() -> int:
    """Run the server over standard input and output until the client says exit; the exit
    code (0 after a shutdown request, 1 if the client left without one)."""
    try:
        from .server import serve as run
    except ModuleNotFoundError as missing:
        if (missing.name or "").split(".")[0] in NEEDS:
            raise Unavailable(f"the language server needs pygls, which is not installed: {INSTALL}") from None
        raise
    return run()
