"""What goes over the broker: topics, a record's message, the station's status, Home Assistant discovery.

- ``coach/<clinic>/<station>/records``: one JSON message per record, QoS 1, in record order:
  ``message_id`` (``<clinic>/<station>/<record id>``: stable, so the clinic recognises a second delivery),
  ``station``, ``record_id``, ``kind``, ``wall``, ``fields`` and ``session`` (the station's session row,
  so the clinic can file the record under its session even when it missed the session's first record);
  with ``fhir: true``, a pain rating also carries ``observation``, a FHIR R4 Observation.
- ``coach/<clinic>/<station>/status``: retained; ``state`` online or offline (the last will says offline
  when the station vanishes), ``activity`` in session or idle, the last session's time, its pain before
  and after, the sessions this week, the backlog and ``problem``.
- ``homeassistant/sensor/<node>/<object>/config``: retained discovery, each sensor reading the status topic.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from coach.log.outbox import SESSION_COLUMNS, SESSION_NUMBERS, Outgoing, StationStatus
from coach.log.remote import Incoming

LOINC_PAIN = "72514-3"
LOINC_PAIN_DISPLAY = "Pain severity - 0-10 verbal numeric rating [Score] - Reported"

DISCOVERY_PREFIX = "homeassistant"
MAX_PAYLOAD = 64 * 1024
"""A record's message is well under 2 KiB; anything over this on the clinic side is not ours and is dropped."""


def records_topic(clinic: str, station: str) -> str:
    return f"coach/{clinic}/{station}/records"


def status_topic(clinic: str, station: str) -> str:
    return f"coach/{clinic}/{station}/status"


def message_id(clinic: str, station: str, record_id: int) -> str:
    return f"{clinic}/{station}/{record_id}"


def record_message(clinic: str, station: str, item: Outgoing, fhir: bool = False) -> bytes:
    body: dict[str, Any] = {
        "message_id": message_id(clinic, station, item.record_id),
        "clinic": clinic,
        "station": station,
        "record_id": item.record_id,
        "kind": item.kind,
        "wall": item.wall,
        "fields": item.fields,
        "session": item.session,
    }
    if fhir and item.kind == "rating" and isinstance(item.fields.get("value"), int):
        body["observation"] = observation(body["message_id"], item)
    return _json(body)


def observation(ident: str, item: Outgoing) -> dict[str, Any]:
    """An answered pain rating as a FHIR R4 Observation (LOINC 72514-3, ``valueInteger``), as ``coach export`` writes it."""
    fields = item.fields
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "identifier": [{"system": "urn:coach:message", "value": ident}],
        "status": "preliminary" if fields.get("confirmed") == "unconfirmed" else "final",
        "category": [
            {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "survey"}]}
        ],
        "code": {"coding": [{"system": "http://loinc.org", "code": LOINC_PAIN, "display": LOINC_PAIN_DISPLAY}]},
        "effectiveDateTime": item.wall,
        "valueInteger": fields["value"],
        "note": [{"text": f"Pain {fields.get('moment', '')}; source {fields.get('source', '')}"}],
    }
    return resource


def status_message(station: str, status: StationStatus | None, problem: str | None, online: bool = True) -> bytes:
    """The retained status; ``status`` None: the log cannot be read (yet), or this is the last will
    (``problem`` None: nothing known beyond offline)."""
    body: dict[str, Any] = {"state": "online" if online else "offline", "station": station}
    if problem is not None:
        body["activity"] = "in session" if status is not None and status.in_session else "idle"
        body["problem"] = problem
        if status is not None:
            body |= {
                "last_session": status.last_session,
                "pain_before": status.pain_before,
                "pain_after": status.pain_after,
                "sessions_this_week": status.sessions_this_week,
                "backlog": status.backlog,
            }
    return _json(body)


@dataclass(frozen=True)
class Sensor:
    key: str
    name: str
    unit: str | None = None
    icon: str | None = None


SENSORS = (
    Sensor("pain_before", "Last pain before", "/10", "mdi:numeric"),
    Sensor("pain_after", "Last pain after", "/10", "mdi:numeric"),
    Sensor("sessions_this_week", "Sessions this week", "sessions", "mdi:calendar-week"),
    Sensor("activity", "Activity", None, "mdi:human"),
    Sensor("problem", "Problem", None, "mdi:alert-circle-outline"),
    Sensor("last_session", "Last session", None, "mdi:clock-outline"),
)
"""The sensors a home Pi shows in Home Assistant; each reads one key of the status message."""


