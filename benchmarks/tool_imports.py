"""What tools cost at start-up: `python -m benchmarks.tool_imports [--runs N]`.

Prints, each from fresh interpreters (the median of N):
- what importing `app.tools` adds once the app is imported (the chat flow needs it at start);
- what the MCP SDK costs (`app.tools.connection`), and its largest parts, per `-X importtime`;
- the longest the event loop stalls while the SDK is imported, on the loop and in a worker
  thread as `ToolServers` does it (a 5 ms ticker measures the gaps).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys

_STALL = """
import asyncio, importlib, time
async def main():
    gaps, last, done = [], time.perf_counter(), False
    async def tick():
        nonlocal last
        while not done:
            await asyncio.sleep(0.005)
            now = time.perf_counter(); gaps.append(now - last); last = now
    ticker = asyncio.create_task(tick())
    await asyncio.sleep(0.05)
    if {thread}:
        await asyncio.to_thread(importlib.import_module, "app.tools.connection")
    else:
        importlib.import_module("app.tools.connection")
    await asyncio.sleep(0.05)
    done = True
    await ticker
    print(max(gaps) * 1000)
asyncio.run(main())
"""


def _importtime(code: str) -> dict[str, tuple[int, int]]:
    """Module -> (self, cumulative) microseconds, from `-X importtime`."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True, check=True
    )
    times: dict[str, tuple[int, int]] = {}
    for line in result.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        own, cumulative, name = line.removeprefix("import time:").split("|")
        times[name.strip()] = (int(own), int(cumulative))
    return times


def _median(values: list[float]) -> float:
    return statistics.median(values)


def _added_ms(before: str, code: str) -> float:
    """Milliseconds of self time of the modules `code` imports after `before` ran."""
    loaded = _importtime(before)
    both = _importtime(f"{before}; {code}")
    return sum(own for name, (own, _) in both.items() if name not in loaded) / 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
    app = "import app.cli, app.app"
    tools = _median([_added_ms(app, "import app.tools") for _ in range(runs)])
    sdk = _median([_added_ms(f"{app}; import app.tools", "import app.tools.connection") for _ in range(runs)])
    alone = _median([_importtime("import app.tools.connection")["app.tools.connection"][1] / 1000 for _ in range(runs)])
    print(f"app.tools after the app:               {tools:6.1f} ms")
    print(f"MCP SDK (app.tools.connection), after: {sdk:6.1f} ms")
    print(f"MCP SDK in a bare interpreter:         {alone:6.1f} ms")
    parts = _importtime(f"{app}; import app.tools; import app.tools.connection")
    loaded = _importtime(f"{app}; import app.tools")
    tops = (
        "mcp",
        "mcp_types",
        "pydantic",
        "pydantic_core",
        "httpx2",
        "httpcore2",
        "anyio",
        "starlette",
        "uvicorn",
        "jsonschema",
        "sse_starlette",
        "opentelemetry",
    )
    for name in tops:
        if name in parts and name not in loaded:
            print(f"  {name:<15} {parts[name][1] / 1000:6.1f} ms cumulative")
    for thread in (False, True):
        stalls = [
            float(
                subprocess.run(
                    [sys.executable, "-c", _STALL.format(thread=thread)], capture_output=True, text=True, check=True
                ).stdout
            )
            for _ in range(runs)
        ]
        where = "in a worker thread" if thread else "on the event loop "
        print(f"longest loop stall, SDK imported {where}: {_median(stalls):6.1f} ms")


if __name__ == "__main__":
    main()
