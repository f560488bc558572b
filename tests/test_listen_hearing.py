"""The voice path without a model: VAD, microphone gate, endpointing and word filter, on fakes.

Audio is a tone (speech to the VAD) or digital silence; :class:`FakeRecognizer` says what each
utterance was. Times are audio times in seconds, exact, with no real waiting.
"""

from __future__ import annotations

import itertools
import random
import struct

import pytest

from coach.core.messages import CommandName
from coach.core.words import Parsed, ParsedCommand, ParsedRating, parse_words
from coach.spec.locale import Locale
from coach.testing.voice import FakeRecognizer, silence, tone
from coach.voice import hearing as hearing_module
from coach.voice.grammar import Vocabulary, build_vocabulary
from coach.voice.hearing import Heard, Hearing, HearingSettings
from coach.voice.vad import FRAME_BYTES, FRAME_SECONDS, RATE, EnergyVad, Phase, VadSettings, level_db, voicing

HANGOVER = VadSettings().hangover_seconds


class Stream:
    """Feeds audio to a :class:`Hearing` in 30 ms chunks on an exact audio clock."""

    def __init__(self, hearing: Hearing) -> None:
        self.hearing = hearing
        self.t = 0.0
        self.heard: list[Heard] = []

    def play(self, pcm: bytes) -> list[Heard]:
        got: list[Heard] = []
        for offset in range(0, len(pcm), FRAME_BYTES):
            chunk = pcm[offset : offset + FRAME_BYTES]
            self.t += len(chunk) / (2 * RATE)
            got.extend(self.hearing.feed(chunk, self.t))
        self.heard.extend(got)
        return got


def vocabulary(en: Locale, absorbers: tuple[str, ...] = ()) -> Vocabulary:
    """The English grammar as a model with every word but ``[unk]`` would give it."""
    return build_vocabulary(en, lambda w: w != "[unk]", absorbers)


def make(en: Locale, settings: HearingSettings | None = None, absorbers: tuple[str, ...] = ()) -> tuple[Hearing, FakeRecognizer]:
    recognizer = FakeRecognizer()
    return Hearing(recognizer, vocabulary(en, absorbers), en, settings), recognizer


class KeepingRecognizer(FakeRecognizer):
    """A fake that also keeps every frame it was fed."""

    def __init__(self) -> None:
        super().__init__()
        self.fed: list[bytes] = []

    def accept(self, frame: bytes) -> bool:
        self.fed.append(frame)
        return super().accept(frame)


def white(seconds: float, level: float, seed: int = 1) -> bytes:
    rng = random.Random(seed)
    n = int(seconds * RATE)
    return struct.pack(f"<{n}h", *(max(-32768, min(32767, int(rng.gauss(0, level * 32767)))) for _ in range(n)))


def test_listen_hearing_silence_never_reaches_the_recogniser(en: Locale) -> None:
    hearing, recognizer = make(en)
    stream = Stream(hearing)
    assert stream.play(silence(30.0)) == []
    assert recognizer.frames == 0 and hearing.stats.recognised_frames == 0
    assert hearing.stats.frames == 1000


def test_listen_hearing_steady_noise_becomes_the_floor_not_speech(en: Locale) -> None:
    hearing, recognizer = make(en)
    stream = Stream(hearing)
    stream.play(white(10.0, 0.05))
    assert recognizer.frames == 0
    assert hearing.vad.floor_db == pytest.approx(level_db(white(1.0, 0.05)), abs=3)


def test_listen_hearing_an_utterance_ends_after_the_hangover(en: Locale) -> None:
    hearing, recognizer = make(en)
    recognizer.feed("pause")
    stream = Stream(hearing)
    stream.play(silence(1.0) + tone(0.6))
    assert stream.heard == []
    stream.play(silence(1.0))
    [heard] = stream.heard
    assert heard.text == "pause" and heard.raw == "pause" and heard.endpoint == "vad" and heard.meaningful
    assert heard.at == pytest.approx(1.6 + HANGOVER, abs=FRAME_SECONDS)
    detected = 1.0 + VadSettings().start_frames * FRAME_SECONDS
    assert heard.start == pytest.approx(detected - VadSettings().preroll_seconds, abs=FRAME_SECONDS)
    assert heard.words[0].end == pytest.approx(1.6 + HANGOVER, abs=FRAME_SECONDS)


