"""Store writes on one background thread, in order, so the UI never waits on the disk."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

from app.store import Store, StoreError

T = TypeVar("T")


class StoreWriter:
    def __init__(self, store: Store, on_error: Callable[[StoreError], None]) -> None:
        self.store = store
        self._on_error = on_error
        # One thread: writes keep their order, so a late checkpoint never overwrites a final save.
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store-writer")

    async def run(self, write: Callable[..., T], *args: object) -> T:
        """Run a write and wait for it (e.g. the user's message, before the request goes out)."""
        return await asyncio.get_running_loop().run_in_executor(self._pool, write, *args)

    def submit(self, write: Callable[..., object], *args: object) -> None:
        """Queue a write and go on; a failure is reported through `on_error` on the caller's loop."""
        loop = asyncio.get_running_loop()

        def report(future: Future[object]) -> None:
            error = future.exception()
            if isinstance(error, StoreError) and not loop.is_closed():
                loop.call_soon_threadsafe(self._on_error, error)

        self._pool.submit(write, *args).add_done_callback(report)

    def close(self) -> None:
        """Finish every queued write."""
        self._pool.shutdown(wait=True)
