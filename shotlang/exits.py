"""shotlang's exit codes: one row each, in one place. The constants the commands return, the
tables of docs/cli.md and docs/running.md and README's summary are all read from here
(`python -m shotlang.tools.docs` writes them; tests/test_docs.py fails while they differ).

The codes are stable: scripts may rely on them.
"""

from __future__ import annotations

from typing import NamedTuple


class Exit(NamedTuple):
    code: int
    meaning: str  # for every command (docs/cli.md)
    run: str  # what it means for `run` (docs/running.md); "" if run never ends so
    shown: str  # what it means for `plan` and `status`; "" if they never end so
    short: str  # README's summary


EXITS: dict[str, Exit] = {
    "ok": Exit(0, "done; the input has no errors (it may have warnings)",
               "every selected shot is done (now or before)", "shown", "clean (warnings allowed)"),
    "input": Exit(1, "the input has errors: diagnostics were printed, nothing was written; `fmt --check`: a file "
                     "is not in canonical form; `decompile`: something the shot list cannot say, listed (the rest "
                     "is written)",
                  "the shot list has errors; nothing was sent", "the shot list has errors", "errors in the input"),
    "usage": Exit(2, "usage or I/O error: a bad option, a file that cannot be read or written, an unknown code for "
                     "`explain`",
                  "usage or I/O error, or the estimate is over `--max-cost`, or a shot's own `id` names an earlier "
                  "request's task; nothing sent", "usage or I/O error", "usage or I/O error"),
    "auth": Exit(3, "`run`: no credentials, or the API refused them", "no credentials, or the API refused them", "",
                 "credentials"),
    "shots_failed": Exit(4, "`run`: some shots failed, or are pending (still generating, or an answer to be looked "
                            "up by the next run)",
                         "some shots failed or are pending (see the summary)", "", "some shots failed or pending"),
    "stopped": Exit(5, "`run`: the run stopped on an account problem (arrears, resource pack, IP policy)",
                    "the run stopped on an account problem (arrears, resource pack, IP policy)", "",
                    "account problem"),
    "local": Exit(6, "`run`: a local problem (the video or state folder cannot be written, a full disk); "
                     "submitting stopped",
                  "a local problem (folders that cannot be written, a full disk); nothing more was submitted", "",
                  "local problem: disk, permissions"),
    "busy": Exit(7, "`run`: another `shotlang run` holds the same shot list's state; nothing sent",
                 "another `shotlang run` holds the shot list's state; nothing sent", "",
                 "another run holds the file"),
    "interrupted": Exit(130, "`run`: interrupted (Ctrl-C); the state is saved",
                        "interrupted (Ctrl-C); the state is saved, run again to continue", "", "interrupted"),
    "terminated": Exit(143, "`run`: terminated (SIGTERM); the state is saved",
                       "terminated (SIGTERM); the state is saved, run again to continue", "", "terminated"),
}

OK, INPUT, USAGE = EXITS["ok"].code, EXITS["input"].code, EXITS["usage"].code
AUTH, SHOTS_FAILED, STOPPED = EXITS["auth"].code, EXITS["shots_failed"].code, EXITS["stopped"].code
LOCAL, BUSY = EXITS["local"].code, EXITS["busy"].code
INTERRUPTED, TERMINATED = EXITS["interrupted"].code, EXITS["terminated"].code
