"""`python -m shotlang`, and the `shotlang` console script.

Ctrl-C at any moment, even while the command's modules are still being imported, ends with
one line and exit 130, never a traceback.
"""

import os
import sys


def main() -> None:
    try:
        from .cli import run
    except KeyboardInterrupt:
        sys.stderr.write("shotlang: interrupted\n")
        sys.stderr.flush()
        os._exit(130)  # exits.INTERRUPTED, written out: nothing may be imported before this handler
    run()


if __name__ == "__main__":
    main()
