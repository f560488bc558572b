"""Typed messages between the pure session and the outside world.

Events go into :meth:`coach.core.session.Session.handle`; actions come out. Every event carries the
session time it happened at (``at``, seconds since the session clock started), so the session
itself never reads a clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from coach.core.records import Record

# --- events in ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tick:
    """The clock reached ``at`` (the runner sends this at the session's next deadline)."""

    at: float


class CommandName(StrEnum):
    """Every command, the one list: the locale's words, the input script, the keyboard, the buttons
    and the session all name commands with these (a typo is an error where it is written, not a
    command silently ignored)."""

    START = "start"
    PAUSE = "pause"
    RESUME = "resume"
    NEXT = "next"
    REPEAT = "repeat"
    STOP = "stop"
    HELP = "help"
    YES = "yes"
    NO = "no"
    WAIT = "wait"
    """Not said by a person: a control is part-way through an answer (counting presses); give them time."""
    ABANDON = "abandon"
    """Not said by a person: nobody has answered for a long time (a kiosk's "walked away")."""


PERSON_COMMANDS: tuple[CommandName, ...] = tuple(c for c in CommandName if c not in (CommandName.WAIT, CommandName.ABANDON))
"""The commands a person can give: by voice, keyboard, buttons or an input script."""

REDIRECTING = frozenset({CommandName.PAUSE, CommandName.NEXT, CommandName.REPEAT, CommandName.STOP})
"""Commands after which nothing already queued for the speaker should still be heard."""

WAKE_COMMANDS = frozenset({CommandName.START, CommandName.NEXT, CommandName.YES, CommandName.RESUME})
"""Commands that wake an idle kiosk (a button press arrives as ``start``)."""


@dataclass(frozen=True)
class Command:
    """A control command (``start``, ``pause``, ``resume``, ``next``, ``repeat``, ``stop``, ``help``, ``yes``, ``no``)."""

    at: float
    name: str
    source: str = "keyboard"


@dataclass(frozen=True)
class Rating:
    """A 0-10 pain rating. ``source`` is ``keyboard``, ``script``, ``button``, ``voice`` or ``heard``."""

    at: float
    value: int
    source: str = "keyboard"


Event = Tick | Command | Rating

CONFIRMED_SOURCES = frozenset({"voice", "heard"})
"""Ratings from speech recognition are read back for confirmation before they count."""


# --- actions out ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Say:
    """Speak ``text`` at session time ``due``."""

    text: str
    due: float
    phase: str
    kind: str = "cue"
    exercise: str | None = None
    rep: int | None = None
    side: str | None = None


@dataclass(frozen=True)
class StateChanged:
    """The session moved to ``state``; shown on the status LED and in the event stream."""

    state: str
    at: float


@dataclass(frozen=True)
class Listen:
    """What the input side should listen for now: ``rating``, ``confirm`` or ``command``."""

    expect: str


@dataclass(frozen=True)
class End:
    """The session is over with ``status`` (``completed``, ``stopped``, ``stopped-for-pain``)."""

    status: str
    at: float


Action = Say | Record | StateChanged | Listen | End
"""What the session asks for; a :class:`~coach.core.records.Record` is written to the journal and announced."""
