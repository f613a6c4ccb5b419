"""The server watcher: keeps the model list and the server's reachability current, and keeps
trying while the server is down."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from app.client import OllamaClient, OllamaError, OllamaUnreachable
from app.config import HEALTH_SECONDS, RECONNECT_SECONDS
from app.messages import ServerStatus

UNREACHABLE_HINT = (
    "Cannot reach Ollama at {host}. Start it with: ollama serve — or point OLLAMA_HOST or "
    "--host at a running server. Trying again every few seconds…"
)


async def watch_server(client: OllamaClient, report: Callable[[ServerStatus], object], wake: asyncio.Event) -> None:
    """Report the server's state every HEALTH_SECONDS (every RECONNECT_SECONDS while it cannot
    be reached), and at once when `wake` is set. Runs until cancelled."""
    while True:
        try:
            # Both at once: the model list does not wait for a round trip to the version.
            models, version = await asyncio.gather(client.list_models(), client.version())
            report(ServerStatus(True, version, tuple(models)))
            wait = HEALTH_SECONDS
        except OllamaError as error:
            # Not running is the usual case: say how to fix it. Otherwise (an untrusted
            # certificate, a proxy's error page) the client's own sentence says what is wrong.
            plain = isinstance(error, OllamaUnreachable) and error.tls_problem is None
            report(ServerStatus(False, error=UNREACHABLE_HINT.format(host=client.base_url) if plain else str(error)))
            wait = RECONNECT_SECONDS
        wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), wait)
