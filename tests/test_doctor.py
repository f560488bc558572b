"""`coach doctor`: every part reported, every missing part with its fix, never a traceback."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

from conftest import ROOT, CoachHere

from coach.cli.doctor import CHECKS, Finding, print_findings, run_checks
from coach.spec.config import LoadedSettings, Settings


def doctor(config: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "coach", "--config", str(config), "doctor"]
    return subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=60, check=False)


def test_doctor_a_failing_check_never_hides_the_others() -> None:
    def broken(loaded: LoadedSettings) -> Finding:
        raise RuntimeError("boom")

    def fine(loaded: LoadedSettings) -> Finding:
        return Finding("fine", True, "all good")

    findings = run_checks(LoadedSettings(Settings(), None, {}), (broken, fine))
    assert [(f.name, f.ok) for f in findings] == [("broken", False), ("fine", True)]
    assert "boom" in findings[0].detail


def test_doctor_prints_the_fix_under_each_missing_part() -> None:
    out = io.StringIO()
    print_findings([Finding("microphone", False, "none found", "plug one in"), Finding("config", True, "defaults")], out)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("MISSING  microphone") and lines[1].strip() == "fix: plug one in"
    assert lines[2].startswith("ok       config")


def test_doctor_as_a_user_runs_it(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(f"state_dir: {tmp_path / 'state'}\naudio:\n  output_device: no_such_device_here\n", encoding="utf-8")
    result = doctor(config)
    assert "Traceback" not in result.stderr
    assert "ALSA lib" not in result.stderr  # libasound's own error printing is silenced
    lines = result.stdout.splitlines()
    named = [line for line in lines if not line.strip().startswith("fix:")]
    assert len(named) == len(CHECKS)
    assert any(line.startswith("ok       session log") for line in named)
    missing = [i for i, line in enumerate(lines) if line.startswith("MISSING")]
    assert any("audio output" in lines[i] and "no_such_device_here" in lines[i] for i in missing)
    assert all(lines[i + 1].strip().startswith("fix: ") for i in missing)
    assert result.returncode == 1


def test_doctor_with_a_broken_config_still_checks_the_rest(tmp_path: Path, coach_here: CoachHere) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("voice:\n  rate: fast\n", encoding="utf-8")
    result = coach_here("--config", str(config), "doctor")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert f"MISSING  config           {config}:2: rate: must be a whole number, got 'fast'" in result.stdout
    assert "speech engine" in result.stdout
