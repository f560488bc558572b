"""The report's "Programme" part (issue 15): each course's stages, levels over time, check-ins and adherence.

Gathered as the report's records stream by (:meth:`ProgrammeTally.see`), a few small values per programme
session, never the records themselves; the programme's start and stop, written outside any session, come from
:func:`coach.log.programme_report.iter_sessionless`. A course is one profile's one programme: its sessions are
those whose ``programme_day`` names it. Level numbers are steps on one stage's ladder, so a stage change is
marked wherever levels are shown. A log with none of these records has no programme part at all.
"""

from __future__ import annotations

import datetime as _dt
import html
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from coach.core.records import CheckIn, ExerciseFeedback, ProgrammeChanged, ProgrammeDay, Progress
from coach.errors import CoachError
from coach.log.queries import RecordRow, SessionSummary
from coach.reports.charts import SvgCanvas, levels_chart, levels_chart_height
from coach.spec.programme import load_programme, programme_paths

KINDS = frozenset((CheckIn.kind, Progress.kind, ProgrammeChanged.kind, ProgrammeDay.kind, ExerciseFeedback.kind))
FEEDBACK = (("easy", "too easy"), ("right", "just right"), ("hard", "too hard"))
REASONS = {
    "good-sessions": "good days in a row",
    "worse-next-morning": "the next morning worse",
    "pain-above": "pain above the limit",
    "missed-days": "days missed",
    "stage": "a new stage",
}


@dataclass
class ProgrammeTally:
    """The programme records of the chosen sessions, by session (and the session-less starts and stops)."""

    days: dict[int, ProgrammeDay] = field(default_factory=dict)
    checkins: dict[int, CheckIn] = field(default_factory=dict)
    changes: dict[int, list[Progress]] = field(default_factory=dict)
    feedback: dict[int, Counter[tuple[str, str]]] = field(default_factory=dict)
    marks: list[ProgrammeChanged] = field(default_factory=list)

    def see(self, row: RecordRow) -> None:
        """Tally one row (of a kind in :data:`KINDS`)."""
        record, session = row.record, row.session
        if isinstance(record, ProgrammeChanged):
            self.marks.append(record)
        elif session is None:
            return
        elif isinstance(record, ProgrammeDay):
            self.days.setdefault(session, record)
        elif isinstance(record, CheckIn):
            self.checkins.setdefault(session, record)
        elif isinstance(record, Progress):
            self.changes.setdefault(session, []).append(record)
        elif isinstance(record, ExerciseFeedback):
            self.feedback.setdefault(session, Counter())[(record.exercise, record.answer)] += 1

    def __bool__(self) -> bool:
        return bool(self.days or self.checkins or self.changes or self.feedback or self.marks)


@dataclass
class Course:
    """One profile's one programme, as the report shows it."""

    profile: str | None
    programme: str
    start: _dt.date | None = None
    stop: _dt.date | None = None
    sessions: list[tuple[SessionSummary, ProgrammeDay]] = field(default_factory=list)

    def first(self) -> _dt.date:
        days = [_day(d.day) for _, d in self.sessions]
        return self.start or min((d for d in days if d is not None), default=_dt.date.min)

    def end(self, today: _dt.date) -> _dt.date:
        """The last day of the plan so far: its stop, else today (or the last session's day, if that is later)."""
        last = max((d for _, p in self.sessions if (d := _day(p.day)) is not None), default=self.first())
        return self.stop if self.stop is not None else max(last, today)


def courses(tally: ProgrammeTally, found: Sequence[SessionSummary]) -> list[Course]:
    """The courses in the chosen sessions, in the order they began."""
    by_key: dict[tuple[str | None, str], Course] = {}
    for mark in tally.marks:
        course = by_key.setdefault((mark.profile, mark.programme), Course(mark.profile, mark.programme))
        when = _day(mark.day)
        if mark.action == "start":
            course.start = course.start if course.start is not None and (when is None or course.start <= when) else when
            course.stop = None
        elif mark.action == "stop":
            course.stop = when
    for summary in found:
        day = tally.days.get(summary.id)
        if day is not None:
            key = (summary.profile, day.programme)
            by_key.setdefault(key, Course(*key)).sessions.append((summary, day))
    return sorted(by_key.values(), key=lambda c: (c.first(), c.profile or "", c.programme))


