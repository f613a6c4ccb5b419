"""Incremental Markdown rendering: what streaming shows must equal rendering the text at once."""

from __future__ import annotations

import io
import random
import re

from hypothesis import given, settings
from hypothesis import strategies as st
from rich.cells import cell_len
from rich.segment import Segment

from app.render.console import Row, blank_row
from app.render.markdown import blocks, draw_tokens
from app.render.message import MessageRenderer
from app.text import StreamSanitizer

WIDTH = 40
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")

DOCUMENTS = {
    "headings and paragraphs": (
        "# Title\n\nFirst *para* with `code`.\nSecond line.\n\n## Part\nText under it\n===\n\nSetext above.\n"
    ),
    "nested lists": (
        "Intro:\n- one\n  - one.a\n  - one.b\n\n    more one.b\n- two\n\n1. first\n2. second\n"
        "   1. inner\n\n3) other\n\nafter\n"
    ),
    "table": ("Before\n| name | size |\n|:--|--:|\n| a | 1 |\n| b | 22 |\nlazy row\n\n| x |\n|-|\n\nend"),
    "fences": (
        "Code:\n\n```python\ndef f(x):\n    return x\n```\n\n~~~\nraw\n~~~\n\n    indented\n\n"
        "    still\n\n```js\nunclosed(\n"
    ),
    # "3" is a paragraph until the "." makes it the list's next item
    "a list taken back": "1. first\n2. second\n\n3. third\n\n10) other\n\n11) again",
    # the delimiter row stops being one when "x" arrives
    "almost a table": "Before\n| a | b |\n|-|-x|\nafter\n| c | d |\n|-|-|\n",
    "quotes": "> quote\n> - item\nlazy\n\n> second\n>\n> > nested\n\n---\n***\ntext",
    # A fence in a list item ends with the item; an indented fence at the top level does not.
    "fences in lists": (
        "1. step\n\n   ```sh\n   make\n\nafter the list\n```\n\nin a fence\n```\n\n"
        "  ```\n\nstill in it\n  ```\n\n- x\n  ```\n\ny\n```` `\n\nz\n"
    ),
}


Rows = list[list[Segment]]


def same(rows: list[Row]) -> Rows:
    """Rows as what they show: runs of text in one style (how a row is split into segments
    of equal style is not something a person sees)."""
    return [list(Segment.simplify(row)) for row in rows]


def one_shot(text: str, width: int = WIDTH) -> Rows:
    renderer = MessageRenderer()
    renderer.update(text)
    return same(renderer.lines(width))


def whole(text: str, width: int = WIDTH) -> Rows:
    """Every top-level block of one parse of the whole text, drawn by Rich and put one blank
    row apart: what the renderer's sections must add up to."""
    rows: list[Row] = []
    for block in blocks(StreamSanitizer().feed(text)):
        drawn = draw_tokens(block.tokens, width)
        if drawn and rows:
            rows.append(blank_row(width))
        rows.extend(drawn)
    return same(rows)


def streamed(pieces: list[str], width: int = WIDTH) -> Rows:
    """Feed growing prefixes, drawing after each one as the view would."""
    renderer = MessageRenderer()
    text = ""
    for piece in pieces:
        text += piece
        renderer.update(text)
        renderer.lines(width)
    return same(renderer.lines(width))


def text_of(row: list[Segment]) -> str:
    return "".join(segment.text for segment in row)


def plain(lines: Rows) -> str:
    return "\n".join(text_of(line).rstrip() for line in lines)


def test_documents_render_their_text() -> None:
    shown = plain(one_shot(DOCUMENTS["fences"]))
    assert "def f(x):" in shown and "unclosed(" in shown
    table = plain(one_shot(DOCUMENTS["table"]))
    assert "name" in table and "22" in table and "|" not in table


def test_split_in_two_at_every_position() -> None:
    for name, text in DOCUMENTS.items():
        expected = one_shot(text)
        for cut in range(len(text) + 1):
            assert streamed([text[:cut], text[cut:]]) == expected, (name, cut)


def test_random_chunks_with_a_fixed_seed() -> None:
    rng = random.Random(1234)
    text = "\n\n".join(DOCUMENTS.values())
    expected = one_shot(text)
    for _ in range(20):
        pieces, position = [], 0
        while position < len(text):
            size = rng.randint(1, 30)
            pieces.append(text[position : position + size])
            position += size
        assert streamed(pieces) == expected


