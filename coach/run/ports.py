"""Every seam the loop talks to: the protocols the adapters implement, and nothing else.

The runner and the kiosk know the world only through these: a :class:`Speaker` for what is said,
a :class:`Journal` for what is recorded, a :class:`Listener` and :class:`StatusDisplay` told what
the session is doing, and :class:`InputSource` threads that put :class:`~coach.run.inputs.Input`
items into the runner's inbox (that queue is the only way in). The adapters (``coach.voice``,
``coach.controls``, ``coach.log``) implement them; ``coach.cli`` chooses which. Each adapter
catches its own failures, reports once, and lets the session go on.
"""

from __future__ import annotations

import datetime as _dt
import queue
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from coach.core.messages import Say
from coach.core.records import Record
from coach.run.clock import Clock
from coach.run.inputs import Input

# --- inputs ---------------------------------------------------------------------------------


class InputSource(Protocol):
    """Something a person uses to control the session: started with the runner's inbox."""

    def start(self, inbox: queue.Queue[Input], clock: Clock | None = None) -> None:
        """Put inputs into ``inbox`` from now on, each stamped (``Input.at``) with the session time on
        ``clock`` of the moment it happened, taken in the source's own thread (see
        :func:`~coach.run.inputs.session_time`); without a clock the runner stamps them on arrival."""
        ...

    def close(self) -> None: ...


# --- what the session is doing -----------------------------------------------------------------


class StatusDisplay(Protocol):
    """Shows the session state (``idle``, ``intro``, ``exercise``, ``pain-check``, ``confirm``,
    ``paused``, ``summary``, ``ended``), e.g. on an LED."""

    def show_state(self, state: str) -> None: ...


class Listener(Protocol):
    """The voice input's view of the session: what is expected, and when the coach speaks."""

    def expect(self, what: str) -> None:
        """``rating``, ``confirm`` or ``command``: what the session is waiting for now."""
        ...

    def speaking(self, seconds: float, delay: float = 0.0) -> None:
        """The coach speaks for about ``seconds``, starting ``delay`` seconds from now: gate the microphone."""
        ...


class NoListener:
    """No voice input: nothing to tell."""

    def expect(self, what: str) -> None:
        pass

    def speaking(self, seconds: float, delay: float = 0.0) -> None:
        pass


# --- speech ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Utterance:
    started: float
    """Session time the speech started (seconds)."""
    seconds: float
    """How long it plays (seconds); 0 for text on a console."""


class Speaker(Protocol):
    """Told to say a cue *now* (the runner calls it at the cue's due time, less :attr:`lead`); returns
    at once and never blocks the runner. The :class:`Utterance` it returns gives the real onset, so the
    event stream reports it and the microphone is gated while the coach talks."""

    lead: float
    """How long before a cue's due time the runner must hand it over (seconds; 0 for text)."""

    def speak(self, say: Say, now: float) -> Utterance:
        """Start saying ``say.text`` at ``say.due`` (or as soon as possible); ``now`` is the time of the call."""
        ...

    def interrupt(self, now: float) -> None:
        """Drop what is playing or queued from ``now`` on (the person paused, stopped or skipped)."""
        ...

    def show_state(self, state: str, now: float) -> None:
        """A state change worth showing to someone looking (console) or ignoring (audio)."""
        ...

    def close(self) -> None: ...


def speak_or_show(speaker: Speaker, say: Say, now: float, on_fault: Callable[[str], None]) -> Utterance:
    """Speak, and if the speaker itself fails, show the text instead and report the fault.

    The one guard around every speaker call (session cues, kiosk menus), so a speaker bug or a
    vanished device never ends a session.
    """
    try:
        return speaker.speak(say, now)
    except Exception as exc:
        on_fault(f"the speaker failed ({exc}); showing text")
        print(say.text, file=sys.stderr)
        return Utterance(now, 0.0)


# --- the session log ------------------------------------------------------------------------


@dataclass(frozen=True)
class Interrupted:
    """The most recent session, when it ended as ``interrupted``: what a resume offer needs."""

    session_id: int
    routine: str
    version: str | None
    started: str
    ended: str | None
    last_done_index: int | None
    """Routine index of the last exercise completed (status ``done``); None: none was."""
    resume_index: int
    """Routine index to resume from: one past the last exercise with any result (done, skipped, stopped)."""
    recovered: bool
    """True when the session was closed on open after a crash; False when it recorded its own end (Ctrl-C)."""


class Journal(Protocol):
    """The session log. A record is durable before :meth:`append` returns its id, so the ``logged``
    event and any "got it" that follows describe something that survives a pulled plug."""

    def append(self, record: Record) -> int | None:
        """Store one record; return its id once it is durable, or ``None`` if it is only kept in memory
        for now (the disk refused it): then no ``logged`` event may be given for it yet."""
        ...

    def take_written(self) -> list[tuple[str, int]]:
        """Records ``append`` kept in memory that are durable now, as ``(kind, id)``, each reported once."""
        ...

    def take_notices(self) -> list[str]:
        """One-line notices for a person (a damaged log moved aside, a full disk), each reported once."""
        ...

    def last_interrupted(self) -> Interrupted | None:
        """The most recent session of this journal's profile, if it was cut off (``interrupted``)."""
        ...

    def screened_today(self, day: _dt.date | None = None) -> bool:
        """Whether this journal's profile answered the red-flag screen no to every question today (local
        date; ``day``: that calendar day, as ``--as-of`` sets it): at home the screen is asked once a day.
        ``False`` when it cannot tell: then it is asked."""
        ...

    def now(self) -> _dt.datetime:
        """The wall clock the journal stamps records with (aware, UTC)."""
        ...

    def close(self) -> None: ...


class NoJournal:
    """A journal that keeps nothing and remembers nothing: the kiosk menu's (it records nothing, and
    nothing of one person is kept for the next); :class:`coach.log.journal.MemoryJournal` builds on it."""

    def append(self, record: Record) -> int | None:
        raise RuntimeError(f"nothing is recorded here, got {record.kind}")

    def take_written(self) -> list[tuple[str, int]]:
        return []

    def take_notices(self) -> list[str]:
        return []

    def last_interrupted(self) -> Interrupted | None:
        """It remembers no earlier session."""
        return None

    def screened_today(self, day: _dt.date | None = None) -> bool:
        """Nor an earlier screen: it is asked."""
        return False

    def now(self) -> _dt.datetime:
        return _dt.datetime.now(_dt.UTC)

    def close(self) -> None:
        pass
