"""Kiosk mode: power on, ready; one person after another, nothing of one shown to the next.

The loop: idle (LED breathing) until a button press, the motion sensor, the word "start" or
Enter; greet; a short spoken menu of routines, answered with a number (said, pressed N times,
or typed) or "start" for the first; run the session; its summary; back to idle. Every session is
a new :class:`~coach.core.session.Session` with a new journal session, so nothing of the last person
is ever spoken again. A session left paused too long ends as ``abandoned``; a menu left
unanswered goes back to idle.

Waiting, speaking and showing all happen in the one :class:`~coach.run.runner.Runner`: the idle wait
and the menu are a pure machine (:class:`~coach.core.menu.Menu`, one round each time), the session a
:class:`~coach.core.session.Session`. This module only goes from one to the next.
"""

from __future__ import annotations

import datetime as _dt
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from coach.core.menu import MENU_ANSWER_SECONDS, WAKE_COMMANDS, Menu
from coach.core.records import Record
from coach.core.script import compile_script
from coach.core.session import Session, SessionSettings
from coach.run.clock import Clock
from coach.run.eventlog import EventSink
from coach.run.inputs import Feed
from coach.run.ports import Interrupted, Journal, Listener, NoListener, Speaker, StatusDisplay
from coach.run.resume import KIOSK_RESUME_WITHIN, resume_offer
from coach.run.runner import Machine, Runner
from coach.run.sdnotify import Notifier
from coach.spec.locale import Locale
from coach.spec.routine import Routine

__all__ = ["WAKE_COMMANDS", "Kiosk", "KioskTimes"]


@dataclass(frozen=True)
class KioskTimes:
    menu_answer_seconds: float = MENU_ANSWER_SECONDS
    """How long to wait for a menu choice before asking once more, then going back to idle."""
    abandon_seconds: float = 300.0
    """A session left paused this long with no input ends as abandoned."""


@dataclass
class Kiosk:
    routines: Sequence[Routine]
    locale: Locale
    clock: Clock
    speaker: Speaker
    feed: Feed
    open_journal: Callable[[], Journal]
    events: EventSink
    session_settings: Callable[[Routine], SessionSettings]
    times: KioskTimes = KioskTimes()
    notifier: Notifier = field(default_factory=Notifier)
    listener: Listener = field(default_factory=NoListener)
    displays: list[StatusDisplay] = field(default_factory=list)
    sessions: list[str] = field(default_factory=list)
    """End status of every session run, in order."""

    def run(self, max_sessions: int | None = None) -> None:
        """Serve people until the inputs close (or ``max_sessions`` have run)."""
        self.notifier.ready("waiting for a person")
        menus: Runner | None = None  # one for the kiosk's life: a speaker fault is told once, speech ends carry over
        while max_sessions is None or len(self.sessions) < max_sessions:
            self.notifier.status("waiting for a person")
            menu = Menu(self.routines, self.locale, self.clock.now(), self.times.menu_answer_seconds, self.speaker.lead)
            if menus is None:
                menus = self._runner(menu, _NoJournal(), narrate=False)
            menus.session = menu
            menus.run(autostart=False)
            if not menu.ended:  # no input can ever arrive: nobody is coming
                return
            if menu.chosen is not None:
                self._run_session(menu.chosen)

    def _run_session(self, routine: Routine) -> None:
        self.notifier.status(f"session: {routine.id}")
        journal = self.open_journal()
        offer = resume_offer(journal, routine, KIOSK_RESUME_WITHIN)
        session = Session(compile_script(routine, self.locale), self.locale, self.session_settings(routine), resume=offer)
        runner = self._runner(session, journal, abandon_after=self.times.abandon_seconds)
        try:
            self.sessions.append(runner.run())
        finally:
            journal.close()
            for notice in journal.take_notices():
                print(f"coach: {notice}", file=sys.stderr)
            self.speaker.interrupt(self.clock.now())

    def _runner(self, machine: Machine, journal: Journal, narrate: bool = True, abandon_after: float | None = None) -> Runner:
        return Runner(
            machine,
            self.clock,
            self.speaker,
            journal,
            self.events,
            self.locale,
            self.feed,
            listener=self.listener,
            displays=self.displays,
            heartbeat=self.notifier.ping,
            heartbeat_every=self.notifier.ping_every or 5.0,
            abandon_after=abandon_after,
            narrate=narrate,
        )


class _NoJournal:
    """The menu's journal: a menu records nothing (nothing of one person is kept for the next)."""

    def append(self, record: Record) -> int | None:
        raise RuntimeError(f"the kiosk menu has nothing to record, got {record.kind}")

    def take_written(self) -> list[tuple[str, int]]:
        return []

    def take_notices(self) -> list[str]:
        return []

    def last_interrupted(self) -> Interrupted | None:
        return None

    def now(self) -> _dt.datetime:
        return _dt.datetime.now(_dt.UTC)

    def close(self) -> None:
        pass
