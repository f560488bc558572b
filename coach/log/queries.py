"""Reading the session log back (history, exports, reports) and forgetting parts of it for real.

Reads never create or change ``coach.db`` (it is opened ``mode=ro``): with no log there is simply
nothing to show, and a damaged one is an error, left for the next session to set aside. Dates given
by a person (``--since``, ``--before``) are local calendar days; the log keeps UTC.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from coach.core.records import Record
from coach.errors import CoachError
from coach.log import decode
from coach.log.files import SIDE_FILES, LockFile
from coach.log.guard import check_files
from coach.log.journal import check_private_dir
from coach.log.schema import StoredRecord, UnknownRecord, from_row
from coach.log.store import DB_NAME, Store, wall_text


class RecordsError(CoachError, ValueError):
    """A history, export, report or forget request cannot be done as asked."""


@dataclass(frozen=True)
class Filter:
    """Which sessions: started on or after ``since``, before ``before`` (local days), of ``profile``, from ``station``.

    ``here`` is the station a session with no station of its own is from: in a station's own log
    (``sessions.station`` NULL) this station's configured id, None when it has none. A clinic store has
    the station on every session, so ``here`` changes nothing there.
    """

    since: _dt.date | None = None
    before: _dt.date | None = None
    profile: str | None = None
    station: str | None = None
    here: str | None = None

    def where(self) -> tuple[str, dict[str, Any]]:
        """The ``WHERE`` clause over ``sessions s`` and its named parameters (``:here`` always among them)."""
        clauses: list[str] = []
        args: dict[str, Any] = {"here": self.here}
        if self.since is not None:
            clauses.append("s.started >= :since")
            args["since"] = local_midnight(self.since)
        if self.before is not None:
            clauses.append("s.started < :before")
            args["before"] = local_midnight(self.before)
        if self.profile is not None:
            clauses.append("s.profile = :profile")
            args["profile"] = self.profile
        if self.station is not None:  # sessions_by_station; this station's own rows have NULL there
            clauses.append("(s.station = :station OR s.station IS NULL)" if self.station == self.here else "s.station = :station")
            args["station"] = self.station
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
    station: str | None = None
    """The station it ran at: its own in a clinic store, else this station's configured id (None: none)."""

    @property
    def started_local(self) -> _dt.datetime:
        """Local time it started (the epoch for a start that is not a time: :func:`sessions` leaves those out)."""
        moment = wall_time(self.started)
        return (moment or _dt.datetime.fromtimestamp(0, _dt.UTC)).astimezone()


class RecordRow:
    """One record of the log, typed as it was appended, with where and when it was written.

    A plain class with slots, not a frozen dataclass like the rest: one is made for every row of a log that
    may hold a million, and the exports of most never ask for the typed record, only its fields, so a row
    read fast (:mod:`coach.log.decode`) makes its record only when :attr:`record` is first asked for.
    Nothing changes a row after it is read.
    """

    __slots__ = (
        "id",
        "session",
        "wall",
        "other_fields",
        "station",
        "routine",
        "version",
        "profile",
        "values",
        "kind",
        "_record",
        "_type",
    )

    def __init__(
        self,
        id: int,  # noqa: A002 - the record's id, as everywhere else
        session: int | None,
        wall: str,
        record: StoredRecord | None,
        other_fields: dict[str, Any] | None = None,
        station: str | None = None,
        routine: str | None = None,
        version: str | None = None,
        profile: str | None = None,
        values: dict[str, Any] | None = None,
        of_type: type[Record] | None = None,
    ) -> None:
        """``record``, or (read fast) None with its type ``of_type`` and its field ``values``."""
        self.id, self.session, self.wall = id, session, wall
        self.other_fields: dict[str, Any] = {} if other_fields is None else other_fields
        """Fields the row has that its type does not (a newer coach's, a hand edit's): only the JSON export shows them."""
        self.station = station
        """The station of its session (as :attr:`SessionSummary.station`)."""
        self.routine, self.version, self.profile = routine, version, profile
        """Its session's routine, version and profile (the CSV export's columns)."""
        self.values = values
        """The record's fields as :meth:`fields` gives them, when the reader already has them."""
        self._record, self._type = record, of_type
        if record is None and (of_type is None or values is None):
            raise ValueError("a record row needs its record, or its type and field values")
        self.kind: str = record.kind if record is not None else str(getattr(of_type, "kind", ""))

    @property
    def record(self) -> StoredRecord:
        """The typed record; an :class:`~coach.log.schema.UnknownRecord` for a row this coach cannot read as one."""
        if self._record is None:
            assert self._type is not None and self.values is not None
            self._record = self._type(**self.values)
        return self._record

    @property
    def unknown(self) -> bool:
        """Whether this row is not a record this coach can read (a row read fast always is one)."""
        return self._record is not None and isinstance(self._record, UnknownRecord)

    def fields(self) -> dict[str, Any]:
        """The record's fields (its type's, in order; an unknown row's as stored): a new dict each time."""
        return dict(self.values) if self.values is not None else self.record.fields()

    def __repr__(self) -> str:
        return f"RecordRow(id={self.id}, session={self.session}, wall={self.wall!r}, record={self.record!r})"


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
    found = iter_sessions(store.conn, which, limit)
    return list(found) if notices is None else list(dated(found, notices))


