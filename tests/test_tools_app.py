"""Tools in the running app, end to end: a config file in tmp_path names a real MCP server
(tests/mcp_servers/), the fake Ollama asks for its tools, and the person approves, always
approves, denies or stops, as they would with the keys. Asserted on what the screen shows, what
the store kept and what the server was sent."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import SIZE, screen_text, type_text, wait_until
from ollama_server import ChatScript, FakeOllama, make_model, tool_call
from textual.pilot import Pilot
from textual.widgets import SelectionList

from app import debug_log
from app.app import OllamaTui, make_app
from app.cli import build_parser, read_config, settings_from
from app.conversation import ToolStatus, Turn, TurnState
from app.protocol import ToolCall
from app.screens.chat import ChatScreen
from app.screens.tools import ToolsScreen
from app.store import Store
from app.tools.calls import DENIED_TEXT
from app.tools.policy import ToolPolicy
from app.tools.rounds import STOPPED_WHILE_ASKED
from app.tools.servers import ServerState
from app.widgets.conversation_view import ConversationView
from app.widgets.prompt_input import PromptInput
from app.widgets.tool_question import ToolQuestion

pytestmark = pytest.mark.slow

SERVERS = Path(__file__).parent / "mcp_servers"
LOCAL = f"""\
[mcp_servers.local]
command = {json.dumps(sys.executable)}
args = [{json.dumps(str(SERVERS / "stdio_server.py"))}]
"""
TOOL_COUNT = 11  # the tools of tests/mcp_servers/tools.py


@pytest.fixture
def config(tmp_path: Path) -> Callable[..., Path]:
    def write(text: str = LOCAL) -> Path:
        path = tmp_path / "config.toml"
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture
def tui(ollama: FakeOllama, tmp_path: Path) -> Iterator[Callable[..., OllamaTui]]:
    """The app as `ollama-tui --config FILE` builds it."""

    def make(config: Path, *flags: str) -> OllamaTui:
        args = build_parser().parse_args(
            ["--host", ollama.url, "--data-dir", str(tmp_path / "data"), "--config", str(config), *flags]
        )
        return make_app(settings_from(args, read_config(args)))

    yield make


def chat(pilot: Pilot[None]) -> ChatScreen:
    screen = pilot.app.screen_stack[0]
    assert isinstance(screen, ChatScreen)
    return screen


async def ready(pilot: Pilot[None], *servers: str) -> ChatScreen:
    """Models listed, the current model's details known and `servers` started."""
    screen = chat(pilot)
    await wait_until(pilot, lambda: screen.models and screen.current.model in screen.catalog.details)
    await wait_until(
        pilot, lambda: all(screen.tool_servers.status(name).state is not ServerState.STARTING for name in servers)
    )
    return screen


async def send(pilot: Pilot[None], text: str) -> None:
    await type_text(pilot, text)
    await pilot.press("enter")


def asked(screen: ChatScreen, name: str) -> Callable[[], bool]:
    """The question is up for a call of `name`."""

    def up() -> bool:
        last = screen.turns[-1] if screen.turns else None
        return (
            last is not None
            and last.role == "tool"
            and last.tool_name == name
            and last.activity == "asking"
            and isinstance(screen.app.focused, ToolQuestion)
        )

    return up


def idle(screen: ChatScreen, replies: int) -> Callable[[], bool]:
    """`replies` replies have ended and nothing is running."""

    def done() -> bool:
        ended = [turn for turn in screen.turns if turn.role == "assistant" and turn.state != TurnState.STREAMING]
        return len(ended) >= replies and not screen.reply_arriving

    return done


def calls(*pairs: tuple[str, dict[str, Any]]) -> ChatScript:
    """A reply that asks for these calls, one after the other."""
    return ChatScript(
        tokens=["Let me check."], tool_calls=tuple(tool_call(n, a, index=i) for i, (n, a) in enumerate(pairs))
    )


def sent(ollama: FakeOllama) -> list[dict[str, Any]]:
    return ollama.bodies("/api/chat")


def tool_names(body: dict[str, Any]) -> list[str]:
    return [tool["function"]["name"] for tool in body.get("tools", [])]


