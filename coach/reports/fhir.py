"""The FHIR export: a ``Bundle`` of ``Observation`` resources, one per answered pain rating and per rated
next-morning check-in (split from :mod:`coach.reports.export`, which streams the records to it).

Each answered pain rating is an ``Observation`` coded LOINC 72514-3 with ``valueInteger`` (PROTOCOL.md), in a
``Bundle`` of type ``collection``; see :func:`observation` and :func:`checkin_observation`.
"""

from __future__ import annotations

import datetime as _dt
import json
import re
import uuid
from collections.abc import Iterable, Iterator
from typing import IO, Any

from coach.core.records import UNCONFIRMED, CheckIn, RatingRecorded
from coach.log.queries import RecordRow
from coach.log.store import utc_now, wall_text
from coach.reports.jsontext import encode_key, indented, write_list

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

_OBSERVED = (RatingRecorded.kind, CheckIn.kind)
"""The kinds of record the FHIR bundle has an Observation for."""


def write_fhir(rows: Iterable[RecordRow], out: IO[str], instance: str, now: _dt.datetime | None = None) -> int:
    """A ``Bundle`` of the answered ratings' Observations, each written as its record is read; ``now`` its timestamp."""
    namespace = uuid.UUID(hex=instance)
    out.write('{\n "resourceType": "Bundle",\n "type": "collection",\n')
    out.write(f' "timestamp": {encode_key(wall_text(now or utc_now()))},\n "entry": ')
    count = write_list(fhir_entries(rows, namespace), out, 1)
    out.write("\n}\n")
    return count


def fhir_entries(rows: Iterable[RecordRow], namespace: uuid.UUID, depth: int = 2) -> Iterator[str]:
    """Each answered rating's bundle entry, as JSON text at ``depth`` (see :class:`EntryText`)."""
    texts = EntryText(depth)
    for row in rows:
        if row.kind not in _OBSERVED:
            continue
        rating = row.record
        if isinstance(rating, CheckIn) and rating.rating is not None:
            url = f"urn:uuid:{uuid.uuid5(namespace, f'record/{row.id}')}"
            yield indented({"fullUrl": url, "resource": checkin_observation(row, rating, url)}, depth)
            continue
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


CHECKIN_TEXT = "Pain severity 0-10, next-morning check-in"
CHECKIN_QUESTION = "Compared with yesterday morning, is your back better, the same, or worse?"


def checkin_observation(row: RecordRow, checkin: CheckIn, url: str) -> dict[str, Any]:
    """A next-morning check-in's rating as a FHIR R4 ``Observation``, shaped as a pain rating's (LOINC 72514-3,
    ``valueInteger``, the time it was given as ``effectiveDateTime``), told apart by its ``code.text`` and its
    note, with its better / same / worse answer as a ``component`` (``code.text`` the question, ``valueString``)."""
    resource = observation(row.id, row.wall, RatingRecorded(0.0, checkin.rating, "answered", "checkin", "before"), row, url)
    resource["code"]["text"] = CHECKIN_TEXT
    resource["status"] = "final"
    note = f"Next-morning check-in for {checkin.day}"
    if checkin.answer:
        note += f": {checkin.answer} than yesterday morning" if checkin.answer != "same" else ": the same as yesterday morning"
    if checkin.programme:
        note += f"; programme {checkin.programme}"
    resource["note"] = [{"text": f"{note}; coach record {row.id}"}]
    if checkin.answer:
        resource["component"] = [{"code": {"text": CHECKIN_QUESTION}, "valueString": checkin.answer}]
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
