#!/usr/bin/env python3
"""How close to its due time is every spoken cue, in real time? (issue 2's console-voice floor: p99 <= 5 ms)

Runs ``coach run ROUTINE --speed F --no-voice --events FILE`` as a real process (console voice to
/dev/null, pain prompts left to time out) and reads the ``say`` events: lateness = t - due. Prints
p50/p99/max lateness and the drift: the least-squares slope of lateness against due time, in
milliseconds per minute, and the mean lateness of the first and last quarter of the session.

    python bench/timing.py                      # quick-start, real time (about 3 minutes)
    python bench/timing.py --routine lumbar-pir # a whole 20-minute routine
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def slope(xs: list[float], ys: list[float]) -> float:
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / den if den else 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--routine", default="quick-start")
    parser.add_argument("--speed", type=float, default=1.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        events_path = Path(tmp) / "events.jsonl"
        command = [
            sys.executable,
            "-m",
            "coach",
            "run",
            args.routine,
            "--speed",
            str(args.speed),
            "--no-voice",
            "--events",
            str(events_path),
            "--state-dir",
            tmp,
        ]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        events = [json.loads(line) for line in events_path.read_text().splitlines()]
    says = [e for e in events if e["type"] == "say"]
    late_ms = [(e["t"] - e["due"]) * 1000 / args.speed for e in says]
    dues_min = [e["due"] / args.speed / 60 for e in says]
    quarter = max(1, len(says) // 4)
    print(
        f"routine {args.routine} at speed {args.speed}: {len(says)} cues over {says[-1]['due'] / args.speed / 60:.1f} min (wall)"
    )
    print(
        f"lateness  p50 {percentile(late_ms, 50):.3f} ms   p99 {percentile(late_ms, 99):.3f} ms   max {max(late_ms):.3f} ms   "
        f"min {min(late_ms):.3f} ms"
    )
    print(
        f"drift     {slope(dues_min, late_ms):+.4f} ms per minute;  "
        f"mean first quarter {statistics.fmean(late_ms[:quarter]):.3f} ms, "
        f"last quarter {statistics.fmean(late_ms[-quarter:]):.3f} ms"
    )
    print(f"early cues (t < due): {sum(1 for v in late_ms if v < 0)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
