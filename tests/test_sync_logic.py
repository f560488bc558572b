"""Clinic sync without a broker: the ordered-acknowledgement window, the station loop over a fake link,
the clinic's filing (once each, sessions rebuilt), the messages, the settings and the password file."""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest

from coach.cli import main as cli
from coach.core.records import RatingRecorded, SessionEnded, SessionStarted
from coach.errors import ConfigError
from coach.log.outbox import OutboxLog, Outgoing
from coach.log.remote import store_remote
from coach.log.store import SqliteJournal, Store
from coach.spec.config import load_settings, parse_broker
from coach.sync.link import Message, SyncError, read_password
from coach.sync.messages import discovery_messages, parse_record, record_message
from coach.sync.receive import ClinicReceiver
from coach.sync.station import Station, StationSync, sound_problem
from coach.sync.window import AckWindow

# --- the window -------------------------------------------------------------------------------------


def test_sync_window_releases_only_the_acknowledged_prefix_in_order() -> None:
    window = AckWindow(3)
    for mid, record in ((11, 1), (12, 2), (13, 3)):
        window.sent(mid, record)
    assert window.room() == 0
    window.acked(13)
    window.acked(12)
    assert window.take_done() == []  # 1 is not acknowledged: nothing may leave the outbox yet
    window.acked(11)
    assert window.take_done() == [1, 2, 3]
    assert window.room() == 3


def test_sync_window_forgets_the_flight_on_reset_and_refuses_out_of_order() -> None:
    window = AckWindow(4)
    window.sent(1, 5)
    window.sent(2, 6)
    window.acked(99)  # a status message's acknowledgement: not a record's
    window.reset()
    assert window.in_flight() == 0 and window.last_sent == 0 and window.take_done() == []
    window.sent(3, 5)
    with pytest.raises(ValueError):
        window.sent(4, 5)


# --- the station loop over a fake link -----------------------------------------------------------------


class FakeLink:
    """A broker connection that acknowledges what the test says, and can drop."""

    def __init__(self, ack: bool = True, drop_after: int | None = None) -> None:
        self.ack_all = ack
        self.drop_after = drop_after
        self.published: list[tuple[str, bytes, bool]] = []
        self.subscribed: list[str] = []
        self.connects = 0
        self._mid = 0
        self._pending: list[int] = []
        self.up = False

    @property
    def connected(self) -> bool:
        return self.up

    def connect(self, timeout: float) -> None:
        self.connects += 1
        self.up = True

    def publish(self, topic: str, payload: bytes, retain: bool = False) -> int:
        self._mid += 1
        self.published.append((topic, payload, retain))
        if self.drop_after is not None and len(self.records()) > self.drop_after:
            self.up, self.drop_after = False, None  # this one never reaches the broker
        elif self.up:
            self._pending.append(self._mid)
        return self._mid

    def subscribe(self, topic: str) -> None:
        self.subscribed.append(topic)

    def poll(self, seconds: float) -> list[int]:
        acked, self._pending = (self._pending, []) if self.ack_all and self.up else ([], self._pending)
        return acked

    def received(self) -> list[Message]:
        return []

    def ack(self, mid: int) -> None:
        pass

    def disconnect(self) -> None:
        self.up = False

    def records(self) -> list[dict[str, object]]:
        return [json.loads(p) for t, p, _ in self.published if t.endswith("/records")]


def _station_log(folder: Path, sessions: int = 2) -> list[int]:
    journal = SqliteJournal(folder, profile="p1")
    ids: list[int | None] = []
    for n in range(sessions):
        ids.append(journal.append(SessionStarted(0.0, "quick-start", "Quick start", "v1", "en")))
        ids.append(journal.append(RatingRecorded(1.0, 3 + n, "answered", "keyboard", "before")))
        ids.append(journal.append(SessionEnded(9.0, "completed", 1, 1)))
    journal.close()
    assert all(i is not None for i in ids)
    return [i for i in ids if i is not None]


def _syncer(folder: Path, link: FakeLink, window: int = 4, **station: bool) -> StationSync:
    return StationSync(OutboxLog(folder), link, Station("north", "room-1", **station), window=window, problem=lambda: "none")


