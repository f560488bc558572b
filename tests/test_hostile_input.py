"""Hostile and clumsy input (issue 13): special files, odd YAML values, escape sequences, a broken event sink, keys.

Every case gets one clear line naming the file and line, exit 2 where a command fails, never a
traceback, a hang or a full memory. What could hang or fill memory runs in a child process with a
timeout and a memory cap; the rest runs here.
"""

from __future__ import annotations

import io
import json
import os
import pty
import queue
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, ROUTINES, CoachHere, Ran

from coach.controls.keyboard import MAX_LINE, KeyboardInput
from coach.core.messages import CommandName, Say
from coach.errors import CoachError, ConfigError, InputScriptError, LocaleError
from coach.run.eventlog import EventSink
from coach.run.inputs import Input, read_input_script
from coach.run.wiring import open_events
from coach.spec.config import load_settings
from coach.spec.locale import Locale, _parse
from coach.spec.routine import load_routine
from coach.spec.yamlsrc import parse_yaml, read_yaml
from coach.voice.speaker import ConsoleSpeaker

GOOD = (ROUTINES / "quick-start.yaml").read_text(encoding="utf-8")
ESC = "\x1b"


def _routine(tmp_path: Path, old: str, new: str, name: str = "r.yaml") -> Path:
    assert old in GOOD
    path = tmp_path / name
    path.write_text(GOOD.replace(old, new, 1), encoding="utf-8")
    return path


def _one_line(ran: Ran, start: str, needle: str) -> str:
    assert ran.returncode == 2, (ran.stdout, ran.stderr)
    assert "Traceback" not in ran.stderr and ESC not in ran.stderr and ESC not in ran.stdout
    lines = ran.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(start), lines[0]
    assert needle in lines[0], lines[0]
    return lines[0]


# --- special files ------------------------------------------------------------------------------

_CHILD = """
import contextlib, io, json, os, resource, signal, sys
resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))  # a read of /dev/zero fails here, not on the machine
from coach.cli import main as cli

def hung(*_):
    raise TimeoutError("hung")

signal.signal(signal.SIGALRM, hung)
results = []
for path in sys.argv[1:]:
    for how, args in [
        ("routine", ["plan", path]),
        ("config", ["--config", path, "config"]),
        ("env", ["config"]),
        ("script", ["run", "quick-start", "--simulate", "--no-voice", "--input-script", path]),
    ]:
        os.environ["COACH_CONFIG"] = path if how == "env" else ""
        err = io.StringIO()
        signal.alarm(5)
        try:
            with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
                code = cli.main(args)
        except BaseException as exc:
            code = repr(exc)
        finally:
            signal.alarm(0)
        results.append([path, how, code, err.getvalue()])
print(json.dumps(results))
"""


def test_hostile_special_files_are_refused_at_once(tmp_path: Path) -> None:
    """A FIFO, /dev/zero and /dev/urandom as routine, config (both ways) and input script: one line, exit 2, at once.

    One child process for all twelve: each case has 5 s (SIGALRM) and the child 2 GB.
    """
    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "none"), "PYTHONPATH": str(ROOT)}
    paths = [str(fifo), "/dev/zero", "/dev/urandom"]
    done = subprocess.run([sys.executable, "-c", _CHILD, *paths], capture_output=True, text=True, env=env, cwd=ROOT, timeout=90)
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    assert len(results) == 12
    for path, how, code, err in results:
        assert code == 2, (path, how, code)
        _one_line(Ran(code, "", err), f"{path}:0:", "is not a regular file")


def test_hostile_reading_never_trusts_the_size(tmp_path: Path) -> None:
    path = tmp_path / "grows.yaml"
    path.write_text("id: x\n" + "#" * (600 * 1024) + "\n", encoding="utf-8")
    with pytest.raises(CoachError, match="too large"):
        read_yaml(path)
    script = tmp_path / "in.txt"
    script.write_text("1 pause\n" * 200_000, encoding="utf-8")
    with pytest.raises(InputScriptError, match=r"in\.txt:0: file is too large"):
        read_input_script(script)


