"""Exports of the session log: CSV (one row per record), JSON (lossless) and FHIR (pain ratings).

Every exported record carries the ``id`` its ``logged`` event announced, so anything the coach said
it saved can be found. In JSON a record has ``id``, ``session``, ``kind`` and ``wall``, then every field
of its type (:mod:`coach.core.records`) in declaration order, ``null`` when it has none, then any field
the log row has beyond its type; a row this coach cannot read as one of its types (a newer coach's
kind, a hand edit) has its fields as stored. CSV has the same records, a column per field name.

FHIR follows PROTOCOL.md: each answered pain rating is an ``Observation``
coded LOINC 72514-3 with ``valueInteger``, in a ``Bundle`` of type ``collection``; its status is ``final``,
but for a heard rating nobody confirmed (``confirmed`` is ``unconfirmed``: the session ended while it
waited for "yes"), which is ``preliminary`` (FHIR: "data may be incomplete or unverified") and says so. The subject is
left out, or, for a clinic profile, a reference by identifier to that code (never a name).
"""

from __future__ import annotations

import csv
import dataclasses
import json
import operator
import re
import typing
import uuid
from collections.abc import Iterable, Iterator
from typing import IO, Any

from coach.core.records import RECORD_TYPES, UNCONFIRMED, RatingRecorded, Record, field_names
from coach.log.queries import Filter, RecordRow, SessionSummary, Unreadable, iter_records, iter_sessions, wall_time
from coach.log.store import Store, utc_now, wall_text
from coach.reports.jsontext import encode_key, flat, indented, write_list

FORMATS = ("csv", "json", "fhir")

CSV_COLUMNS = (
    "id", "session", "kind", "wall", "at", "routine", "version", "profile", "exercise", "index", "status",
    "value", "source", "moment", "confirmed", "repetitions_started", "rule", "action", "reason", "rating",
    "during", "exercises_done", "exercises_total", "station",
)  # fmt: skip
"""CSV header, in order: a record's own fields, and its session's routine, version and profile; its station
last (added with the clinic-wide view: the columns before it are where they always were)."""

LOINC_PAIN = "72514-3"
LOINC_PAIN_DISPLAY = "Pain severity - 0-10 verbal numeric rating [Score] - Reported"
PROFILE_SYSTEM = "urn:coach:profile"
"""Identifier system for clinic profile codes (a code the clinic gives; the coach never stores names)."""
STATION_SYSTEM = "urn:coach:station"
"""Identifier system for a clinic's station ids (the ``sync: station`` of each station's config)."""
MOMENTS = {
    "before": "before the session",
    "exercise": "after an exercise",
    "after": "after the session",
    "unprompted": "volunteered during the session",
}


def export(store: Store | None, fmt: str, out: IO[str], which: Filter | None = None, notices: list[str] | None = None) -> int:
    """Write the chosen sessions in ``fmt`` to ``out``; return how many records (or observations) went out.

    Streams: the records are read from one cursor and each is written as it is read, so the log is never
    held in memory. Rows this coach cannot read as its own records go out as stored (CSV, JSON) or not at
    all (FHIR, which needs a typed rating); a line saying so is added to ``notices``.
    """
    which = which or Filter()
    seen = Unreadable()
    undated = Undated()
    rows = watched(iter_records(store.conn, which), seen) if store is not None else iter(())
    if fmt == "csv":
        count = write_csv(rows, out)
    elif fmt == "json":
        found = iter_sessions(store.conn, which, pain=False) if store is not None else iter(())
        count = write_json(found, rows, out)
    else:
        instance = store.instance_id() if store is not None else str(uuid.uuid4())
        count = write_fhir(undated.dated(rows), out, instance)
    odd = seen.line()
    if odd is not None and notices is not None:
        notices.append(f"{odd}: {'left out of the bundle' if fmt == 'fhir' else 'exported as stored'}")
    if undated.count and notices is not None:
        first = undated.first
        notices.append(f"{undated.count} ratings have no readable time (record {first}); left out of the bundle")
    return count


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
            if row.kind == RatingRecorded.kind and isinstance(row.record, RatingRecorded) and wall_time(row.wall) is None:
                self.count += 1
                self.first = self.first or f"{row.id}: {row.wall!r}"
                continue
            yield row


