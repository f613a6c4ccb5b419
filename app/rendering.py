"""One message's Markdown as terminal lines: drawn only where it is looked at, and kept up to
date as it streams.

The text is cut into sections at lines where Markdown can be parsed on its own (see `_Cutter`):
each finished section is parsed and drawn only when the view asks for its rows, and has an
estimated height until then, so a long reply costs what is on screen. The open tail after
the last cut is parsed again at each change; its blocks are drawn once per width and kept
while unchanged. Each top-level block is drawn by Rich's Markdown renderer from the
markdown-it tokens parsed here, so a block renders the same whether it was cut from a long
reply or parsed on its own.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from copy import copy
from dataclasses import dataclass
from functools import cache
from io import StringIO
from itertools import chain
from typing import TYPE_CHECKING, ClassVar

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderResult
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.strip import Strip

from app.text import StreamSanitizer, sanitize

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.token import Token
    from pygments.lexer import Lexer
    from rich.markdown import Markdown

_TAB_SIZE = 4  # Rich's default for code blocks
CODE_THEME = "monokai"  # dark background of its own, so code reads well on any dark theme


def _new_parser() -> MarkdownIt:
    """Markdown-it, Pygments and Rich's Markdown load when the first message is drawn, not
    at start-up, where importing them cost about 20 ms."""
    from markdown_it import MarkdownIt

    # Raw HTML stays literal text (Rich would drop it, and `Vec<String>` would lose `<String>`).
    # Link reference definitions stay literal too: a definition in one block changing a link in
    # another would make a settled block change after it was rendered.
    return MarkdownIt("commonmark", {"html": False}).enable(["strikethrough", "table"]).disable("reference")


_parser = cache(_new_parser)


@cache
def _block_parser() -> MarkdownIt:
    """Block structure only, without inline parsing: where fences start."""
    return _new_parser().disable("inline")


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
_NEW_LINE = Segment.line()


def _options(width: int) -> ConsoleOptions:
    return _CONSOLE.options.update(width=width, height=None)


def render_plain(text: str, width: int, style: Style | None = None) -> list[Strip]:
    """Untrusted plain text wrapped to `width` cells (for error notes and the like)."""
    lines = _CONSOLE.render_lines(Text(sanitize(text), style=style or Style()), _options(max(1, width)))
    return [Strip(line, max(1, width)) for line in lines]


_LEXERS: dict[str, Lexer] = {}


def _lexer(name: str) -> Lexer | str:
    """A shared lexer for a language: Rich would look it up again for every code block.
    An unknown name goes on to Rich as it is, which draws the code plain."""
    lexer = _LEXERS.get(name)
    if lexer is None:
        from pygments.lexers import get_lexer_by_name
        from pygments.util import ClassNotFound

        try:
            # The options Rich's `Syntax.lexer` uses, so the tokens are the same.
            lexer = get_lexer_by_name(name, stripnl=False, ensurenl=True, tabsize=_TAB_SIZE)
            _LEXERS[name] = lexer
        except ClassNotFound:
            return name
    return lexer


@cache
def _markdown_class() -> type[Markdown]:
    """Rich's Markdown with our code blocks (made when first needed, as `_parser()` is)."""
    from rich.markdown import CodeBlock, Markdown, MarkdownElement
    from rich.syntax import Syntax

    class _CodeBlock(CodeBlock):
        """Rich's code block, drawn the quicker way where that gives the same lines: code
        whose lines all fit needs no word wrapping, which Rich would do line by line."""

        def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
            code = str(self.text).rstrip()
            fits = "\t" not in code and max(map(cell_len, code.split("\n"))) <= options.max_width - 2
            lexer = _lexer(self.lexer_name)
            yield Syntax(code, lexer, theme=self.theme, word_wrap=not fits, padding=1)

    class _Markdown(Markdown):
        elements: ClassVar[dict[str, type[MarkdownElement]]] = {
            **Markdown.elements,
            "fence": _CodeBlock,
            "code_block": _CodeBlock,
        }

    return _Markdown


_TEMPLATES: dict[str, Markdown] = {}


