"""Feedback after an exercise (issue 15): "How was the bridge: too easy, just right, or too hard?"

A programme's sessions ask it after every exercise (``Routine.feedback``; a script step of its own, a
:class:`~coach.core.script.PainCheck` with moment ``feedback``), and the answer feeds progression (see
:mod:`coach.core.progression`): "too hard" keeps the exercise where it is, "too easy" on a good day counts
that day twice toward the good days that move it up. Answers: the locale's ``answers`` words for ``easy``,
``right`` and ``hard`` (said, typed, ``heard too easy`` in an input script), or a count, by buttons and
keyboard: one press (or typing 1) too easy, two just right, three too hard, as the question says. A spoken
number is not an answer (a misheard "three" must not mean "too hard"): it is a pain rating, unprompted, and
the question is let go, as is any other number typed. Optional: silence is asked once
more, then the session goes on with nothing recorded. Pure: each call returns what to say and record.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from coach.core.messages import COUNT_SOURCES, Listen, Say
from coach.core.records import ExerciseFeedback, Record
from coach.core.script import INSTRUCTION
from coach.spec.locale import Locale
from coach.spec.routine import estimate_speech_seconds

FEEDBACK = ("easy", "right", "hard")
"""The answers, in the order the question says them (one, two, three presses)."""


@dataclass
class FeedbackReply:
    actions: list[Say | Record | Listen] = field(default_factory=list)
    over: float | None = None
    """Set when the question is over: the session goes on at this time."""


class FeedbackDialogue:
    """The question after one exercise: asked, asked once more, answered or let go."""

    def __init__(self, locale: Locale, answer_seconds: float) -> None:
        self.locale = locale
        self.answer_seconds = answer_seconds
        self.exercise: str | None = None
        self.name = ""
        self.asked = 0
        self.deadline = 0.0

    def ask(self, exercise: str, name: str, at: float) -> FeedbackReply:
        self.exercise, self.name, self.asked = exercise, name, 1
        return self._question("feedback_question", at)

    @staticmethod
    def counts(value: int, source: str) -> bool:
        """Whether a number answers the question (1-3 pressed or typed), rather than being a pain rating."""
        return source in COUNT_SOURCES and 1 <= value <= len(FEEDBACK)

    def drop(self) -> None:
        """Let the question go (a pain rating came instead: the session follows that)."""
        self.exercise = None

    def answer(self, value: str | int, source: str, at: float) -> FeedbackReply:
        """An answer word, or a count from a button or the keyboard; anything else changes nothing."""
        if isinstance(value, int):
            if source not in COUNT_SOURCES or not 1 <= value <= len(FEEDBACK):
                return FeedbackReply()
            value = FEEDBACK[value - 1]
        if value not in FEEDBACK or self.exercise is None:
            return FeedbackReply()
        text = self.locale.say(f"feedback_{value}")
        reply = FeedbackReply([ExerciseFeedback(at, self.exercise, value), self._say(text, at)])
        reply.over = at + estimate_speech_seconds(text) + 0.5
        self.exercise = None
        return reply

    def timeout(self) -> FeedbackReply:
        at = self.deadline
        if self.asked < 2:
            self.asked += 1
            return self._question("feedback_reask", at)
        self.exercise = None
        return FeedbackReply(over=at)

    def phrases(self, names: list[str]) -> set[str]:
        texts = {self.locale.say(f"feedback_{value}") for value in FEEDBACK}
        return texts | {self.locale.say(key, name=name) for key in ("feedback_question", "feedback_reask") for name in names}

    def _question(self, key: str, at: float) -> FeedbackReply:
        text = self.locale.say(key, name=self.name)
        self.deadline = at + estimate_speech_seconds(text) + self.answer_seconds
        return FeedbackReply([self._say(text, at), Listen("confirm")])

    def _say(self, text: str, at: float) -> Say:
        return Say(text, at, "feedback", INSTRUCTION, self.exercise)
