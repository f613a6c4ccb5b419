"""A table drawn a row at a time must be exactly the table the renderer draws whole."""

from __future__ import annotations

import random
import subprocess
import sys

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from markdown_it.token import Token
from rich.console import Console
from rich.markdown import Markdown
from rich.segment import Segment
from rich.table import Table

from app.render.console import CONSOLE as _CONSOLE
from app.render.console import blank_row
from app.render.markdown import blocks, draw_tokens
from app.render.markdown import parser as _parser
from app.render.table import Row, TableBlock, table_continues
from app.render.table_rows import CELL_LIMIT

WIDTHS = (20, 60, 120)
Simple = list[list[tuple[str, object]]]

FRAGMENTS = [
    "word",
    "two words",
    "**bold**",
    "*it*",
    "`code|x`",
    "`a b`",
    r"a\|b",
    "[link](http://example.com/a/long/path)",
    "日本語のテキスト",
    "😀 emoji",
    "&amp;",
    "~~gone~~",
    "supercalifragilisticexpialidocious-and-then-some",
    "a long cell that goes on for quite a while, past the width of a narrow view",
    "x",
    "",
]
FRAGMENT = st.sampled_from(FRAGMENTS)
CELL = st.lists(FRAGMENT, max_size=4).map(lambda parts: " ".join(parts).strip())
# A pipe in a header cell, even in a code span, makes one more column: the delimiter row would
# not match.
HEADER_CELL = st.lists(st.sampled_from([f for f in FRAGMENTS if "`code|" not in f]), max_size=4).map(
    lambda parts: " ".join(parts).strip()
)
ALIGN = st.sampled_from(["---", ":--", "--:", ":-:", "-"])


def row_line(cells: list[str], edges: bool) -> str:
    inner = " | ".join(cells)
    # Without a leading pipe a row must not start like another block would.
    if not edges and cells and cells[0][:1].isalpha():
        return inner
    return f"| {inner} |"


@st.composite
def tables(draw: st.DrawFn, max_rows: int = 10) -> str:
    columns = draw(st.integers(1, 6))
    header = draw(st.lists(HEADER_CELL, min_size=columns, max_size=columns))
    aligns = draw(st.lists(ALIGN, min_size=columns, max_size=columns))
    lines = [row_line(header, True), "|" + "|".join(aligns) + "|"]
    for _ in range(draw(st.integers(0, max_rows))):
        # Rows may have fewer or more cells than the header: markdown-it fills in or drops.
        count = draw(st.integers(0, columns + 2))
        lines.append(row_line(draw(st.lists(CELL, min_size=count, max_size=count)), draw(st.booleans())))
    return "\n".join(lines) + "\n"


def simple(lines: list[Row]) -> Simple:
    return [[(segment.text, segment.style) for segment in Segment.simplify(line)] for line in lines]


def pipeline(text: str, width: int) -> Simple:
    """Rich's drawing of the whole text, block by block: what the app drew before tables
    were drawn a row at a time."""
    rows: list[Row] = []
    for found in blocks(text):
        drawn = draw_tokens(found.tokens, width)
        if drawn and rows:
            rows.append(blank_row(width))
        rows.extend(drawn)
    return simple(rows)


def block(text: str) -> TableBlock:
    table = TableBlock(_CONSOLE, _parser())
    table.set_source(text)
    return table


def drawn(table: TableBlock, width: int) -> Simple:
    lines = table.rows(0, table.height(width), width)
    assert all(sum(segment.cell_length for segment in line) == width for line in lines)
    return simple(lines)


def is_one_table(text: str) -> bool:
    """Whether markdown-it reads all of `text` as one table."""
    tokens = _parser().parse(text)
    lines = text.count("\n") + (not text.endswith("\n"))
    return (
        bool(tokens)
        and tokens[0].type == "table_open"
        and tokens[-1].type == "table_close"
        and tokens[0].map is not None
        and tokens[0].map[1] == lines
    )


# -- the same lines as the renderer -------------------------------------------------------


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables())
@example("| a | b |\n|---|:-:|\n| x ![alt](http://u/p.png) | y |\n| z | ![](q/r.png) ![i2](s) |\n")
@example("| ![h](x.png) |\n|-|\n| a |\n")
@example("| a | b |\n|---|:-:|\n|  | |\n| z | w |\n|  | |\n|\n")
@example("|  | |\n|---|:-:|\n|  | |\n| z | w |\n")
@example("| a\tb | c |\n|---|---|\n| tab\there | x\t\ty |\n")
@example("| a |\n|---|\n| &#32; |\n| &#32;&#32; |\n")
@example("| only |\n|:-:|\n")
def test_drawn_as_the_renderer_draws_the_whole_table(text: str) -> None:
    assert is_one_table(text)
    table = block(text)
    for width in WIDTHS:
        assert drawn(table, width) == pipeline(text, width), width


