"""Compile a routine into its script: every cue with its due offset, as plain data.

What the user will hear, and when, is decided here and nowhere else, so it can be printed
(``coach plan``), tested and diffed. The script is a list of *steps*: timed :class:`Block`s
(the introduction, each exercise) whose cues have offsets from the block's start, and
:class:`PainCheck`s, which wait for an answer of unknown length. The session places each block
on the absolute session timeline when it starts, so time spent answering a prompt shifts what
follows, but time spent speaking never does.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace

from coach.spec.locale import Locale
from coach.spec.routine import (
    CountedExercise,
    Exercise,
    PirExercise,
    RestBreak,
    Routine,
    TimedHold,
    estimate_speech_seconds,
)

READY_LEAD = 2.0
"""Seconds between "Repetition 2 of 3." / "Get ready." and the movement starting."""
COUNT_CLEARANCE = 2.0
"""No count within this many seconds after a phase cue, so the cue is never talked over."""
BLOCK_TAIL = 3.0
"""Seconds after an exercise's closing cue before whatever follows starts."""
NOMINAL_PROMPT_SECONDS = 10.0
"""How long a pain check is assumed to take when printing a plan."""

# Cue kinds, used by the speaker to resolve overlaps: counts are short and pre-empt,
# instructions are long and may be moved, phase cues mark boundaries.
COUNT, CUE, INSTRUCTION = "count", "cue", "instruction"
CHECK = "check"
"""A question the session asks where the cue falls (the nerve glide's after its first side): never spoken as a cue."""


@dataclass(frozen=True)
class Cue:
    """One thing to say, ``offset`` seconds after its block starts."""

    offset: float
    text: str
    phase: str
    kind: str = CUE
    rep: int | None = None
    side: str | None = None


@dataclass(frozen=True)
class Restart:
    """A point a paused block can resume from: the start of a repetition (or of the set-up)."""

    offset: float
    rep: int | None
    side: str | None


@dataclass(frozen=True)
class Block:
    """A timed run of cues: the introduction or one exercise."""

    name: str
    title: str
    cues: tuple[Cue, ...]
    duration: float
    restarts: tuple[Restart, ...]
    exercise_index: int | None = None
    easier: tuple[Block, ...] = ()
    """The exercise's easier form, compiled on its own, from each side on (``easier[1]``: from the second
    side, the first done): what a rating above the stop threshold switches to (:meth:`easier_for`)."""
    form: str | None = None
    """``easier`` for an easier form's block (its exercise result says so); ``None``: the standard form."""
    changes: str = ""
    """What the easier form changes, in words ("less force, for longer"); empty for a standard form."""
    reps_before: int = 0
    """An easier form from a later side: the repetitions of the sides done before it, in the standard form."""

    def easier_for(self, offset: float) -> Block | None:
        """The easier form to go on with after ``offset`` seconds into this block: from the side under way
        (a side already finished stays done; the set-up and the first side start the easier form from
        its start); ``None`` when there is none (or this is one)."""
        side = next((c.side for c in reversed(self.cues) if c.offset <= offset + 1e-9 and c.side), None)
        return next((b for b in self.easier if b.restarts[1:2] and b.restarts[1].side == side), next(iter(self.easier), None))

    def restart_before(self, offset: float) -> Restart:
        """The latest restart point at or before ``offset`` (the start of the current repetition)."""
        best = self.restarts[0]
        for point in self.restarts:
            if point.offset <= offset + 1e-9:
                best = point
        return best


FEEDBACK_MOMENT = "feedback"
"""A :class:`PainCheck` with this moment asks "too easy, just right, or too hard?" instead (:mod:`coach.core.feedback`)."""


@dataclass(frozen=True)
class PainCheck:
    """Ask for a 0-10 rating: ``moment`` is ``before``, ``exercise`` or ``after``; or, ``feedback``, how the
    exercise felt (a programme's sessions: :mod:`coach.core.feedback`)."""

    moment: str
    exercise: str | None = None
    exercise_index: int | None = None


Step = Block | PainCheck


