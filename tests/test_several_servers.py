"""Several servers in the app, through the real app (pilot) and real servers on 127.0.0.1:
local (the --host one), another Ollama (gpu) and an OpenAI-compatible endpoint shaped as vLLM
serves it (cluster, with a key), plus servers that are down, slow, refuse the key, list
nothing or answer HTML."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from conftest import screen_text, type_text, wait_until
from ollama_server import DEFAULT_REPLY, ChatScript, FakeOllama, make_model
from textual.pilot import Pilot

from app import cli, debug_log
from app.app import OllamaTui
from app.config import Settings
from app.conversation import TurnState
from app.screens.chat import ChatScreen
from app.screens.pull import PullScreen
from app.servers.config import ServerConfig
from app.store import DB_NAME
from app.widgets.conversation_view import ConversationView
from app.widgets.model_picker import ModelPicker
from app.widgets.prompt_input import PromptInput

KEY = "sk-cluster-5e9d7c1a0b"
SIZE = (110, 50)  # tall enough for every server's heading
CLUSTER_MODEL = "Qwen/Qwen3-8B"
MakeTui = Callable[..., OllamaTui]


@pytest.fixture
def gpu() -> Iterator[FakeOllama]:
    with FakeOllama(version="0.12.3") as server:
        server.models = [make_model("llama3.1:70b", "llama", "70.6B", "Q4_K_M", 42_520_413_916)]
        yield server


@pytest.fixture
def cluster() -> Iterator[FakeOllama]:
    """vLLM: /v1 only, with a key."""
    with FakeOllama() as server:
        server.openai_only, server.api_key = True, KEY
        server.models = [make_model(CLUSTER_MODEL, "qwen3", "8.2B", "BF16", 0, ("completion", "tools"))]
        yield server


@pytest.fixture
def dead_url() -> str:
    """A port nothing listens on any more."""
    with FakeOllama() as server:
        url = server.url
    return url


class HtmlPage(ThreadingHTTPServer):
    """A web server that answers every path with a page, as a proxy's login page does."""

    def __init__(self) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = b"<!DOCTYPE html><html><body><h1>Welcome to nginx!</h1></body></html>"
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_POST = do_GET

            def log_message(self, format: str, *args: Any) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


def two(gpu: FakeOllama, cluster: FakeOllama, *more: ServerConfig) -> tuple[ServerConfig, ...]:
    return (ServerConfig("gpu", "ollama", gpu.url), ServerConfig("cluster", "openai", cluster.url + "/v1", KEY), *more)


def chat(app: OllamaTui) -> ChatScreen:
    screen = app.screen_stack[0]
    assert isinstance(screen, ChatScreen)
    return screen


def picker_lines(app: OllamaTui) -> list[str]:
    picker = app.query_one(ModelPicker)
    return [str(picker.get_option_at_index(index).prompt) for index in range(picker.option_count)]


def notes(app: OllamaTui) -> list[str]:
    return [note.message for note in app._notifications]


def noted(app: OllamaTui, words: str, whole: bool = False) -> Callable[[], bool]:
    """Whether a notification says `words` (or is exactly that, `whole`)."""
    return lambda: any(note == words if whole else words in note for note in notes(app))


def at_address(screen: ChatScreen, address: str) -> bool:
    return screen.current.address == address


def status_text(app: OllamaTui) -> str:
    return str(app.query_one("#status").render())


def listed(app: OllamaTui, *names: str) -> Callable[[], bool]:
    """Every named server has reported (connected or not)."""
    screen = chat(app)
    return lambda: all(screen.catalog.state(name).reachable is not None for name in names)


async def send(pilot: Pilot[None], text: str) -> None:
    pilot.app.query_one(PromptInput).focus()
    await type_text(pilot, text)
    await pilot.press("enter")


def replied(screen: ChatScreen, count: int) -> Callable[[], bool]:
    def done() -> bool:
        replies = [turn for turn in screen.turns if turn.role == "assistant"]
        return len(replies) == count and replies[-1].state != TurnState.STREAMING

    return done


# -- the picker -------------------------------------------------------------------------------


