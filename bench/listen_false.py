#!/usr/bin/env python3
"""False commands: what noise and the coach's own voice turn into. Target: zero.

Ten minutes each (``--minutes``) of steady white and pink noise (sox), bursts of white noise
(rustle: Python ``random``), and babble (four streams of espeak-ng speech in Korean and English,
mixed with sox); then the coach's own cue audio (every phrase of en.yaml and ko.yaml, rendered
by espeak-ng) played back into the listener, once gated as the runner gates it
(``speaking(clip seconds)`` at each cue) and once with the gate off, to show what the gate holds
back. Each goes through the coach's path (VAD, gate, recogniser, confidence filter, word parser)
and, for comparison, through a plain vosk call on the same grammar (no VAD, no filter).

A "false command" is an utterance the word parser turns into a command or a rating.

    python bench/listen_false.py [--minutes 10]
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import time
from pathlib import Path

from listen_common import COACH_VOICES, Model, dump, phrases, speech
from testaudio import noise_bursts, silence

from coach.voice.capture import BYTES_PER_SECOND, load_wav
from coach.voice.hearing import Heard
from coach.voice.vad import FRAME_BYTES, FRAME_SECONDS, RATE


def sox_noise(kind: str, seconds: float, volume: float, folder: Path) -> bytes:
    out = folder / f"{kind}.wav"
    command = ["sox", "-n", "-r", str(RATE), "-c", "1", "-b", "16", str(out), "synth", str(seconds), kind, "vol", str(volume)]
    subprocess.run(command, check=True, capture_output=True)
    return load_wav(out)[0]


def babble(seconds: float, folder: Path) -> bytes:
    """Four talkers at once, each reading the coach's phrases in another voice and order."""
    voice = speech()
    texts = [(t, ("-v", "ko+m3")) for t in phrases("ko")] + [(t, ("-v", "en+f2")) for t in phrases("en")]
    voices = [("-v", "ko+m3"), ("-v", "en+f2"), ("-v", "ko+f4"), ("-v", "en-us+m5")]
    streams = []
    for i, v in enumerate(voices):
        files = [str(voice.wav(text, v)) for text, _ in texts[i::2] + texts[1 - i % 2 :: 2]]
        out = folder / f"talker{i}.wav"
        command = ["sox", *files, str(out), "repeat", "4", "trim", str(3 * i), str(seconds)]
        subprocess.run(command, check=True, capture_output=True)
        streams.append(str(out))
    mixed = folder / "babble.wav"
    subprocess.run(["sox", "-m", *streams, str(mixed), "norm", "-6"], check=True, capture_output=True)
    return load_wav(mixed)[0]


def coach_cues() -> tuple[bytes, list[tuple[float, float]]]:
    """Every en and ko phrase in the coach's voice, 0.8 s apart, and when each starts and lasts."""
    voice = speech()
    pcm, cues = b"", []
    for language in ("en", "ko"):
        for text in phrases(language):
            clip = voice.pcm(text, COACH_VOICES[language])
            cues.append((len(pcm) / BYTES_PER_SECOND, len(clip) / BYTES_PER_SECOND))
            pcm += clip + silence(0.8)
    return pcm, cues


def coach_path(model: Model, pcm: bytes, cues: list[tuple[float, float]]) -> tuple[list[Heard], float, float]:
    """(utterances, seconds decoded, processing seconds) through Hearing, frame by frame."""
    hearing = model.hearing()
    pending = sorted(cues)
    heard: list[Heard] = []
    started = time.process_time()
    for offset in range(0, len(pcm), FRAME_BYTES):
        t = offset / BYTES_PER_SECOND
        while pending and pending[0][0] <= t:
            hearing.speaking(*pending.pop(0))
        chunk = pcm[offset : offset + FRAME_BYTES]
        heard += hearing.feed(chunk, t + len(chunk) / BYTES_PER_SECOND)
    heard += hearing.flush()
    return heard, hearing.stats.recognised_frames * FRAME_SECONDS, time.process_time() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="length of each noise (minutes)")
    args = parser.parse_args()
    seconds = args.minutes * 60
    model = Model()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        cue_pcm, cue_times = coach_cues()
        tests = [
            ("white noise, steady (-25 dBFS)", sox_noise("whitenoise", seconds, 0.1, folder), []),
            ("pink noise, steady", sox_noise("pinknoise", seconds, 0.3, folder), []),
            ("white noise bursts (rustle)", noise_bursts(seconds), []),
            ("babble, 4 talkers ko+en", babble(seconds, folder), []),
            ("coach's own cues, gated", cue_pcm, cue_times),
            ("coach's own cues, NO gate", cue_pcm, []),
        ]
        print(f"{'audio':34} {'min':>5} {'decoded':>8} {'utter.':>6} {'sent':>5} {'FALSE':>5}   plain vosk: utter. FALSE")
        for name, pcm, cues in tests:
            heard, decoded, _ = coach_path(model, pcm, cues)
            false = [f"{h.text} ({h.endpoint})" for h in heard if h.meaning is not None]
            plain = model.plain(pcm) if cues == [] else []
            plain_false = [r["text"] for r in plain if model.meaning(r["text"])]
            minutes = len(pcm) / BYTES_PER_SECOND / 60
            plain_text = f"{len(plain):>6} {len(plain_false):>5}" if cues == [] else "   (gated: n/a)"
            print(f"{name:34} {minutes:5.1f} {decoded:7.0f}s {len(heard):6} {sum(h.meaningful for h in heard):5} "
                  f"{len(false):5}   {plain_text}")  # fmt: skip
            if false:
                print(f"{'':34} coach's path heard: {false}")
            if plain_false:
                print(f"{'':34} plain vosk heard: {plain_false[:12]}{' ...' if len(plain_false) > 12 else ''}")
            results[name] = dict(minutes=round(minutes, 1), decoded=round(decoded), utterances=len(heard), false=len(false),
                                 plain_false=len(plain_false) if cues == [] else None)  # fmt: skip
    dump("false", results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
