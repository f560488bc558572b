"""The commands that redirect a session: pause and resume, next, repeat, stop, help and wait.

The base of :class:`coach.core.session.Session` (on top of :class:`~coach.core.outbox.Outbox`), kept apart so
that the session's module holds how a session moves through its script, and this one how a person steers it.
A heard rating that waits for "yes" is never lost to these: it is read back after "next", "repeat" or help,
and "stop" records it as heard and unconfirmed (:meth:`PainDialogue.unconfirmed`). The session provides the
steps these go on with (:meth:`_start_step`, :meth:`_start_block`, :meth:`_follow`, :meth:`_finish`,
:meth:`_end`, :meth:`_exercise_result`). Pure: no I/O, no clock.
"""

from __future__ import annotations

from coach.core.messages import Say
from coach.core.outbox import Outbox
from coach.core.pain_dialogue import PainDialogue, Reply
from coach.core.records import Paused, Record, Repeated, Resumed, Stopped
from coach.core.script import INSTRUCTION, Block, Script
from coach.core.states import ACK_GAP, RESUME_LEAD, SessionSettings, State
from coach.spec.locale import Locale
from coach.spec.routine import estimate_speech_seconds

DIALOGUE = (State.PAIN_CHECK, State.CONFIRM)
"""The states in which the pain dialogue is talking."""


