"""Servers: `local` plus the configured ones, model names with `@server`, listings that never
wait for a slow or dead server, and a conversation that moves between kinds of server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import aclosing

import pytest
from ollama_server import DEFAULT_REPLY, ChatScript, FakeOllama, make_model, tool_call

from app.client import OllamaClient, OllamaUnreachable, Unauthorized
from app.protocol import ChatChunk, ChatMessage, ChatRequest, ToolCall
from app.servers.base import ModelServer
from app.servers.config import ServerConfig
from app.servers.openai import OpenAIClient
from app.servers.registry import Listing, Servers, ServerTimeout, UnknownServer, join_model, split_model

KEY = "sk-cluster-8c2f71d0"
HELLO = (ChatMessage("user", "Hello"),)


@pytest.fixture
def gpu() -> Iterator[FakeOllama]:
    with FakeOllama() as server:
        server.models = [make_model("llama3.1:70b", "llama", "70.6B", "Q4_K_M", 42_520_413_916)]
        yield server


@pytest.fixture
def cluster() -> Iterator[FakeOllama]:
    with FakeOllama() as server:
        server.openai_only = True
        server.api_key = KEY
        server.models = [make_model("Qwen/Qwen3-8B", "qwen3", "8.2B", "BF16", 0, ("completion", "tools", "thinking"))]
        yield server


@pytest.fixture
async def servers(ollama: FakeOllama, gpu: FakeOllama, cluster: FakeOllama) -> AsyncIterator[Servers]:
    configs = [
        ServerConfig("gpu", "ollama", gpu.url),
        ServerConfig("cluster", "openai", cluster.url + "/v1", KEY),
    ]
    servers = Servers(ollama.url, configs)
    yield servers
    await servers.aclose()


async def collect(chunks: AsyncIterator[ChatChunk]) -> list[ChatChunk]:
    return [chunk async for chunk in chunks]


async def all_listings(servers: Servers, timeout: float = 5.0) -> dict[str, Listing]:
    async with aclosing(servers.listings(timeout)) as listings:
        return {listing.server: listing async for listing in listings}


# -- names ------------------------------------------------------------------------------------


def test_split_model() -> None:
    assert split_model("qwen3:8b@gpu") == ("qwen3:8b", "gpu")
    assert split_model(" llama3.1:70b@cluster ") == ("llama3.1:70b", "cluster")
    assert split_model("hf.co/bartowski/Qwen3-8B-GGUF:Q4_K_M@my-box_2") == (
        "hf.co/bartowski/Qwen3-8B-GGUF:Q4_K_M",
        "my-box_2",
    )
    assert split_model("Qwen/Qwen3-8B@cluster") == ("Qwen/Qwen3-8B", "cluster")
    for whole in ("qwen3:8b", "model@sha256:4f1c", "@gpu", "qwen3@", "a@b c"):
        assert split_model(whole) == (whole, None)
    for model, server in [("qwen3:8b", "gpu"), ("Qwen/Qwen3-8B", "cluster")]:
        assert split_model(join_model(model, server)) == (model, server)
    assert join_model("qwen3:8b", "local") == "qwen3:8b"


async def test_with_only_local_nothing_changes(ollama: FakeOllama) -> None:
    servers = Servers(ollama.url)
    try:
        assert servers.names == ("local",)
        assert servers.resolve("qwen3:4b") == ("qwen3:4b", None)
        assert servers.resolve("qwen3:4b@local") == ("qwen3:4b", "local")
        with pytest.raises(UnknownServer) as raised:
            servers.resolve("qwen3:4b@gpu")
        assert str(raised.value) == 'No server is named "gpu"; the servers are: local.'
        listings = await all_listings(servers)
        assert [m.name for m in listings["local"].models] == ["llama3.2:latest", "qwen3:4b", "llava:7b"]
        assert listings["local"].version == "0.33.0"
        assert servers.name_of("qwen3:4b", "local") == "qwen3:4b"
        assert isinstance(servers["local"].client, OllamaClient)
    finally:
        await servers.aclose()


async def test_names_carry_their_server_where_it_is_not_plain(servers: Servers, gpu: FakeOllama) -> None:
    gpu.models.append(make_model("llama3.2:latest", "llama", "3.2B", "Q4_K_M", 2_019_393_189))
    assert servers.names == ("local", "gpu", "cluster")
    assert servers.resolve("llama3.1:70b@gpu") == ("llama3.1:70b", "gpu")
    with pytest.raises(UnknownServer, match=r"the servers are: local, gpu, cluster\.$"):
        servers.resolve("x@gpu2")
    with pytest.raises(UnknownServer):
        servers["gpu2"]
    await all_listings(servers)
    assert servers.name_of("qwen3:4b", "local") == "qwen3:4b"  # only local has it
    assert servers.name_of("llama3.2", "local") == "llama3.2@local"  # gpu has one too
    assert servers.name_of("llama3.1:70b", "gpu") == "llama3.1:70b@gpu"
    assert servers.name_of("Qwen/Qwen3-8B", "cluster") == "Qwen/Qwen3-8B@cluster"
    assert servers.locate("llama3.2") == "local"  # local first
    assert servers.locate("llama3.1:70b") == "gpu"
    assert servers.locate("Qwen/Qwen3-8B") == "cluster"
    assert servers.locate("mistral") is None


async def test_each_server_has_its_kind_and_capabilities(servers: Servers, cluster: FakeOllama) -> None:
    local, gpu, openai = servers["local"], servers["gpu"], servers["cluster"]
    assert (local.kind, gpu.kind, openai.kind) == ("ollama", "ollama", "openai")
    assert isinstance(openai.client, OpenAIClient) and openai.url == cluster.url + "/v1"
    assert local.capabilities.pull and gpu.capabilities.pull and not openai.capabilities.pull
    assert (local.label, gpu.label, openai.label) == ("Ollama", 'the Ollama server "gpu"', 'the server "cluster"')


# -- listing every server at once -------------------------------------------------------------


async def test_a_slow_or_dead_server_never_delays_the_others(
    ollama: FakeOllama, gpu: FakeOllama, cluster: FakeOllama
) -> None:
    with FakeOllama() as slow:
        dead = FakeOllama().start()
        dead.stop()
        slow.listing_gate.clear()  # it answers once the gate opens: after the others are in
        configs = [
            ServerConfig("slow", "ollama", slow.url),
            ServerConfig("gpu", "ollama", gpu.url),
            ServerConfig("dead", "openai", dead.url),
            ServerConfig("cluster", "openai", cluster.url, KEY),
        ]
        servers = Servers(ollama.url, configs)
        try:
            arrived: list[Listing] = []
            async with aclosing(servers.listings(timeout=60)) as listings:
                async for listing in listings:
                    arrived.append(listing)
                    if len(arrived) == 4:
                        assert not slow.listing_gate.is_set()  # all four came while it was silent
                        slow.listing_gate.set()
            assert [listing.server for listing in arrived][-1] == "slow"
            by_name = {listing.server: listing for listing in arrived}
            assert [m.name for m in by_name["gpu"].models] == ["llama3.1:70b"]
            assert [m.name for m in by_name["cluster"].models] == ["Qwen/Qwen3-8B"]
            assert by_name["cluster"].version == "" and by_name["cluster"].error is None
            assert [m.name for m in by_name["slow"].models][:1] == ["llama3.2:latest"]
            error = by_name["dead"].error
            assert isinstance(error, OllamaUnreachable) and by_name["dead"].models == ()
            assert str(error) == (
                f'Cannot reach the server "dead" at {dead.url}/v1. Is it running, and is servers.dead.url '
                "in the config file right? These servers answer under /v1."
            )
        finally:
            await servers.aclose()


async def test_a_server_past_its_timeout_is_reported_and_forgotten(ollama: FakeOllama, gpu: FakeOllama) -> None:
    servers = Servers(ollama.url, [ServerConfig("gpu", "ollama", gpu.url)])
    try:
        await all_listings(servers)
        assert servers.locate("llama3.1:70b") == "gpu"
        gpu.listing_gate.clear()
        listings = await all_listings(servers, timeout=0.3)
        assert listings["local"].error is None
        error = listings["gpu"].error
        assert isinstance(error, ServerTimeout)
        assert str(error) == f'The Ollama server "gpu" at {gpu.url} did not answer within 0.3 s.'
        assert servers.locate("llama3.1:70b") is None  # not served while it does not answer
        assert servers.name_of("llama3.2", "local") == "llama3.2"
    finally:
        gpu.listing_gate.set()
        await servers.aclose()


async def test_a_wrong_key_is_that_servers_problem_only(ollama: FakeOllama, cluster: FakeOllama) -> None:
    servers = Servers(ollama.url, [ServerConfig("cluster", "openai", cluster.url, "sk-old")])
    try:
        listings = await all_listings(servers)
        assert listings["local"].error is None
        error = listings["cluster"].error
        assert isinstance(error, Unauthorized)
        assert str(error) == (
            f'The server "cluster" at {cluster.url}/v1 refused the request (401: Unauthorized): the API key is '
            "wrong or missing; check servers.cluster.api_key in the config file, and the variable it names."
        )
    finally:
        await servers.aclose()


async def test_leaving_the_listings_early_cancels_the_rest(ollama: FakeOllama, gpu: FakeOllama) -> None:
    gpu.listing_gate.clear()
    servers = Servers(ollama.url, [ServerConfig("gpu", "ollama", gpu.url)])
    try:
        async with aclosing(servers.listings(timeout=60)) as listings:
            first = await anext(listings)
        assert first.server == "local"
        tasks = [
            task for task in asyncio.all_tasks() if getattr(task.get_coro(), "__qualname__", "") == "Servers._listing"
        ]
        assert tasks == []  # nothing left running
    finally:
        gpu.listing_gate.set()
        await servers.aclose()


# -- one conversation, several servers --------------------------------------------------------


async def test_a_conversation_moves_between_servers_with_its_history(
    servers: Servers, ollama: FakeOllama, cluster: FakeOllama
) -> None:
    """A tool round on local Ollama, then the same history to the OpenAI endpoint and back."""
    ollama.enqueue(ChatScript(tokens=[], tool_calls=(tool_call("get_weather", {"city": "Lima"}, call_id=""),)))
    local: ModelServer = servers["local"].client
    chunks = await collect(local.chat(ChatRequest("qwen3:4b", HELLO)))
    calls = tuple(call for chunk in chunks for call in chunk.tool_calls)
    assert [(c.name, c.id) for c in calls] == [("get_weather", "")]  # an older Ollama: no id
    history = (
        *HELLO,
        ChatMessage("assistant", "", tool_calls=calls),
        ChatMessage("tool", "18 °C", tool_name="get_weather"),
        ChatMessage("assistant", "It is 18 °C in Lima."),
        ChatMessage("user", "And tomorrow?"),
    )
    model, server = servers.resolve("Qwen/Qwen3-8B@cluster")
    assert server is not None
    remote = servers[server].client
    assert "".join(c.content for c in await collect(remote.chat(ChatRequest(model, history)))) == DEFAULT_REPLY
    [body] = cluster.bodies("/v1/chat/completions")
    assert body["messages"][1]["tool_calls"][0]["id"] == body["messages"][2]["tool_call_id"] == "call_1_0"

    cluster.enqueue(
        ChatScript(
            tokens=["Rain."], tool_calls=(tool_call("get_weather", '{"city":"Lima","day":1}', 0, "chatcmpl-tool-9"),)
        )
    )
    reply = await collect(remote.chat(ChatRequest(model, history)))
    [call] = [c for chunk in reply for c in chunk.tool_calls]
    back = (
        *history,
        ChatMessage("assistant", "Rain.", tool_calls=(call,)),
        ChatMessage("tool", "rain", tool_call_id=call.id),
    )
    assert "".join(c.content for c in await collect(local.chat(ChatRequest("qwen3:4b", back)))) == DEFAULT_REPLY
    sent = ollama.bodies("/api/chat")[-1]["messages"]
    assert sent[5]["tool_calls"] == [
        {
            "id": "chatcmpl-tool-9",
            "function": {"index": 0, "name": "get_weather", "arguments": {"city": "Lima", "day": 1}},
        }
    ]
    assert sent[6] == {"role": "tool", "content": "rain", "tool_call_id": "chatcmpl-tool-9"}
    assert isinstance(call, ToolCall)


# -- secrets and closing ----------------------------------------------------------------------


async def test_secrets_are_collected_for_the_log_and_shown_nowhere(ollama: FakeOllama) -> None:
    configs = [
        ServerConfig("cluster", "openai", "http://vllm:8000/v1", KEY),
        ServerConfig("gpu", "ollama", "http://me:pa55word@gpu:11434"),
    ]
    servers = Servers(ollama.url.replace("http://", "http://you:l0cal-pw@"), configs, local_api_key="sk-local")
    try:
        assert set(servers.secrets) == {"l0cal-pw", "sk-local", KEY, "pa55word"}
        shown = repr(servers) + "".join(repr(server) for server in servers)
        for secret in servers.secrets:
            assert secret not in shown
        assert repr(servers) == f"Servers(local={ollama.url}, cluster=http://vllm:8000/v1, gpu=http://gpu:11434)"
    finally:
        await servers.aclose()


async def test_closing_closes_every_client(servers: Servers) -> None:
    await servers.aclose()
    assert all(server.client._http.is_closed for server in servers)  # type: ignore[attr-defined]  # both clients have one
