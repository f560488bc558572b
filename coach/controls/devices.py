"""The gpiozero devices of a layout, and finding out whether this machine has GPIO at all.

With :mod:`coach.cli.controls` this is the only module that imports gpiozero, so the rest of the
package (and the core) imports fine where gpiozero is not installed.

Every device is given its pin factory explicitly: the default one (gpiozero's own choice, honouring
``GPIOZERO_PIN_FACTORY``) in use, a ``MockFactory`` in tests.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from gpiozero import LED, PWMLED, Device, DigitalInputDevice, MotionSensor, RotaryEncoder
from gpiozero.exc import GPIOZeroError, PinFactoryFallback, PinPWMUnsupported

from coach.controls.gestures import DOWN, OK, UP
from coach.errors import DeviceError
from coach.spec.config import ControlSettings

FactoryGetter = Callable[[], Any]
"""A function returning the gpiozero pin factory to use; raises when there is none."""

BUTTON_PARTS = {
    "one-button": {OK: ("button", "button_pin")},
    "three-buttons": {DOWN: ("down button", "down_pin"), UP: ("up button", "up_pin"), OK: ("OK button", "button_pin")},
    "encoder": {OK: ("encoder push switch", "button_pin")},
}
"""Per layout: control name to (what a person calls it, the setting holding its BCM pin)."""

FACTORY_FAILURES = (GPIOZeroError, ImportError, OSError, RuntimeError)
"""What asking gpiozero for a pin factory raises where there are no usable pins."""
_FAILURES = (GPIOZeroError, OSError, RuntimeError, ValueError)
"""What opening a device raises on a machine whose GPIO is missing, busy or not permitted."""


class Switch(DigitalInputDevice):  # type: ignore[misc]
    """A push button: gpiozero's ``Button`` without its hold thread.

    Holds are timed in :mod:`coach.controls.gestures`, so ``Button``'s own hold thread would only
    cost a thread per button and, on ``close()``, a wait of up to 0.1 s (a whole second if the
    button is down) for that thread to notice."""

    when_pressed = DigitalInputDevice.when_activated
    when_released = DigitalInputDevice.when_deactivated


@dataclass
class Devices:
    """The opened devices; :meth:`close` releases every pin and may be called any number of times."""

    layout: str
    buttons: dict[str, Any] = field(default_factory=dict)
    """Control name (``ok``, ``up``, ``down``) to its :class:`Switch`."""
    parts: dict[str, tuple[str, int]] = field(default_factory=dict)
    """Control name (and ``led``, ``motion``, ``encoder``, ``encoder_b``) to (part name, BCM pin)."""
    encoder: Any | None = None
    led: Any | None = None
    led_dims: bool = False
    """The LED is a ``PWMLED`` (breathes) rather than a plain ``LED``."""
    motion: Any | None = None
    notes: list[str] = field(default_factory=list)
    """Things worth one line to a person (the LED cannot dim here…)."""

    def close(self) -> None:
        opened = [*self.buttons.values(), self.encoder, self.led, self.motion]
        self.buttons, self.encoder, self.led, self.motion = {}, None, None, None
        for device in opened:
            # Closing half-broken hardware must not stop the rest being released.
            if device is not None:
                with contextlib.suppress(*_FAILURES):
                    device.close()


def default_factory() -> Any:
    """gpiozero's pin factory for this machine, or :class:`DeviceError` with one line saying why not.

    gpiozero tries lgpio, RPi.GPIO, pigpio and its native factory in turn, warning at each miss,
    and raises ``BadPinFactory`` when none loads (any machine that is not a Pi). The warnings are
    caught here and folded into the one line, so nothing else is printed.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            Device.ensure_pin_factory()
        except FACTORY_FAILURES as exc:
            misses = [str(w.message) for w in caught if issubclass(w.category, PinFactoryFallback)]
            if _board_model().startswith("Raspberry Pi"):
                # A Pi 5 (or a venv that cannot see python3-lgpio) lands here: say what to do.
                raise DeviceError(
                    f"GPIO pins not usable on this {_board_model()} ({_why(exc, misses)}); "
                    "install lgpio (hardware.md, 'Pi 5 (and lgpio)')"
                ) from None
            raise DeviceError(f"no GPIO on this machine ({_why(exc, misses)})") from None
    return Device.pin_factory


