"""The log at scale (issue 16): set-based queries, streaming exports, the station in every row.

Correctness only: the times and memory at 1k-100k sessions are ``bench/log_scale.py``'s. The exports of
a 300-session log with every odd row we know of are checked against the reading as it was before
(``tests/log_scale_reference.py``), byte for byte.
"""

from __future__ import annotations

import csv
import datetime as _dt
import inspect
import io
import json
import random
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import log_scale_reference as old
import pytest
from test_records_cli import _check_observation, _hermetic, coach  # noqa: F401  (_hermetic: autouse, the records commands, no config)
from test_store_seed import DAY, Wall, answered, started

from coach.cli import records as records_cli
from coach.core.records import UNCONFIRMED, ExerciseResult, Paused, RatingRecorded, Record, SafetyFired, SessionEnded
from coach.log import decode
from coach.log.queries import Filter, iter_records, iter_sessions, open_existing, records_query, sessions, sessions_query
from coach.log.schema import from_row
from coach.log.store import SqliteJournal, Store
from coach.reports import export as export_module
from coach.reports.export import STATION_SYSTEM, export
from coach.reports.report import MAX_PAIN_SESSIONS, load

EXPORTED = "2026-06-01T12:00:00.000Z"


def _session(journal: SqliteJournal, wall: Wall, start: _dt.datetime, rng: random.Random, cut: bool = False) -> None:
    """One session of varied records (``cut``: the plug pulled after its second exercise)."""
    records: list[Record] = [started("quick-start"), answered(10.0, rng.randint(0, 9), "before")]
    for index, name in enumerate(("back-release", "pelvic-tilt", "cat-camel")):
        if cut and index == 2:
            break
        if rng.random() < 0.5:
            confirmed = UNCONFIRMED if rng.random() < 0.1 else "yes"
            records.append(RatingRecorded(20.0 + index, rng.randint(0, 9), "answered", "heard", "unprompted", name, confirmed))
        if rng.random() < 0.2:
            records.append(Paused(21.0 + index, "exercise", name))
        if rng.random() < 0.2:
            records.append(SafetyFired(22.0 + index, "too-much", "regress", "pain above 5", 7))
        rest = True if index == 1 and rng.random() < 0.2 else None
        records.append(ExerciseResult(30.0 + 10 * index, name, index, rng.choice(("done", "done", "skipped")), 4, rest))
    if not cut:
        records += [answered(80.0, rng.randint(0, 9), "after"), SessionEnded(90.0, "completed", 2, 3)]
    for record in records:
        wall.now = start + _dt.timedelta(seconds=record.at)
        journal.append(record)


def seed_varied(state: Path, count: int, seed: int = 7) -> None:
    """``count`` sessions over several profiles, a few cut (closed as interrupted by the next journal), the
    last one left open, then the odd rows a newer coach or a hand could leave."""
    rng = random.Random(seed)
    wall = Wall()
    journal = SqliteJournal(state, now=wall)
    for n in range(count):
        assert journal.store is not None
        journal.store.conn.execute("PRAGMA synchronous = OFF")  # a test log: the layout is the same, the fsyncs are not needed
        journal.profile = rng.choice((None, "A1", "B2", "=HYPERLINK(1)"))
        cut = n == count - 1 or rng.random() < 0.05
        _session(journal, wall, DAY + _dt.timedelta(hours=7 * n), rng, cut)
        if cut and n < count - 1:
            journal.close()
            journal = SqliteJournal(state, now=wall)
    journal.close()
    conn = sqlite3.connect(state / "coach.db")
    odd = (
        ("heart_rate", None, '{"bpm":80,"note":"ünïcode"}'),  # a kind a newer coach wrote
        ("rating", None, '{"value":"seven","status":"answered"}'),  # a hand edit
        ("rating", 4, '{"heart":{"bpm":[1,2]},"extra_note":"x"}'),  # fields beyond its type, nested
        ("exercise", None, "not json"),
        ("pause", None, "[1, 2]"),
    )
    for kind, value, extra in odd:
        conn.execute(
            "INSERT INTO records (session_id, kind, wall, at, value, status, source, moment, extra)"
            " VALUES (1, ?, '2026-03-02T09:00:31.000Z', 31.0, ?, 'answered', 'keyboard', 'unprompted', ?)",
            (kind, value, extra),
        )
    conn.execute(
        "INSERT INTO records (session_id, kind, wall, at, value, status, source, moment)"
        " VALUES (8, 'rating', 'soon', 5, 3, 'answered', 'keyboard', 'before')"
    )
    conn.execute("UPDATE records SET at = 12 WHERE id = 3")  # an int in a float column
    conn.execute("UPDATE records SET exercise = 'x', rule = 'r' WHERE id = 2")  # columns its type does not have
    conn.execute("INSERT INTO sessions (id, routine, started) VALUES (900000, 'no-records', '2026-03-01T08:00:00.000Z')")
    conn.execute("UPDATE sessions SET started = 'yesterday' WHERE id = (SELECT max(id) FROM sessions WHERE id < 900000)")
    conn.commit()
    conn.close()