def write_csv(rows: Iterable[RecordRow], out: IO[str]) -> int:
    """A row per record, written as each is read; the session's routine, version, profile and station with it.

    Every text cell goes through :func:`spreadsheet_safe` (inlined: it runs for every cell of the log)."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    count = 0
    for row in rows:
        texts = _TEXT_CELLS.get(row.kind) if row.values is not None and not row.other_fields else None
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
            writer.writerow([spreadsheet_safe(value) for value in _CELLS(line)])
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


def write_fhir(rows: Iterable[RecordRow], out: IO[str], instance: str) -> int:
    """A ``Bundle`` of the answered ratings' Observations, each written as its record is read."""
    namespace = uuid.UUID(hex=instance)
    out.write('{\n "resourceType": "Bundle",\n "type": "collection",\n')
    out.write(f' "timestamp": {encode_key(wall_text(utc_now()))},\n "entry": ')
    count = write_list(fhir_entries(rows, namespace), out, 1)
    out.write("\n}\n")
    return count


def fhir_entries(rows: Iterable[RecordRow], namespace: uuid.UUID, depth: int = 2) -> Iterator[str]:
    """Each answered rating's bundle entry, as JSON text at ``depth`` (see :class:`EntryText`)."""
    texts = EntryText(depth)
    for row in rows:
        if row.kind != RatingRecorded.kind:
            continue
        rating = row.record
        if not isinstance(rating, RatingRecorded) or rating.value is None:
            continue
        url = f"urn:uuid:{uuid.uuid5(namespace, f'record/{row.id}')}"
        yield texts.text(row, rating, url)


def observation(record_id: int, wall: str, rating: RatingRecorded, session: RecordRow | None, url: str) -> dict[str, Any]:
    """One answered pain rating as a FHIR R4 ``Observation`` (LOINC 72514-3, ``valueInteger``); ``session``
    is the rating's row, naming its session's routine, version, profile and station.

    The station is the ``device`` (R4: "the device used to generate the observation data"), a reference
    by identifier (system ``urn:coach:station``) with a display, as the profile is the subject's."""
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "identifier": [{"system": "urn:ietf:rfc:3986", "value": url}],
        "status": _status(rating),
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                        "code": "survey",
                        "display": "Survey",
                    }
                ]
            }
        ],
        "code": {
            "coding": [{"system": "http://loinc.org", "code": LOINC_PAIN, "display": LOINC_PAIN_DISPLAY}],
            "text": "Pain severity 0-10",
        },
        "effectiveDateTime": wall,
        "valueInteger": rating.value,
        "note": [{"text": _note(record_id, rating, session)}],
    }
    if session is not None and session.profile:
        resource["subject"] = {"identifier": {"system": PROFILE_SYSTEM, "value": session.profile}}
    if session is not None and session.station:
        resource["device"] = {
            "identifier": {"system": STATION_SYSTEM, "value": session.station},
            "display": _device(session.station),
        }
    return resource


def _status(rating: RatingRecorded) -> str:
    return "preliminary" if rating.confirmed == UNCONFIRMED else "final"


def _device(station: str) -> str:
    return f"coach station {station}"


def _note(record_id: int, rating: RatingRecorded, session: RecordRow | None) -> str:
    note = f"Pain {MOMENTS.get(rating.moment, rating.moment)}"
    if rating.exercise:
        note += f" ({rating.exercise})"
    if session is not None:
        note += f"; routine {session.routine} version {session.version}"
    unconfirmed = rating.confirmed == UNCONFIRMED
    return note + f"; source {rating.source}{', heard, not confirmed' if unconfirmed else ''}; coach record {record_id}"


