"""The app's main views in fixed, repeatable states: for snapshot tests and for screenshots/.

Everything a person would see is pinned: the host shown is Ollama's default address (requests
are forwarded to the test server's real port), stored conversations carry fixed dates, and the
cursor does not blink. Run `python tests/scenes.py` to refresh screenshots/ (SVG, and PNG when
rsvg-convert is installed).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx
from textual import events

sys.path.insert(0, str(Path(__file__).parent))
from ollama_server import ChatScript, FakeOllama, make_model, tool_call

from app.app import OllamaTui, make_app
from app.chat_options import ChatOptions, apply_set
from app.client import OllamaClient
from app.commands import models as model_commands
from app.config import DEFAULT_HOST, Settings
from app.conversation import ConversationInfo, ToolStatus, Turn, TurnState
from app.protocol import ChatStats, ToolCall
from app.screens.chat import ChatScreen
from app.screens.pull import PullScreen, PullSnapshot
from app.screens.settings import SettingsScreen
from app.servers.config import ServerConfig
from app.settings_file import ConfigFile
from app.settings_file import load as load_config
from app.store import Store
from app.tools.servers import ServerState
from app.widgets.conversation_view import ConversationView
from app.widgets.prompt_input import PromptInput

SIZE = (110, 34)
DAY = 1_709_640_000.0  # 2024-03-05 12:00 UTC: shown as a full date, the same in every zone

RunBefore = Callable[..., Awaitable[None]]


class ForwardTo(httpx.AsyncBaseTransport):
    """Sends every request to `port` on 127.0.0.1 whatever host the URL names."""

    def __init__(self, port: int) -> None:
        self._inner = httpx.AsyncHTTPTransport()
        self._port = port

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        request.url = request.url.copy_with(host="127.0.0.1", port=self._port)
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


PERU_REPLY = """\
The capital of Peru is **Lima**, on the Pacific coast.

| City | Population |
|---|---:|
| Lima | 10.1 million |
| Arequipa | 1.1 million |

- Founded in 1535 by Francisco Pizarro
- Seat of the national government"""

CODE_REPLY = """\
Here is a quick way to read it with `httpx`:

```python
import httpx

async def population(city: str) -> int:
    async with httpx.AsyncClient() as client:
        reply = await client.get(f"/cities/{city}")
        return reply.json()["population"]
```"""


def stats(tokens: int) -> ChatStats:
    return ChatStats("stop", eval_count=tokens, eval_duration=tokens * 16_000_000, prompt_eval_count=40)


def seed(data_dir: Path) -> int:
    """Three saved conversations; returns the id of the one with a model switch in it."""
    with Store.open(data_dir) as store:
        for index, title in enumerate(("Sourdough starter schedule", "Rust borrow checker")):
            store.import_conversation(
                ConversationInfo(0, title, DAY - 86_400 * (3 - index), DAY - 86_400 * (3 - index), "qwen3:4b"),
                [Turn("user", title, created_at=DAY), Turn("assistant", "…", model="qwen3:4b", created_at=DAY)],
            )
        return store.import_conversation(
            ConversationInfo(0, "Capital of Peru", DAY, DAY, "qwen3:4b"),
            [
                Turn("user", "What is the capital of Peru?", created_at=DAY),
                Turn("assistant", PERU_REPLY, model="llama3.2:latest", stats=stats(61), created_at=DAY),
                Turn("user", "Show me how to fetch a city's population in Python.", created_at=DAY),
                Turn("assistant", CODE_REPLY, model="qwen3:4b", stats=stats(74), created_at=DAY),
            ],
        )


@dataclass
class Scene:
    app: OllamaTui
    run_before: RunBefore
    size: tuple[int, int] = SIZE  # the terminal's columns and rows
    servers: list[FakeOllama] = field(default_factory=list)  # more than the one given: stopped by close()

    def close(self) -> None:
        for server in self.servers:
            server.stop()


def build(server: FakeOllama, data_dir: Path, **settings: Any) -> OllamaTui:
    port = int(server.url.rsplit(":", 1)[1])
    client = OllamaClient(DEFAULT_HOST, transport=ForwardTo(port))
    return make_app(Settings(host=DEFAULT_HOST, data_dir=data_dir, **settings), client=client)


async def settle(pilot, condition: Callable[[], object]) -> None:
    for _ in range(500):
        if condition():
            break
        await pilot.pause(0.02)
    else:
        raise AssertionError("the scene never reached its state")
    pilot.app.query_one(PromptInput).cursor_blink = False
    await pilot.pause()
    await pilot.wait_for_scheduled_animations()


def shown(pilot, selector: str) -> str:
    """The text a widget on the top screen shows, or "" while it is not there yet."""
    found = pilot.app.screen.query(selector)
    return str(found.first().render()) if found else ""


def chat_screen(pilot) -> ChatScreen:
    screen = pilot.app.screen_stack[0]
    assert isinstance(screen, ChatScreen)
    return screen


def conversation(server: FakeOllama, data_dir: Path) -> Scene:
    """Mid-conversation: Markdown with a table, a list and code, replies from two models."""
    return seeded_conversation(server, data_dir)


def light_theme(server: FakeOllama, data_dir: Path) -> Scene:
    """The same conversation in a light theme (textual-light, as `theme` in the config file
    sets it): bars, headers and notes take the theme's colours, and the code block is
    highlighted in a light Pygments style (friendly) rather than monokai's dark one."""
    return seeded_conversation(server, data_dir, theme="textual-light")


