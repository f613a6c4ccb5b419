"""Commands on models: choose one, download one, see one's details, delete one, list the loaded
ones. The model picker's keys (i, p, d) run the same.

A model is named `NAME@SERVER` for a server other than the current model's; a name without
a server means the current model's server (for /model: the first server that lists it, local
first). A server that cannot do what is asked (an OpenAI-compatible endpoint cannot pull)
is refused in its own words before anything starts.
"""

from __future__ import annotations

from datetime import UTC, datetime

from app.client import OllamaError
from app.commands.chat import Chat
from app.screens.dialogs import AskText
from app.servers.base import NotSupported
from app.servers.config import LOCAL
from app.servers.registry import Server, UnknownServer, join_model, split_model
from app.tables import format_table, running_rows
from app.widgets.model_picker import HEADING


def model(chat: Chat, name: str) -> None:
    if not name:
        chat.action_focus_models()
        return
    try:
        wanted, server = chat.servers.resolve(name)
    except UnknownServer as error:
        chat.notify(str(error), severity="error", markup=False)
        return
    server = server or chat.servers.locate(wanted) or LOCAL
    resolved = chat.catalog.resolve(wanted, server)
    if resolved is None and chat.catalog.state(server).models:
        if len(chat.servers) == 1:
            message = f"No local model named {name}. Pull it with: ollama pull {name}"
        elif split_model(name)[1] is None:
            message = f"No server lists a model named {name}; /pull {wanted}@SERVER gets it onto one."
        else:
            message = f'No model named {wanted} on the server "{server}".'
        chat.notify(message, severity="error", markup=False)
        return
    chat.select_model(join_model(resolved or wanted, server))


def pull(chat: Chat, name: str) -> None:
    if not name:
        ask_pull(chat, chat.servers[chat.current.server])
        return
    target = _target(chat, name)
    if target is not None and not _refused(chat, target[1], "pull"):
        chat.start_pull(join_model(target[0], target[1].name))


def ask_pull(chat: Chat, server: Server) -> None:
    """Ask which model to pull onto `server` (the picker's P: the highlighted entry's)."""
    if _refused(chat, server, "pull"):
        return

    def answered(answer: str | None) -> None:
        if answer:
            pull(chat, answer if split_model(answer)[1] else join_model(answer.strip(), server.name))

    where = "" if len(chat.servers) == 1 else f" onto {server.name}"
    chat.show_dialog(AskText(f"Model to pull{where} (e.g. llama3.2, qwen3:4b):"), answered)


def info(chat: Chat, name: str) -> None:
    name = name or chat.current.address
    if not name:
        chat.notify("No model to show: pick one first.", severity="warning")
        return
    if name.startswith(HEADING):
        chat.explain_server(name.removeprefix(HEADING))
        return
    target = _target(chat, name)
    if target is None or _refused(chat, target[1], "show"):
        return
    wanted, server = target

    def closed(deleted: str | None) -> None:
        if deleted:
            chat.forget_model(join_model(deleted, server.name))

    from app.screens.model_details import ModelDetailsScreen  # loaded when first opened: quick start

    chat.show_dialog(ModelDetailsScreen(server.client, wanted), closed)


def rm(chat: Chat, name: str) -> None:
    if not name or name.startswith(HEADING):
        chat.notify("Usage: /rm NAME", severity="warning")
        return
    target = _target(chat, name)
    if target is None or _refused(chat, target[1], "delete"):
        return
    wanted, server = target
    chat.delete_model(join_model(chat.catalog.resolve(wanted, server.name) or wanted, server.name))


def ps(chat: Chat, name: str) -> None:
    try:
        server = chat.servers[name or chat.current.server]
    except UnknownServer as error:
        chat.notify(str(error), severity="error", markup=False)
        return
    if not _refused(chat, server, "ps"):
        chat.run_job(_show_loaded(chat, server), "models")


async def _show_loaded(chat: Chat, server: Server) -> None:
    try:
        running = await server.client.running()
    except OllamaError as error:
        chat.notify(str(error), severity="error", markup=False)
        return
    where = "" if len(chat.servers) == 1 else f" on {server.name}"
    if not running:
        chat.notify(f"No model is loaded in memory{where} right now.", markup=False)
        return
    table = format_table(running_rows(running, datetime.now(UTC)))
    chat.notify(table, title=f"Loaded models{where}", markup=False, timeout=15)


def _target(chat: Chat, name: str) -> tuple[str, Server] | None:
    """The model `name` means and its server: `NAME@SERVER`, or NAME on the current model's
    server. None (and a message) for a server that is not configured."""
    try:
        wanted, server = chat.servers.resolve(name)
    except UnknownServer as error:
        chat.notify(str(error), severity="error", markup=False)
        return None
    return wanted, chat.servers[server or chat.current.server]


def _refused(chat: Chat, server: Server, operation: str) -> bool:
    """Whether `server` cannot do `operation` ("pull", "delete", "show", "ps"); says so if not."""
    if getattr(server.capabilities, operation):
        return False
    chat.notify(str(NotSupported(server.label, server.capabilities, operation)), severity="warning", markup=False)
    return True
