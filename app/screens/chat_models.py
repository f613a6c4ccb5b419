"""The chat screen's servers and models: what the server watcher reports for each server, the
status line and banner for the server of the current model, choosing a model (of any server),
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
from app.client import OllamaError
from app.config import Settings
from app.messages import ServerStatus
from app.model_catalog import ModelCatalog, ServerState
from app.open_conversation import OpenConversation
from app.protocol import same_model
from app.servers.base import ModelServer
from app.servers.config import LOCAL
from app.servers.registry import Server, Servers, UnknownServer, join_model, split_model
from app.store import Store
from app.store_writer import StoreWriter
from app.text import sanitize
from app.widgets.conversation_view import ConversationView
from app.widgets.model_picker import HEADING, ModelPicker
from app.widgets.prompt_input import PromptInput
from app.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from app.screens.pull import PullScreen


class ModelsPart(Screen[None]):
    settings: Settings
    servers: Servers
    writer: StoreWriter
    store: Store
    current: OpenConversation
    catalog: ModelCatalog
    reachable: bool | None  # of the current model's server; None until the watcher's first report
    wake_watcher: asyncio.Event

    def show_context(self) -> None:
        raise NotImplementedError  # ChatScreen's: the meter follows the replies

    @property
    def client(self) -> ModelServer:
        """The client of the current model's server: replies go there, and the model commands
        given no `@SERVER`."""
        return self.servers[self.current.server].client

    # -- what the watcher reports -----------------------------------------------------------

    @work(exclusive=True, group="watch")
    async def watch_server(self) -> None:
        await server_watch.watch_servers(self.servers, self._post_state, self.wake_watcher)

    def _post_state(self, state: ServerState) -> None:
        self.post_message(ServerStatus(state))

    def refresh_models(self) -> None:
        self.wake_watcher.set()

    @on(ServerStatus)
    def _server_status(self, status: ServerStatus) -> None:
        state = self.catalog.update(status.state)
        if state.name == self.current.server:
            self.show_server()
        if not self.current.model and state.models and not state.failed and state.name == self._first_server():
            self.select_model(join_model(state.models[0].name, state.name), announce=False)
        else:
            self.show_models()

    def _first_server(self) -> str:
        """Where a model is picked when nothing names one: --server's, else local."""
        return self.settings.server or LOCAL

    def show_server(self) -> None:
        """The status line and the banner say how the current model's server is doing."""
        state = self.catalog.state(self.current.server)
        self.reachable = state.reachable
        bar = self.query_one(StatusBar)
        bar.host = self.servers[self.current.server].url
        bar.reachable, bar.version = state.reachable, state.version
        banner = self.query_one("#banner", Static)
        banner.set_class(state.reachable is not False, "-hidden")
        if state.reachable is False:
            banner.update(sanitize(state.error))

    def show_models(self) -> None:
        states = [self.catalog.state(name) for name in self.servers.names]
        self.query_one(ModelPicker).show(states, self.current.address, headings=len(self.servers) > 1)

    def show_model(self) -> None:
        bar = self.query_one(StatusBar)
        bar.model = self.current.model
        bar.server = self.current.server if len(self.servers) > 1 else ""

    # -- choosing a model -------------------------------------------------------------------

    def set_initial_model(self, text: str) -> None:
        """The model to start with: `text` (--model, a reopened conversation's, the config
        file's or the last one used). With --server, --model is taken on that server, and
        without --model that server's first model once it lists."""
        server = self.settings.server
        if server:
            try:
                self.servers[server]
            except UnknownServer as error:
                self.notify(f"--server: {error}", severity="error", markup=False)
                server = None
        if server:
            model, named = split_model(self.settings.model or "")
            if named and named != server:
                self.notify(f"--model names the server {named} and --server {server}: using {named}.", markup=False)
                server = named
            text = join_model(model, server) if model else ""
        self.current.model, self.current.server = "", server or LOCAL
        if text:
            self._take_model(text)
        self.show_server()
        self.show_model()

    def select_model(self, name: str, announce: bool = True) -> None:
        """Send the next message to `name`: a model's address (`model@server`, or a local
        model's plain name). A server that is not configured is refused, saying which are."""
        if not self._take_model(name):
            return
        self.show_model()
        self.show_server()
        self.show_hint()
        self.show_models()
        self.fetch_details(self.current.model, self.current.server)
        address = self.current.address
        self.writer.submit(self.store.set_setting, "last_model", address)
        if self.current.id is not None:
            self.writer.submit(self.store.set_model, self.current.id, address)
        if announce:
            shown = self.servers.name_of(self.current.model, self.current.server)
            self.notify(f"Model for the next message: {shown}", markup=False)

    def _take_model(self, name: str) -> bool:
        try:
            model, server = self.servers.resolve(name)
        except UnknownServer as error:
            self.notify(str(error), severity="error", markup=False)
            return False
        self.current.model, self.current.server = model, server or LOCAL
        return True

    def show_hint(self) -> None:
        """What an empty conversation says: who you are talking to, or how to get a model."""
        view = self.query_one(ConversationView)
        if self.current.model:
            shown = self.servers.name_of(self.current.model, self.current.server)
            view.empty_text = f"New conversation with {shown} · Enter sends · /help"
        else:
            view.empty_text = "No model yet: Ctrl+O picks one, /pull NAME gets one"
        view.refresh()

    @work(group="details")
    async def fetch_details(self, model: str, server: str) -> None:
        """Capabilities and context window of a model (they gate thinking, images and the meter)."""
        address = join_model(model, server)
        client = self.servers[server].client
        if await self.catalog.fetch_details(client, model, address) and address == self.current.address:
            self.show_context()

    @work(group="window")
    async def fetch_window(self, model: str, server: str = "") -> None:
        """The window `model` was loaded with; `server` as a reply stores it ("" for the only one)."""
        name = server or LOCAL
        if name not in self.servers.names:
            return
        address = join_model(model, name)
        if (
            await self.catalog.fetch_window(self.servers[name].client, model, address)
            and address == self.current.address
        ):
            self.show_context()

    @on(ModelPicker.Refresh)
    def _picker_refresh(self) -> None:
        self.refresh_models()

    @on(ModelPicker.Chosen)
    def _model_chosen(self, event: ModelPicker.Chosen) -> None:
        if event.name.startswith(HEADING):
            self.explain_server(event.name.removeprefix(HEADING))
            return
        self.select_model(event.name)
        self.query_one(PromptInput).focus()

    def explain_server(self, name: str) -> None:
        """Say what is wrong with a server, in its own sentence (or that nothing is)."""
        state = self.catalog.state(name)
        if state.failed:
            self.notify(sanitize(state.error), title=f"{name}: {state.problem}", severity="error", markup=False)
            return
        said = "connecting…" if state.reachable is None else "connected"
        version = f", version {state.version}" if state.version else ""
        self.notify(f"{name} at {self.servers[name].url}: {said}{version}.", markup=False)

    def server_of(self, entry: str) -> Server:
        """The server of a picker entry: a model's address or a server's heading ("" for the
        current model's server)."""
        if entry.startswith(HEADING):
            return self.servers[entry.removeprefix(HEADING)]
        return self.servers[_split(entry)[1] if entry else self.current.server]

    def action_focus_models(self) -> None:
        self.refresh_models()
        self.query_one(ModelPicker).focus()

    # -- managing models --------------------------------------------------------------------

    def delete_model(self, address: str) -> None:
        self.run_worker(self._delete_model(address), group="models")

    async def _delete_model(self, address: str) -> None:
        model, server = _split(address)
        try:
            from app.screens.model_details import confirm_delete

            deleted = await confirm_delete(self.app, self.servers[server].client, model)
        except OllamaError as error:
            self.notify(str(error), severity="error", markup=False)
            return
        if deleted:
            self.notify(f"Deleted {self.servers.name_of(model, server)}.", markup=False)
            self.forget_model(address)

    def forget_model(self, name: str) -> None:
        model, server = _split(name)
        if server == self.current.server and same_model(model, self.current.model):
            self.current.model = ""  # another takes its place on the next refresh
            self.show_model()
            self.show_hint()
        self.refresh_models()

    def start_pull(self, model: str) -> None:
        """Download `model` (an address: `NAME@SERVER` for another server than local)."""

        def pulled(name: str | None) -> None:
            if name:
                self.notify(f"{name} is ready.", markup=False)
                self.refresh_models()

        from app.screens.pull import PullScreen

        name, server = _split(model)
        self.app.push_screen(PullScreen(self.servers[server].client, name, report_to=self), pulled)

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


def _split(address: str) -> tuple[str, str]:
    model, server = split_model(address)
    return model, server or LOCAL
