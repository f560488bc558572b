"""Stop requests: SIGTERM, SIGINT (Ctrl-C) and SIGHUP become an item in the runner's inbox.

Why not an exception (``KeyboardInterrupt``, or a handler that raises): it lands wherever the main
thread happens to be, half-way through a journal write or a speaker call. Here nothing is thrown.
Python's C-level handler writes the signal's number to a pipe (:func:`signal.set_wakeup_fd`, which
is async-signal-safe), the Python-level handler only notes which signal came, and a small thread
reads the pipe and puts ``Input("stop", "SIGTERM", "signal")`` into the inbox. The runner takes it
between steps like any other input: the session ends as ``stopped`` (its ``session_end`` written
whole), the speaker is drained briefly, and the command returns.

Why a thread and not ``inbox.put`` in the handler: a handler runs between two bytecodes of the main
thread, possibly while it holds the queue's (non-reentrant) lock, and would deadlock on it.
"""

from __future__ import annotations

import os
import queue
import signal
import threading
from types import FrameType
from typing import Any

from coach.run.inputs import Input

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
"""What ends a session as ``stopped``: systemd's stop, Ctrl-C, a closed terminal."""
STOP_KIND = "stop"
"""The :class:`~coach.run.inputs.Input` kind of a stop request; ``value`` is the signal's name."""


def stop_request(name: str = "SIGTERM", at: float | None = None) -> Input:
    """The inbox item a stop request makes (tests put one in a script to stop a run at ``at``)."""
    return Input(STOP_KIND, name, "signal", at)


def exit_status(name: str) -> int:
    """The shell's status for a command a signal ended (``SIGINT``: 130)."""
    try:
        return 128 + int(signal.Signals[name])
    except KeyError:
        return 1


class StopRequests:
    """While installed (a context manager), the stop signals go to ``inbox`` instead of killing or raising.

    Outside the main thread (where Python cannot take signals) it does nothing.
    """

    def __init__(self, inbox: queue.Queue[Input]) -> None:
        self.inbox = inbox
        self.received: str | None = None
        """The first stop signal's name, once one came."""
        self._previous: dict[int, Any] = {}
        self._previous_fd = -1
        self._pipe: tuple[int, int] | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> StopRequests:
        self.install()
        return self

    def __exit__(self, *exc: object) -> None:
        self.restore()

    def install(self) -> None:
        if self._pipe is not None or threading.current_thread() is not threading.main_thread():
            return
        read_end, write_end = os.pipe()
        os.set_blocking(write_end, False)
        self._pipe = (read_end, write_end)
        self._previous_fd = signal.set_wakeup_fd(write_end, warn_on_full_buffer=False)
        for number in STOP_SIGNALS:
            self._previous[number] = signal.signal(number, self._noted)
        self._thread = threading.Thread(target=self._relay, args=(read_end,), name="stop-requests", daemon=True)
        self._thread.start()

    def restore(self) -> None:
        """Give the signals back to whoever had them; idempotent."""
        if self._pipe is None:
            return
        for number, handler in self._previous.items():
            signal.signal(number, handler)
        self._previous.clear()
        signal.set_wakeup_fd(self._previous_fd)
        read_end, write_end = self._pipe
        self._pipe = None
        os.close(write_end)  # the relay reads the end of the pipe and returns
        if self._thread is not None:
            self._thread.join(timeout=2)
        os.close(read_end)

    def _noted(self, number: int, frame: FrameType | None) -> None:
        """The Python-level handler: only a note (the wake-up pipe carries the request)."""
        if self.received is None:
            self.received = signal.Signals(number).name

    def _relay(self, read_end: int) -> None:
        wanted = {int(number) for number in STOP_SIGNALS}
        while True:
            try:
                data = os.read(read_end, 64)
            except OSError:
                return
            if not data:
                return
            for number in data:
                if number in wanted:
                    self.inbox.put(stop_request(signal.Signals(number).name))
