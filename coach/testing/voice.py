"""In-package fakes of the voice input, for tests of the core and of the voice path itself.

- :class:`FakeRecognizer` stands in for vosk inside :class:`~coach.voice.hearing.Hearing`: the
  test says what the next utterance will be (``feed("seven")``) and sends any loud audio.
- :class:`FakeListener` stands in for the whole :class:`~coach.voice.listener.VoskListener`:
  ``hear("seven")`` puts the words in the inbox (given a locale, parsed and stamped as the real
  listener does), and it keeps what the runner told it (``expected``, ``spoken``).
- :func:`tone` and :func:`silence` make audio an energy VAD takes for speech and for quiet.
"""

from __future__ import annotations

import math
import queue
import struct
from collections import deque
from typing import Any

from coach.core.words import parse_words
from coach.run.clock import Clock
from coach.run.inputs import Input, session_time, understood
from coach.spec.locale import Locale
from coach.voice.vad import RATE


class FakeRecognizer:
    """Answers each utterance with the next text given to :meth:`feed` (confidence ``conf``)."""

    def __init__(self) -> None:
        self.script: deque[tuple[str, float, str, float, float]] = deque()
        self.fed_samples = 0
        self.frames = 0
        self.partial_text = ""
        """What :meth:`partial` says while an utterance is being decoded."""
        self._utterance_start: int | None = None

    def feed(self, text: str, conf: float = 1.0, trailing: str = "", trailing_conf: float = 0.3, gap: float = 0.0) -> None:
        """The next utterance is ``text``, then ``trailing`` words (in 60 ms, at ``trailing_conf``);
        the last word ends ``gap`` seconds before the end of the audio decoded."""
        self.script.append((text, conf, trailing, trailing_conf, gap))

    def accept(self, frame: bytes) -> bool:
        if self._utterance_start is None:
            self._utterance_start = self.fed_samples
        self.fed_samples += len(frame) // 2
        self.frames += 1
        return False

    def result(self) -> dict[str, Any]:
        return self.final()

    def partial(self) -> str:
        return self.partial_text if self._utterance_start is not None else ""

    def final(self) -> dict[str, Any]:
        start = self._utterance_start
        self._utterance_start = None
        if start is None or not self.script:
            return {"text": ""}
        text, conf, trailing, trailing_conf, gap = self.script.popleft()
        begin, end = start / RATE, self.fed_samples / RATE - gap
        split = end - TRAILING_SECONDS if trailing else end
        result = _spread(text.split(), conf, begin, split) + _spread(trailing.split(), trailing_conf, split, end)
        return {"text": " ".join(w["word"] for w in result), "result": result}


TRAILING_SECONDS = 0.06


def _spread(words: list[str], conf: float, begin: float, end: float) -> list[dict[str, Any]]:
    step = (end - begin) / max(1, len(words))
    return [{"word": w, "conf": conf, "start": begin + i * step, "end": begin + (i + 1) * step} for i, w in enumerate(words)]


class FakeListener:
    """A voice input without a microphone: the test decides what is heard."""

    def __init__(self, locale: Locale | None = None) -> None:
        self.locale = locale
        """Given one, heard words are parsed here, as the real listener does; else the runner parses them."""
        self.inbox: queue.Queue[Input] | None = None
        self.clock: Clock | None = None
        self.expected: list[str] = []
        self.spoken: list[float] = []
        self.delays: list[float] = []
        self.closed = False

    def start(self, inbox: queue.Queue[Input], clock: Clock | None = None) -> None:
        self.inbox = inbox
        self.clock = clock

    def close(self) -> None:
        self.closed = True

    def expect(self, what: str) -> None:
        self.expected.append(what)

    def speaking(self, seconds: float, delay: float = 0.0) -> None:
        self.spoken.append(seconds)
        self.delays.append(delay)

    def hear(self, text: str) -> None:
        """Words as the recogniser would pass them on."""
        assert self.inbox is not None, "start() the listener first"
        at = session_time(self.clock) if self.clock is not None else None
        if self.locale is None:
            self.inbox.put(Input("heard", text, "voice", at))
        else:
            self.inbox.put(understood(text, parse_words(text, self.locale), "voice", at))


def tone(seconds: float, level: float = 0.3, hz: float = 220.0) -> bytes:
    """A sine at ``level`` of full scale: loud enough for the VAD to call speech."""
    n = int(seconds * RATE)
    amplitude = level * 32767
    return struct.pack(f"<{n}h", *(int(amplitude * math.sin(2 * math.pi * hz * i / RATE)) for i in range(n)))


def silence(seconds: float) -> bytes:
    return b"\0\0" * int(seconds * RATE)
