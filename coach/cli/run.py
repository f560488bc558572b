"""``coach run`` and ``coach kiosk``: choose the adapters that work here, then run.

Every piece of hardware is optional: what is missing is said once, in one line, and the session
goes on with what works (no audio: console text; no GPIO: keyboard). The kiosk goes further: it
tries what is missing again every few seconds (:mod:`coach.run.retry`), and it never exits for want
of input, nor for a broken routine, config or log; only a stop request ends it (exit 0).

Stop requests (SIGTERM, Ctrl-C, SIGHUP) end a session in progress as ``stopped`` in both commands,
recorded like any other end (:mod:`coach.run.stopping`): a person who presses Ctrl-C means "stop",
and ``coach history`` shows what they did, never ``open`` or ``interrupted`` (which is kept for a
session cut off by a crash or a power cut, and offered to be resumed). ``coach run`` then exits as
the shell expects of a command a signal ended (130 for Ctrl-C); the kiosk, a service stopped on
request, exits 0.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import queue
import sys
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any

from coach.cli.programme import add_day_options, kiosk_today, make_today, profiled
from coach.controls import Controls, build_controls
from coach.controls.keyboard import KeyboardInput
from coach.core.patient_code import CodeEntry
from coach.core.script import compile_script
from coach.core.session import Session
from coach.errors import CoachError
from coach.log.journal import MemoryJournal, resolve_state_dir
from coach.log.store import open_journal
from coach.run.clock import Clock, FakeClock, MonotonicClock
from coach.run.eventlog import EventSink
from coach.run.inputs import Feed, Input, read_input_script
from coach.run.kiosk import Kiosk, KioskTimes, PatientCodes, PersonParts
from coach.run.ports import InputSource, Journal, Listener, NoListener, Speaker, StatusDisplay
from coach.run.resume import RESUME_WITHIN, resume_offer
from coach.run.retry import Part, Retrying
from coach.run.runner import Machine, Runner
from coach.run.sdnotify import Notifier
from coach.run.stopping import StopRequests, exit_status
from coach.run.wiring import load_named, open_events, session_settings
from coach.spec.codes import load_codes
from coach.spec.config import LoadedSettings, Settings, load_settings
from coach.spec.locale import Locale, available_languages, load_locale
from coach.spec.routine import Routine, find_routine, load_routine
from coach.voice.audio import AudioSpeaker, build_speaker
from coach.voice.hearing import HearingSettings
from coach.voice.listener import VoskListener, build_listener, report_line
from coach.voice.speaker import ConsoleSpeaker, console_hints
from coach.voice.tts import VoiceChoice

KIOSK_DEFAULT_ROUTINES = ("quick-start", "clinic-station", "sciatica-gentle", "lumbar-pir")


def register(commands: Any) -> None:
    run = commands.add_parser("run", help="run a session", description="Run a session, spoken (or printed) on the beat.")
    run.add_argument(
        "routine", nargs="?", help="routine name (see 'coach list') or path; none: today's programme session, else quick-start"
    )
    _common(run)
    run.set_defaults(handler=cmd_run)
    kiosk = commands.add_parser(
        "kiosk",
        help="serve one person after another (the service)",
        description="Idle until someone arrives, offer a menu, run, repeat.",
    )
    kiosk.add_argument("--routines", default=",".join(KIOSK_DEFAULT_ROUTINES), help="comma-separated routine names for the menu")
    kiosk.add_argument("--max-sessions", type=int, metavar="N", help="stop after N sessions (default: run until stopped)")
    _common(kiosk)
    kiosk.set_defaults(handler=cmd_kiosk)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--simulate", action="store_true", help="fake clock: run at once, no waiting")
    parser.add_argument(
        "--speed", type=_positive_float, default=1.0, metavar="F", help="real time scaled by F (2 = twice as fast)"
    )
    parser.add_argument("--input-script", metavar="FILE", help="inputs to play: lines of 'SECONDS COMMAND [VALUE]'")
    parser.add_argument("--events", metavar="FILE", help="write JSON Lines events to FILE ('-' for stdout)")
    parser.add_argument("--state-dir", metavar="DIR", help="where the session log is written")
    parser.add_argument("--no-voice", action="store_true", help="console text only, no audio")
    parser.add_argument("--model", metavar="DIR", help="vosk model folder for voice input (default: from the config)")
    add_day_options(parser, state_dir=False)  # --as-of and --profile (issue 15)


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 < value <= 1000:
        raise argparse.ArgumentTypeError(f"must be above 0 and at most 1000, got {text}")
    return value


def cmd_run(args: argparse.Namespace) -> int:
    loaded = profiled(load_settings(args.config), args)
    today = None
    if args.routine is None and (args.state_dir or not args.simulate):  # a programme's session today, if one is active
        today = make_today(args, loaded, resolve_state_dir(args.state_dir, loaded.settings.state_dir))
    session: Machine
    if today is None:
        routine = load_named(args.routine or "quick-start", loaded)
        locale = load_locale(routine.language)
        journal = _journal(args, loaded)
        offer = resume_offer(journal, routine, RESUME_WITHIN)
        settings = session_settings(loaded, routine)
        day = getattr(args, "as_of", None)  # a simulated day (--as-of) is screened once too, like a real one
        screen = settings.red_flag_screen and not journal.screened_today(day)  # at home: once a day
        session = Session(compile_script(routine, locale), locale, settings, resume=offer, screen=screen,
                          day=day.isoformat() if day else None)  # fmt: skip
        phrases = session.phrases()
    else:
        journal = _journal(args, loaded)
        made = today(journal)
        session, locale, phrases = made.machine, made.locale, made.phrases
    feed, clock, events, console = _inputs_and_outputs(args, locale)
    speaker = _speaker(args, loaded, locale.language, clock, phrases, console)
    sources = _hardware_inputs(args, loaded, locale, feed)
    runner = Runner(session, clock, speaker, journal, events, locale, feed, listener=sources.listener, displays=sources.displays)
    _start_clock(speaker, clock)
    with StopRequests(feed.inbox):  # also over the clean-up: a second Ctrl-C cannot cut the journal's close
        try:
            runner.run()
        finally:
            sources.close()
            speaker.close()
            _close_journal(journal)
            events.close()
    return 0 if runner.stopped is None else exit_status(runner.stopped)


@dataclass
class _Sources:
    """Input hardware that is running, and the displays among it."""

    running: list[InputSource] = field(default_factory=list)
    displays: list[StatusDisplay] = field(default_factory=list)
    listener: Listener = field(default_factory=NoListener)

    def close(self) -> None:
        for source in self.running:
            source.close()


def _hardware_inputs(args: argparse.Namespace, loaded: LoadedSettings, locale: Locale, feed: Feed) -> _Sources:
    """Voice (microphone and model), buttons, LED and motion sensor, where present; one line for
    each that is missing."""
    sources = _Sources()
    if args.simulate:
        return sources
    for part in _input_parts(args, loaded, locale):
        source, why = part.build()
        if why:
            print(why, file=sys.stderr)
        if source is None:
            continue
        source.start(feed.inbox, feed.clock)
        feed.live = True
        sources.running.append(source)
        if isinstance(source, VoskListener):
            sources.listener = source
        if isinstance(source, Controls):
            sources.displays.append(source)
    return sources


def _input_parts(args: argparse.Namespace, loaded: LoadedSettings, locale: Locale) -> list[Part]:
    """How to make each input that is switched on (voice, controls); a part switched off is said once here."""
    parts: list[Part] = []
    recognition = loaded.settings.recognition
    if recognition.enabled:

        def voice() -> tuple[InputSource | None, str | None]:
            held = _Held()
            listener = build_listener(
                locale,
                enabled=True,
                model_path=recognition.model_path,
                model_override=args.model,
                input_device=loaded.settings.audio.input_device,
                settings=HearingSettings.configured(recognition),
                report=held,
            )
            if listener is None:
                return None, held.lines[-1] if held.lines else "coach: voice input is off"
            held.through = True
            return listener, None

        parts.append(Part("voice input", voice))
    if loaded.settings.controls.layout == "none":
        _, why = build_controls(loaded.settings.controls, locale.language)
        print(f"coach: {why}", file=sys.stderr)
    else:

        def controls() -> tuple[InputSource | None, str | None]:
            built, why = build_controls(loaded.settings.controls, locale.language)
            return built, None if built is not None else f"coach: {why}"

        parts.append(Part("buttons", controls))
    return parts


class _Held:
    """A part's reporter: lines said while it is being made are why it could not be (said once, by the
    caller); once it works (``through``), what it reports later goes straight to stderr."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.through = False

    def __call__(self, line: str) -> None:
        if self.through:
            report_line(line)
        else:
            self.lines.append(line)


