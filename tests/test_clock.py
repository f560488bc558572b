"""Clocks: the fake one jumps exactly; the real one returns inputs and deadlines correctly."""

from __future__ import annotations

import queue
import threading

from coach.run.clock import FakeClock, MonotonicClock


def test_clock_fake_jumps_to_the_deadline_exactly() -> None:
    clock = FakeClock()
    inbox: queue.Queue[str] = queue.Queue()
    assert clock.wait(450.125, inbox) is None
    assert clock.now() == 450.125
    assert clock.wait(10.0, inbox) is None and clock.now() == 450.125  # never goes back


def test_clock_fake_returns_a_waiting_input_without_moving() -> None:
    clock = FakeClock(5.0)
    inbox: queue.Queue[str] = queue.Queue()
    inbox.put("pause")
    assert clock.wait(100.0, inbox) == "pause"
    assert clock.now() == 5.0


def test_clock_monotonic_deadline_is_never_early() -> None:
    clock = MonotonicClock(speed=10.0)
    inbox: queue.Queue[str] = queue.Queue()
    target = clock.now() + 0.5
    assert clock.wait(target, inbox) is None
    assert clock.now() >= target


def test_clock_monotonic_input_wakes_the_wait() -> None:
    clock = MonotonicClock()
    inbox: queue.Queue[str] = queue.Queue()
    threading.Timer(0.05, inbox.put, ["stop"]).start()
    assert clock.wait(clock.now() + 30.0, inbox) == "stop"
    assert clock.now() < 30.0
