"""A part of a paragraph as the Rich `Text` that Rich's Markdown builds for it, made by Rich's
own element code, with the images it finds (Rich draws those above the paragraph)."""

from __future__ import annotations

from copy import copy
from functools import cache
from typing import TYPE_CHECKING, ClassVar

from markdown_it.token import Token
from rich.cells import cell_len
from rich.markdown import ImageItem, Markdown, MarkdownElement, Paragraph
from rich.text import Text

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
    from rich.segment import Segment


class _KeptParagraph(Paragraph):
    """Rich's paragraph, keeping what it would draw instead of drawing it."""

    kept: list[RenderableType | Segment]

    @classmethod
    def create(cls, markdown: Markdown, token: Token) -> Paragraph:
        element = super().create(markdown, token)
        if isinstance(markdown, _PartMarkdown):
            markdown.kept.append(element)
        return element

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        self.kept = list(super().__rich_console__(console, options))
        yield from ()


class _KeptImage(ImageItem):
    """Rich's image placeholder, remembered so that it can be drawn at any width."""

    @classmethod
    def create(cls, markdown: Markdown, token: Token) -> MarkdownElement:
        element = super().create(markdown, token)
        if isinstance(markdown, _PartMarkdown):
            markdown.kept.append(element)
        return element


class _PartMarkdown(Markdown):
    elements: ClassVar[dict[str, type[MarkdownElement]]] = {
        **Markdown.elements,
        "paragraph_open": _KeptParagraph,
        "image": _KeptImage,
    }
    kept: list[MarkdownElement]


@cache
def _template() -> _PartMarkdown:
    # The attributes the app's renderer gives its Markdown (links drawn as "text (url)").
    return _PartMarkdown("", hyperlinks=False)


def part_text(console: Console, inline: Token) -> tuple[Text, list[MarkdownElement]]:
    """The paragraph text Rich's Markdown makes of one `inline` token, and its images."""
    markdown = copy(_template())
    markdown.kept = []
    markdown.parsed = [Token("paragraph_open", "p", 1), inline, Token("paragraph_close", "p", -1)]
    for _segment in markdown.__rich_console__(console, console.options):
        pass  # what images draw here is drawn again at the width asked for
    paragraphs = [element for element in markdown.kept if isinstance(element, _KeptParagraph)]
    if len(paragraphs) != 1 or len(paragraphs[0].kept) != 1 or not isinstance(paragraphs[0].kept[0], Text):
        raise RuntimeError("Rich's Markdown no longer draws a paragraph as one Text")
    images = [element for element in markdown.kept if isinstance(element, _KeptImage)]
    return paragraphs[0].kept[0], list(images)


def expand_tabs(text: Text, column: int, tab_size: int) -> Text:
    """`text` with its tabs expanded as Rich expands them in a line in which `text` starts
    at `column` (modulo `tab_size`): only that remainder decides where the tab stops fall."""
    if "\t" not in text.plain:
        return text
    line = Text(" " * column)
    line.append_text(text)
    line.expand_tabs(tab_size)
    return line[column:] if column else line


def end_column(plain: str, column: int, tab_size: int) -> int:
    """The column (modulo `tab_size`) after `plain`, an expanded text starting at `column`.
    Cell widths add up across the cut, which follows a space, a line break or a character
    no zero-width joiner or variation selector follows (see `inline_parts`)."""
    line_start = plain.rfind("\n") + 1
    if line_start:
        return cell_len(plain[line_start:]) % tab_size
    return (column + cell_len(plain)) % tab_size
