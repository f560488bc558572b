"""The session engine, driven through the real runner on a fake clock: exact due times."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import SMALL_PIR, cmd, heard, rating, side_check_nos, simulate, write_routine

from coach.core.messages import Command, CommandName, Rating, Say, Tick
from coach.core.records import RatingRecorded, Record
from coach.core.script import Block, compile_script
from coach.core.session import ACK_GAP, RESUME_LEAD, Session, SessionSettings
from coach.run.inputs import Input
from coach.spec.locale import load_locale
from coach.spec.routine import Routine, estimate_speech_seconds, load_routine

WITH_CHECKS = SMALL_PIR.replace("pain_checks: {before: false, after: false}", "pain_checks: {before: true, after: true}")


def _exercise_start(routine: Routine) -> float:
    script = compile_script(routine, load_locale("en"))
    intro = script.steps[0]
    assert isinstance(intro, Block)
    return intro.duration


def _block(routine: Routine) -> Block:
    return compile_script(routine, load_locale("en")).exercise_blocks[0]


def test_session_every_say_is_on_its_due_time_in_simulation(small_pir: Routine) -> None:
    run = simulate(small_pir)
    assert run.status == "completed"
    says = run.says()
    assert says and all(e["t"] == e["due"] for e in says)
    start = _exercise_start(small_pir)
    block = _block(small_pir)
    expected = [start + c.offset for c in block.cues]
    got = [e["due"] for e in says if e.get("exercise") == "ql"]
    assert got == expected


def test_session_events_have_type_and_time_and_end_last(small_pir: Routine) -> None:
    run = simulate(small_pir)
    assert all("type" in e and isinstance(e["t"], float | int) for e in run.events)
    assert run.events[-1] == {"type": "end", "t": run.events[-1]["t"], "status": "completed"}
    assert [e["t"] for e in run.events] == sorted(e["t"] for e in run.events)
    contract = next(e for e in run.says("contract"))
    assert {"due", "text", "exercise", "phase", "rep", "side"} <= contract.keys()


def test_session_pause_freezes_and_resume_restarts_the_repetition(small_pir: Routine) -> None:
    start = _exercise_start(small_pir)
    block = _block(small_pir)
    rep2 = next(r for r in block.restarts if r.rep == 2 and r.side == "left")
    pause_at = start + rep2.offset + 6.0  # mid-contraction of repetition 2
    run = simulate(small_pir, [cmd(pause_at, "pause"), cmd(pause_at + 30, "resume")])
    assert run.status == "completed"
    said = run.says()
    during_pause = [e for e in said if pause_at < e["t"] < pause_at + 30]
    assert during_pause == []
    resumed = run.first_say("Resuming")
    assert resumed["t"] == pause_at + 30
    again = [e for e in said if e["t"] > pause_at + 30 and e["phase"] == "setup"][0]
    assert again["text"] == "Repetition 2 of 2." and again["side"] == "left"
    assert again["due"] == pause_at + 30 + RESUME_LEAD
    # Everything after the restart keeps its spacing from the restart point.
    after = [e for e in said if e["t"] >= again["t"] and e.get("exercise") == "ql"]
    assert [e["due"] - again["due"] for e in after] == [c.offset - rep2.offset for c in block.cues if c.offset >= rep2.offset]
    assert [e["type"] for e in run.events if e["type"] in ("pause", "resume")] == ["pause", "resume"]


def test_session_next_skips_the_exercise_and_records_it(small_pir: Routine) -> None:
    start = _exercise_start(small_pir)
    run = simulate(small_pir, [cmd(start + 20, "next")])
    exercise = run.of("exercise")[0]
    assert exercise["status"] == "skipped" and exercise["exercise"] == "ql"
    assert not [e for e in run.says() if e["t"] > start + 20 and e.get("exercise") == "ql"]
    summary = run.first_say("Session complete")
    assert summary["t"] == start + 20 + ACK_GAP
    assert "0 of 1" in summary["text"]


def test_session_repeat_restarts_the_exercise_from_its_setup(small_pir: Routine) -> None:
    start = _exercise_start(small_pir)
    block = _block(small_pir)
    run = simulate(small_pir, [cmd(start + 20, "repeat")])
    setups = [e for e in run.says("setup") if e["text"].startswith("Side release.")]
    assert [e["due"] for e in setups] == [start, start + 20 + ACK_GAP]
    assert run.of("exercise")[0]["status"] == "done"
    assert run.first_say("Session complete")["t"] == start + 20 + ACK_GAP + block.duration


def test_session_stop_ends_with_a_summary(small_pir: Routine) -> None:
    start = _exercise_start(small_pir)
    run = simulate(small_pir, [cmd(start + 12, "stop")])
    assert run.status == "stopped"
    assert run.first_say("Stopping the session")["t"] == start + 12
    assert run.of("exercise")[0]["status"] == "stopped"
    assert run.of("session_end")[0]["status"] == "stopped"


def test_session_help_is_said_and_the_timeline_goes_on(small_pir: Routine) -> None:
    plain = simulate(small_pir)
    helped = simulate(small_pir, [cmd(30, "help")])
    assert helped.first_say("Say pause to pause")["t"] == 30
    assert [e["due"] for e in helped.says() if "Say pause" not in e["text"]] == [e["due"] for e in plain.says()]


def test_session_yes_and_no_outside_a_question_do_nothing(small_pir: Routine) -> None:
    plain = simulate(small_pir)
    run = simulate(small_pir, [cmd(30, "yes"), cmd(31, "no"), cmd(32, "start"), cmd(33, "resume")])
    assert [e["text"] for e in run.says()] == [e["text"] for e in plain.says()]


def test_session_prompt_reasks_once_then_records_no_answer(tmp_path: Path) -> None:
    routine = load_routine(write_routine(tmp_path, WITH_CHECKS))
    run = simulate(routine)
    prompts = run.says("prompt")
    first = _exercise_start(routine)
    texts = [e["text"] for e in prompts[:3]]
    assert texts[0].startswith("Before we begin")
    assert texts[1].startswith("I did not catch that")
    assert texts[2] == "No answer. We will go on."
    # Waits: the prompt's speaking time (18 words: 8 s) plus 8 s to answer; the re-ask (14 words: 6 s) plus 8 s.
    assert [e["t"] - first for e in prompts[:3]] == [0.0, 16.0, 30.0]
    no_answers = [e for e in run.of("rating") if e["status"] == "no-answer"]
    assert [e["moment"] for e in no_answers] == ["before", "after"]
    assert run.status == "completed"


def test_session_direct_rating_is_logged_before_it_is_acknowledged(tmp_path: Path) -> None:
    routine = load_routine(write_routine(tmp_path, WITH_CHECKS))
    first = _exercise_start(routine)
    run = simulate(routine, [rating(first + 3, 2)])
    types = [(e["type"], e.get("text", e.get("kind"))) for e in run.events]
    logged = types.index(("logged", "rating"))
    ack = types.index(("say", "Got it, 2."))
    assert logged < ack
    assert run.of("rating")[0] == {
        "type": "rating",
        "t": first + 3,
        "at": first + 3,
        "value": 2,
        "status": "answered",
        "source": "script",
        "moment": "before",
        "confirmed": "direct",
    }
    setup = next(e for e in run.says("setup"))
    assert setup["t"] == first + 3 + ACK_GAP


def test_session_heard_rating_is_confirmed_before_it_counts(tmp_path: Path) -> None:
    routine = load_routine(write_routine(tmp_path, WITH_CHECKS))
    first = _exercise_start(routine)
    run = simulate(
        routine, [heard(first + 3, "about a three"), heard(first + 5, "no"), heard(first + 7, "four"), heard(first + 9, "yes")]
    )
    texts = [e["text"] for e in run.says("prompt")]
    assert texts[:5] == [
        "Before we begin: how is your pain right now, from zero, no pain, to ten, the worst imaginable?",
        "I heard 3. Say yes, or tell me the number again.",
        "All right. Tell me the number again.",
        "I heard 4. Say yes, or tell me the number again.",
        "Got it, 4.",
    ]
    answered = [e for e in run.of("rating") if e["status"] == "answered"]
    assert [(e["value"], e["confirmed"], e["source"]) for e in answered] == [(4, "yes", "heard")]


def test_session_heard_rating_auto_accepts_after_silence(tmp_path: Path) -> None:
    routine = load_routine(write_routine(tmp_path, WITH_CHECKS))
    first = _exercise_start(routine)
    run = simulate(routine, [heard(first + 3, "two")], SessionSettings(auto_accept_seconds=4.0))
    ack = run.first_say("Got it, 2.")
    # "I heard 2. Say yes, or tell me the number again." is 11 words: 5 s to say, then 4 s of silence.
    assert ack["t"] == first + 3 + 5 + 4
    assert run.of("rating")[0]["confirmed"] == "auto"


def test_session_unheard_words_do_nothing(tmp_path: Path) -> None:
    routine = load_routine(write_routine(tmp_path, WITH_CHECKS))
    first = _exercise_start(routine)
    run = simulate(routine, [heard(first + 3, "what a lovely day")])
    assert run.of("unrecognised")[0]["text"] == "what a lovely day"
    assert not [e for e in run.of("rating") if e["status"] == "answered"]


def test_session_unprompted_rating_mid_exercise_resumes_the_repetition(small_pir: Routine) -> None:
    start = _exercise_start(small_pir)
    block = _block(small_pir)
    rep1 = next(r for r in block.restarts if r.rep == 1)
    at = start + rep1.offset + 5
    run = simulate(small_pir, [rating(at, 3, "keyboard")])
    assert run.first_say("Got it, 3.")["t"] == at
    assert run.of("rating")[0]["moment"] == "unprompted" and run.of("rating")[0]["exercise"] == "ql"
    again = [e for e in run.says("setup") if e["text"] == "Left side."]
    assert [e["due"] for e in again] == [start + rep1.offset, at + ACK_GAP + RESUME_LEAD]


def test_session_pause_while_a_heard_rating_waits_for_yes_reads_it_back_again_on_resume(small_pir: Routine) -> None:
    start = _exercise_start(small_pir)
    block = _block(small_pir)
    rep1 = next(r for r in block.restarts if r.rep == 1)
    at = start + rep1.offset + 5
    run = simulate(small_pir, [heard(at, "three"), cmd(at + 1, "pause"), heard(at + 5, "no"), cmd(at + 10, "resume")])
    assert run.status == "completed"
    prompts = [(e["t"], e["text"]) for e in run.says("prompt")]
    assert prompts[:3] == [
        (at, "I heard 3. Say yes, or tell me the number again."),
        (at + 11.5, "I heard 3. Say yes, or tell me the number again."),  # "no" while paused changed nothing
        (at + 11.5 + 5 + 4, "Got it, 3."),
    ]
    assert [(e["value"], e["confirmed"]) for e in run.of("rating")] == [(3, "auto")]
    # Then the exercise goes on from the repetition the rating cut, not from the pause.
    again = [e["due"] for e in run.says("setup") if e["text"] == "Left side."]
    assert again == [start + rep1.offset, at + 11.5 + 5 + 4 + ACK_GAP + RESUME_LEAD]
    assert run.of("exercise")[0]["status"] == "done"


def test_session_a_high_heard_rating_confirmed_after_a_pause_still_stops_the_exercise(small_pir: Routine) -> None:
    start = _exercise_start(small_pir)
    block = _block(small_pir)
    rep1 = next(r for r in block.restarts if r.rep == 1)
    at = start + rep1.offset + 5
    run = simulate(small_pir, [heard(at, "seven"), cmd(at + 1, "pause"), cmd(at + 10, "resume"), heard(at + 14, "yes")])
    [safety] = run.of("safety")
    assert (safety["rating"], safety["action"]) == (7, "stop-exercise")
    [exercise] = run.of("exercise")
    assert exercise["status"] == "stopped-for-pain"
    assert exercise["at"] == at  # where the rating interrupted it, not where the pause did


@pytest.mark.parametrize(("command", "status"), [("stop", "stopped"), ("next", "skipped")])
@pytest.mark.parametrize("paused", [False, True])
def test_session_stop_or_next_during_a_heard_ratings_read_back_records_the_exercise(
    small_pir: Routine, command: str, status: str, paused: bool
) -> None:
    start = _exercise_start(small_pir)
    block = _block(small_pir)
    at = start + next(r for r in block.restarts if r.rep == 1).offset + 5
    inputs = [heard(at, "three")] + ([cmd(at + 1, "pause")] if paused else []) + [cmd(at + 2, command)]
    run = simulate(small_pir, inputs)
    [exercise] = run.of("exercise")[:1]
    assert (exercise["exercise"], exercise["status"], exercise["at"]) == ("ql", status, at)


def test_session_pause_at_a_pain_check_asks_the_same_question_on_resume(tmp_path: Path) -> None:
    routine = load_routine(write_routine(tmp_path, WITH_CHECKS))
    first = _exercise_start(routine)
    run = simulate(
        routine, [heard(first + 3, "four"), cmd(first + 4, "pause"), cmd(first + 8, "resume"), heard(first + 15, "yes")]
    )
    texts = [e["text"] for e in run.says("prompt")]
    assert texts[:4] == [
        "Before we begin: how is your pain right now, from zero, no pain, to ten, the worst imaginable?",
        "I heard 4. Say yes, or tell me the number again.",
        "I heard 4. Say yes, or tell me the number again.",
        "Got it, 4.",
    ]
    answered = [e for e in run.of("rating") if e["status"] == "answered"]
    assert [(e["value"], e["moment"], e["confirmed"]) for e in answered][0] == (4, "before", "yes")


def test_session_pain_above_five_stops_the_exercise_and_moves_on(small_pir: Routine) -> None:
    start = _exercise_start(small_pir)
    run = simulate(small_pir, [rating(start + 15, 6)])
    safety = run.of("safety")[0]
    assert (safety["rule"], safety["action"]) == ("stop_exercise_above", "stop-exercise")
    assert "above 5" in run.first_say("Your pain is 6")["text"]
    assert run.of("exercise")[0]["status"] == "stopped-for-pain"
    assert run.status == "completed"


def test_session_pain_of_eight_ends_the_session(small_pir: Routine) -> None:
    start = _exercise_start(small_pir)
    run = simulate(small_pir, [rating(start + 15, 8)])
    assert run.status == "stopped-for-pain"
    assert run.of("safety")[0]["rule"] == "end_session_at"
    assert "contact your clinician" in run.first_say("Your pain is 8")["text"]
    assert run.events[-1]["status"] == "stopped-for-pain"


def test_session_rise_of_three_over_the_first_rating_ends_the_session(tmp_path: Path) -> None:
    routine = load_routine(write_routine(tmp_path, WITH_CHECKS))
    first = _exercise_start(routine)
    run = simulate(routine, [rating(first + 2, 2), rating(first + 40, 5)])
    assert run.status == "stopped-for-pain"
    safety = run.of("safety")[0]
    assert safety["rule"] == "end_session_rise" and "from 2 to 5" in safety["reason"]
    assert "risen from 2 to 5" in run.first_say("Your pain has risen")["text"]


def test_session_high_rating_at_a_check_between_exercises_cautions(tmp_path: Path) -> None:
    routine = load_routine(write_routine(tmp_path, WITH_CHECKS))
    run = simulate(routine, [rating(_exercise_start(routine) + 2, 6)])
    assert run.of("safety")[0]["action"] == "caution"
    assert run.of("exercise")[0]["status"] == "done"


def test_session_routine_safety_overrides_apply(tmp_path: Path) -> None:
    body = SMALL_PIR + "safety:\n  stop_exercise_above: 3\n"
    routine = load_routine(write_routine(tmp_path, body))
    from coach.spec.settings import SafetyRules

    rules = SafetyRules().with_overrides(routine.safety)
    start = _exercise_start(routine)
    # The 4 comes after a first rating of 2: a first rating is the baseline, and stops only above 5.
    run = simulate(routine, [rating(start + 5, 2), rating(start + 15, 4)], SessionSettings(rules=rules))
    assert run.of("safety")[0]["action"] == "stop-exercise"


def test_session_waits_idle_until_started(small_pir: Routine) -> None:
    locale = load_locale("en")
    session = Session(compile_script(small_pir, locale), locale)
    assert session.next_deadline() is None
    assert session.handle(Tick(100.0)) == []
    actions = session.handle(Command(100.0, "start"))
    assert isinstance(actions[0], Record) and actions[0].kind == "session"
    assert session.next_deadline() == 100.0
    first = session.handle(Tick(100.0))
    assert isinstance(first[0], Say) and first[0].due == 100.0 and first[0].text.startswith("Welcome")


def test_session_late_tick_does_not_shift_later_cues(small_pir: Routine) -> None:
    locale = load_locale("en")
    session = Session(compile_script(small_pir, locale), locale)
    session.handle(Command(0.0, "start"))
    # A runner that wakes 0.7 s late every time still gets every cue with its own due time.
    dues = []
    while not session.ended:
        deadline = session.next_deadline()
        assert deadline is not None
        dues += [a.due for a in session.handle(Tick(deadline + 0.7)) if isinstance(a, Say)]
    on_time = simulate(small_pir)
    assert dues == [e["due"] for e in on_time.says()]


def test_session_ratings_out_of_range_or_when_idle_are_ignored(small_pir: Routine) -> None:
    locale = load_locale("en")
    session = Session(compile_script(small_pir, locale), locale)
    assert session.handle(Rating(0.0, 5)) == []
    session.handle(Command(0.0, "start"))
    assert session.handle(Rating(1.0, 11)) == []


def test_session_an_answer_in_progress_holds_the_prompt_open(tmp_path: Path) -> None:
    routine = load_routine(write_routine(tmp_path, WITH_CHECKS))
    first = _exercise_start(routine)
    # Button presses announce "three, press again to confirm" at 14 s: the re-ask (due at 16 s) waits.
    announce = Input("announce", "three. Press again to confirm.", "button", first + 14)
    run = simulate(routine, [announce, rating(first + 21, 3, "button")])
    texts = [e["text"] for e in run.says("prompt")]
    assert texts[:2] == [
        "Before we begin: how is your pain right now, from zero, no pain, to ten, the worst imaginable?",
        "Got it, 3.",
    ]
    assert run.first_say("three. Press again")["t"] == first + 14
    assert run.of("rating")[0]["value"] == 3


def test_session_pause_in_the_introduction_resumes_the_sentence_it_cut(small_pir: Routine) -> None:
    intro = compile_script(small_pir, load_locale("en")).steps[0]
    assert isinstance(intro, Block)
    third = intro.cues[2]  # the disclaimer
    run = simulate(small_pir, [cmd(third.offset + 1, "pause"), cmd(third.offset + 10, "resume")])
    after = [e["text"] for e in run.says("intro") if e["t"] > third.offset + 10]
    assert after[0] == third.text
    assert not any(text.startswith("Welcome") for text in after)


def test_session_every_command_name_has_a_handler(small_pir: Routine) -> None:
    en = load_locale("en")
    session = Session(compile_script(small_pir, en), en)
    assert set(session._commands) == set(CommandName)  # an explicit table, not a method looked up by name
    session.handle(Command(0.0, "start"))
    for at, name in enumerate(CommandName, start=1):  # none is missing in a running session either
        session.handle(Command(float(at), name))
    assert session.state.value == "summary"  # "stop" led to the summary; "abandon" after it changes nothing


def test_session_a_misspelt_command_is_an_error_not_silently_ignored(small_pir: Routine) -> None:
    en = load_locale("en")
    session = Session(compile_script(small_pir, en), en)
    with pytest.raises(ValueError, match="pasue"):
        session.handle(Command(0.0, "pasue"))


def test_session_a_rest_break_is_recorded_as_a_rest_and_not_counted_as_an_exercise() -> None:
    from coach.spec.routine import RestBreak, find_routine

    routine = load_routine(find_routine("sciatica-gentle"))
    run = simulate(routine, side_check_nos(routine))  # "no" to the nerve glide's check, which stops it unanswered
    results = [e for e in run.events if e["type"] == "exercise"]
    rests = {i for i, e in enumerate(routine.exercises) if isinstance(e, RestBreak)}
    assert rests and {e["index"] for e in results if e.get("rest")} == rests
    assert all("rest" not in e for e in results if e["index"] not in rests)
    (end,) = [e for e in run.events if e["type"] == "session_end"]
    assert end["exercises_done"] == end["exercises_total"] == len(routine.exercises) - len(rests)


# --- a heard rating that waits for "yes" is never lost (issue 14) --------------------------------

TWO = (
    SMALL_PIR
    + """\
  - kind: hold
    id: plank
    name: Plank
    setup: Lie face down.
    seconds: 10
    cue: Hold it.
