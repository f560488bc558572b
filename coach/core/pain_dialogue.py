"""The pain dialogue: asking for a rating from 0 to 10, reading a heard one back, and what it leads to.

It is part of the session's state machine (:class:`~coach.core.session.Session` inherits it), kept in
its own module because it is the one part with a conversation of its own: a prompt, a re-ask,
"I heard six, say yes", silence that accepts, a pause in the middle, and the safety rules that
decide what a rating does to the rest of the session. It needs the session's timeline and
bookkeeping, which it reaches through the attributes and methods declared below.
"""

from __future__ import annotations

from dataclasses import dataclass

from coach.core.messages import CONFIRMED_SOURCES, Action, Listen
from coach.core.records import RatingRecorded, Record, SafetyFired
from coach.core.safety import CAUTION, END_SESSION, STOP_EXERCISE, evaluate
from coach.core.script import INSTRUCTION, Block
from coach.core.states import ACK_GAP, SessionSettings, State
from coach.spec.locale import Locale
from coach.spec.routine import estimate_speech_seconds


@dataclass
class Dialogue:
    """A pain rating being asked for or confirmed."""

    moment: str
    """``before``, ``exercise``, ``after`` (a prompt) or ``unprompted``."""
    exercise: str | None
    deadline: float
    asked: int = 1
    candidate: int | None = None
    candidate_source: str = ""
    was_paused: bool = False
    """An unprompted rating given while paused returns to the pause."""
    return_state: State | None = None
    return_offset: float = 0.0
    """Where an unprompted rating given during a block returns to. The dialogue owns this (a
    pause inside the dialogue moves the session's own bookmark); whatever asks which block the
    rating cut (the safety rule, stop, next, the return itself) reads it here."""


