"""A paragraph drawn by `ParagraphBlock` must equal what the app's renderer draws for the same
text at once, however the text arrived, and an update must cost what was appended, not what
was there."""

from __future__ import annotations

import functools
import random
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from markdown_it.token import Token
from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text

from app.render.console import CONSOLE as _CONSOLE
from app.render.console import blank_row
from app.render.inline_parts import check_parser, parse_with_probe
from app.render.inline_text import part_text
from app.render.markdown import blocks, draw_tokens
from app.render.markdown import parser as _parser
from app.render.message import MessageRenderer
from app.render.paragraph import ParagraphBlock, Row
from app.render.wrap import Wrap

ROOT = Path(__file__).resolve().parent.parent
WIDTHS = (20, 61, 120)
Simple = list[list[tuple[str, Style | None]]]

ATOMS = [
    *("word", "prose", "a", "Markdown", "x1", "é"),
    *(" ", " ", " ", " ", "\n", "  \n", "\t"),
    *("*", "_", "**", "__", "~~", "~", "`", "``", "[", "]", "(", ")", "\\", "!", "<", ">"),
    *("&amp;", "&#42;", "&nbsp", "<http://x>", "<a@b.c>", "[link](http://x)", "![alt](i.png)"),
    *("\\`", "\\*", "`code`", "``co`de``", "*em*", "**strong**", '"', "](", "[x](y z)", "](<"),
    *("中文", "字", "。", "😀", "👍🏽", "❤\ufe0f", "👨\u200d👩", "\u00a0", "\u3000"),
    "averyveryverylongwordthatdoesnotfitonanyrowofthenarrowwidthsatall" * 2,
]
texts = st.lists(st.sampled_from(ATOMS), min_size=1, max_size=70).map("".join)


def is_paragraph(text: str) -> bool:
    types = [token.type for token in _parser().parse(text)]
    return types == ["paragraph_open", "inline", "paragraph_close"]


def simplified(rows: list[Row]) -> Simple:
    return [[(segment.text, segment.style) for segment in Segment.simplify(row)] for row in rows]


def app_rows(text: str, width: int) -> Simple:
    """Rich's drawing of the text, block by block: what the app drew before paragraphs were
    drawn a part at a time."""
    rows: list[Row] = []
    for found in blocks(text):
        drawn = draw_tokens(found.tokens, width)
        if drawn and rows:
            rows.append(blank_row(width))
        rows.extend(drawn)
    return simplified(rows)


def block_rows(block: ParagraphBlock, width: int) -> Simple:
    rows = block.rows(0, block.height(width), width)
    assert all(sum(segment.cell_length for segment in row) == width for row in rows)
    return simplified(rows)


def new_block(text: str = "") -> ParagraphBlock:
    block = ParagraphBlock(_CONSOLE, _parser())
    block.set_source(text)
    return block


def prose(size: int, seed: int = 1, marks: bool = True) -> str:
    """Made-up prose with single line breaks, emphasis, code spans and links."""
    rng = random.Random(seed)
    words = ["the", "model", "streams", "a", "long", "answer", "about", "terminals", "wrapping", "lines"]
    out: list[str] = []
    length = 0
    while length < size:
        word = rng.choice(words)
        roll = rng.random() if marks else 1.0
        if roll < 0.03:
            word = f"*{word}*"
        elif roll < 0.05:
            word = f"`{word}()`"
        elif roll < 0.06:
            word = f"**{word} {rng.choice(words)}**"
        elif roll < 0.065:
            word = f"[{word}](https://example.com/{word})"
        elif roll < 0.07:
            word = f"~~{word}~~"
        out.append(word + ("\n" if rng.random() < 0.02 else " "))
        length += len(out[-1])
    return "".join(out).strip()


# -- the same rows as the app's renderer ---------------------------------------------------


@settings(max_examples=250, deadline=None)
@given(texts)
def test_a_paragraph_draws_as_the_app_renderer_draws_it(text: str) -> None:
    assume(is_paragraph(text))
    block = new_block(text)
    for width in WIDTHS:
        assert block_rows(block, width) == app_rows(text, width)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_long_prose_draws_as_the_app_renderer_draws_it(seed: int) -> None:
    text = prose(30_000, seed)
    assert is_paragraph(text)
    block = new_block(text)
    for width in WIDTHS:
        assert block_rows(block, width) == app_rows(text, width)


