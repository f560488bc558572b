"""Every shipped routine keeps to the protocol (shared/PROTOCOL.md, issue 14), read off its timetable.

The checks work on the compiled script, what the person will hear and when, not on the routine's
fields, so a compiler change that breaks the protocol fails here as surely as an edit of a routine.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import ROUTINES, SMALL_PIR, write_routine

from coach.core.script import COUNT, Block, Cue, compile_script
from coach.spec.locale import Locale, available_languages, load_locale
from coach.spec.routine import Exercise, PirExercise, RestBreak, Routine, estimate_speech_seconds, load_routine

SHIPPED = sorted(ROUTINES.glob("*.yaml"))

CONTRACT_SECONDS = (5.0, 10.0)
"""Lewit: 5-10 s of gentle isometric contraction."""
GENTLER_CONTRACT_SECONDS = (5.0, 30.0)
"""An easier form: "if the contraction hurts, use less force for longer (10-30 s)"."""
STRETCH_SECONDS = (10.0, 20.0)
"""Lewit: 10-20 s of lengthening into the new range."""
REPETITIONS = (3, 5)
"""Repetitions on each side."""
STRENGTHS = ("tenth", "eighth", "sixth", "fifth", "quarter")
"""How the effort may be put: 10 to 25 % of one's strength."""
SIDE_MOVE_SECONDS = 8.0
"""Time to change sides beyond saying how, for a person with back pain."""
POSITION_MOVE_SECONDS = 15.0
"""Time to get onto, or down from, hands and knees beyond saying how (15-20 s)."""
ON_ALL_FOURS = "hands and knees"


def protocol_problems(routine: Routine, locale: Locale) -> list[str]:
    """Every way ``routine``'s timetable departs from the protocol, one line each."""
    script = compile_script(routine, locale)
    problems: list[str] = []
    previous_on_all_fours = False
    for block in script.exercise_blocks:
        assert block.exercise_index is not None
        exercise = routine.exercises[block.exercise_index]
        where = f"{routine.id}/{exercise.id}"
        problems += _counting_problems(block, where, locale)
        on_all_fours = ON_ALL_FOURS in exercise.setup.lower() and "come down" not in exercise.setup.lower()
        opening = block.cues[0]
        slot = (exercise.seconds if isinstance(exercise, RestBreak) else exercise.setup_seconds) - estimate_speech_seconds(
            opening.text
        )
        if on_all_fours != previous_on_all_fours and slot < POSITION_MOVE_SECONDS:
            problems.append(f"{where}: {slot:g} s to change position after the set-up; allow {POSITION_MOVE_SECONDS:g}")
        previous_on_all_fours = on_all_fours
        if isinstance(exercise, RestBreak):
            continue
        problems += _side_problems(exercise.sides, exercise.setup, exercise.side_setup, block, where, locale)
        if isinstance(exercise, PirExercise):
            problems += _pir_problems(block, where, locale)
        problems += _easier_problems(exercise, block, where, locale)
    problems += _pain_check_problems(routine)
    return problems


LOADS_BACK_OR_NERVE = ("pir", "knee", "bridge", "cat", "bird", "glide", "press-up", "extension")
"""Exercise ids of the kinds that load the back or a nerve: each gets an easier form (pelvic tilts,
bracing, breathing and rests do not)."""


def _pain_check_problems(routine: Routine) -> list[str]:
    """Issue 14: every exercise that loads the back or a nerve is followed by a pain check before the
    next such exercise starts: its own (``pain_check: true``), one after a pelvic tilt, bracing or rest
    that follows it, or the routine's closing one; so a rise is heard, and put down to the right
    exercise, while the next loading exercise has not yet added to it."""
    problems, unchecked = [], None
    for exercise in routine.exercises:
        loads = isinstance(exercise, PirExercise) or any(word in exercise.id for word in LOADS_BACK_OR_NERVE)
        if isinstance(exercise, RestBreak) or not loads:
            unchecked = None if exercise.pain_check else unchecked
            continue
        if unchecked is not None:
            problems.append(f"{routine.id}/{unchecked.id}: loads the back or a nerve, and no pain check follows it")
        unchecked = None if exercise.pain_check else exercise
    if unchecked is not None and not routine.pain_after:
        problems.append(f"{routine.id}/{unchecked.id}: loads the back or a nerve, and no pain check follows it")
    return problems


