"""A Markdown table drawn exactly as the app's Markdown renderer draws it whole, at a cost per
update that does not grow with the rows already there.

Rich draws a table whole: it measures every cell to size the columns, then wraps every row.
Here each row is parsed and measured once, when its line is complete. Rich sizes a column from
two figures only, its widest cell and its widest word, so the columns are sized by a Rich table
holding the header and the few rows that hold those maxima. Rows are drawn only when asked for,
by a Rich table holding the header and those rows, with the columns sized for the whole table;
the row heights needed to place them come from wrapping each row's cells at those widths.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import cast

from markdown_it import MarkdownIt
from rich.console import Console, ConsoleOptions
from rich.markdown import TableBodyElement, TableElement, TableHeaderElement, TableRowElement
from rich.measure import Measurement
from rich.segment import Segment
from rich.table import Column, Table

from app.render.console import is_blank
from app.render.table_rows import CELL_LIMIT, ReadTable, RowReader, missing_cells, table_continues

__all__ = ["Row", "TableBlock", "table_continues"]

Row = list[Segment]

_UNBOUNDED = 1 << 30  # a width at which measuring a cell clamps nothing
_NEW_LINE = Segment.line()


@dataclass(frozen=True, slots=True)
class _Row:
    element: TableRowElement  # Rich's row: its cells' Text
    line: str  # the row's line in the source
    measures: tuple[tuple[int, int], ...]  # per cell: widest word, widest line (cells)
    images: bool
    empty: bool  # no text in any cell: drawn blank, as every other such row
    tabs: bool  # a tab in a cell: its measure says nothing of its wrapping


@dataclass(frozen=True, slots=True)
class _Head:
    header: TableHeaderElement
    text: str  # header and delimiter rows, each with its newline
    columns: int
    images: bool


@dataclass(slots=True)
class _Layout:
    """The table drawn at one width with one set of column widths."""

    width: int
    widths: list[int]
    inner: list[int]  # per column: cells wrap to this width, the padding taken off
    columns: list[Column]
    frame: list[Row]  # top edge, header, separator, bottom edge
    counted: int = 0  # complete rows whose heights are known
    ends: list[int] | None = None  # their cumulative heights; None while every one is 1 line
    drawn: dict[int, list[Row]] = field(default_factory=dict)
    partial: tuple[_Row, list[Row]] | None = None
    prefix: tuple[tuple[int, str], list[Row]] | None = None
    trim: tuple[int, int, int] | None = None  # (source version, first, end)

    @property
    def head(self) -> int:
        return len(self.frame) - 3

    def body(self) -> int:
        """Lines of the complete rows counted."""
        return self.ends[-1] if self.ends else self.counted

    def start(self, row: int) -> int:
        if self.ends is None:
            return row
        return self.ends[row - 1] if row else 0

    def row_at(self, y: int) -> int:
        return y if self.ends is None else bisect_right(self.ends, y)


class TableBlock:
    """A Markdown table drawn as the app's renderer draws it, kept up to date as rows arrive."""

    def __init__(self, console: Console, parser: MarkdownIt) -> None:
        """`console` is configured as the one the app draws with; `parser` is the app's."""
        self._console = console
        self._reader = RowReader(console, parser)
        self._unbounded = console.options.update_width(_UNBOUNDED)
        # Cells measured, cells wrapped to count their lines, rows drawn: lets tests check
        # that a row costs the same however many came before it.
        self.measures = self.wraps = self.draws = 0
        self._reset()

    @property
    def parses(self) -> int:
        return self._reader.parses

    def _reset(self) -> None:
        self._source = ""
        self._head: _Head | None = None
        self._open = False  # the delimiter row is complete: body rows can be read
        self._done = 0  # the end of the last complete line read
        self._ended = False  # a complete line ended the table: nothing after it is the table's
        self._missing = 0  # cells markdown-it filled in so far
        self._rows: list[_Row] = []
        self._partial: _Row | None = None
        self._partial_end = 0
        # Per column, over the complete rows: widest word and its row, widest line and its row.
        self._widest: list[list[int]] = []
        self._trailing_empty = 0  # empty rows at the end
        self._image_rows: list[int] = []
        self._tabbed = 0  # rows with a tab in a cell
        self._layout: _Layout | None = None
        self._laid_out: tuple[int, int] | None = None  # (source version, width) of the layout
        self._widths_cache: dict[tuple[object, ...], list[int]] = {}
        self._version = 0

    # -- reading ------------------------------------------------------------------------

    def set_source(self, source: str) -> None:
        """The table's Markdown as it stands: header row, delimiter row, body rows; the last
        line may be partial. Usually the previous source plus more; anything else starts over."""
        if source == self._source:
            return
        if not self._open or not source.startswith(self._source):
            self._reset()
        self._source = source
        self._version += 1
        if not self._open and not self._read_head(source):
            return
        if not self._ended:
            end = source.rfind("\n") + 1
            if end > self._done:
                self._read_lines(source[self._done : end])
            self._partial = None if self._ended else self._read_partial(source[self._done :])

    @property
    def length(self) -> int:
        """How much of the source is the table: all of it, unless a line ended the table, or
        markdown-it ended it having filled in as many missing cells as it will."""
        if not self._open:
            return len(self._source) if self._head is not None else 0
        return self._partial_end if self._partial is not None else self._done

    def _read_head(self, source: str) -> bool:
        """Read the header and delimiter rows; whether the body can be read (the delimiter row
        is complete)."""
        first = source.find("\n")
        if first < 0:
            return False
        second = source.find("\n", first + 1)
        text = source if second < 0 else source[: second + 1]
        read = self._reader.read(text, self._console.options)
        if read is None:
            return False
        assert read.header.row is not None  # the reader returns only tables with a header
        self._head = _Head(read.header, text, len(read.header.row.cells), read.header_images)
        self._widest = [[-1, -1, -1, -1] for _ in range(self._head.columns)]
        if second < 0:
            return False
        self._open = True
        self._done = second + 1
        return True

    def _read_lines(self, text: str) -> None:
        """Complete lines after those read: rows, until one ends the table."""
        assert self._head is not None
        lines = text.split("\n")[:-1]
        missing: list[int] = []  # per line
        total = self._missing
        for line in lines:
            missing.append(missing_cells(line, self._head.columns))
            total += missing[-1]
            if total > CELL_LIMIT:
                self._ended = True
                break
        if self._ended:  # the line that went over the limit is not a row
            missing.pop()
        lines = lines[: len(missing)]
        while lines:
            read = self._read("\n".join(lines) + "\n")
            if not read.rows:
                self._ended = True
                break
            for line, element, images, filled in zip(lines, read.rows, read.images, missing, strict=False):
                self._add(self._row(line, element, images))
                self._missing += filled
                self._done += len(line) + 1
            lines, missing = lines[len(read.rows) :], missing[len(read.rows) :]

    def _read_partial(self, line: str) -> _Row | None:
        assert self._head is not None
        if not line or self._missing + missing_cells(line, self._head.columns) > CELL_LIMIT:
            return None
        read = self._read(line)
        if not read.rows:
            return None
        self._partial_end = len(self._source)
        return self._row(line, read.rows[0], read.images[0])

    def _read(self, lines: str, options: ConsoleOptions | None = None) -> ReadTable:
        assert self._head is not None
        read = self._reader.read(self._head.text + lines, options or self._console.options)
        assert read is not None  # the header and delimiter rows make a table whatever follows
        return read

    def _row(self, line: str, element: TableRowElement, images: bool) -> _Row:
        measures = []
        for cell in element.cells:
            self.measures += 1
            measure = Measurement.get(self._console, self._unbounded, cell.content)
            measures.append((measure.minimum, measure.maximum))
        plains = [cell.content.plain for cell in element.cells]
        return _Row(
            element,
            line,
            tuple(measures),
            images,
            not any(plains),
            any("\t" in plain for plain in plains),
        )

    def _add(self, row: _Row) -> None:
        index = len(self._rows)
        self._rows.append(row)
        for widest, (minimum, maximum) in zip(self._widest, row.measures, strict=True):
            if minimum > widest[0]:
                widest[0:2] = minimum, index
            if maximum > widest[2]:
                widest[2:4] = maximum, index
        self._trailing_empty = self._trailing_empty + 1 if row.empty else 0
        if row.images:
            self._image_rows.append(index)
        self._tabbed += row.tabs

    # -- sizing -------------------------------------------------------------------------

    def _options(self, width: int) -> ConsoleOptions:
        return self._console.options.update(width=width, height=None)

    def _table(self, rows: Sequence[TableRowElement]) -> Table:
        """The Rich table that Rich's Markdown makes of the header and these rows."""
        assert self._head is not None
        element = TableElement()
        element.header = self._head.header
        element.body = TableBodyElement()
        element.body.rows = list(rows)
        table = next(iter(element.__rich_console__(self._console, self._console.options)))
        if not isinstance(table, Table):
            raise TypeError(f"Rich's Markdown made a {type(table).__name__} of a table")
        return table

    def _widths(self, width: int) -> list[int]:
        """Column widths (padding included) as Rich computes them for the whole table."""
        partial = self._partial
        key = (width, *map(tuple, self._widest), partial.measures if partial else None)
        widths = self._widths_cache.get(key)
        if widths is None:
            holders = sorted({index for widest in self._widest for index in widest[1::2] if index >= 0})
            rows = [self._rows[index].element for index in holders]
            if partial is not None:
                rows.append(partial.element)
            table = self._table(rows)
            options = self._options(width)
            widths = table._calculate_column_widths(
                self._console, options.update_width(options.max_width - table._extra_width)
            )
            if len(self._widths_cache) > 16:
                self._widths_cache.clear()
            self._widths_cache[key] = widths
        return widths

    def _layout_at(self, width: int) -> _Layout:
        width = max(1, width)
        if self._layout is not None and self._laid_out == (self._version, width):
            return self._layout  # the view asks for each row: this once per update
        widths = self._widths(width)
        layout = self._layout
        if layout is None or layout.width != width or layout.widths != widths:
            table = self._table([])
            inner = [w - table._get_padding_width(index) for index, w in enumerate(widths)]
            frame = self._draw(table, widths, width)
            layout = self._layout = _Layout(width, widths, inner, table.columns, frame)
        self._count(layout)
        self._laid_out = (self._version, width)
        return layout

    def _count(self, layout: _Layout) -> None:
        """Heights of the complete rows not counted yet."""
        if (
            layout.ends is None
            and not self._tabbed
            and all(inner > 0 and widest[2] <= inner for widest, inner in zip(self._widest, layout.inner, strict=True))
        ):
            layout.counted = len(self._rows)  # every cell fits its column: every row is a line
            return
        for row in self._rows[layout.counted :]:
            height = self._height(row, layout)
            if layout.ends is None and height != 1:
                layout.ends = list(range(1, layout.counted + 1))
            if layout.ends is not None:
                layout.ends.append((layout.ends[-1] if layout.ends else 0) + height)
            layout.counted += 1

    def _height(self, row: _Row, layout: _Layout) -> int:
        """Lines of a row, as Rich's table wraps its cells: the padding taken off a column's
        width, each cell's `Text` wraps as it does when drawn."""
        if not row.tabs and all(
            inner > 0 and maximum <= inner for (_, maximum), inner in zip(row.measures, layout.inner, strict=True)
        ):
            return 1
        height = 1
        for cell, inner, column in zip(row.element.cells, layout.inner, layout.columns, strict=True):
            if inner < 1:
                continue  # Rich draws nothing of a cell with no room
            text = cell.content
            self.wraps += 1
            lines = text.wrap(
                self._console,
                inner,
                justify=text.justify or column.justify,
                overflow=text.overflow or column.overflow,
                tab_size=(self._console.tab_size if text.tab_size is None else text.tab_size) or 8,
                no_wrap=column.no_wrap if text.no_wrap is None else text.no_wrap,
            )
            height = max(height, len(lines))
        return height

    # -- drawing ------------------------------------------------------------------------

    def _draw(self, table: Table, widths: list[int], width: int) -> list[Row]:
        """The table's lines at these column widths, as Rich draws it in `width` cells."""
        options = self._options(width).update(
            width=sum(widths) + table._extra_width, highlight=table.highlight, height=None
        )
        # Annotated as any render result, Rich's table drawing yields segments only.
        segments = cast("Iterable[Segment]", table._render(self._console, options, widths))
        return list(Segment.split_and_crop_lines(segments, width, pad=True, include_new_lines=False))

    def _draw_rows(self, rows: Sequence[_Row], layout: _Layout) -> list[Row]:
        self.draws += len(rows)
        lines = self._draw(self._table([row.element for row in rows]), layout.widths, layout.width)
        return lines[layout.head + 2 : -1]

    def _drawn(self, index: int, layout: _Layout) -> list[Row]:
        lines = layout.drawn.get(index)
        if lines is None:
            lines = layout.drawn[index] = self._draw_rows([self._rows[index]], layout)
        return lines

    def _ensure_drawn(self, first: int, end: int, layout: _Layout) -> None:
        """Draw the rows first..end not drawn yet, each run of them in one table."""
        index = first
        while index < end:
            if index in layout.drawn:
                index += 1
                continue
            run = index
            while run < end and run not in layout.drawn:
                run += 1
            lines = self._draw_rows(self._rows[index:run], layout)
            offset = layout.start(index)
            for row in range(index, run):
                layout.drawn[row] = lines[layout.start(row) - offset : layout.start(row + 1) - offset]
            index = run

    def _partial_lines(self, layout: _Layout) -> list[Row]:
        partial = self._partial
        if partial is None:
            return []
        if layout.partial is None or layout.partial[0] is not partial:
            layout.partial = (partial, self._draw_rows([partial], layout))
        return layout.partial[1]

    def _prefix(self, layout: _Layout) -> list[Row]:
        """What Rich draws above a table with images in its cells: the images, which it draws
        as it reads them rather than in the cells."""
        assert self._head is not None
        partial = self._partial if self._partial is not None and self._partial.images else None
        if not (self._head.images or self._image_rows or partial):
            return []
        key = (len(self._image_rows), partial.line if partial else "")
        if layout.prefix is None or layout.prefix[0] != key:
            lines = "".join(self._rows[index].line + "\n" for index in self._image_rows)
            read = self._read(lines + key[1], self._options(layout.width))
            segments = read.segments
            if segments and segments[0] == _NEW_LINE:
                segments = segments[1:]  # the renderer drops a block's leading newline
            drawn = list(Segment.split_and_crop_lines(segments, layout.width, pad=True, include_new_lines=False))
            layout.prefix = (key, drawn)
        return layout.prefix[1]

    def _line(self, y: int, layout: _Layout) -> Row:
        """Line `y` of everything Rich draws for the table, before blank edges are trimmed."""
        prefix = self._prefix(layout)
        if y < len(prefix):
            return prefix[y]
        y -= len(prefix)
        head = layout.head
        if y < head + 2:
            return layout.frame[y]
        y -= head + 2
        body = layout.body()
        if y < body:
            index = layout.row_at(y)
            return self._drawn(index, layout)[y - layout.start(index)]
        y -= body
        partial = self._partial_lines(layout)
        return partial[y] if y < len(partial) else layout.frame[-1]

    def _trim(self, layout: _Layout) -> tuple[int, int]:
        """The lines left once blank edge lines are trimmed, as the renderer does: (first, end)."""
        if layout.trim is not None and layout.trim[0] == self._version:
            return layout.trim[1], layout.trim[2]
        prefix = len(self._prefix(layout))
        body_start = prefix + layout.head + 2
        total = body_start + layout.body() + len(self._partial_lines(layout)) + 1
        first = 0
        while first < total and is_blank(self._line(first, layout)):
            first += 1
        end = total
        empty_from = len(self._rows) - self._trailing_empty
        while end > first and is_blank(self._line(end - 1, layout)):
            end -= 1
            if 0 <= end - body_start < layout.body() and layout.row_at(end - body_start) >= empty_from:
                # Every empty row draws alike: one of them blank, all of them blank.
                end = max(first, body_start + layout.start(empty_from))
        layout.trim = (self._version, first, end)
        return first, end

    # -- what the view asks -------------------------------------------------------------

    def height(self, width: int) -> int:
        """Lines of the table at `width`."""
        if self._head is None:
            return 0
        layout = self._layout_at(width)
        first, end = self._trim(layout)
        return end - first

    def rows(self, start: int, end: int, width: int) -> list[Row]:
        """Lines start..end of the table at `width`, each exactly `width` cells."""
        if self._head is None:
            return []
        layout = self._layout_at(width)
        first, last = self._trim(layout)
        start, end = first + max(0, start), min(last, first + end)
        if start >= end:
            return []
        body_start = len(self._prefix(layout)) + layout.head + 2
        body = layout.body()
        low, high = max(start - body_start, 0), min(end - body_start, body)
        if low < high:
            self._ensure_drawn(layout.row_at(low), layout.row_at(high - 1) + 1, layout)
        return [self._line(y, layout) for y in range(start, end)]

    def settled_rows(self, width: int) -> int:
        """Lines at the top that more rows cannot change: none while the table may go on, since
        a wider cell resizes every column and Rich draws a new row's images above the table;
        all of them once a line has ended it."""
        return self.height(width) if self._ended else 0
