"""Crash safety with the real app process: SIGKILL mid-reply, then resume with --continue."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest
from ollama_server import DEFAULT_REPLY, ChatScript, FakeOllama
from terminal import Terminal

from app.config import CHECKPOINT_SECONDS, STALE_STREAM_SECONDS
from app.conversation import TurnState
from app.store import DB_NAME, Store

pytestmark = pytest.mark.slow


def wait(condition: Callable[[], object], what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what}: not so after {timeout} s"
        time.sleep(0.05)


def stored_reply(data: Path) -> tuple[str, float] | None:
    """The reply's text and the time of its last save, as another program reads the file."""
    db = data / DB_NAME
    if not db.exists():
        return None
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)) as connection:
        row = connection.execute("SELECT content, updated_at FROM messages WHERE role = 'assistant'").fetchone()
    return (row[0], row[1]) if row else None


def test_sigkill_mid_reply_then_continue(ollama: FakeOllama, tmp_path: Path) -> None:
    data = tmp_path / "data"
    ollama.enqueue(ChatScript(tokens=[f" word{i}" for i in range(1000)], delay=0.02))
    app = Terminal("--host", ollama.url, "--data-dir", str(data))
    try:
        app.wait_for("llama3.2:latest")
        app.type("tell me a long story\r")
        wait(lambda: ollama.bodies("/api/chat"), "the question reached the server")
        saves: list[str] = []

        def saved_again() -> bool:
            stored = stored_reply(data)
            if stored and stored[0] and stored[0] not in saves:
                saves.append(stored[0])
            return len(saves) >= 2

        # Killed once the partial reply has been saved twice, growing, while it streams.
        wait(saved_again, f"two checkpoints of the partial reply, {CHECKPOINT_SECONDS} s apart")
    finally:
        app.kill()

    with Store.open(data) as store:
        (info,) = store.conversations()
        user, reply = store.turns(info.id)
    assert user.role == "user" and user.content == "tell me a long story"
    assert reply.role == "assistant" and reply.model == "llama3.2:latest"
    assert reply.state == TurnState.STREAMING  # nobody said how it ended: the process died
    assert reply.content.startswith(saves[-1]) and "word999" not in reply.content
    assert saves[0].startswith(" word0") and saves[1].startswith(saves[0]) and len(saves[1]) > len(saves[0])
    partial = reply.content

    # A deliberate wait: a reply left streaming counts as abandoned (rather than still being
    # written by a live copy) once its last save is STALE_STREAM_SECONDS old.
    last_save = stored_reply(data)
    assert last_save is not None
    wait(
        lambda: time.time() - last_save[1] > STALE_STREAM_SECONDS,
        "the reply's last save is older than STALE_STREAM_SECONDS",
        timeout=STALE_STREAM_SECONDS + 5,
    )
    again = Terminal("--host", ollama.url, "--data-dir", str(data), "--continue")
    try:
        again.wait_for("tell me a long story")
        again.wait_for("interrupted")
        again.type("go on\r")
        wait(lambda: len(ollama.bodies("/api/chat")) == 2, "the second question reached the server")
        wait(lambda: "tok/s" in again.text(), "the second reply ended")
        assert again.quit() == 0
    finally:
        again.kill()

    assert ollama.bodies("/api/chat")[-1]["messages"] == [
        {"role": "user", "content": "tell me a long story"},
        {"role": "assistant", "content": partial},
        {"role": "user", "content": "go on"},
    ]
    with Store.open(data) as store:
        turns = store.turns(info.id)
    assert [t.state for t in turns] == [
        TurnState.COMPLETE,
        TurnState.INTERRUPTED,
        TurnState.COMPLETE,
        TurnState.COMPLETE,
    ]
    assert turns[1].content == partial
    assert turns[3].content == DEFAULT_REPLY
