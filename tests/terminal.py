"""Run the real app as a process in a pseudo-terminal, as a person's terminal would."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import signal
import struct
import sys
import termios
import threading
import time
from pathlib import Path

_ESCAPES = re.compile(rb"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")


class Terminal:
    """`python -m app ARGS` in a pty of the given size; output is drained in a thread."""

    def __init__(self, *args: str, size: tuple[int, int] = (100, 30), env: dict[str, str] | None = None) -> None:
        self._output = bytearray()
        self._lock = threading.Lock()
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: become the app
            os.chdir(Path(__file__).parent.parent)
            child_env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": str(size[0]), "LINES": str(size[1])}
            child_env.update(env or {})
            os.execvpe(sys.executable, [sys.executable, "-m", "app", *args], child_env)
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", size[1], size[0], 0, 0))
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    def _drain(self) -> None:
        while True:
            try:
                data = os.read(self.fd, 65536)
            except OSError:
                return
            if not data:
                return
            with self._lock:
                self._output += data

    def text(self) -> str:
        """Everything written so far with escape sequences removed (good enough to find words)."""
        with self._lock:
            raw = bytes(self._output)
        return _ESCAPES.sub(b"", raw).decode("utf-8", "replace")

    def raw(self) -> bytes:
        """Everything written so far, escape sequences and all."""
        with self._lock:
            return bytes(self._output)

    def wait_for(self, words: str, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while words not in self.text():
            if time.monotonic() > deadline:
                raise AssertionError(f"{words!r} never appeared; the terminal shows:\n{self.text()[-3000:]}")
            time.sleep(0.05)

    def type(self, keys: str) -> None:
        os.write(self.fd, keys.encode())

    def kill(self) -> None:
        """SIGKILL: no cleanup, no final save, as a crash or a power cut would leave it.
        Does nothing once the process has ended."""
        if self.pid:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
            self._ended()

    def _ended(self) -> None:
        self.pid = 0
        os.close(self.fd)

    def quit(self, timeout: float = 10.0) -> int:
        """Ctrl+Q, then the exit status."""
        self.type("\x11")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self._ended()
                return os.waitstatus_to_exitcode(status)
            time.sleep(0.05)
        self.kill()
        raise AssertionError("the app did not quit on Ctrl+Q")
