"""The gpiozero controls on gpiozero's own MockFactory: pins driven, inputs asserted.

Button timing runs on a fake clock given to the controls (``ticker=False``; the test calls
``tick()``), so holds, counts and bounce are exact and instant. The motion sensor, the LED
patterns and one ticker test use gpiozero's (and our) real threads: they wait by polling a
condition with a generous timeout and never assert on a duration.
"""

from __future__ import annotations

import queue
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
from gpiozero import Device, DigitalInputDevice
from gpiozero.exc import BadPinFactory
from gpiozero.pins.mock import MockFactory, MockPin

from coach.controls import Controls, build_controls, devices
from coach.controls.layouts import OneButton
from coach.controls.light import BREATHE, FAST_BLINK, FLASH, OFF, ON, SLOW_BLINK
from coach.core.messages import CommandName
from coach.errors import DeviceError
from coach.run.clock import FakeClock
from coach.run.inputs import Input
from coach.spec.config import ControlSettings

BUTTON, DOWN_PIN, UP_PIN, ENC_A, ENC_B, LED_PIN, MOTION_PIN = 17, 22, 27, 5, 6, 18, 23
SETTINGS = ControlSettings(layout="one-button", motion_pin=MOTION_PIN)
LAYOUTS = ("one-button", "three-buttons", "encoder")


class Ticks:
    """The controls' clock in tests: moves only when told."""

    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


@dataclass
class Rig:
    """Controls on mock pins with a fake clock, and the inbox they fill."""

    controls: Controls
    factory: MockFactory
    clock: Ticks
    inbox: queue.Queue[Input] = field(default_factory=queue.Queue)

    def pin(self, number: int) -> Any:
        return self.factory.pin(number)

    def wait(self, seconds: float) -> None:
        """Let time pass on the controls' clock and act on what became due."""
        self.clock.t += seconds
        self.controls.tick()

    def down(self, number: int = BUTTON) -> None:
        self.pin(number).drive_low()  # buttons pull up and short to ground when pressed

    def up(self, number: int = BUTTON) -> None:
        self.pin(number).drive_high()

    def tap(self, number: int = BUTTON, times: int = 1) -> None:
        for _ in range(times):
            self.down(number)
            self.wait(0.1)
            self.up(number)
            self.wait(0.2)

    def hold(self, seconds: float, number: int = BUTTON) -> None:
        self.down(number)
        self.wait(seconds)
        self.up(number)
        self.wait(0.05)

    def turn(self, clicks: int) -> None:
        """Rotate the encoder ``clicks`` detents: positive clockwise (A leads B), negative counter-clockwise."""
        first, second = (self.pin(ENC_A), self.pin(ENC_B)) if clicks > 0 else (self.pin(ENC_B), self.pin(ENC_A))
        for _ in range(abs(clicks)):
            first.drive_low()
            second.drive_low()
            first.drive_high()
            second.drive_high()
            self.wait(0.05)

    kept: list[tuple[str, str | int, str]] = field(default_factory=list)

    def _drain(self) -> list[tuple[str, str | int, str]]:
        items = []
        while not self.inbox.empty():
            item = self.inbox.get_nowait()
            items.append((item.kind, item.value, item.source))
        return items

    def taken(self) -> list[tuple[str, str | int, str]]:
        """Everything put in the inbox since the last call (except hints dropped by :meth:`state`)."""
        items, self.kept = self.kept + self._drain(), []
        return items

    def state(self, state: str) -> None:
        """The session moved to ``state``; what that alone puts in the inbox (the first pain check's
        spoken hint, tested on its own) is dropped."""
        self.kept += self._drain()
        self.controls.show_state(state)
        self._drain()


def make_rig(factory: MockFactory, settings: ControlSettings, start_state: str | None = None) -> Rig:
    clock = Ticks()
    controls, reason = build_controls(settings, "en", clock=clock, ticker=False)
    assert controls is not None, reason
    rig = Rig(controls, factory, clock)
    controls.start(rig.inbox)
    if start_state:
        rig.state(start_state)
    return rig


