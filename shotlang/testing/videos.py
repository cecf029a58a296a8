"""Real, playable MP4s for the local Kling server: a few frames of H.264, a look of their own
per task, made with PyAV (FFmpeg's libraries; the `frames` extra).

Each clip is half a second (12 frames at 24 fps, 96 x 64 pixels, a few KB), made in a few
milliseconds: a ground colour and a bar that grows from the top, both taken from the task's id,
so two tasks never look alike and the last frame (the one a continuing shot starts from) says
which task made it. `colors(seed)` gives the two colours, for tests that read a frame back.
"""

from __future__ import annotations

import hashlib
import io
from functools import lru_cache

WIDTH, HEIGHT, FRAMES, FPS = 96, 64, 12, 24


class NoEncoder(RuntimeError):
    """PyAV is not installed: real videos need the `frames` extra."""


def colors(seed: str) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    """The ground colour and the bar's colour of the clip made for `seed` (RGB)."""
    digest = hashlib.sha256(seed.encode("utf-8")).digest()
    return (digest[0], digest[1], digest[2]), (digest[3], digest[4], digest[5])


@lru_cache(maxsize=256)
def clip(seed: str) -> bytes:
    """An MP4 of FRAMES frames whose look is `seed`'s: the bar covers the left half of the
    frame from the top, one twelfth more each frame; in the last it covers the whole height."""
    try:
        import av
    except ImportError as e:  # pragma: no cover - the test extra installs it
        raise NoEncoder("real videos need PyAV: pip install 'shotlang[frames]' (in a clone: pip install "
                        "'.[frames]')") from e  # the local server is a witness apart: it imports no plumbing
    ground, bar = (bytes(c) for c in colors(seed))
    plain = ground * WIDTH
    marked = bar * (WIDTH // 2) + ground * (WIDTH - WIDTH // 2)
    out = io.BytesIO()
    with av.open(out, mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        stream.options = {"preset": "ultrafast"}
        for n in range(FRAMES):
            rows = (n + 1) * HEIGHT // FRAMES
            frame = av.VideoFrame(WIDTH, HEIGHT, "rgb24")
            frame.planes[0].update(marked * rows + plain * (HEIGHT - rows))
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return out.getvalue()
