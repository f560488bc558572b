"""``coach hw-test``: walk through each configured control and light and say what is seen.

Added to the ``coach`` command through ``coach.cli.main.EXTENSIONS`` (``register(commands)``). It uses
the same :func:`~coach.controls.adapter.build_controls` as a session, so what it sees (debounced
presses, holds, encoder steps) is what a session would get. Exit status: 0 everything was seen,
1 no controls here (the one line says why), 3 some step saw nothing in its time.
"""

from __future__ import annotations

import argparse
import queue
import sys
import time
from collections.abc import Callable
from typing import IO, Any

from coach.controls.adapter import Controls, build_controls
from coach.controls.gestures import DOWN, HOLD, HOLD_RELEASE, LONG_HOLD, OK, PRESS, STEP, UP, Gesture
from coach.controls.light import BREATHE, FAST_BLINK, OFF, ON, SLOW_BLINK, Pattern
from coach.run.inputs import Input
from coach.spec.config import ControlSettings, load_settings

STEP_TIMEOUT = 15.0
"""How long each step waits for the person (seconds)."""
LED_SECONDS = 3.0
"""How long each LED pattern is shown (seconds)."""
TURN_SETTLE = 0.6
"""An encoder turn is over when no step came for this long (seconds)."""
EXIT_NO_CONTROLS = 1
EXIT_NOT_SEEN = 3

LED_STEPS: tuple[tuple[str, Pattern], ...] = (
    ("breathing: idle, ready to start", BREATHE),
    ("on: the coach is talking you through the session", ON),
    ("fast blink: waiting for your pain rating", FAST_BLINK),
    ("slow blink: paused", SLOW_BLINK),
    ("off: the session has ended", OFF),
)

Driver = Callable[[str], None]
"""Called with each step's name (``press ok``, ``hold ok``, ``turn up``, ``motion``…) right after
its prompt is printed; a test drives mock pins there, a person needs nothing."""


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "hw-test",
        help="test the wiring of the buttons, LED and motion sensor",
        description="Walk through each configured control and light and say what is seen. "
        "Exit 0 when every step saw something, 1 when there are no controls here, 3 when a step saw nothing.",
    )
    parser.add_argument(
        "--timeout", type=_seconds, default=STEP_TIMEOUT, metavar="SECONDS", help="time for each step (default 15)"
    )
    parser.add_argument(
        "--led-seconds", type=_seconds, default=LED_SECONDS, metavar="SECONDS", help="time per LED pattern (default 3)"
    )
    parser.set_defaults(handler=cmd_hw_test)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 <= value <= 600:
        raise argparse.ArgumentTypeError(f"must be from 0 to 600 seconds, got {text}")
    return value


def cmd_hw_test(args: argparse.Namespace) -> int:
    settings = load_settings(args.config).settings
    return run_hw_test(settings.controls, settings.language, sys.stdout, timeout=args.timeout, led_seconds=args.led_seconds)


def run_hw_test(
    settings: ControlSettings,
    language: str,
    out: IO[str],
    *,
    timeout: float = STEP_TIMEOUT,
    led_seconds: float = LED_SECONDS,
    pin_factory: Callable[[], Any] | None = None,
    driver: Driver | None = None,
    turn_settle: float = TURN_SETTLE,
) -> int:
    """Run the walk-through; return the exit status."""
    seen: queue.Queue[Gesture] = queue.Queue()
    controls, reason = build_controls(settings, language, pin_factory=pin_factory, observer=seen.put)
    if controls is None:
        out.write(f"{reason}\n")
        return EXIT_NO_CONTROLS
    walk = _Walk(controls, seen, out, timeout, driver or (lambda step: None))
    try:
        controls.start(queue.Queue[Input]())
        walk.say(f"Layout {controls.devices.layout}; each step waits up to {timeout:g} s (Ctrl-C stops).")
        for note in controls.notes:
            walk.say(f"Note: {note}.")
        for control in (DOWN, UP, OK):
            if control in controls.devices.buttons:
                walk.press(control)
        walk.hold(settings.hold_seconds)
        if controls.devices.encoder is not None:
            walk.turn(UP, "clockwise", turn_settle)
            walk.turn(DOWN, "counter-clockwise", turn_settle)
        walk.lights(led_seconds)
        walk.motion()
    finally:
        controls.close()
    if walk.missed:
        walk.say(f"{walk.missed} of {walk.steps} steps saw nothing: check those wires (hardware.md, 'Test your wiring').")
        return EXIT_NOT_SEEN
    walk.say(f"All {walk.steps} steps seen.")
    return 0