def checkin_cell(checkin: CheckIn | None) -> str:
    """A check-in as the sessions table shows it: its answer and its rating."""
    if checkin is None:
        return "&ndash;"
    answer = html.escape(checkin.answer or "no answer")
    return f"{answer}, {checkin.rating}" if checkin.rating is not None else answer


def shipped_weeks(programme: str) -> int | None:
    """How many weeks a shipped programme's plan has (None: not one this coach ships, or not readable now)."""
    path = programme_paths().get(programme)
    if path is None:
        return None
    try:
        return load_programme(path).weeks
    except CoachError:
        return None


def render(
    tally: ProgrammeTally,
    found: Sequence[SessionSummary],
    today: _dt.date,
    width: float,
    weeks: Callable[[str], int | None] = shipped_weeks,
) -> str:
    """The programme part of the page (its own ``<h2>``), or ``""`` when the log has no programme records.
    ``weeks`` gives a programme's length: adherence counts the plan's days, not the days after it ended."""
    if not tally:
        return ""
    parts = ["", "<h2>Programme</h2>"]
    for course in courses(tally, found):
        parts.append(_course(course, tally, today, width, weeks(course.programme)))
    return "\n".join(parts)


def _course(course: Course, tally: ProgrammeTally, today: _dt.date, width: float, weeks: int | None) -> str:
    who = f" (profile {course.profile})" if course.profile else ""
    start, end = course.first(), course.end(today)
    ended = ""
    if weeks is not None and end > start + _dt.timedelta(days=7 * weeks - 1):
        end = start + _dt.timedelta(days=7 * weeks - 1)
        ended = f" (its {weeks} weeks ended on {end.isoformat()})"
    done = {d for _, p in course.sessions if (d := _day(p.day)) is not None and start <= d <= end}
    span = (end - start).days + 1 if end >= start else 0
    open_today = end == today and today not in done and course.stop is None  # today is not over yet
    planned = span - (1 if open_today else 0)
    missed = [start + _dt.timedelta(days=n) for n in range(span)]
    missed = [d for d in missed if d not in done and not (open_today and d == today)]
    state = (f"stopped on {course.stop.isoformat()}" if course.stop is not None else "active") + ended
    share = f" ({100 * len(done) // planned}%)" if planned > 0 else ""
    lines = [
        f"<h3>{html.escape(course.programme + who)}</h3>",
        f'<p class="adherence">Started {start.isoformat()}, {state}. Adherence: {len(done)} of {planned} days'
        f" with a programme session{share}; {len(missed)} missed days"
        + (f" ({html.escape(_runs(missed))})" if missed else "")
        + ".</p>",
    ]
    lines.append(_stages(course))
    series, marks = _levels(course, start)
    canvas = SvgCanvas(width, levels_chart_height(len(series)), "Level of each exercise")
    last = max((day for _, points in series for day, _ in points), default=0)  # sessions after the plan goes on
    levels_chart(canvas, series, start, max(span, last + 1, 1), marks)
    lines.append(f'<figure class="chart">{canvas.svg()}</figure>')
    lines.append(_days_table(course, tally))
    lines.append(_feedback_table(course, tally))
    return "\n".join(line for line in lines if line)


def _stages(course: Course) -> str:
    rows: list[list[object]] = []
    for _, day in course.sessions:
        if not rows or rows[-1][0] != day.stage:
            rows.append([day.stage, day.day, day.day, 0])
        rows[-1][2] = day.day
        rows[-1][3] = int(str(rows[-1][3])) + 1
    body = "".join(
        f"<tr><td>{html.escape(str(s))}</td><td>{html.escape(str(a))}</td><td>{html.escape(str(b))}</td><td>{n}</td></tr>"
        for s, a, b, n in rows
    )
    head = "<tr><th>Stage</th><th>From</th><th>To</th><th>Sessions</th></tr>"
    return f'<table class="stages"><thead>{head}</thead><tbody>{body}</tbody></table>'


