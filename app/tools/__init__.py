"""Tools: local models call functions of MCP servers, and the person approves each call.

No UI here, and importing the package is cheap: the MCP SDK is imported only when a server
starts, in a worker thread (see `servers.py`). The parts, in the order a chat uses them:

- `config`: the `[mcp_servers.NAME]` sections and the tool settings beside them.
- `servers`: `ToolServers` starts the servers in the background, lists their tools, calls them.
- `calls`: checks a model's call before it runs, and turns what comes back into a result.
- `policy`: per-conversation approvals and tools turned off, saved with the conversation.

`docs/tools.md` shows how the chat flow puts them together.
"""

from app.tools.calls import ContentPart, ToolInfo, ToolResult, denied, describe, failed, validate
from app.tools.config import ConfigError, ToolsConfig, ToolServerConfig, parse_tools_config
from app.tools.policy import ToolPolicy
from app.tools.servers import ServerState, ServerStatus, ToolServers

__all__ = [
    "ConfigError",
    "ContentPart",
    "ServerState",
    "ServerStatus",
    "ToolInfo",
    "ToolPolicy",
    "ToolResult",
    "ToolServerConfig",
    "ToolServers",
    "ToolsConfig",
    "denied",
    "describe",
    "failed",
    "parse_tools_config",
    "validate",
]
