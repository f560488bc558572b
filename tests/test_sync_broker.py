"""Clinic sync against a real Mosquitto (Debian's ``mosquitto``), started on loopback ports for this module.

Several stations into one clinic store; the broker stopped and started again mid-stream; the receiver
restarted; duplicate deliveries; a wrong password; TLS with a test CA; nothing listening. Every record
must land in the clinic store exactly once, each station's in its order. One broker for the module
(plain, password and TLS listeners); everything waits by polling for the condition, never by a fixed sleep.
"""

from __future__ import annotations

import getpass
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from coach.cli import main as cli
from coach.core.records import RatingRecorded, Record, SessionEnded, SessionStarted
from coach.log.outbox import OutboxLog
from coach.log.store import Pending, Store, utc_now, wall_text
from coach.sync.link import Broker, MqttLink
from coach.sync.messages import record_message
from coach.sync.receive import ClinicReceiver
from coach.sync.station import Station, StationSync

MOSQUITTO = shutil.which("mosquitto") or shutil.which("mosquitto", path="/usr/sbin:/sbin")
"""Debian puts it in /usr/sbin, which a user's PATH may lack."""
pytestmark = pytest.mark.skipif(MOSQUITTO is None, reason="needs Debian's mosquitto package (apt-get install mosquitto)")

FAST = (0.05, 0.3)
"""Back-off for the tests: reconnect within a fraction of a second."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _until(condition: Callable[[], bool], seconds: float = 10.0, what: str = "condition") -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class Mosquitto:
    folder: Path
    plain: int = field(default_factory=_free_port)
    secured: int = field(default_factory=_free_port)
    tls: int = field(default_factory=_free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.plain}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [str(MOSQUITTO), "-c", str(self.folder / "mosquitto.conf")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        _until(lambda: all(_listening(p) for p in (self.plain, self.secured, self.tls)), 5.0, "mosquitto to listen")

    def stop(self, how: signal.Signals = signal.SIGTERM) -> None:
        if self.process is not None:
            self.process.send_signal(how)
            self.process.wait(5)
            self.process = None


def _tls_files(folder: Path) -> None:
    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True, timeout=30)

    curve = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")
    openssl("req", "-x509", *curve, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=coach test CA",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")  # fmt: skip
    openssl("req", *curve, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1")
    (folder / "ext.cnf").write_text(
        "subjectAltName=IP:127.0.0.1\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n"
        "authorityKeyIdentifier=keyid\n"
    )
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", "server.pem", "-days", "2", "-extfile", "ext.cnf")  # fmt: skip
    os.chmod(folder / "server.key", 0o600)


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mosquitto]:
    folder = tmp_path_factory.mktemp("mosquitto")
    _tls_files(folder)
    subprocess.run(["mosquitto_passwd", "-b", "-c", str(folder / "passwd"), "station", "right-horse"], check=True, timeout=10)
    server = Mosquitto(folder)
    (folder / "mosquitto.conf").write_text(
        f"""per_listener_settings true
user {getpass.getuser()}
persistence true
persistence_location {folder}/
log_dest none
max_queued_messages 100000
listener {server.plain} 127.0.0.1
allow_anonymous true
listener {server.secured} 127.0.0.1
allow_anonymous false
password_file {folder / "passwd"}
listener {server.tls} 127.0.0.1
allow_anonymous true
cafile {folder / "ca.pem"}
certfile {folder / "server.pem"}
keyfile {folder / "server.key"}
"""
    )
    server.start()
    yield server
    server.stop()


# --- helpers ---------------------------------------------------------------------------------------


def _station(folder: Path, sessions: int, ratings: int = 3) -> list[int]:
    """A station's log with ``sessions`` sessions; the ids of its records, in order."""
    store = Store(folder)  # the journal's own write path (records and outbox), a transaction a session
    ids: list[int] = []
    wall = wall_text(utc_now())
    for _ in range(sessions):
        records: list[Record] = [SessionStarted(0.0, "quick-start", "Quick start", "v1", "en")]
        records.extend(RatingRecorded(1.0 + n, n % 11, "answered", "keyboard", "before") for n in range(ratings))
        records.append(SessionEnded(30.0, "completed", 1, 1))
        ids.extend(store.write([Pending(record, wall) for record in records], "p1"))
    store.close()
    return ids


