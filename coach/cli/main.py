"""The ``coach`` command: parse arguments, build settings, choose adapters, run.

Thin on purpose. Every :class:`~coach.errors.CoachError` becomes one line per problem on stderr
and exit status 2; a traceback is never what a person sees for bad input.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import IO, TYPE_CHECKING

from coach import __version__
from coach.errors import CoachError
from coach.spec.config import LoadedSettings, load_settings, settings_table
from coach.spec.files import printable

if TYPE_CHECKING:
    from coach.core.script import Script

# The routine, script, session and speech modules are imported by the commands that use them, and
# each extension only for its own commands: ``coach --version`` or ``coach doctor`` then starts in a
# fraction of the time ``coach run`` needs (it matters on a Pi, and in every test that starts one).

EXIT_BAD_INPUT = 2

EXTENSIONS: tuple[str, ...] = (
    "coach.cli.run",
    "coach.cli.say",
    "coach.cli.voice",
    "coach.cli.controls",
    "coach.cli.records",
    "coach.cli.doctor",
    "coach.cli.sync",
    "coach.cli.clinic",
    "coach.cli.programme",
)
"""Modules that add subcommands: each has ``register(commands)`` taking the subparsers object
and setting ``handler`` (a function from the parsed arguments to an exit status)."""

EXTENSION_COMMANDS: dict[str, tuple[str, ...]] = {
    "coach.cli.run": ("run", "kiosk"),
    "coach.cli.say": ("say",),
    "coach.cli.voice": ("hear", "model"),
    "coach.cli.controls": ("hw-test",),
    "coach.cli.records": ("history", "export", "report", "forget"),
    "coach.cli.doctor": ("doctor",),
    "coach.cli.sync": ("sync",),
    "coach.cli.clinic": ("clinic",),
    "coach.cli.programme": ("programme",),
}
"""The commands each extension adds (a test checks them against ``register``), so that a command
imports only its own module. An extension not listed here is always imported."""

BUILT_IN_COMMANDS = ("plan", "validate", "list", "config")


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(extensions_for(words))
    args = parser.parse_args(words)
    try:
        return int(args.handler(args))
    except CoachError as exc:
        for line in exc.problems:
            print(line, file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("\ncoach: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


def build_parser(extensions: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The whole command line; ``extensions``: the modules whose commands to add (default: all)."""
    parser = argparse.ArgumentParser(
        prog="coach",
        description="A voice-guided exercise coach for low-back pain (PIR and rehabilitation). "
        "A home-exercise aid, not a medical device.",
    )
    parser.add_argument("--version", action="version", version=f"coach {__version__}")
    parser.add_argument(
        "--config", metavar="FILE", help="config file (default: ~/.config/coach/config.yaml, then /etc/coach/config.yaml)"
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)

    plan = commands.add_parser("plan", help="print a routine's timetable", description="Print what will be said, and when.")
    plan.add_argument("routine", nargs="?", help="routine name or path (none, or --today: today's programme session)")
    plan.add_argument("--today", action="store_true", help="today's programme session, at today's levels")
    plan.add_argument("--as-of", metavar="YYYY-MM-DD", help="the calendar date for --today (default: today)")
    plan.add_argument("--profile", metavar="CODE", help="whose programme: a clinic profile code (default: the config's)")
    plan.add_argument("--state-dir", metavar="DIR", help="where the session log is (for --today)")
    plan.set_defaults(handler=cmd_plan)

    validate = commands.add_parser(
        "validate", help="check routine files", description="Check routine files; exit 0 if all are valid, 2 if not."
    )
    validate.add_argument("paths", nargs="+", metavar="PATH", help="routine files (or names)")
    validate.add_argument("--no-phrases", action="store_true", help="skip rendering the phrases to check each fits its slot")
    validate.set_defaults(handler=cmd_validate)

    listing = commands.add_parser("list", help="list the routines", description="List the routines that can be run.")
    listing.set_defaults(handler=cmd_list)

    config = commands.add_parser(
        "config", help="print the effective settings", description="Print every setting, its value and where it came from."
    )
    config.set_defaults(handler=cmd_config)
    for module_name in EXTENSIONS if extensions is None else extensions:
        importlib.import_module(module_name).register(commands)
    return parser


def extensions_for(argv: Sequence[str]) -> tuple[str, ...]:
    """The extensions ``argv`` needs: the one whose command it names, none for a built-in command or
    ``--version``, and all of them for anything else (help, a typo, no command), so that argparse
    sees every command whenever it may list them."""
    word = _command_word(argv)
    if word in BUILT_IN_COMMANDS or word == "--version":
        return tuple(m for m in EXTENSIONS if m not in EXTENSION_COMMANDS)
    if not any(word in EXTENSION_COMMANDS.get(m, ()) for m in EXTENSIONS):
        return EXTENSIONS
    return tuple(m for m in EXTENSIONS if m not in EXTENSION_COMMANDS or word in EXTENSION_COMMANDS[m])


def _command_word(argv: Sequence[str]) -> str | None:
    """The command in ``argv`` (``run`` in ``--config c.yaml run x``), ``--version`` if that comes
    first, or ``None`` when the line is not that plain (another option before the command)."""
    words = iter(argv)
    for word in words:
        if word == "--config":
            next(words, None)
        elif not word.startswith("--config="):
            return word if word == "--version" or not word.startswith("-") else None
    return None


