"""The kiosk's idle wait and menu as a pure machine: events in, actions out, exact deadlines.

Driven by hand (what it asks for at each moment), then by the real runner on a fake clock.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from conftest import SMALL_PIR, cmd, rating, write_routine

from coach.core.menu import AwaitQuiet, Chosen, Menu, Woke
from coach.core.messages import Command, Rating, Say, StateChanged, Tick
from coach.log.journal import MemoryJournal
from coach.run.clock import FakeClock
from coach.run.eventlog import EventSink
from coach.run.inputs import Feed, Input
from coach.run.ports import NoListener
from coach.run.runner import Runner
from coach.spec.locale import Locale, load_locale
from coach.spec.routine import Routine, load_routine
from coach.testing.speaker import FakeSpeaker, TimedSpeaker

REASK = "Which one would you like? Say or press a number."
NO_CHOICE = "No problem. I will be here when you are ready."


@pytest.fixture
def two(tmp_path: Path) -> list[Routine]:
    first = load_routine(write_routine(tmp_path, SMALL_PIR, "a.yaml"))
    other = SMALL_PIR.replace("id: small", "id: other").replace("title: Small", "title: Other")
    return [first, load_routine(write_routine(tmp_path, other, "b.yaml"))]


def _texts(actions: list[Any]) -> list[str]:
    return [a.text for a in actions if isinstance(a, Say)]


def _woken(menu: Menu, at: float = 1.0) -> list[Any]:
    menu.handle(Tick(menu.start))
    return menu.handle(Command(at, "start", "button"))


def test_menu_shows_idle_at_its_start_and_only_a_wake_command_wakes_it(two: list[Routine], en: Locale) -> None:
    menu = Menu(two, en, at=5.0, answer_seconds=10)
    assert menu.next_deadline() == 5.0
    assert menu.handle(Tick(5.0)) == [StateChanged("idle", 5.0)]
    assert menu.next_deadline() is None
    for ignored in (Command(6, "stop"), Command(6, "pause"), Command(6, "help"), Rating(6, 2), Tick(7)):
        assert menu.handle(ignored) == []
    woken = menu.handle(Command(8.0, "resume", "heard"))
    assert woken[:2] == [Woke(8.0, "heard"), StateChanged("menu", 8.0)]
    assert _texts(woken) == [
        "Hello. Let us do some gentle exercises for your back.",
        "1: Small, about 2 minutes.",
        "2: Other, about 2 minutes.",
        "Say or press the number you want, or say start for the first one.",
    ]
    assert all(a.due == 8.0 and a.phase == "menu" and a.kind == "instruction" for a in woken if isinstance(a, Say))
    assert woken[-1] == AwaitQuiet()
    assert menu.next_deadline() is None  # the window opens when the runner says the speech is over


@pytest.mark.parametrize("word", ["start", "next", "yes", "resume"])
def test_menu_every_wake_command_wakes_it(two: list[Routine], en: Locale, word: str) -> None:
    menu = Menu(two, en, at=0.0)
    menu.handle(Tick(0.0))
    assert menu.handle(Command(3.0, word, "keyboard"))[0] == Woke(3.0, "keyboard")


def test_menu_answer_window_counts_from_the_end_of_speech(two: list[Routine], en: Locale) -> None:
    menu = Menu(two, en, at=0.0, answer_seconds=10)
    _woken(menu)
    assert menu.handle(Tick(13.25)) == []  # the runner: all of it has been said at 13.25
    assert menu.next_deadline() == 23.25
    reask = menu.handle(Tick(23.25))
    assert reask == [Say(REASK, 23.25, "menu", "instruction"), AwaitQuiet()]
    assert menu.next_deadline() is None
    menu.handle(Tick(26.0))
    assert menu.next_deadline() == 36.0
    assert menu.handle(Tick(36.0)) == [Say(NO_CHOICE, 36.0, "menu", "instruction")]
    assert menu.ended and menu.chosen is None and menu.next_deadline() is None
    assert menu.handle(Rating(37.0, 1)) == []


def test_menu_with_a_speaker_lead_says_each_phrase_lead_after_it_is_decided(two: list[Routine], en: Locale) -> None:
    menu = Menu(two, en, at=0.0, answer_seconds=10, lead=0.25)
    woken = _woken(menu, at=1.0)
    assert {a.due for a in woken if isinstance(a, Say)} == {1.25}
    menu.handle(Tick(13.25))
    assert menu.next_deadline() == 23.5  # the runner hands it over 0.25 s early: it wakes at 23.25, when the window closes
    assert menu.handle(Tick(23.5))[0] == Say(REASK, 23.5, "menu", "instruction")
    chosen = menu.handle(Rating(24.0, 2, "button"))
    assert chosen == [Chosen(24.0, 2, "other"), Say("Other. Let us begin.", 24.25, "menu", "instruction")]


def test_menu_answers_count_while_the_menu_is_still_being_said(two: list[Routine], en: Locale) -> None:
    menu = Menu(two, en, at=0.0)
    _woken(menu)
    assert menu.handle(Rating(2.0, 2, "heard"))[0] == Chosen(2.0, 2, "other")
    assert menu.ended and menu.chosen is two[1]


@pytest.mark.parametrize("word", ["start", "yes"])
def test_menu_start_or_yes_picks_the_first(two: list[Routine], en: Locale, word: str) -> None:
    menu = Menu(two, en, at=0.0)
    _woken(menu)
    menu.handle(Tick(1.0))
    assert menu.handle(Command(4.0, word))[0] == Chosen(4.0, 1, "small")
    assert menu.chosen is two[0]


def test_menu_ignores_a_number_that_is_not_on_it_and_other_commands(two: list[Routine], en: Locale) -> None:
    menu = Menu(two, en, at=0.0, answer_seconds=10)
    _woken(menu)
    menu.handle(Tick(1.0))
    for ignored in (Rating(2, 0), Rating(2, 3), Command(2, "pause"), Command(2, "next"), Command(2, "help")):
        assert menu.handle(ignored) == []
    assert menu.next_deadline() == 11.0 and not menu.ended


def test_menu_stop_is_taken_as_no_answer_now(two: list[Routine], en: Locale) -> None:
    """As the kiosk always did: a first stop asks once more at once, a second goes back to idle."""
    menu = Menu(two, en, at=0.0, answer_seconds=10)
    _woken(menu)
    assert menu.handle(Command(3.0, "stop")) == [Say(REASK, 3.0, "menu", "instruction"), AwaitQuiet()]
    assert menu.handle(Command(4.0, "stop")) == [Say(NO_CHOICE, 4.0, "menu", "instruction")]
    assert menu.ended and menu.chosen is None


def test_menu_abort_ends_the_round_with_nothing_said(two: list[Routine], en: Locale) -> None:
    menu = Menu(two, en, at=0.0)
    _woken(menu)
    assert menu.abort(2.0, "interrupted") == [] and menu.ended and menu.chosen is None


def test_menu_needs_a_routine(en: Locale) -> None:
    with pytest.raises(ValueError):
        Menu([], en, at=0.0)


# --- driven by the runner --------------------------------------------------------------------




class GateLog(NoListener):
    def __init__(self) -> None:
        self.gates: list[tuple[float, float]] = []

    def speaking(self, seconds: float, delay: float = 0.0) -> None:
        self.gates.append((seconds, delay))


def _drive(routines: list[Routine], inputs: list[Input], speaker: FakeSpeaker, listener: NoListener | None = None) -> Any:
    clock = FakeClock()
    stream = io.StringIO()
    locale = load_locale("en")
    menu = Menu(routines, locale, at=0.0, answer_seconds=10, lead=speaker.lead)
    runner = Runner(
        menu,
        clock,
        speaker,
        MemoryJournal(),
        EventSink(stream),
        locale,
        Feed(clock, scripted=inputs),
        listener=listener or NoListener(),
        narrate=False,
    )
    runner.run(autostart=False)
    return menu, clock, [json.loads(line) for line in stream.getvalue().splitlines()]


def test_menu_on_the_runner_waits_from_the_real_end_of_speech(two: list[Routine]) -> None:
    speaker, gates = TimedSpeaker(), GateLog()
    menu, clock, events = _drive(two, [cmd(1, "start")], speaker, gates)
    # Four phrases from 1.25, 2 s each: over at 9.25; no answer by 19.25: asked again (said 19.5, over 21.5); none by 31.5.
    assert [(t, say.text) for t, say in speaker.spoken][-2:] == [(19.25, REASK), (31.5, NO_CHOICE)]
    says = [e for e in events if e["type"] == "say"]
    assert [(e["t"], e["due"]) for e in says] == [
        (1.25, 1.25),
        (3.25, 1.25),
        (5.25, 1.25),
        (7.25, 1.25),
        (19.5, 19.5),
        (31.75, 31.75),
    ]
    assert gates.gates[:2] == [(2.0, 0.25), (2.0, 2.25)]  # the microphone is closed while each phrase plays
    assert [e["type"] for e in events if e["type"] != "say"] == ["state", "wake", "state"]
    assert menu.ended and menu.chosen is None and clock.now() == 31.5


def test_menu_on_the_runner_emits_wake_and_menu_and_nothing_for_other_inputs(two: list[Routine]) -> None:
    inputs = [cmd(1, "pause"), Input("heard", "blah blah", "heard", 2), cmd(3, "next"), rating(5, 7), rating(6, 2)]
    speaker = FakeSpeaker()
    menu, _, events = _drive(two, inputs, speaker)
    others = [(e["type"], e["t"]) for e in events if e["type"] != "say"]
    assert others == [("state", 0.0), ("wake", 3.0), ("state", 3.0), ("menu", 6.0)]
    assert next(e for e in events if e["type"] == "menu") == {"type": "menu", "t": 6.0, "choice": 2, "routine": "other"}
    assert speaker.interrupts == []  # a menu cuts nothing short
    assert menu.chosen is two[1]


def test_menu_on_the_runner_ends_quietly_when_no_input_can_come(two: list[Routine]) -> None:
    menu, clock, events = _drive(two, [], FakeSpeaker())
    assert events == [{"type": "state", "t": 0.0, "state": "idle"}]
    assert not menu.ended and clock.now() == 0.0
