"""Routines: typed, validated exercise programmes loaded from YAML (schema in routines/README.md).

Loading happens once, at the edge; everything after works on these frozen dataclasses. Defaults
and bounds follow shared/PROTOCOL.md (Lewit's PIR: 10–20 % effort, 5–10 s contraction, relax with
a slow out-breath, 10–20 s stretch, 3–5 repetitions).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

from coach.errors import CoachError, RoutineError
from coach.spec.easier import harder
from coach.spec.schema import Field, Problems, check_mapping, check_value, did_you_mean
from coach.spec.settings import SafetyRules, setting_fields
from coach.spec.yamlsrc import YNode, read_yaml_source

SIDES = ("none", "left", "right", "both")
KINDS = ("pir", "reps", "hold", "rest")
WORDS_PER_SECOND = 2.5
"""Calm speaking pace used to estimate how long a set-up text takes to say (words per second)."""


@dataclass(frozen=True, kw_only=True)
class TempoStep:
    """One timed part of a counted repetition, e.g. 2 s "lift"."""

    name: str
    seconds: float
    cue: str


@dataclass(frozen=True, kw_only=True)
class ExerciseBase:
    """What every exercise has: where it came from and how it is introduced."""

    id: str
    name: str
    setup: str
    sides: str = "none"
    setup_seconds: float
    side_switch_seconds: float = 8.0
    """Time to change to the other side before "Get ready" (seconds)."""
    side_setup: dict[str, str] = field(default_factory=dict)
    """What each side means for this exercise (``left``/``right`` to its text), said as that side
    starts; a side without one gets the locale's generic "the mirror image of the position"."""
    pain_check: bool = False
    side_check: bool = False
    """Ask, after the first side, whether pain or tingling has moved further down the leg (a nerve glide:
    shared/PROTOCOL.md, "stop if tingling spreads"); a yes ends the session with the red-flag advice."""
    line: int = 0
    easier: Exercise | None = None
    """The exercise's easier form (``easier:`` in the file: the standard form with some fields overridden), to
    switch to for the rest of the exercise when a rating is above the stop threshold (shared/PROTOCOL.md,
    "stop or regress"); ``None``: the exercise stops instead. An easier form has no easier form of its own."""

    @property
    def side_list(self) -> tuple[str | None, ...]:
        """The sides in the order they are done (``None`` for a two-sided or middle exercise)."""
        return {"none": (None,), "left": ("left",), "right": ("right",), "both": ("left", "right")}[self.sides]


@dataclass(frozen=True, kw_only=True)
class PirExercise(ExerciseBase):
    """Post-isometric relaxation: contract gently, (hold), relax and breathe out, stretch; repeat."""

    repetitions: int
    contract_seconds: float
    effort_cue: str
    strength: str | None
    """How hard to press ("a tenth of your strength"), restated in every contraction;
    none: the locale's ``strength`` phrase."""
    breathing_cue: str
    hold_seconds: float
    relax_seconds: float
    relax_cue: str
    stretch_seconds: float
    stretch_cue: str
    rest_seconds: float
    count_every: float
    stretch_count_every: float


@dataclass(frozen=True, kw_only=True)
class CountedExercise(ExerciseBase):
    """Counted repetitions with a tempo (e.g. 2 s up, 2 s hold, 2 s down), in sets."""

    repetitions: int
    sets: int
    tempo: tuple[TempoStep, ...]
    rest_between_reps: float
    rest_between_sets: float


@dataclass(frozen=True, kw_only=True)
class TimedHold(ExerciseBase):
    """A still hold with counts, a halfway cue and a 3-2-1 countdown."""

    seconds: float
    repetitions: int
    cue: str
    count_every: float
    rest_seconds: float


@dataclass(frozen=True, kw_only=True)
class RestBreak(ExerciseBase):
    """A plain rest between exercises."""

    seconds: float


Exercise = PirExercise | CountedExercise | TimedHold | RestBreak


@dataclass(frozen=True, kw_only=True)
class Routine:
    """A whole session's programme."""

    id: str
    title: str
    language: str
    introduction: str
    exercises: tuple[Exercise, ...]
    pain_before: bool
    pain_after: bool
    safety: dict[str, int]
    """Tightenings of the configured safety rules for this routine (empty: use the config's); a value
    looser than the configured one is not applied (:meth:`SafetyRules.with_overrides`)."""
    source: str
    version: str
    """Short hash of the file's bytes, so a log says exactly which version was done."""
    safety_where: dict[str, str] = field(default_factory=dict)
    """``file:line`` of each ``safety:`` key, to name it when it asks for a looser rule than the config."""
    feedback: bool = False
    """Ask "too easy, just right, or too hard?" after each exercise: set by a programme (its ``feedback``), not
    by the routine file."""


