"""Faults and hostile input on the log side (issue 13): a damaged or strange log, planted paths, modes.

Each case ends in one clear line and a non-zero exit (or a notice and a fix), never a traceback, a
hang or a lost record: read-only commands change nothing, and only a journal holding the lock sets aside.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import stat
from pathlib import Path

import pytest
from conftest import screen_off_config_home, side_check_nos
from test_records_cli import _hermetic, coach  # noqa: F401 (_hermetic: the autouse fixture)
from test_store_seed import seed_store, started

from coach import routines as shipped_routines
from coach.log.guard import APPLICATION_ID, UnsafeLogError
from coach.log.store import SqliteJournal
from coach.spec.routine import RestBreak, load_routine

READERS = [
    ("history",),
    ("export", "--format", "json"),
    ("export", "--format", "csv"),
    ("export", "--format", "fhir"),
    ("report", "--out", "{tmp}/r.html"),
]



def _reader(args: tuple[str, ...], state: Path, tmp: Path) -> list[str]:
    return [a.replace("{tmp}", str(tmp)) for a in args] + ["--state-dir", str(state)]


def _files(state: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(state.iterdir()) if p.is_file() and not p.is_symlink()}


def _one_line_refusal(code: int, err: str) -> None:
    assert code == 2, err
    assert err.count("\n") == 1 and "Traceback" not in err


def _seeded(tmp_path: Path) -> Path:
    state = tmp_path / "state"
    seed_store(state, days=2)
    return state


def _crashed_copy(tmp_path: Path, routine: str) -> Path:
    """A copy of a seeded log taken while a session of ``routine`` is open: its records are still in the WAL,
    as a crash leaves them."""
    seeded = _seeded(tmp_path)
    journal = SqliteJournal(seeded)
    journal.append(started(routine))
    state = tmp_path / "crashed"
    state.mkdir(mode=0o700)
    for name in ("coach.db", "coach.db-wal"):
        shutil.copy(seeded / name, state / name)
    journal.close()
    return state


def _foreign_wal(state: Path, tmp_path: Path) -> None:
    """Plant beside coach.db the WAL of another program's database (SQLite would replay it over the log)."""
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA wal_autocheckpoint = 0")
    conn.execute("CREATE TABLE bookmarks (url TEXT)")
    conn.execute("INSERT INTO bookmarks VALUES ('https://example.org')")
    shutil.copy(f"{other}-wal", state / "coach.db-wal")
    conn.close()


# --- losing the log ---------------------------------------------------------------------------------


@pytest.mark.parametrize("args", READERS, ids=lambda a: "-".join(a[:3]))
def test_log_faults_readers_report_a_damaged_log_and_leave_it_in_place(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: tuple[str, ...]
) -> None:
    state = _seeded(tmp_path)
    (state / "coach.db").write_bytes(b"not a database at all\n" * 100)
    before = _files(state)
    code, out, err = coach(capsys, *_reader(args, state, tmp_path))
    _one_line_refusal(code, err)
    assert "coach.db" in err and "damaged" in err and out == ""
    assert _files(state) == before  # nothing moved aside, nothing created
    assert not (tmp_path / "r.html").exists()


@pytest.mark.parametrize("args", READERS, ids=lambda a: "-".join(a[:3]))
def test_log_faults_readers_never_write_a_sound_log(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: tuple[str, ...]
) -> None:
    state = _crashed_copy(tmp_path, "running")
    before = _files(state)
    code, _, err = coach(capsys, *_reader(args, state, tmp_path))
    assert code == 0, err
    after = {name: data for name, data in _files(state).items() if name != "coach.db-shm"}
    assert after == before  # no checkpoint, no migration, no application id stamped, no lock made


@pytest.mark.parametrize("args", READERS, ids=lambda a: "-".join(a[:3]))
def test_log_faults_readers_leave_a_closed_log_exactly_as_it_was(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: tuple[str, ...]
) -> None:
    state = _seeded(tmp_path)
    before = _files(state)
    code, _, err = coach(capsys, *_reader(args, state, tmp_path))
    assert code == 0, err
    assert _files(state) == before  # not even an empty -wal or -shm


