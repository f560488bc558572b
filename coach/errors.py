"""The one exception tree of the coach.

Every error meant for a person carries a message that stands on its own as one line
(``routines/lumbar.yaml:14: contract_seconds must be between 3 and 30, got 60``); the CLI
prints those lines and exits 2 instead of showing a traceback.
"""

from __future__ import annotations


class CoachError(Exception):
    """Base of every error the coach reports to a person."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems: list[str] = problems if problems else [message]


class InputFileError(CoachError, ValueError):
    """A YAML file could not be read or parsed (missing, binary, too big, bad syntax)."""


class RoutineError(CoachError, ValueError):
    """A routine file is invalid; ``problems`` has one line per problem."""


class ConfigError(CoachError, ValueError):
    """A config file is invalid; ``problems`` has one line per problem."""


class LocaleError(CoachError, ValueError):
    """A locale file is missing or lacks a phrase the coach needs."""


class InputScriptError(CoachError, ValueError):
    """An ``--input-script`` file has a line that is not a known input."""


class DeviceError(CoachError, OSError):
    """A piece of hardware (speaker, microphone, GPIO) is missing or failed."""


class JournalError(CoachError, OSError):
    """The session log could not be written."""
