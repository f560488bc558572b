"""The ``Controls`` adapter: buttons, encoder, status light and motion sensor, on gpiozero.

It is an :class:`~coach.run.ports.InputSource` (``start(inbox)``, ``close()``) and a
:class:`~coach.run.ports.StatusDisplay` (``show_state(state)``). gpiozero calls back from its own
threads; everything a callback does is to note the edge under one lock and put
:class:`~coach.run.inputs.Input` items into the inbox. It never calls the session or the speaker.

Time: edges are stamped with ``clock()`` (``time.monotonic`` unless a test injects one); every input
goes into the inbox stamped with the session time of the gesture that made it (a press when it was
let go, a hold when it was reached; see :func:`~coach.run.inputs.session_time`), and one
small thread wakes at the earliest deadline of the button trackers and the layout (a hold, the end
of a count) and calls :meth:`Controls.tick`. A test that injects a fake clock passes
``ticker=False`` and calls :meth:`Controls.tick` itself: holds and counts are then exact and
instant.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING, Any

from coach.controls.gestures import DOWN, STEP, UP, ButtonTracker, Gesture
from coach.controls.layouts import Dial, Layout, OneButton
from coach.controls.light import Light
from coach.controls.phrases import Phrases
from coach.core.messages import CommandName
from coach.errors import CoachError, DeviceError
from coach.run.clock import Clock
from coach.run.inputs import Input, session_time
from coach.spec.config import ControlSettings
from coach.spec.locale import load_locale

if TYPE_CHECKING:
    from coach.controls.devices import Devices

MIN_LONG_HOLD_GAP = 1.0
"""A long hold is at least this much longer than a hold (seconds), whatever the config says, so
that pausing and stopping can never fire together."""


class Controls:
    """The physical controls of one layout, with their light and motion sensor."""

    def __init__(
        self,
        devices: Devices,
        layout: Layout,
        settings: ControlSettings,
        clock: Callable[[], float] = time.monotonic,
        ticker: bool = True,
        observer: Callable[[Gesture], None] | None = None,
    ) -> None:
        self.devices = devices
        self.layout = layout
        self.clock = clock
        bounce = settings.bounce_ms / 1000
        long_hold = max(settings.long_hold_seconds, settings.hold_seconds + MIN_LONG_HOLD_GAP)
        self.trackers = {name: ButtonTracker(name, bounce, settings.hold_seconds, long_hold) for name in devices.buttons}
        self.light = Light(devices.led, devices.led_dims) if devices.led is not None else None
        self.state = "idle"
        self.notes: list[str] = list(devices.notes)
        self._woken = False
        """Motion already asked to start this idle period."""
        self._cond = threading.Condition()
        self._inbox: queue.Queue[Input] | None = None
        self._session_clock: Clock | None = None
        self._closed = False
        self._ticker = ticker
        self._observer = observer
        """Sees every gesture before the layout does (``coach hw-test`` reports them)."""
        self._thread: threading.Thread | None = None

    # --- InputSource ------------------------------------------------------------------------

    def start(self, inbox: queue.Queue[Input], clock: Clock | None = None) -> None:
        """Connect the callbacks and start putting inputs into ``inbox``, stamped on the session
        ``clock``; a second call does nothing."""
        with self._cond:
            if self._closed:
                raise DeviceError("controls: start() after close()")
            if self._inbox is not None:
                return
            self._inbox = inbox
            self._session_clock = clock
        for name, button in self.devices.buttons.items():
            button.when_pressed = partial(self._edge, name, True)
            button.when_released = partial(self._edge, name, False)
        if self.devices.encoder is not None:
            self.devices.encoder.when_rotated_clockwise = partial(self._step, UP)
            self.devices.encoder.when_rotated_counter_clockwise = partial(self._step, DOWN)
        if self.devices.motion is not None:
            self.devices.motion.when_motion = self._motion
        if self.light is not None:
            self.light.show_state(self.state)
        if self._ticker:
            self._thread = threading.Thread(target=self._run_ticker, name="controls", daemon=True)
            self._thread.start()

    def close(self) -> None:
        """Stop, release every pin and turn the light off; safe to call twice."""
        with self._cond:
            if self._closed:
                return
            self._closed = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
        if self.light is not None:
            self.light.show_state("ended")
        # Outside the lock: closing a device may wait for one of its callbacks, which takes the lock.
        self.devices.close()

    # --- StatusDisplay ----------------------------------------------------------------------

    def show_state(self, state: str) -> None:
        with self._cond:
            if self._closed:
                return
            self.state = state
            if state != "idle":
                self._woken = False
            self._put(self.layout.set_state(state), self.clock())
            self._cond.notify_all()
        if self.light is not None and self._inbox is not None:
            self.light.show_state(state)

    # --- time -------------------------------------------------------------------------------

    def tick(self) -> None:
        """Act on everything due by now: holds, settled bounces, the end of a count."""
        with self._cond:
            if not self._closed:
                self._tick_locked(self.clock())

    def deadline(self) -> float | None:
        with self._cond:
            return self._deadline_locked()

    def _tick_locked(self, now: float) -> None:
        for tracker in self.trackers.values():
            for gesture in tracker.tick(now):
                self._gesture(gesture)
        self._put(self.layout.tick(now), now)

    def _deadline_locked(self) -> float | None:
        due = [t.deadline() for t in self.trackers.values()] + [self.layout.deadline()]
        return min((d for d in due if d is not None), default=None)

    def _run_ticker(self) -> None:
        with self._cond:
            while not self._closed:
                self._tick_locked(self.clock())
                deadline = self._deadline_locked()
                timeout = None if deadline is None else max(0.0, deadline - self.clock())
                self._cond.wait(timeout)

    # --- callbacks (gpiozero's threads) -----------------------------------------------------

    def _edge(self, name: str, down: bool) -> None:
        with self._cond:
            if self._closed:
                return
            tracker = self.trackers[name]
            for gesture in tracker.edge(down, self.clock()):
                self._gesture(gesture)
            self._cond.notify_all()

    def _step(self, direction: str) -> None:
        with self._cond:
            if not self._closed:
                self._gesture(Gesture(STEP, direction, self.clock()))
                self._cond.notify_all()

    def _motion(self) -> None:
        with self._cond:
            if not self._closed and self.state == "idle" and not self._woken:
                self._woken = True
                self._put([Input("command", CommandName.START, "motion")], self.clock())

    def _gesture(self, gesture: Gesture) -> None:
        if self._observer is not None:
            self._observer(gesture)
        self._put(self.layout.gesture(gesture), gesture.at)

    def _put(self, items: list[Input], when: float) -> None:
        """Queue ``items``, stamped with the session time of ``when`` (on :attr:`clock`)."""
        if self._inbox is None or not items:
            return
        session = self._session_clock
        at = None if session is None else session_time(session, self.clock() - when)
        for item in items:
            self._inbox.put(replace(item, at=at))


def build_controls(
    settings: ControlSettings,
    language: str,
    *,
    pin_factory: Callable[[], Any] | None = None,
    clock: Callable[[], float] = time.monotonic,
    ticker: bool = True,
    observer: Callable[[Gesture], None] | None = None,
) -> tuple[Controls | None, str | None]:
    """The controls for ``settings``, or ``None`` and one line for a person saying why not.

    ``pin_factory`` returns the gpiozero pin factory (default: gpiozero's own choice for this
    machine). No GPIO (any machine that is not a Pi), a missing gpiozero, or a pin that cannot be
    opened all give ``None``: the session goes on with the keyboard and voice.
    """
    layout = settings.layout
    if layout == "none":
        return None, "controls: layout is none; no buttons, light or motion sensor (keyboard and voice only)"
    try:
        from coach.controls import devices as gpio
    except ImportError as exc:
        return None, f"controls: gpiozero is not installed ({exc}); install coach[controls] (keyboard and voice only)"
    try:
        factory = pin_factory() if pin_factory is not None else gpio.default_factory()
    except (CoachError, *gpio.FACTORY_FAILURES) as exc:
        reason = str(exc) if isinstance(exc, CoachError) else f"no GPIO on this machine ({exc})"
        if layout == "auto":
            return None, f"controls: {reason}; layout auto: keyboard and voice only"
        return None, f"controls: layout {layout} needs GPIO, but {reason}; using the keyboard"
    chosen = "one-button" if layout == "auto" else layout
    try:
        opened = gpio.open_devices(settings, chosen, factory)
    except DeviceError as exc:
        return None, f"controls: {exc}; using the keyboard"
    phrases = Phrases(load_locale(language))
    logic: Layout = OneButton(phrases) if chosen == "one-button" else Dial(phrases, encoder=chosen == "encoder")
    return Controls(opened, logic, settings, clock=clock, ticker=ticker, observer=observer), None
