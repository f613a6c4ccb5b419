"""The conversation as one scrolling view that draws its lines itself (Textual's Line API).

A widget per message makes every layout pass visit every message, so long conversations and
fast replies stall the UI. This view keeps one `MessageRenderer` per turn and draws only the
lines on screen. Turns that were never drawn have an estimated height; when a turn is really
rendered its estimate is replaced and the scroll position is corrected so nothing on screen moves.

A reply's thinking is a dimmed block between its header and its answer: unfolded while only
thinking has arrived, folded to one line once the answer starts; `toggle_thinking()` (or a
click on that line) flips it.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from app.conversation import Turn, TurnState
from app.rendering import MessageRenderer, render_plain
from app.text import sanitize

BAR = "▎ "
GUTTER = len(BAR)
RIGHT_MARGIN = 1
MIN_BODY_WIDTH = 10
KEEP_RENDERED = 100  # turns whose lines stay in memory; others keep only their height
STRIPS_KEPT = 1000  # finished screen lines kept; a few screens' worth
THINKING_INDENT = 2  # thinking text sits a little in from the answer

_STATE_NOTES: dict[TurnState, tuple[str, str]] = {  # state -> (note, palette key)
    TurnState.STREAMING: ("streaming…", "dim"),
    TurnState.STOPPED: ("stopped", "warning"),
    TurnState.INTERRUPTED: ("interrupted", "warning"),
    TurnState.ERROR: ("error", "error"),
}
_ROLE_NAMES = {"user": "You", "system": "System"}


def _body_width(width: int) -> int:
    return max(MIN_BODY_WIDTH, width - GUTTER - RIGHT_MARGIN)


class _TurnLines:
    """One turn laid out at one width: header, thinking, Markdown body, notes, blank separator."""

    __slots__ = (
        "_body",
        "_body_rows",
        "_dropped",
        "_notes",
        "_thinking",
        "_thinking_rows",
        "_thinking_title",
        "_words",
        "height",
        "measured",
        "thinking_open",
        "turn",
    )  # fmt: skip

    def __init__(self, turn: Turn, width: int) -> None:
        self.turn = turn
        self.thinking_open: bool | None = None  # None: unfolded until the answer starts
        self._body: MessageRenderer | None = None  # created when first drawn: most never are
        self._body_rows = 0
        self._dropped = False  # forget() freed the lines; the heights are still right
        self._notes: list[tuple[Strip, str]] = []  # (line, palette key) below the body
        self._thinking: MessageRenderer | None = None  # only while the thinking is unfolded
        self._thinking_rows = 0  # title, unfolded lines and the blank line before the answer
        self._thinking_title = ""
        self._words = (0, 0)  # (length of the thinking, its word count): counted once per change
        self.height = self.estimate(width)
        self.measured = False

    @property
    def role(self) -> str:
        return "user" if self.turn.role == "user" else "assistant"

    @property
    def thinking_unfolded(self) -> bool:
        if self.thinking_open is not None:
            return self.thinking_open
        return not self.turn.content.strip()

    def estimate(self, width: int) -> int:
        """A cheap guess at the height: lines of text plus wrapping, plus the chrome."""
        body = _estimate_lines(self.turn.content, _body_width(width or 80))
        thinking = 0
        if self.turn.thinking:
            thinking = 1
            if self.thinking_unfolded:
                thinking += _estimate_lines(self.turn.thinking, _body_width(width or 80)) + 1
        return 2 + thinking + body + bool(self.turn.error) + (self.turn.stats is not None)

    def settled_rows(self, width: int) -> int:
        """Rows at the top of a streaming turn that appending text cannot change (the header,
        the thinking and the finished blocks); 0 when that cannot be known cheaply."""
        if not self.measured or self._body is None or self.turn.state is not TurnState.STREAMING:
            return 0
        if self._words[0] != len(self.turn.thinking):
            return 0
        finished = self._body.settled_lines(_body_width(width))
        if self.turn.thinking and not finished:
            return 0  # the answer may be starting, which folds the thinking above it
        return 1 + self._thinking_rows + finished

    def invalidate(self, width: int) -> None:
        self.height = self.estimate(width)
        self.measured = False

    def forget(self) -> None:
        """Drop the rendered lines but keep the height: it is still right for this width."""
        if self._body is not None:
            self._body.drop_lines()
        self._dropped = True
        self._notes = []
        self._thinking = None

    def measure(self, width: int) -> None:
        """Render the turn (incrementally: the renderer keeps what did not change)."""
        body_width = _body_width(width)
        if self._body is None:
            self._body = MessageRenderer()
        self._body.update(self.turn.content)
        self._body_rows = self._body.height(body_width)
        self._measure_thinking(body_width, self._body_rows)
        self._notes = self._make_notes(body_width)
        self._set_height()
        self.measured = True
        self._dropped = False

    def _set_height(self) -> None:
        self.height = 2 + self._thinking_rows + self._body_rows + len(self._notes)

    def reveal(self, start: int, end: int, width: int) -> bool:
        """Draw the body's parts on rows [start, end) of the turn (a long reply is drawn only
        where it is looked at); whether the turn's height changed."""
        if self._body is None:
            return False
        head = 1 + self._thinking_rows
        body_width = _body_width(width)
        if not self._body.reveal(start - head, end - head, body_width):
            return False
        self._body_rows = self._body.height(body_width)
        self._set_height()
        return True

    def locate(self, row: int) -> tuple[int, int, int]:
        """Row `row` as a place that keeps its meaning while parts of the body are drawn:
        (0, row, 0) in the header, (1, section, row in it) in the body, (2, row, 0) below."""
        head = 1 + self._thinking_rows
        if self._body is None or row < head:
            return 0, row, 0
        if row < head + self._body_rows:
            section, offset = self._body.locate(row - head)
            return 1, section, offset
        return 2, row - head - self._body_rows, 0

    def row_of(self, place: tuple[int, int, int]) -> int:
        part, first, second = place
        head = 1 + self._thinking_rows
        if part == 0 or self._body is None:
            return first
        if part == 1:
            return head + self._body.row_of((first, second))
        return head + self._body_rows + first

    def _measure_thinking(self, width: int, body_height: int) -> None:
        thinking = self.turn.thinking
        if not thinking:
            self._thinking, self._thinking_rows = None, 0
            return
        if self._words[0] != len(thinking):
            self._words = (len(thinking), len(thinking.split()))
        words = self._words[1]
        unfolded = self.thinking_unfolded
        still = "…" if self.turn.state is TurnState.STREAMING and not self.turn.content else ""
        self._thinking_title = f"{'▾' if unfolded else '▸'} Thinking{still} ({words} word{'s' * (words != 1)})"
        self._thinking_rows = 1
        if not unfolded:
            self._thinking = None  # folded: no need to keep rendering it as it grows
            return
        if self._thinking is None:
            self._thinking = MessageRenderer()
        self._thinking.update(thinking)
        self._thinking_rows += len(self._thinking.lines(width - THINKING_INDENT)) + (body_height > 0)

    def _make_notes(self, width: int) -> list[tuple[Strip, str]]:
        turn = self.turn
        notes: list[tuple[Strip, str]] = []
        if turn.state is not TurnState.STREAMING and turn.error:  # also "cut off at num_predict"
            key = "error" if turn.state is TurnState.ERROR else "warning"
            notes.extend((line, key) for line in render_plain(turn.error, width))
        stats = turn.stats
        if turn.role == "assistant" and turn.state is not TurnState.STREAMING and stats:
            parts = []
            if stats.eval_count:
                parts.append(f"{stats.eval_count} tokens")
            if (speed := stats.tokens_per_second) is not None:
                parts.append(f"{speed:.1f} tok/s")
            if parts:
                notes.extend((line, "dim") for line in render_plain(" · ".join(parts), width))
        return notes

    @property
    def has_lines(self) -> bool:
        return self._body is not None and not self._dropped

    def is_thinking_title(self, y: int) -> bool:
        """Whether line `y` of this turn is its thinking's title line."""
        return y == 1 and self._thinking_rows > 0

    def line(self, y: int, width: int, palette: dict[str, Style]) -> Strip:
        """Line `y` of this turn (0 is the header); the turn must be measured."""
        assert self._body is not None
        bar = Strip([Segment(BAR, palette[f"{self.role}-bar"])], GUTTER)
        if y == 0:
            return Strip.join([bar, self._header(palette)])
        y -= 1
        if y < self._thinking_rows:
            return Strip.join([bar, self._thinking_line(y, width, palette)])
        y -= self._thinking_rows
        if y < self._body_rows:
            body_width = _body_width(width)
            line = self._body.line(y, body_width)
            if (rows := self._body.height(body_width)) != self._body_rows:
                self._body_rows = rows  # drew a part that was not revealed: the view re-settles
                self._set_height()
            return Strip.join([bar, line])
        y -= self._body_rows
        if y < len(self._notes):
            note, key = self._notes[y]
            return Strip.join([bar, note.apply_style(palette[key])])
        return Strip.blank(width)

    def _thinking_line(self, y: int, width: int, palette: dict[str, Style]) -> Strip:
        if y == 0:
            return Strip([Segment(self._thinking_title, palette["thinking-title"])])
        assert self._thinking is not None
        lines = self._thinking.lines(_body_width(width) - THINKING_INDENT)
        if y - 1 < len(lines):
            indent = Strip.blank(THINKING_INDENT)
            return Strip.join([indent, lines[y - 1].apply_style(palette["thinking"])])
        return Strip.blank(1)  # between the thinking and the answer

    def _header(self, palette: dict[str, Style]) -> Strip:
        turn = self.turn
        name = _ROLE_NAMES.get(turn.role) or sanitize(turn.model) or "assistant"
        segments = [Segment(name, palette[f"{self.role}-header"])]
        if note := _STATE_NOTES.get(turn.state):
            text, key = note
            if turn.state is TurnState.STREAMING and turn.activity:
                text, key = turn.activity, "warning"
            segments.append(Segment(f"  {text}", palette[key]))
        return Strip(segments)


