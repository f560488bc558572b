"""The files of the state folder besides the database's content: created private, and the lock.

``coach.lock`` tells which coach processes have the log open: each open journal holds a shared
``flock`` on it, and a session left open is closed as interrupted only by a process that can take
it exclusively (so no live coach is writing that session). The kernel drops a killed process's lock.

Every open here is ``O_NOFOLLOW``: a link planted at one of these paths is refused, never followed
(:func:`~coach.log.guard.check_path` says why first; the flag closes the race between look and open).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import stat
from pathlib import Path

from coach.log.guard import UnsafeLogError, check_path

LOCK_NAME = "coach.lock"
SIDE_FILES = ("-wal", "-shm")

_NOFOLLOW = os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
"""No link followed, and no wait on a FIFO that slipped in between the look and the open."""


def _open_regular(path: Path, flags: int) -> int:
    """``os.open`` a regular file (checked, then opened without following a link); raise for anything else."""
    check_path(path)
    try:
        fd = os.open(path, flags | _NOFOLLOW, 0o600)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENXIO):
            raise UnsafeLogError(f"{path}: is a link or a special file; refused") from None
        raise
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise UnsafeLogError(f"{path}: is not a regular file; refused")
    os.set_blocking(fd, True)
    return fd


def create_private(path: Path) -> None:
    """Create the database file 0600 before SQLite does (its ``-wal`` and ``-shm`` copy the mode)."""
    fd = _open_regular(path, os.O_RDWR | os.O_CREAT)
    try:
        if os.fstat(fd).st_mode & 0o077:
            os.fchmod(fd, 0o600)
    finally:
        os.close(fd)
    for suffix in SIDE_FILES:
        with contextlib.suppress(FileNotFoundError):
            target = Path(f"{path}{suffix}")
            if check_path(target) and target.stat().st_mode & 0o077:
                os.chmod(target, 0o600)


def open_private_out(path: Path) -> int:
    """A descriptor to write health data to ``path`` (a report, an export): created 0600, an existing file
    made 0600 and emptied; a link, FIFO or device refused (never followed, never waited on)."""
    fd = _open_regular(path, os.O_WRONLY | os.O_CREAT)
    try:
        os.fchmod(fd, 0o600)
        os.ftruncate(fd, 0)
    except BaseException:
        os.close(fd)
        raise
    return fd


class LockFile:
    """``coach.lock``: a shared ``flock`` while a journal is open; exclusive briefly to recover."""

    def __init__(self, state_dir: Path) -> None:
        self.fd: int | None = None
        try:
            self.fd = _open_regular(state_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT)
        except UnsafeLogError:
            raise
        except OSError:
            self.fd = None  # a read-only folder: nothing can be recovered there anyway

    def try_exclusive(self) -> bool:
        if self.fd is None:
            return False
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False
        return True

    def share(self) -> None:
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_SH)

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
