"""The pain rules (coach.core.safety): baseline-aware stops, absolute ends, and rules that always can fire.

Exact cases, after the pain-monitoring model (shared/PROTOCOL.md): above 5 is unacceptable whatever
the person's usual pain; a stricter routine threshold catches a rise over the session's first rating.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import SMALL_PIR, rating, simulate, write_routine

from coach.core.safety import CAUTION, END_SESSION, STOP_EXERCISE, evaluate, stop_threshold
from coach.core.session import SessionSettings
from coach.spec.routine import load_routine
from coach.spec.settings import SafetyRules, setting_fields

SCIATICA = SafetyRules(stop_exercise_above=4)
"""The sciatica routine's rules: stop above 4, the rest as configured by default."""
STOP_ONLY = SafetyRules(stop_exercise_above=4, end_session_at=10, end_session_rise=9)
"""Stop above 4 with the end rules as loose as they go, to see the stop rule on its own."""


def _action(value: int, first: int | None, rules: SafetyRules = STOP_ONLY, in_exercise: bool = True) -> str | None:
    decision = evaluate(value, first, rules, in_exercise)
    return decision.action if decision is not None else None


# --- baseline-aware stops ---------------------------------------------------------------------


def test_safety_a_pain_no_higher_than_the_first_rating_goes_on_up_to_five() -> None:
    """Usual pain 5, stop above 4: a 5 goes on (the issue's first pelvic tilt), a 6 stops."""
    assert _action(5, first=5) is None
    assert _action(6, first=5) == STOP_EXERCISE
    assert _action(5, first=5, rules=SCIATICA) is None
    assert _action(6, first=5, rules=SCIATICA) == STOP_EXERCISE


def test_safety_a_rise_above_the_first_rating_and_the_threshold_stops() -> None:
    """First 2, stop above 4: a 5 rose above the first and is above 4, so it stops; a 4 goes on. With
    the sciatica routine's full rules that 5 is also a rise of 3, which ends the session (the stronger)."""
    assert _action(5, first=2) == STOP_EXERCISE
    assert _action(4, first=2) is None
    assert _action(5, first=2, rules=SCIATICA) == END_SESSION
    assert _action(5, first=3, rules=SCIATICA) == STOP_EXERCISE


def test_safety_the_first_rating_is_the_baseline() -> None:
    """No first rating yet: this one is it, so nothing has risen; it stops only above 5 (the model's
    limit), however strict the routine."""
    assert _action(5, first=None) is None
    assert _action(6, first=None) == STOP_EXERCISE
    assert _action(5, first=None, rules=SCIATICA) is None
    reason = evaluate(6, None, SCIATICA, True)
    assert reason is not None and reason.reason == "pain 6 is above 4 and above 5, too much even as the first rating"


@pytest.mark.parametrize(
    ("first", "value", "stops"),
    [
        (4, 4, False),  # back at the first rating: not a rise
        (4, 5, True),  # a rise above the first and above 4
        (5, 5, False),
        (7, 5, False),  # below a high first rating, and not above 5
        (7, 6, True),  # above 5: unacceptable whatever the first rating
        (0, 5, True),
        (3, 4, False),  # not above the threshold at all
    ],
)
def test_safety_stop_rule_table(first: int, value: int, stops: bool) -> None:
    assert (_action(value, first) == STOP_EXERCISE) is stops


def test_safety_between_exercises_the_caution_follows_the_same_rule() -> None:
    assert _action(5, first=5, in_exercise=False) is None
    assert _action(5, first=None, in_exercise=False) is None
    assert _action(6, first=5, in_exercise=False) == CAUTION
    assert _action(5, first=2, in_exercise=False) == CAUTION
    assert _action(5, first=None, rules=SCIATICA, in_exercise=False) is None  # the "before" check of a usual 5


@pytest.mark.parametrize(("first", "threshold"), [(None, 5), (0, 4), (2, 4), (4, 4), (5, 5), (9, 5)])
def test_safety_stop_threshold_is_lifted_by_the_first_rating_but_never_above_five(first: int | None, threshold: int) -> None:
    assert stop_threshold(first, SCIATICA) == threshold


def test_safety_a_configured_threshold_above_five_is_the_clinics_and_stays() -> None:
    """The baseline only ever lets a pain go on; it never stops one the configured rule lets through."""
    rules = SafetyRules(stop_exercise_above=7, end_session_at=9, end_session_rise=9)
    assert stop_threshold(None, rules) == stop_threshold(9, rules) == 7
    assert _action(7, first=2, rules=rules) is None
    assert _action(8, first=8, rules=rules) == STOP_EXERCISE


