"""Item 9, in a terminal: each reply shape streamed at a model's pace to the real app.

The app runs as a person starts it, in a pseudo-terminal of 140x45 (`terminal.py`), against
the fake server in a process of its own: a fresh app and data folder for every shape and rate.
A long reply at 100 tokens a second would take minutes, so the server sends all of it but the
last window (15 s of tokens at the rate in a full run) as fast as the socket takes it, is silent
for a moment (2 s) so the app can draw that, then streams the window at the rate. What is measured in the window is the cost of an update
once the open block (the fence, the list, the table, the paragraph) is already long: what
grows with a reply. The figures come from the window only.

App CPU is the app process's user + system time from /proc (all its threads), sampled every
50 ms, as a share of one core. The window has two halves: in the first nothing is typed, and the
CPU there (from 10 % to 50 % of the window) is the cost of streaming, the figure the targets are
for; in the second keys are typed, and the CPU there (55 % to 95 %) is streaming and typing
together, shown beside it (each key and its erasing cost about as much as an update). The end on screen is timed
from the server writing the token that holds the word every reply ends with (`corpus.MARKER`,
its last visible word; at most two tokens follow it, such as a closing fence) to the terminal
output first holding that word. Key echo is measured as in
item 4, in the window's second half: a `Z` typed into the empty input every 50-150 ms, timed
from the write to the pty to the first output holding it, then erased; every press made before
the window ended counts, however long it waits. One not shown in 5 minutes counts as that and
ends the typing.
"""

from __future__ import annotations

import random
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from benchmarks.corpus import MARKER, shape_reply
from benchmarks.fake_server import Burst, ServerProcess, Timeline
from benchmarks.terminal import TerminalProcess, app_argv, cpu_seconds
from benchmarks.typing_latency import PLACEHOLDER, press

SIZE = (140, 45)
SAMPLE = 0.05  # seconds between CPU samples
PRESS_LIMIT = 300.0  # seconds a key may take to show before typing stops
END_LIMIT = 60.0  # seconds after the server's last token the end may take to show
BURST_LIMIT = 900.0  # seconds the part sent at once may take to go out


@dataclass(frozen=True, slots=True)
class Plan:
    rates: tuple[float, ...] = (300.0, 100.0)
    window: float = 15.0  # seconds of streaming at the rate, at the end of each reply
    pause: float = 2.0  # seconds of silence between the part sent at once and the window
    settle: float = 0.5  # seconds after start-up before asking
    scale: float = 1.0  # of the corpus shapes
    alternate: bool = False  # one rate per shape, in turn (the quick run), not every rate


@dataclass(frozen=True, slots=True)
class TerminalRun:
    shape: str
    rate: float
    tokens: int
    streamed: int  # tokens in the window
    window: float  # seconds from the server's first to last line in the window
    cpu: float  # share of a core in the window's first half, nothing typed
    cpu_typing: float  # the same in its second half, keys typed
    end: float | None  # from the marker's token sent to it on screen; None: not within END_LIMIT
    presses: tuple[float, ...]  # seconds to each echo pending in the window
    lost: int  # presses not shown within PRESS_LIMIT (counted in `presses` at that)
    alive: bool  # the app was still running at the end


