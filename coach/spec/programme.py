"""Programmes: a course over weeks, validated from YAML like routines (schema in programmes/README.md).

A programme is stages over weeks (settle, mobilise, strengthen), each running one routine with, per
exercise, a ladder of **levels**: a level is a dose (repetitions, sets, contract or hold seconds, the
PIR's strength) or a form (the routine's easier form, or its standard). The rules that move a person up
and down the ladder (shared/PROTOCOL.md: three good sessions in a row to progress; the next morning worse,
or a pain above 5, to regress) are data too, with bounds that keep them within the pain-monitoring model.
Loading happens once, at the edge, through the same safe reader and field checks as routines (every
problem at once, as ``file:line: field: what is wrong``). Applying levels to a routine is
:mod:`coach.spec.levels`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from coach.errors import CoachError
from coach.spec.locale import available_languages
from coach.spec.routine import _BY_KIND, Routine, find_routine, load_routine  # the routine's own bounds for a dose
from coach.spec.schema import Field, Problems, check_mapping, did_you_mean
from coach.spec.yamlsrc import YNode, read_yaml

FORMS = ("easier", "standard")
"""What a level starts from: the routine's easier form of the exercise, or its standard form."""
DOSE_FIELDS = ("repetitions", "sets", "contract_seconds", "hold_seconds", "seconds", "strength")
"""The fields a level may set, where the exercise has them."""
PIR_REPETITIONS = (3, 5)
"""shared/PROTOCOL.md: a PIR is repeated 3-5 times on each side, whatever the level."""
PIR_CONTRACT = (5.0, 10.0)
"""A PIR contracts 5-10 s; a gentler level may press longer (up to 30 s) only in the easier form."""


class ProgrammeError(CoachError, ValueError):
    """A programme file is invalid; ``problems`` has one line per problem."""


@dataclass(frozen=True, kw_only=True)
class Level:
    """One rung of an exercise's ladder: a form and the dose fields it overrides."""

    form: str = "standard"
    dose: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class ExerciseLadder:
    exercise: str
    levels: tuple[Level, ...]
    start: int
    """The level (from 1) a person starts this stage at when they have none yet for this exercise."""

    def easiest_easier(self) -> int | None:
        """The highest level that is the exercise's easier form (the one to go back to), if any."""
        found = [n for n, level in enumerate(self.levels, 1) if level.form == "easier"]
        return found[-1] if found else None


@dataclass(frozen=True, kw_only=True)
class Stage:
    id: str
    name: str
    weeks: int
    first_week: int
    """The week (from 1) this stage starts: stages follow each other in the file's order."""
    routine: str
    exercises: dict[str, ExerciseLadder]


@dataclass(frozen=True, kw_only=True)
class Rules:
    """When levels move (shared/PROTOCOL.md, the pain-monitoring model)."""

    progress_after_sessions: int = 3
    """One level up after this many sessions in a row with the exercise's pain at most :attr:`progress_max_pain`
    and the next morning no worse."""
    progress_max_pain: int = 3
    easier_above: int = 5
    """A pain above this during an exercise: its easier form next time."""
    max_gap_days: int = 2
    """Sessions more than this many days apart are not "in a row"."""
    regress_after_missed_days: int = 7
    """After this many days without a session, every exercise starts one level lower."""
    exercise_feedback: bool = True
    """Ask "too easy, just right, or too hard?" after each exercise: "too hard" keeps it where it is, "too easy"
    on a good day counts that day twice (:mod:`coach.core.feedback`)."""


@dataclass(frozen=True, kw_only=True)
class Programme:
    id: str
    title: str
    language: str
    stages: tuple[Stage, ...]
    rules: Rules
    source: str

    @property
    def weeks(self) -> int:
        return sum(s.weeks for s in self.stages)

    def stage_for_week(self, week: int) -> Stage:
        """The stage of ``week`` (from 1); past the end, the last stage goes on."""
        for stage in self.stages:
            if week < stage.first_week + stage.weeks:
                return stage
        return self.stages[-1]


