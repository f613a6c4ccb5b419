"""What a kind of server can do, so the UI can say so before anyone tries.

Pure data, imported by the clients themselves (hence apart from `base.py`, which imports them).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Capabilities:
    """The calls a server answers, and what its chat protocol can carry.

    `thinking`, `tools` and `images` say the protocol carries them; whether a given model
    can use them is the model's own capability (`ModelDetails.capabilities`, where `show`
    exists), and a server that cannot says so in its error.
    """

    kind: str  # "Ollama", "OpenAI-compatible": for people
    pull: bool
    delete: bool
    show: bool
    ps: bool
    thinking: bool
    tools: bool
    images: bool


OLLAMA_CAPABILITIES = Capabilities(
    "Ollama", pull=True, delete=True, show=True, ps=True, thinking=True, tools=True, images=True
)
# An OpenAI-compatible endpoint serves the models it was started with and says little about
# them; reasoning text, tool calls and images travel in its chat protocol.
OPENAI_CAPABILITIES = Capabilities(
    "OpenAI-compatible", pull=False, delete=False, show=False, ps=False, thinking=True, tools=True, images=True
)
