"""What heard words become, for every word of both locales, and the spoken-rating dialogue, on fakes.

The recogniser can only answer with grammar words, so these tests walk the whole vocabulary of
each locale through the one parser and the session, with :class:`FakeListener` in place of the
microphone.
"""

from __future__ import annotations

import queue
from itertools import product

import pytest
from conftest import KO_CHECK, simulate, write_routine

from coach.core.messages import Command, Listen, Rating, Say
from coach.core.pain_dialogue import BackToBlock, EndSession, Enter, GoTo, NextStep, PainDialogue, Reply, StopExercise
from coach.core.records import UNCONFIRMED, RatingRecorded, SafetyFired
from coach.core.safety import CAUTION
from coach.core.script import INSTRUCTION, compile_script
from coach.core.session import ACK_GAP, Session, SessionSettings, State
from coach.core.words import ParsedCommand, ParsedRating, parse_words
from coach.log.journal import MemoryJournal
from coach.run.clock import FakeClock
from coach.run.eventlog import EventSink
from coach.run.inputs import Feed, Input, to_event
from coach.run.ports import Utterance
from coach.run.runner import Runner
from coach.spec.locale import Locale, load_locale
from coach.spec.routine import Routine, load_routine
from coach.testing.speaker import FakeSpeaker
from coach.testing.voice import FakeListener
from coach.voice.grammar import UNK, build_vocabulary, locale_phrases

LANGUAGES = ("en", "ko")


def locales() -> list[Locale]:
    return [load_locale(lang) for lang in LANGUAGES]


# --- the parser, over every word -------------------------------------------------------------


@pytest.mark.parametrize("locale", locales(), ids=LANGUAGES)
def test_listen_words_every_number_word_is_its_rating(locale: Locale) -> None:
    for value, words in locale.numbers.items():
        for word in words:
            assert parse_words(word, locale) == ParsedRating(value), word


@pytest.mark.parametrize("locale", locales(), ids=LANGUAGES)
def test_listen_words_every_command_phrase_is_its_command(locale: Locale) -> None:
    for name, phrases in locale.commands.items():
        for phrase in phrases:
            assert parse_words(phrase, locale) == ParsedCommand(name), phrase


@pytest.mark.parametrize("locale", locales(), ids=LANGUAGES)
def test_listen_words_no_word_means_two_things(locale: Locale) -> None:
    numbers = [w for words in locale.numbers.values() for w in words]
    commands = [p for phrases in locale.commands.values() for p in phrases]
    fillers = list(locale.fillers)
    for group in (numbers, commands, fillers):
        assert len(group) == len(set(group))
    assert not set(numbers) & set(commands)
    assert not set(fillers) & (set(numbers) | set(commands))


@pytest.mark.parametrize("locale", locales(), ids=LANGUAGES)
def test_listen_words_fillers_around_a_number_keep_it_a_rating(locale: Locale) -> None:
    for (value, words), filler in product(locale.numbers.items(), locale.fillers):
        for word in words:
            for text in (f"{filler} {word}", f"{word} {filler}", f"{filler} {filler} {word} {filler}"):
                assert parse_words(text, locale) == ParsedRating(value), text
        assert parse_words(filler, locale) is None


@pytest.mark.parametrize("locale", locales(), ids=LANGUAGES)
def test_listen_words_unk_two_numbers_or_a_command_with_more_mean_nothing(locale: Locale) -> None:
    some_number = locale.numbers[3][0]
    for value, words in locale.numbers.items():
        for word in words:
            assert parse_words(f"{UNK} {word}", locale) is None
            assert parse_words(f"{word} {UNK}", locale) is None
            if value != 10:  # "N out of ten" is handled by the parser in English
                assert parse_words(f"{word} {some_number}", locale) is None
    for phrases in locale.commands.values():
        for phrase in phrases:
            assert parse_words(f"{phrase} {UNK}", locale) is None
            assert parse_words(f"{phrase} {some_number}", locale) is None
    assert parse_words(UNK, locale) is None and parse_words(f"{UNK} {UNK}", locale) is None


