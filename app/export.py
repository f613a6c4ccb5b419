"""Conversation transcripts: Markdown to read, JSON to keep or move to another machine.

The JSON `messages` list has Ollama's shape (role, content, optional images and thinking; a
reply's `tool_calls`; a tool result's `tool_name` and `tool_call_id`), so it can be sent to
`/api/chat` as it is; each message also carries `model`, `state`, `created_at`, and `server` /
`error` / `stats` / `tool_status` / `duration` when set, which Ollama ignores. A call whose arguments
arrived as a JSON string keeps that string. `from_json` also reads a bare Ollama `messages` list
or `{"messages": [...]}`.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app import __version__
from app.conversation import ConversationInfo, ToolStatus, Turn, TurnState
from app.protocol import ChatMessage, ChatStats, ToolCall
from app.text import sanitize

FORMAT = "ollama-tui-conversation"
FORMAT_VERSION = 1
ROLES = ("assistant", "system", "tool", "user")

_TOOL_NOTES = {
    ToolStatus.ERROR: "The tool reported an error",
    ToolStatus.FAILED: "The call failed",
    ToolStatus.DENIED: "Not run: declined",
}
_STATE_NOTES = {
    TurnState.STREAMING: "Still being written when exported",
    TurnState.STOPPED: "Stopped before the end",
    TurnState.INTERRUPTED: "Interrupted",
    TurnState.ERROR: "Failed",
}
# JSON escapes C0 controls itself; C1 controls (8-bit CSI and friends) it leaves raw.
_C1_CONTROL = re.compile(r"[\x7f-\x9f]")


def export_text(info: ConversationInfo, turns: list[Turn], format: str) -> str:
    """The transcript in `format`: "md" or "json"."""
    return to_json(info, turns) if format == "json" else to_markdown(info, turns)


def free_path(folder: Path, info: ConversationInfo, format: str) -> Path:
    """A file name for an export that does not exist yet: `peru-capital-12.md`, `-12-2.md`, …"""
    slug = re.sub(r"[^a-z0-9]+", "-", sanitize(info.title).lower()).strip("-")[:40] or "conversation"
    stem = f"{slug}-{info.id}"
    candidate = folder / f"{stem}.{format}"
    number = 2
    while candidate.exists():
        candidate, number = folder / f"{stem}-{number}.{format}", number + 1
    return candidate


def write_export(path: Path, text: str, force: bool = False) -> None:
    """Write a new file; an existing one is refused (FileExistsError) unless `force`.

    Mode "x" refuses atomically, so a file that appears meanwhile is not overwritten either.
    """
    with path.open("w" if force else "x", encoding="utf-8") as file:
        file.write(text)


# Markdown


def to_markdown(info: ConversationInfo, turns: list[Turn]) -> str:
    """A readable transcript; message text stays Markdown, stripped of terminal controls."""
    details = [f"{len(turns)} messages"]
    if info.model:
        details.append(f"model {sanitize(info.model)}")
    details.append(f"created {_local_time(info.created_at)}")
    details.append(f"updated {_local_time(info.updated_at)}")
    parts = [f"# {sanitize(info.title) or 'Untitled conversation'}", f"*{' · '.join(details)}*"]
    if info.system:
        parts.append(f"**System prompt**\n\n{_quote(sanitize(info.system))}")
    parts.extend(_markdown_turn(turn, info.model) for turn in turns)
    return "\n\n".join(parts) + "\n"


def _markdown_turn(turn: Turn, default_model: str) -> str:
    parts = [f"### {_speaker(turn, default_model)}"]
    if turn.thinking:
        parts.append(f"> **Thinking**\n>\n{_quote(sanitize(turn.thinking))}")
    if turn.role == "tool":
        parts.append(_fenced(sanitize(turn.content)))
    elif turn.content:
        parts.append(sanitize(turn.content))
    parts.extend(f"*Calls* `{_call_text(call)}`" for call in turn.tool_calls)
    tool_note = _TOOL_NOTES.get(turn.tool_status) if turn.tool_status else None
    if tool_note:
        parts.append(f"> *{tool_note}{': ' + sanitize(turn.error) if turn.error else '.'}*")
        return "\n\n".join(parts)
    if turn.images:
        count = len(turn.images)
        parts.append(f"*[{count} image{'s' if count > 1 else ''} attached]*")
    note = _STATE_NOTES.get(turn.state)
    if note:
        parts.append(f"> *{note}{': ' + sanitize(turn.error) if turn.error else '.'}*")
    return "\n\n".join(parts)


def _speaker(turn: Turn, default_model: str) -> str:
    if turn.role == "user":
        return "You"
    if turn.role == "assistant":
        model = sanitize(turn.model or default_model)
        if model and turn.server:
            model = f"{model}@{sanitize(turn.server)}"
        return f"{model} (assistant)" if model else "Assistant"
    if turn.role == "tool":
        return f"Tool result: {sanitize(turn.tool_name)}" if turn.tool_name else "Tool result"
    return turn.role.capitalize()


def _call_text(call: ToolCall) -> str:
    arguments = call.arguments_text
    if arguments is None or not call.problem:
        arguments = json.dumps(call.arguments, ensure_ascii=False)
    return " ".join(sanitize(f"{call.name}({arguments})").replace("`", "'").split())


def _fenced(text: str) -> str:
    """`text` as a code block, fenced by more backticks than any run inside it."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}\n{text}\n{fence}"