@pytest.fixture
def rigs(mock_factory: MockFactory) -> Iterator[Callable[..., Rig]]:
    made: list[Rig] = []

    def build(layout: str = "one-button", state: str | None = None, **changes: Any) -> Rig:
        rig = make_rig(mock_factory, replace(SETTINGS, layout=layout, **changes), state)
        made.append(rig)
        return rig

    yield build
    for rig in made:
        rig.controls.close()


def cmd(name: str, source: str = "button") -> tuple[str, str, str]:
    return ("command", name, source)


def said(text: str) -> tuple[str, str, str]:
    return ("announce", text, "button")


def rated(value: int) -> tuple[str, int, str]:
    return ("rating", value, "button")


def poll(condition: Callable[[], bool], timeout: float = 5.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.005)
    return condition()


# --- the main button, every layout ----------------------------------------------------------


@pytest.mark.parametrize("layout", LAYOUTS)
def test_controls_press_means_start_next_or_resume_by_state(rigs: Callable[..., Rig], layout: str) -> None:
    rig = rigs(layout)
    rig.tap()
    rig.state("exercise")
    rig.tap()
    rig.state("paused")
    rig.tap()
    rig.state("summary")
    rig.tap()
    assert rig.taken() == [cmd("start"), cmd("next"), cmd("resume")]


@pytest.mark.parametrize("layout", LAYOUTS)
def test_controls_hold_pauses_while_still_held_and_release_adds_nothing(rigs: Callable[..., Rig], layout: str) -> None:
    rig = rigs(layout, "exercise")
    rig.down()
    rig.wait(0.99)
    assert rig.taken() == []
    rig.wait(0.02)
    assert rig.taken() == [cmd("pause")]
    rig.up()
    rig.wait(5.0)
    assert rig.taken() == []


@pytest.mark.parametrize("layout", LAYOUTS)
def test_controls_very_long_hold_pauses_then_stops(rigs: Callable[..., Rig], layout: str) -> None:
    rig = rigs(layout, "exercise")
    rig.down()
    rig.wait(1.0)
    rig.wait(1.98)
    assert rig.taken() == [cmd("pause")]
    rig.wait(0.04)
    assert rig.taken() == [cmd("stop")]
    rig.up()
    assert rig.taken() == []


@pytest.mark.parametrize("layout", LAYOUTS)
def test_controls_bounce_chatter_counts_once(rigs: Callable[..., Rig], layout: str) -> None:
    rig = rigs(layout, "exercise")
    for _ in range(4):  # 8 edges 2 ms apart, inside the 30 ms bounce window, ending pressed
        rig.down()
        rig.wait(0.002)
        rig.up()
        rig.wait(0.002)
    rig.down()
    rig.wait(0.2)
    rig.up()  # and chatter on release too
    rig.wait(0.003)
    rig.down()
    rig.wait(0.003)
    rig.up()
    rig.wait(1.0)
    assert rig.taken() == [cmd("next")]


def test_controls_tap_released_inside_bounce_window_is_a_press_not_a_stuck_button(rigs: Callable[..., Rig]) -> None:
    rig = rigs("one-button", "exercise")
    rig.down()
    rig.wait(0.01)
    rig.up()  # inside the 30 ms window: only noted
    assert rig.taken() == []
    rig.wait(0.03)
    assert rig.taken() == [cmd("next")]
    rig.wait(5.0)  # no hold, no stop from a button that is up
    assert rig.taken() == []


def test_controls_bounce_setting_is_used(rigs: Callable[..., Rig]) -> None:
    rig = rigs("one-button", "exercise", bounce_ms=0)
    rig.down()
    rig.wait(0.002)
    rig.up()
    rig.wait(0.002)
    rig.down()
    rig.wait(0.002)
    rig.up()
    assert rig.taken() == [cmd("next"), cmd("next")]


def test_controls_long_hold_never_fires_with_the_hold_even_if_configured_shorter(rigs: Callable[..., Rig]) -> None:
    rig = rigs("one-button", "exercise", hold_seconds=2.0, long_hold_seconds=1.0)
    rig.down()
    rig.wait(2.01)
    assert rig.taken() == [cmd("pause")]
    rig.wait(1.0)  # the long hold is 3 s (hold + 1 s), not the configured 1 s
    assert rig.taken() == [cmd("stop")]


