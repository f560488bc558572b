"""`coach validate` against a broad set of broken files: one clean line each, exit 2, no traceback.

In this process (``cli.main``, output captured at the file descriptors), and once as a real
process, for the file that tries to run a command."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import ROOT, ROUTINES, CoachHere, Ran

GOOD = (ROUTINES / "quick-start.yaml").read_text(encoding="utf-8")

Validate = Callable[..., Ran]


@pytest.fixture
def validate(coach_here: CoachHere) -> Validate:
    """``validate(*paths)``: ``coach validate`` on them, with the phrase cache of the environment."""

    def run(*paths: Path | str, cwd: Path = ROOT) -> Ran:
        return coach_here("validate", *map(str, paths), cwd=cwd)

    return run


def validate_in_a_process(*paths: Path | str) -> Ran:
    env = {**os.environ, "XDG_CONFIG_HOME": str(ROOT / "no-such-config-home"), "COACH_CONFIG": ""}
    command = [sys.executable, "-m", "coach", "validate", *map(str, paths)]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env, timeout=60)
    return Ran(done.returncode, done.stdout, done.stderr)


def _one_clean_line(result: Ran, path: Path, needle: str) -> str:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"{path}:"), lines[0]
    assert needle in lines[0], lines[0]
    return lines[0]


def test_validate_shipped_routines_are_valid(validate: Validate) -> None:
    paths = sorted(ROUTINES.glob("*.yaml"))
    assert len(paths) >= 4
    result = validate(*paths)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count(": ok") == len(paths)
    assert "warning" not in result.stderr, result.stderr  # every phrase fits its slot at the default voice


@pytest.mark.parametrize(
    ("content", "needle", "line"),
    [
        (b"", "the file is empty", 1),
        (b"# only a comment\n\n", "the file is empty", 1),
        (b"id: x\ntitle: [unclosed\nexercises: []\n", "YAML syntax error", 3),
        (b"id: x\n\x00\x01\x02binary", "binary data", 2),
        (b"id: x\ntitle: caf\xe9\n", "not UTF-8", 2),
        (b"- just\n- a list\n", "must be a mapping", 1),
        (b"just a sentence\n", "must be a mapping", 1),
    ],
)
def test_validate_unreadable_files(tmp_path: Path, content: bytes, needle: str, line: int, validate: Validate) -> None:
    path = tmp_path / "broken.yaml"
    path.write_bytes(content)
    message = _one_clean_line(validate(path), path, needle)
    assert message.startswith(f"{path}:{line}:")


def test_validate_missing_file_and_directory(tmp_path: Path, validate: Validate) -> None:
    missing = tmp_path / "nope.yaml"
    _one_clean_line(validate(missing), missing, "no such file")
    folder = tmp_path / "dir.yaml"
    folder.mkdir()
    _one_clean_line(validate(folder), folder, "is a directory")


def test_validate_huge_file(tmp_path: Path, validate: Validate) -> None:
    path = tmp_path / "huge.yaml"
    path.write_text(GOOD + "#" + "x" * (2 * 1024 * 1024) + "\n", encoding="utf-8")
    _one_clean_line(validate(path), path, "too large")


def test_validate_alias_bomb(tmp_path: Path, validate: Validate) -> None:
    rows = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    rows += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    _one_clean_line(validate(path), path, "too many values")


def test_validate_python_tag_never_runs(tmp_path: Path, validate: Validate) -> None:
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.yaml"
    path.write_text(f"id: !!python/object/apply:os.system ['touch {marker}']\ntitle: x\n", encoding="utf-8")
    _one_clean_line(validate(path), path, "is not allowed")
    assert not marker.exists()
    other = tmp_path / "evil2.yaml"
    other.write_text(f"!!python/object/new:subprocess.Popen [['touch', '{marker}']]\n", encoding="utf-8")
    _one_clean_line(validate_in_a_process(other), other, "is not allowed")  # a real process, as a user runs it
    assert not marker.exists()


@pytest.mark.parametrize(
    ("old", "new", "needle"),
    [
        (
            "    repetitions: 3\n",
            "    repetitons: 3\n",
            "repetitons: unknown field in a 'pir' exercise (did you mean 'repetitions'?)",
        ),
        ("    contract_seconds: 8\n", "    contract_seconds: 60\n", "contract_seconds: must be between 3 and 30 seconds, got 60"),
        ("    contract_seconds: 8\n", "    contract_seconds: five\n", "contract_seconds: must be a number, got 'five'"),
        ("    repetitions: 3\n", "    repetitions: 2.5\n", "repetitions: must be a whole number, got 2.5"),
        ("  - kind: pir\n", "  - kind: pri\n", "kind: must be one of pir, reps, hold, rest, got 'pri' (did you mean 'pir'?)"),
        ("id: quick-start\n", "id: Quick Start\n", "id: use lower-case letters"),
        ("language: en\n", "language: xx\n", "language: no locale for 'xx'"),
        ("title: Quick start\n", "", "title: missing (required in the routine)"),
        ("  before: true\n", "  before: maybe\n", "before: must be true or false, got 'maybe'"),
        ("    id: pelvic-tilt\n", "    id: back-release\n", "'back-release' is used twice"),
        ("    sides: both\n", "    sides: middle\n", "sides: must be one of none, left, right, both"),
    ],
)
def test_validate_field_problems_name_file_line_and_field(
    tmp_path: Path, old: str, new: str, needle: str, validate: Validate
) -> None:
    assert old in GOOD, old
    body = GOOD.replace(old, new, 1)
    path = tmp_path / "r.yaml"
    path.write_text(body, encoding="utf-8")
    message = _one_clean_line(validate(path), path, needle)
    line = int(message.split(":")[1])
    if "used twice" in needle:  # points at the second exercise that has the id
        assert body.splitlines()[line - 1] == "  - kind: reps"
    elif new:  # points at the line that was changed
        assert body.splitlines()[line - 1] == new.rstrip("\n")
    else:  # a missing field: points at the start of the mapping that lacks it
        assert line == next(i for i, text in enumerate(body.splitlines(), 1) if not text.startswith("#"))


def test_validate_reports_every_problem_one_line_each(tmp_path: Path, validate: Validate) -> None:
    body = GOOD.replace("    repetitions: 3\n", "    repetitions: 99\n").replace(
        "    contract_seconds: 8\n", "    contract_secs: 8\n"
    )
    path = tmp_path / "r.yaml"
    path.write_text(body, encoding="utf-8")
    result = validate(path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2 and all(line.startswith(f"{path}:") for line in lines)


def test_validate_mixed_good_and_bad_exits_2(tmp_path: Path, validate: Validate) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: x\n", encoding="utf-8")
    result = validate(ROUTINES / "quick-start.yaml", bad)
    assert result.returncode == 2
    assert ": ok" in result.stdout
    assert all(line.startswith(f"{bad}:") for line in result.stderr.strip().splitlines())


def test_validate_unknown_routine_name(validate: Validate) -> None:
    result = validate("quick-strat")
    assert result.returncode == 2
    assert "no routine named 'quick-strat' (did you mean 'quick-start'?)" in result.stderr


@pytest.mark.parametrize(("key", "value"), [("stop_exercise_above", 10), ("stop_exercise_above", 9), ("end_session_rise", 10)])
def test_validate_a_safety_rule_that_can_never_fire_is_refused(tmp_path: Path, key: str, value: int, validate: Validate) -> None:
    """A routine cannot switch a pain rule off by setting it out of any rating's reach."""
    path = tmp_path / "r.yaml"
    path.write_text(GOOD + f"safety:\n  {key}: {value}\n", encoding="utf-8")
    message = _one_clean_line(validate(path), path, f"{key}: must be between")
    assert int(message.split(":")[1]) == len(GOOD.splitlines()) + 2


