"""The help dialog: slash commands (from the command table) and the keys of the chat screen."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

from app.commands.table import COMMANDS
from app.text import key_name

EXTRA_KEYS = (
    ("Enter", "send the message"),
    ("`\\` then Enter, Ctrl+J", "new line in the message, in every terminal (pasting multi-line text works too)"),
    (
        "Alt+Enter, Shift+Enter",
        "new line too, in terminals that report them (kitty keyboard protocol); elsewhere, tmux included, they send",
    ),
    ("Up (in an empty input)", "bring back your last message, to send again or change"),
    ("Tab (typing a /command)", "complete its name; the input's border shows its usage, or the names left"),
    ("Ctrl+C (while a reply arrives)", "stop it, as in ollama run"),
    ("I, P, D, R (in the model picker)", "model details, pull a model, delete a model, refresh the list"),
    ("R, D (in the conversation list)", "rename, delete"),
    ("Ctrl+Q", "quit"),
)


def help_text(bindings: list[BindingType]) -> str:
    rows = ["# ollama-tui help", "", "| Command | What it does |", "|---|---|"]
    for command in COMMANDS:
        names = ", ".join(f"`{name}{' ' + command.usage if command.usage else ''}`" for name in command.names)
        rows.append(f"| {_cell(names)} | {_cell(command.summary)} |")
    rows += ["", "| Key | What it does |", "|---|---|"]
    rows += [f"| {key} | {what} |" for key, what in EXTRA_KEYS]
    rows += [
        f"| {key_name(binding.key)} | {binding.tooltip or binding.description} |"
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
        self.text = help_text(bindings)

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-body"):
            yield Markdown(self.text)
