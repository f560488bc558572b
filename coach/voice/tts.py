"""Text to speech through pyttsx3 (espeak-ng on Linux), rendered ahead of time into a WAV cache.

Calling pyttsx3 at cue time is too slow and unpredictable for counting on the beat (its
``runAndWait`` blocks, and on Linux it plays through a fresh ``aplay`` each time), so every phrase a
session needs is rendered *before* it starts, trimmed of espeak's leading and trailing silence,
and kept in the user's cache folder, keyed by everything that changes the sound (text, voice,
rate, volume, language). pyttsx3 is not thread-safe: one :class:`PhraseCache` renders in the
thread that owns it, and only there.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import tempfile
import threading
import wave
from array import array
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from coach.errors import DeviceError

RATE = 22050
"""espeak-ng's native sample rate, which pyttsx3 writes (hertz)."""
SILENCE_THRESHOLD = 400
"""Samples quieter than this (of 32767) at either end count as silence when trimming."""
KEEP_MARGIN = 0.015
"""Silence kept before the first and after the last audible sample (seconds), so onsets stay soft."""
CACHE_VERSION = "2"
"""Part of every key. 2: clips of version 1 may be cut short (rendered without :func:`_save_and_wait`)."""
RENDER_TIMEOUT = 30.0
"""Longest wait for the speech engine to finish writing one phrase (seconds); a Pi renders a long
sentence in well under one."""


@dataclass(frozen=True)
class VoiceChoice:
    """What makes a rendering sound the way it does; part of every cache key."""

    language: str
    voice: str | None = None
    """espeak voice id or language tag (``gmw/en-us``, ``en-us``); none: the language's default."""
    rate: int = 150
    """Words per minute."""
    volume: float = 1.0

    def key(self, text: str) -> str:
        raw = "|".join([CACHE_VERSION, self.language, self.voice or "", str(self.rate), f"{self.volume:.3f}", text])
        return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True)
class Clip:
    text: str
    samples: array[int]
    rate: int = RATE

    @property
    def seconds(self) -> float:
        return len(self.samples) / self.rate


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "coach" / "tts"


class PhraseCache:
    """Renders phrases once (in the owning thread) and keeps them on disk and in memory."""

    def __init__(self, choice: VoiceChoice, folder: Path | None = None, engine: Any = None) -> None:
        self.choice = choice
        self.folder = folder or default_cache_dir()
        self._engine = engine
        self._owns_engine = engine is None
        self._clips: dict[str, Clip] = {}
        self.failed: dict[str, str] = {}
        """Text that could not be rendered, and why (it is shown as console text instead)."""
        self.rendered = 0
        """Phrases rendered by pyttsx3 in this process (the rest came from the disk cache)."""

    def prepare(self, texts: list[str] | set[str]) -> None:
        """Have every text ready before the session starts; failures are kept, never raised."""
        for text in sorted(set(texts)):
            self.get(text)

    def get(self, text: str) -> Clip | None:
        """The clip for ``text`` (rendering it now if needed), or ``None`` if it cannot be rendered."""
        if text in self._clips:
            return self._clips[text]
        if text in self.failed:
            return None
        path = self.folder / f"{self.choice.key(text)}.wav"
        try:
            clip = _read_clip(path, text) if path.exists() else None
            if clip is None:
                clip = self._render_retrying(text, path)
        except (OSError, EOFError, RuntimeError, ValueError, wave.Error, DeviceError) as exc:
            self.failed[text] = str(exc) or type(exc).__name__
            return None
        self._clips[text] = clip
        return clip

    def _render(self, text: str, path: Path) -> Clip:
        self.folder.mkdir(parents=True, exist_ok=True)
        engine = self._get_engine()
        if self._owns_engine:  # pyttsx3.init() hands every caller the same engine: set ours each time
            apply_choice(engine, self.choice)
        with tempfile.TemporaryDirectory(dir=self.folder) as tmp:
            raw = Path(tmp) / "raw.wav"
            with contextlib.redirect_stdout(io.StringIO()):  # pyttsx3 prints "Audio saved to ..."
                _save_and_wait(engine, text, raw)
            if not raw.exists():
                raise RuntimeError(f"pyttsx3 wrote no audio for {text!r}")
            samples, rate = _read_samples(raw)
        if rate != RATE:
            raise ValueError(f"unexpected sample rate {rate} Hz from the speech engine")
        clip = Clip(text, trim_silence(samples, rate), rate)
        _write_clip(path, clip)
        self.rendered += 1
        return clip

    def _render_retrying(self, text: str, path: Path) -> Clip:
        """Render, and once more if that failed: one transient failure of the speech engine (no
        file written, a truncated WAV) should not leave a phrase as console text for good."""
        try:
            return self._render(text, path)
        except (OSError, EOFError, RuntimeError, ValueError, wave.Error):
            return self._render(text, path)

    def _get_engine(self) -> Any:
        if self._engine is None:
            self._engine = open_engine(self.choice)
        return self._engine