def test_listen_hearing_only_speech_and_preroll_are_decoded(en: Locale) -> None:
    hearing, recognizer = make(en)
    recognizer.feed("six")
    Stream(hearing).play(silence(5.0) + tone(0.6) + silence(5.0))
    decoded = recognizer.fed_samples / RATE
    assert 0.6 + HANGOVER <= decoded <= 0.6 + HANGOVER + VadSettings().preroll_seconds + 2 * FRAME_SECONDS


def test_listen_hearing_quick_end_when_the_partial_is_a_command(en: Locale) -> None:
    recognizer = KeepingRecognizer()
    hearing = Hearing(recognizer, vocabulary(en), en)
    recognizer.feed("stop")
    recognizer.partial_text = "stop"
    stream = Stream(hearing)
    stream.play(silence(0.5) + tone(0.5) + white(1.0, 0.0005))
    [heard] = stream.heard
    assert heard.endpoint == "quick"
    assert heard.at == pytest.approx(1.0 + HearingSettings().quick_end_seconds, abs=FRAME_SECONDS)
    # Finalised after a hangover's worth of quiet: the quiet heard so far, then the same over again.
    heard_frames = round((heard.at - heard.start) / FRAME_SECONDS)
    quiet = recognizer.fed[heard_frames - round(HearingSettings().quick_end_seconds / FRAME_SECONDS) : heard_frames]
    assert len(set(quiet)) == len(quiet)
    padding = round(HANGOVER / FRAME_SECONDS) - len(quiet)
    assert recognizer.fed[heard_frames:] == list(itertools.islice(itertools.cycle(quiet), padding))


@pytest.mark.parametrize(
    ("decoded", "trailing", "conf", "gap", "text"),
    [
        ("stop", "banana", 0.3, 0.0, "stop"),  # an unsure absorber in the closing quiet
        ("stop", "[unk] [unk]", 1.0, 0.0, "stop"),
        ("stop", "[unk]", 1.0, 0.25, "stop"),  # starts in the speech, reaches into the quiet
        ("stop", "banana", 1.0, 0.0, "stop [unk]"),  # a confident word is part of what was said
        ("stop", "banana", 0.3, 0.45, "stop [unk]"),  # so is one that ends well inside the speech
        ("[unk] stop", "banana", 0.3, 0.0, "[unk] stop [unk]"),  # an unknown word before it: still no command
        ("stop six", "banana", 0.3, 0.0, "stop six [unk]"),  # no command is left: nothing changes
        ("banana", "", 0.3, 0.0, "[unk]"),
    ],
)
def test_listen_hearing_a_quick_end_drops_a_guess_after_the_command(
    en: Locale, decoded: str, trailing: str, conf: float, gap: float, text: str
) -> None:
    hearing, recognizer = make(en, absorbers=("banana",))
    recognizer.feed(decoded, trailing=trailing, trailing_conf=conf, gap=gap)
    recognizer.partial_text = "stop"
    stream = Stream(hearing)
    stream.play(silence(0.5) + tone(0.5) + silence(1.0))
    [heard] = stream.heard
    assert (heard.endpoint, heard.text, heard.raw) == ("quick", text, f"{decoded} {trailing}".strip())
    assert heard.meaning == parse_words(text, en)  # the meaning goes with the text that is handed on


def test_listen_hearing_an_unknown_tail_is_kept_when_the_utterance_ended_on_its_own(en: Locale) -> None:
    hearing, recognizer = make(en, absorbers=("banana",))
    recognizer.feed("stop banana")
    stream = Stream(hearing)
    stream.play(silence(0.5) + tone(0.5) + silence(1.0))
    assert [(h.endpoint, h.text) for h in stream.heard] == [("vad", "stop [unk]")]


