"""systemd's notify protocol (``sd_notify``) without a dependency: one datagram on a UNIX socket.

Under ``Type=notify`` the service says READY once it can take a person, pings the watchdog
from the runner's loop, so a hung loop is killed and restarted by systemd, and says STOPPING
when a stop request ends it. Outside systemd
(``$NOTIFY_SOCKET`` unset) every call does nothing.
"""

from __future__ import annotations

import os
import socket
import time


class Notifier:
    def __init__(self, address: str | None = None) -> None:
        self.address = address if address is not None else os.environ.get("NOTIFY_SOCKET", "")
        watchdog_usec = os.environ.get("WATCHDOG_USEC", "")
        self.watchdog_seconds = int(watchdog_usec) / 1_000_000 if watchdog_usec.isdigit() else None
        self._last_ping = 0.0

    @property
    def enabled(self) -> bool:
        return bool(self.address)

    def send(self, message: str) -> bool:
        """Send ``message`` (e.g. ``READY=1``); False if there is no systemd to tell or it failed."""
        if not self.address:
            return False
        target = "\0" + self.address[1:] if self.address.startswith("@") else self.address
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
                sock.connect(target)
                sock.sendall(message.encode())
        except OSError:
            return False
        return True

    def ready(self, status: str = "") -> None:
        self.send("READY=1" + (f"\nSTATUS={status}" if status else ""))

    def stopping(self, status: str = "") -> None:
        """Tell systemd the service is shutting down (on a stop request), before the last clean-up."""
        self.send("STOPPING=1" + (f"\nSTATUS={status}" if status else ""))

    def status(self, status: str) -> None:
        self.send(f"STATUS={status}")

    def ping(self) -> None:
        """Pet the watchdog, at most a few times per watchdog interval."""
        if self.watchdog_seconds is None:
            return
        now = time.monotonic()
        if now - self._last_ping >= self.watchdog_seconds / 4:
            self._last_ping = now
            self.send("WATCHDOG=1")

    @property
    def ping_every(self) -> float | None:
        """How often the loop must wake to ping (seconds), or ``None`` without a watchdog."""
        return None if self.watchdog_seconds is None else self.watchdog_seconds / 4