_RULES = {
    "progress_after_sessions": Field(int, default=3, low=2, high=10),
    "progress_max_pain": Field(int, default=3, low=0, high=5),
    "easier_above": Field(int, default=5, low=2, high=5),
    "max_gap_days": Field(int, default=2, low=1, high=7, unit="days"),
    "regress_after_missed_days": Field(int, default=7, low=3, high=28, unit="days"),
    "exercise_feedback": Field(bool, default=True),
}
"""Bounds: a rule can only be as strict as the model or stricter (progress at a pain of at most 5, regress above 5 at most)."""

_PROGRAMME = {
    "id": Field(str, required=True, max_length=60),
    "title": Field(str, required=True, max_length=100),
    "language": Field(str, default="en", max_length=10),
    "description": Field(str, max_length=2000),
    "rules": Field("map"),
    "stages": Field("list", required=True),
}
_STAGE = {
    "id": Field(str, required=True, max_length=60),
    "name": Field(str, required=True, max_length=80),
    "weeks": Field(int, required=True, low=1, high=26, unit="weeks"),
    "routine": Field(str, required=True, max_length=200),
    "exercises": Field("map"),
}
_LADDER = {"start": Field(int, default=1, low=1, high=10), "levels": Field("list", required=True)}
_ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]*$")
MAX_LEVELS = 10


def load_programme(path: Path | str, routines_dirs: tuple[Path, ...] = ()) -> Programme:
    """Load and validate a programme file (and the routines it names); raise :class:`ProgrammeError` listing every problem."""
    path = Path(path)
    root = read_yaml(path)
    problems = Problems()
    programme = _build(root, problems, path, routines_dirs)
    if problems or programme is None:
        raise ProgrammeError(problems.lines[0], problems.lines)
    return programme


def _build(root: YNode, problems: Problems, path: Path, dirs: tuple[Path, ...]) -> Programme | None:
    top = check_mapping(root, _PROGRAMME, problems, "the programme")
    if not isinstance(root.value, dict):
        return None
    if top["id"] and not _ID_PATTERN.match(top["id"]):
        problems.add(root.value["id"], "id", "use lower-case letters, digits and dashes, e.g. 'lumbar-6-weeks'")
    languages = available_languages()
    if top["language"] not in languages:
        node = root.value.get("language", root)
        problems.add(node, "language", f"no locale for {top['language']!r}; available: {', '.join(languages)}")
    rules = Rules(**check_mapping(top["rules"], _RULES, problems, "rules")) if top["rules"] else Rules()
    stages: list[Stage] = []
    if top["stages"] is not None:
        if not top["stages"].value:
            problems.add(top["stages"], "stages", "the list is empty; add at least one stage")
        week = 1
        seen: set[str] = set()
        for item in top["stages"].value:
            stage = _build_stage(item, problems, week, dirs)
            if stage is None:
                continue
            if stage.id in seen:
                problems.add(item, "id", f"stage {stage.id!r} is used twice; give each stage its own id")
            seen.add(stage.id)
            stages.append(stage)
            week += stage.weeks
    if problems:
        return None
    return Programme(
        id=top["id"], title=top["title"], language=top["language"], stages=tuple(stages), rules=rules, source=str(path)
    )


def _build_stage(node: YNode, problems: Problems, week: int, dirs: tuple[Path, ...]) -> Stage | None:
    before = len(problems.lines)
    values = check_mapping(node, _STAGE, problems, "a stage")
    if len(problems.lines) > before:
        return None
    routine_node = node.value["routine"]
    try:
        routine = load_routine(find_routine(values["routine"], dirs))
    except CoachError as exc:
        problems.add(routine_node, "routine", f"cannot be used: {exc.problems[0]}")
        return None
    ladders: dict[str, ExerciseLadder] = {}
    if values["exercises"] is not None:
        known = {e.id: e for e in routine.exercises}
        for exercise_id, ladder_node in values["exercises"].value.items():
            if exercise_id not in known:
                where = values["exercises"].key_where(exercise_id)
                problems.add(
                    ladder_node,
                    exercise_id,
                    f"no such exercise in routine {routine.id!r}{did_you_mean(exercise_id, known)}",
                    where,
                )
                continue
            ladder = _build_ladder(ladder_node, problems, exercise_id, routine)
            if ladder is not None:
                ladders[exercise_id] = ladder
    return Stage(
        id=values["id"], name=values["name"], weeks=values["weeks"], first_week=week, routine=routine.id, exercises=ladders
    )


