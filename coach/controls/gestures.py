"""Button gestures from raw edges: debounce, press, hold and long hold, on times given by the caller.

Pure: edges come in with the time they happened, gestures go out; nothing here reads a clock or
sleeps. The adapter asks :meth:`ButtonTracker.deadline` when to call :meth:`ButtonTracker.tick`
next (the way the runner drives the session), so tests step time exactly instead of sleeping.

Debouncing is done here rather than by the pin factory because the factories disagree (lgpio waits
for a stable level, the native factory drops edges for a while, gpiozero's ``MockPin`` does nothing),
and one rule that is tested beats three that are not.
"""

from __future__ import annotations

from dataclasses import dataclass

PRESS = "press"
"""Pressed and let go before the hold time."""
HOLD = "hold"
"""Still down when the hold time is reached (reported while the button is down)."""
LONG_HOLD = "long-hold"
"""Still down when the long-hold time is reached (reported while the button is down)."""
HOLD_RELEASE = "hold-release"
"""Let go after a hold, before a long hold."""
STEP = "step"
"""One detent of a rotary encoder; ``control`` says the direction (``up`` or ``down``)."""

OK, UP, DOWN = "ok", "up", "down"
"""Control names: the main button (the only one, OK, or the encoder's push switch), and the two steppers."""


@dataclass(frozen=True)
class Gesture:
    """Something a person did with one control, at a time on the adapter's clock (seconds)."""

    kind: str
    control: str
    at: float
    seconds: float = 0.0
    """How long the button was down (for ``press`` and ``hold-release``; seconds)."""


class ButtonTracker:
    """Turns the edges of one button into gestures.

    Debounce: the first edge counts at once (a press feels instant); edges in the ``bounce``
    seconds after a counted edge are chatter and only remembered. When that window ends, the
    level last seen is taken as the truth, so a very short tap whose release fell inside the
    window is still a press, and never a stuck button that later reads as a hold.
    """

    def __init__(self, control: str, bounce: float, hold: float, long_hold: float) -> None:
        self.control = control
        self.bounce = bounce
        self.hold = hold
        self.long_hold = max(long_hold, hold)
        self.down_since: float | None = None
        """When the counted press began; ``None`` while the button is up."""
        self.stage = 0
        """0 pressed, 1 the hold was reported, 2 the long hold was reported."""
        self.raw_down = False
        self.last_edge = float("-inf")

    def edge(self, down: bool, at: float) -> list[Gesture]:
        """The pin went down (pressed) or up at ``at``."""
        self.raw_down = down
        if at - self.last_edge < self.bounce:
            return []
        return self._count(down, at)

    def deadline(self) -> float | None:
        """When :meth:`tick` next has something to do, or ``None``."""
        due: list[float] = []
        if self._unsettled():
            due.append(self.last_edge + self.bounce)
        if self.down_since is not None and self.stage < 2:
            due.append(self.down_since + (self.hold if self.stage == 0 else self.long_hold))
        return min(due, default=None)

    def tick(self, now: float) -> list[Gesture]:
        """Report what time alone has decided by ``now``: a settled level, a hold, a long hold."""
        out: list[Gesture] = []
        settle = self.last_edge + self.bounce
        if self._unsettled() and now >= settle:
            out += self._count(self.raw_down, settle)
        start = self.down_since
        if start is not None and self.stage == 0 and now >= start + self.hold:
            self.stage = 1
            out.append(Gesture(HOLD, self.control, start + self.hold, self.hold))
        if start is not None and self.stage == 1 and now >= start + self.long_hold:
            self.stage = 2
            out.append(Gesture(LONG_HOLD, self.control, start + self.long_hold, self.long_hold))
        return out

    def _unsettled(self) -> bool:
        return self.raw_down != (self.down_since is not None)

    def _count(self, down: bool, at: float) -> list[Gesture]:
        if down == (self.down_since is not None):
            return []
        self.last_edge = at
        if down:
            self.down_since, self.stage = at, 0
            return []
        start, stage = self.down_since, self.stage
        assert start is not None
        self.down_since = None
        if stage == 0:
            return [Gesture(PRESS, self.control, at, at - start)]
        if stage == 1:
            return [Gesture(HOLD_RELEASE, self.control, at, at - start)]
        return []
