"""The rating dialogues by button, end to end: mock pins -> Controls -> inbox -> real Runner and Session.

The runner runs on a FakeClock; the controls on their own fake clock (``ticker=False``). A
"person" is a status display placed after the controls: when the session enters a state, it does
with the pins what someone on the mat would do, synchronously, and the runner then takes what
the controls put in its inbox, exactly as it would from gpiozero's threads.
"""

from __future__ import annotations

import io
import json
import queue
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gpiozero.pins.mock import MockFactory

from coach.controls import Controls, build_controls
from coach.core.script import compile_script
from coach.core.session import Session
from coach.log.journal import MemoryJournal
from coach.run.clock import FakeClock
from coach.run.eventlog import EventSink
from coach.run.inputs import Feed, Input
from coach.run.runner import Runner
from coach.spec.config import ControlSettings
from coach.spec.locale import load_locale
from coach.spec.routine import load_routine
from coach.testing.speaker import FakeSpeaker

ROUTINE = Path(__file__).resolve().parent.parent / "routines" / "quick-start.yaml"
BUTTON, DOWN_PIN, UP_PIN, ENC_A, ENC_B = 17, 22, 27, 5, 6


class GuardedClock(FakeClock):
    """A FakeClock that fails the test instead of spinning when nothing can arrive any more."""

    def __init__(self) -> None:
        super().__init__()
        self.idle_waits = 0

    def wait(self, deadline: float | None, inbox: queue.Queue[Any]) -> Any:
        item = super().wait(deadline, inbox)
        if item is None and deadline is None:
            self.idle_waits += 1
            assert self.idle_waits < 50, "the session waits for an input the controls never sent"
        return item


class Person:
    """Acts on the pins when the session enters a state: ``plan[state]`` is a list of acts, one per visit.

    Also the controls' clock (``person()`` is the time on it): it moves only as the person waits.
    """

    def __init__(self, factory: MockFactory, plan: dict[str, list[Callable[[Person], None]]]) -> None:
        self.factory = factory
        self.plan = plan
        self.t = 0.0
        self.controls: Controls | None = None
        self.inbox: queue.Queue[Input] | None = None

    def __call__(self) -> float:
        return self.t

    def show_state(self, state: str) -> None:
        acts = self.plan.get(state)
        if acts:
            acts.pop(0)(self)

    def wait(self, seconds: float) -> None:
        assert self.controls is not None
        self.t += seconds
        self.controls.tick()

    def tap(self, pin: int = BUTTON, times: int = 1) -> None:
        for _ in range(times):
            self.factory.pin(pin).drive_low()
            self.wait(0.1)
            self.factory.pin(pin).drive_high()
            self.wait(0.2)

    def hold(self, seconds: float) -> None:
        self.factory.pin(BUTTON).drive_low()
        self.wait(seconds)
        self.factory.pin(BUTTON).drive_high()
        self.wait(0.2)

    def turn(self, clicks: int) -> None:
        a, b = self.factory.pin(ENC_A), self.factory.pin(ENC_B)
        first, second = (a, b) if clicks > 0 else (b, a)
        for _ in range(abs(clicks)):
            first.drive_low()
            second.drive_low()
            first.drive_high()
            second.drive_high()
            self.wait(0.05)


def run_session(
    factory: MockFactory, layout: str, plan: dict[str, list[Callable[[Person], None]]], first: Callable[[Person], None]
) -> list[dict[str, Any]]:
    """Run quick-start with ``layout``; ``first`` is what the person does before anything (e.g. press start)."""
    locale = load_locale("en")
    routine = load_routine(ROUTINE)
    session = Session(compile_script(routine, locale), locale)
    person = Person(factory, plan)
    controls, reason = build_controls(ControlSettings(layout=layout, motion_pin=None), "en", clock=person, ticker=False)
    assert controls is not None, reason
    person.controls = controls
    stream = io.StringIO()
    clock, inbox = GuardedClock(), queue.Queue[Input]()
    parts = (session, clock, FakeSpeaker(), MemoryJournal(), EventSink(stream), locale)
    runner = Runner(*parts, Feed(clock, inbox, live=True), displays=[controls, person])
    person.inbox = inbox
    controls.start(inbox)
    try:
        first(person)
        status = runner.run(autostart=False)
    finally:
        controls.close()
    events = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert status == "completed", [e for e in events if e["type"] in ("end", "notice")]
    return events


