"""Feedback after each exercise of a programme's session (issue 15): "too easy, just right, or too hard?",
answered by voice, buttons or keyboard, recorded, and fed into progression."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import SMALL_PIR, CoachHere, cmd, heard, rating, simulate, write_routine

from coach.core.progression import DaySession, History, Morning, Outcome, decide
from coach.core.script import FEEDBACK_MOMENT, PainCheck, compile_script
from coach.core.words import ParsedAnswer, parse_words
from coach.spec.locale import load_locale
from coach.spec.programme import Programme, find_programme, load_programme
from coach.spec.routine import Routine, estimate_speech_seconds, load_routine

EN = load_locale("en")
TWO = SMALL_PIR + """\
    pain_check: true
  - kind: rest
    id: breather
    name: Breather
    seconds: 10
"""


@pytest.fixture
def asked(tmp_path: Path) -> Routine:
    return replace(load_routine(write_routine(tmp_path, TWO)), feedback=True)


def _question_at(routine: Routine) -> float:
    """When the question is said in a run whose pain check after the exercise is answered at once (see :func:`_run`)."""
    run = simulate(routine, [])
    return next(e["t"] for e in run.says() if e["phase"] == "feedback")


def test_feedback_is_a_step_after_each_exercise_and_its_pain_check_never_after_a_rest(asked: Routine) -> None:
    steps = compile_script(asked, EN).steps
    kinds = [(s.moment, s.exercise) if isinstance(s, PainCheck) else ("block", s.name) for s in steps]
    assert kinds == [("block", "intro"), ("block", "ql"), ("exercise", "ql"), (FEEDBACK_MOMENT, "ql"), ("block", "breather")]
    plain = compile_script(replace(asked, feedback=False), EN).steps
    assert not [s for s in plain if isinstance(s, PainCheck) and s.moment == FEEDBACK_MOMENT]


def test_feedback_said_is_recorded_acknowledged_and_the_session_goes_on(asked: Routine) -> None:
    at = _question_at(asked)
    run = simulate(asked, [heard(at + 2, "too easy")])
    question = next(e for e in run.says() if e["phase"] == "feedback")
    assert question["text"] == EN.say("feedback_question", name="Side release") and question["exercise"] == "ql"
    assert [(e["exercise"], e["answer"], e["at"]) for e in run.of("feedback")] == [("ql", "easy", at + 2)]
    thanks = run.first_say(EN.say("feedback_easy"))
    assert thanks["t"] == at + 2
    breather = next(e for e in run.says() if e.get("exercise") == "breather")
    assert breather["t"] == at + 2 + estimate_speech_seconds(thanks["text"]) + 0.5
    assert [e["state"] for e in run.of("state") if e["t"] <= at][-1] == "feedback"  # buttons count presses in it
    assert run.status == "completed"


def test_feedback_by_count_from_a_button_or_keyboard_but_never_a_spoken_number(asked: Routine) -> None:
    at = _question_at(asked)
    pressed = simulate(asked, [rating(at + 1, 3, "button")])
    assert [e["answer"] for e in pressed.of("feedback")] == ["hard"]
    typed = simulate(asked, [rating(at + 1, 2, "keyboard")])
    assert [e["answer"] for e in typed.of("feedback")] == ["right"]
    spoken = simulate(asked, [rating(at + 1, 3, "heard")])  # a misheard "three" must not mean "too hard"
    assert spoken.of("feedback") == []


def test_feedback_a_pain_said_during_the_question_is_taken_as_the_pain_and_the_session_goes_on(asked: Routine) -> None:
    at = _question_at(asked)
    run = simulate(asked, [heard(at + 1, "nine"), cmd(at + 3, "yes")])
    assert run.first_say("I heard 9")["t"] == at + 1  # read back, as any heard rating
    [nine] = [e for e in run.of("rating") if e["value"] == 9]
    assert (nine["moment"], nine["confirmed"], nine["exercise"]) == ("unprompted", "yes", "ql")
    assert [(e["rule"], e["action"]) for e in run.of("safety")] == [("end_session_at", "end-session")]  # the rules apply
    assert run.of("feedback") == [] and run.status == "stopped-for-pain"  # the breather was still to come
    six = simulate(asked, [heard(at + 1, "six"), cmd(at + 3, "yes")])
    assert [(e["rule"], e["action"]) for e in six.of("safety")] == [("stop_exercise_above", "caution")]
    assert [e["exercise"] for e in six.of("exercise")] == ["ql", "breather"] and six.status == "completed"


def test_feedback_silence_is_asked_again_then_let_go_with_nothing_recorded(asked: Routine) -> None:
    at = _question_at(asked)
    run = simulate(asked)
    again = at + estimate_speech_seconds(EN.say("feedback_question", name="Side release")) + 8.0
    assert [e["t"] for e in run.says() if e["phase"] == "feedback"] == [at, again]
    assert run.of("feedback") == [] and run.status == "completed"


def test_feedback_a_symptom_during_it_is_asked_about_and_no_goes_on_to_what_follows(asked: Routine) -> None:
    at = _question_at(asked)
    run = simulate(asked, [heard(at + 1, "my leg is tingling"), cmd(at + 3, "no")])
    assert run.first_say(EN.say("symptom_question"))["t"] == at + 1
    assert [e["exercise"] for e in run.of("exercise")] == ["ql", "breather"]  # the exercise is not done again
    assert run.status == "completed"


@pytest.mark.parametrize(("language", "words", "value"), [
    ("en", "too easy", "easy"), ("en", "just right", "right"), ("en", "too hard", "hard"),
    ("ko", "너무 쉬워", "easy"), ("ko", "적당", "right"), ("ko", "힘들어", "hard"),
])  # fmt: skip
def test_feedback_words_parse_in_both_languages(language: str, words: str, value: str) -> None:
    assert parse_words(words, load_locale(language)) == ParsedAnswer(value)


@pytest.fixture(scope="module")
def lumbar() -> Programme:
    return load_programme(find_programme("lumbar-6-weeks"))


def _levels_after(programme: Programme, felt: str | None, days: int = 3) -> dict[str, int]:
    start = dt.date(2026, 3, 2)
    history = History(start)
    for n in range(days):
        when = start + dt.timedelta(days=n)
        morning = Morning(when, "same", 2)
        decision = decide(programme, history, when, morning)
        outcomes = {ex: Outcome(2, feedback=felt) for ex in decision.stage.exercises}
        history = History(start, (*history.sessions, DaySession(when, decision.stage.id, outcomes)),
                          (*history.mornings, morning), (*history.changes, *decision.changes))  # fmt: skip
    final = start + dt.timedelta(days=days)
    return decide(programme, history, final, Morning(final, "same", 2)).levels


def test_feedback_too_hard_keeps_an_exercise_where_it_is_and_too_easy_moves_it_up_sooner(lumbar: Programme) -> None:
    assert _levels_after(lumbar, None)["pelvic-tilt"] == 2  # three good days: up one
    assert _levels_after(lumbar, "right")["pelvic-tilt"] == 2
    assert _levels_after(lumbar, "hard")["pelvic-tilt"] == 1  # "too hard" every time: never up
    assert _levels_after(lumbar, "easy", days=2)["pelvic-tilt"] == 2  # two good days, both "too easy"
    assert _levels_after(lumbar, None, days=2)["pelvic-tilt"] == 1


def test_feedback_in_a_programme_session_through_the_cli_lands_in_the_log(coach_here: CoachHere, tmp_path: Path) -> None:
    state = tmp_path / "state"
    assert coach_here("programme", "start", "lumbar-6-weeks", "--state-dir", str(state), "--as-of", "2026-03-02").returncode == 0
    events = tmp_path / "first.jsonl"
    first = coach_here("run", "--simulate", "--as-of", "2026-03-02", "--state-dir", str(state), "--events", str(events))
    assert first.returncode == 0, first.stderr
    seen = [json.loads(line) for line in events.read_text(encoding="utf-8").splitlines()]
    asked = [e for e in seen if e["type"] == "say" and e["phase"] == "feedback" and e["text"].startswith("How was")]
    assert asked and all(e.get("exercise") for e in asked)  # after each exercise of today's routine
    script = tmp_path / "in.txt"
    script.write_text(f"{asked[0]['t'] + 1:g} heard too hard\n", encoding="utf-8")
    again = coach_here("run", "--simulate", "--as-of", "2026-03-03", "--state-dir", str(state), "--input-script", str(script),
                       "--events", str(events))  # fmt: skip
    assert again.returncode == 0, again.stderr
    answered = [json.loads(line) for line in events.read_text(encoding="utf-8").splitlines()]
    assert [(e["exercise"], e["answer"]) for e in answered if e["type"] == "feedback"] == [(asked[0]["exercise"], "hard")]