def _quote(text: str) -> str:
    return "\n".join(f"> {line}" if line else ">" for line in text.splitlines())


def _local_time(timestamp: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(timestamp)) if timestamp else "unknown"


# JSON out


def to_json(info: ConversationInfo, turns: list[Turn]) -> str:
    document = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "app_version": __version__,
        "title": info.title,
        "created_at": _iso_time(info.created_at),
        "updated_at": _iso_time(info.updated_at),
        "model": info.model,
        "system": info.system,
        "options": dict(info.options),
        "tool_settings": _tool_settings(info.tool_settings),
        "messages": [_message_json(turn) for turn in turns],
    }
    text = json.dumps(document, ensure_ascii=False, indent=2)
    # Keep the file safe to `cat`: escape what a terminal could take as a control sequence.
    return _C1_CONTROL.sub(lambda match: f"\\u{ord(match.group()):04x}", text) + "\n"


def _tool_settings(text: str) -> Any:
    try:
        return json.loads(text) if text else None
    except (ValueError, RecursionError):
        return None


def _message_json(turn: Turn) -> dict[str, Any]:
    message = ChatMessage(
        turn.role,
        turn.content,
        turn.images,
        turn.thinking,
        tool_name=turn.tool_name,
        tool_call_id=turn.tool_call_id,
    )
    body = message.to_json()
    if turn.tool_calls:
        body["tool_calls"] = [call.to_stored() for call in turn.tool_calls]
    body.update(model=turn.model, state=turn.state.value, created_at=_iso_time(turn.created_at))
    if turn.server:
        body["server"] = turn.server
    if turn.tool_status:
        body["tool_status"] = turn.tool_status.value
    if turn.duration is not None:
        body["duration"] = turn.duration
    if turn.error:
        body["error"] = turn.error
    if turn.stats:
        stats = asdict(turn.stats)
        body["stats"] = {key: value for key, value in stats.items() if value is not None}
    return body


def _iso_time(timestamp: float) -> str | None:
    if not timestamp:
        return None
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="microseconds")


# JSON in


def from_json(text: str) -> tuple[ConversationInfo, list[Turn]]:
    """Read a conversation exported by `to_json`, or a plain Ollama `messages` list.

    Raises ValueError with a sentence naming what is wrong and where. The returned info has
    id 0; a leading system message becomes the system prompt when no other is given.
    """
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(
            f"The file is not valid JSON ({error.msg} at line {error.lineno}, column {error.colno})."
        ) from None
    meta, messages = _split_document(document)
    turns = [_turn_from_json(message, f"Message {number}") for number, message in enumerate(messages, start=1)]
    where = "The conversation"
    system = _field(meta, "system", str, where, "")
    if "system" not in meta and turns and turns[0].role == "system":
        system = turns.pop(0).content
    model = _field(meta, "model", str, where, "") or next((turn.model for turn in reversed(turns) if turn.model), "")
    info = ConversationInfo(
        id=0,
        title=_field(meta, "title", str, where, ""),
        created_at=_time(meta, "created_at", where),
        updated_at=_time(meta, "updated_at", where),
        model=model,
        system=system,
        options=tuple(_field(meta, "options", dict, where, {}).items()),
        message_count=len(turns),
        tool_settings=_settings_text(_field(meta, "tool_settings", dict, where, None)),
    )
    return info, turns


