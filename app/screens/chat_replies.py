"""The chat screen's replies: sending a message, the reply streaming into the view, saving both
(the message before the request, the reply about once a second and when it ends), and the
context meter that follows them.

A part of `ChatScreen` (app/screens/chat.py), which is built from it; it builds on the models
and saved-conversations parts. The tools part (chat_tools.py), built on this one, says which
tools a request offers and handles the calls a reply asks for.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from functools import partial

from textual import on, work

from app import streaming
from app.config import CHECKPOINT_SECONDS
from app.conversation import Turn, TurnState
from app.messages import ReplyChunk, ReplyEnded, ReplyWaiting
from app.protocol import ChatRequest, ToolDefinition
from app.screens.chat_conversations import ConversationsPart
from app.screens.chat_models import ModelsPart
from app.store import StoreError
from app.streaming import ReplyOutcome, finish
from app.widgets.context_meter import ContextMeter, context_limit, context_used
from app.widgets.conversation_view import ConversationView
from app.widgets.status_bar import StatusBar


class RepliesPart(ModelsPart, ConversationsPart):
    streaming: Turn | None  # the reply arriving (its conversation may be closed already)
    last_checkpoint: float

    def send(self, text: str) -> None:
        user = self.current.add_user_message(text)
        self.query_one(ConversationView).add_turn(user)
        self.start_reply(user)

    def tools_for_reply(self) -> tuple[tuple[ToolDefinition, ...], str]:
        raise NotImplementedError  # the tools part's: what the next request offers, and a note

    def reply_called_tools(self, reply: Turn) -> None:
        raise NotImplementedError  # the tools part's: runs the calls, then the reply goes on

    def start_reply(self, user: Turn | None) -> None:
        """Ask the current model for a reply to the conversation so far."""
        tools, note = self.tools_for_reply()
        can_think = not self.catalog.lacks(self.current.address, "thinking")
        request = self.current.request(can_think=can_think, tools=tools)
        reply = self.current.add_reply()
        reply.error = note  # shown once it ends, unless it ends in an error of its own
        self.streaming = reply
        self.query_one(ConversationView).add_turn(reply)
        self.stream_reply(request, user, reply)

    @work(exclusive=True, group="chat")
    async def stream_reply(self, request: ChatRequest, user: Turn | None, reply: Turn) -> None:
        """Cancelling this worker (the "chat" group) is Stop."""
        save = partial(self._save_before_request, user, reply)
        await streaming.stream_reply(self.client, request, _ReplyReports(self, reply), before=save)

    async def _save_before_request(self, user: Turn | None, reply: Turn) -> None:
        """The user's message is committed before the request goes out: in one job on the
        writer's thread, since each wait for that thread delays the reply."""
        current = self.current
        opened, options, model, info = current.opened, current.options, current.model, current.info
        tool_settings = current.tool_policy.to_json()

        def save() -> None:
            nonlocal info
            if info is None:
                info = self.store.create_conversation(
                    model, "", options.system, options.stored_options(), tool_settings=tool_settings
                )
            for turn in (user, reply):
                if turn is not None and turn.id is None:  # a reply that goes on is stored already
                    self.store.add_turn(info.id, turn)

        try:
            await self.writer.run(save)
        except StoreError as error:
            self.store_failed(error)
        finally:
            if current.opened == opened and current.info is None:  # unless another one was opened meanwhile
                current.info = info
        self.refresh_conversations()

    @on(ReplyWaiting)
    def _reply_waiting(self, waiting: ReplyWaiting) -> None:
        if waiting.turn.state == TurnState.STREAMING:
            waiting.turn.activity = waiting.activity
            self.query_one(ConversationView).update_turn(waiting.turn)

    @on(ReplyChunk)
    def _reply_chunk(self, chunk: ReplyChunk) -> None:
        if not (chunk.content or chunk.thinking):
            return
        turn = chunk.turn
        turn.activity = ""
        turn.content += chunk.content
        turn.thinking += chunk.thinking
        self.query_one(ConversationView).update_turn(turn)
        now = time.monotonic()
        if turn.id is not None and now - self.last_checkpoint >= CHECKPOINT_SECONDS:
            self.last_checkpoint = now
            self.writer.submit(self.store.update_turn, replace(turn))

    @on(ReplyEnded)
    def _reply_ended(self, ended: ReplyEnded) -> None:
        turn = ended.turn
        finish(turn, ended.outcome)
        if self.streaming is turn:
            self.streaming = None
        if turn.id is not None:
            self.writer.submit(self.store.update_turn, replace(turn))
        self.refresh_conversations()
        if ended.outcome.unreachable:
            self.refresh_models()
        if not self.current.holds(turn):
            return  # its conversation was closed meanwhile: saved, nothing more to show
        self.query_one(ConversationView).update_turn(turn)
        if turn.stats is not None:
            if speed := turn.stats.tokens_per_second:
                self.query_one(StatusBar).speed = f"{speed:.1f} tok/s"
            self.current.last_stats = turn.stats
            self.show_context()
            self.fetch_window(turn.model, turn.server)
        if turn.tool_calls:
            self.reply_called_tools(turn)

    def context_usage(self) -> tuple[int | None, int | None]:
        address = self.current.address
        limit = context_limit(
            self.current.options.parameter("num_ctx"),
            self.catalog.window(address),
            self.catalog.trained_length(address),
        )
        return context_used(self.current.last_stats), limit

    def show_context(self) -> None:
        """How full the model's context window is after the last reply (the meter warns)."""
        # Also called when a model's details arrive, maybe while the app is closing.
        for meter in self.query(ContextMeter):
            meter.show_usage(*self.context_usage())

    def on_unmount(self) -> None:
        """Quitting mid-reply keeps what arrived, marked stopped."""
        turn = self.streaming
        if turn is not None and turn.id is not None:
            turn.state, turn.error = TurnState.STOPPED, "Stopped when the app closed."
            self.writer.submit(self.store.update_turn, replace(turn))


@dataclass(frozen=True, slots=True)
class _ReplyReports:
    """What the stream of one reply reports, posted to the screen as messages."""

    screen: RepliesPart
    turn: Turn

    def reply_text(self, content: str, thinking: str) -> None:
        self.screen.post_message(ReplyChunk(self.turn, content, thinking))

    def reply_waiting(self, note: str) -> None:
        self.screen.post_message(ReplyWaiting(self.turn, note))

    def reply_ended(self, outcome: ReplyOutcome) -> None:
        self.screen.post_message(ReplyEnded(self.turn, outcome))
