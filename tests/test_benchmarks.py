"""The benchmarks run at a tiny size, so that they cannot rot: each produces its figures and
its results are right. Speed is never asserted here; `python -m benchmarks` measures it."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
COMMITTED = ROOT / "benchmarks" / "results.md"
pytestmark = pytest.mark.slow

Run = tuple[dict[str, Any], str]


def _committed() -> bytes | None:
    return COMMITTED.read_bytes() if COMMITTED.exists() else None


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """One quick run of every benchmark: the results by item, and the results file."""
    folder = tmp_path_factory.mktemp("benchmarks")
    before = _committed()
    command = [sys.executable, "-m", "benchmarks", "--quick"]
    command += ["--json", str(folder / "results.json"), "--out", str(folder / "results.md")]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-4000:]
    assert _committed() == before, "a quick run must leave the committed results alone"
    results = {item["item"]: item for item in json.loads((folder / "results.json").read_text())}
    return results, (folder / "results.md").read_text()


@pytest.mark.parametrize("item", ["1", "2", "3", "4", "5", "6", "7", "8"])
def test_each_item_gives_figures_from_correct_results(run: Run, item: str) -> None:
    result = run[0][item]
    assert result["figures"]
    for figure in result["figures"]:
        assert math.isfinite(figure["value"]) and figure["text"]
        assert figure["met"] in (True, False, None)
    assert all(result["checks"].values()), result["checks"]


def test_streamed_reply_matches_a_one_shot_render(run: Run) -> None:
    runs = run[0]["3"]["data"]["runs"]
    assert {r["tokens"] for r in runs} == {100, 200, 500, 1000}
    assert all(r["identical"] and r["on_screen"] and r["stored"] for r in runs)


def test_typing_and_history_collect_samples(run: Run) -> None:
    results, _ = run
    assert results["4"]["data"]["streaming"] and results["4"]["data"]["idle"]
    histories = results["5"]["data"]
    assert len(histories) == 4
    scrolled = [h for h in histories.values() if h["pages_up"]]
    assert len(scrolled) == 2 and all(h["reached_top"] and h["back_at_end"] for h in scrolled)


def test_results_file_describes_the_machine_and_no_local_paths(run: Run) -> None:
    _, markdown = run
    assert "## Machine" in markdown and "CPU:" in markdown and "textual" in markdown
    assert "| # | measure | figure |" in markdown
    assert str(ROOT) not in markdown and str(Path.home()) not in markdown
    assert "/tmp" not in markdown
