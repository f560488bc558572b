"""The pain dialogue: asking for a rating from 0 to 10, reading a heard one back, and what it leads to.

The session owns one (``Session.pain``). It is kept apart because it is the one part with a
conversation of its own: a prompt, a re-ask, "I heard six, say yes", silence that accepts, a pause
in the middle, and the safety rules that decide what a rating does to the rest of the session.

It knows nothing of the session's timeline. Every call returns a :class:`Reply`: the things to say,
record and listen for, and the states to enter, in order; and, when the dialogue is over, an
:data:`Outcome` (go on with the script, go back to the block the rating cut, stop this exercise, end
the session) that the session acts on. The session decides *when* to call it (it alone reads its
states); the dialogue decides what is said and what a rating means. Pure: no I/O, no clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from coach.core.messages import CONFIRMED_SOURCES, Listen, Say
from coach.core.records import UNCONFIRMED, RatingRecorded, Record, SafetyFired
from coach.core.safety import CAUTION, END_SESSION, REGRESS, STOP_EXERCISE, evaluate
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
    """A heard rating being read back ("I heard six, say yes"); ``None`` while asking."""
    candidate_source: str = ""
    was_paused: bool = False
    """An unprompted rating given while paused returns to the pause."""
    return_state: State | None = None
    return_offset: float = 0.0
    """Where an unprompted rating given during a block returns to. The dialogue owns this (a
    pause inside the dialogue moves the session's own bookmark); whatever asks which block the
    rating cut (the safety rule, stop, next, the return itself) reads it here."""
    easier: Block | None = None
    """The easier form of the exercise the rating cut, if it has one not yet in use: a rule that would
    stop the exercise switches to it instead ("stop or regress", shared/PROTOCOL.md)."""
    then_step: int | None = None
    """A command ("next", "repeat") came while a heard rating waited for "yes": the script step it
    goes on with once the rating is settled, unless a rule stops the exercise or ends the session."""


# --- what the dialogue hands back ---------------------------------------------------------------


@dataclass(frozen=True)
class Enter:
    """Move the session to ``state`` (a prompt enters ``PAIN_CHECK``, a read-back ``CONFIRM``)."""

    state: State
    at: float


@dataclass(frozen=True)
class NextStep:
    """A prompted check is over: the script goes on with its next step at ``at``."""

    at: float


@dataclass(frozen=True)
class BackToBlock:
    """An unprompted rating is over: back to the block it cut, from where it cut it, or to the pause."""

    at: float
    state: State
    offset: float
    """Seconds into the block when the rating (or the pause before it) came."""
    paused: bool


@dataclass(frozen=True)
class StopExercise:
    """A safety rule stopped the exercise the rating cut, ``offset`` seconds in; the script goes on at ``at``."""

    at: float
    offset: float


@dataclass(frozen=True)
class Regress:
    """A safety rule would stop the exercise the rating cut: its easier form ``block`` starts at ``at`` instead,
    for the rest of the exercise (from the side under way: :meth:`Block.easier_for`)."""

    at: float
    block: Block


@dataclass(frozen=True)
class EndSession:
    """A safety rule ends the session at ``at`` (the summary follows)."""

    at: float
    cut_exercise: bool
    """The rating cut an exercise: something was left unfinished, even at the closing check."""


@dataclass(frozen=True)
class GoTo:
    """The rating is settled: the script goes on at ``step`` (the one "next" or "repeat" chose while it waited)."""

    at: float
    step: int


Outcome = NextStep | BackToBlock | StopExercise | Regress | EndSession | GoTo
"""What the session does once the dialogue is over."""


@dataclass
class Reply:
    """What the dialogue asks of the session, in order; ``then`` is set when the dialogue is over."""

    actions: list[Say | Record | Listen | Enter] = field(default_factory=list)
    then: Outcome | None = None


class PainDialogue:
    """The pain ratings of one session: the one being asked for, and those already given."""

    def __init__(self, locale: Locale, settings: SessionSettings) -> None:
        self.locale = locale
        self.settings = settings
        self.current: Dialogue | None = None
        """The rating being asked for or confirmed, if any (kept across a pause)."""
        self.ratings: dict[str, int | None] = {}
        """Rating by moment (``before``, ``exercise``, ``after``; ``None``: no answer), and the ``last`` one."""
        self.first_rating: int | None = None
        """The session's first rating: the rise rule measures from it."""

    # --- what the session asks --------------------------------------------------------------

    def ask(self, moment: str, exercise: str | None, at: float) -> Reply:
        """Start a prompted check: "How is your pain now, from 0 to 10?"."""
        prompt = self.locale.say(f"pain_prompt_{moment}")
        self.current = Dialogue(moment, exercise, at + self._answer_window(prompt))
        return Reply([self._say(prompt, at), Enter(State.PAIN_CHECK, at), Listen("rating")])

    def cut_in(
        self, exercise: str | None, at: float, state: State, offset: float, paused: bool, block: Block | None = None
    ) -> None:
        """A rating nobody asked for came during a block (or a pause): it cut ``state`` at ``offset``
        (into ``block``, whose easier form from there a rating above the stop threshold switches to)."""
        easier = block.easier_for(offset) if block is not None else None
        self.current = Dialogue(
            "unprompted", exercise, at, was_paused=paused, return_state=state, return_offset=offset, easier=easier
        )

    def rating(self, value: int, source: str, at: float) -> Reply:
        """A rating (0-10) for the current dialogue: a heard one is read back, any other counts at once."""
        dialogue = self._open()
        if source in CONFIRMED_SOURCES:
            return self._confirm(dialogue, value, source, at)
        return self._accept(value, source, at, confirmed="direct")

    def timeout(self) -> Reply:
        """The deadline passed: silence accepts a read-back, else ask once more, else go on without."""
        dialogue = self._open()
        if dialogue.candidate is not None:
            return self._accept(dialogue.candidate, dialogue.candidate_source, dialogue.deadline, confirmed="auto")
        if dialogue.asked < 2:
            dialogue.asked += 1
            text = self.locale.say("pain_reask")
            reply = Reply([self._say(text, dialogue.deadline)])
            dialogue.deadline += self._answer_window(text)
            return reply
        when = dialogue.deadline
        self.ratings.setdefault(dialogue.moment, None)
        recorded = RatingRecorded(when, None, "no-answer", "none", dialogue.moment, dialogue.exercise)
        reply = Reply([recorded, self._say(self.locale.say("pain_no_answer"), when)])
        reply.then = self._over(when + ACK_GAP)
        return reply

    def yes(self, at: float) -> Reply:
        """The read-back was right."""
        dialogue = self.current
        if dialogue is None or dialogue.candidate is None:
            return Reply()
        return self._accept(dialogue.candidate, dialogue.candidate_source, at, confirmed="yes")

    def no(self, at: float) -> Reply:
        """The read-back was wrong: "tell me the number again"."""
        return self._ask_again(self.current, at) if self.current is not None else Reply()

    def wait(self, at: float) -> None:
        """Someone is part-way through answering (counting button presses): give them time."""
        if self.current is not None:
            self.current.deadline = max(self.current.deadline, at + self.settings.answer_seconds)

    def reopen(self, at: float) -> Reply:
        """Ask again, after a pause, what the dialogue was waiting for."""
        dialogue = self._open()
        if dialogue.candidate is not None:
            return self._confirm(dialogue, dialogue.candidate, dialogue.candidate_source, at)
        if dialogue.moment == "unprompted":
            return self._ask_again(dialogue, at)
        return self.ask(dialogue.moment, dialogue.exercise, at)

    @property
    def pending(self) -> bool:
        """Whether a heard rating waits for "yes" (it is read back, or will be when a pause ends)."""
        return self.current is not None and self.current.candidate is not None

    def go_on(self, step: int, exercise_over: bool) -> None:
        """A command came while a heard rating waited: it is read back first, then the script goes on at ``step``.

        ``exercise_over``: "next" already ended the exercise the rating cut, so no rule can stop it (a
        rating above the limit is a caution; one that ends the session still ends it). After "repeat"
        a rule may still stop the exercise, and then it is not repeated.
        """
        if self.current is not None:
            self.current.then_step = step
            if exercise_over:
                self.current.return_state, self.current.was_paused = None, False

    def unconfirmed(self, at: float) -> Reply:
        """The session ends ("stop", an abort) while a heard rating waits for "yes": it is not lost.

        It is recorded as heard and unconfirmed (``confirmed`` is ``unconfirmed``). Not confirmed, it
        decides nothing: it is not a rating the summary or the rise rule counts, and no rule stops or
        ends anything on it (the session is ending anyway). But a high one is not ignored: when it is
        above ``stop_exercise_above``, the caution rule fires on it, a ``safety`` record (the rule it
        would have triggered, action ``caution``) and the spoken caution.
        """
        dialogue, self.current = self.current, None
        if dialogue is None or dialogue.candidate is None:
            return Reply()
        value, rules = dialogue.candidate, self.settings.rules
        moment, exercise = dialogue.moment, dialogue.exercise
        reply = Reply([RatingRecorded(at, value, "answered", dialogue.candidate_source, moment, exercise, UNCONFIRMED)])
        decision = evaluate(value, self.first_rating, rules, in_exercise=False)
        if decision is not None and value > rules.stop_exercise_above:
            caution = self.locale.say("safety_caution", n=value, limit=rules.stop_exercise_above)
            fired = SafetyFired(at, decision.rule, CAUTION, f"{decision.reason}; heard, not confirmed", value)
            reply.actions += [fired, Say(caution, at, "safety", INSTRUCTION, exercise)]
        return reply

    def skipped(self, at: float) -> RatingRecorded | None:
        """The record of a rating skipped by "next" (the session then drops the dialogue)."""
        dialogue = self.current
        return None if dialogue is None else RatingRecorded(at, None, "skipped", "command", dialogue.moment, dialogue.exercise)

    def return_point(self) -> tuple[State, float] | None:
        """Where the current unprompted rating cut in: the block state and the offset into the block."""
        dialogue = self.current
        if dialogue is None or dialogue.return_state is None:
            return None
        return dialogue.return_state, dialogue.return_offset

    def drop(self) -> None:
        """Forget the rating being asked for ("next", "repeat", the end)."""
        self.current = None

    def summary(self) -> list[str]:
        """What the closing summary says of pain: before and after, or the last rating, or nothing."""
        before, after, last = self.ratings.get("before"), self.ratings.get("after"), self.ratings.get("last")
        if before is not None and after is not None:
            return [self.locale.say("summary_pain", before=before, after=after)]
        return [self.locale.say("summary_pain_one", n=last)] if last is not None else []

    def phrases(self, changes: set[str] | None = None) -> set[str]:
        """Everything the dialogue may say, but a before-and-after summary (for a speech cache);
        ``changes``: what the script's easier forms change (said when a rating switches to one)."""
        say, rules = self.locale.say, self.settings.rules
        texts = {say(key) for key in ("pain_reask", "pain_no_answer", "rating_again")}
        texts |= {say(f"pain_prompt_{moment}") for moment in ("before", "exercise", "after")}
        for n in range(11):
            texts |= {say("confirm_rating", n=n), say("rating_ack", n=n), say("summary_pain_one", n=n)}
            texts.add(say("safety_stop_exercise", n=n, limit=rules.stop_exercise_above))
            texts.add(say("safety_caution", n=n, limit=rules.stop_exercise_above))
            texts.add(say("safety_end_high", n=n, limit=rules.end_session_at))
            texts |= {say("safety_regress", n=n, limit=rules.stop_exercise_above, changes=c) for c in changes or ()}
        return texts

    # --- the conversation -------------------------------------------------------------------

    def _open(self) -> Dialogue:
        assert self.current is not None, "no pain rating is being asked for"
        return self.current

    def _answer_window(self, prompt: str) -> float:
        return estimate_speech_seconds(prompt) + self.settings.answer_seconds

    def _say(self, text: str, at: float, phase: str = "prompt", kind: str = INSTRUCTION) -> Say:
        """Something said in this dialogue (a prompt, unless told otherwise), about its exercise."""
        return Say(text, at, phase, kind, self._open().exercise)

    def _confirm(self, dialogue: Dialogue, value: int, source: str, at: float) -> Reply:
        """Read a heard rating back: "I heard six, say yes" (silence accepts it)."""
        dialogue.candidate, dialogue.candidate_source = value, source
        text = self.locale.say("confirm_rating", n=value)
        dialogue.deadline = at + estimate_speech_seconds(text) + self.settings.auto_accept_seconds
        return Reply([self._say(text, at), Enter(State.CONFIRM, at), Listen("confirm")])

    def _ask_again(self, dialogue: Dialogue, at: float) -> Reply:
        """ "Tell me the number again": the read-back was wrong, or a pause cut the question."""
        dialogue.candidate = None
        text = self.locale.say("rating_again")
        dialogue.asked = 1
        dialogue.deadline = at + self._answer_window(text)
        return Reply([Enter(State.PAIN_CHECK, at), self._say(text, at), Listen("rating")])

    def _accept(self, value: int, source: str, at: float, confirmed: str) -> Reply:
        """The rating counts: record it, say "got it", and let the safety rules decide what it does."""
        dialogue = self._open()
        recorded = RatingRecorded(at, value, "answered", source, dialogue.moment, dialogue.exercise, confirmed)
        reply = Reply([recorded, self._say(self.locale.say("rating_ack", n=value), at, kind="cue")])
        if dialogue.moment != "unprompted":
            self.ratings[dialogue.moment] = value
        self.ratings["last"] = value
        first = self.first_rating
        if first is None:
            self.first_rating = value
        in_exercise = dialogue.return_state is State.EXERCISE  # an unprompted rating that cut an exercise
        decision = evaluate(value, first, self.settings.rules, in_exercise)
        resume_at = at + ACK_GAP
        easier = dialogue.easier if decision is not None and decision.action == STOP_EXERCISE else None
        if decision is not None:
            key, action = ("safety_regress", REGRESS) if easier is not None else (decision.phrase, decision.action)
            changes = easier.changes if easier is not None else ""
            phrase = self.locale.say(key, n=value, limit=decision.limit, first=decision.first, changes=changes)
            reason = decision.reason + ("; the easier form follows" if easier is not None else "")
            fired = SafetyFired(at, decision.rule, action, reason, value)
            reply.actions += [fired, self._say(phrase, resume_at, phase="safety")]
            resume_at += estimate_speech_seconds(phrase) + 1.0
            if decision.action == END_SESSION:
                self.current = None
                reply.then = EndSession(resume_at, cut_exercise=in_exercise)
                return reply
            if decision.action == STOP_EXERCISE:  # only ever in an exercise (``in_exercise``)
                self.current = None
                stop = StopExercise(resume_at, dialogue.return_offset)
                reply.then = Regress(resume_at, easier) if easier is not None else stop
                return reply
            assert decision.action == CAUTION
        reply.then = self._over(resume_at)
        return reply

    def _over(self, at: float) -> Outcome:
        """The dialogue is done and nothing stopped: back to where an unprompted rating cut in, or on."""
        dialogue, self.current = self._open(), None
        if dialogue.then_step is not None:
            return GoTo(at, dialogue.then_step)
        if dialogue.moment == "unprompted":
            assert dialogue.return_state is not None
            return BackToBlock(at, dialogue.return_state, dialogue.return_offset, dialogue.was_paused)
        return NextStep(at)
