"""Stop requests and a kiosk that never gives up: on a fake clock, in this process.

A signal becomes an item in the inbox (coach/run/stopping.py); the runner ends a session in progress
as ``stopped`` between steps, and the kiosk tells systemd STOPPING=1. A real-time kiosk with no
input waits (and tries its missing inputs again) instead of returning.
"""

from __future__ import annotations

import io
import json
import os
import queue
import signal
import socket
import threading
from pathlib import Path
from typing import Any

from conftest import SMALL_PIR, cmd, rating, simulate, write_routine

from coach.core.session import SessionSettings
from coach.log.journal import MemoryJournal
from coach.run.clock import FakeClock
from coach.run.eventlog import EventSink
from coach.run.inputs import Feed, Input
from coach.run.kiosk import Kiosk, KioskTimes
from coach.run.ports import InputSource
from coach.run.retry import Part, Retrying
from coach.run.runner import STOP_DRAIN_SECONDS
from coach.run.sdnotify import Notifier
from coach.run.stopping import StopRequests, exit_status, stop_request
from coach.spec.locale import load_locale
from coach.spec.routine import Routine, load_routine
from coach.testing.speaker import FakeSpeaker


class Endless(Feed):
    """A live feed (something could always arrive) that fails the test instead of waiting forever."""

    def __init__(self, clock: FakeClock, scripted: list[Input], give_up: float = 100_000.0) -> None:
        super().__init__(clock, scripted=scripted, live=True)
        self.give_up = give_up

    def next(self, deadline: float | None) -> tuple[Input, float] | None:
        assert self.clock.now() < self.give_up, "the kiosk never stopped"
        return super().next(deadline)


class Pinged(Notifier):
    def __init__(self, clock: FakeClock, address: str = "") -> None:
        super().__init__(address=address)
        self.watchdog_seconds = 20.0
        self.clock = clock
        self.pings: list[float] = []

    def ping(self) -> None:
        self.pings.append(self.clock.now())


def kiosk_on(
    tmp_path: Path, inputs: list[Input], address: str = "", routines: list[Routine] | None = None
) -> tuple[Kiosk, FakeSpeaker, list[MemoryJournal]]:
    clock = FakeClock()
    stream = io.StringIO()
    journals: list[MemoryJournal] = []

    def open_journal() -> MemoryJournal:
        journals.append(MemoryJournal())
        return journals[-1]

    speaker = FakeSpeaker()
    kiosk = Kiosk(
        routines or [load_routine(write_routine(tmp_path, SMALL_PIR))],
        load_locale("en"),
        clock,
        speaker,
        Endless(clock, inputs),
        open_journal,
        EventSink(stream),
        lambda routine: SessionSettings(),
        KioskTimes(menu_answer_seconds=10, abandon_seconds=60),
        Pinged(clock, address),
    )
    return kiosk, speaker, journals


def events_of(kiosk: Kiosk) -> list[dict[str, Any]]:
    stream = kiosk.events.stream
    assert isinstance(stream, io.StringIO)
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_stopping_a_signal_mid_session_ends_it_as_stopped_and_says_stopping_to_systemd(tmp_path: Path) -> None:
    notify = tmp_path / "notify"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    server.bind(str(notify))
    server.settimeout(2)
    inputs = [cmd(1, "start"), cmd(2, "start"), stop_request("SIGTERM", 20.0)]
    kiosk, speaker, journals = kiosk_on(tmp_path, inputs, str(notify))
    kiosk.run()
    assert kiosk.stopped == "SIGTERM" and kiosk.sessions == ["stopped"]
    assert [r["status"] for r in journals[0].records if r["kind"] == "session_end"] == ["stopped"]
    messages = []
    while True:
        try:
            messages.append(server.recv(200).decode())
        except TimeoutError:
            break
        server.settimeout(0.05)
    server.close()
    assert messages[0].startswith("READY=1") and messages[-1] == "STOPPING=1\nSTATUS=stopping (SIGTERM)"
    events = events_of(kiosk)
    end = next(e for e in events if e["type"] == "end")
    assert end == {"type": "end", "t": 20.0, "status": "stopped"}
    assert {"type": "notice", "t": 20.0, "text": "SIGTERM: stopping"} in events
    assert speaker.interrupts[-1] == 20.0 + STOP_DRAIN_SECONDS  # what is being said may finish, briefly


def test_stopping_a_signal_while_idle_ends_the_kiosk_with_nothing_recorded(tmp_path: Path) -> None:
    kiosk, _, journals = kiosk_on(tmp_path, [stop_request("SIGHUP", 7200.0)])
    kiosk.run()
    assert kiosk.stopped == "SIGHUP" and kiosk.sessions == [] and journals == []
    pings = kiosk.notifier.pings  # type: ignore[attr-defined]
    assert pings[-1] == 7195.0 and max(b - a for a, b in zip(pings, pings[1:])) <= 5.0  # two hours of watchdog pings


