"""The outbox: records committed on a station and not yet acknowledged by the clinic's broker.

Table ``outbox`` (schema version 2) holds one row per such record. :meth:`Store.write
<coach.log.store.Store.write>` queues each record in the very transaction that commits it (:func:`queue`),
so a crash can leave neither a record that will never be sent nor a queued id with no record. ``coach sync``
reads the backlog in record-id order (:meth:`OutboxLog.backlog`) and deletes a row only once the broker
has acknowledged that record (:meth:`OutboxLog.acknowledge`); until then it is sent again, and the
clinic drops the second copy by its message id.

The sync process shares the log with the kiosk, so :class:`OutboxLog` opens it gently: it creates,
migrates, moves and locks nothing (no ``coach.lock``: a kiosk that starts must still be able to close a
crashed session), every statement is its own short transaction, a busy log is waited for
(``busy_timeout``) rather than failed, and its commits skip the fsync (``synchronous=NORMAL``): losing an
acknowledgement to a power cut only means a record is sent twice, which the clinic ignores.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import os
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from coach.core.records import RatingRecorded, SessionStarted
from coach.errors import JournalError
from coach.log.files import SIDE_FILES
from coach.log.guard import check_files
from coach.log.reads import wall_text
from coach.log.schema import UnknownRecord, from_row, refuse_newer

OUTBOX_VERSION = 2
"""The schema version that brought the outbox."""

BUSY_SECONDS = 5.0
"""How long a statement waits for the kiosk's write to finish (its transactions take milliseconds)."""

SESSION_COLUMNS = ("routine", "version", "title", "language", "profile", "started", "ended", "status")
SESSION_NUMBERS = ("exercises_done", "exercises_total")

IN_SESSION_HOURS = 3.0
"""An open session whose last record is older than this is a crashed one (closed when the kiosk next
starts), not one in progress: the status says idle."""


def queue(conn: sqlite3.Connection, record_ids: Iterable[int]) -> None:
    """Queue ``record_ids`` for sending; the caller's transaction commits them with their records."""
    conn.executemany("INSERT INTO outbox (record_id) VALUES (?)", [(record_id,) for record_id in record_ids])


@dataclass(frozen=True)
class Outgoing:
    """One queued record, with what the clinic needs to file it: its session as the station has it now."""

    record_id: int
    kind: str
    wall: str
    """When it was written (ISO 8601 UTC)."""
    fields: dict[str, Any]
    """The record's fields as stored (fields left empty are left out)."""
    session: dict[str, Any] | None
    """The session row (``id`` and the columns of ``sessions``), or None for a record outside a session."""


@dataclass(frozen=True)
class StationStatus:
    """What a station's status topic (and Home Assistant) says about its log."""

    in_session: bool
    last_session: str | None
    """When the last session started (ISO 8601 UTC), if there is one."""
    pain_before: int | None
    pain_after: int | None
    """The last session's first 'before' rating and last 'after' rating that have a value."""
    sessions_this_week: int
    """Sessions started since Monday 00:00 local time."""
    backlog: int
    """Records not yet acknowledged by the broker."""


