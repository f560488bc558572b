"""The history/export/report reading as it was before the log scaled (commit c9828f3), kept as the reference
``tests/test_log_scale.py`` compares the set-based, streaming one with: a query per session (correlated
subqueries), every record read into a list by the general ``from_row``, and each export built whole and
written with ``json.dump`` / ``csv.DictWriter``. Only what the comparison needs; not used by coach itself.
"""

from __future__ import annotations

import csv
import datetime as _dt
import json
import sqlite3
import uuid
from typing import IO, Any

from coach.core.records import UNCONFIRMED, ExerciseResult, RatingRecorded
from coach.log.queries import RecordRow, SessionSummary, wall_time
from coach.log.schema import from_row
from coach.reports.export import LOINC_PAIN, LOINC_PAIN_DISPLAY, MOMENTS, PROFILE_SYSTEM, spreadsheet_safe
from coach.reports.report import MAX_WEEKS, TRAILING_WEEKS

OLD_CSV_COLUMNS = (
    "id", "session", "kind", "wall", "at", "routine", "version", "profile", "exercise", "index", "status",
    "value", "source", "moment", "confirmed", "repetitions_started", "rule", "action", "reason", "rating",
    "during", "exercises_done", "exercises_total",
)  # fmt: skip


def sessions(conn: sqlite3.Connection) -> list[SessionSummary]:
    query = """
        SELECT s.id, s.routine, s.title, s.version, s.language, s.profile, s.started, s.ended, s.status,
               coalesce(s.exercises_done, (SELECT count(*) FROM records r
                    WHERE r.session_id = s.id AND r.kind = 'exercise' AND r.status = 'done'
                    AND json_extract(r.extra, '$.rest') IS NOT 1)),
               s.exercises_total,
               (SELECT value FROM records r WHERE r.session_id = s.id AND r.kind = 'rating' AND r.moment = 'before'
                    AND r.value IS NOT NULL AND r.confirmed IS NOT 'unconfirmed' ORDER BY r.id LIMIT 1),
               (SELECT value FROM records r WHERE r.session_id = s.id AND r.kind = 'rating' AND r.moment = 'after'
                    AND r.value IS NOT NULL AND r.confirmed IS NOT 'unconfirmed' ORDER BY r.id DESC LIMIT 1)
        FROM sessions s ORDER BY s.id DESC"""
    found = []
    for row in reversed(conn.execute(query).fetchall()):
        routine, title, version, language, profile, started, ended, status = (None if v is None else str(v) for v in row[1:9])
        done, total, before, after = (v if isinstance(v, int) and not isinstance(v, bool) else None for v in row[9:13])
        found.append(
            SessionSummary(
                int(row[0]), str(routine), title, version, language, profile, str(started), ended, status, done or 0, total,
                before, after,
            )
        )  # fmt: skip
    return found


def records(conn: sqlite3.Connection) -> list[RecordRow]:
    cursor = conn.cursor()
    cursor.row_factory = sqlite3.Row
    rows = cursor.execute("SELECT r.* FROM records r JOIN sessions s ON s.id = r.session_id ORDER BY r.id")
    return [RecordRow(row["id"], row["session_id"], row["wall"], *from_row(row)) for row in rows]