_COMMON = {
    "kind": Field("choice", required=True, choices=KINDS),
    "id": Field(str, max_length=60),
    "name": Field(str, required=True, max_length=80),
    "setup": Field(str, required=True),
    "sides": Field("choice", default="none", choices=SIDES),
    "setup_seconds": Field(float, low=2, high=180, unit="seconds"),
    "pain_check": Field(bool, default=False),
    "side_check": Field(bool, default=False),
    "side_switch_seconds": Field(float, default=8, low=3, high=60, unit="seconds"),
    "side_setup": Field("map"),
    "easier": Field("map"),
}

_PIR = _COMMON | {
    "repetitions": Field(int, default=3, low=1, high=10),
    "contract_seconds": Field(float, default=8, low=3, high=30, unit="seconds"),
    "effort_cue": Field(str, default="Press gently", max_length=120),
    "strength": Field(str, max_length=80),
    "breathing_cue": Field(str, default="breathe in", max_length=60),
    "hold_seconds": Field(float, default=0, low=0, high=10, unit="seconds"),
    "relax_seconds": Field(float, default=3, low=1, high=15, unit="seconds"),
    "relax_cue": Field(str, default="Relax, breathe out slowly", max_length=120),
    "stretch_seconds": Field(float, default=12, low=5, high=60, unit="seconds"),
    "stretch_cue": Field(str, default="Let it lengthen, gently", max_length=120),
    "rest_seconds": Field(float, default=5, low=0, high=120, unit="seconds"),
    "count_every": Field(float, default=1, low=1, high=10, unit="seconds"),
    "stretch_count_every": Field(float, default=5, low=1, high=30, unit="seconds"),
}

_REPS = _COMMON | {
    "repetitions": Field(int, default=10, low=1, high=50),
    "sets": Field(int, default=1, low=1, high=10),
    "tempo": Field("list", required=True),
    "rest_between_reps": Field(float, default=0, low=0, high=60, unit="seconds"),
    "rest_between_sets": Field(float, default=30, low=0, high=300, unit="seconds"),
}

_SIDE_SETUP = {"left": Field(str, max_length=2000), "right": Field(str, max_length=2000)}

_TEMPO_STEP = {
    "name": Field(str, required=True, max_length=30),
    "seconds": Field(float, required=True, low=1, high=30, unit="seconds"),
    "cue": Field(str, required=True, max_length=80),
}

_HOLD = _COMMON | {
    "seconds": Field(float, default=30, low=5, high=300, unit="seconds"),
    "repetitions": Field(int, default=1, low=1, high=10),
    "cue": Field(str, default="Hold it there, and keep breathing", max_length=120),
    "count_every": Field(float, default=5, low=1, high=60, unit="seconds"),
    "rest_seconds": Field(float, default=10, low=0, high=300, unit="seconds"),
}

_REST = {
    "kind": _COMMON["kind"],
    "id": _COMMON["id"],
    "name": Field(str, default="Rest", max_length=80),
    "setup": Field(str, default="Rest now. Lie comfortably and breathe easily."),
    "seconds": Field(float, default=30, low=5, high=600, unit="seconds"),
    "pain_check": _COMMON["pain_check"],
}

_SAFETY = {name: replace(spec, default=None) for name, spec in setting_fields(SafetyRules).items()}
"""The config's safety rules and bounds (within them every rule can fire: a routine cannot switch one
off); a key left out keeps the configured value, and a looser one does not apply (coach.run.wiring)."""

_PAIN_CHECKS = {"before": Field(bool, default=True), "after": Field(bool, default=True)}

_ROUTINE = {
    "id": Field(str, required=True, max_length=60),
    "title": Field(str, required=True, max_length=100),
    "language": Field(str, default="en", max_length=10),
    "introduction": Field(str, required=True),
    "pain_checks": Field("map"),
    "safety": Field("map"),
    "exercises": Field("list", required=True),
}

_BY_KIND: dict[str, dict[str, Field]] = {"pir": _PIR, "reps": _REPS, "hold": _HOLD, "rest": _REST}
_ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]*$")


def load_routine(path: Path | str, languages: tuple[str, ...] = ()) -> Routine:
    """Load and validate a routine file; raise :class:`RoutineError` listing every problem."""
    path = Path(path)
    root, data = read_yaml_source(path)
    problems = Problems()
    routine = _build_routine(root, problems, path, data, languages)
    if problems or routine is None:
        raise RoutineError(problems.lines[0], problems.lines)
    return routine


