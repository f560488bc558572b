"""What the controls say back: number words and phrases, both from the locale.

The number words are the first word listed for each value (``zero``, ``one``…), so a rating is
read back in the session's language. A language whose locale lacks a control phrase gets the
bare number word and no hint, which still works: a person hears the value they are about to
confirm.
"""

from __future__ import annotations

from coach.spec.locale import Locale


class Phrases:
    """Phrases of one language for the controls."""

    def __init__(self, locale: Locale) -> None:
        self.language = locale.language
        self.words = {n: words[0] for n, words in locale.numbers.items() if words}
        self.table = locale.phrases

    def number(self, n: int) -> str:
        return self.words.get(n, str(n))

    def with_number(self, key: str, n: int) -> str:
        """The phrase ``key`` for the value ``n``; the bare number word where the language lacks it."""
        template = self.table.get(key)
        word = self.number(n)
        return template.format(n=word) if template else word

    def get(self, key: str) -> str | None:
        """A phrase with no value in it, or ``None`` where the language lacks it (then say nothing)."""
        return self.table.get(key)