def test_listen_words_korean_as_the_recogniser_spells_it() -> None:
    ko = load_locale("ko")
    for text, value in [("제 통증 은 여섯", 6), ("여섯 정도 요", 6), ("사 점", 4), ("통증 없어요", 0), ("음 칠 이에요", 7),
                        ("지금 약 팔 점 입니다", 8), ("열", 10), ("제로", 0)]:  # fmt: skip
        assert parse_words(text, ko) == ParsedRating(value), text
    # Typed Korean with particles and polite endings attached (tests/test_words.py has the rest).
    assert parse_words("여섯이요", ko) == ParsedRating(6) and parse_words("통증은 여섯", ko) == ParsedRating(6)


@pytest.mark.parametrize("locale", locales(), ids=LANGUAGES)
def test_listen_words_grammar_words_are_locale_words(locale: Locale) -> None:
    vocabulary = build_vocabulary(locale, lambda w: True)
    assert set(vocabulary.phrases) == {p for p in locale_phrases(locale) if not p.isdigit()}
    for phrase in vocabulary.phrases:  # everything the recogniser can answer means something or is a filler
        parsed = parse_words(phrase, locale)
        assert parsed is not None or phrase in locale.fillers or set(phrase.split()) <= set(locale.fillers), phrase
    assert vocabulary.unk and UNK in vocabulary.grammar() and not vocabulary.absorbers  # a model with [unk]


def test_listen_words_missing_words_are_reported_with_file_and_line() -> None:
    ko = load_locale("ko")
    lacking = {"다섯", "그만해"}
    vocabulary = build_vocabulary(ko, lambda w: w not in lacking and w != UNK)
    lines = vocabulary.missing_lines(ko.source, "/models/ko")
    assert lines == [
        f"{ko.source}:{ko.lines['다섯']}: '다섯' (in '다섯') is not in the speech model's vocabulary (/models/ko); "
        "it can be typed but will not be heard",
        f"{ko.source}:{ko.lines['그만해']}: '그만해' (in '그만해') is not in the speech model's vocabulary (/models/ko); "
        "it can be typed but will not be heard",
    ]
    assert ko.lines["다섯"] == ko.lines["오"] and "다섯" not in vocabulary.grammar()
    en = load_locale("en")
    lines = build_vocabulary(en, lambda w: w != "on").missing_lines(en.source, "m")
    assert [line.split(" is not in")[0] for line in lines] == [
        f"{en.source}:{en.lines[phrase]}: 'on' (in {phrase!r})" for phrase in ("hold on", "go on", "carry on")
    ]


# --- the dialogue, through the session --------------------------------------------------------


@pytest.fixture
def ko_routine(tmp_path: object) -> Routine:
    from pathlib import Path

    assert isinstance(tmp_path, Path)
    return load_routine(write_routine(tmp_path, KO_CHECK), ("en", "ko"))


def prompt_time(routine: Routine) -> float:
    return float(next(e["t"] for e in simulate(routine).says("prompt")))


def voice(at: float, text: str) -> Input:
    return Input("heard", text, "voice", at)


def test_listen_dialogue_every_korean_number_word_confirmed_by_every_yes(ko_routine: Routine) -> None:
    ko = load_locale("ko")
    t = prompt_time(ko_routine)
    for (value, words), yes in product(ko.numbers.items(), ko.commands["yes"]):
        for word in words:
            run = simulate(ko_routine, [voice(t + 5, f"제 통증 {word}"), voice(t + 8, yes)])
            [rating] = run.of("rating")
            assert (rating["value"], rating["source"], rating["confirmed"]) == (value, "voice", "yes"), (word, yes)
            assert run.first_say(f"들은 숫자는 {value}입니다")["t"] == t + 5


@pytest.mark.parametrize("no", load_locale("ko").commands["no"])
def test_listen_dialogue_no_asks_again_and_silence_accepts(ko_routine: Routine, no: str) -> None:
    t = prompt_time(ko_routine)
    run = simulate(ko_routine, [voice(t + 5, "여섯"), voice(t + 8, no), voice(t + 12, "사")])
    [rating] = run.of("rating")
    assert (rating["value"], rating["confirmed"]) == (4, "auto")
    states = [e["state"] for e in run.of("state")]
    assert states[states.index("confirm") :][:3] == ["confirm", "pain-check", "confirm"]
    assert run.first_say("좋습니다. 숫자를 다시 말씀해 주세요.")["t"] == t + 8


