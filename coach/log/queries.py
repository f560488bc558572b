"""Reading the session log back (history, exports, reports) and forgetting parts of it for real.

Reads never create or change ``coach.db`` (it is opened ``mode=ro``): with no log there is simply
nothing to show, and a damaged one is an error, left for the next session to set aside. Dates given
by a person (``--since``, ``--before``) are local calendar days; the log keeps UTC.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coach.errors import CoachError
from coach.log.files import SIDE_FILES, LockFile
from coach.log.guard import check_files
from coach.log.journal import check_private_dir
from coach.log.schema import StoredRecord, UnknownRecord, from_row
from coach.log.store import DB_NAME, Store, wall_text


class RecordsError(CoachError, ValueError):
    """A history, export, report or forget request cannot be done as asked."""


@dataclass(frozen=True)
class Filter:
    """Which sessions: started on or after ``since``, before ``before`` (local days), of ``profile``."""

    since: _dt.date | None = None
    before: _dt.date | None = None
    profile: str | None = None

    def where(self) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        args: list[Any] = []
        if self.since is not None:
            clauses.append("s.started >= ?")
            args.append(local_midnight(self.since))
        if self.before is not None:
            clauses.append("s.started < ?")
            args.append(local_midnight(self.before))
        if self.profile is not None:
            clauses.append("s.profile = ?")
            args.append(self.profile)
        return (" WHERE " + " AND ".join(clauses) if clauses else ""), args


@dataclass(frozen=True)
class SessionSummary:
    id: int
    routine: str
    title: str | None
    version: str | None
    language: str | None
    profile: str | None
    started: str
    """Wall clock, ISO 8601 UTC."""
    ended: str | None
    status: str | None
    """None while the session is open (running, or crashed and not yet closed)."""
    exercises_done: int
    exercises_total: int | None
    pain_before: int | None
    """The first answered rating asked before the session."""
    pain_after: int | None
    """The last answered rating asked after the session."""

    @property
    def started_local(self) -> _dt.datetime:
        """Local time it started (the epoch for a start that is not a time: :func:`sessions` leaves those out)."""
        moment = wall_time(self.started)
        return (moment or _dt.datetime.fromtimestamp(0, _dt.UTC)).astimezone()


@dataclass(frozen=True)
class RecordRow:
    """One record of the log, typed as it was appended, with where and when it was written."""

    id: int
    session: int | None
    wall: str
    """Wall clock when it happened, ISO 8601 UTC."""
    record: StoredRecord
    """The typed record; an :class:`~coach.log.schema.UnknownRecord` for a row this coach cannot read as one."""
    other_fields: dict[str, Any] = field(default_factory=dict)
    """Fields the row has that its type does not (a newer coach's, a hand edit's): only the JSON export shows them."""

    @property
    def kind(self) -> str:
        return self.record.kind


@dataclass(frozen=True)
class Forgotten:
    sessions: int
    records: int
    left_aside: tuple[str, ...]
    """Damaged logs moved aside (earlier, or by this very call): not searched, so the person can delete them by hand."""
    notices: tuple[str, ...] = ()
    """Lines for the person: the log set aside on opening, the folder made private."""


def parse_date(text: str) -> _dt.date:
    """``YYYY-MM-DD`` for argparse, with an error that says what was expected."""
    try:
        return _dt.date.fromisoformat(text)
    except ValueError:
        raise RecordsError(f"not a date (YYYY-MM-DD): {text!r}") from None


def local_midnight(day: _dt.date) -> str:
    return wall_text(_dt.datetime.combine(day, _dt.time.min).astimezone())


def parse_wall(text: str) -> _dt.datetime:
    return _dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def open_existing(state_dir: Path, *, readonly: bool = True) -> Store | None:
    """The store in ``state_dir``, or None when no session was ever logged there (nothing is created).

    ``readonly`` (the default) opens it only to read; ``forget`` opens it to write, holding the lock.
    """
    if not check_private_dir(state_dir) or not check_files(state_dir / DB_NAME, SIDE_FILES):
        return None
    try:
        store = Store(state_dir, readonly=readonly)
    except (sqlite3.Error, OSError) as exc:
        if isinstance(exc, CoachError):
            raise
        raise RecordsError(f"{state_dir / DB_NAME}: cannot read the session log: {exc}") from None
    if readonly and store.version() == 0:
        store.close()
        return None
    return store


def sessions(
    store: Store, which: Filter = Filter(), limit: int | None = None, notices: list[str] | None = None
) -> list[SessionSummary]:
    """Sessions, oldest first (the newest ``limit`` of them when given).

    Exercises done is the count the session itself ended with (its summary's, which leaves rest breaks
    out); only a session still open, which has none yet, counts its ``done`` exercise records. With
    ``notices`` (history, the report, which need dates), a session whose start is not a time is left out
    and a line says so; without (the exports), it goes out as stored.
    """
    where, args = which.where()
    # Pain before and after: a heard rating that was never confirmed is kept in the log (and cautioned), not counted.
    query = f"""
        SELECT s.id, s.routine, s.title, s.version, s.language, s.profile, s.started, s.ended, s.status,
               coalesce(s.exercises_done, (SELECT count(*) FROM records r
                    WHERE r.session_id = s.id AND r.kind = 'exercise' AND r.status = 'done'
                    AND json_extract(r.extra, '$.rest') IS NOT 1)),
               s.exercises_total,
               (SELECT value FROM records r WHERE r.session_id = s.id AND r.kind = 'rating' AND r.moment = 'before'
                    AND r.value IS NOT NULL AND r.confirmed IS NOT 'unconfirmed' ORDER BY r.id LIMIT 1),
               (SELECT value FROM records r WHERE r.session_id = s.id AND r.kind = 'rating' AND r.moment = 'after'
                    AND r.value IS NOT NULL AND r.confirmed IS NOT 'unconfirmed' ORDER BY r.id DESC LIMIT 1)
        FROM sessions s{where} ORDER BY s.id DESC"""
    if limit is not None:
        query += f" LIMIT {int(limit):d}"
    rows = store.conn.execute(query, args).fetchall()
    found = [_summary(row) for row in reversed(rows)]
    if notices is None:
        return found
    dated = [s for s in found if wall_time(s.started) is not None]
    if len(dated) < len(found):
        odd = next(s for s in found if wall_time(s.started) is None)
        notices.append(
            f"{len(found) - len(dated)} sessions have a start that is not a time (session {odd.id}: {odd.started!r}); left out"
        )
    return dated


def _summary(row: Sequence[Any]) -> SessionSummary:
    """A summary from a ``sessions`` row, each value of its field's type: a hand edit cannot crash a report."""
    routine, title, version, language, profile, started, ended, status = (None if v is None else str(v) for v in row[1:9])
    done, total, before, after = (v if isinstance(v, int) and not isinstance(v, bool) else None for v in row[9:13])
    return SessionSummary(
        int(row[0]), str(routine), title, version, language, profile, str(started), ended, status, done or 0, total, before, after
    )


