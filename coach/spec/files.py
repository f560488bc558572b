"""Reading a small input file safely: regular files only, with a size cap, and text made safe to print.

A routine, a config or an input script is named by a person, who may name a FIFO (``open`` would
wait forever for a writer), ``/dev/zero`` or ``/dev/urandom`` (``st_size`` is 0, and reading never
ends), a directory or a terminal. :func:`read_capped` refuses anything but a regular file before
opening it, and reads at most ``limit + 1`` bytes whatever ``st_size`` says, so nothing hangs and
nothing fills the memory. :func:`printable` escapes what must never
reach a terminal (escape sequences, other control and format characters), also in error messages.
"""

from __future__ import annotations

import os
import stat
import unicodedata
from pathlib import Path

from coach.errors import InputFileError

_INVISIBLE_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zs", "Zl", "Zp", "Mn", "Me"}
_FILLERS = {"\u115f", "\u1160", "\u3164", "\uffa0", "\u2800", "\u180e"}
"""Letters and symbols that draw as nothing (Hangul fillers, the blank Braille pattern)."""
_BIDI_CONTROLS = {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C)}
"""Characters that reorder how text is drawn ("Trojan Source"): never wanted in a routine's text."""


def read_capped(path: Path | str, limit: int, what: str = "a text file") -> bytes:
    """The bytes of the regular file ``path`` (at most ``limit``); :class:`InputFileError` otherwise.

    ``what`` names what was expected, with its article ("a YAML file"). Messages are ``path:0: ...``
    (the file as a whole, no line yet).

    The file is opened without blocking (``O_NONBLOCK``: a FIFO with no writer opens at once) and its
    type checked on the open descriptor (``fstat``), so a path swapped between a check and the open
    changes nothing; the read is capped whatever ``st_size`` says.
    """
    path = Path(path)
    shown = printable(str(path))
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY)
    except FileNotFoundError:
        raise InputFileError(f"{shown}:0: no such file") from None
    except PermissionError:
        raise InputFileError(f"{shown}:0: permission denied") from None
    except IsADirectoryError:
        raise InputFileError(f"{shown}:0: is a directory, not {what}") from None
    except OSError as exc:
        raise InputFileError(f"{shown}:0: cannot read: {exc.strerror or exc}") from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise InputFileError(f"{shown}:0: is a directory, not {what}")
        if not stat.S_ISREG(mode):
            raise InputFileError(f"{shown}:0: is not a regular file ({file_kind(mode)}); give {what}")
        data = _read_at_most(fd, limit + 1)  # never st_size: a device or a growing file says nothing true
    except OSError as exc:
        raise InputFileError(f"{shown}:0: cannot read: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    if len(data) > limit:
        raise InputFileError(f"{shown}:0: file is too large (more than {limit} bytes, the limit)")
    return data


def _read_at_most(fd: int, size: int) -> bytes:
    chunks: list[bytes] = []
    left = size
    while left > 0:
        chunk = os.read(fd, min(left, 1 << 16))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def file_kind(mode: int) -> str:
    """What a file that is not a plain file is, for a person ("a FIFO", "a character device", ...)."""
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a plain file"


def printable(text: str) -> str:
    """``text`` with every character that is not printable (escape, BEL, U+202E, ...) written as ``\\x1b``, ``\\u202e``."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)


def unsafe_character(text: str) -> str | None:
    """The first character of ``text`` a routine's text must not hold (a control or bidi character), or ``None``.

    Tabs and line breaks are fine: text is folded onto one line when it is read.
    """
    for ch in text:
        if ch in "\t\n\r":
            continue
        if unicodedata.category(ch) in ("Cc", "Cs") or ch in _BIDI_CONTROLS:
            return ch
    return None


def has_visible(text: str) -> bool:
    """True if some character of ``text`` draws as something (not only spaces, zero-width or filler characters)."""
    return any(unicodedata.category(ch) not in _INVISIBLE_CATEGORIES and ch not in _FILLERS for ch in text)
