"""The local Kling server's real videos (shotlang/testing/videos.py): playable MP4s of a few
frames of H.264, a look of their own per task, so that what a run downloads can be told apart
and its frames read back (the storyboard's players play them: tests/test_browser.py)."""

from __future__ import annotations

import io
from pathlib import Path

import av
from runs import run

from shotlang.engine import mp4
from shotlang.testing import FakeKling
from shotlang.testing.videos import FRAMES, HEIGHT, WIDTH, clip, colors

CLOSE = 24  # H.264 and the YUV round trip move a colour this far at most, per channel


def frames_of(data: bytes) -> list[av.VideoFrame]:
    with av.open(io.BytesIO(data), mode="r") as container:
        return list(container.decode(video=0))


def pixel(frame: av.VideoFrame, x: int, y: int) -> tuple[int, int, int]:
    rgb = frame.reformat(format="rgb24")
    plane = rgb.planes[0]
    at = y * plane.line_size + 3 * x
    row = bytes(plane)[at : at + 3]
    return row[0], row[1], row[2]


def near(a: tuple[int, int, int], b: tuple[int, int, int]) -> bool:
    return all(abs(x - y) <= CLOSE for x, y in zip(a, b, strict=True))


def test_a_clip_is_a_real_mp4_whose_frames_say_its_seed(tmp_path: Path) -> None:
    data = clip("task-1")
    (tmp_path / "a.mp4").write_bytes(data)
    assert mp4.duration(tmp_path / "a.mp4") == FRAMES / 24  # shotlang's own reader agrees
    frames = frames_of(data)
    assert len(frames) == FRAMES and (frames[0].width, frames[0].height) == (WIDTH, HEIGHT)
    ground, bar = colors("task-1")
    last = frames[-1]
    assert near(pixel(last, 4, 4), bar) and near(pixel(last, WIDTH - 4, HEIGHT - 4), ground)
    first = frames[0]
    assert near(pixel(first, 4, HEIGHT - 4), ground), "the bar grows from the top: not there at first"


def test_two_tasks_never_look_alike() -> None:
    assert clip("task-1") != clip("task-2")
    assert colors("task-1") != colors("task-2")
    assert clip("task-1") == clip("task-1")


def test_a_run_against_real_videos_downloads_each_task_s_own(tmp_path: Path) -> None:
    film = tmp_path / "film.shot"
    film.write_text('SHOT a: "A lamp"\nSHOT b: "A quay"\n', encoding="utf-8")
    with FakeKling(polls=1, real_videos=True) as fake:
        done = run(fake, film)
        assert done.returncode == 0, done.stderr
        assert fake.stats.creates == 2
        tasks = [task["task_id"] for task in fake.tasks()]
    videos = {name: (tmp_path / f"{name}.mp4").read_bytes() for name in ("a", "b")}
    made = {clip(task): task for task in tasks}
    assert set(videos.values()) == set(made), "each shot's file is its own task's clip, whole"
    for data in videos.values():
        assert near(pixel(frames_of(data)[-1], 4, 4), colors(made[data])[1])
