"""Text selected with the mouse in the conversation: what is shown highlighted, and what is
copied (the text as drawn, without the gutter, a code block's padding or the colours)."""

from __future__ import annotations

from collections.abc import Callable

from rich.segment import Segment
from rich.style import Style
from textual.selection import Selection
from textual.strip import Strip


def highlight(strip: Strip, start: int, end: int, style: Style) -> Strip:
    """`strip` with characters [start, end) drawn in `style` (end -1: to the end)."""
    segments: list[Segment] = []
    position = 0
    for segment in strip:
        text, old, control = segment
        after = position + len(text)
        if control or after <= start or (end != -1 and position >= end):
            segments.append(segment)
        else:
            first = max(start, position) - position
            last = len(text) if end == -1 else min(end, after) - position
            if first:
                segments.append(Segment(text[:first], old))
            segments.append(Segment(text[first:last], (old or Style()) + style))
            if last < len(text):
                segments.append(Segment(text[last:], old))
        position = after
    return Strip(segments, strip.cell_length)


def selected_text(selection: Selection, rows: int, plain: Callable[[int], tuple[str | None, int]]) -> str:
    """The text of rows `selection` covers. `plain(y)` gives a row's text (None: nothing to
    copy there) and the characters before it on screen (the gutter), which the selection's
    columns count too."""
    first = selection.start.y if selection.start is not None else 0
    last = selection.end.y if selection.end is not None else rows - 1
    lines: list[str] = []
    for y in range(max(0, first), min(rows, last + 1)):
        text, skip = plain(y)
        if text is None:
            continue
        span = selection.get_span(y)
        if span is None:
            continue
        start, end = span
        start = max(0, start - skip)
        end = len(text) if end == -1 else max(0, end - skip)
        lines.append(text[start:end])
    return "\n".join(lines)
