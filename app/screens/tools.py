"""/tools: every configured server (running, starting, failed and why, off) with its tools, each
with a checkbox that turns it on or off for this conversation.

Space (or Enter) toggles the highlighted line; `r` starts a failed or stopped server again; Esc
closes and keeps the changes. Turning a tool off also forgets an "always" given to it, so it is
asked about again when it comes back. The screen follows the servers while it is open.
"""

from __future__ import annotations

from dataclasses import replace
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Label, SelectionList, Static
from textual.widgets.selection_list import Selection

from app.text import sanitize
from app.tools.calls import ToolInfo, one_line
from app.tools.policy import ToolPolicy
from app.tools.servers import ServerState, ServerStatus, ToolServers

SERVER, TOOL = "server:", "tool:"  # the kinds of line, as the start of their values
_STATE_STYLES = {
    ServerState.RUNNING: "$success",
    ServerState.STARTING: "$text-muted",
    ServerState.FAILED: "$error",
    ServerState.OFF: "$text-muted",
}


def server_label(status: ServerStatus, policy: ToolPolicy) -> Content:
    parts: list[str | tuple[str, str]] = [(sanitize(status.name), "bold"), (f"  {status.kind}  ", "$text-muted")]
    if status.state is ServerState.RUNNING:
        count = len(status.tools)
        parts.append((f"running · {count} tool{'s' * (count != 1)}", _STATE_STYLES[status.state]))
    elif status.state is ServerState.FAILED:
        parts.append(("failed (why: above; r starts it again)", _STATE_STYLES[status.state]))
    elif status.state is ServerState.STARTING:
        parts.append(("starting…", _STATE_STYLES[status.state]))
    else:
        parts.append(("off (r starts it)", _STATE_STYLES[status.state]))
    if status.name in policy.disabled_servers:
        parts.insert(2, ("off in this conversation · ", "$warning"))
    return Content.assemble(*parts)


def tool_label(tool: ToolInfo, policy: ToolPolicy) -> Content:
    parts: list[str | tuple[str, str]] = [("    ", ""), (sanitize(tool.name), "bold")]
    description = one_line(tool.description.split("\n", 1)[0], 70) if tool.description else ""
    if description:
        parts.append((f"  {description}", "$text-muted"))
    if tool.auto_approve:
        parts.append(("  · runs unasked (auto_approve)", "$warning"))
    elif tool.qualified in policy.always:
        parts.append(("  · runs unasked here", "$warning"))
    return Content.assemble(*parts)


class ToolsScreen(ModalScreen[ToolPolicy]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close"),
        Binding("r", "restart", "Start again", tooltip="start the highlighted server again"),
    ]

    def __init__(self, servers: ToolServers, policy: ToolPolicy) -> None:
        super().__init__()
        self.servers = servers
        self.policy = policy

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog tools"):
            yield Label("Tools for this conversation", classes="dialog-title")
            yield Label(
                "Space turns a server or a tool on or off here · r starts a server again · Esc closes",
                classes="dialog-hint",
            )
            yield Static(id="tools-problems", classes="-hidden")
            yield SelectionList[str](id="tools-list")

    def on_mount(self) -> None:
        self.show_statuses()
        self.query_one(SelectionList).focus()

    def show_statuses(self) -> None:
        """Draw the lines again from the servers' statuses (also when one changes)."""
        listing = self.query_one("#tools-list", SelectionList)
        highlighted = listing.highlighted
        rows: list[Selection[str]] = []
        for status in self.servers.statuses():
            rows.append(
                Selection(
                    server_label(status, self.policy),
                    SERVER + status.name,
                    status.name not in self.policy.disabled_servers,
                )
            )
            rows += [
                Selection(
                    tool_label(tool, self.policy),
                    TOOL + tool.qualified,
                    tool.qualified not in self.policy.disabled_tools,
                )
                for tool in status.tools
            ]
        failed = [status for status in self.servers.statuses() if status.state is ServerState.FAILED]
        problems = self.query_one("#tools-problems", Static)
        problems.set_class(not failed, "-hidden")
        problems.update(Content("\n".join(f"{sanitize(s.name)}: {one_line(s.reason, 500)}" for s in failed)))
        listing.clear_options()
        listing.add_options(rows)
        if rows:
            listing.highlighted = min(highlighted or 0, len(rows) - 1)

    @on(SelectionList.SelectionToggled)
    def _toggled(self, event: SelectionList.SelectionToggled[str]) -> None:
        value = event.selection.value
        on = value in event.selection_list.selected
        if value.startswith(SERVER):
            self.policy = self.policy.with_server(value.removeprefix(SERVER), on)
        else:
            name = value.removeprefix(TOOL)
            self.policy = self.policy.with_tool(name, on)
            if not on:
                self.policy = replace(self.policy, always=self.policy.always - {name})
        self.show_statuses()

    def action_restart(self) -> None:
        listing = self.query_one("#tools-list", SelectionList)
        if listing.highlighted is None:
            return
        value = listing.get_option_at_index(listing.highlighted).value
        name = value.removeprefix(SERVER) if value.startswith(SERVER) else None
        if name is None:  # a tool's line: its server
            name = next((s.name for s in self.servers.statuses() for t in s.tools if TOOL + t.qualified == value), None)
        if name is not None:
            self.servers.set_server_enabled(name, True)
            self.show_statuses()

    def action_close(self) -> None:
        self.dismiss(self.policy)
