"""A streaming Markdown table: the cost of one update as rows pile up, and of drawing the last
screen of a long table from scratch, with `TableBlock` and with Rich drawing the whole table
(what the app did before).

`python -m benchmarks.table_block_speed`. One update is what the view does ten times a
second while a table streams in: one more row arrives, then the height and the last screen
(45 lines at 120 columns) are asked for. Prints figures; asserts nothing about speed, but
checks that both draw the same lines.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from rich.segment import Segment

from app.render.console import CONSOLE as _CONSOLE
from app.render.markdown import parser as _parser
from app.render.table import Row, TableBlock
from benchmarks.rich_whole import WholeRenderer as MessageRenderer
from benchmarks.stats import median

WIDTH = 120
SCREEN = 45
SIZES = (100, 1_000, 3_000)
HEADER = "| # | name | description | amount |\n|--:|---|---|--:|\n"
KINDS = {
    "short cells": "a few words",
    "wrapping cells": "a description long enough that at 120 columns the cell wraps onto more lines " * 2,
}


def row(index: int, text: str) -> str:
    return f"| {index} | item **{index}** | {text} `{index}` | {index * 37 % 1000}.{index % 100:02} |\n"


def table(rows: int, text: str) -> str:
    return HEADER + "".join(row(index, text) for index in range(rows))


def _block_screen(block: TableBlock) -> list[Row]:
    height = block.height(WIDTH)
    return block.rows(height - SCREEN, height, WIDTH)


def _renderer_screen(renderer: MessageRenderer) -> list[Row]:
    return renderer.lines(WIDTH)[-SCREEN:]


def _timed(step: Callable[[], object], runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        step()
        samples.append(time.perf_counter() - start)
    return median(samples)


def _same(ours: list[Row], theirs: list[Row]) -> None:
    def simple(lines: list[Row]) -> list[list[tuple[str, object]]]:
        return [[(s.text, s.style) for s in Segment.simplify(line)] for line in lines]

    if simple(ours) != simple(theirs):
        raise SystemExit("TableBlock and the renderer drew different lines")


def update_seconds(rows: int, text: str) -> tuple[float, float]:
    """(TableBlock, renderer): the median time of one update after `rows` rows."""
    source = table(rows, text)
    block = TableBlock(_CONSOLE, _parser())
    block.set_source(source)
    _block_screen(block)
    renderer = MessageRenderer()
    renderer.update(source)
    _renderer_screen(renderer)
    added = rows

    def grow_block() -> None:
        nonlocal source, added
        source += row(added, text)
        added += 1
        block.set_source(source)
        _block_screen(block)

    ours = _timed(grow_block, 20)
    renderer_source = source
    added_renderer = added

    def grow_renderer() -> None:
        nonlocal renderer_source, added_renderer
        renderer_source += row(added_renderer, text)
        added_renderer += 1
        renderer.update(renderer_source)
        _renderer_screen(renderer)

    theirs = _timed(grow_renderer, 5 if rows >= 1_000 else 20)
    block.set_source(renderer_source)
    _same(_block_screen(block), _renderer_screen(renderer))
    return ours, theirs


def from_scratch_seconds(rows: int, text: str) -> tuple[float, float]:
    """(TableBlock, renderer): the last screen of a table of `rows` rows, nothing drawn before."""
    source = table(rows, text)
    drawn: dict[str, list[Row]] = {}

    def block() -> None:
        fresh = TableBlock(_CONSOLE, _parser())
        fresh.set_source(source)
        drawn["ours"] = _block_screen(fresh)

    def renderer() -> None:
        fresh = MessageRenderer()
        fresh.update(source)
        drawn["theirs"] = _renderer_screen(fresh)

    ours, theirs = _timed(block, 3), _timed(renderer, 3)
    _same(drawn["ours"], drawn["theirs"])
    return ours, theirs


def main() -> None:
    _block_screen(TableBlock(_CONSOLE, _parser()))  # load markdown-it, Rich's Markdown, Pygments
    for kind, text in KINDS.items():
        print(f"{kind}: one update (a row more, then the height and the last {SCREEN} lines at {WIDTH})")
        for rows in SIZES:
            ours, theirs = update_seconds(rows, text)
            print(f"  {rows:>5,} rows: TableBlock {ours * 1e3:7.2f} ms   whole-table renderer {theirs * 1e3:8.2f} ms")
        ours, theirs = from_scratch_seconds(SIZES[-1], text)
        print(
            f"  last screen of {SIZES[-1]:,} rows from scratch: TableBlock {ours * 1e3:7.1f} ms"
            f"   whole-table renderer {theirs * 1e3:8.1f} ms"
        )


if __name__ == "__main__":
    main()