_SLOTS: dict[str, tuple[tuple[str | int, ...], ...]] = {
    "url": (("fullUrl",), ("resource", "identifier", 0, "value")),
    "status": (("resource", "status"),),
    "wall": (("resource", "effectiveDateTime"),),
    "value": (("resource", "valueInteger"),),
    "note": (("resource", "note", 0, "text"),),
    "profile": (("resource", "subject", "identifier", "value"),),
    "station": (("resource", "device", "identifier", "value"),),
    "device": (("resource", "device", "display"),),
}
"""Where in a bundle entry each value that changes from one rating to the next is (the rest is the same)."""
_SLOT = re.compile(r'"\\u0000(\w+)\\u0000"')


class EntryText:
    """Bundle entries as JSON text, the same as :func:`indented` gives for ``{"fullUrl", "resource": observation}``,
    about thirty times faster: the text of each shape of entry (with or without a subject, a device) is made once
    from :func:`observation` itself, with its changing values marked, and each entry fills them in.

    A shape whose text, filled with its sample's values, is not the sample's own text (an observation that
    changed) is written by :func:`indented` instead, as is an entry with a value of an unusual type.
    """

    def __init__(self, depth: int) -> None:
        self.depth = depth
        self.shapes: dict[tuple[bool, bool], list[str] | None] = {}

    def text(self, row: RecordRow, rating: RatingRecorded, url: str) -> str:
        shape = (bool(row.profile), bool(row.station))
        pieces = self.shapes[shape] if shape in self.shapes else self._shape(shape)
        if pieces is None or type(row.wall) is not str or type(rating.value) is not int:
            return indented({"fullUrl": url, "resource": observation(row.id, row.wall, rating, row, url)}, self.depth)
        return _fill(pieces, _values(row, rating, url))

    def _shape(self, shape: tuple[bool, bool]) -> list[str] | None:
        rating = RatingRecorded(0.0, 0, "answered", "keyboard", "before")
        row = RecordRow(
            1, 1, "2026-01-01T00:00:00.000Z", rating, profile="p" if shape[0] else None, station="s" if shape[1] else None
        )
        entry = {"fullUrl": "u", "resource": observation(row.id, row.wall, rating, row, "u")}
        marked = json.loads(json.dumps(entry))
        for name, paths in _SLOTS.items():
            for path in paths:
                _mark(marked, path, name)
        found: list[str] | None = _SLOT.split(indented(marked, self.depth))
        if found is None or _fill(found, _values(row, rating, "u")) != indented(entry, self.depth):
            found = None
        self.shapes[shape] = found
        return found


def _values(row: RecordRow, rating: RatingRecorded, url: str) -> dict[str, str]:
    """The JSON text of each changing value of a rating's entry (see :data:`_SLOTS`)."""
    values = {
        "url": encode_key(url),
        "status": encode_key(_status(rating)),
        "wall": encode_key(row.wall),
        "value": str(rating.value),
        "note": encode_key(_note(row.id, rating, row)),
    }
    if row.profile:
        values["profile"] = encode_key(row.profile)
    if row.station:
        values["station"], values["device"] = encode_key(row.station), encode_key(_device(row.station))
    return values


def _fill(pieces: list[str], values: dict[str, str]) -> str:
    """The text between the marks (even places), with each mark (odd places) replaced by its value's text."""
    return "".join(piece if n % 2 == 0 else values[piece] for n, piece in enumerate(pieces))


def _mark(tree: Any, path: tuple[str | int, ...], name: str) -> None:
    """Put the mark of slot ``name`` at ``path`` in ``tree`` (plain JSON), if the path is there."""
    *parents, last = path
    for step in parents:
        try:
            tree = tree[step]
        except (KeyError, IndexError, TypeError):
            return
    mark = f"\x00{name}\x00"
    if isinstance(tree, list) and isinstance(last, int) and last < len(tree):
        tree[last] = mark
    if isinstance(tree, dict) and last in tree:
        tree[last] = mark
