"""The versions and the internals of Rich, Textual, Pygments and markdown-it the app relies on.

The renderer draws exactly what Rich draws with a few of Rich's private methods, resumes
Pygments' lexers from their state tables, and reads Markdown with markdown-it's own rules. A
new major version may move any of them: these tests say which, rather than letting the
rendering tests fail somewhere far from the cause.
"""

from __future__ import annotations

import inspect
import tomllib
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
BOUNDED = ("textual", "rich", "markdown-it-py", "pygments")


def _requirements() -> dict[str, Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    found = (Requirement(text) for text in project["dependencies"])
    return {requirement.name.lower(): requirement for requirement in found}


@pytest.mark.parametrize("name", BOUNDED)
def test_the_installed_version_is_one_the_bounds_allow(name: str) -> None:
    requirement = _requirements()[name]
    assert any(spec.operator == "<" for spec in requirement.specifier), f"{name} needs an upper bound"
    assert requirement.specifier.contains(version(name)), f"{name} {version(name)} is outside {requirement}"


def _parameters(function: Any) -> list[str]:
    return [name for name in inspect.signature(function).parameters if name != "self"]


def test_the_rich_internals_the_table_part_uses() -> None:
    from rich.markdown import Markdown, TableBodyElement, TableElement, TableHeaderElement, TableRowElement
    from rich.table import Table

    used = "app/render/table.py draws a table's rows with it"
    assert _parameters(Table._render) == ["console", "options", "widths"], f"Table._render changed: {used}"
    assert _parameters(Table._calculate_column_widths) == ["console", "options"], (
        f"Table._calculate_column_widths changed: {used}"
    )
    assert _parameters(Table._get_padding_width) == ["column_index"], f"Table._get_padding_width changed: {used}"
    assert isinstance(inspect.getattr_static(Table, "_extra_width"), property), f"Table._extra_width changed: {used}"
    element = TableElement()
    assert element.header is None and element.body is None, "TableElement's header and body changed"
    assert hasattr(TableBodyElement(), "rows") and hasattr(TableHeaderElement(), "row"), "table elements changed"
    assert hasattr(TableRowElement(), "cells"), "TableRowElement's cells changed"
    for token in ("table_open", "fence", "code_block", "paragraph_open", "bullet_list_open", "ordered_list_open"):
        assert token in Markdown.elements, f"Rich's Markdown no longer maps {token}"


def test_the_pygments_internals_the_code_part_uses() -> None:
    from pygments.lexer import LexerContext, RegexLexer
    from pygments.lexers import PythonLexer
    from pygments.token import _TokenType

    lexer: Any = PythonLexer()  # `_tokens` is made by Pygments' metaclass, undeclared
    tokens = lexer._tokens  # app/render/regex_driver.py resumes the lexer from these states
    assert isinstance(lexer, RegexLexer)
    assert "root" in tokens and all(isinstance(rule, tuple) and len(rule) == 3 for rule in tokens["root"])
    assert _parameters(LexerContext) == ["text", "pos", "stack", "end"], "LexerContext changed"
    assert isinstance(tokens["root"][0][1], _TokenType) or callable(tokens["root"][0][1])


def test_the_markdown_it_internals_the_parts_use() -> None:
    from markdown_it.common.utils import mdTrim
    from markdown_it.helpers import parseLinkDestination, parseLinkLabel
    from markdown_it.rules_block.state_block import StateBlock
    from markdown_it.rules_block.table import MAX_AUTOCOMPLETED_CELLS, escapedSplit
    from markdown_it.rules_inline.state_inline import Delimiter, StateInline

    assert escapedSplit("a | b \\| c") == ["a ", " b | c"]  # an escaped pipe stays in its cell
    assert mdTrim("  x  ") == "x" and isinstance(MAX_AUTOCOMPLETED_CELLS, int)
    assert _parameters(parseLinkLabel)[:2] == ["state", "start"] and _parameters(parseLinkDestination)[:3] == [
        "string",
        "pos",
        "maximum",
    ]
    assert _parameters(StateBlock)[:4] == ["src", "md", "env", "tokens"] and "is_code_block" in dir(StateBlock)
    assert {"marker", "length", "token", "end", "open", "close"} <= set(Delimiter.__dataclass_fields__)
    assert _parameters(StateInline)[:4] == ["src", "md", "env", "outTokens"]


def test_the_textual_internals_the_view_uses() -> None:
    from textual.scroll_view import ScrollView
    from textual.scrollbar import ScrollBar
    from textual.strip import Strip

    # app/widgets/conversation_layout.py sets the scrollable size without a layout pass.
    assert "virtual_size" in ScrollView._reactives, "ScrollView.virtual_size is no longer a reactive"
    assert {"window_virtual_size", "window_size", "position"} <= set(ScrollBar._reactives), "ScrollBar changed"
    assert _parameters(Strip.apply_offsets) == ["x", "y"], "Strip.apply_offsets changed"
