"""Writing files so that a crash or Ctrl-C never leaves half of one behind."""

from __future__ import annotations

import errno
import os
import re
import stat
from collections.abc import Collection, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import BinaryIO

# What a plain open(path, "w") asks for; the kernel takes the umask (and any default ACL) off it.
NEW_FILE_MODE = 0o666


@contextmanager
def atomic_file(path: Path) -> Iterator[BinaryIO]:
    """A binary file that replaces `path` only once complete: written beside it, flushed to
    disk (fsync), then renamed over it. On any exception the target is left as it was.

    The result has the permissions open(path, "w") would give: an existing file keeps its
    mode; a new one gets 0o666 less the umask. The temporary file is created with mode 0o666 so
    the kernel applies the umask itself (mkstemp's 0600 made every video private, and reading
    the umask means setting it, which races other threads)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = _create_beside(path)
    try:
        with os.fdopen(fd, "wb") as f:
            with suppress(FileNotFoundError):
                os.fchmod(f.fileno(), stat.S_IMODE(os.stat(path).st_mode))
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def fsync_dir(folder: Path) -> None:
    """Make a rename or a new file in `folder` survive a power cut (a no-op where folders
    cannot be fsynced)."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    except OSError as e:
        if e.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EBADF):
            raise
    finally:
        os.close(fd)


_PARTIAL = re.compile(r"\.(?P<target>.+)\.(?P<pid>\d+)-[0-9a-f]+\.part")


def partial_files(folder: Path) -> list[tuple[Path, str, int]]:
    """The temporary files in `folder` left by writes that never finished: each with the name
    of the file it was to become and the id of the process that made it (a process that is
    gone cannot finish it). One listing of the folder, however many files it holds."""
    found = []
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    for name in names:
        match = _PARTIAL.fullmatch(name)
        if match is not None:
            found.append((folder / name, match["target"], int(match["pid"])))
    return found


def remove_partials(folder: Path, targets: Collection[str], *, mine: bool = False) -> None:
    """Remove the unfinished writes to these files of `folder` (names, as partial_files gives
    them): this process's own (mine=True, after an interrupt), or else those of processes that
    are gone (a run killed earlier). A live process's, say another run's, are left to it. Best
    effort: a file that cannot be removed stays, as it did."""
    for tmp, target, pid in partial_files(folder):
        if target in targets and ((pid == os.getpid()) if mine else not alive(pid)):
            with suppress(OSError):
                tmp.unlink(missing_ok=True)


def alive(pid: int) -> bool:
    """Whether process `pid` exists (one of another user counts: it cannot be signalled)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def _create_beside(path: Path) -> tuple[int, Path]:
    """A new, empty `.NAME.PID-RANDOM.part` in path's folder, opened for writing (the process
    id says whose it is, so a run cleans up only what is its own or a dead process's)."""
    for _ in range(100):
        tmp = path.with_name(f".{path.name}.{os.getpid()}-{os.urandom(6).hex()}.part")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, NEW_FILE_MODE)
        except FileExistsError:
            continue
        return fd, tmp
    raise FileExistsError(f"no free temporary name beside {path}")


def write_atomic(path: Path, text: str) -> None:
    """Write `text` (UTF-8) to `path` atomically: readers see the old file or the new one."""
    with atomic_file(path) as f:
        f.write(text.encode("utf-8"))
