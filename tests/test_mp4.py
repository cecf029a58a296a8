"""shotlang.engine.mp4: a downloaded video's real running time, from its movie header (for the timeline)."""

from __future__ import annotations

import struct
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from mp4s import box, mp4, mvhd

from shotlang.engine.mp4 import believable, duration
from shotlang.testing import VIDEO

TO_THE_END = struct.pack(">I", 0) + b"mdat" + bytes(500)  # a last box of size 0 runs to the file's end


@pytest.mark.parametrize(("made", "seconds"), [
    pytest.param(mp4(5.041), 5.041, id="header-last"),
    pytest.param(mp4(10.0, moov_first=True), 10.0, id="header-first"),
    pytest.param(mp4(7.12, scale=90000, version=1), 7.12, id="version-1"),
    pytest.param(mp4(3.5, large=True), 3.5, id="64-bit-mdat"),
    pytest.param(box(b"ftyp", b"isom") + box(b"moov", mvhd(600, 3000)) + TO_THE_END, 5.0, id="mdat-to-the-end"),
])
def test_the_running_time_comes_from_the_movie_header(tmp_path: Path, made: bytes, seconds: float) -> None:
    (tmp_path / "v.mp4").write_bytes(made)
    assert duration(tmp_path / "v.mp4") == pytest.approx(seconds, abs=1e-3)


@pytest.mark.parametrize("made", [
    pytest.param(VIDEO, id="the-local-servers-bytes"),
    pytest.param(b"", id="empty"),
    pytest.param(box(b"ftyp", b"isom") + box(b"mdat", bytes(100)), id="no-moov"),
    pytest.param(box(b"moov", box(b"trak", bytes(8))), id="no-mvhd"),
    pytest.param(box(b"moov", mvhd(0, 5000)), id="no-time-scale"),
    pytest.param(box(b"moov", mvhd(1000, 0)), id="no-duration"),
    pytest.param(box(b"moov", mvhd(1000, 0xFFFFFFFF)), id="unknown-duration"),
    pytest.param(mp4(5.0)[:-60], id="cut-short"),
    pytest.param(struct.pack(">I", 4) + b"moov" + bytes(40), id="box-smaller-than-its-header"),
    pytest.param(struct.pack(">I", 10_000) + b"moov" + bytes(40), id="box-longer-than-the-file"),
])
def test_what_does_not_say_gives_none(tmp_path: Path, made: bytes) -> None:
    (tmp_path / "v.mp4").write_bytes(made)
    assert duration(tmp_path / "v.mp4") is None


def test_a_missing_or_unreadable_file_gives_none(tmp_path: Path) -> None:
    assert duration(tmp_path / "absent.mp4") is None
    assert duration(tmp_path) is None, "a folder"


def test_a_large_file_is_read_by_its_headers_only(tmp_path: Path) -> None:
    """Four GiB of media data (a sparse file) before the header: read in a few small reads."""
    path = tmp_path / "big.mp4"
    gap = 4 << 30
    with path.open("wb") as file:
        file.write(box(b"ftyp", b"isom") + struct.pack(">I", 1) + b"mdat" + struct.pack(">Q", 16 + gap))
        file.seek(gap, 1)
        file.write(box(b"moov", mvhd(1000, 12_345)))
    started = time.perf_counter()
    assert duration(path) == pytest.approx(12.345)
    assert time.perf_counter() - started < 0.5


@given(st.binary(max_size=300) | st.builds(lambda head, tail: head + tail, st.sampled_from([mp4(5.0), VIDEO]),
                                           st.binary(max_size=40)))
def test_any_bytes_give_a_length_or_none(data: bytes) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "v.mp4"
        path.write_bytes(data)
        found = duration(path)
    assert found is None or found > 0


def test_a_length_is_believed_near_what_was_asked() -> None:
    assert believable(5.041, 5) and believable(5.9, 5) and believable(4.2, 5)
    assert believable(12.4, 10), "a quarter of a long video"
    assert not believable(6.3, 5) and not believable(0.5, 5) and not believable(4_294_967_294, 5)
