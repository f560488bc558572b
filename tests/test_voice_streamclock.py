"""The stream clock against simulated devices whose clocks and answers are not ideal."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest

from coach.voice.streamclock import StreamClock

RATE = 22050
CHUNK = 220
"""Frames per write, as the player writes them (10 ms)."""


def run(
    minutes: float,
    ppm: float,
    late: Callable[[int], float],
    latency: float = 0.080,
    jumps: dict[int, float] | None = None,
) -> list[float]:
    """Stream for ``minutes``; return, per chunk, placement error (placed minus truly heard, s).

    The device plays ``RATE * (1 + ppm)`` samples per second of session time; its answer for
    chunk ``k`` is the true time plus ``late(k)``; ``jumps`` adds latency from chunk ``k`` on.
    """
    clock = StreamClock(RATE)
    true_rate = RATE * (1 + ppm * 1e-6)
    shift = 0.0
    errors = []
    for k in range(round(minutes * 60 * RATE / CHUNK)):
        shift += (jumps or {}).get(k, 0.0)
        heard = latency + shift + k * CHUNK / true_rate
        clock.observe(heard + late(k), now=heard - latency)
        errors.append(clock.next_heard() - heard)
        clock.advance(CHUNK)
    return errors


def worst(errors: list[float], after_seconds: float = 0.0) -> float:
    return max(abs(e) for e in errors[round(after_seconds * RATE / CHUNK) :])


@pytest.mark.parametrize("ppm", [-150.0, 0.0, 60.0, 130.0, 300.0])
def test_a_device_fast_or_slow_never_drifts_over_twenty_minutes(ppm: float) -> None:
    noise = random.Random(1)
    errors = run(20, ppm, late=lambda k: noise.uniform(0.0, 0.002))
    assert worst(errors) < 0.003  # the first second holds the anchor's own lateness
    assert worst(errors, after_seconds=3) < 0.0005
    assert abs(errors[-1]) < 0.0005


def test_a_pointer_that_moves_once_per_period_is_read_at_its_earliest() -> None:
    # A hardware pointer updated every 20 ms, read at a random phase: answers up to 20 ms late.
    noise = random.Random(2)
    errors = run(5, 80.0, late=lambda k: noise.uniform(0.0, 0.020))
    assert worst(errors, after_seconds=3) < 0.001


def test_a_single_very_late_answer_is_ignored() -> None:
    errors = run(2, 50.0, late=lambda k: 0.5 if k == 3000 else 0.0)
    assert worst(errors, after_seconds=3) < 0.0005


def test_a_device_that_becomes_later_for_good_is_followed_within_a_tenth_of_a_second() -> None:
    errors = run(2, 40.0, late=lambda k: 0.0, jumps={6000: 0.050})
    assert worst(errors[:6000], after_seconds=3) < 0.0005
    assert worst(errors[6000 + 11 :]) < 0.0005


def test_a_device_that_becomes_earlier_is_followed_at_once() -> None:
    errors = run(2, 40.0, late=lambda k: 0.0, jumps={6000: -0.040})
    assert worst(errors[6000:]) < 0.0005


def test_a_device_that_cannot_tell_is_counted_from_the_first_moment_at_the_nominal_rate() -> None:
    clock = StreamClock(RATE)
    clock.observe(None, now=5.0)
    clock.advance(RATE)
    clock.observe(None, now=9.0)
    assert clock.next_heard() == pytest.approx(6.0)


def test_reset_re_anchors_on_the_next_answer() -> None:
    clock = StreamClock(RATE)
    clock.observe(1.0, now=0.9)
    clock.advance(RATE * 2)
    clock.reset()
    clock.observe(0.1, now=0.0)
    assert clock.next_heard() == pytest.approx(0.1)
