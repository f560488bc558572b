"""``coach clinic receive``: every station's records into one clinic store, each exactly once.

A persistent session (a fixed client id, ``clean_session`` false) subscribed at QoS 1 to
``coach/<clinic>/+/records``: while the receiver is stopped or the network is out, the broker keeps
what the stations send, and hands it over when it is back. Messages are acknowledged by hand, only
after the batch they came in is committed to the store (:func:`~coach.log.remote.store_remote`), so
nothing the broker handed over is lost to a crash here; what comes twice is dropped by its message id.
A batch the store cannot take (a full disk) is not acknowledged: the receiver drops the connection
and the broker delivers the batch again on the next one.
"""

from __future__ import annotations

import sqlite3
import sys
import time
from collections.abc import Callable

from coach.errors import JournalError
from coach.log.remote import Incoming, store_remote
from coach.log.store import Store
from coach.sync.link import Link, Message, SyncError
from coach.sync.messages import parse_record
from coach.sync.station import BACKOFF_SECONDS, nap


def subscription(clinic: str | None) -> str:
    """The records topic of one clinic's stations, or of every clinic's (``None``)."""
    return f"coach/{clinic or '+'}/+/records"


class ClinicReceiver:
    def __init__(
        self,
        store: Store,
        link: Link,
        clinic: str | None = None,
        *,
        say: Callable[[str], None] | None = None,
        backoff: tuple[float, float] = BACKOFF_SECONDS,
    ) -> None:
        self.store = store
        self.backoff = backoff
        self.link = link
        self.topic = subscription(clinic)
        self.say = say or (lambda line: print(f"coach clinic: {line}", file=sys.stderr, flush=True))
        self.stored = 0
        """Records newly filed since this object was made."""
        self.duplicates = 0
        self.refused = 0
        """Messages that were not a station's record (said once each, acknowledged, not filed)."""

    def serve(self, stopping: Callable[[], bool], sleep: Callable[[float], None] = time.sleep) -> None:
        """Receive until ``stopping()``; reconnect on its own with back-off (1 s doubling to 60 s)."""
        pause = self.backoff[0]
        said = ""
        while not stopping():
            try:
                self.link.connect(10.0)
                self.link.subscribe(self.topic)
            except SyncError as exc:
                if str(exc) != said:
                    said = str(exc)
                    self.say(f"{exc}; trying again in {pause:g} s")
                nap(pause, stopping, sleep)
                pause = min(pause * 2, self.backoff[1])
                continue
            pause, said = self.backoff[0], ""
            self.say(f"receiving {self.topic}")
            while not stopping() and self.link.connected:
                self.link.poll(0.2)
                if not self.take(self.link.received()):
                    nap(pause, stopping, sleep)  # the store refused: give the disk a moment before the redelivery
                    pause = min(pause * 2, self.backoff[1])
                    break
            if not stopping():
                self.say(f"connection lost ({getattr(self.link, 'lost', None) or 'closed'}); reconnecting")
        self.link.disconnect()

    def take(self, messages: list[Message]) -> bool:
        """File ``messages`` and acknowledge them; False (nothing acknowledged) when the store refused them."""
        if not messages:
            return True
        good: list[Incoming] = []
        for message in messages:
            try:
                good.append(parse_record(message.topic, message.payload))
            except ValueError as exc:
                self.refused += 1
                self.say(f"{message.topic}: not a coach record ({exc}); dropped")
        try:
            new = store_remote(self.store, good)
        except (sqlite3.Error, OSError, JournalError) as exc:
            self.say(f"{self.store.path}: cannot store {len(good)} records ({exc}); the broker keeps them")
            self.link.disconnect()
            return False
        self.stored += new
        self.duplicates += len(good) - new
        for message in messages:
            self.link.ack(message.mid)
        return True
