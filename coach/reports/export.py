"""Exports of the session log: CSV (one row per record), JSON (lossless) and FHIR (pain ratings).

Every exported record carries the ``id`` its ``logged`` event announced, so anything the coach said
it saved can be found. In JSON a record has ``id``, ``session``, ``kind`` and ``wall``, then every field
of its type (:mod:`coach.core.records`) in declaration order, ``null`` when it has none, then any field
the log row has beyond its type; a row this coach cannot read as one of its types (a newer coach's
kind, a hand edit) has its fields as stored. CSV has the same records, a column per field name.

The records with no session (a programme's start and stop) go out with ``session`` empty (:mod:`coach.log.programme_report`);
a log with a programme's records has :data:`PROGRAMME_COLUMNS` after ``station`` in its CSV.

FHIR follows PROTOCOL.md: each answered pain rating is an ``Observation``
coded LOINC 72514-3 with ``valueInteger``, in a ``Bundle`` of type ``collection``; its status is ``final``,
but for a heard rating nobody confirmed (``confirmed`` is ``unconfirmed``: the session ended while it
waited for "yes"), which is ``preliminary`` (FHIR: "data may be incomplete or unverified") and says so. The subject is
left out, or, for a clinic profile, a reference by identifier to that code (never a name). The rating of a
programme's next-morning check-in is one too (:func:`checkin_observation`).
"""

from __future__ import annotations

import csv
import dataclasses
import operator
import typing
import uuid
from collections.abc import Iterable, Iterator
from typing import IO, Any

from coach.core.records import RECORD_TYPES, CheckIn, RatingRecorded, Record, field_names
from coach.log.programme_report import iter_sessionless
from coach.log.queries import Filter, RecordRow, SessionSummary, Unreadable, iter_records, iter_sessions, wall_time
from coach.log.store import Store, utc_now, wall_text
from coach.reports.fhir import (  # noqa: F401 - the FHIR names, where the exports have always had them
    _OBSERVED,
    LOINC_PAIN,
    LOINC_PAIN_DISPLAY,
    MOMENTS,
    PROFILE_SYSTEM,
    STATION_SYSTEM,
    EntryText,
    checkin_observation,
    observation,
    write_fhir,
)
from coach.reports.jsontext import encode_key, flat, indented, write_list

FORMATS = ("csv", "json", "fhir")

CSV_COLUMNS = (
    "id", "session", "kind", "wall", "at", "routine", "version", "profile", "exercise", "index", "status",
    "value", "source", "moment", "confirmed", "repetitions_started", "rule", "action", "reason", "rating",
    "during", "exercises_done", "exercises_total", "station",
)  # fmt: skip
"""CSV header, in order: a record's own fields, and its session's routine, version and profile; its station
last (added with the clinic-wide view: the columns before it are where they always were)."""

PROGRAMME_COLUMNS = ("programme", "stage", "week", "day", "levels", "answer", "from", "to")
"""Columns after ``station`` for a programme's records (``checkin``, ``progress``, ``programme``, ``programme_day``,
``feedback``): only in the export of a log that holds any, so the CSV of a log without them is what it always was."""
PROGRAMME_KINDS = ("checkin", "progress", "programme", "programme_day", "feedback")


def export(store: Store | None, fmt: str, out: IO[str], which: Filter | None = None, notices: list[str] | None = None) -> int:
    """Write the chosen sessions in ``fmt`` to ``out``; return how many records (or observations) went out.

    Streams: the records are read from one cursor and each is written as it is read, so the log is never
    held in memory. Rows this coach cannot read as its own records go out as stored (CSV, JSON) or not at
    all (FHIR, which needs a typed rating); a line saying so is added to ``notices``.
    """
    which = which or Filter()
    seen = Unreadable()
    undated = Undated()
    rows = watched(all_records(store, which), seen) if store is not None else iter(())
    if fmt == "csv":
        count = write_csv(rows, out, PROGRAMME_COLUMNS if store is not None and has_programme(store) else ())
    elif fmt == "json":
        found = iter_sessions(store.conn, which, pain=False) if store is not None else iter(())
        count = write_json(found, rows, out)
    else:
        instance = store.instance_id() if store is not None else str(uuid.uuid4())
        count = write_fhir(undated.dated(rows), out, instance, utc_now())
    odd = seen.line()
    if odd is not None and notices is not None:
        notices.append(f"{odd}: {'left out of the bundle' if fmt == 'fhir' else 'exported as stored'}")
    if undated.count and notices is not None:
        first = undated.first
        notices.append(f"{undated.count} ratings have no readable time (record {first}); left out of the bundle")
    return count