def _markdown(tokens: list[Token], code_theme: str) -> Markdown:
    """Rich's Markdown renderer fed with tokens parsed here (one top-level block).

    `Markdown()` builds a new MarkdownIt parser and parses its text: a third of the cost of
    drawing a block, for tokens we already have. A copy of one template skips that and still
    carries every attribute this Rich version sets.
    """
    template = _TEMPLATES.get(code_theme)
    if template is None:
        template = _markdown_class()("", code_theme=code_theme, hyperlinks=False)
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


def _blocks(text: str) -> list[_Block]:
    starts = _line_starts(text)

    def offset(line: int) -> int:
        return starts[line] if line < len(starts) else len(text)

    return [
        _Block(text[offset(first) : offset(end)], tokens) for first, end, tokens in _top_level(_parser().parse(text))
    ]


_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})(.*)")
_LIST_ITEM = re.compile(r"(?:[-+*]|\d{1,9}[.)])(?=[ \t\n]|\Z)")
# What the cutter looks at, in order: fence-like lines, and blank lines followed by a line
# that starts in the first column. Both start with a newline, so the regex engine skips the
# rest of the text quickly.
_EVENTS = re.compile(r"\n( {0,3}(?:`{3,}|~{3,})[^\n]*)|\n[ \t]*(?=\n[^ \t\n])")


def _opens(line: str) -> tuple[str, int] | None:
    match = _FENCE.fullmatch(line)
    if match is None:
        return None
    fence, info = match.groups()
    if fence[0] == "`" and "`" in info:
        return None  # inline code, not a fence
    return fence[0], len(fence)


def _closes(line: str, fence: tuple[str, int]) -> bool:
    match = _FENCE.fullmatch(line)
    if match is None:
        return False
    closing, rest = match.groups()
    return closing[0] == fence[0] and len(closing) >= fence[1] and not rest.strip(" \t")


class _Cutter:
    """Finds the lines where a message can be cut into sections that parse alone exactly as
    they do inside the whole text, reading each complete line once.

    Such a line follows a blank line, starts in the first column and does not start a list
    item (which could continue a list above): it ends every list and quote, so the only
    thing that could still hold it is a fenced code block opened at the top level. Fences
    are followed line by line; one indented by 1-3 spaces may sit in a list item instead,
    which only a parse of the lines since the last cut can tell.
    """

    def __init__(self) -> None:
        self._position = 0  # where the first line not read yet starts
        self._origin = 0  # the last cut
        self._fence: tuple[str, int] | None = None  # (character, length) of an open fence

    def cuts(self, text: str) -> list[int]:
        """Offsets of the cuts among the complete lines added since the last call."""
        position = self._position
        limit = text.rfind("\n", position) + 1
        if not limit:
            return []
        self._position = limit
        found: list[int] = []
        if not position:  # the first line has no newline before it for the pattern to find
            self._fence_line(text, 0, text.find("\n"))
        # From the newline before the last line already read: a blank line there makes the
        # first new line a candidate.
        start = max(0, text.rfind("\n", 0, position - 1)) if position else 0
        for match in _EVENTS.finditer(text, start, limit):
            if match.group(1) is None:  # a blank line, then a line in the first column
                cut = match.end() + 1
                if cut >= position and self._fence is None and cut > self._origin and not _LIST_ITEM.match(text, cut):
                    found.append(cut)
                    self._origin = cut
            elif match.start() + 1 >= position:
                self._fence_line(text, match.start() + 1, match.end())
        return found

    def _fence_line(self, text: str, start: int, end: int) -> None:
        """A line that may open or close a fence."""
        line = text[start:end]
        if self._fence is not None:
            if _closes(line, self._fence):
                self._fence = None
        elif (opened := _opens(line)) is not None and (line[0] != " " or self._opens_at_top(text, start, end)):
            self._fence = opened

    def _opens_at_top(self, text: str, start: int, end: int) -> bool:
        line = text.count("\n", self._origin, start)
        return any(
            token.type == "fence" and token.level == 0 and token.map and token.map[0] == line
            for token in _block_parser().parse(text[self._origin : end + 1])
        )


@dataclass(slots=True)
class _Section:
    """A finished part of a message, drawn only when it is looked at."""

    start: int  # offsets in the message's text
    end: int
    estimate: int  # rows, guessed from the text until it is drawn
    rows: int | None = None  # once drawn at the current width: stays known without the lines
    lines: list[Strip] | None = None


