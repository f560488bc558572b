"""The session log: one ``Journal`` interface, and the interim JSON Lines store behind it.

Every record is durable (written, flushed and ``fsync``-ed) before :meth:`Journal.append` returns,
so the ``logged`` event and any "got it" that follows describe something that survives a pulled
plug. A line torn by a crash mid-write is left on a line of its own, so every other line stays
readable.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import uuid
from pathlib import Path
from typing import Any, Protocol

from coach.errors import JournalError


class Journal(Protocol):
    def append(self, kind: str, fields: dict[str, Any]) -> int:
        """Store one record durably; return its id."""
        ...

    def close(self) -> None: ...


def default_state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "coach"


def ensure_private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) with mode 0700; health data is nobody else's business."""
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise JournalError(f"{path}: cannot create the state directory: {exc.strerror or exc}") from None
    return path


class JsonlJournal:
    """Append-only JSON Lines file ``journal.jsonl`` in the state directory."""

    FILENAME = "journal.jsonl"

    def __init__(self, state_dir: Path) -> None:
        ensure_private_dir(state_dir)
        self.path = state_dir / self.FILENAME
        self.session_id = uuid.uuid4().hex[:12]
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            self._file = os.fdopen(fd, "a", encoding="utf-8")
            self._next_id = self._count_lines() + 1
            if self._torn():
                self._file.write("\n")
                self._next_id += 1
        except OSError as exc:
            raise JournalError(f"{self.path}: cannot open the session log: {exc.strerror or exc}") from None

    def _count_lines(self) -> int:
        with open(self.path, "rb") as f:
            return sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 16), b""))

    def _torn(self) -> bool:
        size = self.path.stat().st_size
        if size == 0:
            return False
        with open(self.path, "rb") as f:
            f.seek(size - 1)
            return f.read(1) != b"\n"

    def append(self, kind: str, fields: dict[str, Any]) -> int:
        record_id = self._next_id
        record = {
            "id": record_id,
            "session": self.session_id,
            "kind": kind,
            "wall": _dt.datetime.now(_dt.UTC).isoformat(timespec="milliseconds"),
            **fields,
        }
        try:
            self._file.write(json.dumps(record, ensure_ascii=False) + "\n")
            self._file.flush()
            os.fsync(self._file.fileno())
        except OSError as exc:
            raise JournalError(f"{self.path}: cannot write the session log: {exc.strerror or exc}") from None
        self._next_id += 1
        return record_id

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()


class MemoryJournal:
    """A journal that keeps records in a list (tests, and ``--simulate`` without a state dir)."""

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []

    def append(self, kind: str, fields: dict[str, Any]) -> int:
        self.records.append({"id": len(self.records) + 1, "kind": kind, **fields})
        return len(self.records)

    def close(self) -> None:
        pass