@pytest.mark.parametrize("partial", ["six", "my pain is", "stop six", ""])
def test_listen_hearing_no_quick_end_unless_the_partial_is_a_command(en: Locale, partial: str) -> None:
    hearing, recognizer = make(en)
    recognizer.feed("six")
    recognizer.partial_text = partial
    stream = Stream(hearing)
    stream.play(silence(0.5) + tone(0.5) + silence(1.0))
    assert [h.endpoint for h in stream.heard] == ["vad"]


def make_early(
    en: Locale, settings: HearingSettings | None = None, absorbers: tuple[str, ...] = ()
) -> tuple[Hearing, KeepingRecognizer, KeepingRecognizer]:
    """A Hearing with an early recogniser: the test scripts what each of the two hears."""
    main, early = KeepingRecognizer(), KeepingRecognizer()
    return Hearing(main, vocabulary(en, absorbers), en, settings, early=early), main, early


EARLY = HearingSettings().early_final_seconds or 0.0


def test_listen_early_a_command_in_the_early_final_acts_before_the_hangover(en: Locale) -> None:
    hearing, main, early = make_early(en)
    main.feed("stop")  # what the main recogniser would have said at the full hangover
    early.feed("stop")
    main.feed("six")  # the next utterance
    stream = Stream(hearing)
    stream.play(silence(0.5) + tone(0.5))
    assert stream.heard == []
    stream.play(white(1.0, 0.0005))  # a quiet room
    [heard] = stream.heard
    assert (heard.endpoint, heard.text) == ("early", "stop")
    assert heard.at == pytest.approx(1.0 + EARLY, abs=FRAME_SECONDS)
    # Fed the same audio frame for frame, then the quiet so far over again, up to a hangover's worth.
    assert early.fed[: main.frames] == main.fed
    quiet = main.fed[-round(EARLY / FRAME_SECONDS) :]
    assert len(set(quiet)) == len(quiet)  # (so the next line can tell the frames apart)
    padding = round(HANGOVER / FRAME_SECONDS) - len(quiet)
    assert early.fed[main.frames :] == list(itertools.islice(itertools.cycle(quiet), padding))
    detected = 0.5 + VadSettings().start_frames * FRAME_SECONDS
    assert heard.start == pytest.approx(detected - VadSettings().preroll_seconds, abs=FRAME_SECONDS)
    assert heard.words[0].start == pytest.approx(heard.start)  # word times shifted onto the audio clock
    stream.play(tone(0.5) + silence(1.0))  # the main recogniser's dropped utterance does not come back
    assert [(h.endpoint, h.text) for h in stream.heard[1:]] == [("vad", "six")]
    assert hearing.stats.utterances == 2


@pytest.mark.parametrize("early_says", ["six", "my pain is six", "[unk]", "", "stop six"])
def test_listen_early_anything_but_a_command_waits_for_the_main_recogniser(en: Locale, early_says: str) -> None:
    hearing, main, early = make_early(en)
    main.feed("six")
    early.feed(early_says)
    stream = Stream(hearing)
    stream.play(silence(0.5) + tone(0.5) + silence(1.0))
    [heard] = stream.heard
    assert (heard.endpoint, heard.text) == ("vad", "six")
    assert heard.at == pytest.approx(1.0 + HANGOVER, abs=FRAME_SECONDS)
    assert hearing.stats.utterances == 1


