"""The rules of a programme over days: which levels today, and why they changed (pure).

From the history (the programme's start, every programme session's per-exercise pain, the next-morning
check-ins, the level changes already made) and today's check-in, :func:`decide` gives today's stage,
week and levels, and each change with its reason, after shared/PROTOCOL.md's pain-monitoring model:

- **Missed days** (at least ``regress_after_missed_days`` since the last session): every exercise one
  level down: a back that has rested starts a step lower.
- **The next morning worse** than the morning before (the check-in says "worse", or its rating is higher
  than the last one's): the exercises of the last session one level down.
- **A pain above** ``easier_above`` during an exercise (or the session switched it to its easier form):
  its easier form next time (the highest easier-form level below it; one level down if it has none).
- **Good days**: one level up after ``progress_after_sessions`` days in a row (no more than ``max_gap_days``
  apart, the last no longer ago) on which the exercise's pain was at most ``progress_max_pain``, it was
  done, and the next morning was no worse. Only days since the exercise's last change count.
- **Stages by week**: week 1 starts the day the programme starts; each stage's ladders start at their
  ``start`` levels.

At most one change per exercise a day, the first rule that applies; levels stay within the ladder.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field

from coach.spec.programme import ExerciseLadder, Programme, Stage

WORSE = "worse"
ANSWERS = ("better", "same", WORSE)


@dataclass(frozen=True)
class Outcome:
    """One exercise in one session: its highest pain during or right after it, and what happened."""

    pain: int | None
    done: bool = True
    regressed: bool = False
    """The session switched it to its easier form (a rating above the stop threshold)."""
    own: bool = True
    """``pain`` was given during or right after this exercise; ``False``: it is the session's highest (the exercise
    had no rating of its own), which can keep a day from being good but never puts the exercise down by itself."""
    feedback: str | None = None
    """The answer to "too easy, just right, or too hard?" (``easy``, ``right``, ``hard``), if it was asked and answered."""


@dataclass(frozen=True)
class DaySession:
    """A programme session on ``day`` (several on one day are merged: the highest pain of each exercise)."""

    day: _dt.date
    stage: str
    exercises: dict[str, Outcome]


@dataclass(frozen=True)
class Morning:
    day: _dt.date
    answer: str | None
    rating: int | None


@dataclass(frozen=True)
class Change:
    exercise: str
    old: int
    new: int
    reason: str
    """``good-sessions``, ``worse-next-morning``, ``pain-above``, ``missed-days``."""
    day: _dt.date
    stage: str
    count: int = 0
    """Good days (``good-sessions``) or days away (``missed-days``)."""


@dataclass(frozen=True)
class History:
    start: _dt.date
    sessions: tuple[DaySession, ...] = ()
    mornings: tuple[Morning, ...] = ()
    changes: tuple[Change, ...] = ()


@dataclass
class Decision:
    stage: Stage
    week: int
    day_number: int
    """Days since the start, from 1."""
    levels: dict[str, int]
    changes: list[Change] = field(default_factory=list)
    good_days: dict[str, int] = field(default_factory=dict)
    """Each exercise's good days in a row so far (towards its next level)."""
    stage_started: bool = False
    """Today is the first programme session of this stage."""


def week_of(start: _dt.date, today: _dt.date) -> int:
    return max(0, (today - start).days) // 7 + 1


def current_levels(stage: Stage, changes: tuple[Change, ...] | list[Change]) -> dict[str, int]:
    """The stage's levels: each ladder's start, then every change made within this stage, in order."""
    levels = {ex: ladder.start for ex, ladder in stage.exercises.items()}
    for change in changes:
        if change.stage == stage.id and change.exercise in levels:
            levels[change.exercise] = change.new
    return levels


def merge_days(sessions: tuple[DaySession, ...]) -> list[DaySession]:
    """One :class:`DaySession` a day, in day order: the highest pain of each exercise, regressed if any was."""
    by_day: dict[_dt.date, DaySession] = {}
    for s in sorted(sessions, key=lambda s: s.day):
        old = by_day.get(s.day)
        if old is None:
            by_day[s.day] = s
            continue
        merged = dict(old.exercises)
        for ex, o in s.exercises.items():
            m = merged.get(ex)
            merged[ex] = o if m is None else _merged(m, o)
        by_day[s.day] = DaySession(s.day, s.stage, merged)
    return list(by_day.values())


