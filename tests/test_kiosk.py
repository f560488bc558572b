"""Kiosk mode on a fake clock: idle, menu, sessions back to back, nothing carried over."""

from __future__ import annotations

import io
import json
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, ROUTINES, SMALL_PIR, CoachHere, Ran, cmd, rating, write_routine

from coach.core.session import SessionSettings
from coach.log.journal import MemoryJournal
from coach.log.store import SqliteJournal
from coach.run.clock import FakeClock
from coach.run.eventlog import EventSink
from coach.run.inputs import Feed, Input
from coach.run.kiosk import Kiosk, KioskTimes
from coach.run.ports import Journal
from coach.run.sdnotify import Notifier
from coach.spec.locale import load_locale
from coach.spec.routine import Routine, load_routine
from coach.testing.speaker import FakeSpeaker, TimedSpeaker


class CountingNotifier(Notifier):
    def __init__(self) -> None:
        super().__init__(address="")
        self.watchdog_seconds = 20.0
        self.pings = 0
        self.readies = 0

    def ping(self) -> None:
        self.pings += 1

    def ready(self, status: str = "") -> None:
        self.readies += 1


def run_kiosk(
    routines: list[Routine],
    inputs: list[Input],
    max_sessions: int | None = None,
    journal_factory: Callable[[], Journal] | None = None,
    speaker: FakeSpeaker | None = None,
    settings: SessionSettings | None = None,
) -> tuple[Kiosk, list[dict[str, Any]], FakeSpeaker, list[MemoryJournal]]:
    clock = FakeClock()
    stream = io.StringIO()
    speaker = speaker or FakeSpeaker()
    journals: list[MemoryJournal] = []

    def open_journal() -> MemoryJournal:
        journals.append(MemoryJournal())
        return journals[-1]

    kiosk = Kiosk(
        routines,
        load_locale("en"),
        clock,
        speaker,
        Feed(clock, scripted=inputs),
        journal_factory or open_journal,
        EventSink(stream),
        lambda routine: settings or SessionSettings(red_flag_screen=False),  # the screen's own tests turn it on
        KioskTimes(menu_answer_seconds=10, abandon_seconds=60),
        CountingNotifier(),
    )
    kiosk.run(max_sessions)
    return kiosk, [json.loads(line) for line in stream.getvalue().splitlines()], speaker, journals


def test_kiosk_two_people_back_to_back_share_nothing(tmp_path: Path) -> None:
    small = load_routine(
        write_routine(
            tmp_path, SMALL_PIR.replace("pain_checks: {before: false, after: false}", "pain_checks: {before: true, after: false}")
        )
    )
    inputs = [
        cmd(1, "start"),
        Input("heard", "one", "heard", 2),
        rating(40, 7),
        cmd(400, "start"),
        cmd(402, "start"),
        rating(440, 1),
    ]
    kiosk, events, speaker, journals = run_kiosk([small], inputs, max_sessions=2)
    assert len(kiosk.sessions) == 2 and len(journals) == 2
    first_end = next(e["t"] for e in events if e["type"] == "end")
    second = [say.text for t, say in speaker.spoken if t > first_end]
    assert "Got it, 1." in second
    assert not any("7" in text for text in second)  # the first person's rating is never spoken again
    assert [r["value"] for r in journals[1].records if r["kind"] == "rating"] == [1]
    assert kiosk.notifier.readies == 1  # type: ignore[attr-defined]


def test_kiosk_menu_without_an_answer_goes_back_to_idle(tmp_path: Path) -> None:
    small = load_routine(write_routine(tmp_path, SMALL_PIR))
    kiosk, events, speaker, _ = run_kiosk([small], [cmd(1, "start")])
    assert kiosk.sessions == []
    texts = speaker.texts
    assert texts[-2:] == ["Which one would you like? Say or press a number.", "No problem. I will be here when you are ready."]
    states = [e["state"] for e in events if e["type"] == "state"]
    assert states == ["idle", "menu", "idle"]


def test_kiosk_menu_by_number_picks_that_routine(tmp_path: Path) -> None:
    first = load_routine(write_routine(tmp_path, SMALL_PIR, "a.yaml"))
    second = load_routine(
        write_routine(tmp_path, SMALL_PIR.replace("id: small", "id: other").replace("title: Small", "title: Other"), "b.yaml")
    )
    kiosk, events, _, _ = run_kiosk([first, second], [cmd(1, "start"), rating(3, 2)], max_sessions=1)
    assert next(e for e in events if e["type"] == "menu")["routine"] == "other"
    assert next(e for e in events if e["type"] == "session")["routine"] == "other"


