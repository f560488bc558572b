"""The session log in SQLite: ``coach.db`` in the state directory.

Why SQLite, and how it is set up:

- **Acknowledged means durable.** Every record is one transaction, committed before
  :meth:`SqliteJournal.append` returns. The database is in WAL mode with ``synchronous=FULL``, so a
  commit has reached the card (the WAL is ``fsync``-ed) when it returns; a pulled plug loses at most
  the record being written, never one that was announced.
- **Small writes for SD cards.** One table holds every record (typed columns for the fields the
  reports query, JSON for the rest), so a commit usually dirties two small (1 KiB) pages: the record's
  and the id sequence's; ``bench/write_cost.py`` measures the bytes.
- **Crash recovery.** On open, a session left without ``session_end`` by a process that is gone is
  closed as ``interrupted`` (recorded, with ``recovered: true``), and :meth:`SqliteJournal.last_interrupted`
  tells what to offer to resume. Which processes are alive is known from ``coach.lock``: every open
  journal holds a shared ``flock`` on it, so a session is closed only when no other coach has the log
  open; a killed process loses its lock with its life.
- **Corruption, and strangers.** A file that is not a database, fails ``PRAGMA integrity_check`` or is
  not coach's (:mod:`coach.log.guard`: its application id and schema) is moved aside with its ``-wal``
  and ``-shm`` (as ``coach.db.corrupt-<UTC time>``, still openable for forensics), a fresh one is started,
  and one line says so (:attr:`Store.notices`). A ``-wal`` that is not the log's own is set aside alone
  (``coach.db-wal.stranger-<UTC time>``), keeping the log as it was. Only a journal holding ``coach.lock``
  exclusively moves anything; a read-only store (history, exports, report) reports damage and changes nothing.
- **Planted paths.** A symbolic link, FIFO or device at the database, its side files or the lock is
  refused at once (:class:`~coach.log.guard.UnsafeLogError`), never followed or opened.
- **Full or read-only disk.** :class:`SqliteJournal` keeps records in memory, says so once, returns
  ``None`` from ``append`` (not durable yet) and writes them, in order, with the next record that can be
  written; :meth:`SqliteJournal.take_written` then reports their ids.
- **The outbox.** Every record is queued for the clinic's broker (table ``outbox``) in the transaction
  that writes it, so a record is never committed without being queued (:mod:`coach.log.outbox`).
- **Privacy.** The folder is 0700 and the files 0600; no audio and no names are stored, only an optional
  clinic profile code. ``coach forget`` deletes for real (see :mod:`coach.log.queries`).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from coach.core.records import ExerciseResult, Record, SessionEnded, SessionStarted
from coach.errors import JournalError
from coach.log.files import SIDE_FILES, LockFile, create_private
from coach.log.guard import APPLICATION_ID, UnsafeLogError, check_files, diagnose, move_aside, move_wal_aside
from coach.log.journal import check_private_dir, ensure_private_dir
from coach.log.outbox import queue
from coach.log.reads import StoreReads
from coach.log.reads import utc_now as utc_now  # re-exported: exports and queries stamp times with them
from coach.log.reads import wall_text as wall_text
from coach.log.schema import NewerSchemaError, migrate, refuse_newer, to_columns
from coach.run.ports import Interrupted

DB_NAME = "coach.db"

PAGE_SIZE = 1024
"""Bytes per database page for new databases (``bench/write_cost.py``: 80 KiB a session, against 140 at 4096)."""

Connect = Callable[..., sqlite3.Connection]
Now = Callable[[], _dt.datetime]


@dataclass(frozen=True)
class Pending:
    """A record waiting to be written: its wall time is when it happened, not when it was saved."""

    record: Record
    wall: str


class Store(StoreReads):
    """One connection to ``coach.db``: schema, corruption recovery, writes and reads.

    ``readonly`` (history, exports, report): the file is opened ``mode=ro``, nothing is created, moved
    or migrated, and damage raises :class:`~coach.errors.JournalError`. Otherwise ``may_set_aside`` says
    whether this process holds ``coach.lock`` exclusively, the only case in which a damaged or strange
    file may be moved aside (no other coach has it open).
    """

    def __init__(
        self,
        state_dir: Path,
        *,
        connect: Connect = sqlite3.connect,
        now: Now = utc_now,
        readonly: bool = False,
        may_set_aside: bool = True,
    ) -> None:
        self.state_dir = state_dir
        self.path = state_dir / DB_NAME
        self.now = now
        self.notices: list[str] = []
        self.session_id: int | None = None
        """The session the records written through this store belong to."""
        self.readonly = readonly
        self._may_set_aside = may_set_aside
        self._connect = connect
        if readonly:
            check_private_dir(state_dir, self.notices)
            self.conn = self._open_readonly()
        else:
            ensure_private_dir(state_dir, self.notices)
            self.conn = self._open()

    # --- opening ----------------------------------------------------------------------------

    def _open(self) -> sqlite3.Connection:
        check_files(self.path, SIDE_FILES)
        create_private(self.path)
        self._set_aside_strangers()
        conn = self._connect(str(self.path), isolation_level=None, timeout=10.0)
        try:
            _configure(conn)
            migrate(conn, self.path)
            if conn.execute("PRAGMA application_id").fetchone()[0] != APPLICATION_ID:
                conn.execute(f"PRAGMA application_id = {APPLICATION_ID:d}")  # a new log, or one from before ids
        except BaseException:
            conn.close()
            raise
        return conn

    def _open_readonly(self) -> sqlite3.Connection:
        if not check_files(self.path, SIDE_FILES):
            raise JournalError(f"{self.path}: no session log there")
        main, wal = diagnose(self._connect, self.path)
        if wal is not None:
            raise JournalError(f"{self.path}-wal: not this log's ({wal}); left as it is (the next 'coach run' sets it aside)")
        if main is not None:
            later = "the next 'coach run' moves it aside"
            raise JournalError(f"{self.path}: the session log is damaged ({main}); left as it is ({later})")
        # With no WAL there is nothing to replay: immutable, so not even an empty -wal or -shm is created.
        mode = "mode=ro" if Path(f"{self.path}-wal").exists() else "immutable=1"
        conn = self._connect(f"{self.path.resolve().as_uri()}?{mode}", uri=True, isolation_level=None, timeout=10.0)
        try:
            refuse_newer(conn, self.path)
        except BaseException:
            conn.close()
            raise
        return conn

    def version(self) -> int:
        """The schema version of the open log (0: an empty file, nothing ever logged)."""
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    def _set_aside_strangers(self) -> None:
        """Move aside what is not a sound coach log: the WAL alone when only it is the stranger."""
        main, wal = diagnose(self._connect, self.path)
        whole = main or wal
        if whole is None:
            return
        if not self._may_set_aside:
            raise JournalError(f"{self.path}: {whole}; another coach has the log open, so it is not moved aside now")
        stamp = self.now().astimezone(_dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        if wal is not None:
            self.notices.append(move_wal_aside(self.path, stamp, wal))
        else:
            self.notices.append(move_aside(self.path, stamp, whole))
            create_private(self.path)

    def close(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self.conn.close()

    # --- writing ----------------------------------------------------------------------------

    def write(self, items: Sequence[Pending], profile: str | None = None) -> list[int]:
        """Write ``items`` in order in one transaction, committed before returning; return their ids."""
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            ids = [self._insert(item, profile) for item in items]
            queue(conn, ids)  # in the same transaction: no record is ever committed without being queued
            conn.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            raise
        return ids

    def _insert(self, item: Pending, profile: str | None) -> int:
        record = item.record
        record_id = self._insert_row(self.session_id, record, item.wall)
        if isinstance(record, SessionStarted):
            self.conn.execute(
                "INSERT INTO sessions (id, routine, version, title, language, profile, started) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    record_id,
                    str(record.routine),
                    _text(record.version),
                    _text(record.title),
                    _text(record.language),
                    profile,
                    item.wall,
                ),
            )
            self.conn.execute("UPDATE records SET session_id = ? WHERE id = ?", (record_id, record_id))
            self.session_id = record_id
        elif isinstance(record, SessionEnded) and self.session_id is not None:
            self.conn.execute(
                "UPDATE sessions SET ended = ?, status = ?, exercises_done = ?, exercises_total = ? WHERE id = ?",
                (item.wall, _text(record.status), _int(record.exercises_done), _int(record.exercises_total), self.session_id),
            )
        return record_id

    def _insert_row(self, session_id: int | None, record: Record, wall: str) -> int:
        columns, extra = to_columns(record)
        names = ["session_id", "kind", "wall", "extra", *columns]
        values: list[Any] = [session_id, record.kind, wall, extra, *columns.values()]
        cursor = self.conn.execute(f"INSERT INTO records ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})", values)
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def close_interrupted(self) -> list[int]:
        """Close every open session as ``interrupted``, recorded as a :class:`SessionEnded` with
        ``recovered``; the caller knows no live process owns one."""
        open_ids = [row[0] for row in self.conn.execute("SELECT id FROM sessions WHERE status IS NULL ORDER BY id")]
        if not open_ids:
            return []
        wall = wall_text(self.now())
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            for session_id in open_ids:
                last_wall, last_at = self.conn.execute(
                    "SELECT wall, at FROM records WHERE session_id = ? ORDER BY id DESC LIMIT 1", (session_id,)
                ).fetchone()
                (done,) = self.conn.execute(
                    "SELECT count(*) FROM records WHERE session_id = ? AND kind = ? AND status = 'done'"
                    " AND json_extract(extra, '$.rest') IS NOT 1",  # a rest break is not an exercise
                    (session_id, ExerciseResult.kind),
                ).fetchone()
                end = SessionEnded(float(last_at or 0.0), "interrupted", done, None, recovered=True)
                queue(self.conn, [self._insert_row(session_id, end, wall)])
                self.conn.execute(
                    "UPDATE sessions SET ended = ?, status = ?, exercises_done = ? WHERE id = ?",
                    (last_wall, end.status, done, session_id),
                )
            self.conn.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                self.conn.execute("ROLLBACK")
            raise
        return open_ids

# --- helpers ------------------------------------------------------------------------------------


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _configure(conn: sqlite3.Connection) -> None:
    # Small pages for a new database (ignored for an existing one): a commit appends whole pages to
    # the WAL, and records are about 150 bytes; 1 KiB pages about halve the bytes written per session.
    conn.execute(f"PRAGMA page_size = {PAGE_SIZE:d}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA foreign_keys = ON")


class SqliteJournal:
    """The :class:`~coach.log.journal.Journal` over :class:`Store`, with a memory for when the disk fails.

    ``append`` returns the record's id once it is committed, or ``None`` when the disk refused it:
    the record is then kept in memory (in order) and written with the next record that can be, and
    :meth:`take_written` reports its id then. Problems are said once each through :meth:`take_notices`.
    """

    def __init__(
        self, state_dir: Path, profile: str | None = None, *, connect: Connect = sqlite3.connect, now: Now = utc_now
    ) -> None:
        self.state_dir = state_dir
        self.profile = profile
        self.now = now
        self._connect = connect
        self.store: Store | None = None
        self.pending: list[Pending] = []
        self.recovered: list[int] = []
        """Sessions this journal closed as ``interrupted`` when it opened."""
        self._written: list[tuple[str, int]] = []
        self._notices: list[str] = []
        self._failing = False
        self._lock: LockFile | None = None
        self._open()

    def _open(self) -> bool:
        exclusive = False
        try:
            if self._lock is None:
                ensure_private_dir(self.state_dir, self._notices)
                self._lock = LockFile(self.state_dir)
            # Exclusive while opening: only then may a damaged log be moved aside, or a session be closed.
            exclusive = self._lock.try_exclusive()
            store = Store(self.state_dir, connect=self._connect, now=self.now, may_set_aside=exclusive)
        except (sqlite3.Error, OSError) as exc:
            if self._lock is not None and exclusive:
                self._lock.share()
            if isinstance(exc, NewerSchemaError | UnsafeLogError):
                if self._lock is not None:
                    self._lock.release()
                    self._lock = None
                raise
            self._fail(exc)
            return False
        self.store = store
        self._notices.extend(store.notices)
        if exclusive:
            try:
                self.recovered = store.close_interrupted()
            except sqlite3.Error as exc:
                self._fail(exc)
        if self._lock is not None:
            self._lock.share()
        return True

    def append(self, record: Record) -> int | None:
        self.pending.append(Pending(record, wall_text(self.now())))
        return self._flush()

    def _flush(self) -> int | None:
        if self.store is None and not self._open():
            return None
        assert self.store is not None
        try:
            ids = self.store.write(self.pending, self.profile)
        except (sqlite3.Error, OSError) as exc:
            self._fail(exc)
            return None
        written, self.pending = self.pending, []
        self._written.extend((item.record.kind, record_id) for item, record_id in zip(written[:-1], ids[:-1]))
        if self._failing:
            self._failing = False
            self._notices.append("the session log is being written again; the records kept in memory are saved")
        return ids[-1]

    def _fail(self, exc: BaseException) -> None:
        if self._failing:
            return
        self._failing = True
        reason = getattr(exc, "strerror", None) or str(exc)
        self._notices.append(
            f"cannot write the session log in {self.state_dir} ({reason}); records are kept in memory and saved when possible"
        )

    def take_written(self) -> list[tuple[str, int]]:
        """Records that ``append`` kept in memory and that are now durable, as ``(kind, id)``, each once."""
        written, self._written = self._written, []
        return written

    def take_notices(self) -> list[str]:
        """One-line notices for a person (a damaged log moved aside, a full disk), each once."""
        notices, self._notices = self._notices, []
        return notices

    def last_interrupted(self) -> Interrupted | None:
        """The most recent session of this journal's profile, if it ended ``interrupted``."""
        if self.store is None:
            return None
        try:
            return self.store.last_interrupted(self.profile)
        except sqlite3.Error:
            return None

    def screened_today(self, day: _dt.date | None = None) -> bool:
        """Whether a screen was answered clear since local midnight (the person's day, not UTC's); for a
        ``day`` given (``--as-of``), whether one was answered clear for that day."""
        midnight = self.now().astimezone().replace(hour=0, minute=0, second=0, microsecond=0)
        with contextlib.suppress(sqlite3.Error):
            return self.store is not None and self.store.screened_since(midnight, self.profile, day)
        return False

    def close(self) -> None:
        """Write what is still in memory if the disk allows, then close (idempotent)."""
        if self.pending:
            self._failing = True  # a last try: no new notice if it fails again
            if self._flush() is None:
                self._notices.append(f"{len(self.pending)} records of this session could not be saved in {self.state_dir}")
                self.pending = []
        if self.store is not None:
            self.store.close()
            self.store = None
        if self._lock is not None:
            self._lock.release()
            self._lock = None


def open_journal(state_dir: Path, profile: str | None = None) -> SqliteJournal:
    """The session log in ``state_dir/coach.db``; sessions it writes carry the clinic ``profile`` code.

    Never fails for a full or read-only disk (it keeps records in memory and says so through
    ``take_notices``); raises :class:`~coach.errors.JournalError` only for a log written by a newer coach.
    """
    return SqliteJournal(state_dir, profile)
