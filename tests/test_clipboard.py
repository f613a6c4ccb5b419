"""Copying text out: a local clipboard tool is really run, and the sentence says where it went."""

from __future__ import annotations

import contextlib
import os
import signal
import stat
from pathlib import Path

import pytest

from app import clipboard


def tool(folder: Path, name: str, body: str) -> None:
    path = folder / name
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def environ(folder: Path, **extra: str) -> dict[str, str]:
    return {"PATH": f"{folder}:/usr/bin:/bin", "HOME": str(folder), **extra}


async def test_the_local_tool_gets_the_text_and_the_sentence_names_both_routes(tmp_path: Path) -> None:
    tool(tmp_path, "xclip", f'cat > "{tmp_path}/got"; echo "$@" > "{tmp_path}/args"')
    report = await clipboard.copy("def f():\n    return 1\n", terminal=True, environ=environ(tmp_path, DISPLAY=":0"))
    assert (tmp_path / "got").read_text() == "def f():\n    return 1\n"
    assert (tmp_path / "args").read_text().split() == ["-selection", "clipboard"]
    assert report.routes == ("the terminal (OSC 52)", "xclip")
    assert report.sentence(clipboard.describe("a\nb\n", "python")) == (
        "Copied 2 lines of python through the terminal (OSC 52) and xclip."
    )


async def test_wayland_comes_first_and_a_failing_tool_is_reported(tmp_path: Path) -> None:
    tool(tmp_path, "wl-copy", 'echo "no compositor" >&2; exit 1')
    tool(tmp_path, "xclip", "cat > /dev/null")
    report = await clipboard.copy("x", terminal=False, environ=environ(tmp_path, WAYLAND_DISPLAY="w", DISPLAY=":0"))
    assert report.routes == ()
    assert "wl-copy failed (no compositor)" in report.problems
    assert report.sentence("the reply").startswith("Could not copy the reply: there is no terminal")


async def test_a_stuck_tool_is_given_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clipboard, "TOOL_SECONDS", 0.3)
    tool(tmp_path, "xsel", "sleep 30")
    report = await clipboard.copy("x", terminal=True, environ=environ(tmp_path, DISPLAY=":0"))
    assert report.routes == ("the terminal (OSC 52)",)
    assert report.problems == ("xsel did not answer",)


async def test_tmux_without_set_clipboard_passes_nothing_on(tmp_path: Path) -> None:
    tool(tmp_path, "tmux", "echo off")
    report = await clipboard.copy("x", terminal=True, environ=environ(tmp_path, TMUX="/tmp/tmux-0/default,1,0"))
    assert report.routes == ()
    assert report.sentence("1 line") == (
        "Could not copy 1 line: tmux has set-clipboard off, so the terminal did not get it; "
        "no clipboard tool is installed (wl-copy, xclip, xsel or pbcopy)."
    )


def test_no_display_means_no_tool(tmp_path: Path) -> None:
    tool(tmp_path, "xclip", "true")
    assert clipboard.local_tool(environ(tmp_path), platform="linux") is None
    assert clipboard.local_tool(environ(tmp_path, DISPLAY=":1"), platform="linux") == [
        "xclip",
        "-selection",
        "clipboard",
    ]
    assert os.environ.get("PATH")  # the real environment is left alone


async def test_a_tool_that_stays_behind_holding_the_selection_is_not_waited_for(tmp_path: Path) -> None:
    """xclip and wl-copy fork a process that keeps the selection and the descriptors they were
    given; the copy is done when the tool itself exits."""
    tool(tmp_path, "xclip", f'cat > "{tmp_path}/got"; sleep 30 & echo $! > "{tmp_path}/held"')
    try:
        report = await clipboard.copy("kept", terminal=False, environ=environ(tmp_path, DISPLAY=":0"))
        assert report.routes == ("xclip",), report.problems
        assert (tmp_path / "got").read_text() == "kept"
        os.kill(int((tmp_path / "held").read_text()), 0)  # still there, holding the selection
    finally:
        with contextlib.suppress(OSError, ValueError):
            os.kill(int((tmp_path / "held").read_text()), signal.SIGKILL)
