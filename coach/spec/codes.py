"""The clinic's list of patient codes: which codes a shared station accepts (see :mod:`coach.core.patient_code`).

A plain text file, one code per line, digits only, every code as long as the station's ``patient_code_digits``;
``#`` starts a comment. It holds pseudonyms the clinic hands out, never names. Read like every other file a
user hands the coach (:func:`coach.spec.files.read_capped`: no FIFO or device, a size cap), and every problem
is one ``file:line`` line.
"""

from __future__ import annotations

from pathlib import Path

from coach.errors import InputFileError
from coach.spec.files import printable, read_capped

MAX_BYTES = 1_000_000
"""A clinic's codes fit easily (about 100,000 of them); a bigger file is not a list of codes."""


def load_codes(path: Path | str, digits: int) -> frozenset[str]:
    """The codes in ``path``, each ``digits`` long; :class:`InputFileError` naming the first bad line."""
    shown = printable(str(path))
    data = read_capped(path, MAX_BYTES, "a file of patient codes")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputFileError(f"{shown}:0: not UTF-8 text") from None
    codes: set[str] = set()
    for number, line in enumerate(text.splitlines(), 1):
        code = line.split("#", 1)[0].strip()
        if not code:
            continue
        if not (code.isascii() and code.isdigit()):
            raise InputFileError(f"{shown}:{number}: {printable(code)!s} is not a code: digits only, one code a line")
        if len(code) != digits:
            raise InputFileError(f"{shown}:{number}: code of {len(code)} digits; this station's codes have {digits}")
        codes.add(code)
    if not codes:
        raise InputFileError(f"{shown}:0: no codes in it (one code a line, digits only)")
    return frozenset(codes)
