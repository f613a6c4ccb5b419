"""Markdown parsed with markdown-it and drawn by Rich's Markdown renderer, one top-level block
at a time.

Markdown-it, Pygments and Rich's Markdown load when the first message is drawn, not at start-up,
where importing them cost about 20 ms.
"""

from __future__ import annotations

from collections.abc import Iterable
from copy import copy
from dataclasses import dataclass
from functools import cache
from itertools import chain
from typing import TYPE_CHECKING, ClassVar

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderResult
from rich.segment import Segment

from app.render.console import CONSOLE, Row, is_blank, options

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.token import Token
    from pygments.lexer import Lexer
    from rich.markdown import Markdown

TAB_SIZE = 4  # Rich's default for code blocks
CODE_THEME = "monokai"  # dark background of its own, so code reads well on any dark theme
LAST_NUMBER = "last_number"  # token meta: the number Rich sizes an ordered list's numbers by


def new_parser() -> MarkdownIt:
    """The parser every part of a message is read with."""
    from markdown_it import MarkdownIt

    # Raw HTML stays literal text (Rich would drop it, and `Vec<String>` would lose `<String>`).
    # Link reference definitions stay literal too: a definition in one block changing a link in
    # another would make a settled block change after it was rendered.
    return MarkdownIt("commonmark", {"html": False}).enable(["strikethrough", "table"]).disable("reference")


parser = cache(new_parser)


def parse(text: str, breaks: bool = False) -> list[Token]:
    """Tokens of `text`. `breaks`: a line break inside a paragraph stays a line break (what a
    person typed) instead of joining the lines; markdown-it leaves that to its HTML output."""
    tokens = parser().parse(text)
    if breaks:
        for token in tokens:
            for child in token.children or ():
                if child.type == "softbreak":
                    child.type = "hardbreak"
    return tokens


@cache
def block_parser() -> MarkdownIt:
    """Block structure only, without inline parsing: cheap answers about where blocks end."""
    return new_parser().disable("inline")


_LEXERS: dict[str, Lexer] = {}


def lexer(name: str) -> Lexer | str:
    """A shared lexer for a language: Rich would look it up again for every code block.
    An unknown name goes on to Rich as it is, which draws the code plain."""
    found = _LEXERS.get(name)
    if found is None:
        from pygments.lexers import get_lexer_by_name
        from pygments.util import ClassNotFound

        try:
            # The options Rich's `Syntax.lexer` uses, so the tokens are the same.
            found = get_lexer_by_name(name, stripnl=False, ensurenl=True, tabsize=TAB_SIZE)
        except ClassNotFound:
            return name
        _LEXERS[name] = found
    return found


@cache
def _markdown_class() -> type[Markdown]:
    """Rich's Markdown with our code blocks and lists (made when first needed)."""
    from rich.markdown import CodeBlock, ListElement, Markdown, MarkdownElement
    from rich.syntax import Syntax

    class _CodeBlock(CodeBlock):
        """Rich's code block, drawn the quicker way where that gives the same lines: code
        whose lines all fit needs no word wrapping, which Rich would do line by line."""

        def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
            code = str(self.text).rstrip()
            fits = "\t" not in code and max(map(cell_len, code.split("\n"))) <= options.max_width - 2
            yield Syntax(
                code,
                lexer(self.lexer_name),
                theme=self.theme,
                word_wrap=not fits,
                padding=1,
            )

    class _ListElement(ListElement):
        """A list that may be a run of items cut from a longer one: its numbers are sized by
        the whole list's last number, which the cutter puts in the token's meta."""

        last_number: int | None = None

        @classmethod
        def create(cls, markdown: Markdown, token: Token) -> ListElement:
            element = cls(token.type, int(token.attrs.get("start", 1)))
            element.last_number = token.meta.get(LAST_NUMBER)
            return element

        def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
            if self.list_type == "bullet_list_open" or self.last_number is None:
                yield from super().__rich_console__(console, options)
                return
            number = 1 if self.list_start is None else self.list_start
            for index, item in enumerate(self.items):
                yield from item.render_number(console, options, number + index, self.last_number)

    class _Markdown(Markdown):
        elements: ClassVar[dict[str, type[MarkdownElement]]] = {
            **Markdown.elements,
            "fence": _CodeBlock,
            "code_block": _CodeBlock,
            "bullet_list_open": _ListElement,
            "ordered_list_open": _ListElement,
        }

    return _Markdown


_TEMPLATES: dict[str, Markdown] = {}


def _markdown(tokens: list[Token], code_theme: str) -> Markdown:
    """Rich's Markdown renderer fed with tokens parsed here.

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


_NEW_LINE = Segment.line()


def draw_tokens(tokens: list[Token], width: int, code_theme: str = CODE_THEME) -> list[Row]:
    """One top-level block's tokens as rows exactly `width` cells wide, without blank rows
    at either edge (blocks are put one blank row apart by the caller)."""
    segments: Iterable[Segment] = iter(CONSOLE.render(_markdown(tokens, code_theme), options(width)))
    # Rich starts a block with a newline when a nested paragraph closed before it (a list,
    # a quote): a separator meant for the block above.
    first = next(iter(segments), None)
    if first is not None and first != _NEW_LINE:
        segments = chain((first,), segments)
    rows = list(Segment.split_and_crop_lines(segments, width, pad=True, include_new_lines=False))
    # Some blocks bring blank edges of their own (a rule, a table's frame).
    start, end = 0, len(rows)
    while start < end and is_blank(rows[start]):
        start += 1
    while end > start and is_blank(rows[end - 1]):
        end -= 1
    return rows[start:end]


@dataclass(frozen=True, slots=True)
class Block:
    source: str  # the block's own lines: equal sources render equally, so it keys caches
    tokens: list[Token]


def top_level(tokens: list[Token]) -> list[tuple[int, int, list[Token]]]:
    """(first line, end line, tokens) of each top-level block."""
    found: list[tuple[int, int, list[Token]]] = []
    depth = begin = 0
    for index, token in enumerate(tokens):
        if depth == 0:
            begin = index
        depth += token.nesting
        if depth == 0:
            first, end = tokens[begin].map or (0, 0)
            found.append((first, end, tokens[begin : index + 1]))
    return found


def line_starts(text: str) -> list[int]:
    starts = [0]
    find = text.find
    index = find("\n")
    while index != -1:
        starts.append(index + 1)
        index = find("\n", index + 1)
    return starts


def blocks(text: str, breaks: bool = False) -> list[Block]:
    """The top-level blocks of one parse of `text`, each with its own source."""
    starts = line_starts(text)

    def offset(line: int) -> int:
        return starts[line] if line < len(starts) else len(text)

    return [Block(text[offset(first) : offset(end)], tokens) for first, end, tokens in top_level(parse(text, breaks))]