def cmd_kiosk(args: argparse.Namespace) -> int:
    """The service: it comes up whatever is wrong or missing, says what, and serves with the rest."""
    loaded = profiled(_kiosk_settings(args.config), args)
    routines = _kiosk_routines(args.routines, loaded)
    locale = load_locale(routines[0].language)
    feed, clock, events, console = _inputs_and_outputs(args, locale)
    if not args.simulate:
        feed.live = True  # real time: a stop request or a device can always come; never "nobody is coming"
    texts = _kiosk_phrases(routines, loaded)
    speaker = _speaker(args, loaded, locale.language, clock, texts, console, keep_trying=True)
    told: list[str] = []  # a log the kiosk cannot use is said once, for every person's journal
    open_journal = _kiosk_journal(args, loaded, told)
    _close_journal(open_journal())  # a log this coach cannot use is said now, not when the first person comes
    kiosk = Kiosk(
        routines,
        locale,
        clock,
        speaker,
        feed,
        open_journal,
        events,
        lambda routine: session_settings(loaded, routine),
        KioskTimes(),
        Notifier(),
    )
    kiosk.todays = kiosk_today(args, loaded)  # a programme's session first in the menu, and its reminders (issue 15)
    kiosk.reminder_at = loaded.settings.programme.reminder_times()
    _patient_codes(args, loaded, kiosk, told)
    if args.as_of is not None or args.simulate:
        kiosk.wall = _wall(args, clock)
    retrying = Retrying([] if args.simulate else _kiosk_parts(args, loaded, locale, kiosk), feed.inbox, clock)
    retrying.upkeep(clock.now())  # the first attempt: what is missing is said before the kiosk is ready
    kiosk.upkeep = retrying.upkeep
    _start_clock(speaker, clock)
    with StopRequests(feed.inbox):  # also over the clean-up, which drains the speaker briefly
        try:
            kiosk.run(args.max_sessions)
        finally:
            retrying.close()
            speaker.close()
            events.close()
    if kiosk.stopped is not None:
        print(f"coach: kiosk stopped ({kiosk.stopped})", file=sys.stderr)
    return 0