async def stored(screen: ChatScreen) -> list[Turn]:
    """The open conversation as saved, once the queued writes are done."""
    assert screen.current.id is not None
    return await screen.writer.run(screen.store.turns, screen.current.id)


# The loop


async def test_approve_once_runs_the_calls_in_order_and_the_reply_goes_on_with_their_results(
    ollama: FakeOllama, tui: Callable[..., OllamaTui], config: Callable[..., Path]
) -> None:
    ollama.enqueue(
        calls(("local__echo", {"text": "hi"}), ("local__add", {"a": 1, "b": 2})),
        ChatScript(tokens=["It says hi; 1 + 2 is 3."]),
    )
    app = tui(config())
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await ready(pilot, "local")
        assert f"tools {TOOL_COUNT}" in screen_text(app)  # the status line
        await send(pilot, "Say hi and add 1 and 2")
        await wait_until(pilot, asked(screen, "local__echo"))
        text = screen_text(app)
        assert "▾ local › echo" in text and '"text": "hi"' in text  # the call, its arguments unfolded
        question = str(app.query_one(ToolQuestion).render())  # toasts may cover it on screen
        assert question.startswith("Run local › echo (stdio server)?\nEnter/y once · a always, in this conversation")
        assert len(sent(ollama)) == 1  # nothing more until the person answers
        await pilot.press("enter")
        await wait_until(pilot, asked(screen, "local__add"))  # the second call is asked in turn
        assert screen.turns[-2].content == "hi" and screen.turns[-2].tool_status is ToolStatus.OK
        await pilot.press("y")
        await wait_until(pilot, idle(screen, 2))
        first, second = sent(ollama)
        assert tool_names(first)[:2] == ["local__echo", "local__add"] and len(tool_names(first)) == TOOL_COUNT
        assert [message["role"] for message in second["messages"]] == ["user", "assistant", "tool", "tool"]
        assert second["messages"][1]["tool_calls"][0]["function"] == {
            "index": 0,
            "name": "local__echo",
            "arguments": {"text": "hi"},
        }
        assert second["messages"][2:] == [
            {"role": "tool", "content": "hi", "tool_name": "local__echo", "tool_call_id": first_id(ollama, 0)},
            {"role": "tool", "content": "3.0", "tool_name": "local__add", "tool_call_id": first_id(ollama, 1)},
        ]
        text = screen_text(app)
        assert "▸ local › echo" in text and "▸ local › add" in text and "done" in text
        assert "It says hi; 1 + 2 is 3." in text
        assert isinstance(app.focused, PromptInput)
        saved = await stored(screen)
        assert [(turn.role, turn.tool_status) for turn in saved] == [
            ("user", None),
            ("assistant", None),
            ("tool", ToolStatus.OK),
            ("tool", ToolStatus.OK),
            ("assistant", None),
        ]
        assert [call.name for call in saved[1].tool_calls] == ["local__echo", "local__add"]


def first_id(ollama: FakeOllama, index: int) -> str:
    """The id the fake server gave the first reply's call `index`."""
    return str(sent(ollama)[1]["messages"][1]["tool_calls"][index]["id"])


async def test_always_runs_that_tool_unasked_for_the_rest_of_the_conversation(
    ollama: FakeOllama, tui: Callable[..., OllamaTui], config: Callable[..., Path]
) -> None:
    ollama.enqueue(
        calls(("local__echo", {"text": "one"})),
        calls(("local__echo", {"text": "two"}), ("local__add", {"a": 2, "b": 2})),
        ChatScript(tokens=["Done."]),
    )
    app = tui(config())
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await ready(pilot, "local")
        await send(pilot, "Echo twice")
        await wait_until(pilot, asked(screen, "local__echo"))
        await pilot.press("a")
        # the second reply's echo runs unasked; add was not approved, so it is asked
        await wait_until(pilot, asked(screen, "local__add"))
        echoes = [turn for turn in screen.turns if turn.tool_name == "local__echo"]
        assert [turn.content for turn in echoes] == ["one", "two"]
        await pilot.press("n")
        await wait_until(pilot, idle(screen, 3))
        assert screen.current.tool_policy.always == frozenset({"local__echo"})
        assert screen.current.info is not None
        info = await screen.writer.run(screen.store.conversation, screen.current.info.id)
        assert info is not None and ToolPolicy.from_json(info.tool_settings).always == frozenset({"local__echo"})


