"""The kiosk's idle wait and spoken menu: a pure state machine, driven by the same runner as a session.

One round: the kiosk is idle until a wake command (``start``, ``next``, ``yes``, ``resume``; a button
press arrives as ``start``); then it greets, says the menu and waits for a number (or ``start``/``yes``
for the first routine). No answer, or ``stop``, asks once more; a second time goes back to idle. The
round ends when a routine is chosen (:attr:`Menu.chosen`) or the menu gave up (``chosen`` is None).
While idle it says the reminder ("Time for your back exercises. Press the button to start.") at each of
its ``reminders`` (session times the kiosk works out from the configured times of day, when a programme's
session is not done today; issue 15).

Timing: menu phrases are instructions said one after another, each *after whatever is being said now*,
so the machine cannot know when they end. It asks (:class:`AwaitQuiet`) and the runner, which knows the
real speech end, sends a :class:`~coach.core.messages.Tick` at that moment; the answer window counts
from there. Every phrase is due :attr:`Menu.lead` after the moment it is decided (the speaker's latency),
and the answer deadline is placed ``lead`` after the window closes, so the runner, which hands things
over ``lead`` early, wakes exactly when the window closes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from coach.core.messages import WAKE_COMMANDS, Action, Command, CommandName, Event, Rating, Say, StateChanged, Tick
from coach.core.script import compile_script
from coach.spec.locale import Locale
from coach.spec.routine import Routine

__all__ = ["MENU_ANSWER_SECONDS", "WAKE_COMMANDS", "AwaitQuiet", "Chosen", "Menu", "MenuAction", "Note", "Reminded", "Woke"]

MENU_ANSWER_SECONDS = 15.0
"""How long to wait for a menu choice after the menu has been said (seconds)."""


# --- actions out, beside the session's ------------------------------------------------------


@dataclass(frozen=True)
class Note:
    """A line for the event stream only (nothing to record): the runner emits ``kind`` with :meth:`fields`."""

    at: float

    kind = "note"

    def fields(self) -> dict[str, Any]:
        return {}


@dataclass(frozen=True)
class Woke(Note):
    """Someone woke the idle kiosk (event ``wake``)."""

    source: str

    kind = "wake"

    def fields(self) -> dict[str, Any]:
        return {"source": self.source}


@dataclass(frozen=True)
class Chosen(Note):
    """This routine was chosen (event ``menu``): ``choice`` is its number in the menu, from 1."""

    choice: int
    routine: str

    kind = "menu"

    def fields(self) -> dict[str, Any]:
        return {"choice": self.choice, "routine": self.routine}


@dataclass(frozen=True)
class Reminded(Note):
    """The idle kiosk said the reminder (event ``reminder``): a programme's session is not done today."""

    kind = "reminder"


@dataclass(frozen=True)
class AwaitQuiet:
    """Send a :class:`~coach.core.messages.Tick` when everything said so far has been said (at once if nothing is playing)."""


MenuAction = Note | AwaitQuiet
"""What a machine beside the session may hand the runner: a line for the event stream, or "tell me when it is quiet"."""


# --- the machine -----------------------------------------------------------------------------


class Step(Enum):
    START = "start"
    """Not yet shown idle: due at the round's start time."""
    IDLE = "idle"
    ASKING = "asking"
    """The menu (or the re-ask) is being said: answers count, the window opens when it is over."""
    ANSWERING = "answering"
    DONE = "done"


