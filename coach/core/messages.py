"""Typed messages between the pure session and the outside world.

Events go into :meth:`coach.core.session.Session.handle`; actions come out. Every event carries the
session time it happened at (``at``, seconds since the session clock started), so the session
itself never reads a clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# --- events in ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tick:
    """The clock reached ``at`` (the runner sends this at the session's next deadline)."""

    at: float


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
class Record:
    """Write a durable record of ``kind`` to the journal (and announce it as an event)."""

    kind: str
    fields: dict[str, Any] = field(default_factory=dict)


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
