"""A local Kling API for tests: a real HTTP server on 127.0.0.1 that speaks the API's contract.

    from shotlang.testing import FakeKling, Fault

    with FakeKling(polls=2, max_running=4) as kling:   # starts on a free port
        env = kling.env()                              # KLING_API_BASE and test keys
        kling.inject(Fault("error", on="create", http=429, code=1302, times=2))
        ...                                            # run your client against kling.url
        assert kling.stats.creates == 3                # tasks accepted (what an account pays)

It checks the JWT (HS256 with the test secret, iss, exp, nbf), validates bodies by the API's
rules (an unknown field, an image that does not decode or a simple camera config with more
than one non-zero field is refused 400/1201 with a message naming the field, as by the real
API; null reads as absent), refuses a reused external_task_id, moves each task from
submitted through processing to succeed, answers queries by task id or external id and lists
newest first, serves a small MP4 for each, and injects faults on demand. With `max_running`, a create while
that many tasks run is refused 429/1303, as an account over its concurrency. `stats` counts
what it saw and `timeline()` gives each task's (created, finished) times. `python -m
shotlang.testing` runs it on its own; see docs/running.md.

How a task moves on is the test's choice, so a test waits on nothing but its client:
- `polls=N`: by being looked at. The create answers `submitted`; each query or list that
  reports the task is one look; looks 1 to N-1 answer `processing`, the N-th and later the
  final status. A run that polls finishes as fast as it asks, the same way every time.
- `task_seconds=S` (the default, 0.5 s): by a clock, `processing` from S/3 after the create
  and final from S. The clock is `time.monotonic` unless `clock=` gives another, such as a
  `ManualClock` the test steps with `advance()`. Real time only where a test needs it (a
  timeout, a kill while shots are in flight, an account's limit over time). `spread=F` makes
  each task's time S × (1 ± up to F), drawn from a seeded generator (`seed=`), as real renders
  vary: the n-th task created takes the same time in every run.
- In either mode `Fault("hold")` keeps a task `processing` until `release()`: a run that is
  certainly mid-flight, however slow or fast the machine.
`created_at` and `updated_at` are the epoch milliseconds of the task's creation and of its
latest status change (on the server's clock), never of the query; `stamps_in_seconds=True`
writes them in seconds, as some servers do.

`FakeFal` (shotlang/testing/fal.py) is the same for fal's queue API and the Kling apps fal hosts:
`Authorization: Key`, submits validated by each app's schema, IN_QUEUE -> IN_PROGRESS ->
COMPLETED by polls or a clock, `max_running` that queues instead of refusing, the platform API's
request listing and prices, and faults (`FalFault`) of its own.
"""

from __future__ import annotations

from .fal import FakeFal, FalFault, FalStats
from .server import TEST_ACCESS_KEY, TEST_SECRET_KEY, VIDEO, FakeKling, Fault, FaultKind, ManualClock, Stats

__all__ = ["TEST_ACCESS_KEY", "TEST_SECRET_KEY", "VIDEO", "FakeFal", "FakeKling", "FalFault", "FalStats", "Fault",
           "FaultKind", "ManualClock", "Stats"]
