"""Item 9, headless: each reply shape through the whole app at full speed, and the frame it ends on.

The app runs under `App.run_test` at 140x45 against the fake server in a process of its own,
which sends the whole reply as fast as it can. Timed from the Enter key to the first frame
composed once the reply's last token was in the view, and to the frame with its final state.
Every update the compositor hands over is kept and afterwards applied in order to a grid of
cells (`screen_mirror.py`): the screen a terminal would show. Its rows inside the conversation
view (the scrollbar left out) are compared cell by cell, styles included, with those of a
second app started fresh on the saved conversation (`--continue`), which draws the whole reply
at once. A row the streaming view changed but never repainted keeps
its old cells on that screen and fails the check.
"""

from __future__ import annotations

import asyncio
import gc
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

from textual import events
from textual.app import App
from textual.geometry import Region

from app.app import make_app
from app.config import Settings
from app.conversation import TurnState
from app.screens.chat import ChatScreen
from app.widgets.conversation_view import ConversationView
from app.widgets.prompt_input import PromptInput
from benchmarks.app_stream import until
from benchmarks.corpus import shape_reply
from benchmarks.fake_server import ServerProcess
from benchmarks.frames import FrameClock
from benchmarks.screen_mirror import Cell, ScreenMirror, text

SIZE = (140, 45)
QUIET = 0.3  # seconds without a frame: the app has drawn all it will
LIMIT = 1200.0  # seconds a reply may take to be shown before the run is called broken


@dataclass(frozen=True, slots=True)
class ViewRun:
    shape: str
    tokens: int
    chars: int
    last_token: float  # Enter to the first frame with the whole text in the view
    finished: float  # Enter to the first frame with the reply's final state
    cpu: float  # this process's CPU seconds from Enter to that frame
    complete: bool  # the app holds the reply's whole text, finished and saved
    difference: str  # where the final screen differs from the fresh one; "" when identical

    @property
    def identical(self) -> bool:
        return not self.difference


@dataclass(frozen=True, slots=True)
class _Screen:
    """The conversation view's part of a mirrored screen, and the line at its top."""

    rows: list[list[Cell]]
    top: int
    end: int  # the line after the conversation's last


async def _quiet(frames: FrameClock) -> None:
    deadline = time.perf_counter() + LIMIT
    while not frames.times or time.perf_counter() - frames.times[-1] < QUIET:
        if time.perf_counter() > deadline:
            raise TimeoutError("the app never stopped drawing")
        await asyncio.sleep(0.02)


def _view_screen(app: App[None], frames: FrameClock) -> _Screen:
    view = app.query_one(ConversationView)
    region = view.scrollable_content_region
    mirror = ScreenMirror(*SIZE).apply_all(frames.updates)
    end = view.virtual_size.height - view._slack  # less the blank rows a streaming reply left below
    return _Screen(mirror.region(Region(region.x, region.y, region.width, region.height)), view.scroll_offset.y, end)


async def _ready(app: App[None]) -> ChatScreen:
    screen = app.screen
    assert isinstance(screen, ChatScreen)
    await until(lambda: screen.models)
    app.query_one(PromptInput).cursor_blink = False  # no frames but the reply's
    return screen


async def _streamed(server: ServerProcess, shape: str, scale: float, data: Path) -> tuple[ViewRun, _Screen]:
    reply = shape_reply(shape, scale)
    app = make_app(Settings(host=server.url, data_dir=data))
    frames = FrameClock(app, keep=True)  # before it runs: the first frame is the whole screen
    async with app.run_test(size=SIZE) as pilot:
        screen = await _ready(app)
        app.post_message(events.Paste("Show me all of it."))
        await pilot.pause()
        server.script_shape(shape, scale, 0.0, 0.0, 0.0)

        def has_all() -> bool:
            return len(screen.turns) == 2 and screen.turns[1].content == reply.text

        def finished() -> bool:
            return len(screen.turns) == 2 and screen.turns[1].state is not TurnState.STREAMING

        last_frame, final_frame = frames.first_frame_where(has_all), frames.first_frame_where(finished)
        cpu = time.process_time()
        started = time.perf_counter()
        await pilot.press("enter")
        last_token = await frames.wait(last_frame, timeout=LIMIT)
        final = await frames.wait(final_frame, timeout=LIMIT)
        cpu = time.process_time() - cpu
        saved: list[bool] = []  # appended to on the store writer's thread, behind the final save
        app.writer.submit(lambda: saved.append(True))
        await until(lambda: saved, LIMIT)
        await _quiet(frames)
        turn = screen.turns[1]
        assert screen.conversation is not None
        row = app.store.turns(screen.conversation.id)[-1]
        complete = turn.content == row.content == reply.text and row.state is TurnState.COMPLETE
        seen = _view_screen(app, frames)
    run = ViewRun(shape, len(reply.tokens), len(reply.text), last_token - started, final - started, cpu, complete, "")
    return run, seen


async def _fresh(server: ServerProcess, data: Path) -> _Screen:
    """The saved conversation opened by a new app: its end drawn whole, at the bottom."""
    app = make_app(Settings(host=server.url, data_dir=data, continue_last=True))
    frames = FrameClock(app, keep=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _ready(app)
        await until(lambda: len(screen.turns) == 2)
        await _quiet(frames)
        view = app.query_one(ConversationView)
        for _ in range(3):
            # An opened conversation whose drawn reply came out shorter than estimated keeps
            # blank rows below its end; the comparison needs its last lines on screen.
            shown = _view_screen(app, frames)
            bottom = max(0, shown.end - len(shown.rows))
            if shown.top <= bottom:
                return shown
            view.scroll_to(y=bottom)
            await pilot.pause()
            await _quiet(frames)
        return _view_screen(app, frames)


def _difference(seen: _Screen, fresh: _Screen) -> str:
    """Where the streamed view's final screen differs from the fresh one's. Lines are matched
    by their distance from the end: above the screen, parts of a long reply never drawn have
    estimated heights, which differ between the two views. Below the end the streamed view
    may show blank rows (a reply that grew past the bottom scrolls a quarter page ahead):
    they must equal the fresh view's last row, the blank line after the last turn."""
    height = len(fresh.rows)
    blank = fresh.rows[fresh.end - 1 - fresh.top]
    for y, row in enumerate(seen.rows):
        line = seen.top + y
        fresh_line = fresh.end - (seen.end - line)
        if line >= seen.end:
            expected = blank
        elif fresh.top <= fresh_line < fresh.top + height:
            expected = fresh.rows[fresh_line - fresh.top]
        else:
            return f"line {line} is not on the fresh screen (lines {fresh.top} to {fresh.top + height - 1})"
        if row != expected:
            column = next((x for x, (a, b) in enumerate(zip(row, expected, strict=True)) if a != b), 0)
            return (
                f"screen row {y} ({seen.end - line} lines above the end), column {column}: "
                f"{text(row).rstrip()!r}, drawn whole: {text(expected).rstrip()!r}"
            )
    return ""


async def view_once(server: ServerProcess, shape: str, scale: float) -> ViewRun:
    gc.collect()
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder)
        run, seen = await _streamed(server, shape, scale, data)
        fresh = await _fresh(server, data)
    return replace(run, difference=_difference(seen, fresh))


def run_all(server: ServerProcess, shapes: list[str], scale: float) -> list[ViewRun]:
    async def go() -> list[ViewRun]:
        return [await view_once(server, shape, scale) for shape in shapes]

    return asyncio.run(go())
