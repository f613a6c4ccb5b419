"""The conversation open in the chat screen: what it is, its turns and settings (tool settings
too), the model and images for the next message, the message being edited. All of it in one object, so starting
afresh (`start_fresh`) or opening a saved conversation (`open`) resets everything in one place.

No widgets and no writes: the screen shows and saves what changes here.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace

from app.chat_options import ChatOptions
from app.conversation import ConversationInfo, Turn, TurnState
from app.protocol import ChatRequest, ChatStats, ToolDefinition
from app.servers.config import LOCAL
from app.servers.registry import join_model
from app.store import INTERRUPTED_ERROR
from app.tools.policy import ToolPolicy


class OpenConversation:
    def __init__(self, model: str = "", defaults: ChatOptions | None = None) -> None:
        self.model = model  # the model the next message goes to; a new conversation keeps it
        self.server = LOCAL  # the server of `model`
        self.named_servers = False  # several servers are configured: each reply says which wrote it
        self.defaults = defaults or ChatOptions()  # a new conversation's settings ([options])
        self.info: ConversationInfo | None = None  # None until its first message is saved
        self.turns: list[Turn] = []
        self.options = self.defaults
        self.tool_policy = ToolPolicy()  # approvals and tools turned off, kept with the conversation
        self.images: list[tuple[str, str]] = []  # (file name, base64) attached to the next message
        self.editing: Turn | None = None  # the user message being edited, replaced when sent
        self.last_stats: ChatStats | None = None  # of the last reply, for the context meter
        self.opened = 0  # counts conversations opened here, so a late save can tell it is late

    def start_fresh(self) -> None:
        """A new conversation, not saved until its first message; the model stays."""
        self.opened += 1
        self.info, self.turns, self.editing = None, [], None
        self.options, self.images, self.last_stats = self.defaults, [], None
        self.tool_policy = ToolPolicy()

    def open(self, info: ConversationInfo, turns: list[Turn]) -> None:
        """A saved conversation with its settings (its model is the screen's to choose)."""
        self.start_fresh()
        for turn in turns:  # left streaming by a copy of the app that died (or is still writing)
            if turn.state == TurnState.STREAMING:
                turn.state, turn.error = TurnState.INTERRUPTED, INTERRUPTED_ERROR
        self.info, self.turns = info, turns
        self.options = ChatOptions.from_stored(info.system, info.options)
        self.tool_policy = ToolPolicy.from_json(info.tool_settings)
        last = next((turn for turn in reversed(turns) if turn.stats), None)
        self.last_stats = last.stats if last else None

    @property
    def address(self) -> str:
        """The model as stored and as the catalog knows it: `model`, or `model@server` for
        a server other than local."""
        return join_model(self.model, self.server) if self.model else ""

    @property
    def id(self) -> int | None:
        """The saved conversation's id; None while it is not saved."""
        return self.info.id if self.info else None

    def find(self, turn_id: int | None) -> Turn | None:
        return next((turn for turn in self.turns if turn.id == turn_id), None) if turn_id is not None else None

    def holds(self, turn: Turn) -> bool:
        """Whether `turn` (that very object) is still in this conversation."""
        return any(shown is turn for shown in self.turns)

    def last_user_turn(self) -> Turn | None:
        return next((turn for turn in reversed(self.turns) if turn.role == "user"), None)

    def add_user_message(self, text: str) -> Turn:
        """The person's message, carrying the images attached to it (they are not attached again)."""
        images = tuple(data for _, data in self.images)
        self.images = []
        turn = Turn("user", text, images=images, created_at=time.time())
        self.turns.append(turn)
        return turn

    def add_reply(self) -> Turn:
        """An empty reply from the current model and server, about to stream."""
        server = self.server if self.named_servers else ""
        reply = Turn(
            "assistant", "", model=self.model, state=TurnState.STREAMING, created_at=time.time(), server=server
        )
        self.turns.append(reply)
        return reply

    def drop_from(self, first: Turn) -> list[Turn]:
        """Remove `first` and every turn after it; returns them. Ends any edit."""
        self.editing = None
        index = next((index for index, turn in enumerate(self.turns) if turn is first), None)
        if index is None:
            return []
        dropped = self.turns[index:]
        del self.turns[index:]
        return dropped

    def request(self, can_think: bool, tools: Sequence[ToolDefinition] = ()) -> ChatRequest:
        """The request for a reply to the conversation so far, offering `tools`."""
        request = self.options.chat_request(self.model, self.turns, tools)
        if request.think and not can_think:
            request = replace(request, think=None)  # the server refuses think on other models
        return request

    def rename(self, title: str) -> None:
        if self.info is not None:
            self.info = replace(self.info, title=title)

    def set_tool_policy(self, policy: ToolPolicy) -> None:
        self.tool_policy = policy
        if self.info is not None:
            self.info = replace(self.info, tool_settings=policy.to_json())

    def set_options(self, options: ChatOptions) -> None:
        self.options = options
        if self.info is not None:
            self.info = replace(self.info, system=options.system, options=options.stored_options())
