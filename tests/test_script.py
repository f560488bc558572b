"""The compiled script: what is said, and exactly when."""

from __future__ import annotations

from pathlib import Path

from conftest import SMALL_PIR, write_routine

from coach.core.script import Block, PainCheck, compile_exercise, compile_script
from coach.spec.locale import Locale
from coach.spec.routine import Routine, load_routine


def _block(routine: Routine, en: Locale, index: int = 0) -> Block:
    return compile_exercise(routine.exercises[index], index, en)


def test_script_contract_counts_land_on_their_second(small_pir: Routine, en: Locale) -> None:
    block = _block(small_pir, en)
    contract = [c for c in block.cues if c.phase == "contract" and c.rep == 1 and c.side == "left"]
    start = contract[0].offset
    assert contract[0].kind == "cue" and contract[0].text == "Press gently, a fifth of your strength, and breathe in. 8 seconds."
    counts = [(c.offset - start, c.text) for c in contract[1:]]
    # Announced, then counted down in seconds still to go (issue 14: one convention in every kind of
    # exercise); none while the cue is said (5 s).
    assert counts == [(5.0, "3"), (6.0, "2"), (7.0, "1")]
    relax = next(c for c in block.cues if c.phase == "relax" and c.rep == 1 and c.side == "left")
    assert relax.offset - start == 8.0
    stretch = next(c for c in block.cues if c.phase == "stretch" and c.rep == 1 and c.side == "left")
    assert stretch.offset - relax.offset == 3.0


def test_script_counts_are_evenly_spaced_in_every_repetition(small_pir: Routine, en: Locale) -> None:
    block = _block(small_pir, en)
    for side in ("left", "right"):
        for rep in (1, 2):
            counts = [
                c.offset for c in block.cues if c.kind == "count" and c.phase == "contract" and c.rep == rep and c.side == side
            ]
            gaps = {round(b - a, 9) for a, b in zip(counts, counts[1:])}
            assert gaps == {1.0}


def test_script_both_sides_left_then_right_each_with_all_reps(small_pir: Routine, en: Locale) -> None:
    block = _block(small_pir, en)
    reps = [(c.side, c.rep) for c in block.cues if c.phase == "contract" and c.kind == "cue"]
    assert reps == [("left", 1), ("left", 2), ("right", 1), ("right", 2)]
    assert any(c.text.startswith("Now change sides: Right side.") for c in block.cues)
    assert [(r.side, r.rep) for r in block.restarts] == [(None, None), ("left", 1), ("left", 2), ("right", 1), ("right", 2)]


def test_script_no_two_cues_at_once(small_pir: Routine, en: Locale) -> None:
    offsets = [c.offset for c in _block(small_pir, en).cues]
    assert len(offsets) == len(set(offsets))
    assert offsets == sorted(offsets)


def test_script_rep_phases_follow_the_tempo(tmp_path: Path, en: Locale) -> None:
    routine = load_routine(
        write_routine(
            tmp_path,
            """\
id: r
title: R
introduction: Hi.
exercises:
  - kind: reps
    name: Bridge
    setup: Lift your hips.
    setup_seconds: 3
    repetitions: 3
    sets: 2
    rest_between_sets: 20
    tempo:
      - {name: up, seconds: 2, cue: Up}
      - {name: hold, seconds: 3, cue: Hold}
      - {name: down, seconds: 2, cue: Down}
""",
        )
    )
    block = _block(routine, en)
    counts = [c for c in block.cues if c.phase == "count"]
    assert [c.text for c in counts[:3]] == ["1. Up.", "Hold.", "Down."]
    starts = [c.offset for c in counts if c.text.endswith("Up.")]
    assert [round(b - a, 6) for a, b in zip(starts, starts[1:])] == [7.0, 7.0, 7.0 + 20 + 2, 7.0, 7.0]
    assert any(c.text == "Rest for 20 seconds." for c in block.cues)


def test_script_timed_hold_has_halfway_and_countdown(tmp_path: Path, en: Locale) -> None:
    routine = load_routine(
        write_routine(
            tmp_path,
            """\
id: r
title: R
introduction: Hi.
exercises:
  - kind: hold
    name: Brace
    setup: Tighten your tummy.
    setup_seconds: 3
    seconds: 20
    count_every: 5
""",
        )
    )
    block = _block(routine, en)
    hold = [c for c in block.cues if c.phase == "hold"]
    start = hold[0].offset
    assert [(c.offset - start, c.text) for c in hold[1:]] == [
        (5.0, "15"),
        (10.0, "Halfway."),
        (15.0, "5"),
        (17.0, "3"),
        (18.0, "2"),
        (19.0, "1"),
    ]
    assert hold[0].text == "Hold it there, and keep breathing. 20 seconds."  # the length is announced
    release = next(c for c in block.cues if c.text == "And ease.")
    assert release.offset - start == 20.0


def test_script_pain_checks_where_the_routine_asks(tmp_path: Path, en: Locale) -> None:
    body = SMALL_PIR.replace("pain_checks: {before: false, after: false}", "pain_checks: {before: true, after: true}")
    body = body.replace("    rest_seconds: 5\n", "    rest_seconds: 5\n    pain_check: true\n")
    script = compile_script(load_routine(write_routine(tmp_path, body)), en)
    kinds = [s.moment if isinstance(s, PainCheck) else s.name for s in script.steps]
    assert kinds == ["intro", "before", "ql", "exercise", "after"]
