"""The config loader: one YAML file into :class:`~coach.spec.settings.Settings`, validated.

Where the file comes from: ``--config PATH``, else ``$COACH_CONFIG``, else
``~/.config/coach/config.yaml``, else ``/etc/coach/config.yaml``, else built-in defaults. The
settings, their defaults and bounds are the dataclasses of :mod:`coach.spec.settings` (one
place); here they are read, checked (one line per problem, ``file:line: field: ...``) and listed
by ``coach config`` with where each value came from (``default`` or ``file:line``).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from coach.errors import ConfigError, InputFileError
from coach.spec.locale import available_languages
from coach.spec.schema import Field, Problems, check_mapping
from coach.spec.settings import ControlSettings, Settings, parse_reminders
from coach.spec.yamlsrc import YNode, read_yaml

__all__ = [
    "ControlSettings",
    "LoadedSettings",
    "Settings",
    "config_candidates",
    "load_settings",
    "parse_settings",
    "settings_table",
]
"""``ControlSettings`` and ``Settings`` (from coach.spec.settings) are re-exported for the callers that
load settings and hand them on."""

SECTIONS = ("voice", "audio", "recognition", "session", "controls", "safety", "sync", "programme", "kiosk")
"""The file's sections, in the order ``coach config`` lists them."""


@dataclass(frozen=True)
class _Slot:
    """One key of the file and the settings field it fills."""

    key: str
    """Dotted file key: ``language``, ``recognition.auto_accept_seconds``."""
    path: tuple[str, ...]
    """Attribute path in :class:`Settings`: ``("session", "auto_accept_seconds")``."""
    spec: Field

    @property
    def name(self) -> str:
        """The key within its section."""
        return self.key.rpartition(".")[2]


def _walk(cls: type, path: tuple[str, ...], section: str) -> Iterator[tuple[str, _Slot, str | None]]:
    """(file section, slot, the key it is listed after) for every setting under ``cls``."""
    for f in dataclasses.fields(cls):
        if "group" in f.metadata:
            yield from _walk(f.metadata["group"], (*path, f.name), f.metadata["section"] or f.name)
        elif "spec" in f.metadata:
            where = f.metadata["section"] or section
            yield where, _Slot(f"{where}.{f.name}" if where else f.name, (*path, f.name), f.metadata["spec"]), f.metadata["after"]


def _layout() -> tuple[list[_Slot], dict[str, list[_Slot]]]:
    """The file's top-level keys and its sections' keys, in the file's order."""
    top: list[_Slot] = []
    sections: dict[str, list[_Slot]] = {name: [] for name in SECTIONS}
    placed_later: list[tuple[str, _Slot, str]] = []
    for section, slot, after in _walk(Settings, (), ""):
        if after:
            placed_later.append((section, slot, after))
        else:
            (sections[section] if section else top).append(slot)
    for section, slot, after in placed_later:
        keys = [s.name for s in sections[section]]
        sections[section].insert(keys.index(after) + 1, slot)
    return top, sections


_TOP, _SECTIONS = _layout()


@dataclass(frozen=True)
class LoadedSettings:
    settings: Settings
    path: Path | None
    """The file read, or ``None`` for built-in defaults."""
    sources: dict[str, str]
    """Dotted setting name to ``default`` or ``file:line``."""


def config_candidates() -> list[Path]:
    """Where a config file is looked for, in order (after ``--config``)."""
    found = []
    if os.environ.get("COACH_CONFIG"):
        found.append(Path(os.environ["COACH_CONFIG"]))
    config_home = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    found += [Path(config_home) / "coach" / "config.yaml", Path("/etc/coach/config.yaml")]
    return found


def load_settings(explicit: str | Path | None = None) -> LoadedSettings:
    """The effective settings; raise :class:`ConfigError` (one line per problem) for a bad file."""
    named = ""
    if explicit is not None:
        path: Path | None = Path(explicit)
    elif os.environ.get("COACH_CONFIG"):
        # Named on purpose, so it must be there: a typo falling back to the defaults would go unseen.
        path, named = Path(os.environ["COACH_CONFIG"]), " (named by $COACH_CONFIG)"
    else:
        path = next((p for p in config_candidates() if p.is_file()), None)
    if path is None:
        return LoadedSettings(Settings(), None, _default_sources())
    try:
        root = read_yaml(path, allow_empty=True)
    except InputFileError as exc:
        raise ConfigError(f"{exc}{named}") from None
    return parse_settings(root, path)


