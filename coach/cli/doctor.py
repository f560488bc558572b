"""``coach doctor``: one screen that says what works here and what is missing, with the fix.

Each check is a small function that returns a :class:`Finding`; none of them raises, so one
broken part never hides the state of the others.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from coach.errors import CoachError
from coach.log.journal import default_state_dir
from coach.spec.config import LoadedSettings, Settings, load_settings

MIN_FREE_BYTES = 50 * 1024 * 1024
"""Free space below which the state disk is reported as nearly full (bytes)."""


@dataclass(frozen=True)
class Finding:
    name: str
    ok: bool
    detail: str
    fix: str = ""


Check = Callable[[LoadedSettings], Finding]


def check_config(loaded: LoadedSettings) -> Finding:
    where = str(loaded.path) if loaded.path else "none (built-in defaults)"
    return Finding("config", True, where)


def check_speech(loaded: LoadedSettings) -> Finding:
    from coach.voice.tts import PhraseCache, VoiceChoice

    voice = loaded.settings.voice
    cache = PhraseCache(VoiceChoice(loaded.settings.language, voice.voice, voice.rate, voice.volume))
    clip = cache.get("ready")
    if clip is None:
        reason = next(iter(cache.failed.values()), "unknown error")
        return Finding("speech engine", False, reason, "sudo apt-get install espeak-ng && pip install 'coach[voice]'")
    return Finding("speech engine", True, f"pyttsx3 + espeak-ng, rate {voice.rate} words/min")


def check_audio_output(loaded: LoadedSettings) -> Finding:
    from coach.voice.alsa import AlsaOutput
    from coach.voice.tts import RATE

    device = loaded.settings.audio.output_device or "default"
    try:
        AlsaOutput(loaded.settings.audio.output_device, RATE).close()
    except CoachError as exc:
        return Finding(
            "audio output",
            False,
            str(exc),
            "plug in the speaker; list devices with `aplay -L` and set audio.output_device in the config",
        )
    return Finding("audio output", True, f"ALSA device {device!r}")


def check_microphone(loaded: LoadedSettings) -> Finding:
    fix = "plug in a USB microphone; `arecord -l` should list it; set audio.input_device if it is not the default"
    if shutil.which("arecord") is None:
        return Finding("microphone", False, "arecord is not installed", "sudo apt-get install alsa-utils")
    listing = subprocess.run(["arecord", "-l"], capture_output=True, text=True, timeout=10, check=False)
    cards = [line for line in listing.stdout.splitlines() if line.startswith("card ")]
    if not cards:
        return Finding("microphone", False, "no capture device found", fix)
    return Finding("microphone", True, cards[0])


def check_model(loaded: LoadedSettings) -> Finding:
    language = loaded.settings.language
    fix = f"coach model fetch {language}   (or set recognition.model_path in the config)"
    try:
        from coach.voice.models import check_model_dir, resolve_model
    except ImportError as exc:
        return Finding("speech model", False, f"voice input is not installed ({exc})", "pip install 'coach[listen]'")
    try:
        location = resolve_model(language, loaded.settings.recognition.model_path)
        check_model_dir(location.path, language)
    except CoachError as exc:
        return Finding("speech model", False, str(exc), fix)
    return Finding("speech model", True, str(location.path))


def check_gpio(loaded: LoadedSettings) -> Finding:
    from coach.controls import build_controls

    controls, why = build_controls(loaded.settings.controls, loaded.settings.language)
    if controls is None:
        return Finding(
            "buttons and LED",
            False,
            why or "no controls",
            "on a Raspberry Pi: sudo apt-get install python3-lgpio; see hardware.md",
        )
    controls.close()
    pins = loaded.settings.controls
    return Finding("buttons and LED", True, f"layout {pins.layout}, button BCM {pins.button_pin}, LED BCM {pins.led_pin}")


def check_state_dir(loaded: LoadedSettings) -> Finding:
    folder = Path(loaded.settings.state_dir).expanduser() if loaded.settings.state_dir else default_state_dir()
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".doctor-"):
            pass
        free = shutil.disk_usage(folder).free
    except OSError as exc:
        return Finding(
            "session log", False, f"{folder}: {exc.strerror or exc}", f"make {folder} writable for this user, or set state_dir"
        )
    if free < MIN_FREE_BYTES:
        return Finding("session log", False, f"{folder}: only {free // (1024 * 1024)} MB free", "free some space on the card")
    return Finding("session log", True, f"{folder} ({free // (1024 * 1024)} MB free)")


def check_service(loaded: LoadedSettings) -> Finding:
    fix = "sudo systemd/install.sh   (from the coach checkout)"
    if shutil.which("systemctl") is None:
        return Finding("service", False, "systemd is not available here", fix)
    enabled = subprocess.run(
        ["systemctl", "is-enabled", "coach.service"], capture_output=True, text=True, timeout=10, check=False
    )
    active = subprocess.run(["systemctl", "is-active", "coach.service"], capture_output=True, text=True, timeout=10, check=False)
    state = f"{enabled.stdout.strip() or 'not installed'}, {active.stdout.strip() or 'unknown'}"
    if enabled.returncode != 0 or active.returncode != 0:
        return Finding(
            "service", False, state, fix if enabled.returncode != 0 else "sudo systemctl restart coach; journalctl -u coach"
        )
    return Finding("service", True, state)


CHECKS: tuple[Check, ...] = (
    check_config,
    check_speech,
    check_audio_output,
    check_microphone,
    check_model,
    check_gpio,
    check_state_dir,
    check_service,
)


def run_checks(loaded: LoadedSettings, checks: tuple[Check, ...] = CHECKS) -> list[Finding]:
    findings = []
    for check in checks:
        try:
            findings.append(check(loaded))
        except Exception as exc:  # a check must never hide the others
            name = check.__name__.removeprefix("check_").replace("_", " ")
            findings.append(Finding(name, False, f"the check itself failed: {exc}", "report this"))
    return findings


def register(commands: Any) -> None:
    doctor = commands.add_parser("doctor", help="say what works and what is missing", description=__doc__.splitlines()[0])
    doctor.set_defaults(handler=cmd_doctor)


def cmd_doctor(args: argparse.Namespace) -> int:
    try:
        loaded = load_settings(args.config)
        findings = run_checks(loaded)
    except CoachError as exc:
        loaded = LoadedSettings(Settings(), None, {})
        findings = [Finding("config", False, exc.problems[0], "fix the line above; `coach config` shows the settings")]
        findings += run_checks(loaded, CHECKS[1:])
    print_findings(findings, sys.stdout)
    return 0 if all(f.ok for f in findings) else 1


def print_findings(findings: list[Finding], out: Any) -> None:
    width = max(len(f.name) for f in findings)
    for finding in findings:
        mark = "ok     " if finding.ok else "MISSING"
        out.write(f"{mark}  {finding.name:<{width}}  {finding.detail}\n")
        if not finding.ok and finding.fix:
            out.write(f"{'':7}  {'':<{width}}  fix: {finding.fix}\n")
