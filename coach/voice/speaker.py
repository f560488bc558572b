"""The console speaker: the session "spoken" as lines of text, when there is no audio (or none is wanted).

It implements :class:`coach.run.ports.Speaker`, like the audio speaker in :mod:`coach.voice.audio`.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import IO

from coach.core.messages import Say
from coach.errors import LocaleError
from coach.run.ports import Utterance
from coach.spec.files import printable
from coach.spec.locale import load_locale


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
        # Belt and braces: routines are checked for control characters when loaded; none reaches the terminal anyway.
        label = printable(say.phase if say.side is None else f"{say.phase} {say.side}")
        text = printable(say.text)
        if self._color and say.kind == "count":
            text = f"\033[1m{text}\033[0m"
        self.stream.write(f"{stamp}  {label:<15} {text}\n")
        self.stream.flush()
        return Utterance(now, 0.0)

    def show_state(self, state: str, now: float) -> None:
        hint = printable(self.hints.get(state) or "")
        if hint:
            dim = ("\033[2m", "\033[0m") if self._color else ("", "")
            self.stream.write(f"{dim[0]}          [{hint}]{dim[1]}\n")
            self.stream.flush()

    def interrupt(self, now: float) -> None:
        pass

    def close(self) -> None:
        self.stream.flush()