async def test_deny_tells_the_model_and_the_reply_goes_on(
    ollama: FakeOllama, tui: Callable[..., OllamaTui], config: Callable[..., Path]
) -> None:
    ollama.enqueue(calls(("local__echo", {"text": "secret"})), ChatScript(tokens=["Understood, I will not."]))
    app = tui(config())
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await ready(pilot, "local")
        await send(pilot, "Echo a secret")
        await wait_until(pilot, asked(screen, "local__echo"))
        await pilot.press("n")
        await wait_until(pilot, idle(screen, 2))
        result = screen.turns[2]
        assert (result.tool_status, result.content, result.duration) == (ToolStatus.DENIED, DENIED_TEXT, None)
        assert sent(ollama)[1]["messages"][2]["content"] == DENIED_TEXT
        text = screen_text(app)
        assert "▸ local › echo" in text and "denied" in text and "Understood, I will not." in text


async def test_the_loop_stops_after_max_tool_rounds_with_a_note(
    ollama: FakeOllama, tui: Callable[..., OllamaTui], config: Callable[..., Path]
) -> None:
    ollama.enqueue(
        calls(("local__echo", {"text": "1"})),
        calls(("local__echo", {"text": "2"})),
        calls(("local__echo", {"text": "3"})),  # asked for although no tools were offered
        ChatScript(tokens=["never asked for"]),
    )
    text = "max_tool_rounds = 2\n" + LOCAL + 'auto_approve = ["echo"]\n'
    app = tui(config(text))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await ready(pilot, "local")
        await send(pilot, "Loop")
        await wait_until(pilot, lambda: idle(screen, 3)() and screen.turns[-1].role == "tool")
        bodies = sent(ollama)
        assert len(bodies) == 3
        assert [bool(tool_names(body)) for body in bodies] == [True, True, False]
        replies = [turn for turn in screen.turns if turn.role == "assistant"]
        assert "Tools were not offered for this reply: 2 rounds" in replies[-1].error
        results = [turn for turn in screen.turns if turn.role == "tool"]
        assert [turn.tool_status for turn in results] == [ToolStatus.OK, ToolStatus.OK, ToolStatus.FAILED]
        assert "limit of 2 rounds" in results[-1].error
        assert any("Stopped after 2 rounds of tool calls" in n.message for n in app._notifications)
        assert "Tools were not offered" in screen_text(app)
        saved = await stored(screen)
        assert [turn.role for turn in saved][-2:] == ["assistant", "tool"]


# Stop


async def test_esc_while_asked_stops_everything_and_keeps_what_happened(
    ollama: FakeOllama, tui: Callable[..., OllamaTui], config: Callable[..., Path]
) -> None:
    ollama.enqueue(calls(("local__echo", {"text": "a"}), ("local__add", {"a": 1, "b": 1})))
    app = tui(config())
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await ready(pilot, "local")
        await send(pilot, "Two calls")
        await wait_until(pilot, asked(screen, "local__echo"))
        await pilot.press("escape")
        await wait_until(pilot, lambda: not screen.reply_arriving and screen.turns[-1].tool_name == "local__add")
        results = screen.turns[2:]
        assert [(turn.tool_status, turn.error) for turn in results] == [
            (ToolStatus.DENIED, "Stopped."),
            (ToolStatus.DENIED, "Stopped."),
        ]
        assert results[0].content == STOPPED_WHILE_ASKED
        assert len(sent(ollama)) == 1  # no request after a Stop
        assert isinstance(app.focused, PromptInput) and app.query_one(ToolQuestion).has_class("-hidden")
        saved = await stored(screen)
        assert [(turn.role, turn.tool_status) for turn in saved][1:] == [
            ("assistant", None),
            ("tool", ToolStatus.DENIED),
            ("tool", ToolStatus.DENIED),
        ]
        # the next message carries the calls and their answers
        ollama.enqueue(ChatScript(tokens=["OK."]))
        await send(pilot, "Never mind")
        await wait_until(pilot, idle(screen, 2))
        assert [message["role"] for message in sent(ollama)[1]["messages"]] == [
            "user",
            "assistant",
            "tool",
            "tool",
            "user",
        ]