async def test_the_picker_groups_each_servers_models_under_its_state(
    ollama: FakeOllama, gpu: FakeOllama, cluster: FakeOllama, dead_url: str, make_tui: MakeTui
) -> None:
    slow = FakeOllama().start()
    slow.openai_only, slow.models = True, [make_model("slow-model", "llama", "1B", "Q8_0", 1)]
    slow.listing_gate.clear()  # busy: it answers only when the test says so
    empty = FakeOllama().start()
    empty.openai_only, empty.openai_models = True, []
    html = HtmlPage()
    configs = two(
        gpu,
        cluster,
        ServerConfig("slow", "openai", slow.url + "/v1"),
        ServerConfig("dead", "ollama", dead_url),
        ServerConfig("badkey", "openai", cluster.url + "/v1", "sk-wrong"),
        ServerConfig("empty", "openai", empty.url + "/v1"),
        ServerConfig("html", "ollama", html.url),
    )
    try:
        app = make_tui(servers=configs)
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            screen = chat(app)
            # The first frame is up before any server has answered, the slow one included.
            assert "ollama-tui" in screen_text(app) and "slow  connecting…" in picker_lines(app)
            await wait_until(pilot, listed(app, "local", "gpu", "cluster", "dead", "badkey", "empty", "html"))
            assert not slow.listing_gate.is_set()  # every other server was in while it said nothing
            lines = picker_lines(app)
            assert lines[:4] == [
                "local  ● connected · 0.33.0",
                "● llama3.2:latest\n    3.2B · Q4_K_M · 2.0 GB",  # local's first, chosen as with one server
                "  qwen3:4b\n    4.0B · Q4_K_M · 2.5 GB",
                "  llava:7b\n    7B · Q4_0 · 4.7 GB",
            ]
            assert lines[4:] == [
                "gpu  ● connected · 0.12.3",
                "  llama3.1:70b\n    70.6B · Q4_K_M · 42.5 GB",
                "cluster  ● connected",  # the OpenAI API has no version
                f"  {CLUSTER_MODEL}",
                "slow  connecting…",
                "dead  ● unreachable\n    Enter: what is wrong",
                "badkey  ● key refused\n    Enter: what is wrong",
                "empty  ● no models\n    Enter: what is wrong",
                "html  ● error\n    Enter: what is wrong",
            ]
            assert screen.current.address == "llama3.2:latest"  # local's first, as with one server
            assert "-hidden" in app.query_one("#banner").classes  # the current model's server is fine

            picker = app.query_one(ModelPicker)
            picker.focus()
            for name, words in [
                ("badkey", "check servers.badkey.api_key in the config file"),
                ("dead", f'Cannot reach the Ollama server "dead" at {dead_url}'),
                ("empty", "lists no models; it serves the models it was started with"),
                ("html", "sent a response this app cannot read"),
            ]:
                picker.highlighted = next(
                    i for i in range(picker.option_count) if picker.get_option_at_index(i).id == f"@{name}"
                )
                await pilot.press("enter")
                await wait_until(pilot, noted(app, words))
            assert not any("ollama serve" in note for note in notes(app))  # that is local's advice only

            slow.listing_gate.set()
            await wait_until(pilot, lambda: "  slow-model" in picker_lines(app))  # /v1/models gives no sizes
            assert "slow  ● connected" in picker_lines(app)
    finally:
        for server in (slow, empty):
            server.stop()
        html.shutdown()
        html.server_close()


async def test_one_server_is_shown_as_always(ollama: FakeOllama, make_tui: MakeTui) -> None:
    app = make_tui()
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: chat(app).models)
        assert picker_lines(app)[0] == "● llama3.2:latest\n    3.2B · Q4_K_M · 2.0 GB"  # no headings, no @local
        assert "model llama3.2:latest  ● connected" in status_text(app)


# -- addressing and switching -----------------------------------------------------------------


