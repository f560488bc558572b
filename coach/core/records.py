"""The records of a session: one frozen dataclass per kind, from the session to the log and back.

The session returns them as actions; the runner announces each as an event (``type`` is its
:attr:`~Record.kind`, the other keys its fields, in the order declared here) and writes it to the
journal; the store maps the fields to columns (``coach.log.schema``) and reads them back as the same
types, which history, the exports and the report read. A field's name lives here and nowhere else.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar


@dataclass(frozen=True)
class Record:
    """A durable fact about a session, at session time ``at`` (seconds since the session clock started)."""

    kind: ClassVar[str] = ""
    at: float

    def fields(self) -> dict[str, Any]:
        """The record's fields by name, ``at`` first, in declaration order (the event's and the log's keys)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}


@dataclass(frozen=True)
class SessionStarted(Record):
    kind: ClassVar[str] = "session"
    routine: str
    title: str
    version: str
    """Short hash of the routine file's bytes: an edited routine is another version."""
    language: str
    resume_offered: int | None = None
    """The cut-off session that was offered to go on, if one was."""
    resumed_from: int | None = None
    """Routine index this session went on from, when the offer was taken."""


@dataclass(frozen=True)
class RatingRecorded(Record):
    kind: ClassVar[str] = "rating"
    value: int | None
    """Pain 0-10; ``None`` when there was no answer or the question was skipped."""
    status: str
    """``answered``, ``no-answer`` or ``skipped``."""
    source: str
    """``keyboard``, ``script``, ``button``, ``voice``, ``heard``; ``none`` (no answer), ``command`` (skipped)."""
    moment: str
    """``before``, ``exercise``, ``after`` (a prompt) or ``unprompted``."""
    exercise: str | None = None
    confirmed: str | None = None
    """How an answer counted: ``direct`` (typed, pressed), ``yes`` or ``auto`` (a heard one, read back)."""


@dataclass(frozen=True)
class ExerciseResult(Record):
    kind: ClassVar[str] = "exercise"
    exercise: str
    index: int
    """The exercise's index in the routine."""
    status: str
    """``done``, ``skipped``, ``stopped`` or ``stopped-for-pain``."""
    repetitions_started: int


@dataclass(frozen=True)
class SafetyFired(Record):
    kind: ClassVar[str] = "safety"
    rule: str
    action: str
    """``stop-exercise``, ``end-session`` or ``caution``."""
    reason: str
    rating: int | None = None


@dataclass(frozen=True)
class Paused(Record):
    kind: ClassVar[str] = "pause"
    during: str
    """The state the pause interrupted."""
    exercise: str | None = None


@dataclass(frozen=True)
class Resumed(Record):
    kind: ClassVar[str] = "resume"
    exercise: str | None = None


@dataclass(frozen=True)
class Repeated(Record):
    kind: ClassVar[str] = "repeat"
    exercise: str


@dataclass(frozen=True)
class Stopped(Record):
    kind: ClassVar[str] = "stop"
    exercise: str | None
    reason: str
    """The end status the stop leads to: ``stopped``, ``abandoned``."""


@dataclass(frozen=True)
class SessionEnded(Record):
    kind: ClassVar[str] = "session_end"
    status: str
    """``completed``, ``stopped``, ``stopped-for-pain``, ``abandoned``, ``interrupted``."""
    exercises_done: int | None
    exercises_total: int | None
    recovered: bool | None = None
    """True when the store closed it on open after a crash (nobody recorded its end)."""


RECORD_TYPES: dict[str, type[Record]] = {
    cls.kind: cls
    for cls in (SessionStarted, RatingRecorded, ExerciseResult, SafetyFired, Paused, Resumed, Repeated, Stopped, SessionEnded)
}
"""Every kind of record, by its ``kind``."""


def record_from(kind: str, fields: dict[str, Any]) -> Record:
    """The typed record of ``kind`` with ``fields`` (as the log stores them); a field the log lacks
    (a record written before the field existed) reads as ``None``, one the type does not know is dropped.

    Raises ``KeyError`` for a kind no coach writes.
    """
    cls = RECORD_TYPES[kind]
    names = [f.name for f in dataclasses.fields(cls)]
    values: dict[str, Any] = {name: fields.get(name, 0.0 if name == "at" else None) for name in names}
    return cls(**values)
