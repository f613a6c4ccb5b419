"""The main screen: model picker, conversation and input; it owns the conversation's state.

Widgets post what happened (`PromptInput.Submitted`, `ModelPicker.Chosen`); workers post
`ServerStatus`, `ReplyChunk` and `ReplyEnded`; this screen decides what follows.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, TypeVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Label, Static

from app import streaming
from app.chat_options import ChatOptions, apply_set, describe
from app.client import OllamaClient, OllamaError, OllamaUnreachable
from app.commands import parse
from app.config import (
    CHECKPOINT_SECONDS,
    HEALTH_SECONDS,
    RECONNECT_SECONDS,
    STALE_STREAM_SECONDS,
    Settings,
)
from app.conversation import ConversationInfo, Turn, TurnState
from app.export import export_text, free_path, write_export
from app.messages import ReplyChunk, ReplyEnded, ReplyWaiting, ServerStatus
from app.protocol import ChatRequest, ChatStats, ModelDetails, ModelInfo, same_model
from app.screens.dialogs import AskText, Confirm
from app.store import INTERRUPTED_ERROR, SearchHit, StoreError
from app.store_writer import StoreWriter
from app.streaming import ReplyOutcome, finish
from app.tables import format_table, running_rows
from app.text import human_size, sanitize
from app.widgets.context_meter import ContextMeter, context_fraction, context_limit, context_used
from app.widgets.conversation_list import ConversationList
from app.widgets.conversation_view import ConversationView
from app.widgets.model_picker import ModelPicker
from app.widgets.prompt_input import PromptInput
from app.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from app.screens.pull import PullScreen

T = TypeVar("T")
UNREACHABLE_HINT = (
    "Cannot reach Ollama at {host}. Start it with: ollama serve — or point OLLAMA_HOST or "
    "--host at a running server. Trying again every few seconds…"
)
MAX_IMAGE_BYTES = 20_000_000  # read on the UI thread and sent base64 in every later request
CONTEXT_WARNING = 0.8  # warn once the conversation fills this much of the model's window
# What an image attachment must start with: PNG, JPEG, GIF, WebP (RIFF....WEBP).
IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"RIFF")


class ChatScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "stop", "Stop", tooltip="stop the reply that is arriving (the partial reply stays)"),
        # as in `ollama run`; only while a reply arrives, else Ctrl+C keeps its usual meaning
        Binding("ctrl+c", "stop_reply", "Stop", show=False, priority=True),
        Binding("ctrl+n", "new_conversation", "New chat", tooltip="start a new conversation"),
        Binding("ctrl+o", "focus_models", "Models", tooltip="focus the model picker (Enter picks, Esc goes back)"),
        Binding(
            "ctrl+s",
            "focus_conversations",
            "Chats",
            tooltip="focus saved conversations (Enter opens, R renames, D deletes)",
        ),
        Binding("ctrl+f", "search", "Search", tooltip="search all conversations"),
        Binding(
            "ctrl+r", "retry", "Retry", show=False, tooltip="ask again for the last reply (it replaces the old one)"
        ),
        Binding(
            "ctrl+t", "toggle_thinking", "Thinking", show=False, tooltip="fold or unfold the thinking of the last reply"
        ),
        Binding(
            "f2", "settings", "Settings", show=False, tooltip="this conversation's system prompt and model options"
        ),
        # priority: over the input's own Ctrl+Y (redo)
        Binding(
            "ctrl+y", "copy_reply", "Copy", priority=True, tooltip="copy the last reply (terminal clipboard, OSC 52)"
        ),
        Binding("f1", "help", "Help", tooltip="this help"),
    ]

    def __init__(self, settings: Settings, client: OllamaClient, writer: StoreWriter) -> None:
        super().__init__()
        self.settings = settings
        self.client = client
        self.writer = writer
        self.store = writer.store
        self.models: tuple[ModelInfo, ...] = ()
        self.model = ""
        self.conversation: ConversationInfo | None = None
        self.turns: list[Turn] = []
        self.streaming: Turn | None = None
        self.editing: Turn | None = None  # the user message being edited for a resend
        self._reachable: bool | None = None
        self._poke = asyncio.Event()  # wakes the server watcher early
        self._last_checkpoint = 0.0
        self._model_override = settings.model  # --model wins over the first conversation's own
        self.options = ChatOptions()  # the open conversation's settings
        self.details: dict[str, ModelDetails] = {}  # /api/show per model: capabilities, window
        self.windows: dict[str, int] = {}  # context window each model was loaded with (/api/ps)
        self.images: list[tuple[str, str]] = []  # (file name, base64) for the next message
        self._context_warned = False
        self._last_stats: ChatStats | None = None  # of the last reply, for the context meter

    def compose(self) -> ComposeResult:
        with Horizontal(id="status-row"):
            yield StatusBar(id="status")
            yield ContextMeter(id="context")
        yield Static(id="banner", classes="-hidden", markup=False)
        with Horizontal(id="main"):
            with Vertical(id="sidebar"):
                yield Label("Models", classes="pane-title")
                yield ModelPicker(id="models")
                yield Label("Conversations", classes="pane-title")
                yield ConversationList(id="conversations")
            with Vertical(id="chat"):
                yield ConversationView(id="conversation")
                yield PromptInput(id="prompt")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        status = self.query_one(StatusBar)
        status.host = self.client.base_url
        status.notice = {"memory": "storage: memory only", "read-only": "storage: read-only"}.get(self.store.mode, "")
        if self.store.notice:
            self.notify(self.store.notice, title="Conversation storage", severity="warning", timeout=15, markup=False)
        self._open_initial_conversation()
        self._show_hint()
        self.refresh_conversations()
        self.query_one(PromptInput).focus()
        self.watch_server()

    # -- conversations ----------------------------------------------------------------------

    def _open_initial_conversation(self) -> None:
        info: ConversationInfo | None = None
        try:
            self.store.recover_interrupted(STALE_STREAM_SECONDS)
            if self.settings.session_id is not None:
                info = self.store.conversation(self.settings.session_id)
                if info is None:
                    self.notify(f"No conversation with id {self.settings.session_id}.", severity="error")
            elif self.settings.continue_last:
                info = self.store.latest()
            self.model = (
                self.settings.model or (info.model if info else "") or self.store.get_setting("last_model") or ""
            )
        except StoreError as error:
            self._store_failed(error)
        if info is not None:
            try:
                self.open_conversation(info, self.store.turns(info.id))
            except StoreError as error:
                self._store_failed(error)
        self._model_override = None
        self.query_one(StatusBar).model = self.model

    def open_conversation(self, info: ConversationInfo, turns: list[Turn], at_message: int | None = None) -> None:
        self.action_stop()
        for turn in turns:  # left streaming by a copy of the app that died (or is still writing)
            if turn.state == TurnState.STREAMING:
                turn.state, turn.error = TurnState.INTERRUPTED, INTERRUPTED_ERROR
        self.conversation, self.turns, self.editing = info, turns, None
        self.options, self.images, self._context_warned = ChatOptions.from_stored(info.system, info.options), [], False
        if info.model and not self._model_override:
            self.select_model(info.model, announce=False)
        view = self.query_one(ConversationView)
        view.set_turns(turns)
        target = next((turn for turn in turns if turn.id == at_message), None)
        if target is not None:
            view.scroll_to_turn(target)
        last = next((turn for turn in reversed(turns) if turn.stats), None)
        self.show_context(last.stats if last else None)
        self.refresh_conversations()

    def action_new_conversation(self) -> None:
        self.action_stop()
        self.conversation, self.turns, self.editing = None, [], None
        self.options, self.images, self._context_warned = ChatOptions(), [], False
        self.query_one(ConversationView).clear()
        self.show_context(None)
        self.query_one(PromptInput).focus()
        self.refresh_conversations()

    @work(exclusive=True, group="conversations")
    async def refresh_conversations(self) -> None:
        """Redraw the list once the writes queued before it are done."""
        try:
            conversations = await self.writer.run(self.store.conversations, 500)
        except StoreError as error:
            self._store_failed(error)
            return
        current = self.conversation.id if self.conversation else None
        self.query_one(ConversationList).show(conversations, current)

    def action_focus_conversations(self) -> None:
        self.query_one(ConversationList).focus()

    @on(ConversationList.Chosen)
    def _conversation_chosen(self, event: ConversationList.Chosen) -> None:
        self._open_by_id(event.conversation_id)
        self.query_one(PromptInput).focus()

    @work(exclusive=True, group="open")
    async def _open_by_id(self, conversation_id: int, at_message: int | None = None) -> None:
        if self.conversation is not None and self.conversation.id == conversation_id:
            target = next((turn for turn in self.turns if turn.id == at_message), None)
            if target is not None:  # already open (perhaps with a reply arriving): just go there
                self.query_one(ConversationView).scroll_to_turn(target)
            return
        # Through the writer: the read waits for queued saves (a reply just stopped) and the
        # UI does not wait for the disk.
        info = await self._read(self.store.conversation, conversation_id)
        if info is None:
            self.notify("That conversation no longer exists.", severity="warning")
            self.refresh_conversations()
            return
        turns = await self._read(self.store.turns, conversation_id)
        if turns is not None:
            self.open_conversation(info, turns, at_message)

    async def _read(self, read: Callable[..., T], *args: object) -> T | None:
        """A store read after the queued writes; None (and a message) when the store fails."""
        try:
            return await self.writer.run(read, *args)
        except StoreError as error:
            self._store_failed(error)
            return None

    @on(ConversationList.RenameAsked)
    def _rename_asked(self, event: ConversationList.RenameAsked) -> None:
        self._ask_rename(event.conversation_id)

    @work(group="ask")
    async def _ask_rename(self, conversation_id: int) -> None:
        info = await self._read(self.store.conversation, conversation_id)
        if info is None:
            return

        def rename(title: str | None) -> None:
            if title:
                self.rename_conversation(conversation_id, title)

        self.app.push_screen(AskText("New title for this conversation:", info.title), rename)

    def rename_conversation(self, conversation_id: int, title: str) -> None:
        self.writer.submit(self.store.rename, conversation_id, title)
        if self.conversation is not None and self.conversation.id == conversation_id:
            self.conversation = replace(self.conversation, title=title)
        self.refresh_conversations()

    @on(ConversationList.DeleteAsked)
    def _delete_asked(self, event: ConversationList.DeleteAsked) -> None:
        self._ask_delete(event.conversation_id)

    @work(group="ask")
    async def _ask_delete(self, conversation_id: int) -> None:
        info = await self._read(self.store.conversation, conversation_id)
        if info is None:
            return

        def delete(yes: bool | None) -> None:
            if yes:
                self.delete_conversation(conversation_id)

        title = sanitize(info.title) or "this conversation"
        self.app.push_screen(
            Confirm(f"Delete “{title}” and its {info.message_count} messages? This cannot be undone."), delete
        )

    def delete_conversation(self, conversation_id: int) -> None:
        if self.conversation is not None and self.conversation.id == conversation_id:
            self.action_new_conversation()
        self.writer.submit(self.store.delete, conversation_id)
        self.refresh_conversations()
        self.notify("Conversation deleted.")

    def action_search(self, query: str = "") -> None:
        def open_hit(hit: SearchHit | None) -> None:
            if hit is not None:
                self._open_by_id(hit.conversation_id, hit.message_id)
                self.query_one(PromptInput).focus()

        from app.screens.search import SearchScreen  # screens load when first opened: quick start

        self.app.push_screen(SearchScreen(self.store, query), open_hit)

    def _store_failed(self, error: StoreError) -> None:
        self.notify(str(error), title="Conversation storage", severity="error", timeout=15, markup=False)

    # -- the server -------------------------------------------------------------------------

    @work(exclusive=True, group="watch")
    async def watch_server(self) -> None:
        """Keeps the model list and the reachability current; reconnects by itself."""
        while True:
            try:
                # Both at once: the model list does not wait for a round trip to the version.
                models, version = await asyncio.gather(self.client.list_models(), self.client.version())
                self.post_message(ServerStatus(True, version, tuple(models)))
                wait = HEALTH_SECONDS
            except OllamaError as error:
                # Not running is the usual case: say how to fix it. Otherwise (an untrusted
                # certificate, a proxy's error page) the client's own sentence says what is wrong.
                plain = isinstance(error, OllamaUnreachable) and error.tls_problem is None
                hint = UNREACHABLE_HINT.format(host=self.client.base_url) if plain else str(error)
                self.post_message(ServerStatus(False, error=hint))
                wait = RECONNECT_SECONDS
            self._poke.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._poke.wait(), wait)

    @on(ServerStatus)
    def _server_status(self, status: ServerStatus) -> None:
        self._reachable = status.reachable
        bar = self.query_one(StatusBar)
        bar.reachable, bar.version = status.reachable, status.version
        banner = self.query_one("#banner", Static)
        banner.set_class(status.reachable, "-hidden")
        if not status.reachable:
            banner.update(sanitize(status.error))
            self.query_one(ModelPicker).show(self.models, self.model, reachable=False)
            return
        self.models = status.models
        if not self.model and self.models:
            self.select_model(self.models[0].name, announce=False)
        self.query_one(ModelPicker).show(self.models, self.model)

    def refresh_models(self) -> None:
        self._poke.set()

    # -- models -----------------------------------------------------------------------------

    def resolve_model(self, name: str) -> str | None:
        """The installed model a name means (`llama3.2` is `llama3.2:latest`), else None."""
        return next((model.name for model in self.models if same_model(model.name, name)), None)

    def select_model(self, name: str, announce: bool = True) -> None:
        self.model = name
        self.query_one(StatusBar).model = name
        self._show_hint()
        self.query_one(ModelPicker).show(self.models, name, reachable=self._reachable is not False)
        self.fetch_details(name)
        self.writer.submit(self.store.set_setting, "last_model", name)
        if self.conversation is not None:
            self.writer.submit(self.store.set_model, self.conversation.id, name)
        if announce:
            self.notify(f"Model for the next message: {name}", markup=False)

    def _show_hint(self) -> None:
        """What an empty conversation says: who you are talking to, or how to get a model."""
        view = self.query_one(ConversationView)
        if self.model:
            view.empty_text = f"New conversation with {self.model} · Enter sends · /help"
        else:
            view.empty_text = "No model yet: Ctrl+O picks one, /pull NAME gets one"
        view.refresh()

    @work(group="details")
    async def fetch_details(self, name: str) -> None:
        """Capabilities and context window of a model, fetched once (they gate thinking,
        images and the context meter)."""
        if name in self.details:
            return
        try:
            self.details[name] = await self.client.show(name)
        except OllamaError:
            return  # unknown for now: nothing is refused on a guess
        if name == self.model:
            self.show_context(self._last_stats)

    @on(ModelPicker.Refresh)
    def _picker_refresh(self) -> None:
        self.refresh_models()

    @on(ModelPicker.Asked)
    def _picker_asked(self, event: ModelPicker.Asked) -> None:
        if event.action == "pull":
            self.command_pull("")
        elif event.name:
            getattr(self, f"command_{event.action}")(event.name)

    @on(ModelPicker.Chosen)
    def _model_chosen(self, event: ModelPicker.Chosen) -> None:
        self.select_model(event.name)
        self.query_one(PromptInput).focus()

    def action_focus_models(self) -> None:
        self.refresh_models()
        self.query_one(ModelPicker).focus()

    # -- sending and streaming --------------------------------------------------------------

    @on(PromptInput.Submitted)
    def _submitted(self, event: PromptInput.Submitted) -> None:
        prompt = self.query_one(PromptInput)
        text = event.text.strip()
        if text.startswith("/"):
            prompt.clear()
            self.run_command(text)
            return
        if self.streaming is not None:
            self.notify("A reply is still arriving. Esc stops it.", severity="warning")
            return
        if not self.model:
            self.notify("No model to send to: pick one with Ctrl+O or /model NAME.", severity="warning")
            return
        prompt.clear()
        if self.editing is not None:
            self._drop_from(self.editing)
        self.send(event.text)

    @on(PromptInput.PageRequested)
    def _page(self, event: PromptInput.PageRequested) -> None:
        view = self.query_one(ConversationView)
        view.action_page_down() if event.down else view.action_page_up()

    @on(PromptInput.RecallLast)
    def _recall_last(self) -> None:
        """Up in the empty input brings back the last message to send again or change; unlike
        /edit it replaces nothing."""
        last = next((turn for turn in reversed(self.turns) if turn.role == "user"), None)
        if last is not None:
            prompt = self.query_one(PromptInput)
            prompt.text = last.content
            prompt.move_cursor(prompt.document.end)

    def _drop_from(self, first: Turn) -> None:
        """Remove a turn and everything after it, from the view and the store."""
        self.editing = None
        if first not in self.turns:
            return
        index = self.turns.index(first)
        view = self.query_one(ConversationView)
        for turn in self.turns[index:]:
            view.remove_turn(turn)
            if turn.id is not None:
                self.writer.submit(self.store.delete_turn, turn.id)
        del self.turns[index:]

    def send(self, text: str) -> None:
        images = tuple(data for _, data in self.images)
        self.images = []
        user = Turn("user", text, images=images, created_at=time.time())
        self.turns.append(user)
        self.query_one(ConversationView).add_turn(user)
        self.start_reply(user)

    def start_reply(self, user: Turn | None) -> None:
        """Ask the current model for a reply to the conversation so far."""
        request = self.options.chat_request(self.model, self.turns)
        details = self.details.get(self.model)
        if request.think and details is not None and "thinking" not in details.capabilities:
            request = replace(request, think=None)  # the server refuses think on other models
        reply = Turn("assistant", "", model=self.model, state=TurnState.STREAMING, created_at=time.time())
        self.turns.append(reply)
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
        options, model = self.options, self.model
        conversation = self.conversation

        def save() -> None:
            nonlocal conversation
            if conversation is None:
                conversation = self.store.create_conversation(model, "", options.system, options.stored_options())
            for turn in (user, reply):
                if turn is not None:
                    self.store.add_turn(conversation.id, turn)

        try:
            await self.writer.run(save)
        except StoreError as error:
            self._store_failed(error)
        finally:
            if self.conversation is None:  # unless another one was opened meanwhile
                self.conversation = conversation
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
        if turn.id is not None and now - self._last_checkpoint >= CHECKPOINT_SECONDS:
            self._last_checkpoint = now
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
        if not any(turn is shown for shown in self.turns):
            return  # its conversation was closed meanwhile: saved, nothing more to show
        self.query_one(ConversationView).update_turn(turn)
        if turn.stats is not None:
            if speed := turn.stats.tokens_per_second:
                self.query_one(StatusBar).speed = f"{speed:.1f} tok/s"
            self.show_context(turn.stats, warn=True)
            self.fetch_window(turn.model)

    @work(group="window")
    async def fetch_window(self, model: str) -> None:
        """The window the server really loaded the model with (`/api/ps`), often far below the
        model's trained length: the one that decides when old messages are dropped."""
        try:
            running = await self.client.running()
        except OllamaError:
            return
        window = next((m.context_length for m in running if same_model(m.name, model) and m.context_length), None)
        if window is not None:
            self.windows[model] = window
            if model == self.model:
                self.show_context(self._last_stats, warn=True)

    def show_context(self, stats: ChatStats | None, warn: bool = False) -> None:
        """How full the model's context window is after the last reply; warn once near full."""
        self._last_stats = stats
        details = self.details.get(self.model)
        limit = context_limit(
            self.options.parameter("num_ctx"), self.windows.get(self.model), details.context_length if details else None
        )
        used = context_used(stats)
        self.query_one(ContextMeter).show_usage(used, limit)
        if warn and used and limit and context_fraction(used, limit) >= CONTEXT_WARNING and not self._context_warned:
            self._context_warned = True
            self.notify(
                f"This conversation fills {context_fraction(used, limit):.0%} of the context window ({limit} tokens). "
                "Beyond it Ollama silently drops the oldest messages: /clear starts afresh, "
                "or raise it with /set parameter num_ctx N.",
                title="Context almost full",
                severity="warning",
                timeout=12,
            )

    def action_toggle_thinking(self) -> None:
        if not self.query_one(ConversationView).toggle_thinking():
            self.notify("No reply with thinking to show.", severity="warning")

    def action_settings(self) -> None:
        from app.screens.settings import SettingsScreen

        self.app.push_screen(SettingsScreen(self.options), self._apply_options)

    def _apply_options(self, options: ChatOptions | None) -> None:
        if options is None:
            return
        self.options = options
        if self.conversation is not None:
            conversation_id = self.conversation.id
            stored = options.stored_options()
            self.conversation = replace(self.conversation, system=options.system, options=stored)
            self.writer.submit(lambda: self.store.set_settings(conversation_id, system=options.system, options=stored))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "stop_reply":
            return self.streaming is not None
        return True

    def action_stop_reply(self) -> None:
        self.workers.cancel_group(self, "chat")

    def action_stop(self) -> None:
        if self.streaming is not None:
            self.workers.cancel_group(self, "chat")
        elif self.editing is not None:
            self.editing = None
            self.query_one(PromptInput).clear()
            self.notify("Edit cancelled.")
        elif self.focused is not self.query_one(PromptInput):
            self.query_one(PromptInput).focus()

    def action_retry(self) -> None:
        """Ask again for the last reply: the old one goes, the history up to it stays."""
        if self.streaming is not None or not self.turns or not self.model:
            return
        if self.turns[-1].role == "assistant":
            self._drop_from(self.turns[-1])
        self.start_reply(None)

    def action_copy_reply(self) -> None:
        text = self.query_one(ConversationView).last_reply_text()
        if not text:
            self.notify("No reply to copy yet.", severity="warning")
            return
        self.app.copy_to_clipboard(text)
        self.notify(f"Copied the last reply ({len(text)} characters).")

    def action_help(self) -> None:
        from app.screens.help import HelpScreen

        self.app.push_screen(HelpScreen(self.BINDINGS))

    # -- slash commands ---------------------------------------------------------------------

    def run_command(self, line: str) -> None:
        command, name, argument = parse(line)
        if command is None:
            self.notify(f"Unknown command {name}. Type /help for the list.", severity="warning", markup=False)
            return
        getattr(self, f"command_{command.action}")(argument)

    def command_model(self, name: str) -> None:
        if not name:
            self.action_focus_models()
            return
        resolved = self.resolve_model(name)
        if resolved is None and self.models:
            self.notify(
                f"No local model named {name}. Pull it with: ollama pull {name}", severity="error", markup=False
            )
            return
        self.select_model(resolved or name)

    def command_new(self, _: str) -> None:
        self.action_new_conversation()

    def command_retry(self, _: str) -> None:
        self.action_retry()

    def command_copy(self, _: str) -> None:
        self.action_copy_reply()

    def command_help(self, _: str) -> None:
        self.action_help()

    def command_quit(self, _: str) -> None:
        self.app.exit()

    def command_search(self, query: str) -> None:
        self.action_search(query)

    def command_edit(self, _: str) -> None:
        """Put the last user message back in the input; sending it replaces it and what followed."""
        if self.streaming is not None:
            self.notify("A reply is still arriving. Esc stops it.", severity="warning")
            return
        last = next((turn for turn in reversed(self.turns) if turn.role == "user"), None)
        if last is None:
            self.notify("No message to edit yet.", severity="warning")
            return
        self.editing = last
        prompt = self.query_one(PromptInput)
        prompt.text = last.content
        prompt.move_cursor(prompt.document.end)
        prompt.focus()
        self.notify("Editing your last message: Enter sends it again, Esc cancels.")

    def command_set(self, argument: str) -> None:
        try:
            change = apply_set(self.options, argument)
        except ValueError as error:
            self.notify(str(error), severity="error", markup=False)
            return
        self._apply_options(change.options)
        self.notify(change.message, markup=False)

    def command_settings(self, _: str) -> None:
        self.action_settings()

    def command_show(self, argument: str) -> None:
        if argument.lower() in ("info", "license", "modelfile", "parameters", "template"):
            self.command_info("")  # the details dialog has each of these
            return
        if argument:
            self.notify("Use /show for this conversation's settings, or /show info for the model.", severity="warning")
            return
        lines = describe(self.options)
        self.notify(
            "\n".join(lines), title=f"Settings for {self.model or 'this conversation'}", markup=False, timeout=12
        )

    def command_think(self, _: str) -> None:
        self.action_toggle_thinking()

    def command_image(self, argument: str) -> None:
        """Attach an image to the next message; only vision models can see one."""
        if not argument:
            self.notify("Usage: /image PATH", severity="warning")
            return
        details = self.details.get(self.model)
        if details is not None and "vision" not in details.capabilities:
            self.notify(
                f"{self.model} cannot see images (it has no vision capability). Switch to a vision model, e.g. /model llava, first.",
                severity="error",
                markup=False,
            )
            return
        try:
            path = Path(argument.strip("\"'")).expanduser()
            size = path.stat().st_size
            if not path.is_file() or size > MAX_IMAGE_BYTES:
                reason = "not a file" if not path.is_file() else f"larger than {human_size(MAX_IMAGE_BYTES)}"
                self.notify(f"Cannot attach {argument}: {reason}.", severity="error", markup=False)
                return
            data = path.read_bytes()
        except (OSError, RuntimeError, ValueError) as error:  # missing, unreadable, ~nobody, NUL
            self.notify(
                f"Cannot read {argument}: {getattr(error, 'strerror', None) or error}.", severity="error", markup=False
            )
            return
        if not data.startswith(IMAGE_MAGIC) or (data.startswith(b"RIFF") and data[8:12] != b"WEBP"):
            self.notify(f"{path.name} is not a PNG, JPEG, GIF or WebP image.", severity="error", markup=False)
            return
        self.images.append((path.name, base64.b64encode(data).decode("ascii")))
        self.notify(f"Attached {path.name} ({human_size(len(data))}) to your next message.", markup=False)

    def command_pull(self, name: str) -> None:
        if not name:

            def answered(answer: str | None) -> None:
                if answer:
                    self.command_pull(answer)

            self.app.push_screen(AskText("Model to pull (e.g. llama3.2, qwen3:4b):"), answered)
            return

        def pulled(model: str | None) -> None:
            if model:
                self.notify(f"{model} is ready.", markup=False)
                self.refresh_models()

        from app.screens.pull import PullScreen

        self.app.push_screen(PullScreen(self.client, name, report_to=self), pulled)

    def on_pull_screen_progressed(self, event: PullScreen.Progressed) -> None:
        """A pull sent to the background reports here."""
        self.query_one(StatusBar).activity = event.snapshot.summary()

    def on_pull_screen_ended(self, event: PullScreen.Ended) -> None:
        self.query_one(StatusBar).activity = ""
        if event.error:
            self.notify(event.error, title="Pull failed", severity="error", markup=False)
        elif not event.cancelled:
            self.notify(f"{event.model} is ready.", markup=False)
            self.refresh_models()

    def command_info(self, name: str) -> None:
        model = name or self.model
        if not model:
            self.notify("No model to show: pick one first.", severity="warning")
            return

        def closed(deleted: str | None) -> None:
            if deleted:
                self._forget_model(deleted)

        from app.screens.model_details import ModelDetailsScreen

        self.app.push_screen(ModelDetailsScreen(self.client, model), closed)

    def command_rm(self, name: str) -> None:
        if not name:
            self.notify("Usage: /rm NAME", severity="warning")
            return
        self.delete_model(self.resolve_model(name) or name)

    @work(group="models")
    async def delete_model(self, name: str) -> None:
        try:
            from app.screens.model_details import confirm_delete

            deleted = await confirm_delete(self.app, self.client, name)
        except OllamaError as error:
            self.notify(str(error), severity="error", markup=False)
            return
        if deleted:
            self.notify(f"Deleted {name}.", markup=False)
            self._forget_model(name)

    def _forget_model(self, name: str) -> None:
        """After a delete: a deleted current model gives way to another on the next refresh."""
        if same_model(name, self.model):
            self.model = ""
            self.query_one(StatusBar).model = ""
            self._show_hint()
        self.refresh_models()

    @work(group="models")
    async def command_ps(self, _: str) -> None:
        try:
            running = await self.client.running()
        except OllamaError as error:
            self.notify(str(error), severity="error", markup=False)
            return
        if not running:
            self.notify("No model is loaded in memory right now.")
            return
        table = format_table(running_rows(running, datetime.now(UTC)))
        self.notify(table, title="Loaded models", markup=False, timeout=15)

    def command_rename(self, title: str) -> None:
        if self.conversation is None:
            self.notify("Nothing to rename yet: send a message first.", severity="warning")
        elif not title:
            self._ask_rename(self.conversation.id)
        else:
            self.rename_conversation(self.conversation.id, title)

    def command_delete(self, _: str) -> None:
        if self.conversation is None:
            self.notify("Nothing to delete: this conversation is not saved yet.", severity="warning")
        else:
            self._ask_delete(self.conversation.id)

    @work(group="export")
    async def command_export(self, argument: str) -> None:
        """`/export [md|json] [FILE]`: a new file in the current folder unless FILE is given."""
        if self.conversation is None:
            self.notify("Nothing to export yet: send a message first.", severity="warning")
            return
        words = argument.split(maxsplit=1)
        format = "md"
        if words and words[0].lower() in ("md", "json"):
            format = words.pop(0).lower()
        info = await self._read(self.store.conversation, self.conversation.id) or self.conversation
        target = words[0] if words else "the current folder"
        try:
            path = Path(words[0]).expanduser() if words else free_path(Path.cwd(), info, format)
            write_export(path, export_text(info, self.turns, format))
        except FileExistsError:
            self.notify(f"{target} already exists; nothing was overwritten.", severity="error", markup=False)
        except (OSError, RuntimeError, ValueError) as error:  # unwritable, ~nobody, a NUL byte
            self.notify(
                f"Cannot write {target}: {getattr(error, 'strerror', None) or error}.", severity="error", markup=False
            )
        else:
            self.notify(f"Saved this conversation to {path}.", markup=False)

    def on_unmount(self) -> None:
        """Quitting mid-reply keeps what arrived, marked stopped."""
        turn = self.streaming
        if turn is not None and turn.id is not None:
            turn.state, turn.error = TurnState.STOPPED, "Stopped when the app closed."
            self.writer.submit(self.store.update_turn, replace(turn))


@dataclass(frozen=True, slots=True)
class _ReplyReports:
    """What the stream of one reply reports, posted to the screen as messages."""

    screen: ChatScreen
    turn: Turn

    def reply_text(self, content: str, thinking: str) -> None:
        self.screen.post_message(ReplyChunk(self.turn, content, thinking))

    def reply_waiting(self, note: str) -> None:
        self.screen.post_message(ReplyWaiting(self.turn, note))

    def reply_ended(self, outcome: ReplyOutcome) -> None:
        self.screen.post_message(ReplyEnded(self.turn, outcome))
