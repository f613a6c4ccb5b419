"""A fenced code block's body drawn as the app's Markdown renderer draws a fence (Rich's
`Syntax` with one cell of padding), kept up to date as the code grows.

Rich highlights a block from its first line at every change. Here each line is lexed once
it is complete (see `app.render.tokens`) and drawn on its own: Rich's word-wrap path draws
code line by line, and its no-wrap path, taken when every line fits, gives the same rows
for those lines, so a line's rows depend only on its text, its token types and the width.
A line that fits takes one row, found from its width in cells without drawing it.
"""

from __future__ import annotations

from bisect import bisect_right
from typing import TYPE_CHECKING

from rich.cells import cell_len
from rich.control import strip_control_codes
from rich.segment import Segment
from rich.style import Style
from rich.syntax import Syntax
from rich.text import Span, Text

from app.render.regex_driver import Escape
from app.render.tokens import CodeLines, RestartTokens, Runs, Tokens, make_tokens

if TYPE_CHECKING:
    from pygments.lexer import Lexer
    from pygments.token import _TokenType
    from rich.console import Console

Row = list[Segment]

TAB_SIZE = 4  # Rich's default for code, and the lexer option the app uses
_BOM = "\ufeff"  # Pygments drops one at the start of the code
_LEXERS: dict[str, Lexer] = {}


def code_lexer(language: str) -> Lexer:
    """The lexer Rich would use for a fence's language: plain text when there is none or
    Pygments does not know it."""
    lexer = _LEXERS.get(language)
    if lexer is None:
        from pygments.lexers import get_lexer_by_name
        from pygments.util import ClassNotFound

        options = {"stripnl": False, "ensurenl": True, "tabsize": TAB_SIZE}
        try:
            lexer = get_lexer_by_name(language or "text", **options)
        except ClassNotFound:
            lexer = get_lexer_by_name("text", **options)
        _LEXERS[language] = lexer
    return lexer


