"""Local images: reading a file's type and pixel size from its header, and inlining it.

The API takes JPEG and PNG, so two small header readers do the job that an imaging library
would, without its import time or a dependency.
"""

from __future__ import annotations

import re
import struct
from pathlib import Path
from typing import Literal, NamedTuple

# An http(s) image reference, sent to the API as it is; anything else is a local path.
URL = re.compile(r"https?://[^\s/?#]+[^\s]*", re.IGNORECASE)


def resolve_image(ref: str, base_dir: Path) -> Path | None:
    """The local file an image reference names (relative to the shot list's folder), or None
    for an http(s) URL."""
    if URL.match(ref):
        return None
    return (base_dir / Path(ref).expanduser()).resolve()


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
JPEG_SIGNATURE = b"\xff\xd8\xff"
# Start-of-frame markers carry the size; C4 (Huffman), C8 (reserved), CC (arithmetic) do not.
_JPEG_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


class ImageInfo(NamedTuple):
    kind: str  # "png" or "jpeg"
    width: int
    height: int
    size: int  # bytes


class NotAnImage(ValueError):
    """The bytes are not a PNG or JPEG whose size can be read.

    `damaged` tells a file that starts like a PNG or JPEG but breaks off from one that is
    another kind of file altogether.
    """

    def __init__(self, reason: str, damaged: bool = True) -> None:
        super().__init__(reason)
        self.damaged = damaged


def inspect_image(data: bytes) -> ImageInfo:
    if data.startswith(PNG_SIGNATURE):
        if len(data) < 24 or data[12:16] != b"IHDR":
            raise NotAnImage("the PNG header is cut short or damaged")
        width, height = struct.unpack(">II", data[16:24])
        return ImageInfo("png", width, height, len(data))
    if data.startswith(JPEG_SIGNATURE):
        width, height = _jpeg_size(data)
        return ImageInfo("jpeg", width, height, len(data))
    raise NotAnImage("the file is neither a PNG nor a JPEG", damaged=False)


def _jpeg_size(data: bytes) -> tuple[int, int]:
    i = 2
    while i + 4 <= len(data):
        if data[i] != 0xFF:
            raise NotAnImage("the JPEG header is damaged")
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:  # markers with no length
            i += 2
            continue
        (length,) = struct.unpack(">H", data[i + 2 : i + 4])
        if marker in _JPEG_SOF:
            if i + 9 > len(data):
                break
            height, width = struct.unpack(">HH", data[i + 5 : i + 9])
            return width, height
        if marker == 0xD9 or length < 2:
            break
        i += 2 + length
    raise NotAnImage("the JPEG has no readable frame size")


Reach = Literal["inside", "outside", "closed"]


class ImageStore:
    """Reads local images once per compile: the checks inspect them, the payload inlines them.

    What it may read: with `anywhere` (the command line, the editor), any file the shot list
    names, a file outside the shot list's folder said so by the checks (W110); without (the
    Python API's default), files under `folder` only, and none at all if `folder` is None: a
    service that compiles text it did not write reads no file that text names elsewhere (E507).
    Passing another store (or a subclass) lets a caller serve images from elsewhere.
    """

    def __init__(self, folder: Path | None = None, *, anywhere: bool = True) -> None:
        self._data: dict[Path, bytes] = {}
        self.folder = folder.resolve() if folder is not None else None
        self.anywhere = anywhere

    def reach(self, path: Path, base_dir: Path) -> Reach:
        """Whether `path` (resolved: links followed) is in the shot list's folder (`folder`, else
        `base_dir`), outside it but readable, or closed to this store."""
        root = self.folder if self.folder is not None else (base_dir.resolve() if self.anywhere else None)
        if root is not None and path.is_relative_to(root):
            return "inside"
        return "outside" if self.anywhere else "closed"

    def _allowed(self, path: Path) -> None:
        if not self.anywhere and (self.folder is None or not path.resolve().is_relative_to(self.folder)):
            raise PermissionError(f"{path} is outside the folder this compile may read")

    def read(self, path: Path) -> bytes:
        if path not in self._data:
            self._allowed(path)
            self._data[path] = path.read_bytes()
        return self._data[path]

    def stat_size(self, path: Path) -> int:
        self._allowed(path)
        return path.stat().st_size

    def base64(self, path: Path) -> str:
        """The file as the API wants it inline: Base64 with no `data:` prefix."""
        import base64  # only shots with local images need it

        return base64.b64encode(self.read(path)).decode("ascii")
