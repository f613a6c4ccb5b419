"""Item 9: every shape of reply in step, however long it already is.

Each shape of `corpus.SHAPES` is measured twice: streamed at a model's pace to the real app in
a terminal (`shape_terminal.py`), and at full speed headless, where the frame it ends on is
compared with the reply drawn whole (`shape_view.py`). The targets hold for every shape: app
CPU for streaming (nothing typed) at most 25 % of a core at 300 tokens/s and 10 % at 100
tokens/s, the end of the reply on
screen at most 0.5 s after the server sent it, key echo p99 under 50 ms while it streams. The
summary gives the worst shape for each; the tables below give every shape. A final view that
differs from the reply drawn whole is a wrong result and fails the run; speed never does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from benchmarks.corpus import SHAPES, shape_reply
from benchmarks.fake_server import ServerProcess
from benchmarks.report import Figure, ItemResult, markdown_table, prose
from benchmarks.shape_terminal import END_LIMIT, PRESS_LIMIT, TerminalRun
from benchmarks.shape_terminal import Plan as TerminalPlan
from benchmarks.shape_terminal import __doc__ as terminal_doc
from benchmarks.shape_terminal import run_all as terminal_runs
from benchmarks.shape_view import ViewRun
from benchmarks.shape_view import __doc__ as view_doc
from benchmarks.shape_view import run_all as view_runs
from benchmarks.stats import percentile

CPU_TARGETS = {300.0: 0.25, 100.0: 0.10}  # share of a core, by tokens/s
END_TARGET = 0.5  # seconds
ECHO_TARGET = 0.050  # seconds, p99
BASELINE = "prose"  # the shape the others are set against


@dataclass(frozen=True, slots=True)
class Plan:
    terminal: TerminalPlan = field(default_factory=TerminalPlan)
    headless_scale: float = 1.0


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 10 else f"{seconds:.1f} s"


def _end(run: TerminalRun) -> float:
    return END_LIMIT if run.end is None else run.end


def _end_text(run: TerminalRun) -> str:
    return f"not within {END_LIMIT:.0f} s" if run.end is None else f"{run.end:.2f} s"


def _p99(run: TerminalRun) -> float:
    return percentile(run.presses, 0.99) if run.presses else float("inf")


def _misses(run: TerminalRun) -> list[str]:
    missed = []
    if run.cpu > CPU_TARGETS.get(run.rate, 0.0):
        missed.append("CPU")
    if _end(run) > END_TARGET:
        missed.append("end")
    if _p99(run) >= ECHO_TARGET:
        missed.append("echo")
    return missed


def describe(run: TerminalRun) -> str:
    """One line for the log: a run's figures and the targets missed."""
    presses = run.presses
    echo = f"echo p50 {_ms(percentile(presses, 0.5))} p99 {_ms(_p99(run))}" if presses else "no presses"
    missed = _misses(run)
    verdict = "targets met" if not missed else "not met: " + ", ".join(missed)
    return (
        f"9: {run.shape} at {run.rate:.0f} tok/s: CPU {run.cpu:.0%} of a core ({run.cpu_typing:.0%} typing too), "
        f"end {_end_text(run)}, {echo} ({verdict})"
    )


def _terminal_figures(runs: list[TerminalRun]) -> list[Figure]:
    figures = []
    for rate in sorted({run.rate for run in runs}, reverse=True):
        at = [run for run in runs if run.rate == rate]
        cpu_target = CPU_TARGETS.get(rate, 0.10)
        worst = max(at, key=lambda run: run.cpu)
        base = next((run for run in at if run.shape == BASELINE), None)
        figures.append(
            Figure(
                "9",
                f"app CPU streaming {rate:.0f} tok/s, worst shape ({worst.shape})",
                worst.cpu,
                f"{worst.cpu:.0%} of a core",
                f"{base.cpu:.0%} {BASELINE}" if base else "",
                worst.cpu / base.cpu if base and base.cpu else None,
                f"<= {cpu_target:.0%}, every shape",
                worst.cpu <= cpu_target,
            )
        )
        typed = max(at, key=lambda run: run.cpu_typing)
        figures.append(
            Figure(
                "9",
                f"app CPU streaming {rate:.0f} tok/s while keys are typed, worst shape ({typed.shape})",
                typed.cpu_typing,
                f"{typed.cpu_typing:.0%} of a core",
                f"{base.cpu_typing:.0%} {BASELINE}" if base else "",
                typed.cpu_typing / base.cpu_typing if base and base.cpu_typing else None,
                "",
                None,
            )
        )
        worst = max(at, key=_end)
        figures.append(
            Figure(
                "9",
                f"end on screen after the server, {rate:.0f} tok/s, worst shape ({worst.shape})",
                _end(worst),
                _end_text(worst),
                f"{_end_text(base)} {BASELINE}" if base else "",
                _end(worst) / _end(base) if base and _end(base) > 0 else None,
                f"<= {END_TARGET} s, every shape",
                _end(worst) <= END_TARGET,
            )
        )
        worst = max(at, key=_p99)
        value = _p99(worst)
        figures.append(
            Figure(
                "9",
                f"key echo streaming {rate:.0f} tok/s, p99, worst shape ({worst.shape})",
                value if value != float("inf") else END_LIMIT,
                f"{_ms(value)} (p50 {_ms(percentile(worst.presses, 0.5))})" if worst.presses else "no presses",
                f"{_ms(_p99(base))} {BASELINE}" if base and base.presses else "",
                value / _p99(base) if base and base.presses and value != float("inf") else None,
                f"< {ECHO_TARGET * 1000:.0f} ms, every shape",
                value < ECHO_TARGET,
            )
        )
    return figures


