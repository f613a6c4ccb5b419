"""Crash safety with the real app process: SIGKILL mid-reply, then resume with --continue."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from ollama_server import DEFAULT_REPLY, ChatScript, FakeOllama
from terminal import Terminal

from app.config import CHECKPOINT_SECONDS, STALE_STREAM_SECONDS
from app.conversation import TurnState
from app.store import Store

pytestmark = pytest.mark.slow


def wait(condition, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def test_sigkill_mid_reply_then_continue(ollama: FakeOllama, tmp_path: Path) -> None:
    data = tmp_path / "data"
    ollama.enqueue(ChatScript(tokens=[f" word{i}" for i in range(1000)], delay=0.02))
    app = Terminal("--host", ollama.url, "--data-dir", str(data))
    try:
        app.wait_for("llama3.2:latest")
        app.type("tell me a long story\r")
        wait(lambda: ollama.bodies("/api/chat"))
        time.sleep(3 * CHECKPOINT_SECONDS)  # a few checkpoints of the partial reply
    finally:
        app.kill()

    with Store.open(data) as store:
        (info,) = store.conversations()
        user, reply = store.turns(info.id)
    assert user.role == "user" and user.content == "tell me a long story"
    assert reply.role == "assistant" and reply.model == "llama3.2:latest"
    assert reply.state == TurnState.STREAMING  # nobody said how it ended: the process died
    assert reply.content.startswith(" word0 word1") and "word999" not in reply.content
    partial = reply.content

    time.sleep(STALE_STREAM_SECONDS)  # long enough that no live copy could still be writing it
    again = Terminal("--host", ollama.url, "--data-dir", str(data), "--continue")
    try:
        again.wait_for("tell me a long story")
        again.wait_for("interrupted")
        again.type("go on\r")
        wait(lambda: len(ollama.bodies("/api/chat")) == 2)
        wait(lambda: "tok/s" in again.text())
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
