"""Per-conversation tool settings: which calls run unasked, and which tools are turned off.

Nothing runs without the person's yes, unless the server's config lists the tool in
`auto_approve` or the person answered "always" for it in this conversation. A conversation can
also turn servers and tools off; the model is then not offered them. The settings are saved
with the conversation as the JSON text `to_json()` gives (the store keeps it as it is).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, replace

from app.tools.calls import ToolInfo


@dataclass(frozen=True, slots=True)
class ToolPolicy:
    """Tool names are the names the model sees (`ToolInfo.qualified`)."""

    always: frozenset[str] = frozenset()  # approved for the whole conversation
    disabled_servers: frozenset[str] = frozenset()
    disabled_tools: frozenset[str] = frozenset()

    def allows(self, tool: ToolInfo) -> bool:
        """Whether the model may be offered `tool` in this conversation."""
        return tool.server not in self.disabled_servers and tool.qualified not in self.disabled_tools

    def needs_approval(self, tool: ToolInfo) -> bool:
        """Whether the person must say yes before this call runs."""
        return not tool.auto_approve and tool.qualified not in self.always

    def approve_always(self, tool: ToolInfo) -> ToolPolicy:
        """The person said "always" for `tool`: its next calls in this conversation run unasked."""
        return replace(self, always=self.always | {tool.qualified})

    def with_server(self, server: str, enabled: bool) -> ToolPolicy:
        return replace(self, disabled_servers=_switched(self.disabled_servers, server, enabled))

    def with_tool(self, tool: str, enabled: bool) -> ToolPolicy:
        return replace(self, disabled_tools=_switched(self.disabled_tools, tool, enabled))

    def to_json(self) -> str:
        """The stored form: "" when nothing is set, else compact JSON with sorted keys and names."""
        fields = {
            "always": self.always,
            "disabled_servers": self.disabled_servers,
            "disabled_tools": self.disabled_tools,
        }
        body = {key: sorted(names) for key, names in fields.items() if names}
        return json.dumps(body, sort_keys=True, separators=(",", ":")) if body else ""

    @classmethod
    def from_json(cls, text: str) -> ToolPolicy:
        """Settings saved by `to_json()`. Anything unreadable (an older or hand-edited database)
        is dropped, which errs on the side of asking."""
        try:
            body = json.loads(text) if text else {}
        except (ValueError, RecursionError):
            return cls()
        if not isinstance(body, dict):
            return cls()
        return cls(
            always=_names(body.get("always")),
            disabled_servers=_names(body.get("disabled_servers")),
            disabled_tools=_names(body.get("disabled_tools")),
        )


def _switched(names: frozenset[str], name: str, enabled: bool) -> frozenset[str]:
    return names - {name} if enabled else names | {name}


def _names(value: object) -> frozenset[str]:
    items: Iterable[object] = value if isinstance(value, list) else ()
    return frozenset(item for item in items if isinstance(item, str))
