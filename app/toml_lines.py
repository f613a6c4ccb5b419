"""Where each key of a TOML text is written: its dotted path and line, for messages.

`tomllib` gives values, not places. This reads the text of a document that already parsed:
table headers and `key =` lines, skipping strings (multi-line ones too) and comments. A key
in an inline table or an array of tables is found by its own first line when it has one,
else by the line of the key that holds it.
"""

from __future__ import annotations

import re
import tomllib

_BARE = r"[A-Za-z0-9_-]+"
_BASIC = r'"(?:[^"\\]|\\.)*"'
_LITERAL = r"'[^']*'"
_PART = rf"\s*(?:{_BARE}|{_BASIC}|{_LITERAL})\s*"
_PATH = rf"{_PART}(?:\.{_PART})*"
_HEADER = re.compile(rf"\s*\[\[?({_PATH})\]\]?")
_ASSIGN = re.compile(rf"\s*({_PATH})=")
_PIECE = re.compile(rf"\s*({_BARE}|{_BASIC}|{_LITERAL})\s*\.?")
_OPENERS = ('"""', "'''")


def key_lines(text: str) -> dict[str, int]:
    """Dotted key path (`options.temperature`, `keys.models.refresh`) -> 1-based line."""
    lines: dict[str, int] = {}
    table: tuple[str, ...] = ()
    closing = ""  # the quotes of a multi-line string the current line is inside
    for number, line in enumerate(text.splitlines(), 1):
        if closing:  # inside a multi-line string: nothing here is a key
            if closing in line:
                closing = ""
            continue
        if header := _HEADER.match(line):
            table = _split(header[1])
            lines.setdefault(".".join(table), number)
        elif assign := _ASSIGN.match(line):
            lines.setdefault(".".join((*table, *_split(assign[1]))), number)
        closing = _open_string(line)
    return lines


def line_of(lines: dict[str, int], path: str) -> int | None:
    """The line of `path`, else of the nearest key that holds it (an inline table)."""
    parts = path.split(".")
    while parts:
        if (line := lines.get(".".join(parts))) is not None:
            return line
        parts.pop()
    return None


def _split(path: str) -> tuple[str, ...]:
    parts = []
    for match in _PIECE.finditer(path):
        piece = match[1]
        if piece[0] == '"':  # escapes as TOML reads them
            piece = tomllib.loads(f"k = {piece}")["k"]
        elif piece[0] == "'":
            piece = piece[1:-1]
        parts.append(piece)
    return tuple(parts)


def _open_string(line: str) -> str:
    """The quotes of a multi-line string that starts on `line` and does not end there."""
    index = 0
    while index < len(line):
        char = line[index]
        if char == "#":
            return ""
        if line.startswith(_OPENERS, index):
            quotes = line[index : index + 3]
            end = line.find(quotes, index + 3)
            if end < 0:
                return quotes
            index = end + 3
            while index < len(line) and line[index] == quotes[0]:  # up to two quotes may end it
                index += 1
            continue
        if char in "\"'":
            index = _end_of_string(line, index)
            continue
        index += 1
    return ""


def _end_of_string(line: str, start: int) -> int:
    quote = line[start]
    index = start + 1
    while index < len(line):
        if quote == '"' and line[index] == "\\":
            index += 2
            continue
        if line[index] == quote:
            return index + 1
        index += 1
    return index
