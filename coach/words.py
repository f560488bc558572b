"""The one place that turns words into commands and ratings.

Used by the ``heard`` input-script command, the keyboard, and the voice listener alike. The parser
is strict on purpose: an utterance becomes a command or rating only when every word in it is
either a known word or a filler ("my pain is about a six"); anything else is ``None``, so stray
speech and noise never act.

Korean glues particles and polite endings to the word ("여섯이요", "다시요") or, typed, puts them
after it ("여섯 이요"). Both are accepted for the particles in :data:`PARTICLES` and the locale's
fillers: a glued ending means exactly what the same ending spaced means, so it lets nothing new
through (a glued word whose rest is not made of those endings, like "일요일" or "사람", stays
``None``), and a particle on its own is never a rating ("이요" is an ending, not "two").
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

PARTICLES: dict[str, tuple[str, ...]] = {"ko": ("요", "이요", "예요", "이에요", "입니다", "이야", "쯤", "정도")}
"""Endings that may follow a rating, spaced or glued ("여섯이요", "다섯정도요"), per language.

Only endings that make the number an answer ("it is six", "about six"): a topic or subject
particle glued to a number is an everyday word ("오는" coming, "일은" the work), so it is not
here; spaced, the locale's fillers still allow it ("여섯 은"). Why not in the locale file: "이요"
is not said alone, and the locale's fillers also become the recogniser's grammar."""

TOPIC: dict[str, tuple[str, ...]] = {"ko": ("은", "는", "이", "가")}
"""Topic and subject particles, which may be glued to a filler ("통증은 여섯"), never to a number."""

TENS: dict[str, tuple[str, ...]] = {"ko": ("십",)}
"""Number words that another number glued after makes a larger number ("십이" is 12): such a word
glued to an ending that starts with a number ("십이요": ten, or twelve?) means nothing."""

POLITE: dict[str, tuple[str, ...]] = {"ko": ("요", "이요")}
"""Polite endings that may follow a command ("다시요", "반복 이요"), per language; nothing else may."""


def parse_words(text: str, locale: Locale) -> Parsed | None:
    """Turn ``text`` into a command or a 0-10 rating, or ``None`` when it means neither clearly."""
    cleaned = re.sub(r"[^\w\s']", " ", text.lower()).split()
    if not cleaned:
        return None
    command = _command(cleaned, locale)
    if command is not None:
        return ParsedCommand(command)
    tokens = _drop_out_of_ten(cleaned, locale)
    particles = set(PARTICLES.get(locale.language, ()))
    skip = set(locale.fillers) | particles
    heads = [*_number_words(locale), *(str(n) for n in range(11))]
    after_filler = particles | set(TOPIC.get(locale.language, ()))
    values = []
    for token in tokens:
        value = _number(token, locale)
        if value is None and token not in skip:
            head = _glued(token, heads, particles) if particles else None
            if head in TENS.get(locale.language, ()) and any(token[len(head) :].startswith(w) for w in heads):
                return None
            if head is None and not (particles and _glued(token, list(locale.fillers), after_filler)):
                return None
            value = _number(head, locale) if head is not None else None
        if value is not None:
            values.append(value)
    if len(values) == 1:
        return ParsedRating(values[0])
    return None


def _command(tokens: list[str], locale: Locale) -> str | None:
    """The command ``tokens`` say, allowing a polite ending after it ("다시요", "다시 요")."""
    polite = POLITE.get(locale.language, ())
    forms = [tokens]
    if polite:
        *rest, last = tokens
        heads = [p.split()[-1] for phrases in locale.commands.values() for p in phrases]
        ending = last in locale.fillers or last in PARTICLES.get(locale.language, ())  # "예요" is not "예" + "요"
        head = None if ending else _glued(last, heads, set(polite))
        bare = [*rest, head] if head is not None else tokens
        while len(bare) > 1 and bare[-1] in polite:
            bare = bare[:-1]
        forms.append(bare)
    for form in forms:
        joined = " ".join(form)
        for name, phrases in locale.commands.items():
            if joined in phrases:
                return name
    return None


def _glued(token: str, heads: list[str], endings: set[str]) -> str | None:
    """The longest of ``heads`` that ``token`` starts with, when the rest is made of ``endings``."""
    for head in sorted(set(heads), key=len, reverse=True):
        if token.startswith(head) and len(token) > len(head) and _made_of(token[len(head) :], endings):
            return head
    return None


def _made_of(rest: str, endings: set[str]) -> bool:
    return not rest or any(rest.startswith(e) and _made_of(rest[len(e) :], endings) for e in endings)


def _number_words(locale: Locale) -> list[str]:
    return [w for words in locale.numbers.values() for w in words]


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
