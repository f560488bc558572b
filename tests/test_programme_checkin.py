"""The next-morning check-in on its own (issue 15): answers by voice words, by press count or key, silence,
stop; the words join the grammar in both locales; a regressed exercise in the log reads as too much."""

from __future__ import annotations

import datetime as dt

import pytest

from coach.core.checkin import CheckInDialogue
from coach.core.messages import Answer, Command, CommandName, End, Listen, Rating, Say, StateChanged, Symptom, Tick
from coach.core.progression import Morning
from coach.core.records import CheckIn, ExerciseResult, RatingRecorded
from coach.core.script import compile_script
from coach.core.session import Session, SessionSettings
from coach.core.today import Today, TodayPlan
from coach.core.words import ParsedAnswer, ParsedRating, parse_words
from coach.log.programmes import _outcomes
from coach.run.inputs import Input, to_event
from coach.spec.locale import load_locale
from coach.spec.programme import find_programme, load_programme
from coach.spec.routine import Routine, find_routine, load_routine
from coach.voice.grammar import build_vocabulary, locale_phrases

DAY = dt.date(2026, 3, 3)
EN = load_locale("en")


def dialogue() -> CheckInDialogue:
    return CheckInDialogue(EN, DAY, answer_seconds=8.0, programme="lumbar-6-weeks")


def says(actions: list[object]) -> list[tuple[str, str]]:
    return [(a.phase, a.text) for a in actions if isinstance(a, Say)]


def test_checkin_asks_then_rates_and_records() -> None:
    d = dialogue()
    opened = d.start(10.0)
    assert opened.actions[0] == StateChanged("pain-check", 10.0)  # presses count here: 1, 2 or 3
    assert says(opened.actions) == [("checkin", EN.say("checkin_question"))] and Listen("rating") in opened.actions
    answered = d.handle(Answer(12.0, "worse", "voice"))
    assert says(answered.actions) == [("prompt", EN.say("checkin_rating"))]  # a pain prompt stays a prompt
    done = d.handle(Rating(15.0, 4, "keyboard"))
    assert done.done == Morning(DAY, "worse", 4)
    assert done.actions[0] == CheckIn(15.0, "worse", 4, "2026-03-03", "lumbar-6-weeks")
    assert done.at > 15.0 and says(done.actions) == [("checkin", "Thank you.")]


@pytest.mark.parametrize(
    ("value", "source", "answer"), [(1, "button", "better"), (2, "keyboard", "same"), (3, "button", "worse")]
)
def test_checkin_a_count_answers_by_button_or_key(value: int, source: str, answer: str) -> None:
    d = dialogue()
    d.start(0.0)
    d.handle(Rating(1.0, value, source))
    assert d.answer == answer and d.step == "rating"


def test_checkin_a_spoken_number_is_not_an_answer_to_the_question() -> None:
    d = dialogue()
    d.start(0.0)
    assert d.handle(Rating(1.0, 3, "heard")).actions == [] and d.step == "question"
    assert d.handle(Rating(1.5, 3, "voice")).actions == [] and d.answer is None


def test_checkin_silence_is_asked_again_then_goes_on_without_it() -> None:
    d = dialogue()
    d.start(0.0)
    first = d.deadline
    assert first is not None and first > 8.0
    again = d.timeout(first)
    assert says(again.actions) == [("checkin", EN.say("checkin_reask"))]
    assert d.deadline is not None
    gone = d.timeout(d.deadline)
    assert [p for p, _ in says(gone.actions)] == ["checkin", "prompt"] and d.step == "rating"
    assert d.deadline is not None
    d.timeout(d.deadline)
    assert d.deadline is not None
    end = d.timeout(d.deadline)
    assert end.done == Morning(DAY, None, None) and end.actions == [CheckIn(end.at, None, None, "2026-03-03", "lumbar-6-weeks")]


