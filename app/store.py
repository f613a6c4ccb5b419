"""Saved conversations: one SQLite file that several running copies of the app share safely.

No HTTP and no UI. Every sqlite3 failure leaves this module as a `StoreError` whose text is a
sentence for the person using the app; `Store.open()` never fails and reports trouble in
`Store.notice` instead.

The schema is versioned with `PRAGMA user_version`: `_MIGRATIONS[n]` upgrades version n to
n + 1, and all pending steps run in one transaction at open.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

# ConversationInfo is also imported from here by code written before it moved.
from app.conversation import ConversationInfo as ConversationInfo
from app.conversation import ToolStatus, Turn, TurnState
from app.paths import make_private_dir
from app.protocol import ChatStats, ToolCall
from app.text import make_title

DB_NAME = "conversations.db"
BUSY_TIMEOUT = 5.0  # seconds a write waits for another copy of the app to finish its own
MATCH_START, MATCH_END = "«", "»"  # around the matched words in `SearchHit.snippet`
INTERRUPTED_ERROR = "The app closed before this reply finished."

Mode = Literal["normal", "read-only", "memory"]

_READ_ONLY_NOTE = (
    "Saved conversations can be read; new conversations and changes are kept in memory only until you quit."
)
_MEMORY_NOTE = "Conversations are kept in memory only until you quit."

# Column names of `ChatStats`, in the order the messages table stores them.
_STATS = (
    "done_reason",
    "total_duration",
    "load_duration",
    "prompt_eval_count",
    "prompt_eval_duration",
    "eval_count",
    "eval_duration",
)

# Written out in full and never edited once released: old files replay exactly these steps.
_MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (  # v1: conversations, their messages, app settings
        """CREATE TABLE conversations (
            id INTEGER PRIMARY KEY,
            title TEXT NOT NULL DEFAULT '',
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL,
            model TEXT NOT NULL DEFAULT '',
            system TEXT NOT NULL DEFAULT '',
            options TEXT NOT NULL DEFAULT '{}'
        )""",
        """CREATE TABLE messages (
            id INTEGER PRIMARY KEY,
            conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
            role TEXT NOT NULL,
            content TEXT NOT NULL DEFAULT '',
            model TEXT NOT NULL DEFAULT '',
            state TEXT NOT NULL DEFAULT 'complete',
            error TEXT NOT NULL DEFAULT '',
            thinking TEXT NOT NULL DEFAULT '',
            images TEXT NOT NULL DEFAULT '[]',
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL
        )""",
        "CREATE INDEX messages_by_conversation ON messages(conversation_id, id)",
        "CREATE INDEX conversations_by_update ON conversations(updated_at)",
        "CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    ),
    (  # v2: reply statistics, full-text search, and a quick way to find unfinished replies
        "ALTER TABLE messages ADD COLUMN done_reason TEXT",
        "ALTER TABLE messages ADD COLUMN total_duration INTEGER",
        "ALTER TABLE messages ADD COLUMN load_duration INTEGER",
        "ALTER TABLE messages ADD COLUMN prompt_eval_count INTEGER",
        "ALTER TABLE messages ADD COLUMN prompt_eval_duration INTEGER",
        "ALTER TABLE messages ADD COLUMN eval_count INTEGER",
        "ALTER TABLE messages ADD COLUMN eval_duration INTEGER",
        "CREATE INDEX messages_streaming ON messages(updated_at) WHERE state = 'streaming'",
        """CREATE VIRTUAL TABLE messages_fts USING fts5(
            content, content='messages', content_rowid='id',
            tokenize='unicode61 remove_diacritics 2'
        )""",
        """CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
            INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content);
        END""",
        """CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
            INSERT INTO messages_fts(messages_fts, rowid, content)
                VALUES ('delete', old.id, old.content);
        END""",
        # Checkpoints of a streaming reply rewrite its content every second; state-only
        # updates leave the index alone.
        """CREATE TRIGGER messages_fts_update AFTER UPDATE OF content ON messages
        WHEN old.content IS NOT new.content BEGIN
            INSERT INTO messages_fts(messages_fts, rowid, content)
                VALUES ('delete', old.id, old.content);
            INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content);
        END""",
        "INSERT INTO messages_fts(messages_fts) VALUES ('rebuild')",
    ),
    (  # v3: tool calls on replies, tool results as messages (their text is searched like any
        # other), and each conversation's tool settings (approvals, tools turned off)
        "ALTER TABLE messages ADD COLUMN tool_calls TEXT NOT NULL DEFAULT '[]'",
        "ALTER TABLE messages ADD COLUMN tool_name TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE messages ADD COLUMN tool_call_id TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE messages ADD COLUMN tool_status TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE messages ADD COLUMN tool_duration REAL",
        "ALTER TABLE conversations ADD COLUMN tool_settings TEXT NOT NULL DEFAULT ''",
    ),
)
SCHEMA_VERSION = len(_MIGRATIONS)
# The tool columns of the messages table, in the order `_turn` reads them.
_TOOLS = ("tool_calls", "tool_name", "tool_call_id", "tool_status", "tool_duration")

_TURN_COLUMNS = "id, role, content, model, state, error, thinking, images, created_at, " + ", ".join((*_TOOLS, *_STATS))
_INFO_SELECT = """
    SELECT c.id, c.title, c.created_at, c.updated_at, c.model, c.system, c.options,
           (SELECT count(*) FROM messages m WHERE m.conversation_id = c.id), c.tool_settings
    FROM conversations c
