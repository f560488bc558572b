"""The phrase cache, against the real pyttsx3 and espeak-ng."""

from __future__ import annotations

import hashlib
import threading
import time
import wave
from array import array
from pathlib import Path
from typing import Any

import pytest

from coach.voice import tts
from coach.voice.tts import KEEP_MARGIN, RATE, SILENCE_THRESHOLD, PhraseCache, VoiceChoice, pick_voice

EN = VoiceChoice("en", None, 150, 1.0)


def test_tts_renders_trims_and_knows_the_duration(tmp_path: Path) -> None:
    cache = PhraseCache(EN, tmp_path)
    clip = cache.get("Relax, and breathe out slowly.")
    assert clip is not None and clip.rate == RATE
    assert 1.0 < clip.seconds < 4.0
    margin = round(KEEP_MARGIN * RATE)
    first_loud = next(i for i, s in enumerate(clip.samples) if abs(s) > SILENCE_THRESHOLD)
    last_loud = max(i for i, s in enumerate(clip.samples) if abs(s) > SILENCE_THRESHOLD)
    assert first_loud <= margin + 1
    assert len(clip.samples) - 1 - last_loud <= margin + 1


def test_tts_cache_is_reused_across_processes(tmp_path: Path) -> None:
    first = PhraseCache(EN, tmp_path)
    first.prepare(["Two.", "Three."])
    assert first.rendered == 2
    second = PhraseCache(EN, tmp_path)
    clip = second.get("Two.")
    assert clip is not None and second.rendered == 0
    assert clip.samples == first.get("Two.").samples  # type: ignore[union-attr]


def test_tts_slower_rate_is_another_cache_entry_and_longer(tmp_path: Path) -> None:
    text = "Press gently, and breathe in."
    fast = PhraseCache(VoiceChoice("en", None, 220, 1.0), tmp_path).get(text)
    slow = PhraseCache(VoiceChoice("en", None, 100, 1.0), tmp_path).get(text)
    assert fast is not None and slow is not None and slow.seconds > fast.seconds * 1.5
    keys = {VoiceChoice("en", None, r, v).key(text) for r in (100, 220) for v in (0.5, 1.0)}
    keys.add(VoiceChoice("ko", None, 100, 1.0).key(text))
    keys.add(VoiceChoice("en", "en-us", 100, 1.0).key(text))
    assert len(keys) == 6


def test_tts_a_damaged_cache_file_is_rendered_again(tmp_path: Path) -> None:
    cache = PhraseCache(EN, tmp_path)
    assert cache.get("Hold still.") is not None
    path = tmp_path / f"{EN.key('Hold still.')}.wav"
    path.write_bytes(b"RIFF garbage")
    again = PhraseCache(EN, tmp_path)
    assert again.get("Hold still.") is not None and again.rendered == 1


