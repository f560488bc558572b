"""Wiring shared by the commands: where routines, settings, logs and events come from."""

from __future__ import annotations

import errno
import os
import stat
import sys
from dataclasses import replace
from pathlib import Path
from typing import IO

from coach.errors import CoachError
from coach.spec.config import LoadedSettings
from coach.spec.files import printable
from coach.spec.locale import available_languages
from coach.spec.routine import Routine, find_routine, load_routine
from coach.spec.settings import SessionSettings


def extra_dirs(loaded: LoadedSettings) -> tuple[Path, ...]:
    folder = loaded.settings.routines_dir
    return (Path(folder).expanduser(),) if folder else ()


def load_named(name: str, loaded: LoadedSettings) -> Routine:
    """A routine by name (``quick-start``) or path, validated."""
    return load_routine(find_routine(name, extra_dirs(loaded)), available_languages())


def session_settings(loaded: LoadedSettings, routine: Routine) -> SessionSettings:
    """The configured session settings, with the routine's ``safety:`` tightenings.

    A routine may only make the configured pain rules stricter. One that asks for a looser rule gets
    the configured (stricter) one, and that is said once per process on stderr (:func:`looser_safety`).
    The session is not refused: the person exercising cannot fix a routine file, and refusing would
    keep them (or a kiosk's menu) from a session that is safe as it is, under the clinic's rules. The
    clinic's limits hold either way; the author reads the line in ``coach plan``, ``validate`` or here.
    """
    session = loaded.settings.session
    for line in looser_safety(loaded, routine):
        if line not in _told:
            _told.add(line)
            print(line, file=sys.stderr)
    return replace(session, rules=session.rules.with_overrides(routine.safety))


_told: set[str] = set()
"""The looser-rule lines already said: a kiosk builds a session's settings for every session."""


def looser_safety(loaded: LoadedSettings, routine: Routine) -> list[str]:
    """One line per ``safety:`` key of ``routine`` looser than the configured rule: where it is, what
    it asked, the configured value and where that comes from, and what applies."""
    configured = loaded.settings.safety
    lines = []
    for name, asked in configured.looser(routine.safety).items():
        where = routine.safety_where.get(name, routine.source)
        source = loaded.sources.get(f"safety.{name}", "default")
        origin = "the built-in default" if source == "default" else source
        value = getattr(configured, name)
        lines.append(
            printable(
                f"{where}: safety: {name}: {asked} is looser than the configured {value} ({origin}); "
                f"a routine may only make the pain rules stricter, so {value} applies"
            )
        )
    return lines


def open_events(target: str | None) -> IO[str] | None:
    """The ``--events`` stream: none, stdout (``-``) or a file, line-buffered.

    An events file is health data: it is created (or overwritten) readable by its owner only, and a
    symbolic link at its path is never followed (one planted there would send the data elsewhere).
    A FIFO with no reader is refused rather than waited on.
    """
    if target is None:
        return None
    if target == "-":
        if sys.stdout is None or sys.stdout.closed:
            print("coach: events are lost (stdout is closed); the session goes on and its log is kept", file=sys.stderr)
            return None
        return sys.stdout
    shown = printable(target)
    flags = os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
    try:
        fd = os.open(target, flags, 0o600)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise CoachError(f"{shown}: is a symbolic link; events are never written through one (give the file, or -)") from None
        if exc.errno == errno.ENXIO:
            raise CoachError(f"{shown}: is a FIFO with no reader; start the reader first") from None
        raise CoachError(f"{shown}: cannot write events: {exc.strerror or exc}") from None
    try:
        if stat.S_ISREG(os.fstat(fd).st_mode):
            os.fchmod(fd, 0o600)  # an existing file keeps its mode when opened; a device's mode is not ours to change
            os.ftruncate(fd, 0)  # only now: another's file (fchmod fails) is left as it was
        os.set_blocking(fd, True)  # a FIFO's reader may be slow: wait for it, do not drop lines
        return open(fd, "w", encoding="utf-8", buffering=1)
    except PermissionError:
        os.close(fd)
        raise CoachError(f"{shown}: is not your file; events are health data: give a path of your own") from None
    except OSError as exc:
        os.close(fd)
        raise CoachError(f"{shown}: cannot write events: {exc.strerror or exc}") from None
