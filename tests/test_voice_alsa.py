"""What libasound prints on its own: nothing. The coach's one line says what is missing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import ROOT, CoachHere


def test_say_without_the_device_prints_only_the_coachs_line(tmp_path: Path, coach_here: CoachHere) -> None:
    # A device name that exists nowhere: libasound fails the same way with or without a sound card
    # (on a machine without one, the default device fails with eight "ALSA lib" lines instead of one).
    config = tmp_path / "config.yaml"
    config.write_text("audio:\n  output_device: no_such_device_here\n", encoding="utf-8")
    result = coach_here("--config", str(config), "say", "hello")
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "coach: audio: cannot open output device 'no_such_device_here': No such file or directory; "
        "the session is shown as text instead."
    ]


def test_opening_alsa_in_a_fresh_process_prints_nothing() -> None:
    # In its own process, so that no earlier test has already installed the handler.
    code = (
        "from coach.errors import DeviceError\n"
        "from coach.voice.alsa import AlsaOutput\n"
        "try:\n"
        "    AlsaOutput('no_such_device_here', 22050).close()\n"
        "except DeviceError as exc:\n"
        "    print(exc)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=30, check=False)
    assert done.stderr == ""
    assert done.stdout == "audio: cannot open output device 'no_such_device_here': No such file or directory\n"