async def test_switching_server_mid_conversation_sends_the_whole_history_and_labels_each_reply(
    ollama: FakeOllama, gpu: FakeOllama, cluster: FakeOllama, make_tui: MakeTui, tmp_path: Path
) -> None:
    app = make_tui(servers=two(gpu, cluster), model="qwen3:4b")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = chat(app)
        await wait_until(pilot, listed(app, "local", "gpu", "cluster"))
        assert "model qwen3:4b@local" in status_text(app)
        await send(pilot, "hi")
        await wait_until(pilot, replied(screen, 1))
        await send(pilot, f"/model {CLUSTER_MODEL}")  # listed by cluster only: found there
        await wait_until(pilot, lambda: screen.current.address == f"{CLUSTER_MODEL}@cluster")
        assert f"model {CLUSTER_MODEL}@cluster  ● connected  {cluster.url}/v1" in status_text(app)
        cluster.enqueue(ChatScript(tokens=["Hello", " from", " vLLM."]))
        await send(pilot, "and you?")
        await wait_until(pilot, replied(screen, 2))
        assert screen.turns[-1].content == "Hello from vLLM."
        (sent,) = cluster.bodies("/v1/chat/completions")
        assert sent["model"] == CLUSTER_MODEL  # the model's own name, never @cluster
        assert sent["messages"] == [
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": DEFAULT_REPLY},
            {"role": "user", "content": "and you?"},
        ]
        assert [body["model"] for body in ollama.bodies("/api/chat")] == ["qwen3:4b"]
        assert cluster.requests[-1].headers["authorization"] == f"Bearer {KEY}"
        await send(pilot, "/model llama3.1:70b@gpu")
        await wait_until(pilot, lambda: screen.current.server == "gpu")
        await send(pilot, "and the big one?")
        await wait_until(pilot, replied(screen, 3))
        (to_gpu,) = gpu.bodies("/api/chat")
        assert [m["content"] for m in to_gpu["messages"]] == [
            "hi",
            DEFAULT_REPLY,
            "and you?",
            "Hello from vLLM.",
            "and the big one?",
        ]
        conversation = screen.conversation
        assert conversation is not None
        await wait_until(pilot, lambda: [t.state for t in app.store.turns(conversation.id)] == [TurnState.COMPLETE] * 6)
        saved = app.store.turns(conversation.id)
        assert [(t.model, t.server) for t in saved if t.role == "assistant"] == [
            ("qwen3:4b", "local"),
            (CLUSTER_MODEL, "cluster"),
            ("llama3.1:70b", "gpu"),
        ]
        info = app.store.conversation(conversation.id)
        assert info is not None and info.model == "llama3.1:70b@gpu"
        await send(pilot, f"/export json {tmp_path / 'out.json'}")
        await send(pilot, f"/export md {tmp_path / 'out.md'}")
        await wait_until(pilot, lambda: (tmp_path / "out.md").exists() and (tmp_path / "out.json").exists())

    exported = json.loads((tmp_path / "out.json").read_text())
    assert exported["model"] == "llama3.1:70b@gpu"
    assert [(m["model"], m.get("server")) for m in exported["messages"] if m["role"] == "assistant"] == [
        ("qwen3:4b", "local"),
        (CLUSTER_MODEL, "cluster"),
        ("llama3.1:70b", "gpu"),
    ]
    markdown = (tmp_path / "out.md").read_text()
    for heading in (
        "### qwen3:4b@local (assistant)",
        f"### {CLUSTER_MODEL}@cluster (assistant)",
        "### llama3.1:70b@gpu (assistant)",
    ):
        assert heading in markdown

    # Reopened: each reply's header still names its model and server, and the next message
    # goes to the server the conversation was last on.
    again = make_tui(servers=two(gpu, cluster), continue_last=True)
    async with again.run_test(size=SIZE) as pilot:
        screen = chat(again)
        await wait_until(pilot, lambda: len(screen.turns) == 6 and screen.current.server == "gpu")
        view = again.query_one(ConversationView)
        view.scroll_home(animate=False)
        await pilot.pause()
        shown = screen_text(again)
        assert "qwen3:4b@local" in shown and f"{CLUSTER_MODEL}@cluster" in shown
        assert "model llama3.1:70b@gpu" in status_text(again)


async def test_model_flag_and_server_flag_name_the_first_server(
    ollama: FakeOllama, gpu: FakeOllama, cluster: FakeOllama, make_tui: MakeTui
) -> None:
    for settings, address in [
        ({"model": "llama3.1:70b@gpu"}, "llama3.1:70b@gpu"),
        ({"model": CLUSTER_MODEL, "server": "cluster"}, f"{CLUSTER_MODEL}@cluster"),
        ({"server": "gpu"}, "llama3.1:70b@gpu"),  # --server alone: that server's first model
    ]:
        app = make_tui(servers=two(gpu, cluster), **settings)
        async with app.run_test(size=SIZE) as pilot:
            screen = chat(app)
            await wait_until(pilot, partial(at_address, screen, address))
            await send(pilot, "hello")
            await wait_until(pilot, replied(screen, 1))
            assert screen.turns[-1].state == TurnState.COMPLETE and screen.turns[-1].server == address.split("@")[1]
    assert len(gpu.bodies("/api/chat")) == 2 and len(cluster.bodies("/v1/chat/completions")) == 1
    assert ollama.bodies("/api/chat") == []


