"""Seeding a session log with sessions on chosen days (shared by the store, CLI and report tests)."""

from __future__ import annotations

import datetime as _dt
import sqlite3
from pathlib import Path
from typing import Any

from coach.core.records import ExerciseResult, RatingRecorded, Record, SessionEnded, SessionStarted
from coach.log.store import SqliteJournal

DAY = _dt.datetime(2026, 3, 2, 9, 0, tzinfo=_dt.UTC)  # a Monday


class Wall:
    """A wall clock the test moves by hand."""

    def __init__(self, start: _dt.datetime = DAY) -> None:
        self.now = start

    def __call__(self) -> _dt.datetime:
        return self.now


def started(routine: str = "r", at: float = 0.0, **options: Any) -> SessionStarted:
    """A session's first record as the session writes it (title from the id, a fixed version, English)."""
    return SessionStarted(at, routine, routine.replace("-", " ").title(), "abc123def456", "en", **options)


def answered(at: float, value: int, moment: str = "before", exercise: str | None = None) -> RatingRecorded:
    """A pain rating typed in (heard and confirmed with yes during an exercise)."""
    if exercise is not None:
        return RatingRecorded(at, value, "answered", "heard", moment, exercise, "yes")
    return RatingRecorded(at, value, "answered", "keyboard", moment, None, "direct")


def seed_session(
    journal: SqliteJournal,
    wall: Wall,
    start: _dt.datetime,
    *,
    routine: str = "quick-start",
    before: int | None = 5,
    after: int | None = 3,
    during: dict[str, int] | None = None,
    done: tuple[str, ...] = ("back-release", "pelvic-tilt"),
    skipped: tuple[str, ...] = (),
    status: str | None = "completed",
) -> list[tuple[str, int | None]]:
    """Append one session's records as the session would; return ``(kind, id)`` for each."""
    wall.now = start
    out: list[tuple[str, int | None]] = []

    def add(record: Record) -> None:
        wall.now = start + _dt.timedelta(seconds=record.at)
        out.append((record.kind, journal.append(record)))

    add(started(routine))
    if before is not None:
        add(answered(30.0, before, "before"))
    t = 40.0
    for index, name in enumerate(done + skipped):
        for value in [v for ex, v in (during or {}).items() if ex == name]:
            add(answered(t + 5, value, "unprompted", exercise=name))
        result = "done" if name in done else "skipped"
        add(ExerciseResult(t + 30, name, index, result, 2 if result == "done" else 0))
        t += 40
    if status is None:  # the plug was pulled mid-session
        return out
    if after is not None:
        add(answered(t + 5, after, "after"))
    add(SessionEnded(t + 20, status, len(done), len(done) + len(skipped)))
    return out


def seed_store(state_dir: Path, profile: str | None = None, days: int = 10) -> list[tuple[str, int | None]]:
    """``days`` sessions, one every other day from :data:`DAY`, pain drifting down."""
    wall = Wall()
    journal = SqliteJournal(state_dir, profile, now=wall)
    out: list[tuple[str, int | None]] = []
    for n in range(days):
        start = DAY + _dt.timedelta(days=2 * n)
        skipped = ("pelvic-tilt",) if n % 4 == 3 else ()
        done = ("back-release",) if skipped else ("back-release", "pelvic-tilt")
        out += seed_session(
            journal, wall, start, before=max(0, 7 - n // 2), after=max(0, 5 - n // 2), during={"back-release": 4 - n // 4},
            done=done, skipped=skipped,
        )  # fmt: skip
    journal.close()
    return out


def test_seed_store_writes_every_record_with_an_id(tmp_path: Path) -> None:
    written = seed_store(tmp_path, days=3)
    assert all(record_id is not None for _, record_id in written)
    conn = sqlite3.connect(tmp_path / "coach.db")
    rows = conn.execute("SELECT id, kind FROM records ORDER BY id").fetchall()
    assert rows == [(record_id, kind) for kind, record_id in written]
    started = [row[0] for row in conn.execute("SELECT started FROM sessions ORDER BY id")]
    assert started == ["2026-03-02T09:00:00.000Z", "2026-03-04T09:00:00.000Z", "2026-03-06T09:00:00.000Z"]
