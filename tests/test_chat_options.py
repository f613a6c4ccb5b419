"""Per-conversation settings: `/set` as `ollama run` has it, validation, storage and requests."""

from __future__ import annotations

import subprocess
import sys

import pytest
from ollama_server import FakeOllama

from app.chat_options import (
    KEEP_ALIVE_KEY,
    THINK_KEY,
    ChatOptions,
    apply_set,
    describe,
    format_stop,
    parse_keep_alive,
    parse_parameter,
    parse_stop,
)
from app.client import OllamaClient
from app.conversation import Turn


def run(*commands: str, start: ChatOptions | None = None) -> ChatOptions:
    options = start or ChatOptions()
    for command in commands:
        options = apply_set(options, command).options
    return options


def test_parameters_are_typed_and_kept_in_one_order() -> None:
    options = run(
        "parameter num_ctx 8192",
        "parameter temperature 0.2",
        "parameter top_k 20",
        "parameter seed -1",
        "parameter repeat_penalty 1",
        "parameter min_p 0.05",
        "parameter repeat_last_n -1",
        "parameter num_predict -1",
        "PARAMETER TOP_P 0.9",
    )
    assert options.options == (
        ("temperature", 0.2),
        ("top_p", 0.9),
        ("top_k", 20),
        ("min_p", 0.05),
        ("num_ctx", 8192),
        ("num_predict", -1),
        ("seed", -1),
        ("repeat_penalty", 1.0),
        ("repeat_last_n", -1),
    )
    assert isinstance(options.parameter("num_ctx"), int)
    assert isinstance(options.parameter("repeat_penalty"), float)
    assert run("parameter temperature 0.9", start=options).parameter("temperature") == 0.9


def test_messages_confirm_each_change() -> None:
    assert apply_set(ChatOptions(), "parameter temperature 0.5").message == "Set parameter 'temperature' to '0.5'."
    assert apply_set(ChatOptions(), "think").message == "Set 'think' mode."
    assert apply_set(ChatOptions(), "nothink").message == "Set 'nothink' mode."
    assert apply_set(ChatOptions(), "system Be terse.").message == "Set system message."
    assert apply_set(ChatOptions(), "keepalive 10m").message == "Set keep-alive to 10m."


def test_stop_sequences_add_up_and_can_be_quoted() -> None:
    options = run('parameter stop <|im_end|> "User:"', 'parameter stop "two words" "\\n\\n" <|im_end|>')
    assert options.parameter("stop") == ("<|im_end|>", "User:", "two words", "\n\n")
    assert format_stop(options.parameter("stop")) == '<|im_end|> User: "two words" "\\n\\n"'
    assert parse_stop(format_stop(options.parameter("stop"))) == options.parameter("stop")
    assert parse_stop('"<|eot_id|>"') == ("<|eot_id|>",)  # as `ollama show` prints them


def test_a_parameter_without_value_is_unset() -> None:
    options = run("parameter temperature 0.2", "parameter stop a b")
    options = run("parameter temperature", start=options)
    assert options.parameter("temperature") is None
    assert apply_set(options, "parameter stop").options.options == ()


def test_system_think_and_keep_alive() -> None:
    options = run('system """You are terse.\nVery terse."""', "think", "keepalive 1h30m")
    assert options.system == "You are terse.\nVery terse."
    assert options.think is True and options.keep_alive == "1h30m"
    assert run('system "Quoted."').system == "Quoted."
    assert run("system", start=options).system == ""
    assert run("nothink", start=options).think is False
    assert run("keepalive", start=options).keep_alive is None


def test_thinking_levels_for_models_that_take_them() -> None:
    options = run("think High")
    assert options.think == "high"
    assert apply_set(ChatOptions(), "think low").message == "Set thinking level to 'low'."
    assert options.chat_request("gpt-oss:20b", []).to_json()["think"] == "high"
    assert describe(options)[2] == "Thinking: level high"
    assert ChatOptions.from_stored("", options.stored_options()) == options
    assert run("think", start=options).think is True


@pytest.mark.parametrize(
    ("text", "value"),
    [("5m", "5m"), ("30s", "30s"), ("1h", "1h"), ("1h30m", "1h30m"), ("1.5h", "1.5h"),
     ("-1m", "-1m"), ("300", 300), ("-1", -1), ("0", 0), (" 10m ", "10m")],
)  # fmt: skip
def test_keep_alive_is_a_go_duration_or_seconds(text: str, value: str | int) -> None:
    assert parse_keep_alive(text) == value