def parse_settings(root: YNode, path: Path) -> LoadedSettings:
    """Check every section against its slots (all problems at once), then build the dataclasses."""
    problems = Problems()
    sources = _default_sources()
    top_fields = {slot.key: slot.spec for slot in _TOP} | {name: Field("map") for name in _SECTIONS}
    top = check_mapping(root, top_fields, problems, "the config")
    values: dict[tuple[str, ...], Any] = {}
    for name, value in top.items():
        if name in _SECTIONS:
            slots = _SECTIONS[name]
            section_values: dict[str, Any] = {}
            if isinstance(value, YNode):
                section_values = check_mapping(value, {s.name: s.spec for s in slots}, problems, f"the '{name}' section")
                for key, node in value.value.items():
                    sources[f"{name}.{key}"] = node.where
            values.update({s.path: section_values[s.name] for s in slots if s.name in section_values})
        else:
            values[(name,)] = value
            if isinstance(root.value, dict) and name in root.value:
                sources[name] = root.value[name].where
    settings = _build(Settings, (), values)
    if (
        isinstance(root.value, dict)
        and isinstance(root.value.get("controls"), YNode)
        and isinstance(root.value["controls"].value, dict)
    ):
        _check_pins(settings.controls, root.value["controls"], problems)
        _check_holds(settings.controls, root.value["controls"], problems)
    _check_language(settings.language, root, problems)
    _check_sync(settings, root, problems)
    _check_reminders(settings, root, problems)
    _check_codes(settings, root, problems)
    if problems:
        raise ConfigError(problems.lines[0], problems.lines)
    return LoadedSettings(settings, path, sources)


def _check_language(language: str, root: YNode, problems: Problems) -> None:
    """A language with no locale would fail later, far from the line that set it."""
    languages = available_languages()
    if language not in languages and isinstance(root.value, dict) and "language" in root.value:
        problems.add(root.value["language"], "language", f"no locale for {language!r}; available: {', '.join(languages)}")


def _build(cls: type, path: tuple[str, ...], values: dict[tuple[str, ...], Any]) -> Any:
    """``cls`` with the values read for it (by attribute path); the rest keep their defaults."""
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        here = (*path, f.name)
        if "group" in f.metadata:
            kwargs[f.name] = _build(f.metadata["group"], here, values)
        elif here in values:
            kwargs[f.name] = values[here]
    return cls(**kwargs)


def _slots() -> Iterator[_Slot]:
    """Every key of the file, in the file's order."""
    yield from _TOP
    for slots in _SECTIONS.values():
        yield from slots


def _default_sources() -> dict[str, str]:
    return {slot.key: "default" for slot in _slots()}


LAYOUT_PINS = {
    "none": (),
    "auto": ("button_pin",),
    "one-button": ("button_pin",),
    "three-buttons": ("down_pin", "up_pin", "button_pin"),
    "encoder": ("encoder_a_pin", "encoder_b_pin", "button_pin"),
}


def _check_pins(controls: ControlSettings, node: YNode, problems: Problems) -> None:
    """Two parts on one pin is a wiring mistake: report it at the line that sets the second."""
    used: dict[int, str] = {}
    names = [*LAYOUT_PINS[controls.layout], "led_pin", "motion_pin"]
    for name in names:
        pin = getattr(controls, name)
        if pin is None:
            continue
        if pin in used:
            where = node.value.get(name, node.value.get(used[pin], node))
            problems.add(where, name, f"BCM {pin} is already used by {used[pin]}; each part needs its own pin")
        else:
            used[pin] = name


def _check_holds(controls: ControlSettings, node: YNode, problems: Problems) -> None:
    """A long hold (stop) must be clearly longer than a hold (pause), or a pause becomes a stop."""
    if controls.long_hold_seconds < controls.hold_seconds + 1.0:
        where = node.value.get("long_hold_seconds", node.value.get("hold_seconds", node))
        problems.add(
            where,
            "long_hold_seconds",
            f"must be at least 1 second longer than hold_seconds ({controls.hold_seconds:g}), got {controls.long_hold_seconds:g}",
        )