MODEL_PATH = Path("/proc/device-tree/model")
"""Where Linux names the board (``Raspberry Pi 5 Model B Rev 1.0``) on a device-tree machine."""


def _board_model() -> str:
    try:
        return MODEL_PATH.read_bytes().rstrip(b"\0").decode("ascii", "replace").strip()
    except OSError:
        return ""


def _why(exc: BaseException, misses: list[str]) -> str:
    """``gpiozero tried lgpio, rpigpio, pigpio, native: <the last reason>`` or the error itself."""
    tried = [m.removeprefix("Falling back from ").split(":", 1) for m in misses if m.startswith("Falling back from ")]
    if not tried:
        return f"gpiozero: {exc}"
    names = ", ".join(name for name, *_ in tried)
    last = tried[-1][1].strip() if len(tried[-1]) > 1 else str(exc)
    return f"gpiozero tried {names}; {tried[-1][0]}: {last}"


def open_devices(settings: ControlSettings, layout: str, factory: Any) -> Devices:
    """Open the buttons (or encoder), the LED and the motion sensor for ``layout``.

    Raises :class:`DeviceError` naming the part and pin that failed, after releasing the rest.
    """
    devices = Devices(layout)
    try:
        for control, (part, setting) in BUTTON_PARTS[layout].items():
            pin = getattr(settings, setting)
            devices.parts[control] = (part, pin)
            # Debouncing is done in coach.controls.gestures, the same on every factory.
            devices.buttons[control] = _open(part, pin, lambda p: Switch(p, pull_up=True, bounce_time=None, pin_factory=factory))
        if layout == "encoder":
            a, b = settings.encoder_a_pin, settings.encoder_b_pin
            devices.parts["encoder"] = ("rotary encoder A", a)
            devices.parts["encoder_b"] = ("rotary encoder B", b)
            # max_steps=0: count steps without limit; the layout clamps the rating to 0-10.
            encoder = partial(RotaryEncoder, b=b, max_steps=0, pin_factory=factory)
            devices.encoder = _open(f"rotary encoder (B on BCM {b})", a, lambda p: encoder(a=p))
        if settings.led_pin is not None:
            devices.parts["led"] = ("status LED", settings.led_pin)
            devices.led, devices.led_dims = _open_led(settings.led_pin, factory, devices.notes)
        if settings.motion_pin is not None:
            devices.parts["motion"] = ("motion sensor", settings.motion_pin)
            # A PIR module drives its output both ways: no pull resistor.
            sensor = partial(MotionSensor, pull_up=False, pin_factory=factory)
            devices.motion = _open("motion sensor", settings.motion_pin, lambda p: sensor(p))
    except DeviceError:
        devices.close()
        raise
    return devices


def _open(part: str, pin: int, make: Callable[[int], Any]) -> Any:
    try:
        return make(pin)
    except _FAILURES as exc:
        raise DeviceError(f"cannot use BCM {pin} for the {part}: {exc}") from None


def _open_led(pin: int, factory: Any, notes: list[str]) -> tuple[Any, bool]:
    try:
        return PWMLED(pin, pin_factory=factory), True
    except PinPWMUnsupported:
        notes.append(f"the LED on BCM {pin} cannot dim with this pin factory; it flashes instead of breathing")
    except _FAILURES as exc:
        raise DeviceError(f"cannot use BCM {pin} for the status LED: {exc}") from None
    return _open("status LED", pin, lambda p: LED(p, pin_factory=factory)), False