def test_log_faults_a_stranger_wal_is_set_aside_and_the_log_kept(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state = _seeded(tmp_path)
    _, before, _ = coach(capsys, "history", "--state-dir", str(state))
    _foreign_wal(state, tmp_path)
    code, out, err = coach(capsys, "history", "--state-dir", str(state))
    _one_line_refusal(code, err)
    assert "coach.db-wal" in err and "not this log's" in err and (state / "coach.db-wal").exists()
    journal = SqliteJournal(state)
    (notice,) = journal.take_notices()
    assert "coach.db-wal did not belong" in notice and "kept" in notice
    journal.close()
    (aside,) = state.glob("coach.db-wal.stranger-*")
    assert b"bookmarks" in aside.read_bytes()  # kept for whoever wants it
    code, after, _ = coach(capsys, "history", "--state-dir", str(state))
    assert code == 0 and after == before  # every session the log had is still there


def test_log_faults_the_wal_of_another_coach_log_is_set_aside(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state = _seeded(tmp_path)
    _, before, _ = coach(capsys, "history", "--state-dir", str(state))
    other = SqliteJournal(tmp_path / "other")  # a new log: all of it, its meta too, is still in its WAL
    other.append(started("someone-else"))
    shutil.copy(tmp_path / "other" / "coach.db-wal", state / "coach.db-wal")
    other.close()
    code, _, err = coach(capsys, "history", "--state-dir", str(state))
    _one_line_refusal(code, err)
    assert "coach.db-wal: not this log's (another coach log's" in err
    journal = SqliteJournal(state)
    assert any("did not belong" in n for n in journal.take_notices())
    journal.close()
    code, after, _ = coach(capsys, "history", "--state-dir", str(state))
    assert code == 0 and after == before and "someone-else" not in after


def test_log_faults_another_programs_database_is_not_adopted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    conn = sqlite3.connect(state / "coach.db")
    conn.execute("CREATE TABLE bookmarks (url TEXT)")
    conn.commit()
    conn.close()
    code, _, err = coach(capsys, "history", "--state-dir", str(state))
    _one_line_refusal(code, err)
    assert "not a coach log" in err
    journal = SqliteJournal(state)
    assert any("not a coach log" in n and "moved aside" in n for n in journal.take_notices())
    assert journal.append(started()) == 1
    journal.close()
    (aside,) = [p for p in state.glob("coach.db.corrupt-*") if not p.name.endswith(("-wal", "-shm"))]
    assert sqlite3.connect(aside).execute("SELECT name FROM sqlite_master").fetchall() == [("bookmarks",)]  # never written to
    assert sqlite3.connect(state / "coach.db").execute("PRAGMA application_id").fetchone() == (APPLICATION_ID,)


def test_log_faults_a_database_with_another_application_id_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state = _seeded(tmp_path)
    conn = sqlite3.connect(state / "coach.db")
    conn.execute("PRAGMA application_id = 1179861838")  # another program's, over coach's very schema
    conn.close()
    code, _, err = coach(capsys, "export", "--format", "json", "--state-dir", str(state))
    _one_line_refusal(code, err)
    assert "another program's database" in err


def test_log_faults_a_dropped_table_is_reported_not_a_crash(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state = _seeded(tmp_path)
    conn = sqlite3.connect(state / "coach.db")
    for view in ("ratings", "exercise_results", "safety_events"):
        conn.execute(f"DROP VIEW {view}")
    conn.execute("DROP TABLE records")
    conn.commit()
    conn.close()
    for args in (("history",), ("export", "--format", "csv")):
        code, _, err = coach(capsys, *args, "--state-dir", str(state))
        _one_line_refusal(code, err)
        assert "no table records" in err
    journal = SqliteJournal(state)  # a session sets it aside and starts afresh
    assert any("no table records" in n for n in journal.take_notices())
    assert journal.append(started()) == 1
    journal.close()


def test_log_faults_bad_times_and_json_are_reported_not_a_crash(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state = _seeded(tmp_path)
    conn = sqlite3.connect(state / "coach.db")
    first = conn.execute("SELECT min(id) FROM sessions").fetchone()[0]
    conn.execute("UPDATE sessions SET started = 'yesterday', routine = 42 WHERE id = ?", (first,))
    conn.execute("UPDATE sessions SET exercises_total = 'many', exercises_done = 'some' WHERE id <> ?", (first,))
    rating = conn.execute("SELECT min(id) FROM records WHERE kind = 'rating' AND value IS NOT NULL").fetchone()[0]
    conn.execute("UPDATE records SET wall = 'teatime' WHERE id = ?", (rating,))
    conn.execute("UPDATE records SET extra = '{not json' WHERE kind = 'session_end'")
    conn.execute("UPDATE meta SET value = 'not hex' WHERE key = 'instance'")
    conn.commit()
    conn.close()
    code, out, err = coach(capsys, "history", "--state-dir", str(state))
    assert code == 0 and "start that is not a time" in err and "'yesterday'" in err
    assert len(out.splitlines()) == 2  # the header and the session with a readable start
    code, out, err = coach(capsys, "report", "--state-dir", str(state), "--out", str(tmp_path / "r.html"))
    assert code == 0 and "(1 sessions)" in out and "not a time" in err
    code, out, err = coach(capsys, "export", "--format", "fhir", "--state-dir", str(state))
    assert code == 0 and "teatime" not in out and "no readable time" in err
    for fmt, stored in (("json", ("yesterday", "teatime", "{not json")), ("csv", ("teatime",))):  # exported as stored
        code, out, err = coach(capsys, "export", "--format", fmt, "--state-dir", str(state))
        assert code == 0 and all(text in out for text in stored), err


# --- symlinks, special files and modes -------------------------------------------------------------


@pytest.mark.parametrize("name", ["coach.db", "coach.db-wal", "coach.db-shm", "coach.lock"])
def test_log_faults_a_planted_link_is_never_followed(tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str) -> None:
    state = _seeded(tmp_path)
    victim = tmp_path / "victim"
    victim.write_bytes(b"precious")
    victim.chmod(0o644)
    target = state / name
    if target.exists():
        target.unlink()
    target.symlink_to(victim)
    with pytest.raises(UnsafeLogError, match="symbolic link"):
        SqliteJournal(state)
    if name != "coach.lock":  # the readers take no lock
        code, _, err = coach(capsys, "history", "--state-dir", str(state))
        _one_line_refusal(code, err)
        assert "symbolic link" in err
    assert victim.read_bytes() == b"precious" and stat.S_IMODE(victim.stat().st_mode) == 0o644
    assert target.is_symlink() and not list(state.glob("coach.db.corrupt-*"))


def test_log_faults_a_link_to_a_missing_file_is_not_created_through(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    (state / "coach.lock").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(UnsafeLogError):
        SqliteJournal(state)
    assert not (tmp_path / "elsewhere").exists()


@pytest.mark.parametrize("name", ["coach.db", "coach.db-wal"])
def test_log_faults_a_fifo_is_refused_at_once(tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str) -> None:
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    os.mkfifo(state / name)
    with pytest.raises(UnsafeLogError, match="FIFO"):
        SqliteJournal(state)
    code, _, err = coach(capsys, "history", "--state-dir", str(state))
    _one_line_refusal(code, err)
    assert "FIFO" in err


@pytest.mark.parametrize("command", ["export", "report"])
def test_log_faults_out_is_private_never_through_a_link(tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str) -> None:
    state = _seeded(tmp_path)
    extra = ["--format", "json"] if command == "export" else []
    out = tmp_path / "out.html"
    out.write_text("old")
    out.chmod(0o644)
    if command == "report":
        out.with_suffix(".png").write_text("old")
        out.with_suffix(".png").chmod(0o644)
    code, _, err = coach(capsys, command, *extra, "--state-dir", str(state), "--out", str(out))
    assert code == 0, err
    assert stat.S_IMODE(out.stat().st_mode) == 0o600 and out.read_text() != "old"
    if command == "report":
        assert stat.S_IMODE(out.with_suffix(".png").stat().st_mode) == 0o600
    victim = tmp_path / "victim.html"
    victim.write_text("precious")
    link = tmp_path / "link.html"
    link.symlink_to(victim)
    code, _, err = coach(capsys, command, *extra, "--state-dir", str(state), "--out", str(link))
    _one_line_refusal(code, err)
    assert "symbolic link" in err and victim.read_text() == "precious"
    fifo = tmp_path / "fifo.html"
    os.mkfifo(fifo)
    code, _, err = coach(capsys, command, *extra, "--state-dir", str(state), "--out", str(fifo))
    _one_line_refusal(code, err)
    assert "FIFO" in err


def test_log_faults_an_open_state_folder_is_made_private_with_a_notice(tmp_path: Path) -> None:
    state = _seeded(tmp_path)
    state.chmod(0o755)
    journal = SqliteJournal(state)
    notices = journal.take_notices()
    journal.close()
    assert stat.S_IMODE(state.stat().st_mode) == 0o700
    assert any(re.search(r"others could open the state directory \(mode 755\); it is now 0700", n) for n in notices)


def test_log_faults_a_state_folder_of_another_user_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    state = _seeded(tmp_path)
    before = _files(state)
    monkeypatch.setattr(os, "geteuid", lambda: state.stat().st_uid + 1)
    with pytest.raises(UnsafeLogError, match="another user"):
        SqliteJournal(state)
    code, _, err = coach(capsys, "history", "--state-dir", str(state))
    _one_line_refusal(code, err)
    assert "belongs to another user" in err and _files(state) == before


# --- counting -------------------------------------------------------------------------------------


def test_log_faults_history_does_not_count_a_rest_as_an_exercise(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state = tmp_path / "state"
    config = screen_off_config_home(tmp_path / "config") / "coach" / "config.yaml"
    ran = load_routine(Path(shipped_routines.__file__).parent / "sciatica-gentle.yaml")
    answers = tmp_path / "answers.txt"  # "no" to the nerve glide's side check, which stops the exercise unanswered
    answers.write_text("".join(f"{i.at:g} {i.value}\n" for i in side_check_nos(ran)), encoding="utf-8")
    args = ("run", "sciatica-gentle", "--simulate", "--state-dir", str(state), "--input-script", str(answers))
    code, _, err = coach(capsys, "--config", str(config), *args)
    assert code == 0, err
    code, out, _ = coach(capsys, "history", "--state-dir", str(state))
    # counted from the routine the coach ran by name (the shipped one), so a routine edit does not break the point:
    # its rests are not exercises
    exercises = sum(not isinstance(e, RestBreak) for e in ran.exercises)
    assert exercises < len(ran.exercises)
    done = f"{exercises}/{exercises}"
    assert code == 0 and re.search(rf"sciatica-gentle\s+completed\s+\S+ \S+ \S+\s+{done}$", out.splitlines()[1]), out


def test_log_faults_a_state_dir_that_is_a_file_is_refused_at_once(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.write_text("a shopping list")
    with pytest.raises(UnsafeLogError, match="not a folder"):
        SqliteJournal(state)  # not a session whose records all end up lost in memory
    assert state.read_text() == "a shopping list"


def test_log_faults_forget_dry_run_changes_nothing_and_forget_names_what_it_set_aside(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = _seeded(tmp_path)
    (state / "coach.db").write_bytes(b"not a database at all\n" * 100)
    before = _files(state)
    code, _, err = coach(capsys, "forget", "--before", "2030-01-01", "--dry-run", "--state-dir", str(state))
    _one_line_refusal(code, err)
    assert "damaged" in err and _files(state) == before
    code, out, err = coach(capsys, "forget", "--before", "2030-01-01", "--state-dir", str(state))
    assert code == 0 and "was damaged" in err and "moved aside" in err
    (aside,) = [p.name for p in state.glob("coach.db.corrupt-*")]
    assert f"Not searched: 1 damaged logs moved aside earlier ({aside})" in out


def test_log_faults_a_crash_in_mid_checkpoint_is_not_taken_for_damage(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The file alone may be half-copied from the WAL when a checkpoint is cut; with its WAL it is whole."""
    state = _crashed_copy(tmp_path, "cut-off")
    wal = (state / "coach.db-wal").read_bytes()
    page_size = int.from_bytes(wal[8:12], "big")
    pages = {int.from_bytes(wal[at : at + 4], "big") for at in range(32, len(wal), 24 + page_size)} - {1}
    with open(state / "coach.db", "r+b") as f:  # pages the WAL holds newer copies of, half-written
        for page in pages:
            f.seek((page - 1) * page_size)
            f.write(b"\xff" * page_size)
    code, out, err = coach(capsys, "history", "--state-dir", str(state))
    assert code == 0 and "cut-off" in out, err
    journal = SqliteJournal(state)
    assert journal.take_notices() == [] and journal.recovered
    journal.close()
    assert not list(state.glob("coach.db.corrupt-*")) and not list(state.glob("*.stranger-*"))


@pytest.mark.parametrize("name", ["coach.db", "coach.db-wal", "coach.lock"])
def test_log_faults_an_export_over_the_log_itself_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    state = _seeded(tmp_path)
    before = _files(state)
    code, _, err = coach(capsys, "export", "--format", "csv", "--state-dir", str(state), "--out", str(state / name))
    _one_line_refusal(code, err)
    assert "the session log's own file" in err and _files(state) == before
    if name == "coach.db":  # a report whose PNG would be a hard link to the log
        os.link(state / "coach.db", tmp_path / "alias.png")
        code, _, err = coach(capsys, "report", "--state-dir", str(state), "--out", str(tmp_path / "alias.html"))
        _one_line_refusal(code, err)
        assert _files(state) == before and not (tmp_path / "alias.html").exists()


def test_log_faults_damage_found_while_reading_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from coach.cli import records as records_cli

    state = _seeded(tmp_path)

    def damaged(*args: object, **kwargs: object) -> None:
        raise sqlite3.DatabaseError("database disk image is malformed")

    monkeypatch.setattr(records_cli, "sessions", damaged)
    code, _, err = coach(capsys, "history", "--state-dir", str(state))
    _one_line_refusal(code, err)
    assert err == f"{state / 'coach.db'}: cannot read the session log: database disk image is malformed\n"


def test_log_faults_a_rest_is_not_counted_as_an_exercise_when_a_crashed_session_is_closed(tmp_path: Path) -> None:
    """sciatica-gentle has rest breaks; a session cut after one must not count it as an exercise done."""
    from coach.core.records import ExerciseResult, SessionStarted
    from coach.log.queries import sessions as logged_sessions
    from coach.log.store import SqliteJournal

    journal = SqliteJournal(tmp_path)
    journal.append(SessionStarted(0.0, "sciatica-gentle", "Gentle session", "abc123def456", "en"))
    journal.append(ExerciseResult(60.0, "pelvic-tilt", 0, "done", 6))
    journal.append(ExerciseResult(90.0, "breathe", 1, "done", 0, rest=True))
    journal.close()  # no session_end: as after a crash
    reopened = SqliteJournal(tmp_path)
    assert reopened.recovered == [1]
    assert reopened.store is not None
    (session,) = logged_sessions(reopened.store)
    assert (session.status, session.exercises_done) == ("interrupted", 1)
    reopened.close()
