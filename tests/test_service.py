"""The systemd unit: hardened enough (systemd-analyze's own score), and consistent with the code."""

from __future__ import annotations

import re
import subprocess

from conftest import ROOT

UNIT = ROOT / "systemd" / "coach.service"


def test_service_exposure_is_2_or_lower() -> None:
    result = subprocess.run(
        ["systemd-analyze", "security", "--offline=yes", str(UNIT)], capture_output=True, text=True, timeout=60, check=False
    )
    match = re.search(r"Overall exposure level for coach\.service: ([0-9.]+)", result.stdout)
    assert match, result.stdout + result.stderr
    assert float(match.group(1)) <= 2.0


def test_service_runs_the_kiosk_with_watchdog_and_state_dir() -> None:
    text = UNIT.read_text(encoding="utf-8")
    for line in (
        "Type=notify",
        "WatchdogSec=",
        "Restart=on-failure",
        "StateDirectory=coach",
        "UMask=0077",
        "IPAddressDeny=any",
        "RestrictAddressFamilies=AF_UNIX",
        "DeviceAllow=char-alsa rw",
        "SupplementaryGroups=audio gpio",
    ):
        assert line in text, line
    assert "PrivateDevices=yes" not in text  # it would hide the sound card and GPIO
    assert re.search(r"^ExecStart=\S+/coach kiosk$", text, re.M)