def test_listen_early_the_main_recogniser_decides_when_the_two_disagree_after_the_early_point(en: Locale) -> None:
    """The early final is taken once: a later pause and more speech belong to the main recogniser."""
    hearing, main, early = make_early(en)
    main.feed("six")
    early.feed("my")  # not a command at the early point
    stream = Stream(hearing)
    stream.play(silence(0.5) + tone(0.3) + silence(EARLY + 2 * FRAME_SECONDS) + tone(0.3) + silence(1.0))
    assert [(h.endpoint, h.text) for h in stream.heard] == [("vad", "six")]
    assert main.frames > early.frames  # the early recogniser stopped at its final
    main.feed("stop")
    early.feed("stop")
    stream.play(tone(0.5) + silence(1.0))  # the next utterance: each recogniser's own clock still maps onto the audio
    heard = stream.heard[-1]
    assert (heard.endpoint, heard.text) == ("early", "stop")
    assert heard.words[0].start == pytest.approx(heard.start)


def test_listen_early_the_partial_result_still_ends_first_when_it_is_a_command(en: Locale) -> None:
    hearing, main, early = make_early(en)
    main.feed("pause")
    main.partial_text = "pause"
    early.feed("stop")
    main.feed("six")
    early.feed("six")
    stream = Stream(hearing)
    stream.play(silence(0.5) + tone(0.5) + silence(1.0))
    assert [(h.endpoint, h.text) for h in stream.heard] == [("quick", "pause")]
    main.partial_text = ""
    stream.play(tone(0.5) + silence(1.0))  # the early recogniser's dropped utterance does not come back either
    assert [(h.endpoint, h.text) for h in stream.heard[1:]] == [("vad", "six")]


def test_listen_early_drops_made_up_words_after_the_command(en: Locale) -> None:
    hearing, main, early = make_early(en, absorbers=("banana",))
    main.feed("stop")
    early.feed("stop", trailing="banana", trailing_conf=0.3)  # a guess in the quiet it was given
    stream = Stream(hearing)
    stream.play(silence(0.5) + tone(0.5) + silence(1.0))
    assert [(h.endpoint, h.text, h.raw) for h in stream.heard] == [("early", "stop", "stop banana")]
    assert stream.heard[0].meaning == ParsedCommand(CommandName.STOP)


def test_listen_early_a_confident_unknown_word_after_the_command_is_not_dropped(en: Locale) -> None:
    hearing, main, early = make_early(en, absorbers=("banana",))
    main.feed("stop", trailing="banana", trailing_conf=0.9)
    early.feed("stop", trailing="banana", trailing_conf=0.9)
    stream = Stream(hearing)
    stream.play(silence(0.5) + tone(0.5) + silence(1.0))
    assert [(h.endpoint, h.text) for h in stream.heard] == [("vad", "stop [unk]")]


def test_listen_early_off_when_the_setting_is_none(en: Locale) -> None:
    hearing, main, early = make_early(en, HearingSettings(early_final_seconds=None))
    main.feed("stop")
    early.feed("stop")
    stream = Stream(hearing)
    stream.play(silence(0.5) + tone(0.5) + silence(1.0))
    assert [h.endpoint for h in stream.heard] == ["vad"]
    assert early.frames == main.frames  # fed (the setting only says when to look), never finalised early


def test_listen_early_an_utterance_cut_by_the_coach_is_discarded_by_both(en: Locale) -> None:
    hearing, main, early = make_early(en)
    for recognizer in (main, early):
        recognizer.feed("stop")
        recognizer.feed("pause")
    stream = Stream(hearing)
    stream.play(silence(1.0) + tone(0.3))
    hearing.speaking(stream.t + 0.2, 1.0)
    stream.play(tone(0.6) + silence(2.0) + tone(0.4) + silence(1.0))
    assert hearing.stats.discarded == 1
    assert [(h.endpoint, h.text) for h in stream.heard] == [("early", "pause")]


def test_listen_hearing_a_gap_shorter_than_the_hangover_keeps_one_utterance(en: Locale) -> None:
    hearing, recognizer = make(en)
    recognizer.feed("my pain is six")
    stream = Stream(hearing)
    stream.play(silence(0.5) + tone(0.4) + silence(HANGOVER - 2 * FRAME_SECONDS) + tone(0.4) + silence(1.0))
    assert [h.text for h in stream.heard] == ["my pain is six"]


