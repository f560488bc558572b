"""The one word parser: what counts as a command or a rating, and what never does."""

from __future__ import annotations

import pytest

from coach.locale import Locale
from coach.words import ParsedCommand, ParsedRating, parse_words


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("six", 6),
        ("my pain is six", 6),
        ("about a six", 6),
        ("Six out of ten.", 6),
        ("7", 7),
        ("zero", 0),
        ("ten", 10),
        ("it's maybe a four", 4),
        ("pain level two", 2),
    ],
)
def test_words_ratings(en: Locale, text: str, value: int) -> None:
    assert parse_words(text, en) == ParsedRating(value)


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("pause", "pause"),
        ("Hold on", "pause"),
        ("go on", "resume"),
        ("continue", "resume"),
        ("skip", "next"),
        ("again", "repeat"),
        ("STOP", "stop"),
        ("help", "help"),
        ("yes", "yes"),
        ("nope", "no"),
        ("let's go", "start"),
    ],
)
def test_words_commands(en: Locale, text: str, name: str) -> None:
    assert parse_words(text, en) == ParsedCommand(name)


@pytest.mark.parametrize(
    "text",
    ["", "   ", "what a lovely day", "six seven", "eleven", "11", "my pain is", "stop it now please", "pause six", "the"],
)
def test_words_anything_unclear_is_nothing(en: Locale, text: str) -> None:
    assert parse_words(text, en) is None


def test_words_every_locale_word_parses_to_itself(en: Locale) -> None:
    for value, words in en.numbers.items():
        for word in words:
            assert parse_words(word, en) == ParsedRating(value), word
    for name, phrases in en.commands.items():
        for phrase in phrases:
            assert parse_words(phrase, en) == ParsedCommand(name), phrase