def test_listen_dialogue_a_new_number_replaces_the_one_read_back(ko_routine: Routine) -> None:
    t = prompt_time(ko_routine)
    run = simulate(ko_routine, [voice(t + 5, "여섯"), voice(t + 8, "여덟"), voice(t + 11, "네")])
    [rating] = run.of("rating")
    assert (rating["value"], rating["confirmed"]) == (8, "yes")


def test_listen_dialogue_unrecognised_speech_changes_nothing(ko_routine: Routine) -> None:
    t = prompt_time(ko_routine)
    run = simulate(ko_routine, [voice(t + 3, f"{UNK} 여섯"), voice(t + 4, "제 통증"), voice(t + 5, "사")])
    assert [e["text"] for e in run.of("unrecognised")] == [f"{UNK} 여섯", "제 통증"]
    [rating] = run.of("rating")
    assert rating["value"] == 4


def test_listen_dialogue_typed_rating_counts_at_once_spoken_one_is_read_back(ko_routine: Routine) -> None:
    t = prompt_time(ko_routine)
    typed = simulate(ko_routine, [Input("rating", 4, "keyboard", t + 5)])
    assert typed.of("rating")[0]["confirmed"] == "direct" and "confirm" not in [e["state"] for e in typed.of("state")]
    spoken = simulate(ko_routine, [voice(t + 5, "사")])
    assert spoken.of("rating")[0]["confirmed"] == "auto" and "confirm" in [e["state"] for e in spoken.of("state")]


def test_listen_dialogue_voice_inputs_become_the_same_events_as_typed_words() -> None:
    for locale in locales():
        for name, phrases in locale.commands.items():
            for phrase in phrases:
                assert to_event(Input("heard", phrase, "voice"), 1.0, locale) == Command(1.0, name, "voice")
        for value, words in locale.numbers.items():
            for word in words:
                assert to_event(Input("heard", word, "voice"), 1.0, locale) == Rating(1.0, value, "voice")


class TimedSpeaker(FakeSpeaker):
    """Every cue takes 2 s to say."""

    def speak(self, say: Say, now: float) -> Utterance:
        super().speak(say, now)
        return Utterance(now, 2.0)


def test_listen_dialogue_the_runner_tells_the_listener_what_it_needs(ko_routine: Routine) -> None:
    ko = load_locale("ko")
    listener = FakeListener()
    inbox: queue.Queue[Input] = queue.Queue()
    listener.start(inbox)
    session = Session(compile_script(ko_routine, ko), ko)
    speaker, clock = TimedSpeaker(), FakeClock()
    runner = Runner(session, clock, speaker, MemoryJournal(), EventSink(None), ko, Feed(clock, inbox), listener=listener)
    assert runner.run() == "completed"
    assert listener.spoken == [2.0] * len(speaker.spoken)  # the microphone is gated for every cue
    assert listener.expected[:2] == ["command", "rating"]  # the intro, then the pain check
    assert "command" in listener.expected[2:]


# --- the dialogue on its own: what it hands the session ---------------------------------------


def test_listen_dialogue_a_heard_rating_is_read_back_and_silence_accepts_it() -> None:
    en = load_locale("en")
    pain = PainDialogue(en, SessionSettings())
    asked = pain.ask("before", None, 10.0)
    assert asked.actions[1:] == [Enter(State.PAIN_CHECK, 10.0), Listen("rating")] and asked.then is None
    read_back = pain.rating(2, "heard", 12.0)
    assert read_back.actions[1:] == [Enter(State.CONFIRM, 12.0), Listen("confirm")] and read_back.then is None
    assert pain.current is not None
    deadline = pain.current.deadline
    accepted = pain.timeout()
    record = accepted.actions[0]
    assert isinstance(record, RatingRecorded) and (record.value, record.confirmed, record.at) == (2, "auto", deadline)
    assert accepted.then == NextStep(deadline + ACK_GAP)
    assert pain.current is None and pain.ratings == {"before": 2, "last": 2}


