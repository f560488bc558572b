"""The session: a pure state machine from events to actions.

It never sleeps, never reads the time and never touches hardware. The runner asks it for
:meth:`Session.next_deadline`, sends a :class:`~coach.core.messages.Tick` when that time comes (or an
input event sooner), and performs the actions it returns, in order. Order matters: a rating's
:class:`~coach.core.messages.Record` always comes before the "got it" that acknowledges it, so nothing
acknowledged is ever lost.

Timing: each block (the introduction, an exercise) is placed on the session timeline when it
starts; its cues are due at ``block_start + offset`` and the next block starts exactly at
``block_start + duration``. A late tick never shifts later cues, so speaking time never drifts.

Parts: the pain ratings are a :class:`~coach.core.pain_dialogue.PainDialogue` the session owns (``pain``): the
session calls it, and does what it hands back (:meth:`Session._follow`); the red-flag screen and symptom words are a
:class:`~coach.core.screen.Screen` (``screen``), followed the same way (:meth:`Session._screened`). What a summary
counts is :class:`~coach.core.states.Progress`; commands go through one table. A heard rating that waits for "yes"
is never lost to a command: it is read back after "next", "repeat" or help, and "stop" (or an abort) records it as
heard and unconfirmed (:meth:`PainDialogue.unconfirmed`).
"""

from __future__ import annotations

from collections.abc import Callable

from coach.core.feedback import FeedbackDialogue, FeedbackReply
from coach.core.messages import Action, Answer, Command, CommandName, End, Event, Listen, Rating, Say, Symptom, Tick
from coach.core.opening import Opening, offer_prompt, opening
from coach.core.outbox import summary_block
from coach.core.pain_dialogue import BackToBlock, EndSession, GoTo, NextStep, PainDialogue, Regress, Reply, StopExercise
from coach.core.phrases import session_phrases
from coach.core.records import ExerciseResult, Record, SessionEnded
from coach.core.redirects import DIALOGUE, Redirects
from coach.core.screen import Clear, RedFlag, Screen, ScreenReply, StopGlide
from coach.core.script import CHECK, FEEDBACK_MOMENT, INSTRUCTION, Block, Cue, PainCheck, Script
from coach.core.states import ACK_GAP, RESUME_LEAD, Progress, ResumeOffer, SessionSettings, State
from coach.spec.locale import Locale
from coach.spec.routine import RestBreak

__all__ = ["ACK_GAP", "RESUME_LEAD", "ResumeOffer", "Session", "SessionSettings", "State"]


