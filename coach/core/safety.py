"""Pain safety rules, after the pain-monitoring model (Silbernagel 2007; see shared/PROTOCOL.md).

0-2 safe, 3-5 acceptable, above 5 stop or regress the exercise; a rating of 8 or more, or a rise
of 3 points over the session's first rating, ends the session with advice to rest and contact a
clinician. Pure functions: the session calls them and speaks and records what they decide. The
thresholds, :class:`SafetyRules`, are settings (coach.spec.settings: the config's ``safety:`` section,
which a routine may override).
"""

from __future__ import annotations

from dataclasses import dataclass

from coach.spec.settings import SafetyRules

END_SESSION = "end-session"
STOP_EXERCISE = "stop-exercise"
CAUTION = "caution"


@dataclass(frozen=True)
class SafetyDecision:
    """A rule that fired: which, what the session does about it, and the phrase that says why."""

    rule: str
    action: str
    reason: str
    phrase: str
    """Locale phrase key that explains the decision to the person."""
    limit: int
    first: int | None = None


def evaluate(value: int, first: int | None, rules: SafetyRules, in_exercise: bool) -> SafetyDecision | None:
    """The strongest rule ``value`` triggers, or ``None`` when the exercise may go on.

    ``first`` is the session's first rating (``None`` if this is it); ``in_exercise`` says whether an
    exercise is under way that can be stopped.
    """
    if value >= rules.end_session_at:
        return SafetyDecision(
            "end_session_at",
            END_SESSION,
            f"pain {value} is at or above {rules.end_session_at}",
            "safety_end_high",
            rules.end_session_at,
        )
    if first is not None and value - first >= rules.end_session_rise:
        return SafetyDecision(
            "end_session_rise",
            END_SESSION,
            f"pain rose from {first} to {value}, {value - first} points (limit {rules.end_session_rise})",
            "safety_end_rise",
            rules.end_session_rise,
            first,
        )
    if value > rules.stop_exercise_above:
        if in_exercise:
            return SafetyDecision(
                "stop_exercise_above",
                STOP_EXERCISE,
                f"pain {value} is above {rules.stop_exercise_above}",
                "safety_stop_exercise",
                rules.stop_exercise_above,
            )
        return SafetyDecision(
            "stop_exercise_above",
            CAUTION,
            f"pain {value} is above {rules.stop_exercise_above}",
            "safety_caution",
            rules.stop_exercise_above,
        )
    return None
