"""What the chat flow needs of a server, whatever kind it is, and the errors only some have.

`ModelServer` is the interface: `OllamaClient` and `OpenAIClient` both satisfy it. A call a
kind of server cannot make raises `NotSupported`, an `OllamaError` like every other failure,
so the chat flow handles it as it handles the rest; `capabilities` says beforehand.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Protocol

from app.client import OllamaError
from app.protocol import ChatChunk, ChatRequest, GenerateRequest, ModelDetails, ModelInfo, PullProgress, RunningModel
from app.servers.capabilities import Capabilities
from app.servers.transport import sentence

# What each operation of `Capabilities` is, in words that follow "cannot".
_OPERATIONS = {
    "pull": "download models",
    "delete": "delete models",
    "show": "describe a model (capabilities, template, license)",
    "ps": "list the models it has loaded",
}


class ModelServer(Protocol):
    """One server of models, as the chat flow uses it. Every failure is an `OllamaError`."""

    @property
    def base_url(self) -> str:
        """Its URL without credentials, safe to show."""
        ...

    @property
    def capabilities(self) -> Capabilities: ...

    async def list_models(self) -> list[ModelInfo]: ...

    async def version(self) -> str:
        """The server's version, or "" where it has no way to tell."""
        ...

    async def show(self, model: str) -> ModelDetails: ...

    async def running(self) -> list[RunningModel]: ...

    async def delete(self, model: str) -> None: ...

    def pull(self, model: str) -> AsyncGenerator[PullProgress, None]: ...

    def chat_batches(self, request: ChatRequest) -> AsyncGenerator[list[ChatChunk], None]: ...

    def chat(self, request: ChatRequest) -> AsyncGenerator[ChatChunk, None]: ...

    def generate(self, request: GenerateRequest) -> AsyncGenerator[ChatChunk, None]: ...

    async def aclose(self) -> None: ...


class NotSupported(OllamaError):
    """A call this kind of server does not have, such as pulling from an OpenAI endpoint."""

    def __init__(self, server: str, capabilities: Capabilities, operation: str) -> None:
        super().__init__(
            sentence(f"{server} cannot {_OPERATIONS[operation]}: {capabilities.kind} servers have no such call")
        )
        self.operation = operation


class NoModels(OllamaError):
    """An OpenAI-compatible server that lists no model: nothing can be chosen, nor pulled."""

    def __init__(self, server: str, url: str) -> None:
        super().__init__(
            sentence(
                f"{server} at {url} lists no models; it serves the models it was started with "
                "(such as `vllm serve MODEL` or `llama-server -m FILE`)"
            )
        )
        self.url = url