@dataclass(frozen=True)
class Script:
    routine: Routine
    steps: tuple[Step, ...]

    @property
    def exercise_blocks(self) -> tuple[Block, ...]:
        return tuple(s for s in self.steps if isinstance(s, Block) and s.exercise_index is not None)

    def exercises_after(self, step_index: int) -> bool:
        """Whether an exercise is still to come after step ``step_index``."""
        return any(isinstance(s, Block) and s.exercise_index is not None for s in self.steps[step_index + 1 :])

    def timetable(self) -> Iterator[tuple[float, str, str | None, Cue | PainCheck]]:
        """Every cue and pain check with its nominal session time (checks take ``NOMINAL_PROMPT_SECONDS``)."""
        start = 0.0
        for step in self.steps:
            if isinstance(step, PainCheck):
                yield start, "prompt", step.exercise, step
                start += NOMINAL_PROMPT_SECONDS
                continue
            for cue in step.cues:
                yield start + cue.offset, cue.phase, step.name if step.exercise_index is not None else None, cue
            start += step.duration

    @property
    def blocks(self) -> tuple[Block, ...]:
        """Every block that may be played: the steps' blocks and each exercise's easier form."""
        steps = [s for s in self.steps if isinstance(s, Block)]
        return tuple(steps) + tuple(easier for s in steps for easier in s.easier)

    @property
    def nominal_duration(self) -> float:
        return sum(NOMINAL_PROMPT_SECONDS if isinstance(s, PainCheck) else s.duration for s in self.steps)


def compile_script(routine: Routine, locale: Locale) -> Script:
    """The whole session's script for ``routine`` spoken in ``locale``."""
    steps: list[Step] = [_intro_block(routine, locale)]
    if routine.pain_before:
        steps.append(PainCheck("before"))
    for index, exercise in enumerate(routine.exercises):
        steps.append(compile_exercise(exercise, index, locale))
        if exercise.pain_check:
            steps.append(PainCheck("exercise", exercise.id, index))
        if routine.feedback and not isinstance(exercise, RestBreak):
            steps.append(PainCheck(FEEDBACK_MOMENT, exercise.id, index))
    if routine.pain_after:
        steps.append(PainCheck("after"))
    return Script(routine, tuple(steps))


def _intro_block(routine: Routine, locale: Locale) -> Block:
    timeline = _Timeline()
    restarts = []
    for text in (
        locale.say("welcome", title=routine.title),
        routine.introduction,
        locale.say("disclaimer"),
        locale.say("commands_hint"),
    ):
        restarts.append(Restart(timeline.now, None, None))  # a pause resumes the sentence it cut, not the whole intro
        timeline.add(text, "intro", INSTRUCTION)
        timeline.advance(estimate_speech_seconds(text) + 1.0)
    return Block("intro", routine.title, timeline.cues(), timeline.now, tuple(restarts))


def easier_changes(standard: Exercise, easier: Exercise, locale: Locale) -> str:
    """What the easier form changes, in the locale's words: "less force, for longer, fewer repetitions"."""
    found = []
    if isinstance(standard, PirExercise) and isinstance(easier, PirExercise):
        if easier.strength != standard.strength:
            found.append(locale.say("easier_less_force"))
        if easier.contract_seconds > standard.contract_seconds:
            found.append(locale.say("easier_longer"))
    reps = getattr(standard, "repetitions", 0) * getattr(standard, "sets", 1)
    if getattr(easier, "repetitions", 0) * getattr(easier, "sets", 1) < reps:
        found.append(locale.say("easier_fewer"))
    if easier.setup != standard.setup or easier.side_setup != standard.side_setup or not found:
        found.append(locale.say("easier_way"))
    return ", ".join(found)


