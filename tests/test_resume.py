"""Going on after a cut-off session: the offer in the session, the policy, and the real command."""

from __future__ import annotations

import dataclasses
import datetime as _dt
import sqlite3
import subprocess
import sys
from pathlib import Path

from conftest import ROOT, ROUTINES, cmd, heard, simulate
from test_cli import coach, events_of
from test_kiosk import run_kiosk
from test_store_seed import DAY, Wall

from coach.controls.gestures import PRESS
from coach.controls.layouts import main_button
from coach.core.script import compile_script
from coach.core.session import ResumeOffer, Session
from coach.log.journal import MemoryJournal
from coach.log.store import SqliteJournal
from coach.run.resume import KIOSK_RESUME_WITHIN, RESUME_WITHIN, resume_offer
from coach.spec.locale import load_locale
from coach.spec.routine import Routine, load_routine

QUICK = load_routine(ROUTINES / "quick-start.yaml")
OFFER = ResumeOffer(previous_session=7, exercise_index=1)
OFFER_TEXT = (
    "Last time, the session stopped at Pelvic tilt. To go on from there, say yes or press the button. "
    "To start from the beginning, say no, or wait."
)


def _exercises_started(run_says: list[dict[str, object]]) -> list[object]:
    """Each exercise's opening (a side switch is an instruction too, but names its side)."""
    return [e["exercise"] for e in run_says if e.get("phase") == "setup" and e.get("kind") == "instruction" and not e.get("side")]


def test_yes_goes_on_from_the_exercise_that_was_cut_after_a_fresh_pain_check() -> None:
    run = simulate(QUICK, [heard(3, "yes"), heard(12, "two"), heard(19, "yes")], resume=OFFER)
    assert run.status == "completed"
    prompts = [e["text"] for e in run.says("prompt")]
    assert prompts[:3] == [OFFER_TEXT, "Going on with Pelvic tilt.", run.says("prompt")[2]["text"]]
    assert prompts[2].startswith("Before we begin: how is your pain")
    assert not run.says("intro")
    assert _exercises_started(run.says()) == ["pelvic-tilt"]
    session = run.of("session")[0]
    assert (session["resume_offered"], session["resumed_from"]) == (7, 1)
    end = run.of("session_end")[0]
    assert (end["exercises_done"], end["exercises_total"]) == (1, 1)
    assert run.first_say("Session complete.")["text"] == "Session complete. You did 1 of 1 exercises."


def test_no_starts_from_the_beginning() -> None:
    run = simulate(QUICK, [heard(3, "no")], resume=OFFER)
    assert run.first_say("Starting from the beginning.")["t"] == 3
    assert run.says("intro")
    assert _exercises_started(run.says()) == ["back-release", "pelvic-tilt"]
    session = run.of("session")[0]
    assert (session["resume_offered"], session.get("resumed_from")) == (7, None)


def test_silence_starts_from_the_beginning_after_the_answer_window() -> None:
    run = simulate(QUICK, [], resume=OFFER)
    start = run.first_say("Starting from the beginning.")["t"]
    assert start > 8  # the offer is said, then the usual answer window passes
    assert _exercises_started(run.says()) == ["back-release", "pelvic-tilt"]


def test_stop_at_the_offer_ends_with_nothing_recorded_and_ratings_are_not_taken() -> None:
    run = simulate(QUICK, [heard(2, "six"), cmd(3, "next"), cmd(4, "stop")], resume=OFFER)
    assert run.status == "stopped"
    assert run.journal.records == []
    assert [e["text"] for e in run.says()] == [OFFER_TEXT]


def test_an_offer_of_the_first_exercise_or_one_past_the_end_is_not_made() -> None:
    for index in (0, 2, 99):
        run = simulate(QUICK, [], resume=ResumeOffer(3, index))
        assert OFFER_TEXT not in [e["text"] for e in run.says()]
        assert "resume_offered" not in run.of("session")[0]


def test_the_main_button_says_yes_to_the_offer() -> None:
    assert [i.value for i in main_button(PRESS, "resume-offer")] == ["yes"]


# --- the policy, against a real store --------------------------------------------------------


_KILLED = """
import datetime, os, signal, sys
sys.path.insert(0, {tests!r})
from test_store_seed import Wall, seed_session
from coach.log.store import SqliteJournal
wall = Wall()
journal = SqliteJournal(__import__("pathlib").Path({state!r}), now=wall)
seed_session(journal, wall, datetime.datetime.fromisoformat({when!r}), status=None, done=("back-release",))
os.kill(os.getpid(), signal.SIGKILL)
"""


def _cut_session(state: Path, when: _dt.datetime) -> SqliteJournal:
    """A quick-start session killed after its first exercise, then the journal a new run opens."""
    code = _KILLED.format(tests=str(ROOT / "tests"), state=str(state), when=when.isoformat())
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True).returncode == -9
    return SqliteJournal(state, now=Wall(when + _dt.timedelta(minutes=5)))


def _as_seeded(routine: Routine) -> Routine:
    return dataclasses.replace(routine, version="abc123def456")  # the version seed_session writes


def test_policy_offers_the_next_exercise_of_the_same_routine_file(tmp_path: Path) -> None:
    journal = _cut_session(tmp_path, DAY)
    assert resume_offer(journal, _as_seeded(QUICK), RESUME_WITHIN) == ResumeOffer(1, 1)
    assert resume_offer(journal, QUICK, RESUME_WITHIN) is None  # the routine file changed since
    other = dataclasses.replace(_as_seeded(QUICK), id="other")
    assert resume_offer(journal, other, RESUME_WITHIN) is None
    journal.close()