def test_stopping_a_live_kiosk_with_no_input_keeps_waiting_instead_of_returning(tmp_path: Path) -> None:
    """Nothing arrives for a day (systemd's stdin is /dev/null, no buttons, no model): the kiosk is still there."""
    kiosk, _, _ = kiosk_on(tmp_path, [stop_request("SIGTERM", 86_400.0)])
    kiosk.run()
    assert kiosk.stopped == "SIGTERM"
    assert kiosk.clock.now() == 86_400.0


def test_stopping_coach_run_records_stopped_for_every_stop_signal() -> None:
    routine = load_routine(Path(__file__).resolve().parent.parent / "routines" / "quick-start.yaml")
    for name in ("SIGINT", "SIGTERM", "SIGHUP"):
        run = simulate(routine, [rating(5, 3), stop_request(name, 40.0)])
        assert run.status == "stopped"
        assert [r["status"] for r in run.journal.records if r["kind"] == "session_end"] == ["stopped"]
        assert not [e for e in run.events if e["type"] == "say" and e["t"] > 40.0]  # nothing more is said
    assert (exit_status("SIGINT"), exit_status("SIGTERM"), exit_status("SIGHUP")) == (130, 143, 129)


def test_stopping_a_real_signal_becomes_an_inbox_item_not_an_exception() -> None:
    inbox: queue.Queue[Input] = queue.Queue()
    before = signal.getsignal(signal.SIGINT)
    with StopRequests(inbox) as requests:
        os.kill(os.getpid(), signal.SIGINT)  # would be KeyboardInterrupt
        os.kill(os.getpid(), signal.SIGTERM)  # would kill the test run
        first, second = inbox.get(timeout=2), inbox.get(timeout=2)
    assert (first.kind, first.value, second.value) == ("stop", "SIGINT", "SIGTERM")
    assert requests.received == "SIGINT"
    assert signal.getsignal(signal.SIGINT) is before
    assert not [t for t in threading.enumerate() if t.name == "stop-requests"]


class FakeInput:
    """An input source that, once started, has someone press start and choose the first routine."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.started_at: float | None = None
        self.closed = False

    def start(self, inbox: queue.Queue[Input], clock: Any = None) -> None:
        self.started_at = self.clock.now()
        inbox.put(Input("command", "start", "button", self.clock.now() + 1))

    def close(self) -> None:
        self.closed = True

    def show_state(self, state: str) -> None:
        pass


def test_stopping_the_kiosk_tries_missing_inputs_again_every_few_seconds_and_uses_them(tmp_path: Path) -> None:
    kiosk, _, _ = kiosk_on(tmp_path, [stop_request("SIGTERM", 60.0)])
    clock = kiosk.clock
    assert isinstance(clock, FakeClock)
    lines: list[str] = []
    buttons = FakeInput(clock)
    tries = {"voice input": 0, "buttons": 0}

    def voice() -> tuple[InputSource | None, str | None]:
        tries["voice input"] += 1
        return None, "coach: voice input is off: no model"

    def controls() -> tuple[InputSource | None, str | None]:
        tries["buttons"] += 1
        if tries["buttons"] < 4:
            return None, "coach: controls: no GPIO on this machine"
        return buttons, None

    retrying = Retrying(
        [Part("voice input", voice), Part("buttons", controls, lambda source: kiosk.attach_display(source))],  # type: ignore[arg-type]
        kiosk.feed.inbox,
        clock,
        every=5.0,
        report=lines.append,
    )
    kiosk.upkeep = retrying.upkeep
    kiosk.run()
    assert [t for t, name in retrying.attempts if name == "buttons"] == [0.0, 5.0, 10.0, 15.0]
    assert [t for t, name in retrying.attempts if name == "voice input"] == [5.0 * n for n in range(12)]
    assert buttons.started_at == 15.0 and kiosk.displays == [buttons]
    assert lines == [  # each said once, however often it is tried
        "coach: voice input is off: no model (trying again every 5 s)",
        "coach: controls: no GPIO on this machine (trying again every 5 s)",
        "coach: buttons: working now",
    ]
    wake = next(e for e in events_of(kiosk) if e["type"] == "wake")
    assert wake == {"type": "wake", "t": 15.0, "source": "button"}  # the buttons, once up, woke the kiosk
    retrying.close()
    assert buttons.closed


def test_stopping_a_part_that_raises_is_said_and_tried_again() -> None:
    clock = FakeClock()
    lines: list[str] = []

    def broken() -> tuple[InputSource | None, str | None]:
        raise RuntimeError("the driver fell over")

    retrying = Retrying([Part("voice input", broken)], queue.Queue(), clock, every=5.0, report=lines.append)
    assert retrying.upkeep(0.0) == 5.0 and retrying.upkeep(3.0) == 5.0 and retrying.upkeep(5.0) == 10.0
    assert lines == ["coach: voice input: the driver fell over (trying again every 5 s)"]


def test_stopping_a_request_during_the_menu_ends_the_kiosk_before_any_session(tmp_path: Path) -> None:
    """A stop request that comes while the menu is being said ends the kiosk there: no session is begun."""
    kiosk, _, journals = kiosk_on(tmp_path, [cmd(1, "start"), stop_request("SIGINT", 2.0), rating(3, 1)])
    kiosk.run()
    assert kiosk.stopped == "SIGINT" and kiosk.sessions == [] and journals == []