class Receiver:
    """``coach clinic receive`` in a thread (its own store connection), stopped by a flag."""

    def __init__(self, broker: Mosquitto, folder: Path, clinic: str) -> None:
        self.broker, self.folder, self.clinic = broker, folder, clinic
        self.stop = False
        self.thread: threading.Thread | None = None
        self.lines: list[str] = []

    def start(self) -> Receiver:
        self.stop = False
        ready = threading.Event()

        def run() -> None:
            store = Store(self.folder, may_set_aside=False)
            link = MqttLink(Broker(self.broker.url), f"coach-clinic-test-{self.clinic}", clean=False, manual_ack=True)
            receiver = ClinicReceiver(store, link, self.clinic, say=self._say(ready), backoff=FAST)
            try:
                receiver.serve(lambda: self.stop)
            finally:
                store.close()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        assert ready.wait(5), self.lines
        return self

    def _say(self, ready: threading.Event) -> Callable[[str], None]:
        def say(line: str) -> None:
            self.lines.append(line)
            if line.startswith("receiving"):
                ready.set()

        return say

    def halt(self) -> None:
        self.stop = True
        assert self.thread is not None
        self.thread.join(5)

    def rows(self) -> list[tuple[str, str]]:
        """(station, message id) of every record filed, in the clinic's order."""
        if not (self.folder / "coach.db").exists():
            return []
        with sqlite3.connect(self.folder / "coach.db", timeout=5) as conn:
            return conn.execute(
                "SELECT sessions.station, message_id FROM records JOIN sessions ON sessions.id = session_id ORDER BY records.id"
            ).fetchall()


def _config(folder: Path, clinic: str, station: str, url: str, *extra: str) -> Path:
    path = folder / f"{station}.yaml"
    path.write_text("\n".join(["sync:", f"  broker: {url}", f"  clinic: {clinic}", f"  station: {station}", *extra]) + "\n")
    return path


def _once(config: Path, state: Path, timeout: float = 3.0) -> int:
    return cli.main(["--config", str(config), "sync", "--once", "--timeout", str(timeout), "--state-dir", str(state)])


def _in_order(rows: list[tuple[str, str]], clinic: str, station: str, ids: list[int]) -> None:
    got = [mid for st, mid in rows if st == station]
    assert got == [f"{clinic}/{station}/{i}" for i in ids]  # each once, in the station's order


def _outbox(state: Path) -> int:
    with sqlite3.connect(state / "coach.db") as conn:
        return int(conn.execute("SELECT count(*) FROM outbox").fetchone()[0])


# --- tests --------------------------------------------------------------------------------------------


def test_sync_broker_several_stations_into_one_clinic_store(broker: Mosquitto, tmp_path: Path) -> None:
    receiver = Receiver(broker, tmp_path / "clinic", "c1").start()
    stations = {f"room-{n}": _station(tmp_path / f"room-{n}", sessions=2 + n) for n in range(3)}
    for name in stations:
        assert _once(_config(tmp_path, "c1", name, broker.url), tmp_path / name) == 0
        assert _outbox(tmp_path / name) == 0
    total = sum(len(ids) for ids in stations.values())
    _until(lambda: len(receiver.rows()) == total, what="every record in the clinic store")
    receiver.halt()
    rows = receiver.rows()
    for name, ids in stations.items():
        _in_order(rows, "c1", name, ids)
    assert len(rows) == total


class SlowLink(MqttLink):
    """A millisecond a publish, so 300 records take long enough for the broker to go away among them."""

    def publish(self, topic: str, payload: bytes, retain: bool = False) -> int:
        time.sleep(0.001)
        return super().publish(topic, payload, retain)