async def test_esc_during_a_call_stops_it_and_the_server_goes_on(
    ollama: FakeOllama, tui: Callable[..., OllamaTui], config: Callable[..., Path]
) -> None:
    ollama.enqueue(calls(("local__sleep", {"seconds": 30})))
    app = tui(config(LOCAL + 'auto_approve = ["sleep", "echo"]\n'))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await ready(pilot, "local")
        await send(pilot, "Wait a while")
        await wait_until(pilot, lambda: screen.turns[-1].activity == "running" and "running" in screen_text(app))
        await pilot.press("escape")
        await wait_until(pilot, lambda: not screen.reply_arriving)
        result = screen.turns[-1]
        assert (result.tool_status, result.error) == (ToolStatus.FAILED, "Stopped.")
        assert result.duration is not None and result.duration < 30
        assert "failed" in screen_text(app) and len(sent(ollama)) == 1
        assert screen.tool_servers.status("local").state is ServerState.RUNNING
        ollama.enqueue(calls(("local__echo", {"text": "still here"})), ChatScript(tokens=["Yes."]))
        await send(pilot, "Are you there?")
        await wait_until(pilot, idle(screen, 3))
        assert [turn.content for turn in screen.turns if turn.tool_name == "local__echo"] == ["still here"]


# What the status line and /tools say


async def test_a_model_without_tool_support_is_sent_no_tools_and_the_status_line_says_why(
    ollama: FakeOllama, tui: Callable[..., OllamaTui], config: Callable[..., Path]
) -> None:
    app = tui(config(), "--model", "llava:7b")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await ready(pilot, "local")
        await wait_until(pilot, lambda: "tools off: llava:7b has no tool support" in screen_text(app))
        await send(pilot, "Hello")
        await wait_until(pilot, idle(screen, 1))
        assert "tools" not in sent(ollama)[-1]
        assert screen.turns[-1].state == TurnState.COMPLETE
        screen.select_model("llama3.2:latest", announce=False)
        await wait_until(pilot, lambda: f"tools {TOOL_COUNT}" in screen_text(app))


async def test_servers_that_fail_at_start_say_why_in_the_status_line_and_in_tools(
    ollama: FakeOllama, tui: Callable[..., OllamaTui], config: Callable[..., Path]
) -> None:
    text = (
        LOCAL
        + '[mcp_servers.ghost]\ncommand = "no-such-mcp-server-here"\n'
        + f"[mcp_servers.early]\ncommand = {json.dumps(sys.executable)}\n"
        + f"args = [{json.dumps(str(SERVERS / 'exits_at_start.py'))}]\n"
    )
    app = tui(config(text))
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await ready(pilot, "local", "ghost", "early")
        await wait_until(pilot, lambda: f"tools {TOOL_COUNT} · 2 failed (/tools)" in screen_text(app))
        messages = [notification.message for notification in app._notifications]
        assert any("ghost: the command 'no-such-mcp-server-here' was not found" in m for m in messages)
        await send(pilot, "/tools")
        await wait_until(pilot, lambda: isinstance(app.screen, ToolsScreen))
        text = screen_text(app)
        assert "local  stdio  running · 11 tools" in text
        assert "ghost  stdio  failed (why: above; r starts it again)" in text
        assert "the command 'no-such-mcp-server-here' was not found; is it installed and on PATH?" in text
        assert "the server exited at start: fatal: cannot open ~/notes: no such directory" in text
        assert "echo  Say the text back." in text


