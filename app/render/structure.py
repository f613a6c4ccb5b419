"""Where a message's top-level Markdown blocks begin and end, found line by line as it streams.

Each complete line is read once and assigned to a span: a stretch of the text that parses on
its own exactly as it does inside the whole text. Spans have kinds, so that the blocks that
can grow without bound are drawn by parts that redo only what changed: a paragraph, a fenced
code block, a table, and a list (cut into runs of items). Everything else (headings, quotes,
indented code, rules) is an ordinary span, parsed whole.

The rules follow CommonMark as markdown-it implements it, at the top level only: a container
(a list or a quote) is ended by a line that cannot belong to it. Where that takes knowledge of
what is inside a list item (is this line a lazy continuation?), markdown-it itself is asked,
on the text of that one item.
"""

from __future__ import annotations

import re
from copy import copy
from dataclasses import dataclass
from enum import Enum

from app.render.markdown import block_parser

ITEMS_PER_SPAN = 16  # list items drawn together: a run of them is parsed at once


class Kind(Enum):
    MARKDOWN = "markdown"
    PARAGRAPH = "paragraph"
    FENCE = "fence"
    TABLE = "table"
    LIST = "list"


@dataclass(slots=True)
class Span:
    kind: Kind
    start: int  # offset of its first line
    end: int  # offset after its last line (with any blank lines that follow it)
    body_end: int  # offset after its last non-blank line's text, without the line break
    # fences
    fence: tuple[str, int] = ("", 0)  # character and length of the opening fence
    indent: int = 0  # of the opening fence: removed from each line of code
    info: str = ""  # what follows the opening fence, as markdown-it keeps it
    code_start: int = 0  # offset of the first line of code
    code_end: int = 0  # offset after the last line of code (the closing fence excluded)
    closed: bool = False
    # lists
    list_start: int = 0  # offset where the whole list begins: the spans of one list share it
    first_item: int = 0  # index in the list of this span's first item
    items: int = 0
    number: int | None = None  # the list's first number, for an ordered list

    @property
    def lexer_name(self) -> str:
        """The language a fence is highlighted as: the info string up to its first space, as
        Rich takes it (so "``` python", with a space, is plain text there too)."""
        return self.info.partition(" ")[0]

    @property
    def language(self) -> str:
        """The language a person reads in the info string (for a code block's label)."""
        words = self.info.split()
        return words[0] if words else ""

    @property
    def key(self) -> tuple[Kind, int]:
        return self.kind, self.start

    def same_list(self, other: Span) -> bool:
        """Whether both are runs of items of one list."""
        return self.kind is Kind.LIST and other.kind is Kind.LIST and self.list_start == other.list_start


class _Mode(Enum):
    START = 0  # nothing open: the next non-blank line begins a span
    PARAGRAPH = 1
    FENCE = 2
    TABLE = 3
    LIST = 4
    QUOTE = 5
    CODE = 6  # indented code


@dataclass(slots=True)
class _State:
    mode: _Mode = _Mode.START
    after_blank: bool = False
    last_line: tuple[int, int] = (0, 0)  # the previous non-blank line (start, end)
    item_start: int = 0  # the list item or quote being read
    content_indent: int = 0  # where that item's content starts
    item_empty: bool = False  # the item has no content yet (its first line was only the marker)
    item_over: bool = False  # an empty item ended by a blank line: only a next item goes on
    marker: str = ""  # the list's bullet character, or the delimiter after its numbers
    position: int = 0  # where the next line to read starts


_FENCE = re.compile(r"( {0,3})(`{3,}|~{3,})(.*)")
_ATX = re.compile(r" {0,3}#{1,6}(?:[ \t]|\Z)")
_RULE = re.compile(r" {0,3}(?:(?:\*[ \t]*){3,}|(?:-[ \t]*){3,}|(?:_[ \t]*){3,})\Z")
_SETEXT = re.compile(r" {0,3}(?:=+|-+)[ \t]*\Z")
_QUOTE = re.compile(r" {0,3}>")
_ITEM = re.compile(r"( {0,3})(?:([-+*])|(\d{1,9})([.)]))([ \t]+|\Z)")


