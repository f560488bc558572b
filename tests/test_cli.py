"""The CLI as a user calls it, on real files: ``cli.main([...])`` in this process with its output
captured at the file descriptors, and a real ``python -m coach`` process where the process itself is
the point (the entry point, real time, what a command imports)."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sqlite3
import stat
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
from conftest import KO_CHECK, ROOT, ROUTINES, SCREEN_OFF, CoachHere, screen_off_config_home, write_routine

import coach.cli.run as run_command
from coach.cli import main as cli
from coach.run.clock import FakeClock

SHIPPED = sorted(p.stem for p in ROUTINES.glob("*.yaml"))
NO_CONFIG = str(screen_off_config_home(Path(tempfile.mkdtemp(prefix="coach-test-config-"))))
"""An empty config home, so a developer's own ~/.config/coach never leaks into the tests (the
in-process ``coach_here`` of conftest.py has its own)."""


def coach(
    *args: str, cwd: Path = ROOT, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "XDG_CONFIG_HOME": NO_CONFIG, "COACH_CONFIG": "", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "coach", *args], capture_output=True, text=True, cwd=cwd, env=full_env, timeout=timeout
    )


def events_of(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines()]


def test_cli_version_and_help(coach_here: CoachHere) -> None:
    assert coach("--version").stdout.startswith("coach ")
    for sub in ([], ["run"], ["plan"], ["validate"], ["list"], ["config"]):
        result = coach_here(*sub, "--help")
        assert result.returncode == 0 and "usage: coach" in result.stdout


def test_cli_each_extension_names_the_commands_it_adds() -> None:
    for module_name in cli.EXTENSIONS:
        commands = argparse.ArgumentParser().add_subparsers()
        importlib.import_module(module_name).register(commands)
        assert tuple(commands.choices) == cli.EXTENSION_COMMANDS[module_name]


@pytest.mark.parametrize(
    ("argv", "wanted"),
    [
        (["--version"], ()),
        (["--config", "c.yaml", "plan", "x"], ()),
        (["--config=c.yaml", "run", "--simulate"], ("coach.cli.run",)),
        (["export", "--format", "csv"], ("coach.cli.records",)),
        (["model", "check", "ko"], ("coach.cli.voice",)),
        (["--help"], cli.EXTENSIONS),
        (["runn"], cli.EXTENSIONS),
        ([], cli.EXTENSIONS),
        (["--conf", "c.yaml", "run"], cli.EXTENSIONS),  # an abbreviation argparse takes: every command, to be safe
    ],
    ids=["version", "built-in", "config=", "records", "voice", "help", "typo", "nothing", "abbreviated-option"],
)
def test_cli_a_command_loads_only_its_own_extension(argv: list[str], wanted: tuple[str, ...]) -> None:
    assert cli.extensions_for(argv) == wanted


def test_cli_version_starts_without_the_session_or_any_adapter() -> None:
    probe = (
        "import sys\nfrom coach.cli.main import main\ntry:\n    main(['--version'])\nexcept SystemExit:\n    pass\n"
        "print(' '.join(sorted(sys.modules)))"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert result.returncode == 0 and result.stdout.startswith("coach "), result.stderr
    loaded = set(result.stdout.splitlines()[-1].split())
    heavy = {"coach.core.session", "coach.cli.run", "coach.voice.tts", "coach.log.store", "vosk", "pyttsx3", "gpiozero"}
    assert "coach.cli.main" in loaded and not loaded & heavy


def test_cli_list_shows_every_shipped_routine(coach_here: CoachHere) -> None:
    result = coach_here("list")
    assert result.returncode == 0
    for name in SHIPPED:
        assert name in result.stdout
    assert "invalid" not in result.stdout


def test_cli_plan_prints_a_timetable_from_any_folder(tmp_path: Path, coach_here: CoachHere) -> None:
    result = coach_here("plan", "quick-start", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Total: about" in result.stdout
    assert "contract" in result.stdout and "pain check, before" in result.stdout


@pytest.mark.parametrize("name", SHIPPED)
def test_cli_every_shipped_routine_simulates_to_end(name: str, tmp_path: Path, coach_here: CoachHere) -> None:
    result = coach_here("run", name, "--simulate", "--events", "-", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    events = events_of(result.stdout)
    assert events[-1]["type"] == "end" and events[-1]["status"] == "completed"
    says = [e for e in events if e["type"] == "say"]
    assert says and all(e["t"] == e["due"] for e in says)
    # Contract counts within each repetition are evenly spaced, one second apart.
    groups: dict[tuple[Any, ...], list[float]] = {}
    for e in says:
        if e["phase"] == "contract" and e["kind"] == "count":
            groups.setdefault((e["exercise"], e.get("side"), e["rep"]), []).append(e["due"])
    for dues in groups.values():
        assert {round(b - a, 9) for a, b in zip(dues, dues[1:])} <= {1.0}


def test_cli_input_script_drives_the_session(tmp_path: Path, coach_here: CoachHere) -> None:
    script = tmp_path / "inputs.txt"
    script.write_text(
        "# answer the first check by voice, confirm it, then stop in the first exercise\n"
        "24 heard my pain is three\n"
        "26 yes\n"
        "45 pause   # a pause\n"
        "50 resume\n"
        "60 stop\n",
        encoding="utf-8",
    )
    result = coach_here("run", "quick-start", "--simulate", "--input-script", str(script), "--events", "-", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    events = events_of(result.stdout)
    rating = next(e for e in events if e["type"] == "rating")
    assert (rating["value"], rating["source"], rating["confirmed"]) == (3, "heard", "yes")
    assert [e["type"] for e in events if e["type"] in ("pause", "resume", "stop")] == ["pause", "resume", "stop"]
    assert events[-1] == {"type": "end", "t": events[-1]["t"], "status": "stopped"}
    logged = [e for e in events if e["type"] == "logged"]
    assert [e["id"] for e in logged] == list(range(1, len(logged) + 1))


def test_cli_input_script_errors_name_file_and_line(tmp_path: Path, coach_here: CoachHere) -> None:
    script = tmp_path / "inputs.txt"
    script.write_text("10 start\n12 jump\nabc pause\n14 rating 11\n", encoding="utf-8")
    result = coach_here("run", "quick-start", "--simulate", "--input-script", str(script))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert [line.split(":")[1] for line in lines] == ["2", "3", "4"]
    assert "unknown command 'jump'" in lines[0]


def test_cli_run_writes_a_private_durable_log(tmp_path: Path, coach_here: CoachHere) -> None:
    state = tmp_path / "state"
    script = tmp_path / "inputs.txt"
    script.write_text("24 rating 2\n", encoding="utf-8")
    result = coach_here(
        "run", "quick-start", "--simulate", "--state-dir", str(state), "--input-script", str(script), "--events", "-"
    )
    assert result.returncode == 0, result.stderr
    log = state / "coach.db"
    assert stat.S_IMODE(state.stat().st_mode) == 0o700
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    with sqlite3.connect(log) as db:
        records = db.execute("SELECT id, kind FROM records ORDER BY id").fetchall()
        ratings = db.execute("SELECT value FROM ratings").fetchall()
    logged = [e for e in events_of(result.stdout) if e["type"] == "logged"]
    assert records == [(e["id"], e["kind"]) for e in logged]
    assert (2,) in ratings


def test_cli_real_time_run_at_high_speed(tmp_path: Path) -> None:
    # A real process on the real clock; 150 times real time, so the 3-minute routine takes about a second.
    result = coach("run", "quick-start", "--speed", "150", "--no-voice", "--events", "-", "--state-dir", str(tmp_path))
    assert result.returncode == 0, result.stderr
    events = events_of(result.stdout)
    says = [e for e in events if e["type"] == "say"]
    assert all(e["t"] >= e["due"] for e in says)
    assert events[-1]["type"] == "end"
    assert "Welcome" in result.stderr  # the console voice goes to stderr when events use stdout


def test_cli_broken_config_is_one_line_and_exit_2(tmp_path: Path, coach_here: CoachHere) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("voice:\n  rat: 120\n", encoding="utf-8")
    result = coach_here("--config", str(config), "run", "--simulate")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip() == f"{config}:2: rat: unknown field in the 'voice' section (did you mean 'rate'?)"


def test_cli_config_shows_values_and_where_they_came_from(tmp_path: Path, coach_here: CoachHere) -> None:
    folder = tmp_path / "cfg" / "coach"
    folder.mkdir(parents=True)
    (folder / "config.yaml").write_text("# mine\nvoice:\n  rate: 130\n", encoding="utf-8")
    result = coach_here("config", env={"XDG_CONFIG_HOME": str(tmp_path / "cfg")})
    assert result.returncode == 0, result.stderr
    assert f"voice.rate = 130  # {folder / 'config.yaml'}:3" in result.stdout
    assert "voice.volume = 1.0  # default" in result.stdout


def test_cli_unknown_routine_is_one_line(tmp_path: Path, coach_here: CoachHere) -> None:
    result = coach_here("run", "lumbar", "--simulate")
    assert result.returncode == 2
    assert result.stderr.strip().startswith("no routine named 'lumbar'")


def test_cli_say_writes_a_wav(tmp_path: Path, coach_here: CoachHere) -> None:
    out = tmp_path / "relax.wav"
    cache = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    result = coach_here("say", "Relax, and breathe out slowly.", "--to", str(out), env=cache)
    assert result.returncode == 0, result.stderr
    assert out.read_bytes()[:4] == b"RIFF" and out.stat().st_size > 20000


class _JumpingClock(FakeClock):
    """Stands in for the real clock of ``coach run``: the session's 11 s of cues and waits take none."""

    def __init__(self, speed: float = 1.0) -> None:
        super().__init__()


