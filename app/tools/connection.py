"""One MCP server through the official SDK's `Client`: the only module that imports the SDK.

`servers.py` imports it on first start, in a worker thread: the SDK takes about 0.4 s to import
and the app's first frame must not wait for it. A stdio server's stderr goes to a `StderrTail`
(never to the terminal the app draws on); an HTTP server gets its headers on every request and
its error statuses are noted, so a 401 reads as a 401 and not as "an error response". Every
failure leaves as `ConnectionFailed` with one line for people. The SDK's log records go to the
app's log (silent unless `--debug`), never to the root logger, which could print them.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import math
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any, TextIO
from urllib.parse import urlsplit

import anyio
import httpx2
import mcp_types
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from pydantic import ValidationError

from app import __version__
from app.host import split_credentials
from app.tools.calls import ContentPart, one_line
from app.tools.config import ResolvedServer

_SDK_LOGGERS = ("mcp", "mcp_types", "httpx2", "httpcore2")
_PAGES = 100  # tools/list pages read at most: a server whose cursor never ends cannot hang a start
_HTTP_TIMEOUT = httpx2.Timeout(30, read=300)  # the SDK's own defaults (a stream may idle)
_CLIENT_INFO = mcp_types.Implementation(name="ollama-tui", version=__version__)


class ConnectionFailed(Exception):
    """A server that cannot start or a call that broke, in one line. `lost`: the connection is
    gone (the server exited or closed it), so the server needs a new start."""

    def __init__(self, reason: str, lost: bool = False) -> None:
        super().__init__(reason)
        self.lost = lost


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """A tool as the server lists it."""

    name: str
    description: str
    input_schema: dict[str, Any]


@dataclass(frozen=True, slots=True)
class RawResult:
    parts: tuple[ContentPart, ...]
    is_error: bool
    structured: Any = None


class _Statuses:
    """The last error status an HTTP server answered, for the sentence about it."""

    def __init__(self) -> None:
        self.last: tuple[int, str] | None = None

    async def record(self, response: httpx2.Response) -> None:
        if response.status_code >= 400:
            self.last = (response.status_code, response.reason_phrase)


class Session:
    """A connected server. Calls may come from any task of the loop that connected it."""

    def __init__(self, client: Client, server: ResolvedServer, statuses: _Statuses) -> None:
        self._client = client
        self._server = server
        self._statuses = statuses

    async def list_tools(self) -> list[ToolSpec]:
        specs: list[ToolSpec] = []
        cursor: str | None = None
        try:
            for _ in range(_PAGES):
                page = await self._client.list_tools(cursor=cursor)
                specs.extend(
                    ToolSpec(tool.name, tool.description or "", dict(tool.input_schema)) for tool in page.tools
                )
                cursor = page.next_cursor
                if cursor is None:
                    break
        except MCPError as error:
            raise ConnectionFailed(f"the server did not list its tools ({self._refusal(error)})") from None
        return specs

    async def call(self, name: str, arguments: dict[str, Any], timeout: float) -> RawResult:
        """Run one tool. Raises ConnectionFailed; CancelledError passes (the SDK tells the
        server the call is abandoned)."""
        self._statuses.last = None
        try:
            result = await self._client.call_tool(name, arguments, read_timeout_seconds=timeout)
        except MCPError as error:
            if error.code == mcp_types.REQUEST_TIMEOUT:
                raise ConnectionFailed(f"the call timed out after {timeout:g} s") from None
            if error.code == mcp_types.CONNECTION_CLOSED:
                raise ConnectionFailed(f"{self._ended()} during the call", lost=True) from None
            raise ConnectionFailed(self._refusal(error)) from None
        except ValidationError:
            raise ConnectionFailed("the server sent a result this app cannot read") from None
        except (httpx2.HTTPError, OSError, anyio.BrokenResourceError, anyio.ClosedResourceError) as error:
            raise ConnectionFailed(_leaf_reason(error, self._server, self._statuses), lost=True) from None
        return RawResult(tuple(_part(block) for block in result.content), result.is_error, result.structured_content)

    def _ended(self) -> str:
        if self._server.config.kind == "http":
            return "the server closed the connection"
        return "the server exited"

    def _refusal(self, error: MCPError) -> str:
        status = self._statuses.last
        if status is not None:
            return _http_status(status)
        return f"the server refused the call ({error.code}: {one_line(error.error.message, 200)})"


async def serve(
    server: ResolvedServer,
    timeout: float,
    stderr: TextIO | None,
    ready: Callable[[Session, list[ToolSpec]], None],
    stop: asyncio.Event,
) -> None:
    """Start the server, list its tools and hand both to `ready`, all within `timeout`
    seconds; then keep it until `stop` is set (at any time, even mid-start), and stop it.
    Raises ConnectionFailed."""
    # One scope around the whole life, so that it closes after the client's task groups do;
    # the deadline covers the start only (the SDK's discovery probe alone may wait 10 s).
    # Stopping cancels the scope too: anyio's cancellation, which the SDK's shielded shutdown
    # of a stdio server survives, where cancelling the task could cut it short.
    with anyio.CancelScope(deadline=anyio.current_time() + timeout) as scope:
        watcher = asyncio.get_running_loop().create_task(_cancel_on(stop, scope))
        try:
            async with connect(server, timeout, stderr) as session:
                tools = await session.list_tools()
                scope.deadline = math.inf
                ready(session, tools)
                await anyio.sleep_forever()
        finally:
            watcher.cancel()
    if scope.cancelled_caught and not stop.is_set():
        raise ConnectionFailed(f"the server did not answer within {timeout:g} s")


async def _cancel_on(stop: asyncio.Event, scope: anyio.CancelScope) -> None:
    await stop.wait()
    scope.cancel()


@asynccontextmanager
async def connect(server: ResolvedServer, timeout: float, stderr: TextIO | None) -> AsyncIterator[Session]:
    """Start (stdio) or reach (HTTP) the server and do the MCP handshake within `timeout`
    seconds. Leaving the block stops it: stdin closed, then SIGTERM, then SIGKILL (the SDK)."""
    statuses = _Statuses()
    try:
        async with AsyncExitStack() as stack:
            # The handshake's requests time out like any request without a timeout of its own
            # (calls have theirs); a cancel scope around entering the client would have to
            # close before the client's task group does, which anyio forbids.
            transport = _transport(server, stack, statuses, stderr)
            client = Client(transport, read_timeout_seconds=timeout, client_info=_CLIENT_INFO)
            await stack.enter_async_context(client)
            yield Session(client, server, statuses)
    except ConnectionFailed:
        raise
    except Exception as error:
        raise ConnectionFailed(reason(error, server, statuses, timeout)) from None


def _transport(server: ResolvedServer, stack: AsyncExitStack, statuses: _Statuses, stderr: TextIO | None) -> Any:
    config = server.config
    if config.kind == "stdio":
        parameters = StdioServerParameters(command=config.command, args=list(config.args), env=dict(server.env))
        return stdio_client(parameters, errlog=stderr) if stderr is not None else stdio_client(parameters)
    http = httpx2.AsyncClient(
        headers=dict(server.headers),
        timeout=_HTTP_TIMEOUT,
        event_hooks={"response": [statuses.record]},
        trust_env=not _is_loopback(config.url),  # a proxy must not capture a local server
    )
    stack.push_async_callback(http.aclose)
    return streamable_http_client(config.url, http_client=http)


def reason(
    error: BaseException, server: ResolvedServer, statuses: _Statuses | None = None, timeout: float | None = None
) -> str:
    """Why a server could not start, in one line."""
    leaf = _leaf(error)
    if timeout is not None and isinstance(leaf, MCPError) and leaf.code == mcp_types.REQUEST_TIMEOUT:
        return f"the server did not answer within {timeout:g} s"
    return _leaf_reason(leaf, server, statuses or _Statuses())


def _leaf_reason(error: BaseException, server: ResolvedServer, statuses: _Statuses) -> str:
    config = server.config
    if isinstance(error, FileNotFoundError) and config.kind == "stdio":
        return f"the command {config.command!r} was not found; is it installed and on PATH?"
    if isinstance(error, PermissionError) and config.kind == "stdio":
        return f"the command {config.command!r} cannot be run (permission denied)"
    if isinstance(error, MCPError) and error.code == mcp_types.CONNECTION_CLOSED:
        return "the server exited at start" if config.kind == "stdio" else "the server closed the connection at start"
    if statuses.last is not None:
        return _http_status(statuses.last)
    if isinstance(error, httpx2.ConnectError):
        return f"cannot connect to {_shown_url(config.url)} (is the server running?)"
    if isinstance(error, httpx2.TimeoutException):
        return f"{_shown_url(config.url)} did not answer in time"
    if isinstance(error, httpx2.HTTPError):
        return f"the connection to {_shown_url(config.url)} failed ({type(error).__name__})"
    if isinstance(error, MCPError):
        return f"the server refused to start ({error.code}: {one_line(error.error.message, 200)})"
    if isinstance(error, OSError):
        return f"the server could not start ({error.strerror or error})"
    return f"the server could not start ({type(error).__name__}: {one_line(str(error), 200)})"


def _http_status(status: tuple[int, str]) -> str:
    code, phrase = status
    if code in (401, 403):
        return f"the server refused the credentials (HTTP {code} {phrase}); check the headers in its config"
    if code == 404:
        return f"nothing answers at that url (HTTP {code} {phrase})"
    if code >= 500:
        return f"the server failed (HTTP {code} {phrase})"
    return f"the server answered HTTP {code} {phrase}"


def _leaf(error: BaseException) -> BaseException:
    """The first real error inside the task groups' exception groups."""
    while isinstance(error, BaseExceptionGroup) and error.exceptions:
        error = error.exceptions[0]
    return error


