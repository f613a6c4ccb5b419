"""A conversation in memory: what it is (`ConversationInfo`), the turns a person sees, and the
history sent to Ollama.

Shared by the store (which saves turns), the chat screen (which builds requests from them) and
the conversation view (which draws them). No UI, no HTTP, no SQL.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from app.protocol import ChatMessage, ChatStats, ToolCall
from app.text import cut_bytes

# A tool result is kept whole up to a hard cap (see app.tools.calls) but the model is sent at
# most this much of it, in every request: a reopened conversation sends what was sent before.
MODEL_RESULT_BYTES = 100_000
MODEL_RESULT_NOTE = "\n\n[The result was longer than 100 KB; the rest was not sent.]"


@dataclass(frozen=True, slots=True)
class ConversationInfo:
    """A saved conversation as the store lists it: what it is called, when it last changed,
    and the settings it keeps (model, system prompt, options)."""

    id: int
    title: str
    created_at: float
    updated_at: float  # time of the last message change; renames do not reorder the list
    model: str
    system: str = ""
    options: tuple[tuple[str, Any], ...] = ()
    message_count: int = 0
    tool_settings: str = ""  # JSON kept for the tools layer (app.tools.policy); "" when none


class TurnState(StrEnum):
    COMPLETE = "complete"
    STREAMING = "streaming"  # a reply still arriving (or cut off by a crash: see INTERRUPTED)
    STOPPED = "stopped"  # the person stopped it
    INTERRUPTED = "interrupted"  # the connection or the process died mid-reply
    ERROR = "error"  # the server answered with an error


class ToolStatus(StrEnum):
    """How a tool call ended, for a `tool` turn."""

    OK = "ok"
    ERROR = "error"  # the tool ran and reported an error
    FAILED = "failed"  # it could not run: unknown tool, bad arguments, timeout, server gone
    DENIED = "denied"  # the person said no


@dataclass(slots=True)
class Turn:
    """One message of a conversation. Mutable: a streaming reply grows in place."""

    role: str  # "user" | "assistant" | "system" | "tool"
    content: str
    model: str = ""  # for assistant turns: the model that wrote it
    state: TurnState = TurnState.COMPLETE
    error: str = ""  # why it ended, for STOPPED / INTERRUPTED / ERROR
    thinking: str = ""
    stats: ChatStats | None = None
    images: tuple[str, ...] = ()
    activity: str = ""  # while streaming: what the wait is about ("no new text for 12 s"); not stored
    id: int | None = None  # row id once stored
    created_at: float = field(default=0.0)
    tool_calls: tuple[ToolCall, ...] = ()  # assistant: the calls it asked for
    tool_name: str = ""  # tool: the function that gave this result (as the model named it)
    tool_call_id: str = ""  # tool: the id of that call, when the server gave one
    tool_status: ToolStatus | None = None  # tool: how the call ended; `error` says why
    duration: float | None = None  # tool: seconds the call ran (None: it never ran)
    # assistant: the server that wrote it, where several are configured ("" where there is one);
    # kept apart from `model`, which stays the name the server knows it by
    server: str = ""

    def to_chat_message(self) -> ChatMessage:
        if self.role == "tool":
            content = cut_bytes(self.content, MODEL_RESULT_BYTES, MODEL_RESULT_NOTE)
            return ChatMessage("tool", content, tool_name=self.tool_name, tool_call_id=self.tool_call_id)
        return ChatMessage(self.role, self.content, self.images, tool_calls=self.tool_calls)


def history(turns: list[Turn], system: str = "") -> tuple[ChatMessage, ...]:
    """The `messages` to send: an optional system prompt, then every turn with text.

    Failed replies with no text are left out (they carry nothing the model said); partial
    replies are kept, as `ollama run` keeps them. A reply that asked for tools is sent with
    its calls, and every tool result with it, even an empty one: a call needs its answer.
    """
    messages = [ChatMessage("system", system)] if system else []
    messages.extend(
        turn.to_chat_message()
        for turn in turns
        if turn.role != "system" and (turn.content or turn.images or turn.tool_calls or turn.role == "tool")
    )
    return tuple(messages)
