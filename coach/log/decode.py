"""Records rows read back fast: the typed record of a plain row without the general path's work.

History, the exports and the report read every row of a log that may hold a million; the general
reading (:func:`coach.log.schema.from_row`, then :func:`coach.core.records.record_from`) costs about
12 µs a row, mostly in asking the dataclass for its fields again for each row. :func:`decode` gives the
same result for a plain row (every value of exactly a type its field allows, no field beyond its type)
in about a third of that, from a plan made once per kind; for anything else it returns None, and the
caller reads the row the general way, so an unusual row (a hand edit, a newer coach's) reads exactly
as it always did. ``tests/test_log_scale.py`` checks the two agree.
"""

from __future__ import annotations

import json
import typing
from typing import Any

from coach.core.records import RECORD_TYPES, Record, field_names
from coach.log.schema import COLUMNS

NAMES = tuple(COLUMNS)
"""The record fields that have a column, in the order :data:`SELECT` lists the columns."""
SELECT = "r.id, r.session_id, r.wall, r.kind, r.extra, " + ", ".join(f"r.{column}" for column, _ in COLUMNS.values()) + ", NULL"
"""The columns :func:`decode` reads, in its order: where the row is, then one per field with a column, then a NULL."""
FIRST = 5
"""Where the field columns start in a :data:`SELECT` row."""
END = FIRST + len(NAMES) + 1
"""Where the columns after :data:`SELECT` start (the caller's own)."""
_NONE = FIRST + len(NAMES)
"""The NULL at the end of :data:`SELECT`: what a field with no column reads from a row whose ``extra`` is empty."""

_EXACT: dict[type, tuple[type, ...]] = {str: (str,), int: (int,), float: (float, int), bool: (bool,), type(None): ()}

Step = tuple[str, int, bool, frozenset[type], bool]
"""A field: its name, its column in a row (or the NULL), whether it may be None, the exact types it takes, whether a float."""


class Plan(typing.NamedTuple):
    cls: type[Record]
    steps: tuple[Step, ...]
    names: frozenset[str]
    others: tuple[int, ...]
    """The columns of fields this kind does not have: a row with any of them set has fields beyond its type."""


def _plan(cls: type[Record]) -> Plan:
    hints = typing.get_type_hints(cls)
    steps = []
    for name in field_names(cls):
        options = typing.get_args(hints[name]) or (hints[name],)
        allowed = frozenset(t for option in options for t in _EXACT.get(option, ()))
        column = FIRST + NAMES.index(name) if name in COLUMNS else _NONE
        steps.append((name, column, type(None) in options, allowed, float in options))
    others = tuple(FIRST + i for i, name in enumerate(NAMES) if name not in field_names(cls))
    return Plan(cls, tuple(steps), frozenset(field_names(cls)), others)


_PLANS = {kind: _plan(cls) for kind, cls in RECORD_TYPES.items() if not getattr(cls, "RENAMED", None)}
"""A kind whose stored names differ from its attributes (``Progress``: ``from``, ``to``) reads the general way."""


def decode(row: tuple[Any, ...]) -> tuple[type[Record], dict[str, Any], dict[str, Any]] | None:
    """The record type of a :data:`SELECT` row, the fields it has beyond its type, and its field values in
    order (what ``record.fields()`` gives; ``type(**values)`` is the record); None for a row that is not
    plain (read it with ``from_row``).

    A value passes only when its type is exactly one its field allows, so nothing the general path would
    refuse, or read differently, gets through.
    """
    plan = _PLANS.get(row[3])
    if plan is None:
        return None
    values: dict[str, Any] = {}
    if row[4] == "{}":  # most records: every field in its column, or None
        for index in plan.others:
            if row[index] is not None:
                return None
        for name, column, nullable, allowed, floating in plan.steps:
            value = row[column]
            if value is None:
                if not nullable:
                    return None
            elif type(value) not in allowed:
                return None
            elif floating and type(value) is int:
                value = float(value)
            values[name] = value
        return plan.cls, {}, values
    stored = {name: value for name, value in zip(NAMES, row[FIRST:_NONE]) if value is not None}
    try:
        extra = json.loads(row[4])
    except (TypeError, ValueError):
        return None
    if type(extra) is not dict:
        return None
    stored.update(extra)
    for name, _, nullable, allowed, floating in plan.steps:
        value = stored.get(name)
        if value is None:
            if not nullable:
                return None
        elif type(value) not in allowed:
            return None
        elif floating and type(value) is int:
            value = float(value)
        values[name] = value
    other = {name: value for name, value in stored.items() if name not in plan.names}
    return plan.cls, other, values
