"""``coach report``: one self-contained HTML page a clinician can read, and a PNG of its main chart.

The page has no external resources (inline CSS and SVG), so it can be mailed, opened offline or
printed. Charts are drawn by :mod:`coach.reports.charts` with no plotting library (see :mod:`coach.reports.raster`
for why): pain before and after each session, sessions per week, exercises completed per week,
and the ratings given during each exercise. The PNG (the pain chart, 150 dpi) sits beside the page.
"""

from __future__ import annotations

import datetime as _dt
import html
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from coach import __version__
from coach.core.records import CheckIn, ExerciseResult, RatingRecorded
from coach.log.files import open_private_out
from coach.log.programme_report import iter_sessionless
from coach.log.queries import Filter, SessionSummary, Unreadable, dated, iter_records, iter_sessions
from coach.log.store import Store
from coach.reports.charts import (
    Canvas,
    PainPoint,
    SvgCanvas,
    Week,
    exercise_ratings_chart,
    exercise_rows_height,
    exercises_chart,
    pain_chart,
    sessions_chart,
)
from coach.reports.programme import KINDS as PROGRAMME_KINDS
from coach.reports.programme import ProgrammeTally, checkin_cell
from coach.reports.programme import render as render_programme
from coach.reports.raster import RasterCanvas

MAX_WEEKS = 26
"""The adherence charts show at most this many weeks, the most recent."""
TRAILING_WEEKS = 8
"""Weeks without a session up to today are shown when the last session is at most this many weeks old."""
CHART_SIZE = (760.0, 300.0)
"""Width and height of each chart (points; the PNG is twice that in pixels)."""


MAX_PAIN_SESSIONS = 365
"""The pain chart shows at most this many sessions, the most recent (a year of daily sessions): more dots
than the chart has room for tell nothing, and drawing them costs the PNG seconds (the table lists them all)."""


@dataclass(frozen=True)
class ReportData:
    """What the report needs, gathered in one pass over the log: a summary per session, and tallies of
    the records (exercise results per session, the ratings given during each exercise), never the records."""

    sessions: list[SessionSummary]
    today: _dt.date
    results: dict[int, int] = field(default_factory=dict)
    """Exercise results (not rest breaks) per session, for a session that ended without its total."""
    ratings: dict[str, list[int]] = field(default_factory=dict)
    """The ratings given during each exercise, in the order given."""
    unreadable: str | None = None
    """A line for the person when some rows were not records this coach can read (left out of the charts)."""
    programme: ProgrammeTally = field(default_factory=ProgrammeTally)
    """The programme records' tallies (:mod:`coach.reports.programme`); none: the page has no programme part."""

    def pain_points(self) -> list[PainPoint]:
        points = [
            PainPoint(s.started_local.date(), s.pain_before, s.pain_after, *self._morning(s))
            for s in self.sessions
            if s.pain_before is not None or s.pain_after is not None or self._morning(s)
        ]
        return points[-MAX_PAIN_SESSIONS:]

    def _morning(self, s: SessionSummary) -> tuple[int, ...]:
        """The rating of the check-in ``s`` opened with, if it has one (a programme's session), as a 1-tuple; else ()."""
        checkin = self.programme.checkins.get(s.id) if self.programme.checkins else None
        return () if checkin is None or checkin.rating is None else (checkin.rating,)

    def pain_title(self) -> str | None:
        """The pain chart's title when it leaves older sessions out (None: the usual title)."""
        shown = sum(1 for s in self.sessions if s.pain_before is not None or s.pain_after is not None or self._morning(s))
        return f"Pain before and after, the last {MAX_PAIN_SESSIONS} sessions rated (0-10)" if shown > MAX_PAIN_SESSIONS else None

    def weeks(self) -> list[Week]:
        if not self.sessions:
            return []
        first = _monday(self.sessions[0].started_local.date())
        last = _monday(self.sessions[-1].started_local.date())
        if last < _monday(self.today) <= last + _dt.timedelta(weeks=TRAILING_WEEKS):
            last = _monday(self.today)  # recent weeks without a session are part of the picture
        first = max(first, last - _dt.timedelta(weeks=MAX_WEEKS - 1))
        count = (last - first).days // 7 + 1
        tallies = [[0, 0, 0] for _ in range(count)]
        for s in self.sessions:
            index = (_monday(s.started_local.date()) - first).days // 7
            if 0 <= index < count:
                tally = tallies[index]
                tally[0] += 1
                tally[1] += s.exercises_done
                tally[2] += s.exercises_total if s.exercises_total is not None else self.results.get(s.id, s.exercises_done)
        return [Week(first + _dt.timedelta(weeks=i), *t) for i, t in enumerate(tallies)]

    def exercise_ratings(self) -> list[tuple[str, list[int]]]:
        return list(self.ratings.items())


