"""Does every phrase fit its slot? Warnings for ``coach plan`` and ``coach validate``.

A cue's slot is the time until the next cue of the same exercise. A phrase longer than its slot
is cut by the next count, or pushes the next instruction later (see :mod:`coach.voice.mixer`);
either way the routine author should know, in terms of the file and line to change.
"""

from __future__ import annotations

from collections.abc import Callable

from coach.core.script import CHECK, Script

TOLERANCE = 0.05
"""A phrase may overrun its slot by this much before it is reported (seconds)."""


def slot_warnings(script: Script, seconds_of: Callable[[str], float | None]) -> list[str]:
    """One line per phrase that needs longer than its slot, with the routine's file and line."""
    routine = script.routine
    warnings: list[str] = []
    seen: set[tuple[str, int, float]] = set()
    for step in script.blocks:  # easier forms too
        line = routine.exercises[step.exercise_index].line if step.exercise_index is not None else 1
        for index, cue in enumerate(step.cues):
            if cue.kind == CHECK:  # a question the block waits on, not a cue in a slot
                continue
            following = step.cues[index + 1].offset if index + 1 < len(step.cues) else step.duration
            slot = following - cue.offset
            needed = seconds_of(cue.text)
            if needed is None or needed <= slot + TOLERANCE:
                continue
            key = (cue.text, line, round(slot, 3))
            if key in seen:
                continue
            seen.add(key)
            where = step.name if step.exercise_index is not None else "introduction"
            rep = f", repetition {cue.rep}" if cue.rep else ""
            warnings.append(
                f"{routine.source}:{line}: warning: {cue.text!r} needs {needed:.1f} s but its slot is {slot:.1f} s "
                f"({where}, {cue.phase}{rep})"
            )
    return warnings
