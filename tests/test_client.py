"""OllamaClient against FakeOllama, a real HTTP server: streams, faults, model management."""

from __future__ import annotations

import asyncio
import base64
import subprocess
import sys
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from ollama_server import DEFAULT_REPLY, DEFAULT_TOKENS, ChatScript, FakeOllama

from app.client import (
    BadResponse,
    ModelNotFound,
    OllamaClient,
    OllamaServerError,
    OllamaUnreachable,
    StreamInterrupted,
    Unauthorized,
)
from app.protocol import (
    ChatChunk,
    ChatMessage,
    ChatRequest,
    GenerateRequest,
    MalformedLine,
    StreamLineError,
    parse_chat_line,
    parse_models,
)

HELLO = (ChatMessage("user", "Hello"),)


@pytest.fixture
async def client(ollama: FakeOllama) -> AsyncIterator[OllamaClient]:
    async with OllamaClient(ollama.url) as client:
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


# -- small calls ------------------------------------------------------------------------------


async def test_version(ollama: FakeOllama, client: OllamaClient) -> None:
    ollama.version = "0.9.1"
    assert await client.version() == "0.9.1"
    assert ollama.requests[-1].method == "GET"
    assert ollama.requests[-1].path == "/api/version"


async def test_list_models(client: OllamaClient) -> None:
    models = await client.list_models()
    assert [model.name for model in models] == ["llama3.2:latest", "qwen3:4b", "llava:7b"]
    llama = models[0]
    assert llama.size == 2_019_393_189
    assert (llama.family, llama.parameter_size, llama.quantization_level) == (
        "llama",
        "3.2B",
        "Q4_K_M",
    )
    assert llama.modified_at.startswith("2025-05-20T09:14:03")
    assert len(llama.digest) == 64
    assert "thinking" in models[1].capabilities
    assert "vision" in models[2].capabilities


def test_parse_models_tolerates_missing_and_unknown_fields() -> None:
    body = {"models": [{"name": "old:latest"}, {"model": "m:1", "size": "big", "extra": 1}, {}, "x"]}
    assert [(m.name, m.size, m.family) for m in parse_models(body)] == [
        ("old:latest", 0, ""),
        ("m:1", 0, ""),
    ]
    assert parse_models({}) == []


async def test_show(client: OllamaClient) -> None:
    details = await client.show("qwen3:4b")
    assert details.name == "qwen3:4b"
    assert details.context_length == 40_960
    assert details.capabilities == ("completion", "tools", "thinking")
    assert (details.family, details.parameter_size, details.quantization_level) == (
        "qwen3",
        "4.0B",
        "Q4_K_M",
    )
    assert "temperature                    0.6" in details.parameters
    assert "<|im_start|>" in details.template
    assert details.license.startswith("Apache License")
    llama = await client.show("llama3.2")  # untagged means :latest
    assert llama.context_length == 131_072


async def test_show_unknown_model(client: OllamaClient) -> None:
    with pytest.raises(ModelNotFound) as raised:
        await client.show("nope")
    assert raised.value.model == "nope"
    assert raised.value.message == "model 'nope' not found"


async def test_running_lists_loaded_models_with_their_window(client: OllamaClient) -> None:
    assert await client.running() == []
    request = ChatRequest("qwen3:4b", HELLO, options=(("num_ctx", 8192),))
    await collect(client.chat(request))
    [running] = await client.running()
    assert running.name == "qwen3:4b"
    assert running.context_length == 8192
    assert running.size_vram == running.size > 2_497_293_918
    assert running.expires_at


async def test_delete(ollama: FakeOllama, client: OllamaClient) -> None:
    await client.delete("llava:7b")
    assert [m.name for m in await client.list_models()] == ["llama3.2:latest", "qwen3:4b"]
    assert ollama.requests[-2].method == "DELETE"
    assert ollama.bodies("/api/delete") == [{"model": "llava:7b"}]
    with pytest.raises(ModelNotFound) as raised:
        await client.delete("llava:7b")
    assert raised.value.model == "llava:7b"


async def test_copy(ollama: FakeOllama, client: OllamaClient) -> None:
    await client.copy("llama3.2", "my-llama")
    assert ollama.bodies("/api/copy") == [{"source": "llama3.2", "destination": "my-llama"}]
    names = [m.name for m in await client.list_models()]
    assert names[0] == "my-llama:latest"
    with pytest.raises(ModelNotFound) as raised:
        await client.copy("ghost", "other")
    assert raised.value.model == "ghost"


