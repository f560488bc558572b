#!/usr/bin/env python3
"""The level trajectory of a simulated patient over a programme (issue 15), day by day.

Each day runs ``coach run --simulate --as-of DAY --state-dir D`` (in this process) with an input script
that answers the next-morning check-in (``heard same``, or ``heard worse`` on a flare day) and the pain
checks (2, or the day's pain: above 5, every 45 s, so the session's cautions leave it room to go on), and
prints the stage, week, every exercise's level and each change with its reason, then the time it all took.

    python bench/programme_course.py                                  # lumbar-6-weeks, a good course
    python bench/programme_course.py --flare 10,11 --missed 20-26     # a flare, and a missed week
    python bench/programme_course.py --programme sciatica-6-weeks --pain 8:6
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import io
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from coach.cli.main import main  # noqa: E402


def days(text: str) -> set[int]:
    found: set[int] = set()
    for part in filter(None, text.split(",")):
        low, _, high = part.partition("-")
        found.update(range(int(low), int(high or low) + 1))
    return found


def coach(*args: str) -> str:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    if code != 0:
        raise SystemExit(f"coach {' '.join(args)}: exit {code}: {err.getvalue().strip()}")
    return out.getvalue()


def course(programme: str, weeks: int, flare: set[int], missed: set[int], pain: dict[int, int]) -> None:
    start = dt.date(2026, 3, 2)
    with tempfile.TemporaryDirectory() as tmp:
        state, home = Path(tmp) / "state", Path(tmp) / "config"
        (home / "coach").mkdir(parents=True)
        (home / "coach" / "config.yaml").write_text("session:\n  red_flag_screen: false\n", encoding="utf-8")
        os.environ["XDG_CONFIG_HOME"] = str(home)
        coach("programme", "start", programme, "--state-dir", str(state), "--as-of", start.isoformat())
        began = time.perf_counter()
        runs = 0
        for n in range(weeks * 7):
            day = (start + dt.timedelta(days=n)).isoformat()
            if n in missed:
                print(f"{day}  day {n + 1:>2}  (missed)")
                continue
            hurt = pain.get(n, 2)
            answer = "worse" if n in flare else "same"
            lines = [
                f"1 heard {answer}",
                f"4 rating {4 if n in flare else 2}",
                *(f"{t} rating {hurt}" for t in range(40, 2400, 25 if hurt <= 5 else 45)),
            ]
            script = Path(tmp) / "in.txt"
            script.write_text("\n".join(lines) + "\n", encoding="utf-8")
            events = Path(tmp) / "ev.jsonl"
            coach(
                "run",
                "--simulate",
                "--as-of",
                day,
                "--state-dir",
                str(state),
                "--input-script",
                str(script),
                "--events",
                str(events),
            )
            runs += 1
            seen = [json.loads(line) for line in events.read_text(encoding="utf-8").splitlines()]
            today = next(e for e in seen if e["type"] == "programme_day")
            changes = [f"{e['exercise']} {e['from']}->{e['to']} ({e['reason']})" for e in seen if e["type"] == "progress"]
            print(
                f"{day}  day {n + 1:>2}  week {today['week']}  {today['stage']:<10}  {today['levels']}"
                + (f"  | {'; '.join(changes)}" if changes else "")
            )
        took = time.perf_counter() - began
        print(f"{runs} simulated sessions in {took:.1f} s ({took / max(1, runs) * 1000:.0f} ms each)")


def main_() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--programme", default="lumbar-6-weeks")
    parser.add_argument("--weeks", type=int, default=6)
    parser.add_argument("--flare", default="", help="days (from 0) whose morning is worse, e.g. 10,11")
    parser.add_argument("--missed", default="", help="days without a session, e.g. 20-26")
    parser.add_argument("--pain", default="", help="DAY:PAIN pairs: the pain during that day's exercises, e.g. 8:6")
    args = parser.parse_args()
    pain = {int(d): int(p) for d, p in (item.split(":") for item in filter(None, args.pain.split(",")))}
    course(args.programme, args.weeks, days(args.flare), days(args.missed), pain)


if __name__ == "__main__":
    main_()
