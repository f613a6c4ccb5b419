"""The OpenAI chat-completions wire format, mapped to and from the project's own types.

Pure data and parsing, no HTTP: `chat_body()` turns a `ChatRequest` into the body of
`POST /chat/completions`; `ReplyStream` turns the server-sent events of the answer into the
same `ChatChunk`s the Ollama client yields; `parse_model_list()` reads `GET /models`.
Shapes follow what vLLM, SGLang, llama.cpp's server and Ollama's `/v1` send, which differ
in small ways (noted where they do).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from time import monotonic
from typing import Any

from app.protocol import (
    JSON,
    ChatChunk,
    ChatMessage,
    ChatRequest,
    ChatStats,
    GenerateRequest,
    MalformedLine,
    ModelInfo,
    StreamLineError,
    ToolCall,
)

# Ollama option -> the chat-completions field it becomes. Others (top_k, min_p, num_ctx,
# repeat_penalty...) have no standard name: some servers take extra fields, OpenAI's own API
# refuses them, so they are not sent and `unsent_settings()` names them.
_OPTIONS = {"temperature": "temperature", "top_p": "top_p", "seed": "seed", "stop": "stop", "num_predict": "max_tokens"}
REASONING_EFFORTS = ("low", "medium", "high")  # think levels with an OpenAI name
_MIME_SIGNATURES = (
    (b"\x89PNG", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF8", "image/gif"),
    (b"BM", "image/bmp"),
)
DONE = "[DONE]"  # the data of the event that ends a stream


def chat_body(request: ChatRequest) -> JSON:
    """The body of `POST /chat/completions` for `request`, streamed with usage at the end."""
    body: JSON = {
        "model": request.model,
        "messages": chat_messages(request.messages),
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    if request.tools:
        body["tools"] = [tool.to_json() for tool in request.tools]  # already OpenAI's shape
    return _with_settings(body, request.options, request.think, request.format)


def generate_body(request: GenerateRequest) -> JSON:
    """A single-prompt completion as a chat: the server applies the model's template, as
    Ollama's `/api/generate` does."""
    messages = (
        *((ChatMessage("system", request.system),) if request.system else ()),
        ChatMessage("user", request.prompt, images=request.images),
    )
    return chat_body(ChatRequest(request.model, messages, request.options, request.think, format=request.format))


def unsent_settings(request: ChatRequest | GenerateRequest) -> tuple[str, ...]:
    """The settings of `request` an OpenAI-compatible server is not sent, for people to see
    (`/show`): options without a standard name, keep-alive, a think level without an
    OpenAI name, a format that is neither "json" nor a schema."""
    names = [name for name, _ in request.options if name not in _OPTIONS]
    if request.keep_alive is not None:
        names.append("keep_alive")
    if isinstance(request.think, str) and request.think not in REASONING_EFFORTS:
        names.append(f"think {request.think}")
    if request.format is not None and _response_format(request.format) is None:
        names.append("format")
    return tuple(names)


def chat_messages(history: Iterable[ChatMessage]) -> list[JSON]:
    """`history` in OpenAI's shape. Calls and results need ids there: a conversation begun
    elsewhere may lack them, so a call gets one by its place and a result takes the id of
    the call it answers (by id, else by tool name, else the oldest unanswered call)."""
    messages: list[JSON] = []
    unanswered: list[tuple[str, str]] = []  # (id, tool name) of calls awaiting a result
    for number, message in enumerate(history):
        if message.role == "tool":
            call_id = _answered(message, unanswered) or f"call_{number}"
            messages.append({"role": "tool", "content": message.content, "tool_call_id": call_id})
        elif message.role == "assistant" and message.tool_calls:
            calls = []
            for place, call in enumerate(message.tool_calls):
                call_id = call.id or f"call_{number}_{place}"
                unanswered.append((call_id, call.name))
                calls.append({"id": call_id, "type": "function", "function": _function(call)})
            messages.append({"role": "assistant", "content": message.content, "tool_calls": calls})
        elif message.images and message.role == "user":
            parts: list[JSON] = [{"type": "text", "text": message.content}] if message.content else []
            parts += [{"type": "image_url", "image_url": {"url": data_url(image)}} for image in message.images]
            messages.append({"role": "user", "content": parts})
        else:  # thinking is the model's own and is not sent back (as OpenAI's API has it)
            messages.append({"role": message.role, "content": message.content})
    return messages


def data_url(image: str) -> str:
    """A base64 image as a `data:` URL, its type read from its first bytes."""
    try:
        head = base64.b64decode(image[:16], validate=False)
    except (binascii.Error, ValueError):
        head = b""
    mime = next((mime for signature, mime in _MIME_SIGNATURES if head.startswith(signature)), None)
    if mime is None:
        mime = "image/webp" if head[:4] == b"RIFF" and head[8:12] == b"WEBP" else "image/png"
    return f"data:{mime};base64,{image}"


