"""Typed messages between the pure session and the outside world.

Events go into :meth:`coach.core.session.Session.handle`; actions come out. Every event carries the
session time it happened at (``at``, seconds since the session clock started), so the session
itself never reads a clock.
"""

from __future__ import annotations

from dataclasses import dataclass

from coach.core.records import Record
from coach.spec.commands import PERSON_COMMANDS, CommandName

__all__ = [
    "CONFIRMED_SOURCES", "PERSON_COMMANDS", "REDIRECTING", "WAKE_COMMANDS", "Action", "Command", "CommandName", "End",
    "Event", "Listen", "Rating", "Say", "StateChanged", "Symptom", "Tick", "Answer",
]  # fmt: skip

# --- events in ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tick:
    """The clock reached ``at`` (the runner sends this at the session's next deadline)."""

    at: float


REDIRECTING = frozenset({CommandName.PAUSE, CommandName.NEXT, CommandName.REPEAT, CommandName.STOP})
"""Commands after which nothing already queued for the speaker should still be heard."""

WAKE_COMMANDS = frozenset({CommandName.START, CommandName.NEXT, CommandName.YES, CommandName.RESUME})
"""Commands that wake an idle kiosk (a button press arrives as ``start``)."""


@dataclass(frozen=True)
class Command:
    """A control command: one of :class:`CommandName` (the enum lives in ``coach.spec.commands``, below
    the core, so that the locale file can be checked against it; see there)."""

    at: float
    name: CommandName
    source: str = "keyboard"

    def __post_init__(self) -> None:
        # A name given as text ("pause", from a test or a file) becomes the enum here, and a name that
        # is no command fails here, where it was written, instead of being silently ignored later.
        object.__setattr__(self, "name", CommandName(self.name))


@dataclass(frozen=True)
class Rating:
    """A 0-10 pain rating. ``source`` is ``keyboard``, ``script``, ``button``, ``voice`` or ``heard``."""

    at: float
    value: int
    source: str = "keyboard"


@dataclass(frozen=True)
class Symptom:
    """Words naming a symptom were heard or typed: ``kind`` is ``leg`` or ``bladder-bowel``."""

    at: float
    kind: str
    source: str = "voice"


@dataclass(frozen=True)
class Answer:
    """The next-morning check-in's answer (issue 15): ``value`` is ``better``, ``same`` or ``worse``. Only the
    check-in (:mod:`coach.core.checkin`) takes it; a session and a menu pass it by."""

    at: float
    value: str
    source: str = "voice"


Event = Tick | Command | Rating | Symptom | Answer

CONFIRMED_SOURCES = frozenset({"voice", "heard"})
"""Ratings from speech recognition are read back for confirmation before they count."""
COUNT_SOURCES = frozenset({"button", "keyboard", "script"})
"""Where a small number is a count (presses, a typed digit) that answers a choice ("press once for better"), not a
voice: the check-in and the feedback question take 1-3 from these only (a misheard "three" must not choose)."""


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
