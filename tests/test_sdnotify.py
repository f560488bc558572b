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


def test_sdnotify_the_kiosk_pings_the_watchdog_while_idle_and_in_the_menu(tmp_path: Path) -> None:
    """One loop waits everywhere: idle, the menu and the session all wake at least every ping interval."""
    from conftest import SMALL_PIR, cmd, write_routine

    from coach.core.session import SessionSettings
    from coach.log.journal import MemoryJournal
    from coach.run.clock import FakeClock
    from coach.run.eventlog import EventSink
    from coach.run.inputs import Feed
    from coach.run.kiosk import Kiosk, KioskTimes
    from coach.spec.locale import load_locale
    from coach.spec.routine import load_routine
    from coach.testing.speaker import FakeSpeaker

    clock = FakeClock()

    class Watched(Notifier):
        def __init__(self) -> None:
            super().__init__(address="")
            self.watchdog_seconds = 20.0
            self.at: list[float] = []

        def ping(self) -> None:
            self.at.append(clock.now())

    notifier = Watched()
    inputs = [cmd(100, "start"), cmd(200, "help")]  # woken at 100; the menu is never answered; idle again until 200
    kiosk = Kiosk(
        [load_routine(write_routine(tmp_path, SMALL_PIR))],
        load_locale("en"),
        clock,
        FakeSpeaker(),
        Feed(clock, scripted=inputs),
        MemoryJournal,
        EventSink(None),
        lambda routine: SessionSettings(),
        KioskTimes(menu_answer_seconds=15),
        notifier,
    )
    kiosk.run()
    assert kiosk.sessions == [] and 200.0 <= clock.now() <= 205.0
    gaps = [later - earlier for earlier, later in zip([0.0, *notifier.at], notifier.at)]
    assert notifier.at[0] == 0.0 and max(gaps) <= 5.0
    assert any(100 < t < 130 for t in notifier.at)  # in the menu too


def test_sdnotify_says_stopping(tmp_path: Path) -> None:
    path = tmp_path / "notify"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    server.bind(str(path))
    server.settimeout(2)
    Notifier(address=str(path)).stopping("stopping (SIGTERM)")
    assert server.recv(100) == b"STOPPING=1\nSTATUS=stopping (SIGTERM)"
    server.close()
