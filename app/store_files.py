"""Opening the conversation database file, and SQLite's errors said as sentences.

`open_file()` never fails: a file that cannot be used normally is read into memory, or replaced
by an empty store in memory, and the reason is returned as a notice. Every sqlite3 failure at
run time leaves `translated()` as a `StoreError`. No HTTP and no UI.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from app.paths import make_private_dir
from app.store_schema import SCHEMA_VERSION, check_compatible, migrate

DB_NAME = "conversations.db"
BUSY_TIMEOUT = 5.0  # seconds a write waits for another copy of the app to finish its own

Mode = Literal["normal", "read-only", "memory"]

_READ_ONLY_NOTE = (
    "Saved conversations can be read; new conversations and changes are kept in memory only until you quit."
)
_MEMORY_NOTE = "Conversations are kept in memory only until you quit."


class StoreError(Exception):
    """A database failure, described in one sentence for the person using the app."""


@dataclass(frozen=True, slots=True)
class OpenedFile:
    """A connection to use, where its data lives (see `Store`), and why, when not on disk."""

    connection: sqlite3.Connection
    mode: Mode
    notice: str | None = None


@dataclass(frozen=True, slots=True)
class _Problem:
    """Why the file cannot be used normally, and whether a read-only copy may still work."""

    sentence: str
    readable: bool = True


def open_file(data_dir: Path, timeout: float = BUSY_TIMEOUT) -> OpenedFile:
    """The database in `data_dir`, created if missing (folder 0700, file 0600). Never raises."""
    path = data_dir / DB_NAME
    try:
        created = _create_private_file(data_dir, path)
    except (OSError, ValueError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        sentence = f"The data folder {data_dir} cannot be used ({reason})."
        return _fallback(path, _Problem(sentence, readable=False), timeout)
    problem = None if created else _probe(path, timeout)
    if problem is None:
        opened = _open_writable(path, timeout)
        if isinstance(opened, sqlite3.Connection):
            return OpenedFile(opened, "normal")
        problem = opened
    return _fallback(path, problem, timeout)


def _fallback(path: Path, problem: _Problem, timeout: float) -> OpenedFile:
    copy = _copy_to_memory(path, timeout) if problem.readable else None
    if copy is not None:
        return OpenedFile(copy, "read-only", f"{problem.sentence} {_READ_ONLY_NOTE}")
    return OpenedFile(memory_connection(), "memory", f"{problem.sentence} {_MEMORY_NOTE}")


def _create_private_file(data_dir: Path, path: Path) -> bool:
    """Make the data folder and an empty database file, both private to this user.

    Returns whether the file was created now. Explicit chmods: the umask may be permissive.
    """
    make_private_dir(data_dir)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    try:
        os.fchmod(descriptor, 0o600)  # SQLite gives its -wal and -shm files the same mode
    finally:
        os.close(descriptor)
    return True


def _connect(target: str, timeout: float) -> sqlite3.Connection:
    connection = sqlite3.connect(target, uri=True, timeout=timeout, isolation_level=None, check_same_thread=False)
    connection.execute("PRAGMA foreign_keys = ON")
    # With WAL, NORMAL survives a crash of the app; only a power cut may lose the last commits.
    connection.execute("PRAGMA synchronous = NORMAL")
    return connection


def _connect_read_only(path: Path, timeout: float) -> sqlite3.Connection:
    uri = f"{path.absolute().as_uri()}?mode=ro"
    try:
        return _checked(_connect(uri, timeout))
    except sqlite3.OperationalError as error:
        if _code(error) not in (sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN):
            raise
    # A WAL database in a read-only folder cannot get its -shm file (SQLITE_READONLY_DIRECTORY).
    # Nobody can write there either, so reading the file as immutable is safe.
    return _checked(_connect(f"{uri}&immutable=1", timeout))


def _checked(connection: sqlite3.Connection) -> sqlite3.Connection:
    """The connection, once a first read shows the file can really be opened."""
    try:
        connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.Error:
        connection.close()
        raise
    return connection


def _probe(path: Path, timeout: float) -> _Problem | None:
    """Look at an existing file without any chance of changing it."""
    try:
        connection = _connect_read_only(path, timeout)
        try:
            healthy = connection.execute("PRAGMA quick_check").fetchone()[0] == "ok"
            problem = _schema_problem(connection, path)
        finally:
            connection.close()
    except sqlite3.Error as error:
        if _code(error) in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB):
            return _damaged(path)
        return _Problem(
            f"The conversation database at {path} cannot be read ({_reason(error)}).",
            readable=False,
        )
    return problem if healthy else _damaged(path)


def _open_writable(path: Path, timeout: float) -> sqlite3.Connection | _Problem:
    """A read-write connection with an up-to-date schema, or why there cannot be one."""
    try:
        connection = _connect(f"{path.absolute().as_uri()}?mode=rw", timeout)
    except sqlite3.Error as error:
        return _write_problem(path, error)
    try:
        connection.execute("BEGIN IMMEDIATE")
        problem = _schema_problem(connection, path)  # again: another copy may have upgraded it
        if problem is None:
            migrate(connection)
            connection.execute("COMMIT")
            # After the schema check, so a file that is not ours keeps its journal mode.
            connection.execute("PRAGMA journal_mode = WAL")
            return connection
    except sqlite3.Error as error:
        problem = _write_problem(path, error)
    connection.close()  # rolls back: nothing was written
    return problem


def _schema_problem(connection: sqlite3.Connection, path: Path) -> _Problem | None:
    version = connection.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        return _Problem(f"The conversation database at {path} was written by a newer version of ollama-tui.")
    if version == 0 and connection.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
        return _Problem(
            f"The file at {path} is not an ollama-tui conversation database, so it was left as it is.",
            readable=False,
        )
    return None


def memory_connection() -> sqlite3.Connection:
    connection = _connect(":memory:", BUSY_TIMEOUT)
    connection.execute("BEGIN")
    migrate(connection)
    connection.execute("COMMIT")
    return connection


def _copy_to_memory(path: Path, timeout: float) -> sqlite3.Connection | None:
    """An in-memory copy of a readable database, upgraded to this version's schema.

    None when the file cannot be read or a newer schema lacks what this version needs.
    """
    copy = _connect(":memory:", timeout)
    try:
        source = _connect_read_only(path, timeout)
        try:
            source.backup(copy)
        finally:
            source.close()
        copy.execute("BEGIN")
        migrate(copy)
        copy.execute("COMMIT")
        check_compatible(copy)
    except sqlite3.Error:
        copy.close()
        return None
    return copy


def _damaged(path: Path) -> _Problem:
    return _Problem(
        f"The conversation database at {path} is damaged, so it was left as it is.",
        readable=False,
    )


def _write_problem(path: Path, error: sqlite3.Error) -> _Problem:
    if _code(error) in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB):
        return _damaged(path)
    return _Problem(f"The conversation database at {path} cannot be written ({_reason(error)}).")


# The result codes a person can act on, each said two ways: why a file cannot be opened
# ("… cannot be written (REASON)") and what a change that failed later means.
_BUSY = (
    "another program has it locked",
    "The conversation database is busy in another program; try again in a moment.",
)
_DENIED = (
    "permission denied: the file or its folder is read-only or private",
    "The conversation database can no longer be written; check its permissions.",
)
_DAMAGED = ("it is damaged", "The conversation database is damaged.")
_KNOWN_ERRORS: dict[int, tuple[str, str]] = {
    sqlite3.SQLITE_BUSY: _BUSY,
    sqlite3.SQLITE_LOCKED: _BUSY,
    sqlite3.SQLITE_READONLY: _DENIED,
    sqlite3.SQLITE_CANTOPEN: _DENIED,
    sqlite3.SQLITE_PERM: _DENIED,
    sqlite3.SQLITE_FULL: ("the disk is full", "The disk is full, so the conversation could not be saved."),
    sqlite3.SQLITE_CORRUPT: _DAMAGED,
    sqlite3.SQLITE_NOTADB: _DAMAGED,
}


def _reason(error: sqlite3.Error) -> str:
    known = _KNOWN_ERRORS.get(_code(error))
    return known[0] if known else str(error)


def _code(error: sqlite3.Error) -> int:
    """The primary SQLite result code (extended codes carry it in the low byte)."""
    return (getattr(error, "sqlite_errorcode", None) or 0) & 0xFF


# Errors at run time


@contextmanager
def translated() -> Iterator[None]:
    try:
        yield
    except sqlite3.Error as error:
        raise StoreError(_sentence(error)) from error


def _sentence(error: sqlite3.Error) -> str:
    known = _KNOWN_ERRORS.get(_code(error))
    if known:
        return known[1]
    if isinstance(error, sqlite3.ProgrammingError):
        return "The conversation database is already closed."
    return f"The conversation database failed: {error}."
