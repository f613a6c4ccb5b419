"""Small statistics over repeated measurements."""

from __future__ import annotations

import math
from collections.abc import Sequence


def median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile: `share` 0.99 is p99, the value 99% of samples do not exceed."""
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


def slope(sizes: Sequence[float], costs: Sequence[float]) -> float:
    """The log-log slope between the two largest sizes: 1 means cost grows linearly with size,
    more than 1 that each unit costs more as the size grows (a curve bending upward)."""
    (small, small_cost), (large, large_cost) = sorted(zip(sizes, costs, strict=True))[-2:]
    return math.log(large_cost / small_cost) / math.log(large / small)
