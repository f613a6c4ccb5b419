"""The shape of a regular expression's parse tree: how many line ends it can read past,
where every way of matching must pass first, and which repeats have one way on.

The tree comes from the standard library's own regex parser (a private module);
`tests/test_render_code.py` checks it still has the shape read here.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from typing import Any

_parser: Any = importlib.import_module("re._parser")
_sre: Any = importlib.import_module("re._constants")

Node = tuple[Any, Any]
# What follows a node in the whole pattern: the nodes of a sequence from an index, then
# what follows that sequence; () when nothing does, None where a match is not the end
# (inside a repeat or a lookaround).
Rest = tuple[list[Node], int, Any] | tuple[()] | None
OneChar = Callable[[Node, int], re.Pattern[str] | None]  # a node compiled alone


def _has_newline(items: list[Node]) -> bool:
    """Whether a character set `[...]` contains a line end."""
    hit = False
    negate = False
    for op, av in items:
        if op is _sre.NEGATE:
            negate = True
        elif op is _sre.LITERAL:
            hit |= av == 10
        elif op is _sre.RANGE:
            hit |= av[0] <= 10 <= av[1]
        elif op is _sre.CATEGORY:
            hit |= av in (
                _sre.CATEGORY_SPACE,
                _sre.CATEGORY_NOT_DIGIT,
                _sre.CATEGORY_NOT_WORD,
                _sre.CATEGORY_LINEBREAK,
            )
        else:  # not known here: count it as a line end
            return True
    return hit != negate


def newlines(items: list[Node], flags: int) -> float:
    """The most line ends one way of matching can read past (lookaheads included)."""
    total = 0.0
    for op, av in items:
        if op is _sre.LITERAL:
            total += av == 10
        elif op is _sre.NOT_LITERAL:
            total += av != 10
        elif op is _sre.ANY:
            total += bool(flags & re.DOTALL)
        elif op is _sre.IN:
            total += _has_newline(av)
        elif op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT, _sre.POSSESSIVE_REPEAT):
            body = newlines(av[2], flags)
            total += 0 if not body else (float("inf") if av[1] == _sre.MAXREPEAT else av[1] * body)
        elif op is _sre.SUBPATTERN:
            total += newlines(av[3], (flags | av[1]) & ~av[2])
        elif op is _sre.ATOMIC_GROUP:
            total += newlines(av, flags)
        elif op is _sre.BRANCH:
            total += max(newlines(branch, flags) for branch in av[1])
        elif op in (_sre.ASSERT, _sre.ASSERT_NOT):
            total += newlines(av[1], flags) if av[0] == 1 else 0
        elif op is _sre.AT:
            pass
        else:  # back references and conditionals: what they match is not known here
            return float("inf")
    return total


def fixed_chars(items: list[Node]) -> list[Node] | None:
    """The nodes of a sequence that matches exactly one character per node, or None."""
    for op, _av in items:
        if op not in (_sre.LITERAL, _sre.NOT_LITERAL, _sre.ANY, _sre.IN):
            return None
    return items


def every_char(items: list[Node], flags: int) -> bool:
    """Whether a one-character node list matches any character at all (`[\\s\\S]`, `.` under DOTALL)."""
    if len(items) != 1:
        return False
    op, av = items[0]
    if op is _sre.ANY:
        return bool(flags & re.DOTALL)
    if op is _sre.IN:
        categories = {item for kind, item in av if kind is _sre.CATEGORY}
        return any(
            {a, b} <= categories
            for a, b in (
                (_sre.CATEGORY_SPACE, _sre.CATEGORY_NOT_SPACE),
                (_sre.CATEGORY_WORD, _sre.CATEGORY_NOT_WORD),
                (_sre.CATEGORY_DIGIT, _sre.CATEGORY_NOT_DIGIT),
            )
        ) and not any(kind is _sre.NEGATE for kind, _ in av)
    if op is _sre.SUBPATTERN and not av[1] and not av[2]:
        return every_char(av[3], flags)
    if op is _sre.BRANCH:  # (?:.|\n)
        branches = av[1]
        singles = [b[0] for b in branches if len(b) == 1]
        return len(singles) == len(branches) and (
            any(every_char([node], flags) for node in singles)
            or (any(node[0] is _sre.ANY for node in singles) and any(node == (_sre.LITERAL, 10) for node in singles))
        )
    return False


def behind(items: list[Node]) -> int:
    """The most characters a look-behind in the pattern reads before where it stands."""
    widest = 0
    for op, av in items:
        if op in (_sre.ASSERT, _sre.ASSERT_NOT) and av[0] == -1:
            widest = max(widest, av[1].getwidth()[1])
        for child in _children(op, av):
            widest = max(widest, behind(list(child)))
    return widest


def _children(op: Any, av: Any) -> list[Any]:
    if op is _sre.SUBPATTERN:
        return [av[3]]
    if op is _sre.ATOMIC_GROUP:
        return [av]
    if op is _sre.BRANCH:
        return list(av[1])
    if op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT, _sre.POSSESSIVE_REPEAT):
        return [av[2]]
    if op in (_sre.ASSERT, _sre.ASSERT_NOT):
        return [av[1]]
    if op is _sre.GROUPREF_EXISTS:
        return [branch for branch in av[1:] if branch is not None]
    return []


def size(items: list[Node]) -> int:
    return sum(1 + sum(size(list(child)) for child in _children(op, av)) for op, av in items)


def _lazy_any(node: Node, flags: int) -> int | None:
    """The least count of a `.*?` over any character (also alone in a group), else None."""
    op, av = node
    if op is _sre.SUBPATTERN and not av[1] and not av[2] and len(av[3].data) == 1:
        return _lazy_any(av[3].data[0], flags)
    if op is _sre.MIN_REPEAT and av[1] == _sre.MAXREPEAT and every_char(av[2].data, flags):
        return int(av[0])
    return None


def split_lazy(items: list[Node], flags: int) -> tuple[list[Node], int, list[Node]] | None:
    """`prefix .*? rest` at the top of a pattern whose rest refers back to the prefix's
    groups, as (prefix, least count, rest); else None."""
    for index, node in enumerate(items):
        least = _lazy_any(node, flags)
        if least is not None:
            prefix, rest = items[:index], items[index + 1 :]
            if uses_groups(rest) and not uses_groups(prefix):
                return prefix, least, rest
            return None
    return None


def spell(items: list[Node], match: Any, state: Any) -> list[Node] | None:
    """Nodes with each back reference replaced by the text its group matched, or None."""
    spelled: list[Node] = []
    for op, av in items:
        if op is _sre.GROUPREF:
            text = match.group(av)
            if text is None:
                return None
            spelled.extend((_sre.LITERAL, ord(char)) for char in text)
        elif op is _sre.SUBPATTERN and uses_groups(av[3].data):
            inner = spell(av[3].data, match, state)
            if inner is None:
                return None
            spelled.append((op, (av[0], av[1], av[2], _parser.SubPattern(state, inner))))
        elif uses_groups([(op, av)]):
            return None
        else:
            spelled.append((op, av))
    return spelled


def flatten(rest: Rest) -> list[Node]:
    nodes: list[Node] = []
    while rest:
        items, index, rest = rest
        nodes.extend(items[index:])
    return nodes


def uses_groups(items: list[Node]) -> bool:
    for op, av in items:
        if op in (_sre.GROUPREF, _sre.GROUPREF_EXISTS):
            return True
        if any(uses_groups(list(child)) for child in _children(op, av)):
            return True
    return False


def guard(items: list[Node], flags: int, most: int | None) -> list[Node]:
    """The longest start of a pattern that reads past a known number of line ends (at most
    `most`, if given): every way of matching the pattern first matches it. A repeat that
    must run at least `n` times brings its first `n` rounds."""
    start: list[Node] = []
    for node in items:
        op, av = node
        steps = newlines([*start, node], flags)
        if steps != float("inf") and (most is None or steps <= most):
            start.append(node)
            continue
        if op is _sre.SUBPATTERN and not av[1] and not av[2]:
            inner = guard(av[3].data, flags, None if most is None else most - int(newlines(start, flags)))
            start.extend(inner)
        elif op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT, _sre.POSSESSIVE_REPEAT) and av[0] >= 1:
            first = (_sre.MAX_REPEAT, (av[0], av[0], av[2]))
            steps = newlines([*start, first], flags)
            if steps != float("inf") and (most is None or steps <= most):
                start.append(first)
        break
    return [] if uses_groups(start) else start


def branches(body: list[Node]) -> list[tuple[list[Node], int]] | None:
    """A repeat body as branches of one-character nodes (and lookarounds of known width),
    each with its characters and how far past its start it can read; or None."""
    if len(body) == 1 and body[0][0] is _sre.SUBPATTERN and not body[0][1][1] and not body[0][1][2]:
        body = body[0][1][3].data
    if len(body) == 1 and body[0][0] is _sre.BRANCH:
        ways = [branch.data for branch in body[0][1][1]]
    else:
        ways = [body]
    shapes: list[tuple[list[Node], int]] = []
    for branch in ways:
        chars: list[Node] = []
        reads = 0
        for node in branch:
            op, av = node
            if op in (_sre.LITERAL, _sre.NOT_LITERAL, _sre.ANY, _sre.IN):
                chars.append(node)
                reads += 1
            elif op in (_sre.ASSERT, _sre.ASSERT_NOT) and not uses_groups(av[1].data):
                if av[0] == 1:
                    ahead = av[1].getwidth()[1]
                    if ahead >= _sre.MAXREPEAT:
                        return None
                    reads += ahead
            else:
                return None
        if not chars:
            return None
        shapes.append((chars, reads))
    return shapes


def _members(node: Node) -> list[int] | None:
    """The characters a node matches when it is a short explicit list, else None."""
    op, av = node
    if op is _sre.LITERAL:
        return [av]
    if op is _sre.IN:
        chars: list[int] = []
        for kind, item in av:
            if kind is _sre.LITERAL:
                chars.append(item)
            elif kind is _sre.RANGE and item[1] - item[0] < 256:
                chars.extend(range(item[0], item[1] + 1))
            else:
                return None
        return chars
    return None


def _disjoint(one_char: OneChar, a: Node, b: Node, flags: int) -> bool:
    for small, other in ((a, b), (b, a)):
        members = _members(small)
        if members is not None and flags & re.IGNORECASE and any(_cased(c) for c in members):
            members = None  # under IGNORECASE a letter also matches its other cases
        if members is not None:
            test = one_char(other, flags)
            return test is not None and not any(test.match(chr(c)) for c in members)
    return False


def _cased(code: int) -> bool:
    char = chr(code)
    return char.lower() != char or char.upper() != char


def distinct(one_char: OneChar, ways: list[list[Node]], flags: int) -> bool:
    """Whether no two branches can match at the same place (so the repeat has one way on)."""
    for i, first in enumerate(ways):
        for second in ways[i + 1 :]:
            if not any(_disjoint(one_char, x, y, flags) for x, y in zip(first, second, strict=False)):
                return False
    return True
