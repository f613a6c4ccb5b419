"""`app.render.code.CodeBlock` against the app's own fence renderer, as code streams in.

The reference is `_CodeBlock.__rich_console__` in `app.render.markdown` (Rich's `Syntax` with one
cell of padding), given the whole code at once. Rows are compared after
`Segment.simplify`, as (text, style) pairs.
"""

from __future__ import annotations

import random
import re
import subprocess
import sys
from typing import Any

import pytest
from code_corpus import CORPUS, LONG, RUBY_HEREDOC
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pygments.lexer import RegexLexer
from rich.markdown import CodeBlock as CodeBlockElement
from rich.segment import Segment
from rich.syntax import Syntax
from rich.text import Text

from app.render.code import CodeBlock, code_lexer
from app.render.console import CONSOLE as _CONSOLE
from app.render.console import options as _options
from app.render.markdown import _markdown_class
from app.render.regex_driver import RegexTokens
from app.render.tokens import CodeLines, RestartTokens, make_tokens

WIDTHS = (30, 80, 137)
LANGUAGES = [*CORPUS, "klingon", ""]  # a language Pygments does not know, and none


def _sample(language: str) -> str:
    return CORPUS.get(language, CORPUS["text"])


def _plain(rows: list[list[Segment]]) -> list[list[tuple[str, object]]]:
    return [[(s.text, s.style) for s in Segment.simplify(row)] for row in rows]


def reference(code: str, language: str, width: int) -> list[list[tuple[str, object]]]:
    """What the app's Markdown renderer draws for this fence alone."""
    fence = _markdown_class().elements["fence"]
    assert issubclass(fence, CodeBlockElement)
    block = fence(language or "text", "monokai")
    block.text = Text(justify="left")
    block.text.append(code)
    lines = Segment.split_and_crop_lines(
        _CONSOLE.render(block, _options(width)), width, pad=True, include_new_lines=False
    )
    return _plain(list(lines))


def drawn(block: CodeBlock, width: int) -> list[list[tuple[str, object]]]:
    return _plain(block.rows(0, block.height(width), width))


def fresh(code: str, language: str) -> CodeBlock:
    block = CodeBlock(language, "monokai", _CONSOLE)
    block.set_code(code)
    return block


# -- the whole block at once ------------------------------------------------------------------


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("language", LANGUAGES)
def test_matches_the_fence_renderer(language: str, width: int) -> None:
    code = _sample(language)
    block = fresh(code, language)
    rows = drawn(block, width)
    assert rows == reference(code, language, width)
    assert block.height(width) == len(rows)
    assert all(sum(len(text) for text, _ in row) >= 1 for row in rows)


@pytest.mark.parametrize("width", [1, 2, 3, 4, 5])
def test_narrow_widths(width: int) -> None:
    code = CORPUS["python"]
    assert drawn(fresh(code, "python"), width) == reference(code, "python", width)


@pytest.mark.parametrize(
    "code",
    [
        "",
        "   \n\n  ",
        "x",
        "trailing spaces   \n\n\n",
        "\ttab\n  \t mixed\t\ttabs\n",
        "\ufeff\tBOM then a tab\n\ufeffnot at the start",
        "line\r\nwindows\rlone CR\x0bvertical tab\x07bell",
        "中文字符" * 30 + "\n😀😀😀 emoji",
        LONG * 3,
        "a" * 300,
        "\n\n\nstarts with blank lines",
    ],
)
@pytest.mark.parametrize("language", ["python", "javascript", "text"])
def test_edge_cases(code: str, language: str) -> None:
    for width in (3, 30, 80):
        assert drawn(fresh(code, language), width) == reference(code, language, width), width


def test_rich_draws_fitting_lines_alike_with_and_without_word_wrap() -> None:
    """Drawing line by line relies on this: Rich's word-wrap path gives the rows its no-wrap
    path gives to lines that fit."""
    code = CORPUS["python"].replace(LONG, "short").expandtabs(4)
    for wrap in (True, False):
        syntax = Syntax(code.rstrip(), code_lexer("python"), theme="monokai", word_wrap=wrap, padding=1)
        lines = Segment.split_and_crop_lines(_CONSOLE.render(syntax, _options(120)), 120, pad=True)
        if wrap:
            wrapped = _plain(list(lines))
        else:
            assert _plain(list(lines)) == wrapped, (
                "Rich's Syntax no longer draws a line that fits the same with word_wrap=True and False: "
                "CodeBlock must decide the path for the whole block as Rich does"
            )


