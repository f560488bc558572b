"""``coach sync`` on a station: the outbox to the broker, in order, each record off only when acknowledged.

One loop, one thread: read the next records after the last one sent (up to the window's room), publish
each at QoS 1, poll the connection for acknowledgements, and take off the outbox the acknowledged
records with nothing unacknowledged before them (:class:`~coach.sync.window.AckWindow`). A lost
connection forgets what was in flight; the next one starts again at the outbox's head. :meth:`send_once`
drains the backlog and returns; :meth:`serve` keeps going until told to stop, checking the outbox about
twice a second and reconnecting on its own with a growing pause (1 s doubling to 60 s).

Read-only towards the station: it subscribes to nothing, so nothing from the broker can reach a session.
"""

from __future__ import annotations

import datetime as _dt
import sqlite3
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from coach.errors import JournalError
from coach.log.outbox import OutboxLog, StationStatus
from coach.log.reads import utc_now
from coach.sync.link import Link, SyncError
from coach.sync.messages import discovery_messages, record_message, records_topic, status_message, status_topic
from coach.sync.window import AckWindow

IDLE_POLL_SECONDS = 0.5
"""How often an idle sync looks for new records (and a replaced log), and so how soon it answers SIGTERM (seconds)."""
STATUS_SECONDS = 5.0
"""How often the status is recomputed (published only when it changed)."""
BACKOFF_SECONDS = (1.0, 60.0)
"""The first and the longest pause between connection attempts."""


@dataclass(frozen=True)
class Station:
    """Who this station is on the broker, and what it publishes besides its records."""

    clinic: str
    station: str
    fhir: bool = False
    home_assistant: bool = False
    microphone: bool = True
    """Whether the station listens (recognition enabled): a missing microphone is then a problem."""


def sound_problem(microphone: bool, pcm: Path = Path("/proc/asound/pcm")) -> str:
    """``none``, or what is missing for a session: the sound devices the kernel lists (``/proc/asound/pcm``
    is readable without access to the devices, so the sandboxed sync unit can tell)."""
    try:
        lines = pcm.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        lines = []
    if not any("playback" in line for line in lines):
        return "no audio output"
    if microphone and not any("capture" in line for line in lines):
        return "no microphone"
    return "none"


class Stopped(Exception):
    """Asked to stop (SIGTERM) while sending."""