def seeded_conversation(server: FakeOllama, data_dir: Path, **settings: Any) -> Scene:
    session = seed(data_dir)

    async def run_before(pilot) -> None:
        screen = chat_screen(pilot)
        await settle(
            pilot, lambda: screen.models and screen.turns and pilot.app.query_one("#conversations").option_count == 3
        )

    return Scene(build(server, data_dir, session_id=session, **settings), run_before)


def narrow(server: FakeOllama, data_dir: Path) -> Scene:
    """The conversation in a 60×20 terminal: the sidebar folded away, the conversation, the
    input and the status line (model, connection, context) across the whole width."""
    return replace(seeded_conversation(server, data_dir), size=(60, 20))


def eighty(server: FakeOllama, data_dir: Path) -> Scene:
    """The conversation in an 80×24 terminal, the sidebar folded away."""
    return replace(seeded_conversation(server, data_dir), size=(80, 24))


def sidebar_over(server: FakeOllama, data_dir: Path) -> Scene:
    """80×24 after Ctrl+B: the sidebar (models, conversations, the list focused) over the
    left of the conversation, which keeps its width beneath it."""
    scene = seeded_conversation(server, data_dir)

    async def run_before(pilot) -> None:
        await scene.run_before(pilot)
        await pilot.press("ctrl+b")
        await settle(pilot, lambda: pilot.app.query_one("#sidebar").display)

    return Scene(scene.app, run_before, size=(80, 24))


def arriving(server: FakeOllama, data_dir: Path, question: str, reply: str, upto: str) -> Scene:
    """`question` asked and `reply` still arriving: the server stalls after the word `upto`."""
    tokens = [token + " " for token in reply.split(" ")]
    stall = next(i for i, token in enumerate(tokens) if upto in token) + 1
    server.enqueue(ChatScript(tokens=tokens, stall_after=stall))

    async def run_before(pilot) -> None:
        screen = chat_screen(pilot)
        await settle(pilot, lambda: screen.models)
        pilot.app.post_message(events.Paste(question))
        await pilot.pause()
        await pilot.press("enter")
        await settle(pilot, lambda: screen.turns and upto in screen.turns[-1].content)

    return Scene(build(server, data_dir), run_before)