def _terminal_table(runs: list[TerminalRun]) -> str:
    rows = [
        [
            run.shape,
            f"{run.rate:.0f}",
            f"{run.tokens:,}",
            f"{run.streamed:,} in {run.window:.1f} s",
            f"{run.cpu:.1%}",
            f"{run.cpu_typing:.1%}",
            _end_text(run),
            _ms(percentile(run.presses, 0.5)) if run.presses else "",
            _ms(_p99(run)) if run.presses else "",
            f"{len(run.presses)}" + (f" ({run.lost} not shown in {PRESS_LIMIT:.0f} s)" if run.lost else ""),
            "yes" if not _misses(run) else "**no**: " + ", ".join(_misses(run)),
        ]
        for run in runs
    ]
    header = ["shape", "tok/s", "tokens", "streamed", "app CPU", "typing too", "end", "echo p50", "echo p99"]
    header += ["presses", "met?"]
    return "\n".join(markdown_table(rows, header))


def _view_table(runs: list[ViewRun]) -> str:
    rows = [
        [
            run.shape,
            f"{run.tokens:,}",
            f"{run.chars:,}",
            _ms(run.last_token),
            _ms(run.finished),
            _ms(run.cpu),
            "identical" if run.identical else f"**differs**: {run.difference}",
        ]
        for run in runs
    ]
    header = ["shape", "tokens", "characters", "Enter to last token", "to final state", "CPU", "final view"]
    return "\n".join(markdown_table(rows, header))


def measure(server: ServerProcess, plan: Plan, log: Callable[[str], None]) -> ItemResult:
    shapes = list(SHAPES)
    terminal = terminal_runs(server, shapes, plan.terminal, lambda run: log(describe(run)))
    log("9: every shape at full speed, headless")
    views = view_runs(server, shapes, plan.headless_scale)
    slowest = max(views, key=lambda run: run.last_token)
    base = next(run for run in views if run.shape == BASELINE)
    replies = [shape_reply(name, plan.terminal.scale) for name in shapes]
    sizes = "; ".join(
        f"{reply.shape}, {SHAPES[reply.shape]} ({reply.lines:,} lines, {len(reply.text):,} characters, "
        f"{len(reply.tokens):,} tokens)"
        for reply in replies
    )
    return ItemResult(
        "9",
        "Every shape of reply in step",
        figures=[
            *_terminal_figures(terminal),
            Figure(
                "9",
                f"Enter to last token on screen, headless, full speed, slowest shape ({slowest.shape})",
                slowest.last_token,
                _ms(slowest.last_token),
                f"{_ms(base.last_token)} {BASELINE}",
                slowest.last_token / base.last_token,
            ),
        ],
        checks={
            "every shape's final frame identical to the reply drawn whole": all(run.identical for run in views),
            "every shape's reply complete and saved": all(run.complete for run in views),
            "the app kept running through every shape": all(run.alive for run in terminal),
            "key presses timed while every shape streamed": all(run.presses for run in terminal),
        },
        notes=[
            *prose(__doc__),
            f"The shapes, as streamed in the terminal: {sizes}. Each streamed its last "
            f"{plan.terminal.window:g} s at the rate after a pause of {plan.terminal.pause:g} s. "
            f"Headless, the corpus was at scale {plan.headless_scale:g}.",
            *prose(terminal_doc),
            _terminal_table(terminal),
            *prose(view_doc),
            _view_table(views),
        ],
        data={"terminal": [asdict(run) for run in terminal], "headless": [asdict(run) for run in views]},
    )
