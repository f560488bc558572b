"""The recogniser's grammar, built from the locale's words, and how out-of-grammar speech is kept out.

A grammar-restricted recogniser can only answer with grammar words, so anything else a person
says (or the television) is forced onto the nearest of them. Two guards keep that from becoming
a command:

- ``[unk]``: models that have it (the English ones do) map out-of-grammar speech onto it, and the
  strict parser rejects any utterance with an ``[unk]`` in it.
- Absorbers, for models without ``[unk]`` (the Korean model): ordinary syllables and words of the
  language from the model's own vocabulary, added to the grammar so that out-of-grammar speech
  has somewhere better to go than a number. An absorber in the result is reported as ``[unk]``,
  so the utterance is rejected just the same. They cost some recall on short words (a robotic
  "여섯" can come out as "여 서"); the bench measures both sides.

On top of either, a word whose confidence is below ``min_confidence`` becomes ``[unk]``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from coach.spec.locale import Locale

UNK = "[unk]"

_KO_ABSORBERS = (
    # Bare vowels and h- syllables (breaths, "아", "어"), two hisses (rustle that gets past the VAD;
    # more of them, like 셔 or 싸, take "사" away), and common words of everyday talk and of the
    # coach's own cues. None may be a locale word: those are removed when the grammar is built.
    "아 우 으 에 와 워 위 의 하 호 후 흐 히 스 쉬 "
    "그런데 아이고 허리 진짜 이거 저거 그거 뭐야 여보 안녕 오늘 내일 사람 우리 그냥 정말 아파 "
    "많이 조금 하고 그리고 있어 했어 해요 하세요 운동 다리 천천히 숨을 자세 마세요 주세요 합니다 "
    "습니다 그래서 그러면 여기 저기 무엇 누구 어디 언제 어떻게 너는 좋은 크게 빨리"
)
ABSORBERS: dict[str, tuple[str, ...]] = {"ko": tuple(_KO_ABSORBERS.split())}
"""Out-of-grammar catchers per language, for models without ``[unk]``."""


@dataclass(frozen=True)
class MissingWord:
    word: str
    phrase: str
    line: int


@dataclass(frozen=True)
class Vocabulary:
    """What the recogniser may answer with, and what to do with each answer word."""

    language: str
    words: frozenset[str]
    """Locale words (numbers, commands, fillers) the model knows, split into single words."""
    phrases: tuple[str, ...]
    """Grammar entries: the locale's phrases whose words the model all knows."""
    absorbers: frozenset[str]
    unk: bool
    """The model has ``[unk]``, and the grammar includes it."""
    missing: tuple[MissingWord, ...]

    def grammar(self) -> list[str]:
        entries = sorted(set(self.phrases) | self.absorbers)
        return entries + [UNK] if self.unk else entries

    def grammar_json(self) -> str:
        return json.dumps(self.grammar(), ensure_ascii=False)

    def guard(self) -> str:
        """How out-of-grammar speech is kept out, in words, for reports."""
        if self.unk:
            return "[unk]"
        if self.absorbers:
            return f"{len(self.absorbers)} absorber words (the model has no [unk])"
        return "confidence only (the model has no [unk] and coach has no absorber list for this language)"

    def missing_lines(self, source: str, model: str) -> list[str]:
        """One line per locale word the model lacks: ``file:line: ...``."""
        return [
            f"{source}:{m.line}: {m.word!r} (in {m.phrase!r}) is not in the speech model's vocabulary ({model}); "
            "it can be typed but will not be heard"
            for m in self.missing
        ]


def locale_phrases(locale: Locale) -> list[str]:
    """Every number word, command phrase, filler, symptom phrase and check-in answer of the locale, in file order."""
    found: list[str] = []
    groups = (*locale.numbers.values(), *locale.commands.values(), locale.fillers, *locale.symptoms.values())
    groups += tuple(locale.answers.values())
    for group in groups:
        found.extend(p for p in group if p not in found)
    return found


def build_vocabulary(locale: Locale, has_word: Callable[[str], bool], absorbers: tuple[str, ...] | None = None) -> Vocabulary:
    """The grammar for ``locale`` on a model that knows the words for which ``has_word`` is true."""
    phrases: list[str] = []
    words: set[str] = set()
    missing: list[MissingWord] = []
    for phrase in locale_phrases(locale):
        if phrase.isdigit():
            continue  # "7" is for the keyboard; the recogniser gives number words
        lacking = [w for w in phrase.split() if not has_word(w)]
        for word in lacking:
            missing.append(MissingWord(word, phrase, locale.lines.get(phrase, 0)))
        if not lacking:
            phrases.append(phrase)
            words.update(phrase.split())
    unk = has_word(UNK)
    chosen = ABSORBERS.get(locale.language, ()) if absorbers is None else absorbers
    kept = frozenset() if unk else frozenset(w for w in chosen if w not in words and has_word(w))
    return Vocabulary(locale.language, frozenset(words), tuple(phrases), kept, unk, tuple(missing))