"""
_INSERT_TURN = f"""
    INSERT INTO messages (conversation_id, role, content, model, state, error, thinking, images,
                          created_at, updated_at, {", ".join((*_TOOLS, *_STATS))})
    VALUES ({", ".join("?" * (10 + len(_TOOLS) + len(_STATS)))})
"""
_UPDATE_TURN = f"""
    UPDATE messages SET content = ?, state = ?, error = ?, thinking = ?, model = ?, updated_at = ?,
        {", ".join(f"{name} = ?" for name in (*_TOOLS, *_STATS))}
    WHERE id = ?
"""
_SEARCH = f"""
    SELECT m.conversation_id, m.id, c.title, m.role,
           snippet(messages_fts, 0, '{MATCH_START}', '{MATCH_END}', '…', 12), m.created_at
    FROM messages_fts
    JOIN messages m ON m.id = messages_fts.rowid
    JOIN conversations c ON c.id = m.conversation_id
    WHERE messages_fts MATCH ?
    ORDER BY rank
    LIMIT ?
"""
# What unicode61 treats as a word: letters and digits; everything else separates words.
_WORD = re.compile(r"[^\W_]+")


class StoreError(Exception):
    """A database failure, described in one sentence for the person using the app."""


@dataclass(frozen=True, slots=True)
class SearchHit:
    conversation_id: int
    message_id: int
    title: str
    role: str
    snippet: str  # one line of plain, unsanitized text; matches sit between MATCH_START/END
    created_at: float


@dataclass(frozen=True, slots=True)
class _Problem:
    """Why the file cannot be used normally, and whether a read-only copy may still work."""

    sentence: str
    readable: bool = True


class Store:
    """Conversations and settings in SQLite; every method is safe to call from any thread.

    `mode` says where data lives:

    - "normal": the file on disk. Several copies of the app may use it at once (WAL journal,
      writes wait up to `BUSY_TIMEOUT` for each other).
    - "read-only": the file can be read but not safely written (a read-only file or folder,
      another program holding its write lock, or a schema from a newer version). It is copied
      into memory once at open and never touched again, so saved conversations can be read and
      everything else still works, on the copy, until the app quits.
    - "memory": there is no usable file (damaged, unreadable, not ours, no data folder). The
      store starts empty in memory.

    In the last two modes `notice` holds a sentence to show the person. An existing file is
    never rewritten or "repaired" in either of them.

    Changing a conversation or message that no longer exists does nothing: another copy of the
    app may have deleted it.
    """

    def __init__(
        self,
        connection: sqlite3.Connection,
        *,
        path: Path | None = None,
        mode: Mode = "memory",
        notice: str | None = None,
    ) -> None:
        self._db = connection
        self._lock = threading.Lock()
        self.path = path
        self.mode: Mode = mode
        self.notice = notice

    @classmethod
    def memory(cls) -> Store:
        return cls(_memory_connection())

    @classmethod
    def open(cls, data_dir: Path, *, timeout: float = BUSY_TIMEOUT) -> Store:
        """The store in `data_dir`, created if missing (folder 0700, file 0600). Never raises."""
        path = data_dir / DB_NAME
        try:
            created = _create_private_file(data_dir, path)
        except (OSError, ValueError) as error:
            reason = getattr(error, "strerror", None) or str(error)
            sentence = f"The data folder {data_dir} cannot be used ({reason})."
            return cls._fallback(path, _Problem(sentence, readable=False), timeout)
        problem = None if created else _probe(path, timeout)
        if problem is None:
            opened = _open_writable(path, timeout)
            if isinstance(opened, sqlite3.Connection):
                return cls(opened, path=path, mode="normal")
            problem = opened
        return cls._fallback(path, problem, timeout)

    @classmethod
    def _fallback(cls, path: Path, problem: _Problem, timeout: float) -> Store:
        copy = _copy_to_memory(path, timeout) if problem.readable else None
        if copy is not None:
            notice = f"{problem.sentence} {_READ_ONLY_NOTE}"
            return cls(copy, path=path, mode="read-only", notice=notice)
        notice = f"{problem.sentence} {_MEMORY_NOTE}"
        return cls(_memory_connection(), path=path, mode="memory", notice=notice)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # Conversations

    def create_conversation(
        self,
        model: str,
        title: str = "",
        system: str = "",
        options: Sequence[tuple[str, Any]] = (),
        tool_settings: str = "",
    ) -> ConversationInfo:
        now = time.time()
        stored_options = _dump_options(options)
        with self._transaction() as db:
            conversation_id = _insert_conversation(db, title, now, now, model, system, stored_options, tool_settings)
        return ConversationInfo(
            conversation_id,
            title,
            now,
            now,
            model,
            system,
            _load_options(stored_options),
            tool_settings=tool_settings,
        )

    def conversation(self, conversation_id: int) -> ConversationInfo | None:
        with self._reading() as db:
            row = db.execute(f"{_INFO_SELECT} WHERE c.id = ?", (conversation_id,)).fetchone()
        return None if row is None else _info(row)

    def conversations(self, limit: int | None = None) -> list[ConversationInfo]:
        """Newest activity first."""
        with self._reading() as db:
            rows = db.execute(
                f"{_INFO_SELECT} ORDER BY c.updated_at DESC, c.id DESC LIMIT ?",
                (-1 if limit is None else limit,),
            ).fetchall()
        return [_info(row) for row in rows]

    def latest(self) -> ConversationInfo | None:
        found = self.conversations(limit=1)
        return found[0] if found else None

    def rename(self, conversation_id: int, title: str) -> None:
        self._update_conversation(conversation_id, title=title)

    def set_model(self, conversation_id: int, model: str) -> None:
        self._update_conversation(conversation_id, model=model)

    def set_settings(
        self,
        conversation_id: int,
        *,
        system: str | None = None,
        options: Sequence[tuple[str, Any]] | None = None,
    ) -> None:
        changes: dict[str, str] = {}
        if system is not None:
            changes["system"] = system
        if options is not None:
            changes["options"] = _dump_options(options)
        if changes:
            self._update_conversation(conversation_id, **changes)

    def set_tool_settings(self, conversation_id: int, tool_settings: str) -> None:
        """Keep the conversation's tool settings (the text `ToolPolicy.to_json()` gives)."""
        self._update_conversation(conversation_id, tool_settings=tool_settings)

    def delete(self, conversation_id: int) -> None:
        """Delete a conversation and (by cascade) its messages."""
        with self._transaction() as db:
            db.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))

    def _update_conversation(self, conversation_id: int, **columns: str) -> None:
        assignments = ", ".join(f"{name} = ?" for name in columns)  # names come from this module
        with self._transaction() as db:
            db.execute(
                f"UPDATE conversations SET {assignments} WHERE id = ?",
                (*columns.values(), conversation_id),
            )

    # Messages

    def turns(self, conversation_id: int) -> list[Turn]:
        with self._reading() as db:
            rows = db.execute(
                f"SELECT {_TURN_COLUMNS} FROM messages WHERE conversation_id = ? ORDER BY id",
                (conversation_id,),
            ).fetchall()
        return [_turn(row) for row in rows]

    def add_turn(self, conversation_id: int, turn: Turn) -> int:
        """Save a new message; sets `turn.id` (and `turn.created_at` when it is 0).

        The first user message names an untitled conversation.
        """
        now = time.time()
        created = turn.created_at or now
        with self._transaction() as db:
            row = db.execute("SELECT title FROM conversations WHERE id = ?", (conversation_id,)).fetchone()
            if row is None:
                raise StoreError("The conversation was deleted, so the message was not saved.")
            title = row[0]
            if not title and turn.role == "user" and not _has_user_message(db, conversation_id):
                title = make_title(turn.content)
            turn_id = _insert_turn(db, conversation_id, turn, turn.state, created, now)
            db.execute(
                "UPDATE conversations SET title = ?, updated_at = ? WHERE id = ?",
                (title, now, conversation_id),
            )
        turn.id, turn.created_at = turn_id, created
        return turn_id

    def update_turn(self, turn: Turn) -> None:
        """Save a message's text, state, error, thinking, tool calls or result, statistics
        and model."""
        if turn.id is None:
            raise StoreError("This message was never saved, so it cannot be updated.")
        now = time.time()
        with self._transaction() as db:
            db.execute(
                _UPDATE_TURN,
                (
                    turn.content,
                    turn.state.value,
                    turn.error,
                    turn.thinking,
                    turn.model,
                    now,
                    *_tool_values(turn),
                    *_stat_values(turn.stats),
                    turn.id,
                ),
            )
            _touch_conversation_of(db, turn.id, now)

    def delete_turn(self, turn_id: int) -> None:
        now = time.time()
        with self._transaction() as db:
            _touch_conversation_of(db, turn_id, now)
            db.execute("DELETE FROM messages WHERE id = ?", (turn_id,))

    def recover_interrupted(self, stale_after: float = 15.0) -> int:
        """Mark replies left streaming by a copy of the app that died as INTERRUPTED.

        A live copy checkpoints its streaming reply every second, so only replies untouched
        for `stale_after` seconds are taken. Returns how many were marked.
        """
        now = time.time()
        with self._transaction() as db:
            cursor = db.execute(
                "UPDATE messages SET state = ?, updated_at = ?,"
                " error = CASE WHEN error = '' THEN ? ELSE error END"
                " WHERE state = ? AND updated_at < ?",
                (
                    TurnState.INTERRUPTED.value,
                    now,
                    INTERRUPTED_ERROR,
                    TurnState.STREAMING.value,
                    now - stale_after,
                ),
            )
        return cursor.rowcount

    def search(self, query: str, limit: int = 50) -> list[SearchHit]:
        """Messages containing every word of `query` (as word prefixes), best matches first.

        Words are quoted, so FTS syntax and punctuation in `query` are plain text.
        """
        expression = " ".join(f'"{word}"*' for word in _WORD.findall(query))
        if not expression:
            return []
        with self._reading() as db:
            rows = db.execute(_SEARCH, (expression, limit)).fetchall()
        return [
            SearchHit(conversation_id, message_id, title, role, " ".join(snippet.split()), created)
            for conversation_id, message_id, title, role, snippet, created in rows
        ]

    # Settings

    def get_setting(self, key: str) -> str | None:
        with self._reading() as db:
            row = db.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return None if row is None else row[0]

    def set_setting(self, key: str, value: str) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    # Import

    def import_conversation(self, info: ConversationInfo, turns: Sequence[Turn]) -> int:
        """Save a whole conversation (its `id` is ignored) in one transaction; returns the new id.

        Missing times become now; an untitled conversation is named after its first user
        message; a reply that was still streaming when exported is marked INTERRUPTED.
        """
        now = time.time()
        created = info.created_at or now
        title = info.title or next((make_title(turn.content) for turn in turns if turn.role == "user"), "")
        with self._transaction() as db:
            conversation_id = _insert_conversation(
                db,
                title,
                created,
                info.updated_at or created,
                info.model,
                info.system,
                _dump_options(info.options),
                info.tool_settings,
            )
            for turn in turns:
                state = TurnState.INTERRUPTED if turn.state is TurnState.STREAMING else turn.state
                _insert_turn(db, conversation_id, turn, state, turn.created_at or now, now)
        return conversation_id

    # Connection use

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        with self._lock, _translated():
            yield self._db

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        # IMMEDIATE takes the write lock up front, so the busy timeout applies to it; a deferred
        # transaction that upgrades later can fail at once with SQLITE_BUSY under WAL.
        with self._lock, _translated():
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")


