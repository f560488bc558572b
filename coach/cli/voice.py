"""``coach hear`` and ``coach model``: the tools for when voice input misbehaves.

Added to ``coach`` through ``coach.cli.main.EXTENSIONS`` (``register(commands)``); also runnable on its
own as ``python -m coach.cli.voice``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from coach.core.words import Parsed, ParsedCommand, ParsedRating, ParsedSymptom, parse_words
from coach.errors import CoachError
from coach.spec.config import load_settings
from coach.spec.locale import Locale, available_languages, load_locale
from coach.voice.capture import load_wav
from coach.voice.hearing import Heard, Hearing
from coach.voice.listener import load_hearing
from coach.voice.models import LIST_URL_ENV, data_dir, fetch_model, fetched_model, model_list_url, resolve_model
from coach.voice.recognizer import Recognizer, VoskRecognizer
from coach.voice.vad import FRAME_BYTES, RATE


def register(commands: Any) -> None:
    """Add ``hear`` and ``model`` to the ``coach`` subcommands."""
    hear = commands.add_parser(
        "hear",
        help="show what the recogniser hears in a WAV file",
        description="Run a WAV file through the voice input (VAD, recogniser, parser) and print, as JSON, "
        "what was heard and the command or rating it became.",
    )
    hear.add_argument("file", metavar="FILE.wav", help="a recording; other rates or stereo are converted with sox")
    hear.add_argument("--lang", help=f"language of the words ({', '.join(available_languages())}); default: the config's")
    hear.add_argument("--model", metavar="DIR", help="vosk model folder (default: config, data folder, package)")
    hear.set_defaults(handler=cmd_hear)

    model = commands.add_parser("model", help="speech models: fetch or check", description="Fetch or check vosk models.")
    actions = model.add_subparsers(title="actions", metavar="ACTION", required=True)
    fetch = actions.add_parser(
        "fetch",
        help="download the small model for a language",
        description=f"Download the standard small vosk model for LANG into {data_dir()}/LANG.",
    )
    fetch.add_argument("lang", metavar="LANG", help="language, e.g. en or ko")
    fetch.add_argument("--name", help="a model name from vosk's list instead of the standard small one")
    fetch.add_argument("--list-url", help=f"vosk's model list (default: ${LIST_URL_ENV}, else {model_list_url()})")
    fetch.add_argument("--dir", metavar="DIR", help=f"where models go (default: {data_dir()})")
    fetch.add_argument(
        "--if-missing", action="store_true", help="do nothing when a complete model for LANG is already there (set-up)"
    )
    fetch.set_defaults(handler=cmd_model_fetch)
    check = actions.add_parser(
        "check", help="load a model and list the locale words it lacks", description="Load the model for a language."
    )
    check.add_argument("lang", nargs="?", metavar="LANG", help="language (default: the config's)")
    check.add_argument("--model", metavar="DIR", help="vosk model folder")
    check.set_defaults(handler=cmd_model_check)


def cmd_hear(args: argparse.Namespace) -> int:
    missing: list[str] = []
    locale, hearing, location_text = _open(args.lang, args.model, getattr(args, "config", None), missing)
    try:
        pcm, note = load_wav(Path(args.file))
    except ValueError as exc:
        raise CoachError(str(exc)) from None
    report = {
        "file": args.file,
        "audio": {"seconds": round(len(pcm) / (2 * RATE), 3), "converted": note},
        "language": locale.language,
        "model": location_text,
        "grammar": {
            "words": len(hearing.vocabulary.words),
            "guard": hearing.vocabulary.guard(),
            "missing": missing,
        },
        "utterances": [_utterance(h) for h in hear_pcm(hearing, pcm)],
        "plain": plain_decode(_fresh(hearing.recognizer), pcm, locale),
        "stats": vars(hearing.stats),
    }
    json.dump(report, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")
    return 0


def cmd_model_fetch(args: argparse.Namespace) -> int:
    dest_root = Path(args.dir) if args.dir else None
    present = fetched_model(args.lang, dest_root) if args.if_missing else None
    if present is not None:
        print(f"coach: a speech model for {args.lang!r} is already in {present}", file=sys.stderr)
        print(present)
        return 0
    target = fetch_model(args.lang, dest_root, args.list_url or model_list_url(), args.name)
    print(target)
    return 0


def cmd_model_check(args: argparse.Namespace) -> int:
    missing: list[str] = []
    locale, hearing, location_text = _open(args.lang, args.model, getattr(args, "config", None), missing)
    for line in missing:
        print(line)
    vocabulary = hearing.vocabulary
    print(f"{location_text['path']} ({location_text['source']}): {len(vocabulary.words)} words of "
          f"{locale.source} in the grammar; out-of-grammar speech: {vocabulary.guard()}")  # fmt: skip
    return 0


def _open(lang: str | None, model: str | None, config: str | None, missing: list[str]) -> tuple[Locale, Hearing, dict[str, str]]:
    settings = load_settings(config).settings
    locale = load_locale(lang or settings.language)
    location = resolve_model(locale.language, settings.recognition.model_path, model)
    hearing = load_hearing(locale, location, report=missing.append)
    return locale, hearing, {"path": str(location.path), "source": location.source}


def _fresh(recognizer: Recognizer) -> Recognizer:
    return recognizer.fresh() if isinstance(recognizer, VoskRecognizer) else recognizer


def hear_pcm(hearing: Hearing, pcm: bytes) -> list[Heard]:
    """Every utterance the coach's path finds in ``pcm`` (audio time: seconds from its start)."""
    heard: list[Heard] = []
    for offset in range(0, len(pcm), FRAME_BYTES):
        chunk = pcm[offset : offset + FRAME_BYTES]
        heard.extend(hearing.feed(chunk, (offset + len(chunk)) / (2 * RATE)))
    return heard + hearing.flush()


