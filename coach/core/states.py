"""The session's states, settings and timing constants: shared by the session and its pain dialogue."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

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
    PAUSED = "paused"
    SUMMARY = "summary"
    ENDED = "ended"


@dataclass(frozen=True)
class ResumeOffer:
    """The last session of this routine was cut off (power, crash): it can go on from here."""

    previous_session: int
    exercise_index: int
    """Routine index of the first exercise without a result in the cut-off session."""
