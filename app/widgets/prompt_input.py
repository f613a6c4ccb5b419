"""The multi-line input: Enter sends, Ctrl+J (or Alt+Enter) inserts a newline, paste works."""

from __future__ import annotations

from dataclasses import dataclass

from rich.segment import Segment
from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.strip import Strip
from textual.widgets import TextArea

_CONTROLS = dict.fromkeys([*range(0x20), *range(0x7F, 0xA0)])


class PromptInput(TextArea):
    BINDINGS = [
        Binding("ctrl+j", "newline", "Newline"),
        Binding("alt+enter,shift+enter", "newline", "Newline", show=False),
    ]

    @dataclass
    class Submitted(Message):
        text: str

    class RecallLast(Message):
        """Up was pressed in the empty input: the person wants to edit their last message."""

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

    def render_line(self, y: int) -> Strip:
        """Control characters (a pasted C1 code, a recalled message) are drawn as nothing:
        they are zero cells wide, so the layout and the cursor stay right. The text is kept."""
        strip = super().render_line(y)
        return Strip([Segment(text.translate(_CONTROLS), style, control) for text, style, control in strip], strip.cell_length)

    def action_newline(self) -> None:
        start, end = self.selection
        self._replace_via_keyboard("\n", start, end)

    def action_cursor_up(self, select: bool = False) -> None:
        if not self.text and not select:  # Up in an empty input recalls the last message
            self.post_message(self.RecallLast())
            return
        super().action_cursor_up(select)