@pytest.mark.parametrize(
    "text",
    [prose(200_000, marks=False).replace("\n", " "), prose(200_000).replace(" ", "\n")],
    ids=["one line of 200 KB", "200 KB of lines"],
)
def test_a_huge_paragraph_draws_as_the_app_renderer_draws_it(text: str) -> None:
    assert is_paragraph(text) and len(text) >= 200_000
    block = new_block(text)
    assert block_rows(block, 120) == app_rows(text, 120)


@pytest.mark.parametrize(
    "text",
    [
        "![a long alternative text for an image](x.png) then ![b](y.png) text after the images",
        "\\\nstarts with a hard break",
        "ends with an image  \n![i](u)",
        "tabs\tin\tthe\ttext " * 8,
        "*an opener that is never closed, then " + "words " * 40,
        "`a backtick that is never closed, then " + "words " * 40,
        "[a bracket that is never closed, then " + "words " * 40,
        "<http://an-autolink-never-closed " + "words " * 40,
        "中文没有空格的长段落。" * 40,
        "a `  ` code span of spaces, and ` ` one",
        "`\\`` an escaped backtick next to one",
    ],
)
def test_edge_cases_draw_as_the_app_renderer_draws_them(text: str) -> None:
    assert is_paragraph(text)
    for width in (*WIDTHS, 1, 2, 5):
        assert block_rows(new_block(text), width) == app_rows(text, width)


def test_white_space_alone_draws_nothing() -> None:
    assert new_block("  \u3000 ").height(40) == 0


# -- growing: every step as if the text had come at once -----------------------------------


@st.composite
def growing(draw: st.DrawFn) -> tuple[str, list[int], int]:
    text = draw(texts)
    cuts = sorted(draw(st.sets(st.integers(1, max(1, len(text))), max_size=12)) | {len(text)})
    return text, cuts, draw(st.sampled_from((2, 3, 7, *WIDTHS)))


@settings(max_examples=250, deadline=None)
@given(growing())
def test_a_growing_paragraph_equals_a_fresh_one_at_every_step(case: tuple[str, list[int], int]) -> None:
    text, cuts, width = case
    block = new_block()
    for cut in cuts:
        block.set_source(text[:cut])
        if cut % 2:
            block.height(width)  # lay out between some steps, not all
        if is_paragraph(text[:cut]):
            assert block_rows(block, width) == block_rows(new_block(text[:cut]), width)
    if is_paragraph(text):
        assert block_rows(block, width) == app_rows(text, width)


@settings(max_examples=150, deadline=None)
@given(growing())
def test_settled_rows_do_not_change_as_the_paragraph_grows(case: tuple[str, list[int], int]) -> None:
    text, cuts, width = case
    assume("![" not in text)  # an image arriving changes the top rows (see settled_rows)
    block = new_block()
    promised: Simple = []
    for cut in cuts:
        block.set_source(text[:cut])
        if not is_paragraph(text[:cut]):
            continue
        rows = block_rows(block, width)
        assert _unstyled_as_null(rows[: len(promised)]) == _unstyled_as_null(promised)
        promised = rows[: block.settled_rows(width)]


def _unstyled_as_null(rows: Simple) -> Simple:
    return [[(text, style or Style()) for text, style in row] for row in rows]


def test_a_long_growing_paragraph_settles_its_rows() -> None:
    text = prose(20_000)
    block = new_block()
    for end in range(0, len(text), 997):
        block.set_source(text[: end + 1])
    block.set_source(text)
    assert block_rows(block, 61) == app_rows(text, 61)
    assert block.height(61) - block.settled_rows(61) <= 2


def test_a_source_that_does_not_extend_the_last_starts_over() -> None:
    block = new_block("first *version* of the text")
    block.height(20)
    block.set_source("second text, *different*")
    assert block_rows(block, 20) == app_rows("second text, *different*", 20)


# -- bounded work --------------------------------------------------------------------------


def _append_cost(text: str, word: str, width: int = 120) -> tuple[int, int]:
    block = new_block(text)
    height = block.height(width)
    block.rows(height - 45, height, width)
    parsed, wrapped = block.parsed_chars, block.wrapped_chars
    block.set_source(text + word)
    height = block.height(width)
    block.rows(height - 45, height, width)
    return block.parsed_chars - parsed, block.wrapped_chars - wrapped


