"""The report's charts, drawn once on a :class:`Canvas`: SVG for the page, PNG (:mod:`coach.reports.raster`) to print.

Coordinates are points with the origin at the top left. The pain chart shades the bands of the
pain-monitoring model (PROTOCOL.md): 0-2 safe, 3-5 acceptable, above 5 too much.
"""

from __future__ import annotations

import datetime as _dt
import html
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

BEFORE = "#d35400"
AFTER = "#1f6fb2"
DONE = "#2e8b57"
NOT_DONE = "#c8d6cf"
MORNING = "#bfe3cc"
INK = "#222222"
GRID = "#dddddd"
BANDS = ((0.0, 2.5, "#eaf6ea", "0-2 safe"), (2.5, 5.5, "#fdf6e0", "3-5 acceptable"), (5.5, 10.0, "#fbeaea", "above 5: too much"))


class Canvas(Protocol):
    width: float
    height: float

    def rect(self, x: float, y: float, w: float, h: float, fill: str) -> None: ...

    def line(self, points: Sequence[tuple[float, float]], stroke: str, width: float = 1.0) -> None: ...

    def circle(self, x: float, y: float, r: float, fill: str, stroke: str | None = None) -> None: ...

    def text(
        self, x: float, y: float, text: str, size: float = 11.0, fill: str = INK, anchor: str = "start", bold: bool = False
    ) -> None: ...


class SvgCanvas:
    """Collects SVG elements; :meth:`svg` gives a standalone ``<svg>`` that scales with the page."""

    def __init__(self, width: float, height: float, title: str) -> None:
        self.width, self.height, self.title = width, height, title
        self.parts: list[str] = []

    def rect(self, x: float, y: float, w: float, h: float, fill: str) -> None:
        self.parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(w, 0):.1f}" height="{max(h, 0):.1f}" fill="{fill}"/>')

    def line(self, points: Sequence[tuple[float, float]], stroke: str, width: float = 1.0) -> None:
        coords = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        self.parts.append(
            f'<polyline points="{coords}" fill="none" stroke="{stroke}" stroke-width="{width}" '
            'stroke-linejoin="round" stroke-linecap="round"/>'
        )

    def circle(self, x: float, y: float, r: float, fill: str, stroke: str | None = None) -> None:
        edge = f' stroke="{stroke}" stroke-width="1"' if stroke else ""
        self.parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r}" fill="{fill}"{edge}/>')

    def text(
        self, x: float, y: float, text: str, size: float = 11.0, fill: str = INK, anchor: str = "start", bold: bool = False
    ) -> None:
        weight = ' font-weight="bold"' if bold else ""
        self.parts.append(
            f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" fill="{fill}" text-anchor="{anchor}"{weight}>'
            f"{html.escape(text)}</text>"
        )

    def svg(self) -> str:
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {self.width:.0f} {self.height:.0f}" '
            f'role="img" aria-label="{html.escape(self.title)}" font-family="sans-serif">'
            f"<title>{html.escape(self.title)}</title>" + "".join(self.parts) + "</svg>"
        )


@dataclass(frozen=True)
class PainPoint:
    day: _dt.date
    before: int | None
    after: int | None
    checkin: int | None = None
    """The next-morning check-in's rating the session opened with (a programme's sessions)."""


@dataclass(frozen=True)
class Week:
    monday: _dt.date
    sessions: int
    exercises_done: int
    exercises_total: int


@dataclass(frozen=True)
class Plot:
    """The plotting area inside a canvas, and the value-to-point mappings."""

    left: float
    top: float
    right: float
    bottom: float

    def y(self, value: float, high: float) -> float:
        return self.bottom - (self.bottom - self.top) * value / high if high else self.bottom

    def x(self, index: int, count: int) -> float:
        step = (self.right - self.left) / max(count, 1)
        return self.left + step * (index + 0.5)


def _frame(canvas: Canvas, title: str, top: float = 46.0, left: float = 46.0) -> Plot:
    canvas.text(min(left, 46.0), 24, title, size=15, bold=True)
    return Plot(left, top, canvas.width - 16, canvas.height - 40)


def _no_data(canvas: Canvas, plot: Plot) -> None:
    canvas.text((plot.left + plot.right) / 2, (plot.top + plot.bottom) / 2, "no data yet", size=13, anchor="middle")


def _y_axis(canvas: Canvas, plot: Plot, high: int, ticks: Sequence[int]) -> None:
    for tick in ticks:
        y = plot.y(tick, high)
        canvas.line([(plot.left, y), (plot.right, y)], GRID, 0.8)
        canvas.text(plot.left - 6, y + 4, str(tick), size=10, anchor="end")


