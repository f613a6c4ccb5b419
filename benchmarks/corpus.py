"""Conversations made up for the benchmarks: prose, lists, fenced code and the odd table, like
real chats with a model, and the same every run (a fixed seed, no clock)."""

from __future__ import annotations

import random
import re
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
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


# Reply shapes: one long reply each, in a shape that weighs on a different part of the renderer
# (a block that never closes, one huge paragraph, thousands of list items or table rows).

MARKER = "quokka"  # the last visible word of every shape's reply, and nowhere else in it
ABSENT = "Z"  # a letter no shape's reply holds: item 9 types it and waits for it to show
SHAPES = {
    "prose": "prose in paragraphs",
    "fence": "a sentence, then a Python code fence of 1,500 lines",
    "code": "a reply that is one 10,000-line code block",
    "paragraph": "a single 200 KB paragraph on one line",
    "wrapped": "the same 200 KB paragraph with single newlines",
    "bullets": "a list of 3,000 bullets",
    "numbered": "a numbered list of 3,000 items",
    "table": "a table of 3,000 rows",
    "mixed": "headings, paragraphs, lists, code and tables",
}
_PROSE_TOKENS = 9_750
_FENCE_LINES = 1_500
_CODE_LINES = 10_000
_PARAGRAPH_CHARS = 200_000
_ITEMS = 3_000
# Code goes out in pieces as a model's tokenizer cuts it: the line break and indentation with
# the word after them, a name in pieces at its underscores, an opening bracket or a dot with the
# word it precedes, digits three at a time, other punctuation in runs of up to three.
_CODE_TOKEN = re.compile(r"\s*[^\w\s]{0,2}(?:_?[A-Za-z]+|\d{1,3})|\s*[^\w\s]{1,3}|\s+|_|.", re.DOTALL)
_PROSE_TOKEN = re.compile(r"\s*\S+|\s+")  # a word with the whitespace before it


@dataclass(frozen=True, slots=True)
class Reply:
    shape: str
    text: str
    tokens: tuple[str, ...]  # as the server sends them; they join to `text`

    @property
    def lines(self) -> int:
        return self.text.count("\n") + 1

    @property
    def after_marker(self) -> int:
        """Tokens sent after the one holding the marker (a closing fence, a table's last bar)."""
        return next(count for count, token in enumerate(reversed(self.tokens)) if MARKER in token)


def _clean(rng: random.Random, low: int = 6, high: int = 18) -> str:
    """A sentence without the letter item 9 types (a rare word may start one with it)."""
    while ABSENT in (sentence := _sentence(rng, low, high)):
        pass
    return sentence


def _plain(rng: random.Random, low: int, high: int) -> str:
    """A sentence for a comment or a docstring: no Markdown in code."""
    return _clean(rng, low, high).replace("`", "").replace("**", "")


def _code_lines(rng: random.Random, count: int) -> list[str]:
    """`count` lines of a Python module: imports, then functions and small classes."""
    lines = ['"""Helpers for the request pipeline: parsing, batching and retries."""', ""]
    lines += ["from __future__ import annotations", "", "import json", "import time", ""]
    while len(lines) < count:
        lines += ["", "", *(_class(rng) if rng.random() < 0.3 else _function(rng, ""))]
    return lines[:count]


def _function(rng: random.Random, indent: str) -> list[str]:
    name, other = rng.sample(_NAMES, 2)
    verb, noun = rng.choice(_WORDS), rng.choice(_WORDS)
    head = f"def {verb}_{noun}(self, {name}, {other}=None):" if indent else f"def {verb}_{noun}({name}, {other}=None):"
    body = [head, f'    """{_plain(rng, 4, 10)}"""', f"    {other} = {other} or {{}}"]
    for _ in range(rng.randint(2, 6)):
        body += rng.choice(
            [
                [
                    f"    for index, value in enumerate({name}):",
                    f"        {other}[index] = value * {rng.randint(2, 99)}",
                ],
                [f"    if len({name}) > {rng.randint(1, 64)}:", f"        {name} = {name}[: len({name}) // 2]"],
                [f"    # {_plain(rng, 3, 9)[:-1].lower()}", f"    {other}.update({rng.choice(_NAMES)}=time.time())"],
                [
                    "    try:",
                    f"        {other} = json.loads({name})",
                    "    except ValueError as error:",
                    f'        raise RuntimeError(f"bad {rng.choice(_WORDS)}: {{error}}") from error',
                ],
                [f"    {name} = [item for item in {name} if item is not None]"],
                [f'    print(f"{{{name}!r}} {rng.choice(_WORDS)} {{len({other})}}")'],
            ]
        )
    body.append(f"    return {other}")
    return [indent + line if line else line for line in body]