def _easier_problems(exercise: Exercise, block: Block, where: str, locale: Locale) -> list[str]:
    """An easier form keeps to the protocol too, with the gentler PIR: a press of up to 30 s at no more
    than the standard form's strength; and every exercise that loads the back or a nerve has one."""
    easier, problems = exercise.easier, []
    if easier is None or not block.easier:
        if any(word in exercise.id for word in LOADS_BACK_OR_NERVE):
            problems.append(f"{where}: loads the back or a nerve, and has no easier form to switch to")
        return problems
    where = f"{where} (easier)"
    whole = block.easier[0]  # from its start; the ones from a later side are checked for their side change
    problems += _counting_problems(whole, where, locale)
    problems += _side_problems(easier.sides, easier.setup, easier.side_setup, whole, where, locale)
    for later in block.easier[1:]:
        from_side = f"{where} from {later.cues[0].side}"
        problems += _side_problems(easier.sides, easier.setup, easier.side_setup, later, from_side, locale)
    if isinstance(exercise, PirExercise) and isinstance(easier, PirExercise):
        problems += _pir_problems(whole, where, locale, GENTLER_CONTRACT_SECONDS)
        standard, lighter = STRENGTHS.index(_strength(exercise)), STRENGTHS.index(_strength(easier))
        if lighter > standard:
            problems.append(f"{where}: presses with {_strength(easier)}, more than the standard form's {_strength(exercise)}")
    if not whole.cues[0].text.startswith(locale.say("easier_setup", changes="", setup="").split(":")[0]):
        problems.append(f"{where}: the easier form does not open by saying so: {whole.cues[0].text!r}")
    return problems


def _strength(exercise: PirExercise) -> str:
    return next(word for word in STRENGTHS if word in (exercise.strength or "a fifth"))


def _side_problems(sides: str, setup: str, side_setup: dict[str, str], block: Block, where: str, locale: Locale) -> list[str]:
    problems = []
    if sides not in ("none", "both"):
        problems.append(f"{where}: sides: {sides}; left and right are done separately, each with its own repetitions")
    if sides == "none" and re.search(r"\b(left|right)\b", setup, re.IGNORECASE):
        problems.append(f"{where}: a one-sided set-up done on one side only; use sides: both with a side_setup")
    if sides == "both":
        for side in ("left", "right"):
            if side not in side_setup:
                problems.append(f"{where}: no side_setup for the {side} side: say what that side means, not the mirror image")
        for index, cue in enumerate(block.cues):
            if cue.phase == "setup" and cue.kind == "instruction" and cue.side:
                moving = block.cues[index + 1].offset - cue.offset - estimate_speech_seconds(cue.text)
                if moving < SIDE_MOVE_SECONDS:
                    problems.append(f"{where}: {moving:g} s to change sides after saying how; allow {SIDE_MOVE_SECONDS:g}")
    return problems


def _phases(block: Block) -> list[tuple[Cue, float, list[Cue]]]:
    """Each phase cue with the time until the next phase cue (or the block's end) and its counts."""
    found: list[tuple[Cue, float, list[Cue]]] = []
    cues = list(block.cues)
    for index, cue in enumerate(cues):
        if cue.kind == COUNT or cue.text == "Halfway.":
            if found:
                found[-1][2].append(cue)
            continue
        end = next((c.offset for c in cues[index + 1 :] if c.kind != COUNT and c.text != "Halfway."), block.duration)
        found.append((cue, end - cue.offset, []))
    return found


