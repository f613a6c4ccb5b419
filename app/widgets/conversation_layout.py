"""The laying out and scrolling of a conversation drawn line by line (Textual's Line API).

Turns that were never drawn have an estimated height; when a turn is really measured its
estimate is replaced and the scroll position corrected so that nothing on screen moves. While
a reply streams the view follows the end, unless the person scrolled up.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from typing import Any

from rich.style import Style
from textual import events
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from app.conversation import Turn, TurnState
from app.render.markdown import CODE_THEME
from app.widgets.turn_lines import TurnLines

KEEP_RENDERED = 100  # turns whose lines stay in memory; others keep only their height


@dataclass(frozen=True, slots=True)
class Anchor:
    """What the person is looking at: a turn and the screen row where it starts (negative
    when the top of the view is inside it)."""

    entry: TurnLines
    index: int
    row: int
    place: tuple[int, int, int] | None = None  # the row at the top, when that is inside the turn


class LaidOutTurns(ScrollView):
    """Turns laid out one under the other; the subclass draws them."""

    def __init__(
        self,
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._entries: list[TurnLines] = []
        self._offsets: list[int] = [0]  # _offsets[i]: first line of turn i; last: total
        self._stale = 0  # _offsets is valid up to and including this turn index
        self._width = 0  # content width the turns are laid out for; 0 until sized
        self._following = True
        self._settling = False
        self._ahead_pending = False  # a _draw_ahead is queued
        self._slack = 0  # blank rows after the end, left by a streaming reply (see _end_top)
        self._stepped = False  # the end was last placed by a streaming reply's step
        # Finished screen lines by (turn, row in it): a scrolled frame redraws every row on
        # screen, and composing a line makes four strips.
        self._strips: dict[tuple[TurnLines, int], Strip] = {}
        # Rows drawn before, even once forgotten: (the turn's line, width, base style, strip).
        self._finals: dict[tuple[TurnLines, int], tuple[Strip, int, Style, Strip]] = {}
        self._rendered: dict[TurnLines, None] = {}  # turns holding lines, least recent first
        self.empty_text = ""  # a hint drawn while there are no turns
        self._code_theme = CODE_THEME  # the Pygments style code is drawn in

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

    def _viewport(self) -> Size:
        return Size(
            max(0, self.container_size.width - self.scrollbar_size_vertical),
            max(0, self.container_size.height - self.scrollbar_size_horizontal),
        )

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

    def _anchor(self) -> Anchor | None:
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
        return Anchor(
            entry,
            index,
            row,
            entry.locate(-row) if row < 0 and entry.measured else None,
        )

    def _anchored_top(self, anchor: Anchor, viewport: int) -> int:
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

    def _settle(self, anchor: Anchor | None = None, repaint: bool = True, ahead: bool = False) -> None:
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
        scrolling repaints the whole view, filling repaints a few rows. Otherwise an end left
        near the bottom by such a step stays where it is (nothing moves when the reply ends),
        and any other end goes to the bottom (an opened conversation whose estimates were too
        high leaves no blank rows)."""
        end = self._sync_offsets()[-1]
        top = self.scroll_offset.y
        step = max(1, height // 4)
        if end > top + height:
            self._stepped = self._entries[-1].turn.state is TurnState.STREAMING
            return max(0, end - height + step * self._stepped)
        if self._stepped and end >= top + height - step:
            return top
        self._stepped = False
        return max(0, end - height)

    def _draw_ahead(self) -> None:
        self._ahead_pending = False
        if self._following:
            self._settle(ahead=True)

    def _forget_strips(self, entry: TurnLines, keep: int = 0) -> None:
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
        self.set_reactive(ScrollView.virtual_size, size)
        bar = self.vertical_scrollbar
        bar.window_virtual_size = size.height
        bar.window_size = viewport.height

    def _measure(self, index: int) -> None:
        entry = self._entries[index]
        entry.measure(self._width, self._code_theme)
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
