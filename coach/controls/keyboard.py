"""The keyboard: the console's control, for a terminal at home or a kiosk being set up.

Like the buttons and the microphone it is an input source (:class:`coach.run.ports.InputSource`):
it runs in its own thread and puts parsed :class:`~coach.run.inputs.Input` items in the runner's inbox.
"""

from __future__ import annotations

import queue
import sys
import threading
from collections.abc import Iterator
from typing import IO

from coach.core.messages import CommandName
from coach.core.words import parse_words
from coach.run.clock import Clock
from coach.run.inputs import Input, session_time, understood
from coach.spec.files import printable
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


MAX_LINE = 1000
"""Longest line read (bytes); a longer line is skipped to its end and told (a cat on the keys, a paste)."""

MAX_EOFS = 5
"""Ends of input in a row after which a terminal counts as gone (Ctrl-D on a terminal is a key pressed, not an end)."""


class KeyboardInput:
    """Reads lines from a terminal in a background thread: a number is a rating, words are commands.

    Single letters are shortcuts (p pause, r resume, n next, s stop, h help, y yes); a bare Enter
    starts or resumes. Anything else goes through the same word parser as voice, here, once.
    Each line is stamped with the session time it was read (``clock``; none: when the runner takes it).
    No key ends the thread: bytes that are not UTF-8, a line too long, a line nothing understands are
    told on ``out`` (one line each) and ignored. Ctrl-D on a terminal is told and ignored (a paused
    person must still be able to resume); the end of a pipe, or of a terminal that hung up, is told
    once and the session goes on with its other controls.
    """

    def __init__(
        self,
        inbox: queue.Queue[Input],
        locale: Locale,
        stream: IO[str] | None = None,
        clock: Clock | None = None,
        out: IO[str] | None = None,
    ) -> None:
        self.inbox = inbox
        self.locale = locale
        self.stream = stream or sys.stdin
        self.clock = clock
        self.out = out or sys.stderr
        self._thread = threading.Thread(target=self._run, name="keyboard", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        try:
            for raw in self._lines():
                if raw is None:
                    self._tell(f"that line was too long (over {MAX_LINE} bytes) and is ignored")
                    continue
                try:
                    item = self.read(raw)
                except Exception as exc:  # noqa: BLE001 - no key may end the keyboard: every later rating would be lost
                    self._tell(f"could not read {_shown(raw)} ({type(exc).__name__}); it is ignored")
                    continue
                if item.kind == "unrecognised" and item.value:
                    self._tell(f"did not understand {_shown(raw)}; type a number 0-10, or p, r, n, s, h")
                self.inbox.put(item)
        except (OSError, ValueError) as exc:  # the terminal went away (EIO), or stdin was closed
            self._tell(f"keyboard input stopped ({exc}); the session goes on")
        else:
            self._tell("keyboard input ended; the session goes on (Ctrl-C stops it)")
        self.inbox.put(Input("closed", "", "keyboard"))

    def _lines(self) -> Iterator[str | None]:
        """Each line typed, decoded leniently; ``None`` for a line over :data:`MAX_LINE` (skipped to its end)."""
        binary: IO[bytes] | None = getattr(self.stream, "buffer", None)  # bytes, so no byte can raise UnicodeDecodeError
        encoding = getattr(self.stream, "encoding", None) or "utf-8"  # the terminal's; what it cannot read becomes "�"

        def line() -> tuple[str, bool]:
            """The next line (or a piece of it), and whether it was cut at the limit."""
            if binary is None:
                text = self.stream.readline(MAX_LINE + 1)
                return text, len(text) > MAX_LINE and not text.endswith("\n")
            raw = binary.readline(MAX_LINE + 1)
            return raw.decode(encoding, errors="replace"), len(raw) > MAX_LINE and not raw.endswith(b"\n")

        terminal = self.stream.isatty()
        ends = 0
        while True:
            text, cut = line()
            if not text:
                ends += 1
                if not terminal or ends >= MAX_EOFS:  # a pipe has ended; a terminal that only says "end" has hung up
                    return
                self._tell("Ctrl-D does nothing here; type s to stop, or Ctrl-C")
                continue
            ends = 0
            if not cut:
                yield text
                continue
            while cut:
                text, cut = line()
            yield None

    def _tell(self, message: str) -> None:
        try:
            self.out.write(f"coach: {message}\n")
            self.out.flush()
        except (OSError, ValueError):
            pass  # nowhere to tell it; the keyboard goes on

    def read(self, raw: str) -> Input:
        """The input one typed line makes."""
        at = session_time(self.clock) if self.clock is not None else None
        text = raw.strip().lower()
        if text.isdecimal() and len(text.lstrip("0")) <= 2 and int(text) <= 10:  # "³".isdigit(), but int("³") fails
            return Input("rating", int(text), "keyboard", at)
        if text in KEY_ALIASES:
            return Input("command", KEY_ALIASES[text], "keyboard", at)
        return understood(text, parse_words(text, self.locale), "keyboard", at)


def _shown(raw: str) -> str:
    """A typed line as it may be shown back: quoted, short, escape sequences written out."""
    text = raw.strip()
    return printable(repr(text if len(text) <= 40 else text[:37] + "..."))
