"""A tool call drawn as screen lines: a folded block the conversation view shows like a turn.

Each `tool` turn (a call's result, or the placeholder of a call being asked or run) is one
block. Folded it is one line: the server and tool, the arguments in short, how it went and how
long it took (and why, on a second line, when it failed). Unfolded it adds the arguments as
JSON and the start of the result, with the size of what is not shown. The call itself lives on
the reply before the results: `lines_for()` pairs each result with its call.

Everything here is plain text: names and arguments come from the model, results from a server.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from app.conversation import ToolStatus, Turn
from app.protocol import ToolCall
from app.render.console import render_plain
from app.render.sections import CodeText
from app.tools import display
from app.widgets.turn_lines import BAR, GUTTER, TurnLines, content_width

INDENT = 2  # arguments and results sit under the tool's name
ARGUMENT_ROWS = 30  # rows of arguments shown unfolded
RESULT_LINES = 12  # lines of a result shown unfolded; the rest is summed up in a line
RESULT_CHARACTERS = 4000  # of those lines: a 1 MB result on one line is not wrapped whole
REASON_ROWS = 3  # why a call failed: one sentence, wrapped
_STATUS_KEYS = {"done": "success", "running": "dim", "asking": "warning", "denied": "warning"}


def lines_for(turns: Sequence[Turn], width: int) -> list[TurnLines]:
    """The lines of every turn of a conversation, each tool result paired with its call."""
    entries: list[TurnLines] = []
    calls: tuple[ToolCall, ...] = ()
    answered = 0
    for turn in turns:
        if turn.role == "tool":
            entries.append(ToolTurnLines(turn, width, _pair(turn, calls, answered)))
            answered += 1
            continue
        if turn.role == "assistant":
            calls, answered = turn.tool_calls, 0
        elif turn.role == "user":
            calls, answered = (), 0
        entries.append(TurnLines(turn, width))
    return entries


def make_lines(turn: Turn, width: int, before: Sequence[TurnLines]) -> TurnLines:
    """The lines of a turn added after `before` (searched back only as far as its call)."""
    if turn.role != "tool":
        return TurnLines(turn, width)
    answered = 0
    for entry in reversed(before):
        if entry.turn.role == "tool":
            answered += 1
            continue
        if entry.turn.role == "assistant":
            return ToolTurnLines(turn, width, _pair(turn, entry.turn.tool_calls, answered))
        break
    return ToolTurnLines(turn, width, None)


def _pair(turn: Turn, calls: tuple[ToolCall, ...], position: int) -> ToolCall | None:
    """The call a result answers: by its id when it has one, else by its place."""
    if turn.tool_call_id:
        found = next((call for call in calls if call.id == turn.tool_call_id), None)
        if found is not None:
            return found
    return calls[position] if position < len(calls) else None


class ToolTurnLines(TurnLines):
    """One tool call and its result, laid out at one width."""

    __slots__ = ("_rows", "_status", "call", "open")

    def __init__(self, turn: Turn, width: int, call: ToolCall | None) -> None:
        self.call = call  # None: the reply that asked for it is not known (an imported history)
        self.open: bool | None = None  # None: unfolded while the person is asked, else folded
        self._rows: list[tuple[Strip, str, str]] = []  # under the title: (line, palette key, plain text)
        self._status = ("", "dim")  # the title's right end and its palette key, made when measured
        super().__init__(turn, width)

    @property
    def unfolded(self) -> bool:
        if self.open is not None:
            return self.open
        return self.turn.tool_status is None and self.turn.activity == display.ASKING

    def estimate(self, width: int) -> int:
        rows = 2 + bool(display.reason(self.turn))
        if self.unfolded:
            arguments = display.arguments(self.call).count("\n") + 1 if self.call is not None else 0
            rows += 2 + min(arguments, ARGUMENT_ROWS) + min(self.turn.content.count("\n") + 1, RESULT_LINES) + 1
        return rows

    def measure(self, width: int, code_theme: str = "") -> None:
        self._rows = self._make_rows(content_width(width))
        self._status = self._make_status()  # the size of a 1 MB result: counted once, not per draw
        self.height = 2 + len(self._rows)
        self.measured = True
        self._dropped = False

    def forget(self) -> None:
        self._rows = []
        self._dropped = True

    @property
    def has_lines(self) -> bool:
        return self.measured and not self._dropped

    def code_blocks(self) -> list[CodeText]:
        return []  # a result is not Markdown: nothing in it is a code block to copy

    def plain(self, y: int, width: int) -> tuple[str | None, int]:
        if y == 0:
            return self._title_text(), GUTTER
        if y - 1 < len(self._rows):
            return self._rows[y - 1][2], GUTTER
        return "", GUTTER

    def line(self, y: int, width: int, palette: dict[str, Style]) -> Strip:
        bar = Strip([Segment(BAR, palette["cursor-bar" if self.cursor else "tool-bar"])], GUTTER)
        if y == 0:
            return Strip.join([bar, self._title(content_width(width), palette)])
        if y - 1 < len(self._rows):
            row, key, _ = self._rows[y - 1]
            return Strip.join([bar, row.apply_style(palette[key])])
        return Strip.blank(width)

    # -- the parts ----------------------------------------------------------------------

    def _make_status(self) -> tuple[str, str]:
        """The right end of the title: status, time and a result's size; its palette key."""
        turn = self.turn
        word = display.status(turn)
        parts = [word] if word else []
        if took := display.duration(turn.duration):
            parts.append(took)
        if turn.tool_status is ToolStatus.OK:
            parts.append(display.size(turn.content))
        return " · ".join(parts), _STATUS_KEYS.get(word, "error")

    def _title_text(self) -> str:
        arrow = "▾" if self.unfolded else "▸"
        status, _ = self._status
        return f"{arrow} {display.title(self.turn.tool_name)}  {display.summary(self.call)}  {status}".rstrip()

    def _title(self, width: int, palette: dict[str, Style]) -> Strip:
        name = f"{'▾' if self.unfolded else '▸'} {display.title(self.turn.tool_name)}"
        status, key = self._status
        summary = display.summary(self.call)
        room = width - cell_len(name) - cell_len(status) - 4
        segments = [Segment(name, palette["tool-name"])]
        if room > 0:
            shown = summary if cell_len(summary) <= room else set_cell_size(summary, room - 1) + "…"
            segments.append(Segment(f"  {shown}", palette["dim"]))
            used = cell_len(name) + 2 + cell_len(shown)
            segments.append(Segment(" " * max(2, width - used - cell_len(status))))
        else:
            segments.append(Segment("  "))
        segments.append(Segment(status, palette[key]))
        return Strip(segments).crop(0, width)

    def _make_rows(self, width: int) -> list[tuple[Strip, str, str]]:
        turn = self.turn
        rows: list[tuple[Strip, str, str]] = []
        reason = display.reason(turn)
        reason_key = _STATUS_KEYS.get(display.status(turn), "error")
        if not self.unfolded:
            return self._text(f"↳ {reason}", width, reason_key, REASON_ROWS) if reason else rows
        if self.call is not None:
            rows.append(self._row("arguments", width, "dim"))
            rows += self._text(display.arguments(self.call), width, "", ARGUMENT_ROWS)
        if turn.tool_status is ToolStatus.OK:
            rows.append(self._row(f"result · {display.size(turn.content)}", width, "dim"))
            rows += self._result(width)
        elif reason:
            rows += self._text(reason, width, reason_key, REASON_ROWS)
        elif turn.tool_status is None and turn.activity == display.RUNNING:
            rows.append(self._row("running… (Esc stops)", width, "dim"))
        return rows

    def _result(self, width: int) -> list[tuple[Strip, str, str]]:
        content = self.turn.content
        if not content:
            return [self._row("(empty)", width, "dim")]
        lines = content.split("\n", RESULT_LINES)
        shown = "\n".join(lines[:RESULT_LINES])[:RESULT_CHARACTERS]
        rows = self._text(shown, width, "", RESULT_LINES * 2)
        if len(lines) > RESULT_LINES or len(shown) < len(content.rstrip("\n")):
            count = content.count("\n") + 1
            rest = f"… {display.size(content)} in all, {count} line{'s' * (count != 1)}"
            rows.append(self._row(rest, width, "dim"))
        return rows

    def _text(self, text: str, width: int, key: str, limit: int) -> list[tuple[Strip, str, str]]:
        inner = max(1, width - INDENT)
        rendered = render_plain(text, inner)
        rows = [
            (
                Strip.join([Strip.blank(INDENT), Strip(line, inner)]),
                key or "tool-text",
                "".join(segment.text for segment in line).rstrip(),
            )
            for line in rendered[:limit]
        ]
        if len(rendered) > limit:
            rows.append(self._row(f"… {len(rendered) - limit} more rows", width, "dim"))
        return rows

    def _row(self, text: str, width: int, key: str) -> tuple[Strip, str, str]:
        line = render_plain(text, max(1, width - INDENT))[0]  # one line: notes are short
        plain = "".join(segment.text for segment in line).rstrip()
        return Strip.join([Strip.blank(INDENT), Strip(line, width - INDENT)]), key, plain
