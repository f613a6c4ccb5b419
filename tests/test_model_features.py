"""Issue-5 features inside the running app: pull, details, delete, settings, thinking, context,
images, loaded models — against the fake server, checking what it received."""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path

from conftest import SIZE, screen_text, type_text, wait_until
from ollama_server import ChatScript, FakeOllama
from textual.widgets import Input

from app.app import OllamaTui
from app.conversation import TurnState
from app.screens.chat import ChatScreen
from app.screens.dialogs import AskText, Confirm
from app.screens.model_details import ModelDetailsScreen
from app.screens.pull import PullScreen
from app.screens.settings import SettingsScreen
from app.widgets.context_meter import ContextMeter
from app.widgets.model_picker import ModelPicker

MakeTui = Callable[..., OllamaTui]
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


async def started(pilot, model: str = "") -> ChatScreen:
    screen = pilot.app.screen_stack[0]
    assert isinstance(screen, ChatScreen)
    await wait_until(pilot, lambda: screen.models)
    if model:
        await send(pilot, f"/model {model}")
    await wait_until(pilot, lambda: screen.current.model in screen.catalog.details)
    return screen


async def send(pilot, text: str) -> None:
    await type_text(pilot, text)
    await pilot.press("enter")


def replied(screen: ChatScreen, count: int = 1) -> Callable[[], bool]:
    return lambda: sum(t.role == "assistant" for t in screen.turns) >= count and screen.streaming is None


async def test_pull_from_the_picker_to_success(ollama: FakeOllama, make_tui: MakeTui) -> None:
    ollama.pull_delay = 0.01
    app = make_tui()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await started(pilot)
        await pilot.press("ctrl+o", "p")
        assert isinstance(app.screen, AskText)
        await type_text(pilot, "gemma3:1b")
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen))
        await wait_until(pilot, lambda: any(m.name == "gemma3:1b" for m in screen.models))
        assert "gemma3:1b is ready." in screen_text(app)
        assert "gemma3:1b" in screen_text(app)
        assert ollama.bodies("/api/pull")[-1]["model"] == "gemma3:1b"


async def test_pull_error_is_shown(ollama: FakeOllama, make_tui: MakeTui) -> None:
    app = make_tui()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await started(pilot)
        await send(pilot, "/pull no-such-model")
        await wait_until(pilot, lambda: "Could not pull no-such-model" in screen_text(app))
        assert isinstance(app.screen, PullScreen)
        assert "file does not" in screen_text(app)
        await pilot.press("escape")
        assert isinstance(app.screen, ChatScreen)


async def test_pull_in_the_background_keeps_chat_usable(ollama: FakeOllama, make_tui: MakeTui) -> None:
    ollama.pull_delay = 0.05
    app = make_tui()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await started(pilot)
        await send(pilot, "/pull smollm2:135m")
        await wait_until(pilot, lambda: "pulling" in screen_text(app))
        await pilot.press("b")
        assert isinstance(app.screen, ChatScreen)
        await send(pilot, "chatting meanwhile")
        await wait_until(pilot, replied(screen))
        assert screen.turns[-1].state == TurnState.COMPLETE
        await wait_until(pilot, lambda: any(m.name == "smollm2:135m" for m in screen.models), timeout=20)


async def test_details_and_delete_from_the_picker(ollama: FakeOllama, make_tui: MakeTui) -> None:
    app = make_tui()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await started(pilot)
        await pilot.press("ctrl+o", "down", "i")  # qwen3:4b
        assert isinstance(app.screen, ModelDetailsScreen)
        await wait_until(pilot, lambda: "40960" in screen_text(app) or "40,960" in screen_text(app))
        assert "thinking" in screen_text(app)
        await pilot.press("escape")
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, Confirm))
        await pilot.press("escape")  # no: kept
        assert ollama.find("qwen3:4b") is not None
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, Confirm))
        await pilot.press("y")
        await wait_until(pilot, lambda: ollama.find("qwen3:4b") is None)
        await wait_until(pilot, lambda: all(m.name != "qwen3:4b" for m in screen.models))
        assert ollama.requests[-1].method in ("GET", "DELETE", "HEAD")


async def test_system_prompt_and_options_reach_the_server(ollama: FakeOllama, make_tui: MakeTui) -> None:
    app = make_tui()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await started(pilot)
        await send(pilot, "/set system Answer in French.")
        await send(pilot, "/set parameter temperature 0.2")
        await send(pilot, "/set parameter num_ctx 8192")
        await send(pilot, "/set parameter stop END")
        await send(pilot, "/set keepalive 10m")
        await send(pilot, "/set parameter temperature hot")  # refused
        assert "temperature takes a number" in screen_text(app)
        await send(pilot, "Bonjour?")
        await wait_until(pilot, replied(screen))
        body = ollama.bodies("/api/chat")[-1]
        assert body["messages"][0] == {"role": "system", "content": "Answer in French."}
        assert body["options"] == {"temperature": 0.2, "num_ctx": 8192, "stop": ["END"]}
        assert body["keep_alive"] == "10m"
        await send(pilot, "/show")
        assert "Answer in French." in screen_text(app) and "temperature" in screen_text(app)
    again = make_tui(continue_last=True)  # the settings are stored with the conversation
    async with again.run_test(size=SIZE, notifications=True) as pilot:
        screen = await started(pilot)
        await send(pilot, "Encore?")
        await wait_until(pilot, replied(screen, 2))
        body = ollama.bodies("/api/chat")[-1]
        assert body["messages"][0]["content"] == "Answer in French."
        assert body["options"]["temperature"] == 0.2


