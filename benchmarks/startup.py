"""Item 6: from starting the process to a usable chat, against importing Textual.

The app starts as a person starts it, `python -m app`, in a pseudo-terminal (120x40) against
the fake server in its own process, with a data folder that already holds a store. It is ready
when its terminal output shows the last model of the list (`llava:7b`) and the input's
placeholder: the model list is filled in from the server, and the input is drawn. One run
also types a letter right after that and waits for it to appear in the input, proving the
input had the focus. The baselines are `python -c "import textual"` and `import textual.app`,
start to exit. Runs alternate; a first round warms the file cache and is not counted.

The floor: `benchmarks/minimal_app.py`, the least a Textual chat screen can be (an option list,
a focused text area, a footer; it fetches and reads nothing), started the same way in the same
pseudo-terminal, until its first frame shows the list's last line and the text area's
placeholder. What it takes is Textual's share of the start; the rest of the app's time is ours.

Our package's bytecode is compiled first, as an install compiles it (Textual's already is):
where writing it at import is switched off, every start would otherwise compile `app/` again.
"""

from __future__ import annotations

import compileall
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from app.store import Store
from benchmarks.fake_server import ROOT, ServerProcess
from benchmarks.minimal_app import MARKER, PLACEHOLDER
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
            try:
                app.wait_for("Z", since=mark, timeout=10)
            except TimeoutError:  # the key went to something that does not show it
                focused = False
    return ready, focused


def _minimal() -> float:
    with TerminalProcess([sys.executable, "-m", "benchmarks.minimal_app"]) as app:
        return app.wait_for(MARKER, PLACEHOLDER, timeout=60) - app.started


def measure(server: ServerProcess, runs: int) -> ItemResult:
    # Bytecode, as an install compiles it and Textual's already is: where writing it at import
    # is off (PYTHONDONTWRITEBYTECODE), every start would compile `app/` again.
    compileall.compile_dir(ROOT / "app", quiet=1)
    compileall.compile_dir(ROOT / "benchmarks", quiet=1)
    textual_times: list[float] = []
    textual_app_times: list[float] = []
    app_times: list[float] = []
    minimal_times: list[float] = []
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder)
        Store.open(data).close()  # as after a first start
        focused = True
        for run in range(runs + 1):
            seconds, focus_ok = _app(server, data, check_focus=run == 0)
            focused &= focus_ok
            minimal = _minimal()
            baseline = _python("import textual")
            with_app = _python("import textual.app")
            if run:
                app_times.append(seconds)
                minimal_times.append(minimal)
                textual_times.append(baseline)
                textual_app_times.append(with_app)
    ready, baseline, with_app = median(app_times), median(textual_times), median(textual_app_times)
    floor = median(minimal_times)
    ratio = ready / baseline
    return ItemResult(
        "6",
        "Startup",
        figures=[
            Figure(
                "6",
                "start to input focused, models shown",
                ready,
                f"{ready * 1000:.0f} ms",
                f"{baseline * 1000:.0f} ms `import textual`",
                ratio,
                f"< {TARGET:.0f}x",
                ratio < TARGET,
            ),
            Figure(
                "6",
                "the same, against `import textual.app`",
                ready,
                f"{ready * 1000:.0f} ms",
                f"{with_app * 1000:.0f} ms `import textual.app`",
                ready / with_app,
            ),
            Figure(
                "6",
                "a minimal Textual app, start to first frame",
                floor,
                f"{floor * 1000:.0f} ms",
                f"{baseline * 1000:.0f} ms `import textual`",
                floor / baseline,
            ),
            Figure(
                "6",
                "the app against that minimal Textual app",
                ready,
                f"{ready * 1000:.0f} ms",
                f"{floor * 1000:.0f} ms minimal Textual app",
                ready / floor,
            ),
        ],
        checks={"the app started with models shown and the input focused": focused},
        notes=[
            *prose(__doc__),
            f"Median of {runs} runs. App: {', '.join(f'{t * 1000:.0f}' for t in app_times)} ms. "
            f"Minimal Textual app: {', '.join(f'{t * 1000:.0f}' for t in minimal_times)} ms. "
            f"`import textual`: {', '.join(f'{t * 1000:.0f}' for t in textual_times)} ms. "
            f"`import textual.app` (for reference): "
            f"{', '.join(f'{t * 1000:.0f}' for t in textual_app_times)} ms.",
        ],
        data={
            "app": app_times,
            "minimal_app": minimal_times,
            "import_textual": textual_times,
            "import_textual_app": textual_app_times,
        },
    )
