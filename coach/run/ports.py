"""The small seams between the runner and the hardware adapters.

Inputs (keyboard, buttons, voice) run in their own threads and put :class:`~coach.run.inputs.Input`
items into the runner's inbox; that queue is the only way in. Outputs other than speech
(status LED, the listener's microphone gate) are told what the session is doing through these
protocols. Each adapter catches its own failures, reports once, and lets the session go on.
"""

from __future__ import annotations

import queue
from typing import Protocol

from coach.run.inputs import Input


class InputSource(Protocol):
    """Something a person uses to control the session: started with the runner's inbox."""

    def start(self, inbox: queue.Queue[Input]) -> None: ...

    def close(self) -> None: ...


class StatusDisplay(Protocol):
    """Shows the session state (``idle``, ``intro``, ``exercise``, ``pain-check``, ``confirm``,
    ``paused``, ``summary``, ``ended``), e.g. on an LED."""

    def show_state(self, state: str) -> None: ...


class Listener(Protocol):
    """The voice input's view of the session: what is expected, and when the coach speaks."""

    def expect(self, what: str) -> None:
        """``rating``, ``confirm`` or ``command``: what the session is waiting for now."""
        ...

    def speaking(self, seconds: float, delay: float = 0.0) -> None:
        """The coach speaks for about ``seconds``, starting ``delay`` seconds from now: gate the microphone."""
        ...


class NoListener:
    """No voice input: nothing to tell."""

    def expect(self, what: str) -> None:
        pass

    def speaking(self, seconds: float, delay: float = 0.0) -> None:
        pass