def test_sync_once_sends_in_order_with_stable_ids_and_empties_the_outbox(tmp_path: Path) -> None:
    ids = _station_log(tmp_path)
    link = FakeLink()
    assert _syncer(tmp_path, link).send_once(1.0) == len(ids)
    sent = link.records()
    assert [m["record_id"] for m in sent] == ids
    assert [m["message_id"] for m in sent] == [f"north/room-1/{i}" for i in ids]
    assert sqlite3.connect(tmp_path / "coach.db").execute("SELECT count(*) FROM outbox").fetchone() == (0,)
    assert link.subscribed == []  # read-only: the station listens to nothing
    status = [json.loads(p) for t, p, retain in link.published if t == "coach/north/room-1/status" and retain]
    assert status[-1]["state"] == "offline" and status[-1]["backlog"] == 0 and status[-1]["pain_before"] == 4


def test_sync_keeps_unacknowledged_records_in_the_outbox(tmp_path: Path) -> None:
    ids = _station_log(tmp_path)
    link = FakeLink(ack=False)
    with pytest.raises(SyncError, match="acknowledged nothing"):
        _syncer(tmp_path, link).send_once(0.3)
    left = [row[0] for row in sqlite3.connect(tmp_path / "coach.db").execute("SELECT record_id FROM outbox ORDER BY 1")]
    assert left == ids


def test_sync_after_a_dropped_connection_starts_again_at_the_first_unacknowledged(tmp_path: Path) -> None:
    ids = _station_log(tmp_path, sessions=3)
    link = FakeLink(drop_after=5)
    assert _syncer(tmp_path, link, window=3).send_once(2.0) == len(ids)
    assert link.connects == 2
    sent = [m["record_id"] for m in link.records()]
    # 1-3 acknowledged; 4 and 5 sent but never acknowledged, 6 lost with the connection: the second
    # connection starts again at 4, in order (the broker may then hold 4 and 5 twice; the clinic drops them).
    assert sent == [*ids[:6], *ids[3:]]


def test_sync_serve_never_subscribes_and_stops_when_asked(tmp_path: Path) -> None:
    ids = _station_log(tmp_path)
    link = FakeLink()
    syncer = _syncer(tmp_path, link, home_assistant=True)
    polls = iter(range(50))
    syncer.serve(lambda: next(polls) > 30, sleep=lambda s: None)
    assert [m["record_id"] for m in link.records()] == ids and link.subscribed == []
    topics = [t for t, _, _ in link.published]
    assert any(t.startswith("homeassistant/sensor/coach_north_room-1/") for t in topics)
    assert json.loads(link.published[-1][1])["state"] == "offline"


def test_sync_home_assistant_discovery_is_sensors_only_reading_the_status() -> None:
    messages = discovery_messages("north", "room 1")
    assert {t.split("/")[3] for t, _ in messages} >= {"pain_before", "pain_after", "sessions_this_week", "activity", "problem"}
    for topic, payload in messages:
        config = json.loads(payload)
        assert topic.startswith("homeassistant/sensor/coach_north_room_1/") and topic.endswith("/config")
        assert config["state_topic"] == "coach/north/room 1/status"
        assert not [key for key in config if "command" in key]  # nothing Home Assistant could send back


def test_sync_problem_names_the_missing_sound_device(tmp_path: Path) -> None:
    pcm = tmp_path / "pcm"
    assert sound_problem(True, pcm) == "no audio output"
    pcm.write_text("00-00: bcm2835 Headphones : bcm2835 Headphones : playback 8\n")
    assert sound_problem(True, pcm) == "no microphone" and sound_problem(False, pcm) == "none"
    pcm.write_text(pcm.read_text() + "01-00: USB Audio : USB Audio : capture 1\n")
    assert sound_problem(True, pcm) == "none"


# --- the clinic's filing -------------------------------------------------------------------------------


def _messages(folder: Path, station: str = "room-1") -> list[Message]:
    outbox = OutboxLog(folder)
    assert outbox.open()
    topic = f"coach/north/{station}/records"
    return [Message(n, topic, record_message("north", station, item, fhir=True)) for n, item in enumerate(outbox.backlog(), 1)]


