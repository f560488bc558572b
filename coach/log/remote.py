"""Filing records that came from stations into one clinic store (``coach clinic receive``).

The clinic store is an ordinary ``coach.db`` (the same schema), in which every session names its
``station`` and every record the ``message_id`` it was sent with (``<clinic>/<station>/<record id>``,
unique). The store gives each record and session its own id; a station's session is found again by the
message id of the station's session record (a session's id is its first record's). So:

- **Once each.** A message id already stored is skipped: a second delivery (after a lost acknowledgement,
  a reconnect, a restarted station) changes nothing.
- **Sessions rebuilt.** A record whose session the clinic never saw opening (it missed that message) gets
  the session from the copy of the session row every message carries, with a stand-in for its first
  record under the session record's message id, so later records find it.
- **One transaction per batch**, committed before the caller acknowledges the batch to the broker: until
  then the broker keeps the messages, so a crash here loses nothing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from coach.core.records import Record, SessionStarted
from coach.log.outbox import SESSION_NUMBERS
from coach.log.schema import to_columns
from coach.log.store import Store


@dataclass(frozen=True)
class Incoming:
    """One station record as received (already checked for shape by the receiver)."""

    message_id: str
    """``<clinic>/<station>/<record id>``."""
    station: str
    record_id: int
    """Its id in the station's log."""
    kind: str
    wall: str
    fields: dict[str, Any]
    session: dict[str, Any] | None
    """The station's session row (``id`` = the station's session id), or None."""

    @property
    def opens_session(self) -> bool:
        return self.kind == SessionStarted.kind and self.session is not None and self.session.get("id") == self.record_id

    def session_message_id(self) -> str | None:
        if self.session is None:
            return None
        return f"{self.message_id.rpartition('/')[0]}/{int(self.session['id'])}"


class _Stored:
    """A record as its fields only: what :func:`~coach.log.schema.to_columns` reads (``fields()``), so a kind
    this coach does not know (a newer station's) is filed by the same one column map as every other."""

    def __init__(self, fields: dict[str, Any]) -> None:
        self._fields = fields

    def fields(self) -> dict[str, Any]:
        return dict(self._fields)


def store_remote(store: Store, items: Sequence[Incoming]) -> int:
    """File ``items`` in order, in one committed transaction; return how many were new (not duplicates)."""
    conn = store.conn
    conn.execute("BEGIN IMMEDIATE")
    try:
        new = sum(1 for item in items if _file(store, item))
        conn.execute("COMMIT")
    except BaseException:
        with contextlib.suppress(Exception):
            conn.execute("ROLLBACK")
        raise
    return new


def _file(store: Store, item: Incoming) -> bool:
    conn = store.conn
    if conn.execute("SELECT 1 FROM records WHERE message_id = ?", (item.message_id,)).fetchone() is not None:
        return False
    session_id = None if item.opens_session else _session_of(store, item)
    record_id = _insert(store, session_id, item.kind, item.wall, item.fields, item.message_id)
    if item.opens_session:
        session_id = _open_session(store, record_id, item)
    if session_id is not None and item.session is not None:
        session = item.session
        conn.execute(
            "UPDATE sessions SET ended = ?, status = ?, exercises_done = ?, exercises_total = ? WHERE id = ?",
            (*(session.get(name) for name in ("ended", "status", *SESSION_NUMBERS)), session_id),
        )
    return True


def _session_of(store: Store, item: Incoming) -> int | None:
    """The clinic's id of the item's session: found by its session record's message id, else rebuilt."""
    ref = item.session_message_id()
    if ref is None or item.session is None:
        return None
    row = store.conn.execute("SELECT session_id FROM records WHERE message_id = ?", (ref,)).fetchone()
    if row is not None and row[0] is not None:
        return int(row[0])
    session = item.session
    stand_in = {"at": 0.0} | {name: str(session.get(name) or "") for name in ("routine", "title", "version", "language")}
    stand_in["rebuilt"] = True  # not the station's record: the clinic missed it and made this one from the session row
    first = _insert(store, None, SessionStarted.kind, str(session.get("started") or item.wall), stand_in, ref)
    return _open_session(store, first, item)


def _open_session(store: Store, record_id: int, item: Incoming) -> int:
    session = item.session or {}
    store.conn.execute(
        "INSERT INTO sessions (id, routine, version, title, language, profile, started, station) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            record_id,
            str(session.get("routine") or "?"),
            session.get("version"),
            session.get("title"),
            session.get("language"),
            session.get("profile"),
            str(session.get("started") or item.wall),
            item.station,
        ),
    )
    store.conn.execute("UPDATE records SET session_id = ? WHERE id = ?", (record_id, record_id))
    return record_id


def _insert(store: Store, session_id: int | None, kind: str, wall: str, fields: dict[str, Any], message_id: str) -> int:
    columns, extra = to_columns(cast(Record, _Stored(fields)))
    names = ["session_id", "kind", "wall", "extra", "message_id", *columns]
    values: list[Any] = [session_id, kind, wall, extra, message_id, *columns.values()]
    cursor = store.conn.execute(f"INSERT INTO records ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})", values)
    assert cursor.lastrowid is not None
    return cursor.lastrowid
