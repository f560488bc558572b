"""The nerve glide's check after its first side (issue 14, shared/PROTOCOL.md: "stop if tingling spreads or
stays"): has pain or tingling moved further down the leg? Yes ends the session with the red-flag advice; no
goes on to the other side, recorded; silence is asked once more, then stops the glide and the session goes on."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import cmd, side_check_nos, simulate, write_routine

from coach.controls.layouts import OneButton
from coach.controls.phrases import Phrases
from coach.core.script import CHECK, Block, compile_script
from coach.errors import RoutineError
from coach.spec.locale import load_locale
from coach.spec.routine import Routine, estimate_speech_seconds, find_routine, load_routine

EN = load_locale("en")
QUESTION = EN.say("side_check_question")

GLIDE = """\
id: glide
title: Glide
introduction: Lie down.
pain_checks: {before: false, after: false}
exercises:
  - kind: reps
    id: glide
    name: Nerve glide
    setup: Knee and ankle move together.
    setup_seconds: 4
    sides: both
    side_check: true
    side_switch_seconds: 10
    repetitions: 2
    tempo:
      - {name: straighten, seconds: 3, cue: Straighten}
      - {name: bend, seconds: 3, cue: Bend}
    easier:
      repetitions: 1
  - kind: hold
    id: after
    name: Rest hold
    setup: Lie still.
    seconds: 10
"""


@pytest.fixture
def glide(tmp_path: Path) -> Routine:
    return load_routine(write_routine(tmp_path, GLIDE))


def _block(routine: Routine) -> Block:
    block = compile_script(routine, EN).steps[1]
    assert isinstance(block, Block)
    return block


def _asked_at(routine: Routine) -> float:
    """When the check is asked in a session with no pain checks: the end of the first side."""
    intro = compile_script(routine, EN).steps[0]
    assert isinstance(intro, Block)
    check = next(c for c in _block(routine).cues if c.kind == CHECK)
    return intro.duration + check.offset


def test_side_check_is_a_question_where_the_first_side_ends_and_a_restart_after_it(glide: Routine) -> None:
    block = _block(glide)
    [check] = [c for c in block.cues if c.kind == CHECK]
    switch = next(c for c in block.cues if c.side == "right" and c.phase == "setup")
    assert (check.text, check.side, check.offset) == (QUESTION, "left", switch.offset)
    assert block.restart_before(check.offset).offset == check.offset  # a "no" goes on from the side change
    first, second = block.easier
    assert [c.kind for c in first.cues].count(CHECK) == 1  # the easier form from the start asks it too
    assert [c.kind for c in second.cues].count(CHECK) == 0  # from the second side on, the first is behind


def test_side_check_no_goes_on_to_the_other_side_recorded(glide: Routine) -> None:
    asked = _asked_at(glide)
    run = simulate(glide, [cmd(asked + 2, "no")])
    assert run.first_say(QUESTION)["t"] == asked and run.first_say(QUESTION)["phase"] == "screen"
    clear = run.first_say(EN.say("side_check_clear"))
    assert clear["t"] == asked + 2
    switch = next(e for e in run.says() if e.get("side") == "right" and e["phase"] == "setup")
    assert switch["t"] == asked + 2 + estimate_speech_seconds(clear["text"]) + 0.5 + 3.0  # RESUME_LEAD
    assert not [e for e in run.says() if asked < e["t"] < asked + 2]  # the glide waited for the answer
    assert [(e["rule"], e["action"], e["reason"]) for e in run.of("safety")] == [
        ("side-check", "continue", "not further down the leg")
    ]
    assert [(e["exercise"], e["status"], e["repetitions_started"]) for e in run.of("exercise")] == [
        ("glide", "done", 4), ("after", "done", 1),
    ]  # fmt: skip
    assert run.status == "completed"


def test_side_check_yes_ends_the_session_with_the_advice(glide: Routine) -> None:
    asked = _asked_at(glide)
    run = simulate(glide, [cmd(asked + 2, "yes")])
    assert run.status == "red-flag"
    assert run.first_say(EN.say("red_flag_advice"))["t"] == asked + 2
    [safety] = run.of("safety")
    assert (safety["rule"], safety["action"]) == ("red-flag", "end-session") and "further down the leg" in safety["reason"]
    assert [(e["exercise"], e["status"]) for e in run.of("exercise")] == [("glide", "stopped")]


def test_side_check_silence_is_asked_again_then_stops_the_glide_and_goes_on(glide: Routine) -> None:
    asked = _asked_at(glide)
    run = simulate(glide)
    again = asked + estimate_speech_seconds(QUESTION) + 8.0  # the default answer_seconds
    assert [e["t"] for e in run.says() if QUESTION in e["text"]] == [asked, again]
    [safety] = run.of("safety")
    assert (safety["rule"], safety["action"], safety["reason"]) == ("side-check", "stop-exercise", "no answer")
    results = [(e["exercise"], e["status"], e["at"]) for e in run.of("exercise")]
    assert results[0] == ("glide", "stopped", asked) and results[1][:2] == ("after", "done")
    assert not [e for e in run.says() if e.get("side") == "right"]  # the other side never starts
    assert run.status == "completed"


def test_side_check_a_pause_in_the_side_change_does_not_ask_again(glide: Routine) -> None:
    asked = _asked_at(glide)
    answered = asked + 2
    back = answered + estimate_speech_seconds(EN.say("side_check_clear")) + 0.5 + 3.0
    run = simulate(glide, [cmd(answered, "no"), cmd(back + 1, "pause"), cmd(back + 4, "resume")])
    assert [e["t"] for e in run.says() if QUESTION in e["text"]] == [asked]
    assert [e["status"] for e in run.of("exercise")] == ["done", "done"]


def test_side_check_needs_both_sides(tmp_path: Path) -> None:
    body = GLIDE.replace("    sides: both\n", "    sides: left\n")
    with pytest.raises(RoutineError) as caught:
        load_routine(write_routine(tmp_path, body))
    assert "r.yaml:12: side_check: a check after the first side needs 'sides: both'" in str(caught.value)


def test_side_check_the_shipped_nerve_glide_asks_it_and_answered_no_completes() -> None:
    routine = load_routine(find_routine("sciatica-gentle"))
    glide = next(e for e in routine.exercises if e.id == "nerve-glide")
    assert glide.side_check and glide.easier is not None and glide.easier.side_check
    run = simulate(routine, side_check_nos(routine))
    assert [e["status"] for e in run.of("exercise") if e["exercise"] == "nerve-glide"] == ["done"]
    assert run.status == "completed"


def test_side_check_phrases_are_in_both_locales_and_the_speech_cache(glide: Routine) -> None:
    for language in ("en", "ko"):
        locale = load_locale(language)
        for key in ("side_check_question", "side_check_clear", "side_check_no_answer", "hint_screen"):
            assert locale.say(key)
    from coach.core.session import Session

    said = Session(compile_script(glide, EN), EN).phrases()
    assert {EN.say("side_check_clear"), EN.say("side_check_no_answer")} <= said


def test_side_check_button_users_hear_press_for_yes_hold_for_no_once_a_session() -> None:
    layout = OneButton(Phrases(EN))
    hint = EN.say("hint_screen")
    spoken = [i.value for i in layout.set_state("screen")]
    assert len(spoken) == 1 and hint in str(spoken[0])
    layout.set_state("exercise")
    assert layout.set_state("screen") == []  # a later question (a symptom, the side check): said once is enough
    layout.set_state("idle")  # the next session (the next person at a kiosk) hears it again
    assert len(layout.set_state("screen")) == 1
