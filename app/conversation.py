"""A conversation in memory: what it is (`ConversationInfo`), the turns a person sees, and the
history sent to Ollama.

Shared by the store (which saves turns), the chat screen (which builds requests from them) and
the conversation view (which draws them). No UI, no HTTP, no SQL.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from app.protocol import ChatMessage, ChatStats


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


class TurnState(StrEnum):
    COMPLETE = "complete"
    STREAMING = "streaming"  # a reply still arriving (or cut off by a crash: see INTERRUPTED)
    STOPPED = "stopped"  # the person stopped it
    INTERRUPTED = "interrupted"  # the connection or the process died mid-reply
    ERROR = "error"  # the server answered with an error


@dataclass(slots=True)
class Turn:
    """One message of a conversation. Mutable: a streaming reply grows in place."""

    role: str  # "user" | "assistant" | "system"
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

    def to_chat_message(self) -> ChatMessage:
        return ChatMessage(self.role, self.content, self.images)


def history(turns: list[Turn], system: str = "") -> tuple[ChatMessage, ...]:
    """The `messages` to send: an optional system prompt, then every turn with text.

    Failed replies with no text are left out (they carry nothing the model said); partial
    replies are kept, as `ollama run` keeps them.
    """
    messages = [ChatMessage("system", system)] if system else []
    messages.extend(turn.to_chat_message() for turn in turns if turn.role != "system" and (turn.content or turn.images))
    return tuple(messages)