def test_cli_run_without_an_audio_device_says_so_once_and_shows_text(
    tmp_path: Path, coach_here: CoachHere, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The real ALSA open fails; only the waiting is simulated (real time: test_cli_real_time_run_at_high_speed).
    monkeypatch.setattr(run_command, "MonotonicClock", _JumpingClock)
    config = tmp_path / "config.yaml"
    config.write_text("audio:\n  output_device: no_such_device_here\n" + SCREEN_OFF, encoding="utf-8")
    inputs = tmp_path / "inputs.txt"
    inputs.write_text("2 stop\n", encoding="utf-8")
    result = coach_here(
        "--config",
        str(config),
        "run",
        "quick-start",
        "--events",
        "-",
        "--state-dir",
        str(tmp_path / "state"),
        "--input-script",
        str(inputs),
        env={"XDG_CACHE_HOME": str(tmp_path / "cache")},
    )
    assert result.returncode == 0, result.stderr
    notices = [line for line in result.stderr.splitlines() if line.startswith("coach: audio")]
    assert len(notices) == 1 and "no_such_device_here" in notices[0] and "shown as text" in notices[0]
    assert "Welcome. Quick start." in result.stderr
    assert events_of(result.stdout)[-1]["status"] == "stopped"


def test_cli_plan_warns_when_a_phrase_does_not_fit(tmp_path: Path, coach_here: CoachHere) -> None:
    body = (ROUTINES / "quick-start.yaml").read_text(encoding="utf-8")
    body = body.replace(
        "    relax_cue: Relax, breathe out slowly\n",
        "    relax_cue: Relax completely now and breathe out very slowly through your mouth\n",
        1,
    )
    path = tmp_path / "r.yaml"
    path.write_text(body, encoding="utf-8")
    result = coach_here("plan", str(path), env={"XDG_CACHE_HOME": str(tmp_path / "cache")})
    assert result.returncode == 0
    warnings = [line for line in result.stderr.splitlines() if ": warning: " in line]
    assert warnings and all(line.startswith(f"{path}:") for line in warnings), result.stderr
    assert "Relax completely now" in warnings[0] and "but its slot is" in warnings[0]


def test_cli_a_korean_session_on_the_console_says_what_to_type_in_korean(tmp_path: Path, coach_here: CoachHere) -> None:
    routine = write_routine(tmp_path, KO_CHECK)
    result = coach_here("run", str(routine), "--simulate", "--state-dir", str(tmp_path / "state"))
    assert result.returncode == 0, result.stderr
    assert "[통증을 0-10으로 입력하고 Enter]" in result.stdout
    assert "type your pain" not in result.stdout
