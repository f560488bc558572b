"""Shared by the ``bench/listen_*.py`` scripts: the model, speech renders, and a scripted audio source.

Not a benchmark itself. Speech is rendered by espeak-ng (cached in ``$XDG_CACHE_HOME/coach-bench``),
the patient in voices the Korean model hears best, the coach in espeak-ng's default Korean and
English voices, as a speaker would play them.
"""

from __future__ import annotations

import json
import os
import queue
import sys
import threading
import time
from array import array
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))  # testaudio: the tests' audio helpers

from testaudio import Speech, missing_tools

from coach.core.words import Parsed, ParsedCommand, ParsedRating, parse_words
from coach.run.inputs import Input  # noqa: E402
from coach.spec.locale import Locale, load_locale
from coach.voice.capture import BYTES_PER_SECOND
from coach.voice.hearing import Heard, Hearing, HearingSettings
from coach.voice.listener import VoskListener, load_hearing
from coach.voice.models import resolve_model
from coach.voice.recognizer import VoskRecognizer
from coach.voice.vad import FRAME_BYTES, RATE

PATIENT_VOICES = (("-v", "ko+f3", "-s", "160"), ("-v", "ko+f3", "-s", "140"), ("-v", "ko+f2", "-s", "160"))
COACH_VOICES = {"ko": ("-v", "ko"), "en": ("-v", "en")}
SAMPLE_VALUES = {"ko": dict(n=6, total=10, title="허리 운동", name="골반 기울이기", setup="등을 대고 누우세요", side="왼",
                            effort="살짝 힘을 주고", breathing="숨을 들이쉬세요", relax="힘을 빼세요", stretch="늘려 주세요",
                            cue="천천히", command="잠깐", limit=5, first=2, before=3, after=2, done=4, minutes=8),
                 "en": dict(n=6, total=10, title="Back routine", name="Pelvic tilt", setup="Lie on your back", side="Left",
                            effort="Press gently", breathing="breathe in", relax="Relax, breathe out slowly",
                            stretch="Let it lengthen, gently", cue="Slowly", command="pause", limit=5, first=2, before=3,
                            after=2, done=4, minutes=8)}  # fmt: skip


def speech() -> Speech:
    problem = missing_tools()
    if problem:
        sys.exit(problem)
    folder = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "coach-bench"
    folder.mkdir(parents=True, exist_ok=True)
    return Speech(folder)


def phrases(language: str) -> list[str]:
    """Every phrase of the locale, placeholders filled with typical values."""
    locale = load_locale(language)
    return [locale.say(key, **SAMPLE_VALUES[language]) for key in locale.phrases]


def meaning_of(parsed: Parsed | None) -> str | None:
    """A parse result as the bench prints it: the command's name, the rating's number, or ``None``."""
    if isinstance(parsed, ParsedCommand):
        return str(parsed.name)
    if isinstance(parsed, ParsedRating):
        return str(parsed.value)
    return None


class Model:
    """The Korean model, loaded once, and fresh recognisers on its grammar."""

    def __init__(self, settings: HearingSettings | None = None) -> None:
        self.locale: Locale = load_locale("ko")
        self.settings = settings
        self.loaded = load_hearing(self.locale, resolve_model("ko"), settings, report=print)
        assert isinstance(self.loaded.recognizer, VoskRecognizer)
        self.recognizer: VoskRecognizer = self.loaded.recognizer

    def hearing(self) -> Hearing:
        return Hearing(self.recognizer.fresh(), self.loaded.vocabulary, self.locale, self.settings, self.recognizer.fresh())

    def recorded_hearing(self) -> tuple[Hearing, list[tuple[bytes, str]]]:
        """A Hearing whose recogniser keeps the exact audio of each utterance it decoded, with its text."""
        log: list[tuple[bytes, str]] = []
        main, early = Recording(self.recognizer.fresh(), log), Recording(self.recognizer.fresh(), log)
        return Hearing(main, self.loaded.vocabulary, self.locale, self.settings, early), log

    def meaning(self, text: str) -> str | None:
        """What the one word parser makes of ``text`` (for plain vosk results; coach's own are in ``Heard.meaning``)."""
        return meaning_of(parse_words(text, self.locale))

    def plain(self, pcm: bytes, chunk: int = 4000) -> list[dict[str, Any]]:
        """A plain vosk call: a fresh recogniser, the whole audio, vosk's own endpoints, no VAD."""
        recognizer = self.recognizer.fresh()
        results = []
        for offset in range(0, len(pcm), chunk):
            if recognizer.accept(pcm[offset : offset + chunk]):
                results.append(recognizer.result())
        results.append(recognizer.final())
        return [r for r in results if r.get("text")]