# -- chat streams -----------------------------------------------------------------------------


async def test_chat_streams_the_reply(ollama: FakeOllama, client: OllamaClient) -> None:
    history = (
        ChatMessage("system", "Answer tersely."),
        ChatMessage("user", "What is binary search?"),
        ChatMessage("assistant", "A search."),
        ChatMessage("user", "Explain with code.", images=(base64.b64encode(b"png").decode(),)),
    )
    request = ChatRequest("llama3.2", history, options=(("temperature", 0.2), ("num_ctx", 8192)), think=False)
    chunks = await collect(client.chat(request))

    assert len(chunks) == len(DEFAULT_TOKENS) + 1
    assert text(chunks) == DEFAULT_REPLY
    assert not any(chunk.done for chunk in chunks[:-1])
    final = chunks[-1]
    assert final.done and final.stats is not None
    assert final.stats.done_reason == "stop"
    assert final.stats.eval_count == len(DEFAULT_TOKENS)
    assert final.stats.tokens_per_second == pytest.approx(62.5)
    assert final.stats.prompt_eval_count and final.stats.prompt_eval_count > 10

    [body] = ollama.bodies("/api/chat")
    assert body == {
        "model": "llama3.2",
        "messages": [
            {"role": "system", "content": "Answer tersely."},
            {"role": "user", "content": "What is binary search?"},
            {"role": "assistant", "content": "A search."},
            {"role": "user", "content": "Explain with code.", "images": ["cG5n"]},
        ],
        "stream": True,
        "options": {"temperature": 0.2, "num_ctx": 8192},
        "think": False,
    }
    assert ollama.requests[-1].headers["content-type"] == "application/json"


async def test_thinking_arrives_before_the_answer(ollama: FakeOllama, client: OllamaClient) -> None:
    ollama.enqueue(ChatScript(tokens=["Lima", "."], thinking=["Peru's", " capital", "..."]))
    chunks = await collect(client.chat(ChatRequest("qwen3:4b", HELLO)))
    assert [(c.thinking, c.content) for c in chunks[:-1]] == [
        ("Peru's", ""),
        (" capital", ""),
        ("...", ""),
        ("", "Lima"),
        ("", "."),
    ]
    assert chunks[-1].stats is not None and chunks[-1].stats.eval_count == 5


async def test_scripts_are_used_in_order_then_the_default(ollama: FakeOllama, client: OllamaClient) -> None:
    ollama.enqueue(ChatScript(tokens=["one"]), ChatScript(tokens=["two"]))
    replies = [text(await collect(client.chat(ChatRequest("llama3.2", HELLO)))) for _ in range(3)]
    assert replies == ["one", "two", DEFAULT_REPLY]


async def test_a_long_reply_streams_completely(ollama: FakeOllama, client: OllamaClient) -> None:
    ollama.enqueue(ChatScript.long(20_000))
    chunks = await collect(client.chat(ChatRequest("llama3.2", HELLO)))
    assert len(chunks) == 20_001
    assert chunks[-1].stats is not None and chunks[-1].stats.eval_count == 20_000


async def test_multibyte_text_split_across_reads(ollama: FakeOllama, client: OllamaClient) -> None:
    tokens = [
        "Grüße",
        " 🌍",
        "\u2028",
        "\x85",
        " 日本語",
    ] * 200  # U+2028 / U+0085 are not line ends
    ollama.enqueue(ChatScript(tokens=tokens))
    chunks = await collect(client.chat(ChatRequest("llama3.2", HELLO)))
    assert text(chunks) == "".join(tokens)


async def test_slow_first_token_needs_no_read_timeout(ollama: FakeOllama, client: OllamaClient) -> None:
    ollama.enqueue(ChatScript(tokens=["late"], first_delay=1.5))
    chunks = await collect(client.chat(ChatRequest("llama3.2", HELLO)))
    assert text(chunks) == "late"


async def test_generate(ollama: FakeOllama, client: OllamaClient) -> None:
    ollama.enqueue(ChatScript(tokens=["Hi", " there"]))
    request = GenerateRequest("llama3.2", "Say hi", system="Be brief.", options=(("num_predict", 8),), keep_alive="10m")
    chunks = await collect(client.generate(request))
    assert text(chunks) == "Hi there"
    assert chunks[-1].done and chunks[-1].stats is not None and chunks[-1].stats.eval_count == 2
    assert ollama.bodies("/api/generate") == [
        {
            "model": "llama3.2",
            "prompt": "Say hi",
            "stream": True,
            "system": "Be brief.",
            "options": {"num_predict": 8},
            "keep_alive": "10m",
        }
    ]


