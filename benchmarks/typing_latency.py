"""Item 4: is the app responsive while a reply streams in?

The real app runs in a pseudo-terminal, the fake server in a process of its own, and this
process plays the person at the keyboard. A key press is a byte written to the terminal; it
is on screen when the app has written a frame holding its character back to the terminal.
So the delay counts everything a person waits for: reading and parsing the input, the input
widget, layout, rendering and writing the frame, and any work the app was in the middle of.
(Headless under Pilot, Textual composes each frame but skips encoding and writing it, so
that part of the cost would be missed.) Each sample types `Z` (a letter the reply never
contains) into the empty input, waits for it, then erases it and waits for the placeholder to
come back, then waits a random 50-150 ms so presses fall at every phase of the app's reply
updates.

CPU time is the app process's user + system time from /proc (every thread), over the middle
of a reply streamed at 100 tokens/s, divided by the wall time.
"""

from __future__ import annotations

import random
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from app.config import FLUSH_SECONDS
from benchmarks.fake_server import ServerProcess
from benchmarks.report import Figure, ItemResult, prose
from benchmarks.stats import median, percentile
from benchmarks.terminal import TerminalProcess, app_argv, cpu_seconds

KEY = b"Z"
ERASE = b"\x7f"
PLACEHOLDER = "end a message (/help"  # its first letter sits under the cursor
LATENCY_TARGET = 0.050
CPU_TARGET = 0.10


@dataclass(frozen=True, slots=True)
class Plan:
    fast_rate: float = 300.0  # tokens/s while typing
    fast_seconds: float = 20.0
    slow_rate: float = 100.0  # tokens/s while measuring CPU
    slow_seconds: float = 20.0
    idle_samples: int = 30
    idle_cpu_seconds: float = 5.0


def press(app: TerminalProcess, timeout: float = 10.0) -> tuple[float, float]:
    """One key press: when it was made and the seconds until its character was on screen.
    Leaves the input empty; raises TimeoutError when either takes over `timeout` seconds."""
    mark = app.mark()
    pressed = time.perf_counter()
    app.write(KEY)
    shown = app.wait_for(KEY.decode(), since=mark, timeout=timeout)
    mark = app.mark()
    app.write(ERASE)
    app.wait_for(PLACEHOLDER, since=mark, timeout=timeout)
    return pressed, shown - pressed


def _press(app: TerminalProcess) -> float:
    return press(app)[1]


def _send(app: TerminalProcess, server: ServerProcess, tokens: int, delay: float) -> int:
    """Ask for a reply of `tokens` tokens; returns once it is streaming on screen."""
    server.script(tokens, delay)
    mark = app.mark()
    app.write(b"Tell me about binary search\r")
    app.wait_for("streaming…", since=mark, timeout=30)
    return mark


def measure(server: ServerProcess, plan: Plan) -> ItemResult:
    random_gap = random.Random(6)  # the same press pattern every run
    data = tempfile.TemporaryDirectory()
    with data, TerminalProcess(app_argv(server.url, Path(data.name))) as app:
        app.wait_for("llava:7b", PLACEHOLDER, timeout=60)
        time.sleep(0.5)  # let start-up work finish

        idle = []
        for _ in range(plan.idle_samples):
            idle.append(_press(app))
            time.sleep(random_gap.uniform(0.05, 0.15))
        before = cpu_seconds(app.pid)
        time.sleep(plan.idle_cpu_seconds)
        idle_cpu = (cpu_seconds(app.pid) - before) / plan.idle_cpu_seconds

        fast_tokens = round(plan.fast_rate * plan.fast_seconds)
        mark = _send(app, server, fast_tokens, 1 / plan.fast_rate)
        streaming = []
        started = time.perf_counter()
        cpu_started = cpu_seconds(app.pid)
        while time.perf_counter() - started < plan.fast_seconds - 0.5:
            streaming.append(_press(app))
            time.sleep(random_gap.uniform(0.05, 0.15))
        fast_cpu = (cpu_seconds(app.pid) - cpu_started) / (time.perf_counter() - started)
        app.wait_for(f"{fast_tokens} tokens ·", since=mark, timeout=120)

        slow_tokens = round(plan.slow_rate * plan.slow_seconds)
        sent = time.perf_counter()
        mark = _send(app, server, slow_tokens, 1 / plan.slow_rate)
        time.sleep(plan.slow_seconds * 0.1)  # the middle of the reply: not its start, not its end
        before, started = cpu_seconds(app.pid), time.perf_counter()
        time.sleep(plan.slow_seconds * 0.8)
        slow_cpu = (cpu_seconds(app.pid) - before) / (time.perf_counter() - started)
        ended = app.wait_for(f"{slow_tokens} tokens ·", since=mark, timeout=120)
        lag = ended - sent - plan.slow_seconds

    p50, p99 = percentile(streaming, 0.50), percentile(streaming, 0.99)
    idle_p50, idle_p99 = percentile(idle, 0.50), percentile(idle, 0.99)
    rate = f"{plan.fast_rate:.0f} tok/s"
    return ItemResult(
        "4",
        "Responsiveness while streaming",
        figures=[
            Figure(
                "4",
                f"key to screen while streaming {rate}, p50",
                p50,
                _ms(p50),
                f"{_ms(idle_p50)} idle",
                p50 / idle_p50,
            ),
            Figure(
                "4",
                f"key to screen while streaming {rate}, p99",
                p99,
                _ms(p99),
                f"{_ms(idle_p99)} idle",
                p99 / idle_p99,
                f"< {LATENCY_TARGET * 1000:.0f} ms",
                p99 < LATENCY_TARGET,
            ),
            Figure(
                "4",
                f"CPU while streaming {plan.slow_rate:.0f} tok/s",
                slow_cpu,
                f"{slow_cpu:.1%} of a core",
                f"{idle_cpu:.1%} idle",
                None,
                f"< {CPU_TARGET:.0%}",
                slow_cpu < CPU_TARGET,
            ),
        ],
        # A press that never showed, or a reply that never finished on screen, raises instead.
        checks={"key presses measured while streaming": len(streaming) > 0},
        notes=[
            *prose(__doc__),
            f"Samples: {len(streaming)} presses while {fast_tokens:,} tokens arrived at {rate} "
            f"(median {_ms(median(streaming))}, max {_ms(max(streaming))}); {len(idle)} presses "
            f"with nothing streaming (p50 {_ms(idle_p50)}, p99 {_ms(idle_p99)}, max "
            f"{_ms(max(idle))}). CPU while typing at {rate}: {fast_cpu:.1%} of a core. At "
            f"{plan.slow_rate:.0f} tok/s the reply was finished on screen {lag * 1000:.0f} ms "
            "after the server's schedule for it ended (counted from the Enter key). The app puts "
            f"streamed text in the view at most {1 / FLUSH_SECONDS:.0f} times a second "
            "(`FLUSH_SECONDS`).",
        ],
        data={
            "streaming": streaming,
            "idle": idle,
            "cpu_slow": slow_cpu,
            "cpu_idle": idle_cpu,
            "cpu_fast_typing": fast_cpu,
        },
    )


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"
