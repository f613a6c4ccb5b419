"""The real app in a pseudo-terminal, as a person starts it, with its output read as it comes.

What counts as "on screen" here is what the app wrote to its terminal: the bytes a terminal
emulator would draw, read from the pty as soon as the app writes them.
"""

from __future__ import annotations

import codecs
import fcntl
import os
import struct
import subprocess
import sys
import termios
import threading
import time
from bisect import bisect_right
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

from app.text import StreamSanitizer

ROOT = Path(__file__).resolve().parent.parent
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
QUIT = b"\x11"  # Ctrl+Q


def terminal_env() -> dict[str, str]:
    """The environment of a plain modern terminal, without Textual's developer switches."""
    # COLUMNS and LINES would override the pty's size: readline (loaded by pytest, say) sets
    # them in the C environment, which a child process inherits.
    env = {key: value for key, value in os.environ.items() if not key.startswith("TEXTUAL")}
    env.pop("COLUMNS", None)
    env.pop("LINES", None)
    env.update(TERM="xterm-256color", COLORTERM="truecolor")
    env.setdefault("LANG", "C.UTF-8")
    return env


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process, all its threads (resolution: a clock tick)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


class TerminalProcess:
    """`with TerminalProcess(argv) as app:` a program with a pty as its terminal."""

    def __init__(self, argv: Sequence[str], size: tuple[int, int] = (120, 40)) -> None:
        self.argv = list(argv)
        self.size = size
        self.started = 0.0
        self._master = -1
        self._process: subprocess.Popen[bytes] | None = None
        # The output as plain text (escape sequences removed), one piece per read.
        self._text: list[str] = []
        self._starts: list[int] = []  # where each piece starts in the whole text
        self._times: list[float] = []  # when each piece arrived
        self._length = 0
        self._arrived = threading.Condition()
        self._reader: threading.Thread | None = None

    def __enter__(self) -> TerminalProcess:
        master, slave = os.openpty()
        columns, rows = self.size
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        self._master = master
        self.started = time.perf_counter()
        self._process = subprocess.Popen(
            self.argv,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            cwd=ROOT,
            env=terminal_env(),
            start_new_session=True,
        )
        os.close(slave)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def close(self, timeout: float = 10.0) -> None:
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            try:
                self.write(QUIT)
                process.wait(timeout=timeout)
            except (OSError, subprocess.TimeoutExpired):
                process.kill()
                process.wait()
        if self._reader is not None:
            self._reader.join(timeout=5)
        os.close(self._master)
        self._process = None

    def write(self, data: bytes) -> None:
        os.write(self._master, data)

    def mark(self) -> int:
        """A position in the output: what arrives from now on is after it."""
        with self._arrived:
            return self._length

    def wait_for(self, *texts: str, since: int = 0, timeout: float = 30.0) -> float:
        """When the output after `since` (escape sequences removed) first held every one of
        `texts`: the arrival time of the read that completed them. Waits for it if need be."""
        deadline = time.perf_counter() + timeout
        missing = set(texts)
        overlap = max(len(text) for text in texts) - 1  # a text may span two reads
        carry = ""
        with self._arrived:
            index = max(0, bisect_right(self._starts, since) - 1)
            while True:
                while index < len(self._text):
                    piece = self._text[index]
                    piece = piece[max(0, since - self._starts[index]) :]
                    window = carry + piece
                    missing = {text for text in missing if text not in window}
                    carry = window[len(window) - overlap :] if overlap else ""
                    index += 1
                    if not missing:
                        return self._times[index - 1]
                remaining = deadline - time.perf_counter()
                if remaining <= 0 or (self._process is not None and self._process.poll() is not None):
                    tail = "".join(self._text)[-2000:]
                    raise TimeoutError(f"never shown: {sorted(missing)!r}; the output ended:\n{tail}")
                self._arrived.wait(remaining)

    def _read(self) -> None:
        # The stream sanitizer keeps an escape sequence cut in two by a read from leaking.
        decoder = codecs.getincrementaldecoder("utf-8")("replace")
        plain = StreamSanitizer()
        while True:
            try:
                data = os.read(self._master, 1 << 16)
            except OSError:  # EIO: the program closed its terminal
                data = b""
            moment = time.perf_counter()
            with self._arrived:
                if data:
                    text = plain.feed(decoder.decode(data))
                    self._starts.append(self._length)
                    self._text.append(text)
                    self._times.append(moment)
                    self._length += len(text)
                self._arrived.notify_all()
            if not data:
                return


def app_argv(host: str, data_dir: Path) -> list[str]:
    return [sys.executable, "-m", "app", "--host", host, "--data-dir", str(data_dir)]