@pytest.fixture(scope="module")
def varied(tmp_path_factory: pytest.TempPathFactory) -> Path:
    state = tmp_path_factory.mktemp("varied")
    seed_varied(state, 300)
    return state


def _store(state: Path) -> Store:
    store = open_existing(state)
    assert store is not None
    return store


# --- the set-based queries ------------------------------------------------------------------------


def test_log_scale_sessions_are_what_a_query_per_session_gave(varied: Path) -> None:
    store = _store(varied)
    try:
        found = sessions(store)
        assert [s.id for s in found] == sorted(s.id for s in found)  # oldest first
        assert [_without_station(s) for s in found] == old.sessions(store.conn)
        assert {s.status for s in found} >= {"completed", "interrupted", None}  # the cut ones, and the last one still open
        assert found[-1].routine == "no-records" and found[-1].exercises_done == 0 and found[-1].pain_before is None
        newest = sessions(store, limit=5)
        assert newest == found[-5:]
        chosen = sessions(store, Filter(profile="A1"))
        assert chosen == [s for s in found if s.profile == "A1"]
        notices: list[str] = []
        dated = sessions(store, notices=notices)
        assert len(dated) == len(found) - 1 and notices == [
            f"1 sessions have a start that is not a time (session {found[-2].id}: 'yesterday'); left out"
        ]
    finally:
        store.close()


def _without_station(summary: Any) -> Any:
    import dataclasses

    assert summary.station is None
    return dataclasses.replace(summary, station=None)


def test_log_scale_records_read_fast_are_what_the_schema_reads(varied: Path) -> None:
    """Every row, the plain and the odd: the fast reading gives the record, fields and values the general one does."""
    store = _store(varied)
    try:
        fast = list(iter_records(store.conn))
        general = old.records(store.conn)
        assert [r.id for r in fast] == [r.id for r in general] == sorted(r.id for r in fast)  # in the order written
        for mine, theirs in zip(fast, general):
            assert (mine.record, mine.other_fields, mine.session, mine.wall) == (
                theirs.record, theirs.other_fields, theirs.session, theirs.wall,
            ), mine.id  # fmt: skip
            assert mine.fields() == theirs.record.fields()
        kinds = {type(r.record).__name__ for r in fast}
        assert "UnknownRecord" in kinds and "ExerciseResult" in kinds
        assert any(r.other_fields for r in fast)
    finally:
        store.close()