def _levels(course: Course, start: _dt.date) -> tuple[list[tuple[str, list[tuple[int, int]]]], list[tuple[int, str]]]:
    """Each exercise's (day from the start, level) at each session, and the stage changes (day, stage)."""
    series: dict[str, list[tuple[int, int]]] = {}
    marks: list[tuple[int, str]] = []
    stage: str | None = None
    for _, day in course.sessions:
        when = _day(day.day)
        if when is None:
            continue
        offset = (when - start).days
        if day.stage != stage:
            marks.append((offset, day.stage))
            stage = day.stage
        for exercise, level in parse_levels(day.levels):
            series.setdefault(exercise, []).append((offset, level))
    return list(series.items()), marks


def _days_table(course: Course, tally: ProgrammeTally) -> str:
    rows = []
    stage: str | None = None
    for summary, day in course.sessions:
        new = day.stage != stage and stage is not None
        stage = day.stage
        changes = "; ".join(
            f"{html.escape(c.exercise)} {c.from_level} &rarr; {c.to_level} ({html.escape(REASONS.get(c.reason, c.reason))})"
            for c in tally.changes.get(summary.id, [])
            if isinstance(c.exercise, str)
        )
        mark = "<strong>new stage</strong> " if new else ""
        rows.append(
            f"<tr><td>{html.escape(day.day)}</td><td>{mark}{html.escape(day.stage)}, week {day.week}</td>"
            f"<td>{checkin_cell(tally.checkins.get(summary.id))}</td>"
            f"<td>{_dash(summary.pain_before)} &rarr; {_dash(summary.pain_after)}</td>"
            f"<td>{changes}</td></tr>"
        )
    return (
        '<table class="programme-days"><thead><tr><th>Day</th><th>Stage</th><th>Next-morning check-in</th>'
        "<th>Pain before &rarr; after</th><th>Level changes</th></tr></thead><tbody>\n" + "\n".join(rows) + "\n</tbody></table>"
    )


def _feedback_table(course: Course, tally: ProgrammeTally) -> str:
    counts: Counter[tuple[str, str]] = Counter()
    for summary, _ in course.sessions:
        counts.update(tally.feedback.get(summary.id, Counter()))
    exercises = list(dict.fromkeys(exercise for exercise, _ in counts))
    if not exercises:
        return ""
    head = "".join(f"<th>{label}</th>" for _, label in FEEDBACK)
    body = "".join(
        f"<tr><td>{html.escape(e)}</td>" + "".join(f"<td>{counts[(e, a)]}</td>" for a, _ in FEEDBACK) + "</tr>" for e in exercises
    )
    return f'<table class="feedback"><thead><tr><th>Feedback</th>{head}</tr></thead><tbody>{body}</tbody></table>'


def parse_levels(text: str) -> Iterable[tuple[str, int]]:
    """``"ex=N,ex=N"`` as (exercise, level) pairs; a pair that is not one (a hand edit) is left out."""
    for pair in text.split(","):
        name, _, level = pair.strip().partition("=")
        if name and level.strip().isdigit():
            yield name, int(level)


def _runs(days: Sequence[_dt.date]) -> str:
    """Missed days as runs: ``2026-03-05, 2026-03-08 to 2026-03-10``."""
    runs: list[list[_dt.date]] = []
    for d in days:
        if runs and (d - runs[-1][1]).days == 1:
            runs[-1][1] = d
        else:
            runs.append([d, d])
    return ", ".join(a.isoformat() if a == b else f"{a.isoformat()} to {b.isoformat()}" for a, b in runs)


def _day(text: str) -> _dt.date | None:
    try:
        return _dt.date.fromisoformat(text)
    except (TypeError, ValueError):
        return None


def _dash(value: int | None) -> str:
    return "&ndash;" if value is None else str(value)
