"""Conversations made up for the benchmarks: prose, lists, fenced code and the odd table, like
real chats with a model, and the same every run (a fixed seed, no clock)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from itertools import accumulate

from app.conversation import Turn

_WORDS = [
    "the",
    "a",
    "of",
    "to",
    "and",
    "in",
    "is",
    "it",
    "that",
    "for",
    "on",
    "with",
    "as",
    "this",
    "be",
    "are",
    "by",
    "or",
    "not",
    "from",
    "at",
    "can",
    "an",
    "which",
    "when",
    "you",
    "your",
    "we",
    "will",
    "if",
    "more",
    "one",
    "all",
    "each",
    "but",
    "only",
    "than",
    "into",
    "then",
    "its",
    "also",
    "so",
    "they",
    "their",
    "should",
    "may",
    "these",
    "use",
    "used",
    "using",
    "time",
    "data",
    "value",
    "list",
    "file",
    "code",
    "error",
    "function",
    "return",
    "search",
    "sorted",
    "middle",
    "target",
    "range",
    "half",
    "index",
    "items",
    "element",
    "binary",
    "linear",
    "tree",
    "node",
    "graph",
    "queue",
    "stack",
    "cache",
    "memory",
    "thread",
    "process",
    "server",
    "client",
    "request",
    "response",
    "stream",
    "token",
    "model",
    "layer",
    "weight",
    "training",
    "inference",
    "batch",
    "vector",
    "matrix",
    "python",
    "rust",
    "query",
    "table",
    "column",
    "row",
    "schema",
    "migration",
    "index",
    "transaction",
    "commit",
    "rollback",
    "lock",
    "latency",
    "throughput",
    "buffer",
    "socket",
    "parse",
    "render",
    "layout",
    "widget",
    "screen",
    "terminal",
    "input",
    "output",
    "event",
    "message",
    "handler",
    "callback",
    "async",
    "await",
    "loop",
    "task",
    "worker",
    "pool",
    "timeout",
    "retry",
    "backoff",
    "network",
    "packet",
    "header",
    "payload",
]
# Rarer words, used less the further down the list they are (as words are in real text), so
# that searches meet both words in most messages and words in a few.
_ENDINGS = ("lo", "ra", "vex", "tin", "dum", "pik")
_RARE = sorted({a + b + c for a in "bdfgklmnprstvz" for b in "aeiou" for c in _ENDINGS})
_RARE_WEIGHTS = list(accumulate(1 / rank for rank in range(1, len(_RARE) + 1)))
_NAMES = [
    "items",
    "values",
    "nodes",
    "rows",
    "tokens",
    "buffer",
    "result",
    "count",
    "total",
    "offset",
    "width",
    "height",
]
_FIRST = 1_000_000_000.0  # a fixed date for the first message, so no run depends on the clock


def _sentence(rng: random.Random, low: int = 6, high: int = 18) -> str:
    words = rng.choices(_WORDS, k=rng.randint(low, high))
    if rng.random() < 0.5:
        words[rng.randrange(len(words))] = rng.choices(_RARE, cum_weights=_RARE_WEIGHTS)[0]
    if rng.random() < 0.3:
        spot = rng.randrange(len(words))
        words[spot] = f"`{words[spot]}`" if rng.random() < 0.5 else f"**{words[spot]}**"
    return " ".join(words).capitalize() + "."


def _paragraph(rng: random.Random) -> str:
    return " ".join(_sentence(rng) for _ in range(rng.randint(2, 4)))


def _bullets(rng: random.Random) -> str:
    marker = rng.choice(["-", "*", "1."])
    lines = []
    for number in range(1, rng.randint(3, 6) + 1):
        prefix = f"{number}." if marker == "1." else marker
        lines.append(f"{prefix} {_sentence(rng, 4, 10)}")
    return "\n".join(lines)


def _code(rng: random.Random) -> str:
    name, other = rng.sample(_NAMES, 2)
    body = [f"def {rng.choice(_WORDS)}_{rng.choice(_WORDS)}({name}, {other}):"]
    for _ in range(rng.randint(3, 10)):
        body.append(
            rng.choice(
                [
                    f"    {other} = len({name}) // {rng.randint(2, 9)}",
                    f"    for index, value in enumerate({name}):",
                    f"        if value > {other}:",
                    f"            {other} += value * {rng.randint(1, 99)}",
                    f'    print(f"{{{name}!r}} {rng.choice(_WORDS)}")',
                    f"    {name} = sorted({name})[{rng.randint(0, 5)}:]",
                ]
            )
        )
    body.append(f"    return {other}")
    return "```python\n" + "\n".join(body) + "\n```"


def _table(rng: random.Random) -> str:
    header = "| name | value | note |\n|---|---:|---|"
    rows = [
        f"| {rng.choice(_NAMES)} | {rng.randint(1, 9999)} | {_sentence(rng, 2, 5)} |" for _ in range(rng.randint(2, 5))
    ]
    return "\n".join([header, *rows])


def _reply(rng: random.Random) -> str:
    parts = []
    if rng.random() < 0.2:
        parts.append(f"## {_sentence(rng, 2, 5)[:-1]}")
    parts.append(_paragraph(rng))
    for _ in range(rng.randint(1, 2)):
        kind = rng.random()
        if kind < 0.40:
            parts.append(_bullets(rng))
        elif kind < 0.75:
            parts.append(_code(rng))
        elif kind < 0.85:
            parts.append(_table(rng))
        parts.append(_paragraph(rng))
    return "\n\n".join(parts)


def turns(count: int, seed: int = 5) -> Iterator[Turn]:
    """`count` messages, a question then an answer, about 400 characters each on average."""
    rng = random.Random(seed)
    for number in range(count):
        moment = _FIRST + number * 30
        if number % 2 == 0:
            text = " ".join(_sentence(rng, 5, 14) for _ in range(rng.randint(1, 2)))
            if rng.random() < 0.5:
                text = text.replace(".", "?", 1)
            yield Turn("user", text, created_at=moment)
        else:
            yield Turn("assistant", _reply(rng), model="llama3.2:latest", created_at=moment)


def rare_word(rank: int) -> str:
    """The rank-th most used of the rare words (0 is the most used)."""
    return _RARE[rank]


def first_marker(count: int) -> str:
    return f"Opening line of a conversation of {count} messages."


def last_marker(count: int) -> str:
    return f"Closing line of a conversation of {count} messages."


def conversation(count: int, seed: int = 5) -> list[Turn]:
    """`turns()` with recognisable first and last lines, to see which end is on screen."""
    result = list(turns(count, seed))
    result[0].content = first_marker(count) + "\n\n" + result[0].content
    result[-1].content += "\n\n" + last_marker(count)
    return result