def test_sync_clinic_files_each_record_once_under_its_station(tmp_path: Path) -> None:
    _station_log(tmp_path / "a")
    _station_log(tmp_path / "b", sessions=1)
    clinic = Store(tmp_path / "clinic")
    receiver = ClinicReceiver(clinic, FakeLink(), say=lambda line: None)
    a, b = _messages(tmp_path / "a"), _messages(tmp_path / "b", "room-2")
    assert receiver.take(a[:4]) and receiver.take(b) and receiver.take(a)  # a[:4] again: duplicates
    assert (receiver.stored, receiver.duplicates) == (9, 4)
    rows = clinic.conn.execute("SELECT station, profile, status, count(*) FROM sessions GROUP BY id ORDER BY id").fetchall()
    assert rows == [("room-1", "p1", "completed", 1), ("room-1", "p1", "completed", 1), ("room-2", "p1", "completed", 1)]
    per = clinic.conn.execute(
        "SELECT sessions.station, count(*) FROM records JOIN sessions ON sessions.id = session_id GROUP BY 1 ORDER BY 1"
    ).fetchall()
    assert per == [("room-1", 6), ("room-2", 3)]
    value = clinic.conn.execute("SELECT value FROM records WHERE message_id = 'north/room-2/2'").fetchone()
    assert value == (3,)
    clinic.close()


def test_sync_clinic_rebuilds_a_session_whose_first_record_it_missed(tmp_path: Path) -> None:
    _station_log(tmp_path / "a", sessions=1)
    clinic = Store(tmp_path / "clinic")
    items = [parse_record(m.topic, m.payload) for m in _messages(tmp_path / "a")]
    assert store_remote(clinic, items[1:]) == 2
    rows = clinic.conn.execute("SELECT kind, message_id, session_id FROM records ORDER BY id").fetchall()
    session = rows[0][2]
    assert rows == [
        ("session", "north/room-1/1", session),
        ("rating", "north/room-1/2", session),
        ("session_end", "north/room-1/3", session),
    ]
    assert store_remote(clinic, items[:1]) == 0  # the real first record, late: its id is taken by the stand-in
    clinic.close()


def test_sync_clinic_refuses_records_that_are_not_the_topics_station(tmp_path: Path) -> None:
    good = record_message("north", "room-1", _item(), False)
    with pytest.raises(ValueError, match="is not"):
        parse_record("coach/north/room-2/records", good)
    with pytest.raises(ValueError, match="not JSON"):
        parse_record("coach/north/room-1/records", b"\xff")
    with pytest.raises(ValueError, match="kind"):
        parse_record("coach/north/room-1/records", good.replace(b'"kind":"rating"', b'"kind":"DROP TABLE"'))
    assert parse_record("coach/north/room-1/records", good).message_id == "north/room-1/7"


def _item() -> Outgoing:
    return Outgoing(7, "rating", "2026-01-01T00:00:00.000Z", {"at": 1.0, "value": 3}, None)


def test_sync_fhir_option_carries_a_rating_as_an_observation() -> None:
    plain = json.loads(record_message("north", "room-1", _item(), fhir=False))
    body = json.loads(record_message("north", "room-1", _item(), fhir=True))
    assert "observation" not in plain and body["fields"] == plain["fields"]
    observation = body["observation"]
    assert observation["resourceType"] == "Observation" and observation["valueInteger"] == 3
    assert observation["code"]["coding"][0]["code"] == "72514-3"
    assert observation["identifier"][0]["value"] == "north/room-1/7"
    unanswered = Outgoing(8, "rating", "2026-01-01T00:00:00.000Z", {"at": 1.0, "status": "no-answer"}, None)
    assert "observation" not in json.loads(record_message("north", "room-1", unanswered, fhir=True))


# --- settings and secrets ------------------------------------------------------------------------------------


SECTION = "sync:\n  broker: mqtt://b:1883\n  clinic: north\n  station: s1\n  username: u\n"


