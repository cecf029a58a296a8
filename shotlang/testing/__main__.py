"""`python -m shotlang.testing`: the local Kling server (or, with --fal, fal's) on its own, until Ctrl-C."""

from __future__ import annotations

import contextlib
import sys

from .fal import FakeFal
from .server import FakeKling
from .videos import NoEncoder


def main() -> None:
    """Run the fake API until Ctrl-C:
    `python -m shotlang.testing [--fal] [--port N] [--task-seconds S | --polls N] [--max-running N]
    [--models FOLDER] [--real-videos]`."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m shotlang.testing", description=main.__doc__)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--fal", action="store_true",
                        help="speak fal's queue API (and its platform API's listing and prices) for the Kling "
                             "apps fal hosts, instead of Kling's own API")
    pace = parser.add_mutually_exclusive_group()
    pace.add_argument("--task-seconds", type=float, default=None, help="each task takes S seconds (default 5)")
    pace.add_argument("--polls", type=int, default=None,
                      help="each task ends at the N-th query or list that reports it")
    parser.add_argument("--max-running", type=int, default=None,
                        help="tasks the account runs at once; more creates are refused 429/1303 (with "
                             "--fal: wait IN_QUEUE)")
    parser.add_argument("--official-only", action="store_true",
                        help="take only what Kling's own capability map offers, and refuse the rest as the "
                             "API would (400, 1201), where shotlang's matrix believes another source")
    parser.add_argument("--models", metavar="FOLDER", default=None,
                        help="take the capability matrix that applies to shot lists in FOLDER (its "
                             "shotlang-models.toml and the user's models.toml), as shotlang does")
    parser.add_argument("--real-videos", action="store_true",
                        help="serve each task a real MP4 of its own look (a few frames of H.264; needs PyAV, "
                             "the `frames` extra) instead of a tiny placeholder")
    args = parser.parse_args()
    if args.fal and (args.official_only or args.models is not None):
        parser.error("--official-only and --models read Kling's capability matrix: not with --fal")
    seconds = 5.0 if args.task_seconds is None and args.polls is None else args.task_seconds
    rows = None
    if args.models is not None:
        from pathlib import Path

        from shotlang.compiler.models import for_folder  # the data only, as by default
        from shotlang.compiler.models import rows as matrix_rows

        matrix, problems = for_folder(Path(args.models))
        if problems:
            sys.exit(f"the models files for {args.models} have errors: run `shotlang models {args.models}`")
        rows = list(matrix_rows(matrix))
    if args.fal:
        _serve_fal(args.port, seconds, args.polls, args.max_running, args.real_videos)
        return
    try:
        server = FakeKling(task_seconds=seconds, polls=args.polls, port=args.port, max_running=args.max_running,
                           models=rows, official_only=args.official_only, real_videos=args.real_videos)
    except NoEncoder as e:
        sys.exit(str(e))
    print(f"fake Kling API on {server.url}")
    print(f"  export KLING_API_BASE={server.url}")
    print(f"  export KLING_ACCESS_KEY={server.access_key}")
    print(f"  export KLING_SECRET_KEY={server.secret_key}")
    with contextlib.suppress(KeyboardInterrupt):
        server._server.serve_forever()


def _serve_fal(port: int, seconds: float | None, polls: int | None, max_running: int | None,
               real_videos: bool) -> None:
    try:
        server = FakeFal(task_seconds=seconds, polls=polls, port=port, max_running=max_running,
                         real_videos=real_videos)
    except NoEncoder as e:
        sys.exit(str(e))
    print(f"fake fal API on {server.url}")
    print(f"  export FAL_KEY={server.key}")
    print(f"  export FAL_API_BASE={server.url}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server._server.serve_forever()


if __name__ == "__main__":
    main()