# Opening


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
            _migrate(connection)
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


def _migrate(connection: sqlite3.Connection) -> None:
    """Run the pending migrations inside the caller's transaction.

    Always writes `user_version`, which also proves that the file can be written.
    """
    version = connection.execute("PRAGMA user_version").fetchone()[0]
    for steps in _MIGRATIONS[version:]:
        for statement in steps:
            connection.execute(statement)
    connection.execute(f"PRAGMA user_version = {max(version, SCHEMA_VERSION)}")


def _memory_connection() -> sqlite3.Connection:
    connection = _connect(":memory:", BUSY_TIMEOUT)
    connection.execute("BEGIN")
    _migrate(connection)
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
        _migrate(copy)
        copy.execute("COMMIT")
        _check_compatible(copy)
    except sqlite3.Error:
        copy.close()
        return None
    return copy


def _check_compatible(connection: sqlite3.Connection) -> None:
    """Raise sqlite3.OperationalError unless every column this module reads exists."""
    for statement in (
        f"SELECT {_TURN_COLUMNS}, conversation_id, updated_at FROM messages",
        f"{_INFO_SELECT}",
        "SELECT key, value FROM settings",
        "SELECT rowid FROM messages_fts",
    ):
        connection.execute(f"SELECT * FROM ({statement}) LIMIT 0")


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
def _translated() -> Iterator[None]:
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


