"""The one clock: session time in seconds, waited on with absolute deadlines.

:class:`MonotonicClock` runs on ``time.monotonic`` (never jumps with NTP or a wall-clock change,
which matters on a Pi without a real-time clock that sets its time from the network after boot).
:class:`FakeClock` jumps straight to each deadline, so a 20-minute session simulates in
milliseconds with exact due times (the idea of Trio's ``MockClock``).
"""

from __future__ import annotations

import queue
import time
from typing import Protocol, TypeVar

T = TypeVar("T")

SPIN_MARGIN = 0.002
"""The last stretch before a deadline is slept in short steps for precision (seconds)."""


class Clock(Protocol):
    def now(self) -> float:
        """Session time (seconds since the clock started)."""
        ...

    def wait(self, deadline: float | None, inbox: queue.Queue[T]) -> T | None:
        """Wait until ``deadline`` (session time; ``None`` = no deadline) or an item arrives in ``inbox``.

        Returns the item, or ``None`` when the deadline came first.
        """
        ...


class MonotonicClock:
    """Real time, optionally scaled: with ``speed=2`` a 20-minute session takes 10 minutes."""

    def __init__(self, speed: float = 1.0) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.speed = speed
        self._origin = time.monotonic()

    def now(self) -> float:
        return (time.monotonic() - self._origin) * self.speed

    def reset(self) -> None:
        """Make now the session's time zero (after warm-up work that should not count)."""
        self._origin = time.monotonic()

    def wait(self, deadline: float | None, inbox: queue.Queue[T]) -> T | None:
        if deadline is None:
            return inbox.get()
        while True:
            remaining = (deadline - self.now()) / self.speed
            if remaining > SPIN_MARGIN:
                # Wake a little early, then close in with short sleeps: a timed queue wait can
                # overshoot by a scheduler tick, a 0.2 ms sleep does not.
                try:
                    return inbox.get(timeout=remaining - SPIN_MARGIN)
                except queue.Empty:
                    continue
            try:
                return inbox.get_nowait()
            except queue.Empty:
                pass
            if remaining <= 0:
                return None
            time.sleep(min(remaining, 0.0002))


class FakeClock:
    """Simulated time that moves only when waited on, jumping to the deadline at once."""

    def __init__(self, start: float = 0.0) -> None:
        self.t = start

    def now(self) -> float:
        return self.t

    def wait(self, deadline: float | None, inbox: queue.Queue[T]) -> T | None:
        try:
            return inbox.get_nowait()
        except queue.Empty:
            pass
        if deadline is not None and deadline > self.t:
            self.t = deadline
        return None

    def advance(self, seconds: float) -> None:
        self.t += seconds
