"""``coach programme list|start|stop|status`` and today's programme session for ``coach run``, ``plan`` and the kiosk.

A programme's state is the log's (:mod:`coach.log.programmes`), per profile code: ``--profile CODE`` (or the
config's ``profile``) chooses whose. ``--as-of YYYY-MM-DD`` sets the calendar date (days can be simulated and
tested; the session clock is unchanged); without it, today's local date.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from coach.core.progression import Decision, Morning, current_levels, decide, week_of
from coach.core.records import ProgrammeChanged
from coach.core.script import compile_script
from coach.core.session import Session
from coach.core.today import Today, TodayPlan, change_text, describe_level, todays_routine
from coach.errors import CoachError, JournalError
from coach.log.journal import resolve_state_dir
from coach.log.programmes import ProgrammeLog, read_programme, record_programme
from coach.run.kiosk import TodaysSession
from coach.run.ports import Journal
from coach.run.resume import RESUME_WITHIN, resume_offer
from coach.run.wiring import extra_dirs, load_named, session_settings
from coach.spec.config import LoadedSettings, load_settings
from coach.spec.locale import Locale, load_locale
from coach.spec.programme import Programme, find_programme, load_programme, programme_paths
from coach.spec.routine import Routine


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "programme", help="a course over weeks: list, start, status, stop", description="Programmes: a course over weeks."
    )
    actions = parser.add_subparsers(dest="programme_action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="the programmes that can be started")
    listing.set_defaults(handler=cmd_list)
    start = actions.add_parser("start", help="start a programme today (or --as-of)")
    start.add_argument("name", help="programme id (see 'coach programme list') or a .yaml path")
    status = actions.add_parser("status", help="stage, week, levels and the next step")
    status.add_argument("--json", action="store_true", help="one JSON object")
    stop = actions.add_parser("stop", help="stop the active programme")
    for sub in (start, status, stop):
        add_day_options(sub)
    start.set_defaults(handler=cmd_start)
    status.set_defaults(handler=cmd_status)
    stop.set_defaults(handler=cmd_stop)


def add_day_options(parser: argparse.ArgumentParser, state_dir: bool = True) -> None:
    parser.add_argument("--as-of", metavar="YYYY-MM-DD", type=as_of, help="the calendar date (default: today)")
    parser.add_argument("--profile", metavar="CODE", help="whose programme: a clinic profile code (default: the config's)")
    if state_dir:
        parser.add_argument("--state-dir", metavar="DIR", help="where the session log is")


def as_of(text: str) -> _dt.date:
    try:
        return _dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def today_of(args: argparse.Namespace) -> _dt.date:
    day: _dt.date | str | None = getattr(args, "as_of", None)
    if isinstance(day, str):  # ``coach plan``'s, parsed here so that main imports nothing of programmes
        try:
            return _dt.date.fromisoformat(day)
        except ValueError:
            raise CoachError(f"--as-of: not a date (YYYY-MM-DD): {day!r}") from None
    return day if day is not None else _dt.date.today()


def profiled(loaded: LoadedSettings, args: argparse.Namespace) -> LoadedSettings:
    """The settings with ``--profile`` (if given) as the profile code."""
    code = getattr(args, "profile", None)
    if not code:
        return loaded
    if len(code) > 40 or not code.isprintable():
        raise CoachError(f"--profile: a profile code is at most 40 printable characters, got {code[:40]!r}")
    return replace(loaded, settings=replace(loaded.settings, profile=code))


def _state(args: argparse.Namespace, loaded: LoadedSettings) -> Path:
    return resolve_state_dir(args.state_dir, loaded.settings.state_dir)


# --- commands ---------------------------------------------------------------------------------


def cmd_list(args: argparse.Namespace) -> int:
    for name, path in programme_paths().items():
        try:
            programme = load_programme(path)
            print(f"{name}  {programme.weeks} weeks  {programme.title}")
        except CoachError as exc:
            print(f"{name}  invalid  {exc.problems[0]}")
    return 0


def cmd_start(args: argparse.Namespace) -> int:
    loaded = profiled(load_settings(args.config), args)
    programme = load_programme(find_programme(args.name), extra_dirs(loaded))
    day = today_of(args)
    state = _state(args, loaded)
    active = read_programme(state, loaded.settings.profile).programme
    if active is not None:  # one programme at a time: the new one starts afresh, the old one's log stays
        print(f"{active}: replaced (its sessions stay in the log)")
    record_programme(
        state,
        loaded.settings.profile,
        ProgrammeChanged(0.0, "start", programme.id, day.isoformat(), loaded.settings.profile),
    )
    print(f"{programme.id}: started on {day.isoformat()} ({programme.weeks} weeks; first stage: {programme.stages[0].name})")
    return 0


def cmd_stop(args: argparse.Namespace) -> int:
    loaded = profiled(load_settings(args.config), args)
    state = _state(args, loaded)
    log = read_programme(state, loaded.settings.profile)
    if log.programme is None:
        print("No programme is active.")
        return 0
    day = today_of(args).isoformat()
    record_programme(state, loaded.settings.profile, ProgrammeChanged(0.0, "stop", log.programme, day, loaded.settings.profile))
    print(f"{log.programme}: stopped on {day}")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    loaded = profiled(load_settings(args.config), args)
    log = read_programme(_state(args, loaded), loaded.settings.profile)
    day = today_of(args)
    if log.programme is None:
        print(json.dumps({"programme": None}) if args.json else "No programme is active (coach programme start NAME).")
        return 0
    status = programme_status(load_programme(find_programme(log.programme), extra_dirs(loaded)), log, day)
    if args.json:
        print(json.dumps(status, ensure_ascii=False))
        return 0
    print(f"{status['programme']}: {status['stage_name']} (stage {status['stage']}), week {status['week']}, day {status['day']}")
    done = "done" if status["done_today"] else "not done yet"
    print(f"sessions on {status['days_done']} of {status['day']} days; today's session {done}")
    for exercise, level in status["levels"].items():
        print(f"  {exercise:<20} level {level} of {status['top'][exercise]}  {status['next'][exercise]}")
    return 0


def programme_status(programme: Programme, log: ProgrammeLog, day: _dt.date) -> dict[str, Any]:
    """What ``programme status`` shows: where the person is, and what each exercise's next step waits for."""
    assert log.history is not None and log.start is not None
    history = log.history
    week = week_of(log.start, day)
    stage = programme.stage_for_week(week)
    levels = current_levels(stage, history.changes)
    today = next((m for m in history.mornings if m.day == day), None)
    assumed = decide(programme, history, day, today or Morning(day, "same", None))
    rules = programme.rules
    steps = {}
    for exercise, ladder in stage.exercises.items():
        if levels[exercise] >= len(ladder.levels):
            steps[exercise] = "at the top of this stage's ladder"
            continue
        good = assumed.good_days.get(exercise, 0)
        steps[exercise] = (
            f"next: level {levels[exercise] + 1}; waits for {max(0, rules.progress_after_sessions - good)} more good days "
            f"(pain at most {rules.progress_max_pain} during it, the next morning no worse; {good} so far)"
        )
    nxt = next((s for s in programme.stages if s.first_week > week), None)
    return {
        "programme": programme.id,
        "stage": stage.id,
        "stage_name": stage.name,
        "week": week,
        "day": (day - log.start).days + 1,
        "date": day.isoformat(),
        "started": log.start.isoformat(),
        "levels": levels,
        "top": {ex: len(ladder.levels) for ex, ladder in stage.exercises.items()},
        "next": steps,
        "next_stage": None if nxt is None else {"stage": nxt.id, "week": nxt.first_week},
        "days_done": len({d for d in log.session_days if d <= day}),
        "done_today": day in log.session_days,
        "checked_in_today": day in log.checked_in,
    }


