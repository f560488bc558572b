"""Stop or regress (issue 14, shared/PROTOCOL.md): a rating above the stop threshold during an exercise
switches to its easier form for the rest of that exercise; without one, or in it, the exercise stops."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import KO_CHECK, SMALL_PIR, rating, simulate, write_routine

from coach.core.records import SessionStarted
from coach.core.script import Block, compile_script
from coach.errors import RoutineError
from coach.spec.locale import load_locale
from coach.spec.routine import PirExercise, Routine, load_routine

EASIER = SMALL_PIR + """\
    easier:
      setup: Lie on your back, knees bent.
      repetitions: 1
      contract_seconds: 12
      strength: a tenth of your strength
"""


def _intro(routine: Routine) -> float:
    intro = compile_script(routine, load_locale("en")).steps[0]
    assert isinstance(intro, Block)
    return intro.duration


def test_regress_the_easier_form_is_loaded_and_compiled(tmp_path: Path) -> None:
    routine = load_routine(write_routine(tmp_path, EASIER))
    pir = routine.exercises[0]
    assert isinstance(pir, PirExercise) and isinstance(pir.easier, PirExercise)
    assert (pir.easier.repetitions, pir.easier.contract_seconds, pir.easier.sides) == (1, 12.0, "both")
    block = compile_script(routine, load_locale("en")).exercise_blocks[0]
    assert len(block.easier) == 2  # from its start, and from the right side
    easier = block.easier[0]
    assert easier.form == "easier" and easier.easier == ()
    changes = "less force, for longer, fewer repetitions, a gentler way to do it"
    assert easier.cues[0].text == f"An easier way: {changes}. Lie on your back, knees bent."
    contracts = [c for c in easier.cues if c.phase == "contract" and c.kind == "cue"]
    assert [(c.side, c.text) for c in contracts] == [
        ("left", "Press gently, a tenth of your strength, and breathe in. 12 seconds."),
        ("right", "Press gently, a tenth of your strength, and breathe in. 12 seconds."),
    ]


def test_regress_a_six_during_a_pir_switches_to_its_easier_form(tmp_path: Path) -> None:
    routine = load_routine(write_routine(tmp_path, EASIER))
    start = _intro(routine)
    run = simulate(routine, [rating(start + 15, 6)])
    safety = run.of("safety")
    assert [(s["rule"], s["action"], s["rating"]) for s in safety] == [("stop_exercise_above", "regress", 6)]
    said = run.first_say("so we make it easier")
    changes = "less force, for longer, fewer repetitions, a gentler way to do it"
    assert said["text"] == f"Your pain is 6, above 5, so we make it easier: {changes}."
    assert said["due"] == start + 15 + 3.0  # "Got it, 6." then the explanation, ACK_GAP later
    # The easier block starts once that is said (its 23 words: 10 s, + 1 s): its cues at their offsets from there.
    begin = start + 15 + 3.0 + 10.0 + 1.0
    opening = run.first_say("An easier way:")
    assert opening["due"] == begin
    easier = compile_script(routine, load_locale("en")).exercise_blocks[0].easier[0]
    expected = [(round(begin + c.offset, 6), c.text) for c in easier.cues]
    later = [e for e in run.says() if e["due"] >= begin and e["phase"] not in ("summary", "prompt")]
    played = [(round(e["due"], 6), e["text"]) for e in later]
    assert played[: len(expected)] == expected
    assert ("Press gently, a tenth of your strength, and breathe in. 12 seconds." in [t for _, t in played])
    result = run.of("exercise")[0]
    assert (result["exercise"], result["status"], result["form"], result["repetitions_started"]) == ("ql", "done", "easier", 2)
    assert run.status == "completed"


def test_regress_without_an_easier_form_the_exercise_stops_as_before(small_pir: Routine) -> None:
    start = _intro(small_pir)
    run = simulate(small_pir, [rating(start + 15, 6)])
    assert [s["action"] for s in run.of("safety")] == ["stop-exercise"]
    result = run.of("exercise")[0]
    assert result["status"] == "stopped-for-pain" and "form" not in result
    assert not [e for e in run.says() if "easier" in e["text"]]


def test_regress_a_six_in_the_easier_form_stops_it(tmp_path: Path) -> None:
    routine = load_routine(write_routine(tmp_path, EASIER))
    start = _intro(routine)
    begin = start + 15 + 3.0 + 10.0 + 1.0
    run = simulate(routine, [rating(start + 15, 6), rating(begin + 20, 6)])
    assert [s["action"] for s in run.of("safety")] == ["regress", "stop-exercise"]
    result = run.of("exercise")[0]
    assert (result["status"], result["form"]) == ("stopped-for-pain", "easier")
    assert run.first_say("We will stop this exercise")["due"] == begin + 20 + 3.0


@pytest.mark.parametrize(
    ("easier", "message"),
    [
        ("      repetitions: 3\n", "r.yaml:18: easier: repetitions: 3 is more than the standard form's 2; an easier"),
        ("      strength: a quarter of your strength\n", "r.yaml:18: easier: strength: 'a quarter of your strength' is stronger"),
        ("      contract_seconds: 12\n", "r.yaml:18: easier: contract_seconds: a longer press needs less force"),
        ("      contract_seconds: 40\n", "r.yaml:18: contract_seconds: must be between 3 and 30 seconds, got 40"),
        ("      strength: gently\n", "r.yaml:18: easier: strength: 'gently' names none of tenth"),
        ("      name: Other\n", "r.yaml:18: name: unknown field in an easier form"),
        ("      easier: {repetitions: 1}\n", "r.yaml:18: easier: an easier form has no easier form of its own"),
        ("      repetitions: 2\n", "r.yaml:18: easier: changes nothing"),
    ],
)
def test_regress_an_easier_form_that_is_not_easier_is_refused_with_file_and_line(
    tmp_path: Path, easier: str, message: str
) -> None:
    path = write_routine(tmp_path, SMALL_PIR + "    easier:\n" + easier)
    with pytest.raises(RoutineError) as caught:
        load_routine(path)
    assert len(caught.value.problems) == 1
    assert caught.value.problems[0].startswith(f"{tmp_path}/{message}")


def test_regress_on_the_second_side_the_easier_form_goes_on_from_that_side(tmp_path: Path) -> None:
    """A side already finished stays done: a 6 on the right side goes on with the easier form's right side."""
    routine = load_routine(write_routine(tmp_path, EASIER))
    start = _intro(routine)
    block = compile_script(routine, load_locale("en")).exercise_blocks[0]
    switch = next(c.offset for c in block.cues if c.text.startswith("Now change sides"))
    assert block.easier_for(switch - 1) is block.easier[0] and block.easier_for(switch + 1) is block.easier[1]
    cut = start + switch + 20
    run = simulate(routine, [rating(cut, 6)])
    assert [s["action"] for s in run.of("safety")] == ["regress"]
    begin = cut + 3.0 + 10.0 + 1.0
    right = block.easier[1]
    expected = [(round(begin + c.offset, 6), c.text, c.side) for c in right.cues]
    later = [(round(e["due"], 6), e["text"], e.get("side")) for e in run.says() if e["due"] >= begin and e["phase"] != "prompt"]
    assert later[: len(expected)] == expected
    assert expected[0][1].startswith("An easier way:") and expected[1][1:] == ("Right side.", "right")
    assert not [c for c in right.cues if c.side == "left"]
    result = run.of("exercise")[0]
    assert (result["status"], result["form"], result["repetitions_started"]) == ("done", "easier", 3)  # 2 left + 1 easier right


