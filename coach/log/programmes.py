"""A person's programme, read back from the log: which one is active, since when, and its history.

Programme state lives in the log as records (:mod:`coach.core.records`): ``programme`` (start and stop,
written outside any session, so each names its profile), and within each programme session its
``programme_day``, ``checkin`` and ``progress`` records beside the session's own ratings and exercise
results. Everything is read for one profile code only (``None``: the sessions without one, a home Pi), so
at a clinic station one patient's levels are never another's. Reads go through a connection of the
:class:`~coach.log.store.Store`; nothing here writes, except :func:`record_programme` through a journal.
"""

from __future__ import annotations

import datetime as _dt
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from coach.core.progression import Change, DaySession, History, Morning, Outcome
from coach.core.records import CheckIn, ExerciseFeedback, ExerciseResult, ProgrammeChanged, ProgrammeDay, Progress, RatingRecorded
from coach.errors import CoachError
from coach.log.schema import from_row
from coach.log.store import DB_NAME, SqliteJournal, Store


@dataclass
class ProgrammeLog:
    """One profile's programme as the log has it (``programme`` is ``None`` when none is active)."""

    programme: str | None = None
    start: _dt.date | None = None
    history: History | None = None
    checked_in: set[_dt.date] = field(default_factory=set)
    """Days with a check-in: the first session of a day asks it, the others do not."""
    session_days: set[_dt.date] = field(default_factory=set)
    """Days with a programme session (done, or at least started): a reminder is only for a day without one."""


def read_programme(state_dir: Path, profile: str | None) -> ProgrammeLog:
    """The active programme of ``profile`` in ``state_dir``'s log, with its history (empty when there is no log)."""
    if not (state_dir / DB_NAME).exists():
        return ProgrammeLog()
    store = Store(state_dir, readonly=True)
    try:
        return programme_log(store.conn, profile)
    except sqlite3.Error as exc:
        raise CoachError(f"{state_dir / DB_NAME}: cannot read the programme: {exc}") from None
    finally:
        store.close()


def programme_log(conn: sqlite3.Connection, profile: str | None) -> ProgrammeLog:
    """:func:`read_programme` on an open connection."""
    cursor = conn.cursor()
    cursor.row_factory = sqlite3.Row
    marks = [row for row in cursor.execute("SELECT * FROM records WHERE kind = ? ORDER BY id", (ProgrammeChanged.kind,))]
    latest: tuple[int, ProgrammeChanged] | None = None
    for row in marks:
        record = from_row(row)[0]
        if isinstance(record, ProgrammeChanged) and record.profile == profile:
            latest = (int(row["id"]), record)
    if latest is None or latest[1].action != "start":
        return ProgrammeLog()
    since, started = latest
    start = _dt.date.fromisoformat(started.day)
    sessions = [
        int(r[0]) for r in conn.execute("SELECT id FROM sessions WHERE profile IS ? AND id > ? ORDER BY id", (profile, since))
    ]
    log = ProgrammeLog(started.programme, start)
    days: list[DaySession] = []
    mornings: list[Morning] = []
    changes: list[Change] = []
    for session_id in sessions:
        rows = cursor.execute("SELECT * FROM records WHERE session_id = ? ORDER BY id", (session_id,)).fetchall()
        typed = [from_row(row)[0] for row in rows]
        day = next((r for r in typed if isinstance(r, ProgrammeDay) and r.programme == started.programme), None)
        if day is None:
            continue  # a plain routine run, not the programme's
        when = _dt.date.fromisoformat(day.day)
        log.session_days.add(when)
        for r in typed:
            if isinstance(r, CheckIn):
                mornings.append(Morning(_dt.date.fromisoformat(r.day), r.answer, r.rating))
                log.checked_in.add(_dt.date.fromisoformat(r.day))
            elif isinstance(r, Progress):
                changes.append(
                    Change(r.exercise, r.from_level, r.to_level, r.reason, _dt.date.fromisoformat(r.day), r.stage or day.stage)
                )
        days.append(DaySession(when, day.stage, _outcomes(typed)))
    log.history = History(start, tuple(days), tuple(mornings), tuple(changes))
    return log


def _outcomes(typed: Sequence[object]) -> dict[str, Outcome]:
    """Each exercise of a session: its highest counted pain (its own ratings, else the session's highest)."""
    results = [r for r in typed if isinstance(r, ExerciseResult) and not r.rest]
    ratings = [r for r in typed if isinstance(r, RatingRecorded) and r.counts]
    every = [r.value for r in ratings if r.value is not None]
    felt = {r.exercise: r.answer for r in typed if isinstance(r, ExerciseFeedback)}  # "too easy, just right, too hard"
    outcomes: dict[str, Outcome] = {}
    for result in results:
        own = [r.value for r in ratings if r.exercise == result.exercise and r.value is not None]
        pain = max(own) if own else (max(every) if every else None)  # none of its own: the session's highest
        done = result.status == "done"
        outcomes[result.exercise] = Outcome(pain, done, result.form == "easier", bool(own), felt.get(result.exercise))
    return outcomes


def record_programme(state_dir: Path, profile: str | None, record: ProgrammeChanged) -> int | None:
    """Write a programme's start or stop to the log (outside any session); its id once durable."""
    journal = SqliteJournal(state_dir, profile)
    try:
        return journal.append(record)
    finally:
        journal.close()
