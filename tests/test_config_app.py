"""The config file in the running app: its settings apply, its problems are shown, and a theme
chosen in the command palette is written back keeping the person's comments and layout."""

from __future__ import annotations

import stat
from pathlib import Path

from conftest import SIZE, screen_text, wait_until
from ollama_server import ChatScript, FakeOllama
from textual.command import CommandPalette
from textual.pilot import Pilot

from app.app import OllamaTui, make_app
from app.cli import build_parser, read_config, settings_from
from app.commands import table
from app.screens.chat import ChatScreen
from app.widgets.conversation_view import ConversationView
from app.widgets.prompt_input import PromptInput

COMMENTED = """\
# ollama-tui settings
host = "127.0.0.1:1"    # overridden by --host in these tests

theme = "nord"          # dark for now
model = "qwen3:4b"

[options]
# a little warmer than the default
temperature = 0.9
"""


def tui(ollama: FakeOllama, tmp_path: Path, config: Path) -> OllamaTui:
    """The app as `ollama-tui --config FILE` builds it (the host from the flag)."""
    args = build_parser().parse_args(
        ["--host", ollama.url, "--data-dir", str(tmp_path / "data"), "--config", str(config)]
    )
    return make_app(settings_from(args, read_config(args)))


def notices(app: OllamaTui) -> list[str]:
    """The text of the notifications shown (a toast wraps long lines on screen)."""
    return [notification.message for notification in app._notifications]


async def ready(pilot: Pilot[None]) -> ChatScreen:
    screen = pilot.app.screen
    assert isinstance(screen, ChatScreen)
    await wait_until(pilot, lambda: screen.models)
    return screen


async def choose_theme(pilot: Pilot[None], name: str) -> None:
    """Ctrl+P, the Theme command, then the theme: as a person does it."""
    app = pilot.app
    await pilot.press("ctrl+p")
    await wait_until(pilot, lambda: isinstance(app.screen, CommandPalette))
    await pilot.press(*"theme")
    await wait_until(pilot, lambda: "Change the current theme" in screen_text(app))
    await pilot.press("enter")
    await wait_until(pilot, lambda: isinstance(app.screen, CommandPalette) and "Search for themes" in screen_text(app))
    await pilot.press(*name)
    await wait_until(pilot, lambda: name in screen_text(app))
    await pilot.press("enter")
    await wait_until(pilot, lambda: app.theme == name and not isinstance(app.screen, CommandPalette))