def _indent(line: str) -> int:
    """Columns of leading white space, tabs to the next multiple of four."""
    column = 0
    for character in line:
        if character == " ":
            column += 1
        elif character == "\t":
            column += 4 - column % 4
        else:
            break
    return column


def _column(line: str, index: int) -> int:
    """The column at which line[index] is drawn, tabs to the next multiple of four."""
    column = 0
    for character in line[:index]:
        column += 4 - column % 4 if character == "\t" else 1
    return column


def opens_fence(line: str) -> tuple[str, int, int, str] | None:
    """(character, length, indentation, info string) of a line that opens a fence."""
    match = _FENCE.fullmatch(line)
    if match is None:
        return None
    spaces, fence, info = match.groups()
    if fence[0] == "`" and "`" in info:
        return None  # inline code, not a fence
    return fence[0], len(fence), len(spaces), info


def closes_fence(line: str, fence: tuple[str, int]) -> bool:
    match = _FENCE.fullmatch(line)
    if match is None:
        return False
    _, closing, rest = match.groups()
    return closing[0] == fence[0] and len(closing) >= fence[1] and not rest.strip(" \t")


@dataclass(frozen=True, slots=True)
class _Item:
    marker: str  # "-", "+", "*", or "." / ")" after the digits
    number: int | None
    content_indent: int
    empty: bool


def _item(line: str) -> _Item | None:
    match = _ITEM.match(line)
    if match is None or _RULE.match(line):  # a rule wins over a list item
        return None
    spaces, bullet, digits, delimiter, gap = match.groups()
    width = len(spaces) + (1 if bullet else len(digits) + 1)
    rest = line[match.end() :]
    empty = not rest.strip(" \t")
    after = _column(line, match.end()) - width  # the gap, tabs expanded
    content = width + 1 if empty or after > 4 or not gap else width + after
    marker = bullet or delimiter
    return _Item(marker, int(digits) if digits else None, content, empty)


def _interrupts_paragraph(line: str) -> bool:
    """A line that ends a paragraph by starting another block (a setext underline is
    handled before this)."""
    if _indent(line) >= 4:
        return False
    if opens_fence(line) or _ATX.match(line) or _RULE.match(line) or _QUOTE.match(line):
        return True
    item = _item(line)
    return item is not None and not item.empty and item.number in (None, 1)


def table_starts(header: str, delimiter: str) -> bool:
    """Whether two lines begin a table, as markdown-it decides."""
    cells = delimiter.strip(" \t")
    if "-" not in cells or set(cells) - set("|:- \t"):
        return False  # the common case, without a parse
    tokens = block_parser().parse(f"{header}\n{delimiter}\n")
    return bool(tokens) and tokens[0].type == "table_open"


def _holds_last_line(window: str, kinds: tuple[str, ...], before: str = "") -> bool:
    """Whether the block that begins `window` (a list item, a quote) goes on to its last line,
    as markdown-it parses it. `before`: a line to put first, so that a list item is read as
    the next item of a list, as it is in the whole text (alone, a first line with a pipe
    followed by a delimiter row would be read as a table)."""
    text = before + (window if window.endswith("\n") else window + "\n")
    tokens = block_parser().parse(text)
    if not tokens or tokens[0].type not in kinds or tokens[0].map is None:
        return False
    return tokens[0].map[0] == 0 and tokens[0].map[1] >= text.count("\n")


_LISTS = ("bullet_list_open", "ordered_list_open")


