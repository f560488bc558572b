"""sd_notify over a real UNIX datagram socket."""

from __future__ import annotations

import socket
from pathlib import Path

from coach.run.sdnotify import Notifier


def test_sdnotify_sends_ready_and_watchdog(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "notify"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    server.bind(str(path))
    server.settimeout(2)
    monkeypatch.setenv("NOTIFY_SOCKET", str(path))
    monkeypatch.setenv("WATCHDOG_USEC", "20000000")
    notifier = Notifier()
    assert notifier.ping_every == 5.0
    notifier.ready("waiting for a person")
    assert server.recv(100) == b"READY=1\nSTATUS=waiting for a person"
    notifier.ping()
    notifier.ping()  # too soon: only one datagram
    assert server.recv(100) == b"WATCHDOG=1"
    server.setblocking(False)
    try:
        extra = server.recv(100)
    except BlockingIOError:
        extra = b""
    assert extra == b""
    server.close()


def test_sdnotify_does_nothing_outside_systemd(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    monkeypatch.delenv("WATCHDOG_USEC", raising=False)
    notifier = Notifier()
    assert not notifier.enabled and notifier.send("READY=1") is False and notifier.ping_every is None
    notifier.ping()