def streaming(server: FakeOllama, data_dir: Path) -> Scene:
    """A reply arriving: the partial Markdown so far, the header saying it streams."""
    return arriving(server, data_dir, "What is the capital of Peru?", PERU_REPLY, "1535")


LONG_REPLY = "\n\n".join(
    f"## Step {number}\n\nStep {number} of the plan, explained at some length so that the "
    f"reply fills the screen.\n\n```python\ndef step_{number}(items):\n"
    f"    return sorted(items)[:{number}]\n```\n\n- check step {number}\n- then go on"
    for number in range(1, 7)
)


def long_reply(server: FakeOllama, data_dir: Path) -> Scene:
    """A long reply still arriving: the view has moved up a quarter page at a time, and the
    text fills the blank rows below its end."""
    return arriving(server, data_dir, "Plan the migration step by step.", LONG_REPLY, "step_5(items):")


def server_down(server: FakeOllama, data_dir: Path) -> Scene:
    """Ollama is not running: the banner says so and how to fix it; nothing else breaks."""
    server.stop()

    async def run_before(pilot) -> None:
        await settle(pilot, lambda: "-hidden" not in pilot.app.query_one("#banner").classes)

    return Scene(build(server, data_dir), run_before)


def no_models(server: FakeOllama, data_dir: Path) -> Scene:
    """A server with no models: the picker says how to get one."""
    server.models.clear()

    async def run_before(pilot) -> None:
        screen = chat_screen(pilot)
        await settle(pilot, lambda: screen.reachable)

    return Scene(build(server, data_dir), run_before)


def error(server: FakeOllama, data_dir: Path) -> Scene:
    """A model that does not exist: the server's own message in the conversation."""

    async def run_before(pilot) -> None:
        screen = chat_screen(pilot)
        await settle(pilot, lambda: screen.models)
        await pilot.press(*"hello")
        await pilot.press("enter")
        await settle(pilot, lambda: screen.turns and screen.turns[-1].state == TurnState.ERROR)

    return Scene(build(server, data_dir, model="mistral:7b"), run_before)


def pull(server: FakeOllama, data_dir: Path) -> Scene:
    """Pulling a model: status, the layer's bar and bytes, speed and time left, all layers."""
    server.pull_delay = 60.0  # the real stream stays on its first line; the figures are pinned

    async def run_before(pilot) -> None:
        screen = chat_screen(pilot)
        await settle(pilot, lambda: screen.models)
        screen.start_pull("gemma3:1b")
        await settle(pilot, lambda: isinstance(pilot.app.screen, PullScreen))
        snapshot = PullSnapshot(
            "gemma3:1b", "pulling 7cd4618c1faf", 412_300_000, 815_319_791, 412_300_000, 815_327_000, 12_300_000.0
        )
        pilot.app.screen.post_message(PullScreen.Progressed(snapshot))
        await settle(pilot, lambda: "412.3 MB" in shown(pilot, "#pull-detail"))

    return Scene(build(server, data_dir), run_before)


def model_details(server: FakeOllama, data_dir: Path) -> Scene:
    """Details of a thinking model: family, size, quantization, context, capabilities."""

    async def run_before(pilot) -> None:
        screen = chat_screen(pilot)
        await settle(pilot, lambda: screen.models)
        model_commands.info(screen, "qwen3:4b")
        await settle(pilot, lambda: "qwen3" in shown(pilot, "#details-body"))

    return Scene(build(server, data_dir), run_before)


def settings(server: FakeOllama, data_dir: Path) -> Scene:
    """The settings dialog with a system prompt and two options set, one value refused."""

    async def run_before(pilot) -> None:
        screen = chat_screen(pilot)
        await settle(pilot, lambda: screen.models)
        options = ChatOptions()
        for line in ("system You are a terse assistant.", "parameter temperature 0.2", "parameter num_ctx 8192"):
            options = apply_set(options, line).options
        screen.current.options = options
        screen.action_settings()
        await settle(pilot, lambda: isinstance(pilot.app.screen, SettingsScreen))
        pilot.app.screen.query_one("#field-top-p").value = "1.5"
        pilot.app.screen.action_save()
        await pilot.pause()

    return Scene(build(server, data_dir), run_before)


