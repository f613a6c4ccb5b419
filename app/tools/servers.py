"""ToolServers: every configured MCP server, started in the background, and their tools.

Use it from the app's event loop: `start()` returns at once; each server then starts on its own
(the SDK itself is imported then, in a worker thread) and moves from STARTING to RUNNING with
its tools, or to FAILED with a one-line reason. `on_change` hears each move. Tools are offered
to the model as `{server}__{tool}`, unique across servers; `find()` maps a name back. `call()`
runs one tool with the timeout and never raises (but CancelledError): every failure is a
`ToolResult` that says what happened. `aclose()` stops every server and waits for it to go.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from time import monotonic
from typing import TYPE_CHECKING

from app.protocol import ToolCall, ToolDefinition
from app.tools.calls import ToolInfo, ToolResult, failed, from_parts, validate
from app.tools.config import (
    DEFAULT_TOOL_TIMEOUT,
    SEPARATOR,
    ConfigError,
    ResolvedServer,
    ToolServerConfig,
    resolve,
)
from app.tools.policy import ToolPolicy
from app.tools.stderr import StderrTail

if TYPE_CHECKING:
    from app.tools import connection

_log = logging.getLogger(__name__)
START_TIMEOUT = 60.0  # seconds for a server to start and list its tools (uvx may download first)
_STOP_SECONDS = 10.0  # the SDK's stop is bounded (stdin closed, 2 s, SIGTERM, 2 s, SIGKILL)


class ServerState(StrEnum):
    OFF = "off"  # disabled in the config, turned off, or stopped
    STARTING = "starting"
    RUNNING = "running"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class ServerStatus:
    name: str
    kind: str  # "stdio" | "http"
    state: ServerState
    tools: tuple[ToolInfo, ...] = ()  # while RUNNING
    reason: str = ""  # while FAILED: one line for people


class _Run:
    """One start of a server, until it stops. A run that is winding down never touches the
    status once a new run has begun."""

    def __init__(self) -> None:
        self.task: asyncio.Task[None] | None = None
        self.stop = asyncio.Event()
        self.session: connection.Session | None = None
        self.stderr: StderrTail | None = None  # a stdio server's last words
        self.lost = ""  # why a running server stopped answering


class _Slot:
    """One configured server: its status and its current run."""

    def __init__(self, config: ToolServerConfig) -> None:
        self.config = config
        self.status = ServerStatus(config.name, config.kind, ServerState.OFF)
        self.run = _Run()
        self.runs: set[asyncio.Task[None]] = set()  # every run not yet over, for aclose()
        self.settled = asyncio.Event()  # set while not STARTING
        self.settled.set()


class ToolServers:
    def __init__(
        self,
        configs: Sequence[ToolServerConfig],
        *,
        timeout: float = DEFAULT_TOOL_TIMEOUT,
        start_timeout: float = START_TIMEOUT,
        environ: Mapping[str, str] | None = None,
        on_change: Callable[[ServerStatus], None] | None = None,
    ) -> None:
        self.timeout = timeout
        self._start_timeout = start_timeout
        self._environ = environ if environ is not None else os.environ
        self._on_change = on_change
        self._slots = {config.name: _Slot(config) for config in configs}
        self._disabled_tools: set[str] = set()
        self._secrets: set[str] = set()
        self._sdk: asyncio.Task[None] | None = None
        self._closed = False

    # Lifecycle

    def start(self) -> None:
        """Start every enabled server in the background; call it on the running loop."""
        for slot in self._slots.values():
            if slot.config.enabled:
                self._launch(slot)

    async def wait_started(self) -> None:
        """Until no server is STARTING (each is RUNNING, FAILED or OFF)."""
        await asyncio.gather(*(slot.settled.wait() for slot in self._slots.values()))

    def set_server_enabled(self, name: str, enabled: bool) -> None:
        """Start a server that is off or failed (a retry), or stop a running one."""
        slot = self._slots[name]
        if enabled and slot.status.state in (ServerState.OFF, ServerState.FAILED):
            self._launch(slot)
        elif not enabled:
            slot.run.stop.set()
            if slot.status.state is not ServerState.STARTING:
                self._set(slot, ServerState.OFF)

    def set_tool_enabled(self, qualified: str, enabled: bool) -> None:
        """Offer a tool to the model again, or stop offering it, in every conversation."""
        (self._disabled_tools.discard if enabled else self._disabled_tools.add)(qualified)

    async def aclose(self) -> None:
        """Stop every server and wait for each to go (bounded; a stuck one is cancelled)."""
        self._closed = True
        for slot in self._slots.values():
            slot.run.stop.set()
        tasks = [task for slot in self._slots.values() for task in slot.runs]
        if self._sdk is not None and not self._sdk.done():
            tasks.append(self._sdk)
        if not tasks:
            return
        _, pending = await asyncio.wait(tasks, timeout=_STOP_SECONDS)
        for task in pending:
            task.cancel()
        for task in pending:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # What there is

    def statuses(self) -> tuple[ServerStatus, ...]:
        return tuple(slot.status for slot in self._slots.values())

    def status(self, name: str) -> ServerStatus:
        return self._slots[name].status

    def tools(self, policy: ToolPolicy | None = None) -> tuple[ToolInfo, ...]:
        """The tools the model may be offered: of running servers, on here and in `policy`."""
        policy = policy or ToolPolicy()
        return tuple(
            tool
            for slot in self._slots.values()
            if slot.status.state is ServerState.RUNNING
            for tool in slot.status.tools
            if tool.qualified not in self._disabled_tools and policy.allows(tool)
        )

    def definitions(self, policy: ToolPolicy | None = None) -> tuple[ToolDefinition, ...]:
        """`tools()` as the `tools` of a chat request."""
        return tuple(tool.definition() for tool in self.tools(policy))

    def find(self, name: str, policy: ToolPolicy | None = None) -> ToolInfo | None:
        """The tool the model means by `name`: its full name, or a tool's own name when only
        one server has it (small models drop the prefix)."""
        tools = self.tools(policy)
        exact = next((tool for tool in tools if tool.qualified == name), None)
        if exact is not None:
            return exact
        bare = [tool for tool in tools if tool.name == name]
        return bare[0] if len(bare) == 1 else None

    def check(self, call: ToolCall, policy: ToolPolicy | None = None) -> tuple[ToolInfo | None, str]:
        """The tool `call` means and "" when it can run, else (maybe None and) why not."""
        tool = self.find(call.name, policy)
        problem = validate(call, tool, (known.qualified for known in self.tools(policy)))
        return (tool, problem) if tool is not None else (None, problem)

    def secrets(self) -> tuple[str, ...]:
        """Expanded env and header values of servers started so far, for the log to mask."""
        return tuple(sorted(self._secrets))

    # Calls

    async def call(self, tool: ToolInfo, call: ToolCall) -> ToolResult:
        """Run `call` on `tool`'s server. Validate and approve it first."""
        slot = self._slots.get(tool.server)
        run = slot.run if slot is not None else None
        session = run.session if run is not None else None
        if slot is None or run is None or session is None or slot.status.state is not ServerState.RUNNING:
            state = slot.status if slot is not None else None
            why = f": {state.reason}" if state is not None and state.reason else ""
            return failed(call, f"the server {tool.server!r} is not running{why}")
        from app.tools.connection import ConnectionFailed  # loaded: the session exists

        started = monotonic()
        said_before = run.stderr.count if run.stderr is not None else 0
        try:
            raw = await session.call(tool.name, call.arguments, self.timeout)
        except ConnectionFailed as error:
            duration = monotonic() - started
            reason = str(error)
            if error.lost:
                reason = await self._lose(slot, run, reason, said_before)
            return failed(call, reason, duration)
        except Exception as error:  # a fault in the SDK must not end the conversation
            _log.warning("Tool %s failed unexpectedly", tool.qualified, exc_info=True)
            return failed(call, f"the call failed ({type(error).__name__})", monotonic() - started)
        return from_parts(
            call, raw.parts, is_error=raw.is_error, duration=monotonic() - started, structured=raw.structured
        )

    # Running one server

    def _launch(self, slot: _Slot) -> None:
        if self._closed or slot.status.state in (ServerState.STARTING, ServerState.RUNNING):
            return
        previous, run = slot.run, _Run()
        previous.stop.set()
        slot.run = run
        self._set(slot, ServerState.STARTING)
        run.task = asyncio.get_running_loop().create_task(
            self._serve(slot, run, previous), name=f"mcp:{slot.config.name}"
        )
        slot.runs.add(run.task)
        run.task.add_done_callback(slot.runs.discard)

    async def _serve(self, slot: _Slot, run: _Run, previous: _Run) -> None:
        if previous.task is not None:  # a stdio server that exited is still being cleaned up
            await asyncio.wait([previous.task])
        try:
            resolved = resolve(slot.config, self._environ)
        except ConfigError as error:
            return self._set(slot, ServerState.FAILED, reason=str(error))
        self._secrets.update(resolved.secrets)
        stderr = run.stderr = StderrTail() if slot.config.kind == "stdio" else None
        name = slot.config.name

        def ready(session: connection.Session, tools: list[connection.ToolSpec]) -> None:
            if stderr is not None:
                stderr.spawned()
            if run.stop.is_set():  # turned off (or closed) while it started
                return
            run.session = session
            self._set(slot, ServerState.RUNNING, tools=_infos(slot.config, tools))
            _log.info("MCP server %s running with %d tools", name, len(tools))

        try:
            await self._load_sdk()
            from app.tools.connection import serve

            await serve(resolved, self._start_timeout, stderr.writer if stderr else None, ready, run.stop)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            reason = await self._reason(error, resolved, stderr)
            _log.warning("MCP server %s failed: %s", name, reason)
            if slot.run is run:
                self._set(slot, ServerState.FAILED, reason=reason)
            return None
        finally:
            run.session = None
            if stderr is not None:
                stderr.spawned()
        return self._ended(slot, run)

    def _ended(self, slot: _Slot, run: _Run) -> None:
        if slot.run is not run:
            return
        if run.lost:
            self._set(slot, ServerState.FAILED, reason=run.lost)
        elif slot.status.state is not ServerState.FAILED:
            self._set(slot, ServerState.OFF)

    async def _reason(self, error: Exception, resolved: ResolvedServer, stderr: StderrTail | None) -> str:
        try:
            from app.tools.connection import ConnectionFailed, reason
        except Exception as broken:  # a broken install: the first import failed the same way
            return f"the MCP SDK cannot be loaded ({type(broken).__name__}: {broken})"
        text = str(error) if isinstance(error, ConnectionFailed) else reason(error, resolved)
        if stderr is not None:
            await asyncio.to_thread(stderr.settle)
            said = stderr.last_line()
            if said:
                text = f"{text}: {said}"
        return text

    async def _lose(self, slot: _Slot, run: _Run, reason: str, said_before: int) -> str:
        """A running server stopped answering: it is FAILED until started again. Returns the
        reason, with what the server said on stderr meanwhile, if anything."""
        if run.stop.is_set():  # it was being stopped: that is why
            return "the server was stopped during the call"
        if run.stderr is not None:
            await asyncio.to_thread(run.stderr.settle)
            said = run.stderr.last_line(since=said_before)
            reason = f"{reason}: {said}" if said else reason
        run.lost = reason
        run.stop.set()
        if slot.run is run:
            self._set(slot, ServerState.FAILED, reason=reason)
        return reason

    async def _load_sdk(self) -> None:
        """Import the SDK once, in a worker thread, while the loop goes on drawing."""
        if self._sdk is None:
            self._sdk = asyncio.get_running_loop().create_task(asyncio.to_thread(_import_sdk))
        await asyncio.shield(self._sdk)

    def _set(self, slot: _Slot, state: ServerState, *, tools: tuple[ToolInfo, ...] = (), reason: str = "") -> None:
        status = replace(slot.status, state=state, tools=tools, reason=reason)
        if status == slot.status:
            return
        slot.status = status
        (slot.settled.clear if state is ServerState.STARTING else slot.settled.set)()
        if self._on_change is not None:
            self._on_change(status)


def _import_sdk() -> None:
    import app.tools.connection  # noqa: F401  # the import is the work


def _infos(config: ToolServerConfig, specs: Iterable[connection.ToolSpec]) -> tuple[ToolInfo, ...]:
    infos: list[ToolInfo] = []
    taken: set[str] = set()
    for spec in specs:
        qualified = f"{config.name}{SEPARATOR}{spec.name}"
        if qualified in taken:  # a server listing one name twice: the first one wins
            continue
        taken.add(qualified)
        infos.append(
            ToolInfo(
                server=config.name,
                name=spec.name,
                qualified=qualified,
                description=spec.description,
                input_schema=spec.input_schema,
                auto_approve=spec.name in config.auto_approve,
            )
        )
    return tuple(infos)