class CpuSampler:
    """`with CpuSampler(pid) as cpu:` the process's CPU seconds, sampled on a thread."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.samples: list[tuple[float, float]] = []  # (perf_counter, CPU seconds)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> CpuSampler:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while True:
            try:
                self.samples.append((time.perf_counter(), cpu_seconds(self.pid)))
            except OSError:  # the process has gone
                return
            if self._stop.wait(SAMPLE):
                return

    def share(self, start: float, end: float) -> float:
        """CPU seconds per second between the first sample from `start` and the last to `end`."""
        inside = [sample for sample in self.samples if start <= sample[0] <= end]
        if len(inside) < 2:  # a busy machine starved the sampler: the samples around the span
            inside = [max((s for s in self.samples if s[0] <= start), default=self.samples[0])]
            inside.append(min((s for s in self.samples if s[0] >= end), default=self.samples[-1]))
        (first, first_cpu), (last, last_cpu) = inside[0], inside[-1]
        if last <= first:
            raise RuntimeError("no CPU samples around the window")
        return (last_cpu - first_cpu) / (last - first)


def _wait_sent(server: ServerProcess, deadline: float) -> Timeline:
    while (timeline := server.timeline()).paced is None:
        if time.perf_counter() > deadline:
            raise TimeoutError("the server never finished sending the reply")
        time.sleep(0.05)
    return timeline


def _wait_typing(server: ServerProcess, sent: Burst, rate: float, pause: float, asked: float, deadline: float) -> None:
    """Until the window's second half: after the part sent at once (if any), the pause and
    half the tokens streamed at the rate."""
    start = asked
    if sent.burst:
        while not (runs := server.timeline().runs):
            if time.perf_counter() > deadline:
                raise TimeoutError("the server never sent the part of the reply sent at once")
            time.sleep(0.05)
        start = runs[0].last + pause
    time.sleep(max(0.0, start + (sent.tokens - sent.burst) / rate / 2 - time.perf_counter()))


def run_once(server: ServerProcess, shape: str, rate: float, plan: Plan) -> TerminalRun:
    gaps = random.Random(f"{shape}/{rate}")  # the same press pattern every run
    presses: list[tuple[float, float, float]] = []  # (pressed at, seconds to echo, erased at)
    lost = 0
    with tempfile.TemporaryDirectory() as data, TerminalProcess(app_argv(server.url, Path(data)), SIZE) as app:
        app.wait_for("llava:7b", PLACEHOLDER, timeout=60)
        time.sleep(plan.settle)  # let start-up work finish
        sent = server.script_shape(shape, plan.scale, rate, plan.window, plan.pause)
        with CpuSampler(app.pid) as cpu:
            mark, asked = app.mark(), time.perf_counter()
            app.write(b"Show me all of it\r")
            app.wait_for("streaming…", since=mark, timeout=60)
            deadline = time.perf_counter() + BURST_LIMIT + plan.pause + plan.window
            _wait_typing(server, sent, rate, plan.pause, asked, deadline)
            while server.timeline().paced is None and time.perf_counter() < deadline:
                try:
                    presses.append((*press(app, PRESS_LIMIT), time.perf_counter()))
                except TimeoutError:
                    presses.append((time.perf_counter() - PRESS_LIMIT, PRESS_LIMIT, time.perf_counter()))
                    lost += 1
                    break
                time.sleep(gaps.uniform(0.05, 0.15))
            timeline = _wait_sent(server, deadline)
            paced = timeline.paced
            assert paced is not None
            # The marker's token went out on the server's schedule, a few lines before the last.
            marker_sent = timeline.last - shape_reply(shape, plan.scale).after_marker / rate
            try:
                end: float | None = app.wait_for(MARKER, since=mark, timeout=END_LIMIT) - marker_sent
            except TimeoutError:
                end = None
            alive = app.running
        span = paced.last - paced.first
        share = cpu.share(paced.first + span * 0.1, paced.first + span * 0.5)
        typing = cpu.share(paced.first + span * 0.55, paced.last - span * 0.05)
    pending = tuple(delay for at, delay, erased in presses if at <= paced.last)
    return TerminalRun(shape, rate, sent.tokens, paced.lines, span, share, typing, end, pending, lost, alive)


def run_all(
    server: ServerProcess, shapes: list[str], plan: Plan, log: Callable[[TerminalRun], None]
) -> list[TerminalRun]:
    runs: list[TerminalRun] = []
    for number, shape in enumerate(shapes):
        rates = (plan.rates[number % len(plan.rates)],) if plan.alternate else plan.rates
        for rate in rates:
            runs.append(run_once(server, shape, rate, plan))
            log(runs[-1])
    return runs
