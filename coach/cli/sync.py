"""``coach sync``: this station's session log to the clinic's MQTT broker (the ``sync:`` config section).

``coach sync --once`` sends the backlog and exits: 0 when every record is acknowledged, 1 with one line
when the broker cannot be reached or stops answering (the backlog is kept for next time), 2 for a
setting that cannot work (no ``sync:`` section, a password file others may read). ``coach sync`` keeps
sending as records come, reconnecting on its own, until SIGTERM (``systemd/coach-sync.service``).
One ``coach sync`` per state folder (``sync.lock``): two would send the same records side by side.
"""

from __future__ import annotations

import argparse
import errno
import fcntl
import os
import signal
import sys
from pathlib import Path
from types import FrameType
from typing import Any

from coach.errors import CoachError
from coach.log.journal import ensure_private_dir, resolve_state_dir
from coach.log.outbox import OutboxLog
from coach.spec.config import LoadedSettings, load_settings
from coach.sync.link import Broker, MqttLink, SyncError, read_password
from coach.sync.messages import status_message
from coach.sync.station import Station, StationSync, sound_problem

LOCK_NAME = "sync.lock"


def register(commands: Any) -> None:
    sync = commands.add_parser(
        "sync",
        help="send the session log to the clinic's MQTT broker",
        description="Publish this station's records to the broker in the config's 'sync:' section, in order, "
        "each taken off the outbox only once the broker acknowledged it. Runs until SIGTERM; --once sends the backlog and exits.",
    )
    sync.add_argument("--once", action="store_true", help="send the backlog, then exit (0: all sent; 1: broker unreachable)")
    sync.add_argument("--timeout", type=float, default=5.0, metavar="S", help="with --once: seconds to wait for the broker")
    sync.add_argument("--state-dir", metavar="DIR", help="the session log's folder (default: as for 'coach run')")
    sync.add_argument("--config", metavar="FILE", default=argparse.SUPPRESS, help="config file (as before the command)")
    sync.set_defaults(handler=cmd_sync)


def broker_of(loaded: LoadedSettings) -> Broker:
    """The configured broker, with the config lines of its files for the one line a problem gets."""
    sync = loaded.settings.sync
    if sync.broker is None or sync.clinic is None or sync.station is None:
        name = str(loaded.path) if loaded.path else "no config file"
        raise CoachError(f"{name}: no 'sync:' section with broker, clinic and station; nothing to sync to")
    where = {name: loaded.sources.get(f"sync.{name}", "") for name in ("password_file", "ca_file")}
    broker = Broker(sync.broker, sync.username, sync.password_file, sync.ca_file, where)
    if broker.password_file is not None:
        read_password(broker.password_file, where["password_file"])  # a file others may read is refused now, not at each retry
    return broker


def cmd_sync(args: argparse.Namespace) -> int:
    loaded = load_settings(getattr(args, "config", None))
    broker = broker_of(loaded)
    sync = loaded.settings.sync
    assert sync.clinic is not None and sync.station is not None
    folder = resolve_state_dir(args.state_dir, loaded.settings.state_dir)
    ensure_private_dir(folder)  # the folder (0700) for the lock; the log itself is the kiosk's to create
    lock = _take_lock(folder)
    station = Station(sync.clinic, sync.station, sync.fhir, sync.home_assistant, loaded.settings.recognition.enabled)
    will = (f"coach/{sync.clinic}/{sync.station}/status", status_message(sync.station, None, None, online=False))
    link = MqttLink(broker, f"coach-sync-{sync.clinic}-{sync.station}", will=will, keepalive=30 if not args.once else 10)
    outbox = OutboxLog(folder)
    syncer = StationSync(outbox, link, station, problem=lambda: sound_problem(station.microphone))
    try:
        if args.once:
            try:
                sent = syncer.send_once(args.timeout)
            except SyncError as exc:
                print(f"coach sync: {exc.problems[0]}", file=sys.stderr)
                return 1
            print(f"coach sync: {sent} records sent to {broker.url}", file=sys.stderr)
            return 0
        stop = _Stop()
        syncer.serve(stop)
        return 0
    finally:
        outbox.close()
        os.close(lock)


class _Stop:
    """SIGTERM, SIGINT or SIGHUP asks the loop to finish: say offline, disconnect, exit 0."""

    def __init__(self) -> None:
        self.asked = False
        for number in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(number, self._ask)

    def _ask(self, number: int, frame: FrameType | None) -> None:
        self.asked = True

    def __call__(self) -> bool:
        return self.asked


def _take_lock(folder: Path) -> int:
    path = folder / LOCK_NAME
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        raise CoachError(f"{path}: cannot open the sync lock: {exc.strerror or exc}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        os.close(fd)
        if exc.errno in (errno.EAGAIN, errno.EACCES):
            raise CoachError(f"{folder}: another 'coach sync' is sending this log already") from None
        raise
    return fd
