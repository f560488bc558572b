"""The programme in the report and the exports (issue 15): stages and stage changes, levels over time, the
next-morning check-ins beside pain before and after, adherence against the plan with missed days, feedback
counts; the new kinds in CSV and JSON (a programme's start and stop, which have no session, included); the
check-ins as FHIR Observations; and a log with no programme gives the very report it gave before."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import html
import io
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import screen_off_config_home
from test_store_seed import DAY, Wall, answered, seed_store, started

from coach import __version__
from coach.cli import main as cli
from coach.core.records import (
    CheckIn,
    ExerciseFeedback,
    ExerciseResult,
    ProgrammeChanged,
    ProgrammeDay,
    Progress,
    Record,
    SessionEnded,
)
from coach.log.queries import Filter, open_existing
from coach.log.store import SqliteJournal
from coach.reports.export import CSV_COLUMNS, LOINC_PAIN, PROGRAMME_COLUMNS, export
from coach.reports.report import load, render_html

START = dt.date(2026, 3, 2)
PAIN = [f"{t} rating 2" for t in range(40, 1200, 25)]


@pytest.fixture
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Local time is UTC, so the days and hours on the page do not depend on the machine."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def on(n: int) -> str:
    return (START + dt.timedelta(days=n)).isoformat()


def mark(state: Path, action: str, n: int, profile: str | None = None, programme: str = "lumbar-6-weeks") -> None:
    """``coach programme start`` / ``stop`` as the CLI writes it: outside any session."""
    wall = Wall(DAY + dt.timedelta(days=n, hours=-1))
    journal = SqliteJournal(state, profile, now=wall)
    try:
        assert journal.append(ProgrammeChanged(0.0, action, programme, on(n), profile)) is not None
    finally:
        journal.close()


def programme_session(
    state: Path,
    n: int,
    levels: str,
    *,
    stage: str = "settle",
    week: int = 1,
    checkin: tuple[str | None, int | None] | None = ("same", 2),
    before: int = 3,
    after: int = 2,
    changes: tuple[Progress, ...] = (),
    feedback: tuple[tuple[str, str], ...] = (),
    profile: str | None = None,
) -> None:
    """One programme session on day ``n`` of the course, with its records in the order the coach writes them."""
    start = DAY + dt.timedelta(days=n)
    wall = Wall(start)
    journal = SqliteJournal(state, profile, now=wall)

    def add(record: Record) -> None:
        wall.now = start + dt.timedelta(seconds=record.at)
        assert journal.append(record) is not None

    try:
        add(started("quick-start"))
        if checkin is not None:
            add(CheckIn(5.0, checkin[0], checkin[1], on(n), "lumbar-6-weeks"))
        for change in changes:
            add(change)
        add(ProgrammeDay(6.0, "lumbar-6-weeks", stage, week, on(n), levels))
        add(answered(30.0, before, "before"))
        for index, (exercise, answer) in enumerate(feedback):
            add(ExerciseResult(40.0 + index, exercise, index, "done", 4))
            add(ExerciseFeedback(41.0 + index, exercise, answer))
        add(answered(90.0, after, "after"))
        add(SessionEnded(95.0, "completed", len(feedback), len(feedback)))
    finally:
        journal.close()


def up(exercise: str, n: int, frm: int, to: int, reason: str = "good-sessions", stage: str = "settle") -> Progress:
    return Progress(5.5, exercise, frm, to, reason, on(n), "lumbar-6-weeks", stage)


@pytest.fixture
def course(tmp_path: Path) -> Path:
    """Days 0-2 at level 1, a level up on day 3, day 4 missed, day 5 a flare, a new stage on day 7."""
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    mark(state, "start", 0)
    for n in range(3):
        programme_session(state, n, "back-release=1,pelvic-tilt=1", feedback=(("back-release", "right"), ("pelvic-tilt", "easy")))
    programme_session(
        state, 3, "back-release=2,pelvic-tilt=2", checkin=("better", 1),
        changes=(up("back-release", 3, 1, 2), up("pelvic-tilt", 3, 1, 2)), feedback=(("pelvic-tilt", "hard"),),
    )  # fmt: skip
    programme_session(
        state, 5, "back-release=1,pelvic-tilt=1", checkin=("worse", 5), before=5, after=4,
        changes=(up("back-release", 5, 2, 1, "worse-next-morning"), up("pelvic-tilt", 5, 2, 1, "worse-next-morning")),
    )  # fmt: skip
    programme_session(state, 7, "cat-cow=1,pelvic-tilt=3", stage="mobilise", week=2, checkin=(None, None))
    return state


def page_of(state: Path, today: dt.date, which: Filter | None = None) -> str:
    store = open_existing(state)
    try:
        return render_html(load(store, which or Filter(), today), which or Filter(), "r.png")
    finally:
        if store is not None:
            store.close()


def programme_part(page: str) -> str:
    found = re.search(r"<h2>Programme</h2>(.*?)<h2>Sessions</h2>", page, re.S)
    assert found is not None, "no programme part"
    return found.group(1)


def cells(html_table: str) -> list[list[str]]:
    rows = re.findall(r"<tr>(.*?)</tr>", html_table, re.S)
    return [[_text(c) for c in re.findall(r"<t[dh]>(.*?)</t[dh]>", r, re.S)] for r in rows]


def _text(cell: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", cell)).strip()


def table(part: str, name: str) -> list[list[str]]:
    found = re.search(rf'<table class="{name}">(.*?)</table>', part, re.S)
    assert found is not None, name
    return cells(found.group(1))


# --- the report ------------------------------------------------------------------------------------


def test_programme_report_shows_adherence_with_the_missed_days(course: Path, utc: None) -> None:
    part = programme_part(page_of(course, dt.date.fromisoformat(on(9))))
    assert "<h3>lumbar-6-weeks</h3>" in part
    adherence = re.sub(r"<[^>]+>", "", re.search(r'<p class="adherence">(.*?)</p>', part, re.S).group(1))  # type: ignore[union-attr]
    # days 0-9: six with a session; day 9 is today and not over yet, so it is neither done nor missed
    assert adherence == (
        f"Started {on(0)}, active. Adherence: 6 of 9 days with a programme session (66%); "
        f"3 missed days ({on(4)}, {on(6)}, {on(8)})."
    )
    over = programme_part(page_of(course, dt.date.fromisoformat(on(12))))
    assert "6 of 12 days" in over and f"6 missed days ({on(4)}, {on(6)}, {on(8)} to {on(11)})" in over


def test_programme_report_counts_the_plan_days_only(course: Path, utc: None) -> None:
    """lumbar-6-weeks is 42 days: months later, the days after its end are not missed days."""
    part = programme_part(page_of(course, dt.date.fromisoformat(on(200))))
    assert f"Started {on(0)}, active (its 6 weeks ended on {on(41)}). Adherence: 6 of 42 days" in part
    assert f"36 missed days ({on(4)}, {on(6)}, {on(8)} to {on(41)})" in part


def test_programme_report_escapes_what_the_log_says(tmp_path: Path, utc: None) -> None:
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    programme_session(state, 0, "<b>x</b>=1,y=2", stage="<script>alert(1)</script>", feedback=(("<i>e</i>", "easy"),))
    part = programme_part(page_of(state, dt.date.fromisoformat(on(0))))
    assert "<script>" not in part and "<b>" not in part and "<i>" not in part
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in part and "&lt;i&gt;e&lt;/i&gt;" in part


def test_programme_report_stops_counting_at_the_stop(course: Path, utc: None) -> None:
    mark(course, "stop", 8)
    part = programme_part(page_of(course, dt.date.fromisoformat(on(30))))
    assert f"Started {on(0)}, stopped on {on(8)}. Adherence: 6 of 9 days" in part
    assert f"3 missed days ({on(4)}, {on(6)}, {on(8)})" in part


def test_programme_report_marks_the_stage_change_and_lists_each_day(course: Path, utc: None) -> None:
    part = programme_part(page_of(course, dt.date.fromisoformat(on(7))))
    assert table(part, "stages") == [
        ["Stage", "From", "To", "Sessions"],
        ["settle", on(0), on(5), "5"],
        ["mobilise", on(7), on(7), "1"],
    ]
    days = table(part, "programme-days")
    assert days[0] == ["Day", "Stage", "Next-morning check-in", "Pain before → after", "Level changes"]
    assert [row[:4] for row in days[1:]] == [
        [on(0), "settle, week 1", "same, 2", "3 → 2"],
        [on(1), "settle, week 1", "same, 2", "3 → 2"],
        [on(2), "settle, week 1", "same, 2", "3 → 2"],
        [on(3), "settle, week 1", "better, 1", "3 → 2"],
        [on(5), "settle, week 1", "worse, 5", "5 → 4"],
        [on(7), "new stage mobilise, week 2", "no answer", "3 → 2"],
    ]
    assert days[4][4] == "back-release 1 → 2 (good days in a row); pelvic-tilt 1 → 2 (good days in a row)"
    assert days[5][4] == "back-release 2 → 1 (the next morning worse); pelvic-tilt 2 → 1 (the next morning worse)"
    assert [row[4] for row in days[1:4]] == ["", "", ""]


def test_programme_report_draws_each_exercise_level_over_the_days(course: Path, utc: None) -> None:
    part = programme_part(page_of(course, dt.date.fromisoformat(on(7))))
    svg = re.search(r'<svg[^>]*aria-label="Level of each exercise".*?</svg>', part, re.S)
    assert svg is not None
    drawn = svg.group(0)
    names = re.findall(r'text-anchor="end">([a-z-]+)</text>', drawn)
    assert names == ["back-release", "pelvic-tilt", "cat-cow"]  # a row per exercise, in the order first seen
    assert drawn.count("<circle") == 5 + 6 + 1  # a dot per session and exercise (back-release not in day 7)
    assert '<text x="' in drawn and ">mobilise</text>" in drawn and ">settle</text>" in drawn  # the stage changes named
    assert drawn.count('stroke="#d35400"') == 2  # and marked by a line: the first stage and the second
    levels = re.findall(r'fill="#555555" text-anchor="start">(\d+)</text>', drawn)
    assert levels == ["1", "2", "1", "1", "2", "1", "3", "1"]  # the level where it starts and at each change


def test_programme_report_puts_the_check_in_beside_pain_in_the_sessions_table(course: Path, utc: None) -> None:
    page = page_of(course, dt.date.fromisoformat(on(7)))
    sessions = re.search(r"<h2>Sessions</h2>\s*<table>(.*?)</table>", page, re.S)
    assert sessions is not None
    rows = cells(sessions.group(1))
    assert rows[0][3:5] == ["Pain before → after", "Next-morning check-in"]
    assert [row[3:5] for row in rows[1:]] == [
        ["3 → 2", "no answer"], ["5 → 4", "worse, 5"], ["3 → 2", "better, 1"],
        ["3 → 2", "same, 2"], ["3 → 2", "same, 2"], ["3 → 2", "same, 2"],
    ]  # fmt: skip


def test_programme_report_draws_the_check_ins_on_the_pain_chart(course: Path, utc: None) -> None:
    page = page_of(course, dt.date.fromisoformat(on(7)))
    chart = re.search(r'<svg[^>]*aria-label="Pain before and after each session".*?</svg>', page, re.S)
    assert chart is not None and ">check-in</text>" in chart.group(0)
    morning = re.findall(r'<circle cx="[\d.]+" cy="([\d.]+)" r="7.0" fill="#bfe3cc" stroke="#2e8b57"', chart.group(0))
    top, bottom = 46.0, 300.0 - 40.0  # the plot's top and bottom (0-10)
    assert [round(10 * (bottom - float(y)) / (bottom - top)) for y in morning] == [2, 2, 2, 1, 5]  # day 7 gave none


def test_programme_report_through_the_cli(simulated: Path, tmp_path: Path, utc: None) -> None:
    out = tmp_path / "report.html"
    assert cli.main(["report", "--state-dir", str(simulated), "--out", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    assert "<h2>Programme</h2>" in page and "<h3>lumbar-6-weeks</h3>" in page and out.with_suffix(".png").stat().st_size > 0


def test_programme_report_counts_the_feedback_per_exercise(course: Path, utc: None) -> None:
    part = programme_part(page_of(course, dt.date.fromisoformat(on(7))))
    assert table(part, "feedback") == [
        ["Feedback", "too easy", "just right", "too hard"],
        ["back-release", "0", "3", "0"],
        ["pelvic-tilt", "3", "0", "1"],
    ]


def test_programme_report_keeps_each_profile_apart(tmp_path: Path, utc: None) -> None:
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    mark(state, "start", 0, "A1")
    mark(state, "start", 1, "B2")
    programme_session(state, 0, "back-release=1", profile="A1")
    programme_session(state, 1, "back-release=4", profile="B2", checkin=("worse", 6))
    programme_session(state, 2, "back-release=1", profile="A1")
    both = programme_part(page_of(state, dt.date.fromisoformat(on(2))))
    assert "<h3>lumbar-6-weeks (profile A1)</h3>" in both and "<h3>lumbar-6-weeks (profile B2)</h3>" in both
    one = programme_part(page_of(state, dt.date.fromisoformat(on(2)), Filter(profile="A1")))
    assert "B2" not in one and "worse" not in one and "2 of 3 days" in one and f"1 missed days ({on(1)})" in one


def test_programme_report_of_a_log_without_a_programme_is_the_bytes_it_was(tmp_path: Path, utc: None) -> None:
    """The report of a seeded log (ten sessions, no programme) is the page the coach wrote before programmes came
    to the report: its SHA-256, taken from that coach (main at ba9282f), generation time and version masked."""
    seed_store(tmp_path, profile="K-17", days=10)
    page = page_of(tmp_path, dt.date(2026, 3, 25))
    page = re.sub(r"Generated \d{4}-\d\d-\d\d \d\d:\d\d \S+ by coach ", "Generated X by coach ", page).replace(__version__, "V")
    assert "Programme" not in page and "check-in" not in page
    assert hashlib.sha256(page.encode()).hexdigest() == "30ad04e3b767a849b6ab68e3944a1c41d54d1f64e84ff7723658944e6feae824"


# --- the exports -----------------------------------------------------------------------------------


def exported(state: Path, fmt: str, which: Filter | None = None) -> str:
    store = open_existing(state)
    out = io.StringIO()
    try:
        export(store, fmt, out, which or Filter())
    finally:
        if store is not None:
            store.close()
    return out.getvalue()


def test_programme_csv_has_the_new_kinds_and_their_columns(course: Path) -> None:
    mark(course, "stop", 8)
    text = exported(course, "csv")
    assert tuple(next(csv.reader(io.StringIO(text)))) == CSV_COLUMNS + PROGRAMME_COLUMNS
    rows = list(csv.DictReader(io.StringIO(text)))
    marks = [r for r in rows if r["kind"] == "programme"]
    assert [(r["session"], r["action"], r["programme"], r["day"]) for r in marks] == [
        ("", "start", "lumbar-6-weeks", on(0)),
        ("", "stop", "lumbar-6-weeks", on(8)),
    ]
    assert [int(r["id"]) for r in rows] == sorted(int(r["id"]) for r in rows)  # in the order written
    moved = [(r["exercise"], r["from"], r["to"], r["reason"], r["stage"]) for r in rows if r["kind"] == "progress"]
    assert moved[0] == ("back-release", "1", "2", "good-sessions", "settle") and len(moved) == 4
    checkins = [(r["answer"], r["rating"], r["day"]) for r in rows if r["kind"] == "checkin"]
    assert checkins[3:] == [("better", "1", on(3)), ("worse", "5", on(5)), ("", "", on(7))]
    day = next(r for r in rows if r["kind"] == "programme_day" and r["stage"] == "mobilise")
    assert (day["week"], day["levels"], day["routine"]) == ("2", "cat-cow=1,pelvic-tilt=3", "quick-start")
    assert [(r["exercise"], r["answer"]) for r in rows if r["kind"] == "feedback"][-1] == ("pelvic-tilt", "hard")


def test_programme_csv_of_a_log_without_a_programme_keeps_its_columns(tmp_path: Path) -> None:
    seed_store(tmp_path, days=2)
    assert next(csv.reader(io.StringIO(exported(tmp_path, "csv")))) == list(CSV_COLUMNS)


def test_programme_json_has_the_new_kinds_and_the_records_without_a_session(course: Path) -> None:
    records = json.loads(exported(course, "json"))["records"]
    start = next(r for r in records if r["kind"] == "programme")
    assert {k: start[k] for k in ("session", "action", "programme", "day", "profile")} == {
        "session": None, "action": "start", "programme": "lumbar-6-weeks", "day": on(0), "profile": None,
    }  # fmt: skip
    assert records[0] is start  # it was written first
    moved = next(r for r in records if r["kind"] == "progress")
    assert (moved["from"], moved["to"], moved["exercise"]) == (1, 2, "back-release") and "from_level" not in moved
    assert [r["answer"] for r in records if r["kind"] == "checkin"] == ["same", "same", "same", "better", "worse", None]


def test_programme_exports_choose_the_records_without_a_session_by_profile(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    mark(state, "start", 0, "A1")
    mark(state, "start", 0, "B2", "sciatica-6-weeks")
    programme_session(state, 0, "back-release=1", profile="A1")
    mine = json.loads(exported(state, "json", Filter(profile="A1")))["records"]
    assert [(r["kind"], r.get("profile")) for r in mine if r["session"] is None] == [("programme", "A1")]
    later = json.loads(exported(state, "json", Filter(since=START + dt.timedelta(days=1))))["records"]
    assert later == []
    everyone = list(csv.DictReader(io.StringIO(exported(state, "csv"))))
    assert [(r["profile"], r["programme"]) for r in everyone if r["kind"] == "programme"] == [
        ("A1", "lumbar-6-weeks"), ("B2", "sciatica-6-weeks"),
    ]  # fmt: skip


def test_programme_fhir_has_the_check_in_ratings_as_observations(course: Path) -> None:
    bundle = json.loads(exported(course, "fhir"))
    observations = [e["resource"] for e in bundle["entry"]]
    checkins = [o for o in observations if o["code"]["text"] == "Pain severity 0-10, next-morning check-in"]
    pain = [o for o in observations if o["code"]["text"] == "Pain severity 0-10"]
    assert len(pain) == 12 and len(checkins) == 5  # day 7's check-in had no rating: no observation
    better = checkins[3]
    assert better["code"]["coding"] == pain[0]["code"]["coding"] and better["code"]["coding"][0]["code"] == LOINC_PAIN
    assert (better["valueInteger"], better["status"]) == (1, "final")
    assert better["effectiveDateTime"] == f"{on(3)}T09:00:05.000Z"  # when it was given
    assert better["component"] == [
        {"code": {"text": "Compared with yesterday morning, is your back better, the same, or worse?"}, "valueString": "better"}
    ]
    told = f"Next-morning check-in for {on(3)}: better than yesterday morning; programme lumbar-6-weeks; coach record "
    assert better["note"][0]["text"].startswith(told)
    same = checkins[0]["note"][0]["text"]
    assert same.startswith(f"Next-morning check-in for {on(0)}: the same as yesterday morning")
    ids = [e["fullUrl"] for e in bundle["entry"]]
    assert len(set(ids)) == len(ids)


# --- a course run by the coach itself --------------------------------------------------------------


def _run_day(state: Path, n: int, answer: str, rating: int) -> None:
    script = state / f"day{n}.txt"
    script.write_text("\n".join([f"1 heard {answer}", f"4 rating {rating}", *PAIN]) + "\n", encoding="utf-8")
    code = cli.main(["run", "--simulate", "--as-of", on(n), "--state-dir", str(state), "--input-script", str(script)])
    assert code == 0


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """lumbar-6-weeks through the CLI: four good days (a level up on the fourth), day 4 missed, day 5 better."""
    state = tmp_path_factory.mktemp("course")
    home = screen_off_config_home(tmp_path_factory.mktemp("config"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CONFIG_HOME", str(home))
        patch.setenv("COACH_CONFIG", "")
        assert cli.main(["programme", "start", "lumbar-6-weeks", "--state-dir", str(state), "--as-of", on(0)]) == 0
        for n, (answer, rating) in {0: ("same", 2), 1: ("same", 2), 2: ("same", 2), 3: ("same", 2), 5: ("better", 1)}.items():
            _run_day(state, n, answer, rating)
    return state


def test_programme_report_of_a_simulated_course(simulated: Path, utc: None) -> None:
    part = programme_part(page_of(simulated, dt.date.fromisoformat(on(5))))
    assert f"Adherence: 5 of 6 days with a programme session (83%); 1 missed days ({on(4)})." in part
    days = table(part, "programme-days")
    assert [row[2] for row in days[1:]] == ["same, 2", "same, 2", "same, 2", "same, 2", "better, 1"]
    assert days[4][4] == "back-release 1 → 2 (good days in a row); pelvic-tilt 1 → 2 (good days in a row)"
    svg = re.search(r'aria-label="Level of each exercise".*?</svg>', part, re.S)
    assert svg is not None
    assert re.findall(r'fill="#555555" text-anchor="start">(\d+)</text>', svg.group(0)) == ["1", "2", "1", "2"]


def test_programme_fhir_of_a_simulated_course(simulated: Path) -> None:
    bundle = json.loads(exported(simulated, "fhir"))
    checkins = [e["resource"] for e in bundle["entry"] if "check-in" in e["resource"]["code"]["text"]]
    assert [(o["valueInteger"], o["component"][0]["valueString"]) for o in checkins] == [(2, "same")] * 4 + [(1, "better")]
    rows = list(csv.DictReader(io.StringIO(exported(simulated, "csv"))))
    assert [r["kind"] for r in rows][0] == "programme" and rows[0]["session"] == ""
