"""The conversation as one scrolling view that draws its lines itself (Textual's Line API).

A widget per message makes every layout pass visit every message, so long conversations and
fast replies stall the UI. This view keeps one `MessageRenderer` per turn and draws only the
lines on screen. Turns that were never drawn have an estimated height; when a turn is really
rendered its estimate is replaced and the scroll position is corrected so nothing on screen moves.

A reply's thinking is a dimmed block between its header and its answer: unfolded while only
thinking has arrived, folded to one line once the answer starts; `toggle_thinking()` (or a
click on that line) flips it. A tool call is a block of its own (app/widgets/tool_lines.py),
folded to one line but while the person is asked; Enter on it, or a click, unfolds it.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.selection import Selection
from textual.strip import Strip

from app.conversation import Turn
from app.render.sections import CodeText
from app.text import sanitize
from app.themes import code_theme
from app.widgets.conversation_layout import Anchor, LaidOutTurns
from app.widgets.selection_text import highlight, selected_text
from app.widgets.tool_lines import ToolTurnLines, lines_for, make_lines
from app.widgets.turn_lines import GUTTER, TurnLines

if TYPE_CHECKING:
    from textual.theme import Theme

STRIPS_KEPT = 1000  # finished screen lines kept; a few screens' worth


class ConversationView(LaidOutTurns, can_focus=True):
    """Every turn of a conversation in one scrolling view, drawn line by line."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "conversation-view--user-bar",
        "conversation-view--user-header",
        "conversation-view--assistant-bar",
        "conversation-view--assistant-header",
        "conversation-view--error",
        "conversation-view--warning",
        "conversation-view--dim",
        "conversation-view--thinking",
        "conversation-view--thinking-title",
        "conversation-view--cursor-bar",
        "conversation-view--code-label",
        "conversation-view--success",
        "conversation-view--tool-bar",
        "conversation-view--tool-name",
        "conversation-view--tool-text",
    }
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "cursor(-1)", "Previous", show=False),
        Binding("down,j", "cursor(1)", "Next", show=False),
        Binding("shift+up", "scroll_up", "Line up", show=False),
        Binding("shift+down", "scroll_down", "Line down", show=False),
        Binding("enter", "unfold", "Unfold", tooltip="fold or unfold this tool call, or this reply's thinking"),
        Binding("c", "copy_message", "Copy", tooltip="copy this message as Markdown"),
        Binding("y", "copy_code", "Copy code", tooltip="copy a code block of this message"),
        Binding("e", "edit_message", "Edit", tooltip="edit your message and send it again"),
        Binding("r", "retry_message", "Retry", tooltip="ask again for this reply"),
    ]

    @dataclass
    class CopyRequested(Message):
        """Copy a message (`code` None) or its code block number `code` (0: let the person
        choose among several)."""

        turn: Turn
        code: int | None = None

    @dataclass
    class EditRequested(Message):
        turn: Turn

    @dataclass
    class RetryRequested(Message):
        turn: Turn

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._palette_cache: dict[str, Style] | None = None  # component styles, from CSS
        self._base_cache: Style | None = None  # the view's own style, from CSS
        self._cursor: TurnLines | None = None  # the message the keys act on, while focused

    # -- public API ---------------------------------------------------------------------

    def set_turns(self, turns: Sequence[Turn]) -> None:
        """Show `turns` instead of what was shown, scrolled to the end."""
        self._entries = lines_for(turns, self._width)
        self._cursor = None
        self._rendered.clear()
        self._strips.clear()
        self._stale = 0
        self._slack = 0
        self._stepped = False
        self._following = True
        self._settle()
        self.refresh()

    def add_turn(self, turn: Turn) -> None:
        """Append a turn. A person's own message brings the end back into view."""
        anchor = self._anchor()
        self._entries.append(make_lines(turn, self._width, self._entries))
        if turn.role == "user":
            self._following = True
        self._settle(anchor)
        self.refresh()

    def update_turn(self, turn: Turn) -> None:
        """Show the turn's new content, state, error, stats or model."""
        index = self._index_of(turn)
        if index is None:
            return
        anchor = self._anchor()
        entry = self._entries[index]
        # A streamed update changes only rows after the turn's finished blocks (and its
        # header): of those, repaint the rows that differ, unless the view scrolled.
        settled = entry.settled_rows(self._width) if self._following and index == len(self._entries) - 1 else 0
        top = self.scroll_offset.y
        start = self._sync_offsets()[index]
        first = max(top, start + settled)
        bottom = top + self._viewport().height
        # Compared as drawn, before the offsets and the selection that depend only on the row.
        before = [self._render_row(row - top) for row in range(first, bottom)] if settled else []
        entry.invalidate(self._width)
        self._forget_strips(entry, settled)
        self._mark_stale(index)
        self._settle(anchor, repaint=not settled)
        if not settled:
            return
        if self.scroll_offset.y != top or self._sync_offsets()[index] != start:
            self.refresh()
            return
        self.refresh_lines(start, 1)  # the header: streaming and waiting notes
        changed = [
            row for row, old in zip(range(first, bottom), before, strict=True) if self._render_row(row - top) != old
        ]
        for row in changed:
            self.refresh_lines(row, 1)

    def remove_turn(self, turn: Turn) -> None:
        index = self._index_of(turn)
        if index is None:
            return
        anchor = self._anchor()
        if self._cursor is self._entries[index]:
            self._cursor = None
        self._rendered.pop(self._entries[index], None)
        self._forget_strips(self._entries[index])
        del self._entries[index]
        self._mark_stale(index)
        self._settle(anchor)
        self.refresh()

    def clear(self) -> None:
        self.set_turns(())

    def scroll_to_turn(self, turn: Turn) -> None:
        """Bring a turn's first line to the top of the view (e.g. a search hit)."""
        index = self._index_of(turn)
        if index is None:
            return
        self._following = False
        self._settle(Anchor(self._entries[index], index, 0))

    def toggle_thinking(self, turn: Turn | None = None) -> bool:
        """Fold or unfold the thinking of `turn`, else of the last reply that has some.
        False when there is no such thinking to toggle."""
        if turn is None:
            index = next(
                (i for i in range(len(self._entries) - 1, -1, -1) if self._entries[i].turn.thinking),
                None,
            )
        else:
            index = self._index_of(turn)
        if index is None or not self._entries[index].turn.thinking:
            return False
        entry = self._entries[index]
        anchor = self._anchor()
        entry.thinking_open = not entry.thinking_unfolded
        entry.invalidate(self._width)
        self._forget_strips(entry)
        self._mark_stale(index)
        self._settle(anchor)
        self.refresh()
        return True

    def toggle_tool(self, turn: Turn) -> bool:
        """Fold or unfold a tool call's block; False when `turn` is not one."""
        index = self._index_of(turn)
        entry = self._entries[index] if index is not None else None
        if index is None or not isinstance(entry, ToolTurnLines):
            return False
        anchor = self._anchor()
        entry.open = not entry.unfolded
        entry.invalidate(self._width)
        self._forget_strips(entry)
        self._mark_stale(index)
        self._settle(anchor)
        self.refresh()
        return True

    @property
    def code_theme(self) -> str:
        """The Pygments style code is drawn in; it follows the app's theme (light or dark)."""
        return self._code_theme

    @code_theme.setter
    def code_theme(self, name: str) -> None:
        if name == self._code_theme:
            return
        self._code_theme = name
        anchor = self._anchor()
        for entry in self._entries:  # each turn draws again, with the new style, when next seen
            entry.invalidate(self._width)
        self._strips.clear()
        self._stale = 0
        self._settle(anchor)
        self.refresh()

    @property
    def cursor_turn(self) -> Turn | None:
        return self._cursor.turn if self._cursor is not None else None

    def last_reply_text(self) -> str | None:
        """The raw text of the last assistant turn, for copying."""
        for entry in reversed(self._entries):
            if entry.turn.role == "assistant":
                return entry.turn.content
        return None

    # -- Textual hooks ------------------------------------------------------------------

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        top = self.scroll_offset.y + offset.y
        offsets = self._sync_offsets()
        if not 0 <= top < offsets[-1]:
            return
        index = bisect_right(offsets, top) - 1
        entry = self._entries[index]
        if not entry.measured:
            return
        row = top - offsets[index]
        if row == 0 and isinstance(entry, ToolTurnLines):
            self.toggle_tool(entry.turn)
        elif entry.is_thinking_title(row):
            self.toggle_thinking(entry.turn)
        elif (code := entry.code_label_at(row)) is not None:
            self.post_message(self.CopyRequested(entry.turn, code))

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, self._theme_changed)
        self._theme_changed(self.app.current_theme)

    def _theme_changed(self, theme: Theme) -> None:
        self.code_theme = code_theme(theme.dark)

    def on_focus(self) -> None:
        """The message cursor starts on the last message on screen."""
        if self._cursor is None and self._entries:
            offsets = self._sync_offsets()
            bottom = self.scroll_offset.y + self._viewport().height
            index = max(0, min(bisect_right(offsets, bottom - 1) - 1, len(self._entries) - 1))
            self._move_cursor(self._entries[index])

    def on_blur(self) -> None:
        self._move_cursor(None)

    def action_cursor(self, step: int) -> None:
        if self._cursor is None or self._cursor not in self._entries:
            self.on_focus()
            return
        index = self._entries.index(self._cursor) + step
        if 0 <= index < len(self._entries):
            self._move_cursor(self._entries[index])
            self._show_turn(index)

    def action_unfold(self) -> None:
        if self._cursor is not None and not self.toggle_tool(self._cursor.turn):
            self.toggle_thinking(self._cursor.turn)

    def action_copy_message(self) -> None:
        if self._cursor is not None:
            self.post_message(self.CopyRequested(self._cursor.turn))

    def action_copy_code(self) -> None:
        if self._cursor is not None:
            self.post_message(self.CopyRequested(self._cursor.turn, 0))

    def action_edit_message(self) -> None:
        if self._cursor is not None:
            self.post_message(self.EditRequested(self._cursor.turn))

    def action_retry_message(self) -> None:
        if self._cursor is not None:
            self.post_message(self.RetryRequested(self._cursor.turn))

    def code_blocks(self, turn: Turn) -> list[CodeText]:
        index = self._index_of(turn)
        return self._entries[index].code_blocks() if index is not None else []

    def _move_cursor(self, entry: TurnLines | None) -> None:
        for old_or_new in (self._cursor, entry):
            if old_or_new is not None:
                old_or_new.cursor = old_or_new is entry
                self._forget_strips(old_or_new)
        self._cursor = entry
        self.refresh()

    def _show_turn(self, index: int) -> None:
        """Scroll the turn into view if it is not: its first line at the top."""
        offsets = self._sync_offsets()
        top, height = self.scroll_offset.y, self._viewport().height
        start, end = offsets[index], offsets[index + 1]
        if start < top or end > top + height:
            if start < top or end - start > height:
                self._following = False
                self._settle(Anchor(self._entries[index], index, 0))
            else:
                self.scroll_to(y=end - height)

    def get_selection(self, selection: Selection) -> tuple[str, str] | None:
        offsets = self._sync_offsets()

        def plain(y: int) -> tuple[str | None, int]:
            index = bisect_right(offsets, y) - 1
            entry = self._entries[index]
            if not entry.measured or not entry.has_lines:
                self._measure(index)
            return entry.plain(y - offsets[index], self._width)

        return selected_text(selection, offsets[-1], plain), "\n"

    def selection_updated(self, selection: Selection | None) -> None:
        self.refresh()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._palette_cache = None
        self._base_cache = None
        self._strips.clear()
        self._finals.clear()

    def render_line(self, y: int) -> Strip:
        strip = self._render_row(y)
        top = self.scroll_offset.y + y
        # Offsets tell the screen which character of which row the mouse is on; selected
        # text is highlighted as it is drawn.
        strip = strip.apply_offsets(0, top)
        selection = self.text_selection
        if selection is not None and (span := selection.get_span(top)) is not None:
            style = self.screen.get_component_rich_style("screen--selection")
            strip = highlight(strip, max(span[0], GUTTER), span[1], style)
        return strip

    def _render_row(self, y: int) -> Strip:
        width = self._viewport().width
        base = self._base_style()
        offsets = self._sync_offsets()
        top = self.scroll_offset.y + y
        if not self._entries and y == 1 and self.empty_text:
            hint = Strip([Segment(sanitize(self.empty_text)[:width], self._palette()["dim"])])
            return hint.text_align(width, "center").apply_style(base)
        if not self._width or not 0 <= top < offsets[-1]:
            return Strip.blank(width, base)
        index = bisect_right(offsets, top) - 1
        entry = self._entries[index]
        key = (entry, top - offsets[index])
        if entry.measured and (strip := self._strips.get(key)) is not None:
            return strip
        if not entry.measured:
            # Only drawn before a settle had the chance to run (e.g. mid-resize).
            self._measure(index)
            self.call_after_refresh(self._settle)
        elif not entry.has_lines:  # forgotten while far away; its height is still right
            self._measure(index)
        height = entry.height
        line = entry.line(key[1], self._width, self._palette())
        kept = self._finals.get(key)
        if kept is not None and kept[0] is line and kept[1] == width and kept[2] == base:
            strip = kept[3]  # a row the turn kept as it was drawn (TurnLines keeps them)
        else:
            strip = line.crop_extend(0, width, base).apply_style(base)
            if len(self._finals) >= STRIPS_KEPT:
                self._finals.clear()
            self._finals[key] = (line, width, base, strip)
        if entry.height != height:  # drew a part of a long reply that was not revealed
            self._forget_strips(entry)
            self._mark_stale(index)
            self.call_after_refresh(self._settle)
            return strip
        if len(self._strips) >= STRIPS_KEPT:
            self._strips.clear()
        self._strips[key] = strip
        return strip

    # -- layout -------------------------------------------------------------------------

    def _base_style(self) -> Style:
        """`rich_style` walks every ancestor to blend the background: once per style change,
        not once per line drawn."""
        if self._base_cache is None:
            self._base_cache = self.rich_style
        return self._base_cache

    def _palette(self) -> dict[str, Style]:
        if self._palette_cache is None:
            palette = {}
            for name in self.COMPONENT_CLASSES:
                # The full style has colours with alpha ($text-muted) blended in; its
                # background is dropped so lines keep the view's own (and its focus tint).
                style = self.get_component_rich_style(name)
                palette[name.removeprefix("conversation-view--")] = style.without_color + Style(color=style.color)
            self._palette_cache = palette
        return self._palette_cache