def test_width_change_redraws() -> None:
    block = fresh(CORPUS["rust"], "rust")
    for width in (80, 30, 137, 80):
        assert drawn(block, width) == reference(CORPUS["rust"], "rust", width)


def test_rows_ranges() -> None:
    code = CORPUS["java"]
    block = fresh(code, "java")
    whole = drawn(block, 40)
    for start, end in [(0, 1), (3, 9), (len(whole) - 2, len(whole) + 5), (-4, 2), (7, 7), (9, 3)]:
        assert _plain(block.rows(start, end, 40)) == whole[max(0, start) : end]


def test_theme_needs_a_background() -> None:
    with pytest.raises(ValueError, match="background"):
        CodeBlock("python", "ansi_dark", _CONSOLE)


# -- growing ---------------------------------------------------------------------------------


def _grow(code: str, language: str, cuts: list[int], width: int) -> None:
    """Feed `code` cut at `cuts`; after each step the rows equal a fresh block's, and rows
    once reported settled never change."""
    block = CodeBlock(language, "monokai", _CONSOLE)
    settled: list[list[tuple[str, object]]] = []
    for cut in [*cuts, len(code)]:
        text = code[:cut]
        block.set_code(text)
        rows = drawn(block, width)
        assert rows == drawn(fresh(text, language), width), repr(text[-40:])
        assert rows[: len(settled)] == settled, f"settled rows changed at {text[-40:]!r}"
        settled = rows[: block.settled_rows(width)]
    assert drawn(block, width) == reference(code, language, width)


