"""The least a Textual chat screen can be, for item 6's floor: a list, a text area, a footer.

It fetches nothing and reads no files. Its first frame shows `MARKER` (the list's last line)
and the text area's placeholder `PLACEHOLDER`, with the text area focused: what the app shows
when it is ready, minus everything that is ours. `python -m benchmarks.minimal_app` runs it.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import App, ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal
from textual.widgets import Footer, OptionList, Static, TextArea

MARKER = "minimal-app-ready"
PLACEHOLDER = "Type a message"


class MinimalApp(App[None]):
    CSS = "OptionList { width: 32; } TextArea { height: 1fr; }"
    BINDINGS: ClassVar[list[BindingType]] = [("ctrl+q", "quit", "Quit")]

    def compose(self) -> ComposeResult:
        yield Static("minimal Textual app")
        with Horizontal():
            yield OptionList("llama3.2:latest", "qwen3:4b", MARKER)
            yield TextArea(placeholder=PLACEHOLDER)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()


if __name__ == "__main__":
    MinimalApp().run()