def test_safety_the_default_rules_decide_as_before() -> None:
    """With the default threshold (5) the baseline changes nothing: above 5 stops, 5 goes on."""
    rules = SafetyRules()
    for first in (None, *range(11)):
        for value in range(11):
            decision = evaluate(value, first, rules, True)
            if value >= 8 or (first is not None and value - first >= 3):
                assert decision is not None and decision.action == END_SESSION
            else:
                assert (decision is not None) is (value > 5), (first, value)


def test_safety_the_reason_says_what_lifted_the_threshold() -> None:
    lifted = evaluate(6, 5, SCIATICA, True)
    assert lifted is not None and lifted.reason == "pain 6 is above 4 and above the session's first rating, 5"
    high = evaluate(6, 7, SCIATICA, True)
    assert high is not None and high.reason == "pain 6 is above 4 and above 5, too much whatever the first rating (7)"
    plain = evaluate(5, 2, STOP_ONLY, True)
    assert plain is not None and (plain.reason, plain.limit) == ("pain 5 is above 4", 4)


# --- the end-session rules are unchanged ------------------------------------------------------


@pytest.mark.parametrize(("first", "value"), [(None, 8), (8, 8), (9, 9), (2, 5), (0, 3)])
def test_safety_the_end_session_rules_are_absolute(first: int | None, value: int) -> None:
    """At or above 8, or 3 over the first rating, ends the session in or out of an exercise, even when
    the rating is the first or not above it."""
    assert _action(value, first, rules=SCIATICA) == END_SESSION
    assert _action(value, first, rules=SCIATICA, in_exercise=False) == END_SESSION


# --- through a session ------------------------------------------------------------------------


def test_safety_a_usual_pain_of_five_finishes_the_sciatica_rules(tmp_path: Path) -> None:
    """A routine that stops above 4, a person whose pain is 5 from the first rating: the exercise goes
    on (no safety event, done); a later 6 stops it."""
    routine = load_routine(write_routine(tmp_path, SMALL_PIR + "safety:\n  stop_exercise_above: 4\n"))
    settings = SessionSettings(rules=SafetyRules().with_overrides(routine.safety))
    start = next(e["t"] for e in simulate(routine, settings=settings).of("say") if e["phase"] == "setup")
    steady = simulate(routine, [rating(start + 15, 5), rating(start + 40, 5)], settings)
    assert steady.of("safety") == []
    assert steady.of("exercise")[0]["status"] == "done"
    worse = simulate(routine, [rating(start + 15, 5), rating(start + 40, 6)], settings)
    assert [(e["rule"], e["action"]) for e in worse.of("safety")] == [("stop_exercise_above", "stop-exercise")]
    assert worse.of("exercise")[0]["status"] == "stopped-for-pain"


# --- rules that can always fire ---------------------------------------------------------------


def test_safety_rules_bounds_let_every_rule_fire() -> None:
    """The bounds of each rule keep it able to fire: at either end of them some rating from 0 to 10
    (after some first rating) triggers it, the end rule at its loosest letting the others act."""
    for name, spec in setting_fields(SafetyRules).items():
        for bound in (spec.low, spec.high):
            assert bound is not None
            rules = SafetyRules(**({"end_session_at": 10} | {name: int(bound)}))
            fired = set()
            for first in (None, *range(11)):
                for value in range(11):
                    decision = evaluate(value, first, rules, True)
                    fired |= {decision.rule} if decision is not None else set()
            assert name in fired, (name, bound)


@pytest.mark.parametrize(
    ("name", "never"), [("stop_exercise_above", 9), ("stop_exercise_above", 10), ("end_session_at", 11), ("end_session_rise", 10)]
)
def test_safety_a_rule_that_could_never_fire_is_out_of_bounds(name: str, never: int) -> None:
    """Above 10 no rating goes; a stop above 9 would act only on a 10, and a rise of 10 is 0 to 10: the
    end rule (at most 10) takes a 10 first, whatever it is set to."""
    rules = SafetyRules(**({"end_session_at": 10} | {name: never}))
    for first in (None, *range(11)):
        for value in range(11):
            decision = evaluate(value, first, rules, True)
            assert decision is None or decision.rule != name
    spec = setting_fields(SafetyRules)[name]
    assert spec.high is not None and never > spec.high
