"""Subcommands over the session log: ``history``, ``export``, ``report`` and ``forget``.

Added to ``coach`` through the CLI's ``EXTENSIONS`` hook (``register(commands)``). Each reads the
same state folder ``coach run`` writes (``--state-dir``, else the config's ``state_dir``, else
``$XDG_STATE_HOME/coach``). Problems are one line on stderr and exit status 2
(:class:`~coach.log.queries.RecordsError`).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as _dt
import functools
import os
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from coach.errors import CoachError
from coach.log.files import LOCK_NAME, SIDE_FILES, open_private_out
from coach.log.journal import resolve_state_dir
from coach.log.queries import Filter, RecordsError, SessionSummary, forget, open_existing, parse_date, sessions
from coach.log.store import DB_NAME, Store
from coach.reports.export import FORMATS, export
from coach.reports.report import load, write_report
from coach.spec.config import load_settings


def register(commands: Any) -> None:
    history = commands.add_parser(
        "history", help="recent sessions at a glance", description="Recent sessions: date, routine, status, pain, exercises."
    )
    _common(history)
    _station(history)
    history.add_argument("--limit", type=_positive_int, default=20, metavar="N", help="how many sessions (default 20)")
    history.set_defaults(handler=_reading(cmd_history))

    exporter = commands.add_parser(
        "export",
        help="export the session log (CSV, JSON or FHIR)",
        description="Write the chosen sessions' records: csv (a row per record), json (every field, with each "
        "record's id), fhir (a Bundle of pain-rating Observations, LOINC 72514-3).",
    )
    _common(exporter)
    _station(exporter)
    exporter.add_argument("--format", choices=FORMATS, required=True, help="csv, json or fhir")
    exporter.add_argument("--since", type=_date, metavar="DATE", help="sessions started on or after DATE (YYYY-MM-DD)")
    exporter.add_argument("--out", metavar="FILE", help="write to FILE instead of standard output")
    exporter.set_defaults(handler=_reading(cmd_export))

    report = commands.add_parser(
        "report",
        help="write an HTML report with charts",
        description="Write a self-contained HTML page with charts (pain before/after, sessions and exercises per week, "
        "ratings per exercise) and a PNG of the pain chart beside it.",
    )
    _common(report)
    _station(report)
    report.add_argument("--since", type=_date, metavar="DATE", help="sessions started on or after DATE (YYYY-MM-DD)")
    report.add_argument("--out", default="coach-report.html", metavar="FILE.html", help="default: coach-report.html")
    report.set_defaults(handler=_reading(cmd_report))

    forgetting = commands.add_parser(
        "forget",
        help="delete sessions for good",
        description="Delete the chosen sessions and their records for real (then VACUUM, so no copy is left).",
    )
    _common(forgetting, profile_help="forget the sessions of this clinic profile code")
    forgetting.add_argument("--before", type=_date, metavar="DATE", help="forget sessions started before DATE (YYYY-MM-DD)")
    forgetting.add_argument("--dry-run", action="store_true", help="only say what would be deleted")
    forgetting.set_defaults(handler=_reading(cmd_forget))


def _reading(handler: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """``handler``, with a log that SQLite finds damaged only while reading it said in one line (exit 2)."""

    @functools.wraps(handler)
    def guarded(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except sqlite3.Error as exc:
            raise RecordsError(f"{state_dir(args) / DB_NAME}: cannot read the session log: {exc}") from None

    return guarded


def _not_the_log(out: Path, folder: Path) -> None:
    """Refuse to write a report or an export over the log itself (its file, side files or lock)."""
    names = (DB_NAME, *(DB_NAME + suffix for suffix in SIDE_FILES), LOCK_NAME)
    for name in names:
        same = out.name == name and out.parent.resolve() == folder.resolve()
        with contextlib.suppress(OSError):
            same = same or os.path.samefile(out, folder / name)
        if same:
            raise RecordsError(f"{out}: is the session log's own file; give another name for the output")


def _common(parser: argparse.ArgumentParser, profile_help: str = "only this clinic profile code") -> None:
    parser.add_argument("--state-dir", metavar="DIR", help="the session log's folder (default: as for 'coach run')")
    parser.add_argument("--profile", metavar="CODE", help=profile_help)


def _station(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--station",
        metavar="ID",
        help="only sessions from this station (a clinic store; in a station's own log, its sync: station)",
    )


def local_station(settings: Any) -> str | None:
    """This station's id, for the sessions of its own log (their ``station`` column is NULL): the config's
    ``sync: station`` when it has one, else None.

    The seam for the sync settings: it reads ``settings.sync.station`` if the settings have such a section,
    so the station's own rows carry its id as soon as the config can say it.
    """
    station = getattr(getattr(settings, "sync", None), "station", None)
    return station if isinstance(station, str) and station else None


def _filter(args: argparse.Namespace, **which: Any) -> Filter:
    """The sessions ``args`` chose, with the station a session of this station's own log is from."""
    here = local_station(load_settings(getattr(args, "config", None)).settings)
    return Filter(profile=args.profile, station=args.station, here=here, **which)


def _date(text: str) -> _dt.date:
    try:
        return parse_date(text)
    except RecordsError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {text}")
    return value


