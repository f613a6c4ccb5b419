"""When the app shows a frame, and what was true when it did.

`App._display` is where a compositor update goes to the terminal; headless (`run_test`) it
still receives every update, already composed, and skips encoding it to escape sequences and
writing it. Wrapping it gives
the moment each frame was ready to be written: the end of the app's work for that screen. A
condition checked there (a reply finished, a key's character in the input) was true of the
state that frame was rendered from.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from textual.app import App


class FrameClock:
    """`keep=True` also keeps every update, for `screen_mirror.ScreenMirror`; wrap the app
    before it runs to have its first frame too."""

    def __init__(self, app: App[Any], keep: bool = False) -> None:
        self.times: list[float] = []
        self.updates: list[Any] = []
        self._keep = keep
        self._waiting: list[tuple[Callable[[], object], asyncio.Future[float]]] = []
        display = app._display

        def timed_display(screen: Any, renderable: Any) -> None:
            display(screen, renderable)
            if renderable is None:
                return
            now = time.perf_counter()
            if self._keep:
                self.updates.append(renderable)
            self.times.append(now)
            for entry in list(self._waiting):
                condition, future = entry
                if condition():
                    self._waiting.remove(entry)
                    if not future.done():
                        future.set_result(now)

        app._display = timed_display  # type: ignore[method-assign]  # deliberate patch: Textual has no frame hook

    def first_frame_where(self, condition: Callable[[], object]) -> asyncio.Future[float]:
        """A future: the time of the first frame from now on shown while `condition()` held."""
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._waiting.append((condition, future))
        return future

    async def wait(self, future: asyncio.Future[float], timeout: float = 60.0) -> float:
        return await asyncio.wait_for(future, timeout)
