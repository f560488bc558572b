"""Inputs: scripted (``--input-script``) and live (keyboard, voice, buttons), all turned into session events.

Live inputs arrive from their own threads through one queue of :class:`Input` items. Each is
stamped where it happened, in its own thread, with the session time of that moment (see
:func:`session_time`): a key when it was read, a button when it was pressed, an utterance when its
audio ended. Scripted inputs carry their own times. Words are parsed once, where they arrive:
the listener and the keyboard put the command or rating they mean on the inbox, with the words
kept (``Input.words``) for the event stream; only an input script's ``heard`` line, written
before any locale is known, is parsed when it is played.
"""

from __future__ import annotations

import queue
from dataclasses import dataclass
from pathlib import Path

from coach.core.messages import PERSON_COMMANDS, Answer, Command, CommandName, Event, Rating, Symptom
from coach.core.words import Parsed, ParsedAnswer, ParsedCommand, ParsedRating, ParsedSymptom, parse_words
from coach.errors import InputFileError, InputScriptError
from coach.run.clock import Clock, MonotonicClock
from coach.spec.files import printable, read_capped, unsafe_character
from coach.spec.locale import Locale

MAX_SCRIPT_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Input:
    """Something a person did: a command, a rating, or words."""

    kind: str
    """``command`` (``value`` is a :class:`CommandName`), ``rating`` (an int 0-10); ``heard`` (words
    not parsed yet: an input script's), ``unrecognised`` (words parsed, meaning nothing clear); also
    ``announce`` (words a control wants said now, e.g. "three, press again to confirm") and ``closed``
    (this source will send nothing more)."""
    value: str | int
    source: str
    at: float | None = None
    """Session time it happened (see the module docstring); ``None``: stamped when the runner takes it."""
    words: str | None = None
    """The words a command or rating was understood from (heard or typed), for the event stream."""

    def __post_init__(self) -> None:
        if self.kind == "command":  # "pause" becomes the enum; a name that is no command fails where it is written
            object.__setattr__(self, "value", CommandName(str(self.value)))

    def shown(self) -> tuple[str, str | int]:
        """``(kind, value)`` for the event stream: words are shown as heard, whatever they meant."""
        return ("heard", self.words) if self.words is not None else (self.kind, self.value)


def understood(text: str, meaning: Parsed | None, source: str, at: float | None = None) -> Input:
    """The input ``text`` makes, given what the word parser made of it (``meaning``)."""
    if isinstance(meaning, ParsedCommand):
        return Input("command", meaning.name, source, at, words=text)
    if isinstance(meaning, ParsedRating):
        return Input("rating", meaning.value, source, at, words=text)
    if isinstance(meaning, ParsedSymptom):
        return Input("symptom", meaning.kind, source, at, words=text)
    if isinstance(meaning, ParsedAnswer):
        return Input("answer", meaning.value, source, at, words=text)
    return Input("unrecognised", text, source, at)


def to_event(item: Input, at: float, locale: Locale) -> Event | None:
    """The session event for ``item``, or ``None`` when its words mean nothing clear.

    Only words nobody has parsed yet (``heard``: an input script's) go through the parser here;
    everything else was parsed where it arrived.
    """
    if item.kind == "heard":
        item = understood(str(item.value), parse_words(str(item.value), locale), item.source)
    if item.kind == "command":
        return Command(at, CommandName(str(item.value)), item.source)
    if item.kind == "rating":
        return Rating(at, int(item.value), item.source)
    if item.kind == "symptom":
        return Symptom(at, str(item.value), item.source)
    if item.kind == "answer":
        return Answer(at, str(item.value), item.source)
    return None


def session_time(clock: Clock, seconds_ago: float = 0.0) -> float:
    """The session time of the moment ``seconds_ago`` real seconds before now (for stamping inputs).

    A source measures how long ago something happened on its own clock (the microphone's capture
    clock, the buttons' ``time.monotonic``); the session clock turns that age into session time,
    scaled as the clock runs (``--speed``). Safe to call from any thread.
    """
    speed = clock.speed if isinstance(clock, MonotonicClock) else 1.0
    return clock.now() - max(0.0, seconds_ago) * speed


def read_input_script(path: Path) -> list[Input]:
    """Parse ``SECONDS COMMAND [VALUE]`` lines; every bad line is reported with ``file:line``."""
    shown = printable(str(path))
    try:
        data = read_capped(path, MAX_SCRIPT_BYTES, "an input script (a text file)")
    except InputFileError as exc:
        raise InputScriptError(str(exc)) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        where = data[: exc.start].count(b"\n") + 1
        raise InputScriptError(f"{shown}:{where}: not UTF-8 text (byte 0x{data[exc.start]:02x})") from None
    items: list[Input] = []
    problems: list[str] = []
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")  # not splitlines(): \x1c or U+2028 ends no line
    for number, raw in enumerate(lines, start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        try:
            items.append(_parse_script_line(line))
        except ValueError as exc:
            problems.append(printable(f"{shown}:{number}: {exc}"))
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
        if len(rest) != 1 or not (rest[0].isdecimal() and len(rest[0].lstrip("0")) <= 2) or int(rest[0]) > 10:  # not "³"
            raise ValueError("'rating' needs one whole number from 0 to 10")
        return Input("rating", int(rest[0]), "script", at)
    if command == "heard":
        if not rest:
            raise ValueError("'heard' needs the words that were heard")
        bad = unsafe_character(line)
        if bad is not None:
            raise ValueError(f"'heard' words hold the control character {ascii(bad)}")
        return Input("heard", " ".join(rest), "heard", at)
    if command in PERSON_COMMANDS:
        if rest:
            raise ValueError(f"'{command}' takes no value")
        return Input("command", CommandName(command), "script", at)
    known = ", ".join((*PERSON_COMMANDS, "rating N", "heard TEXT"))
    raise ValueError(f"unknown command {command!r}; known: {known}")


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
        self._horizon = float("-inf")
        """The latest session time already handed out (an input's, or a deadline reached)."""

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
                return item, self._handed(item.at if item.at is not None else now)
            if deadline is not None and deadline <= now:
                self._horizon = max(self._horizon, deadline)
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
            return arrived, self._live_time(arrived)

    def _live_time(self, item: Input) -> float:
        """The session time of a live input: the moment it was stamped with where it happened.

        Never later than now, and never before a time already handed out (an earlier input, or a
        deadline the caller has since acted on): an utterance that ended just before a cue's
        deadline but was recognised after it counts from the deadline, so the session never sees
        time run backwards. Unstamped inputs (a source started without the clock) count from now.
        """
        now = self.clock.now()
        at = now if item.at is None else min(item.at, now)
        return self._handed(max(at, self._horizon))

    def _handed(self, at: float) -> float:
        self._horizon = max(self._horizon, at)
        return at
