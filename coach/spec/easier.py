"""Is an easier form really easier? The checks of a routine's ``easier:`` (shared/PROTOCOL.md, "stop or regress").

An easier form does no more than its standard form: no more repetitions, sets or seconds of holding, and a
PIR presses no harder (a longer press, the protocol's gentler contraction, only with less force). Kept apart
from :mod:`coach.spec.routine` so that module stays short; it reads the exercises' fields by name.
"""

from __future__ import annotations

import re
from typing import Any

STRENGTHS = ("tenth", "eighth", "sixth", "fifth", "quarter", "third", "half")
"""How hard a PIR presses, lightest first ("a tenth of your strength"); the locale's default is a fifth."""


def strength_rank(text: str | None) -> int | None:
    """Where ``text`` stands among :data:`STRENGTHS` (``None``: the default, a fifth); ``None`` if it names none."""
    if text is None:
        return STRENGTHS.index("fifth")
    found = [i for i, word in enumerate(STRENGTHS) if re.search(rf"\b{word}\b", text.lower())]
    fraction = re.search(r"(\d+)\s*분의\s*1", text)  # Korean: "힘의 10분의 1 정도", a tenth
    if fraction and fraction.group(1) in _DENOMINATORS:
        found.append(_DENOMINATORS[fraction.group(1)])
    return found[0] if len(found) == 1 else None


_DENOMINATORS = {"10": 0, "8": 1, "6": 2, "5": 3, "4": 4, "3": 5, "2": 6}
""""1/n" as its place in :data:`STRENGTHS`."""


def harder(standard: Any, easier: Any) -> list[str]:
    """Every way ``easier`` is not easier than ``standard``."""
    found = []
    for name in ("repetitions", "sets", "hold_seconds", "seconds"):
        old, new = getattr(standard, name, None), getattr(easier, name, None)
        if old is not None and new is not None and new > old:
            found.append(f"{name}: {new:g} is more than the standard form's {old:g}; an easier form does no more")
    if hasattr(standard, "strength") and hasattr(standard, "contract_seconds"):  # a PIR
        old_rank, new_rank = strength_rank(standard.strength), strength_rank(easier.strength)
        if easier.strength != standard.strength and new_rank is None:
            found.append(f"strength: {easier.strength!r} names none of {', '.join(STRENGTHS)}, so it cannot be told lighter")
        elif old_rank is not None and new_rank is not None:
            if new_rank > old_rank:
                found.append(f"strength: {easier.strength!r} is stronger than the standard form's; an easier form presses less")
            elif easier.contract_seconds > standard.contract_seconds and new_rank == old_rank:
                found.append("contract_seconds: a longer press needs less force; give a lighter 'strength' (e.g. a tenth)")
    return found