@settings(max_examples=40, deadline=None)
@given(tables(max_rows=4), st.integers(1, 12))
def test_narrow_widths(text: str, width: int) -> None:
    assert drawn(block(text), width) == pipeline(text, width)


def test_a_table_wider_than_the_view_wraps_as_rich_wraps_it() -> None:
    long = "a long cell that goes on for quite a while, well past the width of a view"
    text = "| key | text | more |\n|---|:-:|--:|\n" + "".join(
        f"| k{i} | {long} {i} | {'short' if i % 3 else long} |\n" for i in range(40)
    )
    table = block(text)
    for width in (*WIDTHS, 33, 80):
        want = pipeline(text, width)
        assert len(want) > 40 * 2  # rows wrap: the height is not one line a row
        assert drawn(table, width) == want


def test_images_are_drawn_above_the_table_as_rich_does() -> None:
    text = "| ![head](h.png) | b |\n|---|---|\n| a | ![cell](c.png) x |\n| b | c |\n| ![](d/e.png) | f |\n"
    table = block(text)
    for width in WIDTHS:
        want = pipeline(text, width)
        assert any("🌆" in text for text, _ in want[0])
        assert drawn(table, width) == want


# -- kept up to date as it streams --------------------------------------------------------


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables(max_rows=6), st.randoms(use_true_random=False), st.sampled_from(WIDTHS))
def test_fed_in_pieces_equals_fresh(text: str, rng: random.Random, width: int) -> None:
    table = TableBlock(_CONSOLE, _parser())
    position = 0
    while position < len(text):
        position = min(len(text), position + rng.randint(1, 20))
        so_far = text[:position]
        table.set_source(so_far)
        fresh = block(so_far)
        assert table.height(width) == fresh.height(width)
        assert drawn(table, width) == drawn(fresh, width)
        if is_one_table(so_far):  # a partial row is drawn as markdown-it reads it now
            assert drawn(table, width) == pipeline(so_far, width)
        assert table.length == fresh.length


def test_a_source_that_is_not_the_previous_one_extended_starts_over() -> None:
    table = block("| a | b |\n|---|---|\n| 1 | 2 |\n")
    other = "| x |\n|:-:|\n| wide cell here |\n"
    table.set_source(other)
    assert drawn(table, 60) == pipeline(other, 60)


def test_a_line_that_ends_the_table_ends_it_for_good() -> None:
    table = block("| a | b |\n|---|---|\n| 1 | 2 |\n")
    assert table.settled_rows(60) == 0  # one more row could widen every column
    rows = "| a | b |\n|---|---|\n| 1 | 2 |\n"
    table.set_source(rows + "# heading\n| 3 | 4 |\n")
    assert table.length == len(rows)
    assert drawn(table, 60) == pipeline(rows, 60)
    assert table.settled_rows(60) == table.height(60) == 3  # header, rule, row


def test_a_partial_line_that_would_end_the_table_is_not_a_row_yet() -> None:
    rows = "| a | b |\n|---|---|\n| 1 | 2 |\n"
    table = block(rows + "-")  # a list item, for now
    assert table.length == len(rows)
    assert drawn(table, 60) == pipeline(rows, 60)
    table.set_source(rows + "-x | y")
    assert drawn(table, 60) == pipeline(rows + "-x | y", 60)