def all_records(store: Store, which: Filter) -> Iterator[RecordRow]:
    """The chosen sessions' records and the chosen records with no session (a programme's start and stop), by id.

    Those are few (held in a list); with none, the sessions' records come straight from their cursor."""
    rows = iter_records(store.conn, which)
    loose = list(iter_sessionless(store.conn, which))
    return _interleave(rows, loose) if loose else rows


def _interleave(rows: Iterator[RecordRow], loose: list[RecordRow]) -> Iterator[RecordRow]:
    """``rows`` with each of ``loose`` before the first row with a higher id (both ordered by id)."""
    pending = iter(loose)
    following = next(pending, None)
    for row in rows:
        while following is not None and following.id < row.id:
            yield following
            following = next(pending, None)
        yield row
    if following is not None:
        yield following
        yield from pending


def has_programme(store: Store) -> bool:
    """Whether the log holds any programme record (then the CSV has :data:`PROGRAMME_COLUMNS`)."""
    marks = ", ".join("?" * len(PROGRAMME_KINDS))
    query = f"SELECT EXISTS (SELECT 1 FROM records WHERE kind IN ({marks}))"
    return bool(store.conn.execute(query, PROGRAMME_KINDS).fetchone()[0])


def watched(rows: Iterable[RecordRow], seen: Unreadable) -> Iterator[RecordRow]:
    """``rows`` as they come, each shown to ``seen`` on its way."""
    for row in rows:
        seen.see(row)
        yield row



class Undated:
    """Leaves out of the FHIR bundle the ratings whose time is not a time (a hand edit), counting them."""

    def __init__(self) -> None:
        self.count = 0
        self.first = ""

    def dated(self, rows: Iterable[RecordRow]) -> Iterator[RecordRow]:
        for row in rows:
            if row.kind in _OBSERVED and isinstance(row.record, (RatingRecorded, CheckIn)) and wall_time(row.wall) is None:
                self.count += 1
                self.first = self.first or f"{row.id}: {row.wall!r}"
                continue
            yield row


def write_csv(rows: Iterable[RecordRow], out: IO[str], extra: tuple[str, ...] = ()) -> int:
    """A row per record, written as each is read; the session's routine, version, profile and station with it,
    then the ``extra`` columns (:data:`PROGRAMME_COLUMNS` for a log with a programme).

    Every text cell goes through :func:`spreadsheet_safe` (inlined: it runs for every cell of the log)."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS + extra)
    count = 0
    cells_of = operator.itemgetter(*CSV_COLUMNS, *extra) if extra else _CELLS
    blanks = [""] * len(extra)
    for row in rows:
        fast = row.values is not None and not row.other_fields and not (extra and row.kind in PROGRAMME_KINDS)
        texts = _TEXT_CELLS.get(row.kind) if fast else None
        if texts is not None and row.values is not None:  # read fast: only these cells can hold a text
            own = _RECORD_CELLS(_Cells(row.values))
            cells = [
                row.id,
                row.session,
                row.kind,
                row.wall,
                own[0],
                row.routine,
                row.version,
                row.profile,
                *own[1:],
                row.station,
                *blanks,
            ]
            for index in texts:
                value = cells[index]
                if value.__class__ is str and value.startswith(FORMULA_STARTS):
                    cells[index] = "'" + value
            writer.writerow(cells)
        else:
            line = _Cells(row.fields())
            line.update(row.other_fields)
            line.update(id=row.id, session=row.session, kind=row.kind, wall=row.wall)
            line.update(routine=row.routine, version=row.version, profile=row.profile, station=row.station)
            writer.writerow([spreadsheet_safe(value) for value in cells_of(line)])
        count += 1
    return count


class _Cells(dict[str, Any]):
    """A CSV line by column: a column the record has no field for is an empty cell."""

    def __missing__(self, key: str) -> str:
        return ""


_CELLS = operator.itemgetter(*CSV_COLUMNS)
_PLACE = ("id", "session", "kind", "wall", "routine", "version", "profile", "station")
assert (
    CSV_COLUMNS[:8] == ("id", "session", "kind", "wall", "at", "routine", "version", "profile") and CSV_COLUMNS[-1] == "station"
)
_RECORD_CELLS = operator.itemgetter("at", *CSV_COLUMNS[8:-1])
"""The record's own cells: ``at``, then ``exercise`` to ``exercises_total`` (the others are where it is and its session's)."""


def _text_cells(cls: type[Record]) -> tuple[int, ...]:
    """The cells that can hold a text in a line of a record of ``cls`` read fast: its fields that may be
    texts (its values are of exactly the types its fields allow), and where it is and its session's."""
    hints = typing.get_type_hints(cls)
    stored = dict(zip((f.name for f in dataclasses.fields(cls)), field_names(cls), strict=True))  # Progress: from, to
    texts = {stored[name] for name in stored if str in (typing.get_args(hints[name]) or (hints[name],))}
    return tuple(
        i for i, column in enumerate(CSV_COLUMNS) if column in texts or (column in _PLACE and column not in ("id", "session"))
    )


