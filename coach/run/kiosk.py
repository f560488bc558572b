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

A kiosk in real time never ends for want of input (its feed is always live; the inputs it lacks are
tried again by ``upkeep``, see :mod:`coach.run.retry`): it ends on a stop request (SIGTERM, Ctrl-C,
SIGHUP; see :mod:`coach.run.stopping`), which ends a session in progress as ``stopped`` and tells
systemd ``STOPPING=1``. Only a simulation, whose input script is all that can ever arrive, returns
when the script is over.
"""

from __future__ import annotations

import datetime as _dt
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from coach.core.menu import MENU_ANSWER_SECONDS, WAKE_COMMANDS, Menu
from coach.core.patient_code import CodeEntry
from coach.core.script import compile_script
from coach.core.session import Session, SessionSettings
from coach.run.clock import Clock
from coach.run.eventlog import EventSink
from coach.run.inputs import Feed
from coach.run.ports import Journal, Listener, NoJournal, NoListener, Speaker, StatusDisplay
from coach.run.resume import KIOSK_RESUME_WITHIN, resume_offer
from coach.run.runner import Machine, Runner
from coach.run.sdnotify import Notifier
from coach.spec.locale import Locale
from coach.spec.routine import Routine

__all__ = ["WAKE_COMMANDS", "Kiosk", "KioskTimes", "TodaysSession", "reminder_times"]


@dataclass(frozen=True)
class TodaysSession:
    """A programme's session today (issue 15): the routine at today's levels, offered first in the menu, and
    the machine (the check-in, what changes, then the session) to run when it is chosen."""

    routine: Routine
    machine: Callable[[Journal], Machine]
    done_today: bool = False
    """Today's session is done already: no reminder today."""


def reminder_times(times: Sequence[_dt.time], wall: _dt.datetime, now: float, done_today: bool, days: int = 7) -> list[float]:
    """The session times of the reminders from ``wall`` (the wall clock at session time ``now``) on: the
    configured times of day, today's only while today's session is not done, then each of the next days'."""
    found = []
    for offset in range(days):
        if offset == 0 and done_today:
            continue
        date = wall.date() + _dt.timedelta(days=offset)
        for time in times:
            moment = _dt.datetime.combine(date, time, tzinfo=wall.tzinfo)
            if moment > wall:
                found.append(now + (moment - wall).total_seconds())
    return sorted(found)


@dataclass(frozen=True)
class PatientCodes:
    """A shared station's patient codes (issue 16): each person enters theirs after waking the kiosk, and their
    records and programme are theirs (see :mod:`coach.core.patient_code`)."""

    digits: int
    known: frozenset[str] | None = None
    """The clinic's codes; ``None``: any code of ``digits`` digits."""


