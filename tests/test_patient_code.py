"""A patient's code at a shared station (issue 16): digits said or pressed, read back and confirmed; checked
against the clinic's list when there is one; an unknown code gets one retry, then the session runs anonymous."""

from __future__ import annotations

import io
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from coach.core.menu import AwaitQuiet
from coach.core.messages import Command, CommandName, Event, Rating, Say, StateChanged, Tick
from coach.core.patient_code import CODE_ANSWER_SECONDS, CodeDone, CodeEntry
from coach.core.session import SessionSettings
from coach.log.journal import MemoryJournal
from coach.run.clock import FakeClock
from coach.run.eventlog import EventSink
from coach.run.inputs import Feed
from coach.run.kiosk import Kiosk, KioskTimes, PatientCodes, PersonParts
from coach.run.sdnotify import Notifier
from coach.spec.locale import load_locale
from coach.spec.routine import load_routine
from coach.testing.speaker import FakeSpeaker

EN = load_locale("en")


class Driver:
    """Runs a :class:`CodeEntry` as the runner would, with speech that is over as soon as it is said."""

    def __init__(self, entry: CodeEntry) -> None:
        self.entry = entry
        self.now = entry.start
        self.said: list[str] = []
        self.done: list[CodeDone] = []
        self.states: list[str] = []
        self._feed(Tick(self.now))

    def _feed(self, event: Event) -> None:
        actions: Sequence[object] = self.entry.handle(event)
        quiet = False
        for action in actions:
            if isinstance(action, Say):
                self.said.append(action.text)
            elif isinstance(action, CodeDone):
                self.done.append(action)
            elif isinstance(action, StateChanged):
                self.states.append(action.state)
            elif isinstance(action, AwaitQuiet):
                quiet = True
        if quiet:
            self._feed(Tick(self.now))

    def digits(self, *values: int) -> Driver:
        for value in values:
            self.now += 1
            self._feed(Rating(self.now, value, "button"))
        return self

    def command(self, name: str) -> Driver:
        self.now += 1
        self._feed(Command(self.now, name))
        return self

    def wait(self) -> Driver:
        """Let the answer window close."""
        deadline = self.entry.next_deadline()
        assert deadline is not None
        self.now = deadline
        self._feed(Tick(self.now))
        return self


def test_patient_code_digits_read_back_and_confirmed() -> None:
    run = Driver(CodeEntry(EN, 10.0, 4)).digits(4, 2, 7, 1).command("yes")
    assert run.entry.ended and run.entry.code == "4271" and not run.entry.cancelled
    assert run.said == [
        EN.say("code_prompt", n=4), "4.", "2.", "7.", EN.say("code_readback", code="4, 2, 7, 1"), EN.say("code_thanks"),
    ]  # fmt: skip
    assert [(d.status, d.reason) for d in run.done] == [("confirmed", "entered")]
    assert run.states == ["code", "code-confirm"]


def test_patient_code_buttons_count_digits_then_press_is_yes_and_hold_is_no() -> None:
    from coach.controls.gestures import HOLD, PRESS
    from coach.controls.layouts import RATING_STATES, main_button

    assert "code" in RATING_STATES  # presses are counted into a digit, as for a rating
    assert [i.value for i in main_button(PRESS, "code-confirm")] == [CommandName.YES]
    assert [i.value for i in main_button(HOLD, "code-confirm")] == [CommandName.NO]


def test_patient_code_a_known_code_is_taken_and_an_unknown_one_gets_one_retry() -> None:
    known = Driver(CodeEntry(EN, 0.0, 4, known={"1234"})).digits(1, 2, 3, 4).command("yes")
    assert known.entry.code == "1234" and known.done[0].reason == "known"
    retried = Driver(CodeEntry(EN, 0.0, 4, known={"1234"})).digits(9, 9, 9, 9).command("yes")
    assert not retried.entry.ended and retried.said[-1] == EN.say("code_unknown", n=4)
    retried.digits(1, 2, 3, 4).command("yes")
    assert retried.entry.code == "1234"
    twice = Driver(CodeEntry(EN, 0.0, 4, known={"1234"})).digits(9, 9, 9, 9).command("yes").digits(8, 8, 8, 8).command("yes")
    assert twice.entry.ended and twice.entry.code is None and not twice.entry.cancelled
    assert [(d.status, d.reason) for d in twice.done] == [("anonymous", "unknown")]
    assert twice.said[-1] == EN.say("code_anonymous")


def test_patient_code_no_at_the_read_back_enters_it_again_once() -> None:
    run = Driver(CodeEntry(EN, 0.0, 3)).digits(1, 2, 3).command("no")
    assert run.said[-1] == EN.say("code_again", n=3) and not run.entry.ended
    run.digits(3, 2, 1).command("yes")
    assert run.entry.code == "321"
    refused = Driver(CodeEntry(EN, 0.0, 3)).digits(1, 2, 3).command("no").digits(1, 2, 3).command("no")
    assert refused.entry.code is None and refused.done[0].reason == "not confirmed"


