"""Item 7: the store on disk, against bare sqlite3 doing the same work on the same schema.

Appending: `Store.add_turn` for 10,000 messages, one transaction each, as the app saves them;
the baseline inserts the same rows with one bare `INSERT` per transaction on a connection with
the same settings (WAL, synchronous=NORMAL), into a store file of the same schema, so its full
text index is kept up by the same trigger. Search: `Store.search` (ranked, with snippets and
titles) over 100,000 messages, against a bare FTS `MATCH` of the same expression, ranked the
same way (bm25) and returning row ids; both take the best 50. Queries mix common and rare words, prefixes and two-word
searches; each runs several times and the median counts.
"""

from __future__ import annotations

import json
import sqlite3
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from app.store import ConversationInfo, Store
from benchmarks import corpus
from benchmarks.report import Figure, ItemResult, prose
from benchmarks.stats import median

QUERIES = (
    "search",
    "latency",
    "cache",  # words in about a tenth of all messages
    "pars",
    "sock",  # prefixes
    "rollback transaction",
    "queue worker",  # two common words
    corpus.rare_word(5),
    corpus.rare_word(50),
    corpus.rare_word(400),  # ever rarer words
    f"{corpus.rare_word(50)} server",
)
REPEATS = 5
_BARE_SEARCH = "SELECT rowid FROM messages_fts WHERE messages_fts MATCH ? ORDER BY rank LIMIT 50"
_BARE_MATCHES = "SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?"
_BARE_INSERT = """
    INSERT INTO messages (conversation_id, role, content, model, state, error, thinking, images,
                          created_at, updated_at)
    VALUES (?, ?, ?, ?, 'complete', '', '', '[]', ?, ?)
"""


def _append(folder: Path, count: int) -> tuple[float, float, bool]:
    turns = list(corpus.turns(count, seed=7))
    with Store.open(folder / "app") as store:
        conversation = store.create_conversation("llama3.2:latest")
        started = time.perf_counter()
        for turn in turns:
            store.add_turn(conversation.id, turn)
        app_seconds = time.perf_counter() - started
        saved = store.turns(conversation.id)
        correct = [t.content for t in saved] == [t.content for t in turns]
    Store.open(folder / "bare").close()  # the same schema, triggers and all
    db = sqlite3.connect(folder / "bare" / "conversations.db", isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = NORMAL")
    db.execute("INSERT INTO conversations (id, created_at, updated_at) VALUES (1, 0, 0)")
    started = time.perf_counter()
    for turn in turns:
        db.execute("BEGIN IMMEDIATE")
        row = (1, turn.role, turn.content, turn.model, turn.created_at, turn.created_at)
        db.execute(_BARE_INSERT, row)
        db.execute("COMMIT")
    bare_seconds = time.perf_counter() - started
    db.close()
    return app_seconds, bare_seconds, correct


def _search_store(folder: Path, count: int, per_conversation: int = 1000) -> tuple[Store, float]:
    store = Store.open(folder / "search")
    started = time.perf_counter()
    for first in range(0, count, per_conversation):
        turns = list(corpus.turns(min(per_conversation, count - first), seed=first))
        info = ConversationInfo(0, f"Chat {first}", 0, 0, "llama3.2:latest")
        store.import_conversation(info, turns)
    return store, time.perf_counter() - started


def _bare_search(connection: sqlite3.Connection, expression: str) -> list[tuple[int]]:
    return connection.execute(_BARE_SEARCH, (expression,)).fetchall()


def _median_ms(query: Callable[[], object]) -> float:
    times = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        query()
        times.append(time.perf_counter() - started)
    return median(times) * 1000


def _search(folder: Path, count: int) -> tuple[dict[str, float], dict[str, float], float, bool]:
    store, build = _search_store(folder, count)
    bare = sqlite3.connect(folder / "search" / "conversations.db")
    app_ms: dict[str, float] = {}
    bare_ms: dict[str, float] = {}
    correct = True
    with store:
        for query in QUERIES:
            expression = " ".join(f'"{word}"*' for word in query.split())
            app_ms[query] = _median_ms(partial(store.search, query))
            bare_ms[query] = _median_ms(partial(_bare_search, bare, expression))
            hits = store.search(query)
            # Every hit matches, and there are as many as the limit allows.
            matching = {row[0] for row in bare.execute(_BARE_MATCHES, (expression,))}
            ids = {hit.message_id for hit in hits}
            correct &= ids <= matching and len(hits) == min(50, len(matching)) > 0
    bare.close()
    return app_ms, bare_ms, build, correct


def measure(appends: int, searched: int) -> ItemResult:
    with tempfile.TemporaryDirectory() as folder:
        app_seconds, bare_seconds, appended_ok = _append(Path(folder), appends)
        app_ms, bare_ms, build, found_ok = _search(Path(folder), searched)
    per_message = app_seconds / appends * 1e6
    bare_per_message = bare_seconds / appends * 1e6
    query_ms, bare_query_ms = median(list(app_ms.values())), median(list(bare_ms.values()))
    worst = max(app_ms, key=app_ms.__getitem__)
    table = [
        "| query | Store.search | bare ranked MATCH |",
        "|---|---:|---:|",
        *(f"| `{q}` | {app_ms[q]:.2f} ms | {bare_ms[q]:.2f} ms |" for q in QUERIES),
    ]
    return ItemResult(
        "7",
        "Store",
        figures=[
            Figure(
                "7",
                f"append {appends:,} messages, one transaction each",
                per_message,
                f"{per_message:.0f} µs/message ({app_seconds:.2f} s)",
                f"{bare_per_message:.0f} µs bare INSERT",
                per_message / bare_per_message,
            ),
            Figure(
                "7",
                f"FTS search over {searched:,} messages, median query",
                query_ms,
                f"{query_ms:.1f} ms/query (slowest `{worst}` {app_ms[worst]:.1f} ms)",
                f"{bare_query_ms:.2f} ms bare ranked MATCH",
                query_ms / bare_query_ms,
            ),
        ],
        checks={
            "every appended message was saved": appended_ok,
            "search found what FTS finds": found_ok,
        },
        notes=[
            *prose(__doc__),
            f"No target was set for the store. Building the {searched:,}-message store with "
            f"`Store.import_conversation` ({max(1, searched // 1000)} conversations) took "
            f"{build:.1f} s. "
            "Ranking costs the most for words found in many messages: every match is scored "
            "before the best 50 are taken, with or without snippets.",
            "\n".join(table),
        ],
        data={
            "append_seconds": app_seconds,
            "bare_append_seconds": bare_seconds,
            "search_ms": app_ms,
            "bare_search_ms": bare_ms,
            "build_seconds": build,
        },
    )


if __name__ == "__main__":  # python -m benchmarks.store_speed: a quick look
    print(json.dumps(measure(1000, 10_000).data, indent=1))
