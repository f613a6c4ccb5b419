"""Saved conversations: one SQLite file that several running copies of the app share safely.

No HTTP and no UI. Every sqlite3 failure leaves this module as a `StoreError` whose text is a
sentence for the person using the app; `Store.open()` never fails and reports trouble in
`Store.notice` instead. The schema lives in `store_schema`, opening the file and the error
sentences in `store_files`.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

# ConversationInfo is also imported from here by code written before it moved.
from app.conversation import ConversationInfo as ConversationInfo
from app.conversation import Turn, TurnState
from app.store_files import BUSY_TIMEOUT as BUSY_TIMEOUT
from app.store_files import DB_NAME as DB_NAME
from app.store_files import Mode as Mode
from app.store_files import StoreError as StoreError
from app.store_files import memory_connection, open_file, translated
from app.store_schema import (
    INFO_SELECT,
    SEARCH,
    TURN_COLUMNS,
    UPDATE_TURN,
    WORD,
    dump_options,
    has_user_message,
    info_from_row,
    insert_conversation,
    insert_turn,
    load_options,
    stat_values,
    tool_values,
    touch_conversation_of,
    turn_from_row,
)
from app.store_schema import MATCH_END as MATCH_END
from app.store_schema import MATCH_START as MATCH_START
from app.store_schema import SCHEMA_VERSION as SCHEMA_VERSION
from app.text import make_title

INTERRUPTED_ERROR = "The app closed before this reply finished."


@dataclass(frozen=True, slots=True)
class SearchHit:
    conversation_id: int
    message_id: int
    title: str
    role: str
    snippet: str  # one line of plain, unsanitized text; matches sit between MATCH_START/END
    created_at: float


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
        return cls(memory_connection())

    @classmethod
    def open(cls, data_dir: Path, *, timeout: float = BUSY_TIMEOUT) -> Store:
        """The store in `data_dir`, created if missing (folder 0700, file 0600). Never raises."""
        opened = open_file(data_dir, timeout)
        return cls(opened.connection, path=data_dir / DB_NAME, mode=opened.mode, notice=opened.notice)

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
        stored_options = dump_options(options)
        with self._transaction() as db:
            conversation_id = insert_conversation(db, title, now, now, model, system, stored_options, tool_settings)
        return ConversationInfo(
            conversation_id,
            title,
            now,
            now,
            model,
            system,
            load_options(stored_options),
            tool_settings=tool_settings,
        )

    def conversation(self, conversation_id: int) -> ConversationInfo | None:
        with self._reading() as db:
            row = db.execute(f"{INFO_SELECT} WHERE c.id = ?", (conversation_id,)).fetchone()
        return None if row is None else info_from_row(row)

    def conversations(self, limit: int | None = None) -> list[ConversationInfo]:
        """Newest activity first."""
        with self._reading() as db:
            rows = db.execute(
                f"{INFO_SELECT} ORDER BY c.updated_at DESC, c.id DESC LIMIT ?",
                (-1 if limit is None else limit,),
            ).fetchall()
        return [info_from_row(row) for row in rows]

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
            changes["options"] = dump_options(options)
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
                f"SELECT {TURN_COLUMNS} FROM messages WHERE conversation_id = ? ORDER BY id",
                (conversation_id,),
            ).fetchall()
        return [turn_from_row(row) for row in rows]

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
            if not title and turn.role == "user" and not has_user_message(db, conversation_id):
                title = make_title(turn.content)
            turn_id = insert_turn(db, conversation_id, turn, turn.state, created, now)
            db.execute(
                "UPDATE conversations SET title = ?, updated_at = ? WHERE id = ?",
                (title, now, conversation_id),
            )
        turn.id, turn.created_at = turn_id, created
        return turn_id

    def update_turn(self, turn: Turn) -> None:
        """Save a message's text, state, error, thinking, tool calls or result, statistics,
        model and server."""
        if turn.id is None:
            raise StoreError("This message was never saved, so it cannot be updated.")
        now = time.time()
        with self._transaction() as db:
            db.execute(
                UPDATE_TURN,
                (
                    turn.content,
                    turn.state.value,
                    turn.error,
                    turn.thinking,
                    turn.model,
                    turn.server,
                    now,
                    *tool_values(turn),
                    *stat_values(turn.stats),
                    turn.id,
                ),
            )
            touch_conversation_of(db, turn.id, now)

    def delete_turn(self, turn_id: int) -> None:
        now = time.time()
        with self._transaction() as db:
            touch_conversation_of(db, turn_id, now)
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
        expression = " ".join(f'"{word}"*' for word in WORD.findall(query))
        if not expression:
            return []
        with self._reading() as db:
            rows = db.execute(SEARCH, (expression, limit)).fetchall()
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
            conversation_id = insert_conversation(
                db,
                title,
                created,
                info.updated_at or created,
                info.model,
                info.system,
                dump_options(info.options),
                info.tool_settings,
            )
            for turn in turns:
                state = TurnState.INTERRUPTED if turn.state is TurnState.STREAMING else turn.state
                insert_turn(db, conversation_id, turn, state, turn.created_at or now, now)
        return conversation_id

    # Connection use

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        with self._lock, translated():
            yield self._db

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        # IMMEDIATE takes the write lock up front, so the busy timeout applies to it; a deferred
        # transaction that upgrades later can fail at once with SQLITE_BUSY under WAL.
        with self._lock, translated():
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