class _Walk:
    """The steps, printing a prompt, then on the same line what was seen."""

    def __init__(self, controls: Controls, seen: queue.Queue[Gesture], out: IO[str], timeout: float, driver: Driver) -> None:
        self.controls = controls
        self.devices = controls.devices
        self.seen = seen
        self.out = out
        self.timeout = timeout
        self.driver = driver
        self.steps = 0
        self.missed = 0

    def say(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def prompt(self, text: str, step: str) -> None:
        while not self.seen.empty():  # anything from before the prompt is not an answer to it
            self.seen.get_nowait()
        self.steps += 1
        self.out.write(f"{text}…  ")
        self.out.flush()
        self.driver(step)

    def result(self, text: str | None, where: str) -> None:
        if text is None:
            self.missed += 1
            text = f"nothing seen in {self.timeout:g} s; check {where}"
        self.say(text)

    def wait(self, wanted: Callable[[Gesture], bool], timeout: float) -> Gesture | None:
        end = time.monotonic() + timeout
        while (left := end - time.monotonic()) > 0:
            try:
                gesture = self.seen.get(timeout=left)
            except queue.Empty:
                return None
            if wanted(gesture):
                return gesture
        return None

    def _where(self, control: str) -> str:
        part, pin = self.devices.parts[control]
        return f"the {part} on BCM {pin}"

    def press(self, control: str) -> None:
        part, pin = self.devices.parts[control]
        self.prompt(f"Press the {part} (BCM {pin}) now", f"press {control}")
        got = self.wait(lambda g: g.control == control and g.kind in (PRESS, HOLD), self.timeout)
        self.result(None if got is None else f"seen: {got.kind} ({got.seconds:.2f} s)", self._where(control))

    def hold(self, hold_seconds: float) -> None:
        part, _ = self.devices.parts[OK]
        self.prompt(f"Press and hold the {part} for {hold_seconds:g} s (that pauses a session)", f"hold {OK}")
        got = self.wait(lambda g: g.control == OK and g.kind == HOLD, self.timeout)
        self.result(None if got is None else f"seen: hold ({got.seconds:.2f} s); let go", self._where(OK))
        self.driver(f"release {OK}")
        if got is not None:
            self.wait(lambda g: g.control == OK and g.kind in (HOLD_RELEASE, LONG_HOLD), self.timeout)

    def turn(self, direction: str, name: str, settle: float) -> None:
        a, b = self.devices.parts["encoder"][1], self.devices.parts["encoder_b"][1]
        self.prompt(f"Turn the knob {name} a few clicks", f"turn {direction}")
        first = self.wait(lambda g: g.kind == STEP, self.timeout)
        if first is None:
            self.result(None, f"the rotary encoder on BCM {a} (A) and {b} (B)")
            return
        steps = [first]
        while (more := self.wait(lambda g: g.kind == STEP, settle)) is not None:
            steps.append(more)
        ours = sum(1 for g in steps if g.control == direction)
        text = f"seen: {ours} step{'s' if ours != 1 else ''} {name}"
        if ours < len(steps) - ours:
            text += "; the knob counts the other way: swap encoder_a_pin and encoder_b_pin (or the A and B wires)"
        self.result(text, "")

    def lights(self, seconds: float) -> None:
        light = self.controls.light
        if light is None:
            self.say("No status LED configured (controls.led_pin).")
            return
        _, pin = self.devices.parts["led"]
        for label, pattern in LED_STEPS:
            self.say(f"LED (BCM {pin}): {label}")
            light.show(pattern)
            time.sleep(seconds)

    def motion(self) -> None:
        sensor = self.devices.motion
        if sensor is None:
            self.say("No motion sensor configured (controls.motion_pin).")
            return
        _, pin = self.devices.parts["motion"]
        self.prompt(f"Wave a hand in front of the motion sensor (BCM {pin}); a PIR needs a minute after power-on", "motion")
        self.result("seen: motion" if sensor.wait_for_motion(self.timeout) else None, f"the motion sensor on BCM {pin}")