def plain_decode(recognizer: Recognizer, pcm: bytes, locale: Locale) -> list[dict[str, Any]]:
    """The whole file through the recogniser alone (no VAD, no gate, no confidence filter)."""
    results = []
    for offset in range(0, len(pcm), FRAME_BYTES):
        if recognizer.accept(pcm[offset : offset + FRAME_BYTES]):
            results.append(recognizer.result())
    results.append(recognizer.final())
    return [
        {"text": r.get("text", ""), "words": r.get("result", []), "became": became(str(r.get("text", "")), locale)}
        for r in results
        if r.get("result")
    ]


def became(text: str, locale: Locale) -> dict[str, Any] | None:
    """What the one word parser makes of ``text``."""
    return meant(parse_words(text, locale))


def meant(parsed: Parsed | None) -> dict[str, Any] | None:
    """A parse result, for the report."""
    if isinstance(parsed, ParsedCommand):
        return {"command": parsed.name}
    if isinstance(parsed, ParsedRating):
        return {"rating": parsed.value}
    if isinstance(parsed, ParsedSymptom):
        return {"symptom": parsed.kind}
    return None


def _utterance(heard: Heard) -> dict[str, Any]:
    return {
        "start": round(heard.start, 3),
        "end": round(heard.end, 3),
        "endpoint": heard.endpoint,
        "endpoint_delay": round(heard.at - heard.end, 3),
        "text": heard.raw,
        "heard": heard.text,
        "words": [vars(w) for w in heard.words],
        "sent": heard.meaningful,
        "became": meant(heard.meaning),  # parsed once, by Hearing
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m coach.cli.voice", description="coach's voice tools")
    parser.add_argument("--config", metavar="FILE", help="config file")
    register(parser.add_subparsers(title="commands", metavar="COMMAND", required=True))
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args))
    except CoachError as exc:
        for line in exc.problems:
            print(line, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