def load(
    store: Store | None, which: Filter | None = None, today: _dt.date | None = None, notices: list[str] | None = None
) -> ReportData:
    """The chosen sessions and the tallies of their records, streamed from the log once; a session with no
    readable start is left out (said in ``notices``), and so are its records."""
    day = today or _dt.date.today()
    if store is None:
        return ReportData([], day)
    which = which or Filter()
    found = list(dated(iter_sessions(store.conn, which), [] if notices is None else notices))
    kept = {s.id for s in found}
    results: dict[int, int] = {}
    ratings: dict[str, list[int]] = {}
    seen = Unreadable()
    programme = ProgrammeTally()
    for row in iter_records(store.conn, which):
        if row.session not in kept:
            continue
        seen.see(row)
        if row.kind in PROGRAMME_KINDS:
            programme.see(row)
            continue
        if row.kind not in (ExerciseResult.kind, RatingRecorded.kind):
            continue
        record = row.record
        if isinstance(record, ExerciseResult) and not record.rest and row.session is not None:
            results[row.session] = results.get(row.session, 0) + 1
        elif isinstance(record, RatingRecorded) and record.value is not None and record.exercise is not None and record.counts:
            ratings.setdefault(record.exercise, []).append(record.value)
    for row in iter_sessionless(store.conn, which):  # a programme's start and stop
        if row.kind in PROGRAMME_KINDS:
            programme.see(row)
    return ReportData(found, day, results, ratings, seen.line(), programme)


def _monday(day: _dt.date) -> _dt.date:
    return day - _dt.timedelta(days=day.weekday())