def write_csv(found: list[SessionSummary], rows: list[RecordRow], out: IO[str]) -> None:
    by_id = {s.id: s for s in found}
    writer = csv.DictWriter(out, OLD_CSV_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        session = by_id.get(row.session) if row.session is not None else None
        line: dict[str, Any] = {**row.record.fields(), **row.other_fields}
        line.update(id=row.id, session=row.session, kind=row.kind, wall=row.wall)
        if session is not None:
            line.update(routine=session.routine, version=session.version, profile=session.profile)
        writer.writerow({key: spreadsheet_safe(value) for key, value in line.items()})


def write_json(found: list[SessionSummary], rows: list[RecordRow], out: IO[str], exported: str) -> None:
    keys = ("id", "routine", "title", "version", "language", "profile", "started", "ended", "status")
    document = {
        "format": "coach-records",
        "version": 1,
        "exported": exported,
        "sessions": [
            {**{k: getattr(s, k) for k in keys}, "exercises_done": s.exercises_done, "exercises_total": s.exercises_total}
            for s in found
        ],
        "records": [_json_record(r) for r in rows],
    }
    json.dump(document, out, ensure_ascii=False, indent=1)
    out.write("\n")


def _json_record(row: RecordRow) -> dict[str, Any]:
    place = {"id": row.id, "session": row.session, "kind": row.kind, "wall": row.wall}
    return {**place, **row.record.fields(), **row.other_fields, **place}


def write_fhir(found: list[SessionSummary], rows: list[RecordRow], out: IO[str], instance: str, timestamp: str) -> None:
    by_id = {s.id: s for s in found}
    namespace = uuid.UUID(hex=instance)
    entries = []
    for row in rows:
        rating = row.record
        if not isinstance(rating, RatingRecorded) or rating.value is None or wall_time(row.wall) is None:
            continue
        session = by_id.get(row.session) if row.session is not None else None
        url = f"urn:uuid:{uuid.uuid5(namespace, f'record/{row.id}')}"
        entries.append({"fullUrl": url, "resource": _observation(row.id, row.wall, rating, session, url)})
    bundle = {"resourceType": "Bundle", "type": "collection", "timestamp": timestamp, "entry": entries}
    json.dump(bundle, out, ensure_ascii=False, indent=1)
    out.write("\n")


def _observation(record_id: int, wall: str, rating: RatingRecorded, session: SessionSummary | None, url: str) -> dict[str, Any]:
    note = f"Pain {MOMENTS.get(rating.moment, rating.moment)}"
    if rating.exercise:
        note += f" ({rating.exercise})"
    if session is not None:
        note += f"; routine {session.routine} version {session.version}"
    unconfirmed = rating.confirmed == UNCONFIRMED
    note += f"; source {rating.source}{', heard, not confirmed' if unconfirmed else ''}; coach record {record_id}"
    category = {"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "survey", "display": "Survey"}
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "identifier": [{"system": "urn:ietf:rfc:3986", "value": url}],
        "status": "preliminary" if unconfirmed else "final",
        "category": [{"coding": [category]}],
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


def weeks(found: list[SessionSummary], rows: list[RecordRow], today: _dt.date) -> list[tuple[_dt.date, int, int, int]]:
    """The report's weeks as the old ``ReportData.weeks`` tallied them from every record."""

    def monday(day: _dt.date) -> _dt.date:
        return day - _dt.timedelta(days=day.weekday())

    if not found:
        return []
    results: dict[int, int] = {}
    for r in rows:
        if isinstance(r.record, ExerciseResult) and not r.record.rest and r.session is not None:
            results[r.session] = results.get(r.session, 0) + 1
    first, last = monday(found[0].started_local.date()), monday(found[-1].started_local.date())
    if last < monday(today) <= last + _dt.timedelta(weeks=TRAILING_WEEKS):
        last = monday(today)
    first = max(first, last - _dt.timedelta(weeks=MAX_WEEKS - 1))
    count = (last - first).days // 7 + 1
    tallies = [[0, 0, 0] for _ in range(count)]
    for s in found:
        index = (monday(s.started_local.date()) - first).days // 7
        if 0 <= index < count:
            tallies[index][0] += 1
            tallies[index][1] += s.exercises_done
            tallies[index][2] += s.exercises_total if s.exercises_total is not None else results.get(s.id, s.exercises_done)
    return [(first + _dt.timedelta(weeks=i), *t) for i, t in enumerate(tallies)]  # type: ignore[misc]


def exercise_ratings(rows: list[RecordRow]) -> list[tuple[str, list[int]]]:
    by_exercise: dict[str, list[int]] = {}
    for r in rows:
        rating = r.record
        if isinstance(rating, RatingRecorded) and rating.value is not None and rating.exercise is not None and rating.counts:
            by_exercise.setdefault(rating.exercise, []).append(rating.value)
    return list(by_exercise.items())
