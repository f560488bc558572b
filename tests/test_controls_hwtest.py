"""``coach hw-test`` on gpiozero's MockFactory: a driver plays the person at each prompt."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from gpiozero import Device
from gpiozero.exc import BadPinFactory
from gpiozero.pins.mock import MockFactory

import coach.cli.main
from coach.cli.controls import EXIT_NO_CONTROLS, EXIT_NOT_SEEN, run_hw_test
from coach.spec.config import ControlSettings

BUTTON, DOWN_PIN, UP_PIN, ENC_A, ENC_B, MOTION_PIN = 17, 22, 27, 5, 6, 23
PINS = {"ok": BUTTON, "up": UP_PIN, "down": DOWN_PIN}
QUICK = ControlSettings(layout="one-button", hold_seconds=0.05, long_hold_seconds=2.0, motion_pin=MOTION_PIN)


class Hands:
    """Does what each prompt asks, on the mock pins, and remembers the steps it was asked."""

    def __init__(self, factory: MockFactory, skip: tuple[str, ...] = ()) -> None:
        self.factory = factory
        self.skip = skip
        self.steps: list[str] = []

    def __call__(self, step: str) -> None:
        self.steps.append(step)
        if step in self.skip:
            return
        action, _, what = step.partition(" ")
        if action == "press":  # a tap inside the bounce window: settled as a press by the ticker
            self.factory.pin(PINS[what]).drive_low()
            self.factory.pin(PINS[what]).drive_high()
        elif action == "hold":
            self.factory.pin(PINS[what]).drive_low()
        elif action == "release":
            self.factory.pin(PINS[what]).drive_high()
        elif action == "turn":
            a, b = self.factory.pin(ENC_A), self.factory.pin(ENC_B)
            first, second = (a, b) if what == "up" else (b, a)
            for _ in range(3):
                first.drive_low()
                second.drive_low()
                first.drive_high()
                second.drive_high()
        elif step == "motion":
            self.factory.pin(MOTION_PIN).drive_high()


def run(factory: MockFactory, settings: ControlSettings) -> tuple[int, str, Hands]:
    out = io.StringIO()
    hands = Hands(factory)
    status = run_hw_test(settings, "en", out, timeout=5.0, led_seconds=0.0, driver=hands, turn_settle=0.2)
    return status, out.getvalue(), hands


def test_controls_hw_test_one_button_sees_press_hold_led_and_motion(mock_factory: MockFactory) -> None:
    status, text, hands = run(mock_factory, QUICK)
    assert status == 0, text
    assert hands.steps == ["press ok", "hold ok", "release ok", "motion"]
    lines = text.splitlines()
    assert lines[0].startswith("Layout one-button")
    assert any(line.startswith("Press the button (BCM 17) now…  seen: press (") for line in lines)
    assert any("Press and hold the button for 0.05 s" in line and "seen: hold (0.05 s)" in line for line in lines)
    assert [line for line in lines if line.startswith("LED (BCM 18): ")] == [
        "LED (BCM 18): breathing: idle, ready to start",
        "LED (BCM 18): on: the coach is talking you through the session",
        "LED (BCM 18): fast blink: waiting for your pain rating",
        "LED (BCM 18): slow blink: paused",
        "LED (BCM 18): off: the session has ended",
    ]
    assert any("motion sensor (BCM 23)" in line and line.endswith("seen: motion") for line in lines)
    assert lines[-1] == "All 3 steps seen."


def test_controls_hw_test_three_buttons_asks_for_each_button(mock_factory: MockFactory) -> None:
    status, text, hands = run(mock_factory, ControlSettings(layout="three-buttons", hold_seconds=0.05, led_pin=None))
    assert status == 0, text
    assert hands.steps == ["press down", "press up", "press ok", "hold ok", "release ok"]
    assert "Press the down button (BCM 22) now…  seen: press" in text
    assert "Press the up button (BCM 27) now…  seen: press" in text
    assert "Press the OK button (BCM 17) now…  seen: press" in text
    assert "No status LED configured (controls.led_pin)." in text
    assert "No motion sensor configured (controls.motion_pin)." in text


def test_controls_hw_test_encoder_counts_clicks_each_way(mock_factory: MockFactory) -> None:
    status, text, hands = run(mock_factory, ControlSettings(layout="encoder", hold_seconds=0.05))
    assert status == 0, text
    assert "turn up" in hands.steps and "turn down" in hands.steps
    assert "Turn the knob clockwise a few clicks…  seen: 3 steps clockwise" in text
    assert "Turn the knob counter-clockwise a few clicks…  seen: 3 steps counter-clockwise" in text


def test_controls_hw_test_encoder_wired_backwards_says_so(mock_factory: MockFactory) -> None:
    swapped = ControlSettings(layout="encoder", hold_seconds=0.05, encoder_a_pin=ENC_B, encoder_b_pin=ENC_A)
    status, text, _ = run(mock_factory, swapped)
    assert "seen: 0 steps clockwise; the knob counts the other way: swap encoder_a_pin and encoder_b_pin" in text
    assert status == 0  # something was seen on every step; the line says what to fix


def test_controls_hw_test_a_silent_part_is_reported_and_exits_3(mock_factory: MockFactory) -> None:
    out = io.StringIO()
    hands = Hands(mock_factory, skip=("press ok", "motion"))
    status = run_hw_test(QUICK, "en", out, timeout=0.2, led_seconds=0.0, driver=hands)
    text = out.getvalue()
    assert status == EXIT_NOT_SEEN
    assert "Press the button (BCM 17) now…  nothing seen in 0.2 s; check the button on BCM 17" in text
    assert "nothing seen in 0.2 s; check the motion sensor on BCM 23" in text
    assert text.splitlines()[-1].startswith("2 of 3 steps saw nothing")


def test_controls_hw_test_without_gpio_prints_the_reason_and_exits_1() -> None:
    def no_pins() -> object:
        raise BadPinFactory("Unable to load any default pin factory!")

    out = io.StringIO()
    status = run_hw_test(ControlSettings(), "en", out, pin_factory=no_pins)
    assert status == EXIT_NO_CONTROLS
    assert out.getvalue().count("\n") == 1 and "no GPIO on this machine" in out.getvalue()


def test_controls_hw_test_through_the_coach_command(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """With the extension listed, ``coach hw-test`` parses, reads the config and degrades here."""
    config = tmp_path / "config.yaml"
    config.write_text("controls:\n  layout: three-buttons\n", encoding="utf-8")
    monkeypatch.setattr(coach.cli.main, "EXTENSIONS", ("coach.cli.controls",))
    monkeypatch.setattr(Device, "pin_factory", None)
    monkeypatch.setenv("GPIOZERO_PIN_FACTORY", "no-such-factory")
    status = coach.cli.main.main(["--config", str(config), "hw-test", "--timeout", "1"])
    out = capsys.readouterr().out
    assert status == 1
    assert out.startswith("controls: layout three-buttons needs GPIO") and out.count("\n") == 1


def test_controls_hw_test_rejects_a_bad_timeout(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(coach.cli.main, "EXTENSIONS", ("coach.cli.controls",))
    with pytest.raises(SystemExit) as exc:
        coach.cli.main.main(["hw-test", "--timeout", "-1"])
    assert exc.value.code == 2
    assert "must be from 0 to 600 seconds" in capsys.readouterr().err
