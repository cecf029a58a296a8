"""What a run left of one video, read the same way by the storyboard and the timeline.

From the run's state (state.py) and the videos' folder: whether the file there is the video the
run downloaded (a link or another file put in its place is not: state.video_matches), whether
the shot has changed since its render, and how long the video really runs (its MP4 header,
believed only near the length asked for, or, for a video of the shot as it was, within any
length the API makes). Nothing is sent and the state is not written.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from . import mp4

if TYPE_CHECKING:
    from .state import ShotState


class Take(NamedTuple):
    state: ShotState | None  # None: never run
    video: Path  # where the video is, or would be
    downloaded: bool  # the run's video, finished, is in its folder
    stale: bool  # the shot changed since its render
    real: float | None  # what the file's header says it runs, if it says
    runs: float | None  # `real`, where it can be the video's length

    @property
    def missing(self) -> str | None:
        """Why a finished video cannot be shown or cut, if that is so."""
        if self.state is None or self.state.status != "succeed" or self.downloaded:
            return None
        if self.video.exists() or self.video.is_symlink():
            return "the file in its folder is not the video downloaded"
        return "the video downloaded is not in its folder"


def take(state: ShotState | None, videos: Path, name: str, endpoint: str, body: dict[str, Any],
         asked: tuple[str, ...] | None = None) -> Take:
    """The take of the video `name` (a shot's first take, or `castle.take-2`), whose request is now
    `endpoint` with `body`; `asked`: the hashes `run` asks that request by, where it names what
    the body does not say (its cast's elements, the take it continues: runner.asked_digests)."""
    from .runner import shot_name_of, video_path
    from .state import body_hashes, video_matches

    video = video_path(videos, name)
    if state is not None and state.file:  # where the take is: castle.mp4 if chosen, castle.2.mp4 beside another
        recorded = Path(state.file).name
        if recorded != video.name and recorded.startswith(f"{shot_name_of(name)}.") and recorded.endswith(".mp4"):
            video = videos / recorded
    downloaded = state is not None and state.status == "succeed" and video_matches(video, state)
    stale = state is not None and state.body_sha256 not in (asked if asked is not None else body_hashes(endpoint, body))
    real = mp4.duration(video) if downloaded else None
    # A video of the shot as it was runs its own length, not the one the shot now asks.
    runs = real if real is not None and mp4.believable(real, None if stale else float(body["duration"])) else None
    return Take(state, video, downloaded, stale, real, runs)


def shot_takes(shot: str, takes: int, names: Iterable[str]) -> list[tuple[int, str]]:
    """The takes of a shot: those its `takes` asks for, and those a run added (`--force`), as
    (number, name in the state) in order."""
    from .runner import TAKE_MARK, take_name

    numbers = set(range(1, takes + 1))
    prefix = f"{shot}{TAKE_MARK}"
    numbers |= {int(n[len(prefix):]) for n in names if n.startswith(prefix) and n[len(prefix):].isdigit()}
    return [(k, take_name(shot, k)) for k in sorted(numbers)]