def _build_routine(root: YNode, problems: Problems, path: Path, data: bytes, languages: tuple[str, ...]) -> Routine | None:
    top = check_mapping(root, _ROUTINE, problems, "the routine")
    if not isinstance(root.value, dict):
        return None
    if top["id"] and not _ID_PATTERN.match(top["id"]):
        problems.add(root.value["id"], "id", "use lower-case letters, digits and dashes, e.g. 'lumbar-pir'")
    if languages and top["language"] not in languages:
        node = root.value.get("language", root)
        problems.add(node, "language", f"no locale for {top['language']!r}; available: {', '.join(languages)}")
    checks = (
        check_mapping(top["pain_checks"], _PAIN_CHECKS, problems, "pain_checks")
        if top["pain_checks"]
        else {
            "before": True,
            "after": True,
        }
    )
    safety: dict[str, int] = {}
    safety_where: dict[str, str] = {}
    if top["safety"]:
        safety = {k: v for k, v in check_mapping(top["safety"], _SAFETY, problems, "safety").items() if v is not None}
        safety_where = {k: top["safety"].value[k].where for k in safety}
    exercises: list[Exercise] = []
    if top["exercises"] is not None:
        items = top["exercises"].value
        if not items:
            problems.add(top["exercises"], "exercises", "the list is empty; add at least one exercise")
        seen: dict[str, int] = {}
        for item in items:
            exercise = _build_exercise(item, problems)
            if exercise is None:
                continue
            if exercise.id in seen:
                problems.add(
                    item,
                    "id",
                    f"{exercise.id!r} is used twice (first on line {seen[exercise.id]}); give each exercise its own id",
                )
            seen[exercise.id] = item.line
            exercises.append(exercise)
    if problems:
        return None
    return Routine(
        id=top["id"],
        title=top["title"],
        language=top["language"],
        introduction=top["introduction"],
        exercises=tuple(exercises),
        pain_before=checks["before"],
        pain_after=checks["after"],
        safety=safety,
        source=str(path),
        version=hashlib.sha256(data).hexdigest()[:12],
        safety_where=safety_where,
    )


def _build_exercise(node: YNode, problems: Problems) -> Exercise | None:
    if not isinstance(node.value, dict):
        problems.add(node, "", "each exercise must be a mapping starting with 'kind:'")
        return None
    kind_node = node.value.get("kind")
    if kind_node is None:
        problems.add(node, "kind", f"missing; one of {', '.join(KINDS)}")
        return None
    kind = check_value(kind_node, _COMMON["kind"], problems, "kind")
    if kind is None:
        return None
    before = len(problems.lines)
    values = check_mapping(node, _BY_KIND[kind], problems, f"a '{kind}' exercise")
    tempo: tuple[TempoStep, ...] = ()
    if kind == "reps" and values["tempo"] is not None:
        tempo = _build_tempo(values["tempo"], problems)
    if kind != "rest" and len(problems.lines) == before:  # with a bad ``sides``, which sides are done is unknown
        values["side_setup"] = _build_side_setup(values["side_setup"], values["sides"], problems)
        if values["side_check"] and values["sides"] != "both":
            problems.add(node.value["side_check"], "side_check", "a check after the first side needs 'sides: both'")
    if len(problems.lines) > before:
        return None
    values.pop("kind")
    if values["id"] and not _ID_PATTERN.match(values["id"]):
        problems.add(node.value["id"], "id", "use lower-case letters, digits and dashes, e.g. 'pelvic-tilt'")
        return None
    values["id"] = values["id"] or _slug(values["name"])
    values["line"] = node.line
    if values.get("setup_seconds") is None:
        values["setup_seconds"] = _default_setup_seconds(values)
    easier_node = values.pop("easier", None)
    if kind == "reps":
        values["tempo"] = tempo
    exercise: Exercise = {"pir": PirExercise, "reps": CountedExercise, "hold": TimedHold, "rest": RestBreak}[kind](**values)
    if easier_node is not None:
        easier = _build_easier(easier_node, exercise, kind, problems)
        return None if easier is None else replace(exercise, easier=easier)
    return exercise


def _default_setup_seconds(values: dict[str, Any]) -> float:
    sides = values.get("sides") or "none"
    first = values.get("side_setup", {}).get("left" if sides == "both" else sides)
    opening = f"{values['name']}. {values['setup']}" + (f" Left side. {first}" if first else "")  # as the coach says it
    return estimate_speech_seconds(opening) + 2.0