def test_log_scale_decode_refuses_what_it_cannot_read_exactly() -> None:
    """The fast path lets through only exact types; anything else is left to ``from_row``."""
    conn = sqlite3.connect(":memory:")
    conn.row_factory = None
    conn.execute(
        "CREATE TABLE records (id INTEGER PRIMARY KEY, session_id, kind, wall, at, exercise, value, status, source, moment,"
        " confirmed, ex_index, repetitions, rule, action, reason, during, extra)"
    )
    rows = [
        ("rating", {}, '{"value": true}'),  # a bool is not a rating
        ("rating", {"value": 3.5}, "{}"),
        ("rating", {"value": 3}, '{"value": "x"}'),  # the JSON wins over the column, as in from_row
        ("rating", {"value": 3}, "{}"),
        ("session_end", {"status": None, "source": None, "moment": None}, '{"exercises_done": 1, "exercises_total": 2}'),
        ("nothing", {}, "{}"),
    ]
    for n, (kind, columns, extra) in enumerate(rows, 1):
        fields = {"status": "answered", "source": "keyboard", "moment": "before", "at": 1, **columns}
        names, marks = ", ".join(fields), ", ".join("?" * len(fields))
        conn.execute(
            f"INSERT INTO records (id, kind, wall, extra, {names}) VALUES (?, ?, 'w', ?, {marks})",
            (n, kind, extra, *fields.values()),
        )
    got = [decode.decode(row) for row in conn.execute(f"SELECT {decode.SELECT} FROM records r ORDER BY id")]
    assert [g is None for g in got] == [True, True, True, False, True, True]  # no status: not a SessionEnded
    conn.row_factory = sqlite3.Row
    general = [from_row(row) for row in conn.execute("SELECT * FROM records ORDER BY id")]
    assert [type(record).__name__ for record, _ in general] == ["UnknownRecord"] * 3 + ["RatingRecorded"] + ["UnknownRecord"] * 2
    assert got[3] is not None
    of_type, other, values = got[3]
    assert (of_type(**values), other) == general[3] and type(values["at"]) is float


def test_log_scale_big_queries_use_the_indexes_not_a_scan_per_session(varied: Path) -> None:
    store = _store(varied)
    try:

        def plan(query_args: tuple[str, dict[str, Any]]) -> list[str]:
            return [str(row[3]) for row in store.conn.execute("EXPLAIN QUERY PLAN " + query_args[0], query_args[1])]

        everything = plan(sessions_query())
        assert sum("USING INDEX records_by_session (session_id=? AND kind=?)" in step for step in everything) == 2
        assert not any(re.match(r"SCAN r\b", step) for step in everything)  # no records scan, inside a loop or not
        assert not any("CORRELATED" in step for step in everything)
        assert any("sessions_by_profile" in step for step in plan(sessions_query(Filter(profile="A1"))))
        assert any("sessions_by_station" in step for step in plan(sessions_query(Filter(station="ward-1"))))
        assert any("sessions_by_start" in step for step in plan(sessions_query(Filter(since=_dt.date(2026, 4, 1)))))
        assert plan(records_query()) == ["SCAN r", "SEARCH s USING INTEGER PRIMARY KEY (rowid=?)"]  # one pass, in id order
        assert any("records_by_session (session_id=?)" in step for step in plan(records_query(Filter(profile="A1"))))
    finally:
        store.close()


# --- streaming --------------------------------------------------------------------------------------


class Progress(io.StringIO):
    """An output that notes, at its first write of each record, how many records the log had given by then."""

    def __init__(self) -> None:
        super().__init__()
        self.given = 0
        self.seen_at: list[int] = []

    def write(self, text: str) -> int:
        self.seen_at.append(self.given)
        return super().write(text)


