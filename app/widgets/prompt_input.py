"""The multi-line input: Enter sends; `\\` then Enter, Ctrl+J (or Alt+Enter, Shift+Enter where
the terminal tells them apart) inserts a line break; paste works."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from textual import events
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets.text_area import Location, Selection

from app.widgets.safe_text_area import SafeTextArea

# Most terminals send Alt+Enter and Shift+Enter as a plain Enter; those that speak the kitty
# keyboard protocol (which Textual asks for) tell them apart. Ctrl+J is a line feed everywhere.
LINE_BREAK_KEYS = frozenset({"ctrl+j", "alt+enter", "shift+enter"})


class PromptInput(SafeTextArea):
    # Shown in the footer; the keys are handled in `_on_key`, so this binding never fires.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+j", "newline", "Newline", key_display="\\⏎ ^j"),
    ]

    @dataclass
    class Submitted(Message):
        text: str

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
        self._after_backslash: Location | None = None  # the cursor, right after a typed backslash
        # What Up in the empty input brings back: given by the screen, and asked at once, so
        # that an Enter typed right after Up sends it (a message to the screen would arrive
        # after that Enter).
        self.last_message: Callable[[], str] = lambda: ""

    async def _on_key(self, event: events.Key) -> None:
        # Handled here, in the order the keys came: a binding would run only once the key had
        # bubbled up to the app, after the keys typed behind it were already in the text.
        after_backslash, self._after_backslash = self._after_backslash, None
        if event.key == "enter" or event.key in LINE_BREAK_KEYS:
            event.stop()
            event.prevent_default()
            if event.key != "enter":
                self.action_newline()
            elif after_backslash is not None and self._still_after_backslash(after_backslash):
                row, column = after_backslash
                self._replace_via_keyboard("\n", (row, column - 1), after_backslash)
            elif self.text.strip():  # a pasted newline arrives as a Paste event, never as Enter
                self.post_message(self.Submitted(self.text))
            return
        if event.key == "up" and not self.text:  # the last message back, before the next key
            event.stop()
            event.prevent_default()
            self.action_cursor_up()
            return
        await super()._on_key(event)
        if event.character == "\\" and self.selection.is_empty:
            # A backslash typed, then Enter, breaks the line, as in a shell: a way that works in
            # every terminal. Only a typed one: pasted or recalled text ending in one is sent.
            self._after_backslash = self.cursor_location

    def _still_after_backslash(self, location: Location) -> bool:
        """Nothing moved the cursor or changed the text since the backslash was typed."""
        row, column = location
        return self.selection == Selection.cursor(location) and self.document[row][column - 1 : column] == "\\"

    def action_newline(self) -> None:
        start, end = self.selection
        self._replace_via_keyboard("\n", start, end)

    def action_cursor_up(self, select: bool = False) -> None:
        if not self.text and not select:  # Up in an empty input recalls the last message
            if text := self.last_message():
                self.text = text
                self.move_cursor(self.document.end)
            return
        super().action_cursor_up(select)

    def action_cursor_page_up(self) -> None:
        self.post_message(self.PageRequested(down=False))

    def action_cursor_page_down(self) -> None:
        self.post_message(self.PageRequested(down=True))