# Rows


def _info(row: tuple[Any, ...]) -> ConversationInfo:
    conversation_id, title, created, updated, model, system, options, count, tools = row
    return ConversationInfo(
        conversation_id,
        title,
        created,
        updated,
        model,
        system,
        _load_options(options),
        count,
        tools,
    )


def _turn(row: tuple[Any, ...]) -> Turn:
    turn_id, role, content, model, state, error, thinking, images, created, *rest = row
    calls, tool_name, tool_call_id, tool_status, duration, *stats = rest
    has_stats = any(value is not None for value in stats)
    return Turn(
        role=role,
        content=content,
        model=model,
        state=_state(state),
        error=error,
        thinking=thinking,
        stats=ChatStats(**dict(zip(_STATS, stats, strict=True))) if has_stats else None,
        images=_load_images(images),
        id=turn_id,
        created_at=created,
        tool_calls=_load_calls(calls),
        tool_name=tool_name,
        tool_call_id=tool_call_id,
        tool_status=_tool_status(tool_status),
        duration=duration,
    )


def _insert_conversation(
    db: sqlite3.Connection,
    title: str,
    created: float,
    updated: float,
    model: str,
    system: str,
    options: str,
    tool_settings: str,
) -> int:
    cursor = db.execute(
        "INSERT INTO conversations (title, created_at, updated_at, model, system, options, tool_settings)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (title, created, updated, model, system, options, tool_settings),
    )
    return _row_id(cursor)


