"""The one place that turns words into commands and ratings.

Used by the ``heard`` input-script command, the keyboard, and the voice listener alike. The parser
is strict on purpose: an utterance becomes a command or rating only when every word in it is
either a known word or a filler ("my pain is about a six"); anything else is ``None``, so stray
speech and noise never act.

Korean glues particles and polite endings to the word ("여섯이요", "다시요") or, typed, puts them
after it ("여섯 이요"). Both are accepted for the endings the locale file lists (``endings:``, see
:class:`~coach.spec.locale.Endings`) and its fillers: a glued ending means exactly what the same ending
spaced means, so it lets nothing new through (a glued word whose rest is not made of those endings,
like "일요일" or "사람", stays ``None``), and a particle on its own is never a rating ("이요" is an
ending, not "two").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from coach.spec.commands import CommandName
from coach.spec.locale import Locale


@dataclass(frozen=True)
class ParsedCommand:
    name: CommandName

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", CommandName(self.name))  # "pause" from a test is the enum too


@dataclass(frozen=True)
class ParsedRating:
    value: int


@dataclass(frozen=True)
class ParsedSymptom:
    """Words naming a symptom (``leg``: numb, weak, shooting; ``bladder-bowel``): the session stops for it."""

    kind: str


@dataclass(frozen=True)
class ParsedAnswer:
    """The check-in's answer (``better``, ``same``, ``worse``): the whole utterance is one of the locale's ``answers``."""

    value: str


Parsed = ParsedCommand | ParsedRating | ParsedSymptom | ParsedAnswer


def parse_words(text: str, locale: Locale) -> Parsed | None:
    """Turn ``text`` into a command or a 0-10 rating, or ``None`` when it means neither clearly.

    Called once per utterance, where the words arrive (the voice listener's thread, the keyboard's,
    or the runner for an input script's ``heard`` line); the result travels with the words.
    """
    cleaned = re.sub(r"[^\w\s']", " ", text.lower()).split()
    if not cleaned:
        return None
    symptom = _symptom(cleaned, locale)  # first, and anywhere in the utterance: a symptom is never lost to noise
    if symptom is not None:
        return ParsedSymptom(symptom)
    command = _command(cleaned, locale)
    if command is not None:
        return ParsedCommand(command)
    answer = _answer(cleaned, locale)
    if answer is not None:
        return ParsedAnswer(answer)
    tokens = _drop_out_of_ten(cleaned, locale)
    endings = locale.endings
    particles = set(endings.number)
    skip = set(locale.fillers) | particles
    heads = [*_number_words(locale), *(str(n) for n in range(11))]
    after_filler = particles | set(endings.filler)
    values = []
    for token in tokens:
        value = _number(token, locale)
        if value is None and token not in skip:
            head = _glued(token, heads, particles) if particles else None
            if head in endings.tens and any(token[len(head) :].startswith(w) for w in heads):
                return None
            if head is None and not (particles and _glued(token, list(locale.fillers), after_filler)):
                return None
            value = _number(head, locale) if head is not None else None
        if value is not None:
            values.append(value)
    if len(values) == 1:
        return ParsedRating(values[0])
    return None


def _symptom(tokens: list[str], locale: Locale) -> str | None:
    """The symptom category a phrase of ``tokens`` names (bladder and bowel first: the urgent one).

    Lenient on purpose, unlike commands: other words around it ("my left leg is numb") do not hide it,
    and in a locale with endings a glued one counts ("저려요"): asking once too often is the safe mistake.
    """
    glue = {e for kind in ("number", "filler", "command") for e in getattr(locale.endings, kind)}
    for kind in sorted(locale.symptoms, key=lambda k: k != "bladder-bowel"):
        for phrase in locale.symptoms[kind]:
            words = phrase.split()
            for i in range(len(tokens) - len(words) + 1):
                *head, last = tokens[i : i + len(words)]
                if head == words[:-1] and (last == words[-1] or (glue and _glued(last, [words[-1]], glue))):
                    return kind
    return None


def _command(tokens: list[str], locale: Locale) -> CommandName | None:
    """The command ``tokens`` say, allowing a polite ending after it ("다시요", "다시 요")."""
    polite = locale.endings.command
    forms = [tokens]
    if polite:
        *rest, last = tokens
        heads = [p.split()[-1] for phrases in locale.commands.values() for p in phrases]
        ending = last in locale.fillers or last in locale.endings.number  # "예요" is not "예" + "요"
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


def _small_whole_number(token: str) -> bool:
    """``token`` is written in digits and is at most 10.

    Decimal digits of any script ("٣" is 3), as ``int`` reads them; not every ``isdigit``: ``int("³")``
    raises. Short, so ``int`` never meets a number of thousands of digits (it refuses over 4300).
    """
    return token.isdecimal() and len(token.lstrip("0")) <= 2 and int(token) <= 10


def _number(token: str, locale: Locale) -> int | None:
    if _small_whole_number(token):
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


def _answer(tokens: list[str], locale: Locale) -> str | None:
    """The check-in answer ``tokens`` say, as strictly as a command (a polite ending after it allowed, as there)."""
    joined = " ".join(tokens)
    polite = set(locale.endings.command) | set(locale.endings.number)
    for value, phrases in locale.answers.items():
        for phrase in phrases:
            if joined == phrase or (polite and joined.startswith(phrase) and _made_of(joined[len(phrase) :].strip(), polite)):
                return value
    return None
