"""The main screen: status line, model picker, saved conversations, the conversation and the
input. It decides what follows what the widgets and workers report, and is built in parts:

- chat_replies.py: sending, the reply streaming in (app/streaming.py), saving, the context meter;
- chat_models.py: the servers: the watcher's reports (app/server_watch.py), choosing and managing
  models of any server;
- chat_conversations.py: the saved conversations: list, open, rename, delete, search;
- chat_tools.py: MCP servers, the tools a request offers, the calls a reply asks for;
- chat_copy.py: copying a message, a code block or the conversation; saving a code block;
- chat_redo.py: editing a message, asking again for a reply, continuing a stopped one;
- chat_editor.py: the message in the person's own editor (Ctrl+G);
- chat_fit.py: the layout in narrow terminals (the sidebar folds, Ctrl+B brings it);
- this module: the layout, opening and starting conversations, the input and the keys.

The open conversation's state is one `OpenConversation` (app/open_conversation.py). Slash
commands are in app/commands/ and see this screen as a `commands.chat.Chat`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import ClassVar, TypeVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Label, Static, TextArea

from app.chat_options import ChatOptions
from app.commands import conversation as conversation_commands
from app.commands import models as model_commands
from app.commands import table
from app.config import Settings
from app.conversation import ConversationInfo, Turn
from app.keys import with_ids
from app.model_catalog import ModelCatalog
from app.open_conversation import OpenConversation
from app.protocol import ModelInfo
from app.screens.chat_copy import CopyPart
from app.screens.chat_editor import EditorPart
from app.screens.chat_fit import FitPart
from app.screens.chat_redo import RedoPart
from app.screens.chat_tools import ToolsPart
from app.servers.registry import Servers
from app.store_writer import StoreWriter
from app.widgets.context_meter import ContextMeter
from app.widgets.conversation_list import ConversationList
from app.widgets.conversation_view import ConversationView
from app.widgets.model_picker import ModelPicker
from app.widgets.prompt_input import PromptInput
from app.widgets.status_bar import StatusBar
from app.widgets.tool_question import ToolQuestion

T = TypeVar("T")
PICKER_KEYS = {"info": model_commands.info, "rm": model_commands.rm}  # the model picker's i and d


class ChatScreen(ToolsPart, RedoPart, CopyPart, EditorPart, FitPart):
    BINDINGS: ClassVar[list[BindingType]] = with_ids([  # ids are the action names [keys] uses
        Binding("escape", "stop", "Stop", tooltip="stop the reply that is arriving (the partial reply stays)"),
        # As in `ollama run`, while a reply arrives; else it copies a selection, as Textual's
        # own Ctrl+C would (a binding here takes the key from the Screen's).
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
            "ctrl+y", "copy_reply", "Copy", priority=True, tooltip="copy the last reply (the terminal's clipboard and a local tool)"
        ),
        Binding("ctrl+g", "open_editor", "Editor", show=False, tooltip="write the message in your editor ($VISUAL, $EDITOR)"),
        Binding("ctrl+b", "toggle_sidebar", "Sidebar", show=False, tooltip="show or hide the sidebar (over the conversation when narrow)"),
        Binding("f1", "help", "Help", tooltip="this help"),
        # Tab completes a command name being typed; anywhere else it moves the focus, as usual.
        Binding("tab", "complete_command", show=False),
    ])  # fmt: skip

    def __init__(self, settings: Settings, servers: Servers, writer: StoreWriter) -> None:
        super().__init__()
        self.settings = settings
        self.servers = servers
        self.writer = writer
        self.store = writer.store
        self.current = OpenConversation(defaults=settings.chat_defaults)
        self.current.named_servers = len(servers) > 1
        self.catalog = ModelCatalog()
        self.streaming: Turn | None = None  # the reply arriving (its conversation may be closed already)
        self.reachable: bool | None = None  # None until the watcher's first report
        self.wake_watcher = asyncio.Event()  # set: the watcher looks again now
        self.last_checkpoint = 0.0
        self._hint_for = ""  # the input a completion hint beside it was shown for
        self.setup_tools()

    # Read from outside (tests, benchmarks): the open conversation and the installed models.
    @property
    def conversation(self) -> ConversationInfo | None:
        return self.current.info

    @property
    def turns(self) -> list[Turn]:
        return self.current.turns

    @property
    def models(self) -> tuple[ModelInfo, ...]:
        return self.catalog.models

    @property
    def reply_arriving(self) -> bool:
        return self.streaming is not None or self.tools_busy

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
                yield ToolQuestion(id="tool-question", classes="-hidden")
                yield PromptInput(id="prompt")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        status = self.query_one(StatusBar)
        self.show_server()
        self.show_models()
        status.notice = {"memory": "storage: memory only", "read-only": "storage: read-only"}.get(self.store.mode, "")
        if self.store.notice:
            self.notify(self.store.notice, title="Conversation storage", severity="warning", timeout=15, markup=False)
        self.open_initial_conversation()
        self.show_hint()
        self.refresh_conversations()
        prompt = self.query_one(PromptInput)
        prompt.last_message = self._last_message
        prompt.focus()
        self.watch_server()

    # -- the open conversation --------------------------------------------------------------

    def open_conversation(
        self, info: ConversationInfo, turns: list[Turn], at_message: int | None = None, keep_model: bool = False
    ) -> None:
        self.action_stop()
        self.current.open(info, turns)
        if info.model and not keep_model:
            self.select_model(info.model, announce=False)
        view = self.query_one(ConversationView)
        view.set_turns(turns)
        if (target := self.current.find(at_message)) is not None:
            view.scroll_to_turn(target)
        self.show_context()
        self.refresh_conversations()

    def action_new_conversation(self) -> None:
        self.action_stop()
        self.current.start_fresh()
        self.query_one(ConversationView).clear()
        self.show_context()
        self.query_one(PromptInput).focus()
        self.refresh_conversations()

    @on(ConversationList.RenameAsked)
    def _rename_asked(self, event: ConversationList.RenameAsked) -> None:
        self.run_job(conversation_commands.ask_rename(self, event.conversation_id), "ask")

    @on(ConversationList.DeleteAsked)
    def _delete_asked(self, event: ConversationList.DeleteAsked) -> None:
        self.run_job(conversation_commands.ask_delete(self, event.conversation_id), "ask")

    @on(ModelPicker.Asked)
    def _picker_asked(self, event: ModelPicker.Asked) -> None:
        if event.action == "pull":
            model_commands.ask_pull(self, self.server_of(event.name))  # onto the highlighted entry's server
        elif event.name and (handler := PICKER_KEYS.get(event.action)):
            handler(self, event.name)

    # -- the input --------------------------------------------------------------------------

    @on(PromptInput.Submitted)
    def _submitted(self, event: PromptInput.Submitted) -> None:
        prompt = self.query_one(PromptInput)
        text = event.text.strip()
        if text.startswith("/"):
            prompt.clear()
            table.run(self, text)
            return
        if self.reply_arriving:
            self.notify("A reply is still arriving. Esc stops it.", severity="warning")
            return
        if not self.current.model:
            self.notify("No model to send to: pick one with Ctrl+O or /model NAME.", severity="warning")
            return
        if self.current.editing is not None:
            self.send_edited(event.text)  # asks first when later messages would go too
            return
        prompt.clear()
        self.send(event.text)

    def _drop_from(self, first: Turn) -> None:
        """Remove a turn and everything after it (an edited message, a reply asked again), from
        the view and the store."""
        view = self.query_one(ConversationView)
        for turn in self.current.drop_from(first):
            view.remove_turn(turn)
            if turn.id is not None:
                self.writer.submit(self.store.delete_turn, turn.id)

    @on(PromptInput.PageRequested)
    def _page(self, event: PromptInput.PageRequested) -> None:
        view = self.query_one(ConversationView)
        view.action_page_down() if event.down else view.action_page_up()

    def _last_message(self) -> str:
        """What Up in the empty input brings back, to send again or change; unlike /edit it
        replaces nothing."""
        last = self.current.last_user_turn()
        return last.content if last is not None else ""

    def put_in_input(self, text: str) -> None:
        prompt = self.query_one(PromptInput)
        prompt.text = text
        prompt.move_cursor(prompt.document.end)
        prompt.focus()

    def _command_being_typed(self) -> str | None:
        """The input, while it holds nothing but the start of a command name."""
        prompt = self.query_one(PromptInput)
        if self.focused is not prompt or prompt.document.line_count != 1:  # not the whole text of a long paste
            return None
        line = prompt.document[0]
        return line if line.startswith("/") and not any(c.isspace() for c in line) else None

    def action_complete_command(self) -> None:
        """Tab as in a shell: one match is completed, several as far as they agree, and the
        input's border says what is left (the usage, or the names), where the eyes are and
        where it hides nothing."""
        word = self._command_being_typed()
        if word is None:
            self.focus_next()
            return
        completion = table.complete(word)
        if completion.text != word:
            self.put_in_input(completion.text)
        self._hint_for = completion.text
        self.query_one(PromptInput).border_subtitle = Content(table.hint(completion))

    @on(TextArea.Changed, "#prompt")
    def _prompt_changed(self, event: TextArea.Changed) -> None:
        """A completion's hint stays while the text still fits it: a completed command's usage
        while its argument is typed, the names until the next key."""
        if not self._hint_for:
            return
        text, hinted = event.text_area.text, self._hint_for
        if text != hinted and not (hinted.endswith(" ") and text.startswith(hinted)):
            self._hint_for = ""
            event.text_area.border_subtitle = None

    # -- keys -------------------------------------------------------------------------------

    def action_toggle_thinking(self) -> None:
        if not self.query_one(ConversationView).toggle_thinking():
            self.notify("No reply with thinking to show.", severity="warning")

    def action_settings(self) -> None:
        from app.screens.settings import SettingsScreen

        self.app.push_screen(SettingsScreen(self.current.options), self.apply_options)

    def apply_options(self, options: ChatOptions | None) -> None:
        if options is None:
            return
        self.current.set_options(options)
        if (info := self.current.info) is not None:
            conversation_id, system, stored = info.id, info.system, info.options
            self.writer.submit(lambda: self.store.set_settings(conversation_id, system=system, options=stored))
        self.show_context()  # num_ctx may have changed

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "stop_reply":
            return self.reply_arriving or bool(self.selections)
        return True

    def action_stop_reply(self) -> None:
        if self.reply_arriving:
            self.workers.cancel_group(self, "chat")
        else:
            self.action_copy_text()  # the selection; with none, Ctrl+C goes on to the app

    def action_stop(self) -> None:
        if self.close_sidebar_over_chat():
            pass
        elif self.reply_arriving:
            self.workers.cancel_group(self, "chat")
        elif self.current.editing is not None:
            self.current.editing = None
            self.query_one(PromptInput).clear()
            self.notify("Edit cancelled.")
        elif self.focused is not self.query_one(PromptInput):
            self.query_one(PromptInput).focus()

    def action_retry(self) -> None:
        """Ask again for the last reply: the old one goes, the history up to it stays."""
        turns = self.current.turns
        if self.reply_arriving or not turns or not self.current.model:
            return
        if turns[-1].role == "assistant":
            self._drop_from(turns[-1])
        self.start_reply(None)

    def action_help(self) -> None:
        from app.screens.help import HelpScreen

        self.app.push_screen(HelpScreen(self.BINDINGS))

    # -- for commands (see commands.chat.Chat) ----------------------------------------------

    def show_dialog(self, dialog: Screen[T], then: Callable[[T | None], None] | None = None) -> None:
        self.app.push_screen(dialog, then)

    def quit(self) -> None:
        self.app.exit()
