"""Ollama's wire format as typed data: requests, streamed chunks, model listings.

Pure data and parsing; no HTTP and no UI. Every response field is optional on the wire
(older servers omit some, zero values are left out), so parsing tolerates missing keys.
Tools are data here too: the definitions a request carries and the calls a reply asks for.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any

JSON = dict[str, Any]


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A function call the model asked for, as a chat stream (or a saved history) carries it.

    Ollama sends `arguments` as an object; some servers send a JSON string instead. A string
    that does not hold an object leaves `arguments` empty and says why in `problem`, so the
    call fails on its own instead of breaking the stream.
    """

    name: str
    arguments: JSON = field(default_factory=dict)
    id: str = ""  # newer servers name each call; a `tool` result may refer to it
    index: int | None = None  # the call's position in the reply, when the server gives it
    arguments_text: str | None = None  # the arguments as the server sent them, when a string
    problem: str = ""  # why the arguments cannot be used ("" when they can)

    def to_json(self) -> JSON:
        """The call as `/api/chat` takes it back in history: `arguments` is always an object."""
        function: JSON = {"name": self.name, "arguments": self.arguments}
        if self.index is not None:
            function = {"index": self.index, **function}
        return {"id": self.id, "function": function} if self.id else {"function": function}

    def to_stored(self) -> JSON:
        """`to_json()`, keeping string arguments as they came, so `from_json` rebuilds this call."""
        body = self.to_json()
        if self.arguments_text is not None:
            body["function"]["arguments"] = self.arguments_text
        return body

    @classmethod
    def from_json(cls, entry: object) -> ToolCall:
        """One entry of `message.tool_calls`; anything unusable becomes a call with a `problem`."""
        function = _object(entry.get("function")) if isinstance(entry, dict) else {}
        name = _text(function, "name")
        call_id = _text(entry, "id") if isinstance(entry, dict) else ""
        index = _integer(function, "index")
        raw = function.get("arguments")
        text = raw if isinstance(raw, str) else None
        arguments, problem = _arguments(raw)
        if not name:
            problem = "the call names no tool"
        return cls(name, arguments, call_id, index, text, problem)


def _arguments(raw: object) -> tuple[JSON, str]:
    """The arguments object of a call, and why it cannot be used ("" when it can)."""
    if raw is None:
        return {}, ""
    if isinstance(raw, str):
        if not raw.strip():
            return {}, ""
        try:
            raw = json.loads(raw)
        except ValueError as error:
            return {}, f"its arguments are not valid JSON ({getattr(error, 'msg', error)})"
        except RecursionError:
            return {}, "its arguments are nested too deeply"
    if type(raw) is not dict:
        return {}, f"its arguments must be a JSON object, not {_json_kind(raw)}"
    return raw, ""


def _json_kind(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "null" if value is None else "an unknown value"


@dataclass(frozen=True, slots=True)
class ToolDefinition:
    """A function the model may call, as the `tools` of a chat request describe it."""

    name: str
    description: str
    parameters: JSON  # a JSON Schema object

    def to_json(self) -> JSON:
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": self.parameters,
            },
        }


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """One entry of the `messages` history sent to `/api/chat`."""

    role: str  # "system" | "user" | "assistant" | "tool"
    content: str
    images: tuple[str, ...] = ()  # base64 without a data: prefix
    thinking: str = ""
    tool_calls: tuple[ToolCall, ...] = ()  # assistant: the calls it asked for
    tool_name: str = ""  # tool: the function whose result this is
    tool_call_id: str = ""  # tool: the `id` of that call, when the server gave one

    def to_json(self) -> JSON:
        body: JSON = {"role": self.role, "content": self.content}
        if self.images:
            body["images"] = list(self.images)
        if self.thinking:
            body["thinking"] = self.thinking
        if self.tool_calls:
            body["tool_calls"] = [call.to_json() for call in self.tool_calls]
        if self.tool_name:
            body["tool_name"] = self.tool_name
        if self.tool_call_id:
            body["tool_call_id"] = self.tool_call_id
        return body


@dataclass(frozen=True, slots=True)
class ChatRequest:
    model: str
    messages: tuple[ChatMessage, ...]
    options: tuple[tuple[str, Any], ...] = ()  # sent as the `options` object when not empty
    think: bool | str | None = None  # None: leave it to the server
    keep_alive: str | int | None = None
    format: str | JSON | None = None
    tools: tuple[ToolDefinition, ...] = ()  # sent as `tools` when not empty

    def to_json(self) -> JSON:
        body: JSON = {
            "model": self.model,
            "messages": [message.to_json() for message in self.messages],
            "stream": True,
        }
        if self.tools:
            body["tools"] = [tool.to_json() for tool in self.tools]
        return _with_settings(body, self.options, self.think, self.keep_alive, self.format)


