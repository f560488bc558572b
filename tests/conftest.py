"""Shared helpers: run a session in simulation and look at what it did."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from gpiozero import Device
from gpiozero.pins.mock import MockFactory, MockPWMPin

from coach.cli import main as cli
from coach.core.script import compile_script
from coach.core.session import ResumeOffer, Session, SessionSettings
from coach.log.journal import MemoryJournal
from coach.run.clock import FakeClock
from coach.run.eventlog import EventSink
from coach.run.inputs import Feed, Input
from coach.run.runner import Runner
from coach.spec.locale import Locale, load_locale
from coach.spec.routine import Routine, load_routine
from coach.testing.speaker import FakeSpeaker

ROOT = Path(__file__).resolve().parent.parent
ROUTINES = ROOT / "routines"


@dataclass
class Simulated:
    status: str
    events: list[dict[str, Any]]
    speaker: FakeSpeaker
    journal: MemoryJournal

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["type"] == kind]

    def says(self, phase: str | None = None) -> list[dict[str, Any]]:
        return [e for e in self.of("say") if phase is None or e["phase"] == phase]

    def first_say(self, text_part: str) -> dict[str, Any]:
        return next(e for e in self.of("say") if text_part in e["text"])


@dataclass
class Ran:
    """What a command did: its exit status and everything it wrote to file descriptors 1 and 2."""

    returncode: int
    stdout: str
    stderr: str


SCREEN_OFF = "# written by the tests: no red-flag screen unless a test is about it\nsession:\n  red_flag_screen: false\n"


def screen_off_config_home(home: Path) -> Path:
    """A config home whose only setting turns the red-flag screen off: a ``coach run --simulate`` whose input
    script does not answer the screen would end there (silence is not a "no"); the screen's own tests turn it on."""
    (home / "coach").mkdir(parents=True, exist_ok=True)
    (home / "coach" / "config.yaml").write_text(SCREEN_OFF, encoding="utf-8")
    return home


CoachHere = Callable[..., Ran]
"""``coach_here("validate", path, cwd=..., env={...})``: the ``coach`` command run in this process."""


@pytest.fixture
def coach_here(
    monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str], tmp_path_factory: pytest.TempPathFactory
) -> CoachHere:
    """The ``coach`` command without a new process (each costs a Python start and the imports):
    ``cli.main`` with an empty config home, run in ``cwd``, its output captured at the file
    descriptors so that what espeak-ng or ALSA print themselves is seen as a process would see it."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(screen_off_config_home(tmp_path_factory.mktemp("no-config"))))
    monkeypatch.setenv("COACH_CONFIG", "")

    def run(*args: str, cwd: Path = ROOT, env: dict[str, str] | None = None) -> Ran:
        monkeypatch.chdir(cwd)
        for name, value in (env or {}).items():
            monkeypatch.setenv(name, value)
        capfd.readouterr()
        try:
            code = cli.main(list(args))
        except SystemExit as exc:  # argparse: --help and usage errors
            code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
        out, err = capfd.readouterr()
        return Ran(code, out, err)

    return run


@pytest.fixture
def mock_factory() -> Iterator[MockFactory]:
    """gpiozero's own pattern: a fresh MockFactory (with PWM pins) per test, reset afterwards."""
    saved = Device.pin_factory
    Device.pin_factory = MockFactory(pin_class=MockPWMPin)
    try:
        yield Device.pin_factory
    finally:
        if Device.pin_factory is not None:
            Device.pin_factory.reset()
        Device.pin_factory = saved


@pytest.fixture
def en() -> Locale:
    return load_locale("en")


def write_routine(tmp_path: Path, body: str, name: str = "r.yaml") -> Path:
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return path


def simulate(
    routine: Routine,
    inputs: list[Input] | None = None,
    settings: SessionSettings | None = None,
    resume: ResumeOffer | None = None,
    screen: bool = False,
) -> Simulated:
    """``routine`` run on a FakeClock with ``inputs``; without the red-flag screen unless ``screen`` (most
    tests are about something else, and an unanswered screen ends the session)."""
    locale = load_locale(routine.language)
    session = Session(compile_script(routine, locale), locale, settings or SessionSettings(), resume=resume, screen=screen)
    stream = io.StringIO()
    speaker, journal = FakeSpeaker(), MemoryJournal()
    clock = FakeClock()
    runner = Runner(session, clock, speaker, journal, EventSink(stream), locale, Feed(clock, scripted=list(inputs or [])))
    status = runner.run()
    events = [json.loads(line) for line in stream.getvalue().splitlines()]
    return Simulated(status, events, speaker, journal)


def side_check_nos(routine: Routine, inputs: list[Input] | None = None) -> list[Input]:
    """``inputs`` and a "no" a second after each side check the simulated session asks (a nerve glide's "has it
    moved further down your leg?"), found by running it: an unanswered check stops the exercise."""
    inputs = list(inputs or [])
    question = load_locale(routine.language).say("side_check_question")
    while True:
        answered = {i.at - 1 for i in inputs if i.value == "no"}
        asked = [e["t"] for e in simulate(routine, inputs).says() if e["text"] == question and e["t"] not in answered]
        if not asked:
            return inputs
        inputs = sorted([*inputs, cmd(asked[0] + 1, "no")], key=lambda i: i.at)


def cmd(at: float, name: str) -> Input:
    return Input("command", name, "script", at)


def rating(at: float, value: int, source: str = "script") -> Input:
    return Input("rating", value, source, at)


def heard(at: float, text: str) -> Input:
    return Input("heard", text, "heard", at)


KO_CHECK = """\
id: ko-check
title: 통증 확인
language: ko
introduction: 편하게 누우세요.
pain_checks: {before: true, after: false}
exercises:
  - kind: hold
    id: rest-hold
    name: 쉬기
    setup: 편하게 누우세요.
    seconds: 10
    cue: 그대로 계세요
"""
"""A Korean routine that asks for pain once, before a 10 s hold."""


SMALL_PIR = """\
id: small
title: Small
introduction: Lie down.
pain_checks: {before: false, after: false}
exercises:
  - kind: pir
    id: ql
    name: Side release
    setup: Lie on your back.
    setup_seconds: 4
    sides: both
    repetitions: 2
    contract_seconds: 8
    relax_seconds: 3
    stretch_seconds: 10
    rest_seconds: 5
"""


@pytest.fixture
def small_pir(tmp_path: Path) -> Routine:
    return load_routine(write_routine(tmp_path, SMALL_PIR))
