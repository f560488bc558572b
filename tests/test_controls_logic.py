"""The pure parts of the controls, on exact times: gestures from edges, what they mean, the light table."""

from __future__ import annotations

import pytest

from coach.controls.gestures import DOWN, HOLD, HOLD_RELEASE, LONG_HOLD, OK, PRESS, STEP, UP, ButtonTracker, Gesture
from coach.controls.layouts import COUNT_GAP_SECONDS, Dial, OneButton, main_button
from coach.controls.light import BREATHE, FAST_BLINK, OFF, ON, SLOW_BLINK, pattern_for
from coach.controls.phrases import Phrases
from coach.run.inputs import Input
from coach.spec.locale import Locale, load_locale


def tracker() -> ButtonTracker:
    return ButtonTracker(OK, bounce=0.03, hold=1.0, long_hold=3.0)


def test_controls_tracker_press_reports_its_duration_on_release() -> None:
    t = tracker()
    assert t.edge(True, 10.0) == []
    assert t.deadline() == 11.0
    assert t.edge(False, 10.25) == [Gesture(PRESS, OK, 10.25, 0.25)]
    assert t.deadline() is None


def test_controls_tracker_hold_and_long_hold_come_at_exact_times_while_down() -> None:
    t = tracker()
    t.edge(True, 10.0)
    assert t.tick(10.999) == []
    assert t.tick(11.5) == [Gesture(HOLD, OK, 11.0, 1.0)]
    assert t.deadline() == 13.0
    assert t.tick(20.0) == [Gesture(LONG_HOLD, OK, 13.0, 3.0)]
    assert t.deadline() is None
    assert t.edge(False, 21.0) == []  # let go after a long hold: nothing more


def test_controls_tracker_a_late_tick_reports_hold_then_long_hold_in_order() -> None:
    t = tracker()
    t.edge(True, 0.0)
    assert [g.kind for g in t.tick(5.0)] == [HOLD, LONG_HOLD]


def test_controls_tracker_release_after_hold_is_a_hold_release() -> None:
    t = tracker()
    t.edge(True, 0.0)
    t.tick(1.0)
    assert t.edge(False, 1.6) == [Gesture(HOLD_RELEASE, OK, 1.6, 1.6)]


def test_controls_tracker_chatter_is_settled_at_the_end_of_the_window() -> None:
    t = tracker()
    t.edge(True, 0.0)
    t.edge(False, 0.01)
    t.edge(True, 0.02)
    t.edge(False, 0.025)  # the button really is up now
    assert t.deadline() == pytest.approx(0.03)
    assert t.tick(0.029) == []
    assert t.tick(0.03) == [Gesture(PRESS, OK, 0.03, 0.03)]
    assert t.tick(5.0) == []


def test_controls_main_button_means_the_same_in_every_layout() -> None:
    press = {"idle": "start", "intro": "next", "exercise": "next", "paused": "resume"}
    hold = {"intro": "pause", "exercise": "pause", "pain-check": "pause", "confirm": "pause"}
    long_hold = {s: "stop" for s in ("idle", "intro", "exercise", "pain-check", "confirm", "paused")}
    for state in ("idle", "intro", "exercise", "pain-check", "confirm", "paused", "summary", "ended"):
        for kind, table in ((PRESS, press), (HOLD, hold), (LONG_HOLD, long_hold), (HOLD_RELEASE, {})):
            name = table.get(state)
            assert main_button(kind, state) == ([Input("command", name, "button")] if name else []), (state, kind)


def test_controls_one_button_hold_threshold_in_a_pain_check_waits_for_the_release() -> None:
    layout = OneButton(Phrases(load_locale("en")))
    layout.set_state("pain-check")
    assert layout.gesture(Gesture(HOLD, OK, 1.0)) == []
    assert layout.gesture(Gesture(HOLD_RELEASE, OK, 1.4)) == [Input("announce", "zero. Press again to confirm.", "button")]
    assert layout.deadline() == pytest.approx(1.4 + 8.0)


def test_controls_one_button_count_deadline_follows_the_last_press() -> None:
    layout = OneButton(Phrases(load_locale("en")))
    layout.set_state("pain-check")
    layout.gesture(Gesture(PRESS, OK, 5.0))
    layout.gesture(Gesture(PRESS, OK, 5.6))
    assert layout.deadline() == pytest.approx(5.6 + COUNT_GAP_SECONDS)
    assert layout.tick(5.6 + COUNT_GAP_SECONDS) == [Input("announce", "two. Press again to confirm.", "button")]


def test_controls_dial_ok_in_the_voice_read_back_is_yes_but_a_chosen_value_wins() -> None:
    dial = Dial(Phrases(load_locale("en")), encoder=True)
    dial.set_state("confirm")
    assert dial.gesture(Gesture(PRESS, OK, 1.0)) == [Input("command", "yes", "button")]
    dial.gesture(Gesture(STEP, UP, 2.0))
    dial.gesture(Gesture(STEP, UP, 2.1))
    assert dial.gesture(Gesture(PRESS, OK, 2.2)) == [Input("rating", 2, "button")]


def test_controls_dial_hold_on_up_or_down_does_nothing() -> None:
    dial = Dial(Phrases(load_locale("en")))
    dial.set_state("exercise")
    assert dial.gesture(Gesture(HOLD, UP, 1.0)) == []
    assert dial.gesture(Gesture(LONG_HOLD, DOWN, 3.0)) == []
    assert dial.deadline() is None


def _locale_without_phrases() -> Locale:
    numbers: dict[int, tuple[str, ...]] = {n: (f"n{n}",) for n in range(11)}
    return Locale("xx", {}, {}, numbers, {}, (), "xx.yaml", {})


def test_controls_a_language_without_control_phrases_says_the_number_word_alone() -> None:
    phrases = Phrases(_locale_without_phrases())
    layout = OneButton(phrases)
    assert layout.set_state("pain-check") == []  # no hint in a language that has none
    layout.gesture(Gesture(PRESS, OK, 0.0))
    assert layout.tick(COUNT_GAP_SECONDS) == [Input("announce", "n1", "button")]
    assert layout.tick(100.0) == []  # the lapse says nothing either


def test_controls_number_words_come_from_the_locale() -> None:
    phrases = Phrases(load_locale("en"))
    assert [phrases.number(n) for n in (0, 3, 10)] == ["zero", "three", "ten"]


def test_controls_light_pattern_per_state() -> None:
    states = ("idle", "intro", "exercise", "summary", "pain-check", "confirm", "paused", "ended")
    table = {state: pattern_for(state) for state in states}
    assert table == {
        "idle": BREATHE,
        "intro": ON,
        "exercise": ON,
        "summary": ON,
        "pain-check": FAST_BLINK,
        "confirm": FAST_BLINK,
        "paused": SLOW_BLINK,
        "ended": OFF,
    }
    assert SLOW_BLINK.on_seconds > FAST_BLINK.on_seconds
    assert pattern_for("something-new") == ON
    assert pattern_for("menu") == FAST_BLINK  # the kiosk menu waits for a number, like a pain check
