"""The main screen: model picker, conversation and input; it owns the conversation's state.

Widgets post what happened (`PromptInput.Submitted`, `ModelPicker.Chosen`); workers post
`ServerStatus`, `ReplyChunk` and `ReplyEnded`; this screen decides what follows.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Label, Static

from app.client import OllamaClient, OllamaError, OllamaUnreachable
from app.config import CHECKPOINT_SECONDS, FLUSH_SECONDS, HEALTH_SECONDS, RECONNECT_SECONDS, Settings
from app.conversation import Turn, TurnState, history
from app.messages import ReplyChunk, ReplyEnded, ServerStatus
from app.protocol import ChatRequest, ModelInfo
from app.screens.help import HelpScreen
from app.store import ConversationInfo, StoreError
from app.store_writer import StoreWriter
from app.widgets.conversation_view import ConversationView
from app.widgets.model_picker import ModelPicker
from app.widgets.prompt_input import PromptInput
from app.widgets.status_bar import StatusBar

UNREACHABLE_HINT = (
    "Cannot reach Ollama at {host}. Start it with `ollama serve`, or point OLLAMA_HOST or "
    "--host at a running server. Retrying every few seconds…"
)


class ChatScreen(Screen[None]):
    BINDINGS = [
        Binding("escape", "stop", "Stop"),
        Binding("ctrl+n", "new_conversation", "New chat"),
        Binding("ctrl+o", "focus_models", "Models"),
        Binding("ctrl+r", "retry", "Retry"),
        Binding("ctrl+y", "copy_reply", "Copy reply", priority=True),  # over the input's redo
        Binding("f1", "help", "Help"),
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
        self._reachable: bool | None = None
        self._poke = asyncio.Event()  # wakes the server watcher early
        self._last_checkpoint = 0.0

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")
        yield Static(id="banner", classes="-hidden", markup=False)
        with Horizontal(id="main"):
            with Vertical(id="sidebar"):
                yield Label("Models", classes="pane-title")
                yield ModelPicker(id="models")
            with Vertical(id="chat"):
                yield ConversationView(id="conversation")
                yield PromptInput(id="prompt")
        yield Footer()

    def on_mount(self) -> None:
        status = self.query_one(StatusBar)
        status.host = self.client.base_url
        status.notice = {"memory": "storage: memory only", "read-only": "storage: read-only"}.get(self.store.mode, "")
        if self.store.notice:
            self.notify(self.store.notice, title="Conversation storage", severity="warning", timeout=15, markup=False)
        self._open_initial_conversation()
        self.query_one(PromptInput).focus()
        self.watch_server()

    # -- conversations ----------------------------------------------------------------------

    def _open_initial_conversation(self) -> None:
        info: ConversationInfo | None = None
        try:
            self.store.recover_interrupted()
            if self.settings.session_id is not None:
                info = self.store.conversation(self.settings.session_id)
                if info is None:
                    self.notify(f"No conversation with id {self.settings.session_id}.", severity="error")
            elif self.settings.continue_last:
                info = self.store.latest()
            self.model = self.settings.model or (info.model if info else "") or self.store.get_setting("last_model") or ""
        except StoreError as error:
            self._store_failed(error)
        if info is not None:
            self.open_conversation(info)
        self.query_one(StatusBar).model = self.model

    def open_conversation(self, info: ConversationInfo) -> None:
        self.action_stop()
        try:
            turns = self.store.turns(info.id)
        except StoreError as error:
            self._store_failed(error)
            return
        self.conversation, self.turns = info, turns
        if info.model and not self.settings.model:
            self.select_model(info.model, announce=False)
        self.query_one(ConversationView).set_turns(turns)

    def action_new_conversation(self) -> None:
        self.action_stop()
        self.conversation, self.turns = None, []
        self.query_one(ConversationView).clear()
        self.query_one(PromptInput).focus()

    def _store_failed(self, error: StoreError) -> None:
        self.notify(str(error), title="Conversation storage", severity="error", timeout=15, markup=False)

    # -- the server -------------------------------------------------------------------------

    @work(exclusive=True, group="watch")
    async def watch_server(self) -> None:
        """Keeps the model list and the reachability current; reconnects by itself."""
        while True:
            try:
                version = await self.client.version()
                models = tuple(await self.client.list_models())
                self.post_message(ServerStatus(True, version, models))
                wait = HEALTH_SECONDS
            except OllamaError as error:
                self.post_message(ServerStatus(False, error=str(error)))
                wait = RECONNECT_SECONDS
            self._poke.clear()
            try:
                await asyncio.wait_for(self._poke.wait(), wait)
            except TimeoutError:
                pass

    @on(ServerStatus)
    def _server_status(self, status: ServerStatus) -> None:
        self._reachable = status.reachable
        bar = self.query_one(StatusBar)
        bar.reachable, bar.version = status.reachable, status.version
        banner = self.query_one("#banner", Static)
        banner.set_class(status.reachable, "-hidden")
        if not status.reachable:
            banner.update(UNREACHABLE_HINT.format(host=self.client.base_url))
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
        wanted = name.strip().lower()
        for candidate in (wanted, f"{wanted}:latest"):
            for model in self.models:
                if model.name.lower() == candidate:
                    return model.name
        return None

    def select_model(self, name: str, announce: bool = True) -> None:
        self.model = name
        self.query_one(StatusBar).model = name
        self.query_one(ModelPicker).show(self.models, name, reachable=self._reachable is not False)
        self.writer.submit(self.store.set_setting, "last_model", name)
        if self.conversation is not None:
            self.writer.submit(self.store.set_model, self.conversation.id, name)
        if announce:
            self.notify(f"Model for the next message: {name}", markup=False)

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
        self.send(event.text)

    def send(self, text: str) -> None:
        user = Turn("user", text, created_at=time.time())
        self.turns.append(user)
        self.query_one(ConversationView).add_turn(user)
        self.start_reply(user)

    def start_reply(self, user: Turn | None) -> None:
        """Ask the current model for a reply to the conversation so far."""
        system = self.conversation.system if self.conversation else ""
        request = ChatRequest(self.model, history(self.turns, system))
        reply = Turn("assistant", "", model=self.model, state=TurnState.STREAMING, created_at=time.time())
        self.turns.append(reply)
        self.streaming = reply
        self.query_one(ConversationView).add_turn(reply)
        self.stream_reply(request, user, reply)

    @work(exclusive=True, group="chat")
    async def stream_reply(self, request: ChatRequest, user: Turn | None, reply: Turn) -> None:
        await self._save_before_request(user, reply)
        content: list[str] = []
        thinking: list[str] = []
        ended = ReplyEnded(reply, stopped=True)
        last = time.monotonic()
        try:
            async for chunk in self.client.chat(request):
                content.append(chunk.content)
                thinking.append(chunk.thinking)
                if chunk.done:
                    ended = ReplyEnded(reply, stats=chunk.stats)
                elif time.monotonic() - last >= FLUSH_SECONDS:
                    self.post_message(ReplyChunk(reply, "".join(content), "".join(thinking)))
                    content.clear(), thinking.clear()
                    last = time.monotonic()
        except OllamaError as error:
            ended = ReplyEnded(reply, error=str(error), unreachable=isinstance(error, OllamaUnreachable))
        finally:  # on Stop (cancellation) too: keep what arrived, then say how it ended
            self.post_message(ReplyChunk(reply, "".join(content), "".join(thinking)))
            self.post_message(ended)

    async def _save_before_request(self, user: Turn | None, reply: Turn) -> None:
        """The user's message is committed before the request goes out."""
        try:
            if self.conversation is None:
                self.conversation = await self.writer.run(self.store.create_conversation, self.model)
            if user is not None:
                await self.writer.run(self.store.add_turn, self.conversation.id, user)
            await self.writer.run(self.store.add_turn, self.conversation.id, reply)
        except StoreError as error:
            self._store_failed(error)

    @on(ReplyChunk)
    def _reply_chunk(self, chunk: ReplyChunk) -> None:
        if not (chunk.content or chunk.thinking):
            return
        turn = chunk.turn
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
        if ended.error:
            turn.state = TurnState.INTERRUPTED if turn.content else TurnState.ERROR
            turn.error = ended.error
        elif ended.stopped:
            turn.state, turn.error = TurnState.STOPPED, "Stopped."
        else:
            turn.state, turn.stats = TurnState.COMPLETE, ended.stats
            speed = ended.stats.tokens_per_second if ended.stats else None
            if speed:
                self.query_one(StatusBar).speed = f"{speed:.1f} tok/s"
        if self.streaming is turn:
            self.streaming = None
        self.query_one(ConversationView).update_turn(turn)
        if turn.id is not None:
            self.writer.submit(self.store.update_turn, replace(turn))
        if ended.unreachable:
            self.refresh_models()

    def action_stop(self) -> None:
        if self.streaming is not None:
            self.workers.cancel_group(self, "chat")
        elif self.focused is self.query_one(ModelPicker):
            self.query_one(PromptInput).focus()

    def action_retry(self) -> None:
        """Ask again for the last reply: the old one goes, the history up to it stays."""
        if self.streaming is not None or not self.turns or not self.model:
            return
        last = self.turns[-1]
        if last.role == "assistant":
            self.turns.pop()
            self.query_one(ConversationView).remove_turn(last)
            if last.id is not None:
                self.writer.submit(self.store.delete_turn, last.id)
        self.start_reply(None)

    def action_copy_reply(self) -> None:
        text = self.query_one(ConversationView).last_reply_text()
        if not text:
            self.notify("No reply to copy yet.", severity="warning")
            return
        self.app.copy_to_clipboard(text)
        self.notify(f"Copied the last reply ({len(text)} characters).")

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen())

    # -- slash commands ---------------------------------------------------------------------

    def run_command(self, line: str) -> None:
        name, _, argument = line.partition(" ")
        argument = argument.strip()
        match name.lower():
            case "/help" | "/?":
                self.action_help()
            case "/bye" | "/exit" | "/quit":
                self.app.exit()
            case "/clear" | "/new":
                self.action_new_conversation()
            case "/retry":
                self.action_retry()
            case "/copy":
                self.action_copy_reply()
            case "/models":
                self.action_focus_models()
            case "/model" | "/load":
                self._switch_model(argument)
            case _:
                self.notify(f"Unknown command {name}. Type /help for the list.", severity="warning", markup=False)

    def _switch_model(self, name: str) -> None:
        if not name:
            self.action_focus_models()
            return
        resolved = self.resolve_model(name)
        if resolved is None and self.models:
            self.notify(f"No local model named {name}. Pull it with: ollama pull {name}", severity="error", markup=False)
            return
        self.select_model(resolved or name)

    def on_unmount(self) -> None:
        """Quitting mid-reply keeps what arrived, marked stopped."""
        turn = self.streaming
        if turn is not None and turn.id is not None:
            turn.state, turn.error = TurnState.STOPPED, "Stopped when the app closed."
            self.writer.submit(self.store.update_turn, replace(turn))