async def test_settings_dialog_changes_the_request(ollama: FakeOllama, make_tui: MakeTui) -> None:
    app = make_tui()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await started(pilot)
        await pilot.press("f2")
        assert isinstance(app.screen, SettingsScreen)
        app.screen.query_one("#field-top-k", Input).value = "7"
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, ChatScreen)
        await send(pilot, "hi")
        await wait_until(pilot, replied(screen))
        assert ollama.bodies("/api/chat")[-1]["options"] == {"top_k": 7}


async def test_thinking_is_shown_then_folded_and_stored(ollama: FakeOllama, make_tui: MakeTui) -> None:
    ollama.enqueue(ChatScript(thinking=["Let me", " think", " about", " it."], tokens=["The", " answer."], delay=0.01))
    app = make_tui()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await started(pilot, "qwen3:4b")
        await send(pilot, "/set think")
        await send(pilot, "why?")
        await wait_until(pilot, replied(screen))
        reply = screen.turns[-1]
        assert reply.thinking == "Let me think about it." and reply.content == "The answer."
        assert ollama.bodies("/api/chat")[-1]["think"] is True
        text = screen_text(app)
        assert "▸ Thinking" in text and "Let me think about it." not in text  # folded
        await pilot.press("ctrl+t")
        assert "Let me think about it." in screen_text(app)
        assert screen.conversation is not None
        assert app.store.turns(screen.conversation.id)[-1].thinking == "Let me think about it."


async def test_think_is_not_sent_to_a_model_without_thinking(ollama: FakeOllama, make_tui: MakeTui) -> None:
    app = make_tui()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await started(pilot, "llama3.2:latest")
        await send(pilot, "/set think")
        await send(pilot, "hi")
        await wait_until(pilot, replied(screen))
        assert screen.turns[-1].state == TurnState.COMPLETE  # not a 400
        assert "think" not in ollama.bodies("/api/chat")[-1]


async def test_context_meter_warns_before_overflow(ollama: FakeOllama, make_tui: MakeTui) -> None:
    app = make_tui()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await started(pilot)
        await send(pilot, "/set parameter num_ctx 128")
        await send(pilot, "a question long enough to fill a tiny window")
        await wait_until(pilot, replied(screen))
        status_line = screen_text(app).splitlines()[0]
        assert "/128" in status_line and status_line.rstrip().endswith("% — /clear or num_ctx")
        meter = screen.query_one(ContextMeter)
        assert meter.has_class("-warning") or meter.has_class("-error")
        assert "silently drops the oldest messages" in str(meter.tooltip)
        # Said where it covers nothing: no toast over the input about it.
        assert not any("context" in note.message.lower() for note in app._notifications)
        await send(pilot, "/show")  # the longer advice
        await wait_until(pilot, lambda: any("Settings for" in note.title for note in app._notifications))
        shown = next(note.message for note in app._notifications if "Settings for" in note.title)
        assert "Context: " in shown and "/128" in shown and "/set parameter num_ctx N" in shown


async def test_image_needs_a_vision_model(ollama: FakeOllama, make_tui: MakeTui, tmp_path: Path) -> None:
    picture = tmp_path / "cat.png"
    picture.write_bytes(PNG)
    (tmp_path / "notes.txt").write_text("not an image")
    app = make_tui()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await started(pilot, "llama3.2:latest")
        await send(pilot, f"/image {picture}")
        assert "cannot see images" in screen_text(app)
        await send(pilot, "/model llava:7b")
        await wait_until(pilot, lambda: "llava:7b" in screen.catalog.details)
        await send(pilot, f"/image {tmp_path / 'missing.png'}")
        assert "Cannot read" in screen_text(app)
        await send(pilot, f"/image {tmp_path / 'notes.txt'}")
        assert "is not a PNG" in screen_text(app)
        await send(pilot, f"/image {picture}")
        assert "Attached cat.png" in screen_text(app)
        await send(pilot, "what is this?")
        await wait_until(pilot, replied(screen))
        message = ollama.bodies("/api/chat")[-1]["messages"][-1]
        assert message["images"] == [base64.b64encode(PNG).decode()]
        assert screen.turns[0].images == (base64.b64encode(PNG).decode(),)


async def test_loaded_models_command(ollama: FakeOllama, make_tui: MakeTui) -> None:
    app = make_tui()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await started(pilot)
        await send(pilot, "/ps")
        await wait_until(pilot, lambda: "No model is loaded" in screen_text(app))
        await send(pilot, "load it")
        await wait_until(pilot, replied(screen))
        await send(pilot, "/ps")
        await wait_until(pilot, lambda: "PROCESSOR" in screen_text(app))
        assert "llama3.2:latest" in screen_text(app)


async def test_picker_refreshes_on_focus(ollama: FakeOllama, make_tui: MakeTui) -> None:
    app = make_tui()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await started(pilot)
        ollama.models.pop()  # llava:7b removed behind the app's back
        await pilot.press("ctrl+o")
        assert isinstance(app.focused, ModelPicker)
        await wait_until(pilot, lambda: all(m.name != "llava:7b" for m in screen.models))