def test_checkin_stop_ends_it_and_next_skips_it() -> None:
    d = dialogue()
    d.start(0.0)
    stopped = d.handle(Command(2.0, CommandName.STOP))
    assert stopped.stopped and stopped.done == Morning(DAY, None, None)
    d = dialogue()
    d.start(0.0)
    d.handle(Answer(1.0, "better"))
    skipped = d.handle(Command(2.0, CommandName.NEXT))
    assert not skipped.stopped and skipped.done == Morning(DAY, "better", None)


@pytest.mark.parametrize("language", ["en", "ko"])
def test_checkin_words_are_in_the_locale_and_the_grammar(language: str) -> None:
    locale = load_locale(language)
    assert set(locale.answers) == {"better", "same", "worse", "easy", "right", "hard"}  # the check-in, then feedback
    phrases = locale_phrases(locale)
    for value, words in locale.answers.items():
        for word in words:
            assert word in phrases and parse_words(word, locale) == ParsedAnswer(value), word
    assert set(build_vocabulary(locale, lambda w: True).phrases) >= {w for ws in locale.answers.values() for w in ws}
    assert parse_words("3", locale) == ParsedRating(3)  # numbers stay ratings


def test_checkin_heard_words_in_an_input_script_become_answers() -> None:
    assert to_event(Input("heard", "much worse", "heard", 1.0), 1.0, EN) == Answer(1.0, "worse", "heard")
    assert to_event(Input("heard", "the same", "heard", 1.0), 1.0, EN) == Answer(1.0, "same", "heard")
    ko = load_locale("ko")
    assert parse_words("비슷해요", ko) == ParsedAnswer("same") and parse_words("안 좋아", ko) == ParsedAnswer("worse")


def test_checkin_log_outcomes_a_regressed_exercise_and_its_pain() -> None:
    typed = [
        RatingRecorded(1.0, 2, "answered", "script", "before"),
        ExerciseResult(5.0, "bridge", 0, "done", 4, None, "easier"),
        RatingRecorded(6.0, 6, "answered", "script", "exercise", "bridge", "direct"),
        ExerciseResult(9.0, "pelvic-tilt", 1, "done", 6),
        RatingRecorded(10.0, 9, "answered", "heard", "after", None, "unconfirmed"),  # never confirmed: not counted
        ExerciseResult(11.0, "rest", 2, "done", 0, True),
    ]
    outcomes = _outcomes(typed)
    assert set(outcomes) == {"bridge", "pelvic-tilt"}
    assert outcomes["bridge"].regressed and outcomes["bridge"].pain == 6
    assert outcomes["bridge"].own and not outcomes["pelvic-tilt"].own
    assert outcomes["pelvic-tilt"].pain == 6 and not outcomes["pelvic-tilt"].regressed  # none of its own: the session's highest


# --- the check-in composed before the session (coach.core.today) -----------------------------


def today_machine(day: dt.date = DAY) -> Today:
    from coach.core.progression import History

    programme = load_programme(find_programme("lumbar-6-weeks"))
    routines = {s.routine: load_routine(find_routine(s.routine)) for s in programme.stages}
    plan = TodayPlan(programme, History(dt.date(2026, 3, 2)), day, routines, checkin=True)

    def make_session(routine: Routine) -> Session:
        return Session(compile_script(routine, EN), EN, SessionSettings(red_flag_screen=False))

    return Today(plan, EN, make_session)


def test_today_symptom_words_in_the_check_in_go_straight_to_the_session_question() -> None:
    machine = today_machine()
    machine.handle(Command(0.0, CommandName.START, "auto"))
    actions = machine.handle(Symptom(3.0, "leg", "voice"))
    kinds = [type(a).__name__ for a in actions]
    assert machine.session is not None and "SessionStarted" in kinds
    assert [a for a in actions if isinstance(a, CheckIn)] == [CheckIn(3.0, None, None, "2026-03-03", "lumbar-6-weeks")]
    assert EN.say("symptom_question") in [a.text for a in actions if isinstance(a, Say)]  # asked at once, not held back


