"""Ordered acknowledgement: which records may leave the outbox, given the broker's PUBACKs.

``coach sync`` keeps up to :attr:`AckWindow.size` records in flight rather than one, so a slow link
(a clinic's Wi-Fi, 50 ms a round trip) still moves a week's backlog in seconds rather than minutes.
Order is kept all the same: the records go out in record-id order over one TCP connection, the broker
forwards one client's QoS 1 messages on a topic in the order it received them (MQTT 3.1.1, 4.6), and a
record leaves the outbox only when it and every record before it are acknowledged (:meth:`take_done`),
so after a lost connection or a crash sending starts again at the first unacknowledged record. What
the broker already had is then sent twice; the clinic drops the copy by its message id.

Pure: no I/O. The fake-client tests drive it directly.
"""

from __future__ import annotations

from collections import OrderedDict


class AckWindow:
    """Records in flight, by the message id (``mid``) the client gave each publish, in sending order."""

    def __init__(self, size: int = 16) -> None:
        if size < 1:
            raise ValueError(f"window size must be at least 1, got {size}")
        self.size = size
        self._flight: OrderedDict[int, int] = OrderedDict()
        """mid -> record id, oldest first."""
        self._acked: set[int] = set()
        self.last_sent = 0
        """The highest record id sent on this connection (the next backlog read starts after it)."""

    def room(self) -> int:
        return self.size - len(self._flight)

    def in_flight(self) -> int:
        return len(self._flight)

    def sent(self, mid: int, record_id: int) -> None:
        if record_id <= self.last_sent:
            raise ValueError(f"record {record_id} sent after {self.last_sent}: the outbox goes out in order")
        self._flight[mid] = record_id
        self.last_sent = record_id

    def acked(self, mid: int) -> None:
        """The broker acknowledged ``mid``. A mid that is not a record's (a status message) is ignored; the
        client reads acknowledgements only while it is polled, after :meth:`sent` was told of the publish."""
        if mid in self._flight:
            self._acked.add(mid)

    def take_done(self) -> list[int]:
        """Record ids now safe to delete from the outbox: the acknowledged ones with nothing unacknowledged before them."""
        done: list[int] = []
        while self._flight:
            mid, record_id = next(iter(self._flight.items()))
            if mid not in self._acked:
                break
            self._flight.popitem(last=False)
            self._acked.discard(mid)
            done.append(record_id)
        return done

    def reset(self) -> None:
        """The connection is gone: nothing is in flight any more; the next one starts at the outbox's head."""
        self._flight.clear()
        self._acked.clear()
        self.last_sent = 0
