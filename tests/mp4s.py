"""MP4 files made box by box, as a test needs them: only the structure the duration is read from
(a file type box, media data, a movie box with its movie header)."""

from __future__ import annotations

import struct


def box(kind: bytes, payload: bytes, large: bool = False) -> bytes:
    if large:  # the 64-bit size form
        return struct.pack(">I", 1) + kind + struct.pack(">Q", 16 + len(payload)) + payload
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def mvhd(scale: int, length: int, version: int = 0) -> bytes:
    if version == 1:
        times = struct.pack(">QQIQ", 0, 0, scale, length)
    else:
        times = struct.pack(">IIII", 0, 0, scale, length)
    rest = struct.pack(">IH", 0x00010000, 0x0100) + bytes(10) + bytes(36) + bytes(24) + struct.pack(">I", 2)
    return box(b"mvhd", bytes([version, 0, 0, 0]) + times + rest)


def mp4(seconds: float, scale: int = 1000, version: int = 0, moov_first: bool = False, large: bool = False) -> bytes:
    """A file that runs `seconds`, its header at the end (as most encoders write it) or first."""
    ftyp = box(b"ftyp", b"isom\x00\x00\x02\x00isomiso2avc1mp41")
    mdat = box(b"mdat", bytes(range(256)) * 4, large=large)
    moov = box(b"moov", mvhd(scale, round(seconds * scale), version) + box(b"trak", bytes(40)))
    return ftyp + (moov + mdat if moov_first else mdat + moov)
