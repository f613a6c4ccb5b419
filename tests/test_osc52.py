"""The real app in a pseudo-terminal: a copy reaches the terminal as OSC 52 (the bytes a
terminal's clipboard takes) and a local clipboard tool, and the toast names both."""

from __future__ import annotations

import base64
import os
import stat
import time
from pathlib import Path

import pytest
from ollama_server import ChatScript, FakeOllama
from terminal import Terminal

pytestmark = pytest.mark.slow


def test_ctrl_y_writes_osc_52_and_runs_xclip(ollama: FakeOllama, tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    got = tmp_path / "xclip-got"
    xclip = bin_dir / "xclip"
    xclip.write_text(f'#!/bin/sh\ncat > "{got}"\n')
    xclip.chmod(xclip.stat().st_mode | stat.S_IXUSR)
    reply = "Use `ls -la` to see — everything."
    ollama.enqueue(ChatScript(tokens=["Use", " `ls -la`", " to", " see", " —", " everything."]))
    env = {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "DISPLAY": ":99",
        "TMUX": "",
        "WAYLAND_DISPLAY": "",
    }
    app = Terminal("--host", ollama.url, "--data-dir", str(tmp_path / "data"), env=env)
    try:
        app.wait_for("llama3.2:latest")
        app.type("hello\r")
        app.wait_for("tok/s")
        app.type("\x19")  # Ctrl+Y: copy the last reply
        osc52 = b"\x1b]52;c;" + base64.b64encode(reply.encode()) + b"\x07"
        deadline = time.monotonic() + 20
        while osc52 not in app.raw() or "xclip." not in app.text():
            assert time.monotonic() < deadline, f"no OSC 52 or toast; the terminal shows:\n{app.text()[-2000:]}"
            time.sleep(0.05)
        assert got.read_text() == reply
        # The toast, as the terminal wraps it.
        assert "Copied the reply as Markdown (1 line) through" in app.text()
        assert "the terminal (OSC 52) and xclip." in app.text()
        assert app.quit() == 0
    finally:
        app.kill()
