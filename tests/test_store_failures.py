"""A full or read-only disk: said once, records kept in memory in order, written when the disk allows."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT
from test_store_seed import answered, started

from coach.core.records import Paused, RatingRecorded, Resumed, SessionEnded, Stopped
from coach.log.queries import records
from coach.log.store import SqliteJournal, Store


class Switch:
    """What the injected connection should fail with (None: work normally), and on which statements."""

    def __init__(self) -> None:
        self.error: str | None = None
        self.on: tuple[str, ...] = ("INSERT",)
        self.refuse_connect = False


def flaky(switch: Switch) -> Any:
    class Flaky(sqlite3.Connection):
        def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
            if switch.error and sql.split()[0].upper() in switch.on:
                raise sqlite3.OperationalError(switch.error)
            return super().execute(sql, parameters)

    def connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        if switch.refuse_connect:
            raise sqlite3.OperationalError("unable to open database file")
        return sqlite3.connect(*args, factory=Flaky, **kwargs)

    return connect


def _stored(state: Path) -> list[tuple[int, str, int | None]]:
    conn = sqlite3.connect(state / "coach.db")
    return conn.execute("SELECT id, kind, session_id FROM records ORDER BY id").fetchall()


@pytest.mark.parametrize("failing", ["INSERT", "COMMIT"])
def test_store_full_disk_keeps_records_in_memory_and_writes_them_later(tmp_path: Path, failing: str) -> None:
    switch = Switch()
    journal = SqliteJournal(tmp_path, connect=flaky(switch))
    first = journal.append(started("quick-start"))
    assert first == 1
    switch.error, switch.on = "database or disk is full", (failing,)
    assert journal.append(answered(5.0, 4, "before")) is None
    assert journal.append(Paused(9.0, "exercise", "back-release")) is None
    notices = journal.take_notices()
    assert len(notices) == 1 and "database or disk is full" in notices[0] and "kept in memory" in notices[0]
    assert _stored(tmp_path) == [(1, "session", 1)]  # nothing half-written
    switch.error = None
    assert journal.append(Resumed(12.0, "back-release")) == 4
    assert journal.take_written() == [("rating", 2), ("pause", 3)]
    assert journal.take_written() == []
    assert any("written again" in n for n in journal.take_notices())
    journal.close()
    assert _stored(tmp_path) == [(1, "session", 1), (2, "rating", 1), (3, "pause", 1), (4, "resume", 1)]


def test_store_full_disk_keeps_the_time_each_record_happened(tmp_path: Path) -> None:
    switch = Switch()
    times = iter([f"2026-03-02T09:00:0{n}+00:00" for n in range(10)])

    def now() -> Any:
        import datetime

        return datetime.datetime.fromisoformat(next(times))

    journal = SqliteJournal(tmp_path, connect=flaky(switch), now=now)
    journal.append(started())
    switch.error = "disk I/O error"
    journal.append(answered(1.0, 3))
    switch.error = None
    journal.append(Stopped(2.0, None, "stopped"))
    journal.close()
    walls = [row[0] for row in sqlite3.connect(tmp_path / "coach.db").execute("SELECT wall FROM records ORDER BY id")]
    assert walls == ["2026-03-02T09:00:00.000Z", "2026-03-02T09:00:01.000Z", "2026-03-02T09:00:02.000Z"]


def test_store_session_record_kept_in_memory_still_owns_its_records(tmp_path: Path) -> None:
    switch = Switch()
    switch.error = "database or disk is full"
    journal = SqliteJournal(tmp_path, connect=flaky(switch))
    assert journal.append(started()) is None
    assert journal.append(answered(1.0, 2)) is None
    switch.error = None
    assert journal.append(SessionEnded(2.0, "completed", 0, 0)) == 3
    journal.close()
    assert _stored(tmp_path) == [(1, "session", 1), (2, "rating", 1), (3, "session_end", 1)]
    assert sqlite3.connect(tmp_path / "coach.db").execute("SELECT status FROM sessions").fetchall() == [("completed",)]


def test_store_unopenable_log_runs_from_memory_until_it_can_open(tmp_path: Path) -> None:
    switch = Switch()
    switch.refuse_connect = True
    journal = SqliteJournal(tmp_path, connect=flaky(switch))
    assert journal.store is None
    assert journal.append(started()) is None
    assert journal.append(answered(1.0, 5)) is None
    assert len(journal.take_notices()) == 1
    switch.refuse_connect = False
    assert journal.append(Stopped(2.0, None, "stopped")) == 3
    assert journal.take_written() == [("session", 1), ("rating", 2)]
    journal.close()


def test_store_close_says_how_many_records_were_lost(tmp_path: Path) -> None:
    switch = Switch()
    journal = SqliteJournal(tmp_path, connect=flaky(switch))
    journal.append(started())
    switch.error = "database or disk is full"
    journal.append(answered(1.0, 5))
    journal.append(Stopped(2.0, None, "stopped"))
    journal.take_notices()
    journal.close()
    assert journal.take_notices() == [f"2 records of this session could not be saved in {tmp_path}"]


def test_store_real_sqlite_full_error_from_a_page_limit(tmp_path: Path) -> None:
    journal = SqliteJournal(tmp_path)
    assert journal.store is not None
    conn = journal.store.conn
    journal.append(started())
    (pages,) = conn.execute("PRAGMA page_count").fetchone()
    conn.execute(f"PRAGMA max_page_count = {pages}")
    big = [RatingRecorded(float(n), n % 11, "answered", "keyboard", "exercise", "x" * 400) for n in range(40)]  # 400 bytes each
    results = [journal.append(rating) for rating in big]
    assert None in results  # SQLite itself said SQLITE_FULL once the pages ran out
    assert "full" in journal.take_notices()[0]
    conn.execute("PRAGMA max_page_count = 1073741823")
    last = journal.append(Stopped(50.0, None, "stopped"))
    assert last is not None
    journal.close()
    store = Store(tmp_path)
    kinds = [r.kind for r in records(store)]
    store.close()
    assert kinds == ["session"] + ["rating"] * 40 + ["stop"]


_TINY_FS = """
import json, resource, signal, sys
from pathlib import Path
from coach.core.records import RatingRecorded, SessionStarted, Stopped
from coach.log.store import SqliteJournal
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)   # a write past the limit fails with EFBIG instead
state = Path({state!r})
journal = SqliteJournal(state)
first = journal.append(SessionStarted(0.0, "r", "R", "abc123def456", "en"))
soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
resource.setrlimit(resource.RLIMIT_FSIZE, ((state / "coach.db-wal").stat().st_size, hard))
during = [journal.append(RatingRecorded(float(n), 3, "answered", "keyboard", "before")) for n in range(3)]
notices = journal.take_notices()
resource.setrlimit(resource.RLIMIT_FSIZE, (hard, hard))
after = journal.append(Stopped(9.0, None, "stopped"))
print(json.dumps({{"first": first, "during": during, "notices": notices, "after": after,
                  "written": journal.take_written()}}))
journal.close()
"""


def test_store_file_size_limit_acts_as_a_full_disk(tmp_path: Path) -> None:
    """A real write failure from the kernel (RLIMIT_FSIZE: the WAL cannot grow), in a child process."""
    code = textwrap.dedent(_TINY_FS.format(state=str(tmp_path)))
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    assert seen["first"] == 1
    assert seen["during"] == [None, None, None]
    assert len(seen["notices"]) == 1 and "kept in memory" in seen["notices"][0]
    assert seen["after"] == 5
    assert seen["written"] == [["rating", 2], ["rating", 3], ["rating", 4]]
    assert [kind for _, kind, _ in _stored(tmp_path)] == ["session", "rating", "rating", "rating", "stop"]
