"""Slash commands typed in the input, as `ollama run` users know them. One table feeds both the
dispatch in the chat screen and the help dialog, so they cannot drift apart."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Command:
    names: tuple[str, ...]  # the first is the one shown
    usage: str  # arguments, for the help
    summary: str
    action: str  # the chat screen runs `command_<action>(argument)`


COMMANDS: tuple[Command, ...] = (
    Command(("/model", "/load"), "NAME", "use another model from the next message on (alone: pick one)", "model"),
    Command(("/clear", "/new"), "", "start a new conversation", "new"),
    Command(("/retry",), "", "ask again for the last reply (it replaces the old one)", "retry"),
    Command(("/edit",), "", "edit your last message and send it again", "edit"),
    Command(("/rename",), "TITLE", "rename this conversation", "rename"),
    Command(("/delete",), "", "delete this conversation (asks first)", "delete"),
    Command(("/search",), "[WORDS]", "search all conversations", "search"),
    Command(("/export",), "[md|json] [FILE]", "save this conversation as Markdown or JSON", "export"),
    Command(("/copy",), "", "copy the last reply to the clipboard", "copy"),
    Command(
        ("/set",),
        "system TEXT | parameter NAME VALUE | think [LEVEL] | nothink | keepalive D",
        "change this conversation's settings",
        "set",
    ),
    Command(("/settings",), "", "edit this conversation's settings in a dialog", "settings"),
    Command(("/show",), "[info]", "show this conversation's settings (info: the model's details)", "show"),
    Command(("/image",), "PATH", "attach an image to your next message (vision models)", "image"),
    Command(("/think",), "", "fold or unfold the thinking of the last reply", "think"),
    Command(("/pull",), "NAME", "download a model, with progress", "pull"),
    Command(("/info",), "[NAME]", "details of a model (default: the current one)", "info"),
    Command(("/rm",), "NAME", "delete a local model (asks first)", "rm"),
    Command(("/ps",), "", "models loaded in memory now", "ps"),
    Command(("/help", "/?"), "", "list commands and keys", "help"),
    Command(("/bye", "/exit", "/quit"), "", "quit", "quit"),
)

_BY_NAME = {name: command for command in COMMANDS for name in command.names}


def parse(line: str) -> tuple[Command | None, str, str]:
    """`/model  qwen3:4b ` → (the /model command, "/model", "qwen3:4b"); unknown → (None, name, arg)."""
    name, _, argument = line.strip().partition(" ")
    return _BY_NAME.get(name.lower()), name, argument.strip()
