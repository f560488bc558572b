"""Is this file coach's log, and is it safe to open? Checked before SQLite is let near it.

Why each check:

- **A planted path.** The database, its ``-wal`` and ``-shm`` and the lock are looked at with ``lstat``:
  a symbolic link is refused (following it would let whoever planted it make coach write, move or
  truncate a file elsewhere), and so is anything not a regular file: a FIFO would block the open
  for ever, a device would be read as a log.
- **Whose store.** A database is coach's when its ``application_id`` (the header's word at byte 68)
  is :data:`APPLICATION_ID`, or 0 for a log written before coach set one, and it has the tables and
  columns of the schema (or, at version 0, no tables at all: a new file). Anything else, a
  bookmarks database or a hand-dropped table, is not trusted.
- **Whose WAL.** SQLite replays any well-formed ``-wal`` over the file beside it, whichever database
  wrote it. So the main file is checked on its own first (``immutable=1``: SQLite reads no WAL then),
  and again with its WAL; when only the pair fails, the WAL is the stranger and only it is set aside,
  so the log stays as it was last checkpointed.
"""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Callable
from pathlib import Path

from coach.errors import JournalError
from coach.log.schema import COLUMNS, MIGRATIONS
from coach.spec.files import file_kind

APPLICATION_ID = 0x636F6163
"""``PRAGMA application_id`` of a coach log (the bytes of "coac")."""

BASE_COLUMNS: dict[str, frozenset[str]] = {
    "meta": frozenset({"key", "value"}),
    "sessions": frozenset(
        {"id", "routine", "version", "title", "language", "profile", "started", "ended", "status"}
        | {"exercises_done", "exercises_total"}
    ),
    "records": frozenset({"id", "session_id", "kind", "wall", "extra", *(column for column, _ in COLUMNS.values())}),
}
"""The tables (and their columns) every schema version from 1 on has: what history and the exports read."""

Connect = Callable[..., sqlite3.Connection]


class UnsafeLogError(JournalError):
    """A path of the log is a symbolic link, a FIFO, a device or another user's: refused, left as it is."""