FRAGMENTS = [
    "- ", "1. ", "2) ", "* ", "> ", "    ", "  ", "\t", "# ", "## ", "```", "```py", "~~~",
    "---", "===", "|", "| a | b |", "|-|-|", ":", "*", "_", "`", "[x]: /u", "<div>",
    "word", "x y", " ", "\n", "\n", "\n", "\n\n", "中文", "😀", "   ```", " ~~~", "````",
    "1. a\n\n   ```\n", "+ ", "10. ", "  - ", "   1. ", "a | b", "--|--", ":-:|", "***", "___", "- - -",
    "\n    code", "**bold", "`code`", "[link](u)", "  \n", "\\", "~~s~~", "9. ", "\n\n1. x\n2. y\n3. z",
]  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=40),
    st.lists(st.integers(min_value=1, max_value=12), min_size=1, max_size=40),
    st.integers(min_value=12, max_value=50),
)
def test_any_markdown_in_any_chunks(parts: list[str], sizes: list[int], width: int) -> None:
    text = "".join(parts)
    pieces, position = [], 0
    for size in sizes:
        pieces.append(text[position : position + size])
        position += size
    pieces.append(text[position:])
    expected = whole(text, width)
    assert one_shot(text, width) == expected
    assert streamed(pieces, width) == expected


def test_sections_add_up_to_one_parse_of_the_whole_text() -> None:
    text = "\n\n".join(DOCUMENTS.values())
    for document in (*DOCUMENTS.values(), text):
        assert one_shot(document) == whole(document)


def test_a_long_reply_draws_only_what_is_looked_at() -> None:
    text = "\n\n".join(f"Paragraph {number} of a long reply." for number in range(400))
    renderer = MessageRenderer()
    renderer.update(text)
    height = renderer.height(WIDTH)
    assert renderer.block_renders <= 2  # the open tail only: the last line is not finished
    while renderer.reveal(height - 10, height, WIDTH):
        height = renderer.height(WIDTH)
    assert renderer.block_renders < 10
    bottom = same([renderer.line(y, WIDTH) for y in range(height - 10, height)])
    expected = whole(text)
    assert bottom == expected[-10:]
    assert same(renderer.lines(WIDTH)) == expected
    assert renderer.height(WIDTH) == len(expected)


def test_a_first_section_of_unusual_white_space_is_still_drawn() -> None:
    text = "    \u00a0\n\nfoo\n\nbar\n\nbaz"  # an indented code block of a no-break space
    renderer = MessageRenderer()
    renderer.update(text)
    height = renderer.height(WIDTH)
    while renderer.reveal(0, height, WIDTH):
        height = renderer.height(WIDTH)
    assert same([renderer.line(y, WIDTH) for y in range(height)]) == whole(text)


def test_a_long_unfinished_escape_string_is_held_back_whole() -> None:
    text = "a\x1b]52;c;" + "QUJD" * 80 + "\x07b"
    pieces = [text[i : i + 8] for i in range(0, len(text), 8)]
    assert plain(streamed(pieces)) == plain(whole(text)) == "ab"


