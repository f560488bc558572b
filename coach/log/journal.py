"""Where the session log lives, and the in-memory journal of a simulated session.

The log itself is SQLite (:class:`coach.log.store.SqliteJournal`, opened by
:func:`coach.log.store.open_journal`); the interface the loop writes through is
:class:`coach.run.ports.Journal`. When the disk refuses a write (full, read-only) ``append``
returns ``None``: the record is kept in memory and written later, and ``take_written`` reports it then.
"""

from __future__ import annotations

import datetime as _dt
import os
from pathlib import Path
from typing import Any

from coach.core.records import Record
from coach.errors import JournalError


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

    def append(self, record: Record) -> int:
        self.records.append({"id": len(self.records) + 1, "kind": record.kind, **record.fields()})
        return len(self.records)

    def take_written(self) -> list[tuple[str, int]]:
        return []

    def take_notices(self) -> list[str]:
        return []

    def last_interrupted(self) -> None:
        """An in-memory journal remembers no earlier session."""
        return None

    def now(self) -> _dt.datetime:
        return _dt.datetime.now(_dt.UTC)

    def close(self) -> None:
        pass
