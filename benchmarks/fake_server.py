"""The fake Ollama of the tests, served from a process of its own.

A server thread inside the measured process would compete with the app for the interpreter
lock and its CPU time would be counted as the app's, so the benchmarks run it here instead.
The parent scripts it over stdin: `script TOKENS DELAY` queues a reply of TOKENS tokens, one
line every DELAY seconds (0: as fast as possible, 256 lines per chunk); it answers `ok`.
`shape NAME SCALE RATE WINDOW PAUSE` queues the reply of a corpus shape (`corpus.shape_reply`)
whose last WINDOW seconds stream at RATE tokens a second: the lines before them go as fast as
the socket takes them, then PAUSE seconds of silence (RATE 0: all of it at once, BURST 0); it
answers `ok TOKENS BURST`, BURST being the lines sent before the paced ones. `timeline` answers with what the server
sent since the last script: a JSON list of [delay, first write, last write, lines] per run of
lines, in `time.perf_counter()` seconds, which on Linux is the system-wide monotonic clock
(the same in every process).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the fake server stays where the tests keep it

import ollama_server  # noqa: E402
from ollama_server import ChatScript, FakeOllama  # noqa: E402

from benchmarks.corpus import shape_reply  # noqa: E402  # after the path it needs

# What the server sent since the last script: (delay, first write, last write, lines) per run of
# lines. Appended to by the handler's thread, read by the main thread (whole tuples).
_TIMELINE: list[tuple[float, float, float, int]] = []


def reply_tokens(count: int) -> list[str]:
    """The tokens of a `count`-token reply, as the server sends them."""
    return ChatScript.long(count).tokens


def reply_text(count: int) -> str:
    return "".join(reply_tokens(count))


@dataclass(frozen=True, slots=True)
class Burst:
    tokens: int  # in the whole reply
    burst: int  # of them sent at once before the rest streams


@dataclass(frozen=True, slots=True)
class Sent:
    """A run of lines the server wrote: at once (`delay` 0) or `delay` apart."""

    delay: float
    first: float  # when the first of them was written (perf_counter seconds)
    last: float  # when the last was
    lines: int


@dataclass(frozen=True, slots=True)
class Timeline:
    runs: list[Sent]

    @property
    def paced(self) -> Sent | None:
        """The lines that streamed at the rate, once all of them are sent."""
        return next((run for run in self.runs if run.delay > 0), None)

    @property
    def last(self) -> float:
        """When the last token line was written."""
        return self.runs[-1].last


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
        if self._ask(f"script {tokens} {delay}") != "ok":
            raise RuntimeError("the fake server refused a script")

    def script_shape(self, shape: str, scale: float, rate: float, window: float, pause: float) -> Burst:
        """Queue a corpus shape's reply whose last `window` seconds stream at `rate` tokens a
        second, after the rest sent at once and `pause` seconds of silence (`rate` 0: all at once)."""
        answer = self._ask(f"shape {shape} {scale} {rate} {window} {pause}").split()
        if answer[0] != "ok":
            raise RuntimeError("the fake server refused a script")
        return Burst(int(answer[1]), int(answer[2]))

    def timeline(self) -> Timeline:
        """What the server sent of the last scripted reply, so far."""
        answer = self._ask("timeline").removeprefix("timeline ")
        return Timeline([Sent(*run) for run in json.loads(answer)])

    def _ask(self, command: str) -> str:
        assert self._process is not None and self._process.stdin is not None
        self._process.stdin.write(command + "\n")
        self._process.stdin.flush()
        return self._answer()

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
        if not lines:
            return True
        if delay <= 0:
            first = time.perf_counter()
            sent = original(handler, lines, delay)
            _TIMELINE.append((0.0, first, time.perf_counter(), len(lines)))
            return sent
        start = time.monotonic()
        first = 0.0
        for number, line in enumerate(lines, 1):
            wait = start + number * delay - time.monotonic()
            if wait > 0 and not handler._wait(wait):
                return False
            if not handler._write(line):
                return False
            first = first or time.perf_counter()
        _TIMELINE.append((delay, first, time.perf_counter(), len(lines)))
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
                _TIMELINE.clear()
                server.enqueue(ChatScript.long(tokens, delay=delay))
                print("ok", flush=True)
            elif command == "shape":
                reply = shape_reply(arguments[0], float(arguments[1]))
                rate, window, pause = map(float, arguments[2:5])
                burst = max(0, len(reply.tokens) - round(rate * window)) if rate else 0
                _TIMELINE.clear()
                delay, pause = (1 / rate, pause * (burst > 0)) if rate else (0.0, 0.0)
                server.enqueue(ChatScript(list(reply.tokens), delay=delay, burst=burst, burst_pause=pause))
                print(f"ok {len(reply.tokens)} {burst}", flush=True)
            elif command == "timeline":
                print("timeline " + json.dumps(list(_TIMELINE)), flush=True)
            else:
                print(f"unknown command {command}", flush=True)


if __name__ == "__main__":
    main()
