"""OpenAIClient against FakeOllama's /v1 routes (served alone, as vLLM serves them): the model
list, and every mapping of a request and of a streamed reply to the project's types."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from collections.abc import AsyncIterator
from typing import Any

import pytest
from ollama_server import DEFAULT_REPLY, DEFAULT_TOKENS, ChatScript, FakeOllama, tool_call

from app.client import OllamaServerError
from app.protocol import ChatChunk, ChatMessage, ChatRequest, GenerateRequest, ToolCall, ToolDefinition
from app.servers.base import NoModels, NotSupported
from app.servers.openai import OpenAIClient, with_v1
from app.servers.openai_wire import chat_messages, data_url, unsent_settings

HELLO = (ChatMessage("user", "Hello"),)
PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 24).decode()
JPEG = base64.b64encode(b"\xff\xd8\xff\xe0" + b"\0" * 24).decode()
WEATHER = ToolDefinition(
    "get_weather",
    "The weather in a city",
    {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)


@pytest.fixture
def vllm(ollama: FakeOllama) -> FakeOllama:
    ollama.openai_only = True
    return ollama


@pytest.fixture
async def client(vllm: FakeOllama) -> AsyncIterator[OpenAIClient]:
    async with OpenAIClient(vllm.url) as client:
        yield client


async def collect(chunks: AsyncIterator[ChatChunk]) -> list[ChatChunk]:
    return [chunk async for chunk in chunks]


def text(chunks: list[ChatChunk]) -> str:
    return "".join(chunk.content for chunk in chunks)


def sent(server: FakeOllama) -> dict[str, Any]:
    return server.bodies("/v1/chat/completions")[-1]


# -- the endpoint and its models --------------------------------------------------------------


def test_the_url_gets_v1_when_it_has_no_path() -> None:
    assert with_v1("http://gpu:8000") == "http://gpu:8000/v1"
    assert with_v1("http://gpu:8000/") == "http://gpu:8000/v1"
    assert with_v1("http://gpu:8000/v1/") == "http://gpu:8000/v1"
    assert with_v1("https://proxy/llm/v1") == "https://proxy/llm/v1"
    assert with_v1("http://127.0.0.1:11434/v1") == "http://127.0.0.1:11434/v1"


async def test_list_models(vllm: FakeOllama, client: OpenAIClient) -> None:
    assert client.base_url == vllm.url + "/v1"
    models = await client.list_models()
    assert [m.name for m in models] == ["llama3.2:latest", "qwen3:4b", "llava:7b"]
    assert [m.context_length for m in models] == [131_072, 40_960, 32_768]  # vLLM's max_model_len
    assert (models[0].size, models[0].family, models[0].digest, models[0].capabilities) == (0, "", "", ())
    assert [(r.method, r.path) for r in vllm.requests] == [("GET", "/v1/models")]


async def test_list_models_as_llama_cpp_describes_them(vllm: FakeOllama, client: OpenAIClient) -> None:
    vllm.openai_models = [
        {
            "id": "qwen2.5-0.5b-instruct-q8_0.gguf",
            "object": "model",
            "owned_by": "llamacpp",
            "meta": {"n_params": 494_032_768, "n_ctx_train": 32_768, "size": 531_065_472},
        },
        {"object": "model"},  # no id: not a model anyone can ask for
        "junk",
    ]
    [model] = await client.list_models()
    assert (model.name, model.parameter_size, model.size, model.context_length) == (
        "qwen2.5-0.5b-instruct-q8_0.gguf",
        "494.03M",
        531_065_472,
        32_768,
    )


async def test_a_server_listing_no_models_says_so(vllm: FakeOllama, client: OpenAIClient) -> None:
    vllm.openai_models = []
    with pytest.raises(NoModels) as raised:
        await client.list_models()
    assert str(raised.value) == (
        f"The OpenAI-compatible server at {vllm.url}/v1 lists no models; it serves the models it was "
        "started with (such as `vllm serve MODEL` or `llama-server -m FILE`)."
    )


async def test_what_an_openai_endpoint_cannot_do(vllm: FakeOllama, client: OpenAIClient) -> None:
    capabilities = client.capabilities
    assert (capabilities.pull, capabilities.delete, capabilities.show, capabilities.ps) == (False,) * 4
    assert (capabilities.thinking, capabilities.tools, capabilities.images) == (True,) * 3
    assert await client.version() == ""
    refusals = {
        "show": client.show("qwen3:4b"),
        "ps": client.running(),
        "delete": client.delete("qwen3:4b"),
        "pull": anext(client.pull("gemma3:1b")),
    }
    for operation, call in refusals.items():
        with pytest.raises(NotSupported) as raised:
            await call
        assert raised.value.operation == operation
    assert str(raised.value) == (
        "The OpenAI-compatible server cannot download models: OpenAI-compatible servers have no such call."
    )
    assert vllm.requests == []  # refused here, not by the server


# -- requests ---------------------------------------------------------------------------------


async def test_chat_streams_the_reply_and_maps_the_request(vllm: FakeOllama, client: OpenAIClient) -> None:
    history = (
        ChatMessage("system", "Answer tersely."),
        ChatMessage("user", "What is binary search?"),
        ChatMessage("assistant", "A search.", thinking="They want a definition."),
        ChatMessage("user", "Explain with code."),
    )
    options = (
        ("temperature", 0.2),
        ("top_p", 0.9),
        ("top_k", 20),
        ("num_ctx", 8192),
        ("num_predict", 4096),
        ("seed", 7),
        ("stop", ("User:", "###")),
    )
    chunks = await collect(client.chat(ChatRequest("llama3.2:latest", history, options, keep_alive="10m")))

    assert text(chunks) == DEFAULT_REPLY
    assert not any(chunk.done for chunk in chunks[:-1])
    final = chunks[-1]
    assert final.done and final.stats is not None
    assert final.stats.done_reason == "stop"
    assert final.stats.eval_count == len(DEFAULT_TOKENS)
    assert final.stats.prompt_eval_count == len(json.dumps(sent(vllm)["messages"])) // 4 + 8
    assert final.stats.eval_duration and final.stats.total_duration  # measured here: vLLM gives no timings
    assert final.stats.tokens_per_second
    assert sent(vllm) == {
        "model": "llama3.2:latest",
        "messages": [
            {"role": "system", "content": "Answer tersely."},
            {"role": "user", "content": "What is binary search?"},
            {"role": "assistant", "content": "A search."},
            {"role": "user", "content": "Explain with code."},
        ],
        "stream": True,
        "stream_options": {"include_usage": True},
        "temperature": 0.2,
        "top_p": 0.9,
        "max_tokens": 4096,
        "seed": 7,
        "stop": ["User:", "###"],
    }
    assert vllm.requests[-1].headers["content-type"] == "application/json"


def test_settings_that_are_not_sent_are_named() -> None:
    request = ChatRequest(
        "m",
        HELLO,
        (("temperature", 0.1), ("top_k", 20), ("min_p", 0.05), ("num_ctx", 8192), ("repeat_penalty", 1.1)),
        think="max",
        keep_alive=0,
        format="yaml",
    )
    assert unsent_settings(request) == (
        "top_k",
        "min_p",
        "num_ctx",
        "repeat_penalty",
        "keep_alive",
        "think max",
        "format",
    )
    assert unsent_settings(ChatRequest("m", HELLO, (("num_predict", -1), ("seed", -1)), think="high")) == ()
    assert unsent_settings(GenerateRequest("m", "hi", options=(("top_k", 5),), keep_alive="5m")) == (
        "top_k",
        "keep_alive",
    )


async def test_defaults_are_left_to_the_server(vllm: FakeOllama, client: OpenAIClient) -> None:
    await collect(client.chat(ChatRequest("llama3.2:latest", HELLO, (("num_predict", -1), ("seed", -1)))))
    assert set(sent(vllm)) == {"model", "messages", "stream", "stream_options"}


async def test_thinking_arrives_first_under_either_name(vllm: FakeOllama, client: OpenAIClient) -> None:
    for field in ("reasoning_content", "reasoning"):
        vllm.enqueue(ChatScript(tokens=["Lima", "."], thinking=["Peru's", " capital"], reasoning_field=field))
        chunks = await collect(client.chat(ChatRequest("qwen3:4b", HELLO)))
        assert [(c.thinking, c.content) for c in chunks[:-1]] == [
            ("Peru's", ""),
            (" capital", ""),
            ("", "Lima"),
            ("", "."),
        ]
        assert chunks[-1].stats is not None and chunks[-1].stats.eval_count == 4


async def test_think_switches_and_levels(vllm: FakeOllama, client: OpenAIClient) -> None:
    vllm.enqueue(ChatScript(tokens=["4"], thinking=["2+2"]))
    chunks = await collect(client.chat(ChatRequest("qwen3:4b", HELLO, think=False)))
    assert [(c.thinking, c.content) for c in chunks[:-1]] == [("", "4")]  # the template left thinking out
    assert sent(vllm)["chat_template_kwargs"] == {"enable_thinking": False}
    await collect(client.chat(ChatRequest("qwen3:4b", HELLO, think=True)))
    assert sent(vllm)["chat_template_kwargs"] == {"enable_thinking": True}
    await collect(client.chat(ChatRequest("qwen3:4b", HELLO, think="high")))
    assert sent(vllm)["reasoning_effort"] == "high" and "chat_template_kwargs" not in sent(vllm)
    await collect(client.chat(ChatRequest("qwen3:4b", HELLO, think="max")))
    assert "reasoning_effort" not in sent(vllm)


async def test_num_predict_is_max_tokens_and_a_cut_reply_says_length(vllm: FakeOllama, client: OpenAIClient) -> None:
    vllm.enqueue(ChatScript(tokens=["one", " two", " three", " four"]))
    chunks = await collect(client.chat(ChatRequest("llama3.2:latest", HELLO, (("num_predict", 2),))))
    assert text(chunks) == "one two"
    assert chunks[-1].stats is not None and chunks[-1].stats.done_reason == "length"
    assert sent(vllm)["max_tokens"] == 2


async def test_format_becomes_response_format(vllm: FakeOllama, client: OpenAIClient) -> None:
    schema = {"type": "object", "properties": {"city": {"type": "string"}}}
    await collect(client.chat(ChatRequest("llama3.2:latest", HELLO, format="json")))
    assert sent(vllm)["response_format"] == {"type": "json_object"}
    await collect(client.chat(ChatRequest("llama3.2:latest", HELLO, format=schema)))
    assert sent(vllm)["response_format"] == {"type": "json_schema", "json_schema": {"name": "reply", "schema": schema}}


async def test_images_go_as_data_urls_to_a_vision_model(vllm: FakeOllama, client: OpenAIClient) -> None:
    message = ChatMessage("user", "What is in these?", images=(PNG, JPEG))
    assert text(await collect(client.chat(ChatRequest("llava:7b", (message,))))) == DEFAULT_REPLY
    assert sent(vllm)["messages"] == [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "What is in these?"},
                {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
                {"type": "image_url", "image_url": {"url": f"data:image/jpeg;base64,{JPEG}"}},
            ],
        }
    ]
    with pytest.raises(OllamaServerError) as raised:  # the server's own refusal, in its words
        await collect(client.chat(ChatRequest("llama3.2:latest", (message,))))
    assert str(raised.value) == "The OpenAI-compatible server answered 400: llama3.2:latest is not a multimodal model."


def test_image_types_are_read_from_their_first_bytes() -> None:
    webp = base64.b64encode(b"RIFF\0\0\0\0WEBPVP8 " + b"\0" * 8).decode()
    gif = base64.b64encode(b"GIF89a" + b"\0" * 10).decode()
    assert [data_url(image).split(";")[0] for image in (PNG, JPEG, webp, gif, "bm90IGFuIGltYWdl", "!!")] == [
        "data:image/png",
        "data:image/jpeg",
        "data:image/webp",
        "data:image/gif",
        "data:image/png",  # unknown: the server reads the bytes, not the type
        "data:image/png",
    ]


async def test_generate_is_a_chat_of_one_message(vllm: FakeOllama, client: OpenAIClient) -> None:
    vllm.enqueue(ChatScript(tokens=["Hi", " there"]))
    request = GenerateRequest("llava:7b", "Say hi", system="Be brief.", images=(PNG,), options=(("num_predict", 8),))
    chunks = await collect(client.generate(request))
    assert text(chunks) == "Hi there" and chunks[-1].done
    assert sent(vllm)["messages"] == [
        {"role": "system", "content": "Be brief."},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "Say hi"},
                {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
            ],
        },
    ]
    assert sent(vllm)["max_tokens"] == 8


# -- tools ------------------------------------------------------------------------------------


async def test_tool_calls_streamed_as_deltas_arrive_whole(vllm: FakeOllama, client: OpenAIClient) -> None:
    calls = (
        tool_call("get_weather", {"city": "Lima", "units": "metric"}, 0, "chatcmpl-tool-a1"),
        tool_call("get_time", {"zone": "America/Lima"}, 1, "chatcmpl-tool-b2"),
    )
    vllm.enqueue(ChatScript(tokens=["Let me check."], tool_calls=calls))
    chunks = await collect(client.chat(ChatRequest("qwen3:4b", HELLO, tools=(WEATHER,))))
    assert sent(vllm)["tools"] == [WEATHER.to_json()]
    assert text(chunks) == "Let me check."
    [with_calls] = [chunk for chunk in chunks if chunk.tool_calls]
    assert [(c.name, c.arguments, c.id, c.index, c.problem) for c in with_calls.tool_calls] == [
        ("get_weather", {"city": "Lima", "units": "metric"}, "chatcmpl-tool-a1", 0, ""),
        ("get_time", {"zone": "America/Lima"}, "chatcmpl-tool-b2", 1, ""),
    ]
    assert chunks[-1].done and chunks[-1].stats is not None
    assert chunks[-1].stats.done_reason == "stop"  # "tool_calls", said as Ollama says it


async def test_a_call_with_broken_arguments_fails_on_its_own(vllm: FakeOllama, client: OpenAIClient) -> None:
    vllm.enqueue(ChatScript(tokens=[], tool_calls=(tool_call("get_weather", '{"city": "Li', 0, "c1"),)))
    chunks = await collect(client.chat(ChatRequest("qwen3:4b", HELLO, tools=(WEATHER,))))
    [call] = [call for chunk in chunks for call in chunk.tool_calls]
    assert (call.name, call.arguments, call.arguments_text) == ("get_weather", {}, '{"city": "Li')
    assert call.problem.startswith("its arguments are not valid JSON")


async def test_tools_on_a_server_without_a_tool_parser(vllm: FakeOllama, client: OpenAIClient) -> None:
    with pytest.raises(OllamaServerError) as raised:
        await collect(client.chat(ChatRequest("llava:7b", HELLO, tools=(WEATHER,))))
    assert raised.value.status == 400
    assert "--enable-auto-tool-choice" in raised.value.message


async def test_a_conversation_begun_on_ollama_carries_its_tool_rounds(vllm: FakeOllama, client: OpenAIClient) -> None:
    """Ollama's history has calls without ids and arguments as objects; OpenAI's wants both."""
    history = (
        ChatMessage("user", "Weather and time in Lima?"),
        ChatMessage(
            "assistant",
            "",
            tool_calls=(ToolCall("get_weather", {"city": "Lima"}), ToolCall("get_time", {"zone": "America/Lima"})),
        ),
        ChatMessage("tool", "10:04", tool_name="get_time"),  # results in another order
        ChatMessage("tool", "18 °C", tool_name="get_weather"),
        ChatMessage("assistant", "18 °C at 10:04.", tool_calls=(ToolCall("get_time", {}, id="call_x"),)),
        ChatMessage("tool", "10:05", tool_name="get_time", tool_call_id="call_x"),
    )
    assert text(await collect(client.chat(ChatRequest("qwen3:4b", history, tools=(WEATHER,))))) == DEFAULT_REPLY
    assert sent(vllm)["messages"] == [
        {"role": "user", "content": "Weather and time in Lima?"},
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [
                {
                    "id": "call_1_0",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Lima"}'},
                },
                {
                    "id": "call_1_1",
                    "type": "function",
                    "function": {"name": "get_time", "arguments": '{"zone": "America/Lima"}'},
                },
            ],
        },
        {"role": "tool", "content": "10:04", "tool_call_id": "call_1_1"},
        {"role": "tool", "content": "18 °C", "tool_call_id": "call_1_0"},
        {
            "role": "assistant",
            "content": "18 °C at 10:04.",
            "tool_calls": [{"id": "call_x", "type": "function", "function": {"name": "get_time", "arguments": "{}"}}],
        },
        {"role": "tool", "content": "10:05", "tool_call_id": "call_x"},
    ]


def test_a_result_with_no_call_keeps_a_made_up_id() -> None:
    messages = chat_messages(
        (ChatMessage("tool", "42", tool_name="answer"), ChatMessage("tool", "43", tool_call_id="c9"))
    )
    assert [m["tool_call_id"] for m in messages] == ["call_0", "c9"]


async def test_string_arguments_go_back_as_they_came(vllm: FakeOllama, client: OpenAIClient) -> None:
    call = ToolCall.from_json({"id": "c1", "function": {"name": "get_weather", "arguments": '{"city":"Lima"}'}})
    history = (
        *HELLO,
        ChatMessage("assistant", "", tool_calls=(call,)),
        ChatMessage("tool", "18 °C", tool_call_id="c1"),
    )
    await collect(client.chat(ChatRequest("qwen3:4b", history)))
    assert sent(vllm)["messages"][1]["tool_calls"][0]["function"]["arguments"] == '{"city":"Lima"}'


# -- the stream itself ------------------------------------------------------------------------


async def test_a_long_reply_streams_completely(vllm: FakeOllama, client: OpenAIClient) -> None:
    vllm.enqueue(ChatScript.long(20_000))
    batches = [batch async for batch in client.chat_batches(ChatRequest("llama3.2:latest", HELLO))]
    chunks = [chunk for batch in batches for chunk in batch]
    assert len(chunks) == 20_001 and len(batches) < 20_001 / 10  # many chunks a read
    assert chunks[-1].stats is not None and chunks[-1].stats.eval_count == 20_000


async def test_multibyte_text_split_across_reads(vllm: FakeOllama, client: OpenAIClient) -> None:
    tokens = ["Grüße", " 🌍", "\u2028", "\x85", " 日本語", "\r", "data: x"] * 200  # none of them ends an event
    vllm.enqueue(ChatScript(tokens=tokens))
    assert text(await collect(client.chat(ChatRequest("llama3.2:latest", HELLO)))) == "".join(tokens)


async def test_line_ends_and_endings_of_other_servers(vllm: FakeOllama, client: OpenAIClient) -> None:
    for script in (ChatScript(tokens=["a", "b"], crlf=True), ChatScript(tokens=["a", "b"], no_done=True)):
        vllm.enqueue(script)
        chunks = await collect(client.chat(ChatRequest("llama3.2:latest", HELLO)))
        assert text(chunks) == "ab" and chunks[-1].done
        assert chunks[-1].stats is not None and chunks[-1].stats.eval_count == 2


async def test_ollama_serves_v1_too(ollama: FakeOllama) -> None:
    """Ollama's own /v1 beside its /api: the same models through either client."""
    async with OpenAIClient(ollama.url + "/v1") as client:
        assert [m.name for m in await client.list_models()][:1] == ["llama3.2:latest"]
        assert text(await collect(client.chat(ChatRequest("llama3.2:latest", HELLO)))) == DEFAULT_REPLY


def test_the_servers_package_does_not_load_the_ui() -> None:
    modules = "app.servers.openai, app.servers.registry, app.servers.config, app.servers.base"
    code = f"import sys, {modules}; print(sorted(m for m in ('textual', 'rich') if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
