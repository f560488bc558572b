"""The one place that turns words into commands and ratings.

Used by the ``heard`` input-script command, the keyboard, and the voice listener alike. The parser
is strict on purpose: an utterance becomes a command or rating only when every word in it is
either a known word or a filler ("my pain is about a six"); anything else is ``None``, so stray
speech and noise never act.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from coach.locale import Locale


@dataclass(frozen=True)
class ParsedCommand:
    name: str


@dataclass(frozen=True)
class ParsedRating:
    value: int


Parsed = ParsedCommand | ParsedRating


def parse_words(text: str, locale: Locale) -> Parsed | None:
    """Turn ``text`` into a command or a 0-10 rating, or ``None`` when it means neither clearly."""
    cleaned = re.sub(r"[^\w\s']", " ", text.lower()).split()
    if not cleaned:
        return None
    joined = " ".join(cleaned)
    for name, phrases in locale.commands.items():
        if joined in phrases:
            return ParsedCommand(name)
    tokens = _drop_out_of_ten(cleaned, locale)
    values = []
    for token in tokens:
        value = _number(token, locale)
        if value is not None:
            values.append(value)
        elif token not in locale.fillers:
            return None
    if len(values) == 1:
        return ParsedRating(values[0])
    return None


def _number(token: str, locale: Locale) -> int | None:
    if token.isdigit() and int(token) <= 10:
        return int(token)
    for value, words in locale.numbers.items():
        if token in words:
            return value
    return None


def _drop_out_of_ten(tokens: list[str], locale: Locale) -> list[str]:
    """ "six out of ten" is a six: drop a trailing "out of ten"."""
    if len(tokens) >= 4 and tokens[-3:-1] == ["out", "of"] and _number(tokens[-1], locale) == 10:
        return tokens[:-3]
    return tokens
