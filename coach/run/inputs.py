"""Inputs: scripted (``--input-script``) and live (keyboard), all turned into session events.

Live inputs arrive from their own threads through one queue of :class:`Input` items; the runner
stamps them with the session time they arrived. Scripted inputs carry their own times.
"""

from __future__ import annotations

import queue
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from coach.core.messages import Command, Event, Rating
from coach.core.words import ParsedCommand, ParsedRating, parse_words
from coach.errors import InputScriptError
from coach.run.clock import Clock
from coach.spec.locale import Locale

SCRIPT_COMMANDS = ("start", "pause", "resume", "next", "repeat", "stop", "help", "yes", "no")
MAX_SCRIPT_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Input:
    """Something a person did: a command, a rating, or words heard (parsed later, in one place)."""

    kind: str
    """``command``, ``rating``, ``heard``; also ``announce`` (words a control wants said now, e.g.
    "three, press again to confirm") and ``closed`` (this source will send nothing more)."""
    value: str | int
    source: str
    at: float | None = None
    """Session time, for scripted inputs; live inputs are stamped on arrival."""


def to_event(item: Input, at: float, locale: Locale) -> Event | None:
    """The session event for ``item``, or ``None`` when heard words mean nothing clear."""
    if item.kind == "command":
        return Command(at, str(item.value), item.source)
    if item.kind == "rating":
        return Rating(at, int(item.value), item.source)
    parsed = parse_words(str(item.value), locale)
    if isinstance(parsed, ParsedCommand):
        return Command(at, parsed.name, item.source)
    if isinstance(parsed, ParsedRating):
        return Rating(at, parsed.value, item.source)
    return None


def read_input_script(path: Path) -> list[Input]:
    """Parse ``SECONDS COMMAND [VALUE]`` lines; every bad line is reported with ``file:line``."""
    try:
        if path.stat().st_size > MAX_SCRIPT_BYTES:
            raise InputScriptError(f"{path}:0: input script is too large")
        text = path.read_text(encoding="utf-8")
    except InputScriptError:
        raise
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise InputScriptError(f"{path}:0: cannot read the input script: {reason}") from None
    items: list[Input] = []
    problems: list[str] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        try:
            items.append(_parse_script_line(line))
        except ValueError as exc:
            problems.append(f"{path}:{number}: {exc}")
    if problems:
        raise InputScriptError(problems[0], problems)
    return sorted(items, key=lambda i: i.at or 0.0)


def _parse_script_line(line: str) -> Input:
    parts = line.split()
    try:
        at = float(parts[0])
    except ValueError:
        raise ValueError(f"expected 'SECONDS COMMAND [VALUE]', got {parts[0]!r} where the seconds should be") from None
    if not at >= 0 or at == float("inf"):
        raise ValueError(f"seconds must be 0 or more, got {parts[0]}")
    if len(parts) < 2:
        raise ValueError("missing the command after the seconds")
    command, rest = parts[1].lower(), parts[2:]
    if command == "rating":
        if len(rest) != 1 or not rest[0].isdigit() or int(rest[0]) > 10:
            raise ValueError("'rating' needs one whole number from 0 to 10")
        return Input("rating", int(rest[0]), "script", at)
    if command == "heard":
        if not rest:
            raise ValueError("'heard' needs the words that were heard")
        return Input("heard", " ".join(rest), "heard", at)
    if command in SCRIPT_COMMANDS:
        if rest:
            raise ValueError(f"'{command}' takes no value")
        return Input("command", command, "script", at)
    known = ", ".join(SCRIPT_COMMANDS + ("rating N", "heard TEXT"))
    raise ValueError(f"unknown command {command!r}; known: {known}")


KEY_ALIASES = {
    "p": "pause",
    "r": "resume",
    "n": "next",
    "s": "stop",
    "q": "stop",
    "h": "help",
    "?": "help",
    "y": "yes",
    "": "start",
}


class KeyboardInput:
    """Reads lines from a terminal in a background thread: a number is a rating, words are commands.

    Single letters are shortcuts (p pause, r resume, n next, s stop, h help, y yes); a bare Enter
    starts or resumes. Anything else goes through the same word parser as voice.
    """

    def __init__(self, inbox: queue.Queue[Input], stream: IO[str] | None = None) -> None:
        self.inbox = inbox
        self.stream = stream or sys.stdin
        self._thread = threading.Thread(target=self._run, name="keyboard", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        for raw in self.stream:
            text = raw.strip().lower()
            if text.isdigit():
                self.inbox.put(Input("rating", int(text), "keyboard") if int(text) <= 10 else Input("heard", text, "keyboard"))
            elif text in KEY_ALIASES:
                self.inbox.put(Input("command", KEY_ALIASES[text], "keyboard"))
            else:
                self.inbox.put(Input("heard", text, "keyboard"))
        self.inbox.put(Input("closed", "", "keyboard"))


class Feed:
    """All inputs in time order: scripted ones at their own times, live ones as they arrive.

    Shared by the runner and the kiosk, so both wait the same way on the one clock.
    """

    def __init__(
        self, clock: Clock, inbox: queue.Queue[Input] | None = None, scripted: list[Input] | None = None, live: bool = False
    ) -> None:
        self.clock = clock
        self.inbox: queue.Queue[Input] = inbox if inbox is not None else queue.Queue()
        self.scripted = sorted(scripted or [], key=lambda i: i.at or 0.0)
        self.live = live
        """True while something (a keyboard, buttons, a microphone) can still put inputs in the inbox."""

    @property
    def exhausted(self) -> bool:
        """No input can ever arrive again."""
        return not self.scripted and not self.live and self.inbox.empty()

    def next(self, deadline: float | None) -> tuple[Input, float] | None:
        """The next input and its session time, or ``None`` once ``deadline`` is reached first.

        With no deadline and no input possible, returns ``None`` at once (check :attr:`exhausted`).
        """
        while True:
            now = self.clock.now()
            if self.scripted and (self.scripted[0].at or 0.0) <= now:
                item = self.scripted.pop(0)
                return item, item.at if item.at is not None else now
            if deadline is not None and deadline <= now:
                return None
            wake = min((t for t in (deadline, self.scripted[0].at if self.scripted else None) if t is not None), default=None)
            if wake is None and not self.live and self.inbox.empty():
                return None
            arrived = self.clock.wait(wake, self.inbox)
            if arrived is None:
                continue
            if arrived.kind == "closed":
                self.live = False
                continue
            return arrived, self.clock.now()