def _with_settings(
    body: JSON,
    options: tuple[tuple[str, Any], ...],
    think: bool | str | None,
    keep_alive: str | int | None,
    format: str | JSON | None,
) -> JSON:
    """Add the settings chat and generate share, leaving out the unset ones (server defaults)."""
    if options:
        body["options"] = dict(options)
    if think is not None:
        body["think"] = think
    if keep_alive is not None:
        body["keep_alive"] = keep_alive
    if format is not None:
        body["format"] = format
    return body


@dataclass(frozen=True, slots=True)
class ChatStats:
    """Statistics from a final (`done: true`) line. Durations are nanoseconds."""

    done_reason: str | None = None
    total_duration: int | None = None
    load_duration: int | None = None
    prompt_eval_count: int | None = None
    prompt_eval_duration: int | None = None
    eval_count: int | None = None
    eval_duration: int | None = None

    @property
    def tokens_per_second(self) -> float | None:
        if not self.eval_count or not self.eval_duration:
            return None
        return self.eval_count / self.eval_duration * 1e9

    @classmethod
    def from_json(cls, line: JSON) -> ChatStats:
        def integer(key: str) -> int | None:
            value = line.get(key)
            return value if isinstance(value, int) and not isinstance(value, bool) else None

        reason = line.get("done_reason")
        return cls(
            done_reason=reason if isinstance(reason, str) else None,
            total_duration=integer("total_duration"),
            load_duration=integer("load_duration"),
            prompt_eval_count=integer("prompt_eval_count"),
            prompt_eval_duration=integer("prompt_eval_duration"),
            eval_count=integer("eval_count"),
            eval_duration=integer("eval_duration"),
        )


@dataclass(frozen=True, slots=True)
class ChatChunk:
    """One parsed NDJSON line of a chat (or generate) stream."""

    content: str = ""
    thinking: str = ""
    done: bool = False
    stats: ChatStats | None = None  # set on the final line only
    tool_calls: tuple[ToolCall, ...] = ()  # calls are whole, but may come spread over lines


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """A model as a server lists it (`/api/tags`, `/v1/models`); what a listing lacks stays empty."""

    name: str
    size: int = 0  # bytes on disk
    parameter_size: str = ""
    quantization_level: str = ""
    family: str = ""
    modified_at: str = ""
    digest: str = ""
    capabilities: tuple[str, ...] = field(default=())
    context_length: int | None = None  # the window served, where the listing says (OpenAI-compatible servers)


@dataclass(frozen=True, slots=True)
class GenerateRequest:
    """A single-prompt completion for `/api/generate`."""

    model: str
    prompt: str
    system: str | None = None  # None: the model's own system prompt
    images: tuple[str, ...] = ()  # base64 without a data: prefix
    options: tuple[tuple[str, Any], ...] = ()
    think: bool | str | None = None
    keep_alive: str | int | None = None
    format: str | JSON | None = None

    def to_json(self) -> JSON:
        body: JSON = {"model": self.model, "prompt": self.prompt, "stream": True}
        if self.system is not None:
            body["system"] = self.system
        if self.images:
            body["images"] = list(self.images)
        return _with_settings(body, self.options, self.think, self.keep_alive, self.format)


@dataclass(frozen=True, slots=True)
class ModelDetails:
    """What `/api/show` tells about one model."""

    name: str
    capabilities: tuple[str, ...] = ()  # "completion", "tools", "thinking", "vision", ...
    family: str = ""
    parameter_size: str = ""
    quantization_level: str = ""
    context_length: int | None = None  # the trained maximum, not the loaded window
    parameters: str = ""  # Modelfile PARAMETER lines as plain text
    template: str = ""
    license: str = ""
    system: str = ""

    @classmethod
    def from_json(cls, name: str, body: JSON) -> ModelDetails:
        details = _object(body.get("details"))
        info = _object(body.get("model_info"))
        return cls(
            name=name,
            capabilities=_strings(body.get("capabilities")),
            family=_text(details, "family"),
            parameter_size=_text(details, "parameter_size"),
            quantization_level=_text(details, "quantization_level"),
            context_length=_integer(info, f"{_text(info, 'general.architecture')}.context_length"),
            parameters=_text(body, "parameters"),
            template=_text(body, "template"),
            license=_text(body, "license"),
            system=_text(body, "system"),
        )


@dataclass(frozen=True, slots=True)
class RunningModel:
    """A model loaded in memory, as `/api/ps` lists it."""

    name: str
    size: int = 0  # bytes in memory
    size_vram: int = 0  # less than `size`: partly on the CPU, slow
    expires_at: str = ""
    context_length: int | None = None  # the window actually allocated (newer servers)

    @classmethod
    def from_json(cls, entry: JSON) -> RunningModel:
        return cls(
            name=_text(entry, "name") or _text(entry, "model"),
            size=_integer(entry, "size") or 0,
            size_vram=_integer(entry, "size_vram") or 0,
            expires_at=_text(entry, "expires_at"),
            context_length=_integer(entry, "context_length"),
        )


