"""A TextArea that never draws control characters: text may be pasted, recalled or stored."""

from __future__ import annotations

from rich.segment import Segment
from textual.strip import Strip
from textual.widgets import TextArea

_CONTROLS = dict.fromkeys([*range(0x20), *range(0x7F, 0xA0)])


class SafeTextArea(TextArea):
    def render_line(self, y: int) -> Strip:
        """Control characters (a pasted C1 code, a recalled message) are drawn as nothing:
        they are zero cells wide, so the layout and the cursor stay right. The text is kept."""
        strip = super().render_line(y)
        return Strip(
            [Segment(text.translate(_CONTROLS), style, control) for text, style, control in strip], strip.cell_length
        )
