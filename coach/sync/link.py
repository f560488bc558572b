"""The connection to the broker: a small :class:`Link` protocol, and paho-mqtt behind it (:class:`MqttLink`).

One paho ``Client`` per connection, driven from the caller's own loop (``client.loop``, no network
thread): what is in flight is the caller's to track (:class:`~coach.sync.window.AckWindow`), and a
lost connection is simply a new client, so paho never re-sends on its own behind the window's back.
Every failure is one line (:class:`SyncError`); the password is read from its file at connect time and
kept only by the client, never in a message.
"""

from __future__ import annotations

import contextlib
import os
import ssl
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from coach.errors import CoachError, InputFileError
from coach.spec.config import parse_broker
from coach.spec.files import read_capped


class SyncError(CoachError, ConnectionError):
    """The broker cannot be reached, refused us, or a sync setting is unusable; one line says which."""


@dataclass(frozen=True)
class Broker:
    """Where the broker is and how to log in (no secret: :attr:`password_file` is read when connecting)."""

    url: str
    username: str | None = None
    password_file: str | None = None
    ca_file: str | None = None
    where: dict[str, str] = field(default_factory=dict)
    """Setting name to ``file:line`` (the config line that set it), for the one line a problem gets."""

    @property
    def tls(self) -> bool:
        return parse_broker(self.url)[0] == "mqtts"


@dataclass(frozen=True)
class Message:
    """A message received (the clinic side): the client's ``mid`` to acknowledge it with, once it is stored."""

    mid: int
    topic: str
    payload: bytes


PASSWORD_MAX_BYTES = 4096
"""A password file is a line; anything bigger is not one."""