def test_tts_clips_cached_by_the_renderer_that_did_not_wait_are_rendered_again(tmp_path: Path) -> None:
    # Cache version 1 was written by a renderer that could cut a phrase short on a busy CPU (see
    # test_tts_waits_for_the_engine_to_finish_writing): such a clip must not be played for good.
    raw = "|".join(["1", "en", "", "150", "1.000", "Hold still."])
    with wave.open(str(tmp_path / f"{hashlib.sha256(raw.encode()).hexdigest()[:32]}.wav"), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(RATE)
        wav.writeframes(array("h", [8000, -8000] * 100).tobytes())  # 9 ms: "Hold still." cut short
    cache = PhraseCache(EN, tmp_path)
    clip = cache.get("Hold still.")
    assert cache.rendered == 1 and clip is not None and clip.seconds > 0.3


class BrokenEngine:
    def save_to_file(self, text: str, path: str) -> None:
        if "bad" in text:
            raise RuntimeError("espeak crashed")
        self.text = text

    def runAndWait(self) -> None:  # noqa: N802 - pyttsx3's name
        pass


class FlakyEngine:
    """Writes nothing on the first try of each phrase, then a real (short, loud) WAV."""

    def __init__(self) -> None:
        self.tries: dict[str, int] = {}
        self._job: tuple[str, str] | None = None

    def save_to_file(self, text: str, path: str) -> None:
        self._job = (text, path)

    def runAndWait(self) -> None:  # noqa: N802 - pyttsx3's name
        assert self._job is not None
        text, path = self._job
        self.tries[text] = self.tries.get(text, 0) + 1
        if self.tries[text] > 1:
            with wave.open(path, "wb") as wav:
                wav.setnchannels(1)
                wav.setsampwidth(2)
                wav.setframerate(RATE)
                wav.writeframes(array("h", [8000, -8000] * 2000).tobytes())


def test_tts_a_render_that_fails_once_is_tried_again(tmp_path: Path) -> None:
    engine = FlakyEngine()
    cache = PhraseCache(EN, tmp_path, engine=engine)
    clip = cache.get("Hold still.")
    assert clip is not None and clip.seconds > 0.1 and engine.tries == {"Hold still.": 2}
    assert not cache.failed


class LateEngine:
    """Like pyttsx3 on espeak-ng: ``runAndWait`` returns while the synthesis still runs in a thread
    of its own, which writes the WAV later and then announces ``finished-utterance``."""

    def __init__(self, delay: float = 0.1, finishes: bool = True) -> None:
        self.delay = delay
        self.finishes = finishes
        self.callbacks: dict[int, Any] = {}
        self._job: tuple[str, str] | None = None

    def connect(self, topic: str, cb: Any) -> dict[str, Any]:
        assert topic == "finished-utterance"
        self.callbacks[id(cb)] = cb
        return {"topic": topic, "cb": id(cb)}

    def disconnect(self, token: dict[str, Any]) -> None:
        del self.callbacks[token["cb"]]

    def save_to_file(self, text: str, path: str) -> None:
        self._job = (text, path)

    def runAndWait(self) -> None:  # noqa: N802 - pyttsx3's name
        assert self._job is not None
        _, path = self._job
        callbacks = list(self.callbacks.values())

        def synthesise() -> None:
            time.sleep(self.delay)
            if not self.finishes:
                return
            with wave.open(path, "wb") as wav:
                wav.setnchannels(1)
                wav.setsampwidth(2)
                wav.setframerate(RATE)
                wav.writeframes(array("h", [8000, -8000] * RATE).tobytes())  # 2 s, loud throughout
            for cb in callbacks:
                cb(name=None, completed=True)

        threading.Thread(target=synthesise, daemon=True).start()


def test_tts_waits_for_the_engine_to_finish_writing(tmp_path: Path) -> None:
    # pyttsx3's runAndWait gives espeak-ng 10 ms: a long phrase on a busy CPU was missing (or cut
    # short, and cached so) when it returned, which is how the slot warning vanished on a slow machine.
    engine = LateEngine()
    cache = PhraseCache(EN, tmp_path, engine=engine)
    clip = cache.get("Relax completely and breathe out very slowly.")
    assert not cache.failed
    assert clip is not None and clip.seconds == 2.0
    assert engine.callbacks == {}  # the wait cleans up after itself


def test_tts_an_engine_that_never_finishes_is_a_failed_phrase_not_a_hang(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tts, "RENDER_TIMEOUT", 0.05)
    cache = PhraseCache(EN, tmp_path, engine=LateEngine(delay=0.0, finishes=False))
    assert cache.get("Hold still.") is None
    assert cache.failed["Hold still."] == "the speech engine did not finish 'Hold still.' within 0.05 s"


def test_tts_a_failed_phrase_is_reported_and_others_go_on(tmp_path: Path) -> None:
    cache = PhraseCache(EN, tmp_path, engine=BrokenEngine())
    cache.prepare(["a bad phrase", "a good phrase"])
    assert cache.get("a bad phrase") is None
    assert "espeak crashed" in cache.failed["a bad phrase"]
    # The fake engine writes nothing for the good phrase either: that is a failure too, not a crash.
    assert cache.get("a good phrase") is None and "wrote no audio" in cache.failed["a good phrase"]


@pytest.mark.parametrize(
    ("voice", "language", "expected"),
    [
        (None, "en", "gmw/en"),
        ("en-us", "en", "gmw/en-us"),
        (None, "ko", "ko"),
        ("gmw/en-gb-x-rp", "en", "gmw/en-gb-x-rp"),
        ("xx", "en", None),
    ],
)
def test_tts_pick_voice(voice: str | None, language: str, expected: str | None) -> None:
    voices: list[tuple[str, list[Any]]] = [
        ("gmw/en-us", ["en-us"]),
        ("gmw/en", ["en-gb"]),
        ("gmw/en-gb-x-rp", ["en-gb-x-rp"]),
        ("ko", ["ko"]),
    ]
    assert pick_voice(voices, VoiceChoice(language, voice)) == expected
