"""Ctrl+G: the message being written, in the person's own editor. Scripted editors really run
on the temporary file; what they save comes back, and a failing one leaves the text alone."""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import SIZE, toasts, type_text, wait_until

from app import editor
from app.app import OllamaTui
from app.screens.chat import ChatScreen
from app.widgets.prompt_input import PromptInput

MakeTui = Callable[..., OllamaTui]


def script(folder: Path, name: str, body: str) -> Path:
    path = folder / name
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


async def test_what_the_editor_saves_comes_back_into_the_input(
    make_tui: MakeTui, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Records what it was given (its mode, its text), then writes a new message.
    body = f'stat -c %a "$1" > "{tmp_path}/mode"; echo "$1" > "{tmp_path}/name"; cp "$1" "{tmp_path}/given"\n'
    body += "printf 'line one\\nline two\\n' > \"$1\""
    monkeypatch.setenv("EDITOR", str(script(tmp_path, "my-editor", body)))
    monkeypatch.delenv("VISUAL", raising=False)
    app = make_tui()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = app.screen
        assert isinstance(screen, ChatScreen)
        prompt = screen.query_one(PromptInput)
        await type_text(pilot, "a draft")
        await pilot.press("ctrl+g")
        await wait_until(pilot, lambda: prompt.text == "line one\nline two")
        assert (tmp_path / "given").read_text() == "a draft"
        assert (tmp_path / "mode").read_text().strip() == "600"  # the draft is yours alone
        name = Path((tmp_path / "name").read_text().strip())
        assert name.suffix == ".md" and not name.exists()  # removed afterwards
        assert prompt.cursor_location == (1, len("line two")) and app.focused is prompt
        assert not any("Editor" in toast or "editor" in toast for toast in toasts(app))


async def test_an_editor_that_fails_leaves_the_text_and_says_why(
    make_tui: MakeTui, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    failing = script(tmp_path, "bad-editor", 'echo "changed" > "$1"; exit 1')
    monkeypatch.setenv("VISUAL", str(failing))  # VISUAL comes before EDITOR
    monkeypatch.setenv("EDITOR", "true")
    app = make_tui()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        prompt = app.screen.query_one(PromptInput)
        await type_text(pilot, "keep me")
        await pilot.press("ctrl+g")
        message = f"{failing} exited with status 1, so its text was not used. Your text is as it was."
        await wait_until(pilot, lambda: message in toasts(app))
        assert prompt.text == "keep me"
        monkeypatch.setenv("VISUAL", "no-such-editor --wait")
        await pilot.press("ctrl+g")
        missing = "The editor VISUAL='no-such-editor --wait' is not installed, or not on PATH."
        await wait_until(pilot, lambda: missing in toasts(app))
        assert prompt.text == "keep me"


def test_the_editor_is_visual_then_editor_then_a_fallback(tmp_path: Path) -> None:
    script(tmp_path, "vi", "true")
    script(tmp_path, "code", "true")
    path = str(tmp_path)
    assert editor.editor_command({"PATH": path, "VISUAL": "code --wait", "EDITOR": "vi"}) == ["code", "--wait"]
    assert editor.editor_command({"PATH": path, "EDITOR": "vi -n"}) == ["vi", "-n"]
    assert editor.editor_command({"PATH": path, "VISUAL": " ", "EDITOR": ""}) == ["vi"]  # blank is unset
    (tmp_path / "vi").unlink()
    with pytest.raises(editor.NoEditor, match="No editor found: set EDITOR"):
        editor.editor_command({"PATH": path})
    with pytest.raises(editor.NoEditor, match="cannot be read"):
        editor.editor_command({"PATH": path, "EDITOR": "'unclosed"})


def test_edit_keeps_a_final_newline_only_when_the_text_had_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # where the drafts go, to see them gone
    appends = script(tmp_path, "appends", 'printf "more\\n" >> "$1"')
    assert editor.edit("start ", [str(appends)]) == editor.Edited("start more")
    assert editor.edit("start\n", [str(appends)]) == editor.Edited("start\nmore\n")
    gone = script(tmp_path, "removes", 'rm "$1"')
    result = editor.edit("x", [str(gone)])
    assert result.text == "" and result.error.startswith("The text could not be read back")
    assert sorted(os.listdir(tmp_path)) == ["appends", "removes"]  # no draft left behind
