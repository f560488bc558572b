"""Kiosk mode: power on, ready; one person after another, nothing of one shown to the next.

The loop: idle (LED breathing) until a button press, the motion sensor, the word "start" or
Enter; greet; a short spoken menu of routines, answered with a number (said, pressed N times,
or typed) or "start" for the first; run the session; its summary; back to idle. Every session is
a new :class:`~coach.core.session.Session` with a new journal session, so nothing of the last person
is ever spoken again. A session left paused too long ends as ``abandoned``; a menu left
unanswered goes back to idle.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from coach.core.messages import WAKE_COMMANDS, Command, Rating, Say
from coach.core.script import compile_script
from coach.core.session import Session, SessionSettings
from coach.run.clock import Clock
from coach.run.eventlog import EventSink
from coach.run.inputs import Feed, Input, to_event
from coach.run.ports import Journal, Listener, NoListener, Speaker, StatusDisplay, speak_or_show
from coach.run.resume import KIOSK_RESUME_WITHIN, resume_offer
from coach.run.runner import Runner
from coach.run.sdnotify import Notifier
from coach.spec.locale import Locale
from coach.spec.routine import Routine


@dataclass(frozen=True)
class KioskTimes:
    menu_answer_seconds: float = 15.0
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
    _speech_end: float = 0.0
    _speaker_fault_told: bool = False

    def run(self, max_sessions: int | None = None) -> None:
        """Serve people until the inputs close (or ``max_sessions`` have run)."""
        self.notifier.ready("waiting for a person")
        while max_sessions is None or len(self.sessions) < max_sessions:
            self._show("idle")
            if not self._wait_for_person():
                return
            routine = self._choose()
            if routine is not None:
                self._run_session(routine)

    # --- idle and menu ----------------------------------------------------------------------

    def _wait_for_person(self) -> bool:
        self.notifier.status("waiting for a person")
        while True:
            arrived = self._next_input(None)
            if arrived is None:
                if self.feed.exhausted:
                    return False
                continue
            item, at = arrived
            event = to_event(item, at, self.locale)
            if isinstance(event, Command) and event.name in WAKE_COMMANDS:
                self.events.emit("wake", at, source=item.source)
                return True

    def _choose(self) -> Routine | None:
        self._show("menu")
        self._say(self.locale.say("kiosk_greeting"))
        for number, routine in enumerate(self.routines, start=1):
            minutes = round(compile_script(routine, self.locale).nominal_duration / 60)
            self._say(self.locale.say("kiosk_menu_item", n=number, title=routine.title, minutes=minutes))
        self._say(self.locale.say("kiosk_menu_hint"))
        for attempt in range(2):
            if attempt:
                self._say(self.locale.say("kiosk_menu_reask"))
            choice = self._await_choice(max(self.clock.now(), self._speech_end) + self.times.menu_answer_seconds)
            if choice is not None:
                self._say(self.locale.say("kiosk_chosen", title=choice.title))
                return choice
        self._say(self.locale.say("kiosk_no_choice"))
        return None

    def _await_choice(self, deadline: float) -> Routine | None:
        while True:
            arrived = self._next_input(deadline)
            if arrived is None:
                return None
            item, at = arrived
            event = to_event(item, at, self.locale)
            if isinstance(event, Rating) and 1 <= event.value <= len(self.routines):
                self.events.emit("menu", at, choice=event.value, routine=self.routines[event.value - 1].id)
                return self.routines[event.value - 1]
            if isinstance(event, Command) and event.name in ("start", "yes"):
                self.events.emit("menu", at, choice=1, routine=self.routines[0].id)
                return self.routines[0]
            if isinstance(event, Command) and event.name == "stop":
                return None

    def _next_input(self, deadline: float | None) -> tuple[Input, float] | None:
        """Wait for input, pinging the watchdog while waiting."""
        every = self.notifier.ping_every
        while True:
            self.notifier.ping()
            now = self.clock.now()
            wake = deadline if every is None else min(deadline, now + every) if deadline is not None else now + every
            arrived = self.feed.next(wake)
            if arrived is not None or wake == deadline or self.feed.exhausted:
                return arrived

    # --- a session --------------------------------------------------------------------------

    def _run_session(self, routine: Routine) -> None:
        self.notifier.status(f"session: {routine.id}")
        journal = self.open_journal()
        offer = resume_offer(journal, routine, KIOSK_RESUME_WITHIN)
        session = Session(compile_script(routine, self.locale), self.locale, self.session_settings(routine), resume=offer)
        runner = Runner(
            session,
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
            abandon_after=self.times.abandon_seconds,
        )
        try:
            self.sessions.append(runner.run())
        finally:
            journal.close()
            for notice in journal.take_notices():
                print(f"coach: {notice}", file=sys.stderr)
            self.speaker.interrupt(self.clock.now())

    # --- output -----------------------------------------------------------------------------

    def _say(self, text: str) -> None:
        """Say ``text`` after whatever is being said now (menus are instructions, not beats)."""
        now = self.clock.now()
        utterance = speak_or_show(self.speaker, Say(text, now + self.speaker.lead, "menu", "instruction"), now, self._fault)
        self.events.emit("say", utterance.started, due=now + self.speaker.lead, text=text, phase="menu", kind="instruction")
        if utterance.seconds:
            self.listener.speaking(utterance.seconds, delay=max(0.0, utterance.started - now))
        self._speech_end = max(self._speech_end, utterance.started + utterance.seconds)

    def _fault(self, message: str) -> None:
        if not self._speaker_fault_told:
            self._speaker_fault_told = True
            print(f"coach: {message}", file=sys.stderr)

    def _show(self, state: str) -> None:
        self.events.emit("state", self.clock.now(), state=state)
        self.speaker.show_state(state, self.clock.now())
        for display in self.displays:
            display.show_state(state)