def _part(block: object) -> ContentPart:
    if isinstance(block, mcp_types.TextContent):
        return ContentPart("text", block.text)
    if isinstance(block, mcp_types.ImageContent | mcp_types.AudioContent):
        return ContentPart(block.type, mime_type=block.mime_type, size=_decoded_size(block.data))
    if isinstance(block, mcp_types.EmbeddedResource):
        resource = block.resource
        uri = str(resource.uri)
        if isinstance(resource, mcp_types.TextResourceContents):
            return ContentPart("resource", resource.text, resource.mime_type or "", uri)
        return ContentPart("resource", mime_type=resource.mime_type or "", uri=uri, size=_decoded_size(resource.blob))
    if isinstance(block, mcp_types.ResourceLink):
        return ContentPart("resource_link", uri=str(block.uri), name=block.name)
    return ContentPart(str(getattr(block, "type", "unknown")))


def _decoded_size(base64: str) -> int:
    return len(base64.rstrip("=")) * 3 // 4


def _shown_url(url: str) -> str:
    """The url without credentials or query (either may hold a token)."""
    bare = split_credentials(url)[0]
    return bare.split("?", 1)[0]


def _is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _ToAppLog(logging.Handler):
    """Hands the SDK's records to the app's logger, whose handlers decide (a file, or nothing)."""

    def emit(self, record: logging.LogRecord) -> None:
        logging.getLogger("app.tools.sdk").handle(record)


def _route_logs() -> None:
    for name in _SDK_LOGGERS:
        logger = logging.getLogger(name)
        logger.propagate = False
        if not any(isinstance(handler, _ToAppLog) for handler in logger.handlers):
            logger.addHandler(_ToAppLog())


_route_logs()
