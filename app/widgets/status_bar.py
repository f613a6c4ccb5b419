"""The status line: current model and its server, whether that server answers (its URL and
version), last speed, the tools ready."""

from __future__ import annotations

from textual.content import Content
from textual.reactive import reactive
from textual.widgets import Static

from app.text import sanitize


class StatusBar(Static):
    host: reactive[str] = reactive("")
    reachable: reactive[bool | None] = reactive(None)  # None: not known yet
    version: reactive[str] = reactive("")
    model: reactive[str] = reactive("")
    server: reactive[str] = reactive("")  # the model's server, where several are configured
    speed: reactive[str] = reactive("")
    notice: reactive[str] = reactive("")  # e.g. the store's degraded mode
    activity: reactive[str] = reactive("")  # e.g. a pull running in the background
    tools: reactive[str] = reactive("")  # "tools 7", or why there are none (app/screens/chat_tools.py)
    tools_warning: reactive[bool] = reactive(False)  # a server failed, or the model takes no tools

    def render(self) -> Content:
        # Most important first: a narrow terminal cuts the line from the right.
        parts: list[str | tuple[str, str]] = [(" ollama-tui ", "bold reverse"), ("  model ", "$text-muted")]
        parts.append((sanitize(self.model) or "none", "bold"))
        if self.server and self.model:
            parts.append((f"@{sanitize(self.server)}", "bold $accent"))
        if self.tools:  # beside the model: whether it takes tools is about the model
            parts.append((f"  {sanitize(self.tools)}", "$warning" if self.tools_warning else "$text-muted"))
        if self.reachable is None:
            parts.append(("  connecting…", "$text-muted"))
        elif self.reachable:
            parts.append(("  ● connected", "$success"))
        else:
            parts.append(("  ● unreachable", "$error"))
        parts.append(f"  {sanitize(self.host)}")
        if self.speed:
            parts.append((f"  {self.speed}", "$text-muted"))
        if self.reachable and self.version:
            parts.append((f"  Ollama {sanitize(self.version)}", "$text-muted"))
        if self.activity:
            parts.append((f"  {sanitize(self.activity)}", "$accent"))
        if self.notice:
            parts.append((f"  {sanitize(self.notice)}", "$warning"))
        return Content.assemble(*parts)
