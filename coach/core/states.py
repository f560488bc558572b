"""The session's states, settings, timing constants, progress and resume offer: the small parts of its state."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from coach.core.script import Block, Script
from coach.spec.routine import Exercise, RestBreak
from coach.spec.settings import SessionSettings as SessionSettings  # the config's, re-exported for the session

RESUME_LEAD = 3.0
"""Seconds from "Resuming." to the first cue of the resumed repetition."""
ACK_GAP = 3.0
"""Seconds after a rating is acknowledged before the next part starts."""


class State(Enum):
    IDLE = "idle"
    RESUME_OFFER = "resume-offer"
    INTRO = "intro"
    EXERCISE = "exercise"
    PAIN_CHECK = "pain-check"
    CONFIRM = "confirm"
    SCREEN = "screen"
    """The red-flag questions, or a symptom's "is it new?" (:mod:`coach.core.screen`)."""
    FEEDBACK = "feedback"
    """ "Too easy, just right, or too hard?" after an exercise (:mod:`coach.core.feedback`)."""
    PAUSED = "paused"
    SUMMARY = "summary"
    ENDED = "ended"


@dataclass(frozen=True)
class ResumeOffer:
    """The last session of this routine was cut off (power, crash): it can go on from here."""

    previous_session: int
    exercise_index: int
    """Routine index of the first exercise without a result in the cut-off session."""

    def step(self, script: Script) -> int | None:
        """The step of ``script`` that runs this exercise (None: no such exercise, or the first)."""
        if self.exercise_index <= 0:
            return None
        steps = enumerate(script.steps)
        return next((i for i, s in steps if isinstance(s, Block) and s.exercise_index == self.exercise_index), None)

    def title(self, script: Script) -> str:
        """The name of the exercise it goes on from (the routine's title when there is none)."""
        index = self.step(script)
        step = script.steps[index if index is not None else 0]
        assert isinstance(step, Block)
        return step.title


@dataclass
class Progress:
    """The exercises a session set out to do and how each went: what its summary and its end count."""

    exercises: tuple[Exercise, ...]
    """The routine's, rest breaks included (indices are routine indices)."""
    first: int = 0
    """Routine index the session started from (not 0 when it resumed a cut-off one)."""
    status: dict[int, str] = field(default_factory=dict)
    """Result by routine index: ``done``, ``skipped``, ``stopped``, ``stopped-for-pain``."""

    def tally(self) -> tuple[int, int]:
        """Exercises done, and exercises this session set out to do (rest breaks are not counted)."""
        done = sum(1 for i, e in enumerate(self.exercises) if not isinstance(e, RestBreak) and self.status.get(i) == "done")
        return done, self.total(self.first)

    def total(self, from_index: int) -> int:
        """Exercises (not rest breaks) from routine index ``from_index`` on: what a summary counts."""
        return sum(1 for e in self.exercises[from_index:] if not isinstance(e, RestBreak))
