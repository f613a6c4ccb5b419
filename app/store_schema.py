"""The conversation database's schema: its migrations, its statements, and rows <-> objects.

The schema is versioned with `PRAGMA user_version`: `_MIGRATIONS[n]` upgrades version n to
n + 1, and all pending steps run in one transaction (`migrate`). No HTTP and no UI.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Sequence
from typing import Any

from app.conversation import ConversationInfo, ToolStatus, Turn, TurnState
from app.protocol import ChatStats, ToolCall

MATCH_START, MATCH_END = "«", "»"  # around the matched words in `SearchHit.snippet`

# Column names of `ChatStats`, in the order the messages table stores them.
STATS = (
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
    (  # v4: the server a reply came from, when several are configured ('' for the only one)
        "ALTER TABLE messages ADD COLUMN server TEXT NOT NULL DEFAULT ''",
    ),
)
SCHEMA_VERSION = len(_MIGRATIONS)
# The tool columns of the messages table, in the order `turn_from_row` reads them.
TOOLS = ("tool_calls", "tool_name", "tool_call_id", "tool_status", "tool_duration")

TURN_COLUMNS = "id, role, content, model, state, error, thinking, images, created_at, server, " + ", ".join(
    (*TOOLS, *STATS)
)
INFO_SELECT = """
    SELECT c.id, c.title, c.created_at, c.updated_at, c.model, c.system, c.options,
           (SELECT count(*) FROM messages m WHERE m.conversation_id = c.id), c.tool_settings
    FROM conversations c
"""
INSERT_TURN = f"""
    INSERT INTO messages (conversation_id, role, content, model, state, error, thinking, images,
                          created_at, updated_at, server, {", ".join((*TOOLS, *STATS))})
    VALUES ({", ".join("?" * (11 + len(TOOLS) + len(STATS)))})
"""
UPDATE_TURN = f"""
    UPDATE messages SET content = ?, state = ?, error = ?, thinking = ?, model = ?, server = ?, updated_at = ?,
        {", ".join(f"{name} = ?" for name in (*TOOLS, *STATS))}
    WHERE id = ?
"""
SEARCH = f"""
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
WORD = re.compile(r"[^\W_]+")


def migrate(connection: sqlite3.Connection) -> None:
    """Run the pending migrations inside the caller's transaction.

    Always writes `user_version`, which also proves that the file can be written.
    """
    version = connection.execute("PRAGMA user_version").fetchone()[0]
    for steps in _MIGRATIONS[version:]:
        for statement in steps:
            connection.execute(statement)
    connection.execute(f"PRAGMA user_version = {max(version, SCHEMA_VERSION)}")


def check_compatible(connection: sqlite3.Connection) -> None:
    """Raise sqlite3.OperationalError unless every column this module reads exists."""
    for statement in (
        f"SELECT {TURN_COLUMNS}, conversation_id, updated_at FROM messages",
        f"{INFO_SELECT}",
        "SELECT key, value FROM settings",
        "SELECT rowid FROM messages_fts",
    ):
        connection.execute(f"SELECT * FROM ({statement}) LIMIT 0")


# Rows


def info_from_row(row: tuple[Any, ...]) -> ConversationInfo:
    conversation_id, title, created, updated, model, system, options, count, tools = row
    return ConversationInfo(
        conversation_id,
        title,
        created,
        updated,
        model,
        system,
        load_options(options),
        count,
        tools,
    )


def turn_from_row(row: tuple[Any, ...]) -> Turn:
    turn_id, role, content, model, state, error, thinking, images, created, server, *rest = row
    calls, tool_name, tool_call_id, tool_status, duration, *stats = rest
    has_stats = any(value is not None for value in stats)
    return Turn(
        role=role,
        content=content,
        model=model,
        state=_state(state),
        error=error,
        thinking=thinking,
        stats=ChatStats(**dict(zip(STATS, stats, strict=True))) if has_stats else None,
        images=_load_images(images),
        id=turn_id,
        created_at=created,
        server=server,
        tool_calls=_load_calls(calls),
        tool_name=tool_name,
        tool_call_id=tool_call_id,
        tool_status=_tool_status(tool_status),
        duration=duration,
    )


def insert_conversation(
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


def insert_turn(
    db: sqlite3.Connection,
    conversation_id: int,
    turn: Turn,
    state: TurnState,
    created: float,
    updated: float,
) -> int:
    cursor = db.execute(
        INSERT_TURN,
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
            turn.server,
            *tool_values(turn),
            *stat_values(turn.stats),
        ),
    )
    return _row_id(cursor)


def has_user_message(db: sqlite3.Connection, conversation_id: int) -> bool:
    row = db.execute(
        "SELECT 1 FROM messages WHERE conversation_id = ? AND role = 'user' LIMIT 1",
        (conversation_id,),
    ).fetchone()
    return row is not None


def touch_conversation_of(db: sqlite3.Connection, turn_id: int, now: float) -> None:
    db.execute(
        "UPDATE conversations SET updated_at = ? WHERE id = (SELECT conversation_id FROM messages WHERE id = ?)",
        (now, turn_id),
    )


def _row_id(cursor: sqlite3.Cursor) -> int:
    assert cursor.lastrowid is not None  # always set after an INSERT
    return cursor.lastrowid


def tool_values(turn: Turn) -> tuple[Any, ...]:
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


def stat_values(stats: ChatStats | None) -> tuple[Any, ...]:
    return tuple(getattr(stats, name) if stats else None for name in STATS)


def _state(value: str) -> TurnState:
    try:
        return TurnState(value)
    except ValueError:  # a state added by a newer version
        return TurnState.COMPLETE


def dump_options(options: Sequence[tuple[str, Any]]) -> str:
    return json.dumps(dict(options))


def load_options(text: str) -> tuple[tuple[str, Any], ...]:
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