# --- YAML values --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "needle"),
    [
        ("!!int xyz", "'xyz' is not a whole number"),
        ("!!float xyz", "'xyz' is not a number"),
        ("!!bool xyz", "'xyz' is not true or false"),
        ("!!timestamp xyz", "'xyz' is not a date"),
        ("!!timestamp 2024-13-45", "'2024-13-45' is not a date"),
        ("9" * 5000, "a number of 5000 characters is too long"),
        ("-" + "1" * 400 + ".5", "a number of 403 characters is too long"),
        ("2024-01-01", "contract_seconds: must be a number, got '2024-01-01'"),
        ("2024-01-01 10:00:00", "contract_seconds: must be a number, got '2024-01-01 10:00:00'"),
    ],
)
def test_hostile_yaml_values_one_line(tmp_path: Path, coach_here: CoachHere, value: str, needle: str) -> None:
    path = _routine(tmp_path, "contract_seconds: 8", f"contract_seconds: {value}")
    _one_line(coach_here("validate", str(path)), f"{path}:29:", needle)


def test_hostile_huge_number_as_key_and_as_text(tmp_path: Path, coach_here: CoachHere) -> None:
    path = _routine(tmp_path, "title: Quick start", "title: " + "7" * 4400)
    _one_line(coach_here("validate", str(path)), f"{path}:5:", "too long")
    path = _routine(tmp_path, "title: Quick start", "title: Quick start\n? " + "8" * 4400 + "\n: 1")
    _one_line(coach_here("validate", str(path)), f"{path}:6:", "too long")


def test_hostile_dates_where_text_goes_stay_as_written(tmp_path: Path) -> None:
    routine = load_routine(_routine(tmp_path, "title: Quick start", "title: 2024-01-01T10:00:00Z"))
    assert routine.title == "2024-01-01T10:00:00Z"  # not "2024-01-01 10:00:00+00:00"
    assert parse_yaml("a: 2024-02-03\n", "x.yaml").plain() == {"a": "2024-02-03"}


@pytest.mark.parametrize(
    ("old", "new", "line", "needle"),
    [
        ("title: Quick start", 'title: "\\e[31mRed\\a"', 5, r"holds '\x1b'"),
        ("title: Quick start", 'title: "Quick\\x9b2Jstart"', 5, r"holds '\x9b'"),
        ("title: Quick start", 'title: "abc\\u202Edef"', 5, r"holds '\u202e'"),
        ("title: Quick start", 'title: Quick start\n"\\e]0;pwned\\a": 1', 6, r"\x1b]0;pwned\x07: unknown field"),
        ("    name: Lower back release", '    name: "\\u200B\\u200B"', 15, r"only invisible characters '\u200b\u200b'"),
        ("    name: Lower back release", '    name: "\\u3164 \\u2800"', 15, "only invisible characters"),
        ("title: Quick start", 'title: Quick start\n"\\e[2J": 1\n"\\e[2J": 2', 7, r"'\x1b[2J' is given twice"),
    ],
)
def test_hostile_text_control_and_invisible_characters(
    tmp_path: Path, coach_here: CoachHere, old: str, new: str, line: int, needle: str
) -> None:
    path = _routine(tmp_path, old, new)
    _one_line(coach_here("validate", str(path)), f"{path}:{line}:", needle)


@pytest.mark.parametrize(
    ("content", "line", "needle"), [(b"id: x\ntitle: a\x1bb\n", 2, r"'\x1b'"), (b"id: x\n\n# \xc2\x9b\n", 3, r"'\x9b'")]
)
def test_hostile_raw_control_characters_one_line(
    tmp_path: Path, coach_here: CoachHere, content: bytes, line: int, needle: str
) -> None:
    path = tmp_path / "raw.yaml"
    path.write_bytes(content)
    message = f"the character {needle} (a control character) is not allowed"
    _one_line(coach_here("validate", str(path)), f"{path}:{line}:", message)


