"""Pygments' `RegexLexer` loop, run from a saved line start, telling which steps more text
could change.

The loop below is `RegexLexer.get_tokens_unprocessed` (and `ExtendedRegexLexer`'s, which
keeps its state in a `LexerContext`), with three additions: it saves the state stack (or
context) at each line start where a match begins, it stops at a line start once the lines
asked for are lexed, and it notes each match attempt that may have read up to the end of
the text (`regex_reach`). Appending text can change the tokens only from such an attempt
on; at the next change each noted attempt is tried again on the new text, and lexing
resumes from the last saved line start before the first one that now ends differently.
`tests/test_render_code.py` checks that this loop gives Pygments' own tokens.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pygments.lexer import LexerContext
from pygments.token import Error, Keyword, Name, Text, Whitespace, _TokenType

from app.render.regex_reach import Reach
from app.render.tokens import CodeLines, Splitter, Tokens

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator


class ContextKind(enum.Enum):
    NONE = "none"  # a RegexLexer: the state is its stack
    PLAIN = "plain"  # an ExtendedRegexLexer with a plain LexerContext
    YAML = "yaml"  # the YAML lexer's context, which also tracks indentation


class Escape(Exception):
    """The lexer did something this loop cannot follow (a callback jumped ahead)."""


_CHUNK = 256  # lines lexed at least in one go when lines far from the end are asked for
Rule = tuple[Any, Any, Any, Reach]  # match function, action, new state, what it can read
_TABLES: dict[type, tuple[dict[str, list[Rule]], int]] = {}


def _tables(lexer: Any) -> tuple[dict[str, list[Rule]], int]:
    """The lexer's rules with what each pattern can read, and the widest look-behind."""
    kind = type(lexer)
    found = _TABLES.get(kind)
    if found is None:
        reaches: dict[int, Reach] = {}
        states: dict[str, list[Rule]] = {}
        for name, rules in lexer._tokens.items():
            states[name] = []
            for rexmatch, action, new_state in rules:
                pattern = rexmatch.__self__
                reach = reaches.get(id(pattern))
                if reach is None:
                    reach = reaches[id(pattern)] = Reach(pattern)
                states[name].append((rexmatch, action, new_state, reach))
        behind = max((reach.behind for reach in reaches.values()), default=0)
        found = _TABLES[kind] = (states, behind)
    return found


@dataclass(slots=True)
class _Attempt:
    """A match attempt that may have read to the end of the text."""

    pos: int  # offset in the code's text
    line: int
    rexmatch: Any
    regs: tuple[tuple[int, int], ...] | None  # group spans in the text, None: no match
    reach: Reach
    retry: bool  # whether more text may show what it read (else it stays until lexed again)


def _regs(match: Any, offset: int) -> tuple[tuple[int, int], ...] | None:
    if match is None:
        return None
    return tuple((a + offset, b + offset) if a >= 0 else (a, b) for a, b in match.regs)


def _c_names(lexer: Any) -> Callable[[_TokenType, str], _TokenType]:
    """`CFamilyLexer.get_tokens_unprocessed`: names of standard types become types."""
    tables = [
        (lexer.stdlibhighlighting, lexer.stdlib_types),
        (lexer.c99highlighting, lexer.c99_types),
        (lexer.c11highlighting, lexer.c11_atomic_types),
        (lexer.platformhighlighting, lexer.linux_types),
    ]

    def rename(token: _TokenType, value: str) -> _TokenType:
        if token is Name:
            for enabled, names in tables:
                if enabled and value in names:
                    return Keyword.Type
        return token

    return rename


