"""JSON written as it is read: the exports' documents item by item, the same text ``json.dump(..., indent=1)``
gives for the whole document at once (``tests/test_log_scale.py`` compares them on a 300-session log).

Why not ``json.dump`` of the whole document: it needs the whole log in memory, and with an indent it runs in
pure Python, about four times slower than the C encoder this module uses for flat objects.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import IO, Any

SCALARS = frozenset((str, int, float, bool, type(None)))
encode_key = json.encoder.encode_basestring
"""A text as JSON (``ensure_ascii=False``), as :func:`json.dumps` writes it."""


_FLAT_ENCODERS: dict[int, Callable[[Any], str]] = {}


def flat(depth: int) -> Callable[[Any], str]:
    """The C encoder for a flat object's items at ``depth``: the item separator carries the newline and indent."""
    encode = _FLAT_ENCODERS.get(depth)
    if encode is None:
        encode = _FLAT_ENCODERS[depth] = json.JSONEncoder(ensure_ascii=False, separators=(",\n" + " " * (depth + 1), ": ")).encode
    return encode


def write_list(texts: Iterable[str], out: IO[str], depth: int) -> int:
    """A JSON list at ``depth`` (spaces of indent) of items already JSON text (at ``depth + 1``), one written
    at a time; return how many."""
    count = 0
    pad = " " * (depth + 1)
    for text in texts:
        out.write(("[\n" if not count else ",\n") + pad + text)
        count += 1
    out.write(f"\n{' ' * depth}]" if count else "[]")
    return count


def indented(value: Any, depth: int) -> str:
    """``value`` as ``json.dumps(value, ensure_ascii=False, indent=1)`` writes it, at ``depth``: the same text.

    Why not ``json.dumps`` itself: with an indent it runs in pure Python, about four times slower; a flat
    object (every value a text, number, boolean or null) goes through the C encoder with the item separator
    carrying the newline and indent. Anything else unusual (keys that are not text, tuples, other types)
    is left to :func:`json.dumps`, so the text is always what it would write.
    """
    kind = type(value)
    if kind is dict and value and all(type(key) is str for key in value):
        pad = " " * (depth + 1)
        for item in value.values():
            if type(item) not in SCALARS:
                break
        else:
            return "{\n" + pad + flat(depth)(value)[1:-1] + "\n" + " " * depth + "}"
        inner = ",\n".join(pad + encode_key(key) + ": " + indented(item, depth + 1) for key, item in value.items())
        return "{\n" + inner + "\n" + " " * depth + "}"
    if kind is list and value:
        pad = " " * (depth + 1)
        return "[\n" + ",\n".join(pad + indented(item, depth + 1) for item in value) + "\n" + " " * depth + "]"
    if kind is str:
        return encode_key(value)
    return json.dumps(value, ensure_ascii=False, indent=1).replace("\n", "\n" + " " * depth)
