"""`after NAME`: a shot that continues another, from its last frame or by its video."""

from __future__ import annotations

import base64
import json
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import codes, compile_in
from runs import kill_run_after, run, shotlang

from shotlang.compiler import kling
from shotlang.testing import FakeKling
from shotlang.testing.server import Fault
from shotlang.testing.videos import colors

CHAIN = """SHOT a: "The harbour at dusk" 5s model kling-v3
SHOT b: after a push in "The lighthouse door opens" 5s model kling-v3
SHOT c: after b "He steps inside" 5s model kling-v3-omni
SHOT d: "The sea" 5s model kling-v3
"""


@pytest.fixture
def fake() -> Iterator[FakeKling]:
    """A local Kling server whose videos are real MP4s (a last frame that tells its task)."""
    with FakeKling(polls=2, real_videos=True) as server:
        yield server


def _rgb(png: bytes, x: int, y: int) -> tuple[int, int, int]:
    """The colour of one pixel of an 8-bit RGB PNG (what FFmpeg's encoder writes)."""
    at, chunks = 8, b""
    width = 0
    while at < len(png):
        length, kind = struct.unpack(">I4s", png[at:at + 8])
        data = png[at + 8:at + 8 + length]
        if kind == b"IHDR":
            width, _height, depth, colour = struct.unpack(">IIBB", data[:10])
            assert (depth, colour) == (8, 2), "an 8-bit RGB PNG"
        elif kind == b"IDAT":
            chunks += data
        at += 12 + length
    raw, stride, rows, prior = zlib.decompress(chunks), width * 3, [], bytearray(width * 3)
    for row in range(y + 1):
        kind, line = raw[row * (stride + 1)], bytearray(raw[row * (stride + 1) + 1:(row + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - 3] if i >= 3 else 0
            up, corner = prior[i], prior[i - 3] if i >= 3 else 0
            if kind == 1:
                line[i] = (line[i] + left) & 255
            elif kind == 2:
                line[i] = (line[i] + up) & 255
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 255
            elif kind == 4:
                p = left + up - corner
                near = min((abs(p - left), 0, left), (abs(p - up), 1, up), (abs(p - corner), 2, corner))[2]
                line[i] = (line[i] + near) & 255
        rows.append(line)
        prior = line
    pixel = rows[y][x * 3:x * 3 + 3]
    return pixel[0], pixel[1], pixel[2]


def _near(found: tuple[int, int, int], wanted: tuple[int, int, int]) -> bool:
    return all(abs(a - b) <= 24 for a, b in zip(found, wanted, strict=True))  # H.264 is lossy


def _sent(fake: FakeKling) -> dict[str, tuple[str, dict]]:
    """Each video task the server made, by its shot (read from the external id), with its endpoint and body."""
    return {body["external_task_id"].split("-")[0]: (endpoint, body) for endpoint, body in fake.created()}


def _task_of(film: Path, shot: str) -> str:
    return json.loads((film.parent / (film.name + ".state.json")).read_text())["shots"][shot]["task_id"]


def test_a_continuing_shot_compiles_to_its_placeholder_and_names_what_it_follows(tmp_path: Path) -> None:
    result = compile_in(tmp_path, CHAIN)
    assert result.output is not None, result.render()
    records = {r["name"]: r for r in result.output.records}
    assert records["b"]["endpoint"] == kling.IMAGE2VIDEO and records["b"]["body"]["image"] == "@a"
    assert records["b"]["after"] == "a" and "aspect_ratio" not in records["b"]["body"]
    c = records["c"]["body"]
    assert c["video_list"] == [{"video_url": "@b", "refer_type": "feature", "keep_original_sound": "no"}]
    assert c["prompt"] == f"{kling.NEXT_SHOT} He steps inside"
    assert "after" not in records["a"] and "after" not in records["d"]


def test_a_model_without_image_to_video_cannot_start_from_a_frame(tmp_path: Path) -> None:
    models = b'[models.house]\nendpoints = ["text2video"]\n'
    result = compile_in(tmp_path, 'SHOT a: "x" model house\nSHOT b: after a "y" model house',
                        **{"shotlang-models.toml": models})
    assert codes(result) == ["E402"]


def test_a_chain_runs_in_order_from_the_right_frames_and_references(fake: FakeKling, tmp_path: Path) -> None:
    film = tmp_path / "film.shot"
    film.write_text(CHAIN, encoding="utf-8")
    done = run(fake, film)
    assert done.returncode == 0, done.stdout + done.stderr
    assert fake.stats.creates == 4
    sent = _sent(fake)
    a, b = _task_of(film, "a"), _task_of(film, "b")
    # b starts from a's last frame: the bar of a's colours covers its left half, top to bottom.
    endpoint, body = sent["b"]
    assert endpoint == kling.IMAGE2VIDEO
    frame = base64.b64decode(body["image"])
    ground, bar = colors(a)
    assert _near(_rgb(frame, 10, 5), bar) and _near(_rgb(frame, 90, 60), ground)
    # c refers to b's video by the address Kling gave for it, with the documented words.
    endpoint, body = sent["c"]
    assert endpoint == kling.OMNI_VIDEO
    assert body["video_list"] == [{"video_url": f"{fake.url}/videos/{b}.mp4", "refer_type": "feature",
                                   "keep_original_sound": "no"}]
    assert body["prompt"].startswith(kling.NEXT_SHOT)
    # a chain waits; what stands alone does not: d was made beside a.
    times = {name: i for i, (name, _) in enumerate(sent.items())}
    assert times["a"] < times["b"] < times["c"]

    again = run(fake, film)
    assert again.returncode == 0 and fake.stats.creates == 4  # a re-run pays nothing


def test_a_shot_made_again_changes_the_shots_that_continue_it(fake: FakeKling, tmp_path: Path) -> None:
    film = tmp_path / "film.shot"
    film.write_text(CHAIN, encoding="utf-8")
    assert run(fake, film).returncode == 0

    def actions(*args: str) -> dict[str, str]:
        planned = json.loads(shotlang("plan", str(film), "--json", *args, env=fake.env()).stdout)
        return {p["shot"]: p["action"] for p in planned["shots"]}

    # A new take of `a` is one more video: `b` goes on from the chosen one.
    assert actions("--force", "a") == {"a": "unchanged", "a.take-2": "new", "b": "unchanged", "c": "unchanged",
                                       "d": "unchanged"}
    assert run(fake, film, "--force", "a").returncode == 0 and fake.stats.creates == 5
    # Choosing it changes what follows, down the chain.
    film.write_text(CHAIN.replace('"The harbour at dusk" 5s', '"The harbour at dusk" 5s takes 2 pick 2'), encoding="utf-8")
    assert actions() == {"a": "unchanged", "a.take-2": "unchanged", "b": "changed", "c": "changed", "d": "unchanged"}
    done = run(fake, film)
    assert done.returncode == 0, done.stdout + done.stderr
    assert fake.stats.creates == 5 + 2
    frame = base64.b64decode([b for e, b in fake.created() if e == kling.IMAGE2VIDEO][-1]["image"])
    assert _near(_rgb(frame, 10, 5), colors(_task_of(film, "a.take-2"))[1])
    # A changed shot is made again, and so is what continues it.
    film.write_text(CHAIN.replace("The harbour at dusk", "The harbour at night"), encoding="utf-8")
    assert actions() == {"a": "changed", "b": "changed", "c": "changed", "d": "unchanged"}
    assert run(fake, film).returncode == 0 and fake.stats.creates == 7 + 3
    assert run(fake, film).returncode == 0 and fake.stats.creates == 10


def test_only_the_continuing_shot_runs_from_the_recorded_take(fake: FakeKling, tmp_path: Path) -> None:
    film = tmp_path / "film.shot"
    film.write_text(CHAIN, encoding="utf-8")
    not_yet = run(fake, film, "--only", "b")
    assert not_yet.returncode != 0 and "whose video is not made" in not_yet.stdout
    assert fake.stats.creates == 0  # nothing paid for a shot that cannot start
    assert run(fake, film, "--only", "a").returncode == 0
    assert run(fake, film, "--only", "b").returncode == 0
    assert fake.stats.creates == 2


def test_a_missing_video_is_fetched_again_before_the_frame_is_read(fake: FakeKling, tmp_path: Path) -> None:
    film = tmp_path / "film.shot"
    film.write_text(CHAIN, encoding="utf-8")
    assert run(fake, film, "--only", "a").returncode == 0
    (tmp_path / "a.mp4").write_bytes(b"not the video")  # edited by hand: not the take that was made
    done = run(fake, film)
    assert done.returncode == 0, done.stdout + done.stderr
    assert fake.stats.creates == 4  # a is downloaded again, not made again
    frame = base64.b64decode(_sent(fake)["b"][1]["image"])
    assert _near(_rgb(frame, 10, 5), colors(_task_of(film, "a"))[1])


@pytest.mark.parametrize("after", [1, 2, 3])
def test_a_kill_9_in_a_chain_then_a_rerun_pays_each_shot_once(fake: FakeKling, tmp_path: Path, after: int) -> None:
    film = tmp_path / "film.shot"
    film.write_text(CHAIN, encoding="utf-8")
    kill_run_after(fake, film, after)
    done = run(fake, film)
    assert done.returncode == 0, done.stdout + done.stderr
    assert fake.stats.creates == 4
    assert all(n == 1 for n in fake.stats.by_external_id.values())
    assert {p.name for p in tmp_path.glob("*.mp4")} == {"a.mp4", "b.mp4", "c.mp4", "d.mp4"}


def test_a_lost_answer_for_a_continuing_shot_is_looked_up_not_paid_again(fake: FakeKling, tmp_path: Path) -> None:
    film = tmp_path / "film.shot"
    film.write_text(CHAIN, encoding="utf-8")
    fake.inject(Fault("lose", on="create", match="The lighthouse door"))
    done = run(fake, film)
    assert done.returncode == 0, done.stdout + done.stderr
    assert fake.stats.creates == 4


def test_renaming_the_shot_a_chain_continues_pays_nothing(fake: FakeKling, tmp_path: Path) -> None:
    film = tmp_path / "film.shot"
    film.write_text(CHAIN, encoding="utf-8")
    assert run(fake, film).returncode == 0
    film.write_text(CHAIN.replace("SHOT a:", "SHOT harbour:").replace("after a ", "after harbour "), encoding="utf-8")
    planned = json.loads(shotlang("plan", str(film), "--json", env=fake.env()).stdout)
    assert {p["shot"]: p["action"] for p in planned["shots"]} == {"harbour": "renamed", "b": "unchanged",
                                                                  "c": "unchanged", "d": "unchanged"}
    assert run(fake, film).returncode == 0 and fake.stats.creates == 4