@pytest.mark.parametrize("fmt", ["csv", "json", "fhir"])
def test_log_scale_exports_write_as_they_read(varied: Path, fmt: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The records come from a generator over the cursor, and output goes out long before the last is read."""
    assert inspect.isgeneratorfunction(iter_records) and inspect.isgeneratorfunction(iter_sessions)
    out = Progress()

    def counted(conn: sqlite3.Connection, which: Filter) -> Iterator[Any]:
        for row in iter_records(conn, which):
            out.given += 1
            yield row

    monkeypatch.setattr(export_module, "iter_records", counted)
    store = _store(varied)
    try:
        total = export(store, fmt, out, Filter())
    finally:
        store.close()
    assert total > 100 and out.given > 2500
    # before the first record only the header (and, in JSON, the sessions, one write each); then each write
    # follows the record read just before it: never a batch of the log held back
    later = [given for given in out.seen_at if given]
    assert later[0] <= 30 and later == sorted(later) and len(set(later)) > total // 2


# --- the same bytes as before ---------------------------------------------------------------------------


@pytest.fixture()
def fixed_time(monkeypatch: pytest.MonkeyPatch) -> None:
    moment = _dt.datetime.fromisoformat(EXPORTED.replace("Z", "+00:00"))
    monkeypatch.setattr(export_module, "utc_now", lambda: moment)


def _exports(state: Path) -> dict[str, str]:
    store = _store(state)
    outputs = {}
    try:
        for fmt in ("csv", "json", "fhir"):
            out = io.StringIO()
            export(store, fmt, out, Filter())
            outputs[fmt] = out.getvalue()
        found, rows = old.sessions(store.conn), old.records(store.conn)
        reference = {"csv": io.StringIO(), "json": io.StringIO(), "fhir": io.StringIO()}
        old.write_csv(found, rows, reference["csv"])
        old.write_json(found, rows, reference["json"], EXPORTED)
        old.write_fhir(found, rows, reference["fhir"], store.instance_id(), EXPORTED)
    finally:
        store.close()
    return {**outputs, **{f"old-{k}": v.getvalue() for k, v in reference.items()}}


def test_log_scale_exports_are_the_bytes_they_were(varied: Path, fixed_time: None) -> None:
    """A 300-session log with every odd row: the same text as before, but for the station the clinic view adds
    (a last CSV column, empty here; ``"station": null`` in JSON; no device in FHIR, since no station is known)."""
    got = _exports(varied)
    new_csv = got["csv"].splitlines(keepends=True)
    assert new_csv[0] == ",".join(old.OLD_CSV_COLUMNS) + ",station\n"
    assert all(line.endswith(",\n") for line in new_csv[1:])
    assert (
        "".join(line[: -len(",station\n")] + "\n" for line in new_csv[:1]) + "".join(line[:-2] + "\n" for line in new_csv[1:])
        == got["old-csv"]
    )
    assert re.sub(r'\n *"station": null,', "", got["json"]) == got["old-json"]
    assert got["json"].count('"station": null') == len(json.loads(got["json"])["records"]) + len(
        json.loads(got["json"])["sessions"]
    )
    assert got["fhir"] == got["old-fhir"] and '"device"' not in got["fhir"]
    assert len(json.loads(got["fhir"])["entry"]) > 300


def test_log_scale_report_tallies_are_what_every_record_gave(varied: Path) -> None:
    store = _store(varied)
    try:
        data = load(store, today=_dt.date(2026, 5, 1))
        found = [s for s in old.sessions(store.conn) if s.started != "yesterday"]
        kept = {s.id for s in found}
        rows = [r for r in old.records(store.conn) if r.session in kept]
    finally:
        store.close()
    assert [_without_station(s) for s in data.sessions] == found
    assert [(w.monday, w.sessions, w.exercises_done, w.exercises_total) for w in data.weeks()] == old.weeks(
        found, rows, _dt.date(2026, 5, 1)
    )
    assert data.exercise_ratings() == old.exercise_ratings(rows)
    assert len(data.pain_points()) == len([s for s in found if s.pain_before is not None or s.pain_after is not None])
    assert data.pain_title() is None and data.unreadable is not None and "heart_rate" in data.unreadable


def test_log_scale_the_pain_chart_shows_the_most_recent_sessions(tmp_path: Path) -> None:
    from coach.log.queries import SessionSummary
    from coach.reports.report import ReportData

    many = [
        SessionSummary(n, "r", None, None, None, None, f"2026-01-01T00:00:{n % 60:02d}.000Z", None, "completed", 1, 1, n % 10, 1)
        for n in range(1, MAX_PAIN_SESSIONS + 11)
    ]
    data = ReportData(many, _dt.date(2026, 1, 2))
    assert [p.before for p in data.pain_points()] == [s.pain_before for s in many[-MAX_PAIN_SESSIONS:]]
    assert data.pain_title() is not None and str(MAX_PAIN_SESSIONS) in data.pain_title()  # type: ignore[operator]
    assert ReportData(many[:MAX_PAIN_SESSIONS], _dt.date(2026, 1, 2)).pain_title() is None


# --- the clinic-wide view: the station in every row ---------------------------------------------------


@pytest.fixture(scope="module")
def clinic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clinic store as the receiver writes one: the same schema, every session with its station."""
    state = tmp_path_factory.mktemp("clinic")
    seed_varied(state, 12, seed=3)
    conn = sqlite3.connect(state / "coach.db")
    conn.execute("UPDATE sessions SET station = CASE WHEN id % 2 = 0 THEN 'ward-1' ELSE 'ward-2' END")
    conn.commit()
    conn.close()
    return state


def _stations(state: Path) -> dict[int, str]:
    conn = sqlite3.connect(state / "coach.db")
    try:
        return {int(i): str(s) for i, s in conn.execute("SELECT id, station FROM sessions")}
    finally:
        conn.close()


def test_log_scale_clinic_json_export_names_the_station_of_every_record(clinic: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stations = _stations(clinic)
    code, out, _ = coach(capsys, "export", "--format", "json", "--state-dir", str(clinic))
    document = json.loads(out)
    assert code == 0 and len(document["records"]) > 50
    assert all(r["station"] == stations[r["session"]] for r in document["records"])
    assert all(s["station"] == stations[s["id"]] for s in document["sessions"])
    code, out, _ = coach(capsys, "export", "--format", "json", "--state-dir", str(clinic), "--station", "ward-1")
    chosen = json.loads(out)
    assert {r["station"] for r in chosen["records"]} == {"ward-1"} and {s["id"] % 2 for s in chosen["sessions"]} == {0}
    assert len(chosen["records"]) < len(document["records"])


def test_log_scale_clinic_csv_and_fhir_carry_the_station(clinic: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stations = _stations(clinic)
    code, out, _ = coach(capsys, "export", "--format", "csv", "--state-dir", str(clinic), "--station", "ward-2")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and rows and {r["station"] for r in rows} == {"ward-2"}
    code, out, _ = coach(capsys, "export", "--format", "fhir", "--state-dir", str(clinic))
    resources = [e["resource"] for e in json.loads(out)["entry"]]
    assert code == 0 and resources
    for resource in resources:
        _check_observation({**resource, "status": "final"})
        device = resource["device"]  # Reference(Device): by identifier, with a display (valid R4)
        assert set(device) == {"identifier", "display"} and device["identifier"]["system"] == STATION_SYSTEM
        assert device["identifier"]["value"] in {"ward-1", "ward-2"} and device["display"].endswith(device["identifier"]["value"])
    code, out, _ = coach(capsys, "export", "--format", "fhir", "--state-dir", str(clinic), "--station", "ward-1")
    assert {e["resource"]["device"]["identifier"]["value"] for e in json.loads(out)["entry"]} == {"ward-1"}
    assert set(stations.values()) == {"ward-1", "ward-2"}


def test_log_scale_clinic_history_and_report_show_and_filter_the_station(
    clinic: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = coach(capsys, "history", "--state-dir", str(clinic), "--limit", "50")
    lines = out.splitlines()
    assert code == 0 and lines[0].split()[-2:] == ["profile", "station"]
    assert {line.split()[-1] for line in lines[1:]} == {"ward-1", "ward-2"}
    code, out, _ = coach(capsys, "history", "--state-dir", str(clinic), "--station", "ward-2", "--limit", "50")
    assert code == 0 and {line.split()[-1] for line in out.splitlines()[1:]} == {"ward-2"}
    code, out, _ = coach(capsys, "history", "--state-dir", str(clinic), "--station", "ward-9")
    assert code == 0 and out == "No sessions recorded for station ward-9.\n"
    page = tmp_path / "r.html"
    code, said, _ = coach(capsys, "report", "--state-dir", str(clinic), "--out", str(page), "--station", "ward-1")
    text = page.read_text(encoding="utf-8")
    assert code == 0 and "<th>Station</th>" in text and "(station ward-1)" in text
    assert "<td>ward-1</td>" in text and "<td>ward-2</td>" not in text
    conn = sqlite3.connect(clinic / "coach.db")
    (dated,) = conn.execute("SELECT count(*) FROM sessions WHERE station = 'ward-1' AND started <> 'yesterday'").fetchone()
    conn.close()
    assert f"({dated} sessions)" in said and text.count("<td>ward-1</td>") == dated


def test_log_scale_a_stations_own_log_carries_its_configured_station(
    varied: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """sessions.station is NULL in a station's own log: the rows carry the config's station, and --station
    of this very station finds them (another station's finds none)."""
    assert records_cli.local_station(object()) is None  # no sync settings yet: no station
    monkeypatch.setattr(records_cli, "local_station", lambda settings: "home-1")
    code, out, _ = coach(capsys, "export", "--format", "json", "--state-dir", str(varied), "--station", "home-1")
    document = json.loads(out)
    assert code == 0 and len(document["sessions"]) == 301 and {r["station"] for r in document["records"]} == {"home-1"}
    code, out, _ = coach(capsys, "export", "--format", "json", "--state-dir", str(varied), "--station", "ward-1")
    assert code == 0 and json.loads(out)["records"] == []
    code, out, _ = coach(capsys, "history", "--state-dir", str(varied))
    assert code == 0 and out.splitlines()[0].endswith("station") and out.splitlines()[1].endswith("home-1")


def test_log_scale_local_station_reads_a_sync_section_when_there_is_one() -> None:
    class Sync:
        station = "ward-3"

    class Settings:
        sync = Sync()

    assert records_cli.local_station(Settings()) == "ward-3"
    Sync.station = ""
    assert records_cli.local_station(Settings()) is None


# --- JSON written piece by piece ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        {"a": 1, "b": None, "c": True, "d": 1.5, "e": 'ünï "q" \n'},
        {"nested": {"list": [1, [2, {}], []], "t": (1, 2)}, "empty": {}},
        {1: "not a text key", "x": [None]},
        [],
        {},
        "text",
        7,
        [{"a": float("nan")}, {"b": -0.0, "c": 1e100}],
    ],
)
def test_log_scale_indented_is_what_json_dumps_writes(value: Any) -> None:
    from coach.reports.jsontext import indented

    for depth in (0, 1, 3):
        assert indented(value, depth) == json.dumps(value, ensure_ascii=False, indent=1).replace("\n", "\n" + " " * depth)


def test_log_scale_fhir_entries_from_their_shapes_are_what_json_dumps_writes() -> None:
    """Each shape of entry (with or without a subject, a device), unconfirmed or not: the text made from the
    shape is the text of the entry itself."""
    from coach.log.queries import RecordRow
    from coach.reports.export import EntryText, observation
    from coach.reports.jsontext import indented

    texts = EntryText(2)
    ratings = [
        RatingRecorded(5.0, 3, "answered", "keyboard", "before", None, "direct"),
        RatingRecorded(9.0, 10, "answered", "heard", "unprompted", 'cat-camel "é"', UNCONFIRMED),
    ]
    for profile in (None, "A1"):
        for station in (None, "ward-1"):
            for n, rating in enumerate(ratings):
                row = RecordRow(40 + n, 3, "2026-03-02T09:00:31.000Z", rating, {}, station, "quick-start", "v1", profile)
                url = f"urn:uuid:{n}"
                assert texts.text(row, rating, url) == indented(
                    {"fullUrl": url, "resource": observation(row.id, row.wall, rating, row, url)}, 2
                )
    assert len(texts.shapes) == 4 and all(pieces is not None for pieces in texts.shapes.values())