def test_a_place_in_the_text_keeps_its_row_meaning_while_sections_are_drawn() -> None:
    text = "\n\n".join(("word " * 30).strip() for _ in range(50))  # wraps: estimates are off
    renderer = MessageRenderer()
    renderer.update(text)
    renderer.height(WIDTH)
    place = renderer.locate(renderer.height(WIDTH) // 2)
    line_before = renderer.line(renderer.row_of(place), WIDTH)
    renderer.lines(WIDTH)  # draws everything above: rows move
    assert renderer.line(renderer.row_of(place), WIDTH) == line_before


def test_text_that_is_not_an_extension_starts_over() -> None:
    renderer = MessageRenderer()
    renderer.update("# One\n\nfirst reply")
    renderer.lines(WIDTH)
    renderer.update("- a different\n- text")
    assert same(renderer.lines(WIDTH)) == one_shot("- a different\n- text")
    renderer.update("")
    assert renderer.lines(WIDTH) == []


HOSTILE = (
    "start \x1b[31mred\x1b[0m \x1b]0;title\x07 \x1b]52;c;SGVsbG8=\x07 \x1b[2J\x1b[H"
    "\x9b31m \x07bell\x08\x0b\x0c\r\n[bold]markup[/] and [bold]x[/bold]\n\n"
    "```\ncode \x1b[1mbold\x1b[0m\ttab\n```\n\n| a\x1b[7m | b |\n|-|-|\n| \x1bc | \x00 |\n"
)


def test_hostile_text_never_reaches_the_terminal() -> None:
    for cut in range(len(HOSTILE) + 1):
        for line in streamed([HOSTILE[:cut], HOSTILE[cut:]]):
            for segment in line:
                assert not CONTROL.search(segment.text), (cut, segment)
                assert segment.control is None
                assert segment.style is None or not segment.style.link
    shown = plain(one_shot(HOSTILE))
    assert "[bold]markup[/]" in shown and "[bold]x[/bold]" in shown
    assert "title" not in shown and "SGVsbG8" not in shown


def test_escape_sequences_cut_by_a_flush_vanish_whole() -> None:
    text = "a \x1b[38;2;255;0;0mred\x1b[0m b \x1b]8;;https://x.y\x1b\\link\x1b]8;;\x1b\\ c\r\nd"
    expected = one_shot(text)
    assert plain(expected) == "a red b link c d"
    for cut in range(len(text) + 1):
        assert streamed([text[:cut], text[cut:]]) == expected, cut


def test_wide_characters_wrap_by_cell_width() -> None:
    text = "中文字符" * 12 + " " + "😀" * 25
    lines = one_shot(text, width=20)
    for line in lines:
        assert cell_len(text_of(line)) == 20
    shown = "".join(text_of(line).strip() for line in lines)
    assert shown == text.replace(" ", "")
    assert len(lines) == 5 + 3  # 96 cells of CJK on 20-cell lines, then 50 cells of emoji


def test_settled_blocks_are_drawn_once() -> None:
    renderer = MessageRenderer()
    text = ""
    for number in range(30):
        for piece in (f"alpha {number} ", f"beta {number} ", "gamma\n\n"):
            text += piece
            renderer.update(text)
            renderer.lines(WIDTH)
    # One draw per flush (the growing block), none for blocks that settled meanwhile.
    assert renderer.block_renders == 90
    renderer.lines(WIDTH)
    assert renderer.block_renders == 90
    renderer.update(text + "more")
    renderer.lines(WIDTH)
    assert renderer.block_renders == 91


def test_a_new_width_redraws_each_block_once() -> None:
    renderer = MessageRenderer()
    text = "\n\n".join(f"paragraph {number}" for number in range(50))
    renderer.update(text)
    renderer.lines(WIDTH)
    assert renderer.block_renders == 50
    narrow = same(renderer.lines(12))
    assert renderer.block_renders == 100
    assert narrow == one_shot(text, 12)
    assert renderer.height(12) == len(narrow)


def test_fitting_code_block_matches_rich_word_wrapped_syntax() -> None:
    """The fast path for code that fits draws exactly what Rich's own wrapping draws."""
    from rich.console import Console
    from rich.markdown import Markdown

    text = "```python\ndef f(x):\n    return [x, 'ünïcode', \"漢字\"]  # comment\n\n\nprint(f(1))\n```"
    width = 60
    renderer = MessageRenderer()
    renderer.update(text)
    ours = [text_of(row).rstrip() for row in renderer.lines(width)]
    console = Console(
        width=width,
        file=io.StringIO(),
        force_terminal=True,
        color_system="truecolor",
    )
    theirs = [
        "".join(segment.text for segment in line).rstrip()
        for line in console.render_lines(Markdown(text, code_theme="monokai"), console.options.update_width(width))
    ]
    assert ours == theirs


def test_a_persons_own_lines_stay_lines() -> None:
    """What a person typed or pasted (a log, a list of lines) is shown line by line."""
    text = "first line\nsecond line\n  indented third\nfourth *still Markdown*"
    renderer = MessageRenderer(breaks=True)
    renderer.update(text)
    shown = [text_of(row).rstrip() for row in renderer.lines(WIDTH)]
    assert shown == ["first line", "second line", "indented third", "fourth still Markdown"]
    joined = MessageRenderer()
    joined.update(text)
    assert text_of(joined.lines(WIDTH)[0]).startswith("first line second line")
