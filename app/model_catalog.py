"""What the server offers: the installed models, each one's details (capabilities, trained
context length) and the context window it was loaded with. No widgets: the chat screen fills it
and asks it questions.
"""

from __future__ import annotations

from app.client import OllamaClient, OllamaError
from app.protocol import ModelDetails, ModelInfo, same_model


class ModelCatalog:
    def __init__(self) -> None:
        self.models: tuple[ModelInfo, ...] = ()  # from /api/tags, as the server watcher last saw it
        self.details: dict[str, ModelDetails] = {}  # /api/show per model, fetched once
        self.windows: dict[str, int] = {}  # the window each model was loaded with (/api/ps)

    def resolve(self, name: str) -> str | None:
        """The installed model a name means (`llama3.2` is `llama3.2:latest`), else None."""
        return next((model.name for model in self.models if same_model(model.name, name)), None)

    def lacks(self, model: str, capability: str) -> bool:
        """Whether `model` is known not to have `capability` ("vision", "thinking"). Unknown
        details refuse nothing: the server has the last word."""
        details = self.details.get(model)
        return details is not None and capability not in details.capabilities

    def trained_length(self, model: str) -> int | None:
        """The longest context `model` was trained for, once its details are known."""
        details = self.details.get(model)
        return details.context_length if details else None

    async def fetch_details(self, client: OllamaClient, model: str) -> bool:
        """Fetch `model`'s details unless known; whether they are new."""
        if model in self.details:
            return False
        try:
            self.details[model] = await client.show(model)
        except OllamaError:
            return False  # unknown for now: nothing is refused on a guess
        return True

    async def fetch_window(self, client: OllamaClient, model: str) -> bool:
        """Ask the server which window it loaded `model` with (often far below its trained
        length: the one that decides when old messages are dropped); whether it is known now."""
        try:
            running = await client.running()
        except OllamaError:
            return False
        window = next((m.context_length for m in running if same_model(m.name, model) and m.context_length), None)
        if window is None:
            return False
        self.windows[model] = window
        return True
