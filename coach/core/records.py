"""The records of a session: one frozen dataclass per kind, from the session to the log and back.

The session returns them as actions; the runner announces each as an event (``type`` is its
:attr:`~Record.kind`, the other keys its fields, in the order declared here) and writes it to the
journal; the store maps the fields to columns (``coach.log.schema``) and reads them back as the same
types, which history, the exports and the report read. A field's name lives here and nowhere else.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Mapping
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


UNCONFIRMED = "unconfirmed"
"""``RatingRecorded.confirmed`` of a heard rating nobody confirmed: the FHIR export marks it ``preliminary``."""


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
    """How an answer counted: ``direct`` (typed, pressed), ``yes`` or ``auto`` (a heard one, read back), or
    ``unconfirmed`` (a heard one that waited for "yes" when the session ended: it counted for nothing but a caution)."""

    @property
    def counts(self) -> bool:
        """Whether this is a pain the person gave: answered, and not a heard one left unconfirmed."""
        return self.value is not None and self.confirmed != UNCONFIRMED


@dataclass(frozen=True)
class ExerciseResult(Record):
    kind: ClassVar[str] = "exercise"
    exercise: str
    index: int
    """The exercise's index in the routine."""
    status: str
    """``done``, ``skipped``, ``stopped`` or ``stopped-for-pain``."""
    repetitions_started: int
    rest: bool | None = None
    """True for a rest break: it has a result like an exercise, but no tally counts it as one (None: an exercise)."""
    form: str | None = None
    """``easier`` when a rating above the stop threshold switched the exercise to its easier form (a
    ``safety`` record with action ``regress``), which it finished (or was stopped) in; ``None``: the standard form.
    ``repetitions_started`` then counts the easier form's repetitions."""


@dataclass(frozen=True)
class SafetyFired(Record):
    kind: ClassVar[str] = "safety"
    rule: str
    action: str
    """``stop-exercise``, ``regress`` (switched to the exercise's easier form instead), ``end-session`` or ``caution``."""
    reason: str
    rating: int | None = None


@dataclass(frozen=True)
class Screened(Record):
    """The red-flag screen's answer: ``clear`` (no to every question), ``red-flag`` or ``no-answer``.
    "Screened today" is asked of these (a ``clear`` one today spares the question until tomorrow)."""

    kind: ClassVar[str] = "screen"
    status: str
    reason: str | None = None
    """The question answered yes (``numbness``, ``spreading``, ``bladder``, ``fever``, ``fall``), if any."""
    day: str | None = None
    """The calendar day it counts for (ISO), when that is not the wall clock's: ``--as-of`` in a simulation."""


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
    for cls in (
        SessionStarted, RatingRecorded, ExerciseResult, SafetyFired, Screened, Paused, Resumed, Repeated, Stopped, SessionEnded
    )
}  # fmt: skip
"""Every kind of record, by its ``kind``."""


class RecordError(ValueError):
    """Fields that are not a record of this coach: a kind it does not know, or a field that does not fit."""


def field_names(cls: type[Record]) -> tuple[str, ...]:
    """The fields of a record type, ``at`` first, in declaration order (as :meth:`Record.fields` names them)."""
    renamed = _renamed(cls)
    return tuple(renamed.get(f.name, f.name) for f in dataclasses.fields(cls))


def record_from(kind: str, fields: Mapping[str, Any]) -> Record:
    """The typed record of ``kind`` with ``fields`` (as the log stores them): the inverse of :meth:`Record.fields`.

    A field that is missing reads as ``None`` when its type allows it: the log leaves a ``None`` out, and
    an older coach did not write the fields added since (all of them optional). A key the type does not
    have (a newer coach's field) is ignored here; the caller keeps it if it must. An ``int`` for a
    ``float`` field reads as a float. Raises :class:`RecordError`, saying what does not fit, for a kind
    this coach does not know, a required field that is missing, or a value of the wrong type.
    """
    cls = RECORD_TYPES.get(kind)
    if cls is None:
        raise RecordError(f"a kind of record this coach does not know: {kind!r}")
    values: dict[str, Any] = {}
    stored = {f: fields[name] for f, name in _renamed(cls).items() if name in fields}  # "from" is stored for from_level
    fields = {**fields, **stored}
    for f in dataclasses.fields(cls):
        options = _FIELD_TYPES[cls][f.name]
        if f.name not in fields or fields[f.name] is None:
            if type(None) not in options:
                raise RecordError(f"{kind}: no {f.name}")
            values[f.name] = None
            continue
        value = fields[f.name]
        if not any(_is(value, option) for option in options):
            expected = " or ".join("None" if o is type(None) else o.__name__ for o in options)
            raise RecordError(f"{kind}: {f.name} is {value!r}, not {expected}")
        values[f.name] = float(value) if float in options and isinstance(value, int) else value
    return cls(**values)


