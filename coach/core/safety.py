"""Pain safety rules, after the pain-monitoring model (Silbernagel 2007; see shared/PROTOCOL.md).

0-2 safe, 3-5 acceptable, above 5 stop or regress the exercise; a rating of 8 or more, or a rise
of 3 points over the session's first rating, ends the session with advice to rest and contact a
clinician. Pure functions: the session calls them and speaks and records what they decide. The
thresholds, :class:`SafetyRules`, are settings (coach.spec.settings: the config's ``safety:`` section,
which a routine may only make stricter).

The stop rule is baseline-aware. The model judges pain *during* exercise against what is acceptable
(up to 5) and against how it changes, not against one number for everyone: a person whose usual pain
is 5 is in the acceptable band at rest, and a stricter routine threshold (``stop_exercise_above: 4``
for irritated nerves) is there to catch a rise, not to stop them at their first pelvic tilt. So a
rating above ``stop_exercise_above`` stops the exercise (or, between exercises, gives a caution) only
when it is also above the session's first rating, or above :data:`UNACCEPTABLE_ABOVE` whatever the
first rating was. In one threshold: the exercise stops above ``max(stop_exercise_above, min(first,
5))``. The session's first rating is itself the baseline (nothing has risen yet), so it stops only
above 5 — the model's own limit — however strict the routine. The end-session rules (at or above
``end_session_at``; a rise of ``end_session_rise``) are absolute and unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

from coach.spec.settings import SafetyRules

END_SESSION = "end-session"
STOP_EXERCISE = "stop-exercise"
CAUTION = "caution"
REGRESS = "regress"
"""Not a decision of :func:`evaluate`: what a stop of an exercise becomes when it has an easier form to switch to."""

UNACCEPTABLE_ABOVE = 5
"""Silbernagel: pain above 5 during exercise is unacceptable, whatever the person's usual pain (0-10)."""


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


def stop_threshold(first: int | None, rules: SafetyRules) -> int:
    """The rating above which an exercise stops (a caution between exercises), given the first rating.

    ``stop_exercise_above``, lifted to the session's first rating when that is higher, but never
    above :data:`UNACCEPTABLE_ABOVE` on account of it (a configured threshold above 5 is the clinic's
    and stays). ``first`` is ``None`` while the rating asked about is the first: it is the baseline.
    """
    if first is None:
        return max(rules.stop_exercise_above, UNACCEPTABLE_ABOVE)
    return max(rules.stop_exercise_above, min(first, UNACCEPTABLE_ABOVE))


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
    limit = stop_threshold(first, rules)
    if value > limit:
        reason = f"pain {value} is above {rules.stop_exercise_above}"
        if limit > rules.stop_exercise_above:  # the baseline lifted the threshold: say past what it went
            if first == limit:
                reason += f" and above the session's first rating, {first}"
            else:
                whatever = f"whatever the first rating ({first})" if first is not None else "even as the first rating"
                reason += f" and above {UNACCEPTABLE_ABOVE}, too much {whatever}"
        # The phrase names the configured threshold: the rule as the person knows it, and still true.
        if in_exercise:
            return SafetyDecision("stop_exercise_above", STOP_EXERCISE, reason, "safety_stop_exercise", rules.stop_exercise_above)
        return SafetyDecision("stop_exercise_above", CAUTION, reason, "safety_caution", rules.stop_exercise_above)
    return None