@pytest.mark.parametrize(
    "make",
    [lambda size: prose(size, marks=False), prose, lambda size: "中文没有空格的长段落。" * (size // 11)],
    ids=["plain prose", "prose with emphasis, code and links", "CJK without spaces"],
)
@pytest.mark.parametrize("word", [" append", " *emphasis*", " `code`", "abc"])
def test_appending_a_word_costs_the_word_not_the_paragraph(make: object, word: str) -> None:
    assert callable(make)
    for size in (2_000, 200_000):  # the same bound, whatever the paragraph's size
        parsed, wrapped = _append_cost(make(size), word)
        assert parsed <= 3 * (len(word) + 40)  # the open part: the last word or so, and the new one
        assert wrapped <= 2 * 120 + len(word)  # the last row or two


@pytest.mark.parametrize(
    ("opener", "completion"),
    [("2*x ", " a*b"), ("a `lone backtick ", " and `"), ("see [note ", " end]"), ("~~struck ", " so~~")],
    ids=["emphasis", "backticks", "bracket", "strikethrough"],
)
def test_an_opener_left_open_costs_nothing_until_what_completes_it_comes(opener: str, completion: str) -> None:
    """What only a later closer, backtick run or `]` can complete is watched, not parsed
    again; when one comes, the paragraph is parsed again from the opener, once."""
    tail = prose(50_000, marks=False)
    block = new_block(opener + tail)
    block.height(120)
    steps = [" more", completion, " and", " words", " after"]
    costs = []
    for step in steps:
        parsed = block.parsed_chars
        tail += step
        block.set_source(opener + tail)
        block.height(120)
        costs.append(block.parsed_chars - parsed)
    assert costs[0] < 100 and costs[1] >= len(tail) - 2_048 * 2  # from the chunk holding the opener
    assert costs[-1] < 100
    assert block_rows(block, 120) == app_rows(opener + tail, 120)


# -- the internals this relies on ----------------------------------------------------------


WRAP_PARTS = ["ab", "中", "😀", " ", "  ", "\n", "x" * 50, "\u200d", "\ufe0f", "\u00a0"]


def edits(size: int) -> st.SearchStrategy[list[tuple[str, int]]]:
    """Texts to wrap before the real one: a piece inserted at some offset, or ("") the text cut there."""
    return st.lists(st.tuples(st.sampled_from(["", *WRAP_PARTS]), st.integers(0, size)), max_size=3)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(WRAP_PARTS), max_size=60), st.data())
def test_the_wrap_equals_rich_text_wrap_and_restarts_as_a_fresh_wrap(parts: list[str], data: st.DataObject) -> None:
    """`Wrap` (rows of `divide_line`, redone from a row after a change) and the finishing of
    each row equal `Text.wrap` for a left-justified, folding text."""
    text = "".join(parts)
    block = new_block()
    for width in (1, 2, 3, 7, 20):
        fresh = Wrap()
        fresh.update(lambda a, b: text[a:b], len(text), 0, width)
        grown = Wrap()
        wrapped = ""
        versions = [text[:at] + step + text[at:] if step else text[:at] for step, at in data.draw(edits(len(text)))]
        for version in [*versions, text]:
            changed = next((i for i, (a, b) in enumerate(zip(wrapped, version, strict=False)) if a != b), None)
            changed = min(len(wrapped), len(version)) if changed is None else changed
            grown.update(functools.partial(_slice, version), len(version), changed, width)
            wrapped = version
        assert (grown.starts, grown.ends) == (fresh.starts, fresh.ends)
        block._width = width
        rows = [block._finish(Text(text[start:end])).plain for start, end in zip(fresh.starts, fresh.ends, strict=True)]
        try:
            expected = [line.plain for line in Text(text).wrap(_CONSOLE, width, justify="left", overflow="fold")]
        except (ZeroDivisionError, IndexError):  # Rich's own failure (see `_finish`): the rows need only fit
            assert all(cell_len(row) <= width for row in rows)
            continue
        assert rows == expected


@settings(max_examples=150, deadline=None)
@given(texts)
def test_the_probe_parser_parses_as_the_app_parser(text: str) -> None:
    assume(text.strip())
    tokens, _ = parse_with_probe(_parser(), text)
    assert _tree(tokens) == _tree(_parser().parseInline(text))


def _tree(tokens: list[Token]) -> list[object]:
    return [(token.type, token.content, token.attrs, _tree(token.children or [])) for token in tokens]


@settings(max_examples=100, deadline=None)
@given(texts)
def test_a_paragraph_content_is_its_source_stripped(text: str) -> None:
    assume(is_paragraph(text))
    assert _parser().parse(text)[1].content == text.strip()


