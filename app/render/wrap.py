"""Rich's greedy word wrap of a growing text, kept as row offsets and redone only from near
the place where the text changed.

`Text.wrap` splits the text at line breaks and wraps each line on its own with
`rich._wrap.divide_line`, which walks the words (`\\s*\\S+\\s*`) keeping one number, the
cells used on the current row. Where it starts a row it resets that number from the word
(or word piece) the row starts with, so running it again from a row's start gives the same
rows from there on, provided the row starts where the whole run would see it start:

- at the start of a line;
- at a word (white space before it, other text on the line before that), the word being
  unchanged: the whole run breaks there because the word does not fit or is folded, and the
  restarted run places it the same way;
- at a piece of a word folded across rows, when the non-space text from there, unchanged,
  is wider than a row: both runs fold it from there into the same pieces. (A word whose
  trailing spaces are folded onto rows of their own is the exception that rule avoids.)

Rows before the chosen row depend only on text before the change, and are kept.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from typing import TYPE_CHECKING

from rich._wrap import divide_line, re_word
from rich.cells import cell_len

if TYPE_CHECKING:
    from collections.abc import Callable

    Slice = Callable[[int, int], str]  # the text being wrapped, any stretch of it

_SPACE = re.compile(r"\s")
_INK = re.compile(r"\S+")


class Wrap:
    """The rows of a text at one width: where each starts and ends (a row never holds the
    line break after it), and whether it starts a line."""

    def __init__(self) -> None:
        self.wrapped = 0  # characters given to `divide_line`, for tests of the work done
        self.reset()

    def reset(self) -> None:
        self.width = 0
        self.starts: list[int] = []
        self.ends: list[int] = []
        self._line_starts: list[bool] = []

    def update(self, text: Slice, length: int, changed: int, width: int) -> int:
        """Bring the rows up to date with the text (`length` characters), which differs from
        the text last wrapped from offset `changed` on; the first row redone."""
        if width != self.width or not self.starts:
            self.width = width
            first = 0
        else:
            first = self.restart_row(text, changed)
        start, line_start = (self.starts[first], self._line_starts[first]) if first < len(self.starts) else (0, True)
        del self.starts[first:], self.ends[first:], self._line_starts[first:]
        self._wrap_from(text(start, length), start, line_start)
        return first

    def restart_row(self, text: Slice, changed: int) -> int:
        """The last row from whose start wrapping again gives the rows a whole wrap would,
        when the text may differ from offset `changed` on."""
        row = bisect_right(self.starts, changed) - 1
        while row > 0:
            # A fold at a width of one cell can leave an empty row before a wide character,
            # which a restarted run would not: width 1 restarts only at line starts.
            if self._line_starts[row] or (self.width > 1 and self._restartable(text, row, changed)):
                return row
            row -= 1
        return 0

    def _restartable(self, text: Slice, row: int, changed: int) -> bool:
        start = self.starts[row]
        before = text(start - 1, changed)  # the character before the row, and its unchanged text
        ink = _INK.match(before, 1)
        if ink is None:
            return False  # the row starts inside white space folded from a word
        if _SPACE.match(before) and self._ink_before(text, row):
            word = re_word.match(before, 1)
            if word is not None and word.end() < len(before):
                return True  # a whole word, unchanged up to the character after it
        return cell_len(ink.group()) > self.width  # a folded word, wider than a row from here

    def _ink_before(self, text: Slice, row: int) -> bool:
        """Whether the line has text before this row's start (white space before the first
        word belongs to that word, and may be folded like it)."""
        while row > 0 and not self._line_starts[row]:
            row -= 1
            if _INK.search(text(self.starts[row], self.starts[row + 1])):
                return True
        return False

    def _wrap_from(self, rest: str, start: int, line_start: bool) -> None:
        self.wrapped += len(rest)
        width = self.width
        position = start
        for line in rest.split("\n"):
            offsets = divide_line(line, width, fold=True)
            self.starts.append(position)
            self._line_starts.append(line_start)
            for offset in offsets:
                self.ends.append(position + offset)
                self.starts.append(position + offset)
                self._line_starts.append(False)
            position += len(line)
            self.ends.append(position)
            position += 1
            line_start = True