async def test_show_names_the_settings_an_openai_server_is_not_sent(
    ollama: FakeOllama, gpu: FakeOllama, cluster: FakeOllama, make_tui: MakeTui
) -> None:
    app = make_tui(servers=two(gpu, cluster), model=f"{CLUSTER_MODEL}@cluster")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = chat(app)
        await wait_until(pilot, partial(at_address, screen, f"{CLUSTER_MODEL}@cluster"))
        for command in (
            "/set parameter temperature 0.2",
            "/set parameter top_k 5",
            "/set parameter num_ctx 8192",
            "/show",
        ):
            await send(pilot, command)
        await wait_until(pilot, noted(app, "Not sent to"))
        shown = next(note for note in notes(app) if "Not sent to" in note)
        assert shown.endswith('Not sent to the server "cluster", which has no such settings: top_k, num_ctx')
        await send(pilot, "/model llama3.1:70b@gpu")
        app._notifications.clear()
        await send(pilot, "/show")
        await wait_until(pilot, noted(app, "top_k"))
        assert not any("Not sent" in note for note in notes(app))  # Ollama takes them all
        await send(pilot, "hello")
        await wait_until(pilot, replied(screen, 1))
        assert gpu.bodies("/api/chat")[-1]["options"] == {"temperature": 0.2, "top_k": 5, "num_ctx": 8192}


async def test_a_server_that_is_not_configured_is_named_as_such(
    ollama: FakeOllama, gpu: FakeOllama, cluster: FakeOllama, make_tui: MakeTui
) -> None:
    app = make_tui(servers=two(gpu, cluster), model="qwen3:4b@nowhere")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = chat(app)
        unknown = 'No server is named "nowhere"; the servers are: local, gpu, cluster.'
        await wait_until(pilot, lambda: unknown in notes(app))
        await wait_until(pilot, lambda: screen.current.address == "llama3.2:latest")  # local's first instead
        await send(pilot, "/model x@elsewhere")
        await wait_until(pilot, lambda: any('"elsewhere"' in note for note in notes(app)))
        assert screen.current.address == "llama3.2:latest"


# -- what a server cannot do ------------------------------------------------------------------


async def test_pull_delete_show_and_ps_act_on_the_models_server_or_say_it_cannot(
    ollama: FakeOllama, gpu: FakeOllama, cluster: FakeOllama, make_tui: MakeTui
) -> None:
    app = make_tui(servers=two(gpu, cluster), model=f"{CLUSTER_MODEL}@cluster")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = chat(app)
        await wait_until(pilot, listed(app, "local", "gpu", "cluster"))
        for command, sentence in [
            (
                "/pull gemma3:1b",
                'The server "cluster" cannot download models: OpenAI-compatible servers have no such call.',
            ),
            (
                f"/rm {CLUSTER_MODEL}",
                'The server "cluster" cannot delete models: OpenAI-compatible servers have no such call.',
            ),
            (
                "/info",
                'The server "cluster" cannot describe a model (capabilities, template, license): OpenAI-compatible servers have no such call.',
            ),
            (
                "/ps",
                'The server "cluster" cannot list the models it has loaded: OpenAI-compatible servers have no such call.',
            ),
        ]:
            await send(pilot, command)
            await wait_until(pilot, noted(app, sentence, whole=True))
            assert app.screen is screen  # no dialog opened
        # The picker's P on a model of cluster says the same.
        picker = app.query_one(ModelPicker)
        picker.focus()
        picker.highlighted = next(
            i for i in range(picker.option_count) if picker.get_option_at_index(i).id == f"{CLUSTER_MODEL}@cluster"
        )
        app._notifications.clear()
        await pilot.press("p")
        await wait_until(pilot, lambda: any("cannot download models" in note for note in notes(app)))
        assert app.screen is screen
        assert not [r for r in cluster.requests if r.path.startswith("/api/")]

        # Named with @gpu they go to gpu, whatever the current model's server.
        await send(pilot, "/pull gemma3:1b@gpu")
        await wait_until(pilot, lambda: any("gemma3:1b is ready." in note for note in notes(app)), timeout=20)
        assert [body["model"] for body in gpu.bodies("/api/pull")] == ["gemma3:1b"]
        assert ollama.bodies("/api/pull") == []
        await send(pilot, "/ps gpu")
        await wait_until(pilot, lambda: any("No model is loaded in memory on gpu" in note for note in notes(app)))
        await send(pilot, "/info llama3.1:70b@gpu")
        await wait_until(pilot, lambda: app.screen is not screen)
        await wait_until(pilot, lambda: "llama3.1:70b" in screen_text(app))
        assert [body["model"] for body in gpu.bodies("/api/show")][-1] == "llama3.1:70b"
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is screen)
        await send(pilot, "/rm llama3.1:70b@gpu")
        await wait_until(pilot, lambda: app.screen is not screen)
        await pilot.press("y")
        await wait_until(pilot, lambda: gpu.find("llama3.1:70b") is None)
        await wait_until(pilot, lambda: not any("llama3.1:70b" in line for line in picker_lines(app)))
        assert ollama.find("qwen3:4b") is not None


