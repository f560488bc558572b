"""The session log: one ``Journal`` interface, where it lives, and how to open it.

The store is SQLite (:class:`coach.log.store.SqliteJournal`, opened by :func:`open_journal`). A record is
durable before :meth:`Journal.append` returns its id, so the ``logged`` event and any "got it" that
follows describe something that survives a pulled plug. When the disk refuses a write (full,
read-only) ``append`` returns ``None``: the record is kept in memory and written later, and
:meth:`Journal.take_written` reports it then.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from coach.errors import JournalError

if TYPE_CHECKING:
    from coach.log.store import SqliteJournal


class Journal(Protocol):
    def append(self, kind: str, fields: dict[str, Any]) -> int | None:
        """Store one record; return its id once it is durable, or ``None`` if it is only kept in memory
        for now (the disk refused it): then no ``logged`` event may be given for it yet."""
        ...

    def take_written(self) -> list[tuple[str, int]]:
        """Records ``append`` kept in memory that are durable now, as ``(kind, id)``, each reported once."""
        ...

    def take_notices(self) -> list[str]:
        """One-line notices for a person (a damaged log moved aside, a full disk), each reported once."""
        ...

    def close(self) -> None: ...


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


def open_journal(state_dir: Path, profile: str | None = None) -> SqliteJournal:
    """The session log in ``state_dir/coach.db``; sessions it writes carry the clinic ``profile`` code.

    Never fails for a full or read-only disk (it keeps records in memory and says so through
    ``take_notices``); raises :class:`~coach.errors.JournalError` only for a log written by a newer coach.
    """
    from coach.log.store import SqliteJournal

    return SqliteJournal(state_dir, profile)


def ensure_private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) with mode 0700; health data is nobody else's business."""
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise JournalError(f"{path}: cannot create the state directory: {exc.strerror or exc}") from None
    return path


class MemoryJournal:
    """A journal that keeps records in a list (tests, and ``--simulate`` without a state dir)."""

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []

    def append(self, kind: str, fields: dict[str, Any]) -> int:
        self.records.append({"id": len(self.records) + 1, "kind": kind, **fields})
        return len(self.records)

    def take_written(self) -> list[tuple[str, int]]:
        return []

    def take_notices(self) -> list[str]:
        return []

    def close(self) -> None:
        pass