def test_patient_code_silence_asks_once_more_then_goes_on_anonymous() -> None:
    run = Driver(CodeEntry(EN, 0.0, 4)).digits(5).wait()
    assert run.said[-1] == EN.say("code_reask", n=3) and not run.entry.ended
    assert run.now == 1.0 + CODE_ANSWER_SECONDS  # the window counts from when the question was over
    run.wait()
    assert run.entry.ended and run.entry.code is None and run.done[0].reason == "no answer"


def test_patient_code_stop_cancels_back_to_idle() -> None:
    run = Driver(CodeEntry(EN, 0.0, 4)).digits(1).command("stop")
    assert run.entry.ended and run.entry.cancelled and run.entry.code is None
    assert run.done[0].status == "cancelled"


def test_patient_code_ten_is_not_a_digit_and_ratings_during_the_read_back_change_nothing() -> None:
    run = Driver(CodeEntry(EN, 0.0, 2)).digits(10)
    assert run.said[-1] == EN.say("code_one_digit") and run.entry.entered == []
    run.digits(1, 2).digits(7).command("yes")
    assert run.entry.code == "12"


def test_patient_code_the_event_stream_never_carries_the_code() -> None:
    run = Driver(CodeEntry(EN, 0.0, 4)).digits(4, 2, 7, 1).command("yes")
    for done in run.done:
        assert "4271" not in str(done.fields()) and set(done.fields()) == {"status", "reason"}


def test_patient_code_needs_a_sensible_length() -> None:
    with pytest.raises(ValueError, match="1 to 12 digits"):
        CodeEntry(EN, 0.0, 0)


@pytest.mark.parametrize("language", ["en", "ko"])
def test_patient_code_phrases_are_in_both_locales_with_the_same_placeholders(language: str) -> None:
    locale = load_locale(language)
    for key, template in EN.phrases.items():
        if key.startswith("code_"):
            assert set(re.findall(r"{(\w+)}", locale.phrases[key])) == set(re.findall(r"{(\w+)}", template)), key


def test_patient_code_the_clinics_list_is_read_and_every_bad_line_named(tmp_path: Path) -> None:
    from coach.errors import InputFileError
    from coach.spec.codes import load_codes

    good = tmp_path / "codes.txt"
    good.write_text("# the clinic's codes\n1234\n\n5678  # a comment\n", encoding="utf-8")
    assert load_codes(good, 4) == {"1234", "5678"}
    for body, needle in [
        ("1234\n12a4\n", "codes.txt:2: 12a4 is not a code"),
        ("1234\n123\n", "codes.txt:2: code of 3 digits; this station's codes have 4"),
        ("# nothing\n", "codes.txt:0: no codes in it"),
        ("1234\n\u0661\u0662\u0663\u0664\n", "codes.txt:2:"),  # Arabic-Indic digits are not the digits a person presses
    ]:
        good.write_text(body, encoding="utf-8")
        with pytest.raises(InputFileError, match=re.escape(needle)):
            load_codes(good, 4)
    with pytest.raises(InputFileError, match="is a directory"):
        load_codes(tmp_path, 4)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(InputFileError):
        load_codes(fifo, 4)  # refused at once, never a hang


# --- at the kiosk ------------------------------------------------------------------------------


def _station(tmp_path: Path, inputs: list[Any], known: frozenset[str] | None) -> tuple[Kiosk, list[str | None], FakeSpeaker, str]:
    from conftest import SMALL_PIR, write_routine

    routine = load_routine(write_routine(tmp_path, SMALL_PIR))
    clock = FakeClock()
    speaker = FakeSpeaker()
    stream = io.StringIO()
    opened: list[str | None] = []

    def for_person(code: str | None) -> PersonParts:
        def journal() -> MemoryJournal:
            opened.append(code)
            return MemoryJournal()

        return journal, None

    kiosk = Kiosk(
        [routine], EN, clock, speaker, Feed(clock, scripted=inputs), MemoryJournal, EventSink(stream),
        lambda r: SessionSettings(red_flag_screen=False), KioskTimes(menu_answer_seconds=10, abandon_seconds=60),
        Notifier(address=""), patient_codes=PatientCodes(4, known), for_person=for_person,
    )  # fmt: skip
    kiosk.run(max_sessions=2)
    return kiosk, opened, speaker, stream.getvalue()