async def test_tools_turns_a_tool_or_a_server_off_for_this_conversation(
    ollama: FakeOllama, tui: Callable[..., OllamaTui], config: Callable[..., Path]
) -> None:
    ollama.enqueue(ChatScript(tokens=["One."]), ChatScript(tokens=["Two."]), ChatScript(tokens=["Three."]))
    app = tui(config())
    async with app.run_test(size=(110, 36), notifications=True) as pilot:
        screen = await ready(pilot, "local")
        await send(pilot, "/tools")
        await wait_until(pilot, lambda: isinstance(app.screen, ToolsScreen))
        listing = app.screen.query_one(SelectionList)
        await pilot.press("down")  # from the server's line to its first tool, echo
        await pilot.press("space")
        await wait_until(pilot, lambda: "tool:local__echo" not in listing.selected)
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is screen)
        assert screen.current.tool_policy.disabled_tools == frozenset({"local__echo"})
        assert f"tools {TOOL_COUNT - 1}" in screen_text(app)
        await send(pilot, "First")
        await wait_until(pilot, idle(screen, 1))
        assert "local__echo" not in tool_names(sent(ollama)[-1]) and "local__add" in tool_names(sent(ollama)[-1])
        info = await screen.writer.run(screen.store.conversation, screen.current.id)
        assert info is not None and ToolPolicy.from_json(info.tool_settings).disabled_tools == {"local__echo"}
        await send(pilot, "/tools off local")
        await wait_until(pilot, lambda: "tools 0" in screen_text(app))
        await send(pilot, "Second")
        await wait_until(pilot, idle(screen, 2))
        assert "tools" not in sent(ollama)[-1]
        await send(pilot, "/tools on local")
        await send(pilot, "/tools on echo")  # a tool by its own name: only one server has it
        await wait_until(pilot, lambda: f"tools {TOOL_COUNT}" in screen_text(app))
        await send(pilot, "Third")
        await wait_until(pilot, idle(screen, 3))
        assert len(tool_names(sent(ollama)[-1])) == TOOL_COUNT


# Faults


