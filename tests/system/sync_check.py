"""Check 5 of the system test (issue 16): coach-sync.service on the real systemd sends the station's log to a
real Mosquitto, and the clinic's receiver files every record once.

The broker and the clinic's receiver (`coach clinic receive`, from the checkout's own venv) run on the host,
on a loopback port; the container shares the host's network, so the unit reaches them as a Pi on a clinic's
network would reach its broker, through its own sandbox (RestrictAddressFamilies, ProtectSystem=strict,
no devices). The config gets a `sync:` section and `systemd/install.sh` is run again, so the unit is
installed the way a clinic installs it. Passing means: the unit is active with no restart, the clinic store
holds exactly the station's records, each naming the station, the station's outbox is empty, and
`systemd-analyze security` rates the installed unit at most 2.0.
"""

from __future__ import annotations

import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from container import Container, wait_for

SYNC_UNIT = "coach-sync.service"
STATION = "pi-1"
CLINIC = "systest"
MAX_EXPOSURE = 2.0
COUNT = (
    "import sqlite3, sys; c = sqlite3.connect('file:/var/lib/coach/coach.db?mode=ro', uri=True); "
    "print(c.execute('SELECT count(*) FROM records').fetchone()[0], c.execute('SELECT count(*) FROM outbox').fetchone()[0])"
)
"""Run by the installed coach's Python inside: the station's records and what is still in its outbox."""


class Checks(Protocol):
    def check(self, name: str, ok: bool, detail: str) -> None: ...


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _stop(process: subprocess.Popen[bytes] | None) -> None:
    if process is not None and process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def check_sync(c: Container, report: Checks, checkout: Path, reinstall: Callable[[], bool], info: Callable[[str], None]) -> None:
    name = "5 clinic sync"
    coach = checkout / ".venv" / "bin" / "coach"
    if shutil.which("mosquitto") is None and not Path("/usr/sbin/mosquitto").exists():
        report.check(name, False, "not run: no mosquitto on the host (apt-get install mosquitto)")
        return
    if not coach.exists():
        report.check(name, False, f"not run: no {coach} for the clinic's receiver (the README's test command makes it)")
        return
    work = Path(tempfile.mkdtemp(prefix="coach-systest-clinic-"))
    broker = receiver = None
    try:
        port = _free_port()
        (work / "mosquitto.conf").write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
        mosquitto = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        quiet = subprocess.DEVNULL
        broker = subprocess.Popen([mosquitto, "-c", str(work / "mosquitto.conf")], stdout=quiet, stderr=quiet)
        if not wait_for(lambda: _listening(port), 10, 0.1):
            report.check(name, False, f"the test broker did not listen on 127.0.0.1:{port}")
            return
        url = f"mqtt://127.0.0.1:{port}"
        clinic = work / "clinic"
        with open(work / "receive.log", "w") as log:  # the child keeps its own copy of the descriptor
            receiver = subprocess.Popen([str(coach), "clinic", "receive", "--broker", url, "--state-dir", str(clinic)],
                                        stdout=subprocess.DEVNULL, stderr=log)  # fmt: skip
        time.sleep(2.0)  # subscribed before the station sends (the broker keeps messages only for a session it knows)
        config = c.run(["cat", "/etc/coach/config.yaml"], timeout=10).stdout
        config += f"\nsync:\n  broker: {url}\n  clinic: {CLINIC}\n  station: {STATION}\n"
        c.run(["install", "-m", "0644", "/dev/stdin", "/etc/coach/config.yaml"], timeout=10, stdin=config)
        started = time.monotonic()
        if not reinstall():
            report.check(name, False, "systemd/install.sh with a sync: section failed")
            return
        info(f"systemd/install.sh again, with a sync: section: {time.monotonic() - started:.1f} s")
        python = "/opt/coach/.venv/bin/python"
        station: list[int] = []

        def delivered() -> bool:
            done = c.run(["runuser", "-u", "coach", "--", python, "-c", COUNT], timeout=20)
            station[:] = [int(x) for x in done.stdout.split()] if done.returncode == 0 else []
            return len(station) == 2 and station[1] == 0 and _clinic_records(clinic) == station[0] > 0

        arrived = wait_for(delivered, 90, 1.0)
        props = dict(line.split("=", 1) for line in c.run(
            ["systemctl", "show", "-p", "ActiveState,SubState,NRestarts,MainPID", SYNC_UNIT], timeout=20
        ).stdout.splitlines() if "=" in line)  # fmt: skip
        stations = _clinic_stations(clinic)
        exposure = _exposure(c)
        running = props.get("ActiveState") == "active" and props.get("SubState") == "running" and props.get("NRestarts") == "0"
        counts = f"station {station[0] if station else '?'} records, outbox {station[1] if station else '?'}"
        filed = f"clinic store {_clinic_records(clinic)} records from stations {sorted(stations)}"
        ok = arrived and running and stations == {STATION} and exposure is not None and exposure <= MAX_EXPOSURE
        detail = (f"{SYNC_UNIT} {props.get('ActiveState')} ({props.get('SubState')}), NRestarts={props.get('NRestarts')}; "
                  f"{counts}; {filed}; systemd-analyze security {exposure}")  # fmt: skip
        report.check(name, ok, detail)
        if not ok:
            journal = c.run(["journalctl", "--no-pager", "-u", SYNC_UNIT, "-n", "30"], timeout=20).stdout
            print(journal + (work / "receive.log").read_text(errors="replace")[-2000:], flush=True)
    finally:
        _stop(receiver)
        _stop(broker)
        shutil.rmtree(work, ignore_errors=True)


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _clinic(clinic: Path, query: str) -> list[tuple[Any, ...]]:
    """Rows of ``query`` on the clinic store, read-only; none while it does not exist yet (or is busy)."""
    try:
        conn = sqlite3.connect(f"file:{clinic / 'coach.db'}?mode=ro", uri=True, timeout=5)
        try:
            return conn.execute(query).fetchall()
        finally:
            conn.close()
    except sqlite3.Error:
        return []


def _clinic_records(clinic: Path) -> int:
    rows = _clinic(clinic, "SELECT count(*) FROM records WHERE message_id IS NOT NULL")
    return int(rows[0][0]) if rows else 0


def _clinic_stations(clinic: Path) -> set[str]:
    return {str(row[0]) for row in _clinic(clinic, "SELECT DISTINCT station FROM sessions")}


def _exposure(c: Container) -> float | None:
    """``systemd-analyze security``'s overall exposure of the installed unit, on this systemd."""
    done = c.run(["systemd-analyze", "security", "--no-pager", SYNC_UNIT], timeout=60)
    found = re.search(r"Overall exposure level for \S+: ([\d.]+)", done.stdout)
    return float(found.group(1)) if found else None