def _save_and_wait(engine: Any, text: str, path: Path) -> None:
    """Have ``engine`` write ``text`` to ``path``, and return only once it has.

    pyttsx3's ``runAndWait`` does not wait for espeak-ng: libespeak-ng synthesises in a thread of its
    own, and the driver's loop gives it 10 ms. A long phrase, or any phrase on a slow or busy CPU,
    is still being synthesised when ``runAndWait`` returns: the WAV is not there yet (the phrase
    fails), or the next phrase's ``save_to_file`` takes over the running synthesis, and a truncated
    clip lands in the cache for good. The driver announces ``finished-utterance`` after it has
    written the file, so the wait is for that. (An engine without ``connect``, such as the tests'
    fakes, writes before ``runAndWait`` returns.)
    """
    connect = getattr(engine, "connect", None)
    finished = threading.Event()
    token = connect("finished-utterance", lambda **_: finished.set()) if connect is not None else None
    try:
        engine.save_to_file(text, str(path))
        engine.runAndWait()
        if token is not None and not finished.wait(RENDER_TIMEOUT):
            raise RuntimeError(f"the speech engine did not finish {text!r} within {RENDER_TIMEOUT:g} s")
    finally:
        if token is not None:
            engine.disconnect(token)


def open_engine(choice: VoiceChoice) -> Any:
    """A pyttsx3 engine set to ``choice``; :class:`DeviceError` with one clear line if impossible."""
    try:
        import pyttsx3
    except ImportError:
        raise DeviceError("voice: pyttsx3 is not installed (pip install 'coach[voice]')") from None
    try:
        engine = pyttsx3.init()
    except Exception as exc:  # pyttsx3 raises bare errors when espeak-ng's library is missing
        raise DeviceError(f"voice: the speech engine did not start ({exc}); install espeak-ng") from None
    apply_choice(engine, choice)
    return engine


def apply_choice(engine: Any, choice: VoiceChoice) -> None:
    """Set voice, rate and volume on ``engine`` (:class:`DeviceError` if espeak-ng lacks the voice)."""
    voice_id = pick_voice([(v.id, list(v.languages or [])) for v in engine.getProperty("voices")], choice)
    if voice_id is None:
        raise DeviceError(f"voice: espeak-ng has no voice for {choice.voice or choice.language!r}")
    engine.setProperty("voice", voice_id)
    engine.setProperty("rate", choice.rate)
    engine.setProperty("volume", choice.volume)


def pick_voice(voices: list[tuple[str, list[str]]], choice: VoiceChoice) -> str | None:
    """The espeak voice id for the configured voice, else the language's plain voice."""
    wanted = (choice.voice or choice.language).lower()
    for voice_id, _ in voices:
        if voice_id.lower() == wanted or voice_id.lower().endswith("/" + wanted):
            return voice_id
    for voice_id, languages in voices:
        if any(str(lang).lower() == wanted for lang in languages):
            return voice_id
    for voice_id, languages in voices:
        if any(str(lang).lower().startswith(wanted + "-") for lang in languages):
            return voice_id
    return None


def trim_silence(samples: array[int], rate: int) -> array[int]:
    """Cut espeak's leading and trailing silence, keeping a short margin so onsets stay soft."""
    first = next((i for i, s in enumerate(samples) if abs(s) > SILENCE_THRESHOLD), None)
    if first is None:
        return array("h")
    last = next(i for i in range(len(samples) - 1, -1, -1) if abs(samples[i]) > SILENCE_THRESHOLD)
    margin = round(KEEP_MARGIN * rate)
    return samples[max(0, first - margin) : min(len(samples), last + 1 + margin)]


def _read_samples(path: Path) -> tuple[array[int], int]:
    with wave.open(str(path), "rb") as wav:
        if wav.getsampwidth() != 2 or wav.getnchannels() != 1:
            raise ValueError(f"{path}: expected 16-bit mono audio")
        data = array("h")
        data.frombytes(wav.readframes(wav.getnframes()))
        return data, wav.getframerate()


def _read_clip(path: Path, text: str) -> Clip | None:
    try:
        samples, rate = _read_samples(path)
    except (OSError, EOFError, wave.Error, ValueError):
        return None  # a damaged cache entry is rendered again
    return Clip(text, samples, rate)


def _write_clip(path: Path, clip: Clip) -> None:
    """Write atomically, so a crash never leaves a half-written clip that later plays truncated."""
    partial = path.with_suffix(".part")
    with wave.open(str(partial), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(clip.rate)
        wav.writeframes(clip.samples.tobytes())
    os.replace(partial, path)