@dataclass(frozen=True, slots=True)
class PullProgress:
    """One status line of `/api/pull`. Byte counts are missing until a layer starts."""

    status: str
    digest: str = ""
    total: int | None = None
    completed: int | None = None

    @property
    def done(self) -> bool:
        return self.status == "success"


class StreamLineError(Exception):
    """An `{"error": ...}` line in a stream: the server failed after answering 200."""


class MalformedLine(Exception):
    """A response line that is not a JSON object of the expected shape."""


def parse_chat_line(line: str) -> ChatChunk:
    """One NDJSON line of `/api/chat`. Raises StreamLineError or MalformedLine."""
    data = _load(line)
    message = data.get("message")
    if message is None:
        return _chunk(line, data, "", "")
    if type(message) is not dict:
        raise MalformedLine(line)
    chunk = _chunk(line, data, message.get("content") or "", message.get("thinking") or "")
    if "tool_calls" not in message:  # nearly every line: `in` is the cheapest look
        return chunk
    calls = message["tool_calls"]
    if not calls:
        return chunk
    if type(calls) is not list:
        raise MalformedLine(line)
    return replace(chunk, tool_calls=tuple(ToolCall.from_json(call) for call in calls))


def parse_generate_line(line: str) -> ChatChunk:
    """One NDJSON line of `/api/generate`, with `response` as the content."""
    data = _load(line)
    return _chunk(line, data, data.get("response") or "", data.get("thinking") or "")


def parse_pull_line(line: str) -> PullProgress:
    """One NDJSON line of `/api/pull`. Raises StreamLineError or MalformedLine."""
    data = _load(line)
    status = data.get("status")
    if not isinstance(status, str):
        raise MalformedLine(line)
    return PullProgress(status, _text(data, "digest"), _integer(data, "total"), _integer(data, "completed"))


def parse_models(body: JSON) -> list[ModelInfo]:
    """The models of an `/api/tags` answer; entries without a name are skipped."""
    models = []
    for entry in _objects(body.get("models")):
        details = _object(entry.get("details"))
        name = _text(entry, "name") or _text(entry, "model")
        if name:
            models.append(
                ModelInfo(
                    name=name,
                    size=_integer(entry, "size") or 0,
                    parameter_size=_text(details, "parameter_size"),
                    quantization_level=_text(details, "quantization_level"),
                    family=_text(details, "family"),
                    modified_at=_text(entry, "modified_at"),
                    digest=_text(entry, "digest"),
                    capabilities=_strings(entry.get("capabilities")),
                )
            )
    return models


def parse_running(body: JSON) -> list[RunningModel]:
    """The loaded models of an `/api/ps` answer."""
    return [RunningModel.from_json(entry) for entry in _objects(body.get("models"))]


def error_text(body: object) -> str | None:
    """The message of an `{"error": ...}` body, or None when it is not one."""
    if type(body) is dict and "error" in body:
        error = body["error"]
        return error if isinstance(error, str) else json.dumps(error)
    return None


# The streaming hot path: one JSON decode, a few dict lookups and one dataclass per line.
# raw_decode skips the two whitespace regex passes json.loads makes; anything unusual
# around the object falls back to json.loads, which decides.
_raw_decode = json.JSONDecoder().raw_decode


def _load(line: str) -> JSON:
    try:
        data, end = _raw_decode(line)
    except (ValueError, RecursionError):
        end = -1
    if end != len(line):
        try:
            data = json.loads(line)
        except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
            raise MalformedLine(line[:200]) from None
    if type(data) is not dict:
        raise MalformedLine(line)
    if "error" in data:
        raise StreamLineError(error_text(data))
    return data


def _chunk(line: str, data: JSON, content: object, thinking: object) -> ChatChunk:
    if type(content) is not str or type(thinking) is not str:
        raise MalformedLine(line)
    if data.get("done") is True:
        return ChatChunk(content, thinking, True, ChatStats.from_json(data))
    return ChatChunk(content, thinking)


def _object(value: object) -> JSON:
    return value if isinstance(value, dict) else {}


def _objects(value: object) -> list[JSON]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _strings(value: object) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(item for item in value if isinstance(item, str))


def _text(mapping: JSON, key: str) -> str:
    value = mapping.get(key)
    return value if isinstance(value, str) else ""


def _integer(mapping: JSON, key: str) -> int | None:
    value = mapping.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def same_model(a: str, b: str) -> bool:
    """`llama3.2` and `llama3.2:latest` are one model; case does not matter."""

    def full(name: str) -> str:
        name = name.strip().lower()
        return name if ":" in name.rsplit("/", 1)[-1] else f"{name}:latest"

    return full(a) == full(b)
