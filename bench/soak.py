#!/usr/bin/env python3
"""Kiosk soak: many sessions back to back with scripted people and injected faults (issue 7).

Runs the real kiosk loop (menu, session, summary, idle) on the fake clock, so hours of use pass
in seconds, with a journal that fails now and then (a full disk) and a speaker that raises now and
then (a device that vanished). Prints sessions completed, faults injected and survived, and
resident memory (VmRSS) at the start and after each batch: growth beyond noise would be a leak.

    python bench/soak.py --sessions 1000
"""

from __future__ import annotations

import argparse
import contextlib
import io
import random
import sys
import time

from coach.core.messages import Say
from coach.core.records import Record
from coach.core.session import SessionSettings
from coach.errors import JournalError
from coach.log.journal import MemoryJournal
from coach.run.clock import FakeClock
from coach.run.eventlog import EventSink
from coach.run.inputs import Feed, Input
from coach.run.kiosk import Kiosk, KioskTimes
from coach.run.ports import Utterance
from coach.run.sdnotify import Notifier
from coach.spec.locale import load_locale
from coach.spec.routine import load_routine, routine_paths
from coach.testing.speaker import FakeSpeaker

SPACING = 600.0
"""Simulated seconds between two people arriving."""


class FlakyJournal(MemoryJournal):
    """Fails at random; keeps a count, not the records (the soak measures the coach's memory)."""

    def __init__(self, rng: random.Random, failure_rate: float, counter: dict[str, int]) -> None:
        super().__init__()
        self.rng, self.rate, self.counter = rng, failure_rate, counter
        self.count = 0

    def append(self, record: Record) -> int:
        if self.rng.random() < self.rate:
            self.counter["journal"] += 1
            raise JournalError("simulated: No space left on device")
        self.count += 1
        return self.count


class FlakySpeaker(FakeSpeaker):
    """Keeps no history (a long soak would otherwise measure the fake's own list growing)."""

    def __init__(self, rng: random.Random, failure_rate: float, counter: dict[str, int]) -> None:
        super().__init__()
        self.rng, self.rate, self.counter = rng, failure_rate, counter

    def speak(self, say: Say, now: float) -> Utterance:
        if self.rng.random() < self.rate:
            self.counter["speaker"] += 1
            raise RuntimeError("simulated: audio device vanished")
        return Utterance(now, 0.0)

    def show_state(self, state: str, now: float) -> None:
        pass


def person(rng: random.Random, start: float) -> list[Input]:
    """One scripted person: wakes the kiosk, picks a routine, answers some prompts, sometimes pauses."""
    items = [Input("command", "start", "button", start), Input("rating", rng.choice([1, 1, 2, 3]), "button", start + 2)]
    for at in (40, 100, 160, 220):
        if rng.random() < 0.6:
            items.append(Input("heard", rng.choice(["two", "my pain is three", "four", "about a two"]), "heard", start + at))
            items.append(Input("command", "yes", "heard", start + at + 3))
    if rng.random() < 0.3:
        items += [Input("command", "pause", "button", start + 70), Input("command", "resume", "button", start + 90)]
    if rng.random() < 0.1:
        items.append(Input("command", "stop", "button", start + 130))
    return items


def rss_kib() -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=500)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    routines = [load_routine(routine_paths()[name]) for name in ("quick-start", "clinic-station", "sciatica-gentle")]
    counter = {"journal": 0, "speaker": 0}
    locale = load_locale("en")
    clock = FakeClock()
    speaker = FlakySpeaker(rng, 0.005, counter)
    statuses: dict[str, int] = {}
    started = time.perf_counter()
    baseline = None
    done = 0
    print(f"soak: {args.sessions} kiosk sessions, journal failing 2% of writes, speaker failing 0.5% of cues")
    while done < args.sessions:
        batch = min(args.batch, args.sessions - done)
        base = clock.now() + 1.0
        # Longer routines need more time; the spacing leaves room for the longest plus its prompts.
        inputs = [item for k in range(batch) for item in person(rng, base + k * SPACING * 2)]
        kiosk = Kiosk(
            routines,
            locale,
            clock,
            speaker,
            Feed(clock, scripted=inputs),
            lambda: FlakyJournal(rng, 0.02, counter),
            EventSink(None),
            lambda routine: SessionSettings(),
            KioskTimes(menu_answer_seconds=10, abandon_seconds=120),
            Notifier(address=""),
        )
        with contextlib.redirect_stderr(io.StringIO()):  # each fault is told once per session on stderr
            kiosk.run(batch)
        for status in kiosk.sessions:
            statuses[status] = statuses.get(status, 0) + 1
        done += batch
        if baseline is None:
            baseline = rss_kib()
            print(f"  after {done:5d} sessions: RSS {baseline} KiB (baseline, after warm-up)")
        else:
            print(f"  after {done:5d} sessions: RSS {rss_kib()} KiB ({rss_kib() - baseline:+d} KiB)")
    faults = counter["journal"] + counter["speaker"]
    print(f"sessions ended: {sum(statuses.values())} of {args.sessions}: {statuses}")
    print(
        f"faults injected: {faults} (journal {counter['journal']}, speaker {counter['speaker']}); "
        f"every session reached its end: {sum(statuses.values()) == args.sessions}"
    )
    print(f"simulated time {clock.now() / 3600:.1f} h in {time.perf_counter() - started:.1f} s of wall time")
    return 0


if __name__ == "__main__":
    sys.exit(main())
