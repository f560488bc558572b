"""Wiring shared by the commands: where routines, settings, logs and events come from."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path
from typing import IO

from coach.errors import CoachError
from coach.spec.config import LoadedSettings
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
    """The configured session settings, with the routine's ``safety:`` overrides."""
    session = loaded.settings.session
    return replace(session, rules=session.rules.with_overrides(routine.safety))


def open_events(target: str | None) -> IO[str] | None:
    """The ``--events`` stream: none, stdout (``-``) or a file, line-buffered."""
    if target is None:
        return None
    if target == "-":
        return sys.stdout
    try:
        return open(target, "w", encoding="utf-8", buffering=1)
    except OSError as exc:
        raise CoachError(f"{target}: cannot write events: {exc.strerror or exc}") from None
