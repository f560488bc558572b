"""The store's reads for the loop: the session to offer to resume, today's screen, one record, the id.

Kept apart from :mod:`coach.log.store` (which opens the log and writes it) so that each module stays
short; :class:`StoreReads` is a base of :class:`~coach.log.store.Store`, so callers see one object.
The wall-clock helpers live here because both the writes and the reads stamp and compare wall times.
"""

from __future__ import annotations

import datetime as _dt
import sqlite3
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from coach.core.records import ExerciseResult, Screened, SessionEnded, SessionStarted
from coach.log.schema import StoredRecord, from_row
from coach.run.ports import Interrupted


def utc_now() -> _dt.datetime:
    return _dt.datetime.now(_dt.UTC)


def wall_text(moment: _dt.datetime) -> str:
    """ISO 8601 in UTC with milliseconds and ``Z``: sorts as text, and is a FHIR ``dateTime``."""
    return moment.astimezone(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class StoreReads:
    """The read queries of :class:`~coach.log.store.Store` over its connection ``conn``."""

    conn: sqlite3.Connection
    path: Path

    def last_interrupted(self, profile: str | None = None) -> Interrupted | None:
        """The most recent session (of ``profile``, if given) when it ended ``interrupted``; else None."""
        query = "SELECT id, routine, version, started, ended, status FROM sessions"
        args: tuple[Any, ...] = ()
        if profile is not None:
            query, args = query + " WHERE profile = ?", (profile,)
        row = self.conn.execute(query + " ORDER BY id DESC LIMIT 1", args).fetchone()
        if row is None or row[5] != "interrupted":
            return None
        session_id = row[0]
        done, any_result = self.conn.execute(
            "SELECT max(CASE WHEN status = 'done' THEN ex_index END), max(ex_index) FROM records "
            "WHERE session_id = ? AND kind = ?",
            (session_id, ExerciseResult.kind),
        ).fetchone()
        end = self.read_one("WHERE session_id = ? AND kind = ? ORDER BY id DESC LIMIT 1", (session_id, SessionEnded.kind))
        recovered = isinstance(end, SessionEnded) and bool(end.recovered)
        resume = 0 if any_result is None else any_result + 1
        start = self.read_one("WHERE id = ?", (session_id,))
        if isinstance(start, SessionStarted) and start.resumed_from is not None:  # cut again before its first result
            resume = max(resume, start.resumed_from)
        return Interrupted(session_id, row[1], row[2], row[3], row[4], done, resume, recovered)

    def screened_since(self, since: _dt.datetime, profile: str | None = None, day: _dt.date | None = None) -> bool:
        """Whether a red-flag screen (of ``profile``'s sessions, if given) was answered ``clear`` at or after ``since``;
        with ``day`` (``--as-of``), whether one was answered clear for that calendar day instead."""
        query = "SELECT 1 FROM records JOIN sessions ON sessions.id = session_id WHERE kind = ? AND records.status = ?"
        when: tuple[str, str] = ("wall >= ? AND json_extract(records.extra, '$.day') IS NULL", wall_text(since))
        if day is not None:
            when = ("json_extract(records.extra, '$.day') = ?", day.isoformat())
        args = (Screened.kind, "clear", when[1], profile, profile)
        return self.conn.execute(query + f" AND {when[0]} AND (? IS NULL OR profile = ?) LIMIT 1", args).fetchone() is not None

    def read_one(self, where: str, args: Sequence[Any]) -> StoredRecord | None:
        """The first record of ``SELECT * FROM records <where>``, typed, or None when there is none."""
        cursor = self.conn.cursor()
        cursor.row_factory = sqlite3.Row
        row = cursor.execute(f"SELECT * FROM records {where}", args).fetchone()
        return None if row is None else from_row(row)[0]

    def instance_id(self) -> str:
        """This database's random id (made when its schema was created): exports name records with it."""
        row = self.conn.execute("SELECT value FROM meta WHERE key = 'instance'").fetchone()
        try:
            return uuid.UUID(hex=str(row[0])).hex
        except (TypeError, ValueError):  # a hand edit: still one stable id for this file
            return uuid.uuid5(uuid.NAMESPACE_URL, self.path.resolve().as_uri()).hex
