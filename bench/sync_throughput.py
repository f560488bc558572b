#!/usr/bin/env python3
"""Clinic sync throughput: N stations x M sessions through one Mosquitto into one clinic store.

Seeds each station's log through the store (the real schema and outbox; 21 records a session: the
session, its screen, a rating before, 8 exercises each with a rating, a rating after, the end), starts
``mosquitto`` on a free loopback port and ``coach clinic receive`` as a real process, then runs one
``coach sync --once`` process per station, all at once, and times until the clinic store holds every
record. Then one station that was off for a week (``--week-sessions`` sessions queued) syncs alone:
the time from starting ``coach sync --once`` to the last of its records filed at the clinic.

    python bench/sync_throughput.py                              # 10 stations x 1,000 sessions
    python bench/sync_throughput.py --stations 2 --sessions 50   # a quick look

Prints records per second end to end (station outbox -> broker -> clinic store, committed) and checks
that every record landed exactly once.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from coach.core.records import ExerciseResult, RatingRecorded, Record, Screened, SessionEnded, SessionStarted  # noqa: E402
from coach.log.store import Pending, Store, utc_now, wall_text  # noqa: E402


def session_records() -> list[Record]:
    records: list[Record] = [SessionStarted(0.0, "lumbar-pir", "Lumbar PIR", "abc123", "en"), Screened(5.0, "clear")]
    records.append(RatingRecorded(10.0, 4, "answered", "button", "before"))
    for n in range(8):
        records.append(ExerciseResult(60.0 + 60 * n, f"exercise-{n}", n, "done", 3))
        records.append(RatingRecorded(62.0 + 60 * n, 3, "answered", "voice", "exercise", exercise=f"exercise-{n}"))
    records.append(RatingRecorded(600.0, 2, "answered", "button", "after"))
    records.append(SessionEnded(610.0, "completed", 8, 8))
    return records


def seed(folder: Path, sessions: int) -> int:
    """``sessions`` sessions in ``folder``'s log, one transaction each; the number of records."""
    store = Store(folder)
    count = 0
    wall = wall_text(utc_now())
    for _ in range(sessions):
        items = [Pending(record, wall) for record in session_records()]
        store.write(items, "p1")  # the session record first: the rest take its id as their session
        count += len(items)
    store.close()
    return count


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def clinic_count(folder: Path) -> int:
    try:
        with sqlite3.connect(f"file:{folder / 'coach.db'}?mode=ro", uri=True, timeout=5) as conn:
            return int(conn.execute("SELECT count(*) FROM records").fetchone()[0])
    except sqlite3.Error:
        return 0


def wait_for(folder: Path, total: int, limit: float) -> float:
    began = time.monotonic()
    while clinic_count(folder) < total:
        if time.monotonic() - began > limit:
            raise SystemExit(f"only {clinic_count(folder)} of {total} records reached the clinic in {limit:g} s")
        time.sleep(0.05)
    return time.monotonic()


def coach(*args: str) -> list[str]:
    return [sys.executable, "-m", "coach", *args]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stations", type=int, default=10)
    parser.add_argument("--sessions", type=int, default=1000, help="sessions per station")
    parser.add_argument("--week-sessions", type=int, default=70, help="a week off at 10 sessions a day")
    parser.add_argument("--limit", type=float, default=1800.0, help="give up after this many seconds")
    args = parser.parse_args()
    mosquitto = shutil.which("mosquitto") or shutil.which("mosquitto", path="/usr/sbin:/sbin")
    if mosquitto is None:
        raise SystemExit("needs mosquitto (apt-get install mosquitto)")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    with tempfile.TemporaryDirectory(prefix="sync-bench-") as tmp:
        base = Path(tmp)
        port = free_port()
        (base / "mosquitto.conf").write_text(
            f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest none\n"
            "max_queued_messages 0\nmax_inflight_messages 100\n"
        )
        broker = subprocess.Popen([mosquitto, "-c", str(base / "mosquitto.conf")])
        url = f"mqtt://127.0.0.1:{port}"
        receiver = None
        try:
            began = time.monotonic()
            total = sum(seed(base / f"st{n}", args.sessions) for n in range(args.stations))
            week = seed(base / "away", args.week_sessions)
            print(f"seeded {args.stations} stations x {args.sessions} sessions = {total} records "
                  f"(+ {week} for the week away) in {time.monotonic() - began:.1f} s")  # fmt: skip
            receiver = subprocess.Popen(coach("clinic", "receive", "--broker", url, "--state-dir", str(base / "clinic")),
                                        env=env, stderr=subprocess.DEVNULL)  # fmt: skip
            time.sleep(1.0)  # its subscription first: what is published before it is not kept for it
            configs = []
            for name in [*(f"st{n}" for n in range(args.stations)), "away"]:
                path = base / f"{name}.yaml"
                path.write_text(f"sync:\n  broker: {url}\n  clinic: bench\n  station: {name}\n")
                configs.append((name, path))
            began = time.monotonic()
            def once(name: str, path: Path) -> list[str]:
                return coach("--config", str(path), "sync", "--once", "--state-dir", str(base / name))

            senders = [subprocess.Popen(once(name, path), env=env, stderr=subprocess.DEVNULL) for name, path in configs[:-1]]
            codes = [sender.wait(args.limit) for sender in senders]
            sent = time.monotonic()
            done = wait_for(base / "clinic", total, args.limit)
            seconds = done - began
            print(f"{args.stations} stations at once: {total} records in {seconds:.1f} s = {total / seconds:,.0f} records/s "
                  f"(senders done after {sent - began:.1f} s; exit codes {sorted(set(codes))})")  # fmt: skip
            name, path = configs[-1]
            began = time.monotonic()
            code = subprocess.run(once(name, path), env=env, stderr=subprocess.DEVNULL).returncode
            done = wait_for(base / "clinic", total + week, args.limit)
            print(f"a station off for a week ({args.week_sessions} sessions, {week} records): "
                  f"{done - began:.2f} s to sync, process start included (exit {code})")  # fmt: skip
            with sqlite3.connect(base / "clinic" / "coach.db") as conn:
                rows, unique = conn.execute("SELECT count(*), count(DISTINCT message_id) FROM records").fetchone()
                sessions = conn.execute("SELECT count(*) FROM sessions").fetchone()[0]
            expected = args.stations * args.sessions + args.week_sessions
            print(f"clinic store: {rows} records ({unique} distinct message ids), {sessions} sessions (expected {expected})")
            return 0 if rows == unique == total + week and sessions == expected else 1
        finally:
            if receiver is not None:
                receiver.terminate()
                receiver.wait(10)
            broker.terminate()
            broker.wait(10)


if __name__ == "__main__":
    sys.exit(main())
