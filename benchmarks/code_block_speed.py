"""How long one update of a growing code block takes, and a long block drawn from scratch.

An update is what the conversation view does 10 times a second while a fenced block
streams: about 8 more characters, then the block's height and its last 45 rows at width
120. It is timed at 100, 1,500 and 10,000 lines of Python (made up here with a fixed seed),
for `app.render.code.CodeBlock` and for Rich drawing the whole block again (`Syntax`, as the
app's Markdown renderer did before). Drawing from scratch is one `set_code` with 10,000
lines, then the height and the last screen.

Run from the repository root: `.venv/bin/python -m benchmarks.code_block_speed`
"""

from __future__ import annotations

import random
import statistics
import time
from io import StringIO

from rich.cells import cell_len
from rich.console import Console
from rich.segment import Segment
from rich.syntax import Syntax

from app.render.code import CodeBlock, code_lexer

WIDTH = 120
SCREEN = 45
STEP = 8  # characters per update: 300 tokens/s at 10 updates/s, about 3 characters a token
UPDATES = 60

_NAMES = ["items", "values", "nodes", "rows", "tokens", "buffer", "result", "count", "total", "offset", "width"]
_WORDS = ["load", "parse", "draw", "merge", "split", "find", "keep", "drop", "wrap", "fold", "scan", "read", "write"]


def python_code(lines: int, seed: int = 7) -> str:
    """Made-up Python: functions with docstrings, comments, strings and f-strings."""
    rng = random.Random(seed)
    out: list[str] = ["import os", "from pathlib import Path", ""]
    while len(out) < lines:
        name = f"{rng.choice(_WORDS)}_{rng.choice(_NAMES)}"
        args = ", ".join(rng.sample(_NAMES, rng.randint(1, 3)))
        out += [f"def {name}({args}):", f'    """{rng.choice(_WORDS).title()} the {rng.choice(_NAMES)}.', ""]
        out += [f"    Returns the {rng.choice(_NAMES)} as a list.", '    """']
        for _ in range(rng.randint(3, 9)):
            target, source = rng.sample(_NAMES, 2)
            out.append(
                rng.choice(
                    [
                        f"    {target} = [{source}[i] * 2 for i in range({rng.randint(2, 99)})]",
                        f"    # {rng.choice(_WORDS)} the {source} before the {target}",
                        f'    print(f"{{{target}!r}} of {{len({source})}} ({rng.choice(_WORDS)})")',
                        f"    if {target} is None:\n        return '{rng.choice(_WORDS)}'",
                        f"    {target} += {source}.get('{rng.choice(_WORDS)}', {rng.random():.3f})",
                    ]
                )
            )
        out += [f"    return {rng.choice(_NAMES)}", ""]
    return "\n".join(out[:lines]) + "\n"


def _console() -> Console:
    return Console(
        width=WIDTH,
        color_system="truecolor",
        force_terminal=True,
        legacy_windows=False,
        no_color=False,
        markup=False,
        emoji=False,
        highlight=False,
        file=StringIO(),
    )


def _rich_rows(console: Console, code: str) -> list[list[Segment]]:
    """What the app drew before: the whole block through Rich at every update."""
    code = code.rstrip()
    fits = "\t" not in code and max(map(cell_len, code.split("\n"))) <= WIDTH - 2
    syntax = Syntax(code, code_lexer("python"), theme="monokai", word_wrap=not fits, padding=1)
    options = console.options.update(width=WIDTH, height=None)
    lines = Segment.split_and_crop_lines(console.render(syntax, options), WIDTH, pad=True)
    return list(lines)[-SCREEN:]


def _update_times(lines: int, console: Console, *, rich: bool) -> list[float]:
    code = python_code(lines + 40)
    start = len(python_code(lines))
    block = CodeBlock("python", "monokai", console)
    block.set_code(code[:start])
    block.rows(max(0, block.height(WIDTH) - SCREEN), block.height(WIDTH), WIDTH)
    times: list[float] = []
    end = start
    for _ in range(UPDATES if not rich or lines < 10_000 else 8):
        end += STEP
        began = time.perf_counter()
        if rich:
            _rich_rows(console, code[:end])
        else:
            block.set_code(code[:end])
            height = block.height(WIDTH)
            block.rows(height - SCREEN, height, WIDTH)
        times.append(time.perf_counter() - began)
    return times


def _from_scratch(lines: int, console: Console) -> float:
    code = python_code(lines)
    began = time.perf_counter()
    block = CodeBlock("python", "monokai", console)
    block.set_code(code)
    height = block.height(WIDTH)
    block.rows(height - SCREEN, height, WIDTH)
    return time.perf_counter() - began


def main() -> None:
    console = _console()
    _from_scratch(200, console)  # imports and lexer tables out of the way
    print(f"One update: {STEP} more characters, then the height and the last {SCREEN} rows at width {WIDTH}")
    print(f"{'lines':>8} {'CodeBlock median':>17} {'p95':>9} {'Rich whole block':>17}")
    for lines in (100, 1_500, 10_000):
        ours = sorted(_update_times(lines, console, rich=False))
        theirs = _update_times(lines, console, rich=True)
        p95 = ours[int(len(ours) * 0.95) - 1]
        print(
            f"{lines:>8,} {statistics.median(ours) * 1000:>14.2f} ms {p95 * 1000:>6.2f} ms"
            f" {statistics.median(theirs) * 1000:>14.1f} ms"
        )
    scratch = statistics.median(_from_scratch(10_000, console) for _ in range(3))
    whole = statistics.median(_timed(lambda: _rich_rows(console, python_code(10_000))) for _ in range(3))
    print(
        f"10,000 lines from scratch (height and last screen): CodeBlock {scratch * 1000:.0f} ms, Rich {whole * 1000:.0f} ms"
    )


def _timed(work: object) -> float:
    began = time.perf_counter()
    work()  # type: ignore[operator]  # a zero-argument callable
    return time.perf_counter() - began


if __name__ == "__main__":
    main()
