"""The red-flag screen and the symptom question: the conversation that decides whether exercising is safe.

Before the first exercise the coach asks the five red-flag questions of the clinical text (new numbness
or weakness in a leg; pain spreading below the knee that keeps growing; trouble controlling bladder or
bowels; fever or unexplained weight loss with back pain; a recent fall or injury), one at a time, each
answered yes or no (a "no" only once its question has been said). A yes ends the session with advice
(bladder or bowel: urgent care now). Silence is not a no: a question is asked once more, and a screen
still unanswered ends the session too, saying so, because a person who cannot answer (or is not there)
has not been screened.

Symptom words ("numb", "tingling", "bladder") may come at any moment: the session holds where it is and
asks whether the symptom is new or spreading down the leg. Yes, or no answer: the session ends with the
advice; no: it goes on gently, recorded. Bladder or bowel words end the session at once.

The nerve glide asks one more question as its first side ends: has pain or tingling moved further down the
leg? It is the symptom question asked by the coach (the session plays it from the script, :data:`CHECK`
cues): yes ends the session with the advice; no goes on to the other side, recorded; silence is asked
once more, then stops the glide (:class:`StopGlide`), because spreading that nobody rules out is not safe to
glide on, while nothing says the rest of the session is unsafe.

Like :mod:`coach.core.pain_dialogue`, it knows nothing of the session's timeline: each call returns a
:class:`ScreenReply`, the things to say, record, listen for and the states to enter, and, when the
conversation is over, what it decided (:class:`Clear` or :class:`RedFlag`). Pure: no I/O, no clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from coach.core.messages import Listen, Say
from coach.core.pain_dialogue import Enter
from coach.core.records import Record, SafetyFired, Screened
from coach.core.script import INSTRUCTION
from coach.core.states import SessionSettings, State
from coach.spec.locale import Locale
from coach.spec.routine import estimate_speech_seconds

QUESTIONS = ("numbness", "spreading", "bladder", "fever", "fall")
"""The red-flag questions, in the order asked (phrases ``screen_<name>``)."""
SIDE_CHECK = "side-check"
"""The symptom asked about by the nerve glide's check after its first side."""
URGENT = frozenset({"bladder", "bladder-bowel"})
"""Answers that need urgent care now, not a call to the clinician today."""


@dataclass(frozen=True)
class Clear:
    """Nothing stops the session: it starts (``resume`` false) or goes back to what the symptom cut, at ``at``."""

    at: float
    resume: bool


@dataclass(frozen=True)
class RedFlag:
    """End the session at ``at`` with ``status``, saying ``advice`` first."""

    at: float
    status: str
    advice: str


@dataclass(frozen=True)
class StopGlide:
    """Nobody answered the side check: the exercise stops at ``at`` and the session goes on with what follows."""

    at: float


@dataclass
class ScreenReply:
    actions: list[Say | Record | Listen | Enter] = field(default_factory=list)
    then: Clear | RedFlag | StopGlide | None = None


