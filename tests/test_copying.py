"""Taking the model's words out of the running app: /copy and its variants, the message cursor's
c and y (with the chooser for several code blocks), Ctrl+Y, a local clipboard tool really run,
and /save into files. Against the fake server, through `App.copy_to_clipboard`."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import SIZE, command, toasts, type_text, wait_until
from ollama_server import ChatScript, FakeOllama, tokenize
from textual.widgets import OptionList

from app.app import OllamaTui
from app.conversation import TurnState
from app.screens.chat import ChatScreen
from app.screens.code_chooser import CodeChooser
from app.screens.dialogs import Confirm
from app.widgets.conversation_view import ConversationView

MakeTui = Callable[..., OllamaTui]
REPLY = "Two ways:\n\n```python\ndef add(a, b):\n    return a + b\n```\n\nor in the shell:\n\n```sh\nexpr 1 + 2\n```"
FIRST, SECOND = "def add(a, b):\n    return a + b\n", "expr 1 + 2\n"


def fake_xclip(folder: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An `xclip` on PATH that keeps what it is given; returns the file it writes."""
    bin_dir = folder / "bin"
    bin_dir.mkdir()
    got = folder / "xclip-got"
    script = bin_dir / "xclip"
    script.write_text(f'#!/bin/sh\ncat > "{got}"\n')
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.setenv("DISPLAY", ":99")
    for variable in ("WAYLAND_DISPLAY", "TMUX"):
        monkeypatch.delenv(variable, raising=False)
    return got


async def with_reply(pilot, ollama: FakeOllama, reply: str = REPLY, question: str = "add two numbers") -> ChatScreen:
    screen = pilot.app.screen
    assert isinstance(screen, ChatScreen)
    await wait_until(pilot, lambda: screen.models)
    ollama.enqueue(ChatScript(tokens=tokenize(reply)))
    await type_text(pilot, question)
    await pilot.press("enter")
    await wait_until(pilot, lambda: screen.turns and screen.turns[-1].role == "assistant" and not screen.reply_arriving)
    return screen


