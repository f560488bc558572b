"""From audio frames to heard words: VAD, microphone gate, recogniser, endpointing.

:class:`Hearing` is the whole path from a microphone frame to an utterance, with no threads and
no clock of its own: every frame comes with the time it was captured, and the coach's speech is
announced with the time it started. So the same code runs live (``VoskListener``), on a file
(``coach hear``) and in tests, frame for frame.

- **CPU**: only frames the energy VAD calls speech (plus a short pre-roll) reach the recogniser;
  on silence it costs one RMS per 30 ms frame.
- **Never hear itself**: while the coach speaks (``speaking(at, seconds)``, plus a lead and a
  tail for output latency and echo) no frame goes anywhere. An utterance still being spoken when
  the gate closes is discarded (it would span the coach's voice); one already in its closing
  silence is finished from the audio before the gate. After the gate, speech may start only once
  the room has been quiet for a frame, so the tail of the coach's own voice never opens it.
- **Endpointing**: the VAD ends an utterance after ``hangover_seconds`` of quiet; sooner, after
  ``quick_end_seconds``, when the partial result already reads as a command through the one word
  parser (ratings wait for the full hangover: "일" may still become "일곱", and they are
  confirmed anyway). Kaldi's own endpoint (0.5 s in the model's conf) is honoured too.
- **Early final**: vosk's partial result often lags the audio: for some words ("그만") it stays
  empty until the final result, so the quick endpoint never sees a command and the utterance
  waits out the full hangover. A second recogniser (``early``), fed the same frames, is
  finalised after ``early_final_seconds`` of quiet; when its result is a command, that command
  acts and the main recogniser's utterance is dropped. Anything else (a rating, noise) is left
  to the main recogniser at the full hangover, so its accuracy is untouched. Before a quick or
  early final the recogniser is given the rest of a hangover's worth of quiet, made of the
  quiet frames just heard, over again (see ``_padded_final``). The early recogniser costs a
  second decode of the speech frames and of those few quiet frames, never of silence.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from coach.core.words import Parsed, ParsedCommand, parse_words
from coach.spec.locale import Locale
from coach.spec.settings import RecognitionSettings
from coach.voice.grammar import UNK, Vocabulary
from coach.voice.recognizer import Decoding, Recognizer
from coach.voice.vad import FRAME_BYTES, FRAME_SECONDS, RATE, EnergyVad, Phase, VadSettings, VadStep

QUIET_SLACK_SECONDS = 0.1
"""How long before the VAD's closing quiet a word may end and still count as decoded from it.

The VAD hears quiet only once the level is near the room's floor, and a word's decaying tail
keeps it above that for up to 0.1 s after the audible end (0-106 ms on the test words)."""


@dataclass(frozen=True)
class HearingSettings:
    """The hearing's tuning; the config's ``recognition:`` section feeds it (:meth:`configured`)."""

    min_confidence: float = 0.45
    """A word the recogniser is less sure of than this becomes ``[unk]`` (0-1)."""
    quick_end_seconds: float = 0.12
    """Quiet after a partial result that reads as a command, to act on it (seconds)."""
    early_final_seconds: float | None = 0.12
    """Quiet after which the early recogniser is finalised, to act on a command it heard (seconds);
    ``None``: never (see the module docstring)."""
    gate_lead_seconds: float = 0.1
    """The microphone gate opens this long before the coach's speech starts (seconds)."""
    gate_tail_seconds: float = 0.4
    """...and stays closed this long after it should have ended: output latency and echo (seconds)."""
    vad: VadSettings = field(default_factory=VadSettings)

    @classmethod
    def configured(cls, recognition: RecognitionSettings) -> HearingSettings:
        """The hearing the config's ``recognition:`` section asks for: these defaults, with the early
        recogniser off when ``early_final`` is false. The seconds stay here, tuned on the test words;
        the config says only whether a slow Pi can afford the second decode."""
        return cls() if recognition.early_final else cls(early_final_seconds=None)


@dataclass(frozen=True)
class HeardWord:
    word: str
    conf: float
    start: float
    """Audio time (seconds, the capture clock)."""
    end: float
    kept: bool
    why: str = ""
    """Why a word was not kept: ``absorber``, ``unk``, ``low-confidence``, ``not-a-locale-word``."""


