"""Commands on the open conversation's settings: system prompt, parameters, thinking,
keep-alive; and what they are now."""

from __future__ import annotations

from app.chat_options import apply_set, describe
from app.commands import models
from app.commands.chat import Chat
from app.servers.openai_wire import unsent_settings
from app.widgets.context_meter import context_advice, meter_text

MODEL_PARTS = ("info", "license", "modelfile", "parameters", "template")  # `ollama run`'s /show words


def set_value(chat: Chat, argument: str) -> None:
    try:
        change = apply_set(chat.current.options, argument)
    except ValueError as error:
        chat.notify(str(error), severity="error", markup=False)
        return
    chat.apply_options(change.options)
    chat.notify(change.message, markup=False)


def settings(chat: Chat, _: str) -> None:
    chat.action_settings()


def show(chat: Chat, argument: str) -> None:
    if argument.lower() in MODEL_PARTS:
        models.info(chat, "")  # the details dialog has each of these
        return
    if argument:
        chat.notify("Use /show for this conversation's settings, or /show info for the model.", severity="warning")
        return
    lines = describe(chat.current.options)
    used, limit = chat.context_usage()
    if used is not None and limit:
        lines.append(f"Context: {meter_text(used, limit).removeprefix('ctx ')}")
        if advice := context_advice(used, limit):
            lines.append(advice)
    server = chat.servers[chat.current.server]
    if server.kind == "openai" and (unsent := unsent_settings(chat.current.request(can_think=True))):
        lines.append(f"Not sent to {server.label}, which has no such settings: {', '.join(unsent)}")
    title = f"Settings for {chat.current.address or 'this conversation'}"
    chat.notify("\n".join(lines), title=title, markup=False, timeout=12)