class Structure:
    """The spans of one message's text, extended as complete lines arrive. The partial last
    line is read too, provisionally: `read` undoes what it did before reading on."""

    def __init__(self) -> None:
        self.spans: list[Span] = []
        self.settled = 0  # spans before this index can no longer change
        self._provisional = False  # reading the partial last line
        self._state = _State()
        self._text = ""
        # What the last complete line left: restored before the next read.
        self._saved: tuple[_State, int, int, Span | None] = (
            copy(self._state),
            0,
            0,
            None,
        )

    def read(self, text: str) -> None:
        """Read `text` (the previous text with more at its end): every new complete line for
        good, then the partial last line provisionally."""
        self._restore()
        self._text = text
        position = self._state.position
        while (newline := text.find("\n", position)) != -1:
            self._line(position, newline, newline + 1)
            position = newline + 1
        self._state.position = position
        self._save()
        if position < len(text):
            self._provisional = True
            self._line(position, len(text), len(text))
            self._provisional = False

    # -- keeping the provisional apart ---------------------------------------------------------

    def _save(self) -> None:
        last = copy(self.spans[-1]) if self.spans else None
        self._saved = (copy(self._state), self.settled, len(self.spans), last)

    def _restore(self) -> None:
        """Undo the provisional reading: it changes at most the last span and adds others
        (a paragraph's last line may turn out to be a table's header and leave it)."""
        state, self.settled, count, last = self._saved
        self._state = copy(state)
        del self.spans[max(0, count - 1) :]
        if last is not None:
            self.spans.append(copy(last))

    # -- spans ---------------------------------------------------------------------------------

    def _open(self, kind: Kind, start: int, end: int, body_end: int) -> Span:
        if not self._provisional:  # the span before a provisional one may still change
            self.settled = len(self.spans)
        span = Span(kind, start, end, body_end)
        self.spans.append(span)
        return span

    def _extend(self, end: int, body_end: int | None = None) -> None:
        span = self.spans[-1]
        span.end = end
        if body_end is not None:
            span.body_end = body_end

    def _blank(self, after: int) -> None:
        if self.spans:
            self._extend(after)
        self._state.after_blank = True

    # -- one line --------------------------------------------------------------------------------

    def _line(self, start: int, stop: int, after: int) -> None:
        """The line text[start:stop], the next one starting at `after`."""
        line = self._text[start:stop]
        state = self._state
        mode = state.mode
        blank = not line.strip(" \t")
        if not blank and self._header_of_table(line, start, stop, after):
            return
        if mode is _Mode.FENCE:
            span = self.spans[-1]
            self._extend(after, stop)
            if closes_fence(line, span.fence):
                span.closed = True
                state.mode = _Mode.START
            else:
                span.code_end = after
            return
        if blank:
            self._blank(after)
            if mode in (_Mode.PARAGRAPH, _Mode.TABLE):
                state.mode = _Mode.START
            elif mode is _Mode.LIST and state.item_empty:
                # An item cannot start with two blank lines; after a second one, markdown-it
                # ends the list too.
                if state.item_over:
                    state.mode = _Mode.START
                state.item_over = True
            return
        handled = False
        if mode is _Mode.PARAGRAPH:
            handled = self._paragraph_line(line, start, stop, after)
        elif mode is _Mode.TABLE:
            from app.render.table_rows import table_continues  # Rich's Markdown loads with the first table

            handled = table_continues(line)  # markdown-it reads each row apart from the others
            if handled:
                self._extend(after, stop)
        elif mode is _Mode.LIST:
            handled = self._list_line(line, start, stop, after)
        elif mode is _Mode.QUOTE:
            handled = self._quote_line(line, start, stop, after)
        elif mode is _Mode.CODE:
            handled = _indent(line) >= 4
            if handled:
                self._extend(after, stop)
        if not handled:
            self._begin(line, start, stop, after)
        state.after_blank = False
        state.last_line = (start, stop)

    def _header_of_table(self, line: str, start: int, stop: int, after: int) -> bool:
        """Whether the line makes the one before a table's header. Markdown-it tries tables
        before any other block, so the first line of any block with a pipe in it (a heading,
        a list item, a quote, even a fence's opening line) can turn out to be one."""
        state = self._state
        if not self.spans or state.after_blank or state.mode in (_Mode.PARAGRAPH, _Mode.TABLE):
            return False
        header_start, header_stop = state.last_line
        span = self.spans[-1]
        if span.start != header_start or span.body_end != header_stop:
            return False
        header = self._text[header_start:header_stop]
        if "|" not in header or not table_starts(header, line):
            return False
        self.spans.pop()
        self._open(Kind.TABLE, header_start, after, stop)
        state.mode = _Mode.TABLE
        state.last_line = (start, stop)
        return True

    def _begin(self, line: str, start: int, stop: int, after: int) -> None:
        """A line that starts a new top-level block."""
        state = self._state
        if (fence := opens_fence(line)) is not None:
            span = self._open(Kind.FENCE, start, after, stop)
            span.fence, span.indent, span.info = fence[:2], fence[2], fence[3]
            span.code_start = span.code_end = after
            state.mode = _Mode.FENCE
        elif _indent(line) >= 4:
            self._open(Kind.MARKDOWN, start, after, stop)
            state.mode = _Mode.CODE
        elif _QUOTE.match(line):
            self._open(Kind.MARKDOWN, start, after, stop)
            state.mode = _Mode.QUOTE
            state.item_start = start
        elif _ATX.match(line) or _RULE.match(line):
            self._open(Kind.MARKDOWN, start, after, stop)
            state.mode = _Mode.START
        elif (item := _item(line)) is not None:
            span = self._open(Kind.LIST, start, after, stop)
            span.list_start, span.items, span.number = start, 1, item.number
            state.item_start, state.content_indent = start, item.content_indent
            state.item_empty, state.item_over = item.empty, False
            state.marker = item.marker
            state.mode = _Mode.LIST
        else:
            self._open(Kind.PARAGRAPH, start, after, stop)
            state.mode = _Mode.PARAGRAPH

    def _paragraph_line(self, line: str, start: int, stop: int, after: int) -> bool:
        span = self.spans[-1]
        if _SETEXT.match(line):  # the paragraph was a heading's text
            span.kind = Kind.MARKDOWN
            self._extend(after, stop)
            self._state.mode = _Mode.START
            return True
        header_start, header_stop = self._state.last_line
        if table_starts(self._text[header_start:header_stop], line):
            # The paragraph's last line is the table's header.
            if header_start == span.start:
                self.spans.pop()
            else:
                span.end = header_start
                span.body_end = header_start - 1
            self._open(Kind.TABLE, header_start, after, stop)
            self._state.mode = _Mode.TABLE
            return True
        if _interrupts_paragraph(line):
            return False
        self._extend(after, stop)
        return True

    def _list_line(self, line: str, start: int, stop: int, after: int) -> bool:
        state = self._state
        indent = _indent(line)
        item = _item(line) if indent < 4 and (state.item_over or indent < state.content_indent) else None
        if item is not None:
            if (item.number is None) != (state.marker in "-+*") or item.marker != state.marker:
                return False  # another kind of marker begins another list
            span = self.spans[-1]
            if span.items >= ITEMS_PER_SPAN:
                first, number, list_start = (
                    span.first_item + span.items,
                    span.number,
                    span.list_start,
                )
                span = self._open(Kind.LIST, start, after, stop)
                span.list_start, span.first_item, span.number = (
                    list_start,
                    first,
                    number,
                )
            else:
                self._extend(after, stop)
            span.items += 1
            state.item_start, state.content_indent = start, item.content_indent
            state.item_empty, state.item_over = item.empty, False
            return True
        if state.item_over:
            return False
        state.item_empty = False
        if indent >= state.content_indent:
            self._extend(after, stop)
            return True
        if state.after_blank:
            return False
        # A lazy continuation of the item's paragraph, or the end of the list: markdown-it
        # decides, on the text of this one item.
        item_line = self._text[state.item_start : self._text.find("\n", state.item_start)]
        spaces = " " * (len(item_line) - len(item_line.lstrip(" ")))
        before = f"{spaces}{state.marker} x\n" if state.marker in "-+*" else f"{spaces}0{state.marker} x\n"
        if _holds_last_line(self._text[state.item_start : after], _LISTS, before):
            self._extend(after, stop)
            return True
        return False

    def _quote_line(self, line: str, start: int, stop: int, after: int) -> bool:
        """A quote goes on with its own lines, and with lazy lines of a paragraph in it:
        markdown-it decides those, on the quote's text."""
        state = self._state
        if state.after_blank:
            continues = False  # even a quote that follows is a quote of its own
        elif _QUOTE.match(line):
            continues = True
        elif _interrupts_paragraph(line):
            continues = False
        else:
            continues = _holds_last_line(self._text[state.item_start : after], ("blockquote_open",))
        if continues:
            self._extend(after, stop)
        return continues
