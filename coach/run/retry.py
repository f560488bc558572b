"""Inputs a kiosk does not have yet: tried again every few seconds until they work.

A kiosk booted before its USB microphone was plugged in, before the speech model was copied over,
or with the buttons' pin library missing must not give up (nor exit: under systemd its stdin is
``/dev/null``, so nothing else could ever arrive). Each missing part is said once, in one line (and
again only if the reason changes), then tried again on the session clock from the kiosk's idle loop,
the way the audio output already reopens its device; when it works, it is started and said so.

Tried from the loop (the runner's ``upkeep``) rather than a thread, so the schedule runs on the one
clock and a test on a :class:`~coach.run.clock.FakeClock` sees every attempt at its exact time.
"""

from __future__ import annotations

import queue
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from coach.run.clock import Clock
from coach.run.inputs import Input
from coach.run.ports import InputSource

RETRY_SECONDS = 5.0
"""How long between attempts to bring up a missing input (seconds)."""


def report_line(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


@dataclass
class Part:
    """One input that may be missing: how to make it, and who to tell once it works."""

    name: str
    """For people: ``voice input``, ``buttons``."""
    build: Callable[[], tuple[InputSource | None, str | None]]
    """Try to make it: the source (not started yet), or ``None`` and one line saying why not."""
    attached: Callable[[InputSource], None] = lambda source: None
    """Called once it is started (the kiosk gives a listener or a display to its runners)."""
    told: str | None = None
    """The reason last said, so each is said once."""


class Retrying:
    """The parts still missing, each tried again every :data:`RETRY_SECONDS` until it starts."""

    def __init__(
        self,
        parts: Sequence[Part],
        inbox: queue.Queue[Input],
        clock: Clock,
        every: float = RETRY_SECONDS,
        report: Callable[[str], None] = report_line,
    ) -> None:
        self.missing = list(parts)
        self.inbox = inbox
        self.clock = clock
        self.every = every
        self.report = report
        self.running: list[InputSource] = []
        self.attempts: list[tuple[float, str]] = []
        """``(session time, part name)`` of every attempt, for tests and ``--events`` readers."""
        self._next = float("-inf")

    def upkeep(self, now: float) -> float | None:
        """Try every missing part if it is time; return when to try next, or ``None`` once nothing is missing."""
        if not self.missing:
            return None
        if now < self._next:
            return self._next
        for part in list(self.missing):
            self._try(part, now)
        self._next = now + self.every
        return self._next if self.missing else None

    def _try(self, part: Part, now: float) -> None:
        self.attempts.append((now, part.name))
        try:
            source, why = part.build()
        except Exception as exc:  # an adapter that fails in a way nobody foresaw must not end the kiosk
            source, why = None, f"coach: {part.name}: {exc}"
        if source is None:
            why = why or f"coach: {part.name} is not available"
            if why != part.told:
                self.report(f"{why} (trying again every {self.every:g} s)")
                part.told = why
            return
        source.start(self.inbox, self.clock)
        self.running.append(source)
        self.missing.remove(part)
        part.attached(source)
        if part.told is not None:
            self.report(f"coach: {part.name}: working now")

    def close(self) -> None:
        for source in self.running:
            source.close()
        self.running.clear()
