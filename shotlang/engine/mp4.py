"""How long a downloaded video really runs, read from its MP4 header.

A video is asked for in whole seconds, and Kling's come back a little longer or shorter (a 5 s
request gives about 5.04 s). An editor's cut should hold each clip at its real length, so the
timeline reads it from the file: the movie header box (`moov/mvhd`) gives a time scale (units a
second) and a duration in those units. Only box headers are read, seeking past the media data,
so a large file costs a few small reads. Anything that is not such a file gives None, and the
caller uses the length it asked for.
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

_MOST_BOXES = 4096  # a real file has a handful at each level; more means it is not an MP4


def duration(path: Path) -> float | None:
    """The file's running time in seconds, or None when it is not an MP4 that says so."""
    try:
        with path.open("rb") as file:
            size = file.seek(0, 2)
            moov = _find(file, b"moov", 0, size)
            if moov is None:
                return None
            mvhd = _find(file, b"mvhd", *moov)
            if mvhd is None:
                return None
            file.seek(mvhd[0])
            head = file.read(min(mvhd[1] - mvhd[0], 32))
    except OSError:
        return None
    if len(head) < 20:
        return None
    if head[0] > 1:  # a version this reading does not know
        return None
    if head[0] == 1:  # version 1: 64-bit times
        if len(head) < 32:
            return None
        scale, length = int.from_bytes(head[20:24], "big"), int.from_bytes(head[24:32], "big")
    else:
        scale, length = int.from_bytes(head[12:16], "big"), int.from_bytes(head[16:20], "big")
    if not scale or not length or length in (0xFFFFFFFF, 0xFFFFFFFFFFFFFFFF):  # all ones: "unknown"
        return None
    return length / scale


LONGEST = 60.0  # seconds: no video of the API runs longer (kling-v3's longest is 15)


def believable(real: float, asked: float | None) -> bool:
    """Whether a header can be the length of a video asked to run `asked` seconds: Kling's run
    within a fraction of a second of it. A header far off (a damaged download, a hostile
    server: 136 years, or a nanosecond) is not taken. With `asked` None (the video is of the
    shot as it was, and what it asked is not known), any length a video of the API can have."""
    if asked is None:
        return 0.5 <= real <= LONGEST
    return abs(real - asked) <= max(1.0, 0.25 * asked)


def _find(file: BinaryIO, kind: bytes, start: int, end: int) -> tuple[int, int] | None:
    """The (start, end) of the payload of the first box of `kind` between start and end."""
    at = start
    for _ in range(_MOST_BOXES):
        if at + 8 > end:
            return None
        file.seek(at)
        header = file.read(16)
        if len(header) < 8:
            return None
        size, found, skip = int.from_bytes(header[:4], "big"), header[4:8], 8
        if size == 1:  # a 64-bit size follows the type
            if len(header) < 16:
                return None
            size, skip = int.from_bytes(header[8:16], "big"), 16
        elif size == 0:  # the box runs to the end
            size = end - at
        if size < skip or at + size > end:
            return None
        if found == kind:
            return at + skip, at + size
        at += size
    return None