def test_hostile_a_file_name_with_an_escape_is_shown_escaped(tmp_path: Path, coach_here: CoachHere) -> None:
    path = tmp_path / f"{ESC}]0;title{ESC}\\.yaml"
    path.write_text("just a sentence\n", encoding="utf-8")
    ran = coach_here("validate", str(path))
    assert ran.returncode == 2 and ESC not in ran.stderr and "\\x1b]0;title" in ran.stderr


# --- config ---------------------------------------------------------------------------------------


def test_hostile_config_named_by_environment_must_exist(tmp_path: Path, coach_here: CoachHere) -> None:
    missing = tmp_path / "nope.yaml"
    _one_line(coach_here("config", env={"COACH_CONFIG": str(missing)}), f"{missing}:0:", "no such file (named by $COACH_CONFIG)")
    _one_line(coach_here("config", env={"COACH_CONFIG": str(tmp_path)}), f"{tmp_path}:0:", "is a directory")


def test_hostile_config_unknown_language_and_bad_values(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text('voice:\n  rate: 150\nlanguage: xx\nsession:\n  auto_accept_seconds: !!float nope\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"c\.yaml:5: 'nope' is not a number"):
        load_settings(path)
    path.write_text("voice:\n  rate: 150\nlanguage: xx\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert caught.value.problems == [f"{path}:3: language: no locale for 'xx'; available: en, ko"]
    path.write_text('language: "\\e[0m"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"c\.yaml:1: language: holds '\\x1b'"):
        load_settings(path)


# --- locales --------------------------------------------------------------------------------------


def _locale_text(**changes: str) -> str:
    text = (ROOT / "coach" / "spec" / "locales" / "en.yaml").read_text(encoding="utf-8")
    for old, new in changes.items():
        assert old in text
        text = text.replace(old, new, 1)
    return text


@pytest.mark.parametrize(
    ("old", "new", "needle"),
    [
        ('  get_ready: "Get ready."', '  get_ready: "\\e[5mGet ready."', r"phrase 'get_ready' holds '\x1b'"),
        ('  get_ready: "Get ready."', "  get_ready: {a: 1}", "phrase 'get_ready' must be text, got a mapping"),
        ('  get_ready: "Get ready."', '  get_ready: "\\u200b"', "phrase 'get_ready' must be text that can be seen"),
        ("numbers:\n", "numbers:\n  eleven: [eleven]\n", "numbers: 'eleven' is not a rating from 0 to 10"),
        ('  welcome: "Welcome. {title}."', '  welcome: "Welcome. {title.__class__}."', "placeholder {title.__class__} must be"),
    ],
)
def test_hostile_locale_values(old: str, new: str, needle: str) -> None:
    text = _locale_text(**{old: new})
    with pytest.raises(LocaleError, match="^en.yaml:[0-9]+: ") as caught:
        _parse(parse_yaml(text, "en.yaml"), "en")
    assert needle in str(caught.value) and ESC not in str(caught.value)


# --- input scripts --------------------------------------------------------------------------------


def test_hostile_input_script_lines(tmp_path: Path) -> None:
    path = tmp_path / "in.txt"
    path.write_bytes(f"1 rating ³\n2 heard \x1b[31mhi\n3 heard my pain is ³\n4 rating {'9' * 5000}\n5 rating ٣\n".encode())
    with pytest.raises(InputScriptError) as caught:
        read_input_script(path)
    assert caught.value.problems == [
        f"{path}:1: 'rating' needs one whole number from 0 to 10",
        f"{path}:2: 'heard' words hold the control character '\\x1b'",
        f"{path}:4: 'rating' needs one whole number from 0 to 10",
    ]
    path.write_bytes(b"1 pause\n2 resume\n3 heard \xff\xfe\n")
    with pytest.raises(InputScriptError, match=r"in\.txt:3: not UTF-8 text \(byte 0xff\)"):
        read_input_script(path)
    path.write_bytes(b"1 pause\x1c2 resume\n")  # \x1c is a line break to str.splitlines, not to a person
    with pytest.raises(InputScriptError, match=r"in\.txt:1: 'pause' takes no value"):
        read_input_script(path)
    path.write_bytes(b"1 pause\r\n2 resume\r3 stop\r\n4 paws\n")  # Windows and old Mac line ends count as lines
    with pytest.raises(InputScriptError, match=r"in\.txt:4: unknown command 'paws'"):
        read_input_script(path)


# --- the keyboard ---------------------------------------------------------------------------------


def _keys(en: Locale, data: bytes, out: io.StringIO) -> list[Input]:
    inbox: queue.Queue[Input] = queue.Queue()
    stdin = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8")  # like sys.stdin: text over bytes
    KeyboardInput(inbox, en, stdin, out=out)._run()
    return [inbox.get_nowait() for _ in range(inbox.qsize())]


def test_hostile_keyboard_survives_any_key(en: Locale) -> None:
    out = io.StringIO()
    long_line = b"x" * (3 * MAX_LINE) + b"\n"
    items = _keys(en, "³\n".encode() + b"\xff\xfe\x80\n" + long_line + b"\x1b[2J\n" + b"p\n7\n", out)
    assert [(i.kind, i.value) for i in items if i.kind in ("command", "rating", "closed")] == [
        ("command", CommandName.PAUSE),
        ("rating", 7),
        ("closed", ""),
    ]
    told = out.getvalue().splitlines()
    assert told[0] == "coach: did not understand '³'; type a number 0-10, or p, r, n, s, h"
    assert "did not understand" in told[1]
    assert told[2] == f"coach: that line was too long (over {MAX_LINE} bytes) and is ignored"
    assert told[3] == "coach: did not understand '\\x1b[2J'; type a number 0-10, or p, r, n, s, h"
    assert told[4] == "coach: keyboard input ended; the session goes on (Ctrl-C stops it)"
    assert ESC not in out.getvalue()


def test_hostile_keyboard_through_a_pty_ctrl_d_is_not_the_end(en: Locale) -> None:
    """A real terminal: Ctrl-D at the start of a line reads as an end of input, but the person is still there."""
    main, child = pty.openpty()
    stdin = os.fdopen(child, "r", encoding="utf-8")
    inbox: queue.Queue[Input] = queue.Queue()
    out = io.StringIO()
    keyboard = KeyboardInput(inbox, en, stdin, out=out)
    keyboard.start()
    try:
        for data in ("³\n".encode(), b"\x04", b"p\n", "٣\n".encode(), b"r\n"):
            os.write(main, data)
        got = []
        while len(got) < 4:
            item = inbox.get(timeout=5)
            got.append((item.kind, item.value))
        assert got == [
            ("unrecognised", "³"),
            ("command", CommandName.PAUSE),
            ("rating", 3),
            ("command", CommandName.RESUME),
        ]
        assert "Ctrl-D does nothing here" in out.getvalue()
    finally:
        os.close(main)  # the terminal hangs up: the keyboard ends
        keyboard._thread.join(timeout=5)
        stdin.close()
    assert not keyboard._thread.is_alive()
    assert inbox.get(timeout=1).kind == "closed"


# --- the event sink -------------------------------------------------------------------------------


def test_hostile_event_sink_broken_pipe_says_once_and_goes_on() -> None:
    read, write = os.pipe()
    os.close(read)
    complaints = io.StringIO()
    sink = EventSink(os.fdopen(write, "w", encoding="utf-8", buffering=1), complaints)
    for t in range(5):
        sink.emit("say", float(t), text="x")
    sink.close()
    assert sink.lost == "Broken pipe"
    assert complaints.getvalue().splitlines() == [
        "coach: events are lost from here on (Broken pipe); the session goes on and its log is kept"
    ]


def test_hostile_event_sink_full_device_and_closed_stream() -> None:
    complaints = io.StringIO()
    stream = open_events("/dev/full")
    sink = EventSink(stream, complaints)
    sink.emit("say", 0.0, text="x")
    sink.emit("say", 1.0, text="y")
    sink.close()
    assert complaints.getvalue().count("events are lost") == 1 and "No space left on device" in complaints.getvalue()
    assert os.stat("/dev/full").st_mode & 0o777 == 0o666  # a device's mode is left alone
    closed = io.StringIO()
    closed.close()
    complaints = io.StringIO()
    sink = EventSink(closed, complaints)
    sink.emit("say", 0.0, text="x")
    assert complaints.getvalue().count("events are lost") == 1


def test_hostile_event_sink_escapes_what_a_terminal_acts_on() -> None:
    stream = io.StringIO()
    EventSink(stream).emit("unrecognised", 0.0, text="a\x9b2Jb\u202ec\x1b")
    line = stream.getvalue()
    assert "\x9b" not in line and "\u202e" not in line and ESC not in line
    assert json.loads(line)["text"] == "a\x9b2Jb\u202ec\x1b"  # still the same JSON


def test_hostile_events_file_is_private_and_no_symlink_is_followed(tmp_path: Path) -> None:
    fresh = tmp_path / "new.jsonl"
    old_umask = os.umask(0o022)
    try:
        stream = open_events(str(fresh))
        assert stream is not None
        stream.close()
        assert fresh.stat().st_mode & 0o777 == 0o600
        existing = tmp_path / "old.jsonl"
        existing.write_text("old\n")
        existing.chmod(0o644)
        stream = open_events(str(existing))
        assert stream is not None
        stream.close()
        assert existing.stat().st_mode & 0o777 == 0o600 and existing.read_text() == ""
    finally:
        os.umask(old_umask)
    target = tmp_path / "elsewhere"
    link = tmp_path / "events.jsonl"
    link.symlink_to(target)
    with pytest.raises(CoachError, match="is a symbolic link"):
        open_events(str(link))
    assert not target.exists()
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(CoachError, match="is a FIFO with no reader"):
        open_events(str(fifo))  # refused, not waited on


@pytest.mark.parametrize("stdout", ["reader gone", "closed"])
def test_hostile_events_to_a_reader_that_goes_away(tmp_path: Path, stdout: str) -> None:
    """``coach run --simulate --events - | head -1``, or ``>&-``: the session still runs to its end, and is logged.

    The reader is gone before the first event (so the pipe's buffer cannot hide the fault).
    """
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "none"), "COACH_CONFIG": "", "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "coach", "run", "quick-start", "--simulate", "--no-voice", "--events", "-"]
    command += ["--state-dir", str(tmp_path / "state")]
    read, write = os.pipe()
    os.close(read)
    try:
        done = subprocess.run(
            command,
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=ROOT,
            timeout=60,
            preexec_fn=(lambda: os.close(1)) if stdout == "closed" else None,
        )
    finally:
        os.close(write)
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("events are lost") == 1 and "Traceback" not in done.stderr and "Exception ignored" not in done.stderr
    assert "[session ended]" in done.stderr
    with sqlite3.connect(tmp_path / "state" / "coach.db") as db:
        assert db.execute("SELECT count(*) FROM sessions").fetchone() == (1,)


# --- the console ----------------------------------------------------------------------------------


def test_hostile_console_speaker_never_prints_an_escape() -> None:
    out = io.StringIO()
    speaker = ConsoleSpeaker(out, hints={"paused": "r \x1b[8m"})
    speaker.speak(Say("Lift\x1b]0;x\x07 now\u202e", 1.0, "setup\x1b[2J"), 1.0)
    speaker.show_state("paused", 1.0)
    assert ESC not in out.getvalue() and "\x07" not in out.getvalue() and "\u202e" not in out.getvalue()
    assert "Lift\\x1b]0;x\\x07 now\\u202e" in out.getvalue()


def test_hostile_config_path_with_an_escape_sequence_is_printed_escaped_by_coach_config(tmp_path: Path) -> None:
    folder = tmp_path / "evil\x1b]0;owned\x07"
    folder.mkdir()
    config = folder / "config.yaml"
    config.write_text("voice:\n  rate: 140\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "coach", "--config", str(config), "config"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout
    assert "\\x1b]0;owned\\x07" in result.stdout and "voice.rate = 140" in result.stdout
