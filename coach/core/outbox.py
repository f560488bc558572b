"""What a session sends out: speech now or on its agenda, records, state changes, in order.

The base of :class:`coach.core.session.Session`, kept apart so that the session's module holds its
decisions and this one the plain mechanics of its outbox (``_out``, filled during one ``handle``).
Pure: no I/O, no clock; ``now`` is the latest event's time.
"""

from __future__ import annotations

from coach.core.messages import Action, Listen, Say, StateChanged
from coach.core.pain_dialogue import Enter
from coach.core.records import Record
from coach.core.script import INSTRUCTION, Block, Cue, Restart
from coach.core.states import State
from coach.spec.routine import estimate_speech_seconds


class Outbox:
    """The actions one event produces, and the things to say later that belong to no block (the agenda)."""

    def __init__(self) -> None:
        self.state = State.IDLE
        self.now = 0.0
        self.agenda: list[Say] = []
        """Things to say at a later time that belong to no block (a prompt after "got it")."""
        self._out: list[Action] = []

    def _say(self, text: str, due: float, phase: str, kind: str, exercise: str | None = None) -> None:
        self._speak(Say(text, due, phase, kind, exercise))

    def _perform(self, actions: list[Say | Record | Listen | Enter]) -> None:
        """Do what a dialogue (the pain ratings, the screen) handed back, in order."""
        for action in actions:
            if isinstance(action, Say):
                self._speak(action)
            elif isinstance(action, Enter):
                self._set_state(action.state, action.at)
            else:
                self._out.append(action)

    def _speak(self, say: Say) -> None:
        """Say it now if it is due, else keep it on the agenda for its time."""
        if say.due <= self.now:
            self._out.append(say)
        else:
            self.agenda.append(say)
            self.agenda.sort(key=lambda s: s.due)

    def _drop_agenda(self) -> None:
        """Forget pending prompts when the person redirects the session; keep safety advice."""
        self.agenda = [s for s in self.agenda if s.phase == "safety"]

    def _record(self, record: Record) -> None:
        self._out.append(record)

    def _set_state(self, state: State, at: float) -> None:
        if state is not self.state:
            self.state = state
            self._out.append(StateChanged(state.value, at))


def summary_block(texts: list[str]) -> Block:
    """The closing words as a block of their own, each said after the one before (the summary's timeline)."""
    cues, offset = [], 0.0
    for text in texts:
        cues.append(Cue(offset, text, "summary", INSTRUCTION))
        offset += estimate_speech_seconds(text) + 0.5
    return Block("summary", "summary", tuple(cues), offset, (Restart(0.0, None, None),))
