"""The fake Ollama of the tests, served from a process of its own.

A server thread inside the measured process would compete with the app for the interpreter
lock and its CPU time would be counted as the app's, so the benchmarks run it here instead.
The parent scripts it over stdin: `script TOKENS DELAY` queues a reply of TOKENS tokens, one
line every DELAY seconds (0: as fast as possible, 256 lines per chunk); it answers `ok`.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the fake server stays where the tests keep it

import ollama_server  # noqa: E402
from ollama_server import ChatScript, FakeOllama  # noqa: E402


def reply_tokens(count: int) -> list[str]:
    """The tokens of a `count`-token reply, as the server sends them."""
    return ChatScript.long(count).tokens


def reply_text(count: int) -> str:
    return "".join(reply_tokens(count))


class ServerProcess:
    """`with ServerProcess() as server:` a fake Ollama at `server.url` in a child process."""

    def __init__(self) -> None:
        self._process: subprocess.Popen[str] | None = None
        self.url = ""

    def __enter__(self) -> ServerProcess:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.fake_server"],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.url = self._answer().removeprefix("ready ")
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        process = self._process
        if process is None:
            return
        assert process.stdin is not None
        process.stdin.close()  # end of input: the server stops
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        self._process = None

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    def script(self, tokens: int, delay: float = 0.0) -> None:
        """Queue the reply to the next chat request."""
        assert self._process is not None and self._process.stdin is not None
        self._process.stdin.write(f"script {tokens} {delay}\n")
        self._process.stdin.flush()
        if self._answer() != "ok":
            raise RuntimeError("the fake server refused a script")

    def _answer(self) -> str:
        assert self._process is not None and self._process.stdout is not None
        line = self._process.stdout.readline()
        if not line:
            raise RuntimeError("the fake server process exited")
        return line.strip()


def _paced(original: Callable[[ollama_server._Handler, list[bytes], float], bool]) -> Callable[..., bool]:
    """Send line n at start + n * delay rather than sleeping `delay` after each write, so
    the rate holds however long a write or a wake-up takes."""

    def send_lines(handler: ollama_server._Handler, lines: list[bytes], delay: float) -> bool:
        if delay <= 0:
            return original(handler, lines, delay)
        start = time.monotonic()
        for number, line in enumerate(lines, 1):
            wait = start + number * delay - time.monotonic()
            if wait > 0 and not handler._wait(wait):
                return False
            if not handler._write(line):
                return False
        return True

    return send_lines


def main() -> None:
    handler = ollama_server._Handler
    # The tests' server makes its own handlers, so the pacing goes into their class.
    handler._send_lines = _paced(handler._send_lines)  # type: ignore[method-assign]  # deliberate patch
    with FakeOllama() as server:
        print(f"ready {server.url}", flush=True)
        for line in sys.stdin:
            command, *arguments = line.split()
            if command == "script":
                tokens, delay = int(arguments[0]), float(arguments[1])
                server.enqueue(ChatScript.long(tokens, delay=delay))
                print("ok", flush=True)
            else:
                print(f"unknown command {command}", flush=True)


if __name__ == "__main__":
    main()
