"""The last frame of a video, as a PNG: where a shot that continues another starts.

Made with PyAV (FFmpeg's own libraries, the `frames` extra): it decodes every container and
codec Kling delivers, and writes the PNG with FFmpeg's encoder, so neither Pillow nor NumPy is
needed. Only `run` imports this, and only for a shot that continues another on a model without
a video reference.
"""

from __future__ import annotations

from pathlib import Path


class NoFrame(Exception):
    """The last frame could not be had: PyAV is missing, or the file is no readable video."""


def last_frame_png(path: Path) -> bytes:
    """The last frame of the video at `path`, encoded as PNG (RGB, the video's own size)."""
    try:
        import av
    except ImportError as e:
        from ..terminal import install_hint

        raise NoFrame(f"reading a video's last frame needs PyAV: {install_hint('frames')}") from e
    try:
        with av.open(str(path)) as container:
            stream = next((s for s in container.streams if s.type == "video"), None)
            if stream is None:
                raise NoFrame(f"{path.name} has no video stream")
            last = None
            for frame in container.decode(stream):
                if isinstance(frame, av.VideoFrame):
                    last = frame
            if last is None:
                raise NoFrame(f"{path.name} has no frame")
            rgb = last.reformat(format="rgb24")
            encoder = av.CodecContext.create("png", "w")
            encoder.width, encoder.height, encoder.pix_fmt = rgb.width, rgb.height, "rgb24"
            data = b"".join(bytes(p) for p in encoder.encode(rgb))
            data += b"".join(bytes(p) for p in encoder.encode(None))
    except NoFrame:
        raise
    except (av.error.FFmpegError, OSError, ValueError) as e:
        raise NoFrame(f"cannot read {path.name} as a video: {e}") from e
    if not data.startswith(b"\x89PNG"):
        raise NoFrame(f"the last frame of {path.name} did not encode as PNG")
    return data
