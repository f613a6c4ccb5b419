"""The chat screen's tools: the MCP servers of the config file, started in the background with
the screen; what the status line says of them; the tools a request offers; and the calls a
reply asks for, shown in the conversation, asked about, run and saved as they happen, after
which the reply goes on with their results (app/tools/rounds.py runs the calls).

A part of `ChatScreen` (app/screens/chat.py), built on the replies part, whose flow calls
`tools_for_reply()` before each request and `reply_called_tools()` after a reply that asked.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from textual import events, on, work
from textual.css.query import DOMQuery
from textual.message import Message

from app import debug_log
from app.config import Settings
from app.conversation import Turn
from app.messages import ServerStatus as ServerWatch
from app.protocol import ToolCall, ToolDefinition
from app.screens.chat_replies import RepliesPart
from app.tools import display, rounds
from app.tools.calls import ToolInfo
from app.tools.config import MCP_SERVERS_KEY, ToolsConfig
from app.tools.policy import ToolPolicy
from app.tools.servers import ServerState, ServerStatus, ToolServers
from app.widgets.conversation_view import ConversationView
from app.widgets.prompt_input import PromptInput
from app.widgets.status_bar import StatusBar
from app.widgets.tool_question import ToolQuestion


@dataclass
class ToolServerChanged(Message):
    """A server moved: starting, running with its tools, failed, off."""

    status: ServerStatus


@dataclass
class ToolCallsDone(Message):
    """Every call of `reply` has its result: the reply goes on."""

    reply: Turn


class ToolsPart(RepliesPart):
    settings: Settings

    def setup_tools(self) -> None:
        """The servers of the config file, not started yet (the screen starts them once mounted)."""
        config = self.settings.config.section(MCP_SERVERS_KEY, ToolsConfig) if self.settings.config else None
        self.tools_config = config or ToolsConfig()
        self.tool_servers = ToolServers(
            self.tools_config.servers,
            timeout=self.tools_config.tool_timeout,
            on_change=self._tool_server_moved,
        )
        self.tools_reply: Turn | None = None  # the reply whose calls are being asked about or run
        self._answer: asyncio.Future[rounds.Answer] | None = None

    @property
    def tools_busy(self) -> bool:
        return self.tools_reply is not None

    def on_mount(self) -> None:
        self.tool_servers.start()  # each server in its own task: nothing waits for them
        self.show_tools()

    @on(events.Unmount)
    async def _stop_tool_servers(self) -> None:
        await self.tool_servers.aclose()

    def _tool_server_moved(self, status: ServerStatus) -> None:
        self.post_message(ToolServerChanged(status))  # on the loop, but maybe while the screen is busy

    # -- what the status line says ------------------------------------------------------

    def show_tools(self) -> None:
        model = self.current.model
        offered = len(self.tool_servers.tools(self.current.tool_policy))
        takes_tools = not self.catalog.lacks(self.current.address, "tools")
        text, warning = display.status_line(self.tool_servers.statuses(), offered, model, takes_tools)
        bar = self.query_one(StatusBar)
        bar.tools, bar.tools_warning = text, warning

    def show_context(self) -> None:
        # Called whenever the model, its details or the open conversation change: so do the tools.
        super().show_context()
        self.show_tools()

    def select_model(self, name: str, announce: bool = True) -> None:
        super().select_model(name, announce)
        self.show_tools()

    @on(ServerWatch)
    def _server_seen(self, event: ServerWatch) -> None:
        # Whether the model takes tools is in its details, which only choosing a model fetches:
        # one named on the command line, or by a reopened conversation, needs them too.
        current = self.current
        seen = event.state
        if (
            seen.reachable
            and seen.name == current.server
            and current.model
            and current.address not in self.catalog.details
        ):
            self.fetch_details(current.model, current.server)

    @on(ToolServerChanged)
    def _server_changed(self, event: ToolServerChanged) -> None:
        status = event.status
        if status.state is ServerState.RUNNING:
            debug_log.add_secrets(self.tool_servers.secrets())
        elif status.state is ServerState.FAILED:
            self.notify(f"{status.name}: {status.reason}", title="Tool server failed", severity="warning", timeout=10)
        self.show_tools()
        from app.screens.tools import ToolsScreen

        if isinstance(self.app.screen, ToolsScreen):
            self.app.screen.show_statuses()

    # -- this conversation's settings ---------------------------------------------------

    def set_tool_policy(self, policy: ToolPolicy | None) -> None:
        """Keep the conversation's tool settings, and save them with it."""
        if policy is None or policy == self.current.tool_policy:
            return
        self.current.set_tool_policy(policy)
        if (info := self.current.info) is not None:
            self.writer.submit(self.store.set_tool_settings, info.id, info.tool_settings)
        self.show_tools()

    # -- the reply flow -----------------------------------------------------------------

    def tools_for_reply(self) -> tuple[tuple[ToolDefinition, ...], str]:
        if not self.tools_config.servers or self.catalog.lacks(self.current.address, "tools"):
            return (), ""
        definitions = self.tool_servers.definitions(self.current.tool_policy)
        limit = self.tools_config.max_tool_rounds
        if definitions and rounds.rounds_so_far(self.current.turns) >= limit:
            return (
                (),
                f"Tools were not offered for this reply: {limit} rounds of tool calls were reached (max_tool_rounds).",
            )
        return definitions, ""

    def reply_called_tools(self, reply: Turn) -> None:
        limit = self.tools_config.max_tool_rounds
        if rounds.rounds_so_far(self.current.turns) <= limit:
            self.run_tool_calls(reply)
            return
        problem = f"not run: this message reached the limit of {limit} rounds of tool calls"
        reports = _CallReports(self, reply, self.current.id)
        for turn in rounds.refuse_all(reply.tool_calls, problem):
            reports.call_shown(turn)
            reports.call_done(turn)
        self.notify(
            f"Stopped after {limit} rounds of tool calls (max_tool_rounds in the config file).",
            severity="warning",
            timeout=10,
        )

    @work(group="chat")
    async def run_tool_calls(self, reply: Turn) -> None:
        """Cancelling this worker (the "chat" group) is Stop, as for a streaming reply."""
        self.tools_reply = reply
        try:
            await rounds.run_calls(reply.tool_calls, self.tool_servers, _CallReports(self, reply, self.current.id))
        finally:
            self.tools_reply = None
        self.post_message(ToolCallsDone(reply))

    @on(ToolCallsDone)
    def _calls_done(self, event: ToolCallsDone) -> None:
        if self.current.holds(event.reply) and self.current.model and not self.reply_arriving:
            self.start_reply(None)

    async def ask_about(self, call: ToolCall, tool: ToolInfo) -> rounds.Answer:
        question = self.query_one(ToolQuestion)
        self._answer = asyncio.get_running_loop().create_future()
        question.ask(call.name, self.tool_servers.status(tool.server).kind)
        try:
            return await self._answer
        finally:
            self._answer = None
            question.done()
            for prompt in self.query(PromptInput):  # none while the app closes
                prompt.focus()

    @on(ToolQuestion.Answered)
    def _answered(self, event: ToolQuestion.Answered) -> None:
        if self._answer is not None and not self._answer.done():
            self._answer.set_result(event.answer)

    @property
    def reply_arriving(self) -> bool:
        raise NotImplementedError  # ChatScreen's: a reply streaming, or its calls running