def _counting_problems(block: Block, where: str, locale: Locale) -> list[str]:
    """One convention: a timed phase is counted down in seconds still to go, ending 3, 2, 1; an
    effort (contraction, hold) ends "And ease"; a stretch or hold announces its length."""
    problems = []
    phases = _phases(block)
    ease = locale.say("release")
    for index, (cue, seconds, counts) in enumerate(phases):
        if cue.phase not in ("contract", "stretch", "hold") or cue.text == locale.say("hold"):
            continue
        for count in counts:
            if count.kind == COUNT and float(count.text) != round(cue.offset + seconds - count.offset, 6):
                problems.append(f"{where}: {cue.phase} count {count.text!r} is not the seconds still to go")
        if [c.text for c in counts if c.kind == COUNT][-3:] != ["3", "2", "1"]:
            problems.append(f"{where}: {cue.phase} does not end with the countdown 3, 2, 1")
        if cue.phase in ("contract", "stretch", "hold") and f"{seconds:g} seconds" not in cue.text:
            problems.append(f"{where}: {cue.text!r} does not announce its length ({seconds:g} seconds)")
        following = phases[index + 1][0].text if index + 1 < len(phases) else ""
        ends_well = following.startswith(ease.rstrip(".")) or following == locale.say("hold")  # "Hold still." ends in ease
        if cue.phase in ("contract", "hold") and not ends_well:
            problems.append(f"{where}: the {cue.phase} does not end with {ease!r}")
    return problems


def _pir_problems(
    block: Block, where: str, locale: Locale, contract_seconds: tuple[float, float] = CONTRACT_SECONDS
) -> list[str]:
    problems = []
    phases = _phases(block)
    if any(cue.text == locale.say("rest") for cue, _, _ in phases):
        problems.append(f"{where}: 'Rest.' between repetitions invites letting go of the range just gained")
    for side in dict.fromkeys(cue.side for cue, _, _ in phases if cue.phase == "contract"):
        mine = [(cue, seconds) for cue, seconds, _ in phases if cue.side == side]
        reps = sorted({cue.rep for cue, _ in mine if cue.phase == "contract" and cue.rep is not None})
        if not REPETITIONS[0] <= len(reps) <= REPETITIONS[1]:
            low, high = REPETITIONS
            problems.append(f"{where}: {len(reps)} repetitions on side {side}; the protocol does {low}-{high}")
        for position, (cue, seconds) in enumerate(mine):
            rest = mine[position + 1 :]
            if cue.phase == "contract":
                if not contract_seconds[0] <= seconds <= contract_seconds[1]:
                    problems.append(f"{where}: a {seconds:g} s contraction; the protocol presses {contract_seconds} s")
                if "breathe in" not in cue.text:
                    problems.append(f"{where}: the contraction {cue.text!r} is not on an in-breath")
                if not any(f"{word} of your strength" in cue.text for word in STRENGTHS):
                    problems.append(f"{where}: the contraction {cue.text!r} does not restate the effort")
            if cue.phase == "relax" and "breathe out" not in cue.text:
                problems.append(f"{where}: the relaxation {cue.text!r} is not on an out-breath")
            if cue.phase == "stretch":
                if not STRETCH_SECONDS[0] <= seconds <= STRETCH_SECONDS[1]:
                    problems.append(f"{where}: a {seconds:g} s stretch; the protocol lengthens {STRETCH_SECONDS} s")
                more = any(c.phase == "contract" for c, _ in rest)
                if more and rest[0][0].text != locale.say("stay"):
                    problems.append(f"{where}: between repetitions {rest[0][0].text!r}, not 'stay in the new position'")
    return problems


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_protocol_every_shipped_routine_keeps_to_it(path: Path) -> None:
    routine = load_routine(path, available_languages())
    assert protocol_problems(routine, load_locale(routine.language)) == []


def test_protocol_shipped_routines_have_pir_on_both_sides_and_a_countdown() -> None:
    """The checks above have something to check: every routine's PIR is timed, sided and counted."""
    routines = [load_routine(path) for path in SHIPPED]
    pir = [e for r in routines for e in r.exercises if isinstance(e, PirExercise)]
    assert len(routines) >= 4 and len(pir) >= 7
    assert {e.sides for e in pir} == {"none", "both"}
    easier = [e.easier for r in routines for e in r.exercises if e.easier is not None]
    assert len(easier) >= 13 and all(isinstance(e, PirExercise) for e in easier if e.id.endswith("pir"))