def test_listen_dialogue_an_unprompted_rating_goes_back_to_where_it_cut_in() -> None:
    pain = PainDialogue(load_locale("en"), SessionSettings())
    pain.cut_in("ql", 50.0, State.EXERCISE, 12.5, paused=False)
    assert pain.return_point() == (State.EXERCISE, 12.5)
    assert pain.rating(3, "keyboard", 50.0).then == BackToBlock(50.0 + ACK_GAP, State.EXERCISE, 12.5, paused=False)
    assert pain.ratings == {"last": 3} and pain.return_point() is None


def test_listen_dialogue_a_high_rating_stops_the_exercise_it_cut_or_ends_the_session() -> None:
    pain = PainDialogue(load_locale("en"), SessionSettings())
    pain.cut_in("ql", 50.0, State.EXERCISE, 12.5, paused=False)
    stop = pain.rating(6, "keyboard", 50.0).then
    assert isinstance(stop, StopExercise) and stop.offset == 12.5 and stop.at > 50.0 + ACK_GAP
    pain.cut_in("ql", 80.0, State.EXERCISE, 3.0, paused=True)
    end = pain.rating(9, "keyboard", 80.0).then
    assert isinstance(end, EndSession) and end.cut_exercise


def test_listen_dialogue_a_heard_rating_never_confirmed_is_kept_unconfirmed_and_a_high_one_cautions() -> None:
    en = load_locale("en")
    pain = PainDialogue(en, SessionSettings())
    pain.ask("before", None, 10.0)
    pain.rating(9, "heard", 12.0)
    assert pain.pending
    kept = pain.unconfirmed(15.0)
    assert kept.actions[0] == RatingRecorded(15.0, 9, "answered", "heard", "before", None, UNCONFIRMED)
    fired = kept.actions[1]
    assert isinstance(fired, SafetyFired)
    assert (fired.at, fired.rule, fired.action, fired.rating) == (15.0, "end_session_at", CAUTION, 9)
    assert kept.actions[2:] == [Say(en.say("safety_caution", n=9, limit=5), 15.0, "safety", INSTRUCTION, None)]
    assert kept.then is None  # it decides nothing: the session is ending
    assert pain.current is None and not pain.pending and pain.ratings == {} and pain.first_rating is None
    pain.ask("exercise", "ql", 20.0)
    pain.rating(4, "voice", 22.0)
    assert [type(a) for a in pain.unconfirmed(23.0).actions] == [RatingRecorded]  # kept; nothing to caution about
    pain.ask("after", None, 30.0)
    assert pain.unconfirmed(31.0) == Reply() and pain.current is None  # nothing heard: nothing to keep


def test_listen_dialogue_a_command_that_waited_for_a_heard_rating_goes_on_where_it_chose() -> None:
    pain = PainDialogue(load_locale("en"), SessionSettings())
    pain.cut_in("ql", 50.0, State.EXERCISE, 12.5, paused=False)
    pain.rating(7, "heard", 50.0)
    pain.go_on(4, exercise_over=True)  # "next": the exercise it cut is already skipped
    assert pain.reopen(55.0).actions[1:] == [Enter(State.CONFIRM, 55.0), Listen("confirm")]
    settled = pain.yes(58.0)
    assert [a.action for a in settled.actions if isinstance(a, SafetyFired)] == [CAUTION]  # not stop-exercise
    assert isinstance(settled.then, GoTo) and settled.then.step == 4 and settled.then.at > 58.0 + ACK_GAP
    pain.cut_in("ql", 80.0, State.EXERCISE, 3.0, paused=False)
    pain.rating(7, "heard", 80.0)
    pain.go_on(2, exercise_over=False)  # "repeat": a rule may still stop the exercise, and then it is not repeated
    stop = pain.yes(84.0).then
    assert isinstance(stop, StopExercise) and stop.offset == 3.0
    pain.cut_in("ql", 90.0, State.EXERCISE, 5.0, paused=False)
    pain.rating(2, "heard", 90.0)
    pain.go_on(2, exercise_over=False)
    pain.no(92.0)  # "not that number": asked again, and the command still waits
    assert pain.rating(3, "keyboard", 95.0).then == GoTo(95.0 + ACK_GAP, 2)