def _config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("broker: http://x:1", "must be mqtt://host:port"),
        ("broker: mqtt://x:0", "between 1 and 65535"),
        ("broker: mqtt://user@x:1", "no path, user"),
    ],
)
def test_sync_config_refuses_a_bad_broker_at_its_line(tmp_path: Path, line: str, problem: str) -> None:
    path = _config(tmp_path, f"sync:\n  clinic: north\n  station: s1\n  {line}\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert caught.value.problems == [caught.value.problems[0]] and caught.value.problems[0].startswith(f"{path}:4: broker: ")
    assert problem in caught.value.problems[0]


def test_sync_config_ids_must_be_topic_segments(tmp_path: Path) -> None:
    path = _config(tmp_path, "sync:\n  broker: mqtts://b.example\n  clinic: 'north/+'\n  station: '#'\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert [line.split(": ")[0:2] for line in caught.value.problems] == [[f"{path}:3", "clinic"], [f"{path}:4", "station"]]
    assert parse_broker("mqtts://b.example") == ("mqtts", "b.example", 8883)


def test_sync_config_never_prints_the_password(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    secret = tmp_path / "pw"
    secret.write_text("s3cret-horse\n")
    secret.chmod(0o600)
    path = _config(tmp_path, SECTION + f"  password_file: {secret}\n")
    assert cli.main(["--config", str(path), "config"]) == 0
    out = capsys.readouterr().out
    assert f"sync.password_file = {secret}" in out and "s3cret" not in out
    assert "s3cret" not in repr(load_settings(path).settings)
    assert read_password(str(secret)) == "s3cret-horse"


def test_sync_password_file_others_may_read_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    secret = tmp_path / "pw"
    secret.write_text("s3cret\n")
    secret.chmod(0o640)
    path = _config(tmp_path, SECTION + f"  password_file: {secret}\n")
    assert cli.main(["--config", str(path), "sync", "--once", "--state-dir", str(tmp_path / "state")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"{path}:6: password_file: {secret}: others may read it (mode 640)"), err
    assert "s3cret" not in err[0]
    os.symlink(secret, tmp_path / "link")
    with pytest.raises(SyncError, match="not a plain file"):
        read_password(str(tmp_path / "link"))


def test_sync_without_a_sync_section_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _config(tmp_path, "language: en\n")
    assert cli.main(["--config", str(path), "sync", "--once"]) == 2
    assert capsys.readouterr().err.strip() == f"{path}: no 'sync:' section with broker, clinic and station; nothing to sync to"


# --- the unit ----------------------------------------------------------------------------------------

SYNC_UNIT = Path(__file__).resolve().parents[1] / "systemd" / "coach-sync.service"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd-analyze")
def test_sync_unit_exposure_is_2_or_lower() -> None:
    result = subprocess.run(
        ["systemd-analyze", "security", "--offline=yes", str(SYNC_UNIT)], capture_output=True, text=True, timeout=60, check=False
    )
    match = re.search(r"Overall exposure level for coach-sync\.service: ([0-9.]+)", result.stdout)
    assert match, result.stdout + result.stderr
    assert float(match.group(1)) <= 2.0


def test_sync_unit_has_the_network_and_no_devices_and_writes_only_the_state_dir() -> None:
    lines = [line.strip() for line in SYNC_UNIT.read_text().splitlines() if line.strip() and not line.startswith("#")]
    assert "ExecStart=/opt/coach/.venv/bin/coach sync" in lines and "User=coach" in lines
    assert "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX" in lines and "PrivateNetwork=yes" not in lines
    assert {"PrivateDevices=yes", "DevicePolicy=closed", "ProtectSystem=strict", "CapabilityBoundingSet="} <= set(lines)
    assert not [line for line in lines if line.startswith(("DeviceAllow=", "ReadWritePaths=", "SupplementaryGroups="))]
    assert "StateDirectory=coach" in lines  # the one writable place: /var/lib/coach


def test_sync_password_file_is_read_through_the_safe_reader_capped(tmp_path: Path) -> None:
    huge = tmp_path / "huge"
    huge.write_text("x" * 10_000)
    huge.chmod(0o600)
    with pytest.raises(SyncError, match="password_file: .*huge:0: file is too large"):
        read_password(str(huge))
