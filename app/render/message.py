"""One message's Markdown as terminal rows: drawn only where it is looked at, and kept up to
date as it streams at a cost that does not grow with what is already there.

The text is read line by line into spans (`structure`), each drawn by a section of its kind
(`sections`). A section has an estimated height until it is measured; the view measures what
comes into view, and the open end of the message at every update. Sections are one blank
row apart, except runs of items of one list, which follow each other directly.
"""

from __future__ import annotations

from bisect import bisect_right

from app.render.console import Row, blank_row
from app.render.markdown import CODE_THEME
from app.render.sections import CodeText, FenceSection, ListCount, ListSection, Section, make_section
from app.render.structure import Structure
from app.text import StreamSanitizer


class MessageRenderer:
    def __init__(self, code_theme: str = CODE_THEME, breaks: bool = False) -> None:
        self.code_theme = code_theme
        self.breaks = breaks  # a line break in a paragraph stays one (a person's own message)
        self._retired_draws = 0
        self._reset()

    def _reset(self) -> None:
        self._raw = ""
        self._sanitizer = StreamSanitizer()
        self._text = ""  # sanitized
        self._structure = Structure()
        self._sections: list[Section] = []
        self._synced = 0  # sections before this one were final at the last update
        self._width = 0
        self._starts: list[int] = []  # first row of each laid-out section (after its gap)
        self._end = 0  # rows taken by the laid-out sections
        self._numbers: dict[int, int] = {}  # ordered list (by start) -> digits of its last number

    @property
    def block_renders(self) -> int:
        """How many blocks were drawn: lets tests check that what did not change is kept."""
        return self._retired_draws + sum(section.draws for section in self._sections)

    def update(self, text: str) -> None:
        if text == self._raw:
            return
        if text.startswith(self._raw):
            piece = text[len(self._raw) :]
        else:
            self._retired_draws = self.block_renders
            self._reset()
            piece = text
        self._raw = text
        # The stream sanitizer holds back an escape sequence cut in two by a flush.
        clean = self._sanitizer.feed(piece)
        if not clean:
            return
        self._text += clean
        self._structure.read(self._text)
        self._sync()

    def _sync(self) -> None:
        """Bring the sections in line with the spans, from the first that could have changed."""
        spans = self._structure.spans
        sections = self._sections
        first = min(self._synced, len(spans), len(sections))
        index = first
        while index < len(spans) and index < len(sections) and sections[index].span.key == spans[index].key:
            sections[index].update(spans[index], self._text)
            index += 1
        if index < len(spans) or index < len(sections):
            spare = {section.span.key: section for section in sections[index:]}
            self._retired_draws += sum(section.draws for section in sections[index:])
            del sections[index:]
            for span in spans[index:]:
                section = spare.pop(span.key, None)
                if section is None:
                    section = make_section(span, self._text, self.breaks, self.code_theme)
                else:
                    self._retired_draws -= section.draws
                    section.update(span, self._text)
                if isinstance(section, ListSection):
                    section.count = None  # which list it belongs to is found again
                sections.append(section)
        self._synced = self._structure.settled
        self._truncate_layout(self._number_lists(first))

    def _number_lists(self, first: int) -> int:
        """An ordered list's numbers are as wide as its last one (Rich sizes them by the
        number after the last): when that gains a digit, the list's runs are drawn again.
        The first section whose layout is stale."""
        sections = self._sections
        last_runs: dict[int, tuple[ListCount, int]] = {}  # a list's count -> its last run seen
        for index in range(first, len(sections)):
            section = sections[index]
            if not isinstance(section, ListSection) or section.span.number is None:
                continue
            if section.count is None:
                before = sections[index - 1] if index else None
                if isinstance(before, ListSection) and before.count and before.span.same_list(section.span):
                    section.count = before.count
                else:
                    section.count = ListCount(index)
            last_runs[id(section.count)] = (section.count, index)
        for count, index in last_runs.values():
            span = sections[index].span
            assert span.number is not None
            number = span.number + span.first_item + span.items
            if len(str(number)) != len(str(count.last_number)):
                for run in sections[count.first : index + 1]:
                    run.rows = None
                first = min(first, count.first)
            count.last_number = number
        return first

    def _truncate_layout(self, index: int) -> None:
        del self._starts[index:]
        count = len(self._starts)
        self._end = self._starts[-1] + self._sections[count - 1].height(self._width) if count else 0

    # -- layout -------------------------------------------------------------------------------

    def _set_width(self, width: int) -> None:
        width = max(1, width)
        if width != self._width:
            self._width = width
            for section in self._sections:
                section.rows = None
            self._starts = []
            self._end = 0

    def _gap(self, index: int, rows: int, end: int) -> int:
        """Blank rows before section `index`: one between drawn sections, none between runs
        of one list."""
        if not rows or not end:
            return 0
        span = self._sections[index].span
        if index and span.first_item and span.same_list(self._sections[index - 1].span):
            return 0
        return 1

    def _layout(self) -> None:
        """Lay out every section not laid out yet; the open end is always measured."""
        end = self._end
        width = self._width
        for index in range(len(self._starts), len(self._sections)):
            section = self._sections[index]
            rows = section.measure(width) if index >= self._synced else section.height(width)
            end += self._gap(index, rows, end)
            self._starts.append(end)
            end += rows
        self._end = end

    def _relayout_from(self, index: int) -> None:
        self._truncate_layout(index)
        self._layout()

    def _measure(self, index: int) -> bool:
        """Measure a section; whether its height differs from what was laid out."""
        section = self._sections[index]
        known = section.height(self._width)
        return section.measure(self._width) != known

    # -- what the view asks -----------------------------------------------------------------

    def height(self, width: int) -> int:
        """Rows of the message at `width`; sections not measured yet count as estimated."""
        self._set_width(width)
        self._layout()
        return self._end

    def reveal(self, start: int, end: int, width: int) -> bool:
        """Measure the sections on rows [start, end); whether that changed the height."""
        self._set_width(width)
        self._layout()
        if end <= start or start >= self._end:
            return False
        index = max(0, bisect_right(self._starts, max(0, start)) - 1)
        changed_from: int | None = None
        while index < len(self._sections) and self._starts[index] < end:
            section = self._sections[index]
            if (section.rows is None or section.width != self._width) and self._measure(index):
                changed_from = index if changed_from is None else changed_from
            index += 1
        if changed_from is None:
            return False
        self._relayout_from(changed_from)
        return True

    def line(self, y: int, width: int) -> Row:
        """Row `y`; a section not measured yet is measured now (`reveal` first keeps the heights)."""
        self.height(width)
        if not self._starts or not 0 <= y < self._end:
            return blank_row(self._width)
        index = bisect_right(self._starts, y) - 1
        section = self._sections[index]
        if (section.rows is None or section.width != self._width) and self._measure(index):
            self._relayout_from(index)
        y -= self._starts[index]
        return section.row(y, self._width) if 0 <= y < section.height(self._width) else blank_row(self._width)

    def measure_all(self, width: int) -> int:
        """Measure every section: the exact height."""
        self._set_width(width)
        changed = False
        for section in self._sections:
            if section.rows is None or section.width != self._width:
                section.measure(self._width)
                changed = True
        if changed:
            self._relayout_from(0)
        return self.height(width)

    def lines(self, width: int) -> list[Row]:
        """The whole message as rows exactly `width` cells wide (measures every section)."""
        self.measure_all(width)
        result: list[Row] = []
        for index, section in enumerate(self._sections):
            rows = section.height(self._width)
            if self._gap(index, rows, len(result)):
                result.append(blank_row(self._width))
            result.extend(section.row(y, self._width) for y in range(rows))
        return result

    def settled_lines(self, width: int) -> int:
        """Rows at the top that appending text will not change."""
        if width != self._width or not self._starts:
            return 0
        index = min(self._synced, len(self._sections) - 1, len(self._starts) - 1)
        section = self._sections[index]
        if isinstance(section, ListSection) and section.count is not None:
            return self._starts[section.count.first]  # the whole list's numbers may widen
        return self._starts[index] + section.settled(self._width)

    def locate(self, y: int) -> tuple[int, int]:
        """Row `y` as (section, row in it), which stays put while other sections are measured."""
        if not self._starts:
            return 0, y
        index = max(0, bisect_right(self._starts, y) - 1)
        return index, y - self._starts[index]

    def row_of(self, place: tuple[int, int]) -> int:
        """The row of a place `locate` gave."""
        index, offset = place
        if index >= len(self._starts):
            return self._end + offset
        return self._starts[index] + offset

    def code_blocks(self) -> list[CodeText]:
        """Every fenced code block of the message, in order (the numbers people use are
        these indexes plus one)."""
        return [code for section in self._sections for code in section.code_blocks()]

    def code_label(self, y: int) -> tuple[int, str] | None:
        """(number, language) of the code block whose first row is row `y`, for the label
        drawn there (code blocks nested in a list or a quote have none)."""
        if not self._starts or not 0 <= y < self._end:
            return None
        index = bisect_right(self._starts, y) - 1
        if self._starts[index] != y or not isinstance(self._sections[index], FenceSection):
            return None
        number = 1 + sum(len(section.code_blocks()) for section in self._sections[:index])
        return number, self._sections[index].span.language

    def is_code_row(self, y: int) -> bool | None:
        """Whether row `y` holds a line of a code block (True), its padding (None: nothing
        to copy), or other text (False)."""
        if not self._starts or not 0 <= y < self._end:
            return False
        index = bisect_right(self._starts, y) - 1
        section = self._sections[index]
        if not isinstance(section, FenceSection):
            return False
        offset = y - self._starts[index]
        return None if offset in (0, section.height(self._width) - 1) else True

    @property
    def holds_lines(self) -> bool:
        """Whether drawn rows are kept (`drop_lines` lets go of them)."""
        return any(section.holds_rows for section in self._sections)

    def drop_lines(self) -> None:
        """Free the drawn rows but keep every height: drawing again gives the same rows."""
        for section in self._sections:
            section.drop()


__all__ = ["MessageRenderer", "Row", "blank_row"]