class Session(Redirects):
    """One run of a script, from idle to end; the pain ratings are its :class:`PainDialogue` (``pain``)."""

    def __init__(self, script: Script, locale: Locale, settings: SessionSettings | None = None,
                 resume: ResumeOffer | None = None, screen: bool = False, day: str | None = None) -> None:  # fmt: skip
        super().__init__()
        self.script = script
        self.locale = locale
        self.settings = settings or SessionSettings()
        self.resume = resume if resume is not None and resume.step(script) is not None else None
        """Offered at start; the person says yes, or no (or nothing) to start from the beginning."""
        self.offer_deadline = 0.0
        self.progress = Progress(script.routine.exercises)
        self.step_index = -1
        self.block: Block | None = None
        self.block_start = 0.0
        self.next_cue = 0
        self.pain = PainDialogue(self.locale, self.settings)
        self.feedback = FeedbackDialogue(self.locale, self.settings.answer_seconds)
        """ "Too easy, just right, or too hard?" after each exercise, when the routine asks it (a programme's)."""
        self.screen = Screen(self.locale, self.settings, screen, day)
        """The red-flag questions (``screen``: asked before the first exercise) and the symptom question."""
        self.opening: tuple[Opening, float] | None = None
        self.return_to: State = State.IDLE
        """State to go back to after a pause or an unprompted rating."""
        self.paused_offset = 0.0
        self.held_paused = False
        self.checked: set[tuple[str, str | None]] = set()
        """The side checks already asked (exercise, side): a pause or a "no" that goes back to one goes on past it."""
        self.end_status = ""
        self._commands: dict[CommandName, Callable[[float], None]] = {
            CommandName.START: self._cmd_start,
            CommandName.PAUSE: self._cmd_pause,
            CommandName.RESUME: self._cmd_resume,
            CommandName.NEXT: self._cmd_next,
            CommandName.REPEAT: self._cmd_repeat,
            CommandName.STOP: lambda at: self._stop(at, "stopped"),
            CommandName.HELP: self._cmd_help,
            CommandName.YES: self._cmd_yes,
            CommandName.NO: self._cmd_no,
            CommandName.WAIT: self._cmd_wait,
            CommandName.ABANDON: lambda at: self._stop(at, "abandoned"),  # a kiosk's "walked away": end cleanly
        }
        """What each command does: one handler per :class:`CommandName` (a test checks none is missing)."""

    # --- the interface the runner uses ------------------------------------------------------

    def next_deadline(self) -> float | None:
        """Session time of the next thing due, or ``None`` when only an input can move things on."""
        own = self._own_deadline()
        if self.agenda:
            return self.agenda[0].due if own is None else min(own, self.agenda[0].due)
        return own

    def _own_deadline(self) -> float | None:
        if self.state in (State.INTRO, State.EXERCISE, State.SUMMARY) and self.block is not None:
            if self.next_cue < len(self.block.cues):
                return self._due(self.block.cues[self.next_cue])
            return self.block_start + self.block.duration
        if self.state in DIALOGUE and self.pain.current is not None:
            return self.pain.current.deadline
        if self.state is State.RESUME_OFFER:
            return self.offer_deadline
        if self.state is State.FEEDBACK:
            return self.feedback.deadline
        return self.screen.deadline if self.state is State.SCREEN else None

    def handle(self, event: Event) -> list[Action]:
        """Feed one event; return the actions to perform, in order."""
        self._out = []
        if self.state is State.ENDED:
            return []
        self.now = max(self.now, event.at)
        if isinstance(event, Tick):
            self._tick(event.at)
        elif isinstance(event, Command):
            self._commands[CommandName(event.name)](event.at)
        elif isinstance(event, Rating):
            self._rating(event.value, event.source, event.at)
        elif isinstance(event, Symptom) and self.state not in (State.IDLE, State.RESUME_OFFER, State.SUMMARY):
            self._hold(event.at)
            self._screened(self.screen.symptom_heard(event.kind, event.at))
        elif isinstance(event, Answer) and self.state is State.FEEDBACK:
            self._fed(self.feedback.answer(event.value, event.source, event.at))
        return self._out

    @property
    def ended(self) -> bool:
        return self.state is State.ENDED

    def phrases(self, every_resume: bool = False) -> set[str]:
        """Everything this session may say that can be known in advance (for a speech cache)."""
        phrases = session_phrases(self.script, self.locale, self.pain, self.resume, every_resume) | self.screen.phrases()
        if self.script.routine.feedback:
            phrases |= self.feedback.phrases([e.name for e in self.script.routine.exercises])
        return phrases

    # --- time -------------------------------------------------------------------------------

    def _tick(self, at: float) -> None:
        while self.agenda and self.agenda[0].due <= at:
            self._out.append(self.agenda.pop(0))
        own = self._own_deadline()
        if own is None or own > at:
            return
        if self.state in (State.INTRO, State.EXERCISE, State.SUMMARY):
            self._play_due_cues(at)
        elif self.state in DIALOGUE:
            self._follow(self.pain.timeout())
        elif self.state is State.RESUME_OFFER:
            self._begin(at, resume=False)
        elif self.state is State.SCREEN:
            self._screened(self.screen.timeout())
        elif self.state is State.FEEDBACK:
            self._fed(self.feedback.timeout())

    def _play_due_cues(self, at: float) -> None:
        block = self.block
        assert block is not None
        while self.next_cue < len(block.cues) and self._due(block.cues[self.next_cue]) <= at:
            cue = block.cues[self.next_cue]
            self.next_cue += 1
            if cue.kind == CHECK:  # a question, not a cue: the block waits for its answer (asked once a session)
                if (block.name, cue.side) not in self.checked:
                    self.checked.add((block.name, cue.side))
                    self._hold(self._due(cue))
                    self._screened(self.screen.side_check(self._due(cue)))
                    return
                continue
            self._say_cue(cue)
        end = self.block_start + block.duration
        if self.next_cue >= len(block.cues) and end <= at:
            self._block_finished(end)

    def _due(self, cue: Cue) -> float:
        return self.block_start + cue.offset

    def _say_cue(self, cue: Cue) -> None:
        block = self.block
        assert block is not None
        exercise = block.name if block.exercise_index is not None else None
        self._speak(Say(cue.text, self._due(cue), cue.phase, cue.kind, exercise, cue.rep, cue.side))

    def _block_finished(self, end: float) -> None:
        block = self.block
        assert block is not None
        if self.state is State.SUMMARY:
            self._end(end, self.end_status)
            return
        if block.exercise_index is not None:
            self._exercise_result(block, "done", end)
        self._start_step(self.step_index + 1, end)

    # --- steps ------------------------------------------------------------------------------

    def _start_step(self, index: int, at: float) -> None:
        self.step_index = index
        if index >= len(self.script.steps):
            self._finish("completed", at)
            return
        step = self.script.steps[index]
        if isinstance(step, PainCheck) and step.moment == FEEDBACK_MOMENT and step.exercise_index is not None:
            self._set_state(State.FEEDBACK, at)
            self._fed(self.feedback.ask(step.exercise or "", self.script.routine.exercises[step.exercise_index].name, at))
        elif isinstance(step, PainCheck):
            self._follow(self.pain.ask(step.moment, step.exercise, at))
        else:
            state = State.INTRO if step.exercise_index is None else State.EXERCISE
            self._start_block(step, at, state)

    def _start_block(self, block: Block, at: float, state: State, from_offset: float = 0.0) -> None:
        self.block = block
        self.block_start = at - from_offset
        self.next_cue = next((i for i, c in enumerate(block.cues) if c.offset >= from_offset - 1e-9), len(block.cues))
        self._set_state(state, at)
        self._out.append(Listen("command"))

    def _finish(self, status: str, at: float, lead: list[str] | None = None) -> None:
        """Say the summary, then end with ``status``."""
        self.end_status = status
        texts = list(lead or [])
        done, total = self.progress.tally()
        if status == "completed":
            texts.append(self.locale.say("summary_done", done=done, total=total))
        texts += [*self.pain.summary(), self.locale.say("goodbye")]
        self.pain.drop()
        self._start_block(summary_block(texts), at, State.SUMMARY)

    def _exercise_result(self, block: Block, status: str, at: float) -> None:
        assert block.exercise_index is not None
        reps = {(p.side, p.rep) for p in block.restarts if p.rep is not None and p.offset < at - self.block_start}
        started = len(reps) + block.reps_before  # an easier form from a later side: the sides done before count
        self.progress.status[block.exercise_index] = status
        rest = isinstance(self.script.routine.exercises[block.exercise_index], RestBreak) or None
        self._record(ExerciseResult(at, block.name, block.exercise_index, status, started, rest, block.form))

    # --- the pain dialogue ------------------------------------------------------------------

    def _rating(self, value: int, source: str, at: float) -> None:
        if self.state is State.FEEDBACK and self.feedback.counts(value, source):  # 1-3 pressed or typed answers it
            self._fed(self.feedback.answer(value, source, at))
            return
        if self.state is State.FEEDBACK:  # a spoken number (or a typed 0, 4-10) is the pain: the question is let go
            self.feedback.drop()
            self.pain.cut_in(self._exercise_id(), at, State.FEEDBACK, 0.0, False)
            self._follow(self.pain.rating(value, source, at))
            return
        if self.state in (State.IDLE, State.RESUME_OFFER, State.SCREEN, State.ENDED) or not 0 <= value <= 10:
            return
        if self.state not in DIALOGUE:  # nobody asked: the rating cuts the block (or the pause) where it is
            paused = self.state is State.PAUSED
            state, offset = (self.return_to, self.paused_offset) if paused else (self.state, at - self.block_start)
            self.pain.cut_in(self._exercise_id(), at, state, offset, paused, self.block)
        elif self.state is State.CONFIRM:
            self._drop_agenda()  # a new number replaces the one read back, and a read-back still to come
        self._follow(self.pain.rating(value, source, at))

    def _follow(self, reply: Reply) -> None:
        """Do what the pain dialogue asked, in order; then, if it is over, what it decided."""
        self._perform(reply.actions)
        match reply.then:
            case NextStep(at):
                self._start_step(self.step_index + 1, at)
            case GoTo(at, step):  # "next" or "repeat" waited for the heard rating
                self._start_step(step, at)
            case BackToBlock(at, State.FEEDBACK, _, _):  # a pain said during the question after an exercise
                self._start_step(self.step_index + 1, at)
            case BackToBlock(at, state, offset, paused):
                self.return_to, self.paused_offset = state, offset
                if paused:
                    self._set_state(State.PAUSED, at)
                else:
                    self._resume_block(at, announce=False)
            case StopExercise(at, offset):
                assert self.block is not None
                self._exercise_result(self.block, "stopped-for-pain", self.block_start + offset)
                self._start_step(self.step_index + 1, at)
            case Regress(at, easier):  # the easier form, from the side under way, for the rest of the exercise
                self._start_block(easier, at, State.EXERCISE)
            case EndSession(at, cut_exercise):
                # At the closing check nothing is left to stop: the session did complete.
                left = cut_exercise or self.script.exercises_after(self.step_index)
                self._finish("stopped-for-pain" if left else "completed", at)

    # --- commands ---------------------------------------------------------------------------

    def _cmd_start(self, at: float) -> None:
        if self.state is State.IDLE and self.resume is not None:
            text, self.offer_deadline = offer_prompt(self.resume, self.script, self.locale, self.settings, at)
            self._say(text, at, "prompt", INSTRUCTION)
            self._set_state(State.RESUME_OFFER, at)
            self._out.append(Listen("confirm"))
        elif self.state is State.IDLE:
            self._begin(at, resume=False)
        elif self.state is State.RESUME_OFFER:
            self._begin(at, resume=True)
        elif self.state is State.PAUSED:
            self._cmd_resume(at)

    def _begin(self, at: float, resume: bool) -> None:
        """Record the session's start, then run it from the top or from where the last one was cut."""
        begin, self.resume = opening(self.script, self.locale, self.resume, resume, at), None
        self._record(begin.started)
        self.opening = (begin, at)  # the red-flag questions first (when on); :meth:`_opened` goes on once they are clear
        self._screened(self.screen.start(at))

    def _opened(self, begin: Opening, shift: float) -> None:
        at = begin.started.at + shift
        if begin.said is not None:
            self._say(begin.said, at, "prompt", "cue")
        self.progress.first = begin.first
        if begin.ask_before:
            self.step_index = begin.step - 1
            self._follow(self.pain.ask("before", None, begin.at + shift))
        else:
            self._start_step(begin.step, begin.at + shift)

    def _fed(self, reply: FeedbackReply) -> None:
        """Do what the feedback question asked; once it is over, go on with the next step."""
        self._perform([*reply.actions])
        if reply.over is not None:
            self._start_step(self.step_index + 1, reply.over)

    def _screened(self, reply: ScreenReply) -> None:
        """Do what the screen asked; then go on, or end with its advice (:mod:`coach.core.screen`)."""
        self._perform(reply.actions)
        match reply.then:
            case Clear(at, resume=False) if self.opening is not None:
                (begin, began), self.opening = self.opening, None
                self._opened(begin, at - began)
            case Clear(at) if self.held_paused:  # the person had paused: back to the pause, not on by itself
                self._say(self.locale.say("paused"), at, "pause", INSTRUCTION, self._exercise_id())
                self._set_state(State.PAUSED, at)
            case Clear(at):
                self._continue(at, announce=False)
            case StopGlide(at):
                self._end_exercise(self.now, "stopped")
                self._start_step(self.step_index + 1, at)
            case RedFlag(at, status, advice):
                self._end_exercise(at, "stopped")
                self._drop_agenda()
                kept = self._keep_unconfirmed(at)
                self._finish(status, at, [advice, *kept])

    def _cmd_yes(self, at: float) -> None:
        if self.state is State.SCREEN:
            self._screened(self.screen.yes(at))
        elif self.state is State.RESUME_OFFER:
            self._begin(at, resume=True)
        elif self.state is State.CONFIRM:
            self._drop_agenda()  # a read-back still to come (after "next", "repeat", help) is answered
            self._follow(self.pain.yes(at))

    def _cmd_no(self, at: float) -> None:
        if self.state is State.SCREEN:
            self._screened(self.screen.no(at))
        elif self.state is State.RESUME_OFFER:
            self._begin(at, resume=False)
        elif self.state is State.CONFIRM:
            self._drop_agenda()
            self._follow(self.pain.no(at))

    # --- helpers ----------------------------------------------------------------------------

    def abort(self, at: float, status: str) -> list[Action]:
        """End at once (Ctrl-C, a fatal fault): record the end and stop, with nothing more said."""
        self._out = []
        if self.state is not State.ENDED:
            self.agenda = []
            self._out += [a for a in self.pain.unconfirmed(at).actions if isinstance(a, Record)]  # kept, not said
            self._end(at, status)
        return self._out

    def _end(self, at: float, status: str) -> None:
        if self.state not in (State.IDLE, State.RESUME_OFFER):  # a session that never began has nothing to end
            self._record(SessionEnded(at, status, *self.progress.tally()))
        self._set_state(State.ENDED, at)
        self._out.append(End(status, at))