async def test_picker_pull_goes_to_the_highlighted_server(
    ollama: FakeOllama, gpu: FakeOllama, cluster: FakeOllama, make_tui: MakeTui
) -> None:
    app = make_tui(servers=two(gpu, cluster))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_until(pilot, listed(app, "local", "gpu", "cluster"))
        picker = app.query_one(ModelPicker)
        picker.focus()
        picker.highlighted = next(i for i in range(picker.option_count) if picker.get_option_at_index(i).id == "@gpu")
        await pilot.press("p")
        await wait_until(pilot, lambda: "Model to pull onto gpu" in screen_text(app))
        await type_text(pilot, "smollm2:135m")
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, PullScreen) or any("ready" in n for n in notes(app)))
        await wait_until(pilot, lambda: [b["model"] for b in gpu.bodies("/api/pull")] == ["smollm2:135m"], timeout=20)
        assert ollama.bodies("/api/pull") == []


# -- faults -----------------------------------------------------------------------------------


async def test_faults_of_one_server_leave_the_others_working_and_lose_nothing(
    ollama: FakeOllama, gpu: FakeOllama, cluster: FakeOllama, make_tui: MakeTui
) -> None:
    app = make_tui(servers=two(gpu, cluster), model=f"{CLUSTER_MODEL}@cluster")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = chat(app)
        await wait_until(pilot, listed(app, "local", "gpu", "cluster"))
        cluster.enqueue(
            ChatScript(tokens=["Half", " of", " it"], cut_after=2),  # the connection drops mid-stream
            ChatScript(tokens=["one", " two", " three"], malformed_after=1),
        )
        await send(pilot, "first")
        await wait_until(pilot, replied(screen, 1))
        cut = screen.turns[-1]
        assert (cut.state, cut.content) == (TurnState.INTERRUPTED, "Half of")
        assert "dropped before the reply was complete" in cut.error
        await send(pilot, "second")
        await wait_until(pilot, replied(screen, 2))
        malformed = screen.turns[-1]
        assert malformed.state in (TurnState.INTERRUPTED, TurnState.COMPLETE)
        assert malformed.content.startswith("one")

        # A model that disappears from its server: the reply says so; the message stays.
        gpu.models.clear()
        await send(pilot, "/model llama3.1:70b@gpu")
        await send(pilot, "third")
        await wait_until(pilot, replied(screen, 3))
        gone = screen.turns[-1]
        assert gone.state == TurnState.ERROR and "llama3.1:70b" in gone.error
        assert screen.turns[-2].content == "third"

        # The server of the current model goes down: the banner says so in its own words.
        gpu.stop()
        app.query_one(ModelPicker).post_message(ModelPicker.Refresh())
        banner = app.query_one("#banner")
        await wait_until(pilot, lambda: "-hidden" not in banner.classes)
        assert 'Cannot reach the Ollama server "gpu"' in str(banner.render())
        assert "ollama serve" not in str(banner.render())
        assert "gpu  ● unreachable\n    Enter: what is wrong" in picker_lines(app)

        # The others go on: local answers, with the whole history, and nothing was lost.
        await send(pilot, "/model qwen3:4b")
        await wait_until(pilot, lambda: screen.current.address == "qwen3:4b")
        await wait_until(pilot, lambda: "-hidden" in banner.classes)
        await send(pilot, "fourth")
        await wait_until(pilot, replied(screen, 4))
        assert screen.turns[-1].state == TurnState.COMPLETE
        sent = [m["content"] for m in ollama.bodies("/api/chat")[-1]["messages"]]
        assert sent[:2] == ["first", "Half of"] and sent[-1] == "fourth" and "third" in sent
        conversation = screen.conversation
        assert conversation is not None
        await wait_until(pilot, lambda: len(app.store.turns(conversation.id)) == 8)
        assert [t.content for t in app.store.turns(conversation.id)] == [t.content for t in screen.turns]


