"""The run state (shotlang.engine.state) and atomic files (shotlang.files) on real files: the journal,
the lock between real processes, permissions, symlinks, and files that are not state files."""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from shotlang.compiler import kling
from shotlang.engine.state import (
    STATE_VERSION,
    ShotState,
    StateBusy,
    StateError,
    Store,
    file_sha256,
    journal_path,
    state_path,
    video_matches,
)
from shotlang.files import atomic_file, write_atomic

SOURCE = "castle.shot"


def shot(n: int = 1, **changes: Any) -> ShotState:
    fields: dict[str, Any] = {"body_sha256": "ab" * 32, "endpoint": kling.TEXT2VIDEO,
                              "external_task_id": f"castle-{n}-g1", **changes}
    return ShotState(**fields)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return state_path(tmp_path / SOURCE)


def lines(journal: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in journal.read_text().splitlines()]


def write_state(path: Path, shots: dict[str, Any], **top: Any) -> None:
    path.write_text(json.dumps({"shotlang_state": 1, "source": SOURCE, "shots": shots, **top}))


def refusal(path: Path) -> str:
    with pytest.raises(StateError) as caught:
        Store.open(path, SOURCE)
    with pytest.raises(StateError):
        Store.read(path, SOURCE)
    return str(caught.value)


@contextmanager
def umask(mask: int) -> Iterator[None]:
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


# --- names and types ---------------------------------------------------------------------------

def test_journal_sits_beside_the_state_file(tmp_path: Path) -> None:
    assert journal_path(tmp_path / "castle.shot.state.json") == tmp_path / "castle.shot.state.journal"


def test_a_shot_state_takes_only_the_apis_endpoints_and_statuses() -> None:
    assert STATE_VERSION == 1
    for endpoint in kling.ENDPOINTS:
        assert shot(endpoint=endpoint).endpoint == endpoint
    for status in ("submitting", *kling.TASK_STATUSES):
        assert shot(status=status).status == status
    for wrong in ("http://attacker/v1/videos/text2video", "/v1/videos/text2video/../x", "/v1/videos"):
        with pytest.raises(ValueError):
            shot(endpoint=wrong)
        with pytest.raises(ValueError):
            kling.as_endpoint(wrong)
    for wrong in ("canceled", "SUCCEED", "running"):
        with pytest.raises(ValueError):
            shot(status=wrong)


# --- the journal: O(1) per event ---------------------------------------------------------------

def test_update_appends_one_line_and_leaves_the_state_file_alone(path: Path) -> None:
    write_state(path, {})
    with Store.open(path, SOURCE) as store:
        store.put("lamp", shot())
        before = os.stat(path)
        journal = journal_path(path)
        size = journal.stat().st_size
        for i in range(200):
            store.update("lamp", status_msg=f"poll {i}")
        after = os.stat(path)
        assert (after.st_ino, after.st_mtime_ns, after.st_size) == (before.st_ino, before.st_mtime_ns,
                                                                     before.st_size)
        records = lines(journal)
        assert len(records) == 1 + 1 + 200  # holder, put, updates
        assert "holder" in records[0] and records[-1]["state"]["status_msg"] == "poll 199"
        assert journal.stat().st_size - size < 200 * 600
    saved = json.loads(path.read_text())
    assert saved["shots"]["lamp"]["status_msg"] == "poll 199"
    assert not journal_path(path).exists()


def test_an_event_costs_the_same_with_many_shots(path: Path) -> None:
    """The cost of one update, in bytes written, does not grow with the number of shots
    (rewriting the whole file grew with it: 1.9 ms per write at the start, 15.7 ms at 2,000)."""
    journal = journal_path(path)
    write_state(path, {})
    with Store.open(path, SOURCE) as store:
        store.put("s0", shot(0))
        size = journal.stat().st_size
        store.update("s0", status_msg="first")
        first = journal.stat().st_size - size
        for n in range(1, 2000):
            store.put(f"s{n}", shot(n))
        state_before = os.stat(path)
        size = journal.stat().st_size
        store.update("s0", status_msg="final")
        last = journal.stat().st_size - size
        assert last == first
        assert os.stat(path).st_mtime_ns == state_before.st_mtime_ns