def _build_ladder(node: YNode, problems: Problems, exercise_id: str, routine: Routine) -> ExerciseLadder | None:
    before = len(problems.lines)
    values = check_mapping(node, _LADDER, problems, f"the levels of {exercise_id!r}")
    if len(problems.lines) > before:
        return None
    items = values["levels"].value
    if not 1 <= len(items) <= MAX_LEVELS:
        problems.add(values["levels"], "levels", f"must list 1 to {MAX_LEVELS} levels, got {len(items)}")
        return None
    exercise = next(e for e in routine.exercises if e.id == exercise_id)
    kind = {"PirExercise": "pir", "CountedExercise": "reps", "TimedHold": "hold", "RestBreak": "rest"}[type(exercise).__name__]
    allowed = {"form": Field("choice", default="standard", choices=FORMS)}
    allowed |= {name: _BY_KIND[kind][name] for name in DOSE_FIELDS if name in _BY_KIND[kind]}
    levels: list[Level] = []
    for item in items:
        given = check_mapping(item, allowed, problems, "a level")
        if not isinstance(item.value, dict):
            continue
        dose = {k: given[k] for k in item.value if k in allowed and k != "form" and given[k] is not None}
        form = given["form"] or "standard"
        if form == "easier" and exercise.easier is None:
            problems.add(item, "form", f"{exercise_id!r} has no easier form in routine {routine.id!r}")
            continue
        if kind == "pir":
            _check_pir_level(item, problems, exercise, form, dose)
        levels.append(Level(form=form, dose=dose))
    if not 1 <= values["start"] <= len(items):
        problems.add(node.value.get("start", node), "start", f"must be a level from 1 to {len(items)}, got {values['start']}")
    if len(problems.lines) > before:
        return None
    return ExerciseLadder(exercise=exercise_id, levels=tuple(levels), start=values["start"])


def _check_pir_level(node: YNode, problems: Problems, exercise: Any, form: str, dose: dict[str, Any]) -> None:
    """A PIR's level stays within the protocol: 3-5 repetitions; a 5-10 s press (longer only in the easier form)."""
    base = exercise.easier if form == "easier" else exercise
    repetitions = dose.get("repetitions", base.repetitions)
    if not PIR_REPETITIONS[0] <= repetitions <= PIR_REPETITIONS[1]:
        problems.add(
            node, "repetitions", f"a PIR is repeated {PIR_REPETITIONS[0]} to {PIR_REPETITIONS[1]} times a side, got {repetitions}"
        )
    contract = dose.get("contract_seconds", base.contract_seconds)
    high = 30.0 if form == "easier" else PIR_CONTRACT[1]
    if not PIR_CONTRACT[0] <= contract <= high:
        problems.add(
            node, "contract_seconds", f"a PIR contracts {PIR_CONTRACT[0]:g} to {high:g} s in this form, got {contract:g}"
        )


# --- finding programmes ------------------------------------------------------------------------


def shipped_programmes_dir() -> Path:
    """The folder of programmes installed with the package (the repo's top-level ``programmes/``)."""
    return Path(str(resources.files("coach.programmes")))


def programme_paths() -> dict[str, Path]:
    folder = shipped_programmes_dir()
    return {file.stem: file for file in sorted(folder.glob("*.yaml"))} if folder.is_dir() else {}


def find_programme(name_or_path: str) -> Path:
    """Resolve ``lumbar-6-weeks`` or ``./mine.yaml`` to a file; an unknown name lists what exists."""
    candidate = Path(name_or_path)
    if candidate.suffix in (".yaml", ".yml") or "/" in name_or_path:
        return candidate
    known = programme_paths()
    if name_or_path in known:
        return known[name_or_path]
    raise CoachError(
        f"no programme named {name_or_path!r}{did_you_mean(name_or_path, known)}; known: {', '.join(sorted(known)) or 'none'}"
    )


def is_programme_file(path: Path) -> bool:
    """Whether a YAML file is a programme (it has ``stages:``) rather than a routine: for ``coach validate``."""
    try:
        root = read_yaml(path)
    except CoachError:
        return False
    return isinstance(root.value, dict) and "stages" in root.value and "exercises" not in root.value
