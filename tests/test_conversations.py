"""Saved conversations in the app: list, open, rename, delete, search, export, resume, edit."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import SIZE, focused, screen_text, type_text, wait_until
from ollama_server import ChatScript, FakeOllama

from app.app import OllamaTui
from app.conversation import Turn, TurnState
from app.screens.chat import ChatScreen
from app.screens.dialogs import AskText, Confirm
from app.screens.search import SearchScreen
from app.store import Store
from app.widgets.conversation_list import ConversationList
from app.widgets.prompt_input import PromptInput

MakeTui = Callable[..., OllamaTui]


def seed(data_dir: Path, conversations: dict[str, list[tuple[str, str, str]]]) -> list[int]:
    """Store conversations of (role, content, model) turns; returns their ids, oldest first."""
    ids = []
    with Store.open(data_dir) as store:
        for title, turns in conversations.items():
            info = store.create_conversation(turns[-1][2], title=title)
            for role, content, model in turns:
                store.add_turn(info.id, Turn(role, content, model=model))
            ids.append(info.id)
    return ids


async def started(pilot) -> ChatScreen:
    screen = pilot.app.screen
    assert isinstance(screen, ChatScreen)
    await wait_until(pilot, lambda: screen.models)
    return screen


async def send(pilot, text: str) -> None:
    await type_text(pilot, text)
    await pilot.press("enter")


def reply_done(screen: ChatScreen, count: int) -> Callable[[], bool]:
    return lambda: (
        sum(t.role == "assistant" for t in screen.turns) >= count and screen.turns[-1].state != TurnState.STREAMING
    )


TWO = {
    "Peru": [("user", "Capital of Peru?", ""), ("assistant", "**Lima** is the capital.", "llama3.2:latest")],
    "Rust lifetimes": [
        ("user", "Explain lifetimes", ""),
        ("assistant", "Lifetimes tie references to scopes.", "qwen3:4b"),
    ],
}


async def test_list_shows_conversations_newest_first_and_opens_one(make_tui: MakeTui, tmp_path: Path) -> None:
    seed(tmp_path / "data", TWO)
    app = make_tui()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await started(pilot)
        listing = app.query_one(ConversationList)
        await wait_until(pilot, lambda: listing.option_count == 2)
        text = screen_text(app)
        assert text.index("Rust lifetimes") < text.index("Peru")
        await pilot.press("ctrl+s")
        assert focused(app) is listing
        await pilot.press("down", "enter")  # the second row: Peru
        assert screen.conversation is not None and screen.conversation.title == "Peru"
        assert isinstance(focused(app), PromptInput)
        text = screen_text(app)
        assert "Capital of Peru?" in text and "Lima is the capital." in text
        assert "● Peru" in text
        assert screen.current.model == "llama3.2:latest"  # the model the conversation was using


async def test_resume_sends_stored_history(ollama: FakeOllama, make_tui: MakeTui, tmp_path: Path) -> None:
    seed(tmp_path / "data", TWO)
    app = make_tui(continue_last=True)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await started(pilot)
        assert screen.conversation is not None and screen.conversation.title == "Rust lifetimes"
        assert screen.current.model == "qwen3:4b"
        await send(pilot, "And in closures?")
        await wait_until(pilot, reply_done(screen, 2))
        body = ollama.bodies("/api/chat")[-1]
        assert body["model"] == "qwen3:4b"
        assert [m["content"] for m in body["messages"]] == [
            "Explain lifetimes",
            "Lifetimes tie references to scopes.",
            "And in closures?",
        ]


async def test_session_option_opens_a_given_conversation(make_tui: MakeTui, tmp_path: Path) -> None:
    peru, _ = seed(tmp_path / "data", TWO)
    app = make_tui(session_id=peru)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await started(pilot)
        assert screen.conversation is not None and screen.conversation.id == peru
        assert "Capital of Peru?" in screen_text(app)


async def test_switch_model_then_reopen_keeps_each_reply_label(ollama: FakeOllama, make_tui: MakeTui) -> None:
    ollama.enqueue(ChatScript(tokens=["from", " llama"]), ChatScript(tokens=["from", " qwen"]))
    app = make_tui()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await started(pilot)
        await send(pilot, "first")
        await wait_until(pilot, reply_done(screen, 1))
        await send(pilot, "/model qwen3:4b")
        await send(pilot, "second")
        await wait_until(pilot, reply_done(screen, 2))
    again = make_tui(continue_last=True)
    async with again.run_test(size=SIZE, notifications=True) as pilot:
        screen = await started(pilot)
        assert [(t.role, t.model) for t in screen.turns if t.role == "assistant"] == [
            ("assistant", "llama3.2:latest"),
            ("assistant", "qwen3:4b"),
        ]
        assert screen.current.model == "qwen3:4b"
        lines = screen_text(again).splitlines()
        assert any("▎ llama3.2:latest" in line for line in lines)
        assert any("▎ qwen3:4b" in line for line in lines)


async def test_rename_by_key_and_command(make_tui: MakeTui, tmp_path: Path) -> None:
    seed(tmp_path / "data", TWO)
    app = make_tui(continue_last=True)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await started(pilot)
        await send(pilot, "/rename Borrowing rules")
        await wait_until(pilot, lambda: "Borrowing rules" in screen_text(app))
        await pilot.press("ctrl+s", "r")
        assert isinstance(app.screen, AskText)
        await pilot.press("ctrl+u")
        await type_text(pilot, "Renamed by key")
        await pilot.press("enter")
        await wait_until(pilot, lambda: "Renamed by key" in screen_text(app))
        assert screen.conversation is not None
        renamed = app.store.conversation(screen.conversation.id)
        assert renamed is not None and renamed.title == "Renamed by key"


async def test_delete_asks_first(make_tui: MakeTui, tmp_path: Path) -> None:
    peru, rust = seed(tmp_path / "data", TWO)
    app = make_tui(continue_last=True)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await started(pilot)
        await pilot.press("ctrl+s", "d")
        assert isinstance(app.screen, Confirm)
        await pilot.press("escape")  # cancel: nothing deleted
        assert app.store.conversation(rust) is not None
        await pilot.press("d")
        assert isinstance(app.screen, Confirm)
        await pilot.press("y")
        await wait_until(pilot, lambda: app.store.conversation(rust) is None)
        assert screen.conversation is None and screen.turns == []  # it was open: a new one starts
        await wait_until(pilot, lambda: "Rust lifetimes" not in screen_text(app))
        assert app.store.conversation(peru) is not None


async def test_search_opens_conversation_at_the_hit(make_tui: MakeTui, tmp_path: Path) -> None:
    filler = [
        ("user", f"question {i}", "")
        if i % 2 == 0
        else ("assistant", f"answer {i}\n\n" + "more words " * 40, "llama3.2:latest")
        for i in range(40)
    ]
    filler.insert(3, ("assistant", "The needle is a **zebra** in a haystack.", "llama3.2:latest"))
    seed(tmp_path / "data", {"Long one": filler, **TWO})
    app = make_tui()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await started(pilot)
        await pilot.press("ctrl+f")
        assert isinstance(app.screen, SearchScreen)
        await type_text(pilot, "zebra")
        await wait_until(pilot, lambda: "Long one" in screen_text(app) and "zebra" in screen_text(app))
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen))
        assert screen.conversation is not None and screen.conversation.title == "Long one"
        assert "The needle is a zebra in a haystack." in screen_text(app)
        assert "answer 39" not in screen_text(app)  # opened at the hit, not at the end


async def test_search_command_with_no_match(make_tui: MakeTui, tmp_path: Path) -> None:
    seed(tmp_path / "data", TWO)
    app = make_tui()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await started(pilot)
        await send(pilot, "/search nonexistentword")
        await wait_until(pilot, lambda: "No matches." in screen_text(app))


async def test_export_markdown_and_json(make_tui: MakeTui, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seed(tmp_path / "data", TWO)
    out = tmp_path / "out"
    out.mkdir()
    monkeypatch.chdir(out)
    app = make_tui(continue_last=True)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await started(pilot)
        await send(pilot, "/export")
        await send(pilot, "/export json")
        await send(pilot, "/export md")  # a second Markdown export gets a new name
        await send(pilot, f"/export json {out / 'given.json'}")
        await send(pilot, f"/export json {out / 'given.json'}")  # exists: refused
        await wait_until(pilot, lambda: "already exists" in screen_text(app))
    names = sorted(path.name for path in out.iterdir())
    assert names == ["given.json", "rust-lifetimes-2-2.md", "rust-lifetimes-2.json", "rust-lifetimes-2.md"]
    markdown = (out / "rust-lifetimes-2.md").read_text()
    assert markdown.startswith("# Rust lifetimes") and "Lifetimes tie references to scopes." in markdown
    document = json.loads((out / "given.json").read_text())
    assert [m["role"] for m in document["messages"]] == ["user", "assistant"]
    assert document["messages"][1]["model"] == "qwen3:4b"


async def test_regenerate_replaces_the_last_reply(ollama: FakeOllama, make_tui: MakeTui) -> None:
    ollama.enqueue(ChatScript(tokens=["old", " reply"]), ChatScript(tokens=["new", " reply"]))
    app = make_tui()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await started(pilot)
        await send(pilot, "hi")
        await wait_until(pilot, reply_done(screen, 1))
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: screen.turns[-1].content == "new reply" and screen.streaming is None)
        assert [t.content for t in screen.turns] == ["hi", "new reply"]
        assert ollama.bodies("/api/chat")[-1]["messages"] == [{"role": "user", "content": "hi"}]
        conversation = screen.conversation
        assert conversation is not None
        await wait_until(pilot, lambda: [t.content for t in app.store.turns(conversation.id)] == ["hi", "new reply"])


async def test_edit_and_resend_last_message(ollama: FakeOllama, make_tui: MakeTui) -> None:
    ollama.enqueue(ChatScript(tokens=["one"]), ChatScript(tokens=["two"]), ChatScript(tokens=["edited"]))
    app = make_tui()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await started(pilot)
        await send(pilot, "first")
        await wait_until(pilot, reply_done(screen, 1))
        await send(pilot, "secnd typo")
        await wait_until(pilot, reply_done(screen, 2))
        await send(pilot, "/edit")
        prompt = app.query_one(PromptInput)
        assert prompt.text == "secnd typo"
        prompt.text = "second, fixed"
        await pilot.press("enter")
        await wait_until(pilot, reply_done(screen, 2))
        await wait_until(pilot, lambda: screen.turns[-1].content == "edited")
        assert [t.content for t in screen.turns] == ["first", "one", "second, fixed", "edited"]
        assert [m["content"] for m in ollama.bodies("/api/chat")[-1]["messages"]] == ["first", "one", "second, fixed"]
        conversation = screen.conversation
        assert conversation is not None
        await wait_until(pilot, lambda: len(app.store.turns(conversation.id)) == 4)
        assert "secnd typo" not in [t.content for t in app.store.turns(conversation.id)]


async def test_first_message_titles_the_conversation(ollama: FakeOllama, make_tui: MakeTui) -> None:
    app = make_tui()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await started(pilot)
        await send(pilot, "How do tides work on Earth?")
        await wait_until(pilot, reply_done(screen, 1))
        await wait_until(pilot, lambda: "● How do tides work on Earth?" in screen_text(app))
        await pilot.press("ctrl+n")
        assert screen.conversation is None
        await wait_until(pilot, lambda: "  How do tides work on Earth?" in screen_text(app))


async def test_up_recalls_the_last_message_without_replacing_it(ollama: FakeOllama, make_tui: MakeTui) -> None:
    app = make_tui()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await started(pilot)
        await send(pilot, "again please")
        await wait_until(pilot, reply_done(screen, 1))
        await pilot.press("up")
        assert app.query_one(PromptInput).text == "again please"
        await pilot.press("enter")
        await wait_until(pilot, reply_done(screen, 2))
        assert [t.content for t in screen.turns if t.role == "user"] == ["again please", "again please"]