def test_records_are_absolute_so_replaying_twice_is_harmless(path: Path) -> None:
    with Store.open(path, SOURCE) as store:
        store.put("lamp", shot(generation=1))
        store.update("lamp", generation=2, status="submitted")
        journal = journal_path(path).read_bytes()
        store.compact()  # the state file now holds what the journal said
        os.write(os.open(journal_path(path), os.O_WRONLY | os.O_APPEND), journal)  # as if the truncate was lost
    with Store.open(path, SOURCE) as store:
        got = store.get("lamp")
        assert got is not None and (got.generation, got.status) == (2, "submitted")


def test_a_torn_last_line_is_ignored(path: Path) -> None:
    journal = journal_path(path)
    write_state(path, {})
    good = json.dumps({"shot": "lamp", "state": shot().model_dump()})
    journal.write_text(good + "\n" + good[:40])
    store = Store.read(path, SOURCE)
    assert store.get("lamp") is not None
    with Store.open(path, SOURCE) as store:
        assert store.get("lamp") is not None
        assert len(lines(journal)) == 1  # compacted: only the holder line is left
    assert "lamp" in json.loads(path.read_text())["shots"]


def test_a_garbage_last_line_is_ignored(path: Path) -> None:
    journal = journal_path(path)
    good = json.dumps({"shot": "lamp", "state": shot().model_dump()})
    journal.write_bytes(good.encode() + b"\n\x00\x00\xff\xfe\n")
    assert Store.read(path, SOURCE).get("lamp") is not None


def test_a_bad_line_in_the_middle_is_refused_with_its_number(path: Path) -> None:
    journal = journal_path(path)
    good = json.dumps({"shot": "lamp", "state": shot().model_dump()})
    journal.write_text("\n".join([good, good[:40], good]) + "\n")
    message = refusal(path)
    assert f"{journal} line 2" in message
    assert journal.read_text().startswith(good)  # left as it was for the user to look at


def test_journal_records_are_checked_like_the_state_file(path: Path) -> None:
    evil = {**shot().model_dump(), "endpoint": "http://attacker/collect"}
    journal_path(path).write_text(json.dumps({"shot": "lamp", "state": evil}) + "\n")
    message = refusal(path)
    assert '"lamp"' in message and "http://attacker/collect" in message and "token" in message


def test_pending_force_is_journaled_and_kept(path: Path) -> None:
    with Store.open(path, SOURCE) as store:
        store.set_pending_force("lamp", 2)
        store.set_pending_force("calm", 3)
        assert store.pending_force == {"lamp": 2, "calm": 3}
        store.pending_force["x"] = 1  # a copy
        assert Store.read(path, SOURCE).pending_force == {"lamp": 2, "calm": 3}  # from the journal
    assert json.loads(path.read_text())["pending_force"] == {"lamp": 2, "calm": 3}
    with Store.open(path, SOURCE) as store:
        store.clear_pending_force()
        assert Store.read(path, SOURCE).pending_force == {}
    assert json.loads(path.read_text())["pending_force"] == {}


def test_read_only_store_writes_nothing(path: Path) -> None:
    with Store.open(path, SOURCE) as store:
        store.put("lamp", shot())
    before = sorted(os.listdir(path.parent)), path.read_bytes()
    store = Store.read(path, SOURCE)
    assert store.get("lamp") is not None and not store.writable
    with pytest.raises(RuntimeError):
        store.put("calm", shot(2))
    with pytest.raises(RuntimeError):
        store.update("lamp", status="failed")
    store.close()
    assert (sorted(os.listdir(path.parent)), path.read_bytes()) == before


def test_read_sees_a_running_store_without_locking(path: Path) -> None:
    with Store.open(path, SOURCE) as store:
        store.put("lamp", shot(status="submitted"))
        seen = Store.read(path, SOURCE).get("lamp")
        assert seen is not None and seen.status == "submitted"


