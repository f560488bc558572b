"""Audio for the voice tests and ``bench/``: espeak-ng speech made on the spot, noise from ``random``.

Shipped in the package like the other fakes, so tests and benchmarks build the same audio the
same way. espeak-ng and sox must be installed; :func:`missing_tools` says which are not, and the
tests fail with that line rather than skip.
"""

from __future__ import annotations

import hashlib
import random
import shutil
import struct
import subprocess
from array import array
from pathlib import Path

from coach.voice.capture import load_wav
from coach.voice.vad import RATE

VOICE = ("-v", "ko+f3", "-s", "160")
"""espeak-ng's Korean, female variant 3, 160 words a minute: of the variants tried, the one the
Korean model hears best (each test word below was heard right 30 times in 30, model dither and all)."""

RATINGS = {"사": 4, "다섯": 5, "여덟": 8, "없어요": 0}
COMMANDS = {
    "잠깐": "pause",
    "계속해": "resume",
    "넘겨": "next",
    "다시": "repeat",
    "그만": "stop",
    "도와줘": "help",
    "맞아": "yes",
    "아니요": "no",
}
"""Words espeak-ng says well enough for the model, one per command but ``start`` ("시작해" was
heard 28 times in 30, too few for a test that must not flicker)."""


def missing_tools() -> str:
    """One line naming the tools that are missing, or ``""``."""
    missing = [tool for tool in ("espeak-ng", "sox") if shutil.which(tool) is None]
    if not missing:
        return ""
    return (
        f"{' and '.join(missing)} not installed: voice tests and benchmarks synthesise speech with espeak-ng "
        "and resample it with sox (sudo apt-get install espeak-ng sox)"
    )


class Speech:
    """espeak-ng renders at 16 kHz mono, cached in a folder for the test session."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def wav(self, text: str, voice: tuple[str, ...] = VOICE) -> Path:
        """A 16 kHz mono WAV of ``text``."""
        key = hashlib.sha1(f"{voice}{text}".encode()).hexdigest()[:16]
        out = self.folder / f"{key}.wav"
        if not out.exists():
            raw = self.folder / f"{key}.raw.wav"
            subprocess.run(["espeak-ng", *voice, "-w", str(raw), text], check=True, capture_output=True)
            subprocess.run(["sox", str(raw), "-r", str(RATE), "-c", "1", "-b", "16", str(out)], check=True, capture_output=True)
        return out

    def pcm(self, text: str, voice: tuple[str, ...] = VOICE) -> bytes:
        return load_wav(self.wav(text, voice))[0]


def silence(seconds: float) -> bytes:
    return b"\0\0" * int(seconds * RATE)


def padded(pcm: bytes, before: float = 0.5, after: float = 1.0) -> bytes:
    return silence(before) + pcm + silence(after)


def white_noise(seconds: float, level: float, seed: int = 1) -> bytes:
    """Gaussian white noise with RMS ``level`` of full scale."""
    rng = random.Random(seed)
    n = int(seconds * RATE)
    sigma = level * 32767
    return struct.pack(f"<{n}h", *(max(-32768, min(32767, int(rng.gauss(0, sigma)))) for _ in range(n)))


def noise_bursts(seconds: float, seed: int = 2) -> bytes:
    """White noise switched on and off (0.1-1.5 s bursts of random loudness): rustle, not a fan."""
    rng = random.Random(seed)
    out = bytearray()
    while len(out) < seconds * RATE * 2:
        out += white_noise(rng.uniform(0.3, 2.0), 0.002, rng.randrange(1 << 30))
        out += white_noise(rng.uniform(0.1, 1.5), rng.uniform(0.02, 0.4), rng.randrange(1 << 30))
    return bytes(out)


def mix(*tracks: bytes, gain: float = 1.0) -> bytes:
    """Tracks added sample by sample (the longest sets the length), clipped."""
    length = max(len(t) for t in tracks) // 2
    total = [0] * length
    for track in tracks:
        samples = array("h")
        samples.frombytes(track)
        for i, value in enumerate(samples):
            total[i] += value
    return array("h", (max(-32768, min(32767, int(v * gain))) for v in total)).tobytes()


def babble(speech: Speech, sentences: list[tuple[str, tuple[str, ...]]], voices: int = 4) -> bytes:
    """Several people talking at once: the sentences, split into ``voices`` streams and mixed."""
    streams = [b"".join(speech.pcm(text, voice) for text, voice in sentences[i::voices]) for i in range(voices)]
    return mix(*streams, gain=0.6)