# --- one button: ratings -------------------------------------------------------------------


def test_controls_one_button_presses_then_wait_offer_then_press_confirms(rigs: Callable[..., Rig]) -> None:
    rig = rigs("one-button", "pain-check")
    rig.tap(times=3)
    rig.wait(1.25)  # 1.45 s since the last release
    assert rig.taken() == []
    rig.wait(0.1)
    assert rig.taken() == [said("three. Press again to confirm.")]
    rig.tap()
    assert rig.taken() == [rated(3)]


def test_controls_one_button_hold_in_a_pain_check_offers_zero(rigs: Callable[..., Rig]) -> None:
    rig = rigs("one-button", "pain-check")
    rig.down()
    rig.wait(1.2)
    assert rig.taken() == []  # a hold in a pain check does not pause
    rig.up()
    assert rig.taken() == [said("zero. Press again to confirm.")]
    rig.tap()
    assert rig.taken() == [rated(0)]


def test_controls_one_button_offer_lapses_and_counting_starts_over(rigs: Callable[..., Rig]) -> None:
    rig = rigs("one-button", "pain-check")
    rig.tap(times=2)
    rig.wait(1.35)
    assert rig.taken() == [said("two. Press again to confirm.")]
    rig.wait(7.9)
    assert rig.taken() == []
    rig.wait(0.2)
    assert rig.taken() == [said("Not saved. Enter your number again.")]
    rig.tap(times=4)
    rig.wait(1.35)
    rig.tap()
    assert rig.taken() == [said("four. Press again to confirm."), rated(4)]


def test_controls_one_button_long_hold_in_a_pain_check_stops(rigs: Callable[..., Rig]) -> None:
    rig = rigs("one-button", "pain-check")
    rig.hold(3.1)
    assert rig.taken() == [cmd("stop")]


def test_controls_one_button_more_than_ten_presses_is_ten(rigs: Callable[..., Rig]) -> None:
    rig = rigs("one-button", "confirm")
    rig.tap(times=12)
    rig.wait(1.35)
    assert rig.taken() == [said("ten. Press again to confirm.")]


def test_controls_count_is_forgotten_when_the_pain_check_ends(rigs: Callable[..., Rig]) -> None:
    rig = rigs("one-button", "pain-check")
    rig.tap(times=2)
    rig.state("exercise")  # the check timed out meanwhile
    rig.wait(5.0)
    assert rig.taken() == []


def test_controls_first_pain_check_of_a_session_says_how_to_answer_once(mock_factory: MockFactory) -> None:
    rig = make_rig(mock_factory, SETTINGS)
    try:
        hint = said("Press once for each point, then wait. Hold the button for zero.")
        rig.controls.show_state("intro")
        rig.controls.show_state("pain-check")
        rig.controls.show_state("exercise")
        rig.controls.show_state("pain-check")
        assert rig.taken() == [hint]
        rig.controls.show_state("idle")  # a new session (kiosk) hears it again
        rig.controls.show_state("pain-check")
        assert rig.taken() == [hint]
    finally:
        rig.controls.close()


# --- three buttons and the encoder ---------------------------------------------------------


def test_controls_three_buttons_step_announce_and_ok_confirms(rigs: Callable[..., Rig]) -> None:
    rig = rigs("three-buttons", "pain-check")
    rig.tap(UP_PIN, times=4)  # 0.3 s apart: quicker than the 0.35 s settle
    assert rig.taken() == []
    rig.wait(0.2)
    assert rig.taken() == [said("four. Press OK to confirm.")]  # said once stepping settles
    rig.tap(DOWN_PIN)
    rig.wait(0.2)
    assert rig.taken() == [said("three")]
    rig.tap(BUTTON)
    assert rig.taken() == [rated(3)]


