"""The records written outside any session (a programme's start and stop), read for the exports and the report.

:func:`coach.log.queries.iter_records` reads the records of the chosen sessions (joined with them), so a record
with no session, ``coach programme start`` / ``stop``, is not among them. This module reads those few rows,
chosen as the sessions are: of the filter's profile (the record's own ``profile`` field), from its station, and
written in its days. Read-only, like every query of :mod:`coach.log.queries`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

from coach.log.queries import Filter, RecordRow, local_midnight
from coach.log.schema import from_row


def _station(message_id: object, here: str | None) -> str | None:
    """The station a session-less record is from: in a clinic store its message id's ``<clinic>/<station>/<id>``."""
    if isinstance(message_id, str) and message_id.count("/") >= 2:
        return message_id.split("/")[-2]
    return here


def iter_sessionless(conn: sqlite3.Connection, which: Filter | None = None) -> Iterator[RecordRow]:
    """The records with no session that ``which`` chooses, oldest first (by id, as :func:`iter_records` gives its)."""
    which = which or Filter()
    cursor = conn.cursor()
    cursor.row_factory = sqlite3.Row
    query = "SELECT * FROM records WHERE session_id IS NULL"
    args: list[object] = []
    if which.since is not None:
        query += " AND wall >= ?"
        args.append(local_midnight(which.since))
    if which.before is not None:
        query += " AND wall < ?"
        args.append(local_midnight(which.before))
    for row in cursor.execute(query + " ORDER BY id", args):
        record, other = from_row(row)
        profile = record.fields().get("profile")
        profile = None if profile is None else str(profile)
        if which.profile is not None and profile != which.profile:
            continue
        keys = row.keys()
        station = _station(row["message_id"] if "message_id" in keys else None, which.here)
        if which.station is not None and station != which.station:
            continue
        yield RecordRow(int(row["id"]), None, str(row["wall"]), record, other, station, profile=profile)
