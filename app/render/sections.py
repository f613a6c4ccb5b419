"""A message's spans (see `structure`) drawn: each kind of span by the part that draws it
without redoing what did not change.

A section has an estimated height until it is measured; the message renderer measures only
what comes into view, and the open end of a streaming message at every update.
"""

from __future__ import annotations

from copy import copy
from dataclasses import dataclass, replace
from typing import Protocol

from app.render.console import CONSOLE, Row, blank_row, estimate_rows
from app.render.markdown import CODE_THEME, LAST_NUMBER, Block, block_parser, blocks, draw_tokens, parser
from app.render.structure import Kind, Span


@dataclass(frozen=True, slots=True)
class CodeText:
    """A fenced code block's language and code, as written (for copying and saving)."""

    language: str
    code: str


class Drawing(Protocol):
    """What draws a paragraph, a code block or a table, kept up to date as its text grows."""

    def height(self, width: int) -> int: ...
    def rows(self, start: int, end: int, width: int) -> list[Row]: ...
    def settled_rows(self, width: int) -> int: ...


class Section:
    """One span of the message: its height, and its rows once drawn."""

    def __init__(self, span: Span, text: str, breaks: bool, code_theme: str) -> None:
        self.span = copy(span)  # the structure goes on changing its own
        self.text = text  # the whole message: the span says which part is this section's
        self.breaks = breaks
        self.code_theme = code_theme
        self.rows: int | None = None  # measured height at `width`; None: use the estimate
        self.width = 0
        self.draws = 0  # how many times this section drew rows: lets tests check the work done
        self._code: list[CodeText] | None = None

    def update(self, span: Span, text: str) -> bool:
        """The span as the structure sees it now; whether it changed."""
        self.text = text
        if span == self.span:
            return False
        # Blank lines after a block change nothing drawn: keep what was measured.
        unchanged = replace(span, end=0) == replace(self.span, end=0)
        self.span = copy(span)
        if unchanged:
            return False
        self.rows = None
        self._code = None
        return True

    def code_blocks(self) -> list[CodeText]:
        """The fenced code blocks in this section, nested ones (in a list, a quote) too."""
        if self._code is None:
            self._code = [
                CodeText(token.info.strip().partition(" ")[0], token.content)
                for token in block_parser().parse(self.source)
                if token.type == "fence"
            ]
        return self._code

    @property
    def source(self) -> str:
        return self.text[self.span.start : self.span.end]

    def estimate(self, width: int) -> int:
        # Markdown's blank is spaces and tabs only: a line of other white space (U+00A0)
        # still draws, and a section guessed at 0 rows would never be drawn.
        return estimate_rows(self.text[self.span.start : self.span.end].rstrip(" \t\n"), width)

    def height(self, width: int) -> int:
        return self.rows if self.rows is not None and width == self.width else self.estimate(width)

    def measure(self, width: int) -> int:
        raise NotImplementedError

    def row(self, y: int, width: int) -> Row:
        raise NotImplementedError

    def settled(self, width: int) -> int:
        """Rows at the top that more text at the end of the message cannot change."""
        return 0

    def drop(self) -> None:
        """Let go of drawn rows; the height stays known."""

    @property
    def holds_rows(self) -> bool:
        return False