@pytest.mark.parametrize(
    ("text", "cut", "watched"),
    [
        ("*a* b c", "*a* b ", set()),
        ("*a b c", "*a b ", {("closer", "*", 0)}),  # only a later closer can change it
        ("a*b c", "a*b ", {("closer", "*", 1)}),
        ("**a* b c", "**a* b ", {("closer", "*", 0)}),  # one `*` of the run is left open
        ("`a` b c", "`a` b ", set()),
        ("`a b c", "`a b ", {("backticks", "`", 0)}),
        ("[a `b](c) d", "[a `b](c) ", {("backticks", "`", 0)}),  # a closing run would undo the link
        ("[a `b] c d", "[a `b] c ", {("backticks", "`", 0), ("backticks", "`", 3)}),  # ... or move the label's end
        ("[a] b c", "[a] b ", set()),
        ("[a b c", "[a b ", {("bracket", "]", 0)}),
        ('[a](b "t d', "", set()),  # the title may still be closed
        ("[a](<b c d", "", set()),  # ... or the destination
        ("[a](b c) d e", "[a](b c) d ", set()),  # a space in a destination: never a link
        ("[a](b c", "[a](b ", set()),
        ("[a](b) c d", "[a](b) c ", set()),
        ("![a](b) c d", "![a](b) c ", set()),
        ("<http:x y z", "<http:x y ", set()),  # a space ends any autolink
        ("<http:中文字", "", set()),  # a `>` may still close the autolink
        ("中文字", "中文", set()),
        ("a\n  b c", "a\n  b ", set()),
        ("a  \nb c", "a  \nb ", set()),
        ("~~a b c", "~~a b ", {("closer", "~", 0)}),
        ("~~a~~ b c", "~~a~~ b ", set()),
        ("x `a`bc", "x `a`", set()),  # right after a token that read no further
        ("x [a](b)c", "x [a](b)", set()),
        ("x &amp;c", "x &amp;", set()),
        ("x \\*c", "x \\*", set()),
        ("x `a`*b*", "x ", set()),  # the run after it would see another neighbour
        ("x `a` b", "x `a` ", set()),  # a space after it: after the space
        ("`\\`` b", "`\\`` ", {("backticks", "`", 0), ("backticks", "`", 3)}),  # not inside the raw run "``"
    ],
)
def test_where_a_paragraph_is_cut(text: str, cut: str, watched: set[tuple[str, str, int]]) -> None:
    _, probe = parse_with_probe(_parser(), text)
    cuts = probe.cuts(text, 2048)
    assert (text[: cuts[-1]] if cuts else "") == cut
    assert {(watch.kind, watch.key, watch.start) for watch in probe.watches} == watched


def test_the_parser_must_leave_raw_html_off() -> None:
    from markdown_it import MarkdownIt

    with pytest.raises(ValueError, match="html"):
        check_parser(MarkdownIt("commonmark"))


def test_rich_draws_a_paragraph_as_one_left_justified_text() -> None:
    """The row drawing copies what `Text.wrap` does for this kind of Text."""
    text, images = part_text(_CONSOLE, _parser().parseInline("a *b* `c` ![d](e)")[0])
    assert (text.justify, text.overflow, text.no_wrap, text.tab_size) == ("left", None, None, None)
    assert text.plain == "a b c " and len(images) == 1
    assert _CONSOLE.options.overflow is None and _CONSOLE.options.justify is None


def test_rich_draws_unstyled_text_without_a_style_and_styled_text_with_the_null_one() -> None:
    plain = list(Text("a b").render(_CONSOLE))
    styled = list(Text.assemble("a ", ("b", "bold")).render(_CONSOLE))
    assert plain == [Segment("a b")]
    assert styled[0] == Segment("a ", _CONSOLE.get_style("", default=Style.null()))


def test_the_renderer_has_no_widget_imports() -> None:
    code = (
        "import sys, io\n"
        "from markdown_it import MarkdownIt\n"
        "from rich.console import Console\n"
        "from app.render.paragraph import ParagraphBlock\n"
        "parser = MarkdownIt('commonmark', {'html': False}).enable(['strikethrough', 'table'])\n"
        "block = ParagraphBlock(Console(file=io.StringIO()), parser)\n"
        "block.set_source('some *text* and ![an](image)')\n"
        "assert block.height(20)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'textual'))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def _slice(text: str, start: int, end: int) -> str:
    return text[start:end]


def test_a_row_rich_cannot_cut_is_drawn_as_blanks_that_fit() -> None:
    """Rich 15 divides by zero cutting a row that opens with two zero-width joiners (width 1)."""
    renderer = MessageRenderer()
    renderer.update("\u200d\u200d中 and more")
    rows = renderer.lines(1)
    assert rows and all(sum(segment.cell_length for segment in row) == 1 for row in rows)