def _merged(a: Outcome, b: Outcome) -> Outcome:
    """Two sessions of one day: the higher pain; "too hard" in either wins, then the later answer."""
    felt = "hard" if "hard" in (a.feedback, b.feedback) else (b.feedback or a.feedback)
    return Outcome(_max(a.pain, b.pain), a.done or b.done, a.regressed or b.regressed, a.own or b.own, felt)


def _max(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else max(a, b)


def is_worse(morning: Morning | None, before: Morning | None) -> bool:
    """The next-morning rule: "worse", or a rating higher than the morning before's."""
    if morning is None:
        return False
    if morning.answer == WORSE:
        return True
    return morning.rating is not None and before is not None and before.rating is not None and morning.rating > before.rating


def decide(programme: Programme, history: History, today: _dt.date, morning: Morning | None) -> Decision:
    """Today's stage and levels, and the changes (with reasons) the history and today's check-in call for."""
    rules = programme.rules
    week = week_of(history.start, today)
    stage = programme.stage_for_week(week)
    levels = current_levels(stage, history.changes)
    days = [d for d in merge_days(history.sessions) if d.day < today]
    mornings = sorted((m for m in history.mornings if m.day < today), key=lambda m: m.day)
    decision = Decision(stage, week, (today - history.start).days + 1, dict(levels))
    decision.stage_started = not any(d.stage == stage.id for d in days)
    if not days:
        return decision
    last = days[-1]
    before = mornings[-1] if mornings else None
    worse = is_worse(morning, before)
    away = (today - last.day).days
    for ex, ladder in stage.exercises.items():
        level = levels[ex]
        since = _last_change_day(history.changes, stage.id, ex)
        if since is not None and since >= today:  # changed today already (today's first session): one change a day
            continue
        mine = [d for d in days if d.stage == stage.id and ex in d.exercises and (since is None or d.day >= since)]
        change = None
        if away >= rules.regress_after_missed_days and level > 1:
            change = Change(ex, level, level - 1, "missed-days", today, stage.id, away)
        elif worse and ex in last.exercises and last.stage == stage.id and level > 1 and (since is None or last.day >= since):
            change = Change(ex, level, level - 1, "worse-next-morning", today, stage.id)
        elif mine and mine[-1] is last and _hurt(last.exercises[ex], rules.easier_above):
            target = _easier_level(ladder, level)
            if target < level:
                change = Change(ex, level, target, "pain-above", today, stage.id, last.exercises[ex].pain or 0)
        if change is None and not worse:
            good = _good_days(
                ex, mine, [*mornings, *([morning] if morning else [])], today, rules.progress_max_pain, rules.max_gap_days
            )
            decision.good_days[ex] = good
            if good >= rules.progress_after_sessions and level < len(ladder.levels):
                change = Change(ex, level, level + 1, "good-sessions", today, stage.id, good)
        if change is not None:
            decision.changes.append(change)
            decision.levels[ex] = change.new
            decision.good_days[ex] = 0
    return decision


def _last_change_day(changes: tuple[Change, ...], stage: str, exercise: str) -> _dt.date | None:
    days = [c.day for c in changes if c.stage == stage and c.exercise == exercise]
    return max(days) if days else None


def _hurt(outcome: Outcome, above: int) -> bool:
    return outcome.regressed or (outcome.own and outcome.pain is not None and outcome.pain > above)


def _easier_level(ladder: ExerciseLadder, level: int) -> int:
    """The level to go back to for a pain above the limit: the highest easier-form level below ``level``, else one down."""
    easier = [n for n, lv in enumerate(ladder.levels, 1) if lv.form == "easier" and n < level]
    return easier[-1] if easier else max(1, level - 1)


def _good_days(ex: str, days: list[DaySession], mornings: list[Morning], today: _dt.date, max_pain: int, max_gap: int) -> int:
    """How many of the last ``days`` in a row were good for the exercise (each ``days`` entry has it)."""
    count = 0
    after = today
    for d in reversed(days):
        if (after - d.day).days > max_gap:
            break
        outcome = d.exercises[ex]
        if not outcome.done or outcome.regressed or outcome.pain is None or outcome.pain > max_pain:
            break
        if outcome.feedback == "hard":  # "too hard": not a day to build on, whatever the pain
            break
        following = [m for m in mornings if d.day < m.day <= after]
        previous = [m for m in mornings if m.day <= d.day]
        if not following or (following[0].answer is None and following[0].rating is None):
            break
        if is_worse(following[0], previous[-1] if previous else None):
            break
        count += 2 if outcome.feedback == "easy" else 1  # "too easy" on a good day: it counts twice
        after = d.day
    return count
