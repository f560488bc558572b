#!/usr/bin/env python3
"""Are the spoken counts on the beat? Measured from the recorded sound itself (issue 3).

Plays a routine in real time through the real pyttsx3 phrase cache and ALSA, into PulseAudio's
``module-null-sink`` (which paces playback in real time with no sound card), records the sink's
monitor with ``parec``, finds the onset of every spoken count in the recording, and compares it
with the count's due time from the event stream. Then does the same for the naive loop
(``engine.say(n); engine.runAndWait(); time.sleep(1)``).

The recording and the coach's session clock have no shared zero, so each run's onsets are
compared with their due times after removing one constant offset (the median); that offset is
printed too (it is device + recording latency plus the clip's 15 ms soft start). What is left
is what a listener hears as off-beat: p50/p99/max error, and drift (ms per minute).

    python bench/audio_onsets.py                       # quick-start, about 3.5 minutes
    python bench/audio_onsets.py --routine lumbar-pir  # a whole 20-minute routine
    python bench/audio_onsets.py --naive-counts 30     # length of the naive loop

Needs: pulseaudio, pulseaudio-utils, libasound2-plugins, espeak-ng (apt). Starts its own
PulseAudio daemon with a null sink when none is running.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from array import array
from pathlib import Path

from coach.voice.audio import LEAD_SECONDS

RATE = 22050
WINDOW = 0.005
"""Onset-detection window (seconds)."""
THRESHOLD = 500
"""Peak amplitude that counts as sound in a window."""
SINK = "coach_bench"


def ensure_null_sink() -> None:
    if subprocess.run(["pactl", "info"], capture_output=True).returncode != 0:
        subprocess.run(["pulseaudio", "-D", "-n", "--exit-idle-time=-1", "--load=module-native-protocol-unix"], check=True)
        time.sleep(1.0)
    sinks = subprocess.run(["pactl", "list", "short", "sinks"], capture_output=True, text=True).stdout
    if SINK not in sinks:
        subprocess.run(
            ["pactl", "load-module", "module-null-sink", f"sink_name={SINK}", f"rate={RATE}", "channels=1"], check=True
        )
    subprocess.run(["pactl", "set-default-sink", SINK], check=True)


class Recorder:
    """parec on the null sink's monitor, with a check that the recording has no gaps."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._out = open(path, "wb")  # noqa: SIM115 - closed in stop()
        command = ["parec", "-d", f"{SINK}.monitor", f"--rate={RATE}", "--channels=1", "--format=s16le", "--raw"]
        self.process = subprocess.Popen([*command, "--latency-msec=500"], stdout=self._out)
        self.started = time.monotonic()

    def stop(self) -> None:
        wall = time.monotonic() - self.started
        self.process.terminate()
        self.process.wait()
        self._out.close()
        recorded = self.path.stat().st_size / 2 / RATE
        # parec starts a little after it is launched; more than that missing means samples were dropped.
        print(f"  recording: {recorded:.1f} s of audio over {wall:.1f} s of wall time ({wall - recorded:+.2f} s unrecorded)")


