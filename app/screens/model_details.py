"""One model in detail (`/api/show` plus `/api/ps`), and deleting it after a confirmation."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any, ClassVar

from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from app.client import OllamaError
from app.protocol import ModelDetails, RunningModel, same_model
from app.screens.dialogs import Confirm
from app.servers.base import ModelServer
from app.text import human_size, sanitize

TEMPLATE_LINES = 12
LICENSE_LINES = 6
FOREVER_SECONDS = 365 * 24 * 3600  # a negative keep_alive shows as an expiry centuries away


def excerpt(text: str, lines: int) -> str:
    kept = text.strip("\n").splitlines()
    return "\n".join(kept[:lines] + (["…"] if len(kept) > lines else []))


def loaded_text(running: RunningModel | None, now: datetime) -> str:
    """`2.9 GB, 100% on the GPU · window 4,096 tokens · unloads in 4m 59s`, or `no`."""
    if running is None:
        return "no"
    parts = [human_size(running.size)]
    if running.size:
        parts[0] += f", {running.size_vram / running.size:.0%} on the GPU"
    if running.context_length:
        parts.append(f"window {running.context_length:,} tokens")
    try:
        expires = datetime.fromisoformat(running.expires_at)
    except ValueError:
        expires = None
    if expires is not None:
        seconds = (expires - now).total_seconds()
        if seconds > FOREVER_SECONDS:
            parts.append("stays loaded")
        elif seconds > 0:
            parts.append(f"unloads in {int(seconds) // 60}m {int(seconds) % 60:02d}s")
    return " · ".join(parts)


def details_content(details: ModelDetails, running: RunningModel | None, now: datetime) -> Content:
    """The dialog's body; every value from the server is sanitized."""
    rows = [
        ("Family", details.family),
        ("Parameters", details.parameter_size),
        ("Quantization", details.quantization_level),
        ("Context length", f"{details.context_length:,} tokens" if details.context_length else ""),
        ("Capabilities", " · ".join(details.capabilities)),
        ("Loaded now", loaded_text(running, now)),
    ]
    parts: list[str | tuple[str, str]] = []
    for name, value in rows:
        parts += [(f"{name:<16}", "$text-muted"), (sanitize(value) or "unknown") + "\n"]
    sections = [
        ("System message", excerpt(details.system, TEMPLATE_LINES)),
        ("Parameters (Modelfile)", details.parameters.strip("\n")),
        (f"Template (first {TEMPLATE_LINES} lines)", excerpt(details.template, TEMPLATE_LINES)),
        ("License", excerpt(details.license, LICENSE_LINES)),
    ]
    for title, text in sections:
        if text:
            parts += ["\n", (title + "\n", "bold"), sanitize(text) + "\n"]
    return Content.assemble(*parts).rstrip()


async def confirm_delete(app: App[Any], client: ModelServer, model: str) -> bool:
    """Ask with `Confirm`, then delete. True once deleted, False when the person said no.

    Waits for the answer, so call it from a worker. Raises OllamaError when the server refuses.
    """
    question = f"Delete {sanitize(model)} from this Ollama server? Using it again means pulling it again."
    if not await app.push_screen_wait(Confirm(question)):
        return False
    await client.delete(model)
    return True


class ModelDetailsScreen(ModalScreen[str | None]):
    """What a model is and whether it is loaded. `d` deletes it (after a confirmation);
    dismisses with the model's name once deleted (the caller refreshes its list), else None."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "dismiss(None)", "Close"),
        Binding("d", "delete", "Delete"),
    ]

    def __init__(self, client: ModelServer, model: str) -> None:
        super().__init__()
        self.client = client
        self.model = model

    def compose(self) -> ComposeResult:
        with Vertical(id="details-dialog"):
            yield Label(sanitize(self.model), id="details-title", markup=False)
            with VerticalScroll(id="details-scroll"):
                yield Static("loading…", id="details-body", markup=False)
            yield Static("", id="details-error", classes="-hidden", markup=False)
            yield Static("d delete · Esc close", id="details-keys", markup=False)

    def on_mount(self) -> None:
        self.load()

    @work(exclusive=True, group="details")
    async def load(self) -> None:
        try:
            details, running = await asyncio.gather(self.client.show(self.model), self.client.running())
        except OllamaError as error:
            self.query_one("#details-scroll").add_class("-hidden")  # the dialog shrinks to fit
            self._show_error(str(error))
            return
        loaded = next((model for model in running if same_model(model.name, self.model)), None)
        body = details_content(details, loaded, datetime.now(UTC))
        self.query_one("#details-body", Static).update(body)

    def action_delete(self) -> None:
        self.delete_model()

    @work(exclusive=True, group="delete")
    async def delete_model(self) -> None:
        try:
            deleted = await confirm_delete(self.app, self.client, self.model)
        except OllamaError as error:
            self._show_error(str(error))
            return
        if deleted:
            self.notify(f"Deleted {sanitize(self.model)}.", markup=False)
            self.dismiss(self.model)

    def _show_error(self, message: str) -> None:
        error = self.query_one("#details-error", Static)
        error.update(sanitize(message))
        error.remove_class("-hidden")