class Screen:
    """The screen of one session (``on``: ask it before the first exercise) and its symptom questions."""

    def __init__(self, locale: Locale, settings: SessionSettings, on: bool, day: str | None = None) -> None:
        self.locale = locale
        self.day = day
        """The calendar day the answers count for, when it is not the wall clock's (``--as-of``)."""
        self.settings = settings
        self.on = on
        self.question: int | None = None
        """Index in :data:`QUESTIONS` of the screen question being asked; ``None``: the screen is not under way."""
        self.symptom: str | None = None
        """The symptom whose "is it new?" is being asked, if any."""
        self.asked = 0
        self.deadline = 0.0
        self.said_at = 0.0
        """When the question being asked is said: a "no" before it (or with it) answers nothing; a yes always counts."""

    @property
    def active(self) -> bool:
        return self.question is not None or self.symptom is not None

    def phrases(self) -> set[str]:
        keys = ["screen_intro", "screen_reask", "screen_clear", "screen_no_answer", "red_flag_advice", "red_flag_urgent"]
        keys += [f"screen_{q}" for q in QUESTIONS] + ["symptom_question", "symptom_gently"]
        keys += ["side_check_clear", "side_check_no_answer"]
        again = [self._again(q) for q in QUESTIONS] + [self._check_again()]
        return {self.locale.say(k) for k in keys} | set(again)

    def start(self, at: float) -> ScreenReply:
        """Begin the screen: the introduction, then the first question."""
        if not self.on:
            return ScreenReply(then=Clear(at, resume=False))
        intro = self.locale.say("screen_intro")
        reply = ScreenReply([self._say(intro, at), Enter(State.SCREEN, at)])
        return self._ask(reply, 0, at + estimate_speech_seconds(intro) + 0.5)

    def symptom_heard(self, kind: str, at: float) -> ScreenReply:
        """Symptom words at ``at``: bladder or bowel ends at once; a leg symptom is asked about."""
        if kind in URGENT:
            return self._red_flag(at, f"symptom-{kind}")
        return self._ask_about(kind, "symptom_question", at)

    def side_check(self, at: float) -> ScreenReply:
        """The check after a nerve glide's first side: has pain or tingling moved further down the leg?"""
        return self._ask_about(SIDE_CHECK, "side_check_question", at)

    def yes(self, at: float) -> ScreenReply:
        if self.symptom == SIDE_CHECK:
            return self._red_flag(at, "side-check: pain or tingling further down the leg")
        if self.symptom is not None:
            return self._red_flag(at, f"symptom-{self.symptom}")
        if self.question is not None:
            return self._red_flag(at, QUESTIONS[self.question])
        return ScreenReply()

    def no(self, at: float) -> ScreenReply:
        if self.symptom == SIDE_CHECK:
            self.symptom = None
            text = self.locale.say("side_check_clear")
            reply = ScreenReply([SafetyFired(at, SIDE_CHECK, "continue", "not further down the leg"), self._say(text, at)])
            reply.then = Clear(at + estimate_speech_seconds(text) + 0.5, resume=True)
            return reply
        if self.symptom is not None:
            kind, self.symptom = self.symptom, None
            text = self.locale.say("symptom_gently")
            reply = ScreenReply([SafetyFired(at, "symptom", "continue-gently", f"{kind}: not new, not spreading")])
            reply.actions.append(self._say(text, at))
            if self.question is not None:  # said during the screen: its question again
                return self._ask(reply, self.question, at + estimate_speech_seconds(text) + 0.5)
            reply.then = Clear(at + estimate_speech_seconds(text) + 0.5, resume=True)
            return reply
        if self.question is None or at <= self.said_at:
            return ScreenReply()
        if self.question + 1 < len(QUESTIONS):
            return self._ask(ScreenReply(), self.question + 1, at)
        self.question = None
        text = self.locale.say("screen_clear")
        reply = ScreenReply([Screened(at, "clear", day=self.day), self._say(text, at)])
        reply.then = Clear(at + estimate_speech_seconds(text) + 0.5, resume=False)
        return reply

    def timeout(self) -> ScreenReply:
        """The deadline passed with no answer: never taken as a no."""
        at = self.deadline
        if self.symptom == SIDE_CHECK and self.asked < 2:
            self.asked += 1
            text = self._check_again()
            self.deadline = at + self._window(text)
            return ScreenReply([self._say(text, at), Listen("confirm")])
        if self.symptom == SIDE_CHECK:
            self.symptom = None
            text = self.locale.say("side_check_no_answer")
            reply = ScreenReply([SafetyFired(at, SIDE_CHECK, "stop-exercise", "no answer"), self._say(text, at)])
            reply.then = StopGlide(at + estimate_speech_seconds(text) + 0.5)
            return reply
        if self.symptom is not None:
            return self._red_flag(at, f"symptom-{self.symptom}: no answer")
        if self.question is None:
            return ScreenReply()
        if self.asked < 2:
            self.asked += 1
            text = self._again(QUESTIONS[self.question])
            self.deadline = at + self._window(text)
            return ScreenReply([self._say(text, at), Listen("confirm")])
        self.question = None
        reply = ScreenReply([Screened(at, "no-answer", day=self.day)])
        reply.then = RedFlag(at, "not-screened", self.locale.say("screen_no_answer"))
        return reply

    # --- parts ------------------------------------------------------------------------------

    def _ask(self, reply: ScreenReply, index: int, at: float) -> ScreenReply:
        self.question, self.asked, self.said_at = index, 1, at
        text = self.locale.say(f"screen_{QUESTIONS[index]}")
        self.deadline = at + self._window(text)
        reply.actions += [self._say(text, at), Listen("confirm")]
        return reply

    def _ask_about(self, symptom: str, key: str, at: float) -> ScreenReply:
        """Hold the session in the screen state and ask the question ``key`` about ``symptom``."""
        self.symptom, self.asked = symptom, 1
        text = self.locale.say(key)
        self.deadline = at + self._window(text)
        return ScreenReply([self._say(text, at), Enter(State.SCREEN, at), Listen("confirm")])

    def _red_flag(self, at: float, reason: str) -> ScreenReply:
        """End with advice: a safety record, and the screen's answer if it was under way."""
        urgent = reason in URGENT or reason.startswith("symptom-bladder")
        reply = ScreenReply([SafetyFired(at, "red-flag", "end-session", reason)])
        if self.question is not None:
            reply.actions.insert(0, Screened(at, "red-flag", reason, self.day))
        self.question = self.symptom = None
        reply.then = RedFlag(at, "red-flag", self.locale.say("red_flag_urgent" if urgent else "red_flag_advice"))
        return reply

    def _again(self, question: str) -> str:
        return f"{self.locale.say('screen_reask')} {self.locale.say(f'screen_{question}')}"

    def _check_again(self) -> str:
        return f"{self.locale.say('screen_reask')} {self.locale.say('side_check_question')}"

    def _window(self, text: str) -> float:
        return estimate_speech_seconds(text) + self.settings.answer_seconds

    def _say(self, text: str, at: float) -> Say:
        return Say(text, at, "screen", INSTRUCTION)
