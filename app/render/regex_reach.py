"""How far a regular expression may read from where it is tried: tells which lexer steps
more text at the end could change.

Appending text can only change what a match attempt did if the attempt read up to the end
of the old text. An attempt whose pattern can step over at most N line ends reads no
further than the end of the N-th line after its own. Other patterns (`\\s+`, a block
comment `/\\*.*?\\*/` under DOTALL) are followed over the actual text by `_Walk`, which
keeps, for each step of the pattern, the lowest and highest position any way of matching
could have reached: every way the regex engine tries lies inside these bounds, so the
highest position read is an upper bound of what the engine read.

This reads the pattern's parse tree with the standard library's own regex parser (a
private module); `tests/test_render_code.py` checks it still has the shape used here.
"""

from __future__ import annotations

import importlib
import re
from typing import Any

from app.render import regex_shape as shape
from app.render.regex_shape import Node, Rest

_parser: Any = importlib.import_module("re._parser")
_compiler: Any = importlib.import_module("re._compiler")
_sre: Any = importlib.import_module("re._constants")

_WALK_STEPS = 1024  # a pattern walk that takes longer gives up: the attempt counts as open
_SPAN_STARTS = 16  # more start positions than this for an exactly followed repeat: give up
_MEMO = 24  # characters after an attempt that key a remembered walk
_MEMO_SIZE = 4096
_BIG = 24  # nodes in a piece worth skipping over as a whole when it stays on its line


class _Open(Exception):
    """The attempt may have read up to the end of the text: `retry` if more text may show
    it did not, else no bound is known for it at all."""

    def __init__(self, retry: bool = False) -> None:
        super().__init__()
        self.retry = retry


