"""OpenAIClient against a real OpenAI-compatible server: llama-cpp-python's, on a tiny model
with random weights written by `gguf_model.py` (no download).

Not in the default run (`-m real_server` runs it; see the README); skipped without the
`llama-cpp-python[server]` and `gguf` packages. The model talks nonsense: what is checked is
the protocol (listing, streaming, finish reasons, errors, the key), not the words.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

pytest.importorskip("llama_cpp.server", reason="needs llama-cpp-python[server]")
pytest.importorskip("gguf", reason="needs gguf, to write the test model")

from gguf_model import write_tiny_llama  # after the skips: it needs gguf

from app.client import StreamInterrupted, Unauthorized
from app.protocol import ChatChunk, ChatMessage, ChatRequest, GenerateRequest, ToolCall
from app.servers.openai import OpenAIClient

pytestmark = pytest.mark.real_server

KEY = "sk-llama-cpp-51e0"
MODEL = "tiny"
START_SECONDS = 120  # a cold import of llama_cpp and the model load, on a busy 2-core machine
GREEDY = (("temperature", 0.0), ("seed", 1), ("num_predict", 6))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("llama")
    model = write_tiny_llama(folder / "tiny.gguf")
    port = free_port()
    log = (folder / "server.log").open("w")
    command = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(model),
        "--model_alias",
        MODEL,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        "512",
        "--api_key",
        KEY,
    ]
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, process, folder / "server.log")
        yield url
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"llama_cpp.server exited ({process.returncode}):\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}/v1/models", headers={"Authorization": f"Bearer {KEY}"}, timeout=1).is_success:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)  # polling for the condition, not waiting for a guessed time
    pytest.fail(f"llama_cpp.server did not answer within {START_SECONDS} s:\n{log.read_text()[-3000:]}")


@pytest.fixture
async def client(server: str) -> AsyncIterator[OpenAIClient]:
    async with OpenAIClient(server, api_key=KEY) as client:  # no path: the client adds /v1
        yield client


async def collect(chunks: AsyncIterator[ChatChunk]) -> list[ChatChunk]:
    return [chunk async for chunk in chunks]


async def test_the_model_is_listed(server: str, client: OpenAIClient) -> None:
    assert client.base_url == f"{server}/v1"
    models = await client.list_models()
    assert [model.name for model in models] == [MODEL]


async def test_a_reply_streams_to_its_end(client: OpenAIClient) -> None:
    history = (ChatMessage("system", "Be brief."), ChatMessage("user", "What is binary search?"))
    chunks = await collect(client.chat(ChatRequest(MODEL, history, GREEDY)))
    final = chunks[-1]
    assert final.done and final.stats is not None
    assert not any(chunk.done for chunk in chunks[:-1])
    assert any(chunk.content for chunk in chunks)  # nonsense, but text
    assert final.stats.done_reason in ("length", "stop")  # random weights may end early
    assert len([chunk for chunk in chunks if chunk.content]) <= 6  # max_tokens was honoured
    assert final.stats.total_duration
    # It sends no usage, stream_options or not: the counts stay empty rather than made up.
    assert final.stats.eval_count is None or final.stats.eval_count <= 6


async def test_greedy_decoding_repeats_itself(client: OpenAIClient) -> None:
    """The same request twice gives the same text: the request's settings reach the model."""
    request = ChatRequest(MODEL, (ChatMessage("user", "Say something."),), GREEDY)
    first = "".join(chunk.content for chunk in await collect(client.chat(request)))
    second = "".join(chunk.content for chunk in await collect(client.chat(request)))
    assert first == second


async def test_a_tool_round_in_the_history_is_accepted(client: OpenAIClient) -> None:
    history = (
        ChatMessage("user", "Weather in Lima?"),
        ChatMessage("assistant", "", tool_calls=(ToolCall("get_weather", {"city": "Lima"}),)),
        ChatMessage("tool", "18 °C", tool_name="get_weather"),
        ChatMessage("user", "Thanks. And tomorrow?"),
    )
    chunks = await collect(client.chat(ChatRequest(MODEL, history, GREEDY, think=False)))
    assert chunks[-1].done


async def test_generate_and_leaving_early(client: OpenAIClient) -> None:
    stream = client.generate(GenerateRequest(MODEL, "Once upon a time", options=(("num_predict", 200),)))
    async for _chunk in stream:
        break
    await stream.aclose()
    chunks = await collect(client.generate(GenerateRequest(MODEL, "Hello", options=GREEDY)))
    assert chunks[-1].done  # the client is still usable


async def test_a_prompt_beyond_the_window_is_a_cut_reply(client: OpenAIClient) -> None:
    """llama-cpp-python answers 200, then fails inside the stream and closes it, empty."""
    long = ChatMessage("user", "binary search " * 400)  # beyond the 512-token window
    with pytest.raises(StreamInterrupted) as raised:
        await collect(client.chat(ChatRequest(MODEL, (long,), GREEDY)))
    assert str(raised.value) == "The connection to the OpenAI-compatible server dropped before the reply was complete."


async def test_a_wrong_key_is_refused(server: str) -> None:
    async with OpenAIClient(server, api_key="sk-wrong") as client:
        with pytest.raises(Unauthorized) as raised:
            await client.list_models()
    assert raised.value.status == 401