def node_id(clinic: str, station: str) -> str:
    """A discovery node id: Home Assistant allows only letters, digits, ``_`` and ``-``."""
    return "coach_" + re.sub(r"[^A-Za-z0-9_-]", "_", f"{clinic}_{station}")


def discovery_messages(clinic: str, station: str) -> list[tuple[str, bytes]]:
    """Retained ``homeassistant/sensor/<node>/<object>/config`` messages: the station appears with no YAML.

    Read-only by construction: sensors only (no switch, button or command topic), all reading the status topic.
    """
    node = node_id(clinic, station)
    state = status_topic(clinic, station)
    device = {"identifiers": [node], "name": f"coach {station}", "manufacturer": "coach", "model": "exercise coach"}
    out = []
    for sensor in SENSORS:
        config: dict[str, Any] = {
            "name": sensor.name,
            "unique_id": f"{node}_{sensor.key}",
            "object_id": f"{node}_{sensor.key}",
            "state_topic": state,
            "value_template": "{{ value_json." + sensor.key + " }}",  # a null renders None: Home Assistant's "unknown"
            "availability_topic": state,
            "availability_template": "{{ value_json.state }}",
            "payload_available": "online",
            "payload_not_available": "offline",
            "device": device,
        }
        if sensor.unit:
            config["unit_of_measurement"] = sensor.unit
            config["state_class"] = "measurement"
        if sensor.icon:
            config["icon"] = sensor.icon
        out.append((f"{DISCOVERY_PREFIX}/sensor/{node}/{sensor.key}/config", _json(config)))
    return out


_KIND = re.compile(r"[a-z][a-z0-9_]{0,39}")


def parse_record(topic: str, payload: bytes) -> Incoming:
    """A station's record message, checked for shape; raise ValueError (a few words) for anything else.

    The station is the topic's (``coach/<clinic>/<station>/records``), and the message id must be that
    clinic's and station's: a station cannot file records under another's name by what it writes.
    """
    parts = topic.split("/")
    if len(parts) != 4 or parts[0] != "coach" or parts[3] != "records":
        raise ValueError(f"not a records topic: {topic!r}")
    clinic, station = parts[1], parts[2]
    if len(payload) > MAX_PAYLOAD:
        raise ValueError(f"{len(payload)} bytes, more than a record's message can be")
    try:
        body = json.loads(payload.decode("utf-8"))
    except (UnicodeError, ValueError):
        raise ValueError("not JSON") from None
    if not isinstance(body, dict):
        raise ValueError("not a JSON object")
    record_id = body.get("record_id")
    if not isinstance(record_id, int) or isinstance(record_id, bool) or record_id < 1:
        raise ValueError("no record_id")
    if body.get("message_id") != message_id(clinic, station, record_id):
        raise ValueError(f"message_id {body.get('message_id')!r} is not {message_id(clinic, station, record_id)!r}")
    kind, wall, fields = body.get("kind"), body.get("wall"), body.get("fields")
    if not isinstance(kind, str) or not _KIND.fullmatch(kind):
        raise ValueError(f"kind {kind!r} is not a record kind")
    if not isinstance(wall, str) or not 0 < len(wall) <= 40:
        raise ValueError("no wall time")
    if not isinstance(fields, dict) or not all(isinstance(key, str) for key in fields):
        raise ValueError("fields is not an object")
    return Incoming(message_id(clinic, station, record_id), station, record_id, kind, wall, fields, _session(body.get("session")))


def _session(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("id"), int) or isinstance(value.get("id"), bool):
        raise ValueError("session is not a session row")
    session: dict[str, Any] = {"id": value["id"]}
    for name in SESSION_COLUMNS:
        text = value.get(name)
        session[name] = text if isinstance(text, str) and len(text) <= 500 else None
    for name in SESSION_NUMBERS:
        number = value.get(name)
        session[name] = number if isinstance(number, int) and not isinstance(number, bool) else None
    return session


def _json(body: dict[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), default=str).encode("utf-8")
