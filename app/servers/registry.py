"""Servers: the servers one run talks to, `local` first, a client each.

`local` is the Ollama of --host / OLLAMA_HOST / host; the config file's `[servers.NAME]`
add the rest. With none configured there is only `local`, and model names never carry a
server: everything reads as it did with one server. Otherwise a model is named
`model@server` where it is not plain which server is meant (`split_model`, `Servers.name_of`).

`listings()` asks every server for its models at once and reports each as it answers, so a
slow or dead server never delays the others; each has its own timeout.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Iterator, Sequence
from dataclasses import dataclass

from app.client import OllamaClient, OllamaError
from app.host import split_credentials
from app.protocol import ModelInfo, same_model
from app.servers.base import ModelServer
from app.servers.capabilities import Capabilities
from app.servers.config import LOCAL, NAME, ServerConfig
from app.servers.openai import OpenAIClient
from app.servers.transport import Wording, sentence

LIST_TIMEOUT = 5.0  # seconds one server may take to list its models before it counts as not answering

_log = logging.getLogger(__name__)


class UnknownServer(LookupError):
    """`model@name` with a name no server has; the text lists the servers there are."""


class ServerTimeout(OllamaError):
    """A server that took longer than its timeout to answer."""

    def __init__(self, server: str, url: str, seconds: float) -> None:
        super().__init__(sentence(f"{server} at {url} did not answer within {seconds:g} s"))
        self.url = url


@dataclass(frozen=True, slots=True)
class Server:
    name: str
    kind: str  # "ollama" | "openai"
    client: ModelServer
    label: str  # how sentences name it: "Ollama", 'the server "cluster"'

    @property
    def capabilities(self) -> Capabilities:
        return self.client.capabilities

    @property
    def url(self) -> str:
        """Without credentials, safe to show."""
        return self.client.base_url


@dataclass(frozen=True, slots=True)
class Listing:
    """One server's answer to `listings()`: its models and version, or why there are none."""

    server: str
    models: tuple[ModelInfo, ...] = ()
    version: str = ""  # "" where the server has no way to tell
    error: OllamaError | None = None


def split_model(text: str) -> tuple[str, str | None]:
    """`qwen3:8b@gpu` -> ("qwen3:8b", "gpu"); a name without a server -> (name, None).

    Only a last `@` followed by a possible server name counts, so a name with another `@`
    in it (a digest, `model@sha256:…`) stays whole.
    """
    model, at, server = text.strip().rpartition("@")
    if at and model and NAME.fullmatch(server):
        return model, server
    return text.strip(), None


def join_model(model: str, server: str) -> str:
    """The inverse of `split_model`, for storing: a local model plain, any other `model@server`."""
    return model if server == LOCAL else f"{model}@{server}"