def test_today_stop_in_the_check_in_ends_with_nothing_more_said() -> None:
    machine = today_machine()
    machine.handle(Command(0.0, CommandName.START, "auto"))
    machine.handle(Answer(1.0, "better"))
    actions = machine.handle(Command(2.0, CommandName.STOP))
    assert machine.ended and machine.session is None
    assert actions[-1] == End("stopped", 2.0) and not [a for a in actions if isinstance(a, Say)]


def test_today_stop_while_the_changes_are_said_ends_the_session_before_it_starts() -> None:
    from coach.core.progression import DaySession, History, Morning, Outcome

    start = dt.date(2026, 3, 2)
    good = {"back-release": Outcome(1), "pelvic-tilt": Outcome(1)}
    history = History(start, tuple(DaySession(start + dt.timedelta(n), "settle", good) for n in range(3)),
                      tuple(Morning(start + dt.timedelta(n), "same", 2) for n in range(3)))  # fmt: skip
    machine = today_machine(start + dt.timedelta(3))
    machine.plan = TodayPlan(machine.plan.programme, history, machine.plan.day, machine.plan.routines, checkin=True)
    machine.handle(Command(0.0, CommandName.START, "auto"))
    machine.handle(Answer(1.0, "same"))
    told = machine.handle(Rating(2.0, 2, "keyboard"))
    assert [a.phase for a in told if isinstance(a, Say)] == ["checkin", "programme", "programme"] and machine.session is None
    stopped = machine.handle(Command(4.0, CommandName.STOP))
    assert machine.ended and machine.session is None and stopped[-1] == End("stopped", 4.0)


def test_checkin_a_heard_rating_is_read_back_first() -> None:
    d = dialogue()
    d.start(0.0)
    d.handle(Answer(1.0, "same"))
    read = d.handle(Rating(2.0, 7, "heard"))
    assert read.done is None and says(read.actions) == [("prompt", EN.say("confirm_rating", n=7))] and d.step == "confirm"
    denied = d.handle(Command(3.0, CommandName.NO))
    assert says(denied.actions) == [("prompt", EN.say("checkin_rating_reask"))] and d.step == "rating"
    d.handle(Rating(4.0, 3, "voice"))
    assert d.handle(Command(5.0, CommandName.YES)).done == Morning(DAY, "same", 3)
    silent = dialogue()
    silent.start(0.0)
    silent.handle(Answer(1.0, "worse"))
    silent.handle(Rating(2.0, 5, "heard"))
    assert silent.deadline is not None
    assert silent.timeout(silent.deadline).done == Morning(DAY, "worse", 5)  # not denied: it counts, as in a session


@pytest.mark.parametrize("how", ["stop", "abort"])
def test_today_the_check_in_is_kept_when_the_session_ends_at_its_resume_offer(how: str) -> None:
    """Acknowledged ("Thank you") is durable: a session that ends before it starts still writes the check-in."""
    from coach.core.states import ResumeOffer

    machine = today_machine()

    def with_offer(routine: Routine) -> Session:
        script = compile_script(routine, EN)
        return Session(script, EN, SessionSettings(red_flag_screen=False), resume=ResumeOffer(7, 1))

    machine.make_session = with_offer
    machine.handle(Command(0.0, CommandName.START, "auto"))
    machine.handle(Answer(1.0, "better"))
    told = machine.handle(Rating(2.0, 2, "keyboard"))
    deadline = machine.next_deadline()
    if machine.session is None:  # the changes are being said: the session starts when they are over
        assert deadline is not None
        told += machine.handle(Tick(deadline))
    assert machine.session is not None and machine.session.state.value == "resume-offer"
    assert not [a for a in told if isinstance(a, CheckIn)]  # held for the session's start record
    ended = machine.handle(Command(3.0, CommandName.STOP)) if how == "stop" else machine.abort(3.0, "interrupted")
    assert [(a.answer, a.rating) for a in ended if isinstance(a, CheckIn)] == [("better", 2)]
    assert isinstance(ended[-1], End) and machine.ended