def check_path(path: Path) -> bool:
    """Whether ``path`` exists as a regular file; raise :class:`UnsafeLogError` for a link or a special file."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise UnsafeLogError(f"{path}: cannot look at it: {exc.strerror or exc}") from None
    if stat.S_ISLNK(info.st_mode):
        raise UnsafeLogError(f"{path}: is a symbolic link; coach does not follow links to its files (name the file itself)")
    if not stat.S_ISREG(info.st_mode):
        raise UnsafeLogError(f"{path}: is {file_kind(info.st_mode)}, not a plain file; coach will not open it")
    return True


def check_files(db: Path, suffixes: tuple[str, ...]) -> bool:
    """Check the database and its side files (see :func:`check_path`); return whether the database exists."""
    for suffix in suffixes:
        check_path(Path(f"{db}{suffix}"))
    return check_path(db)



def problem(conn: sqlite3.Connection) -> str | None:
    """What makes this database not a sound coach log, in a few words; None when it is one.

    Raises :class:`sqlite3.DatabaseError` when SQLite cannot read it at all (the caller decides).
    """
    rows = [str(row[0]) for row in conn.execute("PRAGMA integrity_check")]
    if rows != ["ok"]:
        return "integrity check: " + "; ".join(rows[:3])
    (app,) = conn.execute("PRAGMA application_id").fetchone()
    if app not in (0, APPLICATION_ID):
        return f"another program's database (application id {app & 0xFFFFFFFF:#010x})"
    (version,) = conn.execute("PRAGMA user_version").fetchone()
    tables = {str(row[0]) for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if version == 0:
        user = sorted(t for t in tables if not t.startswith("sqlite_"))
        return f"not a coach log (tables: {', '.join(user[:5])})" if user else None
    if version > len(MIGRATIONS):
        return None  # a newer coach's: migrate() refuses it, untouched
    for table, wanted in BASE_COLUMNS.items():
        if table not in tables:
            return f"not the coach schema: no table {table}"
        have = {str(row[1]) for row in conn.execute(f"PRAGMA table_info({table})")}
        missing = sorted(wanted - have)
        if missing:
            return f"not the coach schema: table {table} has no column {missing[0]}"
    return None


def is_corruption(exc: BaseException) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return (code & 0xFF) in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB)
    text = str(exc)
    return "not a database" in text or "malformed" in text


def diagnose(connect: Connect, db: Path) -> tuple[str | None, str | None]:
    """What is wrong with the log (None: nothing), and whether it is only its WAL: ``(main, wal)``.

    The log as SQLite would read it (the file with its WAL) is checked first; only when that fails is
    the file checked alone, to tell a stranger WAL (the file alone is sound) from a damaged file. The
    file alone is not checked when the pair is sound: after a crash in mid-checkpoint the file alone is
    legitimately half-copied. Checked read-only: a writing connection would checkpoint a damaged or
    strange WAL into the file and delete the WAL on closing, destroying the log and the evidence.
    """
    if not Path(f"{db}-wal").exists():
        return _examine(connect, db, alone=True)[0], None
    whole, theirs = _examine(connect, db, alone=False)
    if whole is None:
        mine = _instance_alone(connect, db)
        if mine is not None and theirs is not None and theirs != mine:
            return None, f"another coach log's (instance {theirs}, this log's {mine})"
        return None, None
    main, _ = _examine(connect, db, alone=True)
    return (main, None) if main is not None else (None, whole)


def _uri(db: Path, alone: bool) -> str:
    return db.resolve().as_uri() + ("?immutable=1" if alone else "?mode=ro")


def _examine(connect: Connect, db: Path, *, alone: bool) -> tuple[str | None, str | None]:
    """The :func:`problem` of ``db``, on its own (``alone``: no WAL read) or with its WAL, and its instance id."""
    conn = connect(_uri(db, alone), uri=True, isolation_level=None, timeout=10.0)
    try:
        found = problem(conn)
        return found, None if found is not None else _instance(conn)
    except sqlite3.DatabaseError as exc:
        if is_corruption(exc):
            return str(exc), None
        raise
    finally:
        conn.close()


def _instance_alone(connect: Connect, db: Path) -> str | None:
    """The instance id the file alone holds, if it can be read (no check: see :func:`diagnose`)."""
    conn = connect(_uri(db, True), uri=True, isolation_level=None, timeout=10.0)
    try:
        return _instance(conn)
    except sqlite3.DatabaseError:
        return None
    finally:
        conn.close()


def _instance(conn: sqlite3.Connection) -> str | None:
    if conn.execute("PRAGMA user_version").fetchone()[0] == 0:
        return None
    row = conn.execute("SELECT value FROM meta WHERE key = 'instance'").fetchone()
    return None if row is None else str(row[0])


def move_wal_aside(db: Path, stamp: str, problem: str) -> str:
    """Set the WAL (and its index) aside as ``coach.db-wal.stranger-<stamp>``; return the line saying so."""
    moved = []
    try:
        for suffix in ("-wal", "-shm"):
            source = Path(f"{db}{suffix}")
            if source.exists():
                target = source.with_name(f"{source.name}.stranger-{stamp}")
                os.replace(source, target)
                moved.append(target.name)
    except OSError as exc:
        raise JournalError(f"{db}-wal: not this log's ({problem}) and cannot be moved aside: {exc.strerror or exc}") from None
    return f"{db}-wal did not belong to the session log ({problem}); it was set aside as {moved[0]} and the log kept as it was"


def move_aside(db: Path, stamp: str, problem: str) -> str:
    """Move the database and its side files aside as ``coach.db.corrupt-<stamp>``; return the line saying so."""
    aside = db.with_name(f"{db.name}.corrupt-{stamp}")
    try:
        for suffix in ("", "-wal", "-shm"):
            source = Path(f"{db}{suffix}")
            if source.exists():
                os.replace(source, f"{aside}{suffix}")
    except OSError as exc:
        raise JournalError(f"{db}: damaged ({problem}) and cannot be moved aside: {exc.strerror or exc}") from None
    return f"the session log {db} was damaged ({problem}); it was moved aside to {aside.name} and a new one started"
