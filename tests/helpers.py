"""Small builders the tests share: images of a chosen size, and compiling a snippet."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import shotlang
from shotlang.compiler.result import CompileResult


def png(width: int, height: int) -> bytes:
    """A valid, tiny PNG of the given size (one grey colour)."""
    raw = (b"\x00" + b"\x80" * width) * height

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw))
            + chunk(b"IEND", b""))


def jpeg(width: int, height: int, exif: int = 0) -> bytes:
    """The header of a baseline JPEG of the given size (enough for shotlang's size reader),
    after an optional APP1 segment of `exif` bytes."""
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    app1 = b"\xff\xe1" + struct.pack(">H", exif + 2) + b"\x00" * exif if exif else b""
    sof0 = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + app0 + app1 + sof0 + b"\xff\xd9"


def compile_in(tmp_path: Path, text: str, anywhere: bool = False, **files: bytes) -> CompileResult:
    """Compile `text` as tmp_path/test.shot, with `files` written beside it; with `anywhere`,
    reading what it names wherever it is, as the command line does."""
    from shotlang.compiler.images import ImageStore

    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    shot = tmp_path / "test.shot"
    shot.write_text(text, encoding="utf-8")
    return shotlang.compile_file(shot, images=ImageStore(anywhere=True) if anywhere else None)


def codes(result: CompileResult) -> list[str]:
    return [d.code for d in result.diagnostics]