class Reach:
    """What one pattern of a lexer can read."""

    __slots__ = (
        "_bounded",
        "_compiled",
        "_flags",
        "_guards",
        "_in_line",
        "_shapes",
        "_spelled",
        "_split",
        "_state",
        "_tree",
        "behind",
        "inside_line",
        "newlines",
        "retry",
    )

    def __init__(self, pattern: re.Pattern[str]) -> None:
        tree = _parser.parse(pattern.pattern, pattern.flags)
        self._tree = tree  # keeps the nodes (and so the ids that key `_compiled`) alive
        self._state = tree.state
        self._flags: int = tree.state.flags
        try:
            steps = shape.newlines(list(tree.data), self._flags)
        except _Open:
            steps = float("inf")
        self.newlines: int | None = None if steps == float("inf") else int(steps)
        self.behind = max(1, shape.behind(list(tree.data)))  # `\b` and `^` look one character back
        self._compiled: dict[tuple[int, int, str], re.Pattern[str] | None] = {}
        self._in_line: dict[tuple[int, int], bool] = {}
        self._bounded: set[str] = set()  # text around attempts whose walk read only that text
        self._shapes: dict[tuple[int, int, str], list[tuple[list[Node], int]] | None] = {}
        self._split = shape.split_lazy(list(tree.data), self._flags)
        self._spelled: dict[tuple[str | None, ...], re.Pattern[str]] = {}
        self.retry = True
        # Starts of the pattern every way of matching goes through, with how many line
        # ends each can read past: one that fails bounds what the attempt read.
        self._guards: list[tuple[re.Pattern[str], int]] = []
        for most in (0, None):
            guard = shape.guard(list(tree.data), self._flags, most)
            compiled = self.compile((id(tree), self._flags, f"guard{most}"), guard, self._flags) if guard else None
            if compiled is not None:
                self._guards.append((compiled, int(shape.newlines(guard, self._flags))))
        # The quick test a lexer loop makes first: a failed match of this shows the attempt
        # read nothing past its own line.
        self.inside_line = self._guards[0][0].match if self._guards and not self._guards[0][1] else None

    def reads_before(self, text: str, pos: int, limit: int, lines_after: int) -> bool:
        """Whether an attempt at `pos` read only characters before `limit`, the last line
        end of `text`, which comes `lines_after` line ends after the one ending `pos`'s line.
        When not, `retry` tells whether it may be known once there is more text."""
        self.retry = True
        if self.newlines is not None and self.newlines < lines_after:
            return True
        for guard, newlines in self._guards:
            # Every way of matching starts with the guard: if it fails, all stopped inside it.
            if newlines < lines_after and guard.match(text, pos) is None:
                return True
        # A walk reads the text only near `pos`: the same text around it gives the same walk.
        start = max(0, pos - self.behind)
        known = pos + _MEMO <= limit
        if known and text[start : pos + _MEMO] in self._bounded:
            return True
        walk = _Walk(self, text, limit)
        try:
            walk.sequence(self._tree.data, pos, pos, self._flags, ())
        except _Open as found:
            if found.retry or self._split is None:
                self.retry = found.retry
                return False
            try:
                self._first_way(text, pos, limit)
            except _Open as again:
                self.retry = again.retry
                return False
            return True
        if known and walk.furthest < pos + _MEMO:
            if len(self._bounded) > _MEMO_SIZE:
                self._bounded.clear()
            self._bounded.add(text[start : pos + _MEMO])
        return True

    def _first_way(self, text: str, pos: int, limit: int) -> None:
        """For `prefix .*? rest` where the rest refers back to groups of the prefix (a heredoc,
        a raw string): the engine takes the prefix's first way, then scans for the rest
        with those groups' text; finding it ends the attempt. Raises `_Open` if that scan
        may run to the end or a read reaches `limit`."""
        assert self._split is not None
        prefix, least, rest = self._split
        walk = _Walk(self, text, limit)
        walk.sequence(prefix, pos, pos, self._flags, None)  # what finding the first way read
        way = self.compile((id(prefix), self._flags, "prefix"), prefix, self._flags)
        first = way.match(text, pos) if way is not None else None
        if first is None:
            return  # no way through the prefix: the walk above counted all it read
        spelled = shape.spell(rest, first, self._state)
        if spelled is None:
            raise _Open
        key = tuple(first.group(n) for n in range(1, self._state.groups))
        after = self._spelled.get(key)
        if after is None:
            if len(self._spelled) > _MEMO_SIZE:
                self._spelled.clear()
            after = self._spelled[key] = _compiler.compile(_parser.SubPattern(self._state, spelled), self._flags)
        found = after.search(text, first.end() + least, limit)
        if found is None:
            raise _Open(retry=True)
        walk.sequence(spelled, first.end() + least, found.start(), self._flags, ())

    def in_line(self, node: Node, flags: int) -> bool:
        """Whether a node is big (a walk through it would be long) and reads no line end."""
        key = (id(node), flags)
        found = self._in_line.get(key)
        if found is None:
            try:
                found = (
                    shape.size([node]) > _BIG and shape.newlines([node], flags) == 0 and not shape.uses_groups([node])
                )
            except _Open:
                found = False
            self._in_line[key] = found
        return found

    def branches(self, body: Any) -> list[tuple[list[Node], int]] | None:
        key = (id(body), 0, "branches")
        if key not in self._shapes:
            self._shapes[key] = shape.branches(body.data)
        return self._shapes[key]

    def one_char(self, node: Node, flags: int) -> re.Pattern[str] | None:
        return self.compile((id(node), flags, "char"), [node], flags)

    def widths(self, node: Node) -> tuple[int, int]:
        """The fewest and most characters a node can match."""
        low, high = _parser.SubPattern(self._state, [node]).getwidth()
        return int(low), int(high)

    def compile(self, key: tuple[int, int, str], nodes: list[Node], flags: int) -> re.Pattern[str] | None:
        """A pattern made of some nodes of this one (kept by node identity)."""
        if key not in self._compiled:
            state = self._state
            if flags != self._flags:
                state = _parser.State()
                state.flags = flags
            try:
                compiled: re.Pattern[str] | None = _compiler.compile(_parser.SubPattern(state, nodes), flags)
            except Exception:  # a piece that does not stand alone (a stray group reference)
                compiled = None
            self._compiled[key] = compiled
        return self._compiled[key]