def test_sync_broker_restarted_mid_stream_everything_arrives_once_in_order(broker: Mosquitto, tmp_path: Path) -> None:
    receiver = Receiver(broker, tmp_path / "clinic", "c2").start()
    ids = _station(tmp_path / "st", sessions=60)  # 300 records
    stop = False
    syncer = StationSync(OutboxLog(tmp_path / "st"), SlowLink(Broker(broker.url), "coach-sync-c2-st"),
                         Station("c2", "st"), say=lambda line: None, backoff=FAST, idle_poll=0.05)  # fmt: skip
    sender = threading.Thread(target=syncer.serve, args=(lambda: stop,), daemon=True)
    sender.start()
    _until(lambda: syncer.sent >= 40, what="some records acknowledged")
    broker.stop()
    assert 0 < _outbox(tmp_path / "st") < len(ids)  # mid-stream: some sent, some not
    broker.start()
    _until(lambda: len(receiver.rows()) >= len(ids), 15.0, what="the rest after the restart")
    stop = True
    sender.join(5)
    receiver.halt()
    _in_order(receiver.rows(), "c2", "st", ids)
    assert _outbox(tmp_path / "st") == 0
    assert syncer.link.received() == []  # the station subscribes to nothing, so nothing came to it


def test_sync_broker_receiver_restarted_loses_nothing(broker: Mosquitto, tmp_path: Path) -> None:
    receiver = Receiver(broker, tmp_path / "clinic", "c3").start()
    config = _config(tmp_path, "c3", "st", broker.url)
    first = _station(tmp_path / "st", sessions=2)
    assert _once(config, tmp_path / "st") == 0
    _until(lambda: len(receiver.rows()) == len(first), what="the first batch")
    receiver.halt()
    later = _station(tmp_path / "st", sessions=3)  # sent while the clinic is not listening: the broker keeps it
    assert _once(config, tmp_path / "st") == 0
    receiver.start()
    _until(lambda: len(receiver.rows()) == len(first) + len(later), what="what was sent while it was away")
    receiver.halt()
    _in_order(receiver.rows(), "c3", "st", first + later)


def test_sync_broker_a_duplicate_delivery_is_one_row(broker: Mosquitto, tmp_path: Path) -> None:
    receiver = Receiver(broker, tmp_path / "clinic", "c4").start()
    ids = _station(tmp_path / "st", sessions=2)
    outbox = OutboxLog(tmp_path / "st")
    assert outbox.open()
    messages = [record_message("c4", "st", item) for item in outbox.backlog()]
    first, last = messages[:5], messages[5:]  # the first session's, then the second's (a marker: all before it is filed)
    link = MqttLink(Broker(broker.url), "coach-test-duplicates")
    link.connect(3.0)
    mids = [link.publish("coach/c4/st/records", payload) for payload in [*first, *first, first[1], *last]]
    acked: list[int] = []
    _until(lambda: bool(acked.extend(link.poll(0.05))) or set(mids) <= set(acked), what="the broker's acknowledgements")
    link.disconnect()
    _until(lambda: any(mid == f"c4/st/{ids[-1]}" for _, mid in receiver.rows()), what="the last record")
    receiver.halt()
    _in_order(receiver.rows(), "c4", "st", ids)


