"""How a session opens: from the top, or, after a cut-off session, with the offer to go on from where it stopped.

Pure decisions the session acts on (``Session._begin``): what the start records, what is said, which
step the script goes on with and when. Kept apart from the session's commands because the offer is a
small conversation of its own ("Last time, the session stopped at X: say yes to go on").
"""

from __future__ import annotations

from dataclasses import dataclass

from coach.core.records import SessionStarted
from coach.core.script import PainCheck, Script
from coach.core.states import ACK_GAP, ResumeOffer, SessionSettings
from coach.spec.locale import Locale
from coach.spec.routine import estimate_speech_seconds


@dataclass(frozen=True)
class Opening:
    """How a session begins."""

    started: SessionStarted
    said: str | None
    """What the coach says of the offer as it begins (declined, or taken), if there was one."""
    step: int
    """The script step it goes on with: 0, or the resumed exercise's."""
    at: float
    first: int
    """Routine index the session starts from (the summary counts from it)."""
    ask_before: bool
    """A resumed session asks the before check first: pain may have changed since it was cut."""


def offer_prompt(offer: ResumeOffer, script: Script, locale: Locale, settings: SessionSettings, at: float) -> tuple[str, float]:
    """The offer to go on, and when silence declines it (after it is said and the answer window)."""
    text = locale.say("resume_offer", name=offer.title(script))
    return text, at + estimate_speech_seconds(text) + settings.answer_seconds


def opening(script: Script, locale: Locale, offer: ResumeOffer | None, resume: bool, at: float) -> Opening:
    """How a session of ``script`` begins at ``at``: from the top, or, ``resume`` taken, where ``offer`` says."""
    routine = script.routine
    offered = offer.previous_session if offer is not None else None
    resumed_from = offer.exercise_index if offer is not None and resume else None
    started = SessionStarted(at, routine.id, routine.title, routine.version, routine.language, offered, resumed_from)
    if offer is None:
        return Opening(started, None, 0, at, 0, False)
    if not resume:
        return Opening(started, locale.say("resume_declined"), 0, at + ACK_GAP, 0, False)
    target = offer.step(script)  # go on from the exercise the cut-off session did not finish
    assert target is not None
    before = any(isinstance(step, PainCheck) and step.moment == "before" for step in script.steps)
    said = locale.say("resume_accepted", name=offer.title(script))
    return Opening(started, said, target, at + ACK_GAP, offer.exercise_index, before)
