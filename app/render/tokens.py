"""A code block's token types, line by line, kept up to date as the code grows.

What Rich draws depends only on each character's token type, so a line's tokens are kept
as runs of (length, token type). Each kind of lexer has its own way of redoing only the
end: `RegexLexer`s resume from the state saved at a line start (`regex_driver`), JSON
restarts at a line start where its lexer holds nothing back, plain text has nothing to
redo, and any other lexer is run again over the whole code (see `make_tokens`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from bisect import bisect_right
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from pygments.token import Comment, Name, String, Token, Whitespace

if TYPE_CHECKING:
    from pygments.lexer import Lexer
    from pygments.token import _TokenType

Run = tuple[int, "_TokenType"]  # a stretch of one line: (characters, token type)
Runs = tuple[Run, ...]


class CodeLines:
    """The code as the lexer reads it: lines without their line ends. The lexed text is
    every line followed by a line end (Rich adds the last one)."""

    __slots__ = ("lines", "starts")

    def __init__(self) -> None:
        self.lines: list[str] = [""]
        self.starts: list[int] = [0]  # offset of each line in the text

    @property
    def end(self) -> int:
        """Offset of the last line end (the one Rich adds)."""
        return self.starts[-1] + len(self.lines[-1])

    def set_last(self, line: str) -> None:
        self.lines[-1] = line

    def append(self, line: str) -> None:
        self.starts.append(self.end + 1)
        self.lines.append(line)

    def line_of(self, offset: int) -> int:
        return bisect_right(self.starts, offset) - 1

    def window(self, first: int, before: int, stop: int | None = None) -> tuple[str, int]:
        """The text of lines [first, stop) (to the end by default), with at least `before`
        characters ahead of it (for look-behinds), and the offset where the window starts."""
        head = first
        while head > 0 and self.starts[first] - self.starts[head] < before:
            head -= 1
        text = "\n".join(self.lines[head:stop]) + "\n"
        return text, self.starts[head]

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


class Splitter:
    """Cuts a stream of tokens, starting at a line start, into the runs of each line."""

    __slots__ = ("_current", "line", "runs")

    def __init__(self, runs: list[Runs], line: int) -> None:
        del runs[line:]
        self.runs = runs
        self.line = line
        self._current: list[Run] = []

    def add(self, token: _TokenType, value: str) -> None:
        if "\n" not in value:
            if value:
                self._current.append((len(value), token))
            return
        parts = value.split("\n")
        current = self._current
        for part in parts[:-1]:
            if part:
                current.append((len(part), token))
            self.runs.append(tuple(current))
            current = []
        if parts[-1]:
            current.append((len(parts[-1]), token))
        self._current = current
        self.line += len(parts) - 1

    @property
    def at_line_start(self) -> bool:
        return not self._current


class Tokens(ABC):
    """Token runs of each line of a `CodeLines`, lexing only what changed."""

    def __init__(self, lexer: Lexer, code: CodeLines) -> None:
        self.lexer = lexer
        self.code = code
        self.chars_lexed = 0  # characters handed to the lexer so far: shows what an update costs
        self._runs: list[Runs] = []  # lines [0, len) are lexed and current

    @abstractmethod
    def changed(self, line: int) -> None:
        """Lines from `line` on are new or different (the code only grew at its end)."""

    @abstractmethod
    def _lex(self, line: int) -> None:
        """Lex at least up to and including `line`."""

    def runs(self, line: int) -> Runs:
        if line >= len(self._runs):
            self._lex(line)
        return self._runs[line]

    @abstractmethod
    def settled(self) -> int:
        """Lines at the top whose tokens more code at the end cannot change."""

    @property
    def verbatim(self) -> bool:
        """Whether the lexer's tokens do not spell the code (Rich then draws them as they are)."""
        return False