def _settings_text(settings: dict[str, Any] | None) -> str:
    """The stored form of exported tool settings (as `ToolPolicy.to_json()` writes it)."""
    return "" if settings is None else json.dumps(settings, sort_keys=True, separators=(",", ":"))


def _split_document(document: Any) -> tuple[dict[str, Any], list[Any]]:
    if isinstance(document, list):
        return {}, document
    if not isinstance(document, dict) or "messages" not in document:
        raise ValueError('Expected a conversation: an object with a "messages" list, or a list of messages.')
    if document.get("format", FORMAT) != FORMAT:
        raise ValueError(f"This is not an ollama-tui conversation (format {document['format']!r}).")
    version = document.get("format_version", FORMAT_VERSION)
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ValueError(f"This file was written by a newer version of ollama-tui (format version {version!r}).")
    messages = document["messages"]
    if not isinstance(messages, list):
        raise ValueError('"messages" must be a list.')
    return document, messages


def _turn_from_json(message: Any, where: str) -> Turn:
    if not isinstance(message, dict):
        raise ValueError(f'{where} must be an object with "role" and "content".')
    role = message.get("role")
    if role not in ROLES:
        raise ValueError(f'{where}: "role" must be one of {", ".join(ROLES)}, not {role!r}.')
    images = _field(message, "images", list, where, [])
    if not all(isinstance(image, str) for image in images):
        raise ValueError(f'{where}: "images" must be a list of base64 strings.')
    state = _field(message, "state", str, where, TurnState.COMPLETE.value)
    try:
        state = TurnState(state)
    except ValueError:
        raise ValueError(f'{where}: unknown "state" {state!r}.') from None
    stats = _field(message, "stats", dict, where, None)
    calls = _field(message, "tool_calls", list, where, [])
    if not all(isinstance(call, dict) for call in calls):
        raise ValueError(f'{where}: "tool_calls" must be a list of objects.')
    status = _field(message, "tool_status", str, where, None)
    try:
        tool_status = None if status is None else ToolStatus(status)
    except ValueError:
        raise ValueError(f'{where}: unknown "tool_status" {status!r}.') from None
    duration = message.get("duration")
    if duration is not None and (
        not isinstance(duration, int | float) or isinstance(duration, bool) or not 0 <= duration < _YEAR_10000
    ):
        raise ValueError(f'{where}: "duration" must be a number of seconds.')
    return Turn(
        role=role,
        content=_field(message, "content", str, where, ""),
        model=_field(message, "model", str, where, ""),
        server=_field(message, "server", str, where, ""),
        state=state,
        error=_field(message, "error", str, where, ""),
        thinking=_field(message, "thinking", str, where, ""),
        stats=None if stats is None else ChatStats.from_json(stats),
        images=tuple(images),
        created_at=_time(message, "created_at", where),
        tool_calls=tuple(ToolCall.from_json(call) for call in calls),
        tool_name=_field(message, "tool_name", str, where, ""),
        tool_call_id=_field(message, "tool_call_id", str, where, ""),
        tool_status=tool_status,
        duration=None if duration is None else float(duration),
    )


_KIND_NAMES: dict[type, str] = {str: "a string", list: "a list", dict: "an object"}


def _field(body: dict[str, Any], key: str, kind: type, where: str, default: Any) -> Any:
    value = body.get(key)
    if value is None:
        return default
    if not isinstance(value, kind):
        raise ValueError(f'{where}: "{key}" must be {_KIND_NAMES[kind]}.')
    return value


def _time(body: dict[str, Any], key: str, where: str) -> float:
    """Seconds since the epoch from an ISO 8601 string (naive means UTC) or a number."""
    value = body.get(key)
    if value is None:
        return 0.0
    problem = ValueError(f'{where}: "{key}" is not a date and time ({value!r}).')
    if isinstance(value, int | float) and not isinstance(value, bool):
        if not 0 <= value < _YEAR_10000:  # NaN too: a time the clock functions could not show
            raise problem
        return float(value)
    try:
        moment = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise problem from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


_YEAR_10000 = 253_402_300_800  # seconds since the epoch