@dataclass(frozen=True, slots=True)
class _CallReports:
    """What the calls of one reply report: shown in its conversation while it is open, saved
    with it in any case."""

    screen: ToolsPart
    reply: Turn
    conversation_id: int | None

    @property
    def policy(self) -> ToolPolicy:
        return self.screen.current.tool_policy

    def set_policy(self, policy: ToolPolicy) -> None:
        if self.screen.current.holds(self.reply):
            self.screen.set_tool_policy(policy)

    def call_shown(self, turn: Turn) -> None:
        if self.screen.current.holds(self.reply):
            self.screen.current.turns.append(turn)
            for view in self._view():
                view.add_turn(turn)

    def call_changed(self, turn: Turn) -> None:
        for view in self._view():
            view.update_turn(turn)

    def call_done(self, turn: Turn) -> None:
        if self.conversation_id is not None:
            self.screen.writer.submit(self.screen.store.add_turn, self.conversation_id, turn)
        self.call_changed(turn)

    def _view(self) -> DOMQuery[ConversationView]:
        """The conversation view, unless the app is closing (a Stop then still saves)."""
        return self.screen.query(ConversationView)

    async def ask(self, call: ToolCall, tool: ToolInfo) -> rounds.Answer:
        return await self.screen.ask_about(call, tool)
