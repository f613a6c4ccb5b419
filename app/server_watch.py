"""The server watcher: keeps each server's models and state current, and keeps trying the ones
that are down. Each server is polled on its own, so a slow or dead one never holds back the
others' reports. No widgets: it reports `ServerState`s to a callback.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from app.client import OllamaError, OllamaUnreachable, Unauthorized
from app.config import HEALTH_SECONDS, RECONNECT_SECONDS
from app.model_catalog import ServerState
from app.servers.base import NoModels
from app.servers.config import LOCAL
from app.servers.registry import LIST_TIMEOUT, Listing, Servers, ServerTimeout

UNREACHABLE_HINT = (
    "Cannot reach Ollama at {host}. Start it with: ollama serve — or point OLLAMA_HOST or "
    "--host at a running server. Trying again every few seconds…"
)


async def watch_servers(
    servers: Servers,
    report: Callable[[ServerState], object],
    wake: asyncio.Event,
    timeout: float = LIST_TIMEOUT,
) -> None:
    """Report each server's state every HEALTH_SECONDS (every RECONNECT_SECONDS while it
    fails), and at once when `wake` is set. Runs until cancelled."""
    async with asyncio.TaskGroup() as group:
        for name in servers.names:
            group.create_task(_watch(servers, name, report, wake, timeout))


async def _watch(
    servers: Servers, name: str, report: Callable[[ServerState], object], wake: asyncio.Event, timeout: float
) -> None:
    while True:
        listing = await servers.listing(name, timeout)
        report(state_of(listing, servers[name].url))
        # A refused key does not fix itself: no need to knock every few seconds.
        retry = listing.error is None or isinstance(listing.error, Unauthorized)
        wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), HEALTH_SECONDS if retry else RECONNECT_SECONDS)


def state_of(listing: Listing, url: str) -> ServerState:
    """What to show of one server's answer: its models, or the problem in a few words and the
    sentence that explains it."""
    error = listing.error
    if error is None:
        return ServerState(listing.server, True, listing.version, listing.models)
    if isinstance(error, NoModels):  # it answered: there is just nothing to choose
        return ServerState(listing.server, True, problem="no models", error=str(error))
    return ServerState(listing.server, False, problem=_problem(error), error=_sentence(listing.server, error, url))


def _problem(error: OllamaError) -> str:
    if isinstance(error, OllamaUnreachable):
        return "untrusted" if error.tls_problem else "unreachable"
    if isinstance(error, ServerTimeout):
        return "not answering"
    if isinstance(error, Unauthorized):
        return "key refused"
    return "error"


def _sentence(server: str, error: OllamaError, url: str) -> str:
    # The local Ollama not running is the usual case: say how to start it. Otherwise (a
    # configured server, an untrusted certificate, a proxy's error page) the client's own
    # sentence says what is wrong, and names the config key to check.
    plain = isinstance(error, OllamaUnreachable) and error.tls_problem is None
    return UNREACHABLE_HINT.format(host=url) if plain and server == LOCAL else str(error)