def _answered(message: ChatMessage, unanswered: list[tuple[str, str]]) -> str:
    """The id of the call a result answers, taken off `unanswered`."""
    by_id = [pair for pair in unanswered if message.tool_call_id and pair[0] == message.tool_call_id]
    by_name = [pair for pair in unanswered if message.tool_name and pair[1] == message.tool_name]
    found = by_id or by_name or unanswered[:1]
    if not found:
        return message.tool_call_id
    unanswered.remove(found[0])
    return found[0][0]


def _function(call: ToolCall) -> JSON:
    """OpenAI's arguments are a JSON string: the server's own text when it sent one."""
    text = call.arguments_text if call.arguments_text is not None else json.dumps(call.arguments, ensure_ascii=False)
    return {"name": call.name, "arguments": text}


def _with_settings(
    body: JSON, options: tuple[tuple[str, Any], ...], think: bool | str | None, format: str | JSON | None
) -> JSON:
    for name, value in options:
        key = _OPTIONS.get(name)
        if key is None:
            continue
        # num_predict -1 / -2 is no limit, seed -1 random: the defaults. Values are checked numbers.
        if (name == "num_predict" and value <= 0) or (name == "seed" and value < 0):
            continue
        body[key] = list(value) if name == "stop" else value
    if isinstance(think, bool):
        # Read by the chat templates of models that can switch thinking off (Qwen3, DeepSeek,
        # Granite...) on vLLM, SGLang and llama.cpp's server; other templates ignore it.
        body["chat_template_kwargs"] = {"enable_thinking": think}
    elif think in REASONING_EFFORTS:
        body["reasoning_effort"] = think
    response_format = _response_format(format) if format is not None else None
    if response_format is not None:
        body["response_format"] = response_format
    return body


def _response_format(format: str | JSON) -> JSON | None:
    if format == "json":
        return {"type": "json_object"}
    if isinstance(format, dict):
        return {"type": "json_schema", "json_schema": {"name": "reply", "schema": format}}
    return None


# -- the answer ------------------------------------------------------------------------------


@dataclass(slots=True)
class _PartialCall:
    """A tool call while its deltas arrive: the id and name once, the arguments in pieces."""

    index: int
    id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=list)

    def call(self) -> ToolCall:
        function = {"index": self.index, "name": self.name, "arguments": "".join(self.arguments)}
        return ToolCall.from_json({"id": self.id, "function": function})


class ReplyStream:
    """The events of one streamed reply, turned into `ChatChunk`s.

    `event(data)` takes the data of each event (`[DONE]` included) and returns the chunk to
    pass on, or None when it carries nothing to show. `final()` is the `done` chunk, with
    the statistics: token counts from `usage`, durations from llama.cpp's `timings` or, when
    the server gives none, as measured here (first token to the end, request to the end).
    Tool calls are whole once the choice finishes, and come in that event's chunk.
    """

    __slots__ = ("_calls", "_first_token", "_reason", "_started", "_timings", "_usage", "done", "finished")

    def __init__(self, started: float | None = None) -> None:
        self._started = monotonic() if started is None else started
        self._first_token: float | None = None
        self._calls: dict[int, _PartialCall] = {}
        self._reason: str | None = None
        self._usage: JSON = {}
        self._timings: JSON = {}
        self.done = False  # `[DONE]` arrived
        self.finished = False  # the choice has a finish_reason

    def event(self, data: str) -> ChatChunk | None:
        """One event's data. Raises StreamLineError for an error event, MalformedLine for
        data that is not a chunk."""
        if data == DONE:
            self.done = True
            return None
        chunk = _load(data)
        if "usage" in chunk:
            usage = chunk["usage"]
            if type(usage) is dict:
                self._usage = usage
        if "timings" in chunk:  # llama.cpp's server
            timings = chunk["timings"]
            if type(timings) is dict:
                self._timings = timings
        choices = chunk.get("choices")
        if not choices:  # the usage chunk has none
            return None
        if type(choices) is not list or type(choices[0]) is not dict:
            raise MalformedLine(data[:200])
        choice = choices[0]
        delta = choice.get("delta")
        if delta is None:
            delta = {}
        elif type(delta) is not dict:
            raise MalformedLine(data[:200])
        content = delta.get("content") or ""
        # vLLM and llama.cpp name it reasoning_content; newer vLLM and Ollama, reasoning.
        thinking = delta.get("reasoning_content") or delta.get("reasoning") or ""
        if type(content) is not str or type(thinking) is not str:
            raise MalformedLine(data[:200])
        if (content or thinking) and self._first_token is None:
            self._first_token = monotonic()
        if "tool_calls" in delta:
            self._add_calls(delta["tool_calls"], data)
        calls: tuple[ToolCall, ...] = ()
        reason = choice.get("finish_reason")
        if isinstance(reason, str):
            self._reason, self.finished = reason, True
            calls = self._take_calls()
        if not (content or thinking or calls):
            return None
        return ChatChunk(content, thinking, tool_calls=calls)

    def final(self) -> ChatChunk:
        """The last chunk: done, with the statistics and any calls not yet passed on."""
        ended = monotonic()
        usage, timings = self._usage, self._timings
        eval_count = _count(usage, "completion_tokens")
        eval_ns = _nanoseconds(timings, "predicted_ms")
        if eval_ns is None and eval_count and self._first_token is not None and ended > self._first_token:
            eval_ns = int((ended - self._first_token) * 1e9)
        reason = "stop" if self._reason == "tool_calls" else self._reason  # as Ollama says it
        stats = ChatStats(
            done_reason=reason,
            total_duration=int((ended - self._started) * 1e9),
            prompt_eval_count=_count(usage, "prompt_tokens"),
            prompt_eval_duration=_nanoseconds(timings, "prompt_ms"),
            eval_count=eval_count,
            eval_duration=eval_ns,
        )
        return ChatChunk(done=True, stats=stats, tool_calls=self._take_calls())

    def _add_calls(self, deltas: object, data: str) -> None:
        if deltas is None:
            return
        if type(deltas) is not list:
            raise MalformedLine(data[:200])
        for delta in deltas:
            if type(delta) is not dict:
                raise MalformedLine(data[:200])
            function = delta.get("function")
            function = function if type(function) is dict else {}
            call = self._calls_for(delta)
            if not call.id and isinstance(delta.get("id"), str):
                call.id = delta["id"]
            name = function.get("name")
            if not call.name and isinstance(name, str):
                call.name = name
            arguments = function.get("arguments")
            if isinstance(arguments, str):
                call.arguments.append(arguments)
            elif isinstance(arguments, dict):  # a server that sends an object, as Ollama does
                call.arguments.append(json.dumps(arguments, ensure_ascii=False))

    def _calls_for(self, delta: JSON) -> _PartialCall:
        """The call a delta continues: by `index`; without one, a new id starts a call."""
        index = delta.get("index")
        if not isinstance(index, int) or isinstance(index, bool):
            call_id = delta.get("id")
            known = next((i for i, c in self._calls.items() if c.id and c.id == call_id), None)
            if known is not None:
                index = known
            elif call_id or not self._calls:
                index = max(self._calls, default=-1) + 1
            else:
                index = max(self._calls)
        return self._calls.setdefault(index, _PartialCall(index))

    def _take_calls(self) -> tuple[ToolCall, ...]:
        calls = tuple(self._calls[index].call() for index in sorted(self._calls))
        self._calls.clear()
        return calls


