"""A small energy voice-activity detector: decides which audio the recogniser gets to see.

Why energy and not a trained VAD: it costs one pass over the samples in C (``sum(map(mul))``),
needs no extra package on the Pi, and its only job here is to keep the recogniser idle on
silence and to mark where an utterance ends. The recogniser, the confidence filter and the
strict word parser decide what was said.

The detector tracks the background level (the noise floor) while nobody speaks: it falls at once
to a quieter level and rises slowly, so a steady fan or hum becomes the floor and never opens it.
Speech starts when the level stays ``start_db`` above the floor for a few frames *and* some of
those frames are voiced (periodic, like a vowel); it ends after ``hangover_seconds`` below
``floor + stop_db``. The voicing test is what keeps hiss out: a rustle, a breath or a burst of
white noise is loud but not periodic, and a grammar recogniser would otherwise hear it as the
nearest fricative word ("십", ten). Every word the coach understands has a vowel.
"""

from __future__ import annotations

import math
import operator
from array import array
from collections import deque
from dataclasses import dataclass
from enum import Enum

RATE = 16000
"""Sample rate of all audio in the voice path (hertz)."""
FRAME_SAMPLES = 480
"""One VAD frame: 30 ms at 16 kHz (samples)."""
FRAME_BYTES = FRAME_SAMPLES * 2
FRAME_SECONDS = FRAME_SAMPLES / RATE
SILENCE_DB = -100.0
"""Level given to a frame of digital silence (dBFS)."""
MIN_LAG, MAX_LAG = 16, 100
"""Pitch lags for :func:`voicing`, at 8 kHz: 500 Hz down to 80 Hz (samples)."""
LOW_RATE_HANDICAP = 0.15
"""Subtracted from the 4 kHz periodicity in :func:`voicing`: it scores noise higher (see there)."""


