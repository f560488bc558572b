"""The keyboard: the console's control, for a terminal at home or a kiosk being set up.

Like the buttons and the microphone it is an input source (:class:`coach.run.ports.InputSource`):
it runs in its own thread and puts parsed :class:`~coach.run.inputs.Input` items in the runner's inbox.
"""

from __future__ import annotations

import queue
import sys
import threading
from typing import IO

from coach.core.messages import CommandName
from coach.core.words import parse_words
from coach.run.clock import Clock
from coach.run.inputs import Input, session_time, understood
from coach.spec.locale import Locale

KEY_ALIASES: dict[str, CommandName] = {
    "p": CommandName.PAUSE,
    "r": CommandName.RESUME,
    "n": CommandName.NEXT,
    "s": CommandName.STOP,
    "q": CommandName.STOP,
    "h": CommandName.HELP,
    "?": CommandName.HELP,
    "y": CommandName.YES,
    "": CommandName.START,
}


class KeyboardInput:
    """Reads lines from a terminal in a background thread: a number is a rating, words are commands.

    Single letters are shortcuts (p pause, r resume, n next, s stop, h help, y yes); a bare Enter
    starts or resumes. Anything else goes through the same word parser as voice, here, once.
    Each line is stamped with the session time it was read (``clock``; none: when the runner takes it).
    """

    def __init__(
        self, inbox: queue.Queue[Input], locale: Locale, stream: IO[str] | None = None, clock: Clock | None = None
    ) -> None:
        self.inbox = inbox
        self.locale = locale
        self.stream = stream or sys.stdin
        self.clock = clock
        self._thread = threading.Thread(target=self._run, name="keyboard", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        for raw in self.stream:
            self.inbox.put(self.read(raw))
        self.inbox.put(Input("closed", "", "keyboard"))

    def read(self, raw: str) -> Input:
        """The input one typed line makes."""
        at = session_time(self.clock) if self.clock is not None else None
        text = raw.strip().lower()
        if text.isdigit() and int(text) <= 10:
            return Input("rating", int(text), "keyboard", at)
        if text in KEY_ALIASES:
            return Input("command", KEY_ALIASES[text], "keyboard", at)
        return understood(text, parse_words(text, self.locale), "keyboard", at)