PersonParts = tuple[Callable[[], Journal], Callable[[], "TodaysSession | None"] | None]
"""A person's journal (sessions under their code) and their programme session today, if they have one."""


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
    upkeep: Callable[[float], float | None] | None = None
    """Given a turn while idle or in the menu (see :attr:`Runner.upkeep`): trying missing inputs again.
    Not during a session: someone using it already has an input, and a session is never slowed."""
    sessions: list[str] = field(default_factory=list)
    """End status of every session run, in order."""
    todays: Callable[[], TodaysSession | None] | None = None
    """A programme's session today, asked at the start of every round (``None``: no programme is active)."""
    reminder_at: Sequence[_dt.time] = ()
    """Times of day for the reminder, while a programme's session is not done today (a home Pi)."""
    wall: Callable[[], _dt.datetime] = field(default=lambda: _dt.datetime.now().astimezone())
    """The wall clock the reminder times are read on (``--as-of`` and tests set it)."""
    patient_codes: PatientCodes | None = None
    """Ask each person's code after the kiosk wakes (a clinic's shared station); ``None``: no codes."""
    for_person: Callable[[str | None], PersonParts] | None = None
    """With codes: the journal and today's session of the person whose code was entered (``None``: anonymous)."""
    stopped: str | None = None
    """The stop request (a signal's name) that ended the kiosk, if one did."""
    _menus: Runner | None = None

    def run(self, max_sessions: int | None = None) -> None:
        """Serve people until a stop request (or ``max_sessions`` have run, or a simulation's inputs are over)."""
        self.notifier.ready("waiting for a person")
        while max_sessions is None or len(self.sessions) < max_sessions:
            self.notifier.status("waiting for a person")
            parts: PersonParts = (self.open_journal, self.todays)
            awake = False
            if self.patient_codes is not None:  # wake, greet, then the person's code: their journal and programme
                woken = self._wake_for_a_code()
                if woken == "end":
                    return
                if not isinstance(woken, tuple):
                    continue
                parts, awake = woken, True
            open_journal, todays = parts
            today = todays() if todays is not None else None
            routines = [today.routine, *self.routines] if today is not None else list(self.routines)
            now = self.clock.now()
            reminders = reminder_times(self.reminder_at, self.wall(), now, today.done_today) if today is not None else []
            menu = Menu(routines, self.locale, now, self.times.menu_answer_seconds, self.speaker.lead, reminders, awake=awake)
            if not self._play(menu):
                return
            if menu.chosen is not None:
                chosen = today if today is not None and menu.chosen is today.routine else None
                stopped = self._run_session(menu.chosen, chosen, open_journal)
                if stopped is not None:
                    self._stop(stopped)
                    return

    def _play(self, machine: Menu | CodeEntry) -> bool:
        """Run a menu round (or a code entry) on the kiosk's one menu runner; ``False``: the kiosk ends (a stop
        request, or a simulation whose inputs are over)."""
        if self._menus is None:  # one for the kiosk's life: a speaker fault is told once, speech ends carry over
            self._menus = self._runner(machine, NoJournal(), narrate=False, upkeep=self.upkeep)
        menus = self._menus
        menus.session = machine
        menus.run(autostart=False)
        if menus.stopped is not None:
            self._stop(menus.stopped)
            return False
        return machine.ended  # not ended: a simulation whose inputs are over: nobody is coming

    def _wake_for_a_code(self) -> PersonParts | str:
        """Idle until woken, greet, ask the code: the person's parts; ``"idle"``: back to idle (the greeting gave
        up, or "stop"); ``"end"``: the kiosk ends."""
        codes = self.patient_codes
        assert codes is not None and self.for_person is not None
        greeting = Menu(self.routines, self.locale, self.clock.now(), lead=self.speaker.lead, greet_only=True)
        if not self._play(greeting):
            return "end"
        if not greeting.woke:
            return "idle"
        entry = CodeEntry(self.locale, self.clock.now(), codes.digits, codes.known, lead=self.speaker.lead)
        if not self._play(entry):
            return "end"
        if entry.cancelled:
            return "idle"
        return self.for_person(entry.code)

    def attach_listener(self, listener: Listener) -> None:
        """Voice input that came up after the kiosk started: the menu and every later session hear it."""
        self.listener = listener
        if self._menus is not None:
            self._menus.listener = listener

    def attach_display(self, display: StatusDisplay) -> None:
        """A status light that came up later (the runners share :attr:`displays`)."""
        self.displays.append(display)

    def _stop(self, name: str) -> None:
        self.stopped = name
        self.notifier.stopping(f"stopping ({name})")

    def _run_session(
        self, routine: Routine, today: TodaysSession | None = None, open_journal: Callable[[], Journal] | None = None
    ) -> str | None:
        """Run one person's session (``today``: the programme's; ``open_journal``: theirs, when they gave a code);
        the stop request that ended it, if one did."""
        self.notifier.status(f"session: {routine.id}")
        journal = (open_journal or self.open_journal)()
        session: Machine
        if today is not None:
            session = today.machine(journal)
        else:
            offer = resume_offer(journal, routine, KIOSK_RESUME_WITHIN)
            settings = self.session_settings(routine)  # every person is screened: the kiosk cannot tell them apart
            script = compile_script(routine, self.locale)
            session = Session(script, self.locale, settings, resume=offer, screen=settings.red_flag_screen)
        runner = self._runner(session, journal, abandon_after=self.times.abandon_seconds)
        try:
            self.sessions.append(runner.run())
        finally:
            journal.close()
            for notice in journal.take_notices():
                print(f"coach: {notice}", file=sys.stderr)
            if runner.stopped is None:  # a stop request lets the last words drain briefly instead
                self.speaker.interrupt(self.clock.now())
        return runner.stopped

    def _runner(
        self,
        machine: Machine,
        journal: Journal,
        narrate: bool = True,
        abandon_after: float | None = None,
        upkeep: Callable[[float], float | None] | None = None,
    ) -> Runner:
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
            upkeep=upkeep,
        )
