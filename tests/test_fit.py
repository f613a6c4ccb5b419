"""Any terminal: below 100 columns the sidebar folds away and Ctrl+B brings it back over the
conversation (Ctrl+B, Esc or leaving it take it away); on a wide screen Ctrl+B hides it."""

from __future__ import annotations

from collections.abc import Callable

from conftest import focused, screen_text, wait_until
from ollama_server import FakeOllama

from app.app import OllamaTui
from app.screens.chat import ChatScreen
from app.widgets.conversation_list import ConversationList
from app.widgets.conversation_view import ConversationView
from app.widgets.model_picker import ModelPicker
from app.widgets.prompt_input import PromptInput

MakeTui = Callable[..., OllamaTui]


async def ready(pilot) -> ChatScreen:
    screen = pilot.app.screen
    assert isinstance(screen, ChatScreen)
    await wait_until(pilot, lambda: screen.models)
    return screen


def sidebar_width(screen: ChatScreen) -> int:
    """Columns the sidebar covers on screen (0: folded away)."""
    sidebar = screen.query_one("#sidebar")
    return sidebar.region.width if sidebar.display else 0


async def test_at_60_by_20_everything_has_the_width_and_ctrl_b_brings_the_sidebar_over_it(
    ollama: FakeOllama, make_tui: MakeTui
) -> None:
    app = make_tui()
    async with app.run_test(size=(60, 20), notifications=True) as pilot:
        screen = await ready(pilot)
        view, prompt = screen.query_one(ConversationView), screen.query_one(PromptInput)
        assert sidebar_width(screen) == 0
        assert view.region.width == 60 and prompt.region.width == 60
        assert screen.query_one("#status").region.width > 30 and prompt.region.height >= 3
        assert "llama3.2:latest" in screen_text(app).splitlines()[0]  # the status line's model

        await pilot.press("ctrl+b")
        await wait_until(pilot, lambda: sidebar_width(screen) == 34)
        assert view.region.width == 60  # over the conversation, not beside it
        assert isinstance(focused(app), ConversationList)
        assert "Conversations" in screen_text(app)
        await pilot.press("ctrl+b")
        await wait_until(pilot, lambda: sidebar_width(screen) == 0)
        assert focused(app) is prompt

        await pilot.press("ctrl+b")
        await wait_until(pilot, lambda: sidebar_width(screen) == 34)
        await pilot.press("escape")
        await wait_until(pilot, lambda: sidebar_width(screen) == 0)
        assert focused(app) is prompt

        await pilot.press("ctrl+o")  # the model picker brings it too, and choosing takes it away
        await wait_until(pilot, lambda: sidebar_width(screen) == 34 and isinstance(focused(app), ModelPicker))
        await pilot.press("down", "enter")
        await wait_until(pilot, lambda: sidebar_width(screen) == 0 and focused(app) is prompt)
        assert screen.current.model == "qwen3:4b"


async def test_on_a_wide_screen_ctrl_b_hides_the_sidebar_and_a_resize_starts_afresh(
    ollama: FakeOllama, make_tui: MakeTui
) -> None:
    app = make_tui()
    async with app.run_test(size=(120, 30), notifications=True) as pilot:
        screen = await ready(pilot)
        view = screen.query_one(ConversationView)
        assert sidebar_width(screen) == 34 and view.region.width == 120 - 34
        await pilot.press("ctrl+b")
        await wait_until(pilot, lambda: sidebar_width(screen) == 0)
        assert view.region.width == 120
        await pilot.press("ctrl+s")  # focusing the list shows it again
        await wait_until(pilot, lambda: sidebar_width(screen) == 34)
        await pilot.press("ctrl+b")
        await wait_until(pilot, lambda: sidebar_width(screen) == 0)
        await pilot.resize_terminal(80, 24)
        await wait_until(pilot, lambda: screen.has_class("-narrow"))
        assert sidebar_width(screen) == 0 and not screen.has_class("-sidebar-toggled")
        await pilot.press("ctrl+b")
        await wait_until(pilot, lambda: sidebar_width(screen) == 34)
        await pilot.resize_terminal(120, 30)  # back to wide: the sidebar is beside the chat again
        await wait_until(pilot, lambda: screen.has_class("-wide"))
        assert sidebar_width(screen) == 34 and not screen.has_class("-sidebar-toggled")