async def test_a_wrong_key_is_said_when_sending_too(
    ollama: FakeOllama, gpu: FakeOllama, cluster: FakeOllama, make_tui: MakeTui
) -> None:
    configs = (ServerConfig("cluster", "openai", cluster.url + "/v1", "sk-wrong"),)
    app = make_tui(servers=configs, model=f"{CLUSTER_MODEL}@cluster")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = chat(app)
        await wait_until(pilot, listed(app, "local", "cluster"))
        assert "cluster  ● key refused\n    Enter: what is wrong" in picker_lines(app)
        banner = app.query_one("#banner")
        assert "check servers.cluster.api_key in the config file" in str(banner.render())
        await send(pilot, "hello?")
        await wait_until(pilot, replied(screen, 1))
        assert screen.turns[-1].state == TurnState.ERROR
        assert "refused the request (401" in screen.turns[-1].error
        assert screen.turns[-2].content == "hello?"  # kept, to send again


# -- secrets ----------------------------------------------------------------------------------


async def test_keys_reach_neither_the_database_nor_the_log_nor_exports_nor_the_screen(
    ollama: FakeOllama, cluster: FakeOllama, tmp_path: Path, app_logging: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    password = "pw-7d1e0c9b"
    relay = ollama.url.replace("http://", f"http://me:{password}@")  # a password in a server's URL too
    settings = Settings(
        host=ollama.url,
        data_dir=tmp_path / "data",
        model=f"{CLUSTER_MODEL}@cluster",
        servers=(ServerConfig("cluster", "openai", cluster.url + "/v1", KEY), ServerConfig("box", "ollama", relay)),
    )
    args = cli.build_parser().parse_args(["--debug-content"])
    cli._start_log(args, settings)
    from app.app import make_app

    app = make_app(settings)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = chat(app)
        await wait_until(pilot, listed(app, "local", "cluster", "box"))
        await send(pilot, f"the key is not {KEY[:6]}")
        await wait_until(pilot, replied(screen, 1))
        await send(pilot, f"/export json {tmp_path / 'out.json'}")
        await send(pilot, f"/export md {tmp_path / 'out.md'}")
        await wait_until(pilot, lambda: (tmp_path / "out.md").exists() and (tmp_path / "out.json").exists())
        (tmp_path / "screen.svg").write_text(app.export_screenshot())
        await send(pilot, "/model llama3.2@box")
        await wait_until(pilot, lambda: screen.current.server == "box")
        await send(pilot, "via the box")
        await wait_until(pilot, replied(screen, 2))
        (tmp_path / "box.svg").write_text(app.export_screenshot())
        repr_text = repr(settings) + repr(app.servers) + repr(settings.servers)
    debug_log.configure(False)
    files = [path for path in tmp_path.rglob("*") if path.is_file()]
    names = {path.name for path in files}
    assert {DB_NAME, "out.json", "out.md", "screen.svg", "box.svg", debug_log.LOG_NAME} <= names
    log = next(path for path in files if path.name == debug_log.LOG_NAME)
    assert "POST /chat/completions" in log.read_text()  # the log does record the requests
    for path in files:
        data = path.read_bytes()
        assert KEY.encode() not in data and password.encode() not in data, f"a secret is in {path}"
    assert KEY not in repr_text and password not in repr_text
