"""The SQLite session log: schema and migrations, durability, privacy, crash and corruption recovery."""

from __future__ import annotations

import io
import json
import os
import sqlite3
import stat
import subprocess
import sys
import textwrap
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import pytest
from conftest import ROOT, ROUTINES
from test_store_seed import DAY, Wall, answered, seed_session, started

from coach.core.records import (
    RECORD_TYPES,
    CheckIn,
    ExerciseFeedback,
    ExerciseResult,
    Paused,
    ProgrammeChanged,
    ProgrammeDay,
    Progress,
    RatingRecorded,
    Record,
    Repeated,
    Resumed,
    SafetyFired,
    Screened,
    SessionEnded,
    SessionStarted,
    Stopped,
    field_names,
)
from coach.core.script import compile_script
from coach.core.session import Session
from coach.log import schema as dbschema
from coach.log.queries import records
from coach.log.schema import COLUMNS, MIGRATIONS, NewerSchemaError, UnknownRecord, from_row
from coach.log.store import SqliteJournal, Store
from coach.run.clock import FakeClock
from coach.run.eventlog import EventSink
from coach.run.inputs import Feed, Input
from coach.run.runner import Runner
from coach.spec.locale import load_locale
from coach.spec.routine import load_routine
from coach.testing.speaker import FakeSpeaker


def _conn(state: Path) -> sqlite3.Connection:
    return sqlite3.connect(state / "coach.db")


def test_store_schema_is_current_in_wal_with_full_sync(tmp_path: Path) -> None:
    journal = SqliteJournal(tmp_path)
    assert journal.store is not None
    conn = journal.store.conn
    assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    names = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    assert {"sessions", "records", "ratings", "exercise_results", "safety_events", "meta"} <= names
    journal.close()


def test_store_migrates_an_older_database_keeping_its_records(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    journal = SqliteJournal(tmp_path)
    session_id = journal.append(SessionStarted(0.0, "quick-start", "Quick start", "v1", "en"))
    journal.close()
    assert _conn(tmp_path).execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    later = ("ALTER TABLE sessions ADD COLUMN device TEXT", "UPDATE sessions SET device = 'pi'")
    monkeypatch.setattr(dbschema, "MIGRATIONS", [*MIGRATIONS, later])
    store = Store(tmp_path)
    assert store.conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS) + 1
    assert store.conn.execute("SELECT id, routine, device FROM sessions").fetchall() == [(session_id, "quick-start", "pi")]
    store.close()


def test_store_migrates_an_empty_file_from_version_0(tmp_path: Path) -> None:
    (tmp_path / "coach.db").write_bytes(b"")
    store = Store(tmp_path)
    assert store.conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    assert store.conn.execute("SELECT count(*) FROM records").fetchone() == (0,)
    store.close()