_TEXT_CELLS = {kind: _text_cells(cls) for kind, cls in RECORD_TYPES.items()}


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""What makes a spreadsheet read a cell as a formula (CSV injection, OWASP)."""


def spreadsheet_safe(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula gets a leading ``'``; numbers stay numbers.

    Routine and exercise ids come from routine files, and a profile code from the config: a file
    from anywhere must not be able to put ``=HYPERLINK(...)`` into a clinic's spreadsheet.
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def write_json(found: Iterable[SessionSummary], rows: Iterable[RecordRow], out: IO[str]) -> int:
    """The ``coach-records`` document, written piece by piece as the sessions and then the records are read:
    the same bytes ``json.dump(document, indent=1)`` gives for the whole document at once."""
    head = {"format": "coach-records", "version": 1, "exported": wall_text(utc_now())}
    out.write("{\n" + "".join(f" {encode_key(key)}: {indented(value, 1)},\n" for key, value in head.items()))
    out.write(' "sessions": ')
    write_list((indented(session_entry(s), 2) for s in found), out, 1)
    out.write(',\n "records": ')
    count = write_list((record_text(r, 2) for r in rows), out, 1)
    out.write("\n}\n")
    return count


def session_entry(s: SessionSummary) -> dict[str, Any]:
    """One session in the JSON export."""
    return {
        "id": s.id,
        "routine": s.routine,
        "title": s.title,
        "version": s.version,
        "language": s.language,
        "profile": s.profile,
        "station": s.station,
        "started": s.started,
        "ended": s.ended,
        "status": s.status,
        "exercises_done": s.exercises_done,
        "exercises_total": s.exercises_total,
    }


def json_record(row: RecordRow) -> dict[str, Any]:
    """One record in the JSON export: where it is, every field of its type, then any the row has beyond it."""
    place = {"id": row.id, "session": row.session, "kind": row.kind, "wall": row.wall, "station": row.station}
    line = {**place, **row.fields()}
    line.update(row.other_fields)
    line.update(place)  # a stored field never hides where it is
    return line


def record_text(row: RecordRow, depth: int) -> str:
    """``indented(json_record(row), depth)``, faster for a row read fast with no fields beyond its type: its
    values are all of exact plain types (texts, numbers, booleans, nulls), so it goes to the C encoder as is."""
    if row.values is None or row.other_fields:
        return indented(json_record(row), depth)
    line = {"id": row.id, "session": row.session, "kind": row.kind, "wall": row.wall, "station": row.station}
    line.update(row.values)
    if len(line) < len(row.values) + 5:  # a field named like a place (no record type has one): the place wins
        return indented(json_record(row), depth)
    return "{\n" + " " * (depth + 1) + flat(depth)(line)[1:-1] + "\n" + " " * depth + "}"