def test_validate_a_looser_safety_rule_is_named_and_the_configured_one_kept(tmp_path: Path, validate: Validate) -> None:
    """Valid on its own (another coach may be configured looser), but here the configured rule applies:
    validate says so in one line at the routine's line, and exits 0."""
    path = tmp_path / "r.yaml"
    path.write_text(GOOD + "safety:\n  stop_exercise_above: 6\n", encoding="utf-8")
    result = validate(path)
    assert result.returncode == 0, result.stderr
    [note] = [line for line in result.stderr.splitlines() if "safety:" in line]
    assert note == (
        f"{path}:{len(GOOD.splitlines()) + 2}: safety: stop_exercise_above: 6 is looser than the configured 5 "
        "(the built-in default); a routine may only make the pain rules stricter, so 5 applies"
    )


@pytest.mark.parametrize(
    ("old", "new", "needle"),
    [
        ("    sides: both\n", "    sides: none\n", "side_setup: needs 'sides: both' (or left or right)"),
        ("    sides: both\n", "    sides: left\n", "side_setup: 'right' is not done here (sides: left)"),
        ("      right: >\n", "      rigth: >\n", "rigth: unknown field in side_setup (did you mean 'right'?)"),
    ],
)
def test_validate_side_setup_problems_name_file_and_line(
    tmp_path: Path, old: str, new: str, needle: str, validate: Validate
) -> None:
    """Each side's own set-up (issue 14) is checked like any field: one line, with the file and line."""
    assert old in GOOD, old
    path = tmp_path / "r.yaml"
    path.write_text(GOOD.replace(old, new, 1), encoding="utf-8")
    result = validate(path)
    assert result.returncode == 2
    assert needle in result.stderr and result.stderr.startswith(f"{path}:"), result.stderr


def test_validate_side_setup_needs_every_side_done(tmp_path: Path, validate: Validate) -> None:
    body = GOOD.replace("      left: >\n", "      # left: >\n", 1).replace(
        "        Hug your left knee", "        # Hug your left knee", 1
    ).replace("        gently into your hands, a fifth", "        # gently into your hands, a fifth", 1)
    path = tmp_path / "r.yaml"
    path.write_text(body, encoding="utf-8")
    result = validate(path)
    assert result.returncode == 2 and "side_setup: missing 'left'" in result.stderr, result.stderr
