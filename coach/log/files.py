"""The files of the state folder besides the database's content: created private, and the lock.

``coach.lock`` tells which coach processes have the log open: each open journal holds a shared
``flock`` on it, and a session left open is closed as interrupted only by a process that can take
it exclusively (so no live coach is writing that session). The kernel drops a killed process's lock.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

LOCK_NAME = "coach.lock"
SIDE_FILES = ("-wal", "-shm")


def create_private(path: Path) -> None:
    """Create the database file 0600 before SQLite does (its ``-wal`` and ``-shm`` copy the mode)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    os.close(fd)
    for suffix in ("", *SIDE_FILES):
        with contextlib.suppress(FileNotFoundError):
            target = Path(f"{path}{suffix}")
            if target.stat().st_mode & 0o077:
                os.chmod(target, 0o600)


class LockFile:
    """``coach.lock``: a shared ``flock`` while a journal is open; exclusive briefly to recover."""

    def __init__(self, state_dir: Path) -> None:
        self.fd: int | None = None
        try:
            self.fd = os.open(state_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
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
