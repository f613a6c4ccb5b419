"""The multi-line input: Enter sends, Ctrl+J (or Alt+Enter) inserts a newline, paste works."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual import events
from textual.binding import Binding, BindingType
from textual.message import Message

from app.widgets.safe_text_area import SafeTextArea


class PromptInput(SafeTextArea):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+j", "newline", "Newline"),
        Binding("alt+enter,shift+enter", "newline", "Newline", show=False),
    ]

    @dataclass
    class Submitted(Message):
        text: str

    class RecallLast(Message):
        """Up was pressed in the empty input: the person wants to edit their last message."""

    @dataclass
    class PageRequested(Message):
        """Page Up or Down in the input, which is only a few lines high: the person wants to
        read up or down the conversation, as in a terminal."""

        down: bool

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(
            id=id,
            soft_wrap=True,
            show_line_numbers=False,
            tab_behavior="focus",
            placeholder="Send a message (/help for commands)",
        )

    async def _on_key(self, event: events.Key) -> None:
        if event.key == "enter":  # Enter sends; a pasted newline arrives as a Paste event instead
            event.stop()
            event.prevent_default()
            if self.text.strip():
                self.post_message(self.Submitted(self.text))
            return
        await super()._on_key(event)

    def action_newline(self) -> None:
        start, end = self.selection
        self._replace_via_keyboard("\n", start, end)

    def action_cursor_up(self, select: bool = False) -> None:
        if not self.text and not select:  # Up in an empty input recalls the last message
            self.post_message(self.RecallLast())
            return
        super().action_cursor_up(select)

    def action_cursor_page_up(self) -> None:
        self.post_message(self.PageRequested(down=False))

    def action_cursor_page_down(self) -> None:
        self.post_message(self.PageRequested(down=True))