def settings_table(loaded: LoadedSettings) -> list[tuple[str, Any, str]]:
    """(dotted name, value, source) for every setting, for ``coach config``."""
    rows = []
    for slot in _slots():
        value: Any = loaded.settings
        for name in slot.path:
            value = getattr(value, name)
        rows.append((slot.key, value, loaded.sources[slot.key]))
    return rows


# --- sync (issue 16) ------------------------------------------------------------------------------

SYNC_SCHEMES = {"mqtt": 1883, "mqtts": 8883}
"""Broker URL schemes and their default ports."""


def parse_broker(url: str) -> tuple[str, str, int]:
    """``(scheme, host, port)`` of a broker URL; raise ValueError with what is wrong."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme not in SYNC_SCHEMES:
        raise ValueError(f"must be mqtt://host:port or mqtts://host:port, got {url!r}")
    if any(c in rest for c in "/?#@ ") or not rest:
        raise ValueError(f"must be mqtt://host:port or mqtts://host:port (no path, user or spaces), got {url!r}")
    host, colon, port_text = rest.rpartition(":") if not rest.endswith("]") else (rest, "", "")
    if not colon:
        host, port_text = rest, str(SYNC_SCHEMES[scheme])
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if not host or not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise ValueError(f"needs a host and a port between 1 and 65535, got {url!r}")
    return scheme, host, int(port_text)


def topic_id_problem(value: str) -> str | None:
    """Why ``value`` cannot be a clinic or station id (one MQTT topic segment), or None when it can."""
    if not value:
        return "must not be empty"
    if any(c in value for c in "/+#") or not all(c.isprintable() and not c.isspace() for c in value):
        return f"must be one topic segment: printable, no spaces and none of / + #, got {value!r}"
    if value.startswith("$"):
        return f"must not start with $ (reserved by brokers), got {value!r}"
    return None


def _check_sync(settings: Settings, root: YNode, problems: Problems) -> None:
    """The ``sync:`` section: a broker URL that parses, and clinic and station ids that are safe topic segments.

    The password file itself is checked by ``coach sync`` when it connects, not here: every command
    reads this file, and a kiosk must not refuse to start over the sync's secret."""
    node = root.value.get("sync") if isinstance(root.value, dict) else None
    if not isinstance(node, YNode) or not isinstance(node.value, dict):
        return
    sync = settings.sync
    if sync.broker is not None:
        try:
            parse_broker(sync.broker)
        except ValueError as exc:
            problems.add(node.value["broker"], "broker", str(exc))
    for name in ("clinic", "station"):
        value = getattr(sync, name)
        if value is None:
            if sync.broker is not None:
                problems.add(node, name, "is needed to sync (an id for the topic coach/<clinic>/<station>/records)")
            continue
        problem = topic_id_problem(value)
        if problem is not None:
            problems.add(node.value[name], name, problem)


def _check_reminders(settings: Settings, root: YNode, problems: Problems) -> None:
    """``programme.reminders``: every word a time of day (issue 15)."""
    try:
        parse_reminders(settings.programme.reminders or "")
    except ValueError as exc:
        section = root.value.get("programme") if isinstance(root.value, dict) else None
        node = root
        if isinstance(section, YNode) and isinstance(section.value, dict):
            node = section.value.get("reminders", section)
        problems.add(node, "reminders", str(exc))


def _check_codes(settings: Settings, root: YNode, problems: Problems) -> None:
    """``kiosk.patient_codes_file`` means nothing without ``patient_code_digits`` (issue 16)."""
    if settings.kiosk.patient_codes_file and not settings.kiosk.patient_code_digits:
        section = root.value.get("kiosk") if isinstance(root.value, dict) else None
        node = root
        if isinstance(section, YNode) and isinstance(section.value, dict):
            node = section.value.get("patient_codes_file", section)
        problems.add(node, "patient_codes_file", "needs kiosk.patient_code_digits (how many digits a code has)")
