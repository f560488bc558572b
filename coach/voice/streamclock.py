"""When will the next sample written to the audio device be heard, in session time?

The device answers that itself (``now + snd_pcm_delay``) before every chunk, but each answer is a
little late, never early: a pointer that moves once per hardware period, or the thread being
preempted between asking and reading the clock, both make it look later than it is. And the
device's sample clock is not the monotonic clock: measured here, PulseAudio's null sink ran
60-130 ppm fast, and a sound card's crystal is off by tens of ppm too. Counting written samples
at the nominal rate would drift (about 8 ms a minute at 130 ppm); following each answer would
jitter by the answers' lateness.

So :class:`StreamClock` keeps, for every second of stream, the earliest answer (relative to the
nominal rate), and places samples on the straight line through the last half-minute of those
minima: the device's real rate and latency, with the lateness filtered out. A jump the line
cannot explain (an underrun restarted the stream, samples were dropped) re-anchors it.
"""

from __future__ import annotations

from collections import deque

WINDOW_SECONDS = 1.0
"""Stream time over which the earliest answer is kept as one point of the line (seconds)."""
HISTORY_WINDOWS = 30
"""Points the line is fitted through: half a minute of stream, enough to see 10 ppm."""
JUMP_SECONDS = 0.020
"""Disagreement with the line beyond which the device has jumped, not merely answered late."""
JUMP_CHUNKS = 10
"""Consecutive late answers beyond ``JUMP_SECONDS`` that mean the device is now later for good."""


class StreamClock:
    """Session time at which each sample of a continuous output stream is heard."""

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self._window_frames = max(1, round(WINDOW_SECONDS * rate))
        self.reset()

    def reset(self) -> None:
        """Forget everything: the stream restarted, or session time moved."""
        self._anchor: float | None = None
        """Session time sample 0 is heard at, at the nominal rate."""
        self._frames = 0
        self._minima: deque[tuple[int, float]] = deque(maxlen=HISTORY_WINDOWS)
        self._window_min: float | None = None
        self._window_end = self._window_frames
        self._offset = 0.0
        self._slope = 0.0
        self._late_run = 0

    def observe(self, heard_at: float | None, now: float) -> None:
        """Take the device's answer for the next sample (``None``: it cannot tell; ``now`` then
        anchors a stream that has no anchor yet)."""
        if self._anchor is None:
            self._anchor = now if heard_at is None else heard_at
            return
        if heard_at is None:
            return
        lateness = heard_at - self._nominal()
        error = lateness - self._correction()
        self._late_run = self._late_run + 1 if error > JUMP_SECONDS else 0
        if error < -JUMP_SECONDS or self._late_run >= JUMP_CHUNKS:
            self.reset()
            self._anchor = heard_at
            return
        if error > JUMP_SECONDS:
            return  # one very late answer (the thread was preempted) says nothing about the device
        self._window_min = lateness if self._window_min is None else min(self._window_min, lateness)

    def next_heard(self) -> float:
        """Session time the next sample written will be heard."""
        return self._nominal() + self._correction()

    def advance(self, frames: int) -> None:
        """``frames`` samples were written."""
        self._frames += frames
        if self._frames >= self._window_end:
            if self._window_min is not None:
                self._minima.append((self._frames, self._window_min))
                self._fit()
            self._window_min = None
            self._window_end = self._frames + self._window_frames

    def _nominal(self) -> float:
        return (self._anchor or 0.0) + self._frames / self.rate

    def _correction(self) -> float:
        if not self._minima:
            return self._window_min or 0.0
        return self._offset + self._slope * self._frames

    def _fit(self) -> None:
        """Least-squares line through the minima: lateness = offset + slope * frames."""
        points = list(self._minima)
        if len(points) == 1:
            self._offset, self._slope = points[0][1], 0.0
            return
        mean_x = sum(x for x, _ in points) / len(points)
        mean_y = sum(y for _, y in points) / len(points)
        spread = sum((x - mean_x) ** 2 for x, _ in points)
        self._slope = sum((x - mean_x) * (y - mean_y) for x, y in points) / spread
        self._offset = mean_y - self._slope * mean_x