def _class(rng: random.Random) -> list[str]:
    noun = rng.choice(_WORDS)
    lines = [f"class {noun.capitalize()}{rng.choice(_NAMES).capitalize()}:", f'    """{_plain(rng, 4, 10)}"""']
    lines += ["", "    def __init__(self, limit=16):", "        self.limit = limit", "        self.items = []"]
    for _ in range(rng.randint(1, 3)):
        lines += ["", *_function(rng, "    ")]
    return lines


def _code_block(rng: random.Random, count: int, last: str = MARKER) -> str:
    lines = [*_code_lines(rng, count - 2), 'if __name__ == "__main__":', f'    main("{last}")']
    return "```python\n" + "\n".join(lines) + "\n```"


def _tokens(parts: list[tuple[str, bool]]) -> tuple[str, ...]:
    """The tokens of a reply made of (text, is code) parts joined by blank lines."""
    tokens: list[str] = []
    for number, (text, code) in enumerate(parts):
        tokens += (_CODE_TOKEN if code else _PROSE_TOKEN).findall("\n\n" * (number > 0) + text)
    return tuple(tokens)


def _prose_parts(rng: random.Random, tokens: int) -> list[tuple[str, bool]]:
    parts: list[tuple[str, bool]] = []
    count = 0
    while count < tokens:
        paragraph = " ".join(_clean(rng) for _ in range(rng.randint(2, 5)))
        parts.append((paragraph, False))
        count += len(_PROSE_TOKEN.findall(paragraph))
    return parts


def _mixed_parts(rng: random.Random, tokens: int) -> list[tuple[str, bool]]:
    parts: list[tuple[str, bool]] = []
    count = 0
    while count < tokens:
        section = [(f"## {_clean(rng, 2, 5)[:-1]}", False), *_prose_parts(rng, 60)]
        kind = rng.random()
        if kind < 0.35:
            items = [f"{number}. {_clean(rng, 4, 10)}" for number in range(1, rng.randint(3, 8))]
            section.append(("\n".join(items), False))
        elif kind < 0.7:
            section.append((_code_block(rng, rng.randint(8, 30), "demo"), True))
        else:
            rows = [f"| {rng.choice(_NAMES)} | {rng.randint(1, 9999)} | {_clean(rng, 2, 5)} |" for _ in range(6)]
            section.append(("\n".join(["| name | value | note |", "|---|---:|---|", *rows]), False))
        parts += section
        count += len(_tokens(section))
    return parts


def _words_text(rng: random.Random, chars: int) -> str:
    sentences: list[str] = []
    size = 0
    while size < chars:
        sentences.append(_clean(rng))
        size += len(sentences[-1]) + 1
    return " ".join(sentences)


def _parts(shape: str, rng: random.Random, scale: float) -> list[tuple[str, bool]]:
    def size(full: int) -> int:
        return max(4, round(full * scale))

    end = f"That is all, {MARKER}."
    if shape == "prose":
        return [*_prose_parts(rng, size(_PROSE_TOKENS)), (end, False)]
    if shape == "mixed":
        return [*_mixed_parts(rng, size(_PROSE_TOKENS)), (end, False)]
    if shape == "fence":
        return [(_clean(rng, 8, 14)[:-1] + ", the whole module:", False), (_code_block(rng, size(_FENCE_LINES)), True)]
    if shape == "code":
        return [(_code_block(rng, size(_CODE_LINES)), True)]
    if shape in ("paragraph", "wrapped"):
        text = _words_text(rng, size(_PARAGRAPH_CHARS)) + " " + end
        return [(text if shape == "paragraph" else "\n".join(textwrap.wrap(text, 80)), False)]
    if shape in ("bullets", "numbered"):
        marks = [f"{number}." if shape == "numbered" else "-" for number in range(1, size(_ITEMS) + 1)]
        items = [f"{mark} {_clean(rng, 4, 12)}" for mark in marks]
        items[-1] = items[-1][:-1] + f", {MARKER}."
        return [("Here is the full list:", False), ("\n".join(items), False)]
    if shape == "table":
        rows = [
            f"| {number} | {rng.choice(_NAMES)} | {rng.randint(1, 99_999)} | {_clean(rng, 2, 6)[:-1]} |"
            for number in range(1, size(_ITEMS) + 1)
        ]
        rows[-1] = rows[-1][:-2] + f" {MARKER} |"
        return [
            ("Every entry:", False),
            ("\n".join(["| # | name | value | note |", "|---:|---|---:|---|", *rows]), False),
        ]
    raise ValueError(f"no reply shape {shape!r}; the shapes are {', '.join(SHAPES)}")


@cache
def shape_reply(shape: str, scale: float = 1.0, seed: int = 9) -> Reply:
    """The reply of one shape; `scale` shrinks it (the quick run's tiny sizes)."""
    parts = _parts(shape, random.Random(f"{shape}/{seed}"), scale)
    text = "\n\n".join(part for part, _ in parts)
    tokens = _tokens(parts)
    assert "".join(tokens) == text and text.count(MARKER) == 1 and ABSENT not in text
    return Reply(shape, text, tokens)