def test_listen_hearing_endless_sound_is_cut_and_taken_as_background(en: Locale) -> None:
    hearing, recognizer = make(en)
    stream = Stream(hearing)
    recognizer.feed("um")
    stream.play(silence(0.5) + tone(20.0, 0.2))
    assert [h.endpoint for h in stream.heard] == ["too-long"]
    assert recognizer.fed_samples / RATE < VadSettings().max_speech_seconds + 1.0
    assert hearing.vad.phase is Phase.QUIET


# --- the microphone gate ---------------------------------------------------------------------


def test_listen_gate_speech_while_the_coach_speaks_is_never_decoded(en: Locale) -> None:
    hearing, recognizer = make(en)
    recognizer.feed("stop")
    stream = Stream(hearing)
    stream.play(silence(1.0))
    hearing.speaking(1.0, 2.0)  # the coach talks from 1.0 to 3.0 (+ tail)
    stream.play(tone(1.5) + silence(2.0))
    assert stream.heard == [] and recognizer.frames == 0
    assert hearing.stats.gated_frames == pytest.approx((2.0 + HearingSettings().gate_tail_seconds) / FRAME_SECONDS, abs=1)


def test_listen_gate_an_utterance_cut_by_the_coach_is_discarded(en: Locale) -> None:
    hearing, recognizer = make(en)
    recognizer.feed("six")
    recognizer.feed("pause")
    stream = Stream(hearing)
    stream.play(silence(1.0) + tone(0.3))  # the patient starts talking...
    hearing.speaking(stream.t + 0.2, 1.0)  # ...and the coach starts before they stop
    stream.play(tone(0.6) + silence(2.0) + tone(0.4) + silence(1.0))
    assert hearing.stats.discarded == 1
    assert [h.text for h in stream.heard] == ["pause"]  # the next utterance is heard normally


def test_listen_gate_an_utterance_already_finished_is_kept(en: Locale) -> None:
    hearing, recognizer = make(en)
    recognizer.feed("six")
    stream = Stream(hearing)
    stream.play(silence(1.0) + tone(0.5) + silence(0.12))  # in the closing quiet
    hearing.speaking(stream.t + HearingSettings().gate_lead_seconds, 1.0)
    stream.play(silence(2.0))
    [heard] = stream.heard
    assert heard.text == "six" and heard.endpoint == "gate"
    assert heard.at < 1.5 + HANGOVER


def test_listen_gate_the_coachs_voice_going_on_after_the_gate_does_not_open_it(en: Locale) -> None:
    hearing, recognizer = make(en)
    recognizer.feed("stop")
    stream = Stream(hearing)
    stream.play(silence(1.0))
    hearing.speaking(1.0, 1.0)  # the speaker said 1 s, but it played (or echoed) for 3 s
    stream.play(tone(3.0) + silence(0.5))
    assert stream.heard == [] and recognizer.frames == 0
    stream.play(tone(0.4) + silence(1.0))  # the patient, after a quiet moment
    assert [h.text for h in stream.heard] == ["stop"]


def test_listen_gate_windows_can_overlap_and_follow_each_other(en: Locale) -> None:
    hearing, _ = make(en)
    hearing.speaking(1.0, 2.0)
    hearing.speaking(2.5, 2.0)
    hearing.speaking(10.0, 1.0)
    lead, tail = HearingSettings().gate_lead_seconds, HearingSettings().gate_tail_seconds
    for t, gated in [(1.0 - lead - 0.01, False), (1.0 - lead, True), (4.0, True), (4.5 + tail - 0.01, True),
                     (4.5 + tail + 0.01, False), (9.95, True), (11.0 + tail + 0.01, False)]:  # fmt: skip
        assert hearing.gated_at(t) is gated, t


# --- the word filter ---------------------------------------------------------------------------


MIN_CONF = HearingSettings().min_confidence


