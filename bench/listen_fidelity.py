#!/usr/bin/env python3
"""Fidelity: does the coach's whole voice path get right every utterance a plain vosk call gets right?

A session-like stream per patient voice: the coach says a cue (espeak-ng's Korean voice, gated
with ``speaking()`` as the runner does), the patient answers 0.6 s after it ends with one locale
word (every number word and command phrase of ko.yaml), then 1.5 s of room. The stream goes
through the real ``VoskListener`` (capture thread, queue, VAD, gate, endpointing, confidence
filter) and then the one word parser. The plain call is a fresh vosk recogniser on the same
grammar over the same patient turn (from the end of the gate to the next cue), with vosk's own
endpointing and no filter. Both are scored by what the parser makes of them.

Kaldi dithers its features at random, so a plain call does not always agree with itself: a
second plain run is reported as the noise floor of the comparison. And espeak-ng's robotic
Korean sits on a knife edge for some words: moving the start of the plain call's audio by 30 ms
(still room noise) changes what it hears. Fidelity is therefore also reported over the
utterances the plain call gets right *robustly*: at five start offsets (-60, -30, 0, +30, +60 ms).

Kaldi seeds each frame's dither from one random sequence shared by every recogniser in the
process, so a run is repeatable, and ``--shift K`` (K throwaway frames decoded first) gives
another draw of the dither: words on the knife edge may flip, in the path and the plain call.

    python bench/listen_fidelity.py [--room-db -70] [--voices 3] [--shift 0]
"""

from __future__ import annotations

import argparse
import random
import time

import listen_common
from listen_common import COACH_VOICES, PATIENT_VOICES, Model, ScriptedSource, add, dump, phrases, room, run_listener, speech
from testaudio import silence

from coach.voice.capture import BYTES_PER_SECOND
from coach.voice.hearing import HearingSettings