def test_regress_the_log_keeps_the_form_and_the_regress_action(tmp_path: Path) -> None:
    """``form`` has no column of its own: the log's one mapping keeps it in the JSON, and reads it back."""
    from coach.core.records import ExerciseResult, SafetyFired
    from coach.log.queries import records
    from coach.log.store import SqliteJournal, Store

    journal = SqliteJournal(tmp_path)
    journal.append(SessionStarted(0.0, "r", "R", "v", "en"))
    kept = [SafetyFired(4.0, "stop_exercise_above", "regress", "pain 6 is above 5; the easier form follows", 6),
            ExerciseResult(9.0, "ql", 0, "done", 3, None, "easier")]  # fmt: skip
    for record in kept:
        journal.append(record)
    journal.close()
    store = Store(tmp_path)
    back = [r.record for r in records(store)]
    store.close()
    assert back[1:] == kept


def test_regress_a_korean_routine_says_it_in_korean(tmp_path: Path) -> None:
    body = KO_CHECK + "    easier: {seconds: 10, setup: 더 편하게 누우세요.}\n"
    routine = load_routine(write_routine(tmp_path, body))
    block = compile_script(routine, load_locale("ko")).exercise_blocks[0]
    assert block.easier[0].cues[0].text == "더 쉬운 방법: 더 부드러운 방법으로. 더 편하게 누우세요."
    run = simulate(routine, [rating(_intro(routine) + 1, 4), rating(_intro(routine) + 12, 6)])
    assert run.first_say("더 쉽게")["text"] == "통증이 6점으로 5점보다 높습니다. 더 쉽게 하겠습니다: 더 부드러운 방법으로."


def test_regress_a_pause_in_the_easier_form_resumes_it_and_its_phrases_are_known_in_advance(tmp_path: Path) -> None:
    """Paused in the easier form, the session resumes the easier form's repetition; and every text said,
    the explanation and the easier form's cues included, is among those a speech cache renders first."""
    from conftest import cmd

    from coach.core.session import Session

    routine = load_routine(write_routine(tmp_path, EASIER))
    start = _intro(routine)
    begin = start + 15 + 3.0 + 10.0 + 1.0
    easier = compile_script(routine, load_locale("en")).exercise_blocks[0].easier[0]
    contract = next(c for c in easier.cues if c.phase == "contract")
    run = simulate(routine, [rating(start + 15, 6), cmd(begin + contract.offset + 2, "pause"), cmd(begin + 60, "resume")])
    again = [e for e in run.says() if e["text"] == contract.text and e["side"] == "left"]
    assert [e["due"] for e in again] == [begin + contract.offset, begin + 60 + 3.0 + 2.0]  # RESUME_LEAD, "Left side." first
    assert run.of("exercise")[0]["form"] == "easier"
    locale = load_locale("en")
    known = Session(compile_script(routine, locale), locale).phrases()
    assert {e["text"] for e in run.says() if e["phase"] != "summary"} <= known
