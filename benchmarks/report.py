"""What a benchmark found, and the results file and console table made from it."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.machine import describe


@dataclass(frozen=True, slots=True)
class Figure:
    """One row of the results table."""

    item: str  # the item number, e.g. "3" or "8"
    measure: str
    value: float
    text: str  # the value as shown, with its unit
    baseline: str = ""  # the same-run baseline, as shown
    ratio: float | None = None
    target: str = ""
    met: bool | None = None  # None: no target


@dataclass(slots=True)
class ItemResult:
    """A benchmark's figures, the checks that its output was right, and notes for the file."""

    item: str
    title: str
    figures: list[Figure] = field(default_factory=list)
    checks: dict[str, bool] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # Markdown paragraphs and tables
    data: dict[str, Any] = field(default_factory=dict)  # raw numbers, for --json

    @property
    def correct(self) -> bool:
        return all(self.checks.values())


def prose(doc: str | None) -> list[str]:
    """A module docstring's paragraphs after its title line, each on one line: the method, for
    the results file, written once beside the code it describes."""
    paragraphs = (doc or "").strip().split("\n\n")[1:]
    return [" ".join(line.strip() for line in paragraph.splitlines()) for paragraph in paragraphs]


def _cell(figure: Figure) -> list[str]:
    ratio = "" if figure.ratio is None else f"{figure.ratio:.2f}"
    met = "" if figure.met is None else ("yes" if figure.met else "**no**")
    return [figure.item, figure.measure, figure.text, figure.baseline, ratio, figure.target, met]


HEADER = ["#", "measure", "figure", "baseline (same run)", "ratio", "target", "met?"]


def markdown_table(rows: list[list[str]], header: list[str]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return lines


def console_table(results: list[ItemResult]) -> str:
    rows = [HEADER] + [_cell(f) for r in results for f in r.figures]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADER))]
    return "\n".join(
        "  ".join(cell.replace("**", "").ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


def write_markdown(
    path: Path, results: list[ItemResult], command: str, seconds: float, load: tuple[float, float]
) -> None:
    lines = [
        "# Benchmark results",
        "",
        f"Made by `{command}` on {time.strftime('%Y-%m-%d')}; the whole run took "
        f"{seconds / 60:.1f} minutes. Every ratio is against a baseline measured in the same run "
        "on the same machine. Re-run it to check on yours.",
        "",
        "## Machine",
        "",
        *(f"- {line}" for line in describe()),
        f"- Load average (1 minute) when the run started: {load[0]:.2f}, when it ended: "
        f"{load[1]:.2f}. Other work on the machine slows the figures down; on a 2-core machine "
        "the benchmarks themselves keep up to two processes busy (app and server).",
        "",
        "## Summary",
        "",
        *markdown_table([_cell(f) for r in results for f in r.figures], HEADER),
        "",
        "Checks of correctness (a benchmark that produced a wrong result fails the run): "
        + ", ".join(
            f"{name}: {'ok' if passed else 'FAILED'}" for result in results for name, passed in result.checks.items()
        )
        + ".",
        "",
    ]
    for result in results:
        lines += [f"## {result.item}. {result.title}", ""]
        for note in result.notes:
            lines += [note, ""]
    path.write_text("\n".join(lines))


def write_json(path: Path, results: list[ItemResult]) -> None:
    path.write_text(
        json.dumps(
            [
                {
                    "item": r.item,
                    "title": r.title,
                    "figures": [asdict(f) for f in r.figures],
                    "checks": r.checks,
                    "data": r.data,
                }
                for r in results
            ],
            indent=2,
        )
    )
