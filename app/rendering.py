"""One message's Markdown as terminal lines, rendered incrementally while it streams.

A message is a sequence of top-level Markdown blocks. Appending text can only change the last
block or two, so every settled block is rendered once per width and kept; an update re-parses
and re-renders only the open tail. Each block is drawn by Rich's Markdown renderer from the
markdown-it tokens parsed here, so one parse serves both the split and the render, and a block
renders the same whether it was cut from a long reply or parsed on its own.
"""

from __future__ import annotations

from copy import copy
from dataclasses import dataclass
from io import StringIO
from itertools import chain

from markdown_it import MarkdownIt
from markdown_it.token import Token
from pygments.lexer import Lexer
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound
from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderResult
from rich.markdown import CodeBlock, Markdown
from rich.segment import Segment
from rich.style import Style
from rich.syntax import Syntax
from rich.text import Text
from textual.strip import Strip

from app.text import StreamSanitizer, sanitize

_TAB_SIZE = 4  # Rich's default for code blocks
CODE_THEME = "monokai"  # dark background of its own, so code reads well on any dark theme

# Raw HTML stays literal text (Rich would drop it, and `Vec<String>` would lose `<String>`).
# Link reference definitions stay literal too: a definition in one block changing a link in
# another would make a settled block change after it was rendered.
_PARSER = (
    MarkdownIt("commonmark", {"html": False})
    .enable(["strikethrough", "table"])
    .disable("reference")
)
_CONSOLE = Console(
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
_LISTS = frozenset({"bullet_list_open", "ordered_list_open"})
_NEW_LINE = Segment.line()


def _options(width: int) -> ConsoleOptions:
    return _CONSOLE.options.update(width=width, height=None)


def render_plain(text: str, width: int, style: Style | None = None) -> list[Strip]:
    """Untrusted plain text wrapped to `width` cells (for error notes and the like)."""
    lines = _CONSOLE.render_lines(
        Text(sanitize(text), style=style or Style()), _options(max(1, width))
    )
    return [Strip(line, max(1, width)) for line in lines]


_LEXERS: dict[str, Lexer] = {}


def _lexer(name: str) -> Lexer | str:
    """A shared lexer for a language: Rich would look it up again for every code block.
    An unknown name goes on to Rich as it is, which draws the code plain."""
    lexer = _LEXERS.get(name)
    if lexer is None:
        try:
            # The options Rich's `Syntax.lexer` uses, so the tokens are the same.
            lexer = get_lexer_by_name(name, stripnl=False, ensurenl=True, tabsize=_TAB_SIZE)
            _LEXERS[name] = lexer
        except ClassNotFound:
            return name
    return lexer


class _CodeBlock(CodeBlock):
    """Rich's code block, drawn the quicker way where that gives the same lines: code whose
    lines all fit needs no word wrapping, which Rich would do line by line."""

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        code = str(self.text).rstrip()
        fits = "\t" not in code and max(map(cell_len, code.split("\n"))) <= options.max_width - 2
        lexer = _lexer(self.lexer_name)
        yield Syntax(code, lexer, theme=self.theme, word_wrap=not fits, padding=1)


class _Markdown(Markdown):
    """Rich's Markdown with our code blocks."""

    elements = {**Markdown.elements, "fence": _CodeBlock, "code_block": _CodeBlock}


_TEMPLATES: dict[str, Markdown] = {}


def _markdown(tokens: list[Token], code_theme: str) -> Markdown:
    """Rich's Markdown renderer fed with tokens parsed here (one top-level block).

    `Markdown()` builds a new MarkdownIt parser and parses its text: a third of the cost of
    drawing a block, for tokens we already have. A copy of one template skips that and still
    carries every attribute this Rich version sets.
    """
    template = _TEMPLATES.get(code_theme)
    if template is None:
        template = _Markdown("", code_theme=code_theme, hyperlinks=False)
        _TEMPLATES[code_theme] = template
    markdown = copy(template)
    markdown.parsed = tokens
    return markdown


@dataclass(frozen=True, slots=True)
class _Block:
    source: str  # the block's own lines: equal sources render equally, so it keys the cache
    tokens: list[Token]


def _line_starts(text: str) -> list[int]:
    starts = [0]
    find = text.find
    index = find("\n")
    while index != -1:
        starts.append(index + 1)
        index = find("\n", index + 1)
    return starts


def _top_level(tokens: list[Token]) -> list[tuple[int, int, list[Token]]]:
    """(first line, end line, tokens) of each top-level block."""
    blocks: list[tuple[int, int, list[Token]]] = []
    depth = begin = 0
    for index, token in enumerate(tokens):
        if depth == 0:
            begin = index
        depth += token.nesting
        if depth == 0:
            first, end = tokens[begin].map or (0, 0)
            blocks.append((first, end, tokens[begin : index + 1]))
    return blocks


def _settled(previous: list[Token], line: int, text: str, starts: list[int]) -> bool:
    """Is the boundary between `previous` and a block starting at `line` final?

    A block ends because of the line that starts the next one (a table start also needs the
    line after it), and a line still being typed can change its meaning. After a blank line
    only a list can take the next block back, and only while that block's first line grows.
    """
    complete = len(starts) - 1  # lines that already end with a newline
    if line + 2 <= complete:
        return True
    after_blank = not text[starts[line - 1] : starts[line]].strip(" \t\n")
    return after_blank and (previous[0].type not in _LISTS or line < complete)


class MessageRenderer:
    """One message's text as lines of a given width, kept up to date as the text grows.

    `update()` with an extension of the previous text re-parses only the open tail; any other
    text starts over. `lines(width)` renders what changed and caches the rest for that width.
    """

    def __init__(self, code_theme: str = CODE_THEME) -> None:
        self.code_theme = code_theme
        self.block_renders = 0  # how many blocks were drawn: lets tests check the caching
        self._reset()

    def _reset(self) -> None:
        self._raw = ""
        self._sanitizer = StreamSanitizer()
        self._text = ""  # sanitized
        self._tail_start = 0  # offset in _text where the open blocks start
        self._final: list[_Block] = []
        self._open: list[_Block] = []
        self._width = 0
        self._final_lines: list[Strip] = []
        self._final_drawn = 0  # how many of _final are in _final_lines
        self._open_drawn: dict[str, list[Strip]] = {}  # open blocks drawn at _width
        self._lines: list[Strip] | None = None

    def update(self, text: str) -> None:
        if text == self._raw:
            return
        if text.startswith(self._raw):
            piece = text[len(self._raw) :]
        else:
            self._reset()
            piece = text
        self._raw = text
        # The stream sanitizer holds back an escape sequence cut in two by a flush.
        clean = self._sanitizer.feed(piece)
        if clean:
            self._text += clean
            self._parse_tail()
            self._lines = None

    def _parse_tail(self) -> None:
        tail = self._text[self._tail_start :]
        starts = _line_starts(tail)

        def offset(line: int) -> int:
            return starts[line] if line < len(starts) else len(tail)

        blocks = _top_level(_PARSER.parse(tail))
        settled = 0
        while settled + 1 < len(blocks) and _settled(
            blocks[settled][2], blocks[settled + 1][0], tail, starts
        ):
            settled += 1
        for first, end, tokens in blocks[:settled]:
            self._final.append(_Block(tail[offset(first) : offset(end)], tokens))
        self._open = [
            _Block(tail[offset(first) : offset(end)], tokens)
            for first, end, tokens in blocks[settled:]
        ]
        if settled:
            self._tail_start += offset(blocks[settled - 1][1])

    def _draw(self, block: _Block, width: int) -> list[Strip]:
        self.block_renders += 1
        segments = iter(
            _CONSOLE.render(_markdown(block.tokens, self.code_theme), _options(width))
        )
        # Rich starts a block with a newline when a nested paragraph closed before it (a list,
        # a quote): a separator meant for the block above. We add our own separators.
        first = next(segments, None)
        if first is not None and first != _NEW_LINE:
            segments = chain((first,), segments)
        lines = list(
            Segment.split_and_crop_lines(segments, width, pad=True, include_new_lines=False)
        )
        # Some blocks bring blank edges of their own (a rule, a table's frame): trim them so
        # that blocks are always exactly one blank line apart.
        start, end = 0, len(lines)
        while start < end and _is_blank(lines[start]):
            start += 1
        while end > start and _is_blank(lines[end - 1]):
            end -= 1
        return [Strip(line, width) for line in lines[start:end]]

    def lines(self, width: int) -> list[Strip]:
        """The message as lines exactly `width` cells wide; blocks are one blank line apart."""
        width = max(1, width)
        if width != self._width:
            self._width = width
            self._final_lines = []
            self._final_drawn = 0
            self._open_drawn = {}
            self._lines = None
        if self._lines is not None:
            return self._lines
        drawn = self._open_drawn
        for block in self._final[self._final_drawn :]:
            lines = drawn.get(block.source)
            if lines is None:
                lines = self._draw(block, width)
            _append_block(self._final_lines, lines, width)
        self._final_drawn = len(self._final)
        result = self._final_lines.copy()
        self._open_drawn = {}
        for block in self._open:
            lines = drawn.get(block.source)
            if lines is None:
                lines = self._draw(block, width)
            self._open_drawn[block.source] = lines
            _append_block(result, lines, width)
        self._lines = result
        return result

    def height(self, width: int) -> int:
        return len(self.lines(width))

    def settled_lines(self, width: int) -> int:
        """Lines at the top that appending text will not change: the finished blocks."""
        return len(self._final_lines) if width == self._width else 0


def _is_blank(line: list[Segment]) -> bool:
    return all(
        not segment.text.strip(" ") and not (segment.style and segment.style.bgcolor)
        for segment in line
    )


def _append_block(lines: list[Strip], block: list[Strip], width: int) -> None:
    if block:
        if lines:
            lines.append(Strip.blank(width))
        lines.extend(block)
