"""What the servers offer: each server's state and models as the watcher last saw them, each
model's details (capabilities, trained context length) and the context window it was loaded
with. No widgets: the chat screen fills it and asks it questions.

Models are known by their address: the name for a model of `local`, `model@server` for any
other (`join_model`), so two servers may serve models of the same name.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from app.client import OllamaError
from app.protocol import ModelDetails, ModelInfo, same_model
from app.servers.base import ModelServer
from app.servers.config import LOCAL
from app.servers.registry import split_model


@dataclass(frozen=True, slots=True)
class ServerState:
    """One server as the watcher last saw it."""

    name: str
    reachable: bool | None = None  # None: no answer yet
    version: str = ""  # "" where the server has no way to tell
    models: tuple[ModelInfo, ...] = ()
    problem: str = ""  # in a few words, for the picker: "unreachable", "key refused", "no models"…
    error: str = ""  # the sentence saying what is wrong (untrusted: it may quote the server)

    @property
    def failed(self) -> bool:
        return bool(self.problem)


class ModelCatalog:
    def __init__(self) -> None:
        self.states: dict[str, ServerState] = {}  # by server name, as last reported
        self.details: dict[str, ModelDetails] = {}  # /api/show per address, fetched once
        self.windows: dict[str, int] = {}  # the window each address was loaded with (/api/ps)

    @property
    def models(self) -> tuple[ModelInfo, ...]:
        """Every server's models, `local`'s first."""
        ordered = sorted(self.states.values(), key=lambda state: state.name != LOCAL)
        return tuple(model for state in ordered for model in state.models)

    def state(self, server: str) -> ServerState:
        return self.states.get(server) or ServerState(server)

    def update(self, state: ServerState) -> ServerState:
        """Take the watcher's latest word on a server. One that fails keeps the models it last
        listed, to show where that is wanted; what it serves now is the registry's to say."""
        previous = self.states.get(state.name)
        if state.failed and previous is not None and not state.models:
            state = replace(state, models=previous.models)
        self.states[state.name] = state
        return state

    def resolve(self, name: str, server: str = LOCAL) -> str | None:
        """The model `server` lists that a name means (`llama3.2` is `llama3.2:latest`), else None."""
        return next((model.name for model in self.state(server).models if same_model(model.name, name)), None)

    def lacks(self, address: str, capability: str) -> bool:
        """Whether the model at `address` is known not to have `capability` ("vision",
        "thinking"). Unknown details refuse nothing: the server has the last word."""
        details = self.details.get(address)
        return details is not None and capability not in details.capabilities

    def trained_length(self, address: str) -> int | None:
        """The longest context the model was trained for, once its details are known."""
        details = self.details.get(address)
        return details.context_length if details else None

    def window(self, address: str) -> int | None:
        """The window the model is served with: as `/api/ps` last said, else as its server's
        listing says (OpenAI-compatible servers list it: vLLM's max_model_len)."""
        if (loaded := self.windows.get(address)) is not None:
            return loaded
        model, server = split_model(address)
        listed = next((m for m in self.state(server or LOCAL).models if same_model(m.name, model)), None)
        return listed.context_length if listed else None

    async def fetch_details(self, client: ModelServer, model: str, address: str) -> bool:
        """Fetch the details of `model` (known here as `address`) unless known; whether they are new."""
        if address in self.details or not client.capabilities.show:
            return False
        try:
            self.details[address] = await client.show(model)
        except OllamaError:
            return False  # unknown for now: nothing is refused on a guess
        return True

    async def fetch_window(self, client: ModelServer, model: str, address: str) -> bool:
        """Ask the server which window it loaded `model` with (often far below its trained
        length: the one that decides when old messages are dropped); whether it is known now."""
        if not client.capabilities.ps:
            return False
        try:
            running = await client.running()
        except OllamaError:
            return False
        window = next((m.context_length for m in running if same_model(m.name, model) and m.context_length), None)
        if window is None:
            return False
        self.windows[address] = window
        return True