def _patient_codes(args: argparse.Namespace, loaded: LoadedSettings, kiosk: Kiosk, told: list[str]) -> None:
    """A shared station (``kiosk.patient_code_digits``): each person's code, their journal and programme. A list
    of codes that cannot be read is said once, and no code is taken until it is fixed (sessions run anonymous):
    a code nobody can check could file one person's session under another's."""
    settings = loaded.settings.kiosk
    if not settings.patient_code_digits:
        return
    known: frozenset[str] | None = None
    if settings.patient_codes_file:
        try:
            known = load_codes(settings.patient_codes_file, settings.patient_code_digits)
        except CoachError as exc:
            print(f"coach: {exc.problems[0]}; no code is accepted until it is fixed: sessions run anonymous.", file=sys.stderr)
            known = frozenset()
    kiosk.patient_codes = PatientCodes(settings.patient_code_digits, known)
    offered: list[str] = []  # a problem is said once for the station, not once a person

    def for_person(code: str | None) -> PersonParts:
        theirs = replace(loaded, settings=replace(loaded.settings, profile=code))
        return _kiosk_journal(args, theirs, told), kiosk_today(args, theirs, offered)

    kiosk.for_person = for_person


def _wall(args: argparse.Namespace, clock: Clock) -> Callable[[], _dt.datetime]:
    """The kiosk's wall clock on ``--as-of``'s date (a simulation's from its start), running with the session clock."""
    now = _dt.datetime.now().astimezone()
    base = now.replace(year=args.as_of.year, month=args.as_of.month, day=args.as_of.day) if args.as_of else now
    start = clock.now()
    return lambda: base + _dt.timedelta(seconds=clock.now() - start)


def _kiosk_parts(args: argparse.Namespace, loaded: LoadedSettings, locale: Locale, kiosk: Kiosk) -> list[Part]:
    """The inputs the kiosk keeps trying: each, once it works, is given to the kiosk."""

    def attached(source: InputSource) -> None:
        if isinstance(source, VoskListener):
            kiosk.attach_listener(source)
        if isinstance(source, Controls):
            kiosk.attach_display(source)

    parts = _input_parts(args, loaded, locale)
    for part in parts:
        part.attached = attached
    return parts


def _kiosk_settings(config: str | None) -> LoadedSettings:
    """A kiosk must come up whatever happened to its config: say what is wrong, use defaults."""
    try:
        return load_settings(config)
    except CoachError as exc:
        for line in exc.problems:
            print(line, file=sys.stderr)
        print("coach: the config has errors (above); running with built-in defaults.", file=sys.stderr)
        return LoadedSettings(Settings(), None, {})


