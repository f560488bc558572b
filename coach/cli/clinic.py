"""``coach clinic receive``: the clinic's side of sync, every station's records into one store.

``coach clinic receive --broker mqtt://host:port --state-dir DIR`` subscribes with a persistent session
and files each record once (``coach.log.remote``); ``coach history``, ``export`` and ``report`` with
``--state-dir DIR`` then read the whole clinic. Runs until SIGTERM and exits 0. Credentials and the CA
come from the flags, else from the config's ``sync:`` section.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from coach.errors import CoachError
from coach.log.store import Store
from coach.spec.config import load_settings, parse_broker, topic_id_problem
from coach.sync.link import Broker, MqttLink, read_password
from coach.sync.receive import ClinicReceiver


def register(commands: Any) -> None:
    clinic = commands.add_parser("clinic", help="the clinic's side of sync", description="The clinic's side of 'coach sync'.")
    actions = clinic.add_subparsers(title="actions", metavar="ACTION", required=True)
    receive = actions.add_parser(
        "receive",
        help="file every station's records into one clinic store",
        description="Subscribe to coach/<clinic>/+/records (persistent session, QoS 1) and file every record once "
        "into the store in --state-dir; runs until SIGTERM.",
    )
    receive.add_argument("--broker", metavar="URL", help="mqtt://host:port or mqtts://host:port (default: sync.broker)")
    receive.add_argument("--state-dir", metavar="DIR", required=True, help="the clinic store's folder")
    receive.add_argument("--clinic", metavar="ID", help="only this clinic's stations (default: every clinic's)")
    receive.add_argument("--username", metavar="NAME")
    receive.add_argument("--password-file", metavar="FILE", help="the broker password (mode 0600)")
    receive.add_argument("--ca-file", metavar="FILE", help="CA certificate for mqtts://")
    receive.add_argument("--client-id", metavar="ID", help="the persistent session's client id (default: coach-clinic-<clinic>)")
    receive.add_argument("--config", metavar="FILE", default=argparse.SUPPRESS, help="config file (as before the command)")
    receive.set_defaults(handler=cmd_receive)


def cmd_receive(args: argparse.Namespace) -> int:
    from coach.cli.sync import _Stop

    sync = load_settings(getattr(args, "config", None)).settings.sync
    url = args.broker or sync.broker
    if url is None:
        raise CoachError("coach clinic receive: no --broker URL (and no sync.broker in the config)")
    try:
        parse_broker(url)
    except ValueError as exc:
        raise CoachError(f"--broker: {exc}") from None
    if args.clinic is not None and (problem := topic_id_problem(args.clinic)) is not None:
        raise CoachError(f"--clinic: {problem}")
    username = args.username if args.username is not None else (sync.username if not args.broker else None)
    password_file = args.password_file or (sync.password_file if not args.broker else None)
    ca_file = args.ca_file or (sync.ca_file if not args.broker else None)
    if password_file is not None:
        read_password(password_file)
    broker = Broker(url, username, password_file, ca_file)
    client_id = args.client_id or f"coach-clinic-{args.clinic or 'all'}"
    store = Store(Path(args.state_dir).expanduser(), may_set_aside=False)
    receiver = ClinicReceiver(store, MqttLink(broker, client_id, clean=False, manual_ack=True, inflight=100), args.clinic)
    try:
        receiver.serve(_Stop())
    finally:
        store.close()
    receiver.say(f"stopped; {receiver.stored} records stored, {receiver.duplicates} duplicates dropped")
    return 0
