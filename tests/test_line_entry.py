"""Writing a message of several lines in a real terminal: the app runs in a pseudo-terminal and
gets the bytes a terminal sends for each key, all in one write, as fast typing or a slow app
would deliver them. What counts is what reaches the server."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from ollama_server import FakeOllama
from terminal import Terminal

pytestmark = pytest.mark.slow

ENTER = "\r"  # what every terminal sends for Enter
CTRL_J = "\n"  # a line feed, in every terminal
ALT_ENTER_LEGACY = "\x1b\r"  # Alt+Enter where Alt sends ESC first: xterm, GNOME Terminal, tmux
ALT_ENTER_KITTY = "\x1b[13;3u"  # Alt+Enter from a terminal speaking the kitty keyboard protocol
SHIFT_ENTER_KITTY = "\x1b[13;2u"
PASTE_START, PASTE_END = "\x1b[200~", "\x1b[201~"  # bracketed paste, as terminals send it


@pytest.fixture
def terminal(ollama: FakeOllama, tmp_path: Path) -> Iterator[Terminal]:
    app = Terminal("--host", ollama.url, "--data-dir", str(tmp_path / "data"))
    try:
        app.wait_for("llama3.2:latest")
        yield app
    finally:
        app.kill()  # what these tests check, the server has recorded already


def sent(ollama: FakeOllama) -> list[str]:
    """The person's messages as the server got them, one per chat request."""
    return [body["messages"][-1]["content"] for body in ollama.bodies("/api/chat") if body.get("messages")]


def wait_sent(ollama: FakeOllama, count: int, timeout: float = 20.0) -> list[str]:
    deadline = time.monotonic() + timeout
    while len(messages := sent(ollama)) < count:
        assert time.monotonic() < deadline, f"{count} message(s) expected, the server got {messages}"
        time.sleep(0.05)
    return messages


def send_then_check_input_was_left_empty(app: Terminal, ollama: FakeOllama, count: int) -> None:
    """Once the reply is in, one more message: had a key landed after the send, it would be
    there too (a line break left behind would start it)."""
    app.wait_for("tok/s")  # the reply ended; the input takes a new message
    app.type("next" + ENTER)
    assert wait_sent(ollama, count + 1)[-1] == "next"


@pytest.mark.parametrize(
    "key",
    [CTRL_J, ALT_ENTER_KITTY, SHIFT_ENTER_KITTY],
    ids=["ctrl+j", "alt+enter (kitty protocol)", "shift+enter (kitty protocol)"],
)
def test_line_break_keys_typed_fast_keep_the_order(key: str, terminal: Terminal, ollama: FakeOllama) -> None:
    terminal.type("ab" + key + "cd" + key + "ef" + ENTER)
    assert wait_sent(ollama, 1) == ["ab\ncd\nef"]
    send_then_check_input_was_left_empty(terminal, ollama, 1)


def test_backslash_before_enter_breaks_the_line(terminal: Terminal, ollama: FakeOllama) -> None:
    """Works in every terminal: the backslash goes, a line break takes its place."""
    terminal.type("first \\" + ENTER + "second\\" + ENTER + "third" + ENTER)
    assert wait_sent(ollama, 1) == ["first \nsecond\nthird"]
    send_then_check_input_was_left_empty(terminal, ollama, 1)


def test_a_backslash_elsewhere_is_text(terminal: Terminal, ollama: FakeOllama) -> None:
    terminal.type("C:\\temp\\ is a folder, and so is C:\\ " + ENTER)
    assert wait_sent(ollama, 1) == ["C:\\temp\\ is a folder, and so is C:\\ "]


def test_pasted_text_ending_in_a_backslash_is_sent_as_it_is(terminal: Terminal, ollama: FakeOllama) -> None:
    """Only a backslash typed just before Enter breaks the line."""
    terminal.type(PASTE_START + "dir C:\\" + PASTE_END + ENTER)
    assert wait_sent(ollama, 1) == ["dir C:\\"]


def test_ctrl_j_mixed_with_backslash_and_paste(terminal: Terminal, ollama: FakeOllama) -> None:
    paste = PASTE_START + "pasted one\npasted two" + PASTE_END
    terminal.type("a" + CTRL_J + paste + "\\" + ENTER + "z" + ENTER)
    assert wait_sent(ollama, 1) == ["a\npasted one\npasted two\nz"]


def test_alt_enter_sent_as_esc_then_enter_sends(terminal: Terminal, ollama: FakeOllama) -> None:
    """Where Alt+Enter arrives as ESC + Enter (tmux, xterm, GNOME Terminal), Textual reads it
    as a plain Enter: it sends. This is why the keys shown are `\\` Enter and Ctrl+J; if this
    test fails, Alt+Enter has started to work there and the footer, help and README may say so."""
    terminal.type("ab" + ALT_ENTER_LEGACY)
    assert wait_sent(ollama, 1) == ["ab"]


def test_up_then_enter_typed_fast_sends_the_last_message_again(terminal: Terminal, ollama: FakeOllama) -> None:
    """Up in the empty input brings the last message back at once: an Enter in the same burst
    of keys sends it (it used to arrive before the message did, and send nothing)."""
    terminal.type("the same question" + ENTER)
    assert wait_sent(ollama, 1) == ["the same question"]
    terminal.wait_for("tok/s")
    terminal.type("\x1b[A" + ENTER)  # Up, as a terminal sends it, and Enter, in one write
    assert wait_sent(ollama, 2) == ["the same question", "the same question"]
