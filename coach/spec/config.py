"""Settings: one frozen dataclass per subsystem, read from one YAML config file.

Where the file comes from: ``--config PATH``, else ``$COACH_CONFIG``, else
``~/.config/coach/config.yaml``, else ``/etc/coach/config.yaml``, else built-in defaults. Each
setting's bounds and default live on the dataclass field (one place), and ``coach config``
prints every effective value with where it came from (``default`` or ``file:line``).
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coach.errors import ConfigError, InputFileError
from coach.spec.schema import Field, Problems, check_mapping
from coach.spec.yamlsrc import YNode, read_yaml


def setting(default: Any, kind: Any, **spec: Any) -> Any:
    """A dataclass field whose metadata carries its :class:`~coach.spec.schema.Field` check."""
    return field(default=default, metadata={"spec": Field(kind, default=default, **spec)})


@dataclass(frozen=True)
class VoiceSettings:
    output: str = setting("auto", "choice", choices=("auto", "speaker", "console"))
    """``auto`` speaks through the speaker when audio works, else prints; ``console`` only prints."""
    voice: str | None = setting(None, str, nullable=True, max_length=80)
    """espeak-ng voice name (e.g. ``en-gb``); none: the locale's language."""
    rate: int = setting(150, int, low=80, high=260, unit="words per minute")
    """Speaking rate (words per minute)."""
    volume: float = setting(1.0, float, low=0.0, high=1.0)
    """Speech volume, 0.0-1.0."""


@dataclass(frozen=True)
class AudioSettings:
    output_device: str | None = setting(None, str, nullable=True, max_length=120)
    """ALSA output device by name (``aplay -L``), e.g. ``plughw:CARD=Headphones``; none: the default."""
    input_device: str | None = setting(None, str, nullable=True, max_length=120)
    """ALSA capture device by name (``arecord -L``), e.g. ``plughw:CARD=Device``; none: the default."""


@dataclass(frozen=True)
class RecognitionSettings:
    enabled: bool = setting(True, bool)
    """Listen for voice commands and ratings when a microphone and a model are present."""
    model_path: str | None = setting(None, str, nullable=True, max_length=500)
    """Folder of the vosk model; none: look in the data folder for the language's model."""
    auto_accept_seconds: float = setting(4.0, float, low=1.0, high=30.0, unit="seconds")
    """Silence after "I heard six, say yes" that accepts the rating (seconds)."""
    early_final: bool = setting(True, bool)
    """A second recogniser lets a command act 0.12 s after the word instead of 0.27 s; it doubles
    the recognition work while the patient speaks: turn it off if a slow Pi drops audio."""


@dataclass(frozen=True)
class SessionConfig:
    answer_seconds: float = setting(8.0, float, low=3.0, high=60.0, unit="seconds")
    """How long to wait for a pain rating after the prompt has been said (seconds)."""


@dataclass(frozen=True)
class ControlSettings:
    layout: str = setting("auto", "choice", choices=("auto", "none", "one-button", "three-buttons", "encoder"))
    """Physical controls; ``auto`` uses one button when GPIO is present."""
    button_pin: int = setting(17, int, low=2, high=27, unit="BCM")
    """The main button (one-button layout; OK in the three-button layout), BCM number."""
    down_pin: int = setting(22, int, low=2, high=27, unit="BCM")
    up_pin: int = setting(27, int, low=2, high=27, unit="BCM")
    encoder_a_pin: int = setting(5, int, low=2, high=27, unit="BCM")
    encoder_b_pin: int = setting(6, int, low=2, high=27, unit="BCM")
    led_pin: int | None = setting(18, int, low=2, high=27, unit="BCM", nullable=True)
    """Status LED (PWM-capable pin for breathing), BCM number; none: no LED."""
    motion_pin: int | None = setting(None, int, low=2, high=27, unit="BCM", nullable=True)
    """PIR motion sensor output, BCM number; none: no motion sensor."""
    bounce_ms: int = setting(30, int, low=0, high=500, unit="milliseconds")
    hold_seconds: float = setting(1.0, float, low=0.3, high=5.0, unit="seconds")
    """A press this long is a hold (pause)."""
    long_hold_seconds: float = setting(3.0, float, low=1.0, high=15.0, unit="seconds")
    """A press this long is a long hold (stop)."""