async def test_a_theme_chosen_in_the_palette_is_written_back_keeping_comments(
    ollama: FakeOllama, tmp_path: Path
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(COMMENTED, encoding="utf-8")
    path.chmod(0o640)
    app = tui(ollama, tmp_path, path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await ready(pilot)
        assert app.theme == "nord" and notices(app) == []
        await choose_theme(pilot, "solarized-light")
        expected = COMMENTED.replace('"nord"', '"solarized-light"')
        await wait_until(pilot, lambda: path.read_text(encoding="utf-8") == expected)
        assert stat.S_IMODE(path.stat().st_mode) == 0o640  # the person's own choice
        assert [entry.name for entry in tmp_path.iterdir() if entry.name.startswith(".")] == []  # no temp left
        app.theme = "textual-dark"  # the action the palette runs, straight
        await wait_until(pilot, lambda: 'theme = "textual-dark"' in path.read_text(encoding="utf-8"))
    assert path.read_text(encoding="utf-8") == COMMENTED.replace('"nord"', '"textual-dark"')


async def test_a_file_without_a_theme_gets_one_before_its_tables(ollama: FakeOllama, tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    original = 'model = "qwen3:4b"  # mine\n\n[options]\ntemperature = 0.9\n'
    path.write_text(original, encoding="utf-8")
    app = tui(ollama, tmp_path, path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        app.theme = "textual-light"
        expected = 'model = "qwen3:4b"  # mine\ntheme = "textual-light"\n\n[options]\ntemperature = 0.9\n'
        await wait_until(pilot, lambda: path.read_text(encoding="utf-8") == expected)


async def test_a_new_file_is_private_to_its_owner(ollama: FakeOllama, tmp_path: Path) -> None:
    folder = tmp_path / "config" / "ollama-tui"
    path = folder / "config.toml"
    app = tui(ollama, tmp_path, path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await ready(pilot)
        app.theme = "gruvbox"
        await wait_until(pilot, path.exists)
        await wait_until(pilot, lambda: path.read_text(encoding="utf-8") == 'theme = "gruvbox"\n')
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700 and stat.S_IMODE(folder.parent.stat().st_mode) == 0o700


async def test_a_linked_file_stays_a_link(ollama: FakeOllama, tmp_path: Path) -> None:
    real = tmp_path / "dotfiles" / "ollama-tui.toml"
    real.parent.mkdir()
    real.write_text('theme = "nord"\n', encoding="utf-8")
    link = tmp_path / "config.toml"
    link.symlink_to(real)
    app = tui(ollama, tmp_path, link)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        app.theme = "dracula"
        await wait_until(pilot, lambda: real.read_text(encoding="utf-8") == 'theme = "dracula"\n')
    assert link.is_symlink()


async def test_a_file_that_does_not_parse_is_never_rewritten(ollama: FakeOllama, tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    broken = 'model = "qwen3:4b"\ntheme = = "nord"\n'
    path.write_text(broken, encoding="utf-8")
    app = tui(ollama, tmp_path, path)
    async with app.run_test(size=(140, 40), notifications=True) as pilot:
        screen = await ready(pilot)
        assert screen.current.model == "qwen3:4b"  # the rest of the file applies
        assert notices(app) == [f"{path}:2: not valid TOML (Invalid value); this line is skipped."]
        await choose_theme(pilot, "textual-light")
        await wait_until(pilot, lambda: any("not valid TOML, so the app leaves it" in text for text in notices(app)))
        assert app.theme == "textual-light"  # used now, just not remembered
    assert path.read_text(encoding="utf-8") == broken


async def test_problems_are_shown_at_start_and_the_rest_applies(ollama: FakeOllama, tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        'theme = "solarised-light"\nmodel = "qwen3:4b"\n[options]\nnum_ctx = -5\ntop_k = 7\n[keys]\nstop = "f99"\n',
        encoding="utf-8",
    )
    app = tui(ollama, tmp_path, path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await ready(pilot)
        (shown,) = notices(app)  # one notification, a line per problem
        assert shown.splitlines() == [
            f"{path}:4: options.num_ctx: num_ctx must be at least 1, not -5. Ignored.",
            f"{path}:7: keys.stop: 'f99' is not a key Textual knows (such as f9, escape, ctrl+j, or a character); ignored.",
            f"{path}:1: theme: no theme is called 'solarised-light' (did you mean solarized-light?); using textual-dark. "
            + "Known: "
            + ", ".join(sorted(app.available_themes))
            + ".",
        ]
        assert "options.num_ctx" in screen_text(app)  # on screen, as plain text
        assert app.theme == "textual-dark" and screen.current.model == "qwen3:4b"
        assert screen.current.options.options == (("top_k", 7),)
        app.query_one(PromptInput).focus()
        await pilot.press("escape")  # the default stop key still works: nothing to stop, nothing breaks
    assert 'theme = "solarised-light"' in path.read_text(encoding="utf-8")  # nobody changed it: not rewritten


async def test_new_conversations_start_with_the_files_options(ollama: FakeOllama, tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(COMMENTED, encoding="utf-8")
    ollama.enqueue(ChatScript(tokens=["Lima."]), ChatScript(tokens=["Lima!"]), ChatScript(tokens=["Quito."]))
    app = tui(ollama, tmp_path, path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        assert screen.current.model == "qwen3:4b"  # the file's model: no conversation or flag names one

        async def ask(question: str) -> None:
            count = len(screen.turns)
            app.query_one(PromptInput).text = question
            await pilot.press("enter")
            await wait_until(pilot, lambda: len(screen.turns) == count + 2 and screen.streaming is None)

        await ask("Capital of Peru?")
        table.run(screen, "/set parameter temperature 0.1")  # this conversation only
        await ask("Sure?")
        await pilot.press("ctrl+n")
        await ask("Capital of Ecuador?")
        await wait_until(pilot, lambda: len(app.store.conversations(10)) == 2)
        saved = {info.title: info.options for info in app.store.conversations(10)}
    sent = [(body["model"], body.get("options")) for body in ollama.bodies("/api/chat")]
    assert sent == [
        ("qwen3:4b", {"temperature": 0.9}),
        ("qwen3:4b", {"temperature": 0.1}),
        ("qwen3:4b", {"temperature": 0.9}),
    ]
    assert sorted(saved.values()) == [(("temperature", 0.1),), (("temperature", 0.9),)]


async def test_code_follows_the_theme(ollama: FakeOllama, tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('theme = "textual-light"\n', encoding="utf-8")
    ollama.enqueue(ChatScript(tokens=["```python\n", "x = 1\n", "```\n"]))
    app = tui(ollama, tmp_path, path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        view = app.query_one(ConversationView)
        assert view.code_theme == "friendly"
        app.query_one(PromptInput).text = "code please"
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen.streaming is None and len(screen.turns) == 2)
        light = [view.render_line(row) for row in range(view.size.height)]
        app.theme = "dracula"
        await wait_until(pilot, lambda: view.code_theme == "monokai")
        await pilot.pause()
        dark = [view.render_line(row) for row in range(view.size.height)]
        row = next(index for index, strip in enumerate(light) if "x = 1" in strip.text)
        backgrounds = {segment.style.bgcolor for segment in light[row] if segment.style and "1" in segment.text}
        assert backgrounds != {segment.style.bgcolor for segment in dark[row] if segment.style and "1" in segment.text}
