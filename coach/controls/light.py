"""The status light: one LED whose pattern says what the session is doing.

For someone glancing over from the mat (or a carer across the room): breathing = ready and
waiting, steady = the coach is talking you through something, fast blink = it is waiting for your
pain rating, slow blink = paused, dark = finished. On a pin without PWM (gpiozero's native
factory) the breathing becomes a short flash every two seconds, still distinct from the others.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Pattern:
    name: str
    """``off``, ``on``, ``breathe`` or ``blink``."""
    on_seconds: float = 0.0
    """Blink: time on; breathe: time fading in (seconds)."""
    off_seconds: float = 0.0
    """Blink: time off; breathe: time fading out (seconds)."""


OFF = Pattern("off")
ON = Pattern("on")
BREATHE = Pattern("breathe", 1.5, 1.5)
FAST_BLINK = Pattern("blink", 0.25, 0.25)
SLOW_BLINK = Pattern("blink", 1.0, 1.0)
FLASH = Pattern("blink", 0.2, 1.8)
"""Breathing on an LED that cannot dim."""

STATE_PATTERNS: dict[str, Pattern] = {
    "idle": BREATHE,
    "intro": ON,
    "exercise": ON,
    "summary": ON,
    "pain-check": FAST_BLINK,
    "confirm": FAST_BLINK,
    "menu": FAST_BLINK,
    "code": FAST_BLINK,
    "feedback": FAST_BLINK,
    "code-confirm": FAST_BLINK,
    "resume-offer": FAST_BLINK,
    "paused": SLOW_BLINK,
    "ended": OFF,
}


def pattern_for(state: str) -> Pattern:
    """The pattern for a session state; an unknown state shows steady on (alive, busy)."""
    return STATE_PATTERNS.get(state, ON)


class Light:
    """Drives a gpiozero ``PWMLED`` (or a plain ``LED`` when ``dims`` is false) in patterns.

    gpiozero runs blinking and breathing in its own background thread; starting a new pattern
    stops the old one, so showing a state costs nothing and never blocks the caller.
    """

    def __init__(self, led: Any, dims: bool) -> None:
        self.led = led
        self.dims = dims
        self.pattern: Pattern | None = None

    def show(self, pattern: Pattern) -> None:
        if pattern == self.pattern:
            return  # restarting a blink would visibly stutter it
        self.pattern = pattern
        if pattern.name == "off":
            self.led.off()
        elif pattern.name == "on":
            self.led.on()
        elif pattern.name == "breathe" and self.dims:
            self.led.pulse(fade_in_time=pattern.on_seconds, fade_out_time=pattern.off_seconds)
        elif pattern.name == "breathe":
            self.led.blink(on_time=FLASH.on_seconds, off_time=FLASH.off_seconds)
        else:
            self.led.blink(on_time=pattern.on_seconds, off_time=pattern.off_seconds)

    def show_state(self, state: str) -> None:
        self.show(pattern_for(state))