@dataclass(frozen=True)
class Heard:
    """One utterance as recognised, filtered for the parser."""

    text: str
    """The words for the parser: every word not kept is ``[unk]``, so the strict parser rejects it."""
    raw: str
    """What the recogniser said."""
    words: tuple[HeardWord, ...]
    start: float
    """Audio time of the first frame handed to the recogniser (the pre-roll included)."""
    end: float
    """Audio time of the end of the last word, or of the last frame."""
    at: float
    """Audio time of the frame that closed it: ``at - end`` is the endpointing delay."""
    endpoint: str
    """``vad``, ``quick``, ``early``, ``vosk``, ``gate``, ``too-long``, ``stream-end``."""
    meaning: Parsed | None = None
    """What the one word parser makes of ``text``: parsed once, here (the quick and early endpoints
    need it), and handed on with the words, so nothing downstream parses them again."""

    @property
    def meaningful(self) -> bool:
        """Some word of the locale was heard with confidence."""
        return any(w.kept for w in self.words)


@dataclass
class HearingStats:
    frames: int = 0
    recognised_frames: int = 0
    """Frames handed to the recogniser (the rest cost only the VAD)."""
    gated_frames: int = 0
    discarded: int = 0
    """Utterances dropped because the coach started speaking during them."""
    utterances: int = 0


