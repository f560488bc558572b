"""The listener's threads with fakes: a missing or unplugged microphone, overflow, closing, the gate."""

from __future__ import annotations

import argparse
import queue
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from coach.cli import run as run_cli
from coach.core.messages import CommandName
from coach.run.clock import FakeClock
from coach.run.inputs import Feed, Input
from coach.spec.config import load_settings
from coach.spec.locale import Locale, load_locale
from coach.testing.voice import FakeRecognizer, silence, tone
from coach.voice.capture import ArecordSource, AudioSource, MicrophoneError, WavSource
from coach.voice.grammar import build_vocabulary
from coach.voice.hearing import Heard, Hearing, HearingSettings
from coach.voice.listener import VoskListener, build_listener
from coach.voice.models import ModelError
from coach.voice.vad import FRAME_BYTES

SPEECH = silence(0.5) + tone(0.5) + silence(1.0)


def hearing_with(en: Locale, *texts: str, recognizer: FakeRecognizer | None = None) -> Hearing:
    recognizer = recognizer or FakeRecognizer()
    for text in texts:
        recognizer.feed(text)
    return Hearing(recognizer, build_vocabulary(en, lambda w: True), en)


class Unplugged:
    """A live microphone that gives ``chunks`` chunks of ``pcm``, then fails (or fails to open)."""

    live = True

    def __init__(self, pcm: bytes = b"", chunks: int = 0, reason: str = "audio open error: No such device") -> None:
        self.description = "arecord -D plughw:CARD=Mic"
        self.pcm, self.chunks, self.reason = pcm, chunks, reason
        self.opened = self.closed = 0

    def open(self) -> None:
        self.opened += 1
        if not self.chunks:
            raise MicrophoneError(f"{self.description}: {self.reason}")

    def read(self) -> bytes:
        if self.chunks:
            self.chunks -= 1
            chunk, self.pcm = self.pcm[:FRAME_BYTES], self.pcm[FRAME_BYTES:]
            return chunk
        raise MicrophoneError(f"{self.description}: read error: No such device")

    def close(self) -> None:
        self.closed += 1


def sources(*items: AudioSource) -> Callable[[], AudioSource]:
    it: Iterator[AudioSource] = iter(items)
    return lambda: next(it)


def drain(inbox: queue.Queue[Input]) -> list[Input]:
    return [inbox.get_nowait() for _ in range(inbox.qsize())]


def test_listen_listener_missing_microphone_is_one_line_then_it_comes_back(en: Locale) -> None:
    reports: list[str] = []
    missing = [Unplugged() for _ in range(4)]
    listener = VoskListener(
        lambda: hearing_with(en, "pause"), sources(*missing, WavSource(SPEECH)), report=reports.append, retry_seconds=(0.001,)
    )
    inbox: queue.Queue[Input] = queue.Queue()
    listener.start(inbox)
    assert listener.join(timeout=10)
    assert reports == [
        "coach: voice input paused: arecord -D plughw:CARD=Mic: audio open error: No such device; "
        "the buttons and keyboard still work; retrying",
        "coach: the microphone is back; voice input is on",
    ]
    assert all(s.opened == 1 and s.closed == 1 for s in missing)
    assert drain(inbox) == [Input("command", CommandName.PAUSE, "voice", words="pause")]  # parsed once, by Hearing