def write_report(data: ReportData, out: Path, which: Filter | None = None) -> Path:
    """Write the HTML page to ``out`` and the pain chart's PNG beside it; return the PNG's path."""
    png_path = out.with_suffix(".png")
    raster = RasterCanvas(*CHART_SIZE, scale=2.0)
    pain_chart(raster, data.pain_points(), data.pain_title())
    write_private(out, render_html(data, which or Filter(), png_path.name).encode("utf-8"))
    write_private(png_path, raster.png())
    return png_path


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path``, readable by its owner only (also an existing file): it is health data.
    A link or a special file at ``path`` is refused, never followed."""
    fd = open_private_out(path)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def render_html(data: ReportData, which: Filter, png_name: str) -> str:
    weeks = data.weeks()
    per_exercise = data.exercise_ratings()
    width, height = CHART_SIZE
    drawings: list[tuple[str, float, Callable[[Canvas], None]]] = [
        ("Pain before and after each session", height, lambda c: pain_chart(c, data.pain_points(), data.pain_title())),
        ("Sessions per week", height * 0.8, lambda c: sessions_chart(c, weeks)),
        ("Exercises completed per week", height * 0.8, lambda c: exercises_chart(c, weeks)),
        (
            "Pain ratings during each exercise",
            exercise_rows_height(len(per_exercise)),
            lambda c: exercise_ratings_chart(c, per_exercise),
        ),
    ]
    charts = []
    for title, chart_height, draw in drawings:
        canvas = SvgCanvas(width, chart_height, title)
        draw(canvas)
        charts.append(f'<figure class="chart">{canvas.svg()}</figure>')
    stations = any(s.station for s in data.sessions)  # a clinic's view: which station each session ran at
    scope = []
    if which.profile:
        scope.append(f"profile {which.profile}")
    if which.station:
        scope.append(f"station {which.station}")
    if which.since:
        scope.append(f"since {which.since.isoformat()}")
    heading = "Exercise sessions" + (f" ({', '.join(scope)})" if scope else "")
    checkins = data.programme.checkins if data.programme else None  # a column only in a programme's report
    return _PAGE.format(
        heading=html.escape(heading),
        generated=html.escape(_dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")),
        summary=html.escape(_summary(data.sessions)),
        charts="\n".join(charts),
        programme=render_programme(data.programme, data.sessions, data.today, width),
        png=html.escape(png_name),
        table=_table(data.sessions, stations, checkins),
        station_head="<th>Station</th>" if stations else "",
        checkin_head="<th>Next-morning check-in</th>" if checkins is not None else "",
        version=html.escape(__version__),
    )


def _summary(found: Sequence[SessionSummary]) -> str:
    if not found:
        return "No sessions recorded."
    first, last = found[0].started_local.date(), found[-1].started_local.date()
    completed = sum(1 for s in found if s.status == "completed")
    done = sum(s.exercises_done for s in found)
    return f"{len(found)} sessions from {first.isoformat()} to {last.isoformat()}; {completed} completed; {done} exercises done."


def _table(found: Sequence[SessionSummary], stations: bool = False, checkins: dict[int, CheckIn] | None = None) -> str:
    rows = []
    for s in reversed(found):
        pain = f"{_dash(s.pain_before)} &rarr; {_dash(s.pain_after)}"
        total = "?" if s.exercises_total is None else str(s.exercises_total)
        rows.append(
            "<tr>"
            f"<td>{html.escape(s.started_local.strftime('%Y-%m-%d %H:%M'))}</td>"
            f"<td>{html.escape(s.title or s.routine)}</td>"
            f"<td>{html.escape(s.status or 'open')}</td>"
            f"<td>{pain}</td>"
            + (f"<td>{checkin_cell(checkins.get(s.id))}</td>" if checkins is not None else "")
            + f"<td>{s.exercises_done}/{total}</td>"
            f"<td>{html.escape(s.profile or '')}</td>"
            + (f"<td>{html.escape(s.station or '')}</td>" if stations else "")
            + "</tr>"
        )
    return "\n".join(rows)


def _dash(value: int | None) -> str:
    return "&ndash;" if value is None else str(value)


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Coach report: {heading}</title>
<style>
body {{ font-family: sans-serif; color: #222; max-width: 820px; margin: 1.5em auto; padding: 0 1em; }}
h1 {{ font-size: 1.4em; margin-bottom: 0.2em; }}
.meta, .note {{ color: #555; font-size: 0.9em; }}
figure.chart {{ margin: 1.2em 0; page-break-inside: avoid; break-inside: avoid; }}
figure.chart svg {{ width: 100%; height: auto; }}
table {{ border-collapse: collapse; width: 100%; font-size: 0.9em; }}
th, td {{ text-align: left; padding: 0.25em 0.5em; border-bottom: 1px solid #ddd; }}
</style>
</head>
<body>
<h1>{heading}</h1>
<p class="meta">Generated {generated} by coach {version}. {summary}</p>
<p class="note">Pain is the 0-10 numeric rating scale (LOINC 72514-3): 0-2 safe, 3-5 acceptable, above 5 too much.
This is a home-exercise aid, not a medical device; the records are what the person reported.
A printable copy of the first chart: <code>{png}</code>.</p>
{charts}{programme}
<h2>Sessions</h2>
<table>
<thead><tr><th>Started</th><th>Routine</th><th>Status</th><th>Pain before &rarr; after</th>{checkin_head}<th>Exercises done</th>
<th>Profile</th>{station_head}</tr></thead>
<tbody>
{table}
</tbody>
</table>
</body>
</html>
"""