def test_controls_three_buttons_ok_first_offers_zero_and_down_stops_at_zero(rigs: Callable[..., Rig]) -> None:
    rig = rigs("three-buttons", "pain-check")
    rig.tap(BUTTON)
    assert rig.taken() == [said("zero. Press OK to confirm.")]
    rig.tap(DOWN_PIN, times=2)
    rig.wait(0.2)
    assert rig.taken() == [said("zero")]
    rig.tap(BUTTON)
    assert rig.taken() == [rated(0)]


def test_controls_three_buttons_ok_in_the_voice_read_back_is_yes(rigs: Callable[..., Rig]) -> None:
    rig = rigs("three-buttons", "confirm")
    rig.tap(BUTTON)
    assert rig.taken() == [cmd("yes")]


def test_controls_three_buttons_unprompted_rating_and_its_lapse(rigs: Callable[..., Rig]) -> None:
    rig = rigs("three-buttons", "exercise")
    rig.tap(UP_PIN, times=6)
    rig.tap(BUTTON)  # before the value was said: sent all the same
    assert rig.taken() == [rated(6)]
    rig.tap(UP_PIN)
    rig.wait(7.8)
    assert rig.taken() == [said("one. Press OK to confirm."), said("Not saved. Enter your number again.")]
    rig.tap(BUTTON)
    assert rig.taken() == [cmd("next")]


def test_controls_three_buttons_up_and_down_do_nothing_when_idle(rigs: Callable[..., Rig]) -> None:
    rig = rigs("three-buttons")
    rig.tap(UP_PIN)
    rig.tap(DOWN_PIN)
    rig.wait(10.0)
    assert rig.taken() == []


def test_controls_encoder_turns_choose_and_push_confirms(rigs: Callable[..., Rig]) -> None:
    rig = rigs("encoder", "pain-check")
    rig.turn(5)
    rig.turn(-2)
    assert rig.taken() == []  # still turning: nothing said yet
    rig.wait(0.4)
    assert rig.taken() == [said("three. Push the knob to confirm.")]
    rig.turn(-9)
    rig.wait(0.4)
    rig.turn(1)
    rig.wait(0.4)
    assert rig.taken() == [said("zero"), said("one")]
    rig.tap(BUTTON)
    assert rig.taken() == [rated(1)]


def test_controls_encoder_counts_each_detent_in_its_direction(rigs: Callable[..., Rig]) -> None:
    rig = rigs("encoder", "pain-check")
    rig.turn(10)
    rig.turn(1)  # past ten stays ten
    rig.wait(0.4)
    assert rig.taken() == [said("ten. Push the knob to confirm.")]
    rig.turn(-4)
    rig.wait(0.4)
    assert rig.taken() == [said("six")]


def test_controls_encoder_turn_when_idle_does_nothing_and_push_starts(rigs: Callable[..., Rig]) -> None:
    rig = rigs("encoder")
    rig.turn(3)
    rig.wait(10.0)
    rig.tap(BUTTON)
    assert rig.taken() == [cmd("start")]


# --- motion -------------------------------------------------------------------------------


def test_controls_motion_starts_only_from_idle_and_once_per_idle(rigs: Callable[..., Rig]) -> None:
    rig = rigs("one-button")
    sensor = rig.controls.devices.motion
    assert sensor is not None
    assert sensor.value == 0  # reading waits until gpiozero's sampling thread has primed
    pin = rig.pin(MOTION_PIN)
    pin.drive_high()
    assert poll(lambda: not rig.inbox.empty())
    assert rig.taken() == [cmd("start", "motion")]
    pin.drive_low()
    assert poll(lambda: sensor.value == 0)
    pin.drive_high()  # still idle (the session has not moved yet): no second start
    assert poll(lambda: sensor.value == 1)
    rig.state("exercise")
    pin.drive_low()
    assert poll(lambda: sensor.value == 0)
    pin.drive_high()
    assert poll(lambda: sensor.value == 1)
    assert rig.taken() == []
    rig.state("idle")  # the next session
    pin.drive_low()
    assert poll(lambda: sensor.value == 0)
    pin.drive_high()
    assert poll(lambda: not rig.inbox.empty())
    assert rig.taken() == [cmd("start", "motion")]