class CodeBlock:
    """A fenced code block's body drawn as the app's Markdown renderer draws a fence, kept
    up to date as it grows."""

    def __init__(self, language: str, theme: str, console: Console) -> None:
        self._console = console
        self._theme = Syntax.get_theme(theme)
        self._base = self._theme.get_background_style()
        if self._base.transparent_background:
            raise ValueError(f"code theme {theme!r} has no background colour")
        self._lexer = code_lexer(language)
        self._styles: dict[_TokenType, Style] = {}
        self._lexed_before = 0
        self._reset()

    def _reset(self) -> None:
        if hasattr(self, "_tokens"):
            self._lexed_before += self._tokens.chars_lexed
        self._code = ""
        self._waiting = ""  # trailing white space, drawn once more code follows it
        self._end = 0  # characters drawn so far
        self._raw_last = ""  # the last line before tabs were expanded
        self._lines = CodeLines()
        self._tokens: Tokens = make_tokens(self._lexer, self._lines)
        self._width = 0
        self._heights: list[int] = []  # rows of each line at _width
        self._ends: list[int] = []  # rows up to and including each line
        self._stale = 0  # first line whose height may be out of date
        self._drawn: dict[int, tuple[str, Runs, list[Row]]] = {}
        self._whole: tuple[int, int, list[Row]] | None = None  # (width, end, rows) when verbatim

    # -- the code ---------------------------------------------------------------------------

    def set_code(self, code: str) -> None:
        """The code between the fences as it stands now. Usually the previous code plus
        more; anything else starts over."""
        if code == self._code:
            return
        if not code.startswith(self._code):
            self._reset()
        # As the Markdown renderer reads a fence: Rich's Text drops control codes (a CR
        # among them), then `Syntax` gets `code.rstrip()`: trailing blanks wait for more.
        waiting = self._waiting + strip_control_codes(code[len(self._code) :])
        self._code = code
        end = len(waiting)
        while end and waiting[end - 1].isspace():
            end -= 1
        self._waiting = waiting[end:]
        if not end:
            return
        lines = self._lines
        first = len(lines.lines) - 1
        parts = (self._raw_last + waiting[:end]).split("\n")
        lines.set_last(self._expand(parts[0], first))
        for index, part in enumerate(parts[1:], first + 1):
            lines.append(self._expand(part, index))
        self._raw_last = parts[-1]
        self._end += end
        self._tokens.changed(first)
        self._stale = min(self._stale, first)

    @staticmethod
    def _expand(line: str, index: int) -> str:
        line = line.expandtabs(TAB_SIZE)  # Rich expands tabs before Pygments drops the BOM
        if index == 0 and line.startswith(_BOM):
            line = line[1:]
        return line

    @property
    def chars_lexed(self) -> int:
        """Characters handed to the lexer since this block was made (for tests)."""
        return self._lexed_before + self._tokens.chars_lexed

    # -- layout -----------------------------------------------------------------------------

    def _layout(self, width: int) -> None:
        if width != self._width:
            self._width = width
            self._heights, self._ends, self._drawn = [], [], {}
            self._stale = 0
        lines = self._lines.lines
        if self._stale >= len(lines) and len(self._heights) == len(lines):
            return
        start = min(self._stale, len(self._heights))
        del self._heights[start:]
        del self._ends[start:]
        total = self._ends[-1] if self._ends else 0
        for index in range(start, len(lines)):
            rows = self._line_height(lines[index])
            self._heights.append(rows)
            total += rows
            self._ends.append(total)
        self._stale = len(lines)

    def _line_height(self, line: str) -> int:
        if cell_len(line) <= self._width - 2:
            return 1
        return len(self._wrap(Text(line, style=self._base, justify="left")))

    def _wrap(self, text: Text) -> list[Row]:
        options = self._console.options.update(width=self._width - 2, height=None, justify="left")
        return self._console.render_lines(text, options, style=self._base, pad=True)

    def height(self, width: int) -> int:
        """Rows at `width`, padding rows included."""
        if width < 3:
            return 2  # Rich draws only the padding when no cell is left for the code
        if self._tokens_verbatim():
            return len(self._verbatim_rows(width))
        self._layout(width)
        return 2 + self._ends[-1]

    def settled_rows(self, width: int) -> int:
        """Rows at the top that appending to the code cannot change."""
        if width < 3:
            return 2
        if self._tokens_verbatim():
            return 0
        self._layout(width)
        lines = self._tokens_settled()
        return 1 + (self._ends[lines - 1] if lines else 0)

    # -- drawing ----------------------------------------------------------------------------

    def rows(self, start: int, end: int, width: int) -> list[Row]:
        """Rows [start, end) at `width`, each exactly `width` cells."""
        height = self.height(width)
        start, end = max(0, start), min(end, height)
        if start >= end:
            return []
        if width < 3 or self._tokens_verbatim():
            whole = self._verbatim_rows(width) if width >= 3 else [self._blank(width)] * 2
            return whole[start:end]
        found: list[Row] = []
        row = start
        while row < end:
            if row == 0 or row == height - 1:
                found.append(self._blank(width))
                row += 1
                continue
            index = bisect_right(self._ends, row - 1)
            first = self._ends[index - 1] if index else 0
            drawn = self._draw(index)
            take = drawn[row - 1 - first : end - 1 - first]
            found.extend(take)
            row += len(take)
        return found

    def _blank(self, width: int) -> Row:
        return [Segment(" " * width, self._base)]

    def _draw(self, index: int) -> list[Row]:
        line = self._lines.lines[index]
        runs = self._runs(index)
        cached = self._drawn.get(index)
        if cached is not None and cached[0] == line and cached[1] == runs:
            return cached[2]
        rows = self._draw_line(line, runs)
        self._drawn[index] = (line, runs, rows)
        return rows

    def _style(self, token: _TokenType) -> Style | None:
        style = self._styles.get(token)
        if style is None:
            style = self._styles[token] = self._theme.get_style_for_token(token)
        return style or None

    def _draw_line(self, line: str, runs: Runs) -> list[Row]:
        base = self._base
        pieces: list[tuple[str, Style | None]] = []
        at = 0
        for length, token in runs:
            chunk = line[at : at + length]
            at += length
            pieces.append((chunk, self._style(token)))
        text = "".join(chunk for chunk, _ in pieces)
        space = Segment(" ", base)
        width = cell_len(text)
        if width <= self._width - 2:
            row = [space]
            row.extend(Segment(chunk, base + style if style else base) for chunk, style in pieces if chunk)
            if width < self._width - 2:
                row.append(Segment(" " * (self._width - 2 - width), base))
            row.append(space)
            return [list(Segment.simplify(row))]
        # Too wide: Rich's own word wrapping, on the line as its Syntax splits it out.
        spans: list[Span] = []
        offset = 0
        for chunk, style in pieces:
            if style and chunk:
                spans.append(Span(offset, offset + len(chunk), style))
            offset += len(chunk)
        rich_line = Text(text, style=base, justify="left", spans=spans)
        return [list(Segment.simplify([space, *wrapped, space])) for wrapped in self._wrap(rich_line)]

    # -- tokens -----------------------------------------------------------------------------

    def _runs(self, index: int) -> Runs:
        try:
            return self._tokens.runs(index)
        except Escape:
            # The lexer did something the resumable loop cannot follow: lex it whole.
            self._lexed_before += self._tokens.chars_lexed
            self._tokens = RestartTokens(self._lexer, self._lines, json=False)
            return self._tokens.runs(index)

    def _tokens_settled(self) -> int:
        return self._tokens.settled()

    def _tokens_verbatim(self) -> bool:
        tokens = self._tokens
        if isinstance(tokens, RestartTokens) and tokens.whole and not tokens.verbatim:
            self._runs(len(self._lines.lines) - 1)  # whether its tokens spell the code shows once lexed
        return self._tokens.verbatim

    def _verbatim_rows(self, width: int) -> list[Row]:
        """The whole block drawn by Rich (for a lexer whose tokens do not spell the code)."""
        if self._whole is None or self._whole[:2] != (width, self._end):
            code = "\n".join(self._lines.lines)  # Rich's own preparation does nothing more to it
            fits = "\t" not in code and max(map(cell_len, code.split("\n"))) <= width - 2
            syntax = Syntax(code, self._lexer, theme=self._theme, word_wrap=not fits, padding=1)
            options = self._console.options.update(width=width, height=None)
            lines = Segment.split_and_crop_lines(
                self._console.render(syntax, options), width, pad=True, include_new_lines=False
            )
            self._whole = (width, self._end, [list(Segment.simplify(line)) for line in lines])
        return self._whole[2]