# --- commands ---------------------------------------------------------------------------------


def cmd_plan(args: argparse.Namespace) -> int:
    from coach.core.script import compile_script
    from coach.run.wiring import load_named
    from coach.spec.locale import load_locale

    if args.today or args.routine is None:  # today's programme session (issue 15)
        from coach.cli.programme import print_today

        return print_today(args, print_plan)
    loaded = load_settings(args.config)
    routine = load_named(args.routine, loaded)
    script = compile_script(routine, load_locale(routine.language))
    print_plan(script, sys.stdout)
    _check_slots(script, loaded)
    return 0


def _check_slots(script: Script, loaded: LoadedSettings) -> None:
    """Render the session's phrases at the configured voice (this also warms the speech cache) and
    warn, on stderr, about every phrase longer than its slot."""
    from coach.core.session import Session
    from coach.run.wiring import session_settings
    from coach.spec.locale import load_locale
    from coach.voice.fit import slot_warnings
    from coach.voice.tts import PhraseCache, VoiceChoice

    session = Session(script, load_locale(script.routine.language), session_settings(loaded, script.routine))
    voice = loaded.settings.voice
    cache = PhraseCache(VoiceChoice(script.routine.language, voice.voice, voice.rate, voice.volume))
    cache.prepare(session.phrases())
    if len(cache.failed) == len(session.phrases()):
        reason = next(iter(cache.failed.values()), "no speech engine")
        print(f"coach: phrase lengths not checked: {reason}", file=sys.stderr)
        return

    def seconds_of(text: str) -> float | None:
        clip = cache.get(text)
        return clip.seconds if clip is not None else None

    for line in slot_warnings(script, seconds_of):
        print(line, file=sys.stderr)


def print_plan(script: Script, out: IO[str]) -> None:
    from coach.core.script import PainCheck

    routine = script.routine
    out.write(f"{routine.title} ({routine.id}, {routine.source}, version {routine.version})\n")
    out.write("  time    phase      exercise             side   text\n")
    for t, phase, exercise, item in script.timetable():
        if isinstance(item, PainCheck):
            text = f"[pain check, {item.moment}: waits for a rating 0-10]"
            side = ""
        else:
            text, side = item.text, item.side or ""
        out.write(f"{_mmss(t):>7}  {phase:<10} {(exercise or ''):<20} {side:<6} {text}\n")
    out.write(f"Total: about {_mmss(script.nominal_duration)} (pain checks counted as 10 s each)\n")


def _mmss(seconds: float) -> str:
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes)}:{rest:04.1f}"


def cmd_validate(args: argparse.Namespace) -> int:
    from coach.core.script import compile_script
    from coach.run.wiring import extra_dirs
    from coach.spec.locale import available_languages, load_locale
    from coach.spec.routine import find_routine, load_routine

    loaded = load_settings(args.config)
    languages = available_languages()
    failed = False
    for name in args.paths:
        try:
            if _programme_file(name):  # a programme (issue 15): validated with the routines it names
                print(f"{_validate_programme(name, loaded)}: ok")
                continue
            path = find_routine(name, extra_dirs(loaded))
            routine = load_routine(path, languages)
            print(f"{path}: ok")
            if not args.no_phrases:
                _check_slots(compile_script(routine, load_locale(routine.language)), loaded)
        except CoachError as exc:
            failed = True
            for line in exc.problems:
                print(line, file=sys.stderr)
    return EXIT_BAD_INPUT if failed else 0


def cmd_list(args: argparse.Namespace) -> int:
    from coach.core.script import compile_script
    from coach.run.wiring import extra_dirs
    from coach.spec.locale import available_languages, load_locale
    from coach.spec.routine import load_routine, routine_paths

    loaded = load_settings(args.config)
    languages = available_languages()
    for name, path in sorted(routine_paths(extra_dirs(loaded)).items()):
        try:
            routine = load_routine(path, languages)
            minutes = compile_script(routine, load_locale(routine.language)).nominal_duration / 60
            print(f"{name:<18} {minutes:4.0f} min  {routine.title}")
        except CoachError as exc:
            print(f"{name:<18}  invalid  {exc.problems[0]}")
    return 0


def cmd_config(args: argparse.Namespace) -> int:
    loaded = load_settings(args.config)
    # A path (or a value) may hold what a terminal would run as an escape sequence: print it escaped.
    print(f"# config file: {printable(str(loaded.path)) if loaded.path else 'none found; built-in defaults'}")
    for name, value, source in settings_table(loaded):
        shown = "none" if value is None else printable(str(value))
        print(f"{name} = {shown}  # {printable(source)}")
    return 0


# --- helpers ----------------------------------------------------------------------------------


# --- programmes (issue 15) -------------------------------------------------------------------------


def _programme_file(name: str) -> bool:
    from pathlib import Path

    from coach.spec.programme import is_programme_file, programme_paths

    path = Path(name)
    if path.suffix not in (".yaml", ".yml") and "/" not in name:
        return name in programme_paths()  # a shipped programme by name
    return path.is_file() and is_programme_file(path)


def _validate_programme(name: str, loaded: LoadedSettings) -> str:

    from coach.run.wiring import extra_dirs
    from coach.spec.programme import find_programme, load_programme

    path = find_programme(name)
    load_programme(path, extra_dirs(loaded))
    return printable(str(path))