def test_markdown_it_limit_on_filled_in_cells_ends_the_table() -> None:
    columns = 40
    header = "|" + " h |" * columns + "\n|" + "-|" * columns + "\n"
    text = header + "| x |\n" * (CELL_LIMIT // (columns - 1) + 5)
    table_open = _parser().parse(text)[0]
    assert table_open.map is not None
    end_line = table_open.map[1]
    assert end_line < text.count("\n")  # the limit ended it
    table = block(text)
    assert table.length == sum(len(line) + 1 for line in text.split("\n")[:end_line])


# -- ranges --------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(tables(), st.sampled_from(WIDTHS), st.lists(st.tuples(st.integers(-3, 40), st.integers(-3, 45)), max_size=6))
@example(
    "| a | b |\n|---|---|\n" + "| a long cell that goes on for quite a while, past the width | ![i](x.png) |\n" * 6,
    20,
    [(5, 9), (0, 3), (2, 30)],
)
def test_ranges_are_slices_of_the_whole(text: str, width: int, ranges: list[tuple[int, int]]) -> None:
    whole = drawn(block(text), width)
    table = block(text)  # nothing drawn yet: the ranges draw their rows first
    for start, end in ranges:
        assert simple(table.rows(start, end, width)) == whole[max(0, start) : max(0, end)]
    assert drawn(table, width) == whole


# -- where a table ends -------------------------------------------------------------------

FOLLOWING = [
    "",
    "   ",
    "# heading",
    "###### six",
    "#hashtag | x",
    "```",
    "~~~ python",
    "``` `inline` ```",
    "- item",
    "-",
    "* item",
    "+ item",
    "1. item",
    "2) item",
    "12345678901. too long",
    "> quote",
    ">",
    "plain line without pipes",
    "    | indented as code |",
    "\t| a tab |",
    "   | three spaces |",
    "***",
    "---",
    "___",
    "- - -",
    "===",
    "<div>html</div>",
    "a | b",
    "| a | b |",
    "|",
    "\\| escaped",
    "-x | y",
]


@settings(max_examples=300, deadline=None)
@given(
    tables(max_rows=3),
    st.lists(st.one_of(st.sampled_from(FOLLOWING), st.text(" |-#>*+_`~=1.)\t<ab", max_size=8)), max_size=4),
)
@example("| a |\n|-|\n", ["| b |", "> quote", "| c |"])
def test_table_continues_agrees_with_markdown_it(text: str, following: list[str]) -> None:
    lines = text.split("\n")[:-1] + following
    table_open = _parser().parse("\n".join(lines) + "\n")[0]
    assert table_open.type == "table_open" and table_open.map is not None
    end = 2
    while end < len(lines) and table_continues(lines[end]):
        end += 1
    assert end == table_open.map[1]


def test_table_continues_for_each_kind_of_line() -> None:
    for line in FOLLOWING:
        tokens: list[Token] = _parser().parse(f"| a |\n|-|\n{line}\n")
        assert tokens[0].map is not None
        assert table_continues(line) == (tokens[0].map[1] == 3), line


# -- the work a row costs ------------------------------------------------------------------


def work(table: TableBlock) -> tuple[int, int, int, int]:
    return table.parses, table.measures, table.wraps, table.draws


def grown_by_one_row(rows: int, cell: str) -> tuple[int, int, int, int]:
    """The work of one more complete row (and a partial one after it) after `rows` rows, with
    the height and the last screen asked for as the view does."""
    header = "| n | text | value |\n|---|---|--:|\n"
    text = header + "".join(f"| {i} | {cell} {i} | {i * 7} |\n" for i in range(rows))
    table = block(text)
    height = table.height(120)
    table.rows(height - 45, height, 120)
    before = work(table)
    text += f"| {rows} | {cell} {rows} | {rows * 7} |\n| {rows + 1} | par"
    table.set_source(text)
    height = table.height(120)
    table.rows(height - 45, height, 120)
    cost = tuple(after - was for after, was in zip(work(table), before, strict=True))
    assert drawn(table, 120) == pipeline(text, 120)
    return cost  # type: ignore[return-value]  # as many counts as `work` gives: the tuple type says four


def test_one_more_row_costs_the_same_after_3000_rows() -> None:
    for cell in ("short", "a cell long enough to wrap " * 6):
        small, large = grown_by_one_row(30, cell), grown_by_one_row(3000, cell)
        assert small == large, cell
        parses, measures, _, draws = large
        assert parses == 2  # the new row, and the partial one
        assert measures == 6
        assert draws <= 3


def test_rows_are_drawn_only_when_asked_for() -> None:
    text = "| n | v |\n|---|---|\n" + "".join(f"| {i} | {i * 3} |\n" for i in range(3000))
    table = block(text)
    height = table.height(80)
    assert height == 3002
    assert table.draws <= 2  # the last row, to see whether it is blank
    table.rows(1500, 1545, 80)
    assert table.draws <= 2 + 45


# -- what the module relies on -------------------------------------------------------------


def test_rich_table_internals_draw_as_rich_draws() -> None:
    """Column widths and drawing come from Rich's own table code; if Rich renames or changes
    `_calculate_column_widths`, `_extra_width`, `_render` or `_get_padding_width`, this fails."""
    console = Console(width=50, force_terminal=True, color_system="truecolor", highlight=False)
    markdown = Markdown("| a | b |\n|---|--:|\n| one two three four five six seven eight | x |\n")
    whole = list(console.render(markdown, console.options))
    table = TableBlock(console, _parser())
    table.set_source(markdown.markup)
    ours = table.rows(0, table.height(50), 50)
    lines = Segment.split_and_crop_lines(whole, 50, include_new_lines=False)
    lines = [line for line in lines if "".join(segment.text for segment in line).strip()]
    assert simple(ours) == simple(lines)
    made = Table(box=None)
    assert made._get_padding_width(0) == 2
    assert isinstance(made._calculate_column_widths(console, console.options), list)


def test_no_textual_in_the_renderer() -> None:
    code = "import sys, app.render.table; print('textual' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