def _is(value: Any, option: type) -> bool:
    if isinstance(value, bool):  # a bool is an int to Python, but never a count or a rating here
        return option is bool
    if option is float:
        return isinstance(value, int | float)
    return isinstance(value, option)


def _allowed(cls: type[Record]) -> dict[str, tuple[type, ...]]:
    """Each field's type as the plain types it allows (``int | None`` is ``(int, NoneType)``)."""
    hints = typing.get_type_hints(cls)
    return {f.name: typing.get_args(hints[f.name]) or (hints[f.name],) for f in dataclasses.fields(cls)}


_FIELD_TYPES = {cls: _allowed(cls) for cls in RECORD_TYPES.values()}


# --- programmes (issue 15): the check-in, level changes, a programme's start and stop, a programme day ---------


def _renamed(cls: type[Record]) -> dict[str, str]:
    """A field whose name in events and the log is a Python keyword (``from``): its attribute to that name."""
    return dict(getattr(cls, "RENAMED", {}))


@dataclass(frozen=True)
class CheckIn(Record):
    """The next-morning check-in: "Compared with yesterday morning, is your back better, the same, or worse?"
    and a 0-10 rating (the Silbernagel next-morning rule sets the day's load from it)."""

    kind: ClassVar[str] = "checkin"
    answer: str | None
    """``better``, ``same``, ``worse``; ``None``: no answer."""
    rating: int | None
    day: str
    """The calendar date it was given for (ISO ``YYYY-MM-DD``; ``--as-of`` sets it in simulations)."""
    programme: str | None = None


@dataclass(frozen=True)
class Progress(Record):
    """An exercise's level changed: ``from`` and ``to`` (levels from 1), and why (``good-sessions``,
    ``worse-next-morning``, ``pain-above``, ``missed-days``, ``stage``)."""

    kind: ClassVar[str] = "progress"
    RENAMED: ClassVar[dict[str, str]] = {"from_level": "from", "to_level": "to"}
    exercise: str
    from_level: int
    to_level: int
    reason: str
    day: str
    programme: str | None = None
    stage: str | None = None
    """The stage whose ladder the levels are on (a level number means a dose within one stage's ladder)."""

    def fields(self) -> dict[str, Any]:
        return {self.RENAMED.get(k, k): v for k, v in super().fields().items()}


@dataclass(frozen=True)
class ProgrammeChanged(Record):
    """``coach programme start NAME`` / ``stop``: written outside any session, so it names its ``profile``."""

    kind: ClassVar[str] = "programme"
    action: str
    """``start`` or ``stop``."""
    programme: str
    day: str
    profile: str | None = None


@dataclass(frozen=True)
class ProgrammeDay(Record):
    """The session that follows was today's programme session: which stage, week and levels (``levels`` as
    ``exercise=level`` pairs, comma-separated)."""

    kind: ClassVar[str] = "programme_day"
    programme: str
    stage: str
    week: int
    day: str
    levels: str


@dataclass(frozen=True)
class ExerciseFeedback(Record):
    """The answer to "too easy, just right, or too hard?" after an exercise (a programme's sessions ask it)."""

    kind: ClassVar[str] = "feedback"
    exercise: str
    answer: str
    """``easy``, ``right`` or ``hard``."""


_PROGRAMME_TYPES: tuple[type[Record], ...] = (CheckIn, Progress, ProgrammeChanged, ProgrammeDay, ExerciseFeedback)
RECORD_TYPES.update({cls.kind: cls for cls in _PROGRAMME_TYPES})
_FIELD_TYPES.update({cls: _allowed(cls) for cls in _PROGRAMME_TYPES})
