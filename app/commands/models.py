"""Commands on models: choose one, download one, see one's details, delete one, list the loaded
ones. The model picker's keys (i, p, d) run the same."""

from __future__ import annotations

from datetime import UTC, datetime

from app.client import OllamaError
from app.commands.chat import Chat
from app.screens.dialogs import AskText
from app.tables import format_table, running_rows


def model(chat: Chat, name: str) -> None:
    if not name:
        chat.action_focus_models()
        return
    resolved = chat.catalog.resolve(name)
    if resolved is None and chat.catalog.models:
        chat.notify(f"No local model named {name}. Pull it with: ollama pull {name}", severity="error", markup=False)
        return
    chat.select_model(resolved or name)


def pull(chat: Chat, name: str) -> None:
    if name:
        chat.start_pull(name)
        return

    def answered(answer: str | None) -> None:
        if answer:
            chat.start_pull(answer)

    chat.show_dialog(AskText("Model to pull (e.g. llama3.2, qwen3:4b):"), answered)


def info(chat: Chat, name: str) -> None:
    model = name or chat.current.model
    if not model:
        chat.notify("No model to show: pick one first.", severity="warning")
        return

    def closed(deleted: str | None) -> None:
        if deleted:
            chat.forget_model(deleted)

    from app.screens.model_details import ModelDetailsScreen  # loaded when first opened: quick start

    chat.show_dialog(ModelDetailsScreen(chat.client, model), closed)


def rm(chat: Chat, name: str) -> None:
    if not name:
        chat.notify("Usage: /rm NAME", severity="warning")
        return
    chat.delete_model(chat.catalog.resolve(name) or name)


def ps(chat: Chat, _: str) -> None:
    chat.run_job(_show_loaded(chat), "models")


async def _show_loaded(chat: Chat) -> None:
    try:
        running = await chat.client.running()
    except OllamaError as error:
        chat.notify(str(error), severity="error", markup=False)
        return
    if not running:
        chat.notify("No model is loaded in memory right now.")
        return
    chat.notify(format_table(running_rows(running, datetime.now(UTC))), title="Loaded models", markup=False, timeout=15)
