"""Physical controls on gpiozero: buttons or a rotary encoder, a status LED and a motion sensor.

Layers, inside out: :mod:`~coach.controls.gestures` (edges to press/hold/long hold, debounced),
:mod:`~coach.controls.layouts` (what a gesture means in each session state), both pure and run on
times they are given; :mod:`~coach.controls.light` (state to LED pattern);
:mod:`~coach.controls.devices` (the gpiozero objects) and :mod:`~coach.controls.adapter` (threads,
the inbox). :func:`build_controls` is the way in; ``coach hw-test`` (:mod:`coach.cli.controls`)
checks the wiring.
"""

from __future__ import annotations

from coach.controls.adapter import Controls, build_controls

__all__ = ["Controls", "build_controls"]
