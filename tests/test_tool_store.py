"""Tool calls and results in the store, in exports and in the history a reopened conversation sends.

`tests/data/conversations-v2.db` was written by the app before tools existed (schema 2); opening
it must upgrade it in place and keep everything.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

from ollama_server import ChatScript, FakeOllama, tokenize, tool_call

from app.chat_options import ChatOptions
from app.client import OllamaClient
from app.conversation import MODEL_RESULT_BYTES, MODEL_RESULT_NOTE, ToolStatus, Turn, TurnState, history
from app.export import from_json, to_json, to_markdown
from app.protocol import ChatStats, ToolCall, ToolDefinition
from app.store import DB_NAME, SCHEMA_VERSION, ConversationInfo, Store
from app.tools.calls import STORED_RESULT_BYTES, ContentPart, denied, failed, from_parts
from app.tools.policy import ToolPolicy

OLD_FILE = Path(__file__).parent / "data" / "conversations-v2.db"
ADD = ToolCall("numbers__add", {"a": 2, "b": 3}, "call_1", 0)
STRING_ARGUMENTS = ToolCall.from_json(
    {"id": "call_2", "function": {"index": 1, "name": "files__read", "arguments": '{"path": "a.md"}'}}
)
BAD_ARGUMENTS = ToolCall.from_json({"function": {"index": 2, "name": "files__read", "arguments": "{path: a.md"}})
POLICY = ToolPolicy(
    always=frozenset({"numbers__add"}),
    disabled_servers=frozenset({"tracker"}),
    disabled_tools=frozenset({"files__write"}),
)


def tool_conversation() -> list[Turn]:
    """A question, a reply asking for three tools, their results (each way a call can end), an answer."""
    asked = Turn(
        "assistant",
        "Let me look.",
        model="qwen3:4b",
        tool_calls=(ADD, STRING_ARGUMENTS, BAD_ARGUMENTS),
        stats=ChatStats("stop", eval_count=12),
        created_at=1_700_000_001.5,
    )
    results = [
        from_parts(ADD, [ContentPart("text", "5")], is_error=False, duration=0.25).turn(),
        from_parts(STRING_ARGUMENTS, [ContentPart("text", "no such file")], is_error=True, duration=0.5).turn(),
        failed(BAD_ARGUMENTS, 'the call to "files__read" cannot be used: its arguments are not valid JSON').turn(),
    ]
    for number, turn in enumerate(results):
        turn.created_at = 1_700_000_002.0 + number
    return [
        Turn("user", "What is 2 + 3, and what is in a.md?", created_at=1_700_000_001.0),
        asked,
        *results,
        Turn("assistant", "2 + 3 is 5; a.md does not exist.", model="qwen3:4b", created_at=1_700_000_006.0),
    ]


def comparable(turns: list[Turn]) -> list[Turn]:
    for turn in turns:
        turn.id = None
    return turns


def save(store: Store, turns: list[Turn], policy: ToolPolicy = POLICY) -> ConversationInfo:
    info = store.create_conversation("qwen3:4b", title="Tools", tool_settings=policy.to_json())
    for turn in turns:
        store.add_turn(info.id, turn)
    return info


# The schema


def test_an_old_file_is_upgraded_in_place_and_keeps_everything(tmp_path: Path) -> None:
    shutil.copy(OLD_FILE, tmp_path / DB_NAME)
    with Store.open(tmp_path) as store:
        assert store.mode == "normal", store.notice
        first, second = sorted(store.conversations(), key=lambda info: info.id)
        assert (first.model, first.system, first.options) == (
            "llama3.2",
            "Answer tersely.",
            (("temperature", 0.2), ("_think", False)),
        )
        assert (first.title, first.message_count, first.tool_settings) == ("What do penguins eat?", 4, "")
        question, answer, follow_up, stopped = store.turns(first.id)
        assert question.content == "What do penguins eat?"
        assert answer.stats == ChatStats("stop", 900, 10, 21, 80, 7, 40)
        assert follow_up.images == ("aGVsbG8=",)
        assert (stopped.state, stopped.error, stopped.thinking) == (
            TurnState.STOPPED,
            "Stopped by you.",
            "Emperor penguins...",
        )
        assert all(
            turn.tool_calls == () and turn.tool_status is None and turn.duration is None
            for turn in store.turns(first.id)
        )
        assert [turn.content for turn in store.turns(second.id)] == [
            "Explain binary search",
            "Halve the range each step.",
        ]
        assert store.get_setting("last_model") == "qwen3:4b"
        assert [hit.message_id for hit in store.search("krill")] == [answer.id]
        assert history(store.turns(first.id))[1].to_json() == {
            "role": "assistant",
            "content": "Mostly krill and small fish.",
        }

        info = save(store, tool_conversation())  # the upgraded file takes the new kinds of message
        assert comparable(store.turns(info.id)) == tool_conversation()
    with sqlite3.connect(tmp_path / DB_NAME) as raw:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 4


def test_calls_results_and_settings_come_back_as_saved(tmp_path: Path) -> None:
    with Store.open(tmp_path) as store:
        info = save(store, tool_conversation())
        turns = store.turns(info.id)
        assert comparable(turns) == tool_conversation()
        assert ToolPolicy.from_json(store.conversation(info.id).tool_settings) == POLICY  # type: ignore[union-attr]  # None would fail the assertion anyway
        assert turns[1].tool_calls[1].arguments_text == '{"path": "a.md"}'
        assert turns[1].tool_calls[2].problem.startswith("its arguments are not valid JSON")
        assert [turn.tool_status for turn in turns[2:5]] == [ToolStatus.OK, ToolStatus.ERROR, ToolStatus.FAILED]
        assert [turn.duration for turn in turns[2:5]] == [0.25, 0.5, None]

        store.set_tool_settings(info.id, POLICY.with_tool("files__write", True).to_json())
        stored = store.conversation(info.id)
        assert stored is not None
        assert ToolPolicy.from_json(stored.tool_settings).disabled_tools == frozenset()


def test_a_reply_that_asks_for_tools_at_its_end_is_saved_by_the_final_update(tmp_path: Path) -> None:
    with Store.open(tmp_path) as store:
        info = store.create_conversation("m")
        reply = Turn("assistant", "", state=TurnState.STREAMING)
        store.add_turn(info.id, reply)
        reply.content, reply.state, reply.tool_calls = "Checking.", TurnState.COMPLETE, (ADD,)
        store.update_turn(reply)
        assert store.turns(info.id)[0].tool_calls == (ADD,)


def test_search_finds_tool_results(tmp_path: Path) -> None:
    with Store.open(tmp_path) as store:
        turns = tool_conversation()
        turns[2].content = "The thermometer reads 21 degrees"
        save(store, turns)
        (hit,) = store.search("thermometer")
        assert hit.role == "tool"
        assert "«thermometer»" in hit.snippet


# History


def test_history_sends_calls_then_results_in_ollamas_shape() -> None:
    messages = [message.to_json() for message in history(tool_conversation(), "Be brief.")]
    assert messages[2] == {
        "role": "assistant",
        "content": "Let me look.",
        "tool_calls": [
            {"id": "call_1", "function": {"index": 0, "name": "numbers__add", "arguments": {"a": 2, "b": 3}}},
            {"id": "call_2", "function": {"index": 1, "name": "files__read", "arguments": {"path": "a.md"}}},
            {"function": {"index": 2, "name": "files__read", "arguments": {}}},
        ],
    }
    assert messages[3:6] == [
        {"role": "tool", "content": "5", "tool_name": "numbers__add", "tool_call_id": "call_1"},
        {"role": "tool", "content": "Tool error: no such file", "tool_name": "files__read", "tool_call_id": "call_2"},
        {
            "role": "tool",
            "content": 'Error: the call to "files__read" cannot be used: its arguments are not valid JSON',
            "tool_name": "files__read",
        },
    ]
    assert messages[6] == {"role": "assistant", "content": "2 + 3 is 5; a.md does not exist."}


def test_a_reply_with_only_calls_and_an_empty_result_are_both_sent() -> None:
    turns = [
        Turn("user", "now?"),
        Turn("assistant", "", tool_calls=(ToolCall("clock__now"),)),
        from_parts(ToolCall("clock__now"), [], is_error=False, duration=0.1).turn(),
        denied(ToolCall("clock__now")).turn(),
    ]
    assert [message.role for message in history(turns)] == ["user", "assistant", "tool", "tool"]
    assert history(turns)[2].content == ""
    assert history(turns)[3].content == "The person declined to run this tool call."


def test_the_model_gets_100_kb_of_a_long_result_and_the_store_keeps_1_mb(tmp_path: Path) -> None:
    call = ToolCall("files__read", {"path": "big"})
    result = from_parts(call, [ContentPart("text", "é" * 1_500_000)], is_error=False, duration=1.0)
    stored_bytes = len(result.text.encode())
    assert STORED_RESULT_BYTES < stored_bytes < STORED_RESULT_BYTES + 100
    assert result.text.endswith("[The result was longer than 1 MB; the rest was not kept.]")
    turns = [Turn("user", "read big"), Turn("assistant", "", tool_calls=(call,)), result.turn()]
    sent = history(turns)[2].content
    assert sent.endswith(MODEL_RESULT_NOTE)
    assert len(sent[: -len(MODEL_RESULT_NOTE)].encode()) == MODEL_RESULT_BYTES  # two-byte characters, none split
    with Store.open(tmp_path) as store:
        info = save(store, turns)
        assert history(store.turns(info.id)) == history(turns)


async def test_a_reopened_conversation_sends_the_same_tool_history(tmp_path: Path, ollama: FakeOllama) -> None:
    """The first run's second request and the reopened conversation's request carry the same messages."""
    tools = (ToolDefinition("numbers__add", "Add.", {"type": "object"}),)
    options = ChatOptions(system="Be brief.")
    turns = [Turn("user", "2+3?")]
    ollama.enqueue(ChatScript(tokens=tokenize("Adding."), tool_calls=(tool_call("numbers__add", '{"a": 2, "b": 3}'),)))
    async with OllamaClient(ollama.url) as client:
        reply = Turn("assistant", "", model="llama3.2")
        async for chunk in client.chat(options.chat_request("llama3.2", turns, tools)):
            reply.content += chunk.content
            reply.tool_calls += chunk.tool_calls
        turns += [
            reply,
            from_parts(reply.tool_calls[0], [ContentPart("text", "5")], is_error=False, duration=0.1).turn(),
        ]
        ollama.enqueue(ChatScript(tokens=tokenize("5.")))
        async for _ in client.chat(options.chat_request("llama3.2", turns, tools)):
            pass
        first_run = ollama.bodies("/api/chat")[-1]["messages"]

        with Store.open(tmp_path) as store:
            info = save(store, turns)
        with Store.open(tmp_path) as store:
            reopened = store.turns(info.id)
        ollama.enqueue(ChatScript(tokens=tokenize("5.")))
        async for _ in client.chat(options.chat_request("llama3.2", reopened, tools)):
            pass
    assert ollama.bodies("/api/chat")[-1]["messages"] == first_run
    assert first_run[2]["tool_calls"][0]["function"]["arguments"] == {"a": 2, "b": 3}
    assert first_run[3] == {
        "role": "tool",
        "content": "5",
        "tool_name": "numbers__add",
        "tool_call_id": reply.tool_calls[0].id,
    }


# Export and import


def test_json_export_reads_back_exactly_and_imports_the_same_conversation(tmp_path: Path) -> None:
    with Store.open(tmp_path) as store:
        info = save(store, tool_conversation())
        saved = store.conversation(info.id)
        assert saved is not None
        text = to_json(saved, store.turns(info.id))
        document = json.loads(text)
        assert document["tool_settings"] == json.loads(POLICY.to_json())
        asked = document["messages"][1]
        assert asked["tool_calls"][1]["function"]["arguments"] == '{"path": "a.md"}'  # as the model sent it
        assert document["messages"][3]["tool_status"] == "error" and document["messages"][3]["duration"] == 0.5

        read_info, read_turns = from_json(text)
        assert comparable(read_turns) == tool_conversation()
        assert read_info.tool_settings == POLICY.to_json()

        copy = store.import_conversation(read_info, read_turns)
        assert comparable(store.turns(copy)) == tool_conversation()
        imported = store.conversation(copy)
        assert imported is not None and imported.tool_settings == POLICY.to_json()
        assert to_json(imported, store.turns(copy)).split('"messages"')[1] == text.split('"messages"')[1]


def test_an_ollama_messages_list_with_tool_calls_imports() -> None:
    messages = [message.to_json() for message in history(tool_conversation())]
    _, turns = from_json(json.dumps(messages))
    assert [message.to_json() for message in history(turns)] == messages


def test_bad_tool_fields_in_an_import_are_named() -> None:
    for message, problem in [
        ({"role": "assistant", "content": "", "tool_calls": "add"}, '"tool_calls" must be a list'),
        ({"role": "assistant", "content": "", "tool_calls": ["add"]}, '"tool_calls" must be a list of objects'),
        ({"role": "tool", "content": "", "tool_status": "exploded"}, 'unknown "tool_status"'),
        ({"role": "tool", "content": "", "duration": "long"}, '"duration" must be a number of seconds'),
        ({"role": "tool", "content": "", "tool_name": 3}, '"tool_name" must be a string'),
    ]:
        try:
            from_json(json.dumps([message]))
        except ValueError as error:
            assert problem in str(error) and "Message 1" in str(error)
        else:
            raise AssertionError(f"accepted {message}")


def test_markdown_shows_calls_and_results_as_plain_text() -> None:
    turns = tool_conversation()
    turns[2].content = "```\n\x1b]52;c;aGk=\x07[bold]5[/bold]\n```"
    text = to_markdown(ConversationInfo(1, "Tools", 0, 0, "qwen3:4b"), turns)
    assert '*Calls* `numbers__add({"a": 2, "b": 3})`' in text
    assert "*Calls* `files__read({path: a.md)`" in text  # the arguments the model sent
    assert "### Tool result: numbers__add\n\n````\n```\n[bold]5[/bold]\n```\n````" in text
    assert "\x1b" not in text and "\x07" not in text
    assert "> *The tool reported an error: no such file*" in text
    assert "> *The call failed: the call to" in text
