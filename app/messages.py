"""Textual messages shared across widgets and workers. Small dataclasses, no behaviour."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from app.conversation import Turn
from app.model_catalog import ServerState
from app.streaming import ReplyOutcome


@dataclass
class ServerStatus(Message):
    """The server watcher's latest word on one server."""

    state: ServerState


@dataclass
class ReplyChunk(Message):
    """Text that arrived for a streaming reply since the last flush."""

    turn: Turn
    content: str
    thinking: str = ""


@dataclass
class ReplyWaiting(Message):
    """A streaming reply has had no new text for a while: say so, so a stall is visible."""

    turn: Turn
    activity: str


@dataclass
class ReplyEnded(Message):
    """A reply is over: finished, stopped, interrupted or failed, as `outcome` says."""

    turn: Turn
    outcome: ReplyOutcome
