"""The schema of ``coach.db``: its migrations, and how a record's fields map to columns.

One table holds every record: typed columns for the fields that reports and exports query, and
JSON (``extra``) for the rest, so a commit touches as few pages as possible (SD cards). A typed record
(:mod:`coach.core.records`) goes in through :func:`to_columns` and comes back, the same, through
:func:`from_row`; :data:`COLUMNS` is the only place that says which field is in which column.
Views (``ratings``, ``exercise_results``, ``safety_events``) give each kind its own shape for anyone
reading the file with ``sqlite3``.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from coach.core.records import Record, RecordError, field_names, record_from
from coach.errors import JournalError


class NewerSchemaError(JournalError):
    """The log was written by a newer coach; it is left untouched."""


MIGRATIONS: list[tuple[str, ...]] = [
    # 1: sessions, their records, and views a person can query with the sqlite3 shell.
    (
        """CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)""",
        # A random id for this database: exports name records uniquely with it (FHIR fullUrl).
        """INSERT INTO meta (key, value) VALUES ('instance', lower(hex(randomblob(16))))""",
        """CREATE TABLE sessions (
            id INTEGER PRIMARY KEY,          -- the id of the session's own 'session' record
            routine TEXT NOT NULL,           -- routine id
            version TEXT,                    -- short hash of the routine file's bytes
            title TEXT,
            language TEXT,
            profile TEXT,                    -- clinic profile code (never a name), or NULL
            started TEXT NOT NULL,           -- wall clock, ISO 8601 UTC
            ended TEXT,                      -- wall clock of its last record, ISO 8601 UTC
            status TEXT,                     -- completed, stopped, stopped-for-pain, interrupted; NULL while open
            exercises_done INTEGER,
            exercises_total INTEGER
        )""",
        """CREATE TABLE records (
            id INTEGER PRIMARY KEY AUTOINCREMENT,  -- the id announced by the 'logged' event; never reused
            session_id INTEGER REFERENCES sessions(id) ON DELETE CASCADE,
            kind TEXT NOT NULL,              -- session exercise rating safety pause resume repeat stop session_end
            wall TEXT NOT NULL,              -- wall clock when written, ISO 8601 UTC
            at REAL,                         -- session seconds
            exercise TEXT,
            value INTEGER,                   -- a pain rating 0-10
            status TEXT,
            source TEXT,
            moment TEXT,                     -- before, exercise, after, unprompted
            confirmed TEXT,
            ex_index INTEGER,                -- the exercise's index in the routine
            repetitions INTEGER,             -- repetitions started
            rule TEXT,
            action TEXT,
            reason TEXT,
            during TEXT,
            extra TEXT NOT NULL DEFAULT '{}' -- JSON: the record's other fields
        )""",
        """CREATE VIEW ratings AS
            SELECT id, session_id, wall, at, value, status, source, moment,
                   moment <> 'unprompted' AS prompted, exercise, confirmed
            FROM records WHERE kind = 'rating'""",
        """CREATE VIEW exercise_results AS
            SELECT id, session_id, wall, at, exercise, ex_index, status, repetitions
            FROM records WHERE kind = 'exercise'""",
        """CREATE VIEW safety_events AS
            SELECT id, session_id, wall, at, rule, action, reason, json_extract(extra, '$.rating') AS rating
            FROM records WHERE kind = 'safety'""",
    ),
    # 2: a log that scales (indexes for the set-based queries of history, exports and the report), the
    # outbox a station's sync sends from, and the columns a clinic store needs to hold many stations.
    (
        """CREATE INDEX records_by_session ON records (session_id, kind, id)""",
        """CREATE INDEX sessions_by_start ON sessions (started, id)""",
        """CREATE INDEX sessions_by_profile ON sessions (profile, started)""",
        # NULL in a station's own log; in a clinic store, the station the session came from.
        """ALTER TABLE sessions ADD COLUMN station TEXT""",
        """CREATE INDEX sessions_by_station ON sessions (station, started)""",
        # NULL in a station's own log; in a clinic store, the id the record was sent with
        # ('<clinic>/<station>/<record id>'), so a second delivery of it is recognised and dropped.
        """ALTER TABLE records ADD COLUMN message_id TEXT""",
        """CREATE UNIQUE INDEX records_by_message ON records (message_id) WHERE message_id IS NOT NULL""",
        # Records committed but not yet acknowledged by the clinic's broker; a row is queued in the same
        # transaction as its record and leaves only on the broker's acknowledgement.
        """CREATE TABLE outbox (record_id INTEGER PRIMARY KEY REFERENCES records(id) ON DELETE CASCADE)""",
        # Every record already in the log when this version arrives is still to be sent.
        """INSERT INTO outbox (record_id) SELECT id FROM records""",
    ),
]
"""Schema versions: ``MIGRATIONS[n]`` takes a database from ``user_version`` n to n + 1. Only append."""

COLUMNS: dict[str, tuple[str, type]] = {
    "at": ("at", float),
    "exercise": ("exercise", str),
    "value": ("value", int),
    "status": ("status", str),
    "source": ("source", str),
    "moment": ("moment", str),
    "confirmed": ("confirmed", str),
    "index": ("ex_index", int),
    "repetitions_started": ("repetitions", int),
    "rule": ("rule", str),
    "action": ("action", str),
    "reason": ("reason", str),
    "during": ("during", str),
}
"""The one map from records to the table: a field with this name, in any record type, has this column
(of this type); every other field goes to ``extra``. A name means the same in every type it appears in
(``tests/test_store.py`` checks each is a field of some type, of the column's type)."""


@dataclass(frozen=True)
class UnknownRecord:
    """A row this coach cannot read as one of its record types: a kind it does not know (a newer coach
    wrote it) or fields that do not fit the kind's type (a hand edit). It is kept as stored, so the JSON
    and CSV exports still carry it; the report's charts and the FHIR export, which need the types, skip it."""

    kind: str
    stored: dict[str, Any]
    """The row's fields as they are in the log."""
    problem: str
    """Why it is not a typed record, in a line (``rating: value is 'seven', not int or None``)."""

    def fields(self) -> dict[str, Any]:
        return dict(self.stored)


StoredRecord = Record | UnknownRecord
"""What a log row reads back as."""


def to_columns(record: Record) -> tuple[dict[str, Any], str]:
    """Columns for the record's fields that have one (when the value fits it), and JSON for the others.

    A ``None`` field is left out (a NULL column, no key): it reads back as ``None`` from its type. A value
    that does not fit its column goes to the JSON as it is, so nothing in a record can make the insert
    fail and no record can block the ones after it.
    """
    columns: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for name, value in record.fields().items():
        column = COLUMNS.get(name)
        if value is None:
            continue
        if column is not None and _fits(value, column[1]):
            columns[column[0]] = value
        else:
            extra[name] = value
    return columns, json.dumps(extra, ensure_ascii=False, default=str, separators=(",", ":"))


def from_row(row: sqlite3.Row) -> tuple[StoredRecord, dict[str, Any]]:
    """The typed record a ``records`` row holds (the inverse of :func:`to_columns`), and the fields the
    row has that its type does not (a newer coach's, or a hand edit's), which only the JSON export keeps.

    A row that is not a record of this coach reads as an :class:`UnknownRecord` with all its fields.
    """
    kind = str(row["kind"])
    stored = _stored_fields(row)
    try:
        record = record_from(kind, stored)
    except RecordError as exc:
        return UnknownRecord(kind, stored, str(exc)), {}
    names = field_names(type(record))
    return record, {name: value for name, value in stored.items() if name not in names}


def _stored_fields(row: sqlite3.Row) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for name, (column, _) in COLUMNS.items():
        value = row[column]
        if value is not None:
            fields[name] = value
    try:
        extra = json.loads(row["extra"] or "{}")
    except ValueError:
        extra = {"extra": row["extra"]}  # a hand edit that is not JSON: shown as it is
    fields.update(extra if isinstance(extra, dict) else {"extra": extra})
    return fields


def _fits(value: Any, kind: type) -> bool:
    if isinstance(value, bool):
        return False
    if kind is float:
        return isinstance(value, int | float)
    return isinstance(value, kind)


def refuse_newer(conn: sqlite3.Connection, path: Path, known: int | None = None) -> int:
    """The log's schema version; raise :class:`NewerSchemaError` when it is newer than this coach knows."""
    known = len(MIGRATIONS) if known is None else known
    (version,) = conn.execute("PRAGMA user_version").fetchone()
    if version > known:
        raise NewerSchemaError(
            f"{path}: written by a newer coach (schema version {version}, this one knows {known}); left untouched"
        )
    return int(version)


def migrate(conn: sqlite3.Connection, path: Path, migrations: Sequence[Iterable[str]] | None = None) -> int:
    """Bring the schema to the newest version, one committed step at a time; return the version."""
    steps = MIGRATIONS if migrations is None else migrations
    version = refuse_newer(conn, path, len(steps))
    for number, statements in enumerate(steps[version:], start=version + 1):
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in statements:
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {number:d}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return len(steps)
