"""The systemd unit: hardened enough (systemd-analyze's own score), and consistent with the code."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

from conftest import ROOT, CoachHere

UNIT = ROOT / "systemd" / "coach.service"


def test_service_exposure_is_1_5_or_lower() -> None:
    result = subprocess.run(
        ["systemd-analyze", "security", "--offline=yes", str(UNIT)], capture_output=True, text=True, timeout=60, check=False
    )
    match = re.search(r"Overall exposure level for coach\.service: ([0-9.]+)", result.stdout)
    assert match, result.stdout + result.stderr
    assert float(match.group(1)) <= 1.5


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


def test_service_lets_gpiozero_see_the_board_and_lgpio_write_its_pipes() -> None:
    text = UNIT.read_text(encoding="utf-8")
    assert not re.search(r"^ProcSubset=pid", text, re.M)  # it hides /proc/cpuinfo and /proc/device-tree from gpiozero
    assert re.search(r"^RuntimeDirectory=coach$", text, re.M) and re.search(r"^WorkingDirectory=/run/coach$", text, re.M)
    assert "KillMode=mixed" in text  # SIGTERM to the kiosk, which stops its own microphone


def test_service_header_names_the_real_install_command() -> None:
    header = [line for line in UNIT.read_text(encoding="utf-8").splitlines() if line.startswith("#")][:4]
    assert any("systemd/install.sh" in line for line in header), header
    assert not any("coach service install" in line for line in header)


INSTALL = ROOT / "systemd" / "install.sh"


def test_service_install_script_parses_and_refuses_bad_options_before_touching_anything() -> None:
    assert subprocess.run(["bash", "-n", str(INSTALL)], capture_output=True, check=False).returncode == 0
    for args, message in (
        (["--bogus"], "install.sh: unknown option --bogus"),
        (["--purge"], "install.sh: --purge goes with --uninstall"),
    ):
        result = subprocess.run(["bash", str(INSTALL), *args], capture_output=True, text=True, timeout=30, check=False)
        assert result.returncode == 2 and message in result.stderr, result.stderr
    usage = subprocess.run(["bash", str(INSTALL), "--help"], capture_output=True, text=True, timeout=30, check=False)
    assert usage.returncode == 0
    for documented in ("--uninstall", "--purge", "--no-start", "PIP_INDEX_URL", "PIP_CERT", "COACH_PIP_ARGS", "COACH_SKIP_APT"):
        assert documented in usage.stdout, documented


def test_service_install_script_updates_apt_first_and_restarts_on_reinstall() -> None:
    text = INSTALL.read_text(encoding="utf-8")
    assert text.index("apt-get update") < text.index("apt-get install")
    assert "libatomic1" in text and "lgpio" in text  # vosk's native library on arm64; gpiozero's pins on a Pi 5
    assert "systemctl restart coach.service" in text and "enable --now" not in text


# --- the real process: what systemd and a person at a terminal do to it ------------------------------


def _kiosk_command(state: Path, events: Path, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "coach", "kiosk", "--no-voice", "--routines", "quick-start",
        "--state-dir", str(state), "--events", str(events), *extra,
    ]  # fmt: skip


def _env(home: Path) -> dict[str, str]:
    # No config, no NOTIFY_SOCKET; no speech model for English and no GPIO on this machine: as on the Debian box.
    env = {k: v for k, v in os.environ.items() if k not in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "GPIOZERO_PIN_FACTORY")}
    return {**env, "XDG_CONFIG_HOME": str(home), "COACH_CONFIG": "", "XDG_DATA_HOME": str(home), "PYTHONPATH": str(ROOT)}


def _wait_for(path: Path, kind: str, process: subprocess.Popen[str], seconds: float = 20.0) -> list[dict[str, object]]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        events = [json.loads(line) for line in path.read_text().splitlines() if line.endswith("}")] if path.exists() else []
        if any(e["type"] == kind for e in events):
            return events
        assert process.poll() is None, f"the kiosk exited ({process.returncode}) before {kind!r}"
        time.sleep(0.05)
    raise AssertionError(f"no {kind!r} event in {seconds} s")


def _history(coach_here: CoachHere, state: Path) -> str:
    result = coach_here("history", "--state-dir", str(state))
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_service_a_real_kiosk_waits_for_input_and_sigterm_ends_its_session_as_stopped(
    coach_here: CoachHere, tmp_path: Path
) -> None:
    """Two kiosks as systemd starts them (stdin /dev/null): one with nobody coming stays up; one with a
    session in progress is sent SIGTERM, records the session as stopped and exits 0."""
    home = tmp_path / "home"
    home.mkdir()
    script = tmp_path / "in.txt"
    script.write_text("0.2 start\n0.4 start\n", encoding="utf-8")  # woken, the first routine chosen
    idle_events, busy_events = tmp_path / "idle.jsonl", tmp_path / "busy.jsonl"
    start = dict(stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(home), cwd=ROOT)
    idle = subprocess.Popen(_kiosk_command(tmp_path / "idle", idle_events), **start)  # type: ignore[call-overload]
    busy = subprocess.Popen(_kiosk_command(tmp_path / "busy", busy_events, "--input-script", str(script)), **start)  # type: ignore[call-overload]
    try:
        _wait_for(busy_events, "session", busy)
        _wait_for(idle_events, "state", idle)
        busy.send_signal(signal.SIGTERM)
        _, busy_err = busy.communicate(timeout=20)
        time.sleep(0.3)
        assert idle.poll() is None, "a kiosk with no input must keep waiting"
        idle.send_signal(signal.SIGTERM)
        _, idle_err = idle.communicate(timeout=20)
    finally:
        for process in (idle, busy):
            if process.poll() is None:
                process.kill()
    assert busy.returncode == 0, busy_err
    assert "coach: kiosk stopped (SIGTERM)" in busy_err
    events = [json.loads(line) for line in busy_events.read_text().splitlines()]
    assert [e["status"] for e in events if e["type"] == "end"] == ["stopped"]
    table = _history(coach_here, tmp_path / "busy")
    assert "stopped" in table and "open" not in table and "interrupted" not in table, table
    assert idle.returncode == 0, idle_err
    assert "coach: kiosk stopped (SIGTERM)" in idle_err
    assert "trying again every 5 s" in idle_err  # what is missing is said, and retried


def test_service_ctrl_c_in_a_terminal_kiosk_ends_the_session_as_stopped(coach_here: CoachHere, tmp_path: Path) -> None:
    """A person at the kiosk's terminal: Enter wakes it, 1 chooses, Ctrl-C (the terminal's SIGINT) stops it."""
    home = tmp_path / "home"
    home.mkdir()
    events = tmp_path / "events.jsonl"
    pid, fd = pty.fork()
    if pid == 0:  # the child: the kiosk, with the pty as its controlling terminal
        os.chdir(ROOT)
        os.execvpe(sys.executable, _kiosk_command(tmp_path / "state", events), _env(home))
    output = bytearray()

    def read_for(seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            ready, _, _ = select.select([fd], [], [], 0.05)
            if ready:
                try:
                    output.extend(os.read(fd, 4096))
                except OSError:
                    return

    class Child:
        returncode: int | None = None

        def poll(self) -> int | None:
            if self.returncode is not None:
                return self.returncode
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                self.returncode = os.waitstatus_to_exitcode(status)
            return self.returncode

    child = Child()
    try:
        deadline = time.monotonic() + 20
        while not (events.exists() and '"state"' in events.read_text()) and time.monotonic() < deadline:
            read_for(0.05)
        os.write(fd, b"\n")  # Enter: wake
        read_for(0.1)
        os.write(fd, b"1\n")  # the first routine
        while '"session"' not in events.read_text() and time.monotonic() < deadline:
            read_for(0.05)
        read_for(0.1)
        os.write(fd, b"\x03")  # Ctrl-C
        while child.poll() is None and time.monotonic() < deadline:
            read_for(0.05)
    finally:
        if child.poll() is None:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        os.close(fd)
    text = output.decode(errors="replace")
    assert child.returncode == 0, text
    assert "coach: kiosk stopped (SIGINT)" in text and "Traceback" not in text
    ends = [json.loads(line) for line in events.read_text().splitlines() if '"end"' in line]
    assert [e["status"] for e in ends] == ["stopped"]
    table = _history(coach_here, tmp_path / "state")
    assert "stopped" in table and "open" not in table and "interrupted" not in table, table


def test_service_ctrl_c_in_coach_run_records_stopped_and_exits_130(coach_here: CoachHere, tmp_path: Path) -> None:
    """The same choice for ``coach run``: Ctrl-C means stop, recorded as ``stopped``, not ``interrupted``."""
    home = tmp_path / "home"
    home.mkdir()
    events = tmp_path / "events.jsonl"
    command = [sys.executable, "-m", "coach", "run", "quick-start", "--no-voice", "--state-dir", str(tmp_path / "state")]
    run = subprocess.Popen(
        [*command, "--events", str(events)], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, env=_env(home), cwd=ROOT,
    )  # fmt: skip
    try:
        _wait_for(events, "session", run)
        run.send_signal(signal.SIGINT)
        _, err = run.communicate(timeout=20)
    finally:
        if run.poll() is None:
            run.kill()
    assert run.returncode == 130 and "Traceback" not in err, err
    assert [json.loads(line)["status"] for line in events.read_text().splitlines() if '"end"' in line] == ["stopped"]
    table = _history(coach_here, tmp_path / "state")
    assert "stopped" in table and "interrupted" not in table and "open" not in table, table
