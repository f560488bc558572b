#!/usr/bin/env python3
"""How fast does each shipped routine simulate to its end? (issue 2: "well under a second each")

Times, in this process, loading + compiling + running each shipped routine on the fake clock
(best of 5), and also the whole ``coach run NAME --simulate`` command as a process (which adds
Python start-up). Prints one line per routine.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from coach.core.script import compile_script
from coach.core.session import Session
from coach.log.journal import MemoryJournal
from coach.run.clock import FakeClock
from coach.run.eventlog import EventSink
from coach.run.inputs import Feed
from coach.run.runner import Runner
from coach.spec.locale import load_locale
from coach.spec.routine import load_routine, routine_paths
from coach.testing.speaker import FakeSpeaker


def simulate_once(path: Path) -> tuple[float, int, str]:
    started = time.perf_counter()
    routine = load_routine(path)
    locale = load_locale(routine.language)
    session = Session(compile_script(routine, locale), locale)
    speaker = FakeSpeaker()
    clock = FakeClock()
    runner = Runner(session, clock, speaker, MemoryJournal(), EventSink(None), locale, Feed(clock))
    status = runner.run()
    return time.perf_counter() - started, len(speaker.spoken), status


def main() -> int:
    for name, path in sorted(routine_paths().items()):
        best = min(simulate_once(path)[0] for _ in range(5))
        _, cues, status = simulate_once(path)
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "coach", "run", name, "--simulate"], check=True, stdout=subprocess.DEVNULL)
        process = time.perf_counter() - started
        print(
            f"{name:<18} {cues:4d} cues  {status:<10} in-process {best * 1000:7.2f} ms   whole command {process * 1000:7.1f} ms"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