# --- today's session ------------------------------------------------------------------------------


@dataclass
class Made:
    """Today's programme session, ready to run."""

    machine: Today
    locale: Locale
    phrases: set[str]


def todays_plan(state_dir: Path, loaded: LoadedSettings, day: _dt.date) -> TodayPlan | None:
    """Today's plan for the configured profile, or ``None`` when no programme is active."""
    log = read_programme(state_dir, loaded.settings.profile)
    if log.programme is None or log.history is None:
        return None
    programme = load_programme(find_programme(log.programme), extra_dirs(loaded))
    routines = {s.routine: load_named(s.routine, loaded) for s in programme.stages}
    return TodayPlan(programme, log.history, day, routines, checkin=day not in log.checked_in)


def todays_machine(plan: TodayPlan, loaded: LoadedSettings, journal: Journal, kiosk: bool = False) -> Made:
    """The check-in and announcements, then the session at today's levels, as the runner's machine (``kiosk``:
    every session is screened, as every kiosk session is; at home, once a day)."""
    locale = load_locale(plan.programme.language)

    def make_session(routine: Routine) -> Session:
        settings = session_settings(loaded, routine)
        day = plan.day if plan.day != _dt.date.today() else None  # --as-of: that day is screened once too
        screen = settings.red_flag_screen and (kiosk or not journal.screened_today(day))
        offer = resume_offer(journal, routine, RESUME_WITHIN)
        script = compile_script(routine, load_locale(routine.language))
        return Session(script, locale, settings, resume=offer, screen=screen, day=day.isoformat() if day else None)

    session = loaded.settings.session
    machine = Today(plan, locale, make_session, session.answer_seconds, session.auto_accept_seconds)
    preview = todays_routine(plan, decide(plan.programme, plan.history, plan.day, None))
    phrases = machine.phrases() | make_session(preview).phrases()
    for answer in ("same", "worse"):  # what the changes would say, rendered ahead like every other phrase
        decision = decide(plan.programme, plan.history, plan.day, Morning(plan.day, answer, None))
        phrases |= {change_text(change, plan, decision, locale) for change in decision.changes}
    return Made(machine, locale, phrases)


