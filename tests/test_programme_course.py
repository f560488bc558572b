"""A simulated patient over days through the CLI (issue 15): ``coach programme start``, then ``coach run
--simulate --as-of DATE --state-dir D`` each day with an input script that answers the check-in
(``heard better|same|worse``) and the pain checks, and ``coach programme status --json``."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import CoachHere, screen_off_config_home

from coach.cli import main as cli

START = dt.date(2026, 3, 2)
ANSWER_PAIN = [f"{t} rating 2" for t in range(40, 1200, 25)]
"""Ratings of 2 every 25 s: the pain check before the exercises, and the closing one whenever it comes
(one given in between counts as an unprompted 2)."""


def day(n: int) -> str:
    return (START + dt.timedelta(days=n)).isoformat()


def run_day(coach_here: CoachHere, state: Path, n: int, answer: str = "same", rating: int = 2, extra: tuple[str, ...] = (),
            profile: str | None = None) -> list[dict[str, Any]]:  # fmt: skip
    script = state / f"day{n}.txt"
    lines = [f"1 heard {answer}", f"4 rating {rating}", *extra, *ANSWER_PAIN] if answer else [*extra, *ANSWER_PAIN]
    script.write_text("\n".join(lines) + "\n", encoding="utf-8")
    events = state / f"day{n}-{profile}.jsonl"
    who = ["--profile", profile] if profile else []
    ran = coach_here("run", "--simulate", "--as-of", day(n), "--state-dir", str(state), "--input-script", str(script),
                     "--events", str(events), *who)  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    return [json.loads(line) for line in events.read_text(encoding="utf-8").splitlines()]


def status(coach_here: CoachHere, state: Path, n: int, profile: str | None = None) -> dict[str, Any]:
    who = ["--profile", profile] if profile else []
    ran = coach_here("programme", "status", "--json", "--state-dir", str(state), "--as-of", day(n), *who)
    assert ran.returncode == 0, ran.stderr
    found: dict[str, Any] = json.loads(ran.stdout)
    return found


def start(coach_here: CoachHere, state: Path, name: str = "lumbar-6-weeks", profile: str | None = None) -> None:
    who = ["--profile", profile] if profile else []
    ran = coach_here("programme", "start", name, "--state-dir", str(state), "--as-of", day(0), *who)
    assert ran.returncode == 0 and ran.stdout.startswith(f"{name}: started on {day(0)}"), ran


def of(events: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [e for e in events if e["type"] == kind]


@pytest.fixture(scope="module")
def four_good_days(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[list[dict[str, Any]]]]:
    """Four good days of lumbar-6-weeks, run once for the module: the log, and each day's events (tests copy the log)."""
    state = tmp_path_factory.mktemp("four-days")
    home = screen_off_config_home(tmp_path_factory.mktemp("config"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CONFIG_HOME", str(home))
        patch.setenv("COACH_CONFIG", "")

        def here(*args: str, **_: Any) -> Any:
            code = cli.main(list(args))
            return type("Ran", (), {"returncode": code, "stderr": "", "stdout": ""})

        assert cli.main(["programme", "start", "lumbar-6-weeks", "--state-dir", str(state), "--as-of", day(0)]) == 0
        days = [run_day(here, state, n) for n in range(4)]
    return state, days


@pytest.fixture
def after_four_days(four_good_days: tuple[Path, list[list[dict[str, Any]]]], tmp_path: Path) -> Callable[[], Path]:
    def copy() -> Path:
        target = tmp_path / "state"
        shutil.copytree(four_good_days[0], target)
        target.chmod(0o700)
        return target

    return copy


def test_programme_list_names_one_programme_per_line(coach_here: CoachHere) -> None:
    ran = coach_here("programme", "list")
    assert ran.returncode == 0
    assert [line.split()[0] for line in ran.stdout.splitlines()] == ["lumbar-6-weeks", "sciatica-6-weeks"]


def test_programme_a_good_course_goes_up_and_says_why(
    coach_here: CoachHere,
    four_good_days: tuple[Path, list[list[dict[str, Any]]]],
    after_four_days: Callable[[], Path],
    tmp_path: Path,
) -> None:
    start(coach_here, tmp_path)
    first = status(coach_here, tmp_path, 0)
    assert (first["programme"], first["stage"], first["week"], first["day"]) == ("lumbar-6-weeks", "settle", 1, 1)
    assert first["levels"] == {"back-release": 1, "pelvic-tilt": 1}
    days = four_good_days[1]
    for n, events in enumerate(days[:3]):
        asked = [e for e in of(events, "say") if e["phase"] == "checkin"]
        assert asked[0]["text"].startswith("Compared with yesterday morning, is your back better, the same, or worse?")
        assert [(c["answer"], c["rating"], c["day"]) for c in of(events, "checkin")] == [("same", 2, day(n))]
        assert of(events, "progress") == [] and of(events, "end")[-1]["status"] == "completed"
    fourth = days[3]
    changes = [{k: e[k] for k in ("exercise", "from", "to", "reason")} for e in of(fourth, "progress")]
    assert changes == [
        {"exercise": "back-release", "from": 1, "to": 2, "reason": "good-sessions"},
        {"exercise": "pelvic-tilt", "from": 1, "to": 2, "reason": "good-sessions"},
    ]
    said = [e["text"] for e in of(fourth, "say")]
    told = said.index("Your pelvic tilt goes up to 6 repetitions: 3 good days in a row.")
    assert told < said.index("Welcome. Quick start.")  # at the start of the session
    assert any(e["text"].startswith("6. ") for e in of(fourth, "say"))  # six tilts now
    assert not any(e["text"].startswith("5. ") for e in of(days[2], "say"))  # four the day before
    assert status(coach_here, after_four_days(), 3)["levels"] == {"back-release": 2, "pelvic-tilt": 2}


def test_programme_the_check_in_is_asked_once_a_day(coach_here: CoachHere, tmp_path: Path) -> None:
    start(coach_here, tmp_path)
    run_day(coach_here, tmp_path, 0)
    again = run_day(coach_here, tmp_path, 0, answer="")
    assert not [e for e in of(again, "say") if e["phase"] == "checkin"] and of(again, "checkin") == []
    assert of(again, "programme_day")[0]["day"] == day(0)
    today = status(coach_here, tmp_path, 0)
    assert today["done_today"] and today["checked_in_today"] and today["days_done"] == 1


def test_programme_a_flare_goes_down_and_the_coach_says_so_at_the_start(
    coach_here: CoachHere, after_four_days: Callable[[], Path]
) -> None:
    tmp_path = after_four_days()
    flare = run_day(coach_here, tmp_path, 4, answer="worse", rating=5)
    assert [(e["exercise"], e["from"], e["to"], e["reason"]) for e in of(flare, "progress")] == [
        ("back-release", 2, 1, "worse-next-morning"),
        ("pelvic-tilt", 2, 1, "worse-next-morning"),
    ]
    said = [e["text"] for e in of(flare, "say")]
    assert "Yesterday was too much: today your lower back release goes back to the gentler form." in said
    assert said.index("Yesterday was too much: today your pelvic tilt goes back to 4 repetitions.") < said.index(
        "Welcome. Quick start."
    )
    assert status(coach_here, tmp_path, 4)["levels"] == {"back-release": 1, "pelvic-tilt": 1}


def test_programme_a_missed_week_starts_lower_and_a_new_stage_is_told(
    coach_here: CoachHere, after_four_days: Callable[[], Path]
) -> None:
    tmp_path = after_four_days()
    back = run_day(coach_here, tmp_path, 11, answer="better")
    assert [(e["exercise"], e["reason"]) for e in of(back, "progress")] == [
        ("back-release", "missed-days"),
        ("pelvic-tilt", "missed-days"),
    ]
    assert "After 8 days away, your pelvic tilt starts a step lower: 4 repetitions." in [e["text"] for e in of(back, "say")]
    later = run_day(coach_here, tmp_path, 14)
    assert "A new stage of your programme begins: Mobilise." in [e["text"] for e in of(later, "say")]
    assert of(later, "session")[0]["routine"] == "clinic-station"
    now = status(coach_here, tmp_path, 14)
    assert (now["stage"], now["week"], now["days_done"]) == ("mobilise", 3, 6)


def test_programme_two_profiles_at_one_station_are_kept_apart(coach_here: CoachHere, tmp_path: Path) -> None:
    start(coach_here, tmp_path, "lumbar-6-weeks", profile="A1")
    start(coach_here, tmp_path, "sciatica-6-weeks", profile="B2")
    for n in range(4):
        run_day(coach_here, tmp_path, n, profile="A1")
    other = run_day(coach_here, tmp_path, 3, profile="B2")
    assert of(other, "session")[0]["routine"] == "sciatica-gentle"
    assert of(other, "progress") == []  # A1's good days are not B2's
    assert [e for e in of(other, "say") if e["phase"] == "checkin"]  # B2's first session: asked, though A1 was today
    assert not [e for e in of(other, "say") if e["phase"] == "programme"]  # nothing of A1's levels is said to B2
    a, b = status(coach_here, tmp_path, 3, "A1"), status(coach_here, tmp_path, 3, "B2")
    assert a["levels"] == {"back-release": 2, "pelvic-tilt": 2} and a["days_done"] == 4
    assert b["programme"] == "sciatica-6-weeks" and b["days_done"] == 1 and set(b["levels"]) >= {"nerve-glide", "press-up"}
    assert status(coach_here, tmp_path, 3)["programme"] is None  # no profile: nobody's programme


def test_programme_stop_and_no_programme(coach_here: CoachHere, tmp_path: Path) -> None:
    start(coach_here, tmp_path)
    ran = coach_here("programme", "stop", "--state-dir", str(tmp_path), "--as-of", day(2))
    assert ran.returncode == 0 and ran.stdout.strip() == f"lumbar-6-weeks: stopped on {day(2)}"
    assert status(coach_here, tmp_path, 2) == {"programme": None}
    events = run_day(coach_here, tmp_path, 2, answer="")
    assert of(events, "session")[0]["routine"] == "quick-start" and of(events, "programme_day") == []  # a plain run
    bad = coach_here("programme", "start", "no-such", "--state-dir", str(tmp_path))
    assert bad.returncode == 2 and bad.stderr.startswith("no programme named 'no-such'") and "Traceback" not in bad.stderr
    date = coach_here("programme", "status", "--as-of", "2026-13-01", "--state-dir", str(tmp_path))
    assert date.returncode == 2 and "not a date" in date.stderr


def test_programme_plan_today_prints_the_levels_and_the_timetable(
    coach_here: CoachHere, after_four_days: Callable[[], Path], tmp_path: Path
) -> None:
    state = after_four_days()
    ran = coach_here("plan", "--today", "--state-dir", str(state), "--as-of", day(4))
    assert ran.returncode == 0, ran.stderr
    lines = ran.stdout.splitlines()
    assert lines[0] == f"lumbar-6-weeks: Settle (stage settle), week 1, day 5, {day(4)}"
    assert "  pelvic-tilt          level 2 of 4: 6 repetitions" in lines and not [line for line in lines if "change:" in line]
    assert any(line.startswith("Quick start (quick-start") for line in lines)
    away = coach_here("plan", "--today", "--state-dir", str(state), "--as-of", day(11)).stdout.splitlines()
    assert "  change: pelvic-tilt 2 -> 1 (missed-days)" in away  # what this morning's session would do
    none = coach_here("plan", "--today", "--state-dir", str(tmp_path / "empty"))
    assert none.returncode == 2 and none.stderr.startswith("no programme is active")


def test_programme_the_red_flag_screen_is_answered_after_the_check_in(coach_here: CoachHere, tmp_path: Path) -> None:
    config = tmp_path / "screen.yaml"
    config.write_text("session:\n  red_flag_screen: true\n", encoding="utf-8")
    state = tmp_path / "state"
    ran = coach_here(
        "--config", str(config), "programme", "start", "lumbar-6-weeks", "--state-dir", str(state), "--as-of", day(0)
    )
    assert ran.returncode == 0
    script = tmp_path / "in.txt"
    script.write_text("\n".join(["1 heard better", "4 rating 1", *(f"{t} no" for t in range(8, 40, 2)), *ANSWER_PAIN]) + "\n")
    events = tmp_path / "ev.jsonl"
    ran = coach_here("--config", str(config), "run", "--simulate", "--as-of", day(0), "--state-dir", str(state),
                     "--input-script", str(script), "--events", str(events))  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    seen = [json.loads(line) for line in events.read_text(encoding="utf-8").splitlines()]
    phases = [e["phase"] for e in of(seen, "say")]
    assert phases.index("checkin") < phases.index("screen")
    assert [e["status"] for e in of(seen, "screen")] == ["clear"] and of(seen, "end")[-1]["status"] == "completed"


def test_programme_a_damaged_log_runs_the_default_routine(coach_here: CoachHere, tmp_path: Path) -> None:
    """Without a readable log there is no programme to read: ``coach run`` still runs (the journal moves the log aside)."""
    tmp_path.chmod(0o700)
    (tmp_path / "coach.db").write_bytes(b"not a database" * 100)
    (tmp_path / "coach.db").chmod(0o600)
    events = run_day(coach_here, tmp_path, 0, answer="")
    assert of(events, "session")[0]["routine"] == "quick-start" and of(events, "end")[-1]["status"] == "completed"


def test_programme_start_again_replaces_the_active_one(coach_here: CoachHere, tmp_path: Path) -> None:
    start(coach_here, tmp_path)
    again = coach_here("programme", "start", "sciatica-6-weeks", "--state-dir", str(tmp_path), "--as-of", day(3))
    assert again.returncode == 0 and again.stdout.splitlines()[0] == "lumbar-6-weeks: replaced (its sessions stay in the log)"
    now = status(coach_here, tmp_path, 3)
    assert (now["programme"], now["day"], now["started"]) == ("sciatica-6-weeks", 1, day(3))
