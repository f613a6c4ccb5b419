"""`python -m benchmarks [--quick] [--only 1,3,...] [--out FILE] [--json FILE]`

Runs the benchmarks of issue 6 and prints a table. A full run of every item writes
`benchmarks/results.md`; `--quick` runs each at a tiny size (the smoke test does), and writes
only where `--out` says. Exits 1 when a benchmark produced a wrong result (never for speed).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks import (
    app_stream,
    client_speed,
    growth,
    long_history,
    shape_terminal,
    shapes,
    startup,
    store_speed,
    typing_latency,
)
from benchmarks.fake_server import ServerProcess
from benchmarks.report import ItemResult, console_table, write_json, write_markdown
from benchmarks.typing_latency import Plan

RESULTS = Path(__file__).parent / "results.md"
ITEMS = ("1", "2", "3", "4", "5", "6", "7", "8", "9")


@dataclass(frozen=True, slots=True)
class Sizes:
    tokens: int = 20_000
    client_runs: int = 7
    streams: tuple[tuple[int, int], ...] = ((1_000, 3), (5_000, 3), (20_000, 3), (80_000, 1))
    paced_tokens: int = 1_500  # item 3's reply at a model's pace
    paced_rate: float = 300.0
    typing: Plan = field(default_factory=Plan)
    histories: tuple[int, ...] = (100, 1_000, 5_000, 10_000)
    history_main: int = 5_000
    scrolled: tuple[int, ...] = (100, 5_000)
    startup_runs: int = 5
    appends: int = 10_000
    searched: int = 100_000
    shape_plan: shapes.Plan = field(default_factory=shapes.Plan)


QUICK = Sizes(
    tokens=500,
    client_runs=2,
    streams=((100, 1), (200, 1), (500, 1), (1_000, 1)),
    paced_tokens=60,
    typing=Plan(fast_seconds=1.5, slow_seconds=1.5, idle_samples=3, idle_cpu_seconds=0.5),
    histories=(10, 20, 40, 80),
    history_main=40,
    scrolled=(10, 40),
    startup_runs=1,
    appends=100,
    searched=1_000,
    shape_plan=shapes.Plan(
        shape_terminal.Plan(window=1.0, pause=0.2, settle=0.2, scale=0.02, alternate=True),
        headless_scale=0.02,
    ),
)


def run(items: set[str], sizes: Sizes, log: Callable[[str], None]) -> list[ItemResult]:
    results: dict[str, ItemResult] = {}
    with ServerProcess() as server:
        if items & {"1", "2", "3"}:
            log("1-2: client ceiling and the app's client")
            results["1"], results["2"] = client_speed.run(server, sizes.tokens, sizes.client_runs)
        streams: list[app_stream.StreamRun] = []
        if items & {"3", "8"}:
            log("3: the whole app, headless, at every size")
            streams = app_stream.run_all(server, list(sizes.streams))
        if "3" in items:
            log(f"3: a reply arriving at {sizes.paced_rate:.0f} tok/s")
            streamed = app_stream.paced(server, sizes.paced_tokens, sizes.paced_rate)
            ceiling = results["1"].data["tokens_per_second"]
            read = sizes.tokens / results["2"].data["tokens_per_second"]  # the client's time
            results["3"] = app_stream.result(streams, sizes.tokens, ceiling, read, streamed)
        if "4" in items:
            log("4: typing while a reply streams (about a minute)")
            results["4"] = typing_latency.measure(server, sizes.typing)
        histories: dict[int, long_history.HistoryRun] = {}
        if items & {"5", "8"}:
            log("5: long history, each size in a process of its own")
            with tempfile.TemporaryDirectory() as folder:
                ids = long_history.seed(Path(folder), list(sizes.histories))
                for size in sizes.histories:
                    scroll = "5" in items and size in sizes.scrolled
                    histories[size] = long_history.run_in_process(server.url, Path(folder), ids[size], scroll)
        if "5" in items:
            results["5"] = long_history.result(histories, sizes.history_main, min(sizes.scrolled))
        if "6" in items:
            log("6: startup")
            results["6"] = startup.measure(server, sizes.startup_runs)
        if "9" in items:
            log("9: every shape of reply, streamed in a terminal (fresh app per shape and rate)")
            results["9"] = shapes.measure(server, sizes.shape_plan, log)
    if "7" in items:
        log("7: store")
        results["7"] = store_speed.measure(sizes.appends, sizes.searched)
    if "8" in items:
        results["8"] = growth.result(streams, histories)
    return [results[item] for item in ITEMS if item in results]  # 1 and 2 come with 3


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=(__doc__ or "").split("\n\n")[1])
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks the benchmarks work, not speed")
    parser.add_argument("--only", metavar="ITEMS", help="items to run, e.g. 1,2,7 (default: all)")
    parser.add_argument(
        "--out",
        type=Path,
        help="write the results here (default: benchmarks/results.md after a full run of "
        "every item, nowhere otherwise)",
    )
    parser.add_argument("--json", type=Path, help="also write every figure as JSON here")
    args = parser.parse_args(argv)
    items = set(ITEMS) if not args.only else {item.strip() for item in args.only.split(",")}
    if not items <= set(ITEMS):
        parser.error(f"items are {', '.join(ITEMS)}")
    sizes = QUICK if args.quick else Sizes()

    def log(message: str) -> None:
        print(f"[{time.perf_counter() - started:6.1f} s] {message}", file=sys.stderr, flush=True)

    started = time.perf_counter()
    load_before = os.getloadavg()[0]
    results = run(items, sizes, log)
    seconds = time.perf_counter() - started
    load = (load_before, os.getloadavg()[0])
    print(console_table(results))
    out = args.out or (RESULTS if items == set(ITEMS) and not args.quick else None)
    if out is not None:
        command = "python -m benchmarks" + " --quick" * args.quick
        command += f" --only {args.only}" if args.only else ""
        write_markdown(out, results, command, seconds, load)
        log(f"wrote {out.name}")
    if args.json is not None:
        write_json(args.json, results)
    failed = [name for result in results for name, passed in result.checks.items() if not passed]
    if failed:
        print("WRONG RESULTS: " + "; ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
