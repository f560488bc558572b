"""The audio speaker: cached pyttsx3 clips played on the beat through a warm ALSA stream.

:func:`build_speaker` chooses what speaks: the audio speaker when the speech engine and the
output device both work, else the console, with one line saying what was missing.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import IO

from coach.core.messages import Say
from coach.errors import DeviceError
from coach.run.clock import Clock
from coach.run.ports import Speaker, Utterance
from coach.voice.alsa import AlsaOutput
from coach.voice.mixer import Timeline
from coach.voice.player import Output, Player
from coach.voice.speaker import ConsoleSpeaker, console_hints
from coach.voice.tts import RATE, PhraseCache, VoiceChoice

LEAD_SECONDS = 0.25
"""How far ahead of its due time a cue is handed to the player (seconds). It must exceed the
device latency (about 60 ms) plus a scheduling margin; the clip still starts exactly on time."""
DRAIN_SECONDS = 15.0
"""Longest wait for the last cue to finish playing when the session ends (seconds)."""
WARM_UP_SECONDS = 3.0
"""Longest wait for the audio stream to come up before the session starts (seconds)."""


class AudioSpeaker:
    """Speaks through the player; echoes every cue as console text too (a log for whoever looks)."""

    lead = LEAD_SECONDS

    def __init__(self, cache: PhraseCache, timeline: Timeline, player: Player, echo: ConsoleSpeaker | None = None) -> None:
        self.cache = cache
        self.timeline = timeline
        self.player = player
        self.echo = echo
        self._fallback = ConsoleSpeaker(sys.stderr, console_hints(cache.choice.language)) if echo is None else echo

    def speak(self, say: Say, now: float) -> Utterance:
        clip = self.cache.get(say.text) if self.player.healthy else None
        if clip is None or not clip.samples:
            # The text is still shown, so nothing is lost when a clip or the device fails.
            return self._fallback.speak(say, now)
        placed = self.timeline.schedule(clip.samples, say.due, say.kind, say.text)
        if self.echo is not None:
            self.echo.speak(say, placed.start)
        return Utterance(placed.start, clip.seconds)

    def restart_clock(self, reset: Callable[[], None]) -> None:
        """Start session time now, after rendering and warm-up (see :meth:`Player.restart_clock`)."""
        self.player.restart_clock(reset)

    def interrupt(self, now: float) -> None:
        """Silence what is playing and what is queued: the person paused, stopped or skipped."""
        self.timeline.cancel_from(now)

    def show_state(self, state: str, now: float) -> None:
        if self.echo is not None:
            self.echo.show_state(state, now)

    def close(self) -> None:
        """Let the last cue finish (at most a few seconds), then close the device."""
        deadline = self.player.clock.now() + DRAIN_SECONDS
        while self.player.healthy and self.player.clock.now() < min(deadline, self.timeline.busy_until() + 0.1):
            time.sleep(0.02)
        self.player.close()


@dataclass(frozen=True)
class SpeakerChoice:
    speaker: Speaker
    notice: str | None
    """One line for the person when the coach fell back to console text, saying why."""


def build_speaker(
    choice: VoiceChoice,
    clock: Clock,
    texts: Iterable[str],
    device: str | None,
    console: IO[str],
    echo: bool = True,
    open_output: Callable[[], Output] | None = None,
    cache: PhraseCache | None = None,
    keep_trying: bool = False,
) -> SpeakerChoice:
    """Render the session's phrases and warm up the output; fall back to console text on any failure.

    With ``keep_trying`` (the kiosk), a missing output device is not final: the speaker shows text
    and keeps trying to open the device with back-off, and speaks as soon as it appears (a USB
    speaker plugged in after boot).
    """
    console_speaker = ConsoleSpeaker(console, console_hints(choice.language))
    cache = cache or PhraseCache(choice)
    opener = open_output or (lambda: AlsaOutput(device, RATE))
    cache.get("ready")  # fails fast, with a clear line, if the speech engine cannot start
    if cache.failed:
        return SpeakerChoice(console_speaker, f"{next(iter(cache.failed.values()))}; the session is shown as text instead.")
    try:
        output: Output | None = opener()
        notice = None
    except DeviceError as exc:
        if not keep_trying:
            return SpeakerChoice(console_speaker, f"{exc}; the session is shown as text instead.")
        output, notice = None, f"{exc}; showing text until the audio device appears."
    cache.prepare(set(texts))
    timeline = Timeline(RATE)

    def fault(message: str) -> None:
        console.write(f"coach: {message}; showing text until the audio device is back.\n")
        console.flush()

    def recovered() -> None:
        console.write("coach: audio: the output device is back; speaking again.\n")
        console.flush()

    player = Player(
        opener, timeline, clock, on_fault=fault if output is not None else lambda message: None, on_recovered=recovered
    )
    player.start(output)
    if output is not None and not player.wait_ready(WARM_UP_SECONDS):
        player.close()
        return SpeakerChoice(
            console_speaker, "audio: the output device did not start playing; the session is shown as text instead."
        )
    return SpeakerChoice(AudioSpeaker(cache, timeline, player, console_speaker if echo else None), notice)
