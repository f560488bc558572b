"""Safe reading of YAML files into located nodes, so every later error can name ``file:line``.

Files are composed with PyYAML's *safe* composer and converted node by node here, never
constructed by PyYAML: a ``!!python/...`` tag is reported as an error and never executes.
Size, nesting depth and the number of nodes after alias expansion are bounded so a hostile
or broken file (an "alias bomb", a recursive anchor, a 2 GB log pasted by mistake) gets one
clean line instead of hanging the Pi.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from coach.errors import InputFileError
from coach.spec.files import printable, read_capped

MAX_FILE_BYTES = 512 * 1024
"""Largest YAML file accepted (bytes); routines and configs are a few kilobytes."""

MAX_NODES = 50_000
"""Most nodes a file may expand to, counting every alias use (guards against alias bombs)."""

MAX_DEPTH = 40
"""Deepest nesting accepted."""

MAX_NUMBER_CHARS = 100
"""Longest number, dates and times included, accepted (characters): no setting needs more, and Python refuses to turn
ints of over 4300 digits into text."""

_SCALAR_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:timestamp",
}
_TAG_WORDS = {
    "tag:yaml.org,2002:int": "a whole number",
    "tag:yaml.org,2002:float": "a number",
    "tag:yaml.org,2002:bool": "true or false",
    "tag:yaml.org,2002:timestamp": "a date (YYYY-MM-DD) or a time",
}
"""What a scalar with each tag must be, for the message when it is not."""
_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"


@dataclass(frozen=True)
class YNode:
    """A YAML value with the file and 1-based line it came from.

    ``value`` is a ``dict[str, YNode]`` for mappings, a ``list[YNode]`` for sequences, or a plain
    scalar (str, int, float, bool, None).
    """

    value: Any
    path: str
    line: int
    key_lines: dict[str, int] | None = None
    """For mappings: the line of each key (a nested mapping's value starts a line later)."""

    @property
    def where(self) -> str:
        """``file:line`` prefix for error messages."""
        return f"{self.path}:{self.line}"

    def key_where(self, key: str) -> str:
        """``file:line`` of ``key`` in this mapping."""
        line = (self.key_lines or {}).get(key, self.line)
        return f"{self.path}:{line}"

    def plain(self) -> Any:
        """The value with every nested node unwrapped (for printing, hashing)."""
        if isinstance(self.value, dict):
            return {k: v.plain() for k, v in self.value.items()}
        if isinstance(self.value, list):
            return [v.plain() for v in self.value]
        return self.value


def read_yaml(path: Path | str, *, allow_empty: bool = False) -> YNode:
    """Read and parse ``path``; raise :class:`InputFileError` with one clear line on any failure."""
    return read_yaml_source(path, allow_empty=allow_empty)[0]


def read_yaml_source(path: Path | str, *, allow_empty: bool = False) -> tuple[YNode, bytes]:
    """Like :func:`read_yaml`, with the bytes that were parsed (to hash them: the file is read once)."""
    path = Path(path)
    shown = printable(str(path))
    data = read_capped(path, MAX_FILE_BYTES, "a YAML file")
    text = _decode(data, shown)
    if not text.strip() or _only_comments(text):
        if allow_empty:
            return YNode({}, shown, 1), data
        raise InputFileError(f"{shown}:1: the file is empty")
    return parse_yaml(text, shown), data


def parse_yaml(text: str, shown: str) -> YNode:
    """Parse YAML text (already read) into located nodes."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        problem = exc.problem or exc.context or "invalid YAML"
        raise InputFileError(printable(f"{shown}:{line}: YAML syntax error: {problem}")) from None
    except yaml.reader.ReaderError as exc:  # a raw control character: its own message has two lines and no line number
        line = text[: exc.position].count("\n") + 1
        char = chr(exc.character) if isinstance(exc.character, int) else str(exc.character)
        raise InputFileError(f"{shown}:{line}: the character {ascii(char)} (a control character) is not allowed") from None
    except yaml.YAMLError as exc:
        raise InputFileError(printable(f"{shown}:1: YAML error: {' '.join(str(exc).split())}")) from None
    except RecursionError:
        raise InputFileError(f"{shown}:1: nesting is too deep") from None
    if node is None:
        raise InputFileError(f"{shown}:1: the file is empty")
    return _Converter(shown).convert(node, 0)


def _decode(data: bytes, shown: str) -> str:
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        raise InputFileError(f"{shown}:{line}: binary data (NUL byte); expected a UTF-8 YAML text file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputFileError(f"{shown}:{line}: not UTF-8 text (byte 0x{data[exc.start]:02x})") from None
    return text


def _only_comments(text: str) -> bool:
    return all(not line.strip() or line.lstrip().startswith("#") for line in text.splitlines())


class _Converter:
    """Turns composed nodes into :class:`YNode` trees within the node and depth budgets."""

    def __init__(self, shown: str) -> None:
        self.shown = shown
        self.count = 0
        self.scalars = yaml.SafeLoader("")

    def convert(self, node: yaml.Node, depth: int) -> YNode:
        line = node.start_mark.line + 1
        self.count += 1
        if self.count > MAX_NODES:
            raise InputFileError(
                f"{self.shown}:{line}: too many values (over {MAX_NODES}, counting aliases); is an anchor repeated recursively?"
            )
        if depth > MAX_DEPTH:
            raise InputFileError(f"{self.shown}:{line}: nesting is deeper than {MAX_DEPTH} levels")
        if isinstance(node, yaml.MappingNode):
            key_lines: dict[str, int] = {}
            return YNode(self._mapping(node, depth, key_lines), self.shown, line, key_lines)
        if isinstance(node, yaml.SequenceNode):
            if node.tag != _SEQ_TAG:
                raise self._bad_tag(node, line)
            return YNode([self.convert(item, depth + 1) for item in node.value], self.shown, line)
        if node.tag not in _SCALAR_TAGS:
            raise self._bad_tag(node, line)
        return YNode(self._scalar(node, line), self.shown, line)

    def _scalar(self, node: yaml.Node, line: int) -> Any:
        """The scalar's value; a value its tag cannot have (``!!int xyz``) or a huge number is one clean line."""
        kind = _TAG_WORDS.get(node.tag)
        if kind is not None and len(node.value) > MAX_NUMBER_CHARS:
            raise InputFileError(
                f"{self.shown}:{line}: a number of {len(node.value)} characters is too long (at most {MAX_NUMBER_CHARS})"
            )
        try:
            value = self.scalars.construct_object(node, deep=True)
        except (ValueError, KeyError, AttributeError, TypeError, OverflowError, yaml.YAMLError):
            raise InputFileError(f"{self.shown}:{line}: {_shown_scalar(node.value)} is not {kind or 'a valid value'}") from None
        if not isinstance(value, (str, int, float, bool, type(None))):
            value = node.value  # dates and timestamps: the text as written; validation decides where text may go
        return value

    def _mapping(self, node: yaml.MappingNode, depth: int, key_lines: dict[str, int]) -> dict[str, YNode]:
        if node.tag != _MAP_TAG:
            raise self._bad_tag(node, node.start_mark.line + 1)
        result: dict[str, YNode] = {}
        for key_node, value_node in node.value:
            key_line = key_node.start_mark.line + 1
            if key_node.tag == "tag:yaml.org,2002:merge":
                merged = self.convert(value_node, depth + 1)
                sources = merged.value if isinstance(merged.value, list) else [merged]
                for source in sources:
                    if isinstance(source.value, dict):
                        for k, v in source.value.items():
                            result.setdefault(k, v)
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                raise InputFileError(f"{self.shown}:{key_line}: a key must be a plain word, not a list or mapping")
            key = self.convert(key_node, depth + 1).value
            if not isinstance(key, str):
                key = str(key).lower() if isinstance(key, bool) else str(key)
            if key in key_lines:
                first = key_lines[key]
                raise InputFileError(f"{self.shown}:{key_line}: {_shown_scalar(key)} is given twice (first on line {first})")
            key_lines[key] = key_line
            result[key] = self.convert(value_node, depth + 1)
        return result

    def _bad_tag(self, node: yaml.Node, line: int) -> InputFileError:
        return InputFileError(
            f"{self.shown}:{line}: tag {node.tag!r} is not allowed; routines and configs hold plain values only"
        )


def _shown_scalar(text: str) -> str:
    """A scalar as written, quoted, cut short and with control characters escaped, for a message."""
    return printable(repr(text if len(text) <= 40 else text[:37] + "..."))