def test_policy_forgets_an_old_cut_and_the_kiosk_forgets_sooner(tmp_path: Path) -> None:
    journal = _cut_session(tmp_path, DAY)
    routine = _as_seeded(QUICK)
    assert resume_offer(journal, routine, KIOSK_RESUME_WITHIN) is not None  # 5 minutes later
    journal.now = Wall(DAY + _dt.timedelta(minutes=30))
    assert resume_offer(journal, routine, KIOSK_RESUME_WITHIN) is None
    assert resume_offer(journal, routine, RESUME_WITHIN) is not None
    journal.now = Wall(DAY + _dt.timedelta(hours=13))
    assert resume_offer(journal, routine, RESUME_WITHIN) is None
    journal.close()
    assert resume_offer(MemoryJournal(), routine, RESUME_WITHIN) is None


def test_coach_run_after_a_kill_offers_to_go_on_and_does(tmp_path: Path) -> None:
    """The real command: a session killed mid-way, then `coach run` again, answering yes."""
    state = tmp_path / "state"
    first = coach("run", "quick-start", "--simulate", "--state-dir", str(state), "--input-script", _script(tmp_path, []))
    assert first.returncode == 0
    conn = sqlite3.connect(state / "coach.db")
    session_id = conn.execute("SELECT max(id) FROM sessions").fetchone()[0]
    # Cut it as a power loss would: the session's end and the last exercise are gone.
    first_exercise = conn.execute(
        "SELECT id FROM records WHERE session_id = ? AND kind = 'exercise' ORDER BY id LIMIT 1", (session_id,)
    ).fetchone()[0]
    conn.execute("DELETE FROM records WHERE session_id = ? AND id > ?", (session_id, first_exercise))
    conn.execute("UPDATE sessions SET ended = NULL, status = NULL WHERE id = ?", (session_id,))
    conn.commit()
    conn.close()
    script = _script(tmp_path, ["3 heard yes", "12 rating 2"])
    again = coach("run", "quick-start", "--simulate", "--state-dir", str(state), "--input-script", script, "--events", "-")
    assert again.returncode == 0, again.stderr
    events = events_of(again.stdout)
    texts = [e["text"] for e in events if e["type"] == "say"]
    assert texts[0].startswith("Last time, the session stopped at Pelvic tilt.")
    assert "Going on with Pelvic tilt." in texts
    session = next(e for e in events if e["type"] == "session")
    assert (session["resume_offered"], session["resumed_from"]) == (session_id, 1)
    assert [e["exercise"] for e in events if e["type"] == "exercise"] == ["pelvic-tilt"]
    # Now the last session ended well: the next run offers nothing.
    third = coach("run", "quick-start", "--simulate", "--state-dir", str(state), "--input-script", script, "--events", "-")
    assert not [e for e in events_of(third.stdout) if e["type"] == "say" and e["text"].startswith("Last time")]


def _script(folder: Path, lines: list[str]) -> str:
    path = folder / f"inputs-{len(lines)}.txt"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def test_the_offer_is_rendered_ahead_and_a_kiosk_renders_every_possible_one() -> None:
    locale = load_locale("en")
    script = compile_script(QUICK, locale)
    said = {e["text"] for e in simulate(QUICK, [heard(3, "yes")], resume=OFFER).says() if "pain was" not in e["text"]}
    assert said <= Session(script, locale, resume=OFFER).phrases()
    plain = Session(script, locale)
    assert OFFER_TEXT not in plain.phrases()
    assert OFFER_TEXT in plain.phrases(every_resume=True)


_KILLED_AFTER_RESUMING = """
import os, signal, sys
sys.path.insert(0, {tests!r})
from test_store_seed import Wall
from coach.core.records import SessionStarted
from coach.log.store import SqliteJournal
journal = SqliteJournal(__import__("pathlib").Path({state!r}), now=Wall())
journal.append(SessionStarted(0.0, "quick-start", "Quick start", "abc123def456", "en", resume_offered=None, resumed_from=1))
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_resumed_session_cut_again_before_any_result_is_offered_from_the_same_place(tmp_path: Path) -> None:
    code = _KILLED_AFTER_RESUMING.format(tests=str(ROOT / "tests"), state=str(tmp_path))
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True).returncode == -9
    journal = SqliteJournal(tmp_path, now=Wall(DAY + _dt.timedelta(minutes=5)))
    assert resume_offer(journal, _as_seeded(QUICK), RESUME_WITHIN) == ResumeOffer(1, 1)
    journal.close()


def test_the_kiosk_offers_it_to_the_person_still_there_and_not_half_an_hour_later(tmp_path: Path) -> None:
    _cut_session(tmp_path, DAY).close()
    routine = _as_seeded(QUICK)
    inputs = [cmd(1, "start"), heard(2, "one"), heard(12, "yes")]
    for minutes, offered in ((5, True), (30, False)):
        clock = Wall(DAY + _dt.timedelta(minutes=minutes))
        kiosk, events, speaker, _ = run_kiosk([routine], inputs, 1, lambda clock=clock: SqliteJournal(tmp_path, now=clock))
        assert (OFFER_TEXT in speaker.texts) is offered
        session = next(e for e in events if e["type"] == "session")
        assert session.get("resumed_from") == (1 if offered else None)
        assert len(kiosk.sessions) == 1