class OutboxLog:
    """``coach.db`` as ``coach sync`` uses it: the backlog and its acknowledgements, and a few reads.

    :meth:`open` returns False while there is nothing to read yet (no log, or a log from before the
    outbox that the kiosk has not upgraded: the sync process never migrates, two migrating processes
    would race). When the kiosk moved a damaged log aside and began a new one, :meth:`open` notices the
    file is another and reopens it.
    """

    def __init__(self, state_dir: Path, *, connect: Callable[..., sqlite3.Connection] = sqlite3.connect) -> None:
        self.state_dir = state_dir
        self.path = state_dir / "coach.db"
        self._connect = connect
        self.conn: sqlite3.Connection | None = None
        self._inode: tuple[int, int] | None = None
        self.waiting: str | None = None
        """Why :meth:`open` found nothing to read, in a line (for the caller to say once)."""

    def open(self) -> bool:
        """Whether the log is open (opening it, or reopening a replaced one); never creates it."""
        try:
            exists = check_files(self.path, SIDE_FILES)
            info = os.stat(self.path) if exists else None
        except OSError as exc:
            raise JournalError(f"{self.path}: cannot look at the session log: {exc.strerror or exc}") from None
        if info is None:
            self.close()
            self.waiting = f"{self.path}: no session log yet"
            return False
        if self.conn is not None and self._inode == (info.st_dev, info.st_ino):
            return True
        self.close()
        conn = self._connect(str(self.path), isolation_level=None, timeout=BUSY_SECONDS, check_same_thread=False)
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(BUSY_SECONDS * 1000)}")
            version = refuse_newer(conn, self.path)
            if version < OUTBOX_VERSION:
                conn.close()
                self.waiting = f"{self.path}: the session log has no outbox yet (schema {version}); the next 'coach run' adds it"
                return False
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
            conn.set_authorizer(_outbox_only)
        except BaseException:
            conn.close()
            raise
        self.conn, self._inode, self.waiting = conn, (info.st_dev, info.st_ino), None
        return True

    def close(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(sqlite3.Error):
                self.conn.close()
        self.conn, self._inode = None, None

    def _db(self) -> sqlite3.Connection:
        if self.conn is None:
            raise JournalError(f"{self.path}: the session log is not open")
        return self.conn

    def backlog(self, after: int = 0, limit: int = 100) -> list[Outgoing]:
        """Up to ``limit`` queued records with ids above ``after``, in record-id order (the order they happened)."""
        cursor = self._db().cursor()
        cursor.row_factory = sqlite3.Row
        rows = cursor.execute(
            "SELECT r.*, s.id AS s_id, "
            + ", ".join(f"s.{name} AS s_{name}" for name in (*SESSION_COLUMNS, *SESSION_NUMBERS))
            + " FROM outbox o JOIN records r ON r.id = o.record_id LEFT JOIN sessions s ON s.id = r.session_id"
            " WHERE o.record_id > ? ORDER BY o.record_id LIMIT ?",
            (after, limit),
        ).fetchall()
        return [_outgoing(row) for row in rows]

    def backlog_size(self) -> int:
        return int(self._db().execute("SELECT count(*) FROM outbox").fetchone()[0])

    def acknowledge(self, record_ids: Sequence[int]) -> None:
        """Take ``record_ids`` off the outbox (the broker has them), in one short transaction."""
        if not record_ids:
            return
        conn = self._db()
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.executemany("DELETE FROM outbox WHERE record_id = ?", [(record_id,) for record_id in record_ids])
            conn.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            raise

    def status(self, now: _dt.datetime) -> StationStatus:
        """The last session, its pain before and after, this week's count and the backlog, as of ``now``."""
        conn = self._db()
        last = conn.execute("SELECT id, started, status FROM sessions ORDER BY id DESC LIMIT 1").fetchone()
        before = after = None
        in_session = False
        if last is not None:
            before, after = _pain(conn, int(last[0]))
            if last[2] is None:
                (latest,) = conn.execute("SELECT max(wall) FROM records WHERE session_id = ?", (last[0],)).fetchone()
                in_session = latest is not None and latest >= wall_text(now - _dt.timedelta(hours=IN_SESSION_HOURS))
        local = now.astimezone()
        monday = (local - _dt.timedelta(days=local.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
        (week,) = conn.execute("SELECT count(*) FROM sessions WHERE started >= ?", (wall_text(monday),)).fetchone()
        return StationStatus(in_session, None if last is None else str(last[1]), before, after, int(week), self.backlog_size())


_READS = {
    sqlite3.SQLITE_READ, sqlite3.SQLITE_SELECT, sqlite3.SQLITE_TRANSACTION, sqlite3.SQLITE_FUNCTION,
    sqlite3.SQLITE_SAVEPOINT, sqlite3.SQLITE_RECURSIVE,
}  # fmt: skip
_SETTINGS = {"busy_timeout", "synchronous", "foreign_keys"}


def _outbox_only(action: int, arg1: str | None, arg2: str | None, database: str | None, trigger: str | None) -> int:
    """The sync's connection may read anything and delete outbox rows; every other write is refused
    (SQLite's authorizer), so no slip in the sync code can change a record, a session or the schema."""
    if action in _READS or (action == sqlite3.SQLITE_DELETE and arg1 == "outbox"):
        return sqlite3.SQLITE_OK
    if action == sqlite3.SQLITE_PRAGMA and (arg2 is None or arg1 in _SETTINGS):
        return sqlite3.SQLITE_OK
    return sqlite3.SQLITE_DENY


def _pain(conn: sqlite3.Connection, session_id: int) -> tuple[int | None, int | None]:
    query = "SELECT value FROM records WHERE session_id = ? AND kind = ? AND moment = ? AND value IS NOT NULL ORDER BY id "
    first = conn.execute(query + "LIMIT 1", (session_id, RatingRecorded.kind, "before")).fetchone()
    final = conn.execute(query + "DESC LIMIT 1", (session_id, RatingRecorded.kind, "after")).fetchone()
    return (None if first is None else int(first[0])), (None if final is None else int(final[0]))


def _outgoing(row: sqlite3.Row) -> Outgoing:
    record, unknown = from_row(row)
    if isinstance(record, UnknownRecord):
        fields = record.fields()
    else:
        fields = {name: value for name, value in record.fields().items() if value is not None} | unknown
    session = None
    if row["s_id"] is not None:
        session = {"id": int(row["s_id"])} | {name: row[f"s_{name}"] for name in (*SESSION_COLUMNS, *SESSION_NUMBERS)}
    return Outgoing(int(row["id"]), str(row["kind"]), str(row["wall"]), fields, session)


def is_session_start(item: Outgoing) -> bool:
    """Whether ``item`` is the record that opens its session (its id is the session's)."""
    return item.kind == SessionStarted.kind and item.session is not None and item.session["id"] == item.record_id