def wall_time(text: str) -> _dt.datetime | None:
    """The moment a stored wall clock text names, or None when it names none (a hand edit)."""
    try:
        moment = parse_wall(text)
    except (ValueError, TypeError, AttributeError):
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=_dt.UTC)


def records(store: Store, which: Filter = Filter()) -> list[RecordRow]:
    """Every record of the chosen sessions, in the order written, typed as it was appended."""
    where, args = which.where()
    cursor = store.conn.cursor()
    cursor.row_factory = sqlite3.Row
    rows = cursor.execute(f"SELECT r.* FROM records r JOIN sessions s ON s.id = r.session_id{where} ORDER BY r.id", args)
    return [RecordRow(row["id"], row["session_id"], row["wall"], *from_row(row)) for row in rows]


def unreadable(rows: Sequence[RecordRow]) -> str | None:
    """A line for a person when some rows are not records this coach can read (``None`` when all are)."""
    odd = [row.record for row in rows if isinstance(row.record, UnknownRecord)]
    if not odd:
        return None
    kinds = ", ".join(dict.fromkeys(record.kind for record in odd))
    return f"{len(odd)} records this coach cannot read as its own (kinds: {kinds}; first: {odd[0].problem})"


def forget(state_dir: Path, which: Filter, dry_run: bool = False) -> Forgotten:
    """Delete the chosen sessions and all their records for real: no copy is left in the database
    file or its WAL (``secure_delete``, then ``VACUUM``, then a truncating checkpoint).

    Refused while a session is running (its records would have nowhere to go); sessions left open
    by a crash are closed as ``interrupted`` first, as a journal opening would.
    """
    if which.profile is None and which.before is None:
        raise RecordsError("forget needs --profile CODE or --before DATE (or both)")
    notices: list[str] = []
    if not check_private_dir(state_dir, notices) or not check_files(state_dir / DB_NAME, SIDE_FILES):
        return Forgotten(0, 0, _aside(state_dir), tuple(notices))
    lock = LockFile(state_dir)
    store: Store | None = None
    try:  # the lock first: only a process holding it exclusively may change (or set aside) the log
        if not lock.try_exclusive():
            raise RecordsError(f"{state_dir}: a session is being logged now; try again when it has ended")
        store = open_existing(state_dir, readonly=dry_run)  # a dry run changes nothing, a damaged log included
        if store is not None:
            notices.extend(store.notices)
        if store is None or store.version() == 0:
            return Forgotten(0, 0, _aside(state_dir), tuple(notices))
        if not dry_run:
            store.close_interrupted()
        where, args = which.where()
        ids = [row[0] for row in store.conn.execute(f"SELECT s.id FROM sessions s{where}", args)]
        marks = ", ".join("?" * len(ids))
        (count,) = store.conn.execute(f"SELECT count(*) FROM records WHERE session_id IN ({marks})", ids).fetchone()
        if not dry_run and ids:
            _delete(store.conn, ids, marks)
        return Forgotten(len(ids), int(count), _aside(state_dir), tuple(notices))
    finally:
        if store is not None:
            store.close()
        lock.release()


def _aside(state_dir: Path) -> tuple[str, ...]:
    """Logs set aside (damaged, or a stranger WAL): ``forget`` cannot search them, so it names them."""
    corrupt = [p.name for p in state_dir.glob(f"{DB_NAME}.corrupt-*") if not p.name.endswith(("-wal", "-shm"))]
    return tuple(sorted([*corrupt, *(p.name for p in state_dir.glob(f"{DB_NAME}-wal.stranger-*"))]))


def _delete(conn: sqlite3.Connection, ids: list[int], marks: str) -> None:
    conn.execute("PRAGMA secure_delete = ON")
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute(f"DELETE FROM records WHERE session_id IN ({marks})", ids)
        conn.execute(f"DELETE FROM sessions WHERE id IN ({marks})", ids)
        conn.execute("COMMIT")
    except BaseException:
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")
        raise
    conn.execute("VACUUM")
    (busy, _, _) = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    if busy:
        raise RecordsError("the records are deleted, but a reader kept the old pages in coach.db-wal; run forget again")
