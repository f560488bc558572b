"""The runner: the only loop. It waits on the clock for the session's next deadline or the next
input, feeds the session, and performs the actions it returns through the adapters.

It drives anything with the session's interface (:class:`Machine`): a :class:`~coach.core.session.Session`,
or the kiosk's idle wait and menu (:class:`~coach.core.menu.Menu`), so waiting, watchdog pings,
speech, the listener gate and the state display live here only.

Deadlines are absolute session times; nothing here sleeps for "a second after speaking", so the
time speaking takes can never accumulate as drift.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from coach.core.menu import AwaitQuiet, MenuAction, Note
from coach.core.messages import REDIRECTING, Action, Command, CommandName, End, Event, Listen, Say, StateChanged, Symptom, Tick
from coach.core.records import Record
from coach.errors import CoachError
from coach.run.clock import Clock
from coach.run.eventlog import EventSink
from coach.run.inputs import Feed, Input, to_event
from coach.run.ports import Journal, Listener, NoListener, Speaker, StatusDisplay, speak_or_show
from coach.run.stopping import STOP_KIND
from coach.spec.locale import Locale

STOP_DRAIN_SECONDS = 1.0
"""On a stop request, what is being said may go on this long, then it is cut (seconds): the sentence
is not chopped mid-word, and the process still exits well within systemd's ``TimeoutStopSec``."""


class Machine(Protocol):
    """What the runner drives: a pure state machine, events in, actions out, with its next deadline."""

    @property
    def ended(self) -> bool: ...

    def next_deadline(self) -> float | None:
        """Session time of the next thing due, or ``None`` when only an input can move things on."""
        ...

    def handle(self, event: Event) -> Sequence[Action | MenuAction]: ...

    def abort(self, at: float, status: str) -> Sequence[Action | MenuAction]:
        """End at once (Ctrl-C): whatever must be recorded, nothing more said."""
        ...


