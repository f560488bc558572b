"""The recogniser seam: the part of vosk the voice path uses, and one recogniser's bookkeeping.

:class:`Recognizer` is what :class:`~coach.voice.hearing.Hearing` needs of a recogniser (fakes in
``coach.testing.voice`` implement it for tests); :class:`VoskRecognizer` is the real one. vosk is
imported only when one is made, so the rest of the coach runs without it.
"""

from __future__ import annotations

import json
from typing import Any, Protocol

from coach.voice.vad import RATE


class Recognizer(Protocol):
    """The part of vosk's ``KaldiRecognizer`` the coach uses (results as parsed JSON)."""

    def accept(self, frame: bytes) -> bool:
        """Decode ``frame``; true when the recogniser's own endpoint closed an utterance."""
        ...

    def result(self) -> dict[str, Any]: ...

    def partial(self) -> str: ...

    def final(self) -> dict[str, Any]: ...


class VoskRecognizer:
    """A grammar-restricted vosk recogniser with word timings and confidences."""

    def __init__(self, model: Any, grammar_json: str) -> None:
        import vosk

        self.model = model
        self.grammar_json = grammar_json
        self._rec = vosk.KaldiRecognizer(model, RATE, grammar_json)
        self._rec.SetWords(True)

    def fresh(self) -> VoskRecognizer:
        """A new recogniser on the same model and grammar."""
        return VoskRecognizer(self.model, self.grammar_json)

    def accept(self, frame: bytes) -> bool:
        return bool(self._rec.AcceptWaveform(frame))

    def result(self) -> dict[str, Any]:
        return dict(json.loads(self._rec.Result()))

    def partial(self) -> str:
        return str(json.loads(self._rec.PartialResult()).get("partial", ""))

    def final(self) -> dict[str, Any]:
        return dict(json.loads(self._rec.FinalResult()))


class Decoding:
    """One recogniser's side of the path: how much audio it has had, where the utterance began.

    vosk's word times run on from the first sample it was ever fed (across results and finals),
    so the audio time of a word is its recogniser time shifted by where the utterance began.
    """

    def __init__(self, recognizer: Recognizer) -> None:
        self.recognizer = recognizer
        self.fed_samples = 0
        self.began_at = 0.0
        """Recogniser time (seconds) of the utterance's first frame."""
        self.live = False
        """Fed every frame of the utterance in progress, and not finalised yet."""
        self._dropped = False

    def begin(self) -> None:
        self.settle()
        self.began_at = self.fed_samples / RATE
        self.live = True

    def accept(self, frame: bytes) -> bool:
        self.fed_samples += len(frame) // 2
        return self.recognizer.accept(frame)

    def drop(self) -> None:
        """Forget the utterance in progress, if any (finalised later, by :meth:`settle`)."""
        self._dropped = self._dropped or self.live
        self.live = False

    def settle(self) -> None:
        """Finalise a dropped utterance and throw its result away.

        Deferred to the next frame so that whatever ended the utterance goes out first; and
        through ``final()``, not ``reset()``: after vosk's ``Reset()`` the next utterance often
        began with a made-up result at a false endpoint ("아파" half a second before the word
        ended: 3 in 24 words in ``bench/listen_perf.py``); after ``FinalResult()`` it never did.
        """
        if self._dropped:
            self.recognizer.final()
            self._dropped = False