class StationSync:
    def __init__(
        self,
        outbox: OutboxLog,
        link: Link,
        station: Station,
        *,
        window: int = 16,
        now: Callable[[], _dt.datetime] = utc_now,
        clock: Callable[[], float] = time.monotonic,
        problem: Callable[[], str] | None = None,
        say: Callable[[str], None] | None = None,
        backoff: tuple[float, float] = BACKOFF_SECONDS,
        idle_poll: float = IDLE_POLL_SECONDS,
    ) -> None:
        self.outbox = outbox
        self.backoff = backoff
        self.idle_poll = idle_poll
        """Seconds between looks at the outbox when all is sent (also how soon a stop request is seen)."""
        self.link = link
        self.station = station
        self.window = AckWindow(window)
        self.now = now
        self.clock = clock
        self.problem = problem or (lambda: sound_problem(station.microphone))
        self.say = say or (lambda line: print(f"coach sync: {line}", file=sys.stderr, flush=True))
        self.sent = 0
        """Records acknowledged by the broker (and so off the outbox) since this object was made."""
        self._topic = records_topic(station.clinic, station.station)
        self._status_topic = status_topic(station.clinic, station.station)
        self._last_status: bytes | None = None
        self._status_due = 0.0
        self._said: set[str] = set()

    # --- the two ways to run --------------------------------------------------------------------

    def send_once(self, timeout: float) -> int:
        """Connect, send the whole backlog, say offline and disconnect; return how many records went.

        Raise :class:`SyncError` (one line) when the broker cannot be reached within ``timeout`` seconds,
        or when the connection is lost and no progress is made for that long (what is left stays queued).
        """
        self.link.connect(timeout)
        try:
            self._greet()
            progress = self.clock()
            while not self._drained():
                before = self.sent
                self._step(0.2)
                if not self.link.connected:
                    self.window.reset()
                    self._reconnect_within(progress + timeout)
                    self._greet()
                if self.sent != before:
                    progress = self.clock()
                elif self.clock() - progress > timeout:
                    raise SyncError(f"the broker acknowledged nothing for {timeout:g} s; {self._left()} records left to send")
            self._publish_status(online=False, wait=timeout)
        finally:
            self.link.disconnect()
        return self.sent

    def serve(self, stopping: Callable[[], bool], sleep: Callable[[float], None] = time.sleep) -> None:
        """Send as records come, until ``stopping()``; reconnect on its own with back-off."""
        pause = self.backoff[0]
        while not stopping():
            try:
                self.link.connect(10.0)
            except SyncError as exc:
                self._say_once(f"{exc}; trying again in {pause:g} s")
                nap(pause, stopping, sleep)
                pause = min(pause * 2, self.backoff[1])
                continue
            pause = self.backoff[0]
            self._said.clear()
            self.say(f"connected to {self._describe()}")
            try:
                self._greet()
                while not stopping() and self.link.connected:
                    self._step(self.idle_poll if self._idle() else 0.2)
            except (sqlite3.Error, JournalError) as exc:
                self._say_once(f"cannot read the session log: {exc}; trying again")
                nap(pause, stopping, sleep)
            self.window.reset()
            if stopping():
                break
            self.say(f"connection lost ({getattr(self.link, 'lost', None) or 'closed'}); reconnecting")
        if self.link.connected:
            self._publish_status(online=False, wait=2.0)
        self.link.disconnect()

    # --- the steps --------------------------------------------------------------------------------

    def _greet(self) -> None:
        """Right after connecting: Home Assistant discovery (if wanted) and the online status."""
        if self.station.home_assistant:
            for topic, payload in discovery_messages(self.station.clinic, self.station.station):
                self.link.publish(topic, payload, retain=True)
        self._last_status = None
        self._publish_status(online=True)

    def _step(self, seconds: float) -> None:
        """Fill the window from the outbox, poll the connection, and take off what is acknowledged."""
        if self.outbox.open():
            room = self.window.room()
            if room > 0:
                for item in self.outbox.backlog(after=self.window.last_sent, limit=room):
                    payload = record_message(self.station.clinic, self.station.station, item, self.station.fhir)
                    self.window.sent(self.link.publish(self._topic, payload), item.record_id)
        elif self.outbox.waiting:
            self._say_once(self.outbox.waiting)
        for mid in self.link.poll(seconds if self.window.in_flight() or self._idle() else 0.0):
            self.window.acked(mid)
        done = self.window.take_done()
        if done:
            self.outbox.acknowledge(done)
            self.sent += len(done)
        if self.clock() >= self._status_due or (done and self._idle()):
            self._publish_status(online=True)

    def _publish_status(self, online: bool, wait: float = 0.0) -> None:
        self._status_due = self.clock() + STATUS_SECONDS
        status: StationStatus | None = None
        problem = self.problem()
        try:
            if self.outbox.open():
                status = self.outbox.status(self.now())
            else:
                problem = self.outbox.waiting or problem
        except (sqlite3.Error, JournalError) as exc:
            problem = f"cannot read the session log: {exc}"
        payload = status_message(self.station.station, status, problem, online)
        if payload == self._last_status:
            return
        self._last_status = payload
        mid = self.link.publish(self._status_topic, payload, retain=True)
        deadline = self.clock() + wait
        while wait and self.clock() < deadline and self.link.connected:
            acked = self.link.poll(0.05)
            for other in acked:
                self.window.acked(other)
            if mid in acked:
                return

    def _reconnect_within(self, deadline: float) -> None:
        pause = 0.1
        while True:
            try:
                self.link.connect(max(0.1, min(2.0, deadline - self.clock())))
                return
            except SyncError:
                if self.clock() + pause >= deadline:
                    raise
                time.sleep(pause)
                pause = min(pause * 2, 1.0)

    def _drained(self) -> bool:
        if self.window.in_flight():
            return False
        return not self.outbox.open() or not self.outbox.backlog(limit=1)

    def _idle(self) -> bool:
        return self.window.in_flight() == 0

    def _left(self) -> int:
        return self.outbox.backlog_size() if self.outbox.open() else 0

    def _say_once(self, line: str) -> None:
        if line not in self._said:
            self._said.add(line)
            self.say(line)

    def _describe(self) -> str:
        broker = getattr(self.link, "broker", None)
        return getattr(broker, "url", "the broker")


def nap(seconds: float, stopping: Callable[[], bool], sleep: Callable[[float], None]) -> None:
    """Sleep ``seconds`` in short steps, so a stop request is answered within a fifth of a second."""
    end = time.monotonic() + seconds
    while not stopping() and time.monotonic() < end:
        sleep(min(0.2, max(0.0, end - time.monotonic())))