def dated(found: Iterable[SessionSummary], notices: list[str]) -> Iterator[SessionSummary]:
    """The sessions whose start is a time; once all are seen, a line in ``notices`` says how many were not."""
    odd: SessionSummary | None = None
    count = 0
    for summary in found:
        if wall_time(summary.started) is not None:
            yield summary
            continue
        odd, count = odd or summary, count + 1
    if odd is not None:
        notices.append(f"{count} sessions have a start that is not a time (session {odd.id}: {odd.started!r}); left out")


# One query for all the chosen sessions (not one per session): the records they need are found through
# records_by_session (session_id, kind, id), grouped by session (CROSS JOIN: the chosen sessions are the outer
# loop, so a short history reads only its own sessions' records); ``chosen`` through sessions_by_start,
# sessions_by_profile or sessions_by_station. A heard rating never confirmed is kept in the log (and
# cautioned), not counted as pain before or after.
_SESSIONS = """
    WITH chosen AS ({chosen}),
    done AS (
        SELECT r.session_id AS id, count(*) AS n FROM chosen c CROSS JOIN records r
        WHERE r.session_id = c.id AND r.kind = 'exercise' AND c.exercises_done IS NULL AND r.status = 'done'
            AND json_extract(r.extra, '$.rest') IS NOT 1
        GROUP BY r.session_id),
    pain AS (
        SELECT r.session_id AS id, min(CASE WHEN r.moment = 'before' THEN r.id END) AS first_before,
               max(CASE WHEN r.moment = 'after' THEN r.id END) AS last_after
        FROM chosen c CROSS JOIN records r
        WHERE r.session_id = c.id AND r.kind = 'rating' AND {pain} AND r.moment IN ('before', 'after')
            AND r.value IS NOT NULL AND r.confirmed IS NOT 'unconfirmed'
        GROUP BY r.session_id)
    SELECT c.id, c.routine, c.title, c.version, c.language, c.profile, c.started, c.ended, c.status,
           coalesce(c.exercises_done, d.n, 0), c.exercises_total, b.value, a.value, c.place
    FROM chosen c LEFT JOIN done d ON d.id = c.id LEFT JOIN pain p ON p.id = c.id
         LEFT JOIN records b ON b.id = p.first_before LEFT JOIN records a ON a.id = p.last_after
    ORDER BY c.id"""


def sessions_query(which: Filter = Filter(), limit: int | None = None, pain: bool = True) -> tuple[str, dict[str, Any]]:
    """The SQL (and its parameters) :func:`iter_sessions` runs; ``pain=False`` leaves pain before and after NULL."""
    where, args = which.where()
    chosen = f"SELECT s.*, coalesce(s.station, :here) AS place FROM sessions s{where} ORDER BY s.id"
    if limit is not None:
        chosen += f" DESC LIMIT {int(limit):d}"
    return _SESSIONS.format(chosen=chosen, pain="1" if pain else "0"), args


def iter_sessions(
    conn: sqlite3.Connection, which: Filter = Filter(), limit: int | None = None, pain: bool = True
) -> Iterator[SessionSummary]:
    """The chosen sessions oldest first, as the cursor gives them (the newest ``limit``); see :func:`sessions`."""
    query, args = sessions_query(which, limit, pain)
    for row in conn.execute(query, args):
        yield _summary(row)


def _summary(row: Sequence[Any]) -> SessionSummary:
    """A summary from a ``sessions`` row, each value of its field's type: a hand edit cannot crash a report."""
    routine, title, version, language, profile, started, ended, status = (None if v is None else str(v) for v in row[1:9])
    done, total, before, after = (v if isinstance(v, int) and not isinstance(v, bool) else None for v in row[9:13])
    station = None if row[13] is None else str(row[13])
    return SessionSummary(
        int(row[0]), str(routine), title, version, language, profile, str(started), ended, status, done or 0, total,
        before, after, station,
    )  # fmt: skip


def wall_time(text: str) -> _dt.datetime | None:
    """The moment a stored wall clock text names, or None when it names none (a hand edit)."""
    try:
        moment = parse_wall(text)
    except (ValueError, TypeError, AttributeError):
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=_dt.UTC)


def records(store: Store, which: Filter = Filter()) -> list[RecordRow]:
    """Every record of the chosen sessions, in the order written, typed as it was appended."""
    return list(iter_records(store.conn, which))


