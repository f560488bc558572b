"""A minimal ALSA playback stream through ctypes and the system's libasound.

Why this and not ``aplay`` per clip, ``simpleaudio`` or ``sounddevice``: starting a player process
per cue costs a variable 20-400 ms (device open, pulse stream set-up, drain), which is exactly the
jitter the beat cannot afford; ``simpleaudio`` is unmaintained and ``sounddevice`` needs PortAudio
on top of ALSA. libasound is on every Raspberry Pi OS image (``alsa-utils`` depends on it), needs
no build step, and gives the one number precise scheduling needs: ``snd_pcm_delay``, how long
until a sample written now is heard. The device is chosen by its ALSA *name* (``aplay -L``), so a
USB speaker keeps working when card numbers change between boots.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
from array import array

from coach.errors import DeviceError

_STREAM_PLAYBACK = 0
_FORMAT_S16_LE = 2
_ACCESS_RW_INTERLEAVED = 3
_EPIPE = 32
_ESTRPIPE = 86


_ErrorHandler = ctypes.CFUNCTYPE(None, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p)
"""libasound's ``snd_lib_error_handler_t``: file, line, function, errno and a printf format. The
format's arguments follow as C varargs; a handler that never reads them may leave them out (on
x86-64, arm64 and 32-bit ARM these five arrive where a non-variadic function looks for them)."""


def _ignore(file: bytes | None, line: int, function: bytes | None, err: int, fmt: bytes | None) -> None:
    """Drop libasound's own report: every failure it describes also comes back as an error code,
    which the coach turns into one line of its own (``cannot open output device ...``)."""


_quiet = _ErrorHandler(_ignore)


@functools.cache
def _library() -> ctypes.CDLL:
    """libasound, loaded once, with its error printing silenced.

    Without a handler libasound prints its internal errors to stderr itself: on a machine without
    a sound card, eight ``ALSA lib confmisc.c:855:(parse_card) ...`` lines on every open, before the
    coach's one line that says what is missing. ``_quiet`` is a module global, so the callback
    libasound keeps a pointer to is never garbage-collected.
    """
    name = ctypes.util.find_library("asound")
    if name is None:
        raise DeviceError("audio: libasound (ALSA) is not installed; install alsa-utils")
    lib = ctypes.CDLL(name)
    lib.snd_lib_error_set_handler.argtypes = [_ErrorHandler]
    lib.snd_lib_error_set_handler(_quiet)
    lib.snd_strerror.restype = ctypes.c_char_p
    lib.snd_pcm_writei.restype = ctypes.c_long
    lib.snd_pcm_writei.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_ulong]
    lib.snd_pcm_delay.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_long)]
    lib.snd_pcm_recover.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int]
    lib.snd_pcm_close.argtypes = [ctypes.c_void_p]
    lib.snd_pcm_drop.argtypes = [ctypes.c_void_p]
    return lib


class AlsaOutput:
    """A mono 16-bit playback stream on one ALSA device, kept open for the whole session."""

    def __init__(self, device: str | None, rate: int, latency_seconds: float = 0.1) -> None:
        self.device = device or "default"
        self.rate = rate
        self._lib = _library()
        self._pcm = ctypes.c_void_p()
        rc = self._lib.snd_pcm_open(ctypes.byref(self._pcm), self.device.encode(), _STREAM_PLAYBACK, 0)
        if rc < 0:
            raise DeviceError(f"audio: cannot open output device {self.device!r}: {self._error(rc)}")
        rc = self._lib.snd_pcm_set_params(
            self._pcm, _FORMAT_S16_LE, _ACCESS_RW_INTERLEAVED, 1, rate, 1, int(latency_seconds * 1_000_000)
        )
        if rc < 0:
            self.close()
            raise DeviceError(f"audio: device {self.device!r} refuses 16-bit mono at {rate} Hz: {self._error(rc)}")

    def _error(self, rc: int) -> str:
        message: bytes = self._lib.snd_strerror(rc)
        return message.decode(errors="replace")

    def write(self, samples: array[int]) -> None:
        """Queue samples, blocking while the device buffer is full; recovers from underruns."""
        buffer = (ctypes.c_int16 * len(samples)).from_buffer(samples)
        offset = 0
        while offset < len(samples):
            pointer = ctypes.cast(ctypes.byref(buffer, offset * 2), ctypes.c_void_p)
            written = self._lib.snd_pcm_writei(self._pcm, pointer, len(samples) - offset)
            if written < 0:
                if self._lib.snd_pcm_recover(self._pcm, int(written), 1) < 0:
                    raise DeviceError(f"audio: playback failed on {self.device!r}: {self._error(int(written))}")
                continue
            offset += written

    def delay_seconds(self) -> float | None:
        """How long until a sample written now is heard, or ``None`` when the device cannot tell."""
        frames = ctypes.c_long()
        if self._lib.snd_pcm_delay(self._pcm, ctypes.byref(frames)) < 0:
            return None
        return max(0, frames.value) / self.rate

    def close(self) -> None:
        if self._pcm:
            self._lib.snd_pcm_drop(self._pcm)
            self._lib.snd_pcm_close(self._pcm)
            self._pcm = ctypes.c_void_p()
