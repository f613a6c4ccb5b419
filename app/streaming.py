"""A reply as it streams: its text in batches for the view, notes while the model is silent, and
how it ended. No widgets: it reports to a `ReplyListener` (the chat screen turns the reports
into messages; tests record them).

- Text is reported at most once per `flush_seconds` however fast it arrives (each report
  repaints the view), the first text at once, and none waits longer than that: a timer reports
  what a stream that went quiet left.
- After IDLE_NOTE_SECONDS without new text a note says so, updated each second, so a stall is
  visible.
- Stop is cancellation: what already arrived is reported, then that the reply was stopped,
  and leaving the stream closes it so the server stops generating.
- Tool calls come whole (one line may hold several); they are reported with the end.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from time import monotonic
from typing import Protocol

from app.client import OllamaError, OllamaUnreachable
from app.config import FLUSH_SECONDS, IDLE_NOTE_SECONDS
from app.conversation import Turn, TurnState
from app.protocol import ChatRequest, ChatStats, ToolCall
from app.servers.base import ModelServer


@dataclass(frozen=True, slots=True)
class ReplyOutcome:
    """How a reply ended: finished (`stats` set), stopped, or failed (`error` set)."""

    stats: ChatStats | None = None
    error: str = ""
    stopped: bool = False
    unreachable: bool = False  # the failure was that the server could not be reached
    tool_calls: tuple[ToolCall, ...] = ()  # the calls the model asked for, in order


class ReplyListener(Protocol):
    def reply_text(self, content: str, thinking: str) -> None:
        """Text that arrived since the last report (raw: sanitize it before drawing)."""

    def reply_waiting(self, note: str) -> None:
        """No new text for a while: `note` says how long ("no new text for 4 s… (Esc stops)")."""

    def reply_ended(self, outcome: ReplyOutcome) -> None:
        """The last report, whatever happened (a Stop included)."""


async def stream_reply(
    client: ModelServer,
    request: ChatRequest,
    listener: ReplyListener,
    *,
    before: Callable[[], Awaitable[None]] | None = None,
    flush_seconds: float = FLUSH_SECONDS,
) -> None:
    """Stream the reply to `request`, reporting to `listener`.

    `before` runs first (saving the person's message): a Stop during it still ends the reply.
    Cancelling the task is Stop; the CancelledError goes on once the end is reported.
    """
    batcher = _Batcher(listener, flush_seconds)
    notes = asyncio.create_task(batcher.note_silence())
    outcome = ReplyOutcome(stopped=True)
    calls: list[ToolCall] = []
    try:
        if before is not None:
            await before()
        async for batch in client.chat_batches(request):
            for chunk in batch:
                batcher.add(chunk.content, chunk.thinking)
                if chunk.tool_calls:
                    calls.extend(chunk.tool_calls)
                if chunk.done:
                    outcome = ReplyOutcome(stats=chunk.stats)
            batcher.arrived()
    except OllamaError as error:
        outcome = ReplyOutcome(error=str(error), unreachable=isinstance(error, OllamaUnreachable))
    finally:  # on Stop (cancellation) too: keep what arrived, then say how it ended
        notes.cancel()
        batcher.flush()
        listener.reply_ended(replace(outcome, tool_calls=tuple(calls)) if calls else outcome)


def finish(turn: Turn, outcome: ReplyOutcome) -> None:
    """Give a reply its final state, error, statistics and tool calls from how it ended."""
    turn.activity = ""
    # Only a whole reply asks for tools: one that was stopped or broke off runs nothing, and its
    # history then holds no call without an answer.
    turn.tool_calls = outcome.tool_calls if not (outcome.error or outcome.stopped) else ()
    if outcome.error:
        turn.state = TurnState.INTERRUPTED if turn.content else TurnState.ERROR
        turn.error = outcome.error
    elif outcome.stopped:
        turn.state, turn.error = TurnState.STOPPED, "Stopped."
    else:
        turn.state, turn.stats = TurnState.COMPLETE, outcome.stats
        if outcome.stats and outcome.stats.done_reason == "length":
            turn.error = "The reply was cut off: it reached num_predict or the context window."


class _Batcher:
    def __init__(self, listener: ReplyListener, flush_seconds: float) -> None:
        self._listener = listener
        self._flush_seconds = flush_seconds
        self._content: list[str] = []
        self._thinking: list[str] = []
        self._reported = False  # any text reported yet
        self._last_report = 0.0
        self._last_arrival = monotonic()  # of text; the start until the first arrives
        self._shown_silence = 0  # whole seconds the last note said
        self._due: asyncio.TimerHandle | None = None

    def add(self, content: str, thinking: str) -> None:
        if content:
            self._content.append(content)
        if thinking:
            self._thinking.append(thinking)

    def arrived(self) -> None:
        """After each network read: report now if the last report is old enough, else soon."""
        if not (self._content or self._thinking):
            return
        now = monotonic()
        self._last_arrival, self._shown_silence = now, 0
        wait = self._last_report + self._flush_seconds - now
        if not self._reported or wait <= 0:
            self.flush()
        elif self._due is None:
            self._due = asyncio.get_running_loop().call_later(wait, self.flush)

    def flush(self) -> None:
        if self._due is not None:
            self._due.cancel()
            self._due = None
        if self._content or self._thinking:
            self._listener.reply_text("".join(self._content), "".join(self._thinking))
            self._content.clear()
            self._thinking.clear()
            self._reported, self._last_report = True, monotonic()

    async def note_silence(self) -> None:
        """Wakes when the next note is due: once IDLE_NOTE_SECONDS have passed without text,
        then each second; text arriving meanwhile moves the moment on."""
        while True:
            due = self._last_arrival + max(IDLE_NOTE_SECONDS, self._shown_silence + 1)
            await asyncio.sleep(max(0.0, due - monotonic()))
            silence = int(monotonic() - self._last_arrival)
            if silence >= IDLE_NOTE_SECONDS and silence != self._shown_silence:
                self._shown_silence = silence
                waiting = "no new text for" if self._reported else "waiting for the model"
                self._listener.reply_waiting(f"{waiting} {silence} s… (Esc stops)")
