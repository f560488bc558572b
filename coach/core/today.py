"""Today's programme session: the check-in, what changes and why, then the session at today's levels.

A pure machine with the runner's :class:`~coach.run.runner.Machine` interface, composed *before* a
:class:`~coach.core.session.Session` and never inside it: on ``start`` it runs the next-morning check-in
(:mod:`coach.core.checkin`; only the first session of a day), decides today's levels from the history and
the answer (:func:`coach.core.progression.decide`), says each change in plain words ("Your bridge goes up
to 8 repetitions: 3 good days in a row."), and then starts the session it is given for today's routine,
at the moment the last of that is said, and hands everything over to it. Times are the events' own: nothing
is offset. The check-in's record, one ``progress`` record per change and a ``programme_day`` record are
written right after the session's own ``session`` record, so they belong to that session (and to its
profile) in the log.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

from coach.core.checkin import CheckInDialogue, Reply
from coach.core.messages import Action, Command, CommandName, End, Event, Say, StateChanged, Symptom, Tick
from coach.core.progression import Change, Decision, History, Morning, decide
from coach.core.records import ProgrammeDay, Progress, Record, SessionStarted
from coach.core.script import INSTRUCTION
from coach.core.session import Session
from coach.spec.levels import apply_levels
from coach.spec.locale import Locale
from coach.spec.programme import Level, Programme
from coach.spec.routine import Routine, estimate_speech_seconds


@dataclass(frozen=True)
class TodayPlan:
    """What the caller knows before today's session: the programme, its history for this person, the date."""

    programme: Programme
    history: History
    day: _dt.date
    routines: Mapping[str, Routine]
    """Every stage's routine by id (loaded at the edge)."""
    checkin: bool
    """Ask the next-morning check-in (the first session of the day)."""


def todays_routine(plan: TodayPlan, decision: Decision) -> Routine:
    routine = apply_levels(plan.routines[decision.stage.routine], decision.stage.exercises, decision.levels)
    return replace(routine, feedback=plan.programme.rules.exercise_feedback)


def describe_level(level: Level, locale: Locale) -> str:
    """A level in words: "8 repetitions", "20 seconds", "the gentler form", "the usual form"."""
    if "repetitions" in level.dose:
        return locale.say("level_repetitions", n=level.dose["repetitions"])
    if "seconds" in level.dose or "contract_seconds" in level.dose:
        return locale.say("level_seconds", n=f"{level.dose.get('seconds', level.dose.get('contract_seconds')):g}")
    return locale.say("level_easier" if level.form == "easier" else "level_standard")


def change_text(change: Change, plan: TodayPlan, decision: Decision, locale: Locale) -> str:
    """What the coach says of a change, at the start of the session."""
    routine = plan.routines[decision.stage.routine]
    name = next((e.name for e in routine.exercises if e.id == change.exercise), change.exercise)
    name = name[:1].lower() + name[1:]
    what = describe_level(decision.stage.exercises[change.exercise].levels[change.new - 1], locale)
    key = {"good-sessions": "progress_up", "worse-next-morning": "progress_worse", "pain-above": "progress_pain"}
    return locale.say(key.get(change.reason, "progress_missed"), exercise=name, what=what, n=change.count)


