"""A speaker that keeps what it was told to say, with the time, for tests of the core and the loop."""

from __future__ import annotations

from coach.core.messages import Say
from coach.run.ports import Utterance


class FakeSpeaker:
    """Implements :class:`coach.run.ports.Speaker`; ``spoken`` holds ``(time of the call, Say)``."""

    lead = 0.0

    def __init__(self) -> None:
        self.spoken: list[tuple[float, Say]] = []
        self.states: list[str] = []
        self.interrupts: list[float] = []

    def interrupt(self, now: float) -> None:
        self.interrupts.append(now)

    def speak(self, say: Say, now: float) -> Utterance:
        self.spoken.append((now, say))
        return Utterance(now, 0.0)

    def show_state(self, state: str, now: float) -> None:
        self.states.append(state)

    def close(self) -> None:
        pass

    @property
    def texts(self) -> list[str]:
        return [say.text for _, say in self.spoken]
