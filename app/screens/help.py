"""The help dialog: slash commands and keys, as `/help` and `?` show them."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

HELP = """\
# ollama-tui help

| Command | What it does |
|---|---|
| `/model NAME`, `/load NAME` | use another model from the next message on; the history goes on |
| `/models` | focus the model picker |
| `/clear` | start a new conversation |
| `/retry` | ask again for the last reply |
| `/copy` | copy the last reply to the clipboard |
| `/help`, `/?` | this help |
| `/bye` | quit |

| Key | What it does |
|---|---|
| Enter | send the message |
| Ctrl+J, Alt+Enter | new line in the message |
| Esc | stop the reply that is arriving (the partial reply stays) |
| Ctrl+N | new conversation |
| Ctrl+O | focus the model picker (Enter picks, Esc returns) |
| Ctrl+R | ask again for the last reply |
| Ctrl+Y | copy the last reply (terminal clipboard, OSC 52) |
| Ctrl+Q | quit |
"""


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,f1", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-body"):
            yield Markdown(HELP)
