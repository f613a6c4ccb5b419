"""How full the context window is, from the last reply's token counts: `ctx 3.1k/8k 38%`.

Ollama drops the oldest messages without a word once the window is full, so the meter turns
to a warning colour well before that, and to an error colour when it is about to happen; then
it also says what to do (`— /clear or num_ctx`), and its tooltip (and /show) says why. It sits
in the status line, so the warning covers nothing being typed.
"""

from __future__ import annotations

from typing import Literal

from textual.content import Content
from textual.widgets import Static

from app.protocol import ChatStats

WARNING_AT = 0.80
ERROR_AT = 0.95
NEAR_FULL_HINT = " — /clear or num_ctx"  # after the figures, from WARNING_AT on

Level = Literal["normal", "warning", "error"]


def context_used(stats: ChatStats | None) -> int | None:
    """Tokens in the window after a reply: the prompt as evaluated plus the reply.

    Some servers leave a cached prompt prefix out of `prompt_eval_count`, so this is a lower
    bound; None when the reply carried no counts.
    """
    if stats is None or (stats.prompt_eval_count is None and stats.eval_count is None):
        return None
    return (stats.prompt_eval_count or 0) + (stats.eval_count or 0)


def context_limit(num_ctx: int | None, loaded: int | None, trained: int | None) -> int | None:
    """The window in use: the conversation's num_ctx, else the loaded model's window from
    `/api/ps`, else the trained maximum from `/api/show` (which overstates the default window)."""
    for limit in (num_ctx, loaded, trained):
        if limit is not None and limit > 0:
            return limit
    return None


def context_fraction(used: int, limit: int) -> float:
    """How full the window is; above 1 when the counts exceed it (the server shifted)."""
    return used / limit if limit > 0 else 0.0


def context_level(fraction: float) -> Level:
    if fraction >= ERROR_AT:
        return "error"
    if fraction >= WARNING_AT:
        return "warning"
    return "normal"


def short_count(tokens: int) -> str:
    """Token counts in binary thousands, as context sizes are quoted: 8192 -> 8k, 3174 -> 3.1k."""
    if tokens < 1000:
        return str(tokens)
    thousands = tokens / 1024
    if thousands < 10:
        return f"{thousands:.1f}".removesuffix(".0") + "k"
    return f"{round(thousands)}k"


def meter_text(used: int, limit: int) -> str:
    percent = round(context_fraction(used, limit) * 100)
    return f"ctx {short_count(used)}/{short_count(limit)} {percent}%"


def context_advice(used: int, limit: int) -> str:
    """What to do about a window that is nearly full; empty while there is room."""
    fraction = context_fraction(used, limit)
    if context_level(fraction) == "normal":
        return ""
    return (
        f"This conversation fills {fraction:.0%} of the context window ({limit} tokens). "
        "Beyond it Ollama silently drops the oldest messages: /clear starts afresh, "
        "or raise it with /set parameter num_ctx N."
    )


class ContextMeter(Static):
    """Shows the last known usage; blank until both the usage and the window are known.

    The `-warning` / `-error` classes carry the colours (styles/models.tcss).
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__("", id=id, classes=classes, markup=False)
        self.used: int | None = None
        self.limit: int | None = None

    def show_usage(self, used: int | None, limit: int | None) -> None:
        self.used, self.limit = used, limit
        level: Level = "normal"
        text = tooltip = ""
        if used is not None and limit:
            level = context_level(context_fraction(used, limit))
            text = meter_text(used, limit) + (NEAR_FULL_HINT if level != "normal" else "")
            tooltip = (
                context_advice(used, limit) or f"Context window: {used} of {limit} tokens in use after the last reply."
            )
        self.set_class(level == "warning", "-warning")
        self.set_class(level == "error", "-error")
        self.tooltip = Content(tooltip) if tooltip else None
        # Its width follows the text: a layout pass (of the whole screen) only when that changes.
        self.update(text, layout=len(text) != len(str(self.content)))