class Menu:
    """One round of the kiosk: idle, woken, the menu, a choice or back to idle."""

    def __init__(
        self,
        routines: Sequence[Routine],
        locale: Locale,
        at: float,
        answer_seconds: float = MENU_ANSWER_SECONDS,
        lead: float = 0.0,
        reminders: Sequence[float] = (),
        greet_only: bool = False,
        awake: bool = False,
    ) -> None:
        if not routines:
            raise ValueError("a kiosk menu needs at least one routine")
        self.routines = list(routines)
        self.locale = locale
        self.start = at
        """Session time the round starts: idle is shown then."""
        self.answer_seconds = answer_seconds
        self.lead = lead
        """The speaker's latency (seconds): every phrase is due this long after it is decided."""
        self.minutes = [round(compile_script(r, locale).nominal_duration / 60) for r in self.routines]
        self.step = Step.START
        self.attempt = 0
        """0 while the menu is asked the first time, 1 after the re-ask."""
        self.closes = 0.0
        """Session time the answer window closes (in :attr:`Step.ANSWERING`)."""
        self.chosen: Routine | None = None
        self.greet_only = greet_only
        """Wake and greet, then end the round (:attr:`woke`): a station with patient codes asks the code next."""
        self.awake = awake
        """Someone is here already (their code was just asked): the menu is said at once, with no greeting."""
        self.woke = False
        self.reminders = sorted(reminders)
        """Session times at which to say the reminder while idle (a programme's session not done today, issue 15)."""
        self._out: list[Action | MenuAction] = []

    # --- the interface the runner uses ------------------------------------------------------

    @property
    def ended(self) -> bool:
        return self.step is Step.DONE

    def next_deadline(self) -> float | None:
        """Session time of the next thing due; ``None`` while only an input (or the runner's quiet tick) can move on."""
        if self.step is Step.START:
            return self.start
        if self.step is Step.IDLE and self.reminders:
            return self.reminders[0]
        if self.step is Step.ANSWERING:
            return self.closes + self.lead
        return None

    def handle(self, event: Event) -> list[Action | MenuAction]:
        """Feed one event; return the actions to perform, in order."""
        self._out = []
        if self.step is Step.DONE:
            return []
        if isinstance(event, Tick):
            self._tick(event.at)
        elif self.step is Step.IDLE:
            if isinstance(event, Command) and event.name in WAKE_COMMANDS:
                self._wake(event)
        elif self.step in (Step.ASKING, Step.ANSWERING):
            self._answer(event)
        return self._out

    def abort(self, at: float, status: str) -> list[Action | MenuAction]:
        """End the round at once: a menu records nothing and says nothing more."""
        self.step = Step.DONE
        return []

    # --- steps ------------------------------------------------------------------------------

    def _tick(self, at: float) -> None:
        if self.step is Step.START and at >= self.start and self.awake:
            self._out.append(StateChanged("menu", at))
            self._say_menu(at)
        elif self.step is Step.START and at >= self.start:
            self.step = Step.IDLE
            self._out.append(StateChanged("idle", at))
            self.reminders = [t for t in self.reminders if t > at]  # one that passed before the round began is not said late
        elif self.step is Step.IDLE and self.reminders and at >= self.reminders[0]:
            self.reminders = [t for t in self.reminders if t > at]
            self._out.append(Reminded(at))
            self._out.append(Say(self.locale.say("reminder"), at + self.lead, "reminder", "instruction"))
        elif self.step is Step.ASKING:  # the runner's quiet tick: what was said is over
            self.closes = at + self.answer_seconds
            self.step = Step.ANSWERING
        elif self.step is Step.ANSWERING and at >= self.closes + self.lead:
            self._no_answer(at - self.lead)

    def _wake(self, event: Command) -> None:
        self._out += [Woke(event.at, event.source), StateChanged("menu", event.at)]
        self._say(self.locale.say("kiosk_greeting"), event.at)
        self.woke = True
        if self.greet_only:
            self.step = Step.DONE
            return
        self._say_menu(event.at)

    def _say_menu(self, at: float) -> None:
        for text in self._items():
            self._say(text, at)
        self._say(self.locale.say("kiosk_menu_hint"), at)
        self._ask()

    def _items(self) -> list[str]:
        say = self.locale.say
        return [
            say("kiosk_menu_item", n=n, title=r.title, minutes=m) for n, (r, m) in enumerate(zip(self.routines, self.minutes), 1)
        ]

    def _answer(self, event: Event) -> None:
        if isinstance(event, Rating) and 1 <= event.value <= len(self.routines):
            self._choose(event.value, event.at)
        elif isinstance(event, Command) and event.name in (CommandName.START, CommandName.YES):
            self._choose(1, event.at)
        elif isinstance(event, Command) and event.name == CommandName.STOP:
            self._no_answer(event.at)  # as if the window closed now: asked once more, or back to idle

    def _choose(self, number: int, at: float) -> None:
        routine = self.routines[number - 1]
        self._out.append(Chosen(at, number, routine.id))
        self._say(self.locale.say("kiosk_chosen", title=routine.title), at)
        self.chosen = routine
        self.step = Step.DONE

    def _no_answer(self, at: float) -> None:
        if self.attempt == 0:
            self.attempt = 1
            self._say(self.locale.say("kiosk_menu_reask"), at)
            self._ask()
            return
        self._say(self.locale.say("kiosk_no_choice"), at)
        self.step = Step.DONE

    def _ask(self) -> None:
        self.step = Step.ASKING
        self._out.append(AwaitQuiet())

    def _say(self, text: str, decided: float) -> None:
        """Say ``text`` after whatever is being said now (menus are instructions, not beats)."""
        self._out.append(Say(text, decided + self.lead, "menu", "instruction"))
