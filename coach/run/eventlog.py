"""Machine-readable events: JSON Lines, one object per event, flushed per line.

This is the contract benchmarks and other parts rely on: every event has ``type`` and ``t``
(session seconds); see README.md for the types.
"""

from __future__ import annotations

import json
import sys
from typing import IO, Any


class EventSink:
    """Writes events to a stream; with no stream, events are dropped."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        self.stream = stream

    def emit(self, type_: str, t: float, **fields: Any) -> None:
        if self.stream is None:
            return
        event = {"type": type_, "t": t, **{k: v for k, v in fields.items() if v is not None or k == "value"}}
        self.stream.write(json.dumps(event, ensure_ascii=False) + "\n")
        self.stream.flush()

    def close(self) -> None:
        # stdout stays open for whoever else writes to it; an in-memory stream has no file number to ask.
        if self.stream is not None and not self.stream.closed and self.stream not in (sys.stdout, sys.stderr):
            self.stream.close()
