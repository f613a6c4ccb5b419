"""The model dialogs (pull, details and delete, settings) and the context meter, each hosted
in a small app against the fake Ollama server through the real client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any, ClassVar

import pytest
from conftest import screen_text, wait_until
from ollama_server import FakeOllama
from textual.app import App, ComposeResult
from textual.color import Color
from textual.message import Message
from textual.screen import Screen
from textual.types import CSSPathType
from textual.widgets import Input, ProgressBar, Static, Switch, TextArea
from textual.widgets._progress_bar import Bar

from app.chat_options import ChatOptions
from app.client import OllamaClient
from app.paths import STYLES_DIR
from app.protocol import ChatRequest, ChatStats, PullProgress
from app.screens.dialogs import Confirm
from app.screens.model_details import ModelDetailsScreen
from app.screens.pull import PullScreen, PullTracker, format_eta
from app.screens.settings import SettingsScreen
from app.widgets.context_meter import (
    ContextMeter,
    context_fraction,
    context_level,
    context_limit,
    context_used,
    meter_text,
)

SIZE = (100, 30)


class Home(Screen[None]):
    """Stands in for the chat screen: keeps what a background pull reports."""

    def __init__(self) -> None:
        super().__init__()
        self.reports: list[Message] = []

    def compose(self) -> ComposeResult:
        yield ContextMeter(id="meter")

    def on_pull_screen_progressed(self, event: PullScreen.Progressed) -> None:
        self.reports.append(event)

    def on_pull_screen_ended(self, event: PullScreen.Ended) -> None:
        self.reports.append(event)


class Host(App[None]):
    CSS_PATH: ClassVar[CSSPathType] = [STYLES_DIR / "app.tcss", STYLES_DIR / "models.tcss"]

    def __init__(self) -> None:
        super().__init__()
        self.home = Home()
        self.results: list[Any] = []

    def get_default_screen(self) -> Screen[None]:
        return self.home

    def open(self, screen: Screen[Any]) -> None:
        self.push_screen(screen, self.results.append)


@pytest.fixture
async def client(ollama: FakeOllama) -> AsyncIterator[OllamaClient]:
    async with OllamaClient(ollama.url) as client:
        yield client


def text_of(app: App[Any], selector: str) -> str:
    """The text of one Static on the current screen; empty until it is there."""
    found = app.screen.query(selector)
    return str(found.only_one(Static).render()) if found else ""


def downloading(app: App[Any]) -> bool:
    status = text_of(app, "#pull-status")
    return status.startswith("pulling ") and status != "pulling manifest"


# -- pull -------------------------------------------------------------------------------------


async def test_pull_shows_progress_and_ends_with_the_model_installed(ollama: FakeOllama, client: OllamaClient) -> None:
    ollama.pull_delay = 0.1
    seen: list[PullScreen.Progressed] = []

    class Recorded(PullScreen):
        def on_pull_screen_progressed(self, event: PullScreen.Progressed) -> None:
            seen.append(event)

    app = Host()
    async with app.run_test(size=SIZE) as pilot:
        assert ollama.find("gemma3:1b") is None
        app.open(Recorded(client, "gemma3:1b"))
        await wait_until(pilot, lambda: downloading(app))
        await wait_until(pilot, lambda: "%" in screen_text(app) and "MB" in screen_text(app))
        assert "Pulling gemma3:1b" in screen_text(app)
        await wait_until(
            pilot,
            lambda: text_of(app, "#pull-status") in ("verifying sha256 digest", "writing manifest"),
        )
        layer, overall = app.screen.query(ProgressBar)
        assert layer.percentage == overall.percentage == 1.0
        assert screen_text(app).count("100%") == 2
        await wait_until(pilot, lambda: app.results)
        assert app.results == ["gemma3:1b"]
        assert app.screen is app.home
    assert ollama.find("gemma3:1b") is not None
    assert ollama.bodies("/api/pull") == [{"model": "gemma3:1b", "stream": True}]
    statuses = [message.snapshot.status for message in seen]
    assert statuses[0] == "pulling manifest"
    assert {"verifying sha256 digest", "writing manifest"} <= set(statuses)
    fractions = [message.snapshot.fraction for message in seen if message.snapshot.fraction]
    assert any(0 < fraction < 1 for fraction in fractions) and fractions[-1] == 1.0


async def test_pull_of_an_unknown_model_shows_the_servers_message(ollama: FakeOllama, client: OllamaClient) -> None:
    app = Host()
    async with app.run_test(size=SIZE) as pilot:
        app.open(PullScreen(client, "nosuch:7b"))
        await wait_until(pilot, lambda: "file does not exist" in screen_text(app))
        text = screen_text(app)
        assert "Could not pull nosuch:7b: pull model manifest: file does not exist" in text
        assert isinstance(app.screen, PullScreen) and not app.results  # open until Esc
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.results == [None])
    assert ollama.find("nosuch:7b") is None


def bars(app: App[Any]) -> list[tuple[float, str]]:
    """Each bar of the pull dialog as drawn now: how full, and its colour."""
    drawn = []
    for bar in app.screen.query(Bar):
        fraction = bar.percentage or 0.0
        style = bar.get_component_rich_style("bar--bar" if fraction < 1 else "bar--complete")
        drawn.append((fraction, str(style.color and style.color.name)))
    return drawn


def still(app: App[Any]) -> bool:
    """No bar of the dialog animates: none waits for a size, none redraws by itself."""
    bars = app.screen.query(Bar)
    return bool(bars) and all(bar.percentage is not None and bar.auto_refresh is None for bar in bars)


async def test_a_pull_that_fails_before_any_download_stops_its_bars(ollama: FakeOllama, client: OllamaClient) -> None:
    ollama.pull_delay = 1.0  # the error comes a second after "pulling manifest"
    app = Host()
    async with app.run_test(size=SIZE) as pilot:
        app.open(PullScreen(client, "nosuch:7b"))
        await wait_until(pilot, lambda: text_of(app, "#pull-status") == "pulling manifest")
        assert not still(app)  # the premise: while no size has come, the bars animate
        await wait_until(pilot, lambda: "file does not exist" in screen_text(app))
        assert still(app)
        error = Color.parse(app.theme_variables["error"]).rich_color.name
        assert bars(app) == [(0.0, error), (0.0, error)]


async def test_a_pull_that_fails_part_way_keeps_its_bars_where_they_stopped(
    ollama: FakeOllama, client: OllamaClient
) -> None:
    ollama.pull_error_after = 3  # the manifest, then a quarter of the weights
    app = Host()
    async with app.run_test(size=SIZE) as pilot:
        app.open(PullScreen(client, "smollm2:135m"))
        await wait_until(pilot, lambda: "max retries exceeded" in screen_text(app))
        assert "Could not pull smollm2:135m: max retries exceeded: connection" in screen_text(app)
        assert still(app)
        error = Color.parse(app.theme_variables["error"]).rich_color.name
        # Only the weights were announced, so both bars show a quarter: where the download stopped.
        (layer, layer_colour), (overall, overall_colour) = bars(app)
        assert abs(layer - 0.25) < 0.02 and abs(overall - 0.25) < 0.02
        assert layer_colour == overall_colour == error
    assert ollama.find("smollm2:135m") is None


async def test_pull_refused_with_an_error_status(ollama: FakeOllama, client: OllamaClient) -> None:
    app = Host()
    async with app.run_test(size=SIZE) as pilot:
        app.open(PullScreen(client, ""))
        await wait_until(pilot, lambda: "model is required" in screen_text(app))
        assert isinstance(app.screen, PullScreen)


async def test_escape_cancels_the_pull_and_closes_the_stream(ollama: FakeOllama, client: OllamaClient) -> None:
    ollama.pull_delay = 0.3
    app = Host()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        app.open(PullScreen(client, "smollm2:135m"))
        await wait_until(pilot, lambda: downloading(app))
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.results == [None])
        assert "Stopped pulling smollm2:135m" in screen_text(app)
        await wait_until(pilot, lambda: ollama.disconnects == 1)
        assert not app.workers._workers  # the app-level worker is gone too
    assert ollama.find("smollm2:135m") is None


async def test_a_pull_sent_to_the_background_reports_to_its_owner(ollama: FakeOllama, client: OllamaClient) -> None:
    ollama.pull_delay = 0.05
    app = Host()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        app.open(PullScreen(client, "smollm2:135m", report_to=app.home))
        await wait_until(pilot, lambda: downloading(app))
        await pilot.press("b")
        await wait_until(pilot, lambda: app.results == [None])
        assert app.screen is app.home
        assert "Pulling smollm2:135m in the background" in screen_text(app)
        await wait_until(pilot, lambda: any(isinstance(r, PullScreen.Ended) for r in app.home.reports))
        *progress, ended = app.home.reports
        assert ended == PullScreen.Ended("smollm2:135m")
        assert progress and all(isinstance(p, PullScreen.Progressed) for p in progress)
        last = progress[-1]
        assert isinstance(last, PullScreen.Progressed)
        assert last.snapshot.fraction == 1.0
        assert "smollm2:135m · 100%" in last.snapshot.summary()
    assert ollama.find("smollm2:135m") is not None


def test_tracker_adds_layers_and_measures_speed() -> None:
    tracker = PullTracker("m")
    assert tracker.add(PullProgress("pulling manifest"), 0.0)
    assert tracker.add(PullProgress("pulling aaa", "sha256:aaa", 1_000_000), 0.0)
    assert not tracker.add(PullProgress("pulling aaa", "sha256:aaa", 1_000_000, 500_000), 1.0)
    snapshot = tracker.snapshot()
    assert (snapshot.completed, snapshot.total, snapshot.layer_fraction) == (500_000, 1_000_000, 0.5)
    assert snapshot.speed == 500_000 and snapshot.eta == 1.0
    assert snapshot.detail() == "500.0 KB / 1.0 MB · 500.0 KB/s · 1s left"
    tracker.add(PullProgress("pulling aaa", "sha256:aaa", 1_000_000, 1_000_000), 2.0)
    tracker.add(PullProgress("pulling bbb", "sha256:bbb", 1_000_000, 1_000_000), 2.5)
    tracker.add(PullProgress("verifying sha256 digest"), 3.0)
    snapshot = tracker.snapshot()
    assert (snapshot.status, snapshot.completed, snapshot.total) == ("verifying sha256 digest", 2_000_000, 2_000_000)
    assert snapshot.layer_fraction == 1.0 and snapshot.fraction == 1.0
    assert [format_eta(s) for s in (5, 75, 3725)] == ["5s", "1m 15s", "1h 02m"]


# -- model details and delete --------------------------------------------------------------


async def test_details_show_what_the_model_is_and_whether_it_is_loaded(
    ollama: FakeOllama, client: OllamaClient
) -> None:
    async for _ in client.chat(ChatRequest("qwen3:4b", ())):  # loads it, as /api/ps will say
        pass
    app = Host()
    async with app.run_test(size=(100, 50)) as pilot:
        app.open(ModelDetailsScreen(client, "qwen3:4b"))
        await wait_until(pilot, lambda: "Context length" in screen_text(app))
        text = screen_text(app)
        for expected in ("Family          qwen3", "Parameters      4.0B", "Quantization    Q4_K_M",
                         "Context length  40,960 tokens", "completion · tools · thinking",
                         "window 4,096 tokens", "unloads in 4m", "temperature                    0.6",
                         "Template (first 12 lines)", "Apache License"):  # fmt: skip
            assert expected in text, expected
        await pilot.press("escape")
        app.open(ModelDetailsScreen(client, "llama3.2"))
        await wait_until(pilot, lambda: "Context length" in screen_text(app))
        text = screen_text(app)
        assert "131,072 tokens" in text and "Loaded now      no" in text
        assert "LLAMA 3.2 COMMUNITY LICENSE" in text


async def test_details_of_a_missing_model_say_so(ollama: FakeOllama, client: OllamaClient) -> None:
    app = Host()
    async with app.run_test(size=SIZE) as pilot:
        app.open(ModelDetailsScreen(client, "nosuch"))
        await wait_until(pilot, lambda: "not found" in screen_text(app))
        assert "Model 'nosuch' not found." in screen_text(app)


async def test_delete_asks_first(ollama: FakeOllama, client: OllamaClient) -> None:
    app = Host()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        app.open(ModelDetailsScreen(client, "llava:7b"))
        await wait_until(pilot, lambda: "Context length" in screen_text(app))
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, Confirm))
        assert "Delete llava:7b from this Ollama server?" in screen_text(app)
        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(app.screen, ModelDetailsScreen))
        assert ollama.find("llava:7b") is not None and not ollama.bodies("/api/delete")

        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, Confirm))
        await pilot.press("y")
        await wait_until(pilot, lambda: app.results == ["llava:7b"])
        assert "Deleted llava:7b." in screen_text(app)
    assert ollama.find("llava:7b") is None
    assert ollama.bodies("/api/delete") == [{"model": "llava:7b"}]


async def test_a_refused_delete_is_shown_in_the_dialog(ollama: FakeOllama, client: OllamaClient) -> None:
    app = Host()
    async with app.run_test(size=SIZE) as pilot:
        app.open(ModelDetailsScreen(client, "llava:7b"))
        await wait_until(pilot, lambda: "Context length" in screen_text(app))
        ollama.models.clear()  # gone behind our back: the server answers 404
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, Confirm))
        await pilot.press("y")
        await wait_until(pilot, lambda: "Model 'llava:7b' not found." in screen_text(app))
        assert isinstance(app.screen, ModelDetailsScreen) and not app.results


# -- settings ---------------------------------------------------------------------------------


async def test_settings_validate_every_field_before_saving(client: OllamaClient) -> None:
    start = ChatOptions(system="Old.", options=(("temperature", 0.7), ("min_p", 0.05)))
    app = Host()
    async with app.run_test(size=SIZE) as pilot:
        app.open(SettingsScreen(start))
        await pilot.pause()
        screen = app.screen
        assert screen.query_one("#field-temperature", Input).value == "0.7"
        screen.query_one("#field-system", TextArea).text = "Answer in French."
        temperature = screen.query_one("#field-temperature", Input)
        temperature.focus()
        temperature.value = ""
        await pilot.press(*"hot")
        screen.query_one("#field-top-p", Input).value = "0.95"
        screen.query_one("#field-keep-alive", Input).value = "soon"
        await pilot.press("ctrl+s")
        await pilot.pause()
        text = screen_text(app)
        assert "temperature takes a number, not 'hot'." in text
        assert "Keep-alive takes a duration" in text
        assert app.screen is screen and not app.results and app.focused is temperature

        temperature.value = "0.2"
        screen.query_one("#field-num-ctx", Input).value = "8192"
        screen.query_one("#field-stop", Input).value = '"User:" ###'
        screen.query_one("#field-keep-alive", Input).value = "10m"
        screen.query_one("#field-think", Switch).focus()  # scrolls it into sight
        await pilot.press("space")
        await pilot.click("#save")
        await wait_until(pilot, lambda: app.results)
    assert app.results == [
        ChatOptions(
            system="Answer in French.",
            options=(
                ("temperature", 0.2),
                ("top_p", 0.95),
                ("min_p", 0.05),
                ("num_ctx", 8192),
                ("stop", ("User:", "###")),
            ),
            think=True,
            keep_alive="10m",
        )
    ]


async def test_settings_keep_what_was_not_touched_and_escape_cancels(client: OllamaClient) -> None:
    start = ChatOptions(options=(("stop", ("a b", "\n")),), keep_alive=-1)
    app = Host()
    async with app.run_test(size=SIZE) as pilot:
        app.open(SettingsScreen(start))
        await pilot.pause()
        assert app.screen.query_one("#field-stop", Input).value == '"a b" "\\n"'
        assert app.screen.query_one("#field-think", Switch).value is False
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: app.results)
        assert app.results == [start]  # think stays "the model's default"
        app.open(SettingsScreen(start))
        await pilot.pause()
        await pilot.press("escape")
        await wait_until(pilot, lambda: len(app.results) == 2)
        leveled = replace(start, think="high")  # a level shows as on, and stays a level
        app.open(SettingsScreen(leveled))
        await pilot.pause()
        assert app.screen.query_one("#field-think", Switch).value is True
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: len(app.results) == 3)
    assert app.results[1] is None
    assert app.results[2] == leveled


# -- context meter ----------------------------------------------------------------------------


def test_context_usage_and_thresholds() -> None:
    assert context_used(ChatStats(prompt_eval_count=3000, eval_count=174)) == 3174
    assert context_used(ChatStats(eval_count=10)) == 10
    assert context_used(ChatStats()) is None and context_used(None) is None
    assert context_limit(8192, 4096, 131072) == 8192
    assert context_limit(None, 4096, 131072) == 4096
    assert context_limit(None, None, 131072) == 131072
    assert context_limit(None, None, None) is None
    assert context_fraction(2048, 8192) == 0.25
    assert [context_level(f) for f in (0.0, 0.79, 0.8, 0.94, 0.95, 1.2)] == [
        "normal", "normal", "warning", "warning", "error", "error"
    ]  # fmt: skip
    assert meter_text(3174, 8192) == "ctx 3.1k/8k 39%"
    assert meter_text(950, 4096) == "ctx 950/4k 23%"
    assert meter_text(40000, 131072) == "ctx 39k/128k 31%"


async def test_context_meter_shows_usage_and_warns() -> None:
    app = Host()
    async with app.run_test(size=SIZE) as pilot:
        meter = app.home.query_one(ContextMeter)
        assert str(meter.render()) == ""
        meter.show_usage(3174, 8192)
        await pilot.pause()
        assert "ctx 3.1k/8k 39%" in screen_text(app)
        assert not meter.has_class("-warning") and not meter.has_class("-error")
        normal = meter.rich_style.color
        meter.show_usage(6600, 8192)
        await pilot.pause()
        assert meter.has_class("-warning") and meter.rich_style.color != normal
        meter.show_usage(8000, 8192)
        await pilot.pause()
        assert meter.has_class("-error") and not meter.has_class("-warning")
        assert "ctx 7.8k/8k 98%" in screen_text(app)
        meter.show_usage(None, 8192)
        await pilot.pause()
        assert "ctx" not in screen_text(app) and not meter.has_class("-error")