def _x_labels(canvas: Canvas, plot: Plot, labels: Sequence[str]) -> None:
    """Label the slots under the plot, thinned so labels keep about 60 points apart."""
    room = (plot.right - plot.left) / max(len(labels), 1)
    every = max(1, math.ceil(60 / max(room, 1.0)))
    for i, label in enumerate(labels):
        if i % every == 0:
            canvas.text(plot.x(i, len(labels)), plot.bottom + 16, label, size=10, anchor="middle")


def pain_chart(canvas: Canvas, points: Sequence[PainPoint], title: str | None = None) -> None:
    """Pain before (orange) and after (blue) each session, in session order, over the model's bands; with a
    programme, the next-morning check-in's rating each session opened with (green, drawn only when there is one)."""
    plot = _frame(canvas, title or "Pain before and after each session (0-10)")
    for low, high, color, label in BANDS:
        canvas.rect(plot.left, plot.y(high, 10), plot.right - plot.left, plot.y(low, 10) - plot.y(high, 10), color)
        canvas.text(plot.right - 4, plot.y(high, 10) + 12, label, size=10, fill="#777777", anchor="end")
    _y_axis(canvas, plot, 10, range(0, 11, 2))
    legend_x = plot.right - 150
    canvas.circle(legend_x, 20, 5, BEFORE)
    canvas.text(legend_x + 9, 24, "before", size=11)
    canvas.circle(legend_x + 70, 20, 5, AFTER)
    canvas.text(legend_x + 79, 24, "after", size=11)
    morning = any(p.checkin is not None for p in points)
    if morning:
        canvas.circle(legend_x - 100, 20, 5, MORNING, DONE)
        canvas.text(legend_x - 91, 24, "check-in", size=11)
    if not points:
        _no_data(canvas, plot)
        return
    n = len(points)
    if morning:  # under the session's own: a ring round its dot where they are the same
        rings = [(plot.x(i, n), plot.y(p.checkin, 10)) for i, p in enumerate(points) if p.checkin is not None]
        if len(rings) > 1:
            canvas.line(rings, DONE, 1.0)
        for x, y in rings:
            canvas.circle(x, y, 7.0, MORNING, DONE)
    for i, p in enumerate(points):
        if p.before is not None and p.after is not None:
            canvas.line([(plot.x(i, n), plot.y(p.before, 10)), (plot.x(i, n), plot.y(p.after, 10))], "#999999", 1.5)
    for attribute, color in (("before", BEFORE), ("after", AFTER)):
        series = [(plot.x(i, n), plot.y(v, 10)) for i, p in enumerate(points) if (v := getattr(p, attribute)) is not None]
        if len(series) > 1:
            canvas.line(series, color, 1.5)
        for x, y in series:
            canvas.circle(x, y, 4.5, color, "#ffffff")
    _x_labels(canvas, plot, [p.day.strftime("%d %b") for p in points])


def sessions_chart(canvas: Canvas, weeks: Sequence[Week]) -> None:
    """Sessions per week (Monday to Sunday), weeks without a session shown as zero."""
    plot = _frame(canvas, "Sessions per week")
    if not weeks:
        _no_data(canvas, plot)
        return
    high = max(3, max(w.sessions for w in weeks))
    _y_axis(canvas, plot, high, _ticks(high))
    bar = (plot.right - plot.left) / len(weeks) * 0.6
    for i, week in enumerate(weeks):
        x = plot.x(i, len(weeks))
        canvas.rect(x - bar / 2, plot.y(week.sessions, high), bar, plot.bottom - plot.y(week.sessions, high), AFTER)
    _x_labels(canvas, plot, [w.monday.strftime("%d %b") for w in weeks])


def exercises_chart(canvas: Canvas, weeks: Sequence[Week]) -> None:
    """Exercises completed per week (green) out of those in the sessions done (grey)."""
    plot = _frame(canvas, "Exercises completed per week")
    canvas.rect(plot.right - 190, 14, 10, 10, DONE)
    canvas.text(plot.right - 176, 23, "completed", size=10)
    canvas.rect(plot.right - 100, 14, 10, 10, NOT_DONE)
    canvas.text(plot.right - 86, 23, "not completed", size=10)
    if not weeks:
        _no_data(canvas, plot)
        return
    high = max(5, max(max(w.exercises_total, w.exercises_done) for w in weeks))
    _y_axis(canvas, plot, high, _ticks(high))
    bar = (plot.right - plot.left) / len(weeks) * 0.6
    for i, week in enumerate(weeks):
        x = plot.x(i, len(weeks))
        total = max(week.exercises_total, week.exercises_done)
        canvas.rect(x - bar / 2, plot.y(total, high), bar, plot.bottom - plot.y(total, high), NOT_DONE)
        canvas.rect(x - bar / 2, plot.y(week.exercises_done, high), bar, plot.bottom - plot.y(week.exercises_done, high), DONE)
    _x_labels(canvas, plot, [w.monday.strftime("%d %b") for w in weeks])


