"""Levels applied to a routine: the routine to run today, at a person's levels (pure).

A level's form picks the exercise's standard or easier form, and its dose overrides that form's fields.
The applied exercise keeps an easier form to regress to within the session (shared/PROTOCOL.md, "stop or
regress"), with no more repetitions or sets than the applied form itself; an exercise already at its
easier form has none, so a pain above the threshold stops it, as in any routine.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import replace

from coach.spec.programme import ExerciseLadder, Level, Stage
from coach.spec.routine import Exercise, Routine


def apply_level(exercise: Exercise, level: Level) -> Exercise:
    """``exercise`` at ``level``."""
    base = exercise.easier if level.form == "easier" and exercise.easier is not None else exercise
    dose = {k: v for k, v in level.dose.items() if hasattr(base, k)}
    applied: Exercise = replace(base, **dose)
    if level.form == "easier":
        return replace(applied, easier=None)
    easier = exercise.easier
    if easier is not None:
        capped = {k: min(getattr(easier, k), getattr(applied, k)) for k in ("repetitions", "sets") if hasattr(easier, k)}
        applied = replace(applied, easier=replace(easier, **capped))
    return applied


def apply_levels(routine: Routine, ladders: Mapping[str, ExerciseLadder], levels: Mapping[str, int]) -> Routine:
    """``routine`` with each exercise of ``ladders`` at its level in ``levels`` (its ladder's start when absent).

    The version gains the levels' short hash: a session log says exactly which doses were done, and a
    cut-off session is offered to go on only at the same levels.
    """
    chosen = {ex: min(max(1, levels.get(ex, ladder.start)), len(ladder.levels)) for ex, ladder in ladders.items()}
    exercises = tuple(apply_level(e, ladders[e.id].levels[chosen[e.id] - 1]) if e.id in ladders else e for e in routine.exercises)
    tag = ",".join(f"{k}={v}" for k, v in sorted(chosen.items()))
    suffix = hashlib.sha256(tag.encode()).hexdigest()[:6]
    return replace(routine, exercises=exercises, version=f"{routine.version}-{suffix}" if chosen else routine.version)


def stage_levels(stage: Stage, levels: Mapping[str, int]) -> dict[str, int]:
    """Every exercise of ``stage`` with a ladder, at its level (its start when ``levels`` has none), within its ladder."""
    return {ex: min(max(1, levels.get(ex, ladder.start)), len(ladder.levels)) for ex, ladder in stage.exercises.items()}
