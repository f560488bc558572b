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


class TimedSpeaker(FakeSpeaker):
    """A speaker whose speech takes time: each phrase lasts 2 s and starts after the one before it,
    ``lead`` after the call at the earliest (what the audio speaker reports); an interrupt cuts it."""

    lead = 0.25

    def __init__(self) -> None:
        super().__init__()
        self.busy_until = 0.0

    def speak(self, say: Say, now: float) -> Utterance:
        self.spoken.append((now, say))
        started = max(now + self.lead, self.busy_until)
        self.busy_until = started + 2.0
        return Utterance(started, 2.0)

    def interrupt(self, now: float) -> None:
        super().interrupt(now)
        self.busy_until = now
