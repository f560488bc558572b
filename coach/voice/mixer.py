"""The playback timeline: which clip sounds when, and what happens when two would overlap.

Pure logic (no audio device, no clock): the player asks it to :meth:`Timeline.render` the samples
for a stretch of session time, and the speaker :meth:`Timeline.schedule`-s clips at their due
times. The overlap rule, so speech never piles up:

- a **count** or phase **cue** is time-critical: it starts exactly when due, and whatever is
  still playing then is cut (with a 10 ms fade, so there is no click);
- an **instruction** is long and movable: if something is still playing when it is due, it is
  moved to start right after that ends.
"""

from __future__ import annotations

import threading
from array import array
from dataclasses import dataclass

FADE_SECONDS = 0.010
"""Length of the fade-out when a clip is cut short by a time-critical cue (seconds)."""
MOVABLE = "instruction"


@dataclass
class Scheduled:
    """A clip placed on the session timeline."""

    start: float
    """Session time of the clip's first sample (seconds)."""
    samples: array[int]
    rate: int
    kind: str
    text: str = ""
    end: float = 0.0
    """Session time the clip stops: its natural end, or earlier when cut."""

    def __post_init__(self) -> None:
        if not self.end:
            self.end = self.start + len(self.samples) / self.rate

    @property
    def natural_end(self) -> float:
        return self.start + len(self.samples) / self.rate


class Timeline:
    """Non-overlapping scheduled clips, safe to use from the runner and the player thread."""

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self._items: list[Scheduled] = []
        self._lock = threading.Lock()
        self.rendered_until = float("-inf")
        """Session time up to which audio has been handed to the device (nothing before it can change)."""

    def schedule(self, samples: array[int], due: float, kind: str, text: str = "") -> Scheduled:
        """Place a clip due at ``due``; returns it with its actual start (later, if it was moved)."""
        with self._lock:
            due = max(due, self.rendered_until)
            item = Scheduled(due, samples, self.rate, kind, text)
            playing = [i for i in self._items if i.start <= due < i.end]
            if playing and kind == MOVABLE:
                item.start = max(i.end for i in playing)
                item.end = item.natural_end
            else:
                for other in playing:
                    other.end = due
            self._items.append(item)
            self._resolve_later(item)
            self._items.sort(key=lambda i: i.start)
            return item

    def _resolve_later(self, placed: Scheduled) -> None:
        """Clips that start while ``placed`` plays: movable ones wait for it, critical ones cut it."""
        for other in sorted(self._items, key=lambda i: i.start):
            if other is placed or not (placed.start < other.start < placed.end):
                continue
            if other.kind == MOVABLE and other.start >= self.rendered_until:
                other.start = placed.end
                other.end = other.natural_end
            else:
                placed.end = other.start

    def forget_rendered(self) -> None:
        """The session clock was restarted: nothing rendered so far constrains new clips."""
        with self._lock:
            self.rendered_until = float("-inf")

    def cancel_from(self, when: float) -> None:
        """Silence everything from session time ``when`` on (pause, stop, skip)."""
        with self._lock:
            when = max(when, self.rendered_until)
            self._items = [i for i in self._items if i.start < when]
            for item in self._items:
                item.end = min(item.end, when)

    def busy_until(self) -> float:
        with self._lock:
            return max((i.end for i in self._items), default=float("-inf"))

    def render(self, start: float, frames: int) -> array[int]:
        """The ``frames`` samples that play from session time ``start``."""
        out = array("h", bytes(2 * frames))
        end = start + frames / self.rate
        with self._lock:
            self.rendered_until = end
            for item in self._items:
                if item.end <= start or item.start >= end:
                    continue
                self._mix(item, start, frames, out)
            self._items = [i for i in self._items if i.end > end]
        return out

    def _mix(self, item: Scheduled, start: float, frames: int, out: array[int]) -> None:
        first_out = max(0, round((item.start - start) * self.rate))
        first_in = max(0, round((start - item.start) * self.rate))
        stop_in = min(len(item.samples), round((item.end - item.start) * self.rate))
        count = min(frames - first_out, stop_in - first_in)
        if count <= 0:
            return
        out[first_out : first_out + count] = item.samples[first_in : first_in + count]
        if item.end < item.natural_end:
            fade = max(1, round(FADE_SECONDS * self.rate))
            for k in range(count):
                remaining = stop_in - (first_in + k)
                if remaining < fade:
                    out[first_out + k] = int(out[first_out + k] * remaining / fade)