class MarkdownSection(Section):
    """Ordinary blocks, parsed alone and drawn whole. A block's rows are kept by its source,
    so that when an open section grows only its changed last block is drawn again."""

    def __init__(self, span: Span, text: str, breaks: bool, code_theme: str) -> None:
        super().__init__(span, text, breaks, code_theme)
        self._lines: list[Row] | None = None
        self._drawn: dict[str, list[Row]] = {}
        self._last = 0  # rows of the last block

    def update(self, span: Span, text: str) -> bool:
        changed = super().update(span, text)
        if changed:
            self._lines = None
        return changed

    def _blocks(self) -> list[Block]:
        return blocks(self.source, self.breaks)

    def _draw_block(self, block: Block, width: int) -> list[Row]:
        return draw_tokens(block.tokens, width, self.code_theme)

    def measure(self, width: int) -> int:
        if width != self.width:
            self.width, self._drawn, self._lines = width, {}, None
        if self._lines is None:
            drawn: dict[str, list[Row]] = {}
            lines: list[Row] = []
            for block in self._blocks():
                rows = self._drawn.get(block.source)
                if rows is None:
                    self.draws += 1
                    rows = self._draw_block(block, width)
                drawn[block.source] = rows
                if rows and lines:
                    lines.append(blank_row(width))
                lines.extend(rows)
                self._last = len(rows)
            self._drawn, self._lines = drawn, lines
        self.rows = len(self._lines)
        return self.rows

    def row(self, y: int, width: int) -> Row:
        if self._lines is None or width != self.width:
            self.measure(width)
        assert self._lines is not None
        return self._lines[y] if 0 <= y < len(self._lines) else blank_row(width)

    def settled(self, width: int) -> int:
        """Every block but the last is final (blocks are cut where the last may change)."""
        if self._lines is None or width != self.width:
            return 0
        return max(0, len(self._lines) - self._last - 1)

    def drop(self) -> None:
        self._lines, self._drawn = None, {}

    @property
    def holds_rows(self) -> bool:
        return self._lines is not None


class ListCount:
    """What the runs of one ordered list share: the number Rich sizes its numbers by."""

    __slots__ = ("first", "last_number")

    def __init__(self, first: int) -> None:
        self.first = first  # index of the list's first run among the message's sections
        self.last_number = 0


class ListSection(MarkdownSection):
    """A run of items of a list: numbered from where the run starts in its list, and with
    the numbers as wide as the whole list's last one needs."""

    count: ListCount | None = None  # an ordered list's, set by the renderer

    @property
    def last_number(self) -> int:
        return self.count.last_number if self.count is not None else 0

    def _draw_block(self, block: Block, width: int) -> list[Row]:
        opening = block.tokens[0]
        if opening.type == "ordered_list_open" and self.span.number is not None:
            opening.attrs["start"] = self.span.number + self.span.first_item
            opening.meta[LAST_NUMBER] = self.last_number
        return draw_tokens(block.tokens, width, self.code_theme)

    def _blocks(self) -> list[Block]:
        # A run of items keeps its drawn rows only while the numbers keep their width.
        found = super()._blocks()
        return [Block(f"{self.last_number}:{block.source}", block.tokens) for block in found]


class DrawnSection(Section):
    """A paragraph, a code block or a table, drawn by a part that redoes only what changed."""

    def __init__(self, span: Span, text: str, breaks: bool, code_theme: str) -> None:
        super().__init__(span, text, breaks, code_theme)
        self._drawing: Drawing | None = None
        self._fed = False  # the drawing has the section's text as it stands
        self._counted = False

    def update(self, span: Span, text: str) -> bool:
        changed = super().update(span, text)
        self._fed = self._fed and not changed
        return changed

    def _feed(self) -> Drawing:
        if self._drawing is None:
            self._drawing = self._make()
            self._fed = False
        if not self._fed:
            self._set(self._drawing, self._content())
            self._fed = True
            self._counted = False
        return self._drawing

    def measure(self, width: int) -> int:
        drawing = self._feed()
        if width != self.width or not self._counted:
            self.draws += 1  # drawn anew: new text, or a new width
            self._counted = True
        self.width = width
        self.rows = drawing.height(width)
        return self.rows

    def row(self, y: int, width: int) -> Row:
        drawing = self._feed()
        rows = drawing.rows(y, y + 1, width)
        return rows[0] if rows else blank_row(width)

    def settled(self, width: int) -> int:
        return self._drawing.settled_rows(width) if self._drawing is not None and self._fed else 0

    def drop(self) -> None:
        self._drawing, self._fed = None, False

    @property
    def holds_rows(self) -> bool:
        return self._drawing is not None

    def _content(self) -> str:
        return self.text[self.span.start : self.span.body_end]

    def _make(self) -> Drawing:
        raise NotImplementedError

    def _set(self, drawing: Drawing, source: str) -> None:
        raise NotImplementedError


