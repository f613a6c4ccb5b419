"""The benchmarks run at a tiny size, so that they cannot rot: each produces its figures and
its results are right. Speed is never asserted here; `python -m benchmarks` measures it."""

from __future__ import annotations

import asyncio
import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from app.client import OllamaClient
from app.conversation import Turn, TurnState
from app.widgets.conversation_view import ConversationView
from benchmarks import corpus, shape_view
from benchmarks.client_speed import request
from benchmarks.fake_server import ServerProcess

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


@pytest.mark.parametrize("item", ["1", "2", "3", "4", "5", "6", "7", "8", "9"])
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


def test_a_reply_at_a_models_pace_is_measured(run: Run) -> None:
    paced = run[0]["3"]["data"]["paced"]
    assert paced["delay"] > 0 and paced["frames"] > 2  # it streamed: more than a burst's two updates
    assert paced["identical"] and paced["on_screen"] and paced["stored"]


def test_every_shape_streams_in_a_terminal_and_ends_as_drawn_whole(run: Run) -> None:
    data = run[0]["9"]["data"]
    assert [r["shape"] for r in data["headless"]] == list(corpus.SHAPES)
    assert all(r["complete"] and not r["difference"] for r in data["headless"])
    terminal = data["terminal"]
    assert [r["shape"] for r in terminal] == list(corpus.SHAPES)  # the quick run: one rate each
    assert {r["rate"] for r in terminal} == {300.0, 100.0}
    assert all(r["alive"] and r["presses"] and 0 < r["streamed"] <= r["tokens"] for r in terminal)


def test_every_shape_is_a_marked_reply_cut_into_tokens() -> None:
    for shape in corpus.SHAPES:
        for scale in (0.02, 1.0):
            reply = corpus.shape_reply(shape, scale)
            assert "".join(reply.tokens) == reply.text
            assert corpus.MARKER in "".join(reply.tokens[-3:]) and reply.text.count(corpus.MARKER) == 1
            assert corpus.ABSENT not in reply.text
    assert corpus.shape_reply("code").lines > 10_000 and corpus.shape_reply("table").lines > 3_000
    code = corpus.shape_reply("fence").tokens
    assert "(self" in code and "_init" in code  # code goes out in sub-word pieces


def test_a_reply_can_stream_only_its_end() -> None:
    """The server sends all but the window at once, pauses, then paces the window."""
    reply = corpus.shape_reply("bullets", 0.02)
    with ServerProcess() as server:
        sent = server.script_shape("bullets", 0.02, 100.0, 0.3, 0.2)
        received = asyncio.run(_read(server.url))
        timeline = server.timeline()
    assert received == reply.text and sent.tokens == len(reply.tokens) and sent.burst == len(reply.tokens) - 30
    burst, paced = timeline.runs
    assert burst.delay == 0 and burst.lines == sent.burst
    assert paced.delay == 0.01 and paced.lines == 30
    assert paced.first - burst.last >= 0.2 and paced.last - paced.first >= 0.29 - 0.01


def test_a_missed_repaint_fails_the_final_view_check(monkeypatch: pytest.MonkeyPatch) -> None:
    """The final-frame comparison looks at what was drawn: a view that leaves its last change
    (the reply's statistics note) unpainted must not pass."""
    update_turn = ConversationView.update_turn

    def without_final_repaint(view: ConversationView, turn: Turn) -> None:
        if turn.state is TurnState.STREAMING:
            return update_turn(view, turn)
        monkeypatch.setattr(view, "refresh", lambda *args, **options: view)
        monkeypatch.setattr(view, "refresh_lines", lambda *args, **options: view)
        update_turn(view, turn)

    with ServerProcess() as server:
        fine = asyncio.run(shape_view.view_once(server, "prose", 0.02))
        monkeypatch.setattr(ConversationView, "update_turn", without_final_repaint)
        missed = asyncio.run(shape_view.view_once(server, "prose", 0.02))
    assert fine.identical and fine.complete
    assert not missed.identical and "tokens" in missed.difference


async def _read(url: str) -> str:
    async with OllamaClient(url) as client:
        return "".join([chunk.content async for batch in client.chat_batches(request()) for chunk in batch])


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