# --- the status LED -----------------------------------------------------------------------


def _values_seen(pin: Any, wanted: Callable[[set[float]], bool], timeout: float = 5.0) -> bool:
    return poll(lambda: wanted({float(s.state) for s in pin.states}), timeout)


def test_controls_led_follows_the_session_state(rigs: Callable[..., Rig]) -> None:
    rig = rigs("one-button")
    led, light = rig.pin(LED_PIN), rig.controls.light
    assert light is not None and light.pattern == BREATHE
    assert _values_seen(led, lambda seen: any(0 < v < 1 for v in seen))  # fading: breathing
    rig.state("exercise")
    assert light.pattern == ON and led.state == 1.0
    led.clear_states()
    rig.state("pain-check")
    assert light.pattern == FAST_BLINK
    assert _values_seen(led, lambda seen: {0.0, 1.0} <= seen)
    rig.state("paused")
    assert light.pattern == SLOW_BLINK
    led.clear_states()
    assert _values_seen(led, lambda seen: {0.0, 1.0} <= seen)
    rig.state("ended")
    assert light.pattern == OFF and led.state == 0.0


def test_controls_led_without_pwm_flashes_instead_of_breathing(mock_factory: MockFactory) -> None:
    mock_factory.pin_class = MockPin
    rig = make_rig(mock_factory, SETTINGS)
    try:
        light = rig.controls.light
        assert light is not None and not light.dims
        assert any("cannot dim" in note for note in rig.controls.notes)
        led = rig.pin(LED_PIN)
        assert _values_seen(led, lambda seen: {0.0, 1.0} <= seen)
        assert light.pattern == BREATHE and FLASH.on_seconds < FLASH.off_seconds
    finally:
        rig.controls.close()


def test_controls_close_turns_the_led_off_and_is_idempotent(mock_factory: MockFactory) -> None:
    rig = make_rig(mock_factory, SETTINGS, "exercise")
    led = rig.pin(LED_PIN)
    assert led.state == 1.0
    rig.controls.close()
    rig.controls.close()
    assert led.state == 0.0
    DigitalInputDevice(BUTTON).close()  # the pin was released (a device without a hold thread: closes at once)
    with pytest.raises(DeviceError):
        rig.controls.start(rig.inbox)


# --- threads: the real ticker --------------------------------------------------------------


def test_controls_real_ticker_reports_hold_and_count_without_a_tick_call(mock_factory: MockFactory) -> None:
    settings = replace(SETTINGS, hold_seconds=0.05, long_hold_seconds=0.06, motion_pin=None)
    controls, reason = build_controls(settings, "en")
    assert controls is not None, reason
    # What is tested is that the thread wakes for each deadline, not how far apart they are (the
    # fake-clock tests above pin those): a long hold 0.1 s after the hold, a count ended by 0.2 s of quiet.
    assert isinstance(controls.layout, OneButton) and controls.trackers["ok"].long_hold >= 1.05
    controls.trackers["ok"].long_hold, controls.layout.count_gap = 0.15, 0.2
    inbox: queue.Queue[Input] = queue.Queue()
    try:
        controls.start(inbox)
        controls.start(inbox)  # a second start does nothing
        controls.show_state("exercise")
        pin = mock_factory.pin(BUTTON)
        pin.drive_low()
        assert inbox.get(timeout=5.0) == Input("command", "pause", "button")
        assert inbox.get(timeout=5.0) == Input("command", "stop", "button")  # the long hold
        pin.drive_high()
        controls.show_state("pain-check")
        assert inbox.get(timeout=5.0).kind == "announce"  # the hint
        time.sleep(0.05)  # real edges: let the 30 ms bounce window pass
        pin.drive_low()
        pin.drive_high()  # a tap inside the bounce window: the ticker settles it as a press
        assert inbox.get(timeout=5.0) == Input("announce", "one. Press again to confirm.", "button")
    finally:
        controls.close()


# --- no GPIO: the keyboard fallback --------------------------------------------------------


