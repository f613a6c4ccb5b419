"""One reply's tool calls, from the question to the result: the part of a chat between a reply
that asks for tools and the request that gives their results back. No UI: a `CallListener`
shows each call, asks the person and keeps the results.

Calls run one after the other, in the order the model gave them. A call that cannot run (an
unknown tool, arguments that break its schema) gets its reason as the result, unasked: the
model may try again. Nothing runs without a yes, unless the policy says so (`auto_approve` in
the config, or "always" earlier in this conversation). Stop is cancellation: the call being
asked or run, and every call after it, still get a result turn, so the history never holds a
call without its answer.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import replace
from enum import StrEnum
from time import monotonic
from typing import Protocol

from app.conversation import Turn
from app.protocol import ToolCall
from app.tools import display
from app.tools.calls import ToolInfo, ToolResult, denied, failed
from app.tools.policy import ToolPolicy
from app.tools.servers import ToolServers

STOPPED_WHILE_ASKED = "The person stopped before answering; the call did not run."
STOPPED_WHILE_RUNNING = "the person stopped the call before it finished"


class Answer(StrEnum):
    ONCE = "once"
    ALWAYS = "always"  # this tool, for the rest of the conversation
    DENY = "deny"


class CallListener(Protocol):
    @property
    def policy(self) -> ToolPolicy:
        """The conversation's tool settings, read afresh for each call."""

    def set_policy(self, policy: ToolPolicy) -> None:
        """The person said "always": keep (and save) the new settings."""

    def call_shown(self, turn: Turn) -> None:
        """A call's turn appears, asked about, running or already answered."""

    def call_changed(self, turn: Turn) -> None:
        """Its state changed: from asking to running."""

    def call_done(self, turn: Turn) -> None:
        """Its result is in the turn: show it and save it."""

    async def ask(self, call: ToolCall, tool: ToolInfo) -> Answer:
        """Whether the person lets `call` run."""


def rounds_so_far(turns: Sequence[Turn]) -> int:
    """Replies that asked for tools since the person's last message."""
    count = 0
    for turn in reversed(turns):
        if turn.role == "user":
            break
        if turn.role == "assistant" and turn.tool_calls:
            count += 1
    return count


def fill(turn: Turn, result: ToolResult) -> None:
    """Put a call's result into its turn (shown already, so it changes in place)."""
    turn.content, turn.error, turn.tool_status, turn.duration = (
        result.text,
        result.problem,
        result.status,
        result.duration,
    )
    turn.activity = ""


def refuse_all(calls: Sequence[ToolCall], problem: str) -> list[Turn]:
    """Result turns for calls that will not run (the round limit): the model is told why."""
    turns = []
    for call in calls:
        turn = _placeholder(call)
        fill(turn, failed(call, problem))
        turns.append(turn)
    return turns


async def run_calls(calls: Sequence[ToolCall], servers: ToolServers, listener: CallListener) -> None:
    """Ask about and run `calls` in order; each ends as a result turn given to `listener`."""
    pending = list(calls)
    turn: Turn | None = None
    started: float | None = None
    try:
        while pending:
            call = pending[0]
            turn, started = _placeholder(call), None
            policy = listener.policy
            tool, problem = servers.check(call, policy)
            if tool is None or problem:
                fill(turn, failed(call, problem))
                _done(listener, turn, shown=False)
            else:
                asked = policy.needs_approval(tool)
                if asked:
                    turn.activity = display.ASKING
                    listener.call_shown(turn)
                    answer = await listener.ask(call, tool)
                    if answer is Answer.DENY:
                        fill(turn, denied(call))
                        _done(listener, turn, shown=True)
                        pending.pop(0)
                        continue
                    if answer is Answer.ALWAYS:
                        listener.set_policy(listener.policy.approve_always(tool))
                turn.activity = display.RUNNING
                (listener.call_changed if asked else listener.call_shown)(turn)
                started = monotonic()
                result = await servers.call(tool, call)
                fill(turn, result)
                _done(listener, turn, shown=True)
            pending.pop(0)
    except asyncio.CancelledError:
        _stop(listener, pending, turn, started)
        raise


def _stop(listener: CallListener, pending: list[ToolCall], turn: Turn | None, started: float | None) -> None:
    """Stop: the call in hand (shown: asked about or running) ends as stopped, and those after
    it as not run."""
    for index, call in enumerate(pending):
        in_hand = index == 0 and turn is not None
        current = turn if in_hand and turn is not None else _placeholder(call)
        if in_hand and started is not None:
            ran = failed(call, STOPPED_WHILE_RUNNING, monotonic() - started)
            fill(current, replace(ran, problem=display.STOPPED))
        else:
            fill(current, replace(denied(call), text=STOPPED_WHILE_ASKED, problem=display.STOPPED))
        _done(listener, current, shown=in_hand)


def _done(listener: CallListener, turn: Turn, *, shown: bool) -> None:
    if not shown:
        listener.call_shown(turn)
    listener.call_done(turn)


def _placeholder(call: ToolCall) -> Turn:
    return Turn("tool", "", tool_name=call.name, tool_call_id=call.id, created_at=time.time())
