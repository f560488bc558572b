#!/usr/bin/env python3
"""Write cost of the session log: bytes written to the card per session (SD-card life).

Runs ``coach run ROUTINE --speed F --input-script FILE --state-dir DIR --no-voice`` as real processes
(console text to /dev/null, no event file), one after another in one state folder, and reads each
child's ``/proc/self/io`` as it exits: ``write_bytes`` (bytes the process caused to be sent to the
block device: the database, its WAL and shared-memory index, after every ``fsync``) and ``wchar``
(bytes passed to write calls, console included). The same session with an in-memory journal gives
the baseline the log adds to. Also prints the records per session and the size of ``coach.db``.

    python bench/write_cost.py                       # 5 sessions of quick-start, scripted ratings
    python bench/write_cost.py --routine lumbar-pir --sessions 3

The baseline runs the same sessions with the journal swapped for an in-memory one.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = """\
30 rating 3
50 pause
56 resume
75 rating 2
"""
REPORT_IO = """
import atexit, json, os, sys
sys.path.insert(0, {root!r})
def report():
    fields = dict(line.split(": ") for line in open("/proc/self/io").read().splitlines())
    with open(os.environ["WRITE_COST_OUT"], "w") as out:
        json.dump({{k: int(v) for k, v in fields.items()}}, out)
atexit.register(report)
"""
TAILS = {
    "memory": """
import coach.log.journal as journal_module
import coach.log.store as store_module
def memory(*args, **kwargs):
    return journal_module.MemoryJournal()
store_module.open_journal = memory   # before the CLI imports it
from coach.cli import main as cli
sys.exit(cli.main(sys.argv[1:]))
""",
    "direct": """
import runpy
sys.argv = ["coach", *sys.argv[1:]]
runpy.run_module("coach", run_name="__main__")
""",
}


def run_one(mode: str, routine: str, speed: float, state: Path, script: Path, out: Path) -> dict[str, int]:
    """One session in a child process; its ``/proc/self/io`` counters as it exits."""
    code = (REPORT_IO + TAILS[mode]).format(root=str(ROOT))
    args = ["run", routine, "--speed", str(speed), "--input-script", str(script), "--state-dir", str(state), "--no-voice"]
    env = {**os.environ, "WRITE_COST_OUT": str(out)}
    subprocess.run([sys.executable, "-c", code, *args], stdout=subprocess.DEVNULL, stdin=subprocess.DEVNULL, env=env, check=True)
    return dict(json.loads(out.read_text()))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--routine", default="quick-start")
    parser.add_argument("--sessions", type=int, default=5)
    parser.add_argument("--speed", type=float, default=50.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=ROOT) as tmp:  # on the same file system as the project, not tmpfs
        work = Path(tmp)
        script, out = work / "input.txt", work / "io.json"
        script.write_text(SCRIPT, encoding="utf-8")
        mode = "direct"
        run_one(mode, args.routine, args.speed, work / "warm", script, out)  # writes any missing .pyc files first
        if not (work / "warm" / "coach.db").exists():
            print("write_cost: the coach wrote no coach.db: it is not using the SQLite journal", file=sys.stderr)
            return 1
        logged, baseline, records = [], [], []
        before = 0
        for _ in range(args.sessions):
            io = run_one(mode, args.routine, args.speed, work / "state", script, out)
            logged.append(io["write_bytes"] - io["cancelled_write_bytes"])
            base = run_one("memory", args.routine, args.speed, work / "memory", script, out)
            baseline.append(base["write_bytes"] - base["cancelled_write_bytes"])
            conn = sqlite3.connect(work / "state" / "coach.db")
            (count,) = conn.execute("SELECT count(*) FROM records").fetchone()
            conn.close()
            records.append(count - before)
            before = count
        db_size = (work / "state" / "coach.db").stat().st_size
        leftovers = sorted(p.name for p in (work / "state").iterdir())
    net = [a - b for a, b in zip(logged, baseline)]
    per_record = statistics.fmean(n / r for n, r in zip(net, records) if r)
    print(f"routine {args.routine}, {args.sessions} sessions, scripted input; SQLite {sqlite3.sqlite_version}")
    print(f"records per session: {records}")
    print(f"write_bytes per session with the SQLite log: {[round(b / 1024) for b in logged]} KiB")
    print(f"write_bytes per session with the in-memory journal (baseline): {[round(b / 1024) for b in baseline]} KiB")
    print(f"added by the log: median {statistics.median(net) / 1024:.0f} KiB per session, {per_record / 1024:.1f} KiB per record")
    print(f"coach.db after {args.sessions} sessions: {db_size / 1024:.0f} KiB; files left: {', '.join(leftovers)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