_NOT_EASIER = ("kind", "id", "name", "sides", "pain_check", "side_check")
"""What an easier form cannot change: it is the same exercise, on the same sides, at the same place."""
def _build_easier(node: YNode, standard: Exercise, kind: str, problems: Problems) -> Exercise | None:
    """``easier:``: overrides of the exercise's own fields, refused unless the result really is easier."""
    before = len(problems.lines)
    if isinstance(node.value, dict) and "easier" in node.value:
        problems.add(node.value["easier"], "easier", "an easier form has no easier form of its own", node.key_where("easier"))
        return None
    fields = {k: replace(v, required=False) for k, v in _BY_KIND[kind].items() if k not in _NOT_EASIER and k != "easier"}
    values = check_mapping(node, fields, problems, "an easier form")
    if not isinstance(node.value, dict) or len(problems.lines) > before:
        return None
    given = {k: values[k] for k in node.value}
    if "tempo" in given:
        given["tempo"] = _build_tempo(given["tempo"], problems)
    if "side_setup" in given:
        given["side_setup"] = _build_side_setup(given["side_setup"], standard.sides, problems)
    if len(problems.lines) > before:
        return None
    if "setup_seconds" not in given and ("setup" in given or "side_setup" in given):  # the standard's time to move, kept
        said = {"name": standard.name, "sides": standard.sides, "setup": standard.setup, "side_setup": standard.side_setup}
        longer = _default_setup_seconds(said | given) - _default_setup_seconds(said)
        given["setup_seconds"] = standard.setup_seconds + max(0.0, longer)
    easier = replace(standard, **given)
    for reason in harder(standard, easier):
        problems.add(node, "easier", reason)
    if easier == standard:
        problems.add(node, "easier", "changes nothing; say what is easier (fewer repetitions, less force, another set-up)")
    return None if len(problems.lines) > before else easier


def _build_side_setup(node: YNode | None, sides: str | None, problems: Problems) -> dict[str, str]:
    """``side_setup``: a text for each side the exercise does, and only for those."""
    if node is None or sides is None:  # an invalid ``sides`` is reported already
        return {}
    texts = {k: v for k, v in check_mapping(node, _SIDE_SETUP, problems, "side_setup").items() if v is not None}
    done = {"both": ("left", "right"), "left": ("left",), "right": ("right",)}.get(sides or "none", ())
    if not done:
        problems.add(node, "side_setup", "needs 'sides: both' (or left or right); this exercise is done once")
        return {}
    for side in texts:
        if side not in done:
            problems.add(node.value[side], "side_setup", f"'{side}' is not done here (sides: {sides})")
    for side in done:
        if isinstance(node.value, dict) and side not in node.value:
            problems.add(node, "side_setup", f"missing '{side}': say what the {side} side means for this exercise")
    return texts


def _build_tempo(node: YNode, problems: Problems) -> tuple[TempoStep, ...]:
    steps = []
    if not node.value or len(node.value) > 6:
        problems.add(node, "tempo", f"must list 1 to 6 steps, got {len(node.value)}")
        return ()
    for item in node.value:
        values = check_mapping(item, _TEMPO_STEP, problems, "a tempo step")
        if all(values[k] is not None for k in _TEMPO_STEP):
            steps.append(TempoStep(**values))
    return tuple(steps)


def estimate_speech_seconds(text: str) -> float:
    """A whole-second estimate of how long ``text`` takes to say calmly (voice-independent)."""
    words = len(text.split())
    return float(max(2, -(-words // WORDS_PER_SECOND)))


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:60] or "exercise"


# --- finding routines -------------------------------------------------------------------------


def shipped_routines_dir() -> Path:
    """The folder of routines installed with the package (the repo's top-level ``routines/``)."""
    return Path(str(resources.files("coach.routines")))


def routine_paths(extra_dirs: tuple[Path, ...] = ()) -> dict[str, Path]:
    """Every routine name (file stem) found, the user's folders taking precedence over shipped ones."""
    found: dict[str, Path] = {}
    for folder in (shipped_routines_dir(), *extra_dirs):
        if folder.is_dir():
            for file in sorted(folder.glob("*.yaml")):
                found[file.stem] = file
    return found


def find_routine(name_or_path: str, extra_dirs: tuple[Path, ...] = ()) -> Path:
    """Resolve ``quick-start`` or ``./my.yaml`` to a file; unknown names list what exists."""
    candidate = Path(name_or_path)
    if candidate.suffix in (".yaml", ".yml") or "/" in name_or_path or candidate.exists():
        return candidate
    known = routine_paths(extra_dirs)
    if name_or_path in known:
        return known[name_or_path]

    raise CoachError(
        f"no routine named {name_or_path!r}{did_you_mean(name_or_path, known)}; "
        f"known: {', '.join(sorted(known)) or 'none'} (or give a path to a .yaml file)"
    )