def exercise_rows_height(rows: int) -> float:
    """Height (points) for the exercise ratings chart: a fixed frame and about 34 points per exercise."""
    return 90.0 + 34.0 * max(rows, 2)


def exercise_ratings_chart(canvas: Canvas, rows: Sequence[tuple[str, Sequence[int]]]) -> None:
    """For each exercise, every rating given during it (dots), its range and its mean (bar)."""
    left = 40 + 6.2 * max((len(name) for name, _ in rows), default=10)
    plot = _frame(canvas, "Pain ratings during each exercise (0-10)", left=min(left, canvas.width / 2))
    if not rows:
        _no_data(canvas, plot)
        return
    span = plot.right - plot.left
    for tick in range(0, 11, 2):
        x = plot.left + span * tick / 10
        canvas.line([(x, plot.top), (x, plot.bottom)], GRID, 0.8)
        canvas.text(x, plot.bottom + 16, str(tick), size=10, anchor="middle")
    step = (plot.bottom - plot.top) / len(rows)
    for i, (name, values) in enumerate(rows):
        y = plot.top + step * (i + 0.5)
        canvas.text(plot.left - 8, y + 4, name, size=11, anchor="end")
        canvas.line([(plot.left + span * min(values) / 10, y), (plot.left + span * max(values) / 10, y)], "#bbbbbb", 3)
        for value in values:
            canvas.circle(plot.left + span * value / 10, y, 3.5, AFTER)
        mean = sum(values) / len(values)
        x = plot.left + span * mean / 10
        canvas.line([(x, y - 9), (x, y + 9)], BEFORE, 2.5)
        canvas.text(plot.right, y - 8, f"mean {mean:.1f}, n={len(values)}", size=9, fill="#555555", anchor="end")


def _ticks(high: int) -> list[int]:
    step = max(1, -(-high // 5))
    return list(range(0, high + 1, step))


def levels_chart_height(rows: int) -> float:
    """Height (points) for the levels chart: a fixed frame and about 40 points per exercise."""
    return 100.0 + 40.0 * max(rows, 2)


def levels_chart(
    canvas: Canvas,
    rows: Sequence[tuple[str, Sequence[tuple[int, int]]]],
    first: _dt.date,
    days: int,
    stages: Sequence[tuple[int, str]] = (),
) -> None:
    """Each exercise's level (a step line, a dot per session, the level at each change) over the days of a
    programme from ``first`` (``days`` of them: a gap is a day without a session); a stage change is a line
    across all rows, named at the top, since a level is a step on one stage's ladder."""
    left = 40 + 6.2 * max((len(name) for name, _ in rows), default=10)
    plot = _frame(canvas, "Level of each exercise", top=62.0, left=min(left, canvas.width / 2))
    if not rows:
        _no_data(canvas, plot)
        return
    span = plot.right - plot.left

    def x(day: int) -> float:
        return plot.left + span * (day + 0.5) / max(days, 1)

    for day, stage in stages:  # at the start of the stage's first day
        edge = x(day) - span / max(days, 1) / 2
        canvas.line([(edge, plot.top - 14), (edge, plot.bottom)], BEFORE, 1.5)
        canvas.text(edge + 3, plot.top - 4, stage, size=10, fill=BEFORE)
    step = (plot.bottom - plot.top) / len(rows)
    high = max((level for _, points in rows for _, level in points), default=1)
    for i, (name, points) in enumerate(rows):
        top = plot.top + step * i + 6
        bottom = plot.top + step * (i + 1) - 6

        def y(level: int, top: float = top, bottom: float = bottom) -> float:
            return bottom - (bottom - top) * (level - 1) / max(high - 1, 1)

        canvas.line([(plot.left, bottom), (plot.right, bottom)], GRID, 0.8)
        canvas.text(plot.left - 8, (top + bottom) / 2 + 4, name, size=11, anchor="end")
        path: list[tuple[float, float]] = []
        for n, (day, level) in enumerate(points):
            if path:
                path.append((x(day), path[-1][1]))
            path.append((x(day), y(level)))
            if n == 0 or points[n - 1][1] != level:
                canvas.text(x(day) + 5, y(level) - 5, str(level), size=9, fill="#555555", anchor="start")
        if len(path) > 1:
            canvas.line(path, AFTER, 1.5)
        for day, level in points:
            canvas.circle(x(day), y(level), 3.0, AFTER)
    labels = [(first + _dt.timedelta(days=d)).strftime("%d %b") for d in range(days)]
    room = span / max(days, 1)
    every = max(1, math.ceil(60 / max(room, 1.0)))
    for d, label in enumerate(labels):
        if d % every == 0:
            canvas.text(x(d), plot.bottom + 16, label, size=10, anchor="middle")
