"""Config: defaults, sources, and errors that name file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from coach.errors import ConfigError
from coach.spec.config import load_settings, settings_table


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