def compile_exercise(exercise: Exercise, index: int, locale: Locale, changes: str = "", start: int = 0) -> Block:
    """The cues of one exercise, all sides and repetitions, from its set-up to its closing cue.

    Its easier form, if it has one, is compiled too, once from each side on (``changes`` set: an easier
    form's block, which opens "An easier way: *changes*." instead of the name, and whose set-up lasts
    that much longer; ``start``: the index of the side it starts from, the person being on it already)."""
    easier: tuple[Block, ...] = ()
    if exercise.easier is not None:
        said = easier_changes(exercise, exercise.easier, locale)
        sides = range(len(exercise.side_list))  # the sides before ``k`` were done in this, the standard form:
        before = [k * getattr(exercise, "repetitions", 1) for k in sides]
        easier = tuple(replace(compile_exercise(exercise.easier, index, locale, said, k), reps_before=before[k]) for k in sides)
    timeline = _Timeline()
    restarts = [Restart(0.0, None, None)]
    if isinstance(exercise, RestBreak):
        timeline.add(locale.say("rest_break", setup=exercise.setup), "rest", INSTRUCTION)
        timeline.advance(exercise.seconds)
        return Block(exercise.id, exercise.name, timeline.cues(), timeline.now, tuple(restarts), index)
    first = exercise.side_list[start]
    key, extra = ("setup", 0.0)
    if changes:  # an easier form: "An easier way: less force, for longer." instead of the name, said in that much more time
        key, extra = "easier_setup", estimate_speech_seconds(locale.say("easier_setup", changes=changes, setup=""))
    words = {"name": exercise.name, "changes": changes, "setup": exercise.setup}
    if first in exercise.side_setup:  # the first side's own set-up belongs to the opening, before any movement
        opening = locale.say(f"{key}_side", **words, side=locale.side(first), side_setup=exercise.side_setup[first])
    else:
        opening = locale.say(key, **words)
    if start:  # from a later side: as long as the side change, with that side's set-up and the easier way
        switch = _switch_text(exercise, first, locale)
        moving = max(exercise.side_switch_seconds, estimate_speech_seconds(switch) + 1.0) - estimate_speech_seconds(switch)
        timeline.add(opening, "setup", INSTRUCTION, side=first)
        timeline.advance(estimate_speech_seconds(opening) + moving)
    else:
        timeline.add(opening, "setup", INSTRUCTION)
        timeline.advance(exercise.setup_seconds + extra)
    for side_number, side in enumerate(exercise.side_list):
        if side_number < start:
            continue
        if side_number > start and exercise.side_check:  # asked as the first side ends; "no" goes on from the change
            restarts.append(Restart(timeline.now, None, side))
            timeline.add(locale.say("side_check_question"), "screen", CHECK, side=exercise.side_list[side_number - 1])
        if side_number > start:
            switch = _switch_text(exercise, side, locale)
            timeline.add(switch, "setup", INSTRUCTION, side=side)
            timeline.advance(max(exercise.side_switch_seconds, estimate_speech_seconds(switch) + 1.0))
        if isinstance(exercise, PirExercise):
            _pir_side(exercise, side, timeline, restarts, locale, first=side_number == start)
        elif isinstance(exercise, CountedExercise):
            _counted_side(exercise, side, timeline, restarts, locale, first=side_number == start)
        else:
            _hold_side(exercise, side, timeline, restarts, locale, first=side_number == start)
    timeline.add(locale.say("exercise_done"), "rest", CUE)
    timeline.advance(BLOCK_TAIL)
    form = "easier" if changes else None
    return Block(exercise.id, exercise.name, timeline.cues(), timeline.now, tuple(restarts), index, easier, form, changes)


def _switch_text(exercise: Exercise, side: str | None, locale: Locale) -> str:
    """ "Now change sides: Right side." and what that side means (or "the mirror image of the position")."""
    if side in exercise.side_setup:
        return locale.say("side_switch_setup", side=locale.side(side), setup=exercise.side_setup[side or ""])
    return locale.say("side_switch", side=locale.side(side))


def _ready(side: str | None, first: bool, timeline: _Timeline, locale: Locale) -> None:
    """ "Left side." before the first side's first repetition, "Get ready." before any other side's."""
    text = locale.say("side_start", side=locale.side(side)) if side and first else locale.say("get_ready")
    timeline.add(text, "setup", CUE, side=side)
    timeline.advance(READY_LEAD)


def _repetition_start(
    rep: int, total: int, side: str | None, first: bool, timeline: _Timeline, restarts: list[Restart], locale: Locale
) -> None:
    """Mark where a pause resumes this repetition; the side cue before the first, "Repetition 2 of 3." when there are several."""
    restarts.append(Restart(timeline.now, rep, side))
    if rep == 1:
        _ready(side, first, timeline, locale)
    if total > 1:
        timeline.add(locale.say("repetition", n=rep, total=total), "setup", CUE, rep, side)
        timeline.advance(READY_LEAD)


def _pir_side(
    ex: PirExercise, side: str | None, timeline: _Timeline, restarts: list[Restart], locale: Locale, first: bool
) -> None:
    """Each repetition as published (shared/PROTOCOL.md): contract on an in-breath with the effort
    restated ("a fifth of your strength"), counted down; "And ease" into the relaxation on an
    out-breath; the stretch, announced and counted down; then, between repetitions, stay in the new
    range (never "Rest.", which invites letting go of the range just gained)."""
    for rep in range(1, ex.repetitions + 1):
        _repetition_start(rep, ex.repetitions, side, first, timeline, restarts, locale)
        strength = ex.strength or locale.say("strength")
        words = {"effort": ex.effort_cue, "strength": strength, "breathing": ex.breathing_cue}
        contract = locale.say("contract", **words, n=_number(ex.contract_seconds))
        _countdown(timeline, contract, "contract", ex.contract_seconds, ex.count_every, rep, side, locale)
        if ex.hold_seconds:
            timeline.add(locale.say("hold"), "hold", CUE, rep, side)
            timeline.advance(ex.hold_seconds)
        timeline.add(locale.say("relax", relax=ex.relax_cue), "relax", CUE, rep, side)
        timeline.advance(ex.relax_seconds)
        stretch = locale.say("stretch", stretch=ex.stretch_cue, n=_number(ex.stretch_seconds))
        _countdown(timeline, stretch, "stretch", ex.stretch_seconds, ex.stretch_count_every, rep, side, locale)
        if rep < ex.repetitions and ex.rest_seconds:
            timeline.add(locale.say("stay"), "rest", CUE, rep, side)
            timeline.advance(ex.rest_seconds)


