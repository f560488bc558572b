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
import json
import uuid
from collections.abc import Sequence
from typing import IO, Any

from coach.core.records import UNCONFIRMED, RatingRecorded
from coach.log.queries import Filter, RecordRow, SessionSummary, records, sessions, unreadable, wall_time
from coach.log.store import Store, utc_now, wall_text

FORMATS = ("csv", "json", "fhir")

CSV_COLUMNS = (
    "id", "session", "kind", "wall", "at", "routine", "version", "profile", "exercise", "index", "status",
    "value", "source", "moment", "confirmed", "repetitions_started", "rule", "action", "reason", "rating",
    "during", "exercises_done", "exercises_total",
)  # fmt: skip
"""CSV header, in order: a record's own fields, and its session's routine, version and profile."""

LOINC_PAIN = "72514-3"
LOINC_PAIN_DISPLAY = "Pain severity - 0-10 verbal numeric rating [Score] - Reported"
PROFILE_SYSTEM = "urn:coach:profile"
"""Identifier system for clinic profile codes (a code the clinic gives; the coach never stores names)."""
MOMENTS = {
    "before": "before the session",
    "exercise": "after an exercise",
    "after": "after the session",
    "unprompted": "volunteered during the session",
}


def export(store: Store | None, fmt: str, out: IO[str], which: Filter | None = None, notices: list[str] | None = None) -> int:
    """Write the chosen sessions in ``fmt`` to ``out``; return how many records (or observations) went out.

    Rows this coach cannot read as its own records go out as stored (CSV, JSON) or not at all (FHIR,
    which needs a typed rating); a line saying so is added to ``notices``.
    """
    which = which or Filter()
    found = sessions(store, which) if store is not None else []
    rows = records(store, which) if store is not None else []
    odd = unreadable(rows)
    if odd is not None and notices is not None:
        notices.append(f"{odd}: {'left out of the bundle' if fmt == 'fhir' else 'exported as stored'}")
    if fmt == "csv":
        return write_csv(found, rows, out)
    if fmt == "json":
        return write_json(found, rows, out)
    if fmt == "fhir":
        undated = [row for row in rows if isinstance(row.record, RatingRecorded) and wall_time(row.wall) is None]
        if undated and notices is not None:
            first, count = undated[0], len(undated)
            notices.append(f"{count} ratings have no readable time (record {first.id}: {first.wall!r}); left out of the bundle")
        skip = {row.id for row in undated}
        rows = [row for row in rows if row.id not in skip]
    instance = store.instance_id() if store is not None else str(uuid.uuid4())
    return write_fhir(found, rows, out, instance)


def write_csv(found: Sequence[SessionSummary], rows: Sequence[RecordRow], out: IO[str]) -> int:
    by_id = {s.id: s for s in found}
    writer = csv.DictWriter(out, CSV_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        session = by_id.get(row.session) if row.session is not None else None
        line: dict[str, Any] = {**row.record.fields(), **row.other_fields}
        line.update(id=row.id, session=row.session, kind=row.kind, wall=row.wall)
        if session is not None:
            line.update(routine=session.routine, version=session.version, profile=session.profile)
        writer.writerow({key: spreadsheet_safe(value) for key, value in line.items()})
    return len(rows)


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


def write_json(found: Sequence[SessionSummary], rows: Sequence[RecordRow], out: IO[str]) -> int:
    document = {
        "format": "coach-records",
        "version": 1,
        "exported": wall_text(utc_now()),
        "sessions": [
            {
                "id": s.id,
                "routine": s.routine,
                "title": s.title,
                "version": s.version,
                "language": s.language,
                "profile": s.profile,
                "started": s.started,
                "ended": s.ended,
                "status": s.status,
                "exercises_done": s.exercises_done,
                "exercises_total": s.exercises_total,
            }
            for s in found
        ],
        "records": [json_record(r) for r in rows],
    }
    json.dump(document, out, ensure_ascii=False, indent=1)
    out.write("\n")
    return len(rows)


def json_record(row: RecordRow) -> dict[str, Any]:
    """One record in the JSON export: where it is, every field of its type, then any the row has beyond it."""
    place = {"id": row.id, "session": row.session, "kind": row.kind, "wall": row.wall}
    return {**place, **row.record.fields(), **row.other_fields, **place}  # a stored field never hides where it is


def write_fhir(found: Sequence[SessionSummary], rows: Sequence[RecordRow], out: IO[str], instance: str) -> int:
    by_id = {s.id: s for s in found}
    namespace = uuid.UUID(hex=instance)
    entries = []
    for row in rows:
        rating = row.record
        if not isinstance(rating, RatingRecorded) or rating.value is None:
            continue
        session = by_id.get(row.session) if row.session is not None else None
        url = f"urn:uuid:{uuid.uuid5(namespace, f'record/{row.id}')}"
        entries.append({"fullUrl": url, "resource": observation(row.id, row.wall, rating, session, url)})
    bundle = {"resourceType": "Bundle", "type": "collection", "timestamp": wall_text(utc_now()), "entry": entries}
    json.dump(bundle, out, ensure_ascii=False, indent=1)
    out.write("\n")
    return len(entries)


def observation(record_id: int, wall: str, rating: RatingRecorded, session: SessionSummary | None, url: str) -> dict[str, Any]:
    """One answered pain rating as a FHIR R4 ``Observation`` (LOINC 72514-3, ``valueInteger``)."""
    note = f"Pain {MOMENTS.get(rating.moment, rating.moment)}"
    if rating.exercise:
        note += f" ({rating.exercise})"
    if session is not None:
        note += f"; routine {session.routine} version {session.version}"
    unconfirmed = rating.confirmed == UNCONFIRMED
    note += f"; source {rating.source}{', heard, not confirmed' if unconfirmed else ''}; coach record {record_id}"
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "identifier": [{"system": "urn:ietf:rfc:3986", "value": url}],
        "status": "preliminary" if unconfirmed else "final",
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
        "note": [{"text": note}],
    }
    if session is not None and session.profile:
        resource["subject"] = {"identifier": {"system": PROFILE_SYSTEM, "value": session.profile}}
    return resource
