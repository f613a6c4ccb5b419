"""Ollama's wire format as typed data: requests, streamed chunks, model listings.

Pure data and parsing; no HTTP and no UI. Every response field is optional on the wire
(older servers omit some, zero values are left out), so parsing tolerates missing keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

JSON = dict[str, Any]


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """One entry of the `messages` history sent to `/api/chat`."""

    role: str  # "system" | "user" | "assistant" | "tool"
    content: str
    images: tuple[str, ...] = ()  # base64 without a data: prefix
    thinking: str = ""

    def to_json(self) -> JSON:
        body: JSON = {"role": self.role, "content": self.content}
        if self.images:
            body["images"] = list(self.images)
        if self.thinking:
            body["thinking"] = self.thinking
        return body


@dataclass(frozen=True, slots=True)
class ChatRequest:
    model: str
    messages: tuple[ChatMessage, ...]
    options: tuple[tuple[str, Any], ...] = ()  # sent as the `options` object when not empty
    think: bool | str | None = None  # None: leave it to the server
    keep_alive: str | int | None = None
    format: str | JSON | None = None

    def to_json(self) -> JSON:
        body: JSON = {
            "model": self.model,
            "messages": [message.to_json() for message in self.messages],
            "stream": True,
        }
        if self.options:
            body["options"] = dict(self.options)
        if self.think is not None:
            body["think"] = self.think
        if self.keep_alive is not None:
            body["keep_alive"] = self.keep_alive
        if self.format is not None:
            body["format"] = self.format
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


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """A local model as `/api/tags` lists it."""

    name: str
    size: int = 0  # bytes on disk
    parameter_size: str = ""
    quantization_level: str = ""
    family: str = ""
    modified_at: str = ""
    digest: str = ""
    capabilities: tuple[str, ...] = field(default=())
