"""Item 6: from starting the process to a usable chat, against importing Textual.

The app starts as a person starts it, `python -m app`, in a pseudo-terminal (120x40) against
the fake server in its own process, with a data folder that already holds a store. It is ready
when its terminal output shows the last model of the list (`llava:7b`) and the input's
placeholder: the model list is filled in from the server, and the input is drawn. One run
also types a letter right after that and waits for it to appear in the input, proving the
input had the focus. The baselines are `python -c "import textual"` and `import textual.app`,
start to exit. Runs alternate; a first round warms the file cache and is not counted.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from app.store import Store
from benchmarks.fake_server import ROOT, ServerProcess
from benchmarks.report import Figure, ItemResult, prose
from benchmarks.stats import median
from benchmarks.terminal import TerminalProcess, app_argv

READY = ("llava:7b", "end a message (/help")
TARGET = 2.0


def _python(code: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def _app(server: ServerProcess, data: Path, check_focus: bool) -> tuple[float, bool]:
    with TerminalProcess(app_argv(server.url, data)) as app:
        ready = app.wait_for(*READY, timeout=60) - app.started
        focused = True
        if check_focus:
            mark = app.mark()
            app.write(b"Z")
            app.wait_for("Z", since=mark, timeout=10)  # raises if the key went elsewhere
    return ready, focused


def measure(server: ServerProcess, runs: int) -> ItemResult:
    textual_times: list[float] = []
    textual_app_times: list[float] = []
    app_times: list[float] = []
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder)
        Store.open(data).close()  # as after a first start
        focused = True
        for run in range(runs + 1):
            seconds, focus_ok = _app(server, data, check_focus=run == 0)
            focused &= focus_ok
            baseline = _python("import textual")
            with_app = _python("import textual.app")
            if run:
                app_times.append(seconds)
                textual_times.append(baseline)
                textual_app_times.append(with_app)
    ready, baseline, with_app = median(app_times), median(textual_times), median(textual_app_times)
    ratio = ready / baseline
    return ItemResult(
        "6",
        "Startup",
        figures=[
            Figure(
                "6", "start to input focused, models shown", ready, f"{ready * 1000:.0f} ms",
                f"{baseline * 1000:.0f} ms `import textual`", ratio, f"< {TARGET:.0f}x",
                ratio < TARGET,
            ),
            Figure(
                "6", "the same, against `import textual.app`", ready, f"{ready * 1000:.0f} ms",
                f"{with_app * 1000:.0f} ms `import textual.app`", ready / with_app,
            ),
        ],
        checks={"the app started with models shown and the input focused": focused},
        notes=[
            *prose(__doc__),
            f"Median of {runs} runs. App: {', '.join(f'{t * 1000:.0f}' for t in app_times)} ms. "
            f"`import textual`: {', '.join(f'{t * 1000:.0f}' for t in textual_times)} ms. "
            f"`import textual.app` (for reference): "
            f"{', '.join(f'{t * 1000:.0f}' for t in textual_app_times)} ms.",
        ],
        data={
            "app": app_times,
            "import_textual": textual_times,
            "import_textual_app": textual_app_times,
        },
    )
