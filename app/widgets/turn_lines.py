"""One turn of the conversation drawn as screen lines: header, thinking, body and notes.

The conversation view decides what is on screen and scrolls; this draws a turn's lines at a
given width and knows its height, measured or estimated.
"""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from app.conversation import Turn, TurnState
from app.render.console import estimate_rows, render_plain
from app.render.markdown import CODE_THEME
from app.render.message import MessageRenderer
from app.render.sections import CodeText
from app.text import sanitize

DRAWN_KEPT = 200  # body rows kept as drawn: the screen's and then some

BAR = "▎ "
GUTTER = len(BAR)
RIGHT_MARGIN = 1
MIN_BODY_WIDTH = 10
THINKING_INDENT = 2  # thinking text sits a little in from the answer

_STATE_NOTES: dict[TurnState, tuple[str, str]] = {  # state -> (note, palette key)
    TurnState.STREAMING: ("streaming…", "dim"),
    TurnState.STOPPED: ("stopped", "warning"),
    TurnState.INTERRUPTED: ("interrupted", "warning"),
    TurnState.ERROR: ("error", "error"),
}
_ROLE_NAMES = {"user": "You", "system": "System"}


def content_width(width: int) -> int:
    return max(MIN_BODY_WIDTH, width - GUTTER - RIGHT_MARGIN)


