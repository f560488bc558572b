"""Settings: one frozen dataclass per subsystem, the same from the config file to the running code.

Each setting's default, bounds and unit live once, on its dataclass field (:func:`setting`); the
loader (:mod:`coach.spec.config`) validates the file against them and ``coach config`` prints them,
and the code that runs takes the very same object: the session its :class:`SessionSettings`, the
controls their :class:`ControlSettings`. They live here, below :mod:`coach.core`, because both the
config loader and the pure core need them (core imports spec, never the reverse).

A subsystem's settings are mostly one section of the file. The session's are spread over three
for people's sake (the file format is kept): ``session.answer_seconds``,
``recognition.auto_accept_seconds`` (the wait after "I heard six, say yes", only met when a voice
is heard) and the ``safety:`` section as its rules; field metadata says where (``section``).
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
from dataclasses import dataclass, field
from typing import Any

from coach.spec.schema import Field


def setting(default: Any, kind: Any, *, section: str | None = None, after: str | None = None, **spec: Any) -> Any:
    """A dataclass field whose metadata carries its :class:`~coach.spec.schema.Field` check.

    ``section``: the file section it is written in, when not its dataclass's own; ``after``: the key
    of that section it is listed after (``coach config`` keeps the file's order).
    """
    return field(default=default, metadata={"spec": Field(kind, default=default, **spec), "section": section, "after": after})


def group(cls: type, section: str | None = None) -> Any:
    """A dataclass field holding another settings dataclass: a section of the file (named
    ``section``, else the field's own name)."""
    return field(default_factory=cls, metadata={"group": cls, "section": section})


def setting_fields(cls: type) -> dict[str, Field]:
    """Name to :class:`~coach.spec.schema.Field` for every setting of ``cls`` (not its groups)."""
    return {f.name: f.metadata["spec"] for f in dataclasses.fields(cls) if "spec" in f.metadata}


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
    """The listener's settings (``HearingSettings.configured`` turns them into the hearing's)."""

    enabled: bool = setting(True, bool)
    """Listen for voice commands and ratings when a microphone and a model are present."""
    model_path: str | None = setting(None, str, nullable=True, max_length=500)
    """Folder of the vosk model; none: look in the data folder for the language's model."""
    early_final: bool = setting(True, bool)
    """A second recogniser lets a command act 0.12 s after the word instead of 0.27 s; it doubles
    the recognition work while the patient speaks: turn it off if a slow Pi drops audio."""


@dataclass(frozen=True)
class SafetyRules:
    """Pain thresholds on the 0-10 numeric rating scale (the rules themselves: coach.core.safety).

    Every value within the bounds can fire, so no rule can be switched off by setting it out of
    reach: no rating is above 10, and a 10 always ends the session first (``end_session_at`` is at
    most 10), so a stop above 9 or 10 could never stop anything, nor a rise of 10 (0 to 10) be the
    rise that ends it. A rule shadowed by a stricter neighbour (a stop above 7 with an end at 8) is
    left alone: nothing is switched off, the stricter rule acts. A routine's ``safety:`` keys have these
    very bounds and may only tighten the configured rules (:meth:`with_overrides`).
    """

    stop_exercise_above: int = setting(5, int, low=0, high=8)
    """A rating above this stops the current exercise (Silbernagel: above 5 is unacceptable); one not
    above the session's first rating stops it only above 5 (coach.core.safety.stop_threshold)."""
    end_session_at: int = setting(8, int, low=1, high=10)
    """A rating at or above this ends the session with advice to contact a clinician."""
    end_session_rise: int = setting(3, int, low=1, high=9)
    """A rise of this many points over the session's first rating ends the session."""

    def with_overrides(self, overrides: dict[str, int]) -> SafetyRules:
        """These rules tightened by a routine's ``safety:`` overrides (already validated): for each
        rule the stricter of the two values, since every rule fires sooner the lower it is. A routine
        never loosens what the config (a clinic) set; :meth:`looser` names the keys that tried."""
        configured = dataclasses.asdict(self)
        return SafetyRules(**{name: min(int(overrides.get(name, value)), value) for name, value in configured.items()})

    def looser(self, overrides: dict[str, int]) -> dict[str, int]:
        """The overrides that ask for a looser rule than these (key to the value asked for)."""
        return {name: int(value) for name, value in overrides.items() if int(value) > getattr(self, name)}


@dataclass(frozen=True)
class SessionSettings:
    """Dialogue timing and safety for one session: what :class:`coach.core.session.Session` runs with."""

    answer_seconds: float = setting(8.0, float, low=3.0, high=60.0, unit="seconds")
    """How long to wait for a pain rating after the prompt has been said (seconds)."""
    auto_accept_seconds: float = setting(
        4.0, float, low=1.0, high=30.0, unit="seconds", section="recognition", after="model_path"
    )
    """Silence after "I heard six, say yes" that accepts the rating (seconds)."""
    rules: SafetyRules = group(SafetyRules, section="safety")
    """The config's ``safety:`` section; a routine may tighten it (:meth:`SafetyRules.with_overrides`)."""
    red_flag_screen: bool = setting(True, bool, section="session", after="answer_seconds")
    """Ask the red-flag questions before the first exercise (once a day at home, every person at a kiosk);
    a clinic that screens in person may switch it off."""


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
class SyncSettings:
    """``coach sync``: the station's records to the clinic's MQTT broker (issue 16). Read by ``coach sync``
    only: the kiosk has no network. No secret is held here, only where it is: the password is read from
    ``password_file`` when connecting, so it is in no repr, no log line and no ``coach config`` output."""

    broker: str | None = setting(None, str, nullable=True, max_length=300)
    """``mqtt://host:port`` or ``mqtts://host:port`` (TLS); none: the station does not sync."""
    clinic: str | None = setting(None, str, nullable=True, max_length=64)
    """The clinic's id: a topic segment (``coach/<clinic>/<station>/records``)."""
    station: str | None = setting(None, str, nullable=True, max_length=64)
    """This station's id within the clinic: a topic segment."""
    username: str | None = setting(None, str, nullable=True, max_length=200)
    password_file: str | None = setting(None, str, nullable=True, max_length=500)
    """A file holding the broker password (owned by the user coach runs as, mode 0600)."""
    ca_file: str | None = setting(None, str, nullable=True, max_length=500)
    """The CA certificate (PEM) an ``mqtts://`` broker's certificate is checked against; none: the system's."""
    home_assistant: bool = setting(False, bool)
    """Also publish Home Assistant discovery (retained ``homeassistant/sensor/...``): a home Pi appears as sensors."""
    fhir: bool = setting(False, bool)
    """Also carry each pain rating as a FHIR Observation in its message."""


@dataclass(frozen=True)
class KioskSettings:
    """A clinic's shared station (issue 16): each person enters their patient code after waking the kiosk."""

    patient_code_digits: int = setting(0, int, low=0, high=12)
    """How many digits a patient code has; 0: no codes asked (sessions carry the configured ``profile``)."""
    patient_codes_file: str | None = setting(None, str, nullable=True, max_length=500)
    """The clinic's codes, one a line; a code not in it gets one retry, then the session runs anonymous. None:
    any code of the right length is taken."""


@dataclass(frozen=True)
class ProgrammeSettings:
    """A coach across days (issue 15): when a home Pi reminds of today's programme session."""

    reminders: str | None = setting(None, str, nullable=True, max_length=100)
    """Times of day (``HH:MM``, 24 h, quoted, separated by spaces or commas: ``"09:00 18:30"``) at which the idle
    kiosk says "Time for your back exercises" while a programme's session is not done today; none: no reminders."""

    def reminder_times(self) -> tuple[_dt.time, ...]:
        """:attr:`reminders` as times of day (the config loader has checked them: see :func:`parse_reminders`)."""
        return parse_reminders(self.reminders or "")


def parse_reminders(text: str) -> tuple[_dt.time, ...]:
    """``"09:00, 18:30"`` as times of day; :class:`ValueError` naming the first that is not ``HH:MM``."""
    times = []
    for word in text.replace(",", " ").split():
        hours, _, minutes = word.partition(":")
        if not (hours.isdigit() and minutes.isdigit() and len(minutes) == 2 and int(hours) < 24 and int(minutes) < 60):
            raise ValueError(f"{word!r} is not a time of day HH:MM (24 h, e.g. 09:00)")
        times.append(_dt.time(int(hours), int(minutes)))
    return tuple(sorted(set(times)))


@dataclass(frozen=True)
class Settings:
    """Everything the config file sets, one group per subsystem."""

    language: str = setting("en", str, max_length=10)
    """Language of phrases and recognised words (a file in coach/locales/)."""
    state_dir: str | None = setting(None, str, nullable=True, max_length=500)
    """Where session logs go; none: ``$XDG_STATE_HOME/coach`` (``~/.local/state/coach``)."""
    routines_dir: str | None = setting(None, str, nullable=True, max_length=500)
    """An extra folder of routines, searched before the shipped ones."""
    profile: str | None = setting(None, str, nullable=True, max_length=40)
    """Clinic profile code stored with sessions (never a name); none: no profile."""
    voice: VoiceSettings = group(VoiceSettings)
    audio: AudioSettings = group(AudioSettings)
    recognition: RecognitionSettings = group(RecognitionSettings)
    session: SessionSettings = group(SessionSettings)
    controls: ControlSettings = group(ControlSettings)
    sync: SyncSettings = group(SyncSettings)
    programme: ProgrammeSettings = group(ProgrammeSettings)
    kiosk: KioskSettings = group(KioskSettings)

    @property
    def safety(self) -> SafetyRules:
        """The ``safety:`` section: the session's rules (held once, in ``session.rules``)."""
        return self.session.rules
