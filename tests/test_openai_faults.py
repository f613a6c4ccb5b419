"""OpenAIClient when things go wrong: error bodies in each server's shape, HTTP errors, cut and
malformed streams, a server down or gone mid-reply, a wrong key; and the key kept secret."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest
from ollama_server import DEFAULT_REPLY, ChatScript, FakeOllama

from app import debug_log
from app.client import (
    BadResponse,
    ModelNotFound,
    OllamaServerError,
    OllamaUnreachable,
    StreamInterrupted,
    Unauthorized,
)
from app.protocol import ChatChunk, ChatMessage, ChatRequest, MalformedLine, StreamLineError
from app.servers.openai import OpenAIClient
from app.servers.openai_wire import ReplyStream, error_message
from app.servers.transport import Wording

HELLO = (ChatMessage("user", "Hello"),)
REQUEST = ChatRequest("llama3.2:latest", HELLO)
KEY = "sk-vllm-4f1c9a7e2b"
SERVER = "The OpenAI-compatible server"


@pytest.fixture
def vllm(ollama: FakeOllama) -> FakeOllama:
    ollama.openai_only = True
    return ollama


@pytest.fixture
async def client(vllm: FakeOllama) -> AsyncIterator[OpenAIClient]:
    async with OpenAIClient(vllm.url) as client:
        yield client


async def collect(chunks: AsyncIterator[ChatChunk], into: list[ChatChunk] | None = None) -> list[ChatChunk]:
    received = [] if into is None else into
    async for chunk in chunks:
        received.append(chunk)
    return received


def text(chunks: list[ChatChunk]) -> str:
    return "".join(chunk.content for chunk in chunks)


async def eventually(condition: Callable[[], bool], timeout: float = 3.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


# -- mid-stream -------------------------------------------------------------------------------


@pytest.mark.parametrize("mid_line", [False, True])
async def test_cut_mid_reply_keeps_what_arrived(vllm: FakeOllama, client: OpenAIClient, mid_line: bool) -> None:
    vllm.enqueue(ChatScript(tokens=["a", "b", "c", "d"], cut_after=2, cut_mid_line=mid_line))
    received: list[ChatChunk] = []
    with pytest.raises(StreamInterrupted) as raised:
        await collect(client.chat(REQUEST), received)
    assert text(received) == "ab"
    assert str(raised.value) == "The connection to the OpenAI-compatible server dropped before the reply was complete."


async def test_a_clean_end_before_the_finish_is_a_cut() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b'data: {"choices":[{"delta":{"content":"par"}}]}\n\n')

    async with OpenAIClient("http://vllm:8000", transport=httpx.MockTransport(answer)) as client:
        received: list[ChatChunk] = []
        with pytest.raises(StreamInterrupted):
            await collect(client.chat(REQUEST), received)
    assert text(received) == "par"


@pytest.mark.parametrize("llama_cpp", [False, True])
async def test_error_event_mid_reply(vllm: FakeOllama, client: OpenAIClient, llama_cpp: bool) -> None:
    """vLLM sends `data: {"error": {...}}`; llama.cpp's server an `error: {...}` line."""
    vllm.enqueue(
        ChatScript(tokens=["a", "b", "c"], error_after=1, error="CUDA out of memory", sse_error_field=llama_cpp)
    )
    received: list[ChatChunk] = []
    with pytest.raises(OllamaServerError) as raised:
        await collect(client.chat(REQUEST), received)
    assert text(received) == "a"
    assert (raised.value.status, raised.value.message) == (200, "CUDA out of memory")
    assert str(raised.value) == f"{SERVER} failed mid-reply: CUDA out of memory."


async def test_malformed_event_keeps_what_came_before(vllm: FakeOllama, client: OpenAIClient) -> None:
    vllm.enqueue(ChatScript(tokens=["a", "b"], malformed_after=1))
    received: list[ChatChunk] = []
    with pytest.raises(BadResponse) as raised:
        await collect(client.chat(REQUEST), received)
    assert text(received) == "a"
    assert str(raised.value) == f"{SERVER} sent a response this app cannot read: <html>this is not json</html>"


def test_event_parsing_faults() -> None:
    reply = ReplyStream()
    for data in (
        "not json",
        "[1, 2]",
        '{"choices": "x"}',
        '{"choices": [{"delta": "text"}]}',
        '{"choices": [{"delta": {"content": 5}}]}',
        '{"choices": [{"delta": {"tool_calls": {"index": 0}}}]}',
        '{"choices": [1]}',
    ):
        with pytest.raises(MalformedLine):
            reply.event(data)
    with pytest.raises(StreamLineError, match="overloaded"):
        reply.event('{"object": "error", "message": "overloaded", "type": "ServiceUnavailable", "code": 503}')
    # Unknown fields, a null delta or content, and an empty choice list are fine.
    assert reply.event('{"choices": [{"delta": null}], "system_fingerprint": "fp"}') is None
    assert reply.event('{"choices": [{"delta": {"content": null, "role": "assistant"}}]}') is None
    assert reply.event('{"choices": []}') is None
    assert reply.event('{"choices": [{"delta": {"content": "hi"}}]}') == ChatChunk("hi")


