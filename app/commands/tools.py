"""/tools: the tool servers and their tools, turned on or off for this conversation.

`/tools` alone opens the list (app/screens/tools.py); `/tools off NAME` and `/tools on NAME`
switch a server, or one tool (by its full name, `files__read`, or its own when only one server
has it), without it.
"""

from __future__ import annotations

from app.commands.chat import Chat
from app.text import sanitize

USAGE = "Usage: /tools, or /tools on NAME, /tools off NAME (a server or a tool)."


def tools(chat: Chat, argument: str) -> None:
    servers = chat.tool_servers
    if not servers.statuses():
        chat.notify(
            "No tool servers are configured. Add an [mcp_servers.NAME] section to the config file "
            "(`ollama-tui config path` says where it is).",
            severity="warning",
        )
        return
    if not argument:
        from app.screens.tools import ToolsScreen

        chat.show_dialog(ToolsScreen(servers, chat.current.tool_policy), chat.set_tool_policy)
        return
    switch, _, name = argument.partition(" ")
    name = name.strip()
    if switch.lower() not in ("on", "off") or not name:
        chat.notify(USAGE, severity="warning")
        return
    on = switch.lower() == "on"
    policy = chat.current.tool_policy
    word = "on" if on else "off"
    if any(status.name == name for status in servers.statuses()):
        chat.set_tool_policy(policy.with_server(name, on))
        chat.notify(f"Tool server {name} is {word} in this conversation.")
        return
    tool = next((tool for status in servers.statuses() for tool in status.tools if tool.qualified == name), None)
    if tool is None:
        named = [tool for status in servers.statuses() for tool in status.tools if tool.name == name]
        tool = named[0] if len(named) == 1 else None
    if tool is None:
        chat.notify(f"No server or tool is called {sanitize(name)!r}; /tools lists them.", severity="warning")
        return
    chat.set_tool_policy(policy.with_tool(tool.qualified, on))
    chat.notify(f"Tool {tool.qualified} is {word} in this conversation.")
