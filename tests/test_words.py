"""The one word parser: what counts as a command or a rating, and what never does."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from coach.core.messages import PERSON_COMMANDS, CommandName
from coach.core.words import ParsedCommand, ParsedRating, parse_words
from coach.errors import LocaleError
from coach.spec.locale import Endings, Locale, _parse, load_locale, locales_dir
from coach.spec.yamlsrc import read_yaml


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


# --- Korean particles and polite endings -------------------------------------------------------


@pytest.fixture(scope="module")
def ko() -> Locale:
    return load_locale("ko")


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("여섯이요", 6),
        ("여섯 이요", 6),
        ("여섯이에요", 6),
        ("일곱입니다", 7),
        ("다섯정도요", 5),
        ("셋쯤이요", 3),
        ("사요", 4),  # as "사 요", which the recogniser gives
        ("10이요", 10),
        ("제 통증은 여섯이에요", 6),
        ("통증이 여섯 점이요", 6),
        ("열이요", 10),
    ],
)
def test_words_korean_endings_glued_or_spaced_keep_a_rating(ko: Locale, text: str, value: int) -> None:
    assert parse_words(text, ko) == ParsedRating(value)


@pytest.mark.parametrize(
    ("text", "name"),
    [("다시요", "repeat"), ("다시 요", "repeat"), ("반복이요", "repeat"), ("그만해요", "stop"), ("계속해요", "resume"),
     ("넘겨요", "next"), ("아니 요", "no")],
)  # fmt: skip
def test_words_korean_polite_commands(ko: Locale, text: str, name: str) -> None:
    assert parse_words(text, ko) == ParsedCommand(name)


@pytest.mark.parametrize(
    "text",
    [
        "이요",  # an ending alone, not "two"
        "이야",
        "예요",  # the ending, not "예" (yes) + "요"
        "요 요",
        "오는",  # "coming": a topic particle is never glued to a number
        "일은",
        "일요일",  # rest not made of endings
        "사람",
        "여섯이요 일곱",
        "십이요",  # ten, or twelve?
        "다시요 여섯",
        "잠깐만요",
        "여섯이랑",
        "통증은",
    ],
)
def test_words_korean_endings_never_make_noise_a_rating(ko: Locale, text: str) -> None:
    assert parse_words(text, ko) is None


def test_words_every_korean_number_with_every_ending(ko: Locale) -> None:
    for value, words in ko.numbers.items():
        for word in words:
            for ending in ko.endings.number:
                glued = f"{word}{ending}"
                if (word == "십" and ending.startswith("이")) or glued in ko.endings.number:
                    continue  # "십이요", "이요": see test_words_korean_endings_never_make_noise_a_rating
                assert parse_words(glued, ko) == ParsedRating(value), glued
                assert parse_words(f"{word} {ending}", ko) == ParsedRating(value), f"{word} {ending}"
            assert parse_words(ending, ko) is None


def test_words_endings_come_from_the_locale_file(ko: Locale, en: Locale) -> None:
    assert ko.endings == Endings(
        number=("요", "이요", "예요", "이에요", "입니다", "이야", "쯤", "정도"),
        filler=("은", "는", "이", "가"),
        command=("요", "이요"),
        tens=("십",),
    )
    assert en.endings == Endings()
    assert parse_words("pause please", en) is None
    polite = dataclasses.replace(en, endings=Endings(command=("please",)))  # a language needs no code for its endings
    assert parse_words("pause please", polite) == ParsedCommand("pause")
    assert parse_words("please", polite) is None


def test_words_a_wrong_endings_key_names_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "xx.yaml"
    english = (locales_dir() / "en.yaml").read_text()
    bad.write_text(english + "endings:\n  suffix: [s]\n")
    line = len(english.splitlines()) + 2
    with pytest.raises(LocaleError, match=rf"^{re.escape(str(bad))}:{line}: unknown endings 'suffix'; known: number, "):
        _parse(read_yaml(bad), "xx")


def test_words_commands_come_out_as_the_one_enum(en: Locale, ko: Locale) -> None:
    for locale in (en, ko):
        assert set(locale.commands) == set(PERSON_COMMANDS)
        for name, phrases in locale.commands.items():
            parsed = parse_words(phrases[0], locale)
            assert isinstance(parsed, ParsedCommand) and type(parsed.name) is CommandName and parsed.name is name
    with pytest.raises(ValueError, match="'paws' is not a valid CommandName"):
        ParsedCommand("paws")  # type: ignore[arg-type]


def test_words_a_locale_with_an_unknown_command_names_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "xx.yaml"
    english = (locales_dir() / "en.yaml").read_text()
    lines = english.splitlines()
    at = lines.index("commands:") + 1
    bad.write_text("\n".join([*lines[: at + 1], "  paws: [paws]", *lines[at + 1 :]]) + "\n")
    with pytest.raises(LocaleError, match=rf"^{re.escape(str(bad))}:{at + 2}: unknown command 'paws'; known: start, pause, "):
        _parse(read_yaml(bad), "xx")


@pytest.mark.parametrize("text", ["³", "my pain is ³", "²", "pain ¹⁰", "9" * 5000])
def test_words_digits_that_int_cannot_read_mean_nothing_and_raise_nothing(en: Locale, text: str) -> None:
    # "³".isdigit() is True but int("³") raises: an input script's "heard ³" stopped the session with a traceback.
    assert parse_words(text, en) is None


def test_words_decimal_digits_of_any_script_are_a_rating(en: Locale) -> None:
    assert parse_words("٣", en) == ParsedRating(3)
    assert parse_words("my pain is 07", en) == ParsedRating(7)