class _WholeDrawing:
    """Draws its Markdown whole at each change: the stand-in until a part of its own exists."""

    def __init__(self, breaks: bool, code_theme: str) -> None:
        self._source = ""
        self._breaks = breaks
        self._code_theme = code_theme
        self._rows: dict[int, list[Row]] = {}

    def set_source(self, source: str) -> None:
        self._source, self._rows = source, {}

    def _all(self, width: int) -> list[Row]:
        rows = self._rows.get(width)
        if rows is None:
            rows = []
            for block in blocks(self._source, self._breaks):
                drawn = draw_tokens(block.tokens, width, self._code_theme)
                if drawn and rows:
                    rows.append(blank_row(width))
                rows.extend(drawn)
            self._rows = {width: rows}
        return rows

    def height(self, width: int) -> int:
        return len(self._all(width))

    def rows(self, start: int, end: int, width: int) -> list[Row]:
        return self._all(width)[start:end]

    def settled_rows(self, width: int) -> int:
        return 0


class ParagraphSection(DrawnSection):
    def _make(self) -> Drawing:
        if self.breaks:  # a person's own message, whole: its line breaks stay (see `parse`)
            return _WholeDrawing(self.breaks, self.code_theme)
        from app.render.paragraph import ParagraphBlock  # markdown-it loads with the first one

        return ParagraphBlock(CONSOLE, parser())

    def _set(self, drawing: Drawing, source: str) -> None:
        drawing.set_source(source)  # type: ignore[attr-defined]  # what _make made: typed lazily, not imported


class FenceSection(DrawnSection):
    def update(self, span: Span, text: str) -> bool:
        info = self.span.info
        changed = super().update(span, text)
        if span.info != info:  # the opening line was not complete when it was drawn
            self.drop()
        return changed

    def code_blocks(self) -> list[CodeText]:
        span = self.span
        code = self.text[span.code_start : span.code_end]
        if span.indent:  # markdown-it takes up to the fence's indentation off every line
            code = "".join(_dedent(line, span.indent) for line in code.splitlines(keepends=True))
        return [CodeText(span.language, code)]

    def _content(self) -> str:
        return self.code_blocks()[0].code

    def _make(self) -> Drawing:
        from app.render.code import CodeBlock  # Pygments loads with the first code block

        return CodeBlock(self.span.lexer_name, self.code_theme, CONSOLE)

    def _set(self, drawing: Drawing, source: str) -> None:
        drawing.set_code(source)  # type: ignore[attr-defined]  # what _make made: typed lazily, not imported


def _dedent(line: str, indent: int) -> str:
    """The line without up to `indent` columns of leading white space, as markdown-it takes
    them off a fence's lines: a tab that reaches past them leaves its remaining columns as
    spaces."""
    column = index = 0
    while index < len(line) and column < indent and line[index] in " \t":
        column += 4 - column % 4 if line[index] == "\t" else 1
        index += 1
    return " " * (column - indent) + line[index:] if column > indent else line[index:]


class TableSection(DrawnSection):
    def _make(self) -> Drawing:
        from app.render.table import TableBlock  # Rich's Markdown loads with the first table

        return TableBlock(CONSOLE, parser())

    def _set(self, drawing: Drawing, source: str) -> None:
        drawing.set_source(source)  # type: ignore[attr-defined]  # what _make made: typed lazily, not imported


_KINDS: dict[Kind, type[Section]] = {
    Kind.MARKDOWN: MarkdownSection,
    Kind.PARAGRAPH: ParagraphSection,
    Kind.FENCE: FenceSection,
    Kind.TABLE: TableSection,
    Kind.LIST: ListSection,
}


def make_section(span: Span, text: str, breaks: bool = False, code_theme: str = CODE_THEME) -> Section:
    return _KINDS[span.kind](span, text, breaks, code_theme)