def voicing(frame: bytes) -> float:
    """Periodicity of ``frame``, 0-1: the highest normalised autocorrelation for a pitch of 80-500 Hz.

    Computed after pre-emphasis, which whitens pink and brown noise, at two rates: 8 kHz (pairs
    of samples added: a crude low-pass) and 4 kHz (fours added), less a handicap. The 8 kHz
    measure misses high-pitched vowels with strong upper formants (espeak-ng's "이", "셋", "십"
    in its f3 voice never started speech with it alone); the 4 kHz one, with its low-pass,
    hears their pitch. Measured on 53 locale words in three espeak-ng voices and 5 minutes each
    of sox noise: with the 4 kHz measure every word starts speech (at a threshold up to 0.55);
    white, pink, brown noise and white-noise bursts never scored above 0.45 on either measure,
    handicap included (the 4 kHz one alone reached 0.59 on white noise). About a millisecond per
    frame on a desktop, and only for loud frames before speech starts.
    """
    samples = array("h")
    samples.frombytes(frame[: len(frame) - len(frame) % 2])
    pairs = [a + b for a, b in zip(samples[0::2], samples[1::2])]
    fours = [a + b for a, b in zip(pairs[0::2], pairs[1::2])]
    return max(_periodicity(pairs, MIN_LAG, MAX_LAG), _periodicity(fours, MIN_LAG // 2, MAX_LAG // 2) - LOW_RATE_HANDICAP)


def _periodicity(x: list[int], min_lag: int, max_lag: int) -> float:
    """Highest normalised autocorrelation of pre-emphasised ``x`` over lags ``min_lag..max_lag``."""
    y = [a - 0.95 * b for a, b in zip(x[1:], x[:-1])]
    n = len(y)
    energy = sum(map(operator.mul, y, y))
    if energy <= 0 or n <= max_lag:
        return 0.0
    best = 0.0
    for lag in range(min_lag, max_lag + 1):
        best = max(best, sum(map(operator.mul, y[: n - lag], y[lag:])) * n / ((n - lag) * energy))
    return best


def level_db(frame: bytes) -> float:
    """RMS level of 16-bit little-endian mono PCM, in dB relative to full scale."""
    samples = array("h")
    samples.frombytes(frame[: len(frame) - len(frame) % 2])
    if not samples:
        return SILENCE_DB
    energy = sum(map(operator.mul, samples, samples)) / len(samples)
    if energy <= 0:
        return SILENCE_DB
    return 10.0 * math.log10(energy / (32768.0 * 32768.0))


@dataclass(frozen=True)
class VadSettings:
    start_db: float = 9.0
    """Level above the noise floor that starts speech (dB)."""
    stop_db: float = 5.0
    """Level above the noise floor that still counts as speech once it has started (dB)."""
    min_level_db: float = -52.0
    """Nothing quieter than this is speech, however quiet the room (dBFS)."""
    start_frames: int = 3
    """Frames in a row above the start level before speech starts (3 x 30 ms)."""
    voiced_frames: int = 2
    """Of those loud frames, how many must be voiced (see :func:`voicing`) for speech to start."""
    voicing_threshold: float = 0.5
    """:func:`voicing` above this is a voiced frame."""
    hangover_seconds: float = 0.27
    """Quiet after speech that ends an utterance (seconds); longer than the stop gap inside a word."""
    preroll_seconds: float = 0.5
    """Audio before the detected start that is handed to the recogniser too (seconds)."""
    floor_rise_db_per_second: float = 3.0
    """How fast the noise floor follows a louder background (dB per second)."""
    max_speech_seconds: float = 8.0
    """Longer "speech" is a new background noise: end the utterance and take it as the floor (seconds)."""


class Phase(Enum):
    QUIET = "quiet"
    SPEECH = "speech"
    HANGOVER = "hangover"
    """Speech has stopped for less than the hangover: the utterance may still go on."""


@dataclass(frozen=True)
class VadStep:
    """What one frame meant, and the frames to hand to the recogniser for it."""

    phase: Phase
    frames: tuple[bytes, ...] = ()
    started: bool = False
    ended: bool = False
    quiet_seconds: float = 0.0
    """Quiet so far at the end of the current utterance (seconds)."""
    forced: bool = False
    """The utterance was ended because it ran longer than ``max_speech_seconds``."""


class EnergyVad:
    """Frame-by-frame speech detector (pure: no clock, no I/O; feed it 30 ms frames)."""

    def __init__(self, settings: VadSettings | None = None) -> None:
        self.settings = settings or VadSettings()
        self.floor_db: float | None = None
        self.phase = Phase.QUIET
        self.armed = True
        """False after a gate: no speech may start until a quiet frame has been seen."""
        self._loud_run = 0
        self._voiced_run = 0
        self._quiet_frames = 0
        self._speech_frames = 0
        self._preroll: deque[bytes] = deque(maxlen=max(1, round(self.settings.preroll_seconds / FRAME_SECONDS)))
        self._lead = b""
        """Audio before the first pre-roll frame that may be heard (see :meth:`reset`)."""
        self.last_level_db = SILENCE_DB

    @property
    def in_utterance(self) -> bool:
        return self.phase is not Phase.QUIET

    def reset(self, armed: bool = True, lead: bytes = b"") -> None:
        """Forget any utterance in progress (the noise floor is kept).

        ``lead`` is audio from just before the next frame that may still be heard (the part of a
        frame after the microphone gate ended): it starts the pre-roll, so the recogniser gets
        every sample after the gate, not only whole frames.
        """
        self.phase = Phase.QUIET
        self.armed = armed
        self._loud_run = self._voiced_run = self._quiet_frames = self._speech_frames = 0
        self._preroll.clear()
        self._lead = lead

    def process(self, frame: bytes) -> VadStep:
        level = level_db(frame)
        self.last_level_db = level
        if self.floor_db is None:
            self.floor_db = level
        if self.phase is Phase.QUIET:
            return self._quiet(frame, level)
        return self._in_speech(frame, level)

    def _threshold(self, above: float) -> float:
        assert self.floor_db is not None
        return max(self.floor_db + above, self.settings.min_level_db)

    def _quiet(self, frame: bytes, level: float) -> VadStep:
        settings = self.settings
        loud = level > self._threshold(settings.start_db)
        if not loud:
            self.armed = True
        voiced = loud and self.armed and voicing(frame) > settings.voicing_threshold
        if not voiced:
            self._track_floor(level)  # hiss that goes on becomes the floor, like any steady noise
        if loud and self.armed:
            self._loud_run += 1
            self._voiced_run += voiced
        else:
            self._loud_run = self._voiced_run = 0
        if len(self._preroll) == self._preroll.maxlen:
            self._lead = b""  # older than the pre-roll now
        self._preroll.append(frame)
        if self._loud_run < settings.start_frames or self._voiced_run < settings.voiced_frames:
            return VadStep(Phase.QUIET)
        self.phase = Phase.SPEECH
        self._speech_frames = self._loud_run
        self._quiet_frames = 0
        frames = ((self._lead,) if self._lead else ()) + tuple(self._preroll)
        self._preroll.clear()
        self._lead = b""
        return VadStep(Phase.SPEECH, frames, started=True)

    def _in_speech(self, frame: bytes, level: float) -> VadStep:
        self._speech_frames += 1
        if self._speech_frames * FRAME_SECONDS > self.settings.max_speech_seconds:
            self.floor_db = level - self.settings.stop_db  # the new background: take it as the floor
            self.reset(armed=False)
            return VadStep(Phase.QUIET, (frame,), ended=True, forced=True)
        if level > self._threshold(self.settings.stop_db):
            self.phase = Phase.SPEECH
            self._quiet_frames = 0
            return VadStep(Phase.SPEECH, (frame,))
        self.phase = Phase.HANGOVER
        self._quiet_frames += 1
        quiet = self._quiet_frames * FRAME_SECONDS
        if quiet + 1e-9 >= self.settings.hangover_seconds:
            self.reset()
            return VadStep(Phase.QUIET, (frame,), ended=True, quiet_seconds=quiet)
        return VadStep(Phase.HANGOVER, (frame,), quiet_seconds=quiet)

    def _track_floor(self, level: float) -> None:
        assert self.floor_db is not None
        if level < self.floor_db:
            self.floor_db = 0.5 * self.floor_db + 0.5 * level
        else:
            self.floor_db = min(level, self.floor_db + self.settings.floor_rise_db_per_second * FRAME_SECONDS)
