"""The open conversation's state: starting afresh and opening a saved one reset all of it; the
state, the model catalog and the streaming load no UI."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace

from app.chat_options import ChatOptions, apply_set
from app.conversation import ConversationInfo, Turn, TurnState
from app.open_conversation import OpenConversation
from app.protocol import ChatStats, ToolDefinition
from app.store import INTERRUPTED_ERROR
from app.tools.policy import ToolPolicy

SAVED = ConversationInfo(7, "Peru", 1.0, 2.0, "qwen3:4b", system="Be brief.", options=(("temperature", 0.2),))


def busy() -> OpenConversation:
    """A conversation with something in every field."""
    current = OpenConversation("llama3.2:latest")
    current.open(SAVED, [Turn("user", "Capital of Peru?"), Turn("assistant", "Lima.", stats=ChatStats(eval_count=2))])
    current.images.append(("cat.png", "aGVsbG8="))
    current.editing = current.turns[0]
    current.options = apply_set(current.options, "think").options
    return current


def test_start_fresh_keeps_only_the_model() -> None:
    current = busy()
    opened = current.opened
    current.start_fresh()
    assert (current.info, current.turns, current.images, current.editing, current.last_stats) == (
        None,
        [],
        [],
        None,
        None,
    )
    assert current.options == ChatOptions() and current.id is None
    assert current.model == "llama3.2:latest" and current.opened == opened + 1


def test_open_takes_a_saved_conversation_with_its_settings() -> None:
    current = busy()
    left = Turn("assistant", "Half", state=TurnState.STREAMING)
    turns = [Turn("user", "Hi", stats=None), Turn("assistant", "Hello", stats=ChatStats(eval_count=5)), left]
    current.open(SAVED, turns)
    assert current.info == SAVED and current.id == 7 and current.turns is turns
    assert current.options.system == "Be brief." and current.options.parameter("temperature") == 0.2
    assert current.options.think is None  # the previous conversation's setting is gone
    assert (current.images, current.editing) == ([], None)
    assert current.last_stats == ChatStats(eval_count=5)
    assert (left.state, left.error) == (TurnState.INTERRUPTED, INTERRUPTED_ERROR)  # left by a copy that died


def test_messages_take_the_images_and_drop_from_removes_that_very_turn() -> None:
    current = busy()
    user = current.add_user_message("What is this?")
    assert user.images == ("aGVsbG8=",) and current.images == []
    reply = current.add_reply()
    assert (reply.model, reply.state) == ("llama3.2:latest", TurnState.STREAMING)
    twin = Turn("user", "What is this?", images=("aGVsbG8=",), created_at=user.created_at)  # equal, not the same
    assert current.drop_from(twin) == [] and current.editing is None
    assert current.drop_from(user) == [user, reply] and not current.holds(user)
    assert [turn.content for turn in current.turns] == ["Capital of Peru?", "Lima."]


def test_the_request_leaves_think_out_for_a_model_that_cannot() -> None:
    current = busy()
    assert current.request(can_think=True).think is True
    request = current.request(can_think=False)
    assert request.think is None and request.model == "llama3.2:latest"
    assert [message.role for message in request.messages] == ["system", "user", "assistant"]


def test_renames_and_settings_follow_the_saved_conversation() -> None:
    current = busy()
    current.rename("Lima")
    options = apply_set(ChatOptions(), "system Be terse.").options
    current.set_options(options)
    assert current.info is not None and (current.info.title, current.info.system) == ("Lima", "Be terse.")
    fresh = OpenConversation()
    fresh.rename("Nothing saved")
    fresh.set_options(options)
    assert fresh.info is None and fresh.options is options


def test_tool_settings_come_with_the_conversation_and_go_with_it() -> None:
    current = busy()
    saved = replace(SAVED, tool_settings='{"always":["files__read"],"disabled_servers":["web"]}')
    current.open(saved, [Turn("user", "Hi")])
    assert current.tool_policy == ToolPolicy(always=frozenset({"files__read"}), disabled_servers=frozenset({"web"}))
    policy = current.tool_policy.with_tool("files__write", False)
    current.set_tool_policy(policy)
    assert current.tool_policy is policy and current.info is not None
    assert ToolPolicy.from_json(current.info.tool_settings) == policy  # what the screen saves
    current.start_fresh()
    assert current.tool_policy == ToolPolicy()
    definition = ToolDefinition("files__read", "Read a file.", {"type": "object"})
    current.turns.append(Turn("user", "Read a.md"))
    assert current.request(can_think=True, tools=[definition]).tools == (definition,)
    assert current.request(can_think=True).tools == ()


def test_the_state_the_catalog_and_the_streaming_need_no_ui() -> None:
    code = (
        "import sys, app.open_conversation, app.model_catalog, app.streaming;"
        "print(sorted({'textual', 'rich'} & set(sys.modules)))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
