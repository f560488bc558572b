#!/usr/bin/env python3
"""The session log at scale (issue 16): history, the exports and the report over 1k, 10k, 100k sessions.

Seeds a state folder per size through the real journal (:class:`coach.log.store.SqliteJournal`, one
``append`` and one committed transaction per record, ``synchronous=FULL`` as ``coach run`` writes), with
realistic sessions: a red-flag screen, pain before and after, five exercises (one skipped now and then,
one easier form), ratings during exercises, a pause and resume, a safety event, now and then an
interrupted session (closed as ``interrupted`` by the next journal open) and profile codes of a clinic.
About 13 records a session. The folders are kept (``--cache``) and reused when they hold the size asked.

``--copy-from-10k`` builds the 100k folder by SQL from the 10k one instead of seeding it (the 10k sessions
copied ten times with ids and start times shifted; same record shapes): a tenth of the seeding time.

Then each measurement runs as its own process (``coach history --limit N``, ``export --format csv|json|fhir
--out``, ``report --out``), timed around ``cli.main`` (the import of coach excluded), with its peak
resident memory (``ru_maxrss``); with ``--tracemalloc`` a second run gives the peak of Python's heap.
``--code DIR`` measures another checkout of coach (e.g. ``git archive`` of an older commit) on the same logs.

    python bench/log_scale.py                         # 1k and 10k
    python bench/log_scale.py --sizes 1000,10000,100000 --copy-from-10k --tracemalloc
    python bench/log_scale.py --sizes 1000 --code /tmp/coach-before --only export-csv,report
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from coach.core.records import (  # noqa: E402
    ExerciseResult,
    Paused,
    RatingRecorded,
    Record,
    Resumed,
    SafetyFired,
    Screened,
    SessionEnded,
    SessionStarted,
)
from coach.log.store import SqliteJournal  # noqa: E402

START = _dt.datetime(2025, 1, 6, 8, 0, tzinfo=_dt.UTC)
EXERCISES = ("back-release", "pelvic-tilt", "knee-to-chest", "cat-camel", "bridge")
PROFILES = (None, *(f"P{n:03d}" for n in range(1, 40)))
MEASUREMENTS = {
    "history": ["history", "--limit", "{n}"],
    "export-csv": ["export", "--format", "csv", "--out", "{out}/export.csv"],
    "export-json": ["export", "--format", "json", "--out", "{out}/export.json"],
    "export-fhir": ["export", "--format", "fhir", "--out", "{out}/export.fhir.json"],
    "report": ["report", "--out", "{out}/report.html"],
}
CHILD = """
import json, resource, sys, time, tracemalloc
sys.path.insert(0, sys.argv[1])
from coach.cli import main as cli
trace = sys.argv[2] == "trace"
if trace:
    tracemalloc.start()
began, cpu = time.perf_counter(), time.process_time()
code = cli.main(sys.argv[3:])
elapsed, cpu = time.perf_counter() - began, time.process_time() - cpu
peak = tracemalloc.get_traced_memory()[1] if trace else None
with open(sys.argv[3 + sys.argv[3:].index("--state-dir") + 1] + "/../measure.json", "w") as out:
    json.dump({"code": code, "seconds": elapsed, "cpu": cpu, "maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
               "traced_peak": peak}, out)
"""


class Wall:
    """The journal's wall clock, moved by the seeder."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> _dt.datetime:
        return self.now


def session_records(rng: random.Random, cut: bool) -> list[Record]:
    """One session as ``coach run`` would log it (times in session seconds); ``cut``: the plug pulled midway."""
    out: list[Record] = [SessionStarted(0.0, "quick-start", "Quick Start", "abc123def456", "en"), Screened(8.0, "clear")]
    before = rng.randint(2, 8)
    out.append(RatingRecorded(20.0, before, "answered", "keyboard", "before", None, "direct"))
    t, done = 30.0, 0
    for index, name in enumerate(EXERCISES):
        if cut and index == 3:
            return out
        if index == 1 and rng.random() < 0.3:
            out.append(Paused(t + 10, "exercise", name))
            out.append(Resumed(t + 25, name))
        if index == 2:
            value = max(0, min(10, before + rng.randint(-2, 3)))
            out.append(RatingRecorded(t + 30, value, "answered", "heard", "unprompted", name, "yes"))
            if value > 5:
                out.append(SafetyFired(t + 31, "too-much", "regress", "pain above 5 during the exercise", value))
            else:
                out.append(SafetyFired(t + 31, "acceptable", "caution", "pain 3-5: carry on gently", value))
        status = "skipped" if index == 4 and rng.random() < 0.2 else "done"
        done += status == "done"
        out.append(ExerciseResult(t + 60, name, index, status, 8 if status == "done" else 0))
        t += 70
    out.append(RatingRecorded(t + 5, max(0, before - rng.randint(0, 3)), "answered", "keyboard", "after", None, "direct"))
    out.append(SessionEnded(t + 10, "completed", done, len(EXERCISES)))
    return out


def seed(state_dir: Path, sessions: int, seed_value: int = 16) -> int:
    """``sessions`` sessions through :class:`SqliteJournal`, about 50 minutes apart; return the records written."""
    rng = random.Random(seed_value)
    wall = Wall()
    journal = SqliteJournal(state_dir, now=wall)
    written = 0
    for number in range(sessions):
        start = START + _dt.timedelta(minutes=50 * number)
        journal.profile = rng.choice(PROFILES)
        cut = rng.random() < 0.02
        for record in session_records(rng, cut):
            wall.now = start + _dt.timedelta(seconds=record.at)
            journal.append(record)
            written += 1
        if cut:  # the next process's journal closes it as interrupted (one record more)
            journal.close()
            journal = SqliteJournal(state_dir, now=wall)
            written += 1
    journal.close()
    return written