async def test_copy_code_n_goes_through_copy_to_clipboard_and_xclip_and_says_so(
    ollama: FakeOllama, make_tui: MakeTui, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    got = fake_xclip(tmp_path, monkeypatch)
    app = make_tui()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await with_reply(pilot, ollama)
        await command(pilot, "/copy code 2")
        sentence = "Copied 1 line of sh (code block 2) through xclip."
        await wait_until(pilot, lambda: sentence in toasts(app))
        assert app.clipboard == SECOND
        assert got.read_text() == SECOND  # the tool's stdin
        await command(pilot, "/copy code")  # the last block
        await wait_until(pilot, lambda: toasts(app).count(sentence) == 2)
        await command(pilot, "/copy code 1")
        await wait_until(pilot, lambda: "Copied 2 lines of python (code block 1) through xclip." in toasts(app))
        assert app.clipboard == FIRST and got.read_text() == FIRST
        await command(pilot, "/copy code 3")
        await wait_until(pilot, lambda: "There is no code block 3: the reply has 2 code blocks." in toasts(app))
        assert app.clipboard == FIRST
        await command(pilot, "/copy")
        await wait_until(pilot, lambda: app.clipboard == REPLY)
        await wait_until(pilot, lambda: "Copied the reply as Markdown (12 lines) through xclip." in toasts(app))
        await command(pilot, "/copy all")
        await wait_until(pilot, lambda: app.clipboard.startswith("# "))
        assert "add two numbers" in app.clipboard and "```sh\nexpr 1 + 2\n```" in app.clipboard
        assert got.read_text() == app.clipboard
        await command(pilot, "/copy everything")
        await wait_until(pilot, lambda: "Usage: /copy, /copy code [N], /copy all" in toasts(app))


async def test_without_a_terminal_or_a_tool_the_toast_says_nothing_was_copied(
    ollama: FakeOllama, make_tui: MakeTui, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no clipboard tool to be found
    app = make_tui()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await with_reply(pilot, ollama)
        await pilot.press("ctrl+y")
        await wait_until(pilot, lambda: any(toast.startswith("Could not copy the reply") for toast in toasts(app)))
        (toast,) = [toast for toast in toasts(app) if toast.startswith("Could not")]
        assert toast == (
            "Could not copy the reply as Markdown (12 lines): there is no terminal to pass it to; "
            "no clipboard tool is installed (wl-copy, xclip, xsel or pbcopy)."
        )
        assert not any(toast.startswith("Copied") for toast in toasts(app))


async def test_the_cursor_copies_a_message_and_a_code_block_chosen_from_several(
    ollama: FakeOllama, make_tui: MakeTui, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    got = fake_xclip(tmp_path, monkeypatch)
    app = make_tui()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await with_reply(pilot, ollama)
        view = screen.query_one(ConversationView)
        view.focus()
        await pilot.pause()
        assert view.cursor_turn is screen.turns[-1]
        await pilot.press("c")
        await wait_until(pilot, lambda: got.exists() and got.read_text() == REPLY)
        assert app.clipboard == REPLY
        await pilot.press("y")  # two blocks: which?
        await wait_until(pilot, lambda: isinstance(app.screen, CodeChooser))
        chooser = app.screen.query_one("#code-blocks", OptionList)
        shown = [str(chooser.get_option_at_index(i).prompt) for i in range(chooser.option_count)]
        assert shown[0].startswith("1  python · 2 lines\n   def add(a, b):\n       return a + b")
        assert shown[1].startswith("2  sh · 1 line\n   expr 1 + 2")
        await pilot.press("down", "enter")
        await wait_until(pilot, lambda: app.clipboard == SECOND)
        await wait_until(pilot, lambda: "Copied 1 line of sh (code block 2) through xclip." in toasts(app))
        assert isinstance(app.screen, ChatScreen)
        await pilot.press("y")
        await wait_until(pilot, lambda: isinstance(app.screen, CodeChooser))
        await pilot.press("1")  # its number picks it too
        await wait_until(pilot, lambda: app.clipboard == FIRST)
        await pilot.press("y", "escape")  # none
        await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen))
        assert app.clipboard == FIRST
        await pilot.press("up", "c")  # your own message
        await wait_until(pilot, lambda: app.clipboard == "add two numbers")
        await pilot.press("y")
        await wait_until(pilot, lambda: "There is no code block in your message." in toasts(app))


async def test_y_copies_the_only_code_block_at_once(ollama: FakeOllama, make_tui: MakeTui) -> None:
    app = make_tui()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await with_reply(pilot, ollama, reply="Like this:\n\n```\nls -la\n```")
        view = screen.query_one(ConversationView)
        view.focus()
        await pilot.press("y")
        await wait_until(pilot, lambda: app.clipboard == "ls -la\n")
        assert isinstance(app.screen, ChatScreen)
        await wait_until(pilot, lambda: any("1 line of code (code block 1)" in toast for toast in toasts(app)))


async def test_copied_text_carries_no_terminal_escapes(ollama: FakeOllama, make_tui: MakeTui) -> None:
    app = make_tui()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await with_reply(pilot, ollama, reply="red \x1b[31mtext\x1b[0m and \x1b]52;c;aGk=\x07done")
        await command(pilot, "/copy")
        await wait_until(pilot, lambda: app.clipboard == "red text and done")


async def test_save_writes_a_code_block_and_asks_before_replacing_a_file(
    ollama: FakeOllama, make_tui: MakeTui, tmp_path: Path
) -> None:
    target = tmp_path / "add.py"
    app = make_tui()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await with_reply(pilot, ollama)
        await command(pilot, f"/save {target}")  # the last block
        await wait_until(pilot, target.exists)
        assert target.read_text() == SECOND
        assert f"Saved 1 line of sh (code block 2) to {target}." in toasts(app)

        await command(pilot, f"/save {target} 1")
        await wait_until(pilot, lambda: isinstance(app.screen, Confirm))
        await pilot.press("n")
        await wait_until(pilot, lambda: f"Not saved: {target} is left as it was." in toasts(app))
        assert target.read_text() == SECOND

        await command(pilot, f"/save {target} 1")
        await wait_until(pilot, lambda: isinstance(app.screen, Confirm))
        await pilot.press("y")
        await wait_until(pilot, lambda: target.read_text() == FIRST)
        assert f"Saved 2 lines of python (code block 1) to {target}." in toasts(app)
        assert isinstance(app.screen, ChatScreen) and screen.turns[-1].state == TurnState.COMPLETE


async def test_save_names_what_is_wrong_with_the_file(ollama: FakeOllama, make_tui: MakeTui, tmp_path: Path) -> None:
    if os.geteuid() != 0:
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(0o500)
        unwritable = locked / "x.py"
    else:  # root may write anywhere but in sysfs, which takes no new files
        unwritable = Path("/sys/ollama-tui-save-test.py")
    app = make_tui()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await with_reply(pilot, ollama)
        await command(pilot, f"/save {tmp_path}")
        await wait_until(pilot, lambda: f"Cannot save to {tmp_path}: it is a folder." in toasts(app))
        await command(pilot, f"/save {tmp_path}/nowhere/x.py")
        await wait_until(
            pilot,
            lambda: (
                f"Cannot save to {tmp_path}/nowhere/x.py: the folder {tmp_path}/nowhere does not exist." in toasts(app)
            ),
        )
        await command(pilot, f"/save {unwritable}")
        await wait_until(pilot, lambda: any(toast.startswith(f"Cannot save to {unwritable}:") for toast in toasts(app)))
        (toast,) = [toast for toast in toasts(app) if toast.startswith(f"Cannot save to {unwritable}")]
        assert toast.endswith(("permission denied.", "Read-only file system.", "Permission denied."))
        assert not unwritable.exists()
        await command(pilot, f"/save {tmp_path}/x.py 7")
        await wait_until(pilot, lambda: "There is no code block 7: the last reply has 2 code blocks." in toasts(app))
        await command(pilot, "/save ~no-such-person-here/x.py")
        message = "Cannot save to ~no-such-person-here/x.py: there is no such home folder."
        await wait_until(pilot, lambda: message in toasts(app))
        await command(pilot, "/save")
        await wait_until(pilot, lambda: any(toast.startswith("Usage: /save FILE [N]") for toast in toasts(app)))
        assert not (tmp_path / "x.py").exists()


async def test_a_mouse_selection_is_copied_by_the_copy_key_and_said_so(
    ollama: FakeOllama, make_tui: MakeTui, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    got = fake_xclip(tmp_path, monkeypatch)
    app = make_tui()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await with_reply(pilot, ollama)
        view = screen.query_one(ConversationView)
        rows = [view.render_line(y).text for y in range(view.size.height)]
        start = next(y for y, row in enumerate(rows) if "def add" in row)
        end = next(y for y, row in enumerate(rows) if "return a + b" in row)
        await pilot.mouse_down(ConversationView, offset=(0, start))
        await pilot.hover(ConversationView, offset=(40, end))
        await pilot.mouse_up(ConversationView, offset=(40, end))
        await pilot.press("ctrl+c")
        await wait_until(pilot, lambda: "Copied 2 lines of selected text through xclip." in toasts(app))
        assert app.clipboard == FIRST.rstrip("\n") == got.read_text()
