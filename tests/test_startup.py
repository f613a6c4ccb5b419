"""Start-up: what waits until it is needed, and what is off until the app is ready.

How fast the app starts is measured by `python -m benchmarks --only 6`, never asserted here.
"""

from __future__ import annotations

import gc
import subprocess
import sys
from collections.abc import Callable

from conftest import SIZE, wait_until

from app.app import OllamaTui

MakeTui = Callable[..., OllamaTui]


def test_markdown_loads_with_the_first_message_not_at_start() -> None:
    code = (
        "import sys, app.cli, app.app;"
        "print(sorted({'markdown_it', 'pygments', 'rich.markdown', 'rich.syntax'} & set(sys.modules)))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


async def test_garbage_collection_is_back_on_once_ready(make_tui: MakeTui) -> None:
    gc.collect()  # nothing of earlier tests gets frozen with this app's start-up
    gc.disable()  # as `cli.main` starts the app
    try:
        async with make_tui().run_test(size=SIZE) as pilot:
            await wait_until(pilot, gc.isenabled)
    finally:
        gc.enable()