def make_today(args: argparse.Namespace, loaded: LoadedSettings, state_dir: Path) -> Callable[[Journal], Made] | None:
    """For ``coach run`` without a routine: today's programme session, or ``None`` when none is active."""
    try:
        plan = todays_plan(state_dir, loaded, today_of(args))
    except JournalError as exc:  # a damaged or newer log: the journal says what it does with it; the default routine runs
        print(f"coach: no programme session: {exc}", file=sys.stderr)
        return None
    if plan is None:
        return None
    return lambda journal: todays_machine(plan, loaded, journal)


def print_today(args: argparse.Namespace, print_plan: Callable[[Any, Any], None], out: Any = None) -> int:
    """``coach plan --today``: today's stage, levels and timetable (before this morning's check-in)."""
    out = out or sys.stdout
    loaded = profiled(load_settings(args.config), args)
    day = today_of(args)
    plan = todays_plan(_state(args, loaded), loaded, day)
    if plan is None:
        raise CoachError("no programme is active (coach programme start NAME); give a routine to plan")
    morning = next((m for m in plan.history.mornings if m.day == day), None)
    decision = decide(plan.programme, plan.history, day, morning or Morning(day, "same", None))  # not yet asked: no worse
    _print_levels(plan, decision, load_locale(plan.programme.language), out, morning is not None)
    routine = todays_routine(plan, decision)
    print_plan(compile_script(routine, load_locale(routine.language)), out)
    return 0


def _print_levels(plan: TodayPlan, decision: Decision, locale: Locale, out: Any, checked: bool) -> None:
    stage = decision.stage
    out.write(
        f"{plan.programme.id}: {stage.name} (stage {stage.id}), week {decision.week}, day {decision.day_number}, {plan.day}\n"
    )
    if not checked:
        out.write("  (before this morning's check-in, as if the morning is no worse: a worse one lowers levels)\n")
    for exercise, level in decision.levels.items():
        what = describe_level(stage.exercises[exercise].levels[level - 1], locale)
        out.write(f"  {exercise:<20} level {level} of {len(stage.exercises[exercise].levels)}: {what}\n")
    for change in decision.changes:
        out.write(f"  change: {change.exercise} {change.old} -> {change.new} ({change.reason})\n")


def kiosk_today(
    args: argparse.Namespace, loaded: LoadedSettings, told: list[str] | None = None
) -> Callable[[], TodaysSession | None] | None:
    """For the kiosk: each round, today's programme session (``None`` when none is active), read afresh from
    the log (the date may have changed, a session may have been done); ``None`` for a simulation without a log."""
    if args.simulate and not args.state_dir:
        return None
    state = resolve_state_dir(args.state_dir, loaded.settings.state_dir)
    told = [] if told is None else told  # each problem said once (shared by every person at a station with codes)

    def todays() -> TodaysSession | None:
        day = today_of(args)
        try:
            plan = todays_plan(state, loaded, day)
            if plan is None:
                return None
            preview = todays_routine(plan, decide(plan.programme, plan.history, plan.day, None))
            title = load_locale(plan.programme.language).say("programme_title", title=preview.title)
            preview = replace(preview, title=title)  # the menu's item only: the session says the routine's own
            done = day in read_programme(state, loaded.settings.profile).session_days
        except JournalError:  # a log this coach cannot use: the kiosk has said so once, and runs without logging
            return None
        except (CoachError, OSError) as exc:  # the kiosk goes on with its menu; the problem is said once
            if str(exc) not in told:
                told.append(str(exc))
                print(f"coach: kiosk: today's programme session cannot be offered: {exc}", file=sys.stderr)
            return None
        return TodaysSession(preview, lambda journal: todays_machine(plan, loaded, journal, kiosk=True).machine, done)

    return todays