class Today:
    """The check-in and the announcements, then the session (made by ``make_session`` for today's routine)."""

    def __init__(
        self,
        plan: TodayPlan,
        locale: Locale,
        make_session: Callable[[Routine], Session],
        answer_seconds: float = 8.0,
        auto_accept_seconds: float = 4.0,
    ) -> None:
        self.plan = plan
        self.locale = locale
        self.make_session = make_session
        checkin = CheckInDialogue(locale, plan.day, answer_seconds, plan.programme.id, auto_accept_seconds)
        self.checkin = checkin if plan.checkin else None
        self.session: Session | None = None
        self.decision: Decision | None = None
        self.starts_at: float | None = None
        self.status: str | None = None
        self._held: list[Record] = []
        """Records to write right after the session's own start record."""

    # --- the runner's interface -------------------------------------------------------------

    @property
    def ended(self) -> bool:
        return self.status is not None or (self.session is not None and self.session.ended)

    def next_deadline(self) -> float | None:
        if self.session is not None:
            return self.session.next_deadline()
        if self.starts_at is not None:
            return self.starts_at
        return self.checkin.deadline if self.checkin is not None and self.checkin.step != "done" else None

    def handle(self, event: Event) -> list[Action]:
        if self.ended:
            return []
        if self.session is not None:
            return self._through(self.session.handle(event))
        if self.starts_at is not None:
            if isinstance(event, Tick) and event.at >= self.starts_at:
                return self._start_session(self.starts_at)
            if isinstance(event, Symptom):  # symptom words are never held back: the session asks about them now
                return self._start_session(event.at) + self._through(self._session().handle(event))
            if isinstance(event, Command) and event.name == CommandName.STOP:
                self.status = "stopped"
                return [*self._held, End("stopped", event.at)]
            return []
        if self.checkin is not None and self.checkin.step not in ("idle", "done"):
            if isinstance(event, Symptom):  # the check-in ends where it is; the session asks about the symptom at once
                started = self._checked(self.checkin.interrupt(event.at), at_once=True)  # the session starts now
                return started + self._through(self._session().handle(event))
            if isinstance(event, Tick):
                deadline = self.checkin.deadline
                return self._checked(self.checkin.timeout(deadline)) if deadline is not None and event.at >= deadline else []
            return self._checked(self.checkin.handle(event))
        if isinstance(event, Command) and event.name == CommandName.START:
            if self.checkin is None:
                return self._announce(None, event.at)
            return self._checked(self.checkin.start(event.at))
        return []

    def abort(self, at: float, status: str) -> list[Action]:
        if self.session is not None:
            return self._through(self.session.abort(at, status))
        self.status = status
        return [End(status, at)]

    def phrases(self) -> set[str]:
        """Everything this machine may say itself (the session's own phrases come from the session)."""
        return self.checkin.phrases() if self.checkin is not None else set()

    # --- steps ------------------------------------------------------------------------------

    def _session(self) -> Session:
        assert self.session is not None
        return self.session

    def _checked(self, reply: Reply, at_once: bool = False) -> list[Action]:
        out: list[Action] = []
        for action in reply.actions:
            if isinstance(action, Record):
                self._held.append(action)
            else:
                out.append(action)
        if reply.done is None:
            return out
        if reply.stopped:
            self.status = "stopped"
            return [*out, *self._held, End("stopped", reply.at)]
        return out + self._announce(reply.done, reply.at, at_once)

    def _announce(self, morning: Morning | None, at: float, at_once: bool = False) -> list[Action]:
        """Decide today's levels, say what changed and why; the session starts when that is said."""
        plan = self.plan
        decision = self.decision = decide(plan.programme, plan.history, plan.day, morning)
        out: list[Action] = [StateChanged("intro", at)]
        texts = []
        if decision.stage_started and decision.stage is not plan.programme.stages[0]:
            texts.append(self.locale.say("progress_stage", stage=decision.stage.name))
        for change in decision.changes:
            texts.append(change_text(change, plan, decision, self.locale))
            self._held.append(
                Progress(
                    at,
                    change.exercise,
                    change.old,
                    change.new,
                    change.reason,
                    plan.day.isoformat(),
                    plan.programme.id,
                    change.stage,
                )
            )
        levels = ",".join(f"{k}={v}" for k, v in decision.levels.items())
        self._held.append(ProgrammeDay(at, plan.programme.id, decision.stage.id, decision.week, plan.day.isoformat(), levels))
        t = at
        for text in [] if at_once else texts:  # cut short by symptom words: recorded, not said
            out.append(Say(text, t, "programme", INSTRUCTION))
            t += estimate_speech_seconds(text) + 0.5
        self.starts_at = t
        return out + (self._start_session(t) if t <= at else [])

    def _start_session(self, at: float) -> list[Action]:
        assert self.decision is not None
        self.starts_at = None
        self.session = self.make_session(todays_routine(self.plan, self.decision))
        return self._through(self.session.handle(Command(at, CommandName.START, "programme")))

    def _through(self, actions: Sequence[Action]) -> list[Action]:
        """The session's actions, with the held records right after its start record; a session that ends
        without ever starting (stopped at the resume offer, an abort) still has them written, before its end."""
        out: list[Action] = []
        for action in actions:
            if isinstance(action, End) and self._held:
                out += self._held
                self._held = []
            out.append(action)
            if isinstance(action, SessionStarted) and self._held:
                out += self._held
                self._held = []
        return out