class Hearing:
    """VAD + gate + recogniser + endpointing over timed frames (see the module docstring)."""

    def __init__(
        self,
        recognizer: Recognizer,
        vocabulary: Vocabulary,
        locale: Locale,
        settings: HearingSettings | None = None,
        early: Recognizer | None = None,
    ) -> None:
        """``early``: a second recogniser on the same grammar for the early final (none: no early final)."""
        self.recognizer = recognizer
        self.vocabulary = vocabulary
        self.locale = locale
        self.settings = settings or HearingSettings()
        self.vad = EnergyVad(self.settings.vad)
        self.stats = HearingStats()
        self._gates: list[tuple[float, float]] = []
        self._pending = b""
        self._main = Decoding(recognizer)
        self._early = Decoding(early) if early is not None else None
        self._closing_quiet: list[bytes] = []
        """The frames of the quiet after the utterance so far (the hangover), to pad a quick or early final."""
        self._start: float | None = None
        """Audio time of the first frame of the utterance being decoded (``None``: no utterance)."""
        self._last_t = 0.0

    # --- inputs ------------------------------------------------------------------------------

    def speaking(self, at: float, seconds: float) -> None:
        """The coach starts speaking at audio time ``at`` for ``seconds``: hear nothing meanwhile."""
        start = at - self.settings.gate_lead_seconds
        end = at + max(0.0, seconds) + self.settings.gate_tail_seconds
        self._gates = [g for g in self._gates if g[1] >= self._last_t - 1.0]
        self._gates.append((start, end))

    def gated_at(self, t: float) -> bool:
        return any(start <= t < end for start, end in self._gates)

    def feed(self, chunk: bytes, t_end: float) -> list[Heard]:
        """Process ``chunk`` (16 kHz mono s16le) whose last sample was captured at ``t_end``."""
        data = self._pending + chunk
        usable = len(data) - len(data) % FRAME_BYTES
        self._pending = data[usable:]
        heard: list[Heard] = []
        for offset in range(0, usable, FRAME_BYTES):
            frame_end = t_end - (len(data) - offset - FRAME_BYTES) / (2 * RATE)
            heard.extend(self._frame(data[offset : offset + FRAME_BYTES], frame_end))
        return heard

    def flush(self) -> list[Heard]:
        """The stream ended: finish any utterance in progress."""
        if self._start is None:
            return []
        self.vad.reset()
        return self._finish("stream-end", self._last_t)

    # --- one frame ---------------------------------------------------------------------------

    def _frame(self, frame: bytes, t_end: float) -> list[Heard]:
        self.stats.frames += 1
        self._main.settle()
        if self._early is not None:
            self._early.settle()
        t_start = t_end - len(frame) / (2 * RATE)
        self._last_t = t_end
        if self.gated_at(t_start) or self.gated_at(t_end - 1e-6):
            return self._gated(frame, t_start, t_end)
        step = self.vad.process(frame)
        out: list[Heard] = []
        if step.started:
            self._start = t_end - sum(len(f) for f in step.frames) / (2 * RATE)
            self._main.begin()
            if self._early is not None:
                self._early.begin()
        if self._start is None:
            return out
        for item in step.frames:
            out.extend(self._decode(item, t_end))
        self._closing_quiet = self._closing_quiet + list(step.frames) if step.phase is Phase.HANGOVER else []
        if step.ended:
            out.extend(self._finish("too-long" if step.forced else "vad", t_end))
        elif self._reads_as_command(step):
            self.vad.reset()
            out.extend(self._finish("quick", t_end))
        elif self._early_final_due(step):
            out.extend(self._early_final(t_end))
        return out

    def _reads_as_command(self, step: VadStep) -> bool:
        """In the closing quiet, the partial result is already a command (through the one parser)."""
        if step.phase is not Phase.HANGOVER or step.quiet_seconds + 1e-9 < self.settings.quick_end_seconds:
            return False
        return isinstance(parse_words(self.recognizer.partial(), self.locale), ParsedCommand)

    def _early_final_due(self, step: VadStep) -> bool:
        seconds = self.settings.early_final_seconds
        return (
            self._early is not None
            and self._early.live
            and seconds is not None
            and step.phase is Phase.HANGOVER
            and step.quiet_seconds + 1e-9 >= seconds
        )

    def _early_final(self, t_end: float) -> list[Heard]:
        """Finalise the early recogniser: a command acts now, anything else waits for the main one."""
        early = self._early
        assert early is not None
        heard = self._heard(self._padded_final(early), "early", t_end, early)
        if heard is not None:
            heard = self._without_made_up_tail(heard)
        if heard is None or not isinstance(heard.meaning, ParsedCommand):
            return []
        self._main.drop()
        self.vad.reset()
        self._start = None
        return self._counted(heard)

    def _decode(self, frame: bytes, t_end: float) -> list[Heard]:
        self.stats.recognised_frames += 1
        early = self._early
        if early is not None and early.live and early.accept(frame):
            early.drop()  # vosk's own endpoint inside the early recogniser: it no longer lines up
        if self._main.accept(frame):
            if early is not None:
                early.drop()  # the main recogniser starts a new segment here; the early one cannot follow
            return self._counted(self._heard(self.recognizer.result(), "vosk", t_end, self._main))
        return []

    def _gated(self, frame: bytes, t_start: float, t_end: float) -> list[Heard]:
        self.stats.gated_frames += 1
        out: list[Heard] = []
        if self.vad.phase is Phase.HANGOVER and self._start is not None:
            out = self._finish("gate", self._last_t)  # ended before the coach spoke: keep it
        elif self._start is not None:
            self._main.drop()  # still speaking when the coach started: it spans the coach's voice
            self._drop_early()
            self._start = None
            self.stats.discarded += 1
        self.vad.reset(armed=False, lead=self._after_gate(frame, t_start, t_end))
        return out

    def _after_gate(self, frame: bytes, t_start: float, t_end: float) -> bytes:
        """The samples of ``frame`` captured after the gate ended, to the sample (often none).

        Why not drop the whole frame: the recogniser on espeak-ng's robotic Korean turns out to
        be sensitive to where its audio starts (10-30 ms later changed 1 word in 10), so the path
        hands it every sample after the gate, as a plain call on the turn's audio would get.
        """
        if self.gated_at(t_end - 1e-6):
            return b""
        gate_end = max(end for start, end in self._gates if start <= t_start < end)
        skip = max(0, min(len(frame) // 2, math.ceil((gate_end - t_start) * RATE - 1e-6)))
        return frame[2 * skip :]

    def _padded_final(self, decoding: Decoding) -> dict[str, Any]:
        """The final result after a hangover's worth of quiet: the quiet heard so far, over again.

        vosk's final result depends on how much quiet follows the last word. A quick or early
        endpoint would otherwise finalise on 0.12 s of it, and then guess more often than the
        full hangover does. Measured without it: a clear "아니" became "아니 입니다" (the one
        utterance ``bench/listen_fidelity.py`` lost), and in one 10-minute babble run two early
        finals became commands that the full hangover did not hear (none with it).
        """
        decoding.live = False
        padding = round(self.settings.vad.hangover_seconds / FRAME_SECONDS) - len(self._closing_quiet)
        for frame in itertools.islice(itertools.cycle(self._closing_quiet), max(0, padding)):
            if decoding.accept(frame):
                return decoding.recognizer.result()  # vosk's own endpoint: that is its final word
        return decoding.recognizer.final()

    def _finish(self, endpoint: str, t_end: float) -> list[Heard]:
        self._main.live = False
        result = self._padded_final(self._main) if endpoint == "quick" else self.recognizer.final()
        heard = self._heard(result, endpoint, t_end, self._main)
        self._drop_early()
        self._start = None
        if heard is not None and endpoint == "quick":
            heard = self._without_made_up_tail(heard)
        return self._counted(heard)

    def _drop_early(self) -> None:
        if self._early is not None:
            self._early.drop()

    def _counted(self, heard: Heard | None) -> list[Heard]:
        if heard is None:
            return []
        self.stats.utterances += 1
        return [heard]

    def _without_made_up_tail(self, heard: Heard) -> Heard:
        """The command the result shows, without a guess vosk made on the quiet after it.

        A quick or early endpoint decodes the command and then only a short quiet; on that quiet
        vosk sometimes adds a word it is unsure of ("아니 이" with 이 at 0.45), and the strict
        parser would then reject a command it heard well. Trailing words are dropped while they
        are such guesses: not kept, below ``min_confidence`` (or ``[unk]``), and ending at most
        :data:`QUIET_SLACK_SECONDS` before the closing quiet. And only when what is left, every
        word of it kept as before, is a command: nothing new becomes one.

        Why not every unknown word at the end: a confident one is part of what was said.
        Dropped, "멈춰" heard as "넘겨 이거" became *next* instead of a pause, and babble heard
        as "예 하세요" became *yes*.
        """
        quiet_from = heard.at - len(self._closing_quiet) * FRAME_SECONDS

        def guess(word: HeardWord) -> bool:
            unsure = word.word == UNK or word.conf < self.settings.min_confidence
            return not word.kept and unsure and word.end >= quiet_from - QUIET_SLACK_SECONDS

        words = list(heard.words)
        while words and guess(words[-1]):
            words.pop()
        if not words or len(words) == len(heard.words):
            return heard
        text = _parser_text(words)
        meaning = parse_words(text, self.locale)
        if not isinstance(meaning, ParsedCommand):
            return heard
        return replace(heard, text=text, meaning=meaning)

    def _heard(self, result: dict[str, Any], endpoint: str, t_end: float, decoding: Decoding) -> Heard | None:
        assert self._start is not None
        shift = self._start - decoding.began_at
        words = tuple(self._word(item, shift) for item in result.get("result", []))
        if not words:
            return None
        text = _parser_text(words)
        return Heard(
            text=text,
            raw=str(result.get("text", "")),
            words=words,
            start=self._start,
            end=words[-1].end,
            at=t_end,
            endpoint=endpoint,
            meaning=parse_words(text, self.locale),
        )

    def _word(self, item: dict[str, Any], shift: float) -> HeardWord:
        word, conf = str(item.get("word", "")), float(item.get("conf", 0.0))
        vocabulary = self.vocabulary
        if word in vocabulary.words:
            why = "" if conf >= self.settings.min_confidence else "low-confidence"
        elif word in vocabulary.absorbers:
            why = "absorber"
        else:
            why = "unk" if word == UNK else "not-a-locale-word"
        start, end = float(item.get("start", 0.0)) + shift, float(item.get("end", 0.0)) + shift
        return HeardWord(word, round(conf, 3), round(start, 3), round(end, 3), kept=not why, why=why)


def _parser_text(words: Sequence[HeardWord]) -> str:
    """The words for the parser: every word not kept is ``[unk]``, so the strict parser rejects it."""
    return " ".join(w.word if w.kept else UNK for w in words)
