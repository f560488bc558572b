"""``coach history``, ``export``, ``report`` and ``forget`` on a seeded session log."""

from __future__ import annotations

import csv
import datetime as _dt
import io
import json
import re
import sqlite3
import stat
import struct
import zlib
from pathlib import Path
from typing import Any

import pytest
from test_store_seed import DAY, Wall, seed_session, seed_store, started

from coach.cli import main as cli
from coach.core.records import RECORD_TYPES, UNCONFIRMED, RatingRecorded, field_names
from coach.log.store import SqliteJournal
from coach.reports.charts import AFTER, BEFORE
from coach.reports.export import CSV_COLUMNS, LOINC_PAIN
from coach.reports.raster import PNG_SIGNATURE


@pytest.fixture(autouse=True)
def _hermetic(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(cli, "EXTENSIONS", tuple(dict.fromkeys((*cli.EXTENSIONS, "coach.cli.records"))))
    monkeypatch.setenv("COACH_CONFIG", "")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "no-config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))


def coach(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    try:
        code = cli.main(list(args))
    except SystemExit as exc:  # argparse
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


# --- history --------------------------------------------------------------------------------------


def test_records_history_shows_recent_sessions_newest_first(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    seed_store(tmp_path, days=3)
    code, out, _ = coach(capsys, "history", "--state-dir", str(tmp_path))
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["started", "routine", "status", "pain", "exercises"]
    assert len(lines) == 4
    assert "2026-03-06" in lines[1] and "2026-03-02" in lines[3]
    assert re.search(r"quick-start\s+completed\s+7 (→|->) 5\s+2/2", lines[3])


def test_records_history_limit_and_open_sessions(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    seed_store(tmp_path, days=3)
    wall = Wall()
    running = SqliteJournal(tmp_path, now=wall)
    seed_session(running, wall, DAY + _dt.timedelta(days=9), status=None, before=None, done=("back-release",))
    code, out, _ = coach(capsys, "history", "--state-dir", str(tmp_path), "--limit", "2")
    running.close()
    assert code == 0
    lines = out.splitlines()[1:]
    assert len(lines) == 2
    assert re.search(r"open\s+- (→|->) -\s+1/\?", lines[0])


def test_records_history_without_a_log_creates_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state = tmp_path / "never-used"
    code, out, _ = coach(capsys, "history", "--state-dir", str(state))
    assert code == 0 and "No sessions recorded yet" in out
    assert not state.exists()


def test_records_history_uses_the_state_dir_coach_run_uses(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    seed_store(tmp_path / "xdg-state" / "coach", days=1)
    code, out, _ = coach(capsys, "history")
    assert code == 0 and "2026-03-02" in out
    configured = tmp_path / "configured"
    seed_store(configured, days=2)
    config = tmp_path / "config.yaml"
    config.write_text(f"state_dir: {configured}\n", encoding="utf-8")
    code, out, _ = coach(capsys, "--config", str(config), "history")
    assert code == 0 and len(out.splitlines()) == 3


# --- export ---------------------------------------------------------------------------------------


def test_records_export_csv_has_the_documented_columns(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    written = seed_store(tmp_path, profile="K-17", days=2)
    code, out, _ = coach(capsys, "export", "--format", "csv", "--state-dir", str(tmp_path))
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert tuple(csv.reader(io.StringIO(out)).__next__()) == CSV_COLUMNS
    assert [(r["kind"], int(r["id"])) for r in rows] == written
    before = next(r for r in rows if r["kind"] == "rating" and r["moment"] == "before")
    assert (before["value"], before["source"], before["routine"], before["profile"]) == ("7", "keyboard", "quick-start", "K-17")
    done = next(r for r in rows if r["kind"] == "exercise")
    assert (done["exercise"], done["index"], done["status"], done["repetitions_started"]) == ("back-release", "0", "done", "2")


def test_records_export_csv_defuses_text_a_spreadsheet_would_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    wall = Wall()
    journal = SqliteJournal(tmp_path, "=1+1", now=wall)
    seed_session(journal, wall, DAY, routine='=HYPERLINK("http://example.com","x")', done=("@sum",), after=None)
    journal.close()
    code, out, _ = coach(capsys, "export", "--format", "csv", "--state-dir", str(tmp_path))
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    done = next(r for r in rows if r["kind"] == "exercise")
    assert (done["routine"], done["profile"], done["exercise"]) == ('\'=HYPERLINK("http://example.com","x")', "'=1+1", "'@sum")
    assert next(r for r in rows if r["kind"] == "rating")["value"] == "5"  # numbers are left alone


def test_records_export_json_carries_every_announced_id(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    written = seed_store(tmp_path, days=3)
    code, out, _ = coach(capsys, "export", "--format", "json", "--state-dir", str(tmp_path))
    assert code == 0
    document = json.loads(out)
    assert [(r["kind"], r["id"]) for r in document["records"]] == written
    assert [s["id"] for s in document["sessions"]] == [i for kind, i in written if kind == "session"]
    rating = next(r for r in document["records"] if r["kind"] == "rating")
    assert rating == {
        "id": 2, "session": 1, "kind": "rating", "wall": "2026-03-02T09:00:30.000Z", "station": None, "at": 30.0, "value": 7,
        "status": "answered", "source": "keyboard", "moment": "before", "exercise": None, "confirmed": "direct",
    }  # fmt: skip
    place = ["id", "session", "kind", "wall", "station"]
    for record in document["records"]:  # one shape: every field of the record's type, in order, null when none
        assert list(record) == place + list(field_names(RECORD_TYPES[record["kind"]])), record["kind"]
    assert document["records"][0] == {
        "id": 1, "session": 1, "kind": "session", "wall": "2026-03-02T09:00:00.000Z", "station": None, "at": 0.0,
        "routine": "quick-start",
        "title": "Quick Start", "version": "abc123def456", "language": "en", "resume_offered": None, "resumed_from": None,
    }  # fmt: skip


def _rows_a_newer_coach_or_a_hand_wrote(state: Path) -> None:
    conn = sqlite3.connect(state / "coach.db")
    for kind, extra in (("heart_rate", '{"bpm":80}'), ("rating", '{"value":"seven","status":"answered"}')):
        conn.execute(
            "INSERT INTO records (session_id, kind, wall, at, extra) VALUES (1, ?, '2026-03-02T09:00:31.000Z', 31.0, ?)",
            (kind, extra),
        )
    conn.commit()
    conn.close()


def test_records_rows_this_coach_cannot_read_are_kept_and_said(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A kind this coach does not know, or a hand-edited rating: history and report work, CSV and JSON carry
    them as stored, FHIR and the charts leave them out, and stderr says so in one line."""
    written = seed_store(tmp_path, days=2)
    _rows_a_newer_coach_or_a_hand_wrote(tmp_path)
    odd = [("heart_rate", len(written) + 1), ("rating", len(written) + 2)]
    code, out, err = coach(capsys, "history", "--state-dir", str(tmp_path))
    assert code == 0 and len(out.splitlines()) == 3 and err == ""
    code, out, err = coach(capsys, "export", "--format", "csv", "--state-dir", str(tmp_path))
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and [(r["kind"], int(r["id"])) for r in rows] == written + odd
    assert rows[-1]["value"] == "seven" and rows[-1]["routine"] == "quick-start"
    assert err.count("\n") == 1 and "2 records this coach cannot read" in err and "heart_rate, rating" in err
    assert "exported as stored" in err
    code, out, err = coach(capsys, "export", "--format", "json", "--state-dir", str(tmp_path))
    records = json.loads(out)["records"]
    assert code == 0 and [(r["kind"], r["id"]) for r in records] == written + odd
    assert records[-2] == {"id": odd[0][1], "session": 1, "kind": "heart_rate", "wall": "2026-03-02T09:00:31.000Z",
                           "station": None, "at": 31.0, "bpm": 80}  # fmt: skip
    assert {k: records[-1][k] for k in ("value", "status")} == {"value": "seven", "status": "answered"}
    code, out, err = coach(capsys, "export", "--format", "fhir", "--state-dir", str(tmp_path))
    values = [e["resource"]["valueInteger"] for e in json.loads(out)["entry"]]
    assert code == 0 and values == [7, 4, 5, 7, 4, 5] and "left out of the bundle" in err
    page = tmp_path / "report.html"
    code, said, err = coach(capsys, "report", "--state-dir", str(tmp_path), "--out", str(page))
    assert code == 0 and "2 sessions" in said and "left out of the report" in err
    assert "mean 4.0, n=2" in page.read_text(encoding="utf-8")  # back-release's two ratings, not the odd one


def test_records_export_filters_by_date_and_profile(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    wall = Wall()
    for profile, day in (("A1", 2), ("B2", 4), ("A1", 6)):
        journal = SqliteJournal(tmp_path, profile, now=wall)
        seed_session(journal, wall, DAY.replace(day=day))
        journal.close()
    _, out, _ = coach(capsys, "export", "--format", "json", "--state-dir", str(tmp_path), "--profile", "A1")
    assert [s["started"][:10] for s in json.loads(out)["sessions"]] == ["2026-03-02", "2026-03-06"]
    _, out, _ = coach(capsys, "export", "--format", "json", "--state-dir", str(tmp_path), "--since", "2026-03-04")
    assert [s["profile"] for s in json.loads(out)["sessions"]] == ["B2", "A1"]
    assert {r["session"] for r in json.loads(out)["records"]} == {s["id"] for s in json.loads(out)["sessions"]}


FHIR_DATETIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


def _check_observation(resource: dict[str, Any]) -> None:
    assert resource["resourceType"] == "Observation"
    assert resource["status"] == "final"
    coding = resource["code"]["coding"]
    assert {k: coding[0][k] for k in ("system", "code")} == {"system": "http://loinc.org", "code": LOINC_PAIN}
    assert isinstance(resource["valueInteger"], int) and 0 <= resource["valueInteger"] <= 10
    assert "valueQuantity" not in resource
    assert FHIR_DATETIME.match(resource["effectiveDateTime"])
    assert resource["category"][0]["coding"][0]["code"] == "survey"


def test_records_export_fhir_is_a_bundle_of_pain_observations(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    wall = Wall()
    journal = SqliteJournal(tmp_path, "K-17", now=wall)
    seed_session(journal, wall, DAY, before=6, after=None, during={"back-release": 4})
    journal.append(RatingRecorded(300.0, None, "no-answer", "none", "after"))
    journal.close()
    plain = SqliteJournal(tmp_path, now=wall)
    seed_session(plain, wall, DAY.replace(day=3), before=2, after=1)
    plain.close()
    code, out, _ = coach(capsys, "export", "--format", "fhir", "--state-dir", str(tmp_path))
    assert code == 0
    bundle = json.loads(out)
    assert (bundle["resourceType"], bundle["type"]) == ("Bundle", "collection")
    resources = [e["resource"] for e in bundle["entry"]]
    assert [r["valueInteger"] for r in resources] == [6, 4, 2, 1]  # the unanswered prompt is not a rating
    for entry in bundle["entry"]:
        _check_observation(entry["resource"])
        assert entry["fullUrl"].startswith("urn:uuid:")
        assert entry["resource"]["identifier"][0]["value"] == entry["fullUrl"]
    assert len({e["fullUrl"] for e in bundle["entry"]}) == 4
    assert resources[0]["subject"] == {"identifier": {"system": "urn:coach:profile", "value": "K-17"}}
    assert "subject" not in resources[2]
    assert resources[0]["effectiveDateTime"] == "2026-03-02T09:00:30.000Z"
    _, again, _ = coach(capsys, "export", "--format", "fhir", "--state-dir", str(tmp_path))
    assert [e["fullUrl"] for e in json.loads(again)["entry"]] == [e["fullUrl"] for e in bundle["entry"]]  # stable


def test_records_export_to_a_file_is_private(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    seed_store(tmp_path / "state", days=1)
    target = tmp_path / "out.csv"
    code, _, err = coach(capsys, "export", "--format", "csv", "--state-dir", str(tmp_path / "state"), "--out", str(target))
    assert code == 0 and "Wrote 7 records" in err
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert target.read_text().startswith("id,session,kind")


def test_records_export_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    seed_store(tmp_path, days=1)
    missing = str(tmp_path / "no" / "x.csv")
    code, _, err = coach(capsys, "export", "--format", "csv", "--state-dir", str(tmp_path), "--out", missing)
    assert code == 2 and len(err.strip().splitlines()) == 1 and "cannot write the export" in err
    code, _, err = coach(capsys, "export", "--format", "csv", "--state-dir", str(tmp_path), "--since", "last week")
    assert code == 2 and "not a date" in err


# --- report ---------------------------------------------------------------------------------------


def _png_pixels(data: bytes) -> tuple[int, int, bytes]:
    assert data.startswith(PNG_SIGNATURE)
    width, height, depth, color = struct.unpack(">IIBB", data[16:26])
    assert (depth, color) == (8, 2)
    idat, pos = b"", 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        if kind == b"IDAT":
            idat += data[pos + 8 : pos + 8 + length]
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * 3 + 1
    assert all(raw[r * stride] == 0 for r in range(height))
    return width, height, b"".join(raw[r * stride + 1 : (r + 1) * stride] for r in range(height))


def test_records_report_writes_a_page_with_charts_and_a_png(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    seed_store(tmp_path / "state", profile="K-17", days=12)
    out = tmp_path / "report.html"
    code, said, _ = coach(capsys, "report", "--state-dir", str(tmp_path / "state"), "--out", str(out))
    assert code == 0 and "12 sessions" in said
    page = out.read_text(encoding="utf-8")
    assert page.count("<svg") == 4
    for title in ("Pain before and after each session", "Sessions per week", "Exercises completed per week",
                  "Pain ratings during each exercise"):  # fmt: skip
        assert f"<title>{title}</title>" in page
    assert page.count("<circle") >= 24 + 12  # before and after dots, ratings during back-release
    assert "back-release" in page and "72514-3" in page
    sessions_svg = page.split("<svg")[2]
    assert sessions_svg.count(f'fill="{AFTER}"') == 4  # 12 sessions every other day: four weeks with bars
    assert not re.search(r"<(script|link|img|iframe)\b|\b(src|href)=", page)  # self-contained
    width, height, pixels = _png_pixels((tmp_path / "report.png").read_bytes())
    assert (width, height) == (1520, 600)
    for color in (BEFORE, AFTER):
        assert bytes.fromhex(color[1:]) in pixels  # the dots were drawn
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


def test_records_report_without_sessions_still_writes_the_page(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "empty.html"
    code, _, _ = coach(capsys, "report", "--state-dir", str(tmp_path / "none"), "--out", str(out))
    assert code == 0
    assert "No sessions recorded." in out.read_text() and out.read_text().count("no data yet") == 4
    assert (tmp_path / "empty.png").read_bytes().startswith(PNG_SIGNATURE)


def test_records_report_needs_an_html_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = coach(capsys, "report", "--state-dir", str(tmp_path), "--out", str(tmp_path / "r.txt"))
    assert code == 2 and err.count("\n") == 1 and ".html" in err


# --- forget ---------------------------------------------------------------------------------------

MARK = "ZQX-FORGET-ME-7"
KEEP = "KEEP-THIS-CODE-4"


def _two_profiles(state: Path) -> None:
    wall = Wall()
    for n, profile in enumerate((MARK, KEEP, MARK)):
        journal = SqliteJournal(state, profile, now=wall)
        seed_session(journal, wall, DAY + _dt.timedelta(days=n), during={"back-release": 3})
        journal.close()


def _raw(state: Path) -> bytes:
    return b"".join(p.read_bytes() for p in state.iterdir() if p.name.startswith("coach.db"))


def test_records_forget_plain_delete_would_leave_the_bytes(tmp_path: Path) -> None:
    """The control for the test below: without forget's care, deleted rows stay readable in the files."""
    _two_profiles(tmp_path)
    conn = sqlite3.connect(tmp_path / "coach.db")
    conn.execute("PRAGMA secure_delete = OFF")  # some builds default to ON; forget does not rely on it
    conn.execute("DELETE FROM records WHERE session_id IN (SELECT id FROM sessions WHERE profile = ?)", (MARK,))
    conn.execute("DELETE FROM sessions WHERE profile = ?", (MARK,))
    conn.commit()
    conn.close()
    assert MARK.encode() in _raw(tmp_path)


def test_records_forget_profile_deletes_rows_and_bytes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _two_profiles(tmp_path)
    code, out, _ = coach(capsys, "forget", "--profile", MARK, "--state-dir", str(tmp_path))
    assert code == 0 and "Forgot 2 sessions (14 records)" in out
    conn = sqlite3.connect(tmp_path / "coach.db")
    assert conn.execute("SELECT DISTINCT profile FROM sessions").fetchall() == [(KEEP,)]
    assert conn.execute("SELECT count(*) FROM records WHERE session_id NOT IN (SELECT id FROM sessions)").fetchone() == (0,)
    assert conn.execute("SELECT count(*) FROM records").fetchone() == (7,)
    conn.close()
    raw = _raw(tmp_path)
    assert MARK.encode() not in raw
    assert KEEP.encode() in raw  # the search does see what is still there
    assert not (tmp_path / "coach.db-wal").exists() or (tmp_path / "coach.db-wal").stat().st_size == 0
    journal = SqliteJournal(tmp_path)
    assert journal.append(started()) == 22  # the forgotten ids 15-21 are never reused
    journal.close()


def test_records_forget_before_a_date(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _two_profiles(tmp_path)
    code, out, _ = coach(capsys, "forget", "--before", "2026-03-04", "--dry-run", "--state-dir", str(tmp_path))
    assert code == 0 and "Would forget 2 sessions" in out
    assert sqlite3.connect(tmp_path / "coach.db").execute("SELECT count(*) FROM sessions").fetchone() == (3,)
    code, out, _ = coach(capsys, "forget", "--before", "2026-03-04", "--state-dir", str(tmp_path))
    assert code == 0 and "Forgot 2 sessions" in out
    assert sqlite3.connect(tmp_path / "coach.db").execute("SELECT id FROM sessions").fetchall() == [(15,)]


def test_records_forget_refuses_while_a_session_is_logged(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _two_profiles(tmp_path)
    running = SqliteJournal(tmp_path)
    code, _, err = coach(capsys, "forget", "--profile", MARK, "--state-dir", str(tmp_path))
    running.close()
    assert code == 2 and err.count("\n") == 1 and "being logged now" in err
    assert MARK.encode() in _raw(tmp_path)


def test_records_forget_needs_a_choice(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = coach(capsys, "forget", "--state-dir", str(tmp_path))
    assert code == 2 and err == "forget needs --profile CODE or --before DATE (or both)\n"


def test_records_commands_refuse_a_log_from_a_newer_coach(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    seed_store(tmp_path, days=1)
    conn = sqlite3.connect(tmp_path / "coach.db")
    conn.execute("PRAGMA user_version = 42")
    conn.close()
    code, _, err = coach(capsys, "history", "--state-dir", str(tmp_path))
    assert code == 2 and err.count("\n") == 1 and "newer coach" in err


def test_records_report_adherence_weeks_include_recent_empty_weeks(tmp_path: Path) -> None:
    from coach.log.queries import open_existing
    from coach.reports.report import load

    seed_store(tmp_path, days=5)  # every other day from Monday 2 March 2026: four sessions, then one
    store = open_existing(tmp_path)
    soon = load(store, today=_dt.date(2026, 3, 25))
    long_after = load(store, today=_dt.date(2027, 1, 1))
    assert store is not None
    store.close()
    assert [(w.monday.isoformat(), w.sessions) for w in soon.weeks()] == [
        ("2026-03-02", 4), ("2026-03-09", 1), ("2026-03-16", 0), ("2026-03-23", 0)
    ]  # fmt: skip
    assert [w.sessions for w in long_after.weeks()] == [4, 1]
    assert [(w.exercises_done, w.exercises_total) for w in soon.weeks()[:2]] == [(7, 8), (2, 2)]


def test_records_export_fhir_a_heard_rating_nobody_confirmed_is_preliminary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wall = Wall()
    journal = SqliteJournal(tmp_path, now=wall)
    seed_session(journal, wall, DAY, before=2, after=None, status=None)
    journal.append(RatingRecorded(125.0, 9, "answered", "heard", "unprompted", "back-release", UNCONFIRMED))  # then cut
    journal.close()
    code, out, _ = coach(capsys, "export", "--format", "fhir", "--state-dir", str(tmp_path))
    assert code == 0
    resources = [e["resource"] for e in json.loads(out)["entry"]]
    assert [(r["valueInteger"], r["status"]) for r in resources] == [(2, "final"), (9, "preliminary")]
    assert "heard, not confirmed" in resources[1]["note"][0]["text"]
    assert "not confirmed" not in resources[0]["note"][0]["text"]
    _check_observation({**resources[1], "status": "final"})  # otherwise the same Observation
    code, out, _ = coach(capsys, "export", "--format", "csv", "--state-dir", str(tmp_path))
    [row] = [r for r in csv.DictReader(io.StringIO(out)) if r["value"] == "9"]
    assert (row["status"], row["confirmed"]) == ("answered", "unconfirmed")


def test_records_an_unconfirmed_heard_rating_is_not_pain_before_or_after_in_history(tmp_path: Path) -> None:
    """A heard 9 that never got its "yes" is kept and cautioned, but history must not show it as the pain after."""
    from test_store_seed import started

    from coach.core.records import UNCONFIRMED, RatingRecorded, SessionEnded
    from coach.log.queries import sessions as logged_sessions

    journal = SqliteJournal(tmp_path)
    journal.append(started("quick-start"))
    journal.append(RatingRecorded(5.0, 3, "answered", "keyboard", "before", None, "direct"))
    journal.append(RatingRecorded(90.0, 4, "answered", "keyboard", "after", None, "direct"))
    journal.append(RatingRecorded(95.0, 9, "answered", "heard", "after", None, UNCONFIRMED))
    journal.append(SessionEnded(96.0, "stopped", 2, 2))
    assert journal.store is not None
    (session,) = logged_sessions(journal.store)
    assert (session.pain_before, session.pain_after) == (3, 4)
    journal.close()


def test_records_forget_profile_also_deletes_its_programme_start_and_stop_and_their_outbox_rows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A programme's start and stop are records outside any session that name the profile: forgotten with it."""
    from coach.core.records import ProgrammeChanged

    _two_profiles(tmp_path)
    for profile in (MARK, KEEP):
        journal = SqliteJournal(tmp_path, profile)
        journal.append(ProgrammeChanged(0.0, "start", "lumbar-6-weeks", "2026-03-02", profile))
        journal.close()
    code, out, _ = coach(capsys, "forget", "--profile", MARK, "--state-dir", str(tmp_path))
    assert code == 0 and "Forgot 2 sessions (15 records)" in out
    conn = sqlite3.connect(tmp_path / "coach.db")
    loose = conn.execute("SELECT json_extract(extra, '$.profile') FROM records WHERE session_id IS NULL").fetchall()
    assert loose == [(KEEP,)]
    assert conn.execute("SELECT count(*) FROM outbox WHERE record_id NOT IN (SELECT id FROM records)").fetchone() == (0,)
    conn.close()
    assert MARK.encode() not in _raw(tmp_path)