@pytest.fixture(scope="module")
def http_url() -> Iterator[str]:
    """The HTTP test server's base URL; it runs in its own process for the whole module."""
    process = subprocess.Popen(
        [sys.executable, str(SERVERS / "http_server.py")], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("PORT "), line
        yield f"http://127.0.0.1:{int(line.split()[1])}"
    finally:
        process.terminate()
        process.wait(timeout=10)


async def test_http_servers_work_or_say_why_they_cannot(
    ollama: FakeOllama, tui: Callable[..., OllamaTui], config: Callable[..., Path], http_url: str
) -> None:
    ollama.enqueue(calls(("remote__add", {"a": 2, "b": 3})), ChatScript(tokens=["Five."]))
    text = (
        f'[mcp_servers.remote]\nurl = "{http_url}/mcp"\n'
        f'[mcp_servers.refused]\nurl = "{http_url}/unauthorized"\nheaders = {{ Authorization = "Bearer x" }}\n'
        f'[mcp_servers.broken]\nurl = "{http_url}/broken"\n'
    )
    app = tui(config(text))
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        screen = await ready(pilot, "remote", "refused", "broken")
        assert "tools 11 · 2 failed (/tools)" in screen_text(app)
        await send(pilot, "Add 2 and 3")
        await wait_until(pilot, asked(screen, "remote__add"))
        assert str(app.query_one(ToolQuestion).render()).startswith("Run remote › add (http server)?")
        await pilot.press("y")
        await wait_until(pilot, idle(screen, 2))
        assert [turn.content for turn in screen.turns if turn.role == "tool"] == ["5.0"]
        await send(pilot, "/tools")
        await wait_until(pilot, lambda: isinstance(app.screen, ToolsScreen))
        shown = screen_text(app)
        assert "refused: the server refused the credentials (HTTP 401 Unauthorized)" in shown
        assert "broken: " in shown and "500" in shown


async def test_faults_each_say_what_happened_and_the_reply_goes_on(
    ollama: FakeOllama, tui: Callable[..., OllamaTui], config: Callable[..., Path]
) -> None:
    """An unknown tool and bad arguments are answered unasked (the model may retry); a tool's own
    error, a timeout and a server that dies mid-call end their call with the reason."""
    ollama.enqueue(
        calls(
            ("local__nope", {}),
            ("local__add", {"a": "one", "b": 2}),
            ("local__fail", {"reason": "disk full"}),
            ("local__sleep", {"seconds": 5}),
            ("local__die", {}),
        ),
        ChatScript(tokens=["Sorry."]),
    )
    text = "tool_timeout = 1\n" + LOCAL + 'auto_approve = ["fail", "sleep", "die"]\n'
    app = tui(config(text))
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        screen = await ready(pilot, "local")
        await send(pilot, "Break things")
        await wait_until(pilot, idle(screen, 2), timeout=30)
        results = [turn for turn in screen.turns if turn.role == "tool"]
        assert [turn.tool_status for turn in results] == [
            ToolStatus.FAILED,
            ToolStatus.FAILED,
            ToolStatus.ERROR,
            ToolStatus.FAILED,
            ToolStatus.FAILED,
        ]
        nope, add, fail, sleep, die = (turn.error for turn in results)
        assert nope.startswith('there is no tool named "local__nope". The tools are: local__add,')
        assert add.startswith('the arguments do not fit the tool\'s input schema at "a"')
        assert fail == "Error executing tool fail: could not do it: disk full"  # the SDK's words
        assert sleep == "the call timed out after 1 s"
        assert "exited" in die or "closed" in die
        shown = screen_text(app)
        assert "↳ there is no tool named" in shown and "↳ Error executing tool fail: could not do it" in shown
        assert "↳ the call timed out after 1 s" in shown
        history = sent(ollama)[1]["messages"]
        assert [message["role"] for message in history][2:] == ["tool"] * 5
        assert history[2]["content"].startswith("Error: there is no tool named")
        assert screen.tool_servers.status("local").state is ServerState.FAILED  # it died
        await wait_until(pilot, lambda: "1 failed" in screen_text(app))


async def test_a_hostile_result_is_shown_as_plain_text(
    ollama: FakeOllama, tui: Callable[..., OllamaTui], config: Callable[..., Path]
) -> None:
    ollama.enqueue(calls(("local__hostile", {})), ChatScript(tokens=["Odd."]))
    app = tui(config(LOCAL + 'auto_approve = ["hostile"]\n'))
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        screen = await ready(pilot, "local")
        await send(pilot, "Be hostile")
        await wait_until(pilot, idle(screen, 2))
        result = next(turn for turn in screen.turns if turn.role == "tool")
        assert "\x1b" not in result.content and "\x9b" not in result.content and "\x07" not in result.content
        view = app.query_one(ConversationView)
        assert view.toggle_tool(result)
        await pilot.pause()
        shown = screen_text(app)
        assert "[bold red]markup[/]" in shown  # markup stays characters
        assert "owned title" not in shown  # the title the codes would have set is gone with them
        assert "before red" in shown and "after" in shown


# Reopening


async def test_a_reopened_conversation_shows_its_calls_and_sends_them_again(
    ollama: FakeOllama, tui: Callable[..., OllamaTui], config: Callable[..., Path], tmp_path: Path
) -> None:
    ollama.enqueue(calls(("local__echo", {"text": "kept"})), ChatScript(tokens=["It said kept."]))
    app = tui(config(LOCAL + 'auto_approve = ["echo"]\n'))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await ready(pilot, "local")
        await send(pilot, "Echo kept")
        await wait_until(pilot, idle(screen, 2))
        conversation_id = screen.current.id
    assert conversation_id is not None
    with Store.open(tmp_path / "data") as store:
        assert [turn.role for turn in store.turns(conversation_id)] == ["user", "assistant", "tool", "assistant"]
    ollama.enqueue(ChatScript(tokens=["Still kept."]))
    app = tui(config(LOCAL), "--session", str(conversation_id))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await ready(pilot, "local")
        await wait_until(pilot, lambda: "local › echo" in screen_text(app))
        assert 'text="kept"' in screen_text(app) and "done" in screen_text(app)
        await send(pilot, "Again?")
        await wait_until(pilot, idle(screen, 3))
        history = sent(ollama)[-1]["messages"]
        assert [message["role"] for message in history] == ["user", "assistant", "tool", "assistant", "user"]
        assert history[1]["tool_calls"][0]["function"]["arguments"] == {"text": "kept"}
        assert history[2] == {
            "role": "tool",
            "content": "kept",
            "tool_name": "local__echo",
            "tool_call_id": history[1]["tool_calls"][0]["id"],
        }


# Quitting


@pytest.mark.parametrize("while_", ["asked", "running"])
async def test_quitting_mid_call_keeps_the_call_answered_and_stops_the_server(
    ollama: FakeOllama, tui: Callable[..., OllamaTui], config: Callable[..., Path], tmp_path: Path, while_: str
) -> None:
    ollama.enqueue(calls(("local__sleep", {"seconds": 30}), ("local__echo", {"text": "later"})))
    approve = 'auto_approve = ["sleep"]\n' if while_ == "running" else ""
    app = tui(config(LOCAL + approve))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await ready(pilot, "local")
        await send(pilot, "Sleep")
        if while_ == "asked":
            await wait_until(pilot, asked(screen, "local__sleep"))
        else:
            await wait_until(pilot, lambda: screen.turns[-1].activity == "running")
        conversation_id = screen.current.id
        status = screen.tool_servers.status("local")
        assert status.state is ServerState.RUNNING
        pid_tool = next(tool for tool in status.tools if tool.name == "pid")
        pid = int((await screen.tool_servers.call(pid_tool, ToolCall("local__pid"))).text)
        await pilot.press("ctrl+q")
    assert conversation_id is not None
    with Store.open(tmp_path / "data") as store:
        saved = store.turns(conversation_id)
    assert [(turn.role, turn.tool_name, turn.tool_status) for turn in saved] == [
        ("user", "", None),
        ("assistant", "", None),
        ("tool", "local__sleep", ToolStatus.FAILED if while_ == "running" else ToolStatus.DENIED),
        ("tool", "local__echo", ToolStatus.DENIED),
    ]
    assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][:1]


