"""Machine-readable events: JSON Lines, one object per event, flushed per line.

This is the contract benchmarks and other parts rely on: every event has ``type`` and ``t``
(session seconds); see README.md for the types.

The events are a by-product; the session and its log are what count. So a sink that cannot be
written (a full disk, ``/dev/full``, a closed stdout, a reader that went away: ``--events - | head -1``)
never stops a session: it says once, on stderr, that events are lost from then on, and drops the rest.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
from typing import IO, Any

_UNSAFE = re.compile("[\u0080-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
"""Characters JSON leaves raw that a terminal or an editor acts on (C1 controls such as CSI U+009B,
text-direction marks); written as ``\\uXXXX``, which is still the same JSON string."""


class EventSink:
    """Writes events to a stream; with no stream, events are dropped."""

    def __init__(self, stream: IO[str] | None = None, complaints: IO[str] | None = None) -> None:
        """``complaints``: where the one "events are lost" line goes (default: stderr at that moment)."""
        self.stream = stream
        self.complaints = complaints
        self.lost: str | None = None
        """Why events are being dropped (the first write that failed), or ``None`` while they are written."""

    def emit(self, type_: str, t: float, **fields: Any) -> None:
        if self.stream is None:
            return
        event = {"type": type_, "t": t, **{k: v for k, v in fields.items() if v is not None or k == "value"}}
        line = _UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", json.dumps(event, ensure_ascii=False))
        try:
            self.stream.write(line + "\n")
            self.stream.flush()
        except (OSError, ValueError) as exc:  # ValueError: the stream was closed under us
            self._lose(exc)

    def _lose(self, exc: Exception) -> None:
        """Stop writing, and say so once; the session goes on."""
        stream, self.stream = self.stream, None
        self.lost = (exc.strerror if isinstance(exc, OSError) else None) or str(exc) or type(exc).__name__
        if stream is sys.stdout and isinstance(exc, BrokenPipeError):
            _silence_stdout()
        else:
            _close_quietly(stream)
        message = f"coach: events are lost from here on ({self.lost}); the session goes on and its log is kept"
        with contextlib.suppress(OSError, ValueError, AttributeError):  # stderr gone too: nothing more to do
            print(message, file=self.complaints or sys.stderr, flush=True)

    def close(self) -> None:
        # stdout stays open for whoever else writes to it; an in-memory stream has no file number to ask.
        if self.stream is not None and not self.stream.closed and self.stream not in (sys.stdout, sys.stderr):
            try:
                self.stream.close()
            except (OSError, ValueError) as exc:  # the last line could not be flushed (a full disk)
                self.stream = None
                self._lose(exc)


def _close_quietly(stream: IO[str] | None) -> None:
    if stream is None or stream in (sys.stdout, sys.stderr):
        return
    with contextlib.suppress(OSError, ValueError):
        stream.close()


def _silence_stdout() -> None:
    """Point fd 1 at /dev/null, so Python's exit does not complain again about the broken pipe (as the docs advise)."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