async def test_other_sse_fields_and_a_multi_line_event() -> None:
    body = (
        b": keep-alive\n\nid: 1\nretry: 3000\n"
        b'data: {"choices":[{"delta":\ndata: {"content":"hi"}}]}\n\n'
        b'data: {"choices":[{"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1},'
        b'"timings":{"prompt_ms":12.5,"predicted_ms":40.0}}\n\n'
        b"data: [DONE]\n"  # no blank line after the last event
    )

    async with OpenAIClient(
        "http://llama:8080", transport=httpx.MockTransport(lambda _: httpx.Response(200, content=body))
    ) as client:
        chunks = await collect(client.chat(REQUEST))
    assert text(chunks) == "hi"
    stats = chunks[-1].stats
    assert stats is not None  # llama.cpp's own timings, in nanoseconds
    assert (stats.prompt_eval_count, stats.eval_count, stats.prompt_eval_duration, stats.eval_duration) == (
        3,
        1,
        12_500_000,
        40_000_000,
    )
    assert stats.tokens_per_second == pytest.approx(25.0)


async def test_an_error_event_by_name() -> None:
    body = b'data: {"choices":[{"delta":{"content":"a"}}]}\n\nevent: error\ndata: {"message": "rate limited"}\n\n'
    async with OpenAIClient(
        "http://proxy", transport=httpx.MockTransport(lambda _: httpx.Response(200, content=body))
    ) as client:
        received: list[ChatChunk] = []
        with pytest.raises(OllamaServerError, match="rate limited"):
            await collect(client.chat(REQUEST), received)
    assert text(received) == "a"


async def test_server_going_down_mid_stream(vllm: FakeOllama, client: OpenAIClient) -> None:
    vllm.enqueue(ChatScript(tokens=["a", "b", "c"], stall_after=1))
    received: list[ChatChunk] = []
    task = asyncio.create_task(collect(client.chat(REQUEST), received))
    await eventually(lambda: len(received) == 1)
    await asyncio.to_thread(vllm.restart)
    with pytest.raises(StreamInterrupted):
        await task
    assert text(received) == "a"


async def test_leaving_a_stream_disconnects_at_once(vllm: FakeOllama, client: OpenAIClient) -> None:
    vllm.enqueue(ChatScript(tokens=["x"] * 200, delay=0.02))
    stream = client.chat(REQUEST)
    assert (await anext(stream)).content == "x"
    await stream.aclose()
    await eventually(lambda: vllm.disconnects == 1)
    vllm.enqueue(ChatScript(tokens=["a", "b"], stall_after=1))
    received: list[ChatChunk] = []
    task = asyncio.create_task(collect(client.chat(REQUEST), received))
    await eventually(lambda: len(received) == 1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await eventually(lambda: vllm.disconnects == 2)
    assert text(await collect(client.chat(REQUEST))) == DEFAULT_REPLY  # still usable


async def test_slow_first_token_needs_no_read_timeout(vllm: FakeOllama, client: OpenAIClient) -> None:
    vllm.enqueue(ChatScript(tokens=["late"], first_delay=1.5))
    assert text(await collect(client.chat(REQUEST))) == "late"


# -- error statuses ---------------------------------------------------------------------------


async def test_missing_model_is_404(vllm: FakeOllama, client: OpenAIClient) -> None:
    with pytest.raises(ModelNotFound) as raised:
        await collect(client.chat(ChatRequest("Qwen/Qwen3-8B", HELLO)))
    assert raised.value.model == "Qwen/Qwen3-8B"
    assert str(raised.value) == "The model `Qwen/Qwen3-8B` does not exist."


@pytest.mark.parametrize(
    "body",
    [
        '{"error": {"message": "engine dead", "type": "InternalServerError", "param": null, "code": 500}}',
        '{"object": "error", "message": "engine dead", "type": "InternalServerError", "param": null, "code": 500}',
        '{"error": "engine dead"}',
        '{"detail": "engine dead"}',
    ],
)
async def test_error_bodies_in_every_shape(vllm: FakeOllama, client: OpenAIClient, body: str) -> None:
    vllm.enqueue(ChatScript(status=500, body=body))
    with pytest.raises(OllamaServerError) as raised:
        await collect(client.chat(REQUEST))
    assert (raised.value.status, raised.value.message) == (500, "engine dead")
    assert str(raised.value) == f"{SERVER} answered 500: engine dead."


def test_validation_errors_read_as_their_messages() -> None:
    detail = {"detail": [{"loc": ["body", "messages"], "msg": "Field required"}, {"msg": "bad"}]}
    assert error_message(detail) == "Field required; bad"
    assert error_message({"error": {"code": 7}}) == '{"code": 7}'
    assert error_message({"choices": []}) is None
    assert error_message(["error"]) is None


async def test_html_error_page(vllm: FakeOllama, client: OpenAIClient) -> None:
    page = "<html><head><title>502</title></head><body><h1>502 Bad Gateway</h1><hr>nginx</body></html>"
    vllm.enqueue(ChatScript(status=502, body=page))
    with pytest.raises(OllamaServerError) as raised:
        await collect(client.chat(REQUEST))
    assert (raised.value.status, raised.value.message) == (502, "502 Bad Gateway nginx")


async def test_a_wrong_path_says_which_address_it_tried(vllm: FakeOllama) -> None:
    async with OpenAIClient(vllm.url + "/api") as client:
        with pytest.raises(OllamaServerError) as raised:
            await collect(client.chat(REQUEST))
        assert str(raised.value) == f"{SERVER} answered 404: Not Found (it serves no {vllm.url}/api/chat/completions)."
        with pytest.raises(OllamaServerError, match=r"it serves no .*/api/models"):
            await client.list_models()


async def test_a_model_list_that_is_not_one() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text="<html>Welcome to nginx!</html>")

    async with OpenAIClient("http://vllm:8000", transport=httpx.MockTransport(answer)) as client:
        with pytest.raises(BadResponse, match="Welcome to nginx"):
            await client.list_models()


