"""Hostile and odd text, as model output and as the person's input, through the real app.

Terminal escape sequences (colours, cursor moves, window titles, OSC 52 clipboard writes,
hyperlinks), control characters, Rich/Textual markup, CJK, right-to-left text, emoji and huge
lines: nothing may crash the app or reach the terminal as a control, the visible text must be
there, and the store must hold exactly what was sent and received.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import screen_text, type_text, wait_until
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from ollama_server import ChatScript, FakeOllama, make_model
from rich.cells import cell_len
from textual.app import App
from textual.pilot import Pilot
from textual.strip import Strip
from textual.widgets import Input

from app.app import OllamaTui, make_app
from app.config import Settings
from app.conversation import ConversationInfo, Turn, TurnState
from app.export import free_path, from_json, to_json, to_markdown
from app.screens.chat import ChatScreen
from app.screens.dialogs import AskText
from app.store import Store
from app.text import sanitize
from app.widgets.conversation_view import ConversationView
from app.widgets.prompt_input import PromptInput

SIZE = (120, 60)  # tall enough that a whole generated exchange is on screen at once
EXAMPLES = 30  # generated examples per run (each a model reply and a person's message)
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")  # C0, DEL, C1: none may reach the terminal
IN_TEXT_FILES = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # as CONTROL, but tab and newline are text

ESCAPES = [
    "\x1b[31m", "\x1b[0m", "\x1b[1;44m", "\x1b[2J", "\x1b[H", "\x1b[10;20H", "\x1b[?1049h", "\x1b[6n", "\x1b[3A",
    "\x1b]0;pwned title\x07", "\x1b]2;pwned\x1b\\", "\x1b]52;c;cm0gLXJmIH4K\x07", "\x1b]52;p;?\x07",
    "\x1b]8;;https://evil.example/\x1b\\click me\x1b]8;;\x1b\\", "\x1bP+q544e\x1b\\", "\x1b_apc\x1b\\",
    "\x9b31m", "\x9d0;c1 title\x9c", "\x1bc", "\x1b7", "\x1b", "\x1b[", "\x1b]0;unterminated",
]  # fmt: skip
CONTROLS = ["\x00", "\x07", "\x08\x08", "\r", "\r\n", "\x0b", "\x0c", "\x7f", "\x85", "\x1c", "\t"]
MARKUP = [
    "[bold red]markup[/]", "[link=https://evil.example]link[/link]", "[@click=app.quit]quit[/]", "[/]",
    "$accent", "\\[escaped]", "[red", "<b>html</b>", "*em* **strong** `code`", "# heading", "> quote",
    "| a | b |\n|---|---|\n| 1 | 2 |", "```\nfenced\n```",
]  # fmt: skip
SCRIPTS = [
    "漢字かな交じり文", "한국어 텍스트", "שלום עולם", "مرحبا بالعالم", "\u202eRTL override\u202c", "\u200b\u200d\ufeff",
    "e\u0301 n\u0303", "👩‍👩‍👧‍👦", "🇺🇳", "🏳️‍🌈", "\u2028", "\u2029", "ｆｕｌｌｗｉｄｔｈ", "\U0001f600" * 3,
]  # fmt: skip
FRAGMENTS = ESCAPES + CONTROLS + MARKUP + SCRIPTS
# An escape string (OSC, DCS, SOS, PM, APC) hides what follows up to a terminator that may
# never come, so markers after one are not looked for until text.py is fixed: see
# test_text_after_an_unterminated_escape_string_is_shown.
# Random text from all of Unicode except surrogates, and without "\n" and "\r" so that an
# exchange fits on the screen (the fragments bring their own).
RANDOM = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\n\r"), max_size=30)
PIECES = st.lists(st.one_of(st.sampled_from(FRAGMENTS), RANDOM), min_size=1, max_size=8)


@st.composite
def model_reply(draw: st.DrawFn) -> list[str]:
    """Tokens of a reply: hostile pieces, cut at random places (an escape sequence may span two
    tokens), with marker paragraphs whose words must be visible whatever surrounds them."""
    pieces = draw(PIECES)
    for number in range(3):
        pieces.insert(draw(st.integers(0, len(pieces))), f"\n\nZQ{number}X\n\n")
    text = "".join(pieces)
    cuts = sorted(draw(st.sets(st.integers(1, max(1, len(text) - 1)), max_size=12)))
    return [text[start:end] for start, end in zip([0, *cuts], [*cuts, len(text)], strict=True) if text[start:end]]


# The marker first: a message starting with "/" would be a command.
user_message = PIECES.map(lambda pieces: "ZQUSERX " + "".join(pieces))


@pytest.fixture(scope="module")
def server() -> Iterator[FakeOllama]:
    with FakeOllama() as fake:
        yield fake


def chat(app: App[Any]) -> ChatScreen:
    screen = app.screen
    assert isinstance(screen, ChatScreen)
    return screen


def view_strips(app: OllamaTui) -> list[Strip]:
    """The screen lines where the conversation is, cropped to it (by cells, not characters)."""
    region = app.query_one(ConversationView).region
    strips = list(app.screen._compositor.render_strips())[region.y : region.bottom]
    return [strip.crop(region.x, region.right) for strip in strips]


def view_text(app: OllamaTui) -> str:
    return " ".join(" ".join(strip.text.replace("▎", " ").split()) for strip in view_strips(app))


def assert_safe_screen(app: OllamaTui) -> None:
    """Nothing a terminal would act on: no control characters, all lines exactly the screen's
    width (wide characters counted right), no links or click actions in the conversation."""
    width = app.size.width
    for strip in app.screen._compositor.render_strips():
        for segment in strip:
            assert not CONTROL.search(segment.text), f"control character drawn: {segment.text!r}"
        assert strip.cell_length == width
    for strip in view_strips(app):
        for segment in strip:
            style = segment.style
            if style is not None:
                assert not style.link and "@click" not in style.meta, f"live link drawn: {segment.text!r}"


def lines(text: str) -> list[str]:
    """The lines of a text, trailing empty ones aside (the input drops a form-feed-ended one)."""
    parts = text.splitlines()
    while parts and not parts[-1]:
        parts.pop()
    return parts


async def run_exchange(server: FakeOllama, data_dir: Path, message: str, reply: list[str]) -> None:
    server.enqueue(ChatScript(tokens=reply))
    app = make_app(Settings(host=server.url, data_dir=data_dir))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = chat(app)
        await wait_until(pilot, lambda: screen.models)
        await type_text(pilot, message)
        held = app.query_one(PromptInput).text
        # The input keeps the text, except that every kind of line break becomes "\n".
        assert lines(held) == lines(message)
        await pilot.press("enter")
        await wait_until(pilot, lambda: len(screen.turns) == 2 and screen.turns[1].state == TurnState.COMPLETE)
        assert screen.conversation is not None
        conversation_id = screen.conversation.id
        await wait_until(pilot, lambda: [t.state for t in app.store.turns(conversation_id)] == [TurnState.COMPLETE] * 2)
        user, answer = app.store.turns(conversation_id)
        assert server.bodies("/api/chat")[-1]["messages"] == [{"role": "user", "content": held}]
        assert user.content == held  # stored exactly as sent
        assert answer.content == "".join(reply)  # stored exactly as received
        await pilot.pause()
        assert_safe_screen(app)
        shown = view_text(app)
        for marker in ("ZQUSERX", "ZQ0X", "ZQ1X", "ZQ2X"):
            assert marker in shown, marker


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(message=user_message, reply=model_reply())
@example(message="ZQUSERX " + "".join(FRAGMENTS[:24]), reply=["\n\nZQ0X\n\nZQ1X\n\n", *FRAGMENTS[24:], "\n\nZQ2X\n\n"])
@example(message="ZQUSERX " + " ".join(FRAGMENTS[24:]), reply=[*FRAGMENTS[:24], "\n\nZQ0X\n\nZQ1X\n\nZQ2X\n\n"])
def test_hostile_text_is_shown_safely_and_stored_exactly(server: FakeOllama, message: str, reply: list[str]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(run_exchange(server, Path(folder), message, reply))


async def test_text_after_an_unterminated_escape_string_is_shown(server: FakeOllama, tmp_path: Path) -> None:
    server.enqueue(
        ChatScript(tokens=["before ", "\x1b]0;no terminator", "\n\nstill here\n\n", "\x9d8-bit", "\n\nand here"])
    )
    app = make_app(Settings(host=server.url, data_dir=tmp_path))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await exchange(pilot, "hi")
        assert_safe_screen(app)
        assert "before" in view_text(app)
        assert "still here" in view_text(app) and "and here" in view_text(app)


# -- huge and wide ----------------------------------------------------------------------------


async def exchange(pilot: Pilot[None], text: str, replies: int = 1) -> ChatScreen:
    screen = chat(pilot.app)
    await wait_until(pilot, lambda: screen.models)
    await type_text(pilot, text)
    await pilot.press("enter")
    await wait_until(
        pilot, lambda: len(screen.turns) == 2 * replies and screen.turns[-1].state == TurnState.COMPLETE, timeout=60
    )
    return screen


@pytest.mark.parametrize(
    "message",
    [("a 1 MB paste", "paste " * 166_667), ("10,000 lines", "\n".join(f"line {n}" for n in range(10_000)))],
    ids=lambda case: case[0],
)
async def test_huge_messages_are_sent_and_stored_whole(
    message: tuple[str, str], server: FakeOllama, tmp_path: Path
) -> None:
    text = message[1]
    app = make_app(Settings(host=server.url, data_dir=tmp_path))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await exchange(pilot, text)
        assert server.bodies("/api/chat")[-1]["messages"][0]["content"] == text
        assert screen.conversation is not None
        conversation_id = screen.conversation.id
        await wait_until(pilot, lambda: app.store.turns(conversation_id)[0].content == text)
        assert_safe_screen(app)
        await type_text(pilot, "and a small one")  # still answers
        await pilot.press("enter")
        await wait_until(pilot, lambda: len(screen.turns) == 4 and screen.turns[-1].state == TurnState.COMPLETE)


WIDE = """\
漢字かな交じり文と絵文字 👩‍👩‍👧‍👦🇺🇳 が並ぶ行、とても長いのでこの行は画面の幅で折り返されなければならない。折り返し。
שלום עולם — مرحبا بالعالم — mixed ltr and עברית in one line
e\u0301 n\u0303 a\u0308 combining marks, ｆｕｌｌｗｉｄｔｈ letters

