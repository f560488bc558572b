"""The ``Speaker`` seam, the console speaker, and an in-package fake for tests.

A speaker is told to say a cue *now* (the runner calls it at the cue's due time) and returns
at once; it never blocks the runner. It returns an :class:`Utterance`: the session time speech
actually started and how long it lasts, so the event stream reports real onsets and the
microphone can be gated while the coach talks.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import IO, Protocol

from coach.core.messages import Say
from coach.errors import LocaleError
from coach.spec.locale import load_locale


@dataclass(frozen=True)
class Utterance:
    started: float
    """Session time the speech started (seconds)."""
    seconds: float
    """How long it plays (seconds); 0 for text on a console."""


class Speaker(Protocol):
    lead: float
    """How long before a cue's due time the runner must hand it over (seconds; 0 for text)."""

    def speak(self, say: Say, now: float) -> Utterance:
        """Start saying ``say.text`` at ``say.due`` (or as soon as possible); ``now`` is the time of the call."""
        ...

    def interrupt(self, now: float) -> None:
        """Drop what is playing or queued from ``now`` on (the person paused, stopped or skipped)."""
        ...

    def show_state(self, state: str, now: float) -> None:
        """A state change worth showing to someone looking (console) or ignoring (audio)."""
        ...

    def close(self) -> None: ...


def speak_or_show(speaker: Speaker, say: Say, now: float, on_fault: Callable[[str], None]) -> Utterance:
    """Speak, and if the speaker itself fails, show the text instead and report the fault.

    The one guard around every speaker call (session cues, kiosk menus), so a speaker bug or a
    vanished device never ends a session.
    """
    try:
        return speaker.speak(say, now)
    except Exception as exc:
        on_fault(f"the speaker failed ({exc}); showing text")
        print(say.text, file=sys.stderr)
        return Utterance(now, 0.0)


def console_hints(language: str) -> dict[str, str] | None:
    """The console's hints in ``language`` (its locale's ``console:``), or ``None`` for English."""
    try:
        return load_locale(language).console
    except LocaleError:
        return None


class ConsoleSpeaker:
    """Prints each cue as a line of text with its session time: the session "spoken" on screen."""

    lead = 0.0

    def __init__(self, stream: IO[str] | None = None, hints: Mapping[str, str] | None = None) -> None:
        """``hints``: what to type in each state, in the session's language (the locale's ``console:``)."""
        self.stream = stream or sys.stdout
        self._color = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.hints = dict(hints if hints is not None else load_locale("en").console or {})

    def speak(self, say: Say, now: float) -> Utterance:
        minutes, seconds = divmod(now, 60)
        stamp = f"{int(minutes):02d}:{seconds:04.1f}"
        label = say.phase if say.side is None else f"{say.phase} {say.side}"
        text = say.text
        if self._color and say.kind == "count":
            text = f"\033[1m{text}\033[0m"
        self.stream.write(f"{stamp}  {label:<15} {text}\n")
        self.stream.flush()
        return Utterance(now, 0.0)

    def show_state(self, state: str, now: float) -> None:
        hint = self.hints.get(state)
        if hint:
            dim = ("\033[2m", "\033[0m") if self._color else ("", "")
            self.stream.write(f"{dim[0]}          [{hint}]{dim[1]}\n")
            self.stream.flush()

    def interrupt(self, now: float) -> None:
        pass

    def close(self) -> None:
        self.stream.flush()


class FakeSpeaker:
    """Keeps what it was told to say, with the time, for tests of the core."""

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