@dataclass(frozen=True)
class SafetyConfig:
    stop_exercise_above: int = setting(5, int, low=0, high=10)
    """A rating above this stops the current exercise (Silbernagel: above 5 is unacceptable)."""
    end_session_at: int = setting(8, int, low=1, high=10)
    """A rating at or above this ends the session with advice to contact a clinician."""
    end_session_rise: int = setting(3, int, low=1, high=10)
    """A rise of this many points over the session's first rating ends the session."""


@dataclass(frozen=True)
class Settings:
    language: str = setting("en", str, max_length=10)
    """Language of phrases and recognised words (a file in coach/locales/)."""
    state_dir: str | None = setting(None, str, nullable=True, max_length=500)
    """Where session logs go; none: ``$XDG_STATE_HOME/coach`` (``~/.local/state/coach``)."""
    routines_dir: str | None = setting(None, str, nullable=True, max_length=500)
    """An extra folder of routines, searched before the shipped ones."""
    profile: str | None = setting(None, str, nullable=True, max_length=40)
    """Clinic profile code stored with sessions (never a name); none: no profile."""
    voice: VoiceSettings = field(default_factory=VoiceSettings)
    audio: AudioSettings = field(default_factory=AudioSettings)
    recognition: RecognitionSettings = field(default_factory=RecognitionSettings)
    session: SessionConfig = field(default_factory=SessionConfig)
    controls: ControlSettings = field(default_factory=ControlSettings)
    safety: SafetyConfig = field(default_factory=SafetyConfig)


_SECTIONS: dict[str, type] = {
    "voice": VoiceSettings,
    "audio": AudioSettings,
    "recognition": RecognitionSettings,
    "session": SessionConfig,
    "controls": ControlSettings,
    "safety": SafetyConfig,
}


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
    if explicit is not None:
        path: Path | None = Path(explicit)
    else:
        path = next((p for p in config_candidates() if p.is_file()), None)
    if path is None:
        return LoadedSettings(Settings(), None, _default_sources())
    try:
        root = read_yaml(path, allow_empty=True)
    except InputFileError as exc:
        raise ConfigError(str(exc)) from None
    return parse_settings(root, path)


def parse_settings(root: YNode, path: Path) -> LoadedSettings:
    problems = Problems()
    sources = _default_sources()
    top_fields = _fields(Settings) | {name: Field("map") for name in _SECTIONS}
    top = check_mapping(root, top_fields, problems, "the config")
    values: dict[str, Any] = {}
    for name, value in top.items():
        if name in _SECTIONS:
            section_cls = _SECTIONS[name]
            section_values: dict[str, Any] = {}
            if isinstance(value, YNode):
                section_values = check_mapping(value, _fields(section_cls), problems, f"the '{name}' section")
                for key, node in value.value.items():
                    sources[f"{name}.{key}"] = node.where
            values[name] = section_cls(**section_values)
        else:
            values[name] = value
            if isinstance(root.value, dict) and name in root.value:
                sources[name] = root.value[name].where
    if (
        isinstance(root.value, dict)
        and isinstance(root.value.get("controls"), YNode)
        and isinstance(root.value["controls"].value, dict)
    ):
        _check_pins(values["controls"], root.value["controls"], problems)
        _check_holds(values["controls"], root.value["controls"], problems)
    if problems:
        raise ConfigError(problems.lines[0], problems.lines)
    return LoadedSettings(Settings(**values), path, sources)


def _fields(cls: type) -> dict[str, Field]:
    return {f.name: f.metadata["spec"] for f in dataclasses.fields(cls) if "spec" in f.metadata}


def _default_sources() -> dict[str, str]:
    sources = {name: "default" for name in _fields(Settings)}
    for section, cls in _SECTIONS.items():
        sources.update({f"{section}.{name}": "default" for name in _fields(cls)})
    return sources


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
    for name in _fields(Settings):
        rows.append((name, getattr(loaded.settings, name), loaded.sources[name]))
    for section in _SECTIONS:
        obj = getattr(loaded.settings, section)
        for name in _fields(type(obj)):
            rows.append((f"{section}.{name}", getattr(obj, name), loaded.sources[f"{section}.{name}"]))
    return rows