def _countdown(
    timeline: _Timeline, text: str, phase: str, seconds: float, every: float, rep: int | None, side: str | None, locale: Locale
) -> None:
    """The one counting convention of every timed phase: a phase cue that announces its length
    ("... 12 seconds."), then the seconds still to go, on every multiple of ``every`` ("10", "5"),
    "3", "2", "1" in the last three seconds, and the next cue on the boundary ("And ease. ...").

    No count is said while the phase cue is still being spoken (its estimated length, at least
    ``COUNT_CLEARANCE``). Where counts are sparse (``every`` of 2 s or more), "Halfway." replaces
    the counts within ``COUNT_CLEARANCE`` of half time, when that is clear of the cue and of the
    last four seconds.
    """
    start = timeline.now
    timeline.add(text, phase, CUE, rep, side)
    clearance = max(COUNT_CLEARANCE, estimate_speech_seconds(text))
    marks: dict[float, tuple[str, str]] = {}
    remaining = (seconds // every) * every
    while remaining > 3 + 1e-9:
        if remaining < seconds - 1e-9 and seconds - remaining >= clearance - 1e-9:
            marks[round(seconds - remaining, 6)] = (locale.say("count", n=_number(remaining)), COUNT)
        remaining -= every
    half = seconds / 2
    if every >= 2 and half >= clearance - 1e-9 and half < seconds - 4:
        marks = {k: v for k, v in marks.items() if abs(k - half) >= COUNT_CLEARANCE - 1e-9}
        marks[half] = (locale.say("halfway"), CUE)
    for left in (3, 2, 1):
        if seconds - left >= clearance - 1e-9:
            marks[seconds - left] = (locale.say("count", n=left), COUNT)
    for offset in sorted(marks):
        words, kind = marks[offset]
        timeline.add_at(start + offset, words, phase, kind, rep, side)
    timeline.advance(seconds)


def _counted_side(
    ex: CountedExercise, side: str | None, timeline: _Timeline, restarts: list[Restart], locale: Locale, first: bool
) -> None:
    for set_number in range(1, ex.sets + 1):
        if set_number == 1:
            _ready(side, first, timeline, locale)
        if ex.sets > 1:
            timeline.add(locale.say("set_start", n=set_number, total=ex.sets), "setup", CUE, side=side)
            timeline.advance(READY_LEAD)
        for rep in range(1, ex.repetitions + 1):
            restarts.append(Restart(timeline.now, rep, side))
            for step_number, step in enumerate(ex.tempo):
                text = locale.say("rep_step", n=rep, cue=step.cue) if step_number == 0 else locale.say("step", cue=step.cue)
                timeline.add(text, "count", COUNT if step_number == 0 else CUE, rep, side)
                timeline.advance(step.seconds)
            if rep < ex.repetitions and ex.rest_between_reps:
                timeline.advance(ex.rest_between_reps)
        if set_number < ex.sets and ex.rest_between_sets:
            timeline.add(locale.say("rest_seconds", n=_number(ex.rest_between_sets)), "rest", CUE, side=side)
            timeline.advance(ex.rest_between_sets)


def _hold_side(
    ex: TimedHold, side: str | None, timeline: _Timeline, restarts: list[Restart], locale: Locale, first: bool
) -> None:
    for rep in range(1, ex.repetitions + 1):
        _repetition_start(rep, ex.repetitions, side, first, timeline, restarts, locale)
        cue = locale.say("hold_start", cue=ex.cue, n=_number(ex.seconds))
        _countdown(timeline, cue, "hold", ex.seconds, ex.count_every, rep, side, locale)
        timeline.add(locale.say("release"), "rest", CUE, rep, side)
        timeline.advance(READY_LEAD)
        if rep < ex.repetitions and ex.rest_seconds:
            timeline.advance(ex.rest_seconds)


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


@dataclass
class _Timeline:
    """A cursor that lays cues out in order while compiling one block."""

    now: float = 0.0
    _cues: list[Cue] = field(default_factory=list)

    def add(self, text: str, phase: str, kind: str, rep: int | None = None, side: str | None = None) -> None:
        self.add_at(self.now, text, phase, kind, rep, side)

    def add_at(self, offset: float, text: str, phase: str, kind: str, rep: int | None = None, side: str | None = None) -> None:
        self._cues.append(Cue(round(offset, 6), text, phase, kind, rep, side))

    def advance(self, seconds: float) -> None:
        self.now = round(self.now + seconds, 6)

    def cues(self) -> tuple[Cue, ...]:
        return tuple(sorted(self._cues, key=lambda c: c.offset))
