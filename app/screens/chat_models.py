"""The chat screen's server and models: what the server watcher reports, choosing a model,
fetching its details and window, deleting and pulling one (the picker's keys run the model
commands, in app/commands/models.py).

A part of `ChatScreen` (app/screens/chat.py), which is built from it; the attributes declared
below are the whole screen's.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from textual import on, work
from textual.screen import Screen
from textual.widgets import Static

from app import server_watch
from app.client import OllamaClient, OllamaError
from app.messages import ServerStatus
from app.model_catalog import ModelCatalog
from app.open_conversation import OpenConversation
from app.protocol import same_model
from app.store import Store
from app.store_writer import StoreWriter
from app.text import sanitize
from app.widgets.conversation_view import ConversationView
from app.widgets.model_picker import ModelPicker
from app.widgets.prompt_input import PromptInput
from app.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from app.screens.pull import PullScreen


class ModelsPart(Screen[None]):
    client: OllamaClient
    writer: StoreWriter
    store: Store
    current: OpenConversation
    catalog: ModelCatalog
    reachable: bool | None  # None until the watcher's first report
    wake_watcher: asyncio.Event

    def show_context(self) -> None:
        raise NotImplementedError  # ChatScreen's: the meter follows the replies

    @work(exclusive=True, group="watch")
    async def watch_server(self) -> None:
        await server_watch.watch_server(self.client, self.post_message, self.wake_watcher)

    def refresh_models(self) -> None:
        self.wake_watcher.set()

    @on(ServerStatus)
    def _server_status(self, status: ServerStatus) -> None:
        self.reachable = status.reachable
        bar = self.query_one(StatusBar)
        bar.reachable, bar.version = status.reachable, status.version
        banner = self.query_one("#banner", Static)
        banner.set_class(status.reachable, "-hidden")
        if not status.reachable:
            banner.update(sanitize(status.error))
            self.query_one(ModelPicker).show(self.catalog.models, self.current.model, reachable=False)
            return
        self.catalog.models = status.models
        if not self.current.model and status.models:
            self.select_model(status.models[0].name, announce=False)
        self.query_one(ModelPicker).show(status.models, self.current.model)

    def select_model(self, name: str, announce: bool = True) -> None:
        self.current.model = name
        self.query_one(StatusBar).model = name
        self.show_hint()
        self.query_one(ModelPicker).show(self.catalog.models, name, reachable=self.reachable is not False)
        self.fetch_details(name)
        self.writer.submit(self.store.set_setting, "last_model", name)
        if self.current.id is not None:
            self.writer.submit(self.store.set_model, self.current.id, name)
        if announce:
            self.notify(f"Model for the next message: {name}", markup=False)

    def show_hint(self) -> None:
        """What an empty conversation says: who you are talking to, or how to get a model."""
        view = self.query_one(ConversationView)
        if self.current.model:
            view.empty_text = f"New conversation with {self.current.model} · Enter sends · /help"
        else:
            view.empty_text = "No model yet: Ctrl+O picks one, /pull NAME gets one"
        view.refresh()

    @work(group="details")
    async def fetch_details(self, name: str) -> None:
        """Capabilities and context window of a model (they gate thinking, images and the meter)."""
        if await self.catalog.fetch_details(self.client, name) and name == self.current.model:
            self.show_context()

    @work(group="window")
    async def fetch_window(self, model: str) -> None:
        if await self.catalog.fetch_window(self.client, model) and model == self.current.model:
            self.show_context()

    @on(ModelPicker.Refresh)
    def _picker_refresh(self) -> None:
        self.refresh_models()

    @on(ModelPicker.Chosen)
    def _model_chosen(self, event: ModelPicker.Chosen) -> None:
        self.select_model(event.name)
        self.query_one(PromptInput).focus()

    def action_focus_models(self) -> None:
        self.refresh_models()
        self.query_one(ModelPicker).focus()

    def delete_model(self, model: str) -> None:
        self.run_worker(self._delete_model(model), group="models")

    async def _delete_model(self, model: str) -> None:
        try:
            from app.screens.model_details import confirm_delete

            deleted = await confirm_delete(self.app, self.client, model)
        except OllamaError as error:
            self.notify(str(error), severity="error", markup=False)
            return
        if deleted:
            self.notify(f"Deleted {model}.", markup=False)
            self.forget_model(model)

    def forget_model(self, name: str) -> None:
        if same_model(name, self.current.model):  # another takes its place on the next refresh
            self.current.model = ""
            self.query_one(StatusBar).model = ""
            self.show_hint()
        self.refresh_models()

    def start_pull(self, model: str) -> None:
        def pulled(name: str | None) -> None:
            if name:
                self.notify(f"{name} is ready.", markup=False)
                self.refresh_models()

        from app.screens.pull import PullScreen

        self.app.push_screen(PullScreen(self.client, model, report_to=self), pulled)

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
