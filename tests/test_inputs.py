"""Typed inputs, parsed once and stamped where they happened: the input script, the keyboard, the feed."""

from __future__ import annotations

import io
import queue
import re
from pathlib import Path

import pytest
from conftest import ROOT, simulate

from coach.controls.keyboard import KeyboardInput
from coach.core.messages import PERSON_COMMANDS, Command, CommandName, Rating
from coach.errors import InputScriptError
from coach.run import inputs
from coach.run.clock import FakeClock, MonotonicClock
from coach.run.inputs import Feed, Input, read_input_script, session_time, to_event, understood
from coach.spec.locale import Locale
from coach.spec.routine import load_routine


def test_inputs_one_list_of_command_names() -> None:
    assert [str(c) for c in PERSON_COMMANDS] == ["start", "pause", "resume", "next", "repeat", "stop", "help", "yes", "no"]
    assert set(CommandName) - set(PERSON_COMMANDS) == {CommandName.WAIT, CommandName.ABANDON}
    for module in ("run/inputs.py", "spec/locale.py", "run/runner.py", "run/kiosk.py", "controls/layouts.py"):
        text = (ROOT / "coach" / module).read_text(encoding="utf-8")
        assert not re.search(r'"pause",\s*"resume"', text), module  # no copy of the list
        assert not re.search(r"^(REDIRECTING|WAKE_COMMANDS|SCRIPT_COMMANDS|COMMANDS)\b", text, re.MULTILINE), module


def test_inputs_a_bad_command_name_fails_where_it_is_written(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="'paws' is not a valid CommandName"):
        Input("command", "paws", "script")
    with pytest.raises(ValueError, match="'paws' is not a valid CommandName"):
        Command(0.0, "paws")  # type: ignore[arg-type]
    assert Input("command", "pause", "script").value is CommandName.PAUSE  # text from a test becomes the enum
    script = tmp_path / "in.txt"
    script.write_text("1 start\n2 paws\n3 wait\n")
    with pytest.raises(InputScriptError) as caught:
        read_input_script(script)
    assert caught.value.problems[0].startswith(f"{script}:2: unknown command 'paws'; known: start, pause,")
    assert caught.value.problems[1].startswith(f"{script}:3: unknown command 'wait'")  # not for a person to give


def test_inputs_script_commands_are_the_enum(tmp_path: Path) -> None:
    script = tmp_path / "in.txt"
    script.write_text("1 Pause\n2 heard my pain is six\n")
    pause, heard = read_input_script(script)
    assert pause == Input("command", CommandName.PAUSE, "script", 1.0) and type(pause.value) is CommandName
    assert heard == Input("heard", "my pain is six", "heard", 2.0)  # parsed when played: no locale here


def test_inputs_words_parsed_where_they_arrive_are_not_parsed_again(en: Locale, monkeypatch: pytest.MonkeyPatch) -> None:
    six = understood("my pain is six", inputs.parse_words("my pain is six", en), "voice", 3.0)
    stop = understood("stop", inputs.parse_words("stop", en), "voice")
    noise = understood("hello there", inputs.parse_words("hello there", en), "voice")
    assert (six.kind, six.value, six.words, six.shown()) == ("rating", 6, "my pain is six", ("heard", "my pain is six"))
    assert (stop.kind, stop.value, stop.shown()) == ("command", CommandName.STOP, ("heard", "stop"))
    assert (noise.kind, noise.value) == ("unrecognised", "hello there")

    def no_second_parse(text: str, locale: Locale) -> None:
        raise AssertionError(f"parsed again: {text!r}")

    monkeypatch.setattr(inputs, "parse_words", no_second_parse)
    assert to_event(six, 4.0, en) == Rating(4.0, 6, "voice")
    assert to_event(stop, 4.0, en) == Command(4.0, CommandName.STOP, "voice")
    assert to_event(noise, 4.0, en) is None