def test_kiosk_abandoned_session_ends_cleanly(tmp_path: Path) -> None:
    small = load_routine(write_routine(tmp_path, SMALL_PIR))
    kiosk, events, _, journals = run_kiosk([small], [cmd(1, "start"), cmd(2, "start"), cmd(20, "pause")], max_sessions=1)
    assert kiosk.sessions == ["abandoned"]
    end = next(e for e in events if e["type"] == "end")
    assert end["status"] == "abandoned"
    assert [r["status"] for r in journals[0].records if r["kind"] == "session_end"] == ["abandoned"]
    stop = next(r for r in journals[0].records if r["kind"] == "stop")
    assert stop["at"] == 80.0  # paused at 20 s, nothing for 60 s
    assert kiosk.notifier.pings > 3  # type: ignore[attr-defined]


def test_kiosk_broken_config_uses_defaults_and_says_so(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("voice:\n  rate: fast\n", encoding="utf-8")
    inputs = tmp_path / "in.txt"
    inputs.write_text("1 start\n2 start\n5 stop\n", encoding="utf-8")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "coach",
            "--config",
            str(config),
            "kiosk",
            "--simulate",
            "--routines",
            "quick-start",
            "--input-script",
            str(inputs),
            "--max-sessions",
            "1",
            "--events",
            "-",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert f"{config}:2: rate: must be a whole number, got 'fast'" in result.stderr
    assert "running with built-in defaults" in result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert [e["status"] for e in events if e["type"] == "end"] == ["stopped"]
    assert (ROUTINES / "quick-start.yaml").exists()




def test_kiosk_menu_answer_time_counts_from_the_end_of_its_speech(tmp_path: Path) -> None:
    small = load_routine(write_routine(tmp_path, SMALL_PIR))
    speaker = TimedSpeaker()
    # A later input keeps the feed open: with a watchdog and nothing more to come, the old kiosk timed out at the first ping.
    kiosk, events, _, _ = run_kiosk([small], [cmd(1, "start"), cmd(100, "pause")], speaker=speaker)
    menu_says = [(e["t"], e["due"], e["text"][:5]) for e in events if e["type"] == "say"]
    # Greeting, one item, hint: said from 1.25, 2 s each, over at 7.25; then 10 s for an answer, twice.
    assert menu_says == [
        (1.25, 1.25, "Hello"),
        (3.25, 1.25, "1: Sm"),
        (5.25, 1.25, "Say o"),
        (17.5, 17.5, "Which"),
        (29.75, 29.75, "No pr"),
    ]
    assert [t for t, _ in speaker.spoken] == [1.0, 1.0, 1.0, 17.25, 29.5]
    others = [(e["type"], e["t"]) for e in events if e["type"] != "say"]
    assert others == [("state", 0.0), ("wake", 1.0), ("state", 1.0), ("state", 29.5)]
    assert kiosk.sessions == []


def test_kiosk_menu_stop_asks_once_more_then_goes_back_to_idle(tmp_path: Path) -> None:
    small = load_routine(write_routine(tmp_path, SMALL_PIR))
    inputs = [cmd(1, "pause"), Input("heard", "hello there", "heard", 2), cmd(3, "next")]
    inputs += [cmd(5, "stop"), cmd(6, "stop"), cmd(9, "yes")]
    kiosk, events, speaker, _ = run_kiosk([small], inputs, max_sessions=1)
    assert [(e["type"], e["t"]) for e in events][:10] == [
        ("state", 0.0),
        ("wake", 3.0),
        ("state", 3.0),
        ("say", 3.0),
        ("say", 3.0),
        ("say", 3.0),
        ("say", 5.0),  # the re-ask, at once
        ("say", 6.0),  # no choice
        ("state", 6.0),  # idle: nothing said or recorded for the pause, the words or the stops
        ("wake", 9.0),
    ]
    assert events[6]["text"] == "Which one would you like? Say or press a number."
    assert speaker.interrupts == []  # the menu's stops cut nothing short
    assert kiosk.sessions == []  # woken again at 9, and then nothing more came


def test_kiosk_menu_button_presses_choose_without_announcements(tmp_path: Path) -> None:
    first = load_routine(write_routine(tmp_path, SMALL_PIR, "a.yaml"))
    second = load_routine(
        write_routine(tmp_path, SMALL_PIR.replace("id: small", "id: other").replace("title: Small", "title: Other"), "b.yaml")
    )
    inputs = [Input("command", "start", "button", 1), Input("announce", "two, press again to confirm", "button", 2), rating(4, 2)]
    kiosk, events, speaker, _ = run_kiosk([first, second], inputs, max_sessions=1)
    assert "two, press again to confirm" not in speaker.texts
    menu = events[: events.index(next(e for e in events if e["type"] == "session"))]
    assert not [e for e in menu if e["type"] in ("input", "unrecognised", "fault")]
    assert next(e for e in events if e["type"] == "menu") == {"type": "menu", "t": 4.0, "choice": 2, "routine": "other"}
    assert next(e for e in events if e["type"] == "wake") == {"type": "wake", "t": 1.0, "source": "button"}


def _simulated_kiosk(coach_here: CoachHere, tmp_path: Path, *extra: str, config: str | bytes = "") -> Ran:
    inputs = tmp_path / "in.txt"
    inputs.write_text("1 start\n2 start\n5 stop\n", encoding="utf-8")
    (tmp_path / "config.yaml").write_bytes(config if isinstance(config, bytes) else config.encode())
    args = ["--config", str(tmp_path / "config.yaml"), "kiosk", "--simulate", "--input-script", str(inputs)]
    return coach_here(*args, "--max-sessions", "1", "--events", "-", *extra)


def test_kiosk_a_broken_routine_is_named_and_the_menu_offers_the_others(coach_here: CoachHere, tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "quick-start.yaml").write_text("id: quick-start\ntitle: [unclosed\n", encoding="utf-8")  # shadows the shipped one
    result = _simulated_kiosk(
        coach_here, tmp_path, "--routines", "quick-start,sciatica-gentle", config=f"routines_dir: {mine}\n"
    )
    assert result.returncode == 0, result.stderr
    assert f"{mine / 'quick-start.yaml'}:3: YAML syntax error" in result.stderr
    assert "routine 'quick-start' is broken (above); the menu offers the others." in result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert next(e for e in events if e["type"] == "menu")["routine"] == "sciatica-gentle"
    assert [e["status"] for e in events if e["type"] == "end"] == ["stopped"]


def test_kiosk_with_every_routine_broken_offers_the_built_in_ones(coach_here: CoachHere, tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "broken.yaml").write_text("id: broken\n", encoding="utf-8")
    result = _simulated_kiosk(coach_here, tmp_path, "--routines", "broken,no-such-routine", config=f"routines_dir: {mine}\n")
    assert result.returncode == 0, result.stderr
    assert "no routine on the menu could be loaded; offering the built-in ones." in result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert next(e for e in events if e["type"] == "menu")["routine"] == "quick-start"


@pytest.mark.parametrize(
    "config",
    [
        "voice:\n  rate: fast\n",  # a bad value
        "voice: [\n",  # YAML syntax
        "nonsense: 1\n",  # an unknown key
        "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
        "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
        "e: [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n",  # an alias bomb
        b"\xff\xfe\x00bad",  # not text
    ],
)
def test_kiosk_any_config_error_runs_on_defaults(coach_here: CoachHere, tmp_path: Path, config: str | bytes) -> None:
    result = _simulated_kiosk(coach_here, tmp_path, config=config)
    assert result.returncode == 0, result.stderr
    assert "running with built-in defaults" in result.stderr and "Traceback" not in result.stderr


def test_kiosk_a_log_written_by_a_newer_coach_is_left_alone_and_the_kiosk_runs_without_logging(
    coach_here: CoachHere, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    SqliteJournal(state).close()
    conn = sqlite3.connect(state / "coach.db")
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    before = (state / "coach.db").read_bytes()
    inputs = tmp_path / "in.txt"
    inputs.write_text("1 start\n2 start\n5 stop\n400 start\n402 start\n405 stop\n", encoding="utf-8")
    result = coach_here("kiosk", "--simulate", "--input-script", str(inputs), "--state-dir", str(state), "--events", "-")
    assert result.returncode == 0, result.stderr
    said = [line for line in result.stderr.splitlines() if "newer coach" in line]
    assert len(said) == 1 and said[0].endswith("the kiosk runs without logging."), result.stderr  # said once, not per session
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert [e["status"] for e in events if e["type"] == "end"] == ["stopped", "stopped"]
    assert (state / "coach.db").read_bytes() == before
