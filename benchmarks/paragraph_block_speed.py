"""How long one streamed update of a single long paragraph takes, drawn by `ParagraphBlock`
and by the message renderer the view uses today.

An update appends about 8 characters, then asks for the height and the last 45 rows at a
width of 120, as the view does when it follows a reply. Run it from the repository root:

    .venv/bin/python -m benchmarks.paragraph_block_speed

It prints figures; it asserts nothing about them.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

from app.render.console import CONSOLE as _CONSOLE
from app.render.markdown import parser as _parser
from app.render.paragraph import ParagraphBlock
from benchmarks.rich_whole import WholeRenderer as MessageRenderer
from benchmarks.stats import median, percentile

WIDTH = 120
ROWS = 45
WORDS = ["the", "model", "streams", "a", "long", "answer", "about", "terminals", "wrapping", "lines", "rows"]
APPENDS = [" streams", " wrapping", " *rows*.", " `code`", " and the", "  answer"]


def prose(size: int, seed: int = 7) -> str:
    """Prose with single line breaks, a little emphasis, code and a link now and then."""
    rng = random.Random(seed)
    out: list[str] = []
    length = 0
    while length < size:
        word = rng.choice(WORDS)
        roll = rng.random()
        if roll < 0.03:
            word = f"*{word}*"
        elif roll < 0.05:
            word = f"`{word}()`"
        elif roll < 0.055:
            word = f"[{word}](https://example.com/{word})"
        out.append(word + ("\n" if rng.random() < 0.02 else " "))
        length += len(out[-1])
    return "".join(out)[:size].rstrip()


def _block_update(block: ParagraphBlock, text: str) -> None:
    block.set_source(text)
    height = block.height(WIDTH)
    block.rows(height - ROWS, height, WIDTH)


def _renderer_update(renderer: MessageRenderer, text: str) -> None:
    renderer.update(text)
    height = renderer.height(WIDTH)
    renderer.reveal(height - ROWS, height, WIDTH)
    for row in range(max(0, height - ROWS), height):
        renderer.line(row, WIDTH)


def _block_updates(text: str, count: int) -> list[float]:
    block = ParagraphBlock(_CONSOLE, _parser())
    return _updates(text, lambda source: _block_update(block, source), count)


def _renderer_updates(text: str, count: int) -> list[float]:
    renderer = MessageRenderer()
    return _updates(text, lambda source: _renderer_update(renderer, source), count)


def _updates(text: str, update: Callable[[str], None], count: int) -> list[float]:
    update(text)
    seconds: list[float] = []
    for index in range(count):
        text += APPENDS[index % len(APPENDS)]
        start = time.perf_counter()
        update(text)
        seconds.append(time.perf_counter() - start)
    return seconds


def _line(label: str, seconds: list[float]) -> str:
    return f"{label:<44} median {median(seconds) * 1000:8.2f} ms   p95 {percentile(seconds, 0.95) * 1000:8.2f} ms"


def main() -> None:
    print(f"One update: append ~8 characters, height, last {ROWS} rows at width {WIDTH}")
    for size in (2_000, 50_000, 200_000):
        text = prose(size)
        print(_line(f"ParagraphBlock, {size // 1000} KB paragraph", _block_updates(text, 200)))
        count = 200 if size <= 2_000 else 10
        print(_line(f"MessageRenderer, {size // 1000} KB paragraph", _renderer_updates(text, count)))
    for label, text in [
        ("an unmatched * at the start, 200 KB", "2*x " + prose(200_000)),
        ("a lone backtick at the start, 200 KB", "a ` b " + prose(200_000)),
        ("CJK without spaces, 200 KB", "中文没有空格的长段落。" * 18_182),
    ]:
        print(_line(f"ParagraphBlock, {label}", _block_updates(text, 200)))

    text = prose(200_000)
    for label, rows in (("last 45 rows", ROWS), ("every row", None)):
        seconds = []
        for _ in range(5):
            start = time.perf_counter()
            block = ParagraphBlock(_CONSOLE, _parser())
            block.set_source(text)
            height = block.height(WIDTH)
            block.rows(0 if rows is None else height - rows, height, WIDTH)
            seconds.append(time.perf_counter() - start)
        print(_line(f"200 KB from scratch, {label}", seconds))
    seconds = []
    for _ in range(5):
        start = time.perf_counter()
        renderer = MessageRenderer()
        renderer.update(text)
        renderer.lines(WIDTH)
        seconds.append(time.perf_counter() - start)
    print(_line("200 KB from scratch, MessageRenderer, all", seconds))


if __name__ == "__main__":
    main()