def copy_tenfold(source: Path, target: Path) -> None:
    """The 100k log from the 10k one by SQL: the file copied, then its sessions and records nine more times,
    ids shifted past the last and start/wall times shifted by the span of the log (plus a day)."""
    target.mkdir(mode=0o700, parents=True, exist_ok=True)
    with sqlite3.connect(source / "coach.db") as src, sqlite3.connect(target / "coach.db") as dst:
        src.backup(dst)
    conn = sqlite3.connect(target / "coach.db", isolation_level=None)
    (last_id,) = conn.execute("SELECT max(id) FROM records").fetchone()
    first, last = conn.execute("SELECT min(started), max(started) FROM sessions").fetchone()
    span = _dt.datetime.fromisoformat(last.replace("Z", "+00:00")) - _dt.datetime.fromisoformat(first.replace("Z", "+00:00"))
    days = span.days + 2
    conn.execute("BEGIN")
    cols = [row[1] for row in conn.execute("PRAGMA table_info(records)")]
    scols = [row[1] for row in conn.execute("PRAGMA table_info(sessions)")]
    for copy in range(1, 10):
        shift = last_id * copy
        moved = {c: f"strftime('%Y-%m-%dT%H:%M:%fZ', {c}, '+{days * copy} days')" for c in ("started", "ended", "wall")}
        shifted = {"id": "id + ?", "session_id": "session_id + ?", **moved}
        svalues = ", ".join(shifted.get(c, c) for c in scols)
        conn.execute(f"INSERT INTO sessions ({', '.join(scols)}) SELECT {svalues} FROM sessions WHERE id <= ?", (shift, last_id))
        values = ", ".join(shifted.get(c, c) for c in cols)
        conn.execute(
            f"INSERT INTO records ({', '.join(cols)}) SELECT {values} FROM records WHERE id <= ?", (shift, shift, last_id)
        )
    conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    for path in target.iterdir():
        path.chmod(0o600)


def prepared(cache: Path, size: int, copy: bool) -> Path:
    """The state folder holding ``size`` sessions (seeded now unless a previous run left it)."""
    folder = cache / f"sessions-{size}" / "state"
    db = folder / "coach.db"
    if db.exists():
        with sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True) as conn:
            if conn.execute("SELECT count(*) FROM sessions").fetchone()[0] == size:
                return folder
    if folder.exists():
        for path in folder.iterdir():
            path.unlink()
    began = time.perf_counter()
    if copy and size == 100_000:
        copy_tenfold(prepared(cache, 10_000, False), folder)
        how = "copied by SQL from the 10k log"
    else:
        records = seed(folder, size)
        how = f"seeded through SqliteJournal: {records} records"
    print(f"{size} sessions {how} in {time.perf_counter() - began:.1f} s", file=sys.stderr)
    return folder


def measure(code: Path, folder: Path, name: str, size: int, trace: bool) -> dict[str, float | int | None]:
    out = folder.parent / "out"
    out.mkdir(exist_ok=True)
    argv = [a.format(n=size, out=out) for a in MEASUREMENTS[name]]
    env = {**os.environ, "PYTHONPATH": str(code), "COACH_CONFIG": "", "XDG_CONFIG_HOME": str(folder.parent / "no-config")}
    result = folder.parent / "measure.json"
    result.unlink(missing_ok=True)
    command = [sys.executable, "-c", CHILD, str(code), "trace" if trace else "plain", *argv, "--state-dir", str(folder)]
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    found: dict[str, float | int | None] = json.loads(result.read_text())
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000", help="comma-separated session counts (default 1000,10000)")
    parser.add_argument("--cache", default=str(Path(tempfile.gettempdir()) / "coach-log-scale"), help="where the logs are kept")
    parser.add_argument("--code", default=str(ROOT), help="the coach checkout to measure (default: this one)")
    parser.add_argument("--only", help="comma-separated measurements: " + ", ".join(MEASUREMENTS))
    parser.add_argument("--tracemalloc", action="store_true", help="also the peak of Python's heap (a second run each)")
    parser.add_argument("--copy-from-10k", action="store_true", help="build the 100k log from the 10k one by SQL")
    args = parser.parse_args()
    names = args.only.split(",") if args.only else list(MEASUREMENTS)
    cache = Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    print(f"code: {args.code}; load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    print(
        f"{'sessions':>8} {'records':>8} {'measurement':<12} {'seconds':>8} {'cpu s':>6} {'maxrss MiB':>10} {'heap peak MiB':>13}"
    )
    for size in (int(s) for s in args.sizes.split(",")):
        folder = prepared(cache, size, args.copy_from_10k)
        with sqlite3.connect(f"{(folder / 'coach.db').resolve().as_uri()}?mode=ro", uri=True) as conn:
            (records,) = conn.execute("SELECT count(*) FROM records").fetchone()
        for name in names:
            plain = measure(Path(args.code), folder, name, size, trace=False)
            peak = measure(Path(args.code), folder, name, size, trace=True)["traced_peak"] if args.tracemalloc else None
            heap = "" if peak is None else f"{float(peak) / 2**20:.1f}"
            rss = float(plain["maxrss_kib"] or 0) / 1024
            seconds, cpu = float(plain["seconds"] or 0), float(plain.get("cpu") or 0)
            print(f"{size:>8} {records:>8} {name:<12} {seconds:>8.2f} {cpu:>6.2f} {rss:>10.1f} {heap:>13}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
