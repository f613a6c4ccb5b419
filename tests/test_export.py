"""Markdown and JSON transcripts, and reading JSON back."""

from __future__ import annotations

import json

import pytest

from app import __version__
from app.conversation import ConversationInfo, Turn, TurnState
from app.export import FORMAT, FORMAT_VERSION, from_json, to_json, to_markdown
from app.protocol import ChatStats

INFO = ConversationInfo(
    id=3,
    title="Sky colours",
    created_at=1_700_000_000.25,
    updated_at=1_700_000_360.5,
    model="llama3.2",
    system="Answer briefly.\nUse metric units.",
    options=(("temperature", 0.3), ("stop", ["END"])),
    message_count=4,
)


def sample_turns() -> list[Turn]:
    return [
        Turn("user", "Why is the sky **blue**?", images=("aGVsbG8=",), created_at=1_700_000_001.0),
        Turn(
            "assistant",
            "Because of *Rayleigh* scattering.\n\n```python\nprint('hi')\n```",
            model="llama3.2",
            thinking="Short physics answer.\nMention scattering.",
            stats=ChatStats(done_reason="stop", eval_count=42, eval_duration=2_000_000_000),
            created_at=1_700_000_002.5,
        ),
        Turn("user", "And at sunset?", created_at=1_700_000_300.0),
        Turn(
            "assistant",
            "Longer path through",
            model="qwen3",
            state=TurnState.STOPPED,
            error="Stopped by you.",
            created_at=1_700_000_301.0,
        ),
    ]


# Markdown


def test_markdown_reads_as_a_transcript() -> None:
    text = to_markdown(INFO, sample_turns())
    assert text.startswith("# Sky colours\n\n*4 messages · model llama3.2 · created ")
    assert "**System prompt**\n\n> Answer briefly.\n> Use metric units." in text
    assert "### You\n\nWhy is the sky **blue**?\n\n*[1 image attached]*" in text
    assert "### llama3.2 (assistant)\n\n> **Thinking**\n>\n> Short physics answer." in text
    assert "```python\nprint('hi')\n```" in text  # message Markdown kept as is
    stopped = "### qwen3 (assistant)\n\nLonger path through\n\n> *Stopped before the end: Stopped"
    assert stopped in text
    assert text.index("### You") < text.index("### llama3.2") < text.index("And at sunset?")


def test_markdown_notes_how_unfinished_replies_ended() -> None:
    turns = [
        Turn("assistant", "half", state=TurnState.INTERRUPTED),
        Turn("assistant", "", state=TurnState.ERROR, error="model 'x' not found"),
        Turn("assistant", "still going", state=TurnState.STREAMING),
    ]
    text = to_markdown(ConversationInfo(1, "", 0.0, 0.0, ""), turns)
    assert text.startswith("# Untitled conversation\n\n*3 messages · created unknown")
    assert "### Assistant\n\nhalf\n\n> *Interrupted.*" in text
    assert "> *Failed: model 'x' not found*" in text
    assert "> *Still being written when exported.*" in text


def test_markdown_strips_terminal_escape_codes() -> None:
    info = ConversationInfo(1, "Title\x1b]0;owned\x07 here", 0.0, 0.0, "m\x1b[31m")
    turns = [
        Turn("user", "red \x1b[31mtext\x1b[0m and\x9b2J clear"),
        Turn(
            "assistant",
            "ok",
            thinking="\x1b]52;c;Y2xpcA==\x07think",
            error="\x1b[2Jbad",
            state=TurnState.ERROR,
        ),
    ]
    text = to_markdown(info, turns)
    assert "\x1b" not in text and "\x9b" not in text and "\x07" not in text
    assert "# Title here" in text
    assert "red text and clear" in text
    assert "> think" in text and "Failed: bad" in text


# JSON


