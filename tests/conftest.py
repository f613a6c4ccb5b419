from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from ollama_server import FakeOllama

from app import debug_log


@pytest.fixture
def ollama() -> Iterator[FakeOllama]:
    """A fake Ollama server, started on a free port and stopped after the test."""
    with FakeOllama() as server:
        yield server


@pytest.fixture
def app_logging() -> Iterator[None]:
    """Put the package loggers back as they were: `debug_log.configure` changes them."""
    loggers = [logging.getLogger(debug_log.APP_LOGGER), logging.getLogger(debug_log.CONTENT_LOGGER)]
    saved = [(logger.handlers[:], logger.level, logger.propagate) for logger in loggers]
    yield
    for logger, (handlers, level, propagate) in zip(loggers, saved, strict=True):
        for handler in logger.handlers:
            if handler not in handlers:
                handler.close()
        logger.handlers[:], logger.level, logger.propagate = handlers, level, propagate


# -- driving the app --------------------------------------------------------------------------

import asyncio  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

from textual.app import App  # noqa: E402
from textual.pilot import Pilot  # noqa: E402

from app.app import OllamaTui, make_app  # noqa: E402
from app.config import Settings  # noqa: E402
from app.widgets.conversation_view import ConversationView  # noqa: E402

SIZE = (100, 30)


@pytest.fixture
def make_tui(ollama: FakeOllama, tmp_path: Path) -> Callable[..., OllamaTui]:
    """Builds the app as the command line does, against the fake server and a temp data dir."""

    def make(**overrides: Any) -> OllamaTui:
        options: dict[str, Any] = {"host": ollama.url, "data_dir": tmp_path / "data"}
        options.update(overrides)
        return make_app(Settings(**options))

    return make


def screen_text(app: App[Any]) -> str:
    """What the person sees, as plain text lines."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


# The app changes these between two checks of a test; mypy would carry the first check's
# narrowing (an isinstance, a `not`) over to the next, and call the next unreachable.


def focused(app: App[Any]) -> object:
    """The focused widget, read afresh."""
    return app.focused


def following(view: ConversationView) -> bool:
    """Whether the view follows the end, read afresh."""
    return view.following


async def wait_until(pilot: Pilot[None], condition: Callable[[], object], timeout: float = 10.0) -> None:
    """Let the app run until `condition()` holds; fail with the screen shown if it never does."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("condition not met; the screen shows:\n" + screen_text(pilot.app))
        await pilot.pause(0.02)
    await pilot.pause()


async def type_text(pilot: Pilot[None], text: str) -> None:
    """Type into the focused input as a paste would arrive (fast, newlines kept)."""
    from textual import events

    pilot.app.post_message(events.Paste(text))  # as the driver does; the app forwards it
    await pilot.pause()


async def command(pilot: Pilot[None], line: str) -> None:
    """Type a line into the input and send it (a /command, as a person would)."""
    await type_text(pilot, line)
    await pilot.press("enter")


def toasts(app: App[Any]) -> list[str]:
    """The notifications' texts, oldest first (Textual keeps them in a private collection)."""
    return [notification.message for notification in app._notifications]
