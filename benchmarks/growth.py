"""Item 8: does cost grow in proportion to size? Items 3 and 5 at four sizes each.

The figure is the log-log slope between the two largest sizes: 1.0 is linear (twice the size,
twice the time), below 1 fixed costs still weigh, above 1 each unit costs more as the size
grows: a curve bending upward, which would be a bug. Noise moves a slope by about 0.1, so the
target allows up to 1.15. The tables give the slope of every step.
"""

from __future__ import annotations

from collections.abc import Sequence

from benchmarks.app_stream import StreamRun
from benchmarks.long_history import HistoryRun
from benchmarks.report import Figure, ItemResult, markdown_table, prose
from benchmarks.stats import median, slope

LINEAR = 1.15


def _figure(measure: str, sizes: Sequence[int], costs: Sequence[float]) -> Figure:
    value = slope(sizes, costs)
    return Figure(
        "8",
        f"{measure}, {sizes[-2]:,} -> {sizes[-1]:,}",
        value,
        f"slope {value:.2f}",
        "1.00 = linear",
        None,
        f"<= {LINEAR}",
        value <= LINEAR,
    )


def _steps(sizes: Sequence[int], costs: Sequence[float]) -> list[str]:
    return [""] + [f"{slope(sizes[i - 1 : i + 1], costs[i - 1 : i + 1]):.2f}" for i in range(1, len(sizes))]


def result(streams: list[StreamRun], histories: dict[int, HistoryRun]) -> ItemResult:
    by_tokens: dict[int, list[float]] = {}
    for run in streams:
        by_tokens.setdefault(run.tokens, []).append(run.seconds)
    tokens = sorted(by_tokens)
    seconds = [median(by_tokens[size]) for size in tokens]
    messages = sorted(histories)
    opening = [histories[size].open_seconds for size in messages]
    # What opening added to the process's peak memory (at least 0.1 MB, for the log).
    memory = [max(0.1, histories[size].rss_peak_open_mb - histories[size].rss_before_mb) for size in messages]
    stream_rows = [
        [f"{size:,} tokens", f"{cost * 1000:.0f} ms", f"{cost / size * 1e6:.1f} µs", step]
        for size, cost, step in zip(tokens, seconds, _steps(tokens, seconds), strict=True)
    ]
    history_rows = [
        [f"{size:,} messages", f"{cost * 1000:.0f} ms", step, f"{added:.1f} MB", memory_step]
        for size, cost, step, added, memory_step in zip(
            messages, opening, _steps(messages, opening), memory, _steps(messages, memory), strict=True
        )
    ]
    return ItemResult(
        "8",
        "Growth",
        figures=[
            _figure("item 3 time, tokens", tokens, seconds),
            _figure("item 5 open time, messages", messages, opening),
            _figure("item 5 memory added by opening, messages", messages, memory),
        ],
        notes=[
            *prose(__doc__),
            "\n".join(
                markdown_table(stream_rows, ["reply", "Enter to shown and saved (median)", "per token", "slope"])
            ),
            "\n".join(
                markdown_table(
                    history_rows,
                    ["conversation", "open to last screen", "slope", "RSS added by opening", "slope"],
                )
            ),
        ],
        data={
            "stream_seconds": dict(zip(map(str, tokens), seconds, strict=True)),
            "open_seconds": dict(zip(map(str, messages), opening, strict=True)),
            "open_memory_mb": dict(zip(map(str, messages), memory, strict=True)),
        },
    )