@pytest.mark.parametrize(
    ("command", "message"),
    [
        ("parameter temperature -0.1", "temperature must be at least 0, not -0.1."),
        ("parameter temperature hot", "temperature takes a number, not 'hot'."),
        ("parameter temperature inf", "temperature takes a finite number, not inf."),
        ("parameter top_p 1.5", "top_p must be between 0 and 1, not 1.5."),
        ("parameter min_p -1", "min_p must be between 0 and 1, not -1."),
        ("parameter num_ctx 0", "num_ctx must be at least 1, not 0."),
        ("parameter num_ctx 8k", "num_ctx takes a whole number, not '8k'."),
        ("parameter top_k 2.5", "top_k takes a whole number, not '2.5'."),
        ("parameter num_predict -3", "num_predict must be at least -2, not -3."),
        ("parameter max_tokens 10", "Unknown parameter 'max_tokens'."),
        ("parameter", "Usage: /set parameter NAME VALUE"),
        ('parameter stop "unfinished', "unfinished quote"),
        ('parameter stop ""', "at least one non-empty stop sequence"),
        ("keepalive 10x", "Keep-alive takes a duration"),
        ("keepalive forever", "Keep-alive takes a duration"),
        ("think yes", "Thinking levels are low, medium, high, max"),
        ("verbose", "Unknown setting 'verbose'."),
        ("", "Usage: /set"),
    ],
)
def test_invalid_input_says_why_in_one_line(command: str, message: str) -> None:
    with pytest.raises(ValueError, match=r"^[^\n]*$") as raised:
        apply_set(ChatOptions(), command)
    assert message in str(raised.value)


def test_form_fields_parse_like_commands() -> None:
    assert parse_parameter("temperature", " 0.3 ") == 0.3
    assert parse_parameter("seed", "") is None
    assert parse_parameter("stop", "a a b") == ("a", "b")
    with pytest.raises(ValueError, match="top_p must be between 0 and 1"):
        parse_parameter("top_p", "2")


def test_stored_form_round_trips_and_drops_what_does_not_validate() -> None:
    options = run("parameter temperature 0.2", "parameter num_ctx 8192", "parameter stop a b",
                  "nothink", "keepalive -1", "system Be brief.")  # fmt: skip
    stored = options.stored_options()
    assert dict(stored) == {"temperature": 0.2, "num_ctx": 8192, "stop": ["a", "b"],
                            THINK_KEY: False, KEEP_ALIVE_KEY: -1}  # fmt: skip
    assert ChatOptions.from_stored("Be brief.", stored) == options
    junk = (("temperature", "hot"), ("num_ctx", 1.5), ("top_p", 7), ("stop", "x"), ("mystery", 1),
            (THINK_KEY, "yes"), (KEEP_ALIVE_KEY, "soon"), ("seed", True), ("min_p", float("nan")),
            ("top_k", 40))  # fmt: skip
    assert ChatOptions.from_stored("", junk) == ChatOptions(options=(("top_k", 40),))


def test_show_lists_the_settings() -> None:
    assert describe(ChatOptions()) == [
        "System message: the model's own",
        "Parameters: the model's own",
        "Thinking: the model's default",
        "Keep-alive: the server's default",
    ]
    options = run("system Line one\nline two", "parameter temperature 0.2", "parameter stop \"a b\"",
                  "think", "keepalive 0")  # fmt: skip
    assert describe(options) == [
        "System message:",
        "  Line one",
        "  line two",
        "Parameters:",
        "  temperature  0.2",
        '  stop         "a b"',
        "Thinking: on",
        "Keep-alive: 0s (unloads after each reply)",
    ]
    assert describe(run("keepalive -1m"))[-1] == "Keep-alive: -1m (stays loaded)"


async def test_the_server_receives_the_settings(ollama: FakeOllama) -> None:
    options = run("system Be brief.", "parameter temperature 0.2", "parameter num_ctx 8192",
                  'parameter stop "User:"', "nothink", "keepalive 10m")  # fmt: skip
    turns = [Turn("user", "hi")]
    async with OllamaClient(ollama.url) as client:
        async for _ in client.chat(options.chat_request("qwen3:4b", turns)):
            pass
        async for _ in client.chat(ChatOptions().chat_request("qwen3:4b", turns)):
            pass
    configured, plain = ollama.bodies("/api/chat")
    assert configured["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "hi"},
    ]
    assert configured["options"] == {"temperature": 0.2, "num_ctx": 8192, "stop": ["User:"]}
    assert configured["think"] is False and configured["keep_alive"] == "10m"
    assert plain["messages"] == [{"role": "user", "content": "hi"}]
    assert not {"options", "think", "keep_alive"} & plain.keys()


def test_settings_load_neither_the_ui_nor_http() -> None:
    code = "import sys, app.chat_options; print(sorted({'textual', 'rich', 'httpx'} & set(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