class PainDialogue:
    """The pain-rating half of the session (a mixin: :class:`~coach.core.session.Session` is the rest)."""

    state: State
    locale: Locale
    settings: SessionSettings
    dialogue: Dialogue | None
    block: Block | None
    block_start: float
    step_index: int
    return_to: State
    paused_offset: float
    ratings: dict[str, int | None]
    first_rating: int | None
    _out: list[Action]

    # --- provided by the session -------------------------------------------------------------

    def _say(self, text: str, due: float, phase: str, kind: str, exercise: str | None = None) -> None:
        raise NotImplementedError

    def _record(self, record: Record) -> None:
        raise NotImplementedError

    def _set_state(self, state: State, at: float) -> None:
        raise NotImplementedError

    def _start_step(self, index: int, at: float) -> None:
        raise NotImplementedError

    def _resume_block(self, at: float, announce: bool) -> None:
        raise NotImplementedError

    def _finish(self, status: str, at: float, lead: list[str] | None = None) -> None:
        raise NotImplementedError

    def _exercise_result(self, block: Block, status: str, at: float) -> None:
        raise NotImplementedError

    def _exercise_id(self) -> str | None:
        raise NotImplementedError

    def _exercises_left(self) -> bool:
        raise NotImplementedError

    # --- the dialogue -------------------------------------------------------------------------

    def _ask(self, moment: str, exercise: str | None, at: float) -> None:
        prompt = self.locale.say(f"pain_prompt_{moment}")
        self.dialogue = Dialogue(moment, exercise, at + self._answer_window(prompt))
        self._say(prompt, at, "prompt", INSTRUCTION, exercise)
        self._set_state(State.PAIN_CHECK, at)
        self._out.append(Listen("rating"))

    def _answer_window(self, prompt: str) -> float:
        return estimate_speech_seconds(prompt) + self.settings.answer_seconds

    def _dialogue_timeout(self, at: float) -> None:
        dialogue = self.dialogue
        assert dialogue is not None
        if self.state is State.CONFIRM and dialogue.candidate is not None:
            self._accept(dialogue.candidate, dialogue.candidate_source, dialogue.deadline, confirmed="auto")
        elif dialogue.asked < 2:
            dialogue.asked += 1
            text = self.locale.say("pain_reask")
            self._say(text, dialogue.deadline, "prompt", INSTRUCTION, dialogue.exercise)
            dialogue.deadline += self._answer_window(text)
        else:
            when = dialogue.deadline
            self._record(RatingRecorded(when, None, "no-answer", "none", dialogue.moment, dialogue.exercise))
            self.ratings.setdefault(dialogue.moment, None)
            self._say(self.locale.say("pain_no_answer"), when, "prompt", INSTRUCTION, dialogue.exercise)
            self._after_dialogue(when + ACK_GAP)

    def _rating(self, value: int, source: str, at: float) -> None:
        if self.state in (State.IDLE, State.RESUME_OFFER, State.ENDED) or not 0 <= value <= 10:
            return
        if self.state not in (State.PAIN_CHECK, State.CONFIRM):
            was_paused = self.state is State.PAUSED
            if not was_paused:
                self.return_to = self.state
                self.paused_offset = at - self.block_start
            self.dialogue = Dialogue(
                "unprompted",
                self._exercise_id(),
                at,
                was_paused=was_paused,
                return_state=self.return_to,
                return_offset=self.paused_offset,
            )
        dialogue = self.dialogue
        assert dialogue is not None
        if source in CONFIRMED_SOURCES:
            self._confirm(dialogue, value, source, at)
        else:
            self._accept(value, source, at, confirmed="direct")

    def _confirm(self, dialogue: Dialogue, value: int, source: str, at: float) -> None:
        """Read a heard rating back: "I heard six, say yes" (silence accepts it)."""
        dialogue.candidate, dialogue.candidate_source = value, source
        text = self.locale.say("confirm_rating", n=value)
        dialogue.deadline = at + estimate_speech_seconds(text) + self.settings.auto_accept_seconds
        self._say(text, at, "prompt", INSTRUCTION, dialogue.exercise)
        self._set_state(State.CONFIRM, at)
        self._out.append(Listen("confirm"))

    def _ask_again(self, dialogue: Dialogue, at: float) -> None:
        """ "Tell me the number again": the read-back was wrong, or a pause cut the question."""
        dialogue.candidate = None
        text = self.locale.say("rating_again")
        dialogue.asked = 1
        dialogue.deadline = at + self._answer_window(text)
        self._set_state(State.PAIN_CHECK, at)
        self._say(text, at, "prompt", INSTRUCTION, dialogue.exercise)
        self._out.append(Listen("rating"))

    def _accept(self, value: int, source: str, at: float, confirmed: str) -> None:
        dialogue = self.dialogue
        assert dialogue is not None
        self._record(RatingRecorded(at, value, "answered", source, dialogue.moment, dialogue.exercise, confirmed))
        self._say(self.locale.say("rating_ack", n=value), at, "prompt", "cue", dialogue.exercise)
        if dialogue.moment != "unprompted":
            self.ratings[dialogue.moment] = value
        self.ratings["last"] = value
        first = self.first_rating
        if first is None:
            self.first_rating = value
        in_exercise = dialogue.return_state is State.EXERCISE  # an unprompted rating that cut an exercise
        decision = evaluate(value, first, self.settings.rules, in_exercise)
        resume_at = at + ACK_GAP
        if decision is not None:
            phrase = self.locale.say(decision.phrase, n=value, limit=decision.limit, first=decision.first)
            self._record(SafetyFired(at, decision.rule, decision.action, decision.reason, value))
            self._say(phrase, resume_at, "safety", INSTRUCTION, dialogue.exercise)
            resume_at += estimate_speech_seconds(phrase) + 1.0
            if decision.action == END_SESSION:
                # At the closing check nothing is left to stop: the session did complete.
                self._finish("stopped-for-pain" if self._exercises_left() else "completed", resume_at)
                return
            if decision.action == STOP_EXERCISE and self.block is not None:
                self._exercise_result(self.block, "stopped-for-pain", self.block_start + dialogue.return_offset)
                self.dialogue = None
                self._start_step(self.step_index + 1, resume_at)
                return
            assert decision.action == CAUTION
        self._after_dialogue(resume_at)

    def _after_dialogue(self, at: float) -> None:
        dialogue = self.dialogue
        self.dialogue = None
        if dialogue is not None and dialogue.moment == "unprompted":
            assert dialogue.return_state is not None
            self.return_to, self.paused_offset = dialogue.return_state, dialogue.return_offset
            if dialogue.was_paused:
                self._set_state(State.PAUSED, at)
            else:
                self._resume_block(at, announce=False)
        else:
            self._start_step(self.step_index + 1, at)

    def _reopen(self, dialogue: Dialogue, at: float) -> None:
        """Ask again, after a pause, what the dialogue was waiting for."""
        if dialogue.candidate is not None:
            self._confirm(dialogue, dialogue.candidate, dialogue.candidate_source, at)
        elif dialogue.moment == "unprompted":
            self._ask_again(dialogue, at)
        else:
            self._ask(dialogue.moment, dialogue.exercise, at)

    def _cmd_wait(self, at: float) -> None:
        """Someone is part-way through answering (counting button presses): give them time."""
        dialogue = self.dialogue
        if self.state in (State.PAIN_CHECK, State.CONFIRM) and dialogue is not None:
            dialogue.deadline = max(dialogue.deadline, at + self.settings.answer_seconds)