class _Walk:
    """Bounds of where the ways of matching one pattern can be, step by step, over a text."""

    __slots__ = ("furthest", "limit", "reach", "steps", "text")

    def __init__(self, reach: Reach, text: str, limit: int) -> None:
        self.reach = reach
        self.text = text
        self.limit = limit
        self.steps = 0
        self.furthest = 0

    def read(self, pos: int) -> None:
        if pos >= self.limit:
            raise _Open(retry=True)
        if pos > self.furthest:
            self.furthest = pos

    def tick(self) -> None:
        self.steps += 1
        if self.steps > _WALK_STEPS:
            raise _Open

    def sequence(self, items: list[Node], lo: int, hi: int, flags: int, rest: Rest) -> tuple[int, int] | None:
        """Bounds of the end positions after `items`, starting anywhere in [lo, hi]; None
        when no way of matching gets through; `rest` is what follows in the pattern."""
        for index, node in enumerate(items):
            self.tick()
            after = None if rest is None else (items, index + 1, rest)
            bounds = self.node(node, lo, hi, flags, after)
            if bounds is None:
                return None
            lo, hi = bounds
        return lo, hi

    def node(self, node: Node, lo: int, hi: int, flags: int, rest: Rest) -> tuple[int, int] | None:
        op, av = node
        if op in (_sre.LITERAL, _sre.NOT_LITERAL, _sre.ANY, _sre.IN):
            return self.char(node, lo, hi, flags)
        if op is _sre.AT:  # reads the character it stands before (and the one behind)
            self.read(hi)
            return lo, hi
        if self.reach.in_line(node, flags):
            return self.in_line(node, lo, hi, flags)
        if op is _sre.SUBPATTERN:
            inner = (flags | av[1]) & ~av[2]
            return self.sequence(av[3].data, lo, hi, inner, rest if inner == flags else None)
        if op is _sre.ATOMIC_GROUP:
            return self.sequence(av.data, lo, hi, flags, None)
        if op is _sre.BRANCH:
            found = [self.sequence(branch.data, lo, hi, flags, rest) for branch in av[1]]
            ends = [bounds for bounds in found if bounds is not None]
            if not ends:
                return None
            return min(b[0] for b in ends), max(b[1] for b in ends)
        if op in (_sre.ASSERT, _sre.ASSERT_NOT):
            if av[0] == 1:
                seen = self.sequence(av[1].data, lo, hi, flags, None)
                if seen is None and op is _sre.ASSERT:
                    return None
            return lo, hi
        if op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT, _sre.POSSESSIVE_REPEAT):
            return self.repeat(node, lo, hi, flags, rest)
        raise _Open  # back references, conditionals: no bound known

    def in_line(self, node: Node, lo: int, hi: int, flags: int) -> tuple[int, int] | None:
        """A big piece that cannot read past a line end (a list of words): it ends somewhere
        before the end of the line, if it matches at all."""
        piece = self.reach.compile((id(node), flags, "piece"), [node], flags)
        if piece is None:
            raise _Open
        end = self.text.find("\n", hi)
        if end < 0:
            raise _Open
        least, most = self.reach.widths(node)
        end = min(end, hi + most)
        self.read(end)
        if hi - lo <= _SPAN_STARTS and not any(piece.match(self.text, q) for q in range(lo, hi + 1)):
            return None
        return min(lo + least, end), end

    def char(self, node: Node, lo: int, hi: int, flags: int) -> tuple[int, int] | None:
        self.read(hi)
        one = self.reach.compile((id(node), flags, "char"), [node], flags)
        if one is None:
            raise _Open
        first = one.search(self.text, lo, hi + 1)
        if first is None:
            return None
        last = hi
        while one.match(self.text, last) is None:
            last -= 1
            self.tick()
        return first.start() + 1, last + 1

    def repeat(self, node: Node, lo: int, hi: int, flags: int, rest: Rest) -> tuple[int, int] | None:
        op, (least, most, pattern) = node
        body: list[Node] = pattern.data
        if op is _sre.MIN_REPEAT and most == _sre.MAXREPEAT and rest is not None and shape.every_char(body, flags):
            tail = shape.flatten(rest)
            if not shape.uses_groups(tail):
                return self.lazy_to_rest(node, lo, hi, flags, least, tail)
        if shape.fixed_chars(body) is not None and len(body) == 1:
            return self.run(node, lo, hi, flags)
        chain = self.chain(node, lo, hi, flags)
        if chain is not None:
            return chain
        for _ in range(least):
            bounds = self.sequence(body, lo, hi, flags, None)
            if bounds is None:
                return None
            lo, hi = bounds
        count = least
        if pattern.getwidth()[0] > 0:
            # Each round moves on: follow where the last round ended, not everywhere seen.
            low, top = lo, hi
            while count < most:
                bounds = self.sequence(body, lo, hi, flags, None)
                if bounds is None:
                    break
                lo, hi = bounds
                top = max(top, hi)
                count += 1
            return low, top
        while count < most:
            bounds = self.sequence(body, lo, hi, flags, None)
            if bounds is None:
                break
            grown = min(lo, bounds[0]), max(hi, bounds[1])
            if grown == (lo, hi):
                break
            lo, hi = grown
            count += 1
        return lo, hi

    def run(self, node: Node, lo: int, hi: int, flags: int) -> tuple[int, int] | None:
        """A repeat of one character class: every way of matching stays inside a run of it."""
        _op, (least, most, body) = node
        one = self.reach.compile((id(node), flags, "char"), body.data, flags)
        run = self.reach.compile((id(node), flags, "run"), [(_sre.POSSESSIVE_REPEAT, (0, _sre.MAXREPEAT, body))], flags)
        if one is None or run is None or (most == _sre.MAXREPEAT and shape.every_char(body.data, flags)):
            raise _Open  # any character, no bound: it may run to the end
        match = run.match(self.text, hi, self.limit)  # reaching the limit is all that matters
        end = max(hi, min(match.end() if match else hi, hi + most))
        self.read(end)
        if not least:
            return lo, end
        first = one.search(self.text, lo, hi + 1)
        if first is None or first.start() + least > end:
            return None
        return first.start() + least, end

    def chain(self, node: Node, lo: int, hi: int, flags: int) -> tuple[int, int] | None:
        """A repeat whose branches each match a fixed run of characters and never two at
        one place: from each start there is one way on, which the regex engine follows."""
        _op, (least, most, body) = node
        shapes = self.reach.branches(body)
        if (
            shapes is None
            or hi - lo > _SPAN_STARTS
            or not shape.distinct(self.reach.one_char, [c for c, _ in shapes], flags)
        ):
            return None
        run = self.reach.compile((id(node), flags, "chain"), [(_sre.POSSESSIVE_REPEAT, (0, most, body))], flags)
        width = max(reads for _, reads in shapes)
        if run is None:
            return None
        ends = []
        for start in range(lo, hi + 1):
            self.tick()
            match = run.match(self.text, start)
            end = match.end() if match else start
            self.read(end + width - 1)
            ends.append(end)
        top = max(ends)
        if not least:
            return lo, top
        return (lo + least, top) if top >= lo + least else None

    def lazy_to_rest(
        self, node: Node, lo: int, hi: int, flags: int, least: int, rest: list[Node]
    ) -> tuple[int, int] | None:
        """`.*?` over any character followed by the rest of the pattern: the engine stops at
        the first place the rest matches, and that match ends the attempt."""
        after = self.reach.compile((id(node), flags, "rest"), rest, flags)
        if after is None:
            raise _Open
        found = after.search(self.text, hi + least, self.limit)
        if found is None:
            raise _Open(retry=True)  # scans to the end of the text
        self.read(found.start())
        # What the tries of the rest read, up to the one that matched (any of them matching
        # ends the attempt, so a lazy scan inside the rest stops as this one does).
        self.sequence(rest, lo + least, found.start(), flags, ())
        return None  # this way ends here, its reads counted; other branches still count
