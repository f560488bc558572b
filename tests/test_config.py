"""Config: defaults, sources, and errors that name file and line."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from conftest import CoachHere

from coach.errors import CoachError, ConfigError
from coach.run.wiring import session_settings
from coach.spec.config import load_settings, settings_table
from coach.spec.locale import available_languages
from coach.spec.routine import find_routine, load_routine
from coach.spec.settings import SafetyRules, SessionSettings
from coach.voice.hearing import HearingSettings


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(body, encoding="utf-8")
    return path


def test_config_defaults_when_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.delenv("COACH_CONFIG", raising=False)
    loaded = load_settings()
    if Path("/etc/coach/config.yaml").exists():
        pytest.skip("this machine has a system config")
    assert loaded.path is None
    assert loaded.settings.safety.stop_exercise_above == 5
    assert all(source == "default" for _, _, source in settings_table(loaded))


def test_config_values_and_sources(tmp_path: Path) -> None:
    path = _write(tmp_path, "language: en\nsafety:\n  end_session_at: 7\ncontrols:\n  layout: three-buttons\n")
    loaded = load_settings(path)
    assert loaded.settings.safety.end_session_at == 7
    assert loaded.settings.controls.layout == "three-buttons"
    assert loaded.sources["safety.end_session_at"] == f"{path}:3"
    assert loaded.sources["safety.end_session_rise"] == "default"


def test_config_empty_file_is_all_defaults(tmp_path: Path) -> None:
    loaded = load_settings(_write(tmp_path, "# nothing yet\n"))
    assert loaded.settings.voice.rate == 150


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("voice:\n  rate: 20\n", ":2: rate: must be between 80 and 260 words per minute, got 20"),
        ("voice: fast\n", ":1: voice: must be a mapping"),
        (
            "controls:\n  layout: two-buttons\n",
            ":2: layout: must be one of auto, none, one-button, three-buttons, encoder, got 'two-buttons'",
        ),
        ("controls:\n  button_pin: 40\n", ":2: button_pin: must be between 2 and 27 BCM, got 40"),
        ("controls:\n  layout: three-buttons\n  up_pin: 22\n", ": up_pin: BCM 22 is already used by down_pin"),
        ("safty:\n  end_session_at: 7\n", ":1: safty: unknown field in the config (did you mean 'safety'?)"),
        ("- a\n", ":1: the config must be a mapping"),
        ("voice:\n  rate: [1, 2\n", "YAML syntax error"),
    ],
)
def test_config_errors_name_file_and_line(tmp_path: Path, body: str, expected: str) -> None:
    path = _write(tmp_path, body)
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert str(caught.value).startswith(str(path))
    assert expected in str(caught.value)


def test_config_missing_explicit_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        load_settings(tmp_path / "absent.yaml")


def test_config_long_hold_must_be_longer_than_hold(tmp_path: Path) -> None:
    path = _write(tmp_path, "controls:\n  hold_seconds: 2\n  long_hold_seconds: 2.5\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert str(caught.value) == f"{path}:3: long_hold_seconds: must be at least 1 second longer than hold_seconds (2), got 2.5"


def test_config_lists_every_key_in_the_file_order(tmp_path: Path) -> None:
    """``coach config`` lists the file's keys as they always were, whichever dataclass holds them."""
    keys = [key for key, _, _ in settings_table(load_settings(_write(tmp_path, "")))]
    assert keys[:4] == ["language", "state_dir", "routines_dir", "profile"]
    assert [k for k in keys if k.startswith("recognition.")] == [
        "recognition.enabled",
        "recognition.model_path",
        "recognition.auto_accept_seconds",
        "recognition.early_final",
    ]
    sections = list(dict.fromkeys(k.partition(".")[0] for k in keys if "." in k))
    assert sections == ["voice", "audio", "recognition", "session", "controls", "safety", "sync", "programme", "kiosk"]
    assert [k for k in keys if k.startswith(("session.", "safety."))] == [
        "session.answer_seconds",
        "session.red_flag_screen",
        "safety.stop_exercise_above",
        "safety.end_session_at",
        "safety.end_session_rise",
    ]


def test_config_feeds_the_session_one_dataclass(tmp_path: Path) -> None:
    """The file's session, recognition and safety keys land in the very SessionSettings the session
    runs with; a routine's ``safety:`` overrides apply on top, the rest stay as configured."""
    path = _write(
        tmp_path,
        "session:\n  answer_seconds: 9\nrecognition:\n  auto_accept_seconds: 6\n"
        "safety:\n  end_session_at: 7\n  end_session_rise: 4\n",
    )
    loaded = load_settings(path)
    assert loaded.settings.session == SessionSettings(9.0, 6.0, SafetyRules(5, 7, 4))
    assert loaded.settings.safety is loaded.settings.session.rules
    routine = load_routine(find_routine("quick-start"), available_languages())
    overridden = dataclasses.replace(routine, safety={"stop_exercise_above": 3})
    assert session_settings(loaded, overridden) == SessionSettings(9.0, 6.0, SafetyRules(3, 7, 4))
    assert session_settings(load_settings(_write(tmp_path, "")), routine) == SessionSettings()


