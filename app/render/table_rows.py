"""A Markdown table's rows read as markdown-it and Rich's Markdown read them, a few lines at a
time, and where markdown-it ends a table.

markdown-it reads each row of a table from its own line, knowing only the header's column
count and alignments, so a table's header and delimiter rows followed by some of its lines
parse those rows exactly as the whole table does. Rich's Markdown then turns each cell into the
`Text` it puts in its table; here its table element is kept instead of drawn.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, ClassVar

from markdown_it import MarkdownIt
from markdown_it.common.utils import mdTrim
from markdown_it.rules_block.state_block import StateBlock
from markdown_it.rules_block.table import MAX_AUTOCOMPLETED_CELLS, escapedSplit
from rich.markdown import (
    Markdown,
    MarkdownElement,
    TableElement,
    TableHeaderElement,
    TableRowElement,
)

if TYPE_CHECKING:
    from markdown_it.parser_block import RuleFuncBlockType
    from markdown_it.token import Token
    from rich.console import Console, ConsoleOptions
    from rich.segment import Segment

# markdown-it stops a table once it has filled in this many missing cells (rows shorter than
# the header) in all; rows with more cells than the header count against it.
CELL_LIMIT = MAX_AUTOCOMPLETED_CELLS


@cache
def _terminators() -> tuple[MarkdownIt, list[RuleFuncBlockType]]:
    # markdown-it ends a table's rows at a line that would interrupt a block quote. The rules
    # that may are the same for every parser with the CommonMark rules; with raw HTML off, as
    # the app parses, an HTML block never does.
    parser = MarkdownIt("commonmark", {"html": False})
    return parser, parser.block.ruler.getRules("blockquote")


def table_continues(line: str) -> bool:
    """Whether a complete line (without its newline) after a table's rows at the top level is
    one more row, as markdown-it's table rule decides: not blank, not indented as code, and not
    the start of a fence, a quote, a rule, a list item or a heading.

    One more limit is not a line's own: markdown-it ends a table that has filled in
    `CELL_LIMIT` missing cells. `TableBlock.length` shows it.
    """
    if line.startswith("|"):  # no other block starts with a pipe
        return True
    parser, rules = _terminators()
    state = StateBlock(line, parser, {}, [])
    state.parentType = "table"
    if any(rule(state, 0, 1, True) for rule in rules):
        return False
    return bool(mdTrim(line)) and not state.is_code_block(0)


def missing_cells(line: str, columns: int) -> int:
    """How many cells markdown-it fills in for a row line of a table of `columns` columns
    (negative when the line has more cells, which it drops)."""
    cells = escapedSplit(mdTrim(line))
    if cells and cells[0] == "":
        cells.pop(0)
    if cells and cells[-1] == "":
        cells.pop()
    return columns - len(cells)


class _Kept(TableElement):
    """Rich's table element, kept by the reader rather than drawn."""

    @classmethod
    def create(cls, markdown: Markdown, token: Token) -> MarkdownElement:
        element = cls()
        if isinstance(markdown, _Reader):
            markdown.tables.append(element)
        return element

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[Segment]:
        return iter(())


class _Reader(Markdown):
    """Rich's Markdown as the app configures it, keeping the tables it reads."""

    elements: ClassVar[dict[str, type[MarkdownElement]]] = {**Markdown.elements, "table_open": _Kept}

    def __init__(self) -> None:
        super().__init__("", hyperlinks=False)
        self.tables: list[TableElement] = []


@dataclass(frozen=True, slots=True)
class ReadTable:
    """What Rich's Markdown made of a table's lines."""

    header: TableHeaderElement
    rows: list[TableRowElement]
    images: list[bool]  # per row: whether a cell holds an image (Rich draws those above the table)
    header_images: bool
    segments: list[Segment]  # what Rich's Markdown drew for it, the table itself left out


class RowReader:
    """Reads a table's lines with the app's parser and Rich's Markdown."""

    def __init__(self, console: Console, parser: MarkdownIt) -> None:
        self._console = console
        self._parser = parser
        self._reader = _Reader()
        self.parses = 0  # how many times markdown-it parsed: lets tests count the work

    def read(self, text: str, options: ConsoleOptions) -> ReadTable | None:
        """The table that `text` starts with, or None if it does not start with one.

        `options` matter only to the segments: the images Rich draws above the table.
        """
        self.parses += 1
        tokens = self._parser.parse(text)
        if not tokens or tokens[0].type != "table_open":
            return None
        end = next(index for index, token in enumerate(tokens) if token.type == "table_close")
        tokens = tokens[: end + 1]
        reader = self._reader
        reader.parsed = tokens
        reader.tables = []
        segments = list(self._console.render(reader, options))
        table = reader.tables[0]
        if table.header is None or table.header.row is None:
            return None
        images = _images(tokens)
        return ReadTable(
            table.header,
            table.body.rows if table.body is not None else [],
            images[1:],
            images[0],
            segments,
        )


def _images(tokens: list[Token]) -> list[bool]:
    """Per row of the table, the header first: whether one of its cells holds an image."""
    rows: list[bool] = []
    for token in tokens:
        if token.type == "tr_open":
            rows.append(False)
        elif token.type == "inline" and any(child.type == "image" for child in token.children or ()):
            rows[-1] = True
    return rows