_RECORDS = (
    f"SELECT {decode.SELECT}, s.routine, s.version, s.profile, coalesce(s.station, :here)"
    " FROM records r JOIN sessions s ON s.id = r.session_id{where} ORDER BY r.id"
)


def records_query(which: Filter = Filter()) -> tuple[str, dict[str, Any]]:
    """The SQL (and its parameters) :func:`iter_records` runs: one ordered query, joined with the sessions."""
    where, args = which.where()
    return _RECORDS.format(where=where), args


def iter_records(conn: sqlite3.Connection, which: Filter = Filter()) -> Iterator[RecordRow]:
    """The records of the chosen sessions in the order written, read from the cursor as they are asked for."""
    query, args = records_query(which)
    end = decode.END
    for row in conn.execute(query, args):
        decoded = decode.decode(row)
        routine, version, profile, station = session = row[end : end + 4]
        if not _TEXTS.issuperset(map(type, session)):  # a hand edit: a number where a text should be
            routine, version, profile, station = (None if v is None else str(v) for v in session)
        if decoded is None:  # not a plain row: read as the schema reads it (an UnknownRecord, or the same record)
            record, other = _read_one(conn, row[0])
            yield RecordRow(row[0], row[1], row[2], record, other, station, routine, version, profile)
        else:
            of_type, other, values = decoded
            yield RecordRow(row[0], row[1], row[2], None, other, station, routine, version, profile, values, of_type)


_TEXTS = frozenset((str, type(None)))


def _read_one(conn: sqlite3.Connection, record_id: int) -> tuple[StoredRecord, dict[str, Any]]:
    cursor = conn.cursor()
    cursor.row_factory = sqlite3.Row
    return from_row(cursor.execute("SELECT * FROM records WHERE id = ?", (record_id,)).fetchone())


class Unreadable:
    """Counts the rows this coach cannot read as its own records, as they stream by (see :func:`unreadable`)."""

    def __init__(self) -> None:
        self.count = 0
        self.kinds: dict[str, None] = {}
        self.first: str | None = None

    def see(self, row: RecordRow) -> None:
        if row.unknown and isinstance(row.record, UnknownRecord):
            self.count += 1
            self.kinds.setdefault(row.record.kind)
            self.first = self.first or row.record.problem

    def line(self) -> str | None:
        """A line for a person when some rows were not records this coach can read (``None`` when all were)."""
        if not self.count:
            return None
        return f"{self.count} records this coach cannot read as its own (kinds: {', '.join(self.kinds)}; first: {self.first})"


def unreadable(rows: Iterable[RecordRow]) -> str | None:
    """A line for a person when some rows are not records this coach can read (``None`` when all are)."""
    seen = Unreadable()
    for row in rows:
        seen.see(row)
    return seen.line()


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
        loose = _sessionless(store.conn, which)
        if not dry_run and (ids or loose):
            _delete(store.conn, ids, marks, loose)
        return Forgotten(len(ids), int(count) + len(loose), _aside(state_dir), tuple(notices))
    finally:
        if store is not None:
            store.close()
        lock.release()


def _aside(state_dir: Path) -> tuple[str, ...]:
    """Logs set aside (damaged, or a stranger WAL): ``forget`` cannot search them, so it names them."""
    corrupt = [p.name for p in state_dir.glob(f"{DB_NAME}.corrupt-*") if not p.name.endswith(("-wal", "-shm"))]
    return tuple(sorted([*corrupt, *(p.name for p in state_dir.glob(f"{DB_NAME}-wal.stranger-*"))]))


def _sessionless(conn: sqlite3.Connection, which: Filter) -> list[int]:
    """The records outside any session that ``which`` chooses too: a programme's start and stop name their
    profile in a field of their own (``coach programme start`` is no session); ``--before`` by their time."""
    clauses, args = ["session_id IS NULL"], []
    if which.profile is not None:
        clauses.append("json_extract(extra, '$.profile') = ?")
        args.append(which.profile)
    if which.before is not None:
        clauses.append("wall < ?")
        args.append(local_midnight(which.before))
    return [int(row[0]) for row in conn.execute(f"SELECT id FROM records WHERE {' AND '.join(clauses)}", args)]


def _delete(conn: sqlite3.Connection, ids: list[int], marks: str, loose: list[int] | None = None) -> None:
    conn.execute("PRAGMA secure_delete = ON")
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute(f"DELETE FROM records WHERE session_id IN ({marks})", ids)
        conn.execute(f"DELETE FROM records WHERE id IN ({', '.join('?' * len(loose or []))})", loose or [])
        conn.execute("DELETE FROM outbox WHERE record_id NOT IN (SELECT id FROM records)")  # nothing forgotten is sent later
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