def test_protocol_a_routine_that_breaks_it_is_told_how(tmp_path: Path, en: Locale) -> None:
    """Today's timings of the small test routine break the protocol in these ways (so the check can fail)."""
    body = SMALL_PIR.replace("    setup: Lie on your back.\n", "    setup: Lie on your back, left knee bent.\n").replace(
        "    sides: both\n", "    sides: none\n"
    )
    problems = protocol_problems(load_routine(write_routine(tmp_path, body)), en)
    assert problems == [
        "small/ql: a one-sided set-up done on one side only; use sides: both with a side_setup",
        "small/ql: 2 repetitions on side None; the protocol does 3-5",
        "small/ql: loads the back or a nerve, and no pain check follows it",
    ]
    short = SMALL_PIR.replace("    contract_seconds: 8\n", "    contract_seconds: 4\n").replace(
        "    stretch_seconds: 10\n", "    stretch_seconds: 6\n"
    )
    problems = protocol_problems(load_routine(write_routine(tmp_path, short)), en)
    assert "small/ql: no side_setup for the right side: say what that side means, not the mirror image" in problems
    assert "small/ql: 2 s to change sides after saying how; allow 8" in problems
    assert "small/ql: contract does not end with the countdown 3, 2, 1" in problems  # a 4 s press is all cue
    assert any("a 4 s contraction" in p for p in problems) and any("a 6 s stretch" in p for p in problems)


def test_protocol_an_easier_form_that_breaks_it_is_told_how(tmp_path: Path, en: Locale) -> None:
    """The easier forms are checked too: a 35 s press would be refused on load, but a PIR's easier form
    with too few repetitions, or an exercise that loads the back with none, is caught here."""
    body = SMALL_PIR.replace("    repetitions: 2\n", "    repetitions: 3\n")
    side_setup = "    side_setup: {left: Left knee bent., right: Right knee bent.}\n    side_switch_seconds: 12\n"
    body = body.replace("    sides: both\n", "    sides: both\n" + side_setup)
    assert protocol_problems(load_routine(write_routine(tmp_path, body.replace("id: ql", "id: ql-pir"))), en) == [
        "small/ql-pir: loads the back or a nerve, and has no easier form to switch to",
        "small/ql-pir: loads the back or a nerve, and no pain check follows it",
    ]
    easier = body + "    easier: {repetitions: 2, strength: a tenth of your strength, contract_seconds: 12}\n"
    problems = protocol_problems(load_routine(write_routine(tmp_path, easier)), en)
    assert problems == ["small/ql (easier): 2 repetitions on side left; the protocol does 3-5",
                        "small/ql (easier): 2 repetitions on side right; the protocol does 3-5",
                        "small/ql: loads the back or a nerve, and no pain check follows it"]


def test_protocol_a_loading_exercise_needs_a_pain_check_after_it(tmp_path: Path) -> None:
    """Its own pain check, or one before the next loading exercise, or the closing one; not none."""
    body = SMALL_PIR.replace("id: ql", "id: ql-pir")
    bracing = "  - kind: hold\n    id: bracing\n    name: Bracing\n    setup: Brace.\n    seconds: 10\n    cue: Brace\n"
    bridge = bracing.replace("id: bracing", "id: bridge") + "    pain_check: true\n"
    unchecked = load_routine(write_routine(tmp_path, body + bracing + bridge))
    assert _pain_check_problems(unchecked) == ["small/ql-pir: loads the back or a nerve, and no pain check follows it"]
    assert _pain_check_problems(load_routine(write_routine(tmp_path, body))) == [
        "small/ql-pir: loads the back or a nerve, and no pain check follows it"
    ]
    checked = body.replace("    rest_seconds: 5\n", "    rest_seconds: 5\n    pain_check: true\n")
    assert _pain_check_problems(load_routine(write_routine(tmp_path, checked + bracing + bridge))) == []
    after_bracing = load_routine(write_routine(tmp_path, body + bracing + "    pain_check: true\n" + bridge))
    assert _pain_check_problems(after_bracing) == []
    closing = body.replace("{before: false, after: false}", "{before: false, after: true}")
    assert _pain_check_problems(load_routine(write_routine(tmp_path, closing + bracing))) == []
