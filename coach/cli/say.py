"""``coach say "text"``: hear the configured voice (or write it to a WAV file with ``--to``)."""

from __future__ import annotations

import argparse
import sys
import time
import wave
from pathlib import Path
from typing import Any

from coach.core.messages import Say
from coach.errors import CoachError
from coach.run.clock import MonotonicClock
from coach.spec.config import load_settings
from coach.voice.audio import AudioSpeaker, build_speaker
from coach.voice.tts import PhraseCache, VoiceChoice


def register(commands: Any) -> None:
    say = commands.add_parser(
        "say",
        help="speak a phrase with the configured voice",
        description="Speak a phrase with the configured voice, rate and volume.",
    )
    say.add_argument("text", help="what to say")
    say.add_argument("--to", metavar="FILE.wav", help="write the audio to a WAV file instead of playing it")
    say.add_argument("--lang", help="language (default: the config's)")
    say.set_defaults(handler=cmd_say)


def cmd_say(args: argparse.Namespace) -> int:
    loaded = load_settings(args.config)
    voice = loaded.settings.voice
    choice = VoiceChoice(args.lang or loaded.settings.language, voice.voice, voice.rate, voice.volume)
    text = " ".join(args.text.split())
    if not text:
        raise CoachError("say: nothing to say")
    if args.to:
        clip = PhraseCache(choice).get(text)
        if clip is None:
            raise CoachError("say: the speech engine could not render the text (is espeak-ng installed?)")
        try:
            with wave.open(args.to, "wb") as out:
                out.setnchannels(1)
                out.setsampwidth(2)
                out.setframerate(clip.rate)
                out.writeframes(clip.samples.tobytes())
        except OSError as exc:
            raise CoachError(f"{args.to}: cannot write: {exc.strerror or exc}") from None
        print(f"{Path(args.to)}: {clip.seconds:.2f} s")
        return 0
    clock = MonotonicClock()
    built = build_speaker(choice, clock, [text], loaded.settings.audio.output_device, sys.stdout)
    if built.notice:
        print(f"coach: {built.notice}", file=sys.stderr)
    speaker = built.speaker
    now = clock.now()
    utterance = speaker.speak(Say(text, now + speaker.lead, "say", "instruction"), now)
    if isinstance(speaker, AudioSpeaker):
        time.sleep(max(0.0, utterance.started + utterance.seconds - clock.now()))
    speaker.close()
    return 0 if built.notice is None else 1
