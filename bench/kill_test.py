#!/usr/bin/env python3
"""Kill test: does every record the coach announced as logged survive a SIGKILL? (issue 6's floor: 200 kills, 0 lost)

Runs real ``coach run ROUTINE --speed F --input-script FILE --events FILE --state-dir DIR --no-voice``
processes with random scripted input (ratings, pauses and resumes, skips, stops), and SIGKILLs each at
a random moment of its expected run time, all in one state folder (so each start also recovers the
previous victim's session). After each kill, with a read-only connection (which changes nothing):
``PRAGMA integrity_check`` must be ``ok``, and every record a ``logged`` event announced before the
kill must be in ``coach.db`` with the same id and kind. Prints figures; asserts nothing.

    python bench/kill_test.py                       # 200 kills of quick-start at speed 50
    python bench/kill_test.py --kills 50 --speed 400 --routine clinic-station

"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


COACH = [sys.executable, "-m", "coach"]


def random_script(rng: random.Random, length: float) -> str:
    """Inputs at random session times: ratings (mostly low, so sessions go on), pauses, skips, stops."""
    lines = []
    t = rng.uniform(1, 20)
    while t < length:
        roll = rng.random()
        if roll < 0.45:
            lines.append(f"{t:.1f} rating {rng.choice([0, 1, 2, 2, 3, 3, 4, 4, 5, 6])}")
        elif roll < 0.6:
            lines.append(f"{t:.1f} heard my pain is {rng.choice(['two', 'three', 'four'])}")
            lines.append(f"{t + 1.5:.1f} yes")
        elif roll < 0.8:
            lines.append(f"{t:.1f} pause")
            lines.append(f"{t + rng.uniform(1, 8):.1f} resume")
        elif roll < 0.9:
            lines.append(f"{t:.1f} next")
        elif roll < 0.93:
            lines.append(f"{t:.1f} repeat")
        elif roll < 0.96:
            lines.append(f"{t:.1f} stop")
        t += rng.uniform(4, 25)
    return "\n".join(lines) + "\n"


def announced(events_path: Path) -> list[tuple[int, str]]:
    """``(id, kind)`` of every ``logged`` event in the file; a line torn by the kill is ignored."""
    found = []
    for line in events_path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue
        if event.get("type") == "logged" and event.get("id") is not None:
            found.append((int(event["id"]), str(event["kind"])))
    return found


def check_store(db: Path, expected: list[tuple[int, str]]) -> tuple[str, int]:
    """Integrity check result and how many of ``expected`` are missing, read-only."""
    if not db.exists():
        return ("no database", len(expected))
    conn = sqlite3.connect(db.resolve().as_uri() + "?mode=ro", uri=True)
    try:
        integrity = "; ".join(str(row[0]) for row in conn.execute("PRAGMA integrity_check"))
        stored = dict(conn.execute("SELECT id, kind FROM records"))
    finally:
        conn.close()
    lost = sum(1 for record_id, kind in expected if stored.get(record_id) != kind)
    return integrity, lost


def calibrate(command: list[str], routine: str, speed: float, folder: Path) -> float:
    """Seconds one uninterrupted run takes (start-up included), with no input: the kill window."""
    start = time.monotonic()
    subprocess.run(
        [*command, "run", routine, "--speed", str(speed), "--state-dir", str(folder), "--no-voice"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        check=True,
    )
    return time.monotonic() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=200)
    parser.add_argument("--routine", default="quick-start")
    parser.add_argument("--speed", type=float, default=50.0)
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--keep", metavar="DIR", help="use DIR as the state folder and leave it there")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    command = COACH
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        state = Path(args.keep) if args.keep else work / "state"
        window = calibrate(command, args.routine, args.speed, work / "calibration")
        if not (work / "calibration" / "coach.db").exists():
            print("kill_test: the coach wrote no coach.db: it is not using the SQLite journal", file=sys.stderr)
            return 1
        totals = {"kills": 0, "survived": 0, "announced": 0, "lost": 0, "bad_integrity": 0, "finished_first": 0}
        zero_logged = 0
        started = time.monotonic()
        n = 0
        while totals["kills"] < args.kills and n < 3 * args.kills:
            n += 1
            script, events = work / "input.txt", work / f"events-{n}.jsonl"
            script.write_text(random_script(rng, window * args.speed), encoding="utf-8")
            proc = subprocess.Popen(
                [*command, "run", args.routine, "--speed", str(args.speed), "--input-script", str(script),
                 "--events", str(events), "--state-dir", str(state), "--no-voice"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
            )  # fmt: skip
            time.sleep(rng.uniform(0.0, window * 1.05))
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGKILL)
            killed = proc.wait() == -signal.SIGKILL  # not if it exited on its own just before the signal
            totals["kills" if killed else "finished_first"] += 1
            expected = announced(events) if events.exists() else []
            integrity, lost = check_store(state / "coach.db", expected)
            if integrity == "no database" and not expected:
                integrity = "ok"  # killed before the very first start had created the log: nothing to lose
            totals["announced"] += len(expected)
            totals["lost"] += lost
            zero_logged += not expected
            if integrity != "ok":
                totals["bad_integrity"] += 1
                print(f"run {n}: integrity_check: {integrity}", file=sys.stderr)
            if lost:
                print(f"run {n}: {lost} announced records missing", file=sys.stderr)
            if integrity == "ok" and not lost and killed:
                totals["survived"] += 1
            events.unlink(missing_ok=True)
        elapsed = time.monotonic() - started
        summary = final_state(state)
    print(f"routine {args.routine} at speed {args.speed:g}; kill window {window:.2f} s (one uninterrupted run)")
    print(f"runs: {n}  killed: {totals['kills']}  finished before the kill (not counted as kills): {totals['finished_first']}")
    print(f"kills survived (integrity ok and nothing announced lost): {totals['survived']} / {totals['kills']}")
    print(f"records announced by 'logged' before the kill: {totals['announced']}  lost: {totals['lost']}")
    print(f"integrity_check not ok: {totals['bad_integrity']}  runs killed before any record was logged: {zero_logged}")
    print(f"sessions in the store: {summary}")
    print(f"wall time: {elapsed:.0f} s")
    return 0


def final_state(state: Path) -> str:
    """Open the store once more (as the next ``coach run`` would) and count sessions by status."""
    sys.path.insert(0, str(ROOT))
    from coach.log.store import open_journal

    if not (state / "coach.db").exists():
        return "none"
    journal = open_journal(state)
    journal.close()
    conn = sqlite3.connect(state / "coach.db")
    rows = conn.execute("SELECT coalesce(status, 'open'), count(*) FROM sessions GROUP BY 1 ORDER BY 2 DESC").fetchall()
    (recovered,) = conn.execute(
        "SELECT count(*) FROM records WHERE kind = 'session_end' AND json_extract(extra, '$.recovered')"
    ).fetchone()
    conn.close()
    return ", ".join(f"{status} {count}" for status, count in rows) + f" (closed after a crash: {recovered})"


if __name__ == "__main__":
    sys.exit(main())