# Secrets


async def test_a_servers_secrets_are_masked_in_the_debug_log_once_it_starts(
    ollama: FakeOllama,
    tui: Callable[..., OllamaTui],
    config: Callable[..., Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    app_logging: None,
) -> None:
    secret = "tok-9f3a77c1e2"
    monkeypatch.setenv("NOTES_TOKEN", secret)
    log = debug_log.configure(True, tmp_path / "log")
    assert log is not None
    ollama.enqueue(calls(("local__env_has", {"name": "API_TOKEN"})), ChatScript(tokens=["It is set."]))
    app = tui(config(LOCAL + 'env = { API_TOKEN = "${NOTES_TOKEN}" }\nauto_approve = ["env_has"]\n'))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await ready(pilot, "local")
        await send(pilot, "Is the token there?")
        await wait_until(pilot, idle(screen, 2))
        assert [turn.content for turn in screen.turns if turn.role == "tool"] == ["set"]
        logging.getLogger("app.tools").warning("a careless line with %s in it", secret)
    text = log.read_text(encoding="utf-8")
    assert "a careless line with *** in it" in text and secret not in text
    for path in (tmp_path / "data").rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path


async def test_a_tool_round_on_an_openai_compatible_server(
    ollama: FakeOllama, tui: Callable[..., OllamaTui], config: Callable[..., Path]
) -> None:
    """The same loop when the model is on a vLLM-like server: the tools go as OpenAI's
    `tools`, the call comes back as `tool_calls` deltas, the result goes back with its id."""
    with FakeOllama() as cluster:
        cluster.openai_only = True
        cluster.models = [make_model("Qwen/Qwen3-8B", "qwen3", "8.2B", "BF16", 0, ("completion", "tools"))]
        cluster.enqueue(calls(("local__echo", {"text": "hi"})), ChatScript(tokens=["It says hi."]))
        servers = f'[servers.cluster]\nkind = "openai"\nurl = "{cluster.url}/v1"\n'
        app = tui(config(LOCAL + servers), "--model", "Qwen/Qwen3-8B@cluster")
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            screen = chat(pilot)
            await wait_until(pilot, lambda: screen.current.address == "Qwen/Qwen3-8B@cluster")
            await wait_until(pilot, lambda: screen.tool_servers.status("local").state is ServerState.RUNNING)
            await send(pilot, "Say hi")
            await wait_until(pilot, asked(screen, "local__echo"))
            await pilot.press("y")
            await wait_until(pilot, idle(screen, 2))
            assert "It says hi." in screen_text(app)
        first, second = cluster.bodies("/v1/chat/completions")
        assert "local__echo" in [tool["function"]["name"] for tool in first["tools"]]
        call = second["messages"][1]["tool_calls"][0]
        assert call["function"]["name"] == "local__echo" and json.loads(call["function"]["arguments"]) == {"text": "hi"}
        assert second["messages"][2] == {"role": "tool", "content": "hi", "tool_call_id": call["id"]}
        assert sent(ollama) == []  # nothing went to the local Ollama
