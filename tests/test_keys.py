"""`[keys]`: the action names match the real bindings, key values are checked, and a moved
binding works in the running app."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from conftest import SIZE, screen_text, wait_until
from ollama_server import ChatScript, FakeOllama
from textual.binding import Binding
from textual.dom import DOMNode
from textual.keys import Keys
from textual.widgets import Markdown

from app import keys
from app.app import OllamaTui
from app.conversation import TurnState
from app.screens.chat import ChatScreen
from app.screens.help import HelpScreen
from app.widgets.conversation_list import ConversationList
from app.widgets.model_picker import ModelPicker
from app.widgets.prompt_input import PromptInput

MakeTui = Callable[..., OllamaTui]
PLACES: dict[str, type[DOMNode]] = {
    "app": OllamaTui,
    "chat": ChatScreen,
    "models": ModelPicker,
    "conversations": ConversationList,
}


def bindings_with_ids() -> dict[str, tuple[str, Binding]]:
    found: dict[str, tuple[str, Binding]] = {}
    for place, owner in PLACES.items():
        for binding in owner.BINDINGS:
            assert isinstance(binding, Binding)
            if binding.id:
                assert binding.id not in found, f"two bindings are called {binding.id}"
                found[binding.id] = (place, binding)
    return found


def test_the_table_is_the_bindings() -> None:
    real = bindings_with_ids()
    assert sorted(real) == sorted(keys.BY_NAME)
    for action in keys.ACTIONS:
        place, binding = real[action.name]
        assert (place, binding.key) == (action.where, action.keys), action.name


def test_every_chat_screen_binding_can_be_moved() -> None:
    assert all(isinstance(binding, Binding) and binding.id == binding.action for binding in ChatScreen.BINDINGS)


def test_the_default_keys_do_not_clash() -> None:
    taken: dict[tuple[str, str], str] = {}
    for action in keys.ACTIONS:
        place = "chat" if action.where == "app" else action.where
        for key in action.keys.split(","):
            assert (place, key) not in taken, f"{action.name} and {taken[place, key]} share {key}"
            taken[place, key] = action.name


def test_named_keys_are_textual_names() -> None:
    textual_names = {key.value for key in Keys}
    assert keys.NAMED_KEYS.issubset(textual_names)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("f9", "f9"),
        ("F9", "f9"),
        ("Ctrl+J", "ctrl+j"),
        ("ctrl+shift+Up", "ctrl+shift+up"),
        (" f9 , ctrl+x ", "f9,ctrl+x"),
        (["f9", "f9", "escape"], "f9,escape"),
        ("?", "?"),
        ("question_mark", "question_mark"),
        ("ctrl+", None),
        ("", None),
        ("hyperspace", None),
        ("control+j", None),
        (["f9", 2], None),
        (True, None),
    ],
)
def test_parse_keys(value: object, expected: str | None) -> None:
    if expected is None:
        with pytest.raises(ValueError):
            keys.parse_keys(value)
    else:
        assert keys.parse_keys(value) == expected


def test_clashes_are_only_among_keys_that_work_together() -> None:
    assert keys.clashes({"stop": "ctrl+q"}) == {"stop": "quit"}  # the app's keys work on the chat screen
    assert keys.clashes({"stop": "r"}) == {}  # r is the lists' own key, not the screen's
    assert keys.clashes({"models.refresh": "d"}) == {"models.refresh": "models.delete"}
    assert keys.clashes({"stop": "ctrl+n", "new_conversation": "escape"}) == {}  # a swap


async def test_a_moved_stop_key_stops_a_reply(ollama: FakeOllama, make_tui: MakeTui) -> None:
    ollama.enqueue(ChatScript(tokens=[f" word{i}" for i in range(400)], delay=0.02))
    app = make_tui(keymap=(("stop", "f9"),))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = app.screen
        assert isinstance(screen, ChatScreen)
        await wait_until(pilot, lambda: screen.models)
        app.query_one(PromptInput).text = "talk a lot"
        await pilot.press("enter")
        await wait_until(pilot, lambda: len(screen.turns) == 2 and "word5" in screen.turns[-1].content)
        await pilot.press("escape")  # no longer the stop key
        await pilot.pause()
        assert screen.streaming is not None
        await pilot.press("f9")
        await wait_until(pilot, lambda: screen.streaming is None)
        assert screen.turns[-1].state == TurnState.STOPPED
        assert "word399" not in screen.turns[-1].content
        assert "f9 Stop" in screen_text(app)  # the footer shows the key that now stops


async def test_help_shows_the_moved_keys(make_tui: MakeTui) -> None:
    app = make_tui(keymap=(("stop", "f9"), ("models.refresh", "f5"), ("quit", "ctrl+x")))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f1")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        text = app.screen.query_one(Markdown).source
        assert "| F9 | stop the reply that is arriving" in text
        assert "| Ctrl+X | quit |" in text and "Ctrl+Q" not in text
        assert "| I, P, D, Delete, F5 (in the model picker) |" in text