def test_sync_broker_wrong_password_is_one_line_and_keeps_the_backlog(
    broker: Mosquitto, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = _station(tmp_path / "st", sessions=1)
    secret = tmp_path / "pw"
    secret.write_text("wrong-horse\n")
    secret.chmod(0o600)
    url = f"mqtt://127.0.0.1:{broker.secured}"
    config = _config(tmp_path, "c5", "st", url, "  username: station", f"  password_file: {secret}")
    assert _once(config, tmp_path / "st") == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "did not let us in" in err[0] and "wrong-horse" not in err[0], err
    assert _outbox(tmp_path / "st") == len(ids)
    secret.write_text("right-horse\n")
    assert _once(config, tmp_path / "st") == 0 and _outbox(tmp_path / "st") == 0


def test_sync_broker_tls_with_a_test_ca(broker: Mosquitto, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    receiver = Receiver(broker, tmp_path / "clinic", "c6").start()
    ids = _station(tmp_path / "st", sessions=2)
    url = f"mqtts://127.0.0.1:{broker.tls}"
    stranger = tmp_path / "other-ca.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", str(tmp_path / "other.key"), "-out", str(stranger), "-days", "1", "-subj", "/CN=other"],
                   check=True, capture_output=True, timeout=30)  # fmt: skip
    assert _once(_config(tmp_path, "c6", "st", url, f"  ca_file: {stranger}"), tmp_path / "st") == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "TLS" in err[0], err
    assert _once(_config(tmp_path, "c6", "st", url, f"  ca_file: {broker.folder / 'ca.pem'}"), tmp_path / "st") == 0
    _until(lambda: len(receiver.rows()) == len(ids), what="the records sent over TLS")
    receiver.halt()
    _in_order(receiver.rows(), "c6", "st", ids)


def test_sync_broker_nothing_listening_is_one_line_and_quick(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ids = _station(tmp_path / "st", sessions=1)
    began = time.monotonic()
    assert _once(_config(tmp_path, "c7", "st", f"mqtt://127.0.0.1:{_free_port()}"), tmp_path / "st", timeout=1.0) == 1
    assert time.monotonic() - began < 3.0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("coach sync: cannot reach the broker at mqtt://127.0.0.1:"), err
    assert _outbox(tmp_path / "st") == len(ids)


def test_sync_broker_status_is_retained_and_says_offline_when_done(broker: Mosquitto, tmp_path: Path) -> None:
    _station(tmp_path / "st", sessions=1)
    assert _once(_config(tmp_path, "c8", "st", broker.url, "  home_assistant: true"), tmp_path / "st") == 0
    link = MqttLink(Broker(broker.url), "coach-test-status")
    link.connect(3.0)
    link.subscribe("coach/c8/st/status")
    link.subscribe("homeassistant/sensor/coach_c8_st/+/config")
    seen: dict[str, bytes] = {}

    def all_seen() -> bool:
        link.poll(0.05)
        seen.update({m.topic: m.payload for m in link.received()})
        return len(seen) >= 7  # the status and six sensors

    _until(all_seen, what="the retained status and discovery")
    link.disconnect()
    status = json.loads(seen["coach/c8/st/status"])
    assert status["state"] == "offline" and status["activity"] == "idle" and status["sessions_this_week"] == 1
    assert status["pain_before"] == 0 and status["backlog"] == 0


def test_sync_broker_the_commands_run_until_sigterm_and_exit_cleanly(broker: Mosquitto, tmp_path: Path) -> None:
    """``coach clinic receive`` and ``coach sync`` as the services run them: records flow, SIGTERM ends both with 0."""
    import sys

    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    ids = _station(tmp_path / "st", sessions=2)
    config = _config(tmp_path, "c9", "st", broker.url)
    coach = [sys.executable, "-m", "coach"]
    receive = subprocess.Popen([*coach, "clinic", "receive", "--broker", broker.url, "--clinic", "c9", "--state-dir",
                                str(tmp_path / "clinic")], env=env, stderr=subprocess.PIPE, text=True)  # fmt: skip
    sync = None
    try:
        assert receive.stderr is not None
        assert "receiving coach/c9/+/records" in receive.stderr.readline()  # subscribed: now the station may send
        sync = subprocess.Popen([*coach, "--config", str(config), "sync", "--state-dir", str(tmp_path / "st")], env=env,
                                stderr=subprocess.PIPE, text=True)  # fmt: skip
        clinic = Receiver(broker, tmp_path / "clinic", "c9")
        _until(lambda: len(clinic.rows()) == len(ids), what="the records through the real commands")
    finally:
        for process in (sync, receive):
            if process is not None:
                process.send_signal(signal.SIGTERM)
    assert sync is not None and sync.wait(5) == 0 and receive.wait(5) == 0
    assert sync.stderr is not None and "connected to" in sync.stderr.read()
    _in_order(clinic.rows(), "c9", "st", ids)
