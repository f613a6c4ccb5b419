"""One reply streaming without a screen: the real client against the fake server, reporting to a
listener that records what it is told and when."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import pytest
from ollama_server import RUNNER_STOPPED, ChatScript, FakeOllama, tool_call

from app.client import OllamaClient, StreamInterrupted
from app.config import FLUSH_SECONDS
from app.conversation import Turn, TurnState
from app.protocol import ChatMessage, ChatRequest, ChatStats
from app.streaming import ReplyOutcome, finish, stream_reply

QUESTION = ChatRequest("llama3.2:latest", (ChatMessage("user", "Tell me more."),))


@dataclass
class Recorder:
    """A `ReplyListener` that keeps every report, in order, with the time of each text."""

    texts: list[tuple[str, str]] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    outcomes: list[ReplyOutcome] = field(default_factory=list)
    order: list[str] = field(default_factory=list)  # "text", "note", "end"

    def reply_text(self, content: str, thinking: str) -> None:
        self.texts.append((content, thinking))
        self.times.append(time.monotonic())
        self.order.append("text")

    def reply_waiting(self, note: str) -> None:
        self.notes.append(note)
        self.order.append("note")

    def reply_ended(self, outcome: ReplyOutcome) -> None:
        self.outcomes.append(outcome)
        self.order.append("end")

    def content(self) -> str:
        return "".join(content for content, _ in self.texts)

    def outcome(self) -> ReplyOutcome:
        """How it ended: the end is the last report, and the only one."""
        assert self.order.count("end") == 1 and self.order[-1] == "end", self.order
        return self.outcomes[0]


@pytest.fixture
async def client(ollama: FakeOllama) -> AsyncIterator[OllamaClient]:
    opened = OllamaClient(ollama.url)
    yield opened
    await opened.aclose()


async def until(condition: Callable[[], object], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met"
        await asyncio.sleep(0.01)


async def test_text_comes_in_batches_at_most_one_per_flush_interval(ollama: FakeOllama, client: OllamaClient) -> None:
    tokens = [f" word{number}" for number in range(60)]
    ollama.enqueue(ChatScript(thinking=["First", " a thought."], tokens=tokens, delay=0.01))
    recorder = Recorder()
    await stream_reply(client, QUESTION, recorder)
    assert recorder.content() == "".join(tokens)
    assert "".join(thinking for _, thinking in recorder.texts) == "First a thought."
    outcome = recorder.outcome()
    assert outcome.stats is not None and outcome.stats.eval_count
    assert not (outcome.error or outcome.stopped)
    # Every report but the last (what was left at the end) came a whole interval after the one before.
    reports = recorder.times[:-1]
    assert len(reports) >= 2
    assert all(later - earlier >= FLUSH_SECONDS - 0.001 for earlier, later in itertools.pairwise(reports))
    assert len(recorder.texts) < len(tokens)


async def test_the_first_text_is_not_held_back_and_stop_keeps_it(ollama: FakeOllama, client: OllamaClient) -> None:
    ollama.enqueue(ChatScript(tokens=["Hello", " there", " again"], stall_after=1))
    recorder = Recorder()
    task = asyncio.create_task(stream_reply(client, QUESTION, recorder, flush_seconds=60.0))
    await until(lambda: recorder.texts)  # long before the minute between reports is up
    assert recorder.texts == [("Hello", "")]
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert recorder.outcome() == ReplyOutcome(stopped=True)
    assert recorder.texts == [("Hello", "")]
    await until(lambda: ollama.disconnects == 1)  # the stream was closed: the server stopped writing


async def test_stop_mid_reply_reports_what_arrived_then_the_stop(ollama: FakeOllama, client: OllamaClient) -> None:
    tokens = [f" t{number}" for number in range(400)]
    ollama.enqueue(ChatScript(tokens=tokens, delay=0.01))
    recorder = Recorder()
    task = asyncio.create_task(stream_reply(client, QUESTION, recorder))
    await until(lambda: " t5" in recorder.content())
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert recorder.outcome() == ReplyOutcome(stopped=True)
    content = recorder.content()
    assert "".join(tokens).startswith(content) and len(content) < len("".join(tokens))
    await until(lambda: ollama.disconnects == 1)


async def test_an_error_line_ends_the_reply_with_the_servers_words(ollama: FakeOllama, client: OllamaClient) -> None:
    ollama.enqueue(ChatScript(tokens=["One", " two", " three", " four"], error_after=3))
    recorder = Recorder()
    await stream_reply(client, QUESTION, recorder)
    assert recorder.content() == "One two three"
    outcome = recorder.outcome()
    assert not (outcome.stopped or outcome.unreachable)
    assert outcome.error.startswith("Ollama failed mid-reply") and RUNNER_STOPPED in outcome.error


async def test_a_cut_connection_keeps_the_text_and_says_so(ollama: FakeOllama, client: OllamaClient) -> None:
    ollama.enqueue(ChatScript(tokens=["Half", " an", " answer", " and", " more"], cut_after=3))
    recorder = Recorder()
    await stream_reply(client, QUESTION, recorder)
    assert recorder.content() == "Half an answer"
    assert recorder.outcome() == ReplyOutcome(error=str(StreamInterrupted()))


async def test_a_server_that_is_down_is_reported_as_unreachable(ollama: FakeOllama, client: OllamaClient) -> None:
    ollama.stop()
    recorder = Recorder()
    await stream_reply(client, QUESTION, recorder)
    outcome = recorder.outcome()
    assert outcome.unreachable and "Cannot reach Ollama" in outcome.error
    assert recorder.texts == []


async def test_silence_is_noted_once_a_second(ollama: FakeOllama, client: OllamaClient) -> None:
    ollama.enqueue(ChatScript(tokens=["Thinking", " it", " over"], stall_after=1))
    recorder = Recorder()
    task = asyncio.create_task(stream_reply(client, QUESTION, recorder))
    await until(lambda: len(recorder.notes) == 2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert recorder.notes == ["no new text for 3 s… (Esc stops)", "no new text for 4 s… (Esc stops)"]
    assert recorder.content() == "Thinking"
    assert recorder.outcome() == ReplyOutcome(stopped=True)


async def test_a_stop_while_saving_ends_the_reply_before_any_request(ollama: FakeOllama, client: OllamaClient) -> None:
    saving = asyncio.Event()

    async def save_forever() -> None:
        saving.set()
        await asyncio.Event().wait()  # a disk that never answers

    recorder = Recorder()
    task = asyncio.create_task(stream_reply(client, QUESTION, recorder, before=save_forever))
    await saving.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert recorder.order == ["end"] and recorder.outcome() == ReplyOutcome(stopped=True)
    assert ollama.bodies("/api/chat") == []


def test_how_a_reply_ended_becomes_its_state() -> None:
    def ended(content: str, outcome: ReplyOutcome) -> Turn:
        turn = Turn("assistant", content, state=TurnState.STREAMING)
        finish(turn, outcome)
        return turn

    done = ended("All of it.", ReplyOutcome(stats=ChatStats(done_reason="stop", eval_count=3)))
    assert (done.state, done.error, done.stats) == (TurnState.COMPLETE, "", ChatStats(done_reason="stop", eval_count=3))
    cut = ended("Part", ReplyOutcome(stats=ChatStats(done_reason="length")))
    assert cut.state == TurnState.COMPLETE and "cut off" in cut.error
    assert (ended("Part", ReplyOutcome(stopped=True)).state, ended("", ReplyOutcome(stopped=True)).error) == (
        TurnState.STOPPED,
        "Stopped.",
    )
    assert ended("Part", ReplyOutcome(error="It broke.")).state == TurnState.INTERRUPTED
    failed = ended("", ReplyOutcome(error="It broke."))
    assert (failed.state, failed.error) == (TurnState.ERROR, "It broke.")


@pytest.mark.parametrize("apart", [False, True])
async def test_tool_calls_are_reported_with_the_end_and_kept_on_the_reply(
    ollama: FakeOllama, client: OllamaClient, apart: bool
) -> None:
    calls = (tool_call("files__read", {"path": "a.md"}), tool_call("files__list", {}, index=1))
    ollama.enqueue(ChatScript(tokens=["Let me look."], tool_calls=calls, tool_calls_apart=apart))
    recorder = Recorder()
    await stream_reply(client, QUESTION, recorder)
    outcome = recorder.outcome()
    assert [(call.name, call.arguments, call.index) for call in outcome.tool_calls] == [
        ("files__read", {"path": "a.md"}, 0),
        ("files__list", {}, 1),
    ]
    turn = Turn("assistant", recorder.content(), state=TurnState.STREAMING)
    finish(turn, outcome)
    assert turn.state is TurnState.COMPLETE and turn.tool_calls == outcome.tool_calls


async def test_a_reply_without_calls_ends_with_none(ollama: FakeOllama, client: OllamaClient) -> None:
    ollama.enqueue(ChatScript(tokens=["Just words."]))
    recorder = Recorder()
    await stream_reply(client, QUESTION, recorder)
    assert recorder.outcome().tool_calls == ()