def onsets(path: Path, min_gap: float = 0.12) -> list[float]:
    """Times (seconds into the recording) where sound starts after at least ``min_gap`` of silence."""
    samples = array("h")
    samples.frombytes(path.read_bytes()[: (path.stat().st_size // 2) * 2])
    size = int(WINDOW * RATE)
    found: list[float] = []
    quiet = min_gap
    for start in range(0, len(samples) - size, size):
        loud = max(abs(s) for s in samples[start : start + size]) > THRESHOLD
        if loud and quiet >= min_gap:
            # refine to the first loud sample in the window
            first = next(i for i in range(start, start + size) if abs(samples[i]) > THRESHOLD)
            found.append(first / RATE)
        quiet = 0.0 if loud else quiet + WINDOW
    return found


def match(dues: list[float], heard: list[float], offset_guess: float, window: float = 0.3) -> list[tuple[float, float]]:
    """Pair each due time with the nearest onset (after the offset guess), within ``window`` seconds."""
    pairs = []
    for due in dues:
        target = due + offset_guess
        best = min(heard, key=lambda h: abs(h - target), default=None)
        if best is not None and abs(best - target) < window:
            pairs.append((due, best))
    return pairs


def summarise(label: str, pairs: list[tuple[float, float]]) -> None:
    raw = [h - d for d, h in pairs]
    offset = statistics.median(raw)
    errors = sorted(abs(r - offset) * 1000 for r in raw)
    p = lambda q: errors[min(len(errors) - 1, round(q / 100 * (len(errors) - 1)))]  # noqa: E731
    dues_min = [d / 60 for d, _ in pairs]
    mx, my = statistics.fmean(dues_min), statistics.fmean(raw)
    den = sum((x - mx) ** 2 for x in dues_min) or 1.0
    slope = sum((x - mx) * (y - my) for x, y in zip(dues_min, raw)) / den * 1000
    print(f"{label}: {len(pairs)} counts over {pairs[-1][0] / 60 if pairs else 0:.1f} min")
    print(
        f"  error after removing the constant offset ({offset * 1000:.1f} ms): "
        f"p50 {p(50):.1f} ms  p99 {p(99):.1f} ms  max {errors[-1]:.1f} ms"
    )
    print(f"  drift {slope:+.2f} ms per minute; last count {(raw[-1] - offset) * 1000:+.1f} ms off its beat")


def run_coach(routine: str, tmp: Path) -> tuple[list[float], list[float], list[float], float]:
    """Run the routine for real; return count and cue due times, recorded onsets, first-cue time."""
    events = tmp / "events.jsonl"
    recording = tmp / "coach.raw"
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp / "cache")}
    # `coach plan` renders every phrase of the session into the cache: time it cold, then it is warm.
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "coach", "plan", routine], check=True, stdout=subprocess.DEVNULL, env=env)
    rendered = len(list((tmp / "cache" / "coach" / "tts").glob("*.wav")))
    print(f"cold cache: 'coach plan {routine}' rendered {rendered} phrases in {time.perf_counter() - started:.2f} s")
    recorder = Recorder(recording)
    time.sleep(0.5)
    launched = time.monotonic()
    command = [sys.executable, "-m", "coach", "run", routine, "--events", str(events), "--state-dir", str(tmp / "state")]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, env=env)
    # The first cue's event is written LEAD_SECONDS before the cue is due, and heard.
    first_event: float | None = None
    while process.poll() is None and first_event is None:
        if events.exists() and '"say"' in events.read_text():
            first_event = time.monotonic() - launched
        time.sleep(0.005)
    process.wait()
    time.sleep(0.5)
    recorder.stop()
    says = [e for e in (json.loads(line) for line in events.read_text().splitlines()) if e["type"] == "say"]
    timed = {kind: [e["due"] for e in says if e.get("kind") == kind] for kind in ("count", "cue")}
    first = (first_event if first_event is not None else float("nan")) + LEAD_SECONDS
    return timed["count"], timed["cue"], onsets(recording), first


def recording_offset(dues: list[float], heard: list[float]) -> float:
    """The recording's zero against session time: the shift that lines up the most cues with onsets."""
    candidates = [h - d for d in dues[:10] for h in heard]
    return max(candidates, key=lambda shift: len(match(dues, heard, shift, window=0.05)), default=0.0)


def run_naive(counts: int, tmp: Path) -> tuple[list[float], list[float]]:
    recording = tmp / "naive.raw"
    code = (
        "import pyttsx3, time, contextlib, io\n"
        "e = pyttsx3.init()\n"
        f"for n in range(1, {counts + 1}):\n"
        "    with contextlib.redirect_stdout(io.StringIO()):\n"
        "        e.say(str(n)); e.runAndWait()\n"
        "    time.sleep(1)\n"
    )
    recorder = Recorder(recording)
    time.sleep(0.5)
    subprocess.run([sys.executable, "-c", code], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    recorder.stop()
    heard = onsets(recording)
    dues = [float(n) for n in range(counts)]
    # The naive loop intends one count per second from its first count.
    return dues, heard


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--routine", default="quick-start")
    parser.add_argument("--naive-counts", type=int, default=20)
    args = parser.parse_args()
    ensure_null_sink()
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        counts, cues, heard, first = run_coach(args.routine, tmp)
        shift = recording_offset(counts, heard)
        pairs = match(counts, heard, shift)
        print(f"coach run {args.routine}: {len(heard)} sound onsets recorded; {len(pairs)} of {len(counts)} counts matched")
        summarise("counts (cached clips, warm ALSA stream, absolute deadlines)", pairs)
        cue_pairs = match(cues, heard, shift, window=0.05)
        if cue_pairs:
            summarise(
                f"phase cues ({len(cue_pairs)} of {len(cues)} found within 50 ms; the rest follow speech with no gap)", cue_pairs
            )
        print(f"first cue heard about {first:.2f} s after 'coach run' was launched (warm cache)")
        dues, naive_heard = run_naive(args.naive_counts, tmp)
        naive = [(d, naive_heard[i]) for i, d in enumerate(dues) if i < len(naive_heard)]
        naive_zero = naive[0][1] if naive else 0.0  # the loop's first count defines its beat grid
        naive = [(d, h - naive_zero) for d, h in naive]
        errors = [(h - d) * 1000 for d, h in naive]
        print(f"naive loop (say; runAndWait; sleep(1)), {len(naive)} counts:")
        print(
            f"  count n lands {errors[-1] / max(1, len(errors) - 1):.0f} ms later per count; "
            f"last count {errors[-1] / 1000:.1f} s off its beat"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
