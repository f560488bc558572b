#!/usr/bin/env python3
"""The kill test with ``coach sync`` running: the kiosk's log stays sound and the clinic gets it all, once.

Starts ``mosquitto`` on a free loopback port, ``coach clinic receive`` and ``coach sync`` (the service's
way, until SIGTERM) on one state folder, then runs ``bench/kill_test.py --keep`` on that folder
(``coach run`` SIGKILLed at random moments, the announced records checked after each kill). Then it
waits for the outbox to drain and checks that the clinic store holds every record of the station's log
exactly once, under the same ids, and that ``coach sync`` is still running (it was never in the way).

    python bench/sync_kill.py                 # 50 kills
    python bench/sync_kill.py --kills 200
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rows(db: Path, query: str) -> list[tuple[object, ...]]:
    if not db.exists():
        return []
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
        return conn.execute(query).fetchall()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=50)
    parser.add_argument("--speed", type=float, default=50.0)
    args = parser.parse_args()
    mosquitto = shutil.which("mosquitto") or shutil.which("mosquitto", path="/usr/sbin:/sbin")
    if mosquitto is None:
        raise SystemExit("needs mosquitto (apt-get install mosquitto)")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    coach = [sys.executable, "-m", "coach"]
    with tempfile.TemporaryDirectory(prefix="sync-kill-") as tmp:
        base = Path(tmp)
        port = free_port()
        (base / "m.conf").write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest none\n")
        url = f"mqtt://127.0.0.1:{port}"
        (base / "sync.yaml").write_text(f"sync:\n  broker: {url}\n  clinic: k\n  station: kiosk\n")
        state = base / "state"
        state.mkdir(mode=0o700)
        broker = subprocess.Popen([mosquitto, "-c", str(base / "m.conf")])
        time.sleep(0.3)
        receiver = subprocess.Popen([*coach, "clinic", "receive", "--broker", url, "--state-dir", str(base / "clinic")], env=env)
        time.sleep(1.0)
        sync_log = open(base / "sync.err", "w")  # noqa: SIM115 - kept open for the child's life
        syncer = subprocess.Popen([*coach, "--config", str(base / "sync.yaml"), "sync", "--state-dir", str(state)],
                                  env=env, stderr=sync_log)  # fmt: skip
        try:
            kill = subprocess.run([sys.executable, str(ROOT / "bench" / "kill_test.py"), "--kills", str(args.kills),
                                   "--speed", str(args.speed), "--keep", str(state)], env=env, check=False)  # fmt: skip
            began = time.monotonic()
            while rows(state / "coach.db", "SELECT count(*) FROM outbox")[0][0] and time.monotonic() - began < 60:
                time.sleep(0.2)
            station = rows(state / "coach.db", "SELECT id, kind FROM records ORDER BY id")
            expected = {(f"k/kiosk/{i}", kind) for i, kind in station}
            for _ in range(100):
                clinic = rows(base / "clinic" / "coach.db", "SELECT message_id, kind FROM records WHERE message_id IS NOT NULL")
                if len(clinic) >= len(expected):
                    break
                time.sleep(0.1)
            alive = syncer.poll() is None
            got = set(clinic)
            print(f"kill test exit {kill.returncode}; station log: {len(station)} records; clinic: {len(clinic)} rows, "
                  f"{len(got)} distinct; missing {len(expected - got)}, unexpected {len(got - expected)}; "
                  f"coach sync still running: {alive}")  # fmt: skip
            ok = kill.returncode == 0 and got == expected and len(clinic) == len(got) and alive
            return 0 if ok else 1
        finally:
            for process in (syncer, receiver, broker):
                process.send_signal(signal.SIGTERM)
                process.wait(10)
            sync_log.close()
            print("coach sync said:", (base / "sync.err").read_text().strip().replace("\n", " | ")[:500])


if __name__ == "__main__":
    sys.exit(main())