def ratings(events: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [(e["value"], e["source"], e["moment"], e.get("confirmed")) for e in events if e["type"] == "rating"]


def said_before(events: list[dict[str, Any]], text: str, value: int) -> bool:
    """``text`` was said by the controls before the rating ``value`` was recorded."""
    spoken = next(i for i, e in enumerate(events) if e["type"] == "say" and e["text"] == text and e["phase"] == "controls")
    recorded = next(i for i, e in enumerate(events) if e["type"] == "rating" and e["value"] == value)
    return spoken < recorded


def count_three(p: Person) -> None:
    p.tap(times=3)
    p.wait(1.5)
    p.tap()


def hold_for_zero(p: Person) -> None:
    p.hold(1.3)
    p.tap()


def hold_to_pause(p: Person) -> None:
    p.hold(1.2)


def press(p: Person) -> None:
    p.tap()


def test_controls_session_one_button_count_pause_resume_and_zero(mock_factory: MockFactory) -> None:
    events = run_session(
        mock_factory,
        "one-button",
        {"pain-check": [count_three, hold_for_zero], "exercise": [hold_to_pause], "paused": [press]},
        first=press,
    )
    assert ratings(events) == [(3, "button", "before", "direct"), (0, "button", "after", "direct")]
    assert said_before(events, "three. Press again to confirm.", 3)
    assert said_before(events, "zero. Press again to confirm.", 0)
    inputs = [(e["kind"], e["value"]) for e in events if e["type"] == "input" and e["source"] == "button"]
    assert inputs == [("command", "start"), ("rating", 3), ("command", "pause"), ("command", "resume"), ("rating", 0)]
    assert [e["type"] for e in events if e["type"] in ("pause", "resume")] == ["pause", "resume"]
    hint = "Press once for each point, then wait. Hold the button for zero."
    assert [e["text"] for e in events if e["type"] == "say" and e["text"] == hint] == [hint]
    assert any(e["type"] == "say" and e["text"] == "Your pain was 3 at the start and 0 at the end." for e in events)


def test_controls_session_three_buttons_step_and_ok(mock_factory: MockFactory) -> None:
    def up_four(p: Person) -> None:
        p.tap(UP_PIN, times=4)
        p.wait(0.4)
        p.tap(BUTTON)

    def ok_twice(p: Person) -> None:
        p.tap(BUTTON)
        p.tap(BUTTON)

    events = run_session(mock_factory, "three-buttons", {"pain-check": [up_four, ok_twice]}, first=press)
    assert ratings(events) == [(4, "button", "before", "direct"), (0, "button", "after", "direct")]
    assert said_before(events, "four. Press OK to confirm.", 4)
    assert said_before(events, "zero. Press OK to confirm.", 0)


def test_controls_session_encoder_turn_and_push(mock_factory: MockFactory) -> None:
    def turn_two(p: Person) -> None:
        p.turn(2)
        p.wait(0.4)
        p.tap(BUTTON)

    def turn_five_back_one(p: Person) -> None:
        p.turn(5)
        p.turn(-1)
        p.wait(0.4)
        p.tap(BUTTON)

    events = run_session(mock_factory, "encoder", {"pain-check": [turn_two, turn_five_back_one]}, first=press)
    assert ratings(events) == [(2, "button", "before", "direct"), (4, "button", "after", "direct")]
    assert said_before(events, "two. Push the knob to confirm.", 2)
    assert said_before(events, "four. Push the knob to confirm.", 4)


def test_controls_session_ok_confirms_a_heard_rating(mock_factory: MockFactory) -> None:
    def speak_six(p: Person) -> None:
        assert p.inbox is not None
        p.inbox.put(Input("heard", "my pain is six", "heard"))  # as the voice input would

    def ok_twice(p: Person) -> None:
        p.tap(BUTTON)
        p.tap(BUTTON)

    events = run_session(mock_factory, "three-buttons", {"pain-check": [speak_six, ok_twice], "confirm": [press]}, first=press)
    assert ratings(events) == [(6, "heard", "before", "yes"), (0, "button", "after", "direct")]