class PlainTokens(Tokens):
    """Plain text: one token type, nothing to lex."""

    def changed(self, line: int) -> None:
        del self._runs[line:]

    def _lex(self, line: int) -> None:
        lines = self.code.lines
        for index in range(len(self._runs), len(lines)):
            text = lines[index]
            self.chars_lexed += len(text) + 1
            self._runs.append(((len(text), Token.Text),) if text else ())

    def settled(self) -> int:
        return len(self.code.lines) - 1


class RestartTokens(Tokens):
    """A lexer that cannot resume from a saved state, run from a line where starting afresh
    gives the same token types: for JSON a line start where its lexer holds nothing back
    (a string whose type waits on a following ':', an open string or comment); for any
    other lexer only the first line, so it lexes the whole code again."""

    def __init__(self, lexer: Lexer, code: CodeLines, *, json: bool) -> None:
        super().__init__(lexer, code)
        self._json = json
        self._restarts = [0]  # lines where lexing afresh is exact, ascending
        self._verbatim = False

    def changed(self, line: int) -> None:
        keep = bisect_right(self._restarts, line) - 1
        del self._restarts[keep + 1 :]
        del self._runs[self._restarts[-1] :]

    def _lex(self, line: int) -> None:
        first = self._restarts[-1]
        code = self.code
        text = "\n".join(code.lines[first:]) + "\n"
        self.chars_lexed += len(text)
        splitter = Splitter(self._runs, first)
        spelled: list[str] = []
        tokens: Iterable[tuple[Any, str]]
        if self._json:
            tokens = ((token, value) for _, token, value in self.lexer.get_tokens_unprocessed(text))
        else:
            tokens = self.lexer.get_tokens(text)
        last_significant: Any = None
        for token, value in tokens:
            spelled.append(value)
            if self._json and token is Whitespace and "\n" in value:
                after = splitter.line + value.count("\n")
                # After a string, the lexer holds it back until it sees whether a ':' follows.
                if after < len(code.lines) and last_significant not in (String.Double, Name.Tag):
                    self._restarts.append(after)
            splitter.add(token, value)
            if token is not Whitespace and token not in Comment:
                last_significant = token
        if "".join(spelled) != text:
            self._verbatim = True

    def settled(self) -> int:
        return self._restarts[-1] if self._json else 0

    @property
    def whole(self) -> bool:
        """Whether every change lexes the whole code again."""
        return not self._json

    @property
    def verbatim(self) -> bool:
        return self._verbatim


def make_tokens(lexer: Lexer, code: CodeLines) -> Tokens:
    """The incremental tokens for a Pygments lexer, by what the lexer allows."""
    from pygments.lexer import ExtendedRegexLexer, Lexer, RegexLexer
    from pygments.lexers.c_cpp import CFamilyLexer
    from pygments.lexers.data import JsonLexer, YamlLexer
    from pygments.lexers.special import TextLexer

    from app.render.regex_driver import ContextKind, RegexTokens

    kind: Any = type(lexer)  # private methods the stubs do not list
    if (
        lexer.filters
        or kind.get_tokens is not Lexer.get_tokens
        or kind._preprocess_lexer_input is not Lexer._preprocess_lexer_input  # type: ignore[attr-defined]  # not in the stubs
    ):
        return RestartTokens(lexer, code, json=False)
    method = kind.get_tokens_unprocessed
    if method is TextLexer.get_tokens_unprocessed:
        return PlainTokens(lexer, code)
    if method is JsonLexer.get_tokens_unprocessed:
        return RestartTokens(lexer, code, json=True)
    if method is RegexLexer.get_tokens_unprocessed:
        return RegexTokens(lexer, code, ContextKind.NONE)
    if method is CFamilyLexer.get_tokens_unprocessed:
        return RegexTokens(lexer, code, ContextKind.NONE, c_names=True)
    if method is ExtendedRegexLexer.get_tokens_unprocessed:
        return RegexTokens(lexer, code, ContextKind.PLAIN)
    if method is YamlLexer.get_tokens_unprocessed:
        return RegexTokens(lexer, code, ContextKind.YAML)
    return RestartTokens(lexer, code, json=False)
