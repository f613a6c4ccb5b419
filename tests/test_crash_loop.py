"""Crash safety: the real app, killed with SIGKILL at random moments, run after run.

Each run starts `python -m app --continue` in a terminal on the same data folder, checks that
the last conversation is back on screen, then does one thing — sends a message whose reply
streams for about half a second, renames the conversation, or deletes it — and is killed at a
moment drawn from a seeded random generator. Just before the kill the test reads what the
database holds, as another program would; after it the file must pass
`PRAGMA integrity_check` and still hold everything it held then.
"""

from __future__ import annotations

import random
import sqlite3
import time
from collections import Counter
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import pytest
from ollama_server import DEFAULT_REPLY, ChatScript, FakeOllama
from terminal import Terminal

from app.store import DB_NAME

pytestmark = pytest.mark.slow

RUNS = 30
SEED = 20250607


@dataclass(frozen=True, slots=True)
class Row:
    conversation: int
    role: str
    content: str
    state: str


@dataclass(frozen=True, slots=True)
class Snapshot:
    titles: dict[int, str]  # conversation id -> title
    messages: dict[int, Row]  # message id -> row
    latest: int | None  # the conversation `--continue` opens


def read(db: Path) -> Snapshot:
    """What is committed, read without any chance of changing the file."""
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)) as connection:
        titles = dict(connection.execute("SELECT id, title FROM conversations"))
        rows = connection.execute("SELECT id, conversation_id, role, content, state FROM messages").fetchall()
        latest = connection.execute("SELECT id FROM conversations ORDER BY updated_at DESC, id DESC LIMIT 1").fetchone()
    return Snapshot(titles, {row[0]: Row(*row[1:]) for row in rows}, latest[0] if latest else None)


def check_file(db: Path) -> None:
    """What the next start finds: a sound file with no message outside a conversation."""
    with closing(sqlite3.connect(db, timeout=5)) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        orphans = connection.execute(
            "SELECT count(*) FROM messages WHERE conversation_id NOT IN (SELECT id FROM conversations)"
        ).fetchone()
        assert orphans == (0,)