def test_json_holds_metadata_and_ollama_shaped_messages() -> None:
    document = json.loads(to_json(INFO, sample_turns()))
    assert document["format"] == FORMAT and document["format_version"] == FORMAT_VERSION
    assert document["app_version"] == __version__
    assert document["title"] == "Sky colours" and document["model"] == "llama3.2"
    assert document["created_at"] == "2023-11-14T22:13:20.250000+00:00"
    assert document["options"] == {"temperature": 0.3, "stop": ["END"]}
    first, second, _, last = document["messages"]
    assert first == {
        "role": "user",
        "content": "Why is the sky **blue**?",
        "images": ["aGVsbG8="],
        "model": "",
        "state": "complete",
        "created_at": "2023-11-14T22:13:21.000000+00:00",
    }
    assert second["thinking"] == "Short physics answer.\nMention scattering."
    stats = {"done_reason": "stop", "eval_count": 42, "eval_duration": 2_000_000_000}
    assert second["stats"] == stats
    assert (last["state"], last["error"], last["model"]) == ("stopped", "Stopped by you.", "qwen3")
    assert "stats" not in last and "images" not in last


def test_json_escapes_every_terminal_control() -> None:
    text = to_json(INFO, [Turn("user", "a\x1b[31mb\x9b2Jc\x07")])
    assert not any(character in text for character in "\x1b\x9b\x07")
    assert json.loads(text)["messages"][0]["content"] == "a\x1b[31mb\x9b2Jc\x07"


def test_json_round_trip() -> None:
    turns = sample_turns()
    info, loaded = from_json(to_json(INFO, turns))
    assert info == ConversationInfo(
        0, INFO.title, INFO.created_at, INFO.updated_at, INFO.model, INFO.system, INFO.options, 4
    )
    assert loaded == turns  # ids are not carried over: the importing store assigns them
    assert all(turn.id is None for turn in loaded)


def test_reads_a_bare_ollama_messages_list() -> None:
    text = json.dumps(
        [
            {"role": "system", "content": "Be terse."},
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": "hello", "thinking": "greet"},
        ]
    )
    info, turns = from_json(text)
    assert (info.title, info.system, info.model, info.message_count) == ("", "Be terse.", "", 2)
    assert [(turn.role, turn.content, turn.thinking) for turn in turns] == [
        ("user", "hi", ""),
        ("assistant", "hello", "greet"),
    ]
    assert all(turn.state is TurnState.COMPLETE and turn.created_at == 0 for turn in turns)


def test_reads_a_messages_object_with_ollama_times() -> None:
    text = json.dumps(
        {
            "messages": [
                {"role": "user", "content": "q", "created_at": "2024-05-01T12:00:00.123456789Z"},
                {"role": "assistant", "content": "a", "model": "gemma3", "created_at": 1714564801},
            ]
        }
    )
    info, turns = from_json(text)
    assert info.model == "gemma3"  # the last model that answered
    assert turns[0].created_at == pytest.approx(1714564800.123456)
    assert turns[1].created_at == 1714564801.0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "not valid JSON"),
        ('"a string"', 'an object with a "messages" list'),
        ('{"title": "no messages"}', 'an object with a "messages" list'),
        ('{"messages": {}}', '"messages" must be a list'),
        ('{"format": "other-app", "messages": []}', "not an ollama-tui conversation"),
        ('{"format_version": 99, "messages": []}', "newer version"),
        ("[1]", "Message 1 must be an object"),
        ('[{"role": "user", "content": "ok"}, {"content": "x"}]', 'Message 2: "role" must be one'),
        ('[{"role": "robot", "content": "x"}]', "not 'robot'"),
        ('[{"role": "user", "content": 5}]', 'Message 1: "content" must be a string'),
        ('[{"role": "user", "content": "", "images": [1]}]', "list of base64 strings"),
        ('[{"role": "user", "content": "", "images": "x"}]', '"images" must be a list'),
        ('[{"role": "assistant", "content": "", "state": "lost"}]', "unknown \"state\" 'lost'"),
        ('[{"role": "user", "content": "", "created_at": "soon"}]', "not a date and time"),
        ('[{"role": "user", "content": "", "stats": []}]', '"stats" must be an object'),
        ('{"messages": [], "options": [1, 2]}', 'The conversation: "options" must be an object'),
        ('{"messages": [], "title": 7}', 'The conversation: "title" must be a string'),
    ],
)
def test_bad_input_is_explained(text: str, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        from_json(text)
    assert message in str(caught.value)