class RegexTokens(Tokens):
    """Tokens of a `RegexLexer`, resumed from saved line starts."""

    def __init__(self, lexer: Any, code: CodeLines, context: ContextKind, *, c_names: bool = False) -> None:
        super().__init__(lexer, code)
        self._states, self._behind = _tables(lexer)
        self._context = context
        self._rename = _c_names(lexer) if c_names else None
        self._saved: list[Any] = [self._initial()]  # state at each line start, None: not known
        self._known_end = code.end  # the end of the text when the attempts were checked
        self._open: list[_Attempt] = []  # attempts that may have read to the end, by position
        self.attempts_checked = 0  # noted attempts tried again: shows what an update costs

    def _initial(self) -> Any:
        if self._context is ContextKind.NONE:
            return ("root",)
        context = self._new_context("", 0)
        return self._snapshot(context)

    # -- what the code block asks ----------------------------------------------------------

    def changed(self, line: int) -> None:
        first = self._first_changed(min(line, len(self._runs), len(self._saved) - 1))
        while self._saved[first] is None:
            first -= 1
        del self._runs[first:]
        del self._saved[first + 1 :]
        start = self.code.starts[first]
        self._open = [attempt for attempt in self._open if attempt.pos < start]
        self._known_end = self.code.end

    def settled(self) -> int:
        last = len(self.code.lines) - 1
        if self._open:
            return min(self._open[0].line, last, len(self._runs))
        return min(last, len(self._runs))

    def _lex(self, line: int) -> None:
        while len(self._runs) <= line:
            first = len(self._runs)
            while self._saved[first] is None:
                first -= 1
            self._pass(first, max(_CHUNK, 2 * (line - first + 1)))

    def _first_changed(self, line: int) -> int:
        """The earliest line whose lexing the new text may change: `line`, or the line of
        the first noted attempt that now ends differently."""
        start = self.code.starts[line]
        checks = [attempt for attempt in self._open if attempt.pos < start]
        if not checks:
            return line
        text, offset = self.code.window(checks[0].line, self._behind)
        limit = self.code.end - offset
        last = len(self.code.lines) - 1
        kept: list[_Attempt] = []
        for index, attempt in enumerate(checks):
            self.attempts_checked += 1
            local = attempt.pos - offset
            regs = _regs(attempt.rexmatch(text, local), offset)
            # A match that ran into the old end may span text that is different now.
            if regs != attempt.regs or (regs is not None and regs[0][1] >= self._known_end):
                self._open = kept + checks[index:]
                return attempt.line
            if not attempt.retry or not attempt.reach.reads_before(text, local, limit, last - attempt.line):
                kept.append(attempt)
        self._open = kept
        return line

    # -- the lexer loop --------------------------------------------------------------------

    def _new_context(self, text: str, pos: int) -> LexerContext:
        if self._context is ContextKind.YAML:
            from pygments.lexers.data import YamlLexerContext

            return YamlLexerContext(text, pos)  # type: ignore[no-untyped-call]  # untyped in Pygments' stubs
        return LexerContext(text, pos)

    @staticmethod
    def _snapshot(context: LexerContext) -> tuple[tuple[str, ...], tuple[tuple[str, Any], ...]]:
        extra = tuple(
            (key, list(value) if isinstance(value, list) else value)
            for key, value in vars(context).items()
            if key not in ("text", "pos", "end", "stack")
        )
        return tuple(context.stack), extra

    def _pass(self, first: int, lines: int) -> None:
        """Lex from line `first` (whose state is saved), about `lines` lines or to the end.

        A window that stops short of the end is lexed as if the code ended there; what it
        gives is kept up to the first attempt that may have read to the window's end, and
        a window too short for that is lexed again four times as long."""
        code = self.code
        while True:
            stop = first + lines
            whole = stop >= len(code.lines) - 1
            text, offset = code.window(first, self._behind, None if whole else stop)
            self.chars_lexed += len(text) - (code.starts[first] - offset)
            del self._saved[first + 1 :]
            splitter = Splitter(self._runs, first)
            opened: list[_Attempt]
            if whole:
                last = len(code.lines) - 1
                bounds = (last, code.starts[last] - offset, code.end - offset)
                opened = self._open
            else:  # every line in the window is complete: only reading past its end is a guess
                bounds = (stop, len(text), len(text))
                opened = []
            for token, value in self._loop(text, offset, first, bounds, opened):
                splitter.add(token, value)
            if whole:
                return
            keep = opened[0].line if opened else stop
            while self._saved[keep] is None:
                keep -= 1
            if keep > first:
                del self._runs[keep:]
                del self._saved[keep + 1 :]
                return
            lines *= 4

    def _loop(
        self, text: str, offset: int, first: int, bounds: tuple[int, int, int], opened: list[_Attempt]
    ) -> Iterator[tuple[Any, str]]:
        if self._context is ContextKind.NONE:
            return self._regex_loop(text, offset, first, bounds, opened)
        return self._context_loop(text, offset, first, bounds, opened)

    def _regex_loop(
        self, text: str, offset: int, first: int, bounds: tuple[int, int, int], opened: list[_Attempt]
    ) -> Iterator[tuple[Any, str]]:
        """`RegexLexer.get_tokens_unprocessed` from a saved line start."""
        starts = self.code.starts
        last, last_start, limit = bounds  # the last line, its start, where reading becomes a guess
        lexer = self.lexer
        rename = self._rename
        tokendefs = self._states
        statestack = list(self._saved[first])
        statetokens = tokendefs[statestack[-1]]
        pos = starts[first] - offset
        line = first
        beyond = len(text) + 1  # past the last line: never reached
        next_start = starts[line + 1] - offset if line < last else beyond
        saved = self._saved
        expect = pos  # where the next token must start
        while 1:
            if pos >= next_start:
                while pos >= next_start:
                    line += 1
                    saved.append(None)
                    next_start = starts[line + 1] - offset if line < last else beyond
                if pos == starts[line] - offset:
                    saved[line] = tuple(statestack)
            recording = pos < last_start
            for rexmatch, action, new_state, reach in statetokens:
                m = rexmatch(text, pos)
                if recording:
                    steps = reach.newlines
                    if (
                        (steps is None or line + steps >= last)
                        and (reach.inside_line is None or reach.inside_line(text, pos) is not None)
                        and not reach.reads_before(text, pos, limit, last - line)
                    ):
                        opened.append(_Attempt(pos + offset, line, rexmatch, _regs(m, offset), reach, reach.retry))
                if m:
                    if action is not None:
                        if type(action) is _TokenType:
                            if pos != expect:
                                raise Escape
                            value = m.group()
                            expect = pos + len(value)
                            yield (rename(action, value) if rename else action), value
                        else:
                            for index, token, value in action(lexer, m):
                                if index != expect:
                                    raise Escape
                                expect = index + len(value)
                                yield (rename(token, value) if rename else token), value
                    pos = m.end()
                    if new_state is not None:
                        if isinstance(new_state, tuple):
                            for state in new_state:
                                if state == "#pop":
                                    if len(statestack) > 1:
                                        statestack.pop()
                                elif state == "#push":
                                    statestack.append(statestack[-1])
                                else:
                                    statestack.append(state)
                        elif isinstance(new_state, int):
                            if abs(new_state) >= len(statestack):
                                del statestack[1:]
                            else:
                                del statestack[new_state:]
                        elif new_state == "#push":
                            statestack.append(statestack[-1])
                        else:
                            raise Escape
                        statetokens = tokendefs[statestack[-1]]
                    break
            else:
                if pos >= len(text):
                    return
                if pos != expect:
                    raise Escape
                expect = pos + 1
                if text[pos] == "\n":
                    statestack = ["root"]
                    statetokens = tokendefs["root"]
                    yield Whitespace, "\n"
                else:
                    yield Error, text[pos]
                pos += 1

    def _context_loop(
        self, text: str, offset: int, first: int, bounds: tuple[int, int, int], opened: list[_Attempt]
    ) -> Iterator[tuple[Any, str]]:
        """`ExtendedRegexLexer.get_tokens_unprocessed` from a saved line start."""
        starts = self.code.starts
        last, last_start, limit = bounds  # the last line, its start, where reading becomes a guess
        lexer = self.lexer
        tokendefs = self._states
        stack, extra = self._saved[first]
        ctx = self._new_context(text, starts[first] - offset)
        ctx.stack = list(stack)
        for key, value in extra:
            setattr(ctx, key, list(value) if isinstance(value, list) else value)
        statetokens = tokendefs[ctx.stack[-1]]
        line = first
        beyond = len(text) + 1  # past the last line: never reached
        next_start = starts[line + 1] - offset if line < last else beyond
        saved = self._saved
        expect = ctx.pos
        end = ctx.end
        while 1:
            pos = ctx.pos
            if pos >= next_start:
                while pos >= next_start:
                    line += 1
                    saved.append(None)
                    next_start = starts[line + 1] - offset if line < last else beyond
                if pos == starts[line] - offset:
                    saved[line] = self._snapshot(ctx)
            recording = pos < last_start
            for rexmatch, action, new_state, reach in statetokens:
                m = rexmatch(text, pos, end)
                if recording:
                    steps = reach.newlines
                    if (
                        (steps is None or line + steps >= last)
                        and (reach.inside_line is None or reach.inside_line(text, pos) is not None)
                        and not reach.reads_before(text, pos, limit, last - line)
                    ):
                        opened.append(_Attempt(pos + offset, line, rexmatch, _regs(m, offset), reach, reach.retry))
                if m:
                    if action is not None:
                        if type(action) is _TokenType:
                            if pos != expect:
                                raise Escape
                            value = m.group()
                            expect = pos + len(value)
                            yield action, value
                            ctx.pos = m.end()
                        else:
                            for index, token, value in action(lexer, m, ctx):
                                if index != expect:
                                    raise Escape
                                expect = index + len(value)
                                yield token, value
                            if ctx.pos not in (m.start(), m.end()) or ctx.end != end:
                                raise Escape  # jumped ahead (a heredoc read to its end)
                            if not new_state:
                                statetokens = tokendefs[ctx.stack[-1]]
                    if new_state is not None:
                        if isinstance(new_state, tuple):
                            for state in new_state:
                                if state == "#pop":
                                    if len(ctx.stack) > 1:
                                        ctx.stack.pop()
                                elif state == "#push":
                                    ctx.stack.append(ctx.stack[-1])
                                else:
                                    ctx.stack.append(state)
                        elif isinstance(new_state, int):
                            if abs(new_state) >= len(ctx.stack):
                                del ctx.stack[1:]
                            else:
                                del ctx.stack[new_state:]
                        elif new_state == "#push":
                            ctx.stack.append(ctx.stack[-1])
                        else:
                            raise Escape
                        statetokens = tokendefs[ctx.stack[-1]]
                    break
            else:
                if ctx.pos >= ctx.end:
                    return
                if ctx.pos != expect:
                    raise Escape
                expect = ctx.pos + 1
                if text[ctx.pos] == "\n":
                    ctx.stack = ["root"]
                    statetokens = tokendefs["root"]
                    yield Text, "\n"
                else:
                    yield Error, text[ctx.pos]
                ctx.pos += 1
