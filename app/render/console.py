"""The one Rich console every part of the renderer draws with, and the row type they share."""

from __future__ import annotations

from io import StringIO

from rich.console import Console, ConsoleOptions
from rich.segment import Segment
from rich.style import Style
from rich.text import Text

from app.text import sanitize

Row = list[Segment]  # one terminal row, exactly as many cells wide as it was drawn for

CONSOLE = Console(
    width=80,
    color_system="truecolor",
    force_terminal=True,
    legacy_windows=False,
    no_color=False,
    markup=False,
    emoji=False,
    highlight=False,
    file=StringIO(),
)


def options(width: int) -> ConsoleOptions:
    return CONSOLE.options.update(width=width, height=None)


def blank_row(width: int, style: Style | None = None) -> Row:
    return [Segment(" " * width, style)] if width > 0 else []


def is_blank(row: Row) -> bool:
    """A row with nothing on it: only spaces, and no background of its own."""
    return all(not segment.text.strip(" ") and not (segment.style and segment.style.bgcolor) for segment in row)


def estimate_rows(text: str, width: int) -> int:
    """A cheap guess at the rows a text takes at `width`: its lines, plus one per `width`
    characters for wrapping."""
    return text.count("\n") + 1 + len(text) // max(1, width) if text else 0


def render_plain(text: str, width: int, style: Style | None = None) -> list[Row]:
    """Untrusted plain text wrapped to `width` cells (for error notes and the like)."""
    width = max(1, width)
    return CONSOLE.render_lines(Text(sanitize(text), style=style or Style()), options(width), pad=True)