def _estimate_lines(text: str, width: int) -> int:
    return text.count("\n") + 1 + len(text) // width if text else 0


@dataclass(frozen=True, slots=True)
class _Anchor:
    """What the person is looking at: a turn and the screen row where it starts (negative
    when the top of the view is inside it)."""

    entry: _TurnLines
    index: int
    row: int
    place: tuple[int, int, int] | None = None  # the row at the top, when that is inside the turn


class ConversationView(ScrollView, can_focus=True):
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
    }

    ALLOW_SELECT = False  # no selection support yet: copy goes through last_reply_text()
    DEFAULT_CSS = """
    ConversationView {
        background: $surface;
        color: $foreground;
        overflow-x: hidden;
        overflow-y: scroll;  /* always there: the text width never flips with the content */
        scrollbar-size-vertical: 1;
        &:focus { background-tint: $foreground 5%; }
        & > .conversation-view--user-bar { color: $accent; }
        & > .conversation-view--user-header { color: $accent; text-style: bold; }
        & > .conversation-view--assistant-bar { color: $primary; }
        & > .conversation-view--assistant-header { color: $primary; text-style: bold; }
        & > .conversation-view--error { color: $error; }
        & > .conversation-view--warning { color: $warning; }
        & > .conversation-view--dim { color: $text-muted; }
        & > .conversation-view--thinking { color: $text-muted; }
        & > .conversation-view--thinking-title { color: $text-muted; text-style: bold; }
    }
    """

    def __init__(
        self,
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._entries: list[_TurnLines] = []
        self._offsets: list[int] = [0]  # _offsets[i]: first line of turn i; last: total
        self._stale = 0  # _offsets is valid up to and including this turn index
        self._width = 0  # content width the turns are laid out for; 0 until sized
        self._following = True
        self._settling = False
        self._ahead_pending = False  # a _draw_ahead is queued
        self._slack = 0  # blank rows after the end, left by a streaming reply (see _end_top)
        self._palette_cache: dict[str, Style] | None = None  # component styles, from CSS
        self._base_cache: Style | None = None  # the view's own style, from CSS
        # Finished screen lines by (turn, row in it): a scrolled frame redraws every row on
        # screen, and composing a line makes four strips.
        self._strips: dict[tuple[_TurnLines, int], Strip] = {}
        self._rendered: dict[_TurnLines, None] = {}  # turns holding lines, least recent first
        self.empty_text = ""  # a hint drawn while there are no turns

    # -- public API ---------------------------------------------------------------------

    @property
    def following(self) -> bool:
        """Whether the view keeps the end in sight as the conversation grows. Scrolling up
        clears it, scrolling back to the bottom sets it; setting it jumps to the end."""
        return self._following

    @following.setter
    def following(self, value: bool) -> None:
        self._following = value
        if value:
            self._settle()

    def set_turns(self, turns: Sequence[Turn]) -> None:
        """Show `turns` instead of what was shown, scrolled to the end."""
        self._entries = [_TurnLines(turn, self._width) for turn in turns]
        self._rendered.clear()
        self._strips.clear()
        self._stale = 0
        self._slack = 0
        self._following = True
        self._settle()
        self.refresh()

    def add_turn(self, turn: Turn) -> None:
        """Append a turn. A person's own message brings the end back into view."""
        anchor = self._anchor()
        self._entries.append(_TurnLines(turn, self._width))
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
        before = [self.render_line(row - top) for row in range(first, bottom)] if settled else []
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
            row for row, old in zip(range(first, bottom), before, strict=True) if self.render_line(row - top) != old
        ]
        for row in changed:
            self.refresh_lines(row, 1)

    def remove_turn(self, turn: Turn) -> None:
        index = self._index_of(turn)
        if index is None:
            return
        anchor = self._anchor()
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
        self._settle(_Anchor(self._entries[index], index, 0))

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

    def last_reply_text(self) -> str | None:
        """The raw text of the last assistant turn, for copying."""
        for entry in reversed(self._entries):
            if entry.turn.role == "assistant":
                return entry.turn.content
        return None

    # -- Textual hooks ------------------------------------------------------------------

    def on_resize(self, event: events.Resize) -> None:
        width = self._viewport().width
        anchor = self._anchor()
        if width != self._width:
            self._width = width
            for entry in self._entries:
                entry.invalidate(width)
            self._strips.clear()
            self._stale = 0
        self._settle(anchor)
        self.refresh()

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
        if entry.measured and entry.is_thinking_title(top - offsets[index]):
            self.toggle_thinking(entry.turn)

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if self._settling:
            return
        self._following = round(new_value) >= self.max_scroll_y
        self._settle()

    def scroll_to(self, x: float | None = None, y: float | None = None, **options: Any) -> None:
        """Scroll at once: turns coming into view get measured and the view re-anchored on
        every step, and an animation would move it back."""
        super().scroll_to(x, y, **(options | {"animate": False}))

    def scroll_end(self, **options: Any) -> None:
        """Go to the end at once and follow it from there (the End key comes here too)."""
        self.following = True

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._palette_cache = None
        self._base_cache = None
        self._strips.clear()

    def render_line(self, y: int) -> Strip:
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
        strip = entry.line(key[1], self._width, self._palette()).crop_extend(0, width, base).apply_style(base)
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

    def _viewport(self) -> Size:
        return Size(
            max(0, self.container_size.width - self.scrollbar_size_vertical),
            max(0, self.container_size.height - self.scrollbar_size_horizontal),
        )

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

    def _index_of(self, turn: Turn) -> int | None:
        # By identity: two turns with equal fields are still different messages.
        for index in range(len(self._entries) - 1, -1, -1):
            if self._entries[index].turn is turn:
                return index
        return None

    def _mark_stale(self, index: int) -> None:
        self._stale = min(self._stale, index)

    def _sync_offsets(self) -> list[int]:
        offsets = self._offsets
        start = min(self._stale, len(self._entries))
        if start < len(self._entries) or len(offsets) != len(self._entries) + 1:
            del offsets[start + 1 :]
            total = offsets[start]
            for entry in self._entries[start:]:
                total += entry.height
                offsets.append(total)
        self._stale = len(self._entries)
        return offsets

    def _anchor(self) -> _Anchor | None:
        """The first measured turn on screen and its row: content the person has seen, which
        must stay put while estimates above and around it become measurements."""
        if self._following or not self._entries:
            return None
        offsets = self._sync_offsets()
        top = self.scroll_offset.y
        bottom = top + self._viewport().height
        index = min(bisect_right(offsets, top) - 1, len(self._entries) - 1)
        probe = index
        while probe < len(self._entries) and offsets[probe] < bottom:
            if self._entries[probe].measured:
                index = probe
                break
            probe += 1
        entry, row = self._entries[index], offsets[index] - top
        return _Anchor(entry, index, row, entry.locate(-row) if row < 0 and entry.measured else None)

    def _anchored_top(self, anchor: _Anchor, viewport: int) -> int:
        entries = self._entries
        index = anchor.index
        if index >= len(entries) or entries[index] is not anchor.entry:
            try:
                index = entries.index(anchor.entry)
            except ValueError:  # it was removed: keep the row with whatever took its place
                index = min(index, len(entries) - 1)
        offsets = self._sync_offsets()
        entry = entries[index]
        if anchor.place is not None and entry is anchor.entry and entry.measured:
            inside = entry.row_of(anchor.place)  # parts of the turn above it may have been drawn
        else:
            inside = -anchor.row
        inside = min(inside, entry.height - 1) if inside > 0 else inside
        return max(0, min(offsets[index] + inside, offsets[-1] + self._slack - viewport))

    def _settle(self, anchor: _Anchor | None = None, repaint: bool = True, ahead: bool = False) -> None:
        """Measure the turns in and near the viewport, update the virtual size and place the
        view: at the end while following, else where `anchor` (or the current top) says.
        `repaint=False`: the caller repaints what changed itself. While following, the page
        above the end is drawn after the frame that shows the end (`ahead`)."""
        if self._settling:
            return
        viewport = self._viewport()
        if not self._width or not viewport.height:
            return  # laid out on the first resize
        if not self._following and anchor is None:
            anchor = self._anchor()
        self._settling = True
        try:
            # A page above and below is drawn ahead, so a Page Up or Down lands on drawn text
            # (a long reply's parts have estimated heights until drawn).
            margin = max(4, viewport.height)
            if self._following or anchor is None or not self._entries:
                changed = self._measure_end(viewport.height + margin * ahead)
                top = self._end_top(viewport.height)
                self._slack = max(0, top + viewport.height - self._sync_offsets()[-1]) if top else 0
                if not ahead and not self._ahead_pending:
                    self._ahead_pending = True
                    self.call_after_refresh(self._draw_ahead)
            else:
                changed = False
                top = self._anchored_top(anchor, viewport.height)
                while self._measure_window(top - margin, top + viewport.height + margin):
                    changed = True
                    top = self._anchored_top(anchor, viewport.height)
            height = self._sync_offsets()[-1] + self._slack
            self._set_virtual_size(Size(viewport.width, height), viewport)
            if top != self.scroll_offset.y:
                self.scroll_to(y=top, force=True)
                changed = True
            if changed and repaint:
                self.refresh()
        finally:
            self._settling = False

    def _end_top(self, height: int) -> int:
        """The top row while following the end. A streaming reply that grows past the bottom
        scrolls the view a quarter of a page at once, leaving blank rows its next lines fill:
        scrolling repaints the whole view, filling repaints a few rows. Otherwise an end on
        screen near the bottom stays where it is, and one off screen goes to the bottom."""
        end = self._sync_offsets()[-1]
        top = self.scroll_offset.y
        step = max(1, height // 4)
        if end > top + height:
            streaming = self._entries[-1].turn.state is TurnState.STREAMING
            return max(0, end - height + step * streaming)
        if end >= top + height - step:
            return top
        return max(0, end - height)

    def _draw_ahead(self) -> None:
        self._ahead_pending = False
        if self._following:
            self._settle(ahead=True)

    def _forget_strips(self, entry: _TurnLines, keep: int = 0) -> None:
        """Drop the turn's finished lines, except rows 1 to `keep` - 1 (the header, row 0,
        shows the reply's state and always goes)."""
        for key in [key for key in self._strips if key[0] is entry and (key[1] >= keep or not key[1])]:
            del self._strips[key]

    def _set_virtual_size(self, size: Size, viewport: Size) -> None:
        """Set the scrollable size without a layout pass: the `virtual_size` reactive asks
        for one, which lays out and repaints the whole screen at every streamed update. The
        view's own size does not change (its scrollbar is always shown); only the scrollbar's
        thumb moves."""
        if size == self.virtual_size:
            return
        self.set_reactive(ConversationView.virtual_size, size)
        bar = self.vertical_scrollbar
        bar.window_virtual_size = size.height
        bar.window_size = viewport.height

    def _measure(self, index: int) -> None:
        entry = self._entries[index]
        entry.measure(self._width)
        self._mark_stale(index)
        self._rendered.pop(entry, None)
        self._rendered[entry] = None
        if len(self._rendered) > KEEP_RENDERED:
            oldest = next(iter(self._rendered))
            del self._rendered[oldest]
            oldest.forget()

    def _reveal(self, index: int, start: int, end: int) -> bool:
        """Draw rows [start, end) of a measured turn; whether its height changed."""
        entry = self._entries[index]
        if not entry.reveal(start, end, self._width):
            return False
        self._forget_strips(entry)
        self._mark_stale(index)
        return True

    def _measure_end(self, lines: int) -> bool:
        """Measure (and draw) turns from the last one backwards until `lines` lines are covered."""
        changed = False
        covered = 0
        for index in range(len(self._entries) - 1, -1, -1):
            entry = self._entries[index]
            if not entry.measured:
                self._measure(index)
                changed = True
            need = lines - covered
            while self._reveal(index, entry.height - need, entry.height):
                changed = True
            covered += entry.height
            if covered >= lines:
                break
        return changed

    def _measure_window(self, start: int, end: int) -> bool:
        """Measure and draw the turns overlapping lines [start, end)."""
        offsets = self._sync_offsets()
        changed = False
        index = max(0, bisect_right(offsets, max(0, start)) - 1)
        while index < len(self._entries) and offsets[index] < end:
            entry = self._entries[index]
            if not entry.measured:
                self._measure(index)
                changed = True
            changed |= self._reveal(index, start - offsets[index], end - offsets[index])
            index += 1
        return changed