async def test_generate_thinking(ollama: FakeOllama, client: OllamaClient) -> None:
    ollama.enqueue(ChatScript(tokens=["4"], thinking=["2+2"]))
    chunks = await collect(client.generate(GenerateRequest("qwen3:4b", "2+2?")))
    assert [(c.thinking, c.content) for c in chunks[:-1]] == [("2+2", ""), ("", "4")]


# -- faults -----------------------------------------------------------------------------------


async def test_cut_mid_reply_keeps_what_arrived(ollama: FakeOllama, client: OllamaClient) -> None:
    ollama.enqueue(ChatScript(tokens=["a", "b", "c", "d"], cut_after=2))
    received: list[ChatChunk] = []
    with pytest.raises(StreamInterrupted) as raised:
        await collect(client.chat(ChatRequest("llama3.2", HELLO)), received)
    assert text(received) == "ab"
    assert str(raised.value) == "The connection to Ollama dropped before the reply was complete."


async def test_error_line_mid_reply(ollama: FakeOllama, client: OllamaClient) -> None:
    ollama.enqueue(ChatScript(tokens=["a", "b", "c"], error_after=1, error="out of memory"))
    received: list[ChatChunk] = []
    with pytest.raises(OllamaServerError) as raised:
        await collect(client.chat(ChatRequest("llama3.2", HELLO)), received)
    assert text(received) == "a"
    assert raised.value.status == 200
    assert raised.value.message == "out of memory"
    assert str(raised.value) == "Ollama failed mid-reply: out of memory."


async def test_malformed_line(ollama: FakeOllama, client: OllamaClient) -> None:
    ollama.enqueue(ChatScript(tokens=["a", "b"], malformed_after=1))
    received: list[ChatChunk] = []
    with pytest.raises(BadResponse) as raised:
        await collect(client.chat(ChatRequest("llama3.2", HELLO)), received)
    assert text(received) == "a"
    assert "this is not json" in str(raised.value)


def test_line_parsing_faults() -> None:
    with pytest.raises(StreamLineError, match="boom"):
        parse_chat_line('{"error":"boom"}')
    for line in [
        "not json",
        "[1, 2]",
        '{"message": "text"}',
        '{"message": {"content": 5}}',
        '{"a": 1} tail',
    ]:
        with pytest.raises(MalformedLine):
            parse_chat_line(line)
    # Unknown and missing fields are fine; so is whitespace around the object.
    assert parse_chat_line('{"remote_model": "x", "done": false}') == ChatChunk()
    assert parse_chat_line(' {"message": {"content": "hi", "tool_calls": []}}\r') == ChatChunk("hi")


async def test_missing_model_is_404(ollama: FakeOllama, client: OllamaClient) -> None:
    with pytest.raises(ModelNotFound) as raised:
        await collect(client.chat(ChatRequest("mistral", HELLO)))
    assert raised.value.model == "mistral"
    assert raised.value.message == 'model "mistral" not found, try pulling it first'
    assert str(raised.value) == 'Model "mistral" not found, try pulling it first.'


async def test_scripted_404_on_generate(ollama: FakeOllama, client: OllamaClient) -> None:
    ollama.enqueue(ChatScript(status=404, body='{"error":"model \\"x\\" not found, try pulling it first"}'))
    with pytest.raises(ModelNotFound) as raised:
        await collect(client.generate(GenerateRequest("llama3.2", "hi")))
    assert raised.value.model == "llama3.2"
    assert raised.value.message == 'model "x" not found, try pulling it first'


async def test_server_error_with_json_body(ollama: FakeOllama, client: OllamaClient) -> None:
    ollama.enqueue(ChatScript(status=500, body='{"error":"model runner has unexpectedly stopped"}'))
    with pytest.raises(OllamaServerError) as raised:
        await collect(client.chat(ChatRequest("llama3.2", HELLO)))
    assert raised.value.status == 500
    assert raised.value.message == "model runner has unexpectedly stopped"
    assert str(raised.value) == "Ollama answered 500: model runner has unexpectedly stopped."


async def test_server_error_with_html_body(ollama: FakeOllama, client: OllamaClient) -> None:
    page = (
        "<html><head><title>502 Bad Gateway</title><style>body{color:red}</style></head>"
        "<body><center><h1>502 Bad Gateway</h1></center><hr>"
        "<center>nginx &amp; co</center></body></html>"
    )
    ollama.enqueue(ChatScript(status=502, body=page))
    with pytest.raises(OllamaServerError) as raised:
        await collect(client.chat(ChatRequest("llama3.2", HELLO)))
    assert raised.value.status == 502
    assert raised.value.message == "502 Bad Gateway nginx & co"