def _insert_turn(
    db: sqlite3.Connection,
    conversation_id: int,
    turn: Turn,
    state: TurnState,
    created: float,
    updated: float,
) -> int:
    cursor = db.execute(
        _INSERT_TURN,
        (
            conversation_id,
            turn.role,
            turn.content,
            turn.model,
            state.value,
            turn.error,
            turn.thinking,
            json.dumps(list(turn.images)),
            created,
            updated,
            *_tool_values(turn),
            *_stat_values(turn.stats),
        ),
    )
    return _row_id(cursor)


def _has_user_message(db: sqlite3.Connection, conversation_id: int) -> bool:
    row = db.execute(
        "SELECT 1 FROM messages WHERE conversation_id = ? AND role = 'user' LIMIT 1",
        (conversation_id,),
    ).fetchone()
    return row is not None


def _touch_conversation_of(db: sqlite3.Connection, turn_id: int, now: float) -> None:
    db.execute(
        "UPDATE conversations SET updated_at = ? WHERE id = (SELECT conversation_id FROM messages WHERE id = ?)",
        (now, turn_id),
    )


def _row_id(cursor: sqlite3.Cursor) -> int:
    assert cursor.lastrowid is not None  # always set after an INSERT
    return cursor.lastrowid


def _tool_values(turn: Turn) -> tuple[Any, ...]:
    calls = json.dumps([call.to_stored() for call in turn.tool_calls]) if turn.tool_calls else "[]"
    status = turn.tool_status.value if turn.tool_status else ""
    return calls, turn.tool_name, turn.tool_call_id, status, turn.duration


def _load_calls(text: str) -> tuple[ToolCall, ...]:
    if text == "[]":  # every message but replies that asked for tools
        return ()
    try:
        calls = json.loads(text)
    except (ValueError, RecursionError):
        return ()
    return tuple(ToolCall.from_json(call) for call in calls) if isinstance(calls, list) else ()


def _tool_status(value: str) -> ToolStatus | None:
    if not value:
        return None
    try:
        return ToolStatus(value)
    except ValueError:  # a status added by a newer version
        return ToolStatus.FAILED


def _stat_values(stats: ChatStats | None) -> tuple[Any, ...]:
    return tuple(getattr(stats, name) if stats else None for name in _STATS)


def _state(value: str) -> TurnState:
    try:
        return TurnState(value)
    except ValueError:  # a state added by a newer version
        return TurnState.COMPLETE


def _dump_options(options: Sequence[tuple[str, Any]]) -> str:
    return json.dumps(dict(options))


def _load_options(text: str) -> tuple[tuple[str, Any], ...]:
    try:
        options = json.loads(text)
    except ValueError:
        return ()
    return tuple(options.items()) if isinstance(options, dict) else ()


def _load_images(text: str) -> tuple[str, ...]:
    if text == "[]":  # nearly every message: skip the parser
        return ()
    try:
        images = json.loads(text)
    except ValueError:
        return ()
    if not isinstance(images, list):
        return ()
    return tuple(image for image in images if isinstance(image, str))
