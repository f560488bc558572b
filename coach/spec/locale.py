"""Locales: the phrases the coach speaks and the words it understands, per language.

One YAML file per language in ``coach/locales/``; the recogniser's grammar and the word parser
are both built from the same file, so what can be said and what is understood never diverge.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from coach.errors import LocaleError
from coach.spec.commands import PERSON_COMMANDS, CommandName
from coach.spec.files import has_visible, printable, unsafe_character
from coach.spec.schema import show, type_word
from coach.spec.yamlsrc import YNode, read_yaml


@dataclass(frozen=True)
class Endings:
    """Endings a language glues to a word or says after it, which add no meaning (see coach.core.words).

    Not fillers: an ending is never said on its own, and the fillers also become the recogniser's
    grammar, where "이요" alone would be a word it could hear.
    """

    number: tuple[str, ...] = ()
    """May follow a rating, glued or spaced ("여섯이요", "다섯 정도요")."""
    filler: tuple[str, ...] = ()
    """May be glued to a filler only ("통증은"); glued to a number they make another word ("일은")."""
    command: tuple[str, ...] = ()
    """May follow a command, glued or spaced ("다시요")."""
    tens: tuple[str, ...] = ()
    """Number words that a number glued after makes larger ("십이" is 12): glued to an ending
    that starts with a number ("십이요": ten, or twelve?), they mean nothing."""


ENDING_KINDS = ("number", "filler", "command", "tens")
SYMPTOM_KINDS = ("leg", "bladder-bowel")
"""What a symptom word is about: a leg (numb, weak, shooting: asked whether new) or bladder and bowel (urgent)."""
CONSOLE_HINTS = ("paused", "pain-check", "confirm", "resume-offer", "screen", "feedback", "ended")
"""The states in which the console shows what to type."""


@dataclass(frozen=True)
class Locale:
    """Phrases and vocabulary of one language."""

    language: str
    phrases: dict[str, str]
    sides: dict[str, str]
    numbers: dict[int, tuple[str, ...]]
    """Rating value (0-10) to the words that mean it."""
    commands: dict[CommandName, tuple[str, ...]]
    """Command name to the words or phrases that mean it (every one of ``PERSON_COMMANDS``, no other)."""
    fillers: tuple[str, ...]
    source: str
    lines: dict[str, int]
    """Line of each word in the locale file, for reports of words a speech model lacks."""
    endings: Endings = Endings()
    console: dict[str, str] | None = None
    """Hints the console shows in a state (``paused``, ``pain-check``, ...): keys to type; ``None``: English."""
    symptoms: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Symptom category (``leg``, ``bladder-bowel``) to the words and phrases that name it: said at any
    moment, they stop the exercise (see :mod:`coach.core.screen`)."""
    answers: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """The next-morning check-in's answers (``better``, ``same``, ``worse``) to the words that say them (issue 15)."""

    def say(self, key: str, **values: Any) -> str:
        """The phrase ``key`` with its placeholders filled in."""
        try:
            template = self.phrases[key]
        except KeyError:
            raise LocaleError(f"{self.source}: phrase {key!r} is missing") from None
        return template.format(**values)

    def side(self, side: str | None) -> str:
        return self.sides.get(side or "", side or "")


def locales_dir() -> Path:
    return Path(str(resources.files("coach.spec.locales")))


def available_languages() -> tuple[str, ...]:
    return tuple(sorted(p.stem for p in locales_dir().glob("*.yaml")))


_CACHE: dict[str, Locale] = {}


def load_locale(language: str) -> Locale:
    """Load (once per process) and check the locale for ``language``."""
    if language not in _CACHE:
        path = locales_dir() / f"{language}.yaml"
        if not path.exists():
            raise LocaleError(f"no locale for language {language!r}; available: {', '.join(available_languages())}")
        _CACHE[language] = _parse(read_yaml(path), language)
    return _CACHE[language]