GAP_BEFORE = 0.6
"""Patient answers this long after the coach's cue ends (seconds)."""
GAP_AFTER = 1.5


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--room-db", type=float, default=-70.0, help="room noise level (dBFS)")
    parser.add_argument("--voices", type=int, default=len(PATIENT_VOICES), help="how many patient voices")
    parser.add_argument("--shift", type=int, default=0, help="throwaway frames decoded first: another draw of the dither")
    args = parser.parse_args()
    voice = speech()
    model = Model()
    throwaway = model.recognizer.fresh()
    for _ in range(args.shift):
        throwaway.accept(room(0.03, -40.0, 1))
    throwaway.final()
    tail = HearingSettings().gate_tail_seconds
    locale = model.locale
    words = [(w, str(v)) for v, ws in locale.numbers.items() for w in ws] + [
        (p, name) for name, ps in locale.commands.items() for p in ps
    ]
    cues = phrases("ko")
    rng = random.Random(4)
    rows = []
    started = time.perf_counter()
    for patient in PATIENT_VOICES[: args.voices]:
        pcm = b""
        gates: list[tuple[float, float]] = []
        turns = []
        for word, meaning in words:
            cue = voice.pcm(rng.choice(cues), COACH_VOICES["ko"])
            gates.append((len(pcm) / BYTES_PER_SECOND, len(cue) / BYTES_PER_SECOND))
            pcm += cue
            turn_start = len(pcm) / BYTES_PER_SECOND + tail
            said = voice.pcm(word, patient)
            pcm += silence(GAP_BEFORE) + said + silence(GAP_AFTER)
            turns.append((word, meaning, turn_start, len(pcm) / BYTES_PER_SECOND))
        pcm = add(pcm, room(len(pcm) / BYTES_PER_SECOND, args.room_db, 99))  # room noise under the cues too
        recorded, fed = model.recorded_hearing()
        heard, _, listener = run_listener(model, ScriptedSource(pcm, gates), hearing=recorded)
        audio_of = {text: audio for audio, text in fed}
        for word, meaning, start, end in turns:
            segment = pcm[int(start * 16000) * 2 : int(end * 16000) * 2]
            runs = [model.plain(segment) for _ in range(2)]
            plain = [[model.meaning(r["text"]) for r in results] for results in runs]
            shifted = [pcm[int((start + d) * 16000) * 2 : int(end * 16000) * 2] for d in (-0.06, -0.03, 0.03, 0.06)]
            robust = plain[0] == [meaning] and all(
                [model.meaning(r["text"]) for r in model.plain(audio)] == [meaning] for audio in shifted
            )
            in_turn = [h for h, _ in heard if start <= h.end < end]
            path_texts = [h.text for h in in_turn]
            path = [listen_common.meaning_of(h.meaning) for h in in_turn]
            # A plain call on exactly the audio the path gave the recogniser: does it hear the same?
            same_audio = [r["text"] for h in in_turn[:1] if h.raw in audio_of for r in model.plain(audio_of[h.raw])]
            reproduced = bool(in_turn) and same_audio == [h.raw for h in in_turn]
            rows.append(dict(voice=patient[1], word=word, want=meaning, plain1=plain[0] == [meaning], robust=robust,
                             reproduced=reproduced,
                             plain2=plain[1] == [meaning], path=path == [meaning], path_texts=path_texts,
                             endpoints=[h.endpoint for h in in_turn],
                             plain_texts=[r["text"] for r in runs[0]]))  # fmt: skip
        stray = [h.text for h, _ in heard if not any(s <= h.end < e for _, _, s, e in turns)]
        print(f"voice {patient[1]} {' '.join(patient[2:])}: {len(turns)} turns, {len(pcm) / BYTES_PER_SECOND:.0f} s; "
              f"utterances outside the patient's turns (inside the gated cues): {len(stray)}; "
              f"frames gated {listener.hearing.stats.gated_frames if listener.hearing else '?'}; "
              f"utterances discarded by the gate {listener.hearing.stats.discarded if listener.hearing else '?'}")  # fmt: skip
    n = len(rows)
    plain1 = [r for r in rows if r["plain1"]]
    both_plain = sum(r["plain1"] and r["plain2"] for r in rows)
    path_ok = sum(r["path"] for r in rows)
    kept = sum(r["path"] for r in plain1)
    print(f"utterances: {n} ({len(words)} words x {len(rows) // len(words)} voices), {time.perf_counter() - started:.0f} s")
    print(f"plain vosk right:      {len(plain1)}/{n}   (a second plain run agrees with the first on "
          f"{sum(r['plain1'] == r['plain2'] for r in rows)}/{n}; right both times {both_plain})")  # fmt: skip
    print(f"coach's path right:    {path_ok}/{n}")
    share = 100 * kept / max(1, len(plain1))
    print(f"fidelity: of the {len(plain1)} the plain call got right, the path got {kept} right ({share:.1f} %)")
    robust = [r for r in rows if r["robust"]]
    kept_robust = sum(r["path"] for r in robust)
    print(f"fidelity on the {len(robust)} the plain call gets right at every start offset: {kept_robust} "
          f"({100 * kept_robust / max(1, len(robust)):.1f} %)")  # fmt: skip
    print(f"path right where plain was wrong: {sum(r['path'] and not r['plain1'] for r in rows)}")
    lost_all = [r for r in plain1 if not r["path"]]
    print(f"of the {len(lost_all)} lost, a plain call on exactly the audio the path handed the recogniser (its "
          f"pre-roll and endpoint) hears what the path heard in {sum(r['reproduced'] for r in lost_all)}")  # fmt: skip
    lost = [r for r in plain1 if not r["path"]]
    for r in lost:
        flag = ("robust" if r["robust"] else "edge  ") + (", same on path audio" if r["reproduced"] else "")
        print(f"  lost ({flag}): {r['voice']:6} {r['word']:6} want {r['want']:7} "
              f"plain {r['plain_texts']}  path {r['path_texts']} (endpoint {', '.join(r['endpoints']) or '-'})")  # fmt: skip
    dump("fidelity", dict(n=n, plain=len(plain1), path=path_ok, kept=kept, robust=len(robust), kept_robust=kept_robust,
                          plain_agree=sum(r["plain1"] == r["plain2"] for r in rows)))  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
