"""The OpenAI-compatible routes of FakeOllama: `GET /v1/models`, `POST /v1/chat/completions`.

Shaped as vLLM serves them (its field names, error bodies and checks), with the variants other
servers have: `reasoning` for `reasoning_content` (newer vLLM, Ollama), an `error:` SSE line
for a failure mid-stream (llama.cpp's server), `\\r\\n` line ends (sse-starlette, under
llama-cpp-python and others), no `data: [DONE]` at the end (some llama.cpp forks). A request
in Ollama's shape is refused, as OpenAI's own API refuses unknown fields: so a test proves the
client sent OpenAI's shape. The same `ChatScript`s play the faults as on `/api/chat`.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the handler module imports this one
    from ollama_server import ChatScript, _Handler

JSON = dict[str, Any]

# What vLLM's ChatCompletionRequest takes, less the fields no test needs.
_REQUEST_KEYS = {
    "model",
    "messages",
    "stream",
    "stream_options",
    "tools",
    "tool_choice",
    "temperature",
    "top_p",
    "seed",
    "stop",
    "max_tokens",
    "max_completion_tokens",
    "response_format",
    "reasoning_effort",
    "chat_template_kwargs",
    "n",
    "presence_penalty",
    "frequency_penalty",
}
_MESSAGE_KEYS = {"role", "content", "name", "tool_calls", "tool_call_id"}
_NO_AUTO_TOOLS = '"auto" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set'


def error_body(message: str, kind: str = "BadRequestError", code: int = 400, param: str | None = None) -> JSON:
    """An error as vLLM answers it (newer versions; older ones had the fields at the top)."""
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


def models(handler: _Handler, body: JSON) -> None:
    fake = handler.fake
    if not handler._pass_listing_gate():
        return
    with fake._lock:
        listed = fake.openai_models
        names = [(m["name"], m.get("details", {}).get("context_length", 4096)) for m in fake.models]
    if listed is None:
        created = int(time.time())  # vLLM stamps the listing, not the model
        listed = [
            {
                "id": name,
                "object": "model",
                "created": created,
                "owned_by": fake.owned_by,
                "root": name,
                "parent": None,
                "max_model_len": window,
                "permission": [{"id": f"modelperm-{abs(hash(name)) % 10**8}", "object": "model_permission"}],
            }
            for name, window in names
        ]
    handler._json(200, {"object": "list", "data": listed})


def chat_completions(handler: _Handler, body: JSON) -> None:
    fake = handler.fake
    problem = _request_problem(body)
    if problem is not None:
        return handler._json(400, error_body(problem))
    name = body["model"]
    with fake._lock:
        model = next((m for m in fake.models if m["name"] == name), None)
    if model is None:
        return handler._json(404, error_body(f"The model `{name}` does not exist.", "NotFoundError", 404, "model"))
    capabilities = model.get("capabilities", ())
    if body.get("tools") and "tools" not in capabilities:
        return handler._json(400, error_body(_NO_AUTO_TOOLS))
    if _has_images(body["messages"]) and "vision" not in capabilities:
        return handler._json(400, error_body(f"{name} is not a multimodal model"))

    script = fake._next_script()
    if script.status is not None:
        return handler._send_scripted(script)
    handler._load(model, {})
    kwargs = body.get("chat_template_kwargs") or {}
    thinking = kwargs.get("enable_thinking") is not False
    events, reason = _token_events(name, script, thinking, body.get("max_tokens"))
    end = b"\r\n" if script.crlf else b"\n"
    lines = [_sse(event, end) for event in events]
    first = _sse(_chunk(name, {"role": "assistant", "content": ""}, None), end)
    handler._start_stream("text/event-stream; charset=utf-8")
    if not _play(handler, first, lines, script, end):
        return
    tail = [_sse(_chunk(name, {}, reason), end)]
    if (body.get("stream_options") or {}).get("include_usage"):
        prompt = len(json.dumps(body["messages"])) // 4 + 8
        usage = {"prompt_tokens": prompt, "total_tokens": prompt + len(events), "completion_tokens": len(events)}
        tail.append(_sse({**_chunk(name, None, None), "choices": [], "usage": usage}, end))
    if not script.no_done:
        tail.append(b"data: [DONE]" + end + end)
    if handler._write(b"".join(tail)):
        handler._end_stream()


def _request_problem(body: JSON) -> str | None:
    """What vLLM (or OpenAI's own API) would refuse in a request, in its words."""
    unknown = sorted(set(body) - _REQUEST_KEYS)
    if unknown:
        return f"Unrecognized request argument supplied: {unknown[0]}"
    if not isinstance(body.get("model"), str) or not body["model"]:
        return "model is required"
    if body.get("stream") is not True:
        return "this server only streams"
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "messages must be a non-empty list"
    asked: set[str] = set()
    for number, message in enumerate(messages):
        where = f"messages[{number}]"
        if not isinstance(message, dict):
            return f"{where} must be an object"
        extra = sorted(set(message) - _MESSAGE_KEYS)
        if extra:
            return f"Additional properties are not allowed ({extra[0]!r} was unexpected) in {where}"
        role = message.get("role")
        if role not in ("system", "developer", "user", "assistant", "tool"):
            return f"{where}.role must be one of system, user, assistant, tool"
        problem = _content_problem(message.get("content"), role, where)
        if problem is None and role == "assistant":
            problem = _calls_problem(message.get("tool_calls"), where, asked)
        if problem is None and role == "tool":
            call_id = message.get("tool_call_id")
            if not isinstance(call_id, str) or call_id not in asked:
                problem = (
                    f"Invalid parameter: {where}: messages with role 'tool' must be a response to a "
                    "preceding message with 'tool_calls' (no call has the id "
                    f"{call_id!r})."
                )
        if problem is not None:
            return problem
    return None


def _content_problem(content: Any, role: str, where: str) -> str | None:
    if isinstance(content, str) or (content is None and role == "assistant"):
        return None
    if not isinstance(content, list) or role != "user":
        return f"{where}.content must be a string"
    for number, part in enumerate(content):
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "text" and isinstance(part.get("text"), str):
            continue
        url = (part.get("image_url") or {}).get("url") if kind == "image_url" else None
        if not isinstance(url, str) or not url.startswith("data:image/") or ";base64," not in url:
            return f"{where}.content[{number}] must be a text part or an image_url part with a data:image/ URL"
    return None


def _calls_problem(calls: Any, where: str, asked: set[str]) -> str | None:
    if calls is None:
        return None
    if not isinstance(calls, list):
        return f"{where}.tool_calls must be a list"
    for number, call in enumerate(calls):
        at = f"{where}.tool_calls[{number}]"
        function = call.get("function") if isinstance(call, dict) else None
        if not isinstance(function, dict) or call.get("type") != "function":
            return f"{at} must be a function call"
        if not isinstance(call.get("id"), str) or not call["id"]:
            return f"Missing required parameter: '{at}.id'."
        if not isinstance(function.get("arguments"), str):
            kind = type(function.get("arguments")).__name__
            return f"Invalid type for '{at}.function.arguments': expected a string, but got {kind} instead."
        asked.add(call["id"])
    return None


def _has_images(messages: list[JSON]) -> bool:
    return any(
        isinstance(part, dict) and part.get("type") == "image_url"
        for message in messages
        if isinstance(message.get("content"), list)
        for part in message["content"]
    )


def _token_events(name: str, script: ChatScript, thinking: bool, max_tokens: Any) -> tuple[list[JSON], str]:
    """The streamed chunks before the finish, and the finish reason."""
    events: list[JSON] = []
    if thinking:
        events += [_chunk(name, {script.reasoning_field: token}, None) for token in script.thinking]
    tokens, reason = script.tokens, script.done_reason
    if isinstance(max_tokens, int) and max_tokens < len(tokens):
        tokens, reason = tokens[:max_tokens], "length"
    events += [_chunk(name, {"content": token}, None) for token in tokens]
    for index, call in enumerate(script.tool_calls):
        events += [_chunk(name, {"tool_calls": [delta]}, None) for delta in _call_deltas(index, call)]
        reason = "tool_calls"
    return events, reason


def _call_deltas(index: int, call: JSON) -> list[JSON]:
    """A call as vLLM streams it: the id and name first, then the arguments in pieces."""
    function = call.get("function", {})
    arguments = function.get("arguments")
    text = arguments if isinstance(arguments, str) else json.dumps(arguments)
    third = max(1, len(text) // 3)
    pieces = [text[i : i + third] for i in range(0, len(text), third)]
    first = {
        "index": index,
        "id": call.get("id") or f"chatcmpl-tool-{index}",
        "type": "function",
        "function": {"name": function.get("name", ""), "arguments": ""},
    }
    return [first, *({"index": index, "function": {"arguments": piece}} for piece in pieces)]


def _chunk(name: str, delta: JSON | None, finish: str | None) -> JSON:
    choices = [] if delta is None else [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]
    return {
        "id": "chatcmpl-5f1b6c8e0a9d4c2b",
        "object": "chat.completion.chunk",
        "created": 1747725243,
        "model": name,
        "choices": choices,
    }


def _sse(event: JSON, end: bytes, field: bytes = b"data") -> bytes:
    return field + b": " + json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode() + end + end


def _play(handler: _Handler, first: bytes, lines: list[bytes], script: ChatScript, end: bytes) -> bool:
    """Send the role chunk and the token events, then the script's fault; True when the finish
    follows. The `*_after` counts are token events, as on `/api/chat`."""
    faults = [script.cut_after, script.error_after, script.malformed_after, script.stall_after]
    stop = min((n for n in faults if n is not None), default=len(lines))
    if script.first_delay and not handler._wait(script.first_delay):
        return handler._cut()
    if not handler._send_lines([first, *lines[:stop]], script.delay):
        return handler._cut()
    if stop == script.error_after:
        error = error_body(script.error, "InternalServerError", 500)
        if script.sse_error_field:  # llama.cpp: the error object alone, as an `error:` line
            handler._write(_sse(error["error"], end, b"error"))
        else:
            handler._write(_sse(error, end))
        handler._end_stream()
        return False
    if stop == script.malformed_after:
        rest = [b"data: <html>this is not json</html>" + end + end, *lines[stop:]]
        return handler._send_lines(rest, script.delay) or handler._cut()
    if stop == script.stall_after:
        handler._wait(float("inf"))
        return handler._cut()
    if stop == script.cut_after:
        if script.cut_mid_line and stop < len(lines):
            handler._write(lines[stop][: len(lines[stop]) // 2])
        return handler._cut()
    return True