def error_message(body: object) -> str | None:
    """The message of an error body in any of the shapes servers use, or None when `body`
    is not one: `{"error": {"message": ...}}` (OpenAI, newer vLLM, llama.cpp), `{"error":
    "..."}` (vLLM's key check, Ollama), `{"object": "error", "message": ...}` (older vLLM),
    `{"detail": ...}` (FastAPI's own answers)."""
    if type(body) is not dict:
        return None
    if "error" in body:
        error = body["error"]
        if isinstance(error, dict):
            message = error.get("message")
            return message if isinstance(message, str) and message else json.dumps(error)
        return error if isinstance(error, str) else json.dumps(error)
    if body.get("object") == "error" and isinstance(body.get("message"), str):
        return str(body["message"])
    detail = body.get("detail")
    if isinstance(detail, str):
        return detail
    if isinstance(detail, list):
        said = [item.get("msg") for item in detail if isinstance(item, dict)]
        return "; ".join(text for text in said if isinstance(text, str)) or None
    return None


def parse_model_list(body: JSON) -> list[ModelInfo] | None:
    """The models of a `/models` answer, or None when it is not a listing. The window comes
    from vLLM's and SGLang's `max_model_len` or llama.cpp's `meta.n_ctx_train`."""
    data = body.get("data")
    if not isinstance(data, list):
        return None
    models = []
    for entry in data:
        name = entry.get("id") if isinstance(entry, dict) else None
        if not isinstance(name, str) or not name:
            continue
        meta = entry.get("meta")
        meta = meta if isinstance(meta, dict) else {}
        parameters = _count(meta, "n_params")
        models.append(
            ModelInfo(
                name=name,
                size=_count(meta, "size") or 0,
                parameter_size=_parameter_size(parameters) if parameters else "",
                context_length=_count(entry, "max_model_len") or _count(meta, "n_ctx_train"),
            )
        )
    return models


def _parameter_size(count: int) -> str:
    """As Ollama writes it: 8.0B, 134.52M."""
    return f"{count / 1e9:.1f}B" if count >= 1_000_000_000 else f"{count / 1e6:.2f}M"


_raw_decode = json.JSONDecoder().raw_decode  # see protocol._load: the same hot path


def _load(data: str) -> JSON:
    try:
        chunk, end = _raw_decode(data)
    except (ValueError, RecursionError):
        end = -1
    if end != len(data):
        try:
            chunk = json.loads(data)
        except (ValueError, RecursionError):
            raise MalformedLine(data[:200]) from None
    if type(chunk) is not dict:
        raise MalformedLine(data[:200])
    if "error" in chunk or chunk.get("object") == "error":
        raise StreamLineError(error_message(chunk) or data[:200])
    return chunk


def _count(mapping: JSON, key: str) -> int | None:
    value = mapping.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _nanoseconds(mapping: JSON, key: str) -> int | None:
    value = mapping.get(key)
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return int(value * 1_000_000)
    return None