def _parse(root: YNode, language: str) -> Locale:
    def section(name: str) -> dict[str, YNode]:
        node = root.value.get(name) if isinstance(root.value, dict) else None
        if node is None or not isinstance(node.value, dict):
            raise LocaleError(f"{root.path}:1: section {name!r} is missing")
        return node.value

    phrases = {k: _text(v, f"phrase {k!r}") for k, v in section("phrases").items()}
    for key, node in section("phrases").items():
        try:
            fields = [name for _, name, _, _ in string.Formatter().parse(phrases[key]) if name is not None]
        except ValueError as exc:
            raise LocaleError(f"{node.where}: phrase {key!r}: {exc}") from None
        for name in fields:  # "{title.__class__}" or "{0}" would reach into the values; only plain names are filled in
            if not name.isidentifier():
                message = f"{node.where}: phrase {key!r}: placeholder {{{name}}} must be a plain name like {{n}}"
                raise LocaleError(printable(message))
    lines: dict[str, int] = {}

    def words(node: YNode) -> tuple[str, ...]:
        items = node.value if isinstance(node.value, list) else [node]
        found = tuple(_text(item, "a word").lower() for item in items)
        for item, word in zip(items, found):
            lines.setdefault(word, item.line)
        return found

    numbers = {_number(k, v): words(v) for k, v in section("numbers").items()}
    commands = {_command_name(k, v): words(v) for k, v in section("commands").items()}
    missing = [str(c) for c in PERSON_COMMANDS if c not in commands] + [str(n) for n in range(11) if n not in numbers]
    if missing:
        raise LocaleError(f"{root.path}:1: words missing for: {', '.join(missing)}")
    fillers_node = root.value.get("fillers")
    fillers = words(fillers_node) if fillers_node else ()
    endings = _endings(root.value.get("endings"))
    console = _console(root.value.get("console"), root.key_where("console"))
    symptoms_node = root.value.get("symptoms")
    symptoms: dict[str, tuple[str, ...]] = {}
    for category, node in (symptoms_node.value.items() if symptoms_node and isinstance(symptoms_node.value, dict) else ()):
        if category not in SYMPTOM_KINDS:
            raise LocaleError(f"{node.where}: unknown symptoms {category!r}; known: {', '.join(SYMPTOM_KINDS)}")
        symptoms[category] = words(node)
    answers = _answers(root.value.get("answers"), words)
    return Locale(
        language=language,
        phrases=phrases,
        sides={k: _text(v, f"side {k!r}") for k, v in section("sides").items()},
        numbers=numbers,
        commands=commands,
        fillers=fillers,
        source=root.path,
        lines=lines,
        endings=endings,
        console=console,
        symptoms=symptoms,
        answers=answers,
    )


def _text(node: YNode, what: str) -> str:
    """``node`` as text the coach may say and show: no mapping or list, nothing invisible, no control characters."""
    value = node.value
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise LocaleError(printable(f"{node.where}: {what} must be text, got {type_word(value)}"))
    text = str(value)
    bad = unsafe_character(text)
    if bad is not None:
        raise LocaleError(printable(f"{node.where}: {what} holds {ascii(bad)}, a control or text-direction character"))
    if not has_visible(text):
        raise LocaleError(printable(f"{node.where}: {what} must be text that can be seen, got {show(text)}"))
    return text


def _number(key: str, node: YNode) -> int:
    """A ``numbers:`` key: a rating 0 to 10."""
    if not (key.isascii() and key.isdigit()) or int(key) > 10:
        raise LocaleError(printable(f"{node.where}: numbers: {key!r} is not a rating from 0 to 10"))
    return int(key)


def _command_name(key: str, node: YNode) -> CommandName:
    """``key`` as a command a person can give; any other key is a typo, reported where it is written."""
    if key in PERSON_COMMANDS:
        return CommandName(key)
    raise LocaleError(f"{node.where}: unknown command {key!r}; known: {', '.join(PERSON_COMMANDS)}")


def _console(node: YNode | None, where: str) -> dict[str, str] | None:
    if node is None:
        return None
    hints = {str(k): _text(v, f"console hint {k!r}") for k, v in node.value.items()} if isinstance(node.value, dict) else {}
    if set(hints) != set(CONSOLE_HINTS):
        raise LocaleError(f"{where}: 'console' must give a hint for each of {', '.join(CONSOLE_HINTS)}, and only those")
    return hints


def _endings(node: YNode | None) -> Endings:
    if node is None:
        return Endings()
    if not isinstance(node.value, dict):
        raise LocaleError(f"{node.where}: 'endings' must be a mapping of {', '.join(ENDING_KINDS)}")
    found: dict[str, tuple[str, ...]] = {}
    for kind, items in node.value.items():
        if kind not in ENDING_KINDS:
            raise LocaleError(f"{items.where}: unknown endings {kind!r}; known: {', '.join(ENDING_KINDS)}")
        values = items.value if isinstance(items.value, list) else [items]
        found[kind] = tuple(_text(item, "an ending").lower() for item in values)
    return Endings(**found)


ANSWERS = ("better", "same", "worse", "easy", "right", "hard")
"""The next-morning check-in's answers, then the answers to "too easy, just right, or too hard?" (issue 15)."""


def _answers(node: YNode | None, words: Any) -> dict[str, tuple[str, ...]]:
    """``answers:``: words for each of :data:`ANSWERS`, or none at all (no check-in or feedback by voice)."""
    if node is None:
        return {}
    if not isinstance(node.value, dict) or set(node.value) != set(ANSWERS):
        raise LocaleError(f"{node.where}: 'answers' must give words for each of {', '.join(ANSWERS)}, and only those")
    return {value: words(node.value[value]) for value in ANSWERS}
