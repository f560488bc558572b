"""The playback thread: feeds the timeline to the audio device, each chunk placed at the session
time it will actually be heard.

The device is written continuously (silence between cues), so its latency stays constant and
known: before each chunk the player asks the device how long until a sample written now is heard
(``delay``), and a :class:`~coach.voice.streamclock.StreamClock` turns those answers into a
steady line (the device's real rate and latency) on which each chunk is rendered for exactly the
moment it will be heard. A sound card whose crystal runs a little fast or slow therefore never
adds up to drift, and a clip is never chopped by corrections.
"""

from __future__ import annotations

import threading
import time
from array import array
from collections.abc import Callable
from typing import Protocol

from coach.errors import DeviceError
from coach.run.clock import Clock
from coach.voice.mixer import Timeline
from coach.voice.streamclock import StreamClock

CHUNK_SECONDS = 0.010
"""Audio handed to the device at a time (seconds): small, so a new cue can start within it."""
RETRY_SECONDS = (1.0, 2.0, 5.0, 10.0, 30.0)
"""Back-off between attempts to reopen a device that failed (seconds; the last one repeats)."""


class Output(Protocol):
    """An open audio output stream (ALSA in real life, a fake in tests)."""

    rate: int

    def write(self, samples: array[int]) -> None: ...

    def delay_seconds(self) -> float | None: ...

    def close(self) -> None: ...


class Player:
    """Runs the timeline through an output in a daemon thread; reopens the device if it fails."""

    def __init__(
        self,
        open_output: Callable[[], Output],
        timeline: Timeline,
        clock: Clock,
        on_fault: Callable[[str], None] = lambda message: None,
        on_recovered: Callable[[], None] = lambda: None,
    ) -> None:
        self.open_output = open_output
        self.timeline = timeline
        self.clock = clock
        self.on_fault = on_fault
        self.on_recovered = on_recovered
        self.healthy = False
        self.ready = threading.Event()
        """Set once the device is open and reporting its delay: the stream is warm."""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="audio-player", daemon=True)
        self._output: Output | None = None
        self._lock = threading.Lock()
        self._stream_clock: StreamClock | None = None
        self._started_without_output = False

    def start(self, output: Output | None = None) -> None:
        """Start playing; ``output`` is an already opened stream (so start-up errors surface early)."""
        self._output = output
        self._started_without_output = output is None
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2.0)
        if self._output is not None:
            self._output.close()
            self._output = None

    def _run(self) -> None:
        attempt = 0
        while not self._stop.is_set():
            try:
                if self._output is None:
                    self._output = self.open_output()
                    if attempt or self._started_without_output:
                        self.on_recovered()
                self.healthy = True
                self._stream(self._output)
            except DeviceError as exc:
                self.healthy = False
                self.ready.clear()
                if self._output is not None:
                    self._output.close()
                    self._output = None
                if attempt == 0:
                    self.on_fault(str(exc))
                self._stop.wait(RETRY_SECONDS[min(attempt, len(RETRY_SECONDS) - 1)])
                attempt += 1
                continue
            return

    def _stream(self, output: Output) -> None:
        frames = max(1, round(CHUNK_SECONDS * output.rate))
        with self._lock:
            self._stream_clock = StreamClock(output.rate)
        while not self._stop.is_set():
            output.write(self._next_chunk(output, frames))

    def _next_chunk(self, output: Output, frames: int) -> array[int]:
        with self._lock:
            assert self._stream_clock is not None
            delay = output.delay_seconds()
            now = self.clock.now()  # after asking, so a preemption can only make the answer late
            self._stream_clock.observe(None if delay is None else now + delay, now)
            if delay is not None:
                self.ready.set()
            chunk = self.timeline.render(self._stream_clock.next_heard(), frames)
            self._stream_clock.advance(frames)
            return chunk

    def restart_clock(self, reset: Callable[[], None]) -> None:
        """Run ``reset`` (which moves session time zero) between two chunks, and forget positions."""
        with self._lock:
            reset()
            if self._stream_clock is not None:
                self._stream_clock.reset()
            self.timeline.forget_rendered()

    def wait_ready(self, timeout: float) -> bool:
        """Block until the stream is warm (the device reports its delay), at most ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.ready.wait(0.05):
                return True
            if not self._thread.is_alive():
                return False
        return self.ready.is_set()