class Redirects(Outbox):
    """How "pause", "resume", "next", "repeat", "stop", help and "wait" steer the session."""

    script: Script
    locale: Locale
    settings: SessionSettings
    pain: PainDialogue
    block: Block | None
    block_start: float
    step_index: int
    return_to: State
    """State to go back to after a pause, an unprompted rating or a symptom's question."""
    paused_offset: float
    held_paused: bool
    """The person had paused when a symptom's question cut in: a "no" goes back to the pause."""

    # --- what the session provides ----------------------------------------------------------

    def _start_step(self, index: int, at: float) -> None:
        raise NotImplementedError

    def _start_block(self, block: Block, at: float, state: State, from_offset: float = 0.0) -> None:
        raise NotImplementedError

    def _follow(self, reply: Reply) -> None:
        raise NotImplementedError

    def _finish(self, status: str, at: float, lead: list[str] | None = None) -> None:
        raise NotImplementedError

    def _end(self, at: float, status: str) -> None:
        raise NotImplementedError

    def _exercise_result(self, block: Block, status: str, at: float) -> None:
        raise NotImplementedError

    def _exercise_id(self) -> str | None:
        block = self.block
        return block.name if block is not None and block.exercise_index is not None else None

    # --- the commands -----------------------------------------------------------------------

    def _cmd_pause(self, at: float) -> None:
        if self.state in (State.INTRO, State.EXERCISE, State.PAIN_CHECK, State.CONFIRM):
            self._hold(at)
            self._record(Paused(at, self.state.value, self._exercise_id()))
            self._say(self.locale.say("paused"), at, "pause", INSTRUCTION, self._exercise_id())
            self._set_state(State.PAUSED, at)

    def _hold(self, at: float) -> None:
        """Keep where the session is (a pause, a symptom's question) to come back to it; a pause keeps its own."""
        if self.state in (State.INTRO, State.EXERCISE, State.PAIN_CHECK, State.CONFIRM, State.FEEDBACK):
            self.return_to, self.paused_offset = self.state, at - self.block_start
        self.held_paused = self.state is State.PAUSED
        self._drop_agenda()

    def _cmd_resume(self, at: float) -> None:
        if self.state is State.PAUSED:
            self._record(Resumed(at, self._exercise_id()))
            self._continue(at, announce=True)

    def _continue(self, at: float, announce: bool) -> None:
        """Go back to what a pause or a symptom's question held (:meth:`_hold`)."""
        if self.return_to is State.FEEDBACK:  # the question after an exercise is let go: on with what follows
            self._start_step(self.step_index + 1, at)
        elif self.return_to in DIALOGUE and self.pain.current is not None:
            if announce:
                self._say(self.locale.say("resumed"), at, "pause", "cue")
            self._follow(self.pain.reopen(at + 1.5))
        else:
            self._resume_block(at, announce=announce)

    def _resume_block(self, at: float, announce: bool) -> None:
        """Continue the block from the start of the repetition that was interrupted."""
        block = self.block
        assert block is not None
        restart = block.restart_before(self.paused_offset)
        if announce:
            self._say(self.locale.say("resumed"), at, "pause", "cue", self._exercise_id())
        self._start_block(block, at + RESUME_LEAD, self.return_to, from_offset=restart.offset)

    def _cmd_next(self, at: float) -> None:
        if self.state in (State.IDLE, State.RESUME_OFFER, State.SCREEN, State.SUMMARY):
            return
        state = self.return_to if self.state is State.PAUSED else self.state
        if state in DIALOGUE and self.pain.pending:  # the heard rating is not dropped: asked first, then on
            self._end_exercise(at, "skipped")
            self._drop_agenda()
            self._say(self.locale.say("skipped"), at, "skip", "cue", self._exercise_id())
            self.pain.go_on(self.step_index + 1, exercise_over=True)
            self._follow(self.pain.reopen(at + ACK_GAP))
            return
        if state in DIALOGUE and (skipped := self.pain.skipped(at)) is not None:
            self._record(skipped)
        self._end_exercise(at, "skipped")
        self._drop_agenda()
        self._say(self.locale.say("skipped"), at, "skip", "cue", self._exercise_id())
        self.pain.drop()
        self._start_step(self.step_index + 1, at + ACK_GAP)

    def _cmd_repeat(self, at: float) -> None:
        if self.state in (State.IDLE, State.RESUME_OFFER, State.SCREEN, State.SUMMARY):
            return
        index = self.step_index
        while index >= 0 and not isinstance(self.script.steps[index], Block):
            index -= 1
        step = self.script.steps[max(index, 0)]
        assert isinstance(step, Block)
        self._drop_agenda()
        self._record(Repeated(at, step.name))
        self._say(self.locale.say("repeating", name=step.title), at, "repeat", "cue", step.name)
        if self.pain.pending:  # the heard rating is asked again first; the block starts once it is settled
            self.pain.go_on(max(index, 0), exercise_over=False)
            self._follow(self.pain.reopen(at + ACK_GAP))
            return
        self.pain.drop()
        self.step_index = max(index, 0)
        self._start_block(step, at + ACK_GAP, State.INTRO if step.exercise_index is None else State.EXERCISE)

    def _stop(self, at: float, status: str) -> None:
        """End now, with the summary: "stop", or ``abandon`` (nobody has answered for a long time)."""
        if self.state in (State.IDLE, State.RESUME_OFFER):
            self._end(at, status)
            return
        if self.state is State.SUMMARY:
            return
        self._end_exercise(at, "stopped")
        self._drop_agenda()
        kept = self._keep_unconfirmed(at)
        self._record(Stopped(at, self._exercise_id(), status))
        self._finish(status, at, [self.locale.say("stopped"), *kept])

    def _keep_unconfirmed(self, at: float) -> list[str]:
        """Record a heard rating still waiting for "yes" as heard and unconfirmed (never lost when the session
        ends: "stop", a red flag); return what to say of it (the caution of a high one), for the summary."""
        kept = self.pain.unconfirmed(at).actions
        self._out += [action for action in kept if isinstance(action, Record)]
        return [action.text for action in kept if isinstance(action, Say)]

    def _end_exercise(self, at: float, status: str) -> None:
        """Record the result of an exercise that "next" or "stop" ends, if one is under way: under a
        pause and an unprompted rating, where the exercise really was when they cut it."""
        if self.state in (State.PAUSED, State.SCREEN):
            state, offset = self.return_to, self.paused_offset
        else:
            state, offset = self.state, at - self.block_start
        cut = self.pain.return_point() if state in DIALOGUE else None
        state, offset = cut if cut is not None else (state, offset)
        if state is State.EXERCISE and self.block is not None:
            self._exercise_result(self.block, status, self.block_start + offset)

    def _cmd_help(self, at: float) -> None:
        text = self.locale.say("help")
        self._say(text, at, "help", INSTRUCTION, self._exercise_id())
        if self.state is State.CONFIRM:  # the heard rating waits: read it back again after the help
            self._follow(self.pain.reopen(at + estimate_speech_seconds(text) + 0.5))

    def _cmd_wait(self, at: float) -> None:
        """Someone is part-way through answering (counting button presses): give them time."""
        if self.state in DIALOGUE:
            self.pain.wait(at)