| 名前 | 🍣 | עברית |
|---|---|---|
| 寿司 | 🍣🍣 | שלום |
| ラーメン | 🍜 | עולם |
"""


async def test_wide_and_right_to_left_text_keeps_the_layout(server: FakeOllama, tmp_path: Path) -> None:
    server.enqueue(ChatScript(tokens=list(WIDE)))  # one character a token: graphemes split too
    app = make_app(Settings(host=server.url, data_dir=tmp_path))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await exchange(pilot, "東京 🗼 שלום")
        assert_safe_screen(app)  # includes: every line exactly the screen's width in cells
        shown = view_text(app)
        for words in ("東京 🗼 שלום", "שלום עולם", "مرحبا بالعالم", "寿司", "🍣🍣", "ラーメン", "ｆｕｌｌｗｉｄｔｈ"):
            assert words in shown, words  # right-to-left text stays in its stored (logical) order
        rows = [strip.text for strip in view_strips(app) if any(food in strip.text for food in "🍣🍜")]
        assert len(rows) == 3
        for column in ("🍣🍜", "עש"):  # where the 2nd and 3rd columns start, in cells
            starts = {cell_len(row[: min(row.index(c) for c in column if c in row)]) for row in rows}
            assert len(starts) == 1, (column, rows)


async def test_hostile_names_from_the_server_and_the_database(server: FakeOllama, tmp_path: Path) -> None:
    """Model names come from the server and titles from the database (an import, say)."""
    hostile = "\x1b]0;pwned\x07\x1b[31m[bold]x[/bold]\x9b2J"
    server.models.append(make_model(f"evil{hostile}:latest", "llama", "1B", hostile, 1))
    with Store.open(tmp_path) as store:
        info = store.create_conversation(f"m{hostile}", title=f"Title {hostile}")
        store.add_turn(info.id, Turn("user", f"hi {hostile}"))
        store.add_turn(
            info.id, Turn("assistant", f"reply {hostile}", model=f"m{hostile}", state=TurnState.ERROR, error=hostile)
        )
    app = make_app(Settings(host=server.url, data_dir=tmp_path, continue_last=True))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_until(pilot, lambda: chat(app).models)
        await wait_until(pilot, lambda: "Title" in screen_text(app) and "evil" in screen_text(app))
        assert_safe_screen(app)
        assert "[bold]x[/bold]" in screen_text(app)  # markup shown as typed, not applied
    server.models.pop()


async def test_input_never_draws_control_characters(server: FakeOllama, tmp_path: Path) -> None:
    """A paste, or the last message recalled with Up to edit it (from the database, where an
    import may have put anything), must not reach the terminal as escape sequences."""
    with Store.open(tmp_path) as store:
        info = store.create_conversation("llama3.2:latest")
        store.add_turn(info.id, Turn("user", "recalled \x1b]0;pwned\x07\x1b[41mred"))
    app = make_app(Settings(host=server.url, data_dir=tmp_path, continue_last=True))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_until(pilot, lambda: chat(app).models)
        await type_text(pilot, "pasted \x9b2J \x7f \x1b[2J")
        await pilot.pause()
        assert_safe_screen(app)
        app.query_one(PromptInput).clear()
        await pilot.press("up")
        await pilot.pause()
        assert app.query_one(PromptInput).text.startswith("recalled")
        assert_safe_screen(app)


async def test_rename_dialog_never_draws_control_characters(server: FakeOllama, tmp_path: Path) -> None:
    with Store.open(tmp_path) as store:
        info = store.create_conversation("llama3.2:latest", title="Imported \x1b]0;pwned\x07\x1b[41mtitle")
        store.add_turn(info.id, Turn("user", "hi"))
    app = make_app(Settings(host=server.url, data_dir=tmp_path, continue_last=True))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_until(pilot, lambda: chat(app).models)
        await type_text(pilot, "/rename")
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, AskText))
        await pilot.pause()
        assert "Imported" in app.screen.query_one(Input).value
        assert_safe_screen(app)


# -- exports ----------------------------------------------------------------------------------

HOSTILE = "".join(FRAGMENTS)


def hostile_conversation() -> tuple[ConversationInfo, list[Turn]]:
    info = ConversationInfo(7, f"../../etc/passwd {HOSTILE}", 1.0, 2.0, f"m{HOSTILE}", system=HOSTILE)
    turns = [
        Turn("user", HOSTILE, created_at=1.0),
        Turn("assistant", HOSTILE, model="m", thinking=HOSTILE, created_at=2.0),
    ]
    return info, turns


def test_exports_are_safe_to_print_and_json_keeps_everything(tmp_path: Path) -> None:
    info, turns = hostile_conversation()
    markdown = to_markdown(info, turns)
    assert not IN_TEXT_FILES.search(markdown)
    document = to_json(info, turns)
    assert not IN_TEXT_FILES.search(document)  # escaped: `cat` shows them as text
    back_info, back_turns = from_json(document)
    assert [(t.role, t.content, t.thinking) for t in back_turns] == [(t.role, t.content, t.thinking) for t in turns]
    assert (back_info.title, back_info.system) == (info.title, info.system)
    name = free_path(tmp_path, info, "md")
    assert name.parent == tmp_path and re.fullmatch(r"[a-z0-9-]+\.md", name.name), name


def run_cli(*args: str, cwd: Path, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HOME": str(home), "XDG_DATA_HOME": str(home / "share")}
    return subprocess.run(
        [sys.executable, "-m", "app", *args], capture_output=True, text=True, timeout=60, cwd=cwd, env=env
    )


def test_command_line_export_never_overwrites_without_force(tmp_path: Path) -> None:
    data = tmp_path / "data"
    info, turns = hostile_conversation()
    with Store.open(data) as store:
        conversation = store.import_conversation(info, turns)
    existing = tmp_path / "existing.md"
    existing.write_text("keep me")
    dangling = tmp_path / "dangling.md"
    dangling.symlink_to(tmp_path / "elsewhere.md")
    export = ("--data-dir", str(data), "sessions", "export", str(conversation))
    for target in (existing, dangling):
        refused = run_cli(*export, "-o", str(target), cwd=tmp_path, home=tmp_path)
        assert refused.returncode == 1 and "already exists; add --force" in refused.stderr
    assert existing.read_text() == "keep me" and not (tmp_path / "elsewhere.md").exists()
    into_folder = run_cli(*export, "-o", str(tmp_path), "--force", cwd=tmp_path, home=tmp_path)
    assert (
        into_folder.returncode == 1 and "Is a directory" in into_folder.stderr and "Traceback" not in into_folder.stderr
    )
    forced = run_cli(*export, "--format", "json", "-o", str(existing), "--force", cwd=tmp_path, home=tmp_path)
    assert forced.returncode == 0
    assert from_json(existing.read_text())[1][0].content == HOSTILE
    printed = run_cli(*export, cwd=tmp_path, home=tmp_path)  # to stdout, e.g. a terminal
    assert printed.returncode == 0 and not IN_TEXT_FILES.search(printed.stdout)


async def test_in_app_export_never_overwrites_and_resolves_paths(
    server: FakeOllama, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(work)
    info, turns = hostile_conversation()
    with Store.open(tmp_path / "data") as store:
        store.import_conversation(info, turns)
    (home / "taken.md").write_text("keep me")
    app = make_app(Settings(host=server.url, data_dir=tmp_path / "data", continue_last=True))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_until(pilot, lambda: chat(app).models)
        for command in ("/export md ~/taken.md", "/export json ~/new.json", "/export md sub/../here.md", "/export md"):
            await type_text(pilot, command)
            await pilot.press("enter")
        await wait_until(pilot, lambda: "already exists" in screen_text(app))
        assert_safe_screen(app)
    assert (home / "taken.md").read_text() == "keep me"
    assert json.loads((home / "new.json").read_text())["messages"][0]["content"] == HOSTILE
    created = sorted(path.name for path in work.iterdir())
    assert len(created) == 1 and re.fullmatch(r"etc-passwd-[a-z0-9-]*\d+\.md", created[0]), created  # title made safe
    assert not (work / "sub").exists()  # "sub/../here.md" names a folder that does not exist: refused
    assert sanitize(HOSTILE) in (work / created[0]).read_text()