class Servers:
    """The servers of one run, by name, `local` first; `aclose()` closes them all."""

    def __init__(
        self,
        local_url: str,
        configs: Sequence[ServerConfig] = (),
        *,
        local_api_key: str | None = None,
        local_client: OllamaClient | None = None,
    ) -> None:
        """`local_client`, when given, is the client of `local` (one a caller made for its own
        transport); otherwise one is made for `local_url`, whose errors read as they always have."""
        local = local_client or OllamaClient(local_url, api_key=local_api_key)
        self._servers: dict[str, Server] = {LOCAL: Server(LOCAL, "ollama", local, "Ollama")}
        for config in configs:
            self._servers[config.name] = _server(config)
        self._secrets = secrets_of(local_url, local_api_key, configs)
        self._listed: dict[str, tuple[str, ...]] = {}  # model names each server last listed

    def __repr__(self) -> str:
        return f"Servers({', '.join(f'{s.name}={s.url}' for s in self)})"

    def __iter__(self) -> Iterator[Server]:
        return iter(self._servers.values())

    def __len__(self) -> int:
        return len(self._servers)

    def __getitem__(self, name: str) -> Server:
        server = self._servers.get(name)
        if server is None:
            raise self._unknown(name)
        return server

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._servers)

    @property
    def secrets(self) -> tuple[str, ...]:
        """API keys and URL passwords, for the debug log's mask."""
        return self._secrets

    def resolve(self, text: str) -> tuple[str, str | None]:
        """What `/model TEXT` or `--model TEXT` asks for: the model, and the server when it
        names one. Raises UnknownServer for a server that is not configured."""
        model, server = split_model(text)
        if server is not None and server not in self._servers:
            raise self._unknown(server)
        return model, server

    def locate(self, model: str) -> str | None:
        """The server that serves `model`, by the last listings: `local` first, then the
        others in the config file's order; None when none lists it."""
        return next((name for name in self._servers if self._lists(name, model)), None)

    def name_of(self, model: str, server: str) -> str:
        """How to show (or ask for) `model` of `server`: with `@server` unless it is local
        and no other server lists a model by that name, or `local` is the only server."""
        if len(self._servers) == 1:
            return model
        if server == LOCAL and not any(self._lists(name, model) for name in self._servers if name != LOCAL):
            return model
        return f"{model}@{server}"

    async def listings(self, timeout: float = LIST_TIMEOUT) -> AsyncGenerator[Listing, None]:
        """Every server's models, each as soon as it has answered (or failed, or taken more
        than `timeout` seconds). Leaving early cancels the rest: iterate inside
        `contextlib.aclosing()` so that happens at once."""
        tasks = [asyncio.create_task(self.listing(server.name, timeout)) for server in self]
        try:
            for answered in asyncio.as_completed(tasks):
                yield await answered
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def listing(self, name: str, timeout: float = LIST_TIMEOUT) -> Listing:
        """One server's models and version (or why there are none), within `timeout` seconds;
        what it lists is remembered for `locate()` and `name_of()`, and a server that fails is
        forgotten until it lists again. For a watcher that polls each server on its own."""
        listing = await self._listing(self[name], timeout)
        if listing.error is None:
            self._listed[listing.server] = tuple(model.name for model in listing.models)
        else:  # a server that cannot list serves nothing now
            self._listed.pop(listing.server, None)
        return listing

    async def aclose(self) -> None:
        await asyncio.gather(*(server.client.aclose() for server in self), return_exceptions=True)

    def _unknown(self, name: str) -> UnknownServer:
        return UnknownServer(f'No server is named "{name}"; the servers are: {", ".join(self.names)}.')

    def _lists(self, server: str, model: str) -> bool:
        return any(same_model(listed, model) for listed in self._listed.get(server, ()))

    async def _listing(self, server: Server, timeout: float) -> Listing:
        try:
            async with asyncio.timeout(timeout):
                models, version = await asyncio.gather(server.client.list_models(), server.client.version())
        except TimeoutError:
            error = ServerTimeout(server.label, server.url, timeout)
            _log.warning("%s: %s", server.name, error)
            return Listing(server.name, error=error)
        except OllamaError as error:
            return Listing(server.name, error=error)
        return Listing(server.name, tuple(models), version)


def _named_wording(name: str, kind: str) -> Wording:
    where = f"servers.{name}"
    if kind == "ollama":
        return Wording(
            f'the Ollama server "{name}"',
            f"Is it running, and is {where}.url in the config file right?",
            f"check {where}.api_key in the config file",
        )
    return Wording(
        f'the server "{name}"',
        f"Is it running, and is {where}.url in the config file right? These servers answer under /v1.",
        f"check {where}.api_key in the config file, and the variable it names",
    )


def _server(config: ServerConfig) -> Server:
    wording = _named_wording(config.name, config.kind)
    client: ModelServer
    if config.kind == "ollama":
        client = OllamaClient(config.url, api_key=config.api_key, wording=wording)
    else:
        client = OpenAIClient(config.url, api_key=config.api_key, wording=wording)
    return Server(config.name, config.kind, client, wording.server)


def secrets_of(local_url: str, local_api_key: str | None, configs: Sequence[ServerConfig]) -> tuple[str, ...]:
    """The keys, and the passwords of the URLs that have `user:password@`: what the debug log
    masks, known before any client is made."""
    found: list[str | None] = []
    for url, key in [(local_url, local_api_key), *((config.url, config.api_key) for config in configs)]:
        credentials = split_credentials(url)[1]
        found += [key, credentials[1] if credentials else None]
    return tuple(secret for secret in found if secret)