@pytest.mark.parametrize("language", [*CORPUS, "klingon"])
def test_growing_in_random_pieces(language: str) -> None:
    code = _sample(language)
    rng = random.Random(language)
    for width in (30, 80):
        cuts = sorted({rng.randint(0, len(code)) for _ in range(len(code) // 6)})
        _grow(code, language, cuts, width)


@pytest.mark.parametrize("language", ["python", "javascript", "c", "go", "css", "html", "bash", "rust"])
def test_growing_a_character_at_a_time_through_strings_and_comments(language: str) -> None:
    code = _sample(language)
    # Every character inside the first construct spanning lines, then bigger steps.
    opener = re.search(r'"""|/\*|`|<!--|<<EOF|r#"', code)
    assert opener is not None
    begin = opener.start()
    cuts = list(range(begin, min(len(code), begin + 120))) + list(range(begin + 120, len(code), 7))
    _grow(code, language, cuts, 80)


def test_growing_ruby_with_a_heredoc() -> None:
    """Ruby's lexer reads a heredoc ahead from a callback: such a block is lexed whole."""
    cuts = list(range(0, len(RUBY_HEREDOC), 3))
    _grow(RUBY_HEREDOC, "ruby", cuts, 40)
    block = fresh(RUBY_HEREDOC, "ruby")
    drawn(block, 40)
    assert isinstance(block._tokens, RestartTokens)


_FRAGMENTS = [
    "x", "name", " ", "  ", "\t", "\n", "\n\n", '"', "'", '"""', "'''", "`", "/*", "*/", "//", "#",
    "<<EOF\n", "\nEOF\n", "{", "}", "(", ")", ":", ",", "=", "\\", "中", "😀", "<p>", "</p>", "<!--",
    "-->", "0x1f", "def f():\n", "    ", "-", "|\n", "  - ", "${", "r#\"", "\"#",
]  # fmt: skip


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    language=st.sampled_from(["python", "javascript", "c", "bash", "json", "yaml", "html", "rust", "sql"]),
    pieces=st.lists(st.sampled_from(_FRAGMENTS), min_size=1, max_size=40),
    cut_seed=st.integers(0, 2**32),
    width=st.sampled_from([12, 40, 80]),
)
def test_growing_any_code(language: str, pieces: list[str], cut_seed: int, width: int) -> None:
    code = "".join(pieces)
    rng = random.Random(cut_seed)
    cuts = sorted({rng.randint(0, len(code)) for _ in range(rng.randint(1, 12))})
    _grow(code, language, cuts, width)


def test_an_edit_starts_over() -> None:
    block = CodeBlock("python", "monokai", _CONSOLE)
    block.set_code("x = 1\ny = 2\n")
    drawn(block, 40)
    for code in ("x = 1\n", "x = 3\ny = 2\nz", "", '"""open', "x"):
        block.set_code(code)
        assert drawn(block, 40) == reference(code, "python", 40)


# -- what an update costs ----------------------------------------------------------------------


def _long(language: str, lines: int) -> str:
    sample = _sample(language)
    return sample * (lines // sample.count("\n") + 1)


@pytest.mark.parametrize("language", ["python", "javascript", "c", "cpp", "go", "java", "json", "yaml", "sql", "text"])
def test_appending_a_line_lexes_about_a_line(language: str) -> None:
    code = _long(language, 10_000)
    block = fresh(code, language)
    height = block.height(120)
    block.rows(height - 45, height, 120)
    line = "value = compute(1, 2)  # more\n"
    before = block.chars_lexed
    block.set_code(code + line)
    height = block.height(120)
    block.rows(height - 45, height, 120)
    lexed = block.chars_lexed - before
    # The new line, the line before it, and at most the few lines since the last place the
    # lexer can resume: nothing like the block's 10,000 lines.
    assert lexed <= 12 * max(len(line), *map(len, code.splitlines()[-12:])), lexed
    assert len(code) > 100 * lexed


def test_an_open_docstring_costs_one_check_per_update() -> None:
    code = 'def f():\n    """Open docstring\n' + "    more text of it\n" * 10_000
    block = fresh(code, "python")
    height = block.height(120)
    block.rows(height - 45, height, 120)
    tokens = block._tokens
    assert isinstance(tokens, RegexTokens)
    for step in range(5):
        checked, lexed = tokens.attempts_checked, block.chars_lexed
        code += f"    line {step}\n"
        block.set_code(code)
        height = block.height(120)
        block.rows(height - 45, height, 120)
        assert tokens.attempts_checked - checked <= 2
        assert block.chars_lexed - lexed < 100
    block.set_code(code + '    """\nx = 1\n')  # the close changes every line of it
    assert drawn(block, 120)[-5:] == reference(code + '    """\nx = 1\n', "python", 120)[-5:]


def test_height_does_not_draw() -> None:
    code = _long("python", 2_000)
    block = fresh(code, "python")
    assert block.height(100) == len(reference(code, "python", 100))
    assert block._drawn == {}
    assert block.chars_lexed == 0


# -- what is relied on in Pygments, Rich and the standard library -------------------------------


@pytest.mark.parametrize("language", [*CORPUS, "klingon"])
def test_tokens_are_pygments_own(language: str) -> None:
    """The resumable loop must give the tokens Pygments gives (as Rich calls it)."""
    lexer = code_lexer(language)
    code = _sample(language).rstrip().expandtabs(4) + "\n"
    lines = CodeLines()
    lines.set_last(code.split("\n")[0])
    for line in code.split("\n")[1:-1]:
        lines.append(line)
    tokens = make_tokens(lexer, lines)
    ours = []
    for index, line in enumerate(lines.lines):
        at = 0
        for length, token in tokens.runs(index):
            ours.append((token, line[at : at + length]))
            at += length
        assert at == len(line)
    theirs = []
    for token, value in lexer.get_tokens(code):
        for part in value.split("\n"):
            if part:
                theirs.append((token, part))
    assert ours == theirs, (
        f"{type(lexer).__name__}: the tokens differ from Pygments' own; if Pygments changed "
        "RegexLexer.get_tokens_unprocessed (or this lexer's override), app/render/regex_driver.py must follow"
    )


def test_pygments_rule_tables_have_the_shape_read() -> None:
    lexer = code_lexer("python")
    assert isinstance(lexer, RegexLexer)
    tables: dict[str, list[tuple[Any, ...]]] = getattr(lexer, "_tokens")  # noqa: B009  # private: it is what is pinned
    for state, rules in tables.items():
        for rule in rules:
            assert len(rule) == 3, f"state {state!r}: a rule is no longer (match, action, new state)"
            assert isinstance(rule[0].__self__, re.Pattern), "a rule's match is no longer Pattern.match"


def test_standard_regex_parser_has_the_shape_read() -> None:
    import importlib

    parser = importlib.import_module("re._parser")
    compiler = importlib.import_module("re._compiler")
    tree = parser.parse(r"a(?:b|\n)*", 0)
    assert isinstance(tree.data, list) and tree.state.flags is not None, "re._parser.SubPattern changed"
    piece = compiler.compile(parser.SubPattern(tree.state, tree.data[1:]), tree.state.flags)
    assert piece.match("b\nb").end() == 3, "re._compiler.compile no longer compiles part of a parse tree"


def test_regex_constants_used_exist() -> None:
    import importlib

    constants = importlib.import_module("re._constants")
    names = [
        "LITERAL",
        "NOT_LITERAL",
        "ANY",
        "IN",
        "BRANCH",
        "SUBPATTERN",
        "MAX_REPEAT",
        "MIN_REPEAT",
        "POSSESSIVE_REPEAT",
        "ATOMIC_GROUP",
        "AT",
        "ASSERT",
        "ASSERT_NOT",
        "GROUPREF",
        "GROUPREF_EXISTS",
        "NEGATE",
        "RANGE",
        "CATEGORY",
        "MAXREPEAT",
        "CATEGORY_SPACE",
        "CATEGORY_NOT_SPACE",
        "CATEGORY_DIGIT",
        "CATEGORY_NOT_DIGIT",
        "CATEGORY_WORD",
        "CATEGORY_NOT_WORD",
        "CATEGORY_LINEBREAK",
    ]
    missing = [name for name in names if not hasattr(constants, name)]
    assert not missing, f"re._constants no longer has {missing}: app/render/regex_shape.py reads them"


@pytest.mark.parametrize(
    ("pattern", "text", "bounded"),
    [
        (r"\s+", "   \n  b\nc\n", True),  # a run of blanks ends at the next word
        (r"\s+", "   \n   \n", False),  # ... or runs into the end
        (r'^(\s*)("""[\s\S]*?""")', '"""doc\nmore"""\nx\ny\n', True),  # a docstring that closed
        (r'^(\s*)("""[\s\S]*?""")', '"""doc\nmore\nx\ny\n', False),  # ... or is still open
        (r"/\*(?:[^*]|\*(?!/))*\*/", "/* a\n * b */\nx\ny\n", True),  # a block comment
        (r"/\*(?:[^*]|\*(?!/))*\*/", "/* a\n * b\nx\ny\n", False),
        (r'"(\\\\|\\[^\\]|[^"\\])*"', '"a\\"b"\nx\ny\n', True),  # a string with an escaped quote
        (r"<<-?\s*(\'?)\\?(\w+)[\w\W]+?\2", "<<EOF\nhi\nEOF\nx\ny\n", True),  # a heredoc
        (r"<<-?\s*(\'?)\\?(\w+)[\w\W]+?\2", "<<EOF\nhi\nEOX\nx\ny\n", False),
    ],
)
def test_what_an_attempt_may_read(pattern: str, text: str, bounded: bool) -> None:
    """Whether an attempt at the start read only text before the last line end: when not,
    more text may change it, so it is tried again at the next change."""
    from app.render.regex_reach import Reach

    reach = Reach(re.compile(pattern, re.MULTILINE | re.DOTALL))
    limit = len(text) - 1
    assert reach.reads_before(text, 0, limit, text.count("\n") - 1) is bounded


def test_json_restarts_are_exact() -> None:
    """JSON is lexed afresh from line starts where its lexer holds nothing back; from each of
    them a fresh lexer must give the types the whole lexing gives."""
    code = _long("json", 300).replace("}\n{", "},\n{")
    lines = CodeLines()
    parts = code.rstrip().split("\n")
    lines.set_last(parts[0])
    for part in parts[1:]:
        lines.append(part)
    tokens = make_tokens(code_lexer("json"), lines)
    assert isinstance(tokens, RestartTokens)
    whole = [tokens.runs(i) for i in range(len(lines.lines))]
    restarts = list(tokens._restarts)
    assert len(restarts) > 100
    for restart in restarts[1:]:
        other = make_tokens(code_lexer("json"), lines)
        assert isinstance(other, RestartTokens)
        other._restarts = [restart]
        other._runs = whole[:restart]
        assert [other.runs(i) for i in range(len(lines.lines))] == whole, restart


def test_the_renderer_does_not_load_textual() -> None:
    probe = "import sys, app.render.code; print('textual' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