def _kiosk_routines(names: str, loaded: LoadedSettings) -> list[Routine]:
    """The menu's routines; a broken one is named and left out, so one bad file never stops the kiosk."""
    wanted = [name.strip() for name in names.split(",") if name.strip()] or list(KIOSK_DEFAULT_ROUTINES)
    routines: list[Routine] = []
    for name in wanted:
        try:
            routines.append(load_named(name, loaded))
        except CoachError as exc:
            for line in exc.problems:
                print(line, file=sys.stderr)
            print(f"coach: kiosk: routine {name!r} is broken (above); the menu offers the others.", file=sys.stderr)
    if routines:
        return routines
    print("coach: kiosk: no routine on the menu could be loaded; offering the built-in ones.", file=sys.stderr)
    shipped = [find_routine(name) for name in KIOSK_DEFAULT_ROUTINES]
    return [load_routine(path, available_languages()) for path in shipped]


def _kiosk_journal(args: argparse.Namespace, loaded: LoadedSettings, told: list[str] | None = None) -> Callable[[], Journal]:
    """Each session's journal; when the log cannot be used (written by a newer coach), the kiosk says so
    once (``told``: shared by every person's journal at a station with codes) and runs without logging rather
    than exiting into a restart loop."""
    told = [] if told is None else told

    def open_one() -> Journal:
        try:
            return _journal(args, loaded)
        except (CoachError, OSError) as exc:
            if not told:
                told.append(str(exc))
                print(f"coach: {exc}; the kiosk runs without logging.", file=sys.stderr)
            return MemoryJournal()

    return open_one


def _kiosk_phrases(routines: list[Routine], loaded: LoadedSettings) -> set[str]:
    texts: set[str] = set()
    for routine in routines:
        locale = load_locale(routine.language)
        session = Session(compile_script(routine, locale), locale, session_settings(loaded, routine), screen=True)
        texts |= session.phrases(every_resume=True)
    language = load_locale(loaded.settings.language)
    if loaded.settings.kiosk.patient_code_digits:
        texts |= CodeEntry.phrases(language, loaded.settings.kiosk.patient_code_digits)
    return texts | {language.say("reminder")} if loaded.settings.programme.reminders else texts


def _inputs_and_outputs(args: argparse.Namespace, locale: Locale) -> tuple[Feed, Clock, EventSink, IO[str]]:
    scripted = read_input_script(Path(args.input_script)) if args.input_script else []
    events = EventSink(open_events(args.events))
    console: IO[str] = sys.stderr if args.events == "-" else sys.stdout
    clock: Clock = FakeClock() if args.simulate else MonotonicClock(args.speed)
    inbox: queue.Queue[Input] = queue.Queue()
    keyboard = not args.simulate and sys.stdin is not None and sys.stdin.isatty()
    if keyboard:
        print("coach: type a number 0-10 for your pain; p pause, r resume, n next, s stop, h help.", file=sys.stderr)
        KeyboardInput(inbox, locale, clock=clock).start()
    return Feed(clock, inbox, scripted, live=keyboard), clock, events, console


def _start_clock(speaker: Speaker, clock: Clock) -> None:
    """Rendering and warm-up are done: session time starts now."""
    if isinstance(speaker, AudioSpeaker) and isinstance(clock, MonotonicClock):
        speaker.restart_clock(clock.reset)


def _speaker(
    args: argparse.Namespace,
    loaded: LoadedSettings,
    language: str,
    clock: Clock,
    texts: set[str],
    console: IO[str],
    keep_trying: bool = False,
) -> Speaker:
    """The audio speaker when it can work, else console text, saying once why."""
    voice = loaded.settings.voice
    if args.simulate or args.no_voice or voice.output == "console":
        return ConsoleSpeaker(console, console_hints(language))
    if args.speed != 1.0:
        print("coach: speech plays only in real time (--speed 1); the session is shown as text.", file=sys.stderr)
        return ConsoleSpeaker(console, console_hints(language))
    choice = VoiceChoice(language, voice.voice, voice.rate, voice.volume)
    built = build_speaker(choice, clock, texts, loaded.settings.audio.output_device, console, keep_trying=keep_trying)
    if built.notice:
        print(f"coach: {built.notice}", file=sys.stderr)
    return built.speaker


def _journal(args: argparse.Namespace, loaded: LoadedSettings) -> Journal:
    """The SQLite session log; a simulated session is not exercise done, so it is logged only when
    a state dir is given."""
    if args.simulate and not args.state_dir:
        return MemoryJournal()
    journal = open_journal(resolve_state_dir(args.state_dir, loaded.settings.state_dir), loaded.settings.profile)
    for notice in journal.take_notices():
        print(f"coach: {notice}", file=sys.stderr)
    return journal


def _close_journal(journal: Journal) -> None:
    journal.close()
    for notice in journal.take_notices():  # e.g. how many records could not be saved
        print(f"coach: {notice}", file=sys.stderr)