def _open(folder: Path) -> Store | None:
    store = open_existing(folder)
    for notice in store.notices if store is not None else []:
        print(f"coach: {notice}", file=sys.stderr)
    return store


def _say(notices: list[str]) -> None:
    """Notices about the log (rows this coach cannot read), on stderr: the output stays data."""
    for notice in notices:
        print(f"coach: {notice}", file=sys.stderr)


def state_dir(args: argparse.Namespace) -> Path:
    configured = None if args.state_dir else load_settings(getattr(args, "config", None)).settings.state_dir
    return resolve_state_dir(args.state_dir, configured)


# --- commands -----------------------------------------------------------------------------------


def cmd_history(args: argparse.Namespace) -> int:
    folder = state_dir(args)
    store = _open(folder)
    if store is None:
        print(f"No sessions recorded yet in {folder}.")
        return 0
    notices: list[str] = []
    try:
        found = sessions(store, _filter(args), limit=args.limit, notices=notices)
    finally:
        store.close()
    _say(notices)
    if not found:
        scope = [f"profile {args.profile}" if args.profile else "", f"station {args.station}" if args.station else ""]
        print("No sessions recorded" + (f" for {' at '.join(filter(None, scope))}." if any(scope) else "."))
        return 0
    print_history(found, sys.stdout)
    return 0


def print_history(found: list[SessionSummary], out: IO[str]) -> None:
    arrow = "→" if (getattr(out, "encoding", None) or "").lower().replace("-", "") == "utf8" else "->"
    profiles = any(s.profile for s in found)
    stations = any(s.station for s in found)  # a clinic's view (or a station with its sync: station set)
    width = max([7, *(len(s.profile or "") for s in found)]) if stations and profiles else 0
    head = ("  " + "profile".ljust(width) if profiles else "") + ("  station" if stations else "")
    out.write(f"{'started':<17} {'routine':<18} {'status':<17} {'pain':<9} exercises" + head + "\n")
    for s in reversed(found):
        pain = f"{_num(s.pain_before)} {arrow} {_num(s.pain_after)}"
        total = "?" if s.exercises_total is None else str(s.exercises_total)
        line = (
            f"{s.started_local.strftime('%Y-%m-%d %H:%M'):<17} {s.routine[:18]:<18} {(s.status or 'open')[:17]:<17} "
            f"{pain:<9} {s.exercises_done}/{total}"
        )
        if profiles:
            line = f"{line:<73}  {(s.profile or ''):<{width}}"
        if stations:
            line = f"{line:<{73 + (2 + width if profiles else 0)}}  {s.station or ''}"
        out.write(line.rstrip() + "\n")


def _num(value: int | None) -> str:
    return "-" if value is None else str(value)


def cmd_export(args: argparse.Namespace) -> int:
    if args.out is not None:
        _not_the_log(Path(args.out), state_dir(args))
    store = _open(state_dir(args))
    which = _filter(args, since=args.since)
    notices: list[str] = []
    try:
        if args.out is None:
            export(store, args.format, sys.stdout, which, notices)
            _say(notices)
            return 0
        try:
            fd = open_private_out(Path(args.out))  # health data: the owner's only, never through a link
            with open(fd, "w", encoding="utf-8", newline="") as out:
                count = export(store, args.format, out, which, notices)
        except CoachError:
            raise
        except OSError as exc:
            raise RecordsError(f"{args.out}: cannot write the export: {exc.strerror or exc}") from None
    finally:
        if store is not None:
            store.close()
    _say(notices)
    print(f"Wrote {count} {'observations' if args.format == 'fhir' else 'records'} to {args.out}.", file=sys.stderr)
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    out = Path(args.out)
    if out.suffix.lower() not in (".html", ".htm"):
        raise RecordsError(f"{out}: the report is an HTML page; give a name ending in .html")
    for target in (out, out.with_suffix(".png")):
        _not_the_log(target, state_dir(args))
    store = _open(state_dir(args))
    which = _filter(args, since=args.since)
    notices: list[str] = []
    try:
        data = load(store, which, notices=notices)
    finally:
        if store is not None:
            store.close()
    odd = data.unreadable
    _say([*notices, *([f"{odd}: left out of the report"] if odd is not None else [])])
    try:
        png = write_report(data, out, which)
    except CoachError:
        raise
    except OSError as exc:
        raise RecordsError(f"{out}: cannot write the report: {exc.strerror or exc}") from None
    print(f"Wrote {out} ({len(data.sessions)} sessions) and {png}.")
    return 0


def cmd_forget(args: argparse.Namespace) -> int:
    folder = state_dir(args)
    result = forget(folder, Filter(before=args.before, profile=args.profile), dry_run=args.dry_run)
    _say(list(result.notices))
    if args.dry_run:
        print(f"Would forget {result.sessions} sessions ({result.records} records) in {folder}.")
    else:
        print(f"Forgot {result.sessions} sessions ({result.records} records); {folder / 'coach.db'} was compacted.")
    if result.left_aside:
        print(
            f"Not searched: {len(result.left_aside)} damaged logs moved aside earlier ({', '.join(result.left_aside)}); "
            "delete them by hand if they must go too.",
        )
    return 0
