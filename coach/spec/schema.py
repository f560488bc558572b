"""Declarative field checks for YAML mappings, shared by routines and config.

A check never stops at the first problem: :class:`Problems` collects one line per problem
(``file:line: field: what is wrong``) so a person fixes a file in one pass.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from coach.spec.files import has_visible, printable, unsafe_character
from coach.spec.yamlsrc import YNode

Converter = Callable[[YNode, "Problems", str], Any]


@dataclass
class Problems:
    """Accumulates one-line problem reports."""

    lines: list[str] = field(default_factory=list)

    def add(self, node: YNode, name: str, message: str, where: str | None = None) -> None:
        where = where or node.where
        prefix = f"{where}: {name}: " if name else f"{where}: "
        self.lines.append(printable(prefix + message))  # a key or value quoted in it must not reach a terminal raw

    def __bool__(self) -> bool:
        return bool(self.lines)


@dataclass(frozen=True)
class Field:
    """One allowed key of a mapping: its kind, bounds and default.

    ``kind`` is ``str``, ``int``, ``float``, ``bool``, ``"choice"``, ``"list"`` or ``"map"``.
    Numbers are checked against ``low``/``high`` (inclusive); ``choices`` lists the allowed words.
    """

    kind: Any
    default: Any = None
    required: bool = False
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    unit: str = ""
    max_length: int = 2000
    nullable: bool = False

    def describe_bounds(self) -> str:
        unit = f" {self.unit}" if self.unit else ""
        return f"between {_num(self.low)} and {_num(self.high)}{unit}"


def _num(value: float | None) -> str:
    if value is None:
        return "?"
    if isinstance(value, int):
        text = str(value)
        return text if len(text) <= 20 else f"a number of {len(text)} digits"
    return str(int(value)) if value.is_integer() else str(value)


def check_mapping(node: YNode, fields: dict[str, Field], problems: Problems, what: str) -> dict[str, Any]:
    """Validate ``node`` as a mapping of ``fields``; return plain values with defaults filled in.

    Unknown keys are problems with a "did you mean" hint; missing required keys are problems.
    Values of kind ``list``/``map`` are returned as their :class:`YNode` for the caller to walk.
    """
    if not isinstance(node.value, dict):
        problems.add(node, "", f"{what} must be a mapping of 'key: value' lines, got {type_word(node.value)}")
        return {name: f.default for name, f in fields.items()}
    result: dict[str, Any] = {}
    for key, value_node in node.value.items():
        spec = fields.get(key)
        if spec is None:
            problems.add(value_node, key, f"unknown field in {what}{did_you_mean(key, fields)}", node.key_where(key))
            continue
        result[key] = check_value(value_node, spec, problems, key)
    for name, spec in fields.items():
        if name not in result:
            if spec.required:
                problems.add(node, name, f"missing (required in {what})")
            result[name] = spec.default
    return result


def check_value(node: YNode, spec: Field, problems: Problems, name: str) -> Any:
    """Check one value against ``spec``; on a problem, record it and return the default."""
    value = node.value
    if value is None and (spec.nullable or not spec.required):
        return spec.default if not spec.nullable else None
    kind = spec.kind
    if kind is bool:
        if isinstance(value, bool):
            return value
        problems.add(node, name, f"must be true or false, got {show(value)}")
    elif kind in (int, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (kind is int and isinstance(value, float)):
            noun = "a whole number" if kind is int else "a number"
            problems.add(node, name, f"must be {noun}, got {show(value)}")
        elif value != value or (spec.low is not None and value < spec.low) or (spec.high is not None and value > spec.high):
            problems.add(node, name, f"must be {spec.describe_bounds()}, got {show(value)}")
        else:
            return kind(value)
    elif kind is str:
        if isinstance(value, str) and has_visible(value):
            bad = unsafe_character(value)
            if len(value) > spec.max_length:
                problems.add(node, name, f"is too long ({len(value)} characters; at most {spec.max_length})")
            elif bad is not None:
                problems.add(node, name, f"holds {ascii(bad)}, a control or text-direction character text must not hold")
            else:
                return " ".join(value.split())
        elif isinstance(value, str) and value.strip():
            problems.add(node, name, f"must be text that can be seen, got only invisible characters {show(value)}")
        else:
            problems.add(node, name, f"must be non-empty text, got {show(value)}")
    elif kind == "choice":
        if isinstance(value, str) and value in spec.choices:
            return value
        hint = did_you_mean(str(value), spec.choices)
        problems.add(node, name, f"must be one of {', '.join(spec.choices)}, got {show(value)}{hint}")
    elif kind == "list":
        if isinstance(value, list):
            return node
        problems.add(node, name, f"must be a list ('- item' lines), got {type_word(value)}")
    elif kind == "map":
        if isinstance(value, dict):
            return node
        problems.add(node, name, f"must be a mapping of 'key: value' lines, got {type_word(value)}")
    else:  # pragma: no cover - a programming error in a Field table
        raise TypeError(f"unknown field kind {kind!r}")
    return spec.default


def did_you_mean(word: str, options: Any) -> str:
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def show(value: Any) -> str:
    if isinstance(value, str):
        return repr(value if len(value) <= 40 else value[:37] + "...")
    if isinstance(value, (dict, list)):
        return type_word(value)
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    return _num(value) if isinstance(value, (int, float)) else repr(value)


def type_word(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing"
    if isinstance(value, str):
        return f"the text {show(value)}"
    return show(value)