async def test_unknown_path_is_not_a_missing_model(ollama: FakeOllama) -> None:
    async with OllamaClient(ollama.url + "/wrong-prefix") as client:
        with pytest.raises(OllamaServerError) as raised:
            await client.show("llama3.2")
    assert raised.value.status == 404
    assert raised.value.message == "404 page not found"
    assert ollama.requests[-1].path == "/wrong-prefix/api/show"


async def test_server_down(ollama: FakeOllama) -> None:
    ollama.stop()
    async with OllamaClient(ollama.url) as client:
        for call in (
            client.version(),
            client.list_models(),
            collect(client.chat(ChatRequest("llama3.2", HELLO))),
        ):
            with pytest.raises(OllamaUnreachable) as raised:
                await call
            assert str(raised.value) == (
                f"Cannot reach Ollama at {ollama.url}. Start it with `ollama serve`, "
                "or point OLLAMA_HOST / --host at a running server."
            )


async def test_server_restart_on_the_same_port(ollama: FakeOllama, client: OllamaClient) -> None:
    url = ollama.url
    assert await client.version()
    ollama.stop()
    with pytest.raises(OllamaUnreachable):
        await client.version()
    ollama.start()
    assert ollama.url == url
    assert text(await collect(client.chat(ChatRequest("llama3.2", HELLO)))) == DEFAULT_REPLY


async def test_server_going_down_mid_stream(ollama: FakeOllama, client: OllamaClient) -> None:
    ollama.enqueue(ChatScript(tokens=["a", "b", "c"], stall_after=1))
    received: list[ChatChunk] = []
    task = asyncio.create_task(collect(client.chat(ChatRequest("llama3.2", HELLO)), received))
    await eventually(lambda: len(received) == 1)
    await asyncio.to_thread(ollama.restart)  # must not hang on the open stream
    with pytest.raises(StreamInterrupted):
        await task
    assert text(received) == "a"
    assert ollama.disconnects == 0  # the server left, not the client


# -- leaving a stream early -------------------------------------------------------------------


async def test_aclose_disconnects_at_once(ollama: FakeOllama, client: OllamaClient) -> None:
    ollama.enqueue(ChatScript(tokens=["x"] * 200, delay=0.02))
    stream = client.chat(ChatRequest("llama3.2", HELLO))
    assert (await anext(stream)).content == "x"
    assert (await anext(stream)).content == "x"
    await stream.aclose()
    await eventually(lambda: ollama.disconnects == 1)
    # The client stays usable.
    assert text(await collect(client.chat(ChatRequest("llama3.2", HELLO)))) == DEFAULT_REPLY