def read_password(path: str, where: str = "") -> str:
    """The password in ``path`` (its first line), refusing a file others could read or that is not ours."""
    label = f"{where}: password_file: " if where else "password_file: "
    try:
        info = os.lstat(path)
    except OSError as exc:
        raise SyncError(f"{label}{path}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(info.st_mode):
        raise SyncError(f"{label}{path}: not a plain file (a link or a special file is refused)")
    if info.st_uid != os.geteuid():
        raise SyncError(f"{label}{path}: belongs to uid {info.st_uid}, not to the user coach runs as ({os.geteuid()})")
    if info.st_mode & 0o077:
        raise SyncError(f"{label}{path}: others may read it (mode {stat.S_IMODE(info.st_mode):o}); make it 0600 (chmod 600)")
    try:  # the one safe reader: a path swapped for a FIFO or a device after the lstat is refused on the open file
        text = read_capped(path, PASSWORD_MAX_BYTES, "a password file").decode("utf-8")
    except InputFileError as exc:
        raise SyncError(f"{label}{exc.problems[0]}") from None
    except UnicodeError as exc:
        raise SyncError(f"{label}{path}: cannot read it: {exc}") from None
    return text.splitlines()[0] if text else ""


class Link(Protocol):
    """What the sync loops need of a broker connection (QoS 1 throughout)."""

    def connect(self, timeout: float) -> None:
        """Connect and wait for the broker's answer; raise :class:`SyncError` (one line) within ``timeout`` seconds."""

    @property
    def connected(self) -> bool: ...

    def publish(self, topic: str, payload: bytes, retain: bool = False) -> int:
        """Send at QoS 1; the message id whose acknowledgement :meth:`poll` will report."""

    def subscribe(self, topic: str) -> None: ...

    def poll(self, seconds: float) -> list[int]:
        """Do network work for up to ``seconds``; the message ids acknowledged since the last poll."""

    def received(self) -> list[Message]:
        """Messages received since the last call (the clinic side), not yet acknowledged."""

    def ack(self, mid: int) -> None:
        """Acknowledge a received message (after it is stored: until then the broker keeps it)."""

    def disconnect(self) -> None: ...


MAX_PACKETS_A_POLL = 1000

Will = tuple[str, bytes]
"""A last will: the topic and the retained message the broker publishes if we vanish."""


class MqttLink:
    """:class:`Link` over paho-mqtt 2.x (MQTT 3.1.1)."""

    def __init__(
        self,
        broker: Broker,
        client_id: str,
        *,
        clean: bool = True,
        will: Will | None = None,
        keepalive: int = 30,
        inflight: int = 16,
        manual_ack: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.broker = broker
        self.client_id = client_id
        self.clean = clean
        self.will = will
        self.keepalive = keepalive
        self.inflight = inflight
        self.manual_ack = manual_ack
        self._clock = clock
        self._client: Any = None
        self._acked: list[int] = []
        self._inbox: list[Message] = []
        self._answer: str | None = None
        self._up = False
        self.lost: str | None = None
        """Why the last connection ended, in a few words (None while connected, or after a clean disconnect)."""

    @property
    def connected(self) -> bool:
        return self._up

    def connect(self, timeout: float) -> None:
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion

        _, host, port = parse_broker(self.broker.url)
        self.disconnect()
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=self.client_id,
            clean_session=self.clean,
            protocol=mqtt.MQTTv311,
            manual_ack=self.manual_ack,
        )
        client.max_inflight_messages_set(self.inflight)
        client.connect_timeout = max(0.1, timeout)
        if self.broker.username is not None:
            password = None
            if self.broker.password_file is not None:
                password = read_password(self.broker.password_file, self.broker.where.get("password_file", ""))
            client.username_pw_set(self.broker.username, password)
        if self.broker.tls:
            try:
                client.tls_set(ca_certs=self.broker.ca_file, tls_version=ssl.PROTOCOL_TLS_CLIENT)
            except (OSError, ssl.SSLError, ValueError) as exc:
                where = self.broker.where.get("ca_file", "")
                raise SyncError(f"{where + ': ' if where else ''}ca_file: {self.broker.ca_file}: cannot use it: {exc}") from None
        if self.will is not None:
            client.will_set(self.will[0], self.will[1], qos=1, retain=True)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        client.on_message = self._on_message
        self._answer, self.lost, self._acked, self._inbox = None, None, [], []
        deadline = self._clock() + timeout
        try:
            client.connect(host, port, keepalive=self.keepalive)
            self._client = client
            while self._answer is None and self._clock() < deadline:
                client.loop(timeout=0.05)
        except (OSError, ssl.SSLError) as exc:
            self._drop(client)
            raise SyncError(f"cannot reach the broker at {self.broker.url}: {_reason(exc)}") from None
        if self._answer != "":
            self._drop(client)
            why = self._answer or self.lost or f"no answer within {timeout:g} s"
            raise SyncError(f"the broker at {self.broker.url} did not let us in: {why}")
        self._up = True

    def _drop(self, client: Any) -> None:
        with contextlib.suppress(Exception):  # a half-open client: nothing more to do with it
            client.disconnect()
        self._client, self._up = None, False

    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        self._answer = "" if not reason.is_failure else str(reason)

    def _on_disconnect(self, client: Any, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        self._up = False
        if reason.is_failure:
            self.lost = str(reason)

    def _on_publish(self, client: Any, userdata: Any, mid: int, reason: Any, properties: Any) -> None:
        self._acked.append(mid)

    def _on_message(self, client: Any, userdata: Any, message: Any) -> None:
        self._inbox.append(Message(int(message.mid), str(message.topic), bytes(message.payload)))

    def publish(self, topic: str, payload: bytes, retain: bool = False) -> int:
        if self._client is None:
            raise SyncError(f"not connected to the broker at {self.broker.url}")
        info = self._client.publish(topic, payload, qos=1, retain=retain)
        return int(info.mid)

    def subscribe(self, topic: str) -> None:
        if self._client is None:
            raise SyncError(f"not connected to the broker at {self.broker.url}")
        self._client.subscribe(topic, qos=1)

    def poll(self, seconds: float) -> list[int]:
        if self._client is not None:
            try:
                code = self._client.loop(timeout=seconds)
                # paho reads one packet a loop: go on while packets are waiting, so a burst of messages
                # (a receiver's batch, a window's acknowledgements) is taken in one poll and one commit.
                for _ in range(MAX_PACKETS_A_POLL):
                    seen = len(self._inbox) + len(self._acked)
                    if code != 0:
                        break
                    code = self._client.loop(timeout=0)
                    if len(self._inbox) + len(self._acked) == seen:
                        break
            except (OSError, ssl.SSLError) as exc:
                code, self.lost = -1, _reason(exc)
            if code != 0:
                self.lost = self.lost or f"connection lost ({code})"
                self._up = False
        elif seconds > 0:
            time.sleep(seconds)
        acked, self._acked = self._acked, []
        return acked

    def received(self) -> list[Message]:
        inbox, self._inbox = self._inbox, []
        return inbox

    def ack(self, mid: int) -> None:
        if self._client is not None and self.manual_ack:
            self._client.ack(mid, 1)

    def disconnect(self) -> None:
        """Disconnect cleanly (the broker then drops the will); after flushing what is queued, briefly."""
        client, self._client = self._client, None
        if client is None:
            return
        with contextlib.suppress(Exception):  # going anyway
            client.disconnect()
            client.loop(timeout=0.05)
        self._up = False


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLError):
        return f"TLS: {exc.reason or exc}"
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
