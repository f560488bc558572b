"""The journal seam: opening the SQLite store, the memory journal, the state folder; and the interim
JSON Lines journal (durable, private, readable after a torn write) until the CLI stops using it."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_store_seed import started


def test_journal_open_journal_is_the_sqlite_store(tmp_path: Path) -> None:
    from coach.log.store import SqliteJournal, open_journal

    journal = open_journal(tmp_path / "state", profile="K-17")
    assert isinstance(journal, SqliteJournal)
    assert journal.append(started()) == 1
    assert journal.take_written() == [] and journal.take_notices() == []
    journal.close()
    assert (tmp_path / "state" / "coach.db").is_file()
    assert not (tmp_path / "state" / "journal.jsonl").exists()


def test_journal_memory_journal_keeps_the_protocol() -> None:
    from coach.log.journal import MemoryJournal

    journal = MemoryJournal()
    assert journal.append(started("quick-start")) == 1
    assert journal.take_written() == [] and journal.take_notices() == []
    assert journal.records == [
        {"id": 1, "kind": "session", "at": 0.0, "routine": "quick-start", "title": "Quick Start", "version": "abc123def456",
         "language": "en", "resume_offered": None, "resumed_from": None}
    ]  # fmt: skip


def test_journal_state_dir_option_then_config_then_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from coach.log.journal import resolve_state_dir

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    assert resolve_state_dir("/a", "/b") == Path("/a")
    assert resolve_state_dir(None, "/b") == Path("/b")
    assert resolve_state_dir(None, None) == tmp_path / "xdg" / "coach"
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert resolve_state_dir(None, "~/logs") == tmp_path / "home" / "logs"
