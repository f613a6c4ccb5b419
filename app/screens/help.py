"""The help dialog: slash commands (from the command table) and the keys of the chat screen."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

from app.commands.table import COMMANDS
from app.keys import BY_NAME
from app.text import key_name

# (keys, or the actions whose keys they are, the place they work in, what they do)
EXTRA_KEYS: tuple[tuple[str | tuple[str, ...], str, str], ...] = (
    ("Enter", "", "send the message"),
    ("`\\` then Enter, Ctrl+J", "", "new line in the message, in every terminal (pasting multi-line text works too)"),
    (
        "Alt+Enter, Shift+Enter",
        "",
        "new line too, in terminals that report them (kitty keyboard protocol); elsewhere, tmux included, they send",
    ),
    ("Up", " (in an empty input)", "bring back your last message, to send again or change"),
    ("Tab", " (typing a /command)", "complete its name; the input's border shows its usage, or the names left"),
    (("stop_reply",), " (while a reply arrives)", "stop it, as in ollama run"),
    ("Mouse drag, then Ctrl+C", " (in the conversation)", "select text as drawn and copy it"),
    (
        ("models.info", "models.pull", "models.delete", "models.refresh"),
        " (in the model picker)",
        "model details, pull a model, delete a model, refresh the list",
    ),
    (("conversations.rename", "conversations.delete"), " (in the conversation list)", "rename, delete"),
    (
        "Up, Down, C, Y, E, R",
        " (in the conversation)",
        "move between messages; copy the message, copy a code block, edit and resend yours, ask again",
    ),
    (("command_palette",), "", "the command palette: change the theme, see all keys"),
    (("quit",), "", "quit"),
)


def help_text(bindings: list[BindingType], keymap: Mapping[str, str] | None = None) -> str:
    """The help as Markdown; `keymap` (action name -> keys) says which keys were moved."""
    keymap = keymap or {}

    def keys(names: str | tuple[str, ...]) -> str:
        if isinstance(names, str):
            return names
        return ", ".join(key_name(keymap.get(name) or BY_NAME[name].keys) for name in names)

    rows = ["# ollama-tui help", "", "| Command | What it does |", "|---|---|"]
    for command in COMMANDS:
        names = ", ".join(f"`{name}{' ' + command.usage if command.usage else ''}`" for name in command.names)
        rows.append(f"| {_cell(names)} | {_cell(command.summary)} |")
    rows += ["", "| Key | What it does |", "|---|---|"]
    rows += [f"| {_cell(keys(names))}{where} | {what} |" for names, where, what in EXTRA_KEYS]
    rows += [
        f"| {key_name(keymap.get(binding.id or '') or binding.key)} | {binding.tooltip or binding.description} |"
        for binding in bindings
        if isinstance(binding, Binding) and binding.description
    ]
    return "\n".join(rows)


def _cell(text: str) -> str:
    """A table cell: a `|` in a usage (`[md|json]`) would end the cell, even in backticks."""
    return text.replace("|", "\\|")


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,f1", "dismiss", "Close")]

    def __init__(self, bindings: list[BindingType]) -> None:
        super().__init__()
        self._chat_bindings = bindings

    def compose(self) -> ComposeResult:
        keymap: Mapping[str, str] = getattr(self.app, "keymap", {})  # the app's [keys], where it has them
        with VerticalScroll(id="help-body"):
            yield Markdown(help_text(self._chat_bindings, keymap))