@dataclass
class Runner:
    session: Machine
    """What is driven (a session, or a kiosk menu round); the kiosk's menu runner gets a new round each time."""
    clock: Clock
    speaker: Speaker
    journal: Journal
    events: EventSink
    locale: Locale
    feed: Feed
    listener: Listener = field(default_factory=NoListener)
    displays: list[StatusDisplay] = field(default_factory=list)
    heartbeat: Callable[[], None] | None = None
    """Called at least every ``heartbeat_every`` seconds of real waiting (the systemd watchdog)."""
    heartbeat_every: float = 5.0
    upkeep: Callable[[float], float | None] | None = None
    """Given a turn at every step with the session time; returns when it next wants one (the kiosk
    trying missing inputs again). Like the heartbeat, it is not something to wait for."""
    abandon_after: float | None = None
    """End a session left paused this long with no input (seconds; a kiosk's "walked away")."""
    narrate: bool = True
    """A session (True): every input is an ``input`` event, a control's announcement is said, redirecting
    commands cut speech short, faults are events, and running out of inputs stops it with a notice. The
    kiosk's idle and menu (False) only listen for an answer, and end quietly when no input can come."""
    status: str = ""
    stopped: str | None = None
    """The stop request (a signal's name) that ended the run, if one did."""
    _abandoned: bool = False
    _halted: bool = False
    """Nothing can move the machine on and it cannot be stopped: the loop ends here."""
    _quiet_at: float | None = None
    """When what has been said is over, if the machine asked to be told (:class:`AwaitQuiet`)."""
    _speech_end: float = 0.0
    _faults: set[str] = field(default_factory=set)
    _last_input: float = 0.0

    def run(self, autostart: bool = True) -> str:
        """Run the session to its end; return the end status."""
        self._last_input = self.clock.now()
        self._halted, self._quiet_at = False, None
        if autostart:
            self._feed(Command(self.clock.now(), CommandName.START, "auto"))
        while not self.session.ended and not self._halted:
            self._step()
        return self.status

    def _step(self) -> None:
        if self.heartbeat is not None:
            self.heartbeat()
        now = self.clock.now()
        if self._quiet_at is not None and self._quiet_at <= now:
            quiet, self._quiet_at = self._quiet_at, None
            self._feed(Tick(quiet))
            return
        deadline = self.session.next_deadline()
        lead = self.speaker.lead
        if deadline is not None and deadline <= now + lead:
            # A speaker with latency gets each cue ``lead`` seconds early and starts it exactly on time.
            self._feed(Tick(max(now, deadline)))
            return
        wake = None if deadline is None else deadline - lead
        if self._quiet_at is not None:
            wake = self._quiet_at if wake is None else min(wake, self._quiet_at)
        if deadline is None and self.abandon_after is not None:
            give_up = self._last_input + self.abandon_after
            if give_up <= now:
                self._feed(Command(now, CommandName.ABANDON, "runner"))
                return
            wake = give_up
        waiting_for = wake  # a heartbeat is not something to wait for: with no input to come, stop
        if self.heartbeat is not None:
            wake = min(wake, now + self.heartbeat_every) if wake is not None else now + self.heartbeat_every
        if self.upkeep is not None:
            due = self.upkeep(now)
            if due is not None:
                due = max(due, now + 0.01)  # a turn is never due at once again: no spinning
                wake = due if wake is None else min(wake, due)
        arrived = self.feed.next(wake)
        if arrived is not None and arrived[0].kind == STOP_KIND:
            self._stop(str(arrived[0].value), arrived[1])
        elif arrived is not None:
            self._last_input = arrived[1]
            self._feed_input(*arrived)
        elif waiting_for is None and self.feed.exhausted:
            if self.narrate:
                self._abandon(now)
            else:
                self._halted = True

    def _feed_input(self, item: Input, at: float) -> None:
        if not self.narrate:  # a menu: only an answer counts, and anything else passes unremarked
            answer = to_event(item, at, self.locale)
            if answer is not None:
                self._feed(answer)
            return
        if item.kind == "announce":  # feedback from a control, e.g. "three, press again to confirm"
            self._perform(Say(str(item.value), at, "controls", "cue"))
            self._feed(Command(at, CommandName.WAIT, item.source))  # someone is answering: do not time out on them
            return
        event = to_event(item, at, self.locale)
        if event is None:
            self.events.emit("unrecognised", at, text=str(item.value), source=item.source)
            return
        kind, value = item.shown()
        self.events.emit("input", at, kind=kind, value=value, source=item.source)
        if isinstance(event, Symptom) or (isinstance(event, Command) and event.name in REDIRECTING):
            self.speaker.interrupt(at)
        self._feed(event)

    def _stop(self, name: str, at: float) -> None:
        """A stop request (SIGTERM, Ctrl-C, SIGHUP; see :mod:`coach.run.stopping`), taken between steps:
        the session ends as ``stopped``, with its end recorded; a kiosk menu just ends."""
        self.stopped = name
        self.events.emit("notice", at, text=f"{name}: stopping")
        self.speaker.interrupt(at + STOP_DRAIN_SECONDS)
        self.abort("stopped")
        self._halted = True

    def abort(self, status: str) -> None:
        """End the session at once (Ctrl-C): the end is recorded, nothing more is said."""
        for action in self.session.abort(self.clock.now(), status):
            self._perform(action)

    def _abandon(self, now: float) -> None:
        """Nothing can move the session on (simulation with no more input): stop it cleanly."""
        if self._abandoned:  # stopping did not end it either: end here rather than spin
            self._halted = True
            self.status = "stalled"
            self.events.emit("end", now, status=self.status)
            return
        self._abandoned = True
        self.events.emit("notice", now, text="no more input can arrive; stopping the session")
        self._feed(Command(now, CommandName.STOP, "runner"))

    def _feed(self, event: Event) -> None:
        for action in self.session.handle(event):
            self._perform(action)

    def _perform(self, action: Action | MenuAction) -> None:
        now = self.clock.now()
        if isinstance(action, Say):
            utterance = speak_or_show(self.speaker, action, now, lambda message: self._fault("speaker", message))
            if utterance.seconds > 0:
                self.listener.speaking(utterance.seconds, delay=max(0.0, utterance.started - now))
            self._speech_end = max(self._speech_end, utterance.started + utterance.seconds)
            self.events.emit(
                "say",
                utterance.started,
                due=action.due,
                text=action.text,
                exercise=action.exercise,
                phase=action.phase,
                kind=action.kind,
                rep=action.rep,
                side=action.side,
            )
        elif isinstance(action, Record):
            self._record(action, now)
        elif isinstance(action, StateChanged):
            self.events.emit("state", now, state=action.state)
            self.speaker.show_state(action.state, now)
            for display in self.displays:
                display.show_state(action.state)
        elif isinstance(action, Listen):
            self.listener.expect(action.expect)
        elif isinstance(action, End):
            self.status = action.status
            self.events.emit("end", now, status=action.status)
        elif isinstance(action, Note):
            self.events.emit(action.kind, action.at, **action.fields())
        elif isinstance(action, AwaitQuiet):
            self._quiet_at = max(now, self._speech_end)

    def _record(self, action: Record, now: float) -> None:
        self.events.emit(action.kind, now, **action.fields())
        try:
            record_id = self.journal.append(action)
        except (CoachError, OSError) as exc:
            # The session goes on; the person is told once. Only a durable record is "logged".
            self._fault("journal", str(exc))
            return
        at = self.clock.now()
        for notice in self.journal.take_notices():  # a full disk, and later "written again": each told once
            self.events.emit("notice", at, text=notice)
            print(f"coach: {notice}", file=sys.stderr)
        for kind, late_id in self.journal.take_written():  # records kept in memory that are durable now
            self.events.emit("logged", at, kind=kind, id=late_id)
        if record_id is None:  # kept in memory until the disk takes it again
            self.events.emit("pending", at, kind=action.kind)
            return
        self.events.emit("logged", at, kind=action.kind, id=record_id)

    def _fault(self, part: str, message: str) -> None:
        """Report a failing part once per session, never in a loop."""
        if part in self._faults:
            return
        self._faults.add(part)
        if self.narrate:
            self.events.emit("fault", self.clock.now(), part=part, message=message)
        print(f"coach: {message}", file=sys.stderr)