def test_patient_code_each_person_at_the_station_gets_their_own_journal_and_hears_nothing_of_another(tmp_path: Path) -> None:
    from conftest import cmd, rating

    first = [cmd(1, "start"), *(rating(2 + i, d) for i, d in enumerate((1, 2, 3, 4))), cmd(6, "yes"), cmd(7, "start")]
    second = [cmd(400, "start"), *(rating(401 + i, d) for i, d in enumerate((5, 6, 7, 8))), cmd(405, "yes"), cmd(406, "start")]
    kiosk, opened, speaker, events = _station(tmp_path, first + second, frozenset({"1234", "5678"}))
    assert opened == ["1234", "5678"] and len(kiosk.sessions) == 2
    after_first = [say.text for t, say in speaker.spoken if t >= 400]
    assert EN.say("code_readback", code="5, 6, 7, 8") in after_first
    assert not any("1, 2, 3, 4" in text or "1234" in text for text in after_first)
    assert "1234" not in events and "5678" not in events  # the event stream never carries a code
    assert EN.say("kiosk_greeting") in after_first  # woken, greeted, then asked


def test_patient_code_an_unknown_code_twice_runs_the_session_anonymous(tmp_path: Path) -> None:
    from conftest import cmd, rating

    wrong = [cmd(1, "start"), *(rating(2 + i, 9) for i in range(4)), cmd(6, "yes")]
    again = [*(rating(7 + i, 8) for i in range(4)), cmd(11, "yes"), cmd(12, "start")]
    kiosk, opened, speaker, events = _station(tmp_path, wrong + again, frozenset({"1234"}))
    assert opened == [None] and kiosk.sessions
    assert EN.say("code_unknown", n=4) in speaker.texts and EN.say("code_anonymous") in speaker.texts
    assert '"status": "anonymous"' in events


def test_patient_code_at_a_real_kiosk_each_code_has_its_own_sessions_and_programme(coach_here: Any, tmp_path: Path) -> None:
    import json
    import sqlite3

    state = tmp_path / "state"
    config = tmp_path / "config.yaml"
    config.write_text("session:\n  red_flag_screen: false\nkiosk:\n  patient_code_digits: 4\n", encoding="utf-8")
    start = coach_here("--config", str(config), "programme", "start", "lumbar-6-weeks", "--state-dir", str(state),
                       "--as-of", "2026-03-02", "--profile", "1234")  # fmt: skip
    assert start.returncode == 0, start.stderr
    script = tmp_path / "in.txt"
    first = "1 start\n2 rating 1\n3 rating 2\n4 rating 3\n5 rating 4\n6 yes\n7 rating 2\n"
    second = "3000 start\n3001 rating 5\n3002 rating 6\n3003 rating 7\n3004 rating 8\n3005 yes\n3006 rating 1\n"
    script.write_text(first + second, encoding="utf-8")
    ran = coach_here("--config", str(config), "kiosk", "--simulate", "--as-of", "2026-03-02", "--state-dir", str(state),
                     "--input-script", str(script), "--max-sessions", "2", "--events", "-")  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    events = [json.loads(line) for line in ran.stdout.splitlines()]
    menus = [e["text"] for e in events if e["type"] == "say" and e["phase"] == "menu" and e["text"].startswith("1: ")]
    assert menus[0].startswith("1: Your programme today") and not menus[1].startswith("1: Your programme today")
    assert [e["status"] for e in events if e["type"] == "code"] == ["confirmed", "confirmed"]
    conn = sqlite3.connect(state / "coach.db")
    profiles = [row[0] for row in conn.execute("SELECT profile FROM sessions ORDER BY id")]
    conn.close()
    assert profiles == ["1234", "5678"]
    assert "1234" not in ran.stdout and "5678" not in ran.stdout


def test_patient_code_a_list_without_a_length_is_refused_in_the_config(tmp_path: Path) -> None:
    from coach.errors import ConfigError
    from coach.spec.config import load_settings

    bad = tmp_path / "bad.yaml"
    bad.write_text("kiosk:\n  patient_codes_file: /etc/coach/codes.txt\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(bad)
    assert caught.value.problems == [f"{bad}:2: patient_codes_file: needs kiosk.patient_code_digits (how many digits a code has)"]


def test_patient_code_a_log_the_kiosk_cannot_use_is_said_once_for_the_station_not_once_a_person(
    coach_here: Any, tmp_path: Path
) -> None:
    import sqlite3

    from coach.log.store import SqliteJournal

    state = tmp_path / "state"
    SqliteJournal(state).close()
    conn = sqlite3.connect(state / "coach.db")
    conn.execute("PRAGMA user_version = 99")  # written by a newer coach: left alone, the kiosk runs without logging
    conn.close()
    config = tmp_path / "config.yaml"
    config.write_text("session:\n  red_flag_screen: false\nkiosk:\n  patient_code_digits: 1\n", encoding="utf-8")
    script = tmp_path / "in.txt"
    script.write_text("1 start\n2 rating 1\n3 yes\n4 start\n8 stop\n400 start\n401 rating 2\n402 yes\n403 start\n407 stop\n",
                      encoding="utf-8")  # fmt: skip
    ran = coach_here("--config", str(config), "kiosk", "--simulate", "--state-dir", str(state), "--input-script", str(script),
                     "--max-sessions", "2", "--events", "-")  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    said = [line for line in ran.stderr.splitlines() if "newer coach" in line]
    assert len(said) == 1, ran.stderr