@pytest.mark.parametrize(("early_final", "seconds"), [("true", HearingSettings().early_final_seconds), ("false", None)])
def test_config_recognition_feeds_the_hearing(tmp_path: Path, early_final: str, seconds: float | None) -> None:
    loaded = load_settings(_write(tmp_path, f"recognition:\n  early_final: {early_final}\n"))
    hearing = HearingSettings.configured(loaded.settings.recognition)
    assert hearing.early_final_seconds == seconds
    assert dataclasses.replace(hearing, early_final_seconds=None) == HearingSettings(early_final_seconds=None)


def test_routine_safety_overrides_keep_the_config_bounds(tmp_path: Path) -> None:
    """A routine's ``safety:`` keys are checked against the same bounds as the config's."""
    source = find_routine("quick-start").read_text(encoding="utf-8")
    path = tmp_path / "strict.yaml"
    path.write_text(source + "safety:\n  end_session_at: 0\n", encoding="utf-8")
    with pytest.raises(CoachError) as caught:
        load_routine(path, available_languages())
    assert "end_session_at: must be between 1 and 10, got 0" in str(caught.value)


@pytest.mark.parametrize(
    ("key", "value", "bounds"),
    [
        ("stop_exercise_above", 10, "between 0 and 8"),  # no rating is above 10
        ("stop_exercise_above", 9, "between 0 and 8"),  # only a 10 is above 9, and a 10 always ends the session first
        ("end_session_at", 11, "between 1 and 10"),
        ("end_session_rise", 10, "between 1 and 9"),  # 0 to 10: the end rule, at most 10, takes it first
    ],
)
def test_config_safety_rules_that_could_never_fire_are_refused(tmp_path: Path, key: str, value: int, bounds: str) -> None:
    path = _write(tmp_path, f"voice:\n  rate: 140\nsafety:\n  {key}: {value}\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert caught.value.problems == [f"{path}:4: {key}: must be {bounds}, got {value}"]


@pytest.mark.parametrize(
    ("key", "value", "bounds"),
    [
        ("stop_exercise_above", 10, "between 0 and 8"),
        ("stop_exercise_above", 9, "between 0 and 8"),
        ("end_session_rise", 10, "between 1 and 9"),
    ],
)
def test_routine_safety_rules_that_could_never_fire_are_refused(tmp_path: Path, key: str, value: int, bounds: str) -> None:
    """A routine's ``safety:`` keys have the config's bounds: none can switch a rule off."""
    source = find_routine("quick-start").read_text(encoding="utf-8")
    path = tmp_path / "off.yaml"
    path.write_text(source + f"safety:\n  {key}: {value}\n", encoding="utf-8")
    with pytest.raises(CoachError) as caught:
        load_routine(path, available_languages())
    line = len(source.splitlines()) + 2
    assert caught.value.problems == [f"{path}:{line}: {key}: must be {bounds}, got {value}"]


def _strict_config_and_loose_routine(tmp_path: Path) -> tuple[Path, Path]:
    config = _write(tmp_path, "safety:\n  stop_exercise_above: 3\n  end_session_at: 7\n")
    source = find_routine("quick-start").read_text(encoding="utf-8")
    routine = tmp_path / "loose.yaml"
    safety = "safety:\n  stop_exercise_above: 4\n  end_session_at: 6\n  end_session_rise: 5\n"
    routine.write_text(source + safety, encoding="utf-8")
    return config, routine


def test_routine_safety_may_only_tighten_the_configured_rules(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A routine asking for a looser rule than the config gets the configured one, and one line per key
    naming the routine's file and line, the configured value and where it was set; a stricter key applies."""
    config, path = _strict_config_and_loose_routine(tmp_path)
    loaded = load_settings(config)
    routine = load_routine(path, available_languages())
    settings = session_settings(loaded, routine)
    assert settings.rules == SafetyRules(stop_exercise_above=3, end_session_at=6, end_session_rise=3)
    at = len(find_routine("quick-start").read_text(encoding="utf-8").splitlines()) + 2
    assert capsys.readouterr().err.splitlines() == [
        f"{path}:{at}: safety: stop_exercise_above: 4 is looser than the configured 3 ({config}:2); "
        "a routine may only make the pain rules stricter, so 3 applies",
        f"{path}:{at + 2}: safety: end_session_rise: 5 is looser than the configured 3 (the built-in default); "
        "a routine may only make the pain rules stricter, so 3 applies",
    ]
    assert session_settings(loaded, routine) == settings
    assert capsys.readouterr().err == ""  # said once: a kiosk builds the settings for every session


def test_routine_safety_a_looser_routine_still_runs_under_the_configured_rules(tmp_path: Path, coach_here: CoachHere) -> None:
    """``coach run`` is not refused: the patient gets the session under the clinic's rules, and the line."""
    config, path = _strict_config_and_loose_routine(tmp_path)
    result = coach_here("--config", str(config), "run", str(path), "--simulate", "--no-voice", "--state-dir", str(tmp_path / "s"))
    assert result.returncode == 0, result.stderr
    notes = [line for line in result.stderr.splitlines() if "is looser than the configured" in line]
    assert [note.split(": safety: ")[1].split(":")[0] for note in notes] == ["stop_exercise_above", "end_session_rise"]


def test_routine_safety_shipped_routines_ask_for_nothing_looser_than_the_defaults() -> None:
    from coach.spec.routine import routine_paths

    defaults = SafetyRules()
    for name, path in routine_paths().items():
        routine = load_routine(path, available_languages())
        assert defaults.looser(routine.safety) == {}, name
        assert defaults.with_overrides(routine.safety) == SafetyRules(**(dataclasses.asdict(defaults) | routine.safety)), name
