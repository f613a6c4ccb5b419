"""The app end to end: the real client and store against the fake Ollama server, driven by Pilot."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from conftest import SIZE, focused, following, screen_text, type_text, wait_until
from ollama_server import ChatScript, FakeOllama

from app.app import OllamaTui
from app.conversation import TurnState
from app.screens.chat import ChatScreen
from app.widgets.conversation_view import ConversationView
from app.widgets.model_picker import ModelPicker
from app.widgets.prompt_input import PromptInput

MakeTui = Callable[..., OllamaTui]


def chat(app: OllamaTui) -> ChatScreen:
    screen = app.screen
    assert isinstance(screen, ChatScreen)
    return screen


async def ready(pilot) -> ChatScreen:
    screen = chat(pilot.app)
    await wait_until(pilot, lambda: screen.models)
    return screen


async def send(pilot, text: str) -> None:
    await type_text(pilot, text)
    await pilot.press("enter")


def replied(screen: ChatScreen, count: int = 1) -> Callable[[], bool]:
    def done() -> bool:
        replies = [t for t in screen.turns if t.role == "assistant"]
        return len(replies) >= count and replies[-1].state != TurnState.STREAMING

    return done


async def test_send_and_see_streamed_reply(ollama: FakeOllama, make_tui: MakeTui) -> None:
    ollama.enqueue(ChatScript(tokens=["## Hello", "\n\n", "- one", "\n", "- two", "\n\n", "`done`"], delay=0.01))
    app = make_tui()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await ready(pilot)
        assert isinstance(focused(app), PromptInput)
        await send(pilot, "hi there")
        await wait_until(pilot, replied(screen))
        reply = screen.turns[-1]
        assert reply.state == TurnState.COMPLETE
        assert reply.content == "## Hello\n\n- one\n- two\n\n`done`"
        assert reply.model == "llama3.2:latest"
        text = screen_text(app)
        assert "Hello" in text and "• one" in text and "done" in text
        assert "## Hello" not in text  # rendered as Markdown, not shown raw
        assert "llama3.2:latest" in text
        body = ollama.bodies("/api/chat")[-1]
        assert body["model"] == "llama3.2:latest"
        assert body["stream"] is True
        assert body["messages"] == [{"role": "user", "content": "hi there"}]
        assert app.query_one(PromptInput).text == ""
        assert "tok/s" in text


async def test_second_message_carries_history(ollama: FakeOllama, make_tui: MakeTui) -> None:
    ollama.enqueue(ChatScript(tokens=["Lima", "."]), ChatScript(tokens=["About", " 10 million."]))
    app = make_tui()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await ready(pilot)
        await send(pilot, "Capital of Peru?")
        await wait_until(pilot, replied(screen))
        await send(pilot, "Population?")
        await wait_until(pilot, replied(screen, 2))
        assert ollama.bodies("/api/chat")[-1]["messages"] == [
            {"role": "user", "content": "Capital of Peru?"},
            {"role": "assistant", "content": "Lima."},
            {"role": "user", "content": "Population?"},
        ]


async def test_escape_stops_and_keeps_partial(ollama: FakeOllama, make_tui: MakeTui) -> None:
    ollama.enqueue(ChatScript(tokens=[f" word{i}" for i in range(400)], delay=0.02))
    app = make_tui()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await ready(pilot)
        await send(pilot, "talk a lot")
        await wait_until(pilot, lambda: "word5" in screen.turns[-1].content)
        await pilot.press("escape")
        await wait_until(pilot, replied(screen))
        reply = screen.turns[-1]
        assert reply.state == TurnState.STOPPED
        assert "word5" in reply.content and "word399" not in reply.content
        await wait_until(pilot, lambda: ollama.disconnects >= 1)  # the server saw the stream closed
        assert "stopped" in screen_text(app).lower()
        assert screen.conversation is not None
        conversation_id = screen.conversation.id
        stored = app.store.turns(conversation_id)
        await wait_until(pilot, lambda: app.store.turns(conversation_id)[-1].state == TurnState.STOPPED)
        assert stored[0].content == "talk a lot"


async def test_input_usable_while_streaming(ollama: FakeOllama, make_tui: MakeTui) -> None:
    ollama.enqueue(ChatScript(tokens=[f" w{i}" for i in range(200)], delay=0.02))
    app = make_tui()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await ready(pilot)
        await send(pilot, "go")
        await wait_until(pilot, lambda: "w3" in screen.turns[-1].content)
        await pilot.press("n", "e", "x", "t")
        assert app.query_one(PromptInput).text == "next"
        await pilot.press("enter")  # refused while a reply arrives; the text stays
        assert app.query_one(PromptInput).text == "next"
        assert screen.streaming is not None
        await pilot.press("escape")
        await wait_until(pilot, replied(screen))


async def test_page_keys_in_the_input_scroll_the_conversation(ollama: FakeOllama, make_tui: MakeTui) -> None:
    ollama.enqueue(ChatScript(tokens=[f"line {i}\n\n" for i in range(80)]))
    app = make_tui()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await send(pilot, "a long answer please")
        await wait_until(pilot, replied(screen))
        view = app.query_one(ConversationView)
        bottom = view.scroll_offset.y
        assert bottom > 0 and "line 79" in screen_text(app)
        await pilot.press("pageup")
        await pilot.pause()
        assert isinstance(focused(app), PromptInput)  # the input keeps the focus
        assert view.scroll_offset.y == bottom - view.scrollable_content_region.height
        assert not following(view) and "line 79" not in screen_text(app)
        await pilot.press("pagedown")
        await pilot.pause()
        assert following(view) and "line 79" in screen_text(app)


async def test_switch_model_mid_conversation(ollama: FakeOllama, make_tui: MakeTui) -> None:
    ollama.enqueue(ChatScript(tokens=["First", " answer."]), ChatScript(tokens=["Second", " answer."]))
    app = make_tui()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await ready(pilot)
        await send(pilot, "one")
        await wait_until(pilot, replied(screen))
        await send(pilot, "/model qwen3:4b")
        assert screen.current.model == "qwen3:4b"
        await send(pilot, "two")
        await wait_until(pilot, replied(screen, 2))
        body = ollama.bodies("/api/chat")[-1]
        assert body["model"] == "qwen3:4b"
        assert [m["content"] for m in body["messages"]] == ["one", "First answer.", "two"]
        assert [t.model for t in screen.turns if t.role == "assistant"] == ["llama3.2:latest", "qwen3:4b"]
        text = screen_text(app)
        assert "llama3.2:latest" in text and "qwen3:4b" in text


async def test_picker_chooses_model(ollama: FakeOllama, make_tui: MakeTui) -> None:
    app = make_tui()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await ready(pilot)
        await pilot.press("ctrl+o")
        assert isinstance(focused(app), ModelPicker)
        await pilot.press("down", "enter")
        assert screen.current.model == "qwen3:4b"
        assert isinstance(focused(app), PromptInput)
        assert "● qwen3:4b" in screen_text(app)
        await send(pilot, "hello")
        await wait_until(pilot, replied(screen))
        assert ollama.bodies("/api/chat")[-1]["model"] == "qwen3:4b"


async def test_model_option_and_load_command(ollama: FakeOllama, make_tui: MakeTui) -> None:
    app = make_tui(model="llava:7b")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await ready(pilot)
        assert screen.current.model == "llava:7b"
        await send(pilot, "/load qwen3")  # no such model: refused with a hint
        assert screen.current.model == "llava:7b"
        assert "ollama pull qwen3" in screen_text(app)
        await send(pilot, "/load llama3.2")  # untagged means :latest
        assert screen.current.model == "llama3.2:latest"


async def test_last_used_model_is_remembered(ollama: FakeOllama, make_tui: MakeTui) -> None:
    app = make_tui()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await ready(pilot)
        await send(pilot, "/model qwen3:4b")
    again = make_tui()
    async with again.run_test(size=SIZE, notifications=True) as pilot:
        screen = await ready(pilot)
        assert screen.current.model == "qwen3:4b"


async def test_slash_commands(ollama: FakeOllama, make_tui: MakeTui) -> None:
    app = make_tui()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await ready(pilot)
        await send(pilot, "/frobnicate now")
        assert "Unknown command /frobnicate" in screen_text(app)
        assert ollama.bodies("/api/chat") == []
        await send(pilot, "/help")
        assert "ask again for the last reply" in screen_text(app)
        await pilot.press("escape")
        await send(pilot, "question")
        await wait_until(pilot, replied(screen))
        await send(pilot, "/clear")
        assert screen.turns == [] and screen.conversation is None
        await send(pilot, "/bye")
        await pilot.pause()
    assert app.return_code == 0


async def test_newline_key_and_multiline_send(ollama: FakeOllama, make_tui: MakeTui) -> None:
    app = make_tui()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await ready(pilot)
        await pilot.press("a", "ctrl+j", "b")
        assert app.query_one(PromptInput).text == "a\nb"
        await type_text(pilot, "\nline three\nline four")
        await pilot.press("enter")
        await wait_until(pilot, replied(screen))
        assert ollama.bodies("/api/chat")[-1]["messages"][0]["content"] == "a\nb\nline three\nline four"


async def test_only_a_typed_backslash_before_enter_breaks_the_line(ollama: FakeOllama, make_tui: MakeTui) -> None:
    app = make_tui()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await ready(pilot)
        prompt = app.query_one(PromptInput)
        await pilot.press("a", "backslash", "enter", "b")
        assert prompt.text == "a\nb"
        await pilot.press("backslash", "left", "enter")  # the cursor moved away: Enter sends
        await wait_until(pilot, replied(screen))
        await type_text(pilot, "ends in C:\\")
        await pilot.press("enter")
        await wait_until(pilot, replied(screen, 2))
        await pilot.press("up")  # the last message comes back, still ending in a backslash
        await wait_until(pilot, lambda: prompt.text == "ends in C:\\")
        await pilot.press("enter")
        await wait_until(pilot, replied(screen, 3))
        sent = [body["messages"][-1]["content"] for body in ollama.bodies("/api/chat")]
        assert sent == ["a\nb\\", "ends in C:\\", "ends in C:\\"]


async def test_copy_last_reply(ollama: FakeOllama, make_tui: MakeTui) -> None:
    ollama.enqueue(ChatScript(tokens=["copy", " me"]))
    app = make_tui()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await ready(pilot)
        await send(pilot, "x")
        await wait_until(pilot, replied(screen))
        await pilot.press("ctrl+y")
        assert app.clipboard == "copy me"


async def test_server_down_then_back(ollama: FakeOllama, make_tui: MakeTui) -> None:
    ollama.stop()
    app = make_tui()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = chat(app)
        await wait_until(pilot, lambda: "Cannot reach Ollama" in screen_text(app))
        text = screen_text(app)
        assert "ollama serve" in text and "OLLAMA_HOST" in text
        assert "unreachable" in text
        ollama.start()
        screen.refresh_models()  # the watcher also retries by itself every few seconds
        await wait_until(pilot, lambda: screen.models)
        assert "Cannot reach Ollama" not in screen_text(app)
        assert "llama3.2:latest" in screen_text(app)


async def test_server_down_mid_session_is_retried(ollama: FakeOllama, make_tui: MakeTui) -> None:
    app = make_tui()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await ready(pilot)
        ollama.stop()
        await send(pilot, "anyone there?")
        await wait_until(pilot, replied(screen))
        reply = screen.turns[-1]
        assert reply.state == TurnState.ERROR and "Cannot reach Ollama" in reply.error
        await wait_until(pilot, lambda: "Cannot reach Ollama" in screen_text(app))
        ollama.start()
        screen.refresh_models()
        await wait_until(pilot, lambda: app.query_one("#banner").has_class("-hidden"))
        await pilot.press("ctrl+r")  # the kept message is sent again
        await wait_until(pilot, lambda: screen.turns[-1].state == TurnState.COMPLETE)
        assert [t.role for t in screen.turns] == ["user", "assistant"]
        assert ollama.bodies("/api/chat")[-1]["messages"] == [{"role": "user", "content": "anyone there?"}]


async def test_no_models(ollama: FakeOllama, make_tui: MakeTui) -> None:
    ollama.models.clear()
    app = make_tui()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = chat(app)
        await wait_until(pilot, lambda: "No models installed" in screen_text(app))
        assert "ollama pull" in screen_text(app)
        await send(pilot, "hello")
        assert "No model to send to" in screen_text(app)
        assert screen.turns == []


async def test_unknown_model_shows_server_error(ollama: FakeOllama, make_tui: MakeTui) -> None:
    app = make_tui(model="ghost")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await ready(pilot)
        await send(pilot, "boo")
        await wait_until(pilot, replied(screen))
        user, reply = screen.turns
        assert user.content == "boo"
        assert reply.state == TurnState.ERROR
        assert 'model "ghost" not found' in reply.error.lower()
        assert "not found" in screen_text(app)
        await send(pilot, "/model llama3.2")
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: screen.turns[-1].state == TurnState.COMPLETE)
        assert ollama.bodies("/api/chat")[-1]["messages"] == [{"role": "user", "content": "boo"}]


async def test_server_errors_are_shown(ollama: FakeOllama, make_tui: MakeTui) -> None:
    ollama.enqueue(
        ChatScript(status=500, body='{"error":"model runner has unexpectedly stopped"}'),
        ChatScript(status=500, body="<html><body><h1>502 Bad Gateway</h1></body></html>"),
    )
    app = make_tui()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await ready(pilot)
        await send(pilot, "a")
        await wait_until(pilot, replied(screen))
        assert "model runner has unexpectedly stopped" in screen.turns[-1].error
        await pilot.press("ctrl+r")
        await wait_until(pilot, replied(screen))
        assert "Bad Gateway" in screen.turns[-1].error
        assert "<html>" not in screen.turns[-1].error


async def test_faults_mid_stream_keep_partial(ollama: FakeOllama, make_tui: MakeTui) -> None:
    tokens = [f" t{i}" for i in range(20)]
    ollama.enqueue(
        ChatScript(tokens=tokens, cut_after=5),
        ChatScript(tokens=tokens, error_after=5, error="out of memory"),
        ChatScript(tokens=tokens, malformed_after=5),
    )
    app = make_tui()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await ready(pilot)
        for count, words in enumerate(("cut", "error", "malformed"), start=1):
            await send(pilot, words)
            await wait_until(pilot, replied(screen, count))
            reply = screen.turns[-1]
            assert reply.state == TurnState.INTERRUPTED, words
            assert reply.content.startswith(" t0 t1"), words
            assert reply.error, words
        replies = [t for t in screen.turns if t.role == "assistant"]
        assert "out of memory" in replies[1].error
        assert "interrupted" in screen_text(app).lower()
        # the app goes on working
        await send(pilot, "still there?")
        await wait_until(pilot, replied(screen, 4))
        assert screen.turns[-1].state == TurnState.COMPLETE


async def test_hostile_output_is_shown_literally(ollama: FakeOllama, make_tui: MakeTui) -> None:
    ollama.enqueue(
        ChatScript(tokens=["[bold]not bold[/bold] ", "\x1b[2J\x1b]0;pwned\x07", "\x1b[31mred\x1b[0m ", "漢字 😀"])
    )
    app = make_tui()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await ready(pilot)
        await send(pilot, "[red]me[/red]")
        await wait_until(pilot, replied(screen))
        text = screen_text(app)
        assert "[bold]not bold[/bold]" in text
        assert "[red]me[/red]" in text
        assert "red 漢字 😀" in text
        assert "\x1b" not in text and "pwned" not in text
        for strip in app.screen._compositor.render_strips():
            assert all("\x1b" not in segment.text for segment in strip)


async def test_damaged_database_still_chats_in_memory(ollama: FakeOllama, make_tui: MakeTui, tmp_path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    damaged = b"this is not a database" * 100
    (data / "conversations.db").write_bytes(damaged)
    app = make_tui()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await ready(pilot)
        text = screen_text(app)
        assert "damaged" in text.lower() and "memory only" in text
        await send(pilot, "still works?")
        await wait_until(pilot, replied(screen))
        assert screen.turns[-1].state == TurnState.COMPLETE
        assert screen.conversation is not None
        assert app.store.turns(screen.conversation.id)[0].content == "still works?"
    assert (data / "conversations.db").read_bytes() == damaged  # never overwritten


async def test_stalled_stream_shows_the_gap_and_can_be_stopped(ollama: FakeOllama, make_tui: MakeTui) -> None:
    ollama.enqueue(ChatScript(tokens=["Half", " an", " answer"], stall_after=3))
    app = make_tui()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await ready(pilot)
        await send(pilot, "go")
        await wait_until(pilot, lambda: "no new text for 3 s" in screen_text(app))
        assert "Half an answer" in screen_text(app)
        await pilot.press("escape")
        await wait_until(pilot, replied(screen))
        assert screen.turns[-1].state == TurnState.STOPPED
        assert screen.turns[-1].content == "Half an answer"
        assert "no new text" not in screen_text(app)


async def test_slow_model_load_says_it_is_waiting(ollama: FakeOllama, make_tui: MakeTui) -> None:
    loaded = threading.Event()
    ollama.enqueue(ChatScript(tokens=["ready"], hold=loaded))
    app = make_tui()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await ready(pilot)
        await send(pilot, "load please")
        await wait_until(pilot, lambda: "waiting for the model 3 s" in screen_text(app))
        assert screen.turns[-1].content == "" and screen.streaming is not None  # still loading
        loaded.set()
        await wait_until(pilot, replied(screen))
        assert "waiting for the model" not in screen_text(app)
        assert screen.turns[-1].content == "ready" and screen.turns[-1].state == TurnState.COMPLETE


async def test_ctrl_c_stops_a_reply_like_ollama_run(ollama: FakeOllama, make_tui: MakeTui) -> None:
    ollama.enqueue(ChatScript(tokens=[f" w{i}" for i in range(300)], delay=0.02))
    app = make_tui()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await ready(pilot)
        await send(pilot, "go")
        await wait_until(pilot, lambda: "w3" in screen.turns[-1].content)
        await pilot.press("ctrl+c")
        await wait_until(pilot, replied(screen))
        assert screen.turns[-1].state == TurnState.STOPPED
        assert app.is_running  # Ctrl+C with nothing arriving does not quit either
        await pilot.press("ctrl+c")
        assert app.is_running


async def test_ctrl_c_with_nothing_arriving_says_how_to_quit(ollama: FakeOllama, make_tui: MakeTui) -> None:
    app = make_tui()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await ready(pilot)
        await pilot.press("ctrl+c")
        await wait_until(pilot, lambda: "to quit the app" in screen_text(app))
        assert [note.message for note in app._notifications] == ["Press Ctrl+Q to quit the app."]
        assert "Press Ctrl+Q to quit the app." in screen_text(app) and "[b]" not in screen_text(app)
        assert app.is_running


async def test_stop_during_the_save_still_ends_the_reply(
    ollama: FakeOllama, make_tui: MakeTui, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_tui()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await ready(pilot)
        add_turn = app.store.add_turn
        saving, disk_free = threading.Event(), threading.Event()

        def busy_disk(*args):  # on the writer's thread: holds the save until the test lets it go
            saving.set()
            assert disk_free.wait(10), "the save was never let go"
            return add_turn(*args)

        monkeypatch.setattr(app.store, "add_turn", busy_disk)
        try:
            await send(pilot, "quick")
            await wait_until(pilot, saving.is_set)
            await pilot.press("escape")  # the save is under way: nothing was asked of the server yet
            await wait_until(pilot, lambda: screen.streaming is None)  # while the save is still held
            assert not ollama.bodies("/api/chat")
        finally:
            disk_free.set()
        stopped = screen.turns[-1]
        assert stopped.state == TurnState.STOPPED
        monkeypatch.setattr(app.store, "add_turn", add_turn)
        await send(pilot, "next one")
        await wait_until(pilot, replied(screen, 2))
        assert screen.turns[-1].state == TurnState.COMPLETE