def test_listen_listener_unplugged_mid_session_resumes_on_a_new_source(en: Locale) -> None:
    reports: list[str] = []
    first = Unplugged(SPEECH, chunks=len(SPEECH) // FRAME_BYTES)  # says "stop", then the cable comes out
    listener = VoskListener(
        lambda: hearing_with(en, "stop", "resume"),
        sources(first, Unplugged(), WavSource(SPEECH)),
        report=reports.append,
        retry_seconds=(0.001,),
    )
    inbox: queue.Queue[Input] = queue.Queue()
    listener.start(inbox)
    assert listener.join(timeout=10)
    assert [i.value for i in drain(inbox)] == ["stop", "resume"]
    assert len(reports) == 2 and "read error: No such device" in reports[0] and "is back" in reports[1]


def test_listen_listener_back_off_grows_to_its_last_step(en: Locale) -> None:
    waits: list[float] = []
    six = threading.Event()
    listener = VoskListener(lambda: hearing_with(en), Unplugged, report=lambda line: None, retry_seconds=(1.0, 2.0, 4.0))
    original = listener._closing.wait

    def wait(seconds: float | None = None) -> bool:  # record the back-off instead of sleeping it
        waits.append(seconds or 0.0)
        if len(waits) == 6:
            six.set()
        return original(0.001)

    listener._closing.wait = wait  # type: ignore[method-assign]
    listener.start(queue.Queue())
    assert six.wait(5)
    listener.close()
    assert waits[:6] == [1.0, 2.0, 4.0, 4.0, 4.0, 4.0]


def test_listen_listener_model_failure_is_one_line_and_voice_stays_off(en: Locale) -> None:
    reports: list[str] = []

    def load() -> Hearing:
        raise ModelError("/models/ko: not a complete vosk model (missing am/final.mdl); run 'coach model fetch ko' again")

    listener = VoskListener(load, lambda: WavSource(SPEECH), report=reports.append)
    listener.start(queue.Queue())
    assert listener.ready.wait(5) and listener.join(timeout=5)
    assert reports == [
        "coach: voice input is off: /models/ko: not a complete vosk model (missing am/final.mdl); "
        "run 'coach model fetch ko' again; the buttons and keyboard still work"
    ]
    assert listener.failed and listener.hearing is None
    listener.speaking(3.0)  # still safe to call: the runner does not know voice failed
    listener.close()


class SlowRecognizer(FakeRecognizer):
    def accept(self, frame: bytes) -> bool:
        time.sleep(0.002)
        return super().accept(frame)


def test_listen_listener_drops_old_audio_rather_than_block_a_live_microphone(en: Locale) -> None:
    live = WavSource(silence(0.3) + tone(30.0, 0.2) + silence(1.0))
    live.live = True  # as fast as it can read, and it must not be made to wait
    reports: list[str] = []
    listener = VoskListener(lambda: hearing_with(en, recognizer=SlowRecognizer()), lambda: live, report=reports.append)
    started = time.monotonic()
    listener.start(queue.Queue())
    assert listener.join(timeout=30)
    assert listener.dropped_bytes > 0
    assert reports == [  # said once, however much is dropped
        "coach: speech recognition fell 2 s behind the microphone and dropped audio; "
        "on a slow computer set recognition.early_final: false in the config"
    ]
    assert time.monotonic() - started < 10  # 1000 frames at 2 ms: the capture never waited for them


def test_listen_listener_a_file_is_heard_whole(en: Locale) -> None:
    texts = ["pause", "resume", "next", "repeat", "help", "yes", "no", "six", "stop", "start"]
    pcm = SPEECH * len(texts)
    listener = VoskListener(lambda: hearing_with(en, *texts, recognizer=SlowRecognizer()), lambda: WavSource(pcm))
    inbox: queue.Queue[Input] = queue.Queue()
    listener.start(inbox)
    assert listener.join(timeout=30)
    items = drain(inbox)
    assert [i.words for i in items] == texts and listener.dropped_bytes == 0
    assert [i.value for i in items] == [*texts[:7], 6, *texts[8:]] and items[7].kind == "rating"


class Blocking:
    """A live source whose read blocks until it is closed, as arecord's pipe does."""

    live = True
    description = "blocking"

    def __init__(self) -> None:
        self.released = threading.Event()

    def open(self) -> None:
        pass

    def read(self) -> bytes:
        self.released.wait(10)
        raise MicrophoneError("closed")

    def close(self) -> None:
        self.released.set()


def test_listen_listener_close_stops_a_blocked_capture_and_is_idempotent(en: Locale) -> None:
    source = Blocking()
    reports: list[str] = []
    listener = VoskListener(lambda: hearing_with(en), lambda: source, report=reports.append)
    listener.start(queue.Queue())
    assert listener.ready.wait(5)
    started = time.monotonic()
    listener.close()
    listener.close()
    assert time.monotonic() - started < 3 and listener.join(0.1)
    assert reports == []  # closing is not an outage


def test_listen_listener_speaking_gates_from_now_and_expect_is_kept(en: Locale) -> None:
    listener = VoskListener(lambda: hearing_with(en), lambda: Blocking(), now=lambda: 100.0)
    listener.start(queue.Queue())
    assert listener.ready.wait(5)
    listener.speaking(2.0)
    listener.expect("rating")
    hearing = listener.hearing
    assert hearing is not None
    assert hearing.gated_at(100.0) and hearing.gated_at(102.3) and not hearing.gated_at(103.0)
    listener.speaking(1.0, delay=10.0)  # a cue the speaker will start 10 s from now
    assert not hearing.gated_at(109.85) and hearing.gated_at(109.95) and hearing.gated_at(111.35)
    assert not hearing.gated_at(111.45)
    assert listener.expecting == "rating"
    listener.close()


def test_listen_listener_cues_said_while_the_model_loads_are_still_gated(en: Locale) -> None:
    loading = threading.Event()

    def slow_load() -> Hearing:
        loading.wait(5)
        return hearing_with(en)

    listener = VoskListener(slow_load, lambda: Blocking(), now=lambda: 50.0)
    listener.start(queue.Queue())
    listener.speaking(3.0)  # the welcome, said while the model is still loading
    loading.set()
    assert listener.ready.wait(5)
    assert listener.hearing is not None and listener.hearing.gated_at(52.0)
    listener.close()


def test_listen_listener_no_microphone_through_arecord_is_a_clear_error() -> None:
    if shutil.which("arecord") is None:
        pytest.fail("arecord not installed (sudo apt-get install alsa-utils)", pytrace=False)
    source = ArecordSource("hw:CARD=NoSuchCardForCoachTests")
    with pytest.raises(MicrophoneError) as caught:
        source.open()
        source.read()
    source.close()
    source.close()
    message = str(caught.value)
    assert message.startswith("arecord -D hw:CARD=NoSuchCardForCoachTests: ")
    assert "\n" not in message and len(message) > len("arecord -D hw:CARD=NoSuchCardForCoachTests: ")


def test_listen_listener_arecord_missing_is_a_clear_error() -> None:
    with pytest.raises(MicrophoneError, match="arecord-not-here is not installed"):
        ArecordSource(arecord="arecord-not-here").open()


def test_listen_listener_arecord_command_names_the_device_and_format() -> None:
    command = ArecordSource("plughw:CARD=Device").command()
    assert command[:4] == ["arecord", "-q", "-D", "plughw:CARD=Device"]
    assert {"-f", "S16_LE", "-r", "16000", "-c", "1", "-t", "raw"} <= set(command)
    assert "-D" not in ArecordSource(None).command()


def test_listen_build_listener_says_why_voice_is_off(tmp_path: object, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    reports: list[str] = []
    en = load_locale("en")
    assert build_listener(en, enabled=False, report=reports.append) is None and reports == []
    assert build_listener(en, report=reports.append) is None
    assert reports == [
        "coach: voice input is off: no speech model for language 'en': run 'coach model fetch en', "
        "or set recognition.model_path in the config to an unzipped vosk model folder"
    ]
    reports.clear()
    assert build_listener(load_locale("ko"), model_path="/nonexistent/model", report=reports.append) is None
    assert reports == [
        "coach: voice input is off: /nonexistent/model: speech model folder not found; run 'coach model fetch ko' "
        "again, or point recognition.model_path at an unzipped vosk model"
    ]
    reports.clear()
    listener = build_listener(load_locale("ko"), input_device="plughw:CARD=Device", report=reports.append)
    assert isinstance(listener, VoskListener) and reports == []  # the packaged model; loaded when started


def test_listen_listener_a_recogniser_that_raises_is_restarted_and_told_once(en: Locale) -> None:
    reports: list[str] = []
    loads: list[int] = []

    def load() -> Hearing:
        loads.append(1)
        hearing = hearing_with(en, "pause")
        if len(loads) == 1:  # the first recogniser breaks on its first audio

            def broken(*args: object) -> list[Heard]:
                raise RuntimeError("kaldi: bad alloc")

            hearing.feed = broken  # type: ignore[method-assign]
        return hearing

    listener = VoskListener(load, sources(WavSource(SPEECH)), report=reports.append, retry_seconds=(0.001,))
    inbox: queue.Queue[Input] = queue.Queue()
    listener.start(inbox)
    assert listener.join(timeout=10)
    assert reports == ["coach: voice input failed (kaldi: bad alloc); restarting it; the buttons and keyboard still work"]
    assert len(loads) == 2 and listener.failed == ""
    assert drain(inbox) == [Input("command", CommandName.PAUSE, "voice", words="pause")]  # parsed once, by Hearing


@pytest.mark.parametrize(("early_final", "early_seconds"), [(True, 0.12), (False, None)])
def test_listen_the_early_final_setting_reaches_the_listener(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, early_final: bool, early_seconds: float | None
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(f"recognition:\n  early_final: {str(early_final).lower()}\n")
    asked: list[HearingSettings] = []

    def build(locale: Locale, **options: Any) -> None:
        asked.append(options["settings"] or HearingSettings())
        return None

    monkeypatch.setattr(run_cli, "build_listener", build)
    args = argparse.Namespace(simulate=False, model=None)
    run_cli._hardware_inputs(args, load_settings(str(config)), load_locale("ko"), Feed(FakeClock()))
    assert [s.early_final_seconds for s in asked] == [early_seconds]


def test_listen_listener_an_utterance_carries_the_session_time_its_last_word_ended(en: Locale) -> None:
    capture = [50.0]

    def no_model() -> Hearing:
        raise ModelError("no model here")

    listener = VoskListener(no_model, lambda: WavSource(b""), now=lambda: capture[0], report=lambda line: None)
    heard = Heard("pause", "pause", (), start=49.0, end=49.6, at=49.9, endpoint="vad")
    assert listener.at(heard) is None  # not started with a session clock: the feed stamps it on arrival
    listener.start(queue.Queue(), FakeClock(10.0))
    assert listener.at(heard) == pytest.approx(9.6)  # 0.4 s before now on the capture clock
    capture[0] = 51.0
    assert listener.at(heard) == pytest.approx(8.6)
    listener.close()


def test_listen_listener_puts_the_parsed_and_stamped_input_in_the_inbox(en: Locale) -> None:
    clock, capture = FakeClock(100.0), [0.0]
    pcm = SPEECH * 2

    class Paced(WavSource):
        """A file read as a microphone gives it: the capture clock moves with the audio."""

        def read(self) -> bytes:
            chunk = super().read()
            capture[0] += len(chunk) / 32000
            return chunk

    delivered: list[tuple[Heard, float]] = []
    listener = VoskListener(
        lambda: hearing_with(en, "my pain is six", "hello"),
        lambda: Paced(pcm),
        now=lambda: capture[0],
        on_heard=lambda h, t: delivered.append((h, t)),
    )
    inbox: queue.Queue[Input] = queue.Queue()
    listener.start(inbox, clock)
    assert listener.join(timeout=10)
    [six] = drain(inbox)  # "hello" is no locale word: never sent
    assert (six.kind, six.value, six.words, six.source) == ("rating", 6, "my pain is six", "voice")
    heard, at = delivered[0]
    assert 0.5 < heard.end < 2.0 and six.at == pytest.approx(100.0 - (at - heard.end))  # when its last word ended