def test_inputs_a_script_heard_line_goes_through_the_parser_once(en: Locale, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    parse = inputs.parse_words

    def counted(text: str, locale: Locale) -> object:
        calls.append(text)
        return parse(text, locale)

    monkeypatch.setattr(inputs, "parse_words", counted)
    assert to_event(Input("heard", "seven", "heard", 5.0), 5.0, en) == Rating(5.0, 7, "heard")
    assert to_event(Input("heard", "um", "heard", 6.0), 6.0, en) is None
    assert calls == ["seven", "um"]


def test_inputs_the_keyboard_parses_each_line_once_and_stamps_it_when_read(en: Locale) -> None:
    clock = FakeClock(12.5)
    inbox: queue.Queue[Input] = queue.Queue()
    keyboard = KeyboardInput(inbox, en, io.StringIO("p\n7\nmy pain is three\n\n42\nstop\n"), clock=clock)
    keyboard._run()
    got = [inbox.get_nowait() for _ in range(inbox.qsize())]
    assert got == [
        Input("command", CommandName.PAUSE, "keyboard", 12.5),
        Input("rating", 7, "keyboard", 12.5),
        Input("rating", 3, "keyboard", 12.5, words="my pain is three"),
        Input("command", CommandName.START, "keyboard", 12.5),
        Input("unrecognised", "42", "keyboard", 12.5),
        Input("command", CommandName.STOP, "keyboard", 12.5, words="stop"),
        Input("closed", "", "keyboard"),
    ]
    assert all(type(i.value) is CommandName for i in got if i.kind == "command")


def test_inputs_session_time_of_a_moment_some_seconds_ago() -> None:
    assert session_time(FakeClock(10.0), 0.25) == 9.75
    assert session_time(FakeClock(10.0), -1.0) == 10.0  # a stamp is never in the future
    fast = MonotonicClock(speed=4.0)
    now = fast.now()
    assert now - 2.0 - 0.05 <= session_time(fast, 0.5) <= fast.now() - 2.0  # half a real second is 2 s of session


def test_inputs_feed_uses_the_time_an_input_was_stamped_with() -> None:
    clock = FakeClock(0.0)
    feed = Feed(clock, live=True)
    feed.inbox.put(Input("command", CommandName.PAUSE, "voice", -0.3))  # said before anything was handed out
    assert feed.next(None) == (Input("command", CommandName.PAUSE, "voice", -0.3), -0.3)
    assert feed.next(5.0) is None and clock.now() == 5.0  # the deadline is reached and acted on
    feed.inbox.put(Input("rating", 4, "voice", 4.6))  # ended before that deadline, recognised after it
    feed.inbox.put(Input("rating", 5, "keyboard"))  # unstamped: now
    clock.advance(1.0)
    feed.inbox.put(Input("rating", 6, "keyboard", 99.0))  # a stamp from before the clock was reset: now
    assert [feed.next(None) for _ in range(3)] == [
        (Input("rating", 4, "voice", 4.6), 5.0),  # never before a time already handed out
        (Input("rating", 5, "keyboard"), 6.0),
        (Input("rating", 6, "keyboard", 99.0), 6.0),
    ]
    clock.advance(1.0)
    feed.inbox.put(Input("rating", 7, "voice", 6.4))
    assert feed.next(None) == (Input("rating", 7, "voice", 6.4), 6.4)


def test_inputs_scripted_inputs_keep_their_own_times() -> None:
    clock = FakeClock()
    feed = Feed(clock, scripted=[Input("rating", 2, "script", 3.0), Input("command", "next", "script", 1.0)])
    assert feed.next(None) == (Input("command", CommandName.NEXT, "script", 1.0), 1.0)
    assert feed.next(None) == (Input("rating", 2, "script", 3.0), 3.0)


def test_inputs_words_parsed_at_the_source_make_the_same_event_stream_as_a_script(en: Locale) -> None:
    routine = load_routine(ROOT / "routines" / "quick-start.yaml")
    said = [(20.0, "my pain is three"), (22.0, "yes"), (60.0, "hello there"), (61.0, "pause"), (75.0, "go on")]
    scripted = simulate(routine, [Input("heard", text, "voice", at) for at, text in said])
    parsed = simulate(routine, [understood(text, inputs.parse_words(text, en), "voice", at) for at, text in said])
    assert parsed.events == scripted.events
    assert [(e["kind"], e["value"]) for e in parsed.events if e["type"] == "input"] == [
        ("heard", "my pain is three"),
        ("heard", "yes"),
        ("heard", "pause"),
        ("heard", "go on"),
    ]
    assert [e["text"] for e in parsed.events if e["type"] == "unrecognised"] == ["hello there"]