def test_a_run_that_recorded_nothing_leaves_no_files(path: Path) -> None:
    with Store.open(path, SOURCE) as store:
        assert journal_path(path).exists()
        assert store.get("lamp") is None
    assert os.listdir(path.parent) == []


def test_close_is_idempotent_and_a_closed_store_refuses_writes(path: Path) -> None:
    store = Store.open(path, SOURCE)
    store.close()
    store.close()
    with pytest.raises(RuntimeError):
        store.put("lamp", shot())


def test_update_is_validated_before_anything_is_written(path: Path) -> None:
    with Store.open(path, SOURCE) as store:
        store.put("lamp", shot())
        size = journal_path(path).stat().st_size
        with pytest.raises(ValueError):
            store.update("lamp", task_id="../../elsewhere")
        assert journal_path(path).stat().st_size == size
        assert store.get("lamp") == Store.read(path, SOURCE).get("lamp")


# --- the lock, between real processes ----------------------------------------------------------

HOLD = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from shotlang.engine.state import Store, ShotState
    store = Store.open(Path(sys.argv[1]), "castle.shot")
    store.put("child", ShotState(body_sha256="cd", endpoint="/v1/videos/text2video",
                                 external_task_id="child-g1", status="submitting"), durable=True)
    print("ready", flush=True)
    time.sleep(60)
""")


@contextmanager
def holder(path: Path) -> Iterator[subprocess.Popen[str]]:
    child = subprocess.Popen([sys.executable, "-c", HOLD, str(path)], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline() == "ready\n"
        yield child
    finally:
        if child.poll() is None:
            child.kill()
        child.wait(10)


def test_a_second_run_is_told_who_holds_the_state(path: Path) -> None:
    with holder(path) as child:
        with pytest.raises(StateBusy) as caught:
            Store.open(path, SOURCE)
        assert caught.value.holder.startswith(f"pid {child.pid} on host {socket.gethostname()}, since ")
        assert str(caught.value) == (f"{path} is in use by another shotlang run ({caught.value.holder}); "
                                     "wait for it to finish, or stop it")


def test_the_lock_dies_with_its_holder_and_its_journal_is_replayed(path: Path) -> None:
    with Store.open(path, SOURCE) as store:
        store.put("mine", shot())
    with holder(path) as child:
        child.send_signal(signal.SIGKILL)
        child.wait(10)
        assert journal_path(path).exists()
        with Store.open(path, SOURCE) as store:
            assert store.get("child") is not None and store.get("mine") is not None
    saved = json.loads(path.read_text())["shots"]
    assert set(saved) == {"mine", "child"}


def test_two_stores_in_one_process_exclude_each_other(path: Path) -> None:
    with Store.open(path, SOURCE):
        with pytest.raises(StateBusy) as caught:
            Store.open(path, SOURCE)
        assert f"pid {os.getpid()}" in caught.value.holder
    with Store.open(path, SOURCE):
        pass  # released on close, and the deleted journal is not in the way


@pytest.mark.slow
def test_runs_one_after_another_never_lose_entries(path: Path) -> None:
    """Two runs with disjoint --only sets lost 4 of 8 entries. Now each waits its turn; many short
    runs also race close() deleting the journal against open() locking it."""
    script = textwrap.dedent("""
        import sys
        from pathlib import Path
        from shotlang.engine.state import Store, ShotState, StateBusy
        for run in range(25):
            while True:  # no pause: the tighter the race, the likelier a wrong lock shows
                try:
                    store = Store.open(Path(sys.argv[1]), "castle.shot")
                    break
                except StateBusy:
                    pass
            with store:
                name = f"{sys.argv[2]}{run}"
                store.put(name, ShotState(body_sha256="cd", endpoint="/v1/videos/text2video",
                                          external_task_id=name + "-g1"))
    """)
    sides = "abcdefgh"
    runs = [subprocess.Popen([sys.executable, "-c", script, str(path), side]) for side in sides]
    assert [run.wait(60) for run in runs] == [0] * len(sides)
    assert sorted(json.loads(path.read_text())["shots"]) == sorted(f"{s}{i}" for s in sides for i in range(25))
    assert not journal_path(path).exists()


# --- local errors propagate, the store stays consistent ----------------------------------------

def test_a_failed_append_changes_nothing(path: Path) -> None:
    """A file-size limit (as a full disk) makes the journal write fail: OSError, memory and
    journal as before, and the next open replays a clean journal."""
    script = textwrap.dedent("""
        import resource, signal, sys
        from pathlib import Path
        from shotlang.engine.state import Store, ShotState, journal_path
        path = Path(sys.argv[1])
        store = Store.open(path, "castle.shot")
        store.put("lamp", ShotState(body_sha256="cd", endpoint="/v1/videos/text2video",
                                    external_task_id="lamp-g1"))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        size = journal_path(path).stat().st_size
        resource.setrlimit(resource.RLIMIT_FSIZE, (size + 100, resource.RLIM_INFINITY))
        try:
            store.update("lamp", status_msg="x" * 1000)
        except OSError as e:
            print("OSError", e.errno)
        print(store.get("lamp").status_msg)
        print(journal_path(path).stat().st_size == size)
        sys.stdout.flush()
        import os; os._exit(0)  # no close: leave the journal as a crash would
    """)
    done = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True, text=True, timeout=60)
    assert done.stdout.split("\n")[:3] == ["OSError 27", "None", "True"], done.stderr
    with Store.open(path, SOURCE) as store:
        got = store.get("lamp")
        assert got is not None and got.status_msg is None


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into a read-only folder")
def test_an_unwritable_folder_is_an_os_error(path: Path) -> None:
    path.parent.chmod(0o555)
    try:
        with pytest.raises(PermissionError):
            Store.open(path, SOURCE)
    finally:
        path.parent.chmod(0o755)


def test_a_missing_folder_is_an_os_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        Store.open(tmp_path / "gone" / "castle.shot.state.json", SOURCE)


SAVING = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from shotlang.files import atomic_file
    with atomic_file(Path(sys.argv[1])) as f:  # the state file, half written
        f.write(b'{"shotlang_state": 1, "sou')
        f.flush()
        print("ready", flush=True)
        time.sleep(60)
""")


