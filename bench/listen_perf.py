#!/usr/bin/env python3
"""Latency, real-time factor, memory and idle CPU of the voice input.

- **Latency**: command words (espeak-ng) in a stream played in real time (paced) into the real
  ``VoskListener``; from the end of each word's sound (its last sample above 2 % of its peak)
  to the moment the listener puts the input in the inbox. A command acts after 0.12 s of quiet
  when vosk's partial result already reads as one (``quick``) or, when the partial lags, when the
  early recogniser's final does (``early``); anything else waits for the 0.27 s hangover (``vad``).
- **Real-time factor**: processing time over audio time, through ``Hearing`` as fast as it
  goes: on speech only, and on a session-like mix (speech 10 % of the time).
- **Memory**: peak resident set before and after loading the Korean model and its grammar.
- **Idle CPU**: the listener running for ``--idle`` seconds on a quiet room, paced in real time
  (this process's CPU time over wall time); with ``--arecord``, also on the default ALSA capture
  device through arecord (this process plus arecord's own CPU).

    python bench/listen_perf.py [--idle 60] [--arecord] [--rounds 3] [--voices 1]
"""

from __future__ import annotations

import argparse
import itertools
import os
import queue
import resource
import threading
import time

from listen_common import PATIENT_VOICES, Model, ScriptedSource, add, dump, percentile, room, run_listener, speech, speech_end
from testaudio import COMMANDS, VOICE, silence

from coach.run.inputs import Input
from coach.voice.capture import BYTES_PER_SECOND, ArecordSource
from coach.voice.listener import VoskListener
from coach.voice.vad import FRAME_BYTES

GAP = 2.0


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def latency(model: Model, rounds: int, voices: int = 1) -> dict[str, float]:
    voice = speech()
    pcm, ends = silence(1.0), []
    for _ in range(rounds):
        for word, patient in itertools.product(COMMANDS, (VOICE, *PATIENT_VOICES[1:voices])):
            clip = voice.pcm(word, patient)
            ends.append((word, len(pcm) / BYTES_PER_SECOND + speech_end(clip)))
            pcm += clip + silence(GAP)
    pcm = add(pcm, room(len(pcm) / BYTES_PER_SECOND, -65, 7))
    source = ScriptedSource(pcm, [], paced=True)
    # Times from when the source started playing: the position of a sound in the audio is its time.
    heard, inputs, listener = run_listener(model, source, clock=lambda: time.monotonic() - source.started)
    delays, kinds, missed = [], {}, 0
    for _word, end in ends:
        hits = [(h, at) for h, at in heard if h.meaningful and end - 0.5 < at < end + GAP]
        if not hits:
            missed += 1
            continue
        h, at = hits[0]
        delays.append(at - end)
        kinds[h.endpoint] = kinds.get(h.endpoint, 0) + 1
    print(f"latency, end of speech -> input in the inbox, {len(delays)} of {len(ends)} words heard "
          f"(paced real time, {len(pcm) / BYTES_PER_SECOND:.0f} s; dropped audio {listener.dropped_bytes} bytes):")  # fmt: skip
    print(f"  p50 {1000 * percentile(delays, 50):.0f} ms   p90 {1000 * percentile(delays, 90):.0f} ms   "
          f"min {1000 * min(delays):.0f} ms   max {1000 * max(delays):.0f} ms   endpoints {kinds}")  # fmt: skip
    return dict(p50=percentile(delays, 50), p90=percentile(delays, 90), max=max(delays), heard=len(delays), words=len(ends))


def real_time_factor(model: Model) -> dict[str, float]:
    voice = speech()
    words = [voice.pcm(w, VOICE) for w in COMMANDS] * 4
    speech_only = b"".join(w + silence(0.4) for w in words)
    session_like = b"".join(w + silence(9.0) for w in words)
    out = {}
    for name, pcm in (("speech only", speech_only), ("session-like (speech 10 %)", session_like)):
        pcm = add(pcm, room(len(pcm) / BYTES_PER_SECOND, -65, 3))
        hearing = model.hearing()
        started = time.process_time()
        for offset in range(0, len(pcm), FRAME_BYTES):
            hearing.feed(pcm[offset : offset + FRAME_BYTES], offset / BYTES_PER_SECOND)
        cpu = time.process_time() - started
        seconds = len(pcm) / BYTES_PER_SECOND
        print(f"real-time factor, {name}: {cpu / seconds:.4f} ({cpu:.2f} s CPU for {seconds:.0f} s of audio)")
        out[name] = cpu / seconds
    return out


def idle_cpu(model: Model, seconds: float) -> float:
    pcm = room(seconds, -60, 11)
    source = ScriptedSource(pcm, [], paced=True)
    cpu0, wall0 = time.process_time(), time.monotonic()
    run_listener(model, source)
    share = (time.process_time() - cpu0) / (time.monotonic() - wall0)
    print(f"idle CPU while listening (quiet room, -60 dBFS, {seconds:.0f} s paced): {100 * share:.2f} % of one core")
    return share


def _proc_cpu(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def idle_cpu_arecord(model: Model, seconds: float) -> None:
    source = ArecordSource(None)
    listener = VoskListener(model.hearing, lambda: source, report=print)
    inbox: queue.Queue[Input] = queue.Queue()
    listener.start(inbox)
    if not listener.ready.wait(30) or source._process is None:
        print("idle CPU through arecord: no capture device")
        listener.close()
        return
    time.sleep(1.0)
    pid = source._process.pid
    cpu0, rec0, wall0 = time.process_time(), _proc_cpu(pid), time.monotonic()
    threading.Event().wait(seconds)
    wall = time.monotonic() - wall0
    ours, theirs = (time.process_time() - cpu0) / wall, (_proc_cpu(pid) - rec0) / wall
    listener.close()
    print(f"idle CPU through arecord (default device, {seconds:.0f} s): coach {100 * ours:.2f} %, arecord {100 * theirs:.2f} % "
          f"of one core; audio dropped {listener.dropped_bytes} bytes")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--idle", type=float, default=60.0, help="seconds of idle listening to measure")
    parser.add_argument("--rounds", type=int, default=3, help="times each command word is said for latency")
    parser.add_argument("--voices", type=int, default=1, help="patient voices saying them (of 3)")
    parser.add_argument("--arecord", action="store_true", help="also measure idle CPU with arecord on the default device")
    args = parser.parse_args()
    before = peak_rss_mb()
    started = time.perf_counter()
    model = Model()
    model.hearing()
    print(f"model load + grammar: {time.perf_counter() - started:.2f} s; peak memory {before:.0f} MB before, "
          f"{peak_rss_mb():.0f} MB with the Korean model loaded")  # fmt: skip
    figures = {"rss_mb": peak_rss_mb(), "rss_before_mb": before}
    figures["rtf"] = real_time_factor(model)  # type: ignore[assignment]
    figures["latency"] = latency(model, args.rounds, args.voices)  # type: ignore[assignment]
    figures["idle_cpu"] = idle_cpu(model, args.idle)
    if args.arecord:
        idle_cpu_arecord(model, args.idle)
    figures["rss_end_mb"] = peak_rss_mb()
    print(f"peak memory at the end: {peak_rss_mb():.0f} MB")
    dump("perf", figures)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
