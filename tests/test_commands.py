"""Slash commands: one table for dispatch, /help and Tab completion, and what each does in the
running app against the fake server."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from types import ModuleType

from conftest import SIZE, focused, screen_text, type_text, wait_until
from markdown_it import MarkdownIt
from ollama_server import FakeOllama

from app.app import OllamaTui
from app.commands import basics, conversation, copying, files, models, settings, tools
from app.commands.table import COMMANDS, complete, hint, parse
from app.screens.chat import ChatScreen
from app.screens.help import HelpScreen, help_text
from app.screens.search import SearchScreen
from app.widgets.prompt_input import PromptInput

MakeTui = Callable[..., OllamaTui]
AREAS: tuple[ModuleType, ...] = (basics, conversation, copying, files, models, settings, tools)


def handlers(module: ModuleType) -> set[Callable[..., None]]:
    """The module's command handlers: public functions taking (chat, argument: str)."""
    found: set[Callable[..., None]] = set()
    for name, function in inspect.getmembers(module, inspect.isfunction):
        if name.startswith("_") or function.__module__ != module.__name__:
            continue
        parameters = list(inspect.signature(function).parameters.values())
        if len(parameters) == 2 and parameters[1].annotation == "str" and not inspect.iscoroutinefunction(function):
            found.add(function)
    return found


def test_every_command_has_a_handler_and_every_handler_a_command() -> None:
    in_table = [command.handler for command in COMMANDS]
    written = set().union(*(handlers(module) for module in AREAS))
    assert len(written) >= 20
    assert set(in_table) == written
    assert len(in_table) == len(set(in_table))  # one command per handler: aliases are names, not rows


def test_no_name_means_two_commands() -> None:
    names = [name for command in COMMANDS for name in command.names]
    assert len(names) == len(set(names))
    assert all(name.startswith("/") and name == name.lower() and " " not in name for name in names)
    for command in COMMANDS:
        for name in command.names:
            assert parse(f"  {name.upper()}   some words ") == (command, name.upper(), "some words")
    assert parse("/nonsense here") == (None, "/nonsense", "here")


def test_help_lists_exactly_the_table() -> None:
    """Parsed as the help dialog's Markdown widget parses it: each row is one command, with
    every name, its usage (a `|` in it included) and its summary."""
    tokens = MarkdownIt("gfm-like").parse(help_text(ChatScreen.BINDINGS))
    start = next(i for i, token in enumerate(tokens) if token.type == "table_open")
    first_table = tokens[start : next(i for i, token in enumerate(tokens) if token.type == "table_close")]
    cells = [token.content for token in first_table if token.type == "inline"]
    rows = list(zip(cells[2::2], cells[3::2], strict=True))
    assert rows == [
        (
            ", ".join(f"`{name} {command.usage}`" if command.usage else f"`{name}`" for name in command.names),
            command.summary,
        )
        for command in COMMANDS
    ]


def test_tab_completion_works_as_in_a_shell() -> None:
    model = complete("/mo")
    assert (model.text, model.names) == ("/model ", ("/model",))
    assert hint(model) == "/model NAME · use another model from the next message on (alone: pick one)"
    assert complete("/MO").text == "/model "
    several = complete("/se")
    assert (several.text, several.names) == ("/se", ("/search", "/set", "/settings"))
    assert hint(several) == "/search  /set  /settings"
    assert complete("/sett").text == "/settings "
    both = complete("/set")  # a whole name that starts another: a space picks it, another letter the other
    assert (both.text, both.names) == ("/set", ("/set", "/settings"))
    assert complete("/e").names == ("/edit", "/exit", "/export") and complete("/e").text == "/e"
    nothing = complete("/xyz")
    assert (nothing.text, nothing.names) == ("/xyz", ()) and "/help" in hint(nothing)
    assert set(complete("/").names) == {name for command in COMMANDS for name in command.names}


async def ready(pilot) -> ChatScreen:
    screen = pilot.app.screen
    assert isinstance(screen, ChatScreen)
    await wait_until(pilot, lambda: screen.models)
    return screen


async def test_tab_completes_a_command_in_the_input(ollama: FakeOllama, make_tui: MakeTui) -> None:
    app = make_tui()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await ready(pilot)
        prompt = app.screen.query_one(PromptInput)
        await type_text(pilot, "/se")
        await pilot.press("tab")
        assert prompt.text == "/se" and isinstance(focused(app), PromptInput)
        assert "/search  /set  /settings" in screen_text(app)  # on the input's border
        await pilot.press("a", "tab")
        assert prompt.text == "/search " and prompt.cursor_location == (0, len("/search "))
        assert "/search [WORDS] · search all conversations" in screen_text(app)
        await type_text(pilot, "binary")
        assert "/search [WORDS]" in screen_text(app)  # the usage stays while the argument is typed
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, SearchScreen))
        search = app.screen
        assert isinstance(search, SearchScreen) and search.query_text == "binary"
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen))
        assert prompt.text == "" and "/search [WORDS]" not in screen_text(app)


async def test_tab_outside_a_command_moves_the_focus(ollama: FakeOllama, make_tui: MakeTui) -> None:
    app = make_tui()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await ready(pilot)
        await type_text(pilot, "/model llama")  # an argument: nothing more to complete
        await pilot.press("tab")
        assert not isinstance(focused(app), PromptInput)
        assert app.screen.query_one(PromptInput).text == "/model llama"


async def test_a_hint_goes_once_the_text_no_longer_fits_it(ollama: FakeOllama, make_tui: MakeTui) -> None:
    app = make_tui()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await ready(pilot)
        await type_text(pilot, "/x")
        await pilot.press("tab")
        assert "no such command · /help lists them" in screen_text(app)
        await pilot.press("backspace")
        assert "no such command" not in screen_text(app)


async def test_commands_run_by_any_name_and_unknown_ones_say_so(ollama: FakeOllama, make_tui: MakeTui) -> None:
    app = make_tui()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await ready(pilot)
        await type_text(pilot, "/LOAD qwen3:4b")  # an alias, in capitals
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen.current.model == "qwen3:4b")
        await type_text(pilot, "/frobnicate now")
        await pilot.press("enter")
        unknown = "Unknown command /frobnicate. Type /help for the list."
        await wait_until(pilot, lambda: any(note.message == unknown for note in app._notifications))
        await type_text(pilot, "/?")
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
