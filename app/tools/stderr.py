"""The end of what a stdio server writes to stderr, kept in memory.

A server's stderr must never reach the terminal the app draws on, and may hold what its
environment holds (tokens), so it is not written to disk either. A thread drains a pipe and keeps
the last lines; the last one usually says why a server that exits at start gave up.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from typing import TextIO

from app.tools.calls import one_line

_LINES = 20
_LONGEST = 4096  # bytes kept of a line that never ends


class StderrTail:
    """`writer` is the file to give the child as its stderr; close our copy of it with
    `spawned()` once the child has it, so the pipe ends when the child does."""

    def __init__(self) -> None:
        read, write = os.pipe()
        self.writer: TextIO = os.fdopen(write, "w", encoding="utf-8", errors="replace")
        self._read = read
        self._lines: deque[str] = deque(maxlen=_LINES)
        self.count = 0  # lines seen so far, for `last_line(since=...)`
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._drain, name="mcp-stderr", daemon=True)
        self._thread.start()

    def spawned(self) -> None:
        if not self.writer.closed:
            self.writer.close()

    def settle(self, timeout: float = 0.5) -> None:
        """Wait (a little) for what an exited server wrote last. Blocking: run it in a thread."""
        self.spawned()
        self._thread.join(timeout)

    def last_line(self, since: int = 0) -> str:
        """The last line with text, among those after the first `since` (a `count` taken earlier)."""
        with self._lock:
            recent = list(self._lines)[max(0, len(self._lines) - (self.count - since)) :]
        lines = [line for line in recent if line.strip()]
        return one_line(lines[-1], 200) if lines else ""

    def _drain(self) -> None:
        partial = b""
        try:
            while chunk := os.read(self._read, 65536):
                *lines, partial = (partial + chunk).split(b"\n")
                partial = partial[-_LONGEST:]
                if lines:
                    with self._lock:
                        self._lines.extend(line[-_LONGEST:].decode("utf-8", "replace") for line in lines)
                        self.count += len(lines)
        except OSError:
            pass
        finally:
            if partial:
                with self._lock:
                    self._lines.append(partial.decode("utf-8", "replace"))
                    self.count += 1
            os.close(self._read)