def wait(condition, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def assert_kept(before: Snapshot, after: Snapshot, deleted: int | None, title: tuple[int, str] | None) -> int:
    """Everything `before` held is in `after` (a reply may have grown); returns how many
    messages were looked for. `deleted` may have gone as a whole; `title` may have been set."""
    for conversation, old in before.titles.items():
        if conversation not in after.titles:
            assert conversation == deleted, f"conversation {conversation} vanished"
            continue
        if title is not None and conversation == title[0]:
            assert after.titles[conversation] in (old, title[1])
        else:
            assert after.titles[conversation] == old
    for message, row in before.messages.items():
        if row.conversation == deleted and deleted not in after.titles:
            assert not any(r.conversation == deleted for r in after.messages.values())  # all or nothing
            continue
        kept = after.messages.get(message)
        assert kept is not None, f"message {message} ({row.role}, {row.state}) was lost"
        assert (kept.conversation, kept.role) == (row.conversation, row.role)
        assert kept.content.startswith(row.content), f"message {message} lost text"
    return len(before.messages)


def start(ollama: FakeOllama, data: Path, db: Path) -> Terminal:
    """Start the app on the most recent conversation; check that it is shown again."""
    app = Terminal("--host", ollama.url, "--data-dir", str(data), "--continue")
    app.wait_for("llama3.2:latest")
    if db.exists():
        state = read(db)
        last = [row for _, row in sorted(state.messages.items()) if row.conversation == state.latest]
        users = [row for row in last if row.role == "user"]
        if users:
            app.wait_for(users[-1].content)
        if last and last[-1].state == "streaming":
            app.wait_for("interrupted")  # the reply that a kill cut off
    return app


def test_sigkill_at_random_moments(ollama: FakeOllama, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rng = random.Random(SEED)
    data = tmp_path / "data"
    db = data / DB_NAME
    actions: Counter[str] = Counter()
    checks = mid_reply = 0
    for run in range(RUNS):
        app = start(ollama, data, db)
        current = read(db).latest if db.exists() else None
        action = rng.choices(["reply", "rename", "delete"], weights=[5, 3, 2])[0]
        if current is None:  # nothing to rename or delete (the last run deleted it)
            action = "reply"
        deleted = title = None
        try:
            if action == "reply":
                requests = len(ollama.bodies("/api/chat"))
                ollama.enqueue(ChatScript(tokens=[f" r{run}w{i}" for i in range(50)], delay=0.01))
                app.type(f"message {run} about crashes\r")
                wait(
                    lambda requests=requests: len(ollama.bodies("/api/chat")) > requests
                )  # the question is saved by now
                time.sleep(rng.uniform(0, 0.7))  # deliberate: the kill comes at a random moment of the reply
            elif action == "rename":
                assert current is not None  # chosen only when there is a conversation
                title = (current, f"renamed in run {run}")
                app.type(f"/rename {title[1]}\r")
                # Deliberate: the kill comes at a random moment, often within the rename itself.
                time.sleep(rng.choice([rng.uniform(0, 0.03), rng.uniform(0, 0.3)]))
            else:
                deleted = current
                app.type("/delete\r")
                app.wait_for("Delete “")  # the question
                app.type("y")
                # Deliberate: the kill comes at a random moment, often within the delete itself.
                time.sleep(rng.choice([rng.uniform(0, 0.03), rng.uniform(0, 0.3)]))
            before = read(db)
        finally:
            app.kill()
        actions[action] += 1
        if action == "reply":
            asked = [key for key, row in before.messages.items() if row.content == f"message {run} about crashes"]
            assert len(asked) == 1  # committed before the request went out
            reply = before.messages[asked[0] + 1]  # saved with it, empty, before the request
            assert reply.role == "assistant"
            mid_reply += reply.state == "streaming"
        check_file(db)
        checks += assert_kept(before, read(db), deleted, title)

    app = start(ollama, data, db)  # and once more: it resumes, answers, and quits cleanly
    try:
        app.type("one more after all that\r")
        wait(lambda: any(
            row.content == DEFAULT_REPLY and row.state == "complete" for row in read(db).messages.values()
        ))  # fmt: skip
        assert app.quit() == 0
    finally:
        app.kill()
    check_file(db)
    with capsys.disabled():  # the result, in CI logs too
        print(f"\ncrash loop: {RUNS} runs killed ({dict(actions)}), {mid_reply} with a reply streaming; "
              f"{checks} committed messages looked for after the kills, 0 lost")  # fmt: skip
    assert sum(actions.values()) == RUNS


def test_two_processes_share_the_database(ollama: FakeOllama, tmp_path: Path) -> None:
    """Two copies of the app stream replies into the same file at the same time."""
    data = tmp_path / "data"
    db = data / DB_NAME
    tokens = [f" token{i}" for i in range(80)]
    rounds = 4
    ollama.enqueue(*[ChatScript(tokens=tokens, delay=0.01) for _ in range(2 * rounds)])  # ~1 s each
    first = Terminal("--host", ollama.url, "--data-dir", str(data))
    second = Terminal("--host", ollama.url, "--data-dir", str(data))
    apps = {"A": first, "B": second}
    try:
        for app in apps.values():
            app.wait_for("llama3.2:latest")
        for number in range(rounds):
            for name, app in apps.items():
                app.type(f"from {name}: {number}\r")

            def answered(count: int = 2 * (number + 1)) -> bool:
                rows = read(db).messages.values()
                return sum(row.role == "assistant" and row.state == "complete" for row in rows) == count

            wait(answered)
        for name, app in apps.items():
            assert app.quit() == 0, name
            assert "busy" not in app.text()
    finally:
        for app in apps.values():
            app.kill()
    check_file(db)
    state = read(db)
    assert sorted(state.titles.values()) == ["from A: 0", "from B: 0"]
    for conversation, title in state.titles.items():
        name = title[5]
        rows = [row for _, row in sorted(state.messages.items()) if row.conversation == conversation]
        assert [(row.role, row.content, row.state) for row in rows] == [
            item
            for number in range(rounds)
            for item in (("user", f"from {name}: {number}", "complete"), ("assistant", "".join(tokens), "complete"))
        ]