class Recording:
    """A recogniser that keeps (audio fed, raw text) for every utterance it finishes."""

    def __init__(self, inner: VoskRecognizer, log: list[tuple[bytes, str]]) -> None:
        self.inner, self.log, self.frames = inner, log, bytearray()

    def accept(self, frame: bytes) -> bool:
        self.frames += frame
        done = self.inner.accept(frame)
        if done:
            self.frames = bytearray()  # vosk's own endpoint: a new utterance starts here
        return done

    def result(self) -> dict[str, Any]:
        return self.inner.result()

    def partial(self) -> str:
        return self.inner.partial()

    def final(self) -> dict[str, Any]:
        result = self.inner.final()
        self.log.append((bytes(self.frames), str(result.get("text", ""))))
        self.frames = bytearray()
        return result


class ScriptedSource:
    """A file as a microphone on its own clock: ``now()`` is the position in the audio, and
    ``cues`` (time, seconds) call ``listener.speaking`` as the audio reaches them, as the runner
    does when the coach starts a cue."""

    description = "scripted audio"

    def __init__(self, pcm: bytes, cues: list[tuple[float, float]], paced: bool = False) -> None:
        self.pcm = pcm
        self.cues = sorted(cues)
        self.paced = paced
        self.live = paced
        self.position = 0
        self.listener: VoskListener | None = None
        self.started = 0.0
        """``time.monotonic()`` when the source was opened."""

    def now(self) -> float:
        return self.position / BYTES_PER_SECOND

    def open(self) -> None:
        self.position = 0
        self.started = time.monotonic()

    def read(self) -> bytes:
        # As the runner does, a cue is announced with its exact start (``delay``), not rounded to
        # the next chunk: the gate then ends where the coach's voice (plus the tail) ends, to the
        # sample, which is where the fidelity bench starts the plain call's turn.
        ahead = self.now() + FRAME_BYTES / BYTES_PER_SECOND
        while self.cues and self.cues[0][0] < ahead - 1e-9 and self.listener is not None:
            at, seconds = self.cues.pop(0)
            self.listener.speaking(seconds, delay=at - self.now())
        chunk = self.pcm[self.position : self.position + FRAME_BYTES]
        self.position += len(chunk)
        if self.paced and chunk:
            delay = self.started + self.now() - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        return chunk

    def close(self) -> None:
        pass


def run_listener(
    model: Model, source: ScriptedSource, clock: Callable[[], float] | None = None, hearing: Hearing | None = None
) -> tuple[list[tuple[Heard, float]], list[Input], VoskListener]:
    """Play ``source`` through a real :class:`VoskListener` (threads, queue, Hearing) to its end."""
    heard: list[tuple[Heard, float]] = []
    lock = threading.Lock()

    def keep(utterance: Heard, at: float) -> None:
        with lock:
            heard.append((utterance, at))

    inbox: queue.Queue[Input] = queue.Queue()
    load = (lambda: hearing) if hearing is not None else model.hearing
    listener = VoskListener(load, lambda: source, now=clock or source.now, on_heard=keep)
    source.listener = listener
    listener.start(inbox)
    listener.join()
    listener.close()
    return heard, [inbox.get_nowait() for _ in range(inbox.qsize())], listener


def room(seconds: float, level_db: float, seed: int = 0) -> bytes:
    """Quiet room noise (white) at ``level_db`` dBFS."""
    import random

    rng = random.Random(seed)
    sigma = 32767 * 10 ** (level_db / 20)
    return array("h", (int(rng.gauss(0, sigma)) for _ in range(int(seconds * RATE)))).tobytes()


def add(base: bytes, extra: bytes) -> bytes:
    """``extra`` mixed into the start of ``base`` (same length as ``base``)."""
    a, b = array("h"), array("h")
    a.frombytes(base)
    b.frombytes(extra[: len(base)])
    return array("h", (max(-32768, min(32767, x + y)) for x, y in zip(a, b))).tobytes() + base[len(extra) :]


def speech_end(pcm: bytes, fraction: float = 0.02) -> float:
    """Seconds from the start of ``pcm`` to its last sample above ``fraction`` of its peak."""
    samples = array("h")
    samples.frombytes(pcm)
    peak = max(abs(s) for s in samples) or 1
    last = max(i for i, s in enumerate(samples) if abs(s) > fraction * peak)
    return (last + 1) / RATE


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def dump(name: str, data: Any) -> None:
    """Figures also as one JSON line (for comparing runs)."""
    print(f"# {name}: " + json.dumps(data, ensure_ascii=False, sort_keys=True))