def test_store_failed_migration_leaves_the_older_version_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    SqliteJournal(tmp_path).close()
    broken = ("CREATE TABLE half (x)", "THIS IS NOT SQL")
    monkeypatch.setattr(dbschema, "MIGRATIONS", [*MIGRATIONS, broken])
    with pytest.raises(sqlite3.OperationalError):
        Store(tmp_path)
    conn = _conn(tmp_path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    assert conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'half'").fetchone() == (0,)


def test_store_refuses_a_newer_schema_and_leaves_it_alone(tmp_path: Path) -> None:
    SqliteJournal(tmp_path).close()
    conn = _conn(tmp_path)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    before = (tmp_path / "coach.db").read_bytes()
    with pytest.raises(NewerSchemaError, match="newer coach"):
        SqliteJournal(tmp_path)
    assert (tmp_path / "coach.db").read_bytes() == before
    assert not list(tmp_path.glob("coach.db.corrupt-*"))


def test_store_append_is_committed_before_it_returns(tmp_path: Path) -> None:
    journal = SqliteJournal(tmp_path)
    other = _conn(tmp_path)
    each: list[Record] = [started(), answered(1.0, 4), Paused(2.0, "exercise", "back-release"), Resumed(3.0, "back-release"),
                          Stopped(4.0, "back-release", "stopped"), SessionEnded(5.0, "stopped", 0, 2)]  # fmt: skip
    for record in each:
        record_id = journal.append(record)
        assert record_id is not None
        # A second connection (as after a pulled plug) sees the row the moment append returns.
        assert other.execute("SELECT kind FROM records WHERE id = ?", (record_id,)).fetchone() == (record.kind,)
    assert [kind for (kind,) in other.execute("SELECT kind FROM records ORDER BY id")] == [
        "session", "rating", "pause", "resume", "stop", "session_end"
    ]  # fmt: skip
    journal.close()


class _CheckingStream(io.StringIO):
    """An event stream that, at each ``logged`` event, looks for the record from another connection."""

    def __init__(self, db: Path) -> None:
        super().__init__()
        self.db = db
        self.checked: list[tuple[str, int]] = []
        self.missing: list[dict[str, Any]] = []

    def write(self, text: str) -> int:
        for line in text.splitlines():
            event = json.loads(line)
            if event["type"] == "logged":
                conn = sqlite3.connect(self.db)
                row = conn.execute("SELECT kind FROM records WHERE id = ?", (event["id"],)).fetchone()
                conn.close()
                if row == (event["kind"],):
                    self.checked.append((event["kind"], event["id"]))
                else:
                    self.missing.append(event)
        return super().write(text)


def test_store_logged_event_comes_only_after_the_commit(tmp_path: Path) -> None:
    routine = load_routine(ROUTINES / "quick-start.yaml")
    locale = load_locale(routine.language)
    session = Session(compile_script(routine, locale), locale)
    stream = _CheckingStream(tmp_path / "coach.db")
    journal = SqliteJournal(tmp_path)
    inputs = [Input("rating", 4, "script", 31.0), Input("command", "pause", "script", 52.0),
              Input("command", "resume", "script", 60.0), Input("rating", 6, "script", 70.0)]  # fmt: skip
    clock = FakeClock()
    Runner(session, clock, FakeSpeaker(), journal, EventSink(stream), locale, Feed(clock, scripted=inputs)).run()
    journal.close()
    assert stream.missing == []
    kinds = [kind for kind, _ in stream.checked]
    assert kinds[0] == "session" and kinds[-1] == "session_end"
    assert {"rating", "pause", "resume", "safety", "exercise"} <= set(kinds)


@dataclass(frozen=True)
class _OddRecord(Record):
    """A kind no coach writes, with values that fit no column: what a newer coach might append."""

    kind: ClassVar[str] = "future_kind"
    value: Any
    index: Any
    rule: str
    new_field: Any


def test_store_records_read_back_as_appended(tmp_path: Path) -> None:
    journal = SqliteJournal(tmp_path)
    session = SessionStarted(0.0, "r", "R", "v", "en", resume_offered=3, resumed_from=None)
    rating = RatingRecorded(1.5, None, "no-answer", "none", "before", None)
    heard = RatingRecorded(2.0, 7, "answered", "heard", "unprompted", "back-release", "auto")
    result = ExerciseResult(3.0, "back-release", 0, "done", 4)
    ended = SessionEnded(9.0, "completed", 1, 1)
    odd = _OddRecord(2, True, "3", "x", {"nested": [1, 2]})
    ids = [journal.append(r) for r in (session, rating, heard, result, ended, odd)]
    others: list[Record] = [SafetyFired(4.0, "stop_high", "stop-exercise", "pain 7 is above 5", 7), Paused(5.0, "rest"),
                            Resumed(6.0), Repeated(7.0, "pelvic-tilt"), Stopped(8.0, None, "abandoned"),
                            Screened(8.5, "red-flag", "fall"), CheckIn(8.6, "worse", 4, "2026-03-02", "lumbar-6-weeks"),
                            Progress(8.7, "bridge", 2, 1, "worse-next-morning", "2026-03-02", "lumbar-6-weeks", "strengthen"),
                            ProgrammeChanged(8.8, "start", "lumbar-6-weeks", "2026-03-01", "p1"),
                            ProgrammeDay(8.9, "lumbar-6-weeks", "strengthen", 5, "2026-03-02", "bridge=1"),
                            ExerciseFeedback(9.0, "bridge", "hard")]  # fmt: skip
    for other in others:
        journal.append(other)
    journal.close()
    store = Store(tmp_path)
    back = records(store)
    store.close()
    assert [(r.id, r.kind) for r in back[:6]] == [
        (ids[0], "session"), (ids[1], "rating"), (ids[2], "rating"), (ids[3], "exercise"), (ids[4], "session_end"),
        (ids[5], "future_kind"),
    ]  # fmt: skip
    assert [r.record for r in back[:5]] == [session, rating, heard, result, ended]
    assert [type(r.record) for r in back[:5]] == [SessionStarted, RatingRecorded, RatingRecorded, ExerciseResult, SessionEnded]
    assert all(r.other_fields == {} for r in back)
    assert [r.record for r in back[6:]] == others
    assert {type(r.record) for r in back} - {UnknownRecord} == set(RECORD_TYPES.values())  # every type, once at least
    # A kind this coach does not know reads back whole, as stored: nothing coerced (True is not 1, "3" not 3).
    unknown = back[5].record
    assert isinstance(unknown, UnknownRecord) and "future_kind" in unknown.problem
    assert unknown.fields() == odd.fields()
    assert {k: type(v) for k, v in unknown.fields().items()} == {
        "at": float, "value": bool, "index": str, "rule": str, "new_field": dict
    }  # fmt: skip


def test_store_reads_rows_older_or_newer_coaches_wrote(tmp_path: Path) -> None:
    SqliteJournal(tmp_path).close()
    conn = _conn(tmp_path)
    rows = [
        # As the coach wrote them before records were typed: None kept in the JSON, optional fields left out.
        ("session", 0.0, None, None, '{"routine":"r","title":"R","version":"v","language":"en"}'),
        ("rating", 5.0, None, None, '{"value":null,"status":"no-answer","source":"none","moment":"before","exercise":null}'),
        # A newer coach's extra field on a known kind: the type reads, the field is kept beside it.
        ("stop", 6.0, "stopped", None, '{"exercise":null,"loudness":3}'),
        # A hand edit: a rating whose value is not a number, and one without a status.
        ("rating", 7.0, None, None, '{"value":"seven","status":"answered","source":"keyboard","moment":"after"}'),
        ("rating", 8.0, None, 4, '{"source":"keyboard","moment":"after"}'),
        # A hand edit that left the JSON broken: the columns still read, the text is kept as it is.
        ("resume", 9.0, None, None, "{not json"),
    ]
    for kind, at, reason, value, extra in rows:
        conn.execute(
            "INSERT INTO records (session_id, kind, wall, at, reason, value, extra) VALUES (NULL, ?, 'w', ?, ?, ?, ?)",
            (kind, at, reason, value, extra),
        )
    conn.commit()
    store = Store(tmp_path)
    cursor = store.conn.cursor()
    cursor.row_factory = sqlite3.Row
    back = [from_row(row) for row in cursor.execute("SELECT * FROM records ORDER BY id")]
    store.close()
    assert back[0] == (SessionStarted(0.0, "r", "R", "v", "en"), {})
    assert back[1] == (RatingRecorded(5.0, None, "no-answer", "none", "before"), {})
    assert back[2] == (Stopped(6.0, None, "stopped"), {"loudness": 3})
    for (record, others), problem in zip(back[3:], ("rating: value is 'seven', not int or None", "rating: no status")):
        assert isinstance(record, UnknownRecord) and record.kind == "rating" and others == {}
        assert record.problem == problem
    assert back[4][0].fields() == {"at": 8.0, "value": 4, "source": "keyboard", "moment": "after"}
    assert back[5] == (Resumed(9.0, None), {"extra": "{not json"})


def test_store_columns_are_fields_of_the_record_types() -> None:
    """COLUMNS is the one field-to-column map: every name in it is a field of some record type, and in
    every type that has it, a field of the column's type (so a value fits its column and reads back the same)."""
    for name, (_, column_type) in COLUMNS.items():
        having = [cls for cls in RECORD_TYPES.values() if name in field_names(cls)]
        assert having, name
        for cls in having:
            hint = typing.get_type_hints(cls)[name]
            assert column_type in (typing.get_args(hint) or (hint,)), (cls.__name__, name)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_store_files_are_private(tmp_path: Path) -> None:
    state = tmp_path / "new" / "state"
    journal = SqliteJournal(state)
    journal.append(started())
    assert _mode(state) == 0o700
    for name in ("coach.db", "coach.db-wal", "coach.db-shm", "coach.lock"):
        assert _mode(state / name) == 0o600, name
    journal.close()


def test_store_tightens_a_database_file_left_readable(tmp_path: Path) -> None:
    SqliteJournal(tmp_path).close()
    os.chmod(tmp_path / "coach.db", 0o644)
    journal = SqliteJournal(tmp_path)
    journal.append(started())
    assert _mode(tmp_path / "coach.db") == 0o600
    assert _mode(tmp_path / "coach.db-wal") == 0o600
    journal.close()


# --- crash: a session left open -------------------------------------------------------------------

_CRASH = """
import datetime, os, signal, sys
sys.path.insert(0, {tests!r})
from test_store_seed import Wall, seed_session
from coach.log.store import SqliteJournal
wall = Wall()
journal = SqliteJournal(__import__("pathlib").Path({state!r}), {profile!r}, now=wall)
seed_session(journal, wall, datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC), status=None,
             done=("back-release",), skipped=("pelvic-tilt",))
os.kill(os.getpid(), signal.SIGKILL)
"""


def _crash_mid_session(state: Path, profile: str | None = None) -> None:
    code = _CRASH.format(tests=str(ROOT / "tests"), state=str(state), profile=profile)
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == -9, result.stderr


def test_store_closes_a_crashed_session_as_interrupted(tmp_path: Path) -> None:
    _crash_mid_session(tmp_path)
    conn = _conn(tmp_path)
    assert conn.execute("SELECT status FROM sessions").fetchall() == [(None,)]
    last_wall = conn.execute("SELECT max(wall) FROM records").fetchone()[0]
    journal = SqliteJournal(tmp_path, now=Wall(DAY.replace(day=3)))
    assert journal.recovered == [1]
    row = conn.execute("SELECT status, ended, exercises_done FROM sessions").fetchone()
    assert row == ("interrupted", last_wall, 1)
    end = conn.execute("SELECT kind, status, wall, extra FROM records ORDER BY id DESC LIMIT 1").fetchone()
    assert end[:3] == ("session_end", "interrupted", "2026-03-03T09:00:00.000Z")
    assert json.loads(end[3])["recovered"] is True  # what bench/kill_test.py counts with json_extract
    assert journal.store is not None
    (*_, back) = records(journal.store)
    assert back.record == SessionEnded(110.0, "interrupted", 1, None, recovered=True)  # at: the last record's
    assert back.other_fields == {}
    offer = journal.last_interrupted()
    assert offer is not None
    assert (offer.routine, offer.version, offer.last_done_index, offer.resume_index, offer.recovered) == (
        "quick-start", "abc123def456", 0, 2, True
    )  # fmt: skip
    journal.close()
    again = SqliteJournal(tmp_path)
    assert again.recovered == []  # closed once, not twice
    again.close()


def test_store_offers_no_resume_once_a_later_session_ended(tmp_path: Path) -> None:
    _crash_mid_session(tmp_path)
    wall = Wall()
    journal = SqliteJournal(tmp_path, now=wall)
    assert journal.last_interrupted() is not None
    seed_session(journal, wall, DAY.replace(day=5))
    assert journal.last_interrupted() is None
    journal.close()


def test_store_resume_offer_is_per_profile(tmp_path: Path) -> None:
    _crash_mid_session(tmp_path, profile="A1")
    wall = Wall()
    other = SqliteJournal(tmp_path, "B2", now=wall)
    seed_session(other, wall, DAY.replace(day=5))
    assert other.last_interrupted() is None
    other.close()
    mine = SqliteJournal(tmp_path, "A1")
    offer = mine.last_interrupted()
    assert offer is not None and offer.session_id == 1
    mine.close()


def test_store_resume_offer_after_ctrl_c_says_it_was_not_a_crash(tmp_path: Path) -> None:
    wall = Wall()
    journal = SqliteJournal(tmp_path, now=wall)
    seed_session(journal, wall, DAY, status="interrupted", after=None, done=())
    offer = journal.last_interrupted()
    assert offer is not None
    assert (offer.last_done_index, offer.resume_index, offer.recovered) == (None, 0, False)
    journal.close()


def test_store_leaves_open_a_session_another_coach_is_writing(tmp_path: Path) -> None:
    wall = Wall()
    running = SqliteJournal(tmp_path, now=wall)
    seed_session(running, wall, DAY, status=None)
    second = SqliteJournal(tmp_path)
    assert second.recovered == []
    assert _conn(tmp_path).execute("SELECT status FROM sessions").fetchall() == [(None,)]
    second.close()
    assert running.append(SessionEnded(200.0, "completed", 2, 2)) is not None
    running.close()
    assert _conn(tmp_path).execute("SELECT status FROM sessions").fetchall() == [("completed",)]


# --- corruption -----------------------------------------------------------------------------------


def _one_session(state: Path) -> None:
    wall = Wall()
    journal = SqliteJournal(state, now=wall)
    seed_session(journal, wall, DAY)
    journal.close()


def test_store_moves_aside_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    garbage = b"this is not a database, it is a shopping list\n" * 200
    (tmp_path / "coach.db").write_bytes(garbage)
    (tmp_path / "coach.db-wal").write_bytes(b"wal bytes")
    (tmp_path / "coach.db-shm").write_bytes(b"shm bytes")
    journal = SqliteJournal(tmp_path, now=Wall())
    notices = journal.take_notices()
    assert len(notices) == 1 and "\n" not in notices[0]
    assert "coach.db.corrupt-20260302T090000Z" in notices[0] and "new one started" in notices[0]
    aside = tmp_path / "coach.db.corrupt-20260302T090000Z"
    assert aside.read_bytes() == garbage
    assert Path(f"{aside}-wal").read_bytes() == b"wal bytes"
    assert Path(f"{aside}-shm").exists()  # moved too (its content is only an index SQLite rebuilds)
    assert journal.append(started()) == 1
    journal.close()
    assert _conn(tmp_path).execute("PRAGMA integrity_check").fetchone() == ("ok",)


@pytest.mark.parametrize("keep", [100, 4096 + 100, 0.5])
def test_store_moves_aside_a_truncated_database(tmp_path: Path, keep: float) -> None:
    _one_session(tmp_path)
    db = tmp_path / "coach.db"
    size = db.stat().st_size
    assert size > 8192
    with open(db, "r+b") as f:
        f.truncate(int(size * keep) if keep < 1 else int(keep))
    journal = SqliteJournal(tmp_path)
    notices = journal.take_notices()
    assert len(notices) == 1 and "was damaged" in notices[0]
    (aside,) = [p for p in tmp_path.glob("coach.db.corrupt-*") if not p.name.endswith(("-wal", "-shm"))]
    assert aside.stat().st_size == (int(size * keep) if keep < 1 else int(keep))
    assert journal.append(started()) == 1
    journal.close()


def test_store_moves_aside_a_database_that_fails_integrity_check(tmp_path: Path) -> None:
    _one_session(tmp_path)
    conn = _conn(tmp_path)
    (root,) = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'records'").fetchone()
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    with open(tmp_path / "coach.db", "r+b") as f:  # scribble over the records table's page, keep the header
        f.seek((root - 1) * page_size + 8)
        f.write(b"\xff" * 64)
    journal = SqliteJournal(tmp_path)
    assert any("was damaged" in n for n in journal.take_notices())
    journal.close()


def test_store_new_databases_use_small_pages(tmp_path: Path) -> None:
    SqliteJournal(tmp_path).close()
    assert _conn(tmp_path).execute("PRAGMA page_size").fetchone() == (1024,)


# --- the outbox (issue 16): every committed record is queued in its own transaction -------------

from coach.log.outbox import OutboxLog  # noqa: E402


def test_store_outbox_queues_every_committed_record_in_order(tmp_path: Path) -> None:
    journal = SqliteJournal(tmp_path, profile="p7")
    first = journal.append(SessionStarted(0.0, "quick-start", "Quick start", "v1", "en"))
    second = journal.append(RatingRecorded(1.0, 3, "answered", "keyboard", "before"))
    outbox = OutboxLog(tmp_path)
    assert outbox.open()
    items = outbox.backlog()
    assert [item.record_id for item in items] == [first, second]
    assert items[0].session is not None and items[0].session["id"] == first and items[0].session["profile"] == "p7"
    assert items[1].fields == {"at": 1.0, "value": 3, "status": "answered", "source": "keyboard", "moment": "before"}
    assert [item.record_id for item in outbox.backlog(after=first)] == [second]
    outbox.acknowledge([first])
    assert [item.record_id for item in outbox.backlog()] == [second]
    journal.close()
    outbox.close()


def test_store_outbox_a_record_and_its_queue_entry_commit_together(tmp_path: Path) -> None:
    journal = SqliteJournal(tmp_path)
    journal.append(SessionStarted(0.0, "quick-start", "Quick start", "v1", "en"))
    conn = _conn(tmp_path)
    conn.execute("CREATE TRIGGER refuse BEFORE INSERT ON outbox BEGIN SELECT RAISE(ABORT, 'outbox refused'); END")
    conn.commit()
    assert journal.append(RatingRecorded(1.0, 3, "answered", "keyboard", "before")) is None  # the second statement failed
    assert conn.execute("SELECT count(*) FROM records").fetchone() == (1,)  # so the record is not there either
    conn.execute("DROP TRIGGER refuse")
    conn.commit()
    later = journal.append(RatingRecorded(2.0, 4, "answered", "keyboard", "after"))
    assert later is not None
    ids = [row[0] for row in conn.execute("SELECT id FROM records ORDER BY id")]
    assert len(ids) == 3 and [row[0] for row in conn.execute("SELECT record_id FROM outbox ORDER BY 1")] == ids
    journal.close()


def test_store_outbox_holds_the_end_a_crash_recovery_writes(tmp_path: Path) -> None:
    crashed = SqliteJournal(tmp_path)
    crashed.append(SessionStarted(0.0, "quick-start", "Quick start", "v1", "en"))
    assert crashed.store is not None and crashed._lock is not None
    crashed._lock.release()  # as if killed: its lock went with it
    crashed._lock = None
    again = SqliteJournal(tmp_path)
    assert again.recovered
    kinds = [row[0] for row in _conn(tmp_path).execute("SELECT kind FROM outbox JOIN records ON id = record_id ORDER BY id")]
    assert kinds == ["session", "session_end"]
    again.close()
    crashed.close()


def test_store_outbox_reader_creates_nothing_and_waits_for_an_old_log(tmp_path: Path) -> None:
    outbox = OutboxLog(tmp_path / "none")
    assert not outbox.open() and not (tmp_path / "none").exists()
    old = sqlite3.connect(tmp_path / "coach.db")
    for statement in MIGRATIONS[0]:
        old.execute(statement)
    old.execute("PRAGMA user_version = 1")
    old.commit()
    reader = OutboxLog(tmp_path)
    assert not reader.open() and reader.waiting is not None and "no outbox yet" in reader.waiting
    assert old.execute("PRAGMA user_version").fetchone() == (1,)  # never migrated by the sync side


def test_store_outbox_reader_may_delete_outbox_rows_and_write_nothing_else(tmp_path: Path) -> None:
    journal = SqliteJournal(tmp_path)
    first = journal.append(SessionStarted(0.0, "quick-start", "Quick start", "v1", "en"))
    journal.close()
    outbox = OutboxLog(tmp_path)
    assert outbox.open() and outbox.conn is not None
    for statement in (
        "DELETE FROM records",
        "UPDATE sessions SET status = 'completed'",
        "INSERT INTO outbox (record_id) VALUES (99)",
        "DROP TABLE outbox",
        "PRAGMA user_version = 9",
    ):
        with pytest.raises(sqlite3.DatabaseError, match="not authorized"):
            outbox.conn.execute(statement)
    outbox.acknowledge([first])
    assert outbox.backlog() == [] and _conn(tmp_path).execute("SELECT count(*) FROM records").fetchone() == (1,)
