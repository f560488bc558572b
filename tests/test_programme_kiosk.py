"""The kiosk with a programme (issue 15): today's session first in the menu, run with its check-in; the
reminder at the configured times while today's session is not done, on a fake clock; the config's times."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import pytest
from conftest import SMALL_PIR, CoachHere, cmd, write_routine
from test_kiosk import CountingNotifier

from coach.core.session import SessionSettings
from coach.errors import ConfigError
from coach.log.journal import MemoryJournal
from coach.run.clock import FakeClock
from coach.run.eventlog import EventSink
from coach.run.inputs import Feed, Input
from coach.run.kiosk import Kiosk, KioskTimes, TodaysSession, reminder_times
from coach.spec.config import load_settings
from coach.spec.locale import load_locale
from coach.spec.routine import Routine, load_routine
from coach.testing.speaker import FakeSpeaker

EN = load_locale("en")
MORNING = dt.datetime(2026, 3, 2, 8, 59, 0, tzinfo=dt.UTC)


def idle_kiosk(routine: Routine, done_today: bool, inputs: list[Input], times: tuple[dt.time, ...]) -> list[dict[str, Any]]:
    clock = FakeClock()
    stream = io.StringIO()
    kiosk = Kiosk(
        [routine], EN, clock, FakeSpeaker(), Feed(clock, scripted=inputs),
        MemoryJournal, EventSink(stream), lambda r: SessionSettings(red_flag_screen=False),
        KioskTimes(menu_answer_seconds=10, abandon_seconds=60), CountingNotifier(),
    )  # fmt: skip
    kiosk.todays = lambda: TodaysSession(routine, lambda journal: pytest.fail("not chosen"), done_today)
    kiosk.reminder_at = times
    kiosk.wall = lambda: MORNING + dt.timedelta(seconds=clock.now())
    kiosk.run(max_sessions=0 if not inputs else None)
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_kiosk_reminder_times_from_the_wall_clock() -> None:
    nine, six = dt.time(9, 0), dt.time(18, 0)
    assert reminder_times((nine, six), MORNING, 100.0, False, days=2) == [160.0, 32560.0, 86560.0, 118960.0]
    assert reminder_times((nine, six), MORNING, 100.0, True, days=2) == [86560.0, 118960.0]  # done today: from tomorrow
    assert reminder_times((), MORNING, 0.0, False) == []


def test_kiosk_says_the_reminder_while_idle_when_today_is_not_done(tmp_path: Path) -> None:
    routine = load_routine(write_routine(tmp_path, SMALL_PIR))
    events = idle_kiosk(routine, False, [cmd(200, "pause")], (dt.time(9, 0), dt.time(9, 2)))
    reminders = [e for e in events if e["type"] == "reminder"]
    assert [e["t"] for e in reminders][:3] == [60.0, 180.0, 86460.0]  # and tomorrow's: a simulation idles on through them
    said = [(e["t"], e["text"]) for e in events if e["type"] == "say" and e["phase"] == "reminder"]
    assert said[:2] == [(60.0, EN.say("reminder")), (180.0, EN.say("reminder"))] and len(said) == len(reminders)
    assert EN.say("reminder") == "Time for your back exercises. Press the button to start."


def test_kiosk_no_reminder_when_today_is_done(tmp_path: Path) -> None:
    routine = load_routine(write_routine(tmp_path, SMALL_PIR))
    events = idle_kiosk(routine, True, [cmd(200, "pause")], (dt.time(9, 0),))
    assert [e["t"] for e in events if e["type"] == "reminder"][0] == 86460.0  # not today: tomorrow's is the first


def test_kiosk_runs_todays_programme_session_with_its_check_in(coach_here: CoachHere, tmp_path: Path) -> None:
    state = tmp_path / "state"
    assert coach_here("programme", "start", "lumbar-6-weeks", "--state-dir", str(state), "--as-of", "2026-03-02").returncode == 0
    script = tmp_path / "in.txt"
    script.write_text("1 start\n2 rating 1\n5 heard better\n8 rating 1\n", encoding="utf-8")
    events = tmp_path / "ev.jsonl"
    ran = coach_here("kiosk", "--simulate", "--as-of", "2026-03-02", "--state-dir", str(state), "--input-script", str(script),
                     "--max-sessions", "1", "--events", str(events))  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    seen = [json.loads(line) for line in events.read_text(encoding="utf-8").splitlines()]
    menu = [e["text"] for e in seen if e["type"] == "say" and e["phase"] == "menu"]
    assert menu[1] == "1: Your programme today, Quick start, about 5 minutes."
    assert [(e["answer"], e["rating"]) for e in seen if e["type"] == "checkin"] == [("better", 1)]
    assert [e["day"] for e in seen if e["type"] == "programme_day"] == ["2026-03-02"]
    status = coach_here("programme", "status", "--json", "--state-dir", str(state), "--as-of", "2026-03-02")
    assert json.loads(status.stdout)["done_today"] is True


def test_kiosk_reminder_times_are_checked_in_the_config(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text('programme:\n  reminders: "18:30, 9:00"\n', encoding="utf-8")
    assert load_settings(good).settings.programme.reminder_times() == (dt.time(9, 0), dt.time(18, 30))
    bad = tmp_path / "bad.yaml"
    bad.write_text('language: en\nprogramme:\n  reminders: "09:00 7pm"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(bad)
    assert caught.value.problems == [f"{bad}:3: reminders: '7pm' is not a time of day HH:MM (24 h, e.g. 09:00)"]


def test_kiosk_screens_every_programme_session_even_after_a_clear_screen_that_day(coach_here: CoachHere, tmp_path: Path) -> None:
    """At home the red-flag screen is asked once a day; at a kiosk every session is screened, a programme's too."""
    from coach.core.records import Screened, SessionStarted
    from coach.log.store import SqliteJournal

    state = tmp_path / "state"
    config = tmp_path / "config.yaml"
    config.write_text("session:\n  red_flag_screen: true\n", encoding="utf-8")
    assert coach_here("--config", str(config), "programme", "start", "lumbar-6-weeks", "--state-dir", str(state),
                      "--as-of", "2026-03-02").returncode == 0  # fmt: skip
    journal = SqliteJournal(state)
    journal.append(SessionStarted(0.0, "quick-start", "Quick start", "v", "en"))
    journal.append(Screened(5.0, "clear", day="2026-03-02"))  # screened clear earlier that day, at home
    journal.close()
    script = tmp_path / "in.txt"
    script.write_text("1 start\n2 rating 1\n5 heard better\n8 rating 1\n", encoding="utf-8")
    ran = coach_here("--config", str(config), "kiosk", "--simulate", "--as-of", "2026-03-02", "--state-dir", str(state),
                     "--input-script", str(script), "--max-sessions", "1", "--events", "-")  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    events = [json.loads(line) for line in ran.stdout.splitlines()]
    assert any(e["type"] == "say" and e["phase"] == "screen" for e in events)