"""
)
"""Two exercises: a rule that ends the session after the first has something left to stop."""


def _read_back(n: int) -> str:
    return f"I heard {n}. Say yes, or tell me the number again."


def _heard_at(routine: Routine) -> float:
    """Five seconds into the first repetition of the first exercise."""
    return _exercise_start(routine) + next(r for r in _block(routine).restarts if r.rep == 1).offset + 5


def _auto_accepted(read_back_at: float, n: int) -> float:
    return read_back_at + estimate_speech_seconds(_read_back(n)) + SessionSettings().auto_accept_seconds


@pytest.mark.parametrize("paused", [False, True])
def test_session_next_while_a_heard_rating_waits_reads_it_back_first_and_a_high_one_still_ends_the_session(
    tmp_path: Path, paused: bool
) -> None:
    routine = load_routine(write_routine(tmp_path, TWO))
    at = _heard_at(routine)
    inputs = [heard(at, "nine")] + ([cmd(at + 1, "pause")] if paused else []) + [cmd(at + 2, "next")]
    run = simulate(routine, inputs)
    assert run.first_say("Skipping")["t"] == at + 2
    assert [e["t"] for e in run.says() if e["text"] == _read_back(9)] == [at, at + 2 + ACK_GAP]
    deadline = _auto_accepted(at + 2 + ACK_GAP, 9)
    assert [(e["value"], e["confirmed"], e["at"]) for e in run.of("rating")] == [(9, "auto", deadline)]
    [safety] = run.of("safety")
    assert (safety["action"], safety["rating"], safety["at"]) == ("end-session", 9, deadline)
    assert [(e["exercise"], e["status"], e["at"]) for e in run.of("exercise")] == [("ql", "skipped", at)]
    assert run.status == "stopped-for-pain" and not [e for e in run.says() if e.get("exercise") == "plank"]


def test_session_next_while_a_heard_rating_waits_goes_on_once_it_is_confirmed(tmp_path: Path) -> None:
    routine = load_routine(write_routine(tmp_path, TWO))
    plank = compile_script(routine, load_locale("en")).exercise_blocks[1]
    at = _heard_at(routine)
    run = simulate(routine, [heard(at, "three"), cmd(at + 2, "next"), heard(at + 7, "yes")])
    assert [(e["value"], e["confirmed"], e["at"]) for e in run.of("rating")] == [(3, "yes", at + 7)]
    assert run.first_say("Got it, 3.")["t"] == at + 7
    assert [e["due"] for e in run.says() if e.get("exercise") == "plank"][0] == at + 7 + ACK_GAP + plank.cues[0].offset
    assert [(e["exercise"], e["status"]) for e in run.of("exercise")] == [("ql", "skipped"), ("plank", "done")]


def test_session_yes_before_the_read_back_after_next_answers_it_and_the_read_back_is_not_said(tmp_path: Path) -> None:
    routine = load_routine(write_routine(tmp_path, TWO))
    at = _heard_at(routine)
    run = simulate(routine, [heard(at, "three"), cmd(at + 2, "next"), heard(at + 3, "yes")])
    assert [(e["value"], e["confirmed"], e["at"]) for e in run.of("rating")] == [(3, "yes", at + 3)]
    assert [e["t"] for e in run.says() if e["text"] == _read_back(3)] == [at]


def test_session_repeat_while_a_heard_rating_waits_reads_it_back_then_repeats(small_pir: Routine) -> None:
    at, block = _heard_at(small_pir), _block(small_pir)
    run = simulate(small_pir, [heard(at, "four"), cmd(at + 2, "repeat"), heard(at + 8, "yes")])
    assert run.first_say("Let us do Side release again")["t"] == at + 2
    assert run.of("repeat")[0]["at"] == at + 2
    assert [e["t"] for e in run.says() if e["text"] == _read_back(4)] == [at, at + 2 + ACK_GAP]
    assert [(e["value"], e["confirmed"], e["at"]) for e in run.of("rating")] == [(4, "yes", at + 8)]
    first = block.cues[0]
    starts = [e["due"] for e in run.says() if e["text"] == first.text and e.get("exercise") == "ql"]
    assert starts == [_exercise_start(small_pir) + first.offset, at + 8 + ACK_GAP + first.offset]
    assert [e["status"] for e in run.of("exercise")] == ["done"]


def test_session_repeat_while_a_high_heard_rating_waits_stops_the_exercise_instead(tmp_path: Path) -> None:
    routine = load_routine(write_routine(tmp_path, TWO))
    at, first = _heard_at(routine), _block(routine).cues[0]
    run = simulate(routine, [heard(at, "seven"), cmd(at + 2, "repeat"), heard(at + 8, "yes")])
    [safety] = run.of("safety")
    assert (safety["action"], safety["rating"], safety["at"]) == ("stop-exercise", 7, at + 8)
    assert [(e["exercise"], e["status"], e["at"]) for e in run.of("exercise")][0] == ("ql", "stopped-for-pain", at)
    starts = [e["due"] for e in run.says() if e["text"] == first.text and e.get("exercise") == "ql"]
    assert starts == [_exercise_start(routine) + first.offset]  # not repeated
    assert [e["status"] for e in run.of("exercise")][1:] == ["done"]  # the plank


@pytest.mark.parametrize("paused", [False, True])
def test_session_stop_while_a_high_heard_rating_waits_records_it_unconfirmed_and_cautions(
    small_pir: Routine, paused: bool
) -> None:
    at = _heard_at(small_pir)
    run = simulate(small_pir, [heard(at, "nine")] + ([cmd(at + 1, "pause")] if paused else []) + [cmd(at + 2, "stop")])
    assert run.status == "stopped"
    [kept] = run.of("rating")
    assert {k: kept[k] for k in ("at", "value", "status", "source", "moment", "exercise", "confirmed")} == {
        "at": at + 2, "value": 9, "status": "answered", "source": "heard", "moment": "unprompted", "exercise": "ql",
        "confirmed": "unconfirmed",
    }  # fmt: skip
    [safety] = run.of("safety")
    assert (safety["rule"], safety["action"], safety["rating"], safety["at"]) == ("end_session_at", "caution", 9, at + 2)
    assert safety["reason"].endswith("heard, not confirmed")
    stopping = run.first_say("Stopping the session")
    caution = run.first_say("Your pain is 9, above 5. Go gently")
    assert stopping["t"] == at + 2 and caution["due"] == at + 2 + estimate_speech_seconds(stopping["text"]) + 0.5
    assert [e["type"] for e in run.events if e["type"] in ("exercise", "rating", "safety", "stop")] == [
        "exercise", "rating", "safety", "stop",
    ]  # fmt: skip


def test_session_stop_while_a_moderate_heard_rating_waits_keeps_it_with_no_caution(small_pir: Routine) -> None:
    at = _heard_at(small_pir)
    run = simulate(small_pir, [heard(at, "three"), cmd(at + 2, "stop")])
    assert [(e["value"], e["confirmed"], e["at"]) for e in run.of("rating")] == [(3, "unconfirmed", at + 2)]
    assert run.of("safety") == [] and not [e for e in run.says() if e["phase"] == "safety" or "Your pain" in e["text"]]


def test_session_help_while_a_heard_rating_waits_reads_it_back_after_the_help(small_pir: Routine) -> None:
    at = _heard_at(small_pir)
    run = simulate(small_pir, [heard(at, "three"), cmd(at + 1, "help")])
    help_ = run.first_say("Say pause to pause")
    again = at + 1 + estimate_speech_seconds(help_["text"]) + 0.5
    assert help_["t"] == at + 1
    assert [e["t"] for e in run.says() if e["text"] == _read_back(3)] == [at, again]
    assert [(e["value"], e["confirmed"], e["at"]) for e in run.of("rating")] == [(3, "auto", _auto_accepted(again, 3))]


def test_session_resume_or_start_while_a_heard_rating_waits_changes_nothing(small_pir: Routine) -> None:
    at = _heard_at(small_pir)
    run = simulate(small_pir, [heard(at, "three"), cmd(at + 1, "resume"), cmd(at + 2, "start")])
    assert [(e["value"], e["confirmed"], e["at"]) for e in run.of("rating")] == [(3, "auto", _auto_accepted(at, 3))]


def test_session_abort_while_a_heard_rating_waits_records_it_unconfirmed_and_says_nothing(small_pir: Routine) -> None:
    en = load_locale("en")
    session = Session(compile_script(small_pir, en), en)
    at = _heard_at(small_pir)
    session.handle(Command(0.0, "start"))
    session.handle(Tick(at))
    session.handle(Rating(at, 9, "heard"))
    out = session.abort(at + 1, "interrupted")
    records = [a for a in out if isinstance(a, Record)]
    assert records[0] == RatingRecorded(at + 1, 9, "answered", "heard", "unprompted", "ql", "unconfirmed")
    kinds = [(r.kind, getattr(r, "action", None)) for r in records]
    assert kinds == [("rating", None), ("safety", "caution"), ("session_end", None)]
    assert not [a for a in out if isinstance(a, Say)]
