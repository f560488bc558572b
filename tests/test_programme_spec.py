"""Programmes as data (issue 15): the shipped ones validate, name real exercises, and every level of every
stage keeps to the protocol; a bad file gets one line per problem with its file and line."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from conftest import ROOT
from test_protocol import protocol_problems

from coach.spec.levels import apply_level, apply_levels
from coach.spec.locale import available_languages, load_locale
from coach.spec.programme import ProgrammeError, find_programme, is_programme_file, load_programme
from coach.spec.routine import CountedExercise, PirExercise, find_routine, load_routine

PROGRAMMES = sorted((ROOT / "programmes").glob("*.yaml"))


def test_programme_two_are_shipped_and_found_by_name() -> None:
    assert [p.stem for p in PROGRAMMES] == ["lumbar-6-weeks", "sciatica-6-weeks"]
    for path in PROGRAMMES:
        programme = load_programme(find_programme(path.stem))
        assert programme.id == path.stem and programme.weeks == 6
        assert is_programme_file(path)
    assert not is_programme_file(ROOT / "routines" / "quick-start.yaml")


@pytest.mark.parametrize("path", PROGRAMMES, ids=[p.stem for p in PROGRAMMES])
def test_programme_every_exercise_named_is_in_its_routine(path: Path) -> None:
    programme = load_programme(path)
    for stage in programme.stages:
        routine = load_routine(find_routine(stage.routine))
        ids = {e.id for e in routine.exercises}
        assert stage.exercises and set(stage.exercises) <= ids, (stage.id, set(stage.exercises) - ids)


@pytest.mark.parametrize("path", PROGRAMMES, ids=[p.stem for p in PROGRAMMES])
def test_programme_every_level_keeps_to_the_protocol(path: Path) -> None:
    """The timetable check of every shipped routine (tests/test_protocol.py), on every level of every stage."""
    programme = load_programme(path)
    checked = 0
    for stage in programme.stages:
        routine = load_routine(find_routine(stage.routine), available_languages())
        locale = load_locale(routine.language)
        for exercise, ladder in stage.exercises.items():
            for number, level in enumerate(ladder.levels, 1):
                today = apply_levels(routine, {exercise: ladder}, {exercise: number})
                if level.form == "easier":
                    # At its easier level an exercise is its easier form, timed by the easier form's bounds (a PIR
                    # may press up to 30 s, lighter): checked as the easier form of its standard, which is how
                    # the compiler times a form it switches to, so the same rules apply to the same cues.
                    index = next(i for i, e in enumerate(routine.exercises) if e.id == exercise)
                    applied = today.exercises[index]
                    assert applied.easier is None
                    standard = replace(routine.exercises[index], easier=applied)
                    today = replace(today, exercises=(*today.exercises[:index], standard, *today.exercises[index + 1 :]))
                assert protocol_problems(today, locale) == [], (stage.id, exercise, number)
                checked += 1
    assert checked >= 20


def test_programme_levels_change_the_dose_and_the_form(tmp_path: Path) -> None:
    programme = load_programme(find_programme("lumbar-6-weeks"))
    stage = programme.stages[2]
    routine = load_routine(find_routine(stage.routine))
    bridge = next(e for e in routine.exercises if e.id == "bridge")
    ladder = stage.exercises["bridge"]
    easier, standard, eight, ten = (apply_level(bridge, level) for level in ladder.levels)
    assert isinstance(ten, CountedExercise) and ten.repetitions == 10 and ten.setup == bridge.setup
    assert ten.easier is not None and ten.easier.repetitions == 4  # it can still regress within the session
    assert standard == bridge
    assert isinstance(easier, CountedExercise) and easier.easier is None and easier.repetitions == 4
    assert bridge.easier is not None and easier.setup == bridge.easier.setup
    today = apply_levels(routine, stage.exercises, {"bridge": 3})
    assert today.version != routine.version and today.id == routine.id
    assert next(e for e in today.exercises if e.id == "bridge").repetitions == 8  # type: ignore[union-attr]
    pir = next(e for e in today.exercises if e.id == "lower-back-pir")
    assert isinstance(pir, PirExercise) and pir.repetitions == 3  # at its start level, the standard


BAD = """\
id: Bad Id
title: Bad
rules:
  progress_after_sessions: 1
  easier_above: 7
stages:
  - id: one
    name: One
    weeks: 2
    routine: quick-start
    exercises:
      bridge:
        levels: [{repetitions: 4}]
      pelvic-tilt:
        start: 5
        levels:
          - {repetitions: 400}
          - {form: easier}
          - {reps: 3}
      back-release:
        levels:
          - {repetitions: 8}
          - {contract_seconds: 20}
  - id: two
    name: Two
    weeks: 1
    routine: no-such-routine
"""


def test_programme_a_bad_file_is_told_every_problem_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(BAD, encoding="utf-8")
    with pytest.raises(ProgrammeError) as caught:
        load_programme(path)
    lines = caught.value.problems
    shown = str(path)
    expected = [
        f"{shown}:1: id: use lower-case",
        f"{shown}:4: progress_after_sessions: must be between 2 and 10",
        f"{shown}:5: easier_above: must be between 2 and 5",
        f"{shown}:12: bridge: no such exercise in routine 'quick-start'",
        f"{shown}:17: repetitions: must be between 1 and 50",
        f"{shown}:18: form: 'pelvic-tilt' has no easier form",
        f"{shown}:19: reps: unknown field in a level",
        f"{shown}:15: start: must be a level from 1 to 3, got 5",
        f"{shown}:22: repetitions: a PIR is repeated 3 to 5 times a side, got 8",
        f"{shown}:23: contract_seconds: a PIR contracts 5 to 10 s in this form, got 20",
        f"{shown}:27: routine: cannot be used: no routine named 'no-such-routine'",
    ]
    assert len(lines) == len(expected), lines
    for line, start in zip(lines, expected):
        assert line.startswith(start), (line, start)


def test_programme_validate_accepts_a_programme_and_refuses_a_bad_one(coach_here, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ok = coach_here("validate", str(ROOT / "programmes" / "lumbar-6-weeks.yaml"), "sciatica-6-weeks", "--no-phrases")
    assert ok.returncode == 0, ok
    assert [line.rsplit("/", 1)[-1] for line in ok.stdout.splitlines()] == [
        "lumbar-6-weeks.yaml: ok",
        "sciatica-6-weeks.yaml: ok",
    ]
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD, encoding="utf-8")
    refused = coach_here("validate", str(bad), "--no-phrases")
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert refused.stderr.splitlines()[0].startswith(f"{bad}:1: id:")


def test_programme_language_needs_a_locale(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        "id: p\ntitle: P\nlanguage: xx\nstages:\n  - {id: a, name: A, weeks: 1, routine: quick-start}\n", encoding="utf-8"
    )
    with pytest.raises(ProgrammeError) as caught:
        load_programme(path)
    assert caught.value.problems == [f"{path}:3: language: no locale for 'xx'; available: en, ko"]