async def test_cancelling_the_task_disconnects(ollama: FakeOllama, client: OllamaClient) -> None:
    ollama.enqueue(ChatScript(tokens=["a", "b"], stall_after=1))
    received: list[ChatChunk] = []
    task = asyncio.create_task(collect(client.chat(ChatRequest("llama3.2", HELLO)), received))
    await eventually(lambda: len(received) == 1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await eventually(lambda: ollama.disconnects == 1)


async def test_cancelling_while_the_model_loads_disconnects(ollama: FakeOllama, client: OllamaClient) -> None:
    ollama.enqueue(ChatScript(tokens=["late"], first_delay=30))
    task = asyncio.create_task(collect(client.chat(ChatRequest("llama3.2", HELLO))))
    await eventually(lambda: len(ollama.bodies("/api/chat")) == 1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await eventually(lambda: ollama.disconnects == 1)


# -- pull -------------------------------------------------------------------------------------


async def test_pull_to_success(ollama: FakeOllama, client: OllamaClient) -> None:
    progress = [p async for p in client.pull("gemma3:1b")]
    statuses = [p.status for p in progress]
    assert statuses[0] == "pulling manifest"
    assert statuses[-3:] == ["verifying sha256 digest", "writing manifest", "success"]
    assert progress[-1].done and not any(p.done for p in progress[:-1])
    layer = [p for p in progress if p.status == statuses[1]]
    assert statuses[1] == f"pulling {layer[0].digest[7:19]}"
    assert layer[0].digest.startswith("sha256:") and layer[0].completed is None
    assert all(p.completed is not None for p in layer[1:])
    completed = [p.completed for p in layer[1:] if p.completed is not None]
    assert completed == sorted(completed) and completed[-1] == layer[0].total == 815_309_791
    assert ollama.bodies("/api/pull") == [{"model": "gemma3:1b", "stream": True}]
    assert "gemma3:1b" in [m.name for m in await client.list_models()]


async def test_pull_unknown_model_fails_after_the_manifest(client: OllamaClient) -> None:
    received = []
    with pytest.raises(OllamaServerError) as raised:
        async for progress in client.pull("no-such-model"):
            received.append(progress.status)
    assert received == ["pulling manifest"]
    assert raised.value.status == 200
    assert raised.value.message == "pull model manifest: file does not exist"


async def test_cancelled_pull_disconnects(ollama: FakeOllama, client: OllamaClient) -> None:
    ollama.pull_delay = 0.05
    stream = client.pull("smollm2:135m")
    assert (await anext(stream)).status == "pulling manifest"
    assert (await anext(stream)).status.startswith("pulling ")
    await stream.aclose()
    await eventually(lambda: ollama.disconnects == 1)
    assert "smollm2:135m" not in [m.name for m in await client.list_models()]


# -- authentication ---------------------------------------------------------------------------


async def test_basic_auth_from_the_url(ollama: FakeOllama) -> None:
    url = ollama.url.replace("http://", "http://me:s%40cret@")
    async with OllamaClient(url) as client:
        assert client.base_url == ollama.url
        await client.version()
        await collect(client.chat(ChatRequest("llama3.2", HELLO)))
    expected = "Basic " + base64.b64encode(b"me:s@cret").decode()
    assert [r.headers["authorization"] for r in ollama.requests] == [expected, expected]


async def test_bearer_token_from_the_api_key(ollama: FakeOllama) -> None:
    async with OllamaClient(ollama.url, api_key="sk-123") as client:
        await client.list_models()
    assert ollama.requests[-1].headers["authorization"] == "Bearer sk-123"


async def test_a_missing_or_wrong_key_is_unauthorized(ollama: FakeOllama) -> None:
    ollama.api_key = "sk-right"
    for key in (None, "sk-wrong"):
        async with OllamaClient(ollama.url, api_key=key) as client:
            for call in (client.list_models(), collect(client.chat(ChatRequest("llama3.2", HELLO)))):
                with pytest.raises(Unauthorized) as raised:
                    await call
                assert raised.value.status == 401
                assert str(raised.value) == (
                    f"Ollama at {ollama.url} refused the request (401: unauthorized): the API key is wrong "
                    "or missing; set OLLAMA_API_KEY, or put user:password@ in OLLAMA_HOST / --host."
                )
    async with OllamaClient(ollama.url, api_key="sk-right") as client:
        assert text(await collect(client.chat(ChatRequest("llama3.2", HELLO)))) == DEFAULT_REPLY


async def test_no_authorization_header_by_default(ollama: FakeOllama, client: OllamaClient) -> None:
    await client.version()
    assert "authorization" not in ollama.requests[-1].headers


# -- transport-level cases a real server cannot easily produce --------------------------------


class _BrokenBody(httpx.AsyncByteStream):
    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield b'{"message":{"role":"assistant","content":"par'
        yield b'tial"},"done":false}\n'
        raise httpx.ReadError("connection reset by peer")


async def test_read_error_mid_stream_and_path_prefix() -> None:
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        if request.url.path.endswith("/api/tags"):
            return httpx.Response(200, text="<html>not json</html>")
        if request.url.path.endswith("/api/generate"):
            return httpx.Response(200, content=b'{"response":"a","done":false}\n')
        return httpx.Response(200, stream=_BrokenBody())

    async with OllamaClient("http://proxy:80/ollama", transport=httpx.MockTransport(answer)) as client:
        received: list[ChatChunk] = []
        with pytest.raises(StreamInterrupted):
            await collect(client.chat(ChatRequest("m", HELLO)), received)
        assert text(received) == "partial"
        with pytest.raises(BadResponse, match="not json"):
            await client.list_models()
        with pytest.raises(StreamInterrupted):  # a clean end, but no done line
            await collect(client.generate(GenerateRequest("m", "hi")))
    assert seen == ["/ollama/api/chat", "/ollama/api/tags", "/ollama/api/generate"]


def test_client_does_not_load_the_ui() -> None:
    code = "import sys, app.client; print(sorted(m for m in ('textual', 'rich') if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
