"""Second tries in the running app: the message cursor's e (edit one of your messages, send it
in its place) and r (ask again for a reply, or send your message again), asking first when
later messages would be replaced; /continue, which lets a stopped or cut-off reply go on in the
same turn. Checked on screen, in the store and in what the server received."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from conftest import SIZE, command, toasts, type_text, wait_until
from ollama_server import ChatScript, FakeOllama

from app.app import OllamaTui
from app.conversation import TurnState
from app.screens.chat import ChatScreen
from app.screens.dialogs import Confirm
from app.store import Store
from app.widgets.conversation_view import ConversationView
from app.widgets.prompt_input import PromptInput

MakeTui = Callable[..., OllamaTui]


async def ready(pilot) -> ChatScreen:
    screen = pilot.app.screen
    assert isinstance(screen, ChatScreen)
    await wait_until(pilot, lambda: screen.models)
    return screen


async def ask(pilot, screen: ChatScreen, text: str, ollama: FakeOllama, *reply: str, **script) -> None:
    ollama.enqueue(ChatScript(tokens=list(reply), **script))
    count = len(ollama.bodies("/api/chat"))
    await type_text(pilot, text)
    await pilot.press("enter")
    await wait_until(pilot, lambda: len(ollama.bodies("/api/chat")) > count and not screen.reply_arriving)


def sent(ollama: FakeOllama) -> list[tuple[str, str]]:
    """The messages of the last chat request, as (role, content)."""
    return [(message["role"], message["content"]) for message in ollama.bodies("/api/chat")[-1]["messages"]]


def shown(screen: ChatScreen) -> list[tuple[str, str]]:
    return [(turn.role, turn.content) for turn in screen.turns]


def stored(data: Path) -> list[tuple[str, str]]:
    with Store.open(data) as store:
        (info,) = store.conversations()
        return [(turn.role, turn.content) for turn in store.turns(info.id)]


async def two_exchanges(pilot, ollama: FakeOllama) -> ChatScreen:
    screen = await ready(pilot)
    await ask(pilot, screen, "first", ollama, "answer", " one")
    await ask(pilot, screen, "second", ollama, "answer", " two")
    return screen


async def cursor_on(pilot, screen: ChatScreen, index: int) -> None:
    """The message cursor on turn `index`, moved there with Up and Down."""
    view = screen.query_one(ConversationView)
    view.focus()
    await pilot.pause()
    for _ in range(len(screen.turns) + 1):
        at = next((i for i, turn in enumerate(screen.turns) if turn is view.cursor_turn), None)
        if at is None:  # its message was replaced: a key brings the cursor back
            await pilot.press("up")
            continue
        if at == index:
            return
        await pilot.press("up" if at > index else "down")
    raise AssertionError(f"the cursor never reached turn {index}")


async def until_stored(pilot, screen: ChatScreen, data: Path, turns: list[tuple[str, str]]) -> None:
    await wait_until(pilot, lambda: stored(data) == turns)


async def test_e_edits_an_earlier_message_and_asks_before_the_later_ones_go(
    ollama: FakeOllama, make_tui: MakeTui, tmp_path: Path
) -> None:
    app = make_tui()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await two_exchanges(pilot, ollama)
        prompt = screen.query_one(PromptInput)
        await cursor_on(pilot, screen, 0)
        await pilot.press("e")
        assert prompt.text == "first" and app.focused is prompt
        await pilot.press("end", *", edited")
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, Confirm))
        assert "the 2 later messages" in str(app.screen.query_one("Label").render())
        await pilot.press("n")  # not now: nothing sent, the edit stays
        await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen))
        assert len(ollama.bodies("/api/chat")) == 2 and prompt.text == "first, edited"
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, Confirm))
        ollama.enqueue(ChatScript(tokens=["answer", " again"]))
        await pilot.press("y")
        await wait_until(pilot, lambda: len(ollama.bodies("/api/chat")) == 3 and not screen.reply_arriving)
        assert sent(ollama) == [("user", "first, edited")]
        expected = [("user", "first, edited"), ("assistant", "answer again")]
        assert shown(screen) == expected and prompt.text == ""
        await until_stored(pilot, screen, tmp_path / "data", expected)


async def test_e_on_the_last_message_replaces_it_without_asking(ollama: FakeOllama, make_tui: MakeTui) -> None:
    app = make_tui()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await two_exchanges(pilot, ollama)
        await cursor_on(pilot, screen, 2)
        await pilot.press("e")
        await pilot.press("end", "!", "enter")
        await wait_until(pilot, lambda: len(ollama.bodies("/api/chat")) == 3 and not screen.reply_arriving)
        assert sent(ollama) == [("user", "first"), ("assistant", "answer one"), ("user", "second!")]
        assert len(screen.turns) == 4
        await cursor_on(pilot, screen, 1)
        await pilot.press("e")  # a reply is not yours to edit
        assert "Only your own messages can be edited; R asks again for a reply." in toasts(app)


async def test_r_on_an_earlier_reply_asks_then_regenerates_it(
    ollama: FakeOllama, make_tui: MakeTui, tmp_path: Path
) -> None:
    app = make_tui()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await two_exchanges(pilot, ollama)
        await cursor_on(pilot, screen, 1)
        await pilot.press("r")
        await wait_until(pilot, lambda: isinstance(app.screen, Confirm))
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen))
        assert len(ollama.bodies("/api/chat")) == 2 and len(screen.turns) == 4
        await cursor_on(pilot, screen, 1)
        await pilot.press("r")
        await wait_until(pilot, lambda: isinstance(app.screen, Confirm))
        ollama.enqueue(ChatScript(tokens=["a", " new", " one"]))
        await pilot.press("y")
        await wait_until(pilot, lambda: len(ollama.bodies("/api/chat")) == 3 and not screen.reply_arriving)
        assert sent(ollama) == [("user", "first")]
        expected = [("user", "first"), ("assistant", "a new one")]
        assert shown(screen) == expected
        await until_stored(pilot, screen, tmp_path / "data", expected)


async def test_r_on_the_last_reply_and_on_a_message_of_yours(ollama: FakeOllama, make_tui: MakeTui) -> None:
    app = make_tui()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await two_exchanges(pilot, ollama)
        await cursor_on(pilot, screen, 3)
        ollama.enqueue(ChatScript(tokens=["again", " two"]))
        await pilot.press("r")  # nothing after it: no question
        await wait_until(pilot, lambda: len(ollama.bodies("/api/chat")) == 3 and not screen.reply_arriving)
        assert sent(ollama) == [("user", "first"), ("assistant", "answer one"), ("user", "second")]
        assert shown(screen)[-1] == ("assistant", "again two") and len(screen.turns) == 4
        await cursor_on(pilot, screen, 2)
        ollama.enqueue(ChatScript(tokens=["third", " try"]))
        await pilot.press("r")  # your message, sent again: its reply is replaced
        await wait_until(pilot, lambda: len(ollama.bodies("/api/chat")) == 4 and not screen.reply_arriving)
        assert sent(ollama)[-1] == ("user", "second")
        assert shown(screen) == [
            ("user", "first"),
            ("assistant", "answer one"),
            ("user", "second"),
            ("assistant", "third try"),
        ]


async def test_continue_goes_on_from_a_cut_off_reply_in_the_same_turn(
    ollama: FakeOllama, make_tui: MakeTui, tmp_path: Path
) -> None:
    app = make_tui()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await ready(pilot)
        await ask(pilot, screen, "tell a story", ollama, "Once", " upon", done_reason="length")
        reply = screen.turns[-1]
        assert "cut off" in reply.error
        ollama.enqueue(ChatScript(tokens=[" a", " time."]))
        await command(pilot, "/continue")
        await wait_until(pilot, lambda: len(ollama.bodies("/api/chat")) == 2 and not screen.reply_arriving)
        assert sent(ollama) == [("user", "tell a story"), ("assistant", "Once upon")]  # ends with the reply
        assert screen.turns[-1] is reply and reply.content == "Once upon a time."
        assert reply.state == TurnState.COMPLETE and reply.error == "" and reply.stats is not None
        expected = [("user", "tell a story"), ("assistant", "Once upon a time.")]
        assert shown(screen) == expected
        await until_stored(pilot, screen, tmp_path / "data", expected)
        await command(pilot, "/continue")  # complete now: nothing to go on from
        await wait_until(pilot, lambda: any("The last reply is complete" in toast for toast in toasts(app)))
        assert len(ollama.bodies("/api/chat")) == 2


async def test_continue_after_stop(ollama: FakeOllama, make_tui: MakeTui, tmp_path: Path) -> None:
    app = make_tui()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await ready(pilot)
        ollama.enqueue(ChatScript(tokens=["Step", " one,"], stall_after=2))
        await type_text(pilot, "count")
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen.turns[-1].content == "Step one,")
        await pilot.press("escape")
        await wait_until(pilot, lambda: screen.turns[-1].state == TurnState.STOPPED)
        ollama.enqueue(ChatScript(tokens=[" step", " two."]))
        await command(pilot, "/continue")
        await wait_until(pilot, lambda: len(ollama.bodies("/api/chat")) == 2 and not screen.reply_arriving)
        assert sent(ollama)[-1] == ("assistant", "Step one,")
        assert shown(screen) == [("user", "count"), ("assistant", "Step one, step two.")]
        await until_stored(pilot, screen, tmp_path / "data", shown(screen))
        await command(pilot, "/new")
        await command(pilot, "/continue")
        await wait_until(pilot, lambda: any(toast.startswith("Nothing to continue") for toast in toasts(app)))
