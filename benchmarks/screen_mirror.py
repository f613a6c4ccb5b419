"""The screen a terminal would show: the app's frames applied in order to a grid of cells.

Headless, Textual composes every frame (the whole screen, or the changed pieces of lines) and
hands it to `App._display`, which skips encoding and writing it. Applying those updates in
order, as a terminal applies what it is sent, gives what the screen would hold: a row the app
changed but never repainted keeps its old cells here, as it would on a real screen.
"""

from __future__ import annotations

import io
from collections.abc import Iterable

from rich.cells import cell_len
from rich.console import Console, ConsoleRenderable
from rich.segment import ControlType, Segment
from rich.style import Style
from textual.geometry import Region

Cell = tuple[str, Style]  # a character and its style; "" for the right half of a wide one
UNKNOWN: Cell = ("\0", Style.null())  # never written: no frame reached that cell


class ScreenMirror:
    def __init__(self, width: int, height: int) -> None:
        self.width = width
        self.height = height
        self.rows: list[list[Cell]] = [[UNKNOWN] * width for _ in range(height)]
        self._console = Console(width=width, height=height, file=io.StringIO(), color_system="truecolor")

    def apply(self, update: ConsoleRenderable) -> None:
        """Write one frame: the segments it renders to, at the places its cursor moves say."""
        x = y = 0
        for segment in update.__rich_console__(self._console, self._console.options):
            if not isinstance(segment, Segment):
                continue  # an update renders to segments only
            if segment.control:
                for code in segment.control:
                    if code[0] == ControlType.CURSOR_MOVE_TO and len(code) == 3:
                        x, y = code[1], code[2]
                continue
            if segment.text == "\n" or not 0 <= y < self.height:
                continue  # the line breaks between rows come before a move to the next one
            row = self.rows[y]
            style = (segment.style or Style.null()).clear_meta_and_links()
            for character in segment.text:
                width = cell_len(character)
                if 0 <= x < self.width:
                    row[x] = (character, style)
                    if width == 2 and x + 1 < self.width:
                        row[x + 1] = ("", style)
                x += width

    def apply_all(self, updates: Iterable[ConsoleRenderable]) -> ScreenMirror:
        for update in updates:
            self.apply(update)
        return self

    def region(self, region: Region) -> list[list[Cell]]:
        """The cells of a rectangle of the screen, row by row."""
        return [self.rows[y][region.x : region.right] for y in range(region.y, region.bottom)]


def text(row: list[Cell]) -> str:
    return "".join(character for character, _ in row)
