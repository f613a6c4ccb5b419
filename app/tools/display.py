"""A tool call and its result in words, for the person: who is called, with what, how it went.

Pure text, no UI: the conversation view draws it (app/widgets/tool_lines.py), the approval
question asks with it. What comes from the model (names, arguments) or a server (results) is
sanitised here, and drawn as plain text by the callers.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from app.conversation import ToolStatus, Turn
from app.protocol import ToolCall
from app.text import human_size, sanitize
from app.tools.calls import one_line
from app.tools.config import SEPARATOR
from app.tools.servers import ServerState, ServerStatus

ASKING = "asking"  # `Turn.activity` of a tool turn while the person is asked
RUNNING = "running"  # ... while its call runs
STOPPED = "Stopped."  # the problem of a call that Esc ended
_STATUS_WORDS = {
    ToolStatus.OK: "done",
    ToolStatus.ERROR: "error",
    ToolStatus.FAILED: "failed",
    ToolStatus.DENIED: "denied",
}
_VALUE = 60  # characters of one argument value in a summary


def title(name: str) -> str:
    """`files__read_file` → `files › read_file`: the server, then its tool."""
    server, separator, tool = sanitize(name).partition(SEPARATOR)
    return f"{server} › {tool}" if separator and server and tool else sanitize(name) or "(no name)"


def summary(call: ToolCall | None, limit: int = 200) -> str:
    """The arguments in one line: `path="a.md", lines=3`."""
    if call is None:
        return ""
    if call.arguments_text is not None and call.problem:
        return one_line(call.arguments_text, limit)
    parts = []
    for key, value in call.arguments.items():
        shown = json.dumps(value, ensure_ascii=False)
        if len(shown) > _VALUE:
            shown = shown[: _VALUE - 1] + "…"
        parts.append(f"{key}={shown}")
    return one_line(", ".join(parts), limit)


def arguments(call: ToolCall) -> str:
    """The arguments as formatted JSON (as the model wrote them when they are not an object)."""
    if call.arguments_text is not None and call.problem:
        return sanitize(call.arguments_text)
    return sanitize(json.dumps(call.arguments, ensure_ascii=False, indent=2))


def status(turn: Turn) -> str:
    """asking, running, done, error, failed or denied."""
    if turn.tool_status is not None:
        return _STATUS_WORDS[turn.tool_status]
    return turn.activity


def reason(turn: Turn) -> str:
    """Why a call did not give a result ("" when it did, or when the person just said no)."""
    if turn.tool_status in (None, ToolStatus.OK) or turn.error == "Declined.":
        return ""
    return one_line(turn.error)


def duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 1:
        return f"{max(1, round(seconds * 1000))} ms"
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s"


def size(text: str) -> str:
    return human_size(len(text.encode("utf-8", "replace")))


def status_line(statuses: Sequence[ServerStatus], offered: int, model: str, takes_tools: bool) -> tuple[str, bool]:
    """What the status line says of tools (nothing when no server is configured), and whether
    it is a warning: `tools 7`, `tools 7 · 1 failed`, `tools off: llama3.2 has no tool support`."""
    if not statuses:
        return "", False
    if not takes_tools and model:
        return f"tools off: {sanitize(model.removesuffix(':latest'))} has no tool support", True
    failed = sum(status.state is ServerState.FAILED for status in statuses)
    starting = sum(status.state is ServerState.STARTING for status in statuses)
    parts = [f"tools {offered}"]
    if starting:
        parts.append("starting…")
    if failed:
        parts.append(f"{failed} failed (/tools)")
    return " · ".join(parts), bool(failed)