class TurnLines:
    """One turn laid out at one width: header, thinking, Markdown body, notes, blank separator."""

    __slots__ = (
        "_body",
        "_body_rows",
        "_drawn",
        "_dropped",
        "_notes",
        "_thinking",
        "_thinking_rows",
        "_thinking_title",
        "_words",
        "cursor",
        "height",
        "measured",
        "thinking_open",
        "turn",
    )

    def __init__(self, turn: Turn, width: int) -> None:
        self.turn = turn
        self.thinking_open: bool | None = None  # None: unfolded until the answer starts
        self._body: MessageRenderer | None = None  # created when first drawn: most never are
        self._body_rows = 0
        self._dropped = False  # forget() freed the lines; the heights are still right
        # Body rows as last drawn: a streamed update draws again only the rows it changed.
        self._drawn: dict[
            int, tuple[tuple[Segment, ...], tuple[int, str] | None, int, bool, dict[str, Style], Strip]
        ] = {}
        self._notes: list[tuple[Strip, str]] = []  # (line, palette key) below the body
        self._thinking: MessageRenderer | None = None  # only while the thinking is unfolded
        self._thinking_rows = 0  # title, unfolded lines and the blank line before the answer
        self._thinking_title = ""
        self._words = (0, 0)  # (length of the thinking, its word count): counted once per change
        self.cursor = False  # the message cursor is on this turn
        self.height = self.estimate(width)
        self.measured = False

    @property
    def role(self) -> str:
        return "user" if self.turn.role == "user" else "assistant"

    @property
    def thinking_unfolded(self) -> bool:
        if self.thinking_open is not None:
            return self.thinking_open
        return not self.turn.content.strip()

    def estimate(self, width: int) -> int:
        """A cheap guess at the height: lines of text plus wrapping, plus the chrome."""
        body = estimate_rows(self.turn.content, content_width(width or 80))
        thinking = 0
        if self.turn.thinking:
            thinking = 1
            if self.thinking_unfolded:
                thinking += estimate_rows(self.turn.thinking, content_width(width or 80)) + 1
        return 2 + thinking + body + bool(self.turn.error) + (self.turn.stats is not None)

    def settled_rows(self, width: int) -> int:
        """Rows at the top of a streaming turn that appending text cannot change (the header,
        the thinking and the finished blocks); 0 when that cannot be known cheaply."""
        if not self.measured or self._body is None or self.turn.state is not TurnState.STREAMING:
            return 0
        if self._words[0] != len(self.turn.thinking):
            return 0
        finished = self._body.settled_lines(content_width(width))
        if self.turn.thinking and not finished:
            return 0  # the answer may be starting, which folds the thinking above it
        return 1 + self._thinking_rows + finished

    def invalidate(self, width: int) -> None:
        self.height = self.estimate(width)
        self.measured = False

    def forget(self) -> None:
        """Drop the rendered lines but keep the height: it is still right for this width."""
        if self._body is not None:
            self._body.drop_lines()
        self._dropped = True
        self._drawn = {}
        self._notes = []
        self._thinking = None

    def measure(self, width: int, code_theme: str = CODE_THEME) -> None:
        """Render the turn (incrementally: the renderer keeps what did not change); code in
        the Pygments style `code_theme`."""
        body_width = content_width(width)
        if self._body is None or self._body.code_theme != code_theme:
            # What a person typed keeps its line breaks: a pasted log stays line by line.
            self._body = MessageRenderer(code_theme=code_theme, breaks=self.turn.role == "user")
        self._body.update(self.turn.content)
        self._body_rows = self._body.height(body_width)
        self._measure_thinking(body_width, self._body_rows, code_theme)
        self._notes = self._make_notes(body_width)
        self._set_height()
        self.measured = True
        self._dropped = False

    def _set_height(self) -> None:
        self.height = 2 + self._thinking_rows + self._body_rows + len(self._notes)

    def reveal(self, start: int, end: int, width: int) -> bool:
        """Draw the body's parts on rows [start, end) of the turn (a long reply is drawn only
        where it is looked at); whether the turn's height changed."""
        if self._body is None:
            return False
        head = 1 + self._thinking_rows
        body_width = content_width(width)
        if not self._body.reveal(start - head, end - head, body_width):
            return False
        self._body_rows = self._body.height(body_width)
        self._set_height()
        return True

    def locate(self, row: int) -> tuple[int, int, int]:
        """Row `row` as a place that keeps its meaning while parts of the body are drawn:
        (0, row, 0) in the header, (1, section, row in it) in the body, (2, row, 0) below."""
        head = 1 + self._thinking_rows
        if self._body is None or row < head:
            return 0, row, 0
        if row < head + self._body_rows:
            section, offset = self._body.locate(row - head)
            return 1, section, offset
        return 2, row - head - self._body_rows, 0

    def row_of(self, place: tuple[int, int, int]) -> int:
        part, first, second = place
        head = 1 + self._thinking_rows
        if part == 0 or self._body is None:
            return first
        if part == 1:
            return head + self._body.row_of((first, second))
        return head + self._body_rows + first

    def _measure_thinking(self, width: int, body_height: int, code_theme: str) -> None:
        thinking = self.turn.thinking
        if not thinking:
            self._thinking, self._thinking_rows = None, 0
            return
        if self._words[0] != len(thinking):
            self._words = (len(thinking), len(thinking.split()))
        words = self._words[1]
        unfolded = self.thinking_unfolded
        still = "…" if self.turn.state is TurnState.STREAMING and not self.turn.content else ""
        self._thinking_title = f"{'▾' if unfolded else '▸'} Thinking{still} ({words} word{'s' * (words != 1)})"
        self._thinking_rows = 1
        if not unfolded:
            self._thinking = None  # folded: no need to keep rendering it as it grows
            return
        if self._thinking is None or self._thinking.code_theme != code_theme:
            self._thinking = MessageRenderer(code_theme=code_theme)
        self._thinking.update(thinking)
        self._thinking_rows += self._thinking.measure_all(width - THINKING_INDENT) + (body_height > 0)

    def _make_notes(self, width: int) -> list[tuple[Strip, str]]:
        turn = self.turn
        notes: list[tuple[Strip, str]] = []
        if turn.state is not TurnState.STREAMING and turn.error:  # also "cut off at num_predict"
            key = "error" if turn.state is TurnState.ERROR else "warning"
            notes.extend((Strip(line, width), key) for line in render_plain(turn.error, width))
        stats = turn.stats
        if turn.role == "assistant" and turn.state is not TurnState.STREAMING and stats:
            parts = []
            if stats.eval_count:
                parts.append(f"{stats.eval_count} tokens")
            if (speed := stats.tokens_per_second) is not None:
                parts.append(f"{speed:.1f} tok/s")
            if parts:
                notes.extend((Strip(line, width), "dim") for line in render_plain(" · ".join(parts), width))
        return notes

    @property
    def has_lines(self) -> bool:
        return self._body is not None and not self._dropped

    def is_thinking_title(self, y: int) -> bool:
        """Whether line `y` of this turn is its thinking's title line."""
        return y == 1 and self._thinking_rows > 0

    def code_label_at(self, y: int) -> int | None:
        """The number of the code block whose label is on line `y` of this turn."""
        head = 1 + self._thinking_rows
        if self._body is None or not head <= y < head + self._body_rows:
            return None
        label = self._body.code_label(y - head)
        return label[0] if label else None

    def code_blocks(self) -> list[CodeText]:
        if self._body is None:
            self._body = MessageRenderer(breaks=self.turn.role == "user")
            self._body.update(self.turn.content)
        return self._body.code_blocks()

    def plain(self, y: int, width: int) -> tuple[str | None, int]:
        """The text a person selecting line `y` means, without the gutter, the padding of a
        code block or the colours (None for lines with nothing to copy: notes, padding), and
        how many characters before it on the line that leaves out."""
        if y == 0:
            return self._name(), GUTTER
        y -= 1
        if y < self._thinking_rows:
            if y == 0 or self._thinking is None:
                return None, GUTTER
            thinking_width = content_width(width) - THINKING_INDENT
            if y - 1 >= self._thinking.height(thinking_width):
                return "", GUTTER
            return _text(self._thinking.line(y - 1, thinking_width)).rstrip(), GUTTER + THINKING_INDENT
        y -= self._thinking_rows
        if y < self._body_rows and self._body is not None:
            kind = self._body.is_code_row(y)
            if kind is None:
                return None, GUTTER
            text = _text(self._body.line(y, content_width(width)))
            return (text[1:].rstrip(), GUTTER + 1) if kind else (text.rstrip(), GUTTER)
        return (None if y - self._body_rows < len(self._notes) else ""), GUTTER

    def line(self, y: int, width: int, palette: dict[str, Style]) -> Strip:
        """Line `y` of this turn (0 is the header); the turn must be measured."""
        assert self._body is not None
        bar = Strip([Segment(BAR, palette["cursor-bar" if self.cursor else f"{self.role}-bar"])], GUTTER)
        if y == 0:
            return Strip.join([bar, self._header(palette)])
        y -= 1
        if y < self._thinking_rows:
            return Strip.join([bar, self._thinking_line(y, width, palette)])
        y -= self._thinking_rows
        if y < self._body_rows:
            body_width = content_width(width)
            line = self._body.line(y, body_width)
            if (rows := self._body.height(body_width)) != self._body_rows:
                self._body_rows = rows  # drew a part that was not revealed: the view re-settles
                self._set_height()
            segments, label = tuple(line), self._body.code_label(y)
            kept = self._drawn.get(y)
            if (
                kept is not None
                and kept[4] is palette
                and kept[1:4] == (label, width, self.cursor)
                and kept[0] == segments
            ):
                return kept[5]
            strip = Strip(line, body_width)
            if label is not None:
                strip = _labelled(strip, label, palette["code-label"])
            drawn = Strip.join([bar, strip])
            if len(self._drawn) >= DRAWN_KEPT:
                self._drawn = {}
            self._drawn[y] = (segments, label, width, self.cursor, palette, drawn)
            return drawn
        y -= self._body_rows
        if y < len(self._notes):
            note, key = self._notes[y]
            return Strip.join([bar, note.apply_style(palette[key])])
        return Strip.blank(width)

    def _thinking_line(self, y: int, width: int, palette: dict[str, Style]) -> Strip:
        if y == 0:
            return Strip([Segment(self._thinking_title, palette["thinking-title"])])
        assert self._thinking is not None
        thinking_width = content_width(width) - THINKING_INDENT
        if y - 1 < self._thinking.height(thinking_width):
            line = Strip(self._thinking.line(y - 1, thinking_width), thinking_width)
            return Strip.join([Strip.blank(THINKING_INDENT), line.apply_style(palette["thinking"])])
        return Strip.blank(1)  # between the thinking and the answer

    def _name(self) -> str:
        turn = self.turn
        if turn.role in _ROLE_NAMES:
            return _ROLE_NAMES[turn.role]
        if turn.model and turn.server:  # written where several servers are configured: say which
            return sanitize(f"{turn.model}@{turn.server}")
        return sanitize(turn.model) or "assistant"

    def _header(self, palette: dict[str, Style]) -> Strip:
        turn = self.turn
        segments = [Segment(self._name(), palette[f"{self.role}-header"])]
        if note := _STATE_NOTES.get(turn.state):
            text, key = note
            if turn.state is TurnState.STREAMING and turn.activity:
                text, key = turn.activity, "warning"
            segments.append(Segment(f"  {text}", palette[key]))
        return Strip(segments)


def _text(row: list[Segment]) -> str:
    return "".join(segment.text for segment in row)


def _labelled(strip: Strip, label: tuple[int, str], style: Style) -> Strip:
    """A code block's first row with its number (and language) at the right: what `/copy code
    N` and a click take."""
    number, language = label
    text = f" {number} {language} " if language else f" {number} "
    width = strip.cell_length
    if width <= len(text) + 4:
        return strip
    segments = list(strip)
    background = next((segment.style.bgcolor for segment in reversed(segments) if segment.style), None)
    tag = Segment(text, Style(bgcolor=background) + style)
    return Strip.join([strip.crop(0, width - len(text)), Strip([tag], len(text))])
