"""Where audio comes from: the microphone through ``arecord``, or a WAV file (tests, ``coach hear``).

Why ``arecord``: it is in alsa-utils, which the coach already needs for sound on a Pi, so
capture adds no Python package with native parts to build (``sounddevice`` needs PortAudio,
``pyalsaaudio`` a compiler); it takes the same ALSA device names as ``arecord -L`` and the
config (``plughw:CARD=Device`` for a USB microphone, converted to 16 kHz mono by ALSA's plug
layer); and it runs in its own process, so a slow moment in Python never makes the sound card
overrun: arecord keeps draining the card into a 64 KB pipe (2 s of audio) while the capture
thread, which does nothing but read that pipe, catches up. When the microphone is unplugged
arecord exits, which is easy to notice and to retry.

Every source gives 16 kHz, mono, signed 16-bit little-endian PCM.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import threading
import time
import wave
from collections import deque
from pathlib import Path
from typing import IO, Protocol

from coach.errors import DeviceError
from coach.voice.vad import FRAME_BYTES, RATE

BYTES_PER_SECOND = RATE * 2


class MicrophoneError(DeviceError):
    """The microphone is missing, or stopped giving audio."""


class AudioSource(Protocol):
    """16 kHz mono s16le audio, a chunk at a time."""

    description: str
    live: bool
    """A live source cannot wait: if recognition falls behind, its oldest audio is dropped.
    A file (not live) is read only as fast as it is heard, so none of it is lost."""

    def open(self) -> None:
        """Start capturing; :class:`MicrophoneError` when that is impossible."""
        ...

    def read(self) -> bytes:
        """The next chunk (blocks until there is one); ``b""`` at the end of a file.

        A microphone that stops raises :class:`MicrophoneError` instead.
        """
        ...

    def close(self) -> None:
        """Stop capturing; safe to call more than once."""
        ...


class ArecordSource:
    """The microphone, through an ``arecord`` process writing raw PCM to a pipe."""

    live = True

    def __init__(self, device: str | None = None, arecord: str = "arecord", chunk_bytes: int = FRAME_BYTES) -> None:
        self.device = device
        self.arecord = arecord
        self.chunk_bytes = chunk_bytes
        self.description = f"arecord -D {device}" if device else "arecord (default device)"
        self._process: subprocess.Popen[bytes] | None = None
        self._errors: deque[str] = deque(maxlen=5)

    def command(self) -> list[str]:
        device = ["-D", self.device] if self.device else []
        # A 0.5 s ALSA buffer in 30 ms periods: small enough for low latency, large enough that
        # the card never overruns while the pipe is being read.
        return [self.arecord, "-q", *device, "-t", "raw", "-f", "S16_LE", "-r", str(RATE), "-c", "1",
                "--buffer-time=500000", "--period-time=30000"]  # fmt: skip

    def open(self) -> None:
        if shutil.which(self.arecord) is None:
            raise MicrophoneError(f"{self.arecord} is not installed (sudo apt-get install alsa-utils)")
        self._errors.clear()
        self._process = subprocess.Popen(
            self.command(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=0
        )
        assert self._process.stderr is not None
        threading.Thread(target=self._drain, args=(self._process.stderr,), name="arecord-stderr", daemon=True).start()

    def _drain(self, stream: IO[bytes]) -> None:
        for raw in stream:
            line = raw.decode("utf-8", "replace").strip()
            if line:
                self._errors.append(line)

    def read(self) -> bytes:
        process = self._process
        if process is None or process.stdout is None:
            raise MicrophoneError(f"{self.description}: not open")
        data = process.stdout.read(self.chunk_bytes)
        if data:
            return data
        try:
            code = process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            code = None
        time.sleep(0.05)  # let the stderr reader take the last line
        reason = self._reason() or f"arecord stopped (exit status {code})"
        raise MicrophoneError(f"{self.description}: {reason}")

    def _reason(self) -> str:
        lines = [line for line in self._errors if "overrun" not in line.lower()]
        if not lines:
            return ""
        last = lines[-1]
        return last.split(": ", 2)[-1] if last.startswith("arecord:") else last

    def close(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=2)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


class WavSource:
    """Audio from PCM bytes (a 16 kHz mono WAV), optionally paced like a live microphone.

    ``paced`` makes each ``read`` return when that chunk would have been captured (real time,
    for latency and CPU measurements); unpaced it returns as fast as it is read (tests).
    """

    def __init__(self, pcm: bytes, description: str = "audio file", paced: bool = False, chunk_bytes: int = FRAME_BYTES) -> None:
        self.pcm = pcm
        self.description = description
        self.paced = paced
        self.live = paced
        self.chunk_bytes = chunk_bytes
        self.position = 0
        self._t0 = 0.0

    @classmethod
    def from_file(cls, path: Path, paced: bool = False) -> WavSource:
        pcm, _ = load_wav(path)
        return cls(pcm, str(path), paced)

    def open(self) -> None:
        self.position = 0
        self._t0 = time.monotonic()

    def read(self) -> bytes:
        chunk = self.pcm[self.position : self.position + self.chunk_bytes]
        self.position += len(chunk)
        if self.paced and chunk:
            due = self._t0 + self.position / BYTES_PER_SECOND
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        return chunk

    def close(self) -> None:
        pass


def load_wav(path: Path) -> tuple[bytes, str | None]:
    """16 kHz mono s16le PCM of ``path``, and a note when it had to be converted (with sox).

    Raises :class:`ValueError` with one line when the file cannot be read or converted.
    """
    note = None
    try:
        with wave.open(str(path), "rb") as wav:
            shape = (wav.getframerate(), wav.getnchannels(), wav.getsampwidth(), wav.getcomptype())
            if shape == (RATE, 1, 2, "NONE"):
                return wav.readframes(wav.getnframes()), None
            note = f"{shape[0]} Hz, {shape[1]} channel(s), {8 * shape[2]}-bit"
    except FileNotFoundError:
        raise ValueError(f"{path}: no such file") from None
    except (wave.Error, EOFError):
        note = "not a plain PCM WAV"
    except OSError as exc:
        raise ValueError(f"{path}: cannot read: {exc.strerror or exc}") from None
    return _convert(path, note), f"converted with sox from {note} to 16000 Hz mono 16-bit"


def _convert(path: Path, note: str) -> bytes:
    if shutil.which("sox") is None:
        raise ValueError(
            f"{path}: {note}; the recogniser needs 16000 Hz mono 16-bit WAV: install sox "
            f"(sudo apt-get install sox) or convert it: sox {path} -r 16000 -c 1 -b 16 out.wav"
        )
    with tempfile.TemporaryDirectory(prefix="coach-hear-") as tmp:
        out = Path(tmp) / "16k.wav"
        done = subprocess.run(
            ["sox", str(path), "-r", str(RATE), "-c", "1", "-b", "16", "-e", "signed-integer", str(out)],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            reason = (done.stderr.strip().splitlines() or ["sox failed"])[-1]
            raise ValueError(f"{path}: {note}, and sox could not convert it: {reason}")
        with wave.open(str(out), "rb") as wav:
            return wav.readframes(wav.getnframes())
