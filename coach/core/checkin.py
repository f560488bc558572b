"""The next-morning check-in: "Compared with yesterday morning, is your back better, the same, or worse?"
then a 0-10 rating (shared/PROTOCOL.md, the Silbernagel next-morning rule), as a small pure dialogue.

The question is a ``say`` with phase ``checkin``; the rating's prompt is a pain prompt (phase ``prompt``).
Answers: the words of the locale's ``answers`` (by voice, typed, or ``heard better`` in an input script);
or, by buttons and keyboard, a count: the dialogue shows the ``pain-check`` state while it asks, so one
press (or typing 1) is *better*, two presses (2) *the same*, three (3) *worse*, as the question says. A
spoken number is not taken as an answer to the question (a misheard "three" must not mean "worse"), and a
heard rating is read back first ("I heard four. Say yes, ...") and counts on yes or silence, as in a session.
Silence is asked once more, then the check-in goes on without that answer (recorded as ``None``): the day's
plan is then set as if the morning were no worse, and no good day is counted for it (see
:mod:`coach.core.progression`). Like the red-flag screen it knows nothing of a session's timeline: each
call returns what to say, record and show, and when it is over, the :class:`Morning` it found.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field

from coach.core.messages import (
    CONFIRMED_SOURCES,
    COUNT_SOURCES,
    Answer,
    Command,
    CommandName,
    Event,
    Listen,
    Rating,
    Say,
    StateChanged,
)
from coach.core.progression import ANSWERS, Morning
from coach.core.records import CheckIn, Record
from coach.core.script import INSTRUCTION
from coach.spec.locale import Locale
from coach.spec.routine import estimate_speech_seconds

STATE = "pain-check"
"""The state shown while the check-in asks: the buttons count presses in it, the console asks for a number."""


@dataclass
class Reply:
    actions: list[Say | Record | Listen | StateChanged] = field(default_factory=list)
    done: Morning | None = None
    """Set when the check-in is over (its ``answer`` and ``rating`` may be ``None``: no answer)."""
    at: float = 0.0
    """When it ended (what follows starts then)."""
    stopped: bool = False
    """The person said stop: nothing follows."""


class CheckInDialogue:
    """One check-in: the question (asked at most twice), then the rating (asked at most twice)."""

    def __init__(
        self, locale: Locale, day: _dt.date, answer_seconds: float, programme: str | None = None, auto_accept_seconds: float = 4.0
    ) -> None:
        self.locale = locale
        self.day = day
        self.answer_seconds = answer_seconds
        self.auto_accept_seconds = auto_accept_seconds
        """Silence after "I heard four, say yes" that accepts a heard rating, as in a session's pain check."""
        self.candidate: int | None = None
        """A heard rating waiting for "yes" (step ``confirm``)."""
        self.programme = programme
        self.step = "idle"
        """``question``, ``rating`` or ``done``."""
        self.asked = 0
        self.deadline: float | None = None
        self.answer: str | None = None
        self.rating: int | None = None

    def start(self, at: float) -> Reply:
        reply = Reply([StateChanged(STATE, at)])
        self._ask(reply, "question", "checkin_question", "checkin", at)
        return reply

    def handle(self, event: Event) -> Reply:
        if self.step == "done":
            return Reply()
        if isinstance(event, Command) and event.name == CommandName.STOP:
            return self._finish(event.at, stopped=True)
        if isinstance(event, Command) and event.name == CommandName.NEXT:  # skip the rest of the check-in
            return self._finish(event.at)
        if self.step == "question":
            answer = _answer_of(event)
            if answer is not None:
                self.answer = answer
                reply = Reply()
                self._ask(reply, "rating", "checkin_rating", "prompt", event.at)
                return reply
        elif self.step in ("rating", "confirm") and isinstance(event, Rating):
            if event.source in CONFIRMED_SOURCES:  # heard, not typed or pressed: read back first
                return self._read_back(event.value, event.at)
            self.rating = event.value
            return self._finish(event.at)
        elif self.step == "confirm" and isinstance(event, Command) and event.name == CommandName.YES:
            self.rating = self.candidate
            return self._finish(event.at)
        elif self.step == "confirm" and isinstance(event, Command) and event.name == CommandName.NO:
            reply = Reply([StateChanged(STATE, event.at)])
            self._ask(reply, "rating", "checkin_rating_reask", "prompt", event.at, again=True)
            return reply
        return Reply()

    def _read_back(self, value: int, at: float) -> Reply:
        self.step, self.candidate = "confirm", value
        text = self.locale.say("confirm_rating", n=value)
        self.deadline = at + estimate_speech_seconds(text) + self.auto_accept_seconds
        return Reply([StateChanged("confirm", at), self._say(text, at, "prompt"), Listen("confirm")])

    def timeout(self, at: float) -> Reply:
        """The answer window closed with nothing: ask once more, then go on without it (a heard rating read
        back and not denied counts, as in a session)."""
        if self.step == "confirm":
            self.rating = self.candidate
            return self._finish(at)
        if self.step not in ("question", "rating"):
            return Reply()
        if self.asked < 2:
            reply = Reply()
            key = "checkin_reask" if self.step == "question" else "checkin_rating_reask"
            self._ask(reply, self.step, key, "checkin" if self.step == "question" else "prompt", at, again=True)
            return reply
        if self.step == "question":  # no answer to the question: the rating is still worth asking
            reply = Reply([self._say(self.locale.say("checkin_no_answer"), at, "checkin")])
            self._ask(reply, "rating", "checkin_rating", "prompt", at + self._seconds("checkin_no_answer"))
            return reply
        return self._finish(at)

    def interrupt(self, at: float) -> Reply:
        """End the check-in at once (symptom words: the session asks about them), keeping what was answered."""
        reply = self._finish(at)
        reply.actions = [a for a in reply.actions if not isinstance(a, Say)]
        reply.at = at
        return reply

    def _ask(self, reply: Reply, step: str, key: str, phase: str, at: float, again: bool = False) -> None:
        self.step = step
        self.asked = self.asked + 1 if again else 1
        reply.actions += [self._say(self.locale.say(key), at, phase), Listen("rating")]
        self.deadline = at + self._seconds(key) + self.answer_seconds

    def _finish(self, at: float, stopped: bool = False) -> Reply:
        self.step, self.deadline = "done", None
        morning = Morning(self.day, self.answer, self.rating)
        record = CheckIn(at, self.answer, self.rating, self.day.isoformat(), self.programme)
        reply = Reply([record], done=morning, at=at, stopped=stopped)
        if not stopped and (self.answer is not None or self.rating is not None):
            reply.actions.append(self._say(self.locale.say("checkin_thanks"), at, "checkin"))
            reply.at = at + self._seconds("checkin_thanks")
        return reply

    def _seconds(self, key: str) -> float:
        return estimate_speech_seconds(self.locale.say(key)) + 0.5

    def _say(self, text: str, at: float, phase: str) -> Say:
        return Say(text, at, phase, INSTRUCTION)

    def phrases(self) -> set[str]:
        keys = (
            "checkin_question",
            "checkin_reask",
            "checkin_rating",
            "checkin_rating_reask",
            "checkin_thanks",
            "checkin_no_answer",
        )
        return {self.locale.say(k) for k in keys} | {self.locale.say("confirm_rating", n=n) for n in range(11)}


def _answer_of(event: Event) -> str | None:
    if isinstance(event, Answer) and event.value in ANSWERS:
        return event.value
    if isinstance(event, Rating) and event.source in COUNT_SOURCES and 1 <= event.value <= len(ANSWERS):
        return ANSWERS[event.value - 1]
    return None
