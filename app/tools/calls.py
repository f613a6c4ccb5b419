"""A model's tool call, from checking it to the result it gets back. No SDK, no UI.

`validate()` finds what is wrong with a call before anything runs: an unknown tool, arguments
that are not an object or not JSON, arguments that break the tool's input schema (checked with
jsonschema, which the MCP SDK already depends on; imported on first use). Results are text:
content parts are joined, images, audio and binary resources are described in a line, the whole
is sanitised (no escape sequence can reach the terminal, and none is stored) and kept up to
`STORED_RESULT_BYTES`. The model is sent at most `MODEL_RESULT_BYTES` of it (see
app.conversation), in the first request and whenever the conversation is reopened.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from app.conversation import ToolStatus, Turn
from app.protocol import JSON, ToolCall, ToolDefinition
from app.text import cut_bytes, sanitize

STORED_RESULT_BYTES = 1_000_000
STORED_RESULT_NOTE = "\n\n[The result was longer than 1 MB; the rest was not kept.]"
DENIED_TEXT = "The person declined to run this tool call."
_LINE = 300  # characters of a one-line problem or summary
_LISTED_TOOLS = 20  # names an "unknown tool" answer lists for the model


@dataclass(frozen=True, slots=True)
class ToolInfo:
    """A tool of a running server, under the name the model sees."""

    server: str
    name: str  # the server's own name for it
    qualified: str  # unique across servers: "{server}__{name}"
    description: str = ""
    input_schema: JSON = field(default_factory=dict)
    auto_approve: bool = False  # listed in the server's `auto_approve`

    def definition(self) -> ToolDefinition:
        schema = self.input_schema or {"type": "object", "properties": {}}
        return ToolDefinition(self.qualified, self.description, schema)


@dataclass(frozen=True, slots=True)
class ContentPart:
    """One block of an MCP tool result, as plain data."""

    kind: str  # "text" | "image" | "audio" | "resource" | "resource_link"
    text: str = ""  # text, or a text resource's contents
    mime_type: str = ""
    uri: str = ""
    name: str = ""
    size: int = 0  # bytes of binary data


@dataclass(frozen=True, slots=True)
class ToolResult:
    """How one call ended, ready to show, store and send back."""

    call: ToolCall
    status: ToolStatus
    text: str  # what the model gets (from `Turn.to_chat_message`) and the person sees; sanitised
    problem: str = ""  # one sanitised line for the person when the status is not OK
    duration: float | None = None  # seconds it ran; None when it never started

    def turn(self) -> Turn:
        """The `tool` turn to store and to send in the next request."""
        return Turn(
            "tool",
            self.text,
            error=self.problem,
            tool_name=self.call.name,
            tool_call_id=self.call.id,
            tool_status=self.status,
            duration=self.duration,
        )


def validate(call: ToolCall, tool: ToolInfo | None, available: Iterable[str] = ()) -> str:
    """Why `call` cannot run ("" when it can). Written for the model, which gets it as the
    result and may try again; `available` are the tool names to suggest."""
    if call.problem and not call.name:
        return "the call names no tool."
    if tool is None:
        names = sorted(available)
        listed = ", ".join(names[:_LISTED_TOOLS]) + (", …" if len(names) > _LISTED_TOOLS else "")
        known = f" The tools are: {listed}." if names else " No tools are available."
        return f"there is no tool named {_name(call.name)}.{known}"
    if call.problem:
        return f"the call to {_name(call.name)} cannot be used: {call.problem}."
    return _schema_problem(tool.input_schema, call.arguments)


def failed(call: ToolCall, problem: str, duration: float | None = None) -> ToolResult:
    """A call that could not run (or broke while running): the model is told why."""
    line = one_line(problem)
    return ToolResult(call, ToolStatus.FAILED, f"Error: {line}", line, duration)


def denied(call: ToolCall) -> ToolResult:
    return ToolResult(call, ToolStatus.DENIED, DENIED_TEXT, "Declined.")


def from_parts(
    call: ToolCall,
    parts: Sequence[ContentPart],
    *,
    is_error: bool,
    duration: float,
    structured: Any = None,
) -> ToolResult:
    """The result of a call that ran; `is_error` is the tool's own verdict (MCP `isError`)."""
    text = result_text(parts, structured)
    if not is_error:
        return ToolResult(call, ToolStatus.OK, text, duration=duration)
    problem = one_line(text) or "The tool reported an error without saying why."
    return ToolResult(call, ToolStatus.ERROR, f"Tool error: {text}", problem, duration)


def result_text(parts: Sequence[ContentPart], structured: Any = None) -> str:
    """Content parts as one text: sanitised, safe to store, cut at STORED_RESULT_BYTES."""
    pieces = [_part_text(part) for part in parts]
    if not pieces and structured is not None:  # older servers may send only structured content
        pieces.append(json.dumps(structured, ensure_ascii=False))
    return _clean("\n".join(pieces))


def describe(call: ToolCall, limit: int = _LINE) -> str:
    """The call in one sanitised line, for the person deciding whether to run it."""
    if call.problem and call.arguments_text is not None:
        arguments = call.arguments_text
    else:
        arguments = json.dumps(call.arguments, ensure_ascii=False)
    return one_line(f"{call.name}({arguments})", limit)


def one_line(text: str, limit: int = _LINE) -> str:
    line = " ".join(sanitize(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _part_text(part: ContentPart) -> str:
    if part.kind == "text":
        return part.text
    if part.kind in ("image", "audio"):
        return f"[{part.kind}: {part.mime_type or 'unknown type'}, {_size(part.size)}]"
    if part.kind == "resource_link":
        return f"[resource link: {part.name or part.uri} ({part.uri})]" if part.name else f"[resource link: {part.uri}]"
    if part.kind == "resource":
        if part.text:
            return f"[resource: {part.uri}]\n{part.text}"
        return f"[resource: {part.uri}, {part.mime_type or 'binary'}, {_size(part.size)}]"
    return f"[{part.kind} content]"


def _size(size: int) -> str:
    if size < 1000:
        return f"{size} bytes"
    if size < 1_000_000:
        return f"{size / 1000:.1f} KB"
    return f"{size / 1_000_000:.1f} MB"


def _clean(text: str) -> str:
    # A lone surrogate (JSON allows "\ud800") cannot be stored in SQLite or written as UTF-8.
    text = text.encode("utf-8", "replace").decode("utf-8")
    return cut_bytes(sanitize(text), STORED_RESULT_BYTES, STORED_RESULT_NOTE)


def _name(name: str) -> str:
    return json.dumps(one_line(name, 80), ensure_ascii=False)


def _schema_problem(schema: JSON, arguments: JSON) -> str:
    if not schema:
        return ""
    from jsonschema import exceptions, validators

    checker = validators.validator_for(schema)
    try:
        checker.check_schema(schema)
    except exceptions.SchemaError:
        return ""  # the server's schema is broken: leave the judgement to the server
    error = exceptions.best_match(checker(schema).iter_errors(arguments))
    if error is None:
        return ""
    where = "/".join(str(step) for step in error.absolute_path)
    at = f" at {json.dumps(where)}" if where else ""
    return f"the arguments do not fit the tool's input schema{at}: {one_line(error.message, 200)}."
