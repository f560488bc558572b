"""Faults injected through the adapters' seams: the session goes on, each fault is told once."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from conftest import rating

from coach.core.messages import Say
from coach.core.records import Record
from coach.core.script import compile_script
from coach.core.session import Session
from coach.errors import JournalError
from coach.log.journal import MemoryJournal
from coach.run.clock import FakeClock
from coach.run.eventlog import EventSink
from coach.run.inputs import Feed, Input
from coach.run.ports import Utterance
from coach.run.runner import Runner
from coach.spec.locale import load_locale
from coach.spec.routine import Routine
from coach.testing.speaker import FakeSpeaker


class FailingJournal(MemoryJournal):
    """A disk that fills up after ``good`` records."""

    def __init__(self, good: int) -> None:
        super().__init__()
        self.good = good

    def append(self, record: Record) -> int:
        if len(self.records) >= self.good:
            raise JournalError("/var/lib/coach/journal.jsonl: cannot write the session log: No space left on device")
        return super().append(record)


class BrokenSpeaker(FakeSpeaker):
    def speak(self, say: Say, now: float) -> Utterance:
        if say.kind == "count":
            raise RuntimeError("device vanished")
        return super().speak(say, now)


def _run(
    routine: Routine, speaker: FakeSpeaker, journal: Any, inputs: list[Any] | None = None
) -> tuple[str, list[dict[str, Any]]]:
    locale = load_locale("en")
    clock = FakeClock()
    stream = io.StringIO()
    runner = Runner(
        Session(compile_script(routine, locale), locale),
        clock,
        speaker,
        journal,
        EventSink(stream),
        locale,
        Feed(clock, scripted=inputs or []),
    )
    status = runner.run()
    return status, [json.loads(line) for line in stream.getvalue().splitlines()]


def test_faults_disk_full_mid_session_goes_on_and_is_told_once(small_pir: Routine, capsys: pytest.CaptureFixture[str]) -> None:
    journal = FailingJournal(good=1)
    status, events = _run(small_pir, FakeSpeaker(), journal, [rating(60, 3)])
    assert status == "completed"
    faults = [e for e in events if e["type"] == "fault"]
    assert len(faults) == 1 and "No space left on device" in faults[0]["message"]
    assert [e["kind"] for e in events if e["type"] == "logged"] == ["session"]  # only what really was written
    assert capsys.readouterr().err.count("No space left on device") == 1


def test_faults_a_speaker_that_raises_shows_text_and_the_session_goes_on(
    small_pir: Routine, capsys: pytest.CaptureFixture[str]
) -> None:
    speaker = BrokenSpeaker()
    status, events = _run(small_pir, speaker, FailingJournal(good=1000))
    assert status == "completed"
    assert len([e for e in events if e["type"] == "fault"]) == 1
    counts = [e for e in events if e["type"] == "say" and e["kind"] == "count"]
    assert counts and all(e["t"] == e["due"] for e in counts)
    err = capsys.readouterr().err
    assert err.count("the speaker failed") == 1 and "\n2\n" in err  # the count was shown as text


def test_faults_the_session_log_cannot_be_opened_in_a_real_process(tmp_path: Path) -> None:
    import subprocess
    import sys

    from conftest import ROOT

    blocker = tmp_path / "state"
    blocker.write_text("a file where the state folder should be", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "coach", "run", "quick-start", "--simulate", "--state-dir", str(blocker)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert "Traceback" not in result.stderr
    assert str(blocker) in result.stderr


def test_faults_a_speaker_that_raises_in_the_kiosk_menu_is_survived(
    small_pir: Routine, capsys: pytest.CaptureFixture[str]
) -> None:
    from coach.core.session import SessionSettings
    from coach.run.kiosk import Kiosk, KioskTimes
    from coach.run.sdnotify import Notifier

    class MenuBreaks(FakeSpeaker):
        def speak(self, say: Say, now: float) -> Utterance:
            if say.phase == "menu":
                raise RuntimeError("device vanished")
            return super().speak(say, now)

    clock = FakeClock()
    inputs = [Input("command", "start", "button", 1.0), Input("rating", 1, "button", 3.0)]
    kiosk = Kiosk(
        [small_pir],
        load_locale("en"),
        clock,
        MenuBreaks(),
        Feed(clock, scripted=inputs),
        lambda: FailingJournal(1000),
        EventSink(None),
        lambda r: SessionSettings(red_flag_screen=False),
        KioskTimes(),
        Notifier(address=""),
    )
    kiosk.run(1)
    assert kiosk.sessions == ["completed"]
    assert capsys.readouterr().err.count("the speaker failed") == 1


def test_faults_event_sink_closes_files_but_not_stdout_or_memory(tmp_path: Path) -> None:
    import sys

    memory = io.StringIO()
    EventSink(memory).close()  # no file number to ask: must not raise
    EventSink(sys.stdout).close()
    assert not sys.stdout.closed
    handle = open(tmp_path / "events.jsonl", "w", encoding="utf-8")  # noqa: SIM115 - closed by the sink
    EventSink(handle).close()
    assert handle.closed
