"""The interim JSON Lines journal: durable, private, and readable after a torn write."""

from __future__ import annotations

import contextlib
import json
import stat
from pathlib import Path

from coach.journal import JsonlJournal


def test_journal_records_are_numbered_and_private(tmp_path: Path) -> None:
    state = tmp_path / "state"
    journal = JsonlJournal(state)
    assert journal.append("session", {"at": 0.0}) == 1
    assert journal.append("rating", {"at": 3.0, "value": 4}) == 2
    journal.close()
    lines = [json.loads(line) for line in (state / "journal.jsonl").read_text().splitlines()]
    assert [(r["id"], r["kind"]) for r in lines] == [(1, "session"), (2, "rating")]
    assert stat.S_IMODE(state.stat().st_mode) == 0o700
    assert stat.S_IMODE((state / "journal.jsonl").stat().st_mode) == 0o600


def test_journal_ids_continue_across_sessions(tmp_path: Path) -> None:
    first = JsonlJournal(tmp_path)
    first.append("session", {})
    first.close()
    second = JsonlJournal(tmp_path)
    assert second.append("session", {}) == 2
    assert second.session_id != first.session_id


def test_journal_torn_last_line_stays_isolated(tmp_path: Path) -> None:
    journal = JsonlJournal(tmp_path)
    journal.append("session", {})
    journal.close()
    with open(tmp_path / "journal.jsonl", "a") as f:
        f.write('{"id": 2, "kind": "rat')  # the plug was pulled mid-write
    again = JsonlJournal(tmp_path)
    record_id = again.append("rating", {"value": 3})
    again.close()
    lines = (tmp_path / "journal.jsonl").read_text().splitlines()
    assert json.loads(lines[record_id - 1])["value"] == 3
    readable = []
    for line in lines:
        with contextlib.suppress(json.JSONDecodeError):
            readable.append(json.loads(line))
    assert [r["kind"] for r in readable] == ["session", "rating"]