NOTES_SERVER = Path(__file__).parent / "mcp_servers" / "notes_server.py"
TODO = "# Todo\n\n- [ ] Call the dentist about the 14th\n- [ ] Renew passport\n- [x] Fix the bike light"
LIST_CALL = ToolCall("notes__list_notes", {"folder": "~/notes"}, "call_list", 0)
READ_CALL = ToolCall("notes__read_note", {"path": "~/notes/todo.md"}, "call_read", 1)
TODO_REPLY = """\
Your todo list has two open items:

- **Call the dentist** about the 14th
- **Renew your passport**

The bike light is done."""


def with_notes_server(data_dir: Path) -> ConfigFile:
    """A config file naming the notes MCP server (tests/mcp_servers/notes_server.py)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "config.toml"
    path.write_text(
        f"[mcp_servers.notes]\ncommand = {json.dumps(sys.executable)}\nargs = [{json.dumps(str(NOTES_SERVER))}]\n",
        encoding="utf-8",
    )
    return load_config(path)


def tools_running(screen: ChatScreen) -> bool:
    return screen.tool_servers.status("notes").state is ServerState.RUNNING


def tool_result(call: ToolCall, text: str, seconds: float) -> Turn:
    return Turn(
        "tool",
        text,
        tool_name=call.name,
        tool_call_id=call.id,
        tool_status=ToolStatus.OK,
        duration=seconds,
        created_at=DAY,
    )


def tool_calls(server: FakeOllama, data_dir: Path) -> Scene:
    """A reply that called two tools of the notes server: each call is a block with the bar in
    the secondary colour. The first is folded to one line (server › tool, the arguments in
    short, done · time · size at the right); the second is unfolded below it: its arguments as
    JSON, then the result as plain text. The answer that used them follows; the status line
    says `tools 3`."""
    with Store.open(data_dir) as store:
        session = store.import_conversation(
            ConversationInfo(0, "Todo list", DAY, DAY, "llama3.2:latest"),
            [
                Turn("user", "What's on my todo list?", created_at=DAY),
                Turn("assistant", "", model="llama3.2:latest", tool_calls=(LIST_CALL, READ_CALL), created_at=DAY),
                tool_result(LIST_CALL, "todo.md\nshopping.md\nideas/garden.md", 0.04),
                tool_result(READ_CALL, TODO, 0.02),
                Turn("assistant", TODO_REPLY, model="llama3.2:latest", stats=stats(38), created_at=DAY),
            ],
        )

    async def run_before(pilot) -> None:
        screen = chat_screen(pilot)
        await settle(pilot, lambda: screen.models and screen.turns and tools_running(screen))
        assert pilot.app.query_one(ConversationView).toggle_tool(screen.turns[3])
        await settle(pilot, lambda: True)

    return Scene(build(server, data_dir, session_id=session, config=with_notes_server(data_dir)), run_before)


def tool_approval(server: FakeOllama, data_dir: Path) -> Scene:
    """The model asks to call a tool: the call is unfolded in the conversation with its
    arguments, status `asking`, and the question above the input says what is asked and the
    keys: Enter/y once, a always in this conversation, n no, Esc stops. The footer lists them
    too."""
    search = tool_call("notes__search_notes", {"query": "garden", "limit": 5})
    server.enqueue(ChatScript(tokens=["I'll", " search", " your", " notes."], tool_calls=(search,)))

    async def run_before(pilot) -> None:
        screen = chat_screen(pilot)
        await settle(pilot, lambda: screen.models and tools_running(screen))
        pilot.app.post_message(events.Paste("Find my notes about the garden"))
        await pilot.pause()
        await pilot.press("enter")
        await settle(pilot, lambda: screen.turns and screen.turns[-1].activity == "asking")

    return Scene(build(server, data_dir, config=with_notes_server(data_dir)), run_before)


CLUSTER_KEY = "sk-scene-1f3a"
CLUSTER_REPLY = (
    "Lima sits on the coast, so its climate is mild and dry: about 19 °C all year, and it almost never rains."
)


def several_servers(server: FakeOllama, data_dir: Path) -> Scene:
    """Four servers in the picker, each under its name with its state: local (connected, its
    version, the current model marked), cluster (an OpenAI-compatible one, connected, its model
    without sizes), gpu (unreachable) and lab (its key refused), each of the last two saying
    Enter tells what is wrong. The conversation went from local to cluster and back: each reply's
    header names its model and server, and the status line the current model with @local."""
    server.models = server.models[:2]
    cluster = FakeOllama().start()
    cluster.openai_only, cluster.api_key = True, CLUSTER_KEY
    cluster.models = [make_model("Qwen/Qwen3-8B", "qwen3", "8.2B", "BF16", 0, ("completion", "tools"))]
    servers = (
        ServerConfig("cluster", "openai", cluster.url + "/v1", CLUSTER_KEY),
        ServerConfig("gpu", "ollama", "http://127.0.0.1:9"),  # nothing listens on the discard port
        ServerConfig("lab", "openai", cluster.url + "/v1", "sk-wrong"),
    )
    with Store.open(data_dir) as store:
        session = store.import_conversation(
            ConversationInfo(0, "Capital of Peru", DAY, DAY, "qwen3:4b"),
            [
                Turn("user", "What is the capital of Peru?", created_at=DAY),
                Turn("assistant", PERU_REPLY, model="qwen3:4b", server="local", stats=stats(61), created_at=DAY),
                Turn("user", "And its weather?", created_at=DAY),
                Turn("assistant", CLUSTER_REPLY, model="Qwen/Qwen3-8B", server="cluster", created_at=DAY),
            ],
        )

    async def run_before(pilot) -> None:
        screen = chat_screen(pilot)
        await settle(
            pilot,
            lambda: (
                screen.turns and all(screen.catalog.state(name).reachable is not None for name in screen.servers.names)
            ),
        )

    return Scene(build(server, data_dir, session_id=session, servers=servers), run_before, servers=[cluster])


SCENES: dict[str, Callable[[FakeOllama, Path], Scene]] = {
    "chat": conversation,
    "light-theme": light_theme,
    "streaming": streaming,
    "long-reply": long_reply,
    "server-down": server_down,
    "no-models": no_models,
    "error": error,
    "pull": pull,
    "model-details": model_details,
    "settings": settings,
    "servers": several_servers,
    "tool-calls": tool_calls,
    "tool-approval": tool_approval,
    "narrow": narrow,
    "80x24": eighty,
    "sidebar-over": sidebar_over,
}


def main(folder: Path) -> None:
    """Write every scene as SVG (and PNG) into `folder`."""
    from textual._doc import take_svg_screenshot

    folder.mkdir(exist_ok=True)
    for name, make in SCENES.items():
        with FakeOllama() as server, tempfile.TemporaryDirectory() as data:
            scene = make(server, Path(data))
            try:
                svg = take_svg_screenshot(app=scene.app, terminal_size=scene.size, run_before=scene.run_before)
            finally:
                scene.close()
        (folder / f"{name}.svg").write_text(svg, encoding="utf-8")
        if shutil.which("rsvg-convert"):
            # rsvg drops a span's leading no-break spaces; plain spaces kept as they are match
            # what a browser shows.
            plain = svg.replace("&#160;", " ").replace("<svg ", '<svg xml:space="preserve" ', 1)
            subprocess.run(["rsvg-convert", "-o", folder / f"{name}.png"], input=plain.encode(), check=True)
        print(f"wrote {name}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent.parent / "screenshots")