def _no_pins() -> Any:
    raise BadPinFactory("Unable to load any default pin factory!")


@pytest.mark.parametrize("layout", ("auto", "one-button", "three-buttons", "encoder"))
def test_controls_no_gpio_gives_none_and_one_line(layout: str, recwarn: pytest.WarningsRecorder) -> None:
    controls, reason = build_controls(ControlSettings(layout=layout), "en", pin_factory=_no_pins)
    assert controls is None
    assert reason is not None and "\n" not in reason
    assert reason.startswith("controls: ") and "no GPIO" in reason
    assert ("layout auto" in reason) == (layout == "auto")
    assert len(recwarn) == 0


def test_controls_gpiozero_default_factory_failure_is_caught_with_its_warnings(
    monkeypatch: pytest.MonkeyPatch, recwarn: pytest.WarningsRecorder
) -> None:
    monkeypatch.setattr(Device, "pin_factory", None)
    monkeypatch.setenv("GPIOZERO_PIN_FACTORY", "no-such-factory")
    controls, reason = build_controls(ControlSettings(layout="one-button"), "en")
    assert controls is None
    assert reason is not None and "no GPIO on this machine" in reason and "no-such-factory" in reason
    assert len(recwarn) == 0


def test_controls_on_a_pi_without_a_usable_factory_the_line_says_install_lgpio(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    model = tmp_path / "model"
    model.write_bytes(b"Raspberry Pi 5 Model B Rev 1.0\0")
    monkeypatch.setattr(devices, "MODEL_PATH", model)
    monkeypatch.setattr(Device, "pin_factory", None)
    monkeypatch.setenv("GPIOZERO_PIN_FACTORY", "no-such-factory")
    controls, reason = build_controls(ControlSettings(), "en")
    assert controls is None and reason is not None
    assert "Raspberry Pi 5 Model B Rev 1.0" in reason and "install lgpio" in reason and "\n" not in reason


def test_controls_layout_none_gives_none_and_one_line(mock_factory: MockFactory) -> None:
    controls, reason = build_controls(ControlSettings(layout="none"), "en")
    assert controls is None and reason is not None and "layout is none" in reason


def test_controls_pin_in_use_gives_none_naming_part_and_pin(mock_factory: MockFactory) -> None:
    busy = DigitalInputDevice(UP_PIN)
    try:
        controls, reason = build_controls(ControlSettings(layout="three-buttons"), "en")
        assert controls is None
        assert reason is not None and "BCM 27" in reason and "up button" in reason
        DigitalInputDevice(DOWN_PIN).close()  # the down button opened first was released again
    finally:
        busy.close()


def test_controls_auto_with_gpio_is_one_button(mock_factory: MockFactory) -> None:
    controls, reason = build_controls(ControlSettings(layout="auto"), "en", pin_factory=lambda: mock_factory)
    assert controls is not None and reason is None
    try:
        assert controls.devices.layout == "one-button" and list(controls.devices.buttons) == ["ok"]
    finally:
        controls.close()


def test_controls_inputs_carry_the_session_time_of_the_gesture(mock_factory: MockFactory) -> None:
    ticks, session = Ticks(), FakeClock(20.0)
    controls, reason = build_controls(replace(SETTINGS, motion_pin=None), "en", clock=ticks, ticker=False)
    assert controls is not None, reason
    inbox: queue.Queue[Input] = queue.Queue()
    try:
        controls.start(inbox, session)
        controls.show_state("exercise")
        pin = mock_factory.pin(BUTTON)
        pin.drive_low()
        ticks.t += 0.1
        pin.drive_high()  # a press, let go at 100.1 while the session clock reads 20.0
        assert inbox.get_nowait() == Input("command", CommandName.NEXT, "button", 20.0)
        ticks.t += 0.1
        pin.drive_low()  # held from 100.2: the hold is reached at 101.2 ...
        ticks.t += 2.5
        controls.tick()  # ... but only seen at 102.7, 1.5 s later
        assert inbox.get_nowait() == Input("command", CommandName.PAUSE, "button", 18.5)
        pin.drive_high()
    finally:
        controls.close()
