"""Tools on Ollama's wire: definitions sent, calls streamed back, results sent in history.

Parsing is checked line by line, then end to end through OllamaClient against FakeOllama.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from ollama_server import ChatScript, FakeOllama, tokenize, tool_call

from app.client import OllamaClient, OllamaServerError
from app.protocol import (
    ChatChunk,
    ChatMessage,
    ChatRequest,
    MalformedLine,
    ToolCall,
    ToolDefinition,
    parse_chat_line,
)

ADD = ToolDefinition(
    "numbers__add",
    "Add two numbers.",
    {"type": "object", "properties": {"a": {"type": "number"}, "b": {"type": "number"}}, "required": ["a", "b"]},
)
ECHO = ToolDefinition("echo", "Say it back.", {"type": "object", "properties": {"text": {"type": "string"}}})


def line(message: dict[str, object], done: bool = False) -> str:
    return json.dumps({"model": "m", "created_at": "2025-06-01T10:00:00Z", "message": message, "done": done})


# Parsing


def test_a_line_with_calls_gives_them_in_order() -> None:
    chunk = parse_chat_line(
        line(
            {
                "role": "assistant",
                "content": "",
                "tool_calls": [
                    {"id": "call_1", "function": {"index": 0, "name": "add", "arguments": {"a": 1, "b": 2}}},
                    {"function": {"index": 1, "name": "echo", "arguments": {"text": "hi"}}},
                ],
            }
        )
    )
    assert chunk.tool_calls == (
        ToolCall("add", {"a": 1, "b": 2}, "call_1", 0),
        ToolCall("echo", {"text": "hi"}, "", 1),
    )
    assert not chunk.done and chunk.content == ""


def test_arguments_given_as_a_json_string_are_read() -> None:
    chunk = parse_chat_line(line({"tool_calls": [{"function": {"name": "add", "arguments": '{"a": 1, "b": 2}'}}]}))
    (call,) = chunk.tool_calls
    assert call.arguments == {"a": 1, "b": 2}
    assert call.problem == ""
    assert call.arguments_text == '{"a": 1, "b": 2}'


@pytest.mark.parametrize(
    ("arguments", "problem"),
    [
        ('{"a": 1,', "its arguments are not valid JSON (Expecting property name enclosed in double quotes)"),
        ("[1, 2]", "its arguments must be a JSON object, not a list"),
        ([1, 2], "its arguments must be a JSON object, not a list"),
        (7, "its arguments must be a JSON object, not a number"),
        ('"text"', "its arguments must be a JSON object, not a string"),
        ("[" * 100_000 + "]" * 100_000, "its arguments are nested too deeply"),
    ],
    ids=["cut", "list-text", "list", "number", "string", "deep"],
)
def test_unusable_arguments_become_a_problem_of_that_call(arguments: object, problem: str) -> None:
    chunk = parse_chat_line(
        line(
            {
                "tool_calls": [
                    {"function": {"name": "add", "arguments": arguments}},
                    {"function": {"name": "echo", "arguments": {"text": "fine"}}},
                ]
            }
        )
    )
    bad, good = chunk.tool_calls
    assert bad.name == "add" and bad.arguments == {}
    assert bad.problem == problem
    assert good.problem == "" and good.arguments == {"text": "fine"}


def test_missing_or_empty_arguments_are_an_empty_object() -> None:
    chunk = parse_chat_line(
        line({"tool_calls": [{"function": {"name": "now"}}, {"function": {"name": "now", "arguments": ""}}]})
    )
    assert [call.arguments for call in chunk.tool_calls] == [{}, {}]
    assert [call.problem for call in chunk.tool_calls] == ["", ""]


def test_a_call_without_a_name_is_kept_with_a_problem() -> None:
    (call,) = parse_chat_line(
        line(
            {
                "tool_calls": [
                    {"function": {"arguments": {}}},
                ]
            }
        )
    ).tool_calls
    assert call.name == "" and call.problem == "the call names no tool"
    (odd,) = parse_chat_line(line({"tool_calls": ["add"]})).tool_calls
    assert odd.problem == "the call names no tool"


def test_tool_calls_that_are_not_a_list_are_a_malformed_line() -> None:
    with pytest.raises(MalformedLine):
        parse_chat_line(line({"content": "", "tool_calls": {"name": "add"}}))


def test_calls_on_the_final_line_keep_its_statistics() -> None:
    chunk = parse_chat_line(
        json.dumps(
            {
                "message": {
                    "role": "assistant",
                    "content": "",
                    "tool_calls": [{"function": {"name": "now", "arguments": {}}}],
                },
                "done": True,
                "done_reason": "stop",
                "eval_count": 5,
            }
        )
    )
    assert chunk.done and chunk.stats is not None and chunk.stats.eval_count == 5
    assert chunk.tool_calls == (ToolCall("now"),)


# Serialising


def test_history_messages_carry_calls_and_results_as_ollama_expects() -> None:
    assistant = ChatMessage(
        "assistant",
        "",
        tool_calls=(
            ToolCall("add", {"a": 1, "b": 2}, "call_1", 0),
            ToolCall("echo", {}, "", None, arguments_text="[oops", problem="its arguments are not valid JSON"),
        ),
    )
    result = ChatMessage("tool", "3", tool_name="add", tool_call_id="call_1")
    assert assistant.to_json() == {
        "role": "assistant",
        "content": "",
        "tool_calls": [
            {"id": "call_1", "function": {"index": 0, "name": "add", "arguments": {"a": 1, "b": 2}}},
            {"function": {"name": "echo", "arguments": {}}},  # never the string: Ollama wants an object
        ],
    }
    assert result.to_json() == {"role": "tool", "content": "3", "tool_name": "add", "tool_call_id": "call_1"}
    assert ChatMessage("user", "hi").to_json() == {"role": "user", "content": "hi"}


def test_the_stored_form_keeps_string_arguments_and_reads_back_the_same_call() -> None:
    calls = [
        ToolCall("add", {"a": 1}, "call_1", 0),
        ToolCall.from_json({"function": {"name": "add", "arguments": '{"a": 1}'}}),
        ToolCall.from_json({"function": {"name": "add", "arguments": "{bad"}}),
    ]
    for call in calls:
        assert ToolCall.from_json(json.loads(json.dumps(call.to_stored()))) == call
    assert calls[2].to_stored()["function"]["arguments"] == "{bad"


def test_tools_are_sent_only_when_there_are_some() -> None:
    plain = ChatRequest("m", (ChatMessage("user", "hi"),))
    assert "tools" not in plain.to_json()
    body = ChatRequest("m", (ChatMessage("user", "hi"),), tools=(ADD, ECHO)).to_json()
    assert body["tools"] == [
        {
            "type": "function",
            "function": {"name": "numbers__add", "description": "Add two numbers.", "parameters": ADD.parameters},
        },
        {
            "type": "function",
            "function": {"name": "echo", "description": "Say it back.", "parameters": ECHO.parameters},
        },
    ]


# Through the client, against the fake server


@pytest.fixture
async def client(ollama: FakeOllama) -> AsyncIterator[OllamaClient]:
    async with OllamaClient(ollama.url) as client:
        yield client


async def reply(client: OllamaClient, request: ChatRequest) -> list[ChatChunk]:
    return [chunk async for chunk in client.chat(request)]


async def test_the_request_carries_the_tools_and_the_stream_brings_calls_back(
    ollama: FakeOllama, client: OllamaClient
) -> None:
    ollama.enqueue(
        ChatScript(
            tokens=tokenize("Let me add and echo."),
            tool_calls=(
                tool_call("numbers__add", {"a": 2, "b": 3}, 0),
                tool_call("echo", {"text": "hi"}, 1),
            ),
        )
    )
    chunks = await reply(client, ChatRequest("llama3.2", (ChatMessage("user", "2+3?"),), tools=(ADD, ECHO)))

    assert ollama.bodies("/api/chat")[-1]["tools"] == [ADD.to_json(), ECHO.to_json()]
    assert "".join(chunk.content for chunk in chunks) == "Let me add and echo."
    with_calls = [chunk for chunk in chunks if chunk.tool_calls]
    assert len(with_calls) == 1  # several calls in one message
    assert [(call.name, call.arguments, call.index) for call in with_calls[0].tool_calls] == [
        ("numbers__add", {"a": 2, "b": 3}, 0),
        ("echo", {"text": "hi"}, 1),
    ]
    assert all(call.id.startswith("call_") for call in with_calls[0].tool_calls)
    assert chunks[-1].done and not chunks[-1].tool_calls
    assert chunks.index(with_calls[0]) > max(i for i, chunk in enumerate(chunks) if chunk.content)


async def test_calls_spread_over_lines_all_arrive(ollama: FakeOllama, client: OllamaClient) -> None:
    ollama.enqueue(
        ChatScript(
            tokens=[],
            tool_calls=(tool_call("echo", {"text": "a"}, 0), tool_call("echo", '{"text": "b"}', 1)),
            tool_calls_apart=True,
        )
    )
    chunks = await reply(client, ChatRequest("llama3.2", (ChatMessage("user", "say a and b"),), tools=(ECHO,)))
    calls = [call for chunk in chunks for call in chunk.tool_calls]
    assert [call.arguments for call in calls] == [{"text": "a"}, {"text": "b"}]
    assert sum(1 for chunk in chunks if chunk.tool_calls) == 2


async def test_the_next_request_sends_the_calls_and_results_back(ollama: FakeOllama, client: OllamaClient) -> None:
    ollama.enqueue(ChatScript(tokens=[], tool_calls=(tool_call("numbers__add", '{"a": 2, "b": 3}', 0),)))
    question = ChatMessage("user", "2+3?")
    chunks = await reply(client, ChatRequest("llama3.2", (question,), tools=(ADD,)))
    (call,) = [call for chunk in chunks for call in chunk.tool_calls]

    ollama.enqueue(ChatScript(tokens=tokenize("It is 5.")))
    history = (
        question,
        ChatMessage("assistant", "", tool_calls=(call,)),
        ChatMessage("tool", "5", tool_name=call.name, tool_call_id=call.id),
    )
    answer = await reply(client, ChatRequest("llama3.2", history, tools=(ADD,)))

    assert "".join(chunk.content for chunk in answer) == "It is 5."
    sent = ollama.bodies("/api/chat")[-1]["messages"]
    assert sent[1] == {
        "role": "assistant",
        "content": "",
        "tool_calls": [
            {"id": call.id, "function": {"index": 0, "name": "numbers__add", "arguments": {"a": 2, "b": 3}}}
        ],
    }
    assert sent[2] == {"role": "tool", "content": "5", "tool_name": "numbers__add", "tool_call_id": call.id}


async def test_the_fake_refuses_string_arguments_in_history_as_ollama_does(ollama: FakeOllama) -> None:
    """Guards the client's promise to send objects: a string would fail the whole request."""
    async with OllamaClient(ollama.url) as client:
        raw = {
            "model": "llama3.2",
            "messages": [
                {"role": "user", "content": "x"},
                {"role": "assistant", "content": "", "tool_calls": [{"function": {"name": "a", "arguments": "{}"}}]},
            ],
        }
        response = await client._http.post("/api/chat", json=raw)
    assert response.status_code == 400
    assert "cannot unmarshal string" in response.json()["error"]


async def test_tools_for_a_model_without_the_capability_fail_with_the_servers_words(client: OllamaClient) -> None:
    with pytest.raises(OllamaServerError) as caught:
        await reply(client, ChatRequest("llava:7b", (ChatMessage("user", "hi"),), tools=(ECHO,)))
    assert caught.value.status == 400
    assert str(caught.value) == 'Ollama answered 400: "llava:7b" does not support tools.'