@contextmanager
def saving(path: Path) -> Iterator[tuple[subprocess.Popen[str], Path]]:
    """A process in the middle of writing `path` atomically, and its temporary file."""
    before = set(os.listdir(path.parent))
    child = subprocess.Popen([sys.executable, "-c", SAVING, str(path)], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline() == "ready\n"
        [tmp] = set(os.listdir(path.parent)) - before
        assert tmp.startswith(f".{path.name}.{child.pid}-") and tmp.endswith(".part")
        yield child, path.parent / tmp
    finally:
        if child.poll() is None:
            child.kill()
        child.wait(10)


def test_a_run_removes_what_a_process_killed_while_saving_the_state_left(path: Path) -> None:
    with Store.open(path, SOURCE) as store:
        store.put("lamp", shot())
    saved = path.read_bytes()
    with saving(path) as (child, tmp):
        child.send_signal(signal.SIGKILL)
        child.wait(10)
        assert tmp.exists()
        other = path.parent / f".lamp.mp4.{child.pid}-00ff.part"  # not the state's: left to the run
        other.write_bytes(b"")
        with Store.read(path, SOURCE) as store:  # reading writes nothing, removes nothing
            assert store.get("lamp") is not None and tmp.exists()
        with Store.open(path, SOURCE) as store:
            assert store.get("lamp") is not None
            assert not tmp.exists() and other.exists()
    assert path.read_bytes() == saved


def test_a_live_process_keeps_its_temporary_file(path: Path) -> None:
    with saving(path) as (_child, tmp):
        with Store.open(path, SOURCE):
            assert tmp.exists()
        assert tmp.exists()


# --- files that are not (this list's) state files ----------------------------------------------

def test_a_non_utf8_file_is_refused_plainly(path: Path) -> None:
    path.write_bytes(b'{"shotlang_state": 1, "source": "castle.shot\xff"}')
    message = refusal(path)
    assert "not a shotlang state file" in message and "UTF-8" in message


def test_a_state_file_of_another_shot_list_is_refused(path: Path) -> None:
    path.write_text(json.dumps({"shotlang_state": 1, "source": "other.shot", "shots": {}}))
    assert refusal(path) == (f"{path.name} belongs to other.shot, not castle.shot; if you renamed the shot "
                             'list, change "source" in the state file, else move it aside')


def test_another_format_version_is_refused(path: Path) -> None:
    path.write_text(json.dumps({"shotlang_state": 2, "source": SOURCE, "shots": {"x": {"new": "shape"}}}))
    assert "state format 2" in refusal(path)


@pytest.mark.parametrize("endpoint", ["http://attacker/collect", "/v1/videos/text2video/../../x", "", None])
def test_a_foreign_endpoint_is_refused(path: Path, endpoint: str | None) -> None:
    write_state(path, {"calm": shot(2).model_dump(), "lamp": {**shot().model_dump(), "endpoint": endpoint}})
    message = refusal(path)
    assert '"lamp"' in message and json.dumps(endpoint) in message and "token" in message
    assert "pydantic" not in message and "\n" not in message


@pytest.mark.parametrize(("field", "value"), [("external_task_id", "../../../v1/account"),
                                              ("task_id", "x?y=1"), ("task_id", ".."),
                                              ("external_task_id", "a" * 129)])
def test_an_id_that_is_not_a_kling_id_is_refused(path: Path, field: str, value: str) -> None:
    write_state(path, {"lamp": {**shot().model_dump(), field: value}})
    message = refusal(path)
    assert '"lamp"' in message and field in message and "token" in message


def test_a_broken_file_gets_one_short_reason(path: Path) -> None:
    write_state(path, {"lamp": {**shot().model_dump(), "generation": "many"}})
    message = refusal(path)
    assert "not a shotlang state file" in message and "shots.lamp.generation" in message
    assert "\n" not in message
    write_state(path, {"lamp": {"body_sha256": "ab"}})
    assert "shots.lamp.endpoint: Field required" in refusal(path)
    path.write_text("{not json")
    assert "not a shotlang state file" in refusal(path)


def test_older_state_files_still_load(path: Path) -> None:
    old = {k: v for k, v in shot().model_dump().items() if k not in ("sha256", "mtime_ns")}
    write_state(path, {"lamp": old})
    assert Store.read(path, SOURCE).get("lamp") == shot()


def test_the_state_file_stays_readable_by_the_format_it_had(path: Path) -> None:
    with Store.open(path, SOURCE) as store:
        store.put("lamp", shot())
    saved = json.loads(path.read_text())
    assert saved["shotlang_state"] == 1 and saved["source"] == SOURCE
    assert saved["shots"]["lamp"]["external_task_id"] == "castle-1-g1"


# --- symlinks ----------------------------------------------------------------------------------

def test_a_symlinked_state_file_is_written_through(tmp_path: Path, path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    real = shared / "castle.json"
    write_state(real, {})
    path.symlink_to(real)
    with Store.open(path, SOURCE) as store:
        store.put("lamp", shot())
        assert journal_path(real).exists() and not journal_path(path).exists()
        assert store.path == path
    assert path.is_symlink() and os.readlink(path) == str(real)
    assert "lamp" in json.loads(real.read_text())["shots"]
    assert not list(shared.glob("*.part")) and not journal_path(real).exists()


def test_a_dangling_symlink_is_refused(tmp_path: Path, path: Path) -> None:
    path.symlink_to(tmp_path / "nowhere.json")
    assert refusal(path) == f"{path} is a symbolic link to {tmp_path / 'nowhere.json'}, which does not exist"
    assert not (tmp_path / "nowhere.json").exists()


# --- permissions -------------------------------------------------------------------------------

@pytest.mark.parametrize(("mask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_new_files_get_the_mode_open_would_give(tmp_path: Path, mask: int, mode: int) -> None:
    with umask(mask):
        write_atomic(tmp_path / "out.json", "{}")
        with Store.open(state_path(tmp_path / SOURCE), SOURCE) as store:
            store.put("lamp", shot())
            assert stat.S_IMODE(journal_path(store.path).stat().st_mode) == mode
        open(tmp_path / "plain", "w").close()
    assert stat.S_IMODE((tmp_path / "plain").stat().st_mode) == mode
    assert stat.S_IMODE((tmp_path / "out.json").stat().st_mode) == mode
    assert stat.S_IMODE(state_path(tmp_path / SOURCE).stat().st_mode) == mode


def test_an_existing_file_keeps_its_mode(tmp_path: Path) -> None:
    target = tmp_path / "lamp.mp4"
    target.write_bytes(b"old")
    target.chmod(0o640)
    with umask(0o077), atomic_file(target) as f:
        f.write(b"new")
    assert target.read_bytes() == b"new" and stat.S_IMODE(target.stat().st_mode) == 0o640


def test_a_failed_atomic_write_leaves_the_target_and_no_part(tmp_path: Path) -> None:
    target = tmp_path / "lamp.mp4"
    target.write_bytes(b"old")
    with pytest.raises(KeyboardInterrupt), atomic_file(target) as f:
        f.write(b"half")
        raise KeyboardInterrupt
    assert target.read_bytes() == b"old" and os.listdir(tmp_path) == ["lamp.mp4"]


# --- is the video still the one recorded? ------------------------------------------------------

@pytest.fixture
def video(tmp_path: Path) -> tuple[Path, ShotState]:
    target = tmp_path / "lamp.mp4"
    target.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"v" * 100)
    st = target.stat()
    return target, shot(file="lamp.mp4", bytes=st.st_size, sha256=file_sha256(target), mtime_ns=st.st_mtime_ns)


def test_the_recorded_video_matches(video: tuple[Path, ShotState]) -> None:
    target, state = video
    assert video_matches(target, state)
    os.utime(target, ns=(time.time_ns(), time.time_ns() + 10**9))  # touched, same content
    assert video_matches(target, state)


def test_a_video_replaced_by_other_content_does_not_match(video: tuple[Path, ShotState]) -> None:
    target, state = video
    target.write_bytes(b"<html>" + b"x" * (target.stat().st_size - 6))  # same size
    os.utime(target, ns=(time.time_ns(), (state.mtime_ns or 0) + 10**9))
    assert not video_matches(target, state)
    target.write_bytes(b"short")
    assert not video_matches(target, state)


def test_a_symlink_or_a_folder_does_not_match(tmp_path: Path, video: tuple[Path, ShotState]) -> None:
    target, state = video
    kept = tmp_path / "kept.mp4"
    target.rename(kept)
    target.symlink_to(kept)
    assert not video_matches(target, state)
    target.unlink()
    target.mkdir()
    assert not video_matches(target, state)
    target.rmdir()
    assert not video_matches(target, state)


def test_older_states_fall_back_to_the_size(video: tuple[Path, ShotState]) -> None:
    target, state = video
    target.write_bytes(b"y" * target.stat().st_size)
    assert video_matches(target, state.model_copy(update={"sha256": None, "mtime_ns": None}))
    assert video_matches(target, state.model_copy(update={"sha256": None, "mtime_ns": None, "bytes": None}))
    assert not video_matches(target, state.model_copy(update={"sha256": None, "bytes": 3}))


def test_file_sha256_streams_large_files(tmp_path: Path) -> None:
    import hashlib
    data = os.urandom(3 * (1 << 20) + 5)
    (tmp_path / "big").write_bytes(data)
    assert file_sha256(tmp_path / "big") == hashlib.sha256(data).hexdigest()
