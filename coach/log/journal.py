"""Where the session log lives, and the in-memory journal of a simulated session.

The log itself is SQLite (:class:`coach.log.store.SqliteJournal`, opened by
:func:`coach.log.store.open_journal`); the interface the loop writes through is
:class:`coach.run.ports.Journal`. When the disk refuses a write (full, read-only) ``append``
returns ``None``: the record is kept in memory and written later, and ``take_written`` reports it then.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

from coach.core.records import Record
from coach.errors import JournalError
from coach.log.guard import UnsafeLogError
from coach.run.ports import NoJournal


def default_state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "coach"


def resolve_state_dir(option: str | None, configured: str | None) -> Path:
    """The state folder: ``--state-dir``, else the config's ``state_dir``, else :func:`default_state_dir`."""
    if option:
        return Path(option).expanduser()
    if configured:
        return Path(configured).expanduser()
    return default_state_dir()


class ForeignFolderError(UnsafeLogError):
    """The state folder is another user's, or not a folder: refused, left as it is."""


def ensure_private_dir(path: Path, notices: list[str] | None = None) -> Path:
    """Create ``path`` (and parents) with mode 0700; health data is nobody else's business.

    An existing folder is checked as :func:`check_private_dir` does (refused if another user's, made 0700).
    """
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    except FileExistsError:
        check_private_dir(path)  # a file where the folder should be: refused, with what it is
        raise
    except OSError as exc:
        raise JournalError(f"{path}: cannot create the state directory: {exc.strerror or exc}") from None
    check_private_dir(path, notices)
    return path


def check_private_dir(path: Path, notices: list[str] | None = None) -> bool:
    """Whether the state folder exists; refuse one another user owns, and make one others may open 0700
    (with a line in ``notices``): a folder others can write lets them plant files, one they can read leaks."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise JournalError(f"{path}: cannot look at the state directory: {exc.strerror or exc}") from None
    if not stat.S_ISDIR(info.st_mode):
        raise ForeignFolderError(f"{path}: the state directory is not a folder")
    if info.st_uid != os.geteuid():
        raise ForeignFolderError(f"{path}: the state directory belongs to another user (uid {info.st_uid}); refused")
    if info.st_mode & 0o077:
        try:
            os.chmod(path, 0o700)
        except OSError as exc:
            raise JournalError(f"{path}: others may open the state directory; it cannot be made 0700: {exc.strerror}") from None
        if notices is not None:
            notices.append(f"{path}: others could open the state directory (mode {stat.S_IMODE(info.st_mode):o}); it is now 0700")
    return True


class MemoryJournal(NoJournal):
    """A journal that keeps records in a list (tests, and ``--simulate`` without a state dir)."""

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []

    def append(self, record: Record) -> int:
        self.records.append({"id": len(self.records) + 1, "kind": record.kind, **record.fields()})
        return len(self.records)