class MessageRenderer:
    """One message's text as lines of a given width, kept up to date as the text grows.

    The text is cut into sections (see `_Cutter`); each finished section is parsed and drawn
    only when its rows are asked for, and has an estimated height until then, so a long
    reply costs what is on screen. The open tail after the last cut is parsed again at each
    change, its blocks drawn once per width and kept while they are unchanged.
    """

    def __init__(self, code_theme: str = CODE_THEME) -> None:
        self.code_theme = code_theme
        self.block_renders = 0  # how many blocks were drawn: lets tests check the caching
        self._reset()

    def _reset(self) -> None:
        self._raw = ""
        self._sanitizer = StreamSanitizer()
        self._text = ""  # sanitized
        self._cutter = _Cutter()
        self._tail_start = 0  # where the open tail starts in _text
        self._sections: list[_Section] = []
        self._width = 0
        self._starts: list[int] = []  # first row of each laid-out section (after its gap)
        self._end = 0  # rows taken by the laid-out sections
        self._tail_lines: list[Strip] | None = None
        self._all: list[Strip] | None = None  # every line, once lines() was asked for them
        # Blocks drawn at _width by source: the tail's, and the previous tail's, which the
        # sections just cut from it will ask for.
        self._drawn: dict[str, list[Strip]] = {}
        self._spare: dict[str, list[Strip]] = {}

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
        if not clean:
            return
        self._text += clean
        for cut in self._cutter.cuts(self._text):
            self._sections.append(_Section(self._tail_start, cut, self._estimate(self._tail_start, cut)))
            self._tail_start = cut
        self._tail_lines = self._all = None

    # -- layout ---------------------------------------------------------------------------

    def _set_width(self, width: int) -> None:
        width = max(1, width)
        if width == self._width:
            return
        self._width = width
        self._drawn, self._spare = {}, {}
        self._tail_lines = self._all = None
        for section in self._sections:
            section.lines = section.rows = None
            section.estimate = self._estimate(section.start, section.end)
        self._starts = []
        self._end = 0

    def _estimate(self, start: int, end: int) -> int:
        # Markdown's blank is spaces and tabs only: a line of other white space (U+00A0)
        # still draws, and a section guessed at 0 rows would never be drawn.
        text = self._text[start:end].rstrip(" \t\n")
        if not text:
            return 0
        return text.count("\n") + 1 + len(text) // (self._width or 80)

    def _rows(self, section: _Section) -> int:
        return section.rows if section.rows is not None else section.estimate

    def _layout(self) -> None:
        """Extend the rows laid out to every section; a blank row goes between non-empty ones."""
        end = self._end
        for section in self._sections[len(self._starts) :]:
            rows = self._rows(section)
            if rows and end:
                end += 1
            self._starts.append(end)
            end += rows
        self._end = end

    def _relayout_from(self, index: int) -> None:
        del self._starts[index:]
        self._end = self._starts[-1] + self._rows(self._sections[index - 1]) if index else 0
        self._layout()

    def _draw_section(self, index: int) -> bool:
        """Draw a section; whether its height differs from what was laid out."""
        section = self._sections[index]
        lines: list[Strip] = []
        for block in _blocks(self._text[section.start : section.end]):
            _append_block(lines, self._block_lines(block), self._width)
        known = self._rows(section)
        section.lines, section.rows = lines, len(lines)
        return len(lines) != known

    def _block_lines(self, block: _Block) -> list[Strip]:
        lines = self._drawn.get(block.source)
        if lines is None:
            lines = self._spare.get(block.source)
        if lines is None:
            lines = self._draw(block, self._width)
        return lines

    def _tail(self) -> list[Strip]:
        if self._tail_lines is None:
            self._spare, self._drawn = self._drawn, {}
            lines: list[Strip] = []
            for block in _blocks(self._text[self._tail_start :]):
                block_lines = self._block_lines(block)
                self._drawn[block.source] = block_lines
                _append_block(lines, block_lines, self._width)
            self._tail_lines = lines
        return self._tail_lines

    def _draw(self, block: _Block, width: int) -> list[Strip]:
        self.block_renders += 1
        segments = iter(_CONSOLE.render(_markdown(block.tokens, self.code_theme), _options(width)))
        # Rich starts a block with a newline when a nested paragraph closed before it (a list,
        # a quote): a separator meant for the block above. We add our own separators.
        first = next(segments, None)
        if first is not None and first != _NEW_LINE:
            segments = chain((first,), segments)
        lines = list(Segment.split_and_crop_lines(segments, width, pad=True, include_new_lines=False))
        # Some blocks bring blank edges of their own (a rule, a table's frame): trim them so
        # that blocks are always exactly one blank line apart.
        start, end = 0, len(lines)
        while start < end and _is_blank(lines[start]):
            start += 1
        while end > start and _is_blank(lines[end - 1]):
            end -= 1
        return [Strip(line, width) for line in lines[start:end]]

    # -- what the view asks ---------------------------------------------------------------

    def height(self, width: int) -> int:
        """Rows of the message at `width`; sections not drawn yet count as estimated."""
        self._set_width(width)
        self._layout()
        tail = len(self._tail())
        return self._end + (tail + bool(self._end) if tail else 0)

    def reveal(self, start: int, end: int, width: int) -> bool:
        """Draw the sections on rows [start, end); whether that changed the height."""
        self._set_width(width)
        self._layout()
        if end <= start or start >= self._end:
            return False
        index = max(0, bisect_right(self._starts, max(0, start)) - 1)
        changed_from: int | None = None
        while index < len(self._sections) and self._starts[index] < end:
            if self._sections[index].lines is None and self._draw_section(index):
                changed_from = index if changed_from is None else changed_from
            index += 1
        if changed_from is None:
            return False
        self._relayout_from(changed_from)
        return True

    def line(self, y: int, width: int) -> Strip:
        """Row `y`; a section not drawn yet is drawn now (`reveal` first keeps the heights)."""
        self.height(width)
        if y >= self._end:
            tail = self._tail()
            y -= self._end + bool(self._end)
            return tail[y] if 0 <= y < len(tail) else Strip.blank(self._width)
        index = bisect_right(self._starts, y) - 1
        section = self._sections[index]
        if section.lines is None and self._draw_section(index):
            self._relayout_from(index)
        assert section.lines is not None
        y -= self._starts[index]
        return section.lines[y] if 0 <= y < len(section.lines) else Strip.blank(self._width)

    def lines(self, width: int) -> list[Strip]:
        """The whole message as lines exactly `width` cells wide (draws every section)."""
        self._set_width(width)
        if self._all is not None:
            return self._all
        result: list[Strip] = []
        for index, section in enumerate(self._sections):
            if section.lines is None and self._draw_section(index):
                del self._starts[index:]  # laid out again below, from here on
            assert section.lines is not None
            _append_block(result, section.lines, self._width)
        if len(self._starts) < len(self._sections):
            self._relayout_from(len(self._starts))
        _append_block(result, self._tail(), self._width)
        self._all = result
        return result

    def settled_lines(self, width: int) -> int:
        """Rows at the top that appending text will not change: the finished sections."""
        return self._end if width == self._width else 0

    def locate(self, y: int) -> tuple[int, int]:
        """Row `y` as (section, row in it), which stays put while other sections are drawn;
        section -1 is the open tail."""
        if y >= self._end or not self._starts:
            return -1, y - self._end
        index = max(0, bisect_right(self._starts, y) - 1)
        return index, y - self._starts[index]

    def row_of(self, place: tuple[int, int]) -> int:
        """The row of a place `locate` gave."""
        index, offset = place
        if index < 0 or index >= len(self._starts):
            return self._end + offset
        return self._starts[index] + offset

    @property
    def holds_lines(self) -> bool:
        """Whether drawn lines are kept (`drop_lines` lets go of them)."""
        return self._tail_lines is not None or any(s.lines is not None for s in self._sections)

    def drop_lines(self) -> None:
        """Free the drawn lines but keep every height: drawing again gives the same rows."""
        for section in self._sections:
            section.lines = None
        self._tail_lines = self._all = None
        self._drawn, self._spare = {}, {}


def _is_blank(line: list[Segment]) -> bool:
    return all(not segment.text.strip(" ") and not (segment.style and segment.style.bgcolor) for segment in line)


def _append_block(lines: list[Strip], block: list[Strip], width: int) -> None:
    if block:
        if lines:
            lines.append(Strip.blank(width))
        lines.extend(block)
