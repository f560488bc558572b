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
import threading
import time
from array import array
from dataclasses import dataclass
from pathlib import Path

from coach.voice.audio import LEAD_SECONDS

RATE = 22050
WINDOW = 0.005
"""Onset-detection window (seconds)."""
THRESHOLD = 500
"""Peak amplitude that counts as sound in a window."""
SINK = "coach_bench"
PROBE = 32
"""Samples of a clip searched for, byte for byte, in the recording."""


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
    """parec on the null sink's monitor, with each read timestamped on the monotonic clock.

    The recording's sample clock is the sink's clock, and that is not the monotonic clock: measured
    here, PulseAudio's null sink runs 60-130 ppm fast against CLOCK_MONOTONIC, and the rate
    changes from run to run. Counting samples as seconds would show that as "drift" of several ms
    per minute that no listener's clock has. So every read from parec is stamped with
    ``time.monotonic()``, and :meth:`to_monotonic` maps a sample index to monotonic time through
    the earliest-arrival envelope of those stamps (a straight line; the residual is printed).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._out = open(path, "wb")  # noqa: SIM115 - closed in stop()
        command = ["parec", "-d", f"{SINK}.monitor", f"--rate={RATE}", "--channels=1", "--format=s16le", "--raw"]
        self.process = subprocess.Popen([*command, "--latency-msec=10"], stdout=subprocess.PIPE, bufsize=0)
        self.started = time.monotonic()
        self.arrivals: list[tuple[float, int]] = []
        """(monotonic time a read returned, samples received so far)."""
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.line: tuple[float, float] = (0.0, 1.0 / RATE)

    def _read(self) -> None:
        assert self.process.stdout is not None
        fd = self.process.stdout.fileno()
        received = 0
        while data := os.read(fd, 65536):
            self._out.write(data)
            received += len(data)
            self.arrivals.append((time.monotonic(), received // 2))

    def stop(self) -> None:
        wall = time.monotonic() - self.started
        self.process.terminate()
        self._reader.join()
        self.process.wait()
        self._out.close()
        recorded = self.path.stat().st_size / 2 / RATE
        # parec starts a little after it is launched; more than that missing means samples were dropped.
        print(f"  recording: {recorded:.1f} s of audio over {wall:.1f} s of wall time ({wall - recorded:+.2f} s unrecorded)")
        self.line, ppm, residual = time_base(self.arrivals)
        print(f"  the sink's clock runs {ppm:+.1f} ppm against CLOCK_MONOTONIC (time-base fit residual max {residual:.2f} ms)")

    def from_monotonic(self, moment: float) -> float:
        """Seconds into the recording of the sample captured at monotonic time ``moment``."""
        zero, per_sample = self.line
        return (moment - zero) / per_sample / RATE

    def to_monotonic(self, seconds_of_audio: float) -> float:
        """Monotonic time at which the sample ``seconds_of_audio`` into the recording was captured."""
        zero, per_sample = self.line
        return zero + seconds_of_audio * RATE * per_sample


def time_base(arrivals: list[tuple[float, int]], window: float = 2.0) -> tuple[tuple[float, float], float, float]:
    """Fit monotonic time = zero + samples * per_sample to the earliest arrivals of each ``window``.

    A read returns at least a little after its last sample was captured (scheduling, pipe), never
    before, so the earliest arrival in each window is the truest; a least-squares line through
    those gives the recording's rate against the monotonic clock. Returns the line, the sink's
    rate error in ppm (positive: more samples than seconds) and the largest residual in ms.
    """
    start = arrivals[0][0]
    best: dict[int, tuple[float, int]] = {}
    for t, n in arrivals:
        key = int((t - start) / window)
        lateness = t - n / RATE
        if key not in best or lateness < best[key][0] - best[key][1] / RATE:
            best[key] = (t, n)
    points = [best[k] for k in sorted(best)][1:]  # the first window holds parec's start-up
    if len(points) < 3:
        return (start, 1.0 / RATE), 0.0, 0.0
    xs, ys = [float(n) for _, n in points], [t for t, _ in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    per_sample = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
    zero = my - per_sample * mx
    residual = max(abs(y - (zero + per_sample * x)) for x, y in zip(xs, ys)) * 1000
    return (zero, per_sample), (1 / (per_sample * RATE) - 1) * 1e6, residual


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


def clip_starts(path: Path, texts_and_guesses: list[tuple[str, float]], clips: dict[str, array[int]]) -> list[float | None]:
    """Where each clip's first sample is in the recording (seconds), found exactly, or ``None``.

    Word onsets found by a loudness threshold depend on the word ("six" starts with a soft
    fricative, "eight" with a vowel), and need silence before them, which would add 10-15 ms of
    spread that is the detector's, not the player's. The null sink records exactly the samples
    played (same rate, full volume, clips never mixed), so short stretches of the clip's loud part
    are searched byte for byte within 150 ms of the guess; the first one found, minus its offset
    in the clip, is where the clip started. (The player follows the device's clock by now and then
    repeating or skipping one sample between chunks, so a stretch is tried at several places in
    the clip; such a sample before the stretch moves the answer by 0.045 ms at most.)
    """
    data = path.read_bytes()
    found: list[float | None] = []
    for text, guess in texts_and_guesses:
        samples = clips.get(text, array("h"))
        loud = next((i for i, s in enumerate(samples) if abs(s) > 4 * THRESHOLD), None)
        low, high = max(0, int((guess - 0.15) * RATE) * 2), int((guess + 0.15) * RATE) * 2
        start = None
        for offset in range(loud or 0, len(samples) - PROBE, 256) if loud is not None else ():
            at = data.find(samples[offset : offset + PROBE].tobytes(), low, high)
            while at >= 0 and at % 2:
                at = data.find(samples[offset : offset + PROBE].tobytes(), at + 1, high)
            if at >= 0:
                start = (at // 2 - offset) / RATE
                break
        found.append(start)
    return found


def cached_clips(routine: str, cache: Path, texts: set[str]) -> dict[str, array[int]]:
    """The clips the coach played: read from the phrase cache at the configured voice."""
    from coach.run.wiring import load_named
    from coach.spec.config import load_settings
    from coach.voice.tts import PhraseCache, VoiceChoice

    loaded = load_settings(None)
    voice = loaded.settings.voice
    language = load_named(routine, loaded).language
    phrase_cache = PhraseCache(VoiceChoice(language, voice.voice, voice.rate, voice.volume), folder=cache)
    return {text: clip.samples for text in texts if (clip := phrase_cache.get(text)) is not None}


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
    if not pairs:
        print(f"{label}: none found")
        return
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
        "  error after removing the constant offset between the two clocks: "
        f"p50 {p(50):.2f} ms  p99 {p(99):.2f} ms  max {errors[-1]:.2f} ms"
    )
    print(f"  drift {slope:+.3f} ms per minute; last count {(raw[-1] - offset) * 1000:+.2f} ms off its beat")


@dataclass
class CoachRun:
    """What one real run of the coach left: its cues, the recording, and where sound started."""

    says: list[dict[str, object]]
    recorder: Recorder
    onsets: list[float]
    """Sound onsets, in seconds of the recording (the sink's sample clock)."""
    first_cue: float

    def dues(self, kind: str) -> list[float]:
        return [float(str(e["due"])) for e in self.says if e.get("kind") == kind]


def run_coach(routine: str, tmp: Path) -> CoachRun:
    """Run the routine for real, recording what was played."""
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
    first = (first_event if first_event is not None else float("nan")) + LEAD_SECONDS
    return CoachRun(says, recorder, onsets(recording), first)


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
    heard = [recorder.to_monotonic(h) for h in onsets(recording)]
    dues = [float(n) for n in range(counts)]
    # The naive loop intends one count per second from its first count.
    return dues, heard


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--routine", default="quick-start")
    parser.add_argument("--naive-counts", type=int, default=20)
    parser.add_argument("--list", action="store_true", help="print every count: its text, error, and threshold onset")
    args = parser.parse_args()
    ensure_null_sink()
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        run = run_coach(args.routine, tmp)
        counts, cues = run.dues("count"), run.dues("cue")
        to_monotonic, recorder = run.recorder.to_monotonic, run.recorder
        heard = [to_monotonic(h) for h in run.onsets]
        # The session's zero on the monotonic clock, from the onsets that line up with counts ...
        shift = recording_offset(counts, heard)
        threshold_pairs = match(counts, heard, shift)
        print(f"coach run {args.routine}: {len(run.onsets)} sound onsets recorded, {len(counts)} counts said")
        # ... then every count's clip is looked for exactly where it should be in the recording.
        text_of = {float(str(e["due"])): str(e["text"]) for e in run.says if e.get("kind") == "count"}
        clips = cached_clips(args.routine, tmp / "cache" / "coach" / "tts", set(text_of.values()))
        guesses = [(text_of[due], recorder.from_monotonic(due + shift)) for due in counts]
        starts = clip_starts(recorder.path, guesses, clips)
        exact = [(due, to_monotonic(start)) for due, start in zip(counts, starts) if start is not None]
        summarise(
            f"counts: clip start found exactly in the recording ({len(exact)} of {len(counts)}), on the monotonic clock", exact
        )
        if args.list:
            offset = statistics.median(h - d for d, h in exact)
            for due, start in zip(counts, starts):
                error = "not found" if start is None else f"{(to_monotonic(start) - due - offset) * 1000:+.3f} ms"
                print(f"    {due:8.2f} s  {text_of[due]!r:14} {error}")
        sink_clock = [(due, start) for due, start in zip(counts, starts) if start is not None]
        summarise("the same clip starts timed by the sink's own sample clock (which is not the session's clock)", sink_clock)
        summarise(f"counts: loudness-threshold onsets ({len(threshold_pairs)} after silence), monotonic clock", threshold_pairs)
        cue_pairs = match(cues, heard, shift, window=0.05)
        if cue_pairs:
            summarise(
                f"phase cues ({len(cue_pairs)} of {len(cues)} found within 50 ms; the rest follow speech with no gap)", cue_pairs
            )
        print(f"first cue heard about {run.first_cue:.2f} s after 'coach run' was launched (warm cache)")
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