@pytest.mark.parametrize(
    ("conf", "text", "meaningful"),
    [(1.0, "six", True), (MIN_CONF, "six", True), (MIN_CONF - 0.01, "[unk]", False), (0.0, "[unk]", False)],
)
def test_listen_filter_low_confidence_words_become_unk(en: Locale, conf: float, text: str, meaningful: bool) -> None:
    hearing, recognizer = make(en)
    recognizer.feed("six", conf)
    stream = Stream(hearing)
    stream.play(silence(0.5) + tone(0.4) + silence(1.0))
    [heard] = stream.heard
    assert heard.text == text and heard.meaningful is meaningful
    assert heard.words[0].why == ("" if meaningful else "low-confidence")


def test_listen_filter_absorbers_and_unk_mark_the_utterance(en: Locale) -> None:
    hearing, recognizer = make(en, absorbers=("banana",))
    recognizer.feed("banana six")
    recognizer.feed("[unk] stop")
    recognizer.feed("banana")
    stream = Stream(hearing)
    for _ in range(3):
        stream.play(silence(0.5) + tone(0.4) + silence(1.0))
    assert [h.text for h in stream.heard] == ["[unk] six", "[unk] stop", "[unk]"]
    assert [w.why for h in stream.heard for w in h.words] == ["absorber", "", "unk", "", "absorber"]
    assert [h.meaningful for h in stream.heard] == [True, True, False]
    assert [h.meaning for h in stream.heard] == [None, None, None]  # the strict parser rejects every [unk]