async def test_server_down(vllm: FakeOllama) -> None:
    vllm.stop()
    wording = Wording('the server "cluster"', "Is it running? Its address is servers.cluster.url.", "")
    async with OpenAIClient(vllm.url, wording=wording) as client:
        for call in (client.list_models(), collect(client.chat(REQUEST))):
            with pytest.raises(OllamaUnreachable) as raised:
                await call
            assert str(raised.value) == (
                f'Cannot reach the server "cluster" at {vllm.url}/v1. Is it running? Its address is servers.cluster.url.'
            )


# -- the key ----------------------------------------------------------------------------------


async def test_the_key_is_a_bearer_token(vllm: FakeOllama) -> None:
    vllm.api_key = KEY
    async with OpenAIClient(vllm.url, api_key=KEY) as client:
        await client.list_models()
        assert text(await collect(client.chat(REQUEST))) == DEFAULT_REPLY
    assert {r.headers["authorization"] for r in vllm.requests} == {f"Bearer {KEY}"}


@pytest.mark.parametrize("key", [None, "sk-wrong"])
async def test_a_wrong_or_missing_key(vllm: FakeOllama, key: str | None) -> None:
    vllm.api_key = KEY
    async with OpenAIClient(vllm.url, api_key=key) as client:
        for call in (client.list_models(), collect(client.chat(REQUEST))):
            with pytest.raises(Unauthorized) as raised:
                await call
            assert raised.value.status == 401
            assert str(raised.value) == (
                f"{SERVER} at {vllm.url}/v1 refused the request (401: Unauthorized): the API key is wrong "
                "or missing; give the server's key as its api_key."
            )


async def test_the_key_is_in_no_log_and_no_repr(vllm: FakeOllama, tmp_path: Path, app_logging: None) -> None:
    # The log's mask is not given the key: this shows nothing ever tries to write it.
    log = debug_log.configure(True, tmp_path / "log", content=True)
    assert log is not None
    vllm.api_key = KEY
    async with OpenAIClient(vllm.url, api_key=KEY) as client:
        await client.list_models()
        await collect(client.chat(ChatRequest("llama3.2:latest", (ChatMessage("user", "Capital of Peru?"),))))
        vllm.enqueue(ChatScript(tokens=["a"], error_after=1, error="boom"))
        with pytest.raises(OllamaServerError):
            await collect(client.chat(REQUEST))
        shown = [repr(client), repr(client._http), repr(client._http.headers), str(vars(type(client)))]
        assert not any(KEY in text for text in shown)
    async with OpenAIClient(vllm.url, api_key=KEY + "-old") as stale:
        with pytest.raises(Unauthorized) as raised:
            await stale.list_models()
        assert KEY not in str(raised.value)
    vllm.stop()
    async with OpenAIClient(vllm.url, api_key=KEY) as client:
        with pytest.raises(OllamaUnreachable):
            await collect(client.chat(REQUEST))
    logged = log.read_text()
    assert "POST /chat/completions (llama3.2:latest): 200" in logged and "Capital of Peru?" in logged
    assert "refused the request" in logged and "Cannot reach" in logged
    assert KEY not in logged