def test_listen_hearing_parses_each_utterance_once_and_hands_the_meaning_on(en: Locale, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    def counted(text: str, locale: Locale) -> Parsed | None:
        calls.append(text)
        return parse_words(text, locale)

    monkeypatch.setattr(hearing_module, "parse_words", counted)
    hearing, recognizer = make(en)
    recognizer.feed("my pain is six")
    recognizer.feed("stop")
    stream = Stream(hearing)
    for _ in range(2):
        stream.play(silence(0.5) + tone(0.4) + silence(1.0))
    assert [(h.text, h.meaning) for h in stream.heard] == [
        ("my pain is six", ParsedRating(6)),
        ("stop", ParsedCommand(CommandName.STOP)),
    ]
    assert calls.count("my pain is six") == 1 and calls.count("stop") == 1


def test_listen_filter_an_utterance_with_no_words_is_not_reported(en: Locale) -> None:
    hearing, recognizer = make(en)
    recognizer.feed("")
    stream = Stream(hearing)
    stream.play(silence(0.5) + tone(0.4) + silence(1.0))
    assert stream.heard == [] and hearing.stats.utterances == 0


def test_listen_hearing_odd_chunk_sizes_give_the_same_result(en: Locale) -> None:
    pcm = silence(0.5) + tone(0.5) + silence(1.0)
    results = []
    for size in (FRAME_BYTES, 2, 1000, 4002, len(pcm)):
        hearing, recognizer = make(en)
        recognizer.feed("next")
        heard: list[Heard] = []
        for offset in range(0, len(pcm), size):
            chunk = pcm[offset : offset + size]
            heard.extend(hearing.feed(chunk, (offset + len(chunk)) / (2 * RATE)))
        results.append([(h.text, round(h.at, 3)) for h in heard])
    assert all(r == results[0] for r in results) and results[0][0][0] == "next"


def test_listen_hearing_flush_finishes_an_utterance_at_the_end_of_a_file(en: Locale) -> None:
    hearing, recognizer = make(en)
    recognizer.feed("help")
    stream = Stream(hearing)
    stream.play(silence(0.3) + tone(0.4))
    assert stream.heard == []
    assert [h.endpoint for h in hearing.flush()] == ["stream-end"]
    assert hearing.flush() == []


def test_listen_vad_levels() -> None:
    assert level_db(silence(0.03)) == -100.0
    assert level_db(b"") == -100.0
    assert level_db(tone(0.03, 1.0)) == pytest.approx(-3.0, abs=0.1)  # a full-scale sine: -3 dBFS
    vad = EnergyVad()
    assert not vad.process(silence(FRAME_SECONDS)).started  # the first frame sets the noise floor
    steps = [vad.process(tone(FRAME_SECONDS, 0.3)) for _ in range(VadSettings().start_frames)]
    assert [s.started for s in steps] == [False] * (len(steps) - 1) + [True]
    # The pre-roll is what was heard, nothing made up: here the one quiet frame, then the loud ones.
    assert steps[-1].frames == (silence(FRAME_SECONDS),) + (tone(FRAME_SECONDS, 0.3),) * 3
    vad.reset()
    preroll = round(VadSettings().preroll_seconds / FRAME_SECONDS)
    steps = [vad.process(silence(FRAME_SECONDS)) for _ in range(2 * preroll)]
    steps += [vad.process(tone(FRAME_SECONDS, 0.3)) for _ in range(VadSettings().start_frames)]
    assert len(steps[-1].frames) == preroll  # at most the pre-roll


def test_listen_vad_hiss_is_loud_but_not_voiced() -> None:
    assert voicing(tone(FRAME_SECONDS, 0.3, hz=150)) > 0.9
    assert voicing(tone(FRAME_SECONDS, 0.3, hz=400)) > 0.9
    for seed in range(20):
        assert voicing(white(FRAME_SECONDS, 0.3, seed)) < VadSettings().voicing_threshold
    assert voicing(silence(FRAME_SECONDS)) == 0.0


def test_listen_hearing_bursts_of_hiss_never_reach_the_recogniser(en: Locale) -> None:
    hearing, recognizer = make(en)
    stream = Stream(hearing)
    for seed in range(10):
        stream.play(silence(0.7) + white(0.6, 0.3, seed))
    assert stream.heard == [] and recognizer.frames == 0
    recognizer.feed("pause")  # a voice after the hiss is still heard
    stream.play(silence(0.5) + tone(0.4) + silence(1.0))
    assert [h.text for h in stream.heard] == ["pause"]


def test_listen_hearing_after_a_gate_the_preroll_starts_where_the_gate_ends_to_the_sample(en: Locale) -> None:
    """The recogniser gets every sample after the gate and none before (no made-up lead-in either):
    on espeak-ng's Korean, starting its audio 10-30 ms later changed what it heard."""
    hearing, recognizer = make(en)
    recognizer.feed("next")
    stream = Stream(hearing)
    stream.play(white(1.0, 0.001, seed=5))
    gate_end = 1.0 + 1.0 + HearingSettings().gate_tail_seconds + 0.0123  # in the middle of a 30 ms frame
    hearing.speaking(1.0, gate_end - 1.0 - HearingSettings().gate_tail_seconds)
    stream.play(tone(gate_end - 1.0))  # the coach's voice, all gated
    stream.play(white(0.09, 0.001, seed=6) + tone(0.5) + silence(1.0))  # the patient answers at once
    [heard] = stream.heard
    assert heard.text == "next"
    assert heard.start == pytest.approx(gate_end, abs=1.0 / RATE)
    assert recognizer.fed_samples == round((heard.at - gate_end) * RATE)


def test_listen_hearing_after_a_gate_ending_between_frames_the_preroll_is_whole_frames(en: Locale) -> None:
    hearing, recognizer = make(en)
    recognizer.feed("next")
    stream = Stream(hearing)
    stream.play(silence(0.3))
    lead, tail = HearingSettings().gate_lead_seconds, HearingSettings().gate_tail_seconds
    hearing.speaking(0.3 + lead, 0.5 - lead - tail + 0.3)  # the gate is 0.3-1.1 s: it ends between two frames
    stream.play(tone(0.7) + silence(0.16) + tone(0.5) + silence(1.0))
    [heard] = stream.heard
    gate_end = 1.1
    assert heard.start == pytest.approx(gate_end, abs=1.0 / RATE)
    assert recognizer.fed_samples == round((heard.at - gate_end) * RATE)
