"""One top-level Markdown paragraph as terminal rows, drawn exactly as the app's renderer
(Rich's Markdown) draws it, and kept up to date as it grows at a cost per update that does
not grow with the paragraph.

The paragraph's inline text is cut where nothing after can change what comes before (see
`inline_parts`): the parts before the last cut are parsed once and kept as Rich `Text`; only
the open part after it is parsed again at each update. An opener still waiting for what
would close it (an emphasis closer, a backtick run, a `]`) is watched: if that arrives, the
text is parsed again from the chunk holding the opener, once. Rich wraps the whole text
greedily, which can be restarted at a row's start (see `wrap`), so only the last row or two
are wrapped again. Rows are drawn when asked for, and kept for the current width.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.segment import Segment
from rich.style import Style
from rich.text import Text

from app.render.console import is_blank
from app.render.wrap import Wrap

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.token import Token
    from rich.console import Console
    from rich.markdown import MarkdownElement

Row = list[Segment]


@dataclass(slots=True)
class _Chunk:
    """A stretch of the settled text, and what parsing again from its start needs."""

    text: Text
    start: int  # where it starts in the paragraph's text
    source: int  # ... and in the source
    column: int  # the tab column there
    images: int  # the images before it


@dataclass(frozen=True, slots=True)
class _Watched:
    """A settled place that a later `key` could still change (see `inline_parts.Watch`)."""

    start: int  # where to parse again from, in the source
    seen: int  # the text up to here was parsed with it and settled: a key there was reckoned with


# Characters: text that is settled at once is parsed in parts about this long, and kept in
# `Text` chunks about this long, so that drawing a row slices a short `Text`.
_PIECE = 2048


class ParagraphBlock:
    """A top-level Markdown paragraph drawn as the app's renderer draws it, kept up to date as it grows."""

    def __init__(self, console: Console, parser: MarkdownIt) -> None:
        """`console`: configured like the app's drawing console; `parser`: the app's parser
        (html, linkify and typographer off: ValueError otherwise)."""
        from app.render.inline_parts import check_parser

        check_parser(parser)
        self._console = console
        self._parser = parser
        self._tab_size = console.tab_size or 8  # what Rich's Text uses when it has none of its own
        self._wrap = Wrap()
        self.parsed_chars = 0  # characters inline-parsed so far, to check the work an update does
        self._reset()

    @property
    def wrapped_chars(self) -> int:
        """Characters word-wrapped so far (at any width), to check the work an update does."""
        return self._wrap.wrapped

    def _reset(self) -> None:
        self._source = ""
        self._open = -1  # where the open part starts in the source; -1 while all is white space
        self._chunks: list[_Chunk] = []  # the settled text
        self._chunk_starts: list[int] = []
        self._watched: dict[tuple[str, str], list[_Watched]] = {}  # by kind and key
        self._first_watched: int | None = None  # the earliest start among them
        self._settled = 0  # its length, where the open part's text starts
        self._column = 0  # the tab column there
        self._images: list[MarkdownElement] = []  # in the settled text
        self._settled_ink = self._settled_spans = False
        self._open_text = Text()
        self._open_images: list[MarkdownElement] = []
        self._open_ink = self._open_spans = False
        self._changed: int | None = 0  # where the text differs from what was wrapped
        self._images_changed = True
        self._width = 0
        self._wrap.reset()
        self._cache: list[Row | None] = []  # rows before trimming blank ones
        self._image_segments: list[Segment] = []
        self._image_rows = 0  # rows the images take above the paragraph's first row
        self._styled = False
        self._trimmed: tuple[int, int] | None = None

    # -- text -----------------------------------------------------------------------------

    def set_source(self, source: str) -> None:
        """The paragraph's raw Markdown lines as they stand ("\\n" between lines, the last
        may be partial), sanitized text. Usually the previous source plus more; anything
        else starts over. The lines must be one top-level paragraph."""
        if source == self._source:
            return
        if not source.startswith(self._source):
            self._reset()
        self._source = source
        if self._open < 0:
            # markdown-it strips the paragraph's content as `str.strip` does.
            start = len(source) - len(source.lstrip())
            if start == len(source):
                return
            self._open = start
        end = len(source)
        while source[end - 1].isspace():
            end -= 1  # stops at the open part's first character, which is not a space
        self._update(end)

    def _update(self, end: int) -> None:
        from app.render.inline_parts import parse_with_probe

        old_plain = self._open_text.plain
        settled_before, images_before = self._settled, len(self._images)
        had_images = bool(self._open_images)
        while True:
            text = self._source[self._open : end]
            tokens, probe = parse_with_probe(self._parser, text)
            self.parsed_chars += len(text)
            again = self._triggered(probe.keys(text))
            if again is None:
                break
            self._roll_back(again)
        floor = self._settled  # the settled text is as it was up to here
        cuts = probe.cuts(text, _PIECE)
        new_plain: list[str] = []
        if cuts:
            begin = 0
            for cut in cuts:
                new_plain.append(self._settle(self._parse(text[begin:cut]), self._open + begin))
                begin = cut
            # Beyond the last cut the tokens may still change: a key there is reckoned
            # with only when it is parsed again.
            seen = self._open + begin
            for watch in probe.watches:
                if watch.start < begin:
                    start = self._open + watch.start
                    self._watched.setdefault((watch.kind, watch.key), []).append(_Watched(start, seen))
                    if self._first_watched is None or start < self._first_watched:
                        self._first_watched = start
            self._open += begin
            tokens = self._parse(text[begin:])
        self._open_text, self._open_images = self._part(tokens[0], self._column)
        new_plain.append(self._open_text.plain)
        self._open_spans = bool(self._open_text.spans)
        self._open_ink = _has_ink(self._open_text)
        if floor < settled_before:
            changed = floor
        else:
            changed = settled_before + _common_prefix(old_plain, "".join(new_plain))
        self._changed = changed if self._changed is None else min(self._changed, changed)
        if had_images or self._open_images or len(self._images) != images_before:
            self._images_changed = True

    def _triggered(self, keys: dict[tuple[str, str], int]) -> int | None:
        """Where to parse again from, if the open part brings a key a settled place waits for."""
        starts = [
            watched.start
            for key, position in keys.items()
            for watched in self._watched.get(key, ())
            if watched.seen <= self._open + position
        ]
        return min(starts, default=None)

    def _roll_back(self, start: int) -> None:
        """Make the settled text from the chunk holding source offset `start` open again."""
        index = max(0, bisect_right([chunk.source for chunk in self._chunks], start) - 1)
        chunk = self._chunks[index]
        del self._chunks[index:], self._chunk_starts[index:]
        self._open, self._settled, self._column = chunk.source, chunk.start, chunk.column
        if len(self._images) > chunk.images:
            del self._images[chunk.images :]
            self._images_changed = True
        for key, watched in list(self._watched.items()):
            self._watched[key] = [place for place in watched if place.start < chunk.source]
        starts = [place.start for watched in self._watched.values() for place in watched]
        self._first_watched = min(starts) if starts else None
        self._settled_spans = any(kept.text.spans for kept in self._chunks)
        self._settled_ink = any(_has_ink(kept.text) for kept in self._chunks)

    def _parse(self, text: str) -> list[Token]:
        self.parsed_chars += len(text)
        return self._parser.parseInline(text)

    def _part(self, inline: Token, column: int) -> tuple[Text, list[MarkdownElement]]:
        from app.render.inline_text import expand_tabs, part_text

        text, images = part_text(self._console, inline)
        return expand_tabs(text, column, self._tab_size), images

    def _settle(self, tokens: list[Token], source: int) -> str:
        """Keep a part that nothing appended can change (`source`: where it starts); its plain text."""
        from app.render.inline_text import end_column

        text, images = self._part(tokens[0], self._column)
        plain = text.plain
        if self._chunks and len(self._chunks[-1].text) < _PIECE:
            self._chunks[-1].text.append_text(text)
        else:
            self._chunks.append(_Chunk(text, self._settled, source, self._column, len(self._images)))
            self._chunk_starts.append(self._settled)
        self._column = end_column(plain, self._column, self._tab_size)
        self._settled += len(plain)
        self._images += images
        self._settled_spans = self._settled_spans or bool(text.spans)
        self._settled_ink = self._settled_ink or _has_ink(text)
        return plain

    def _slice(self, start: int, end: int) -> str:
        """A stretch of the paragraph's text (as Rich draws it: tabs expanded)."""
        settled = self._settled
        parts: list[str] = []
        if start < settled:
            index = max(0, bisect_right(self._chunk_starts, start) - 1)
            while index < len(self._chunks) and self._chunk_starts[index] < end:
                base = self._chunk_starts[index]
                parts.append(self._chunks[index].text.plain[max(0, start - base) : end - base])
                index += 1
        if end > settled:
            parts.append(self._open_text.plain[max(0, start - settled) : end - settled])
        return "".join(parts)

    # -- layout ---------------------------------------------------------------------------

    def _layout(self, width: int) -> None:
        width = max(1, width)
        if width != self._width:
            self._width = width
            self._wrap.reset()
            self._changed = 0
            self._images_changed = True
            self._cache = []
        if self._changed is not None:
            length = self._settled + len(self._open_text)
            first = self._wrap.update(self._slice, length, self._changed, width)
            self._changed = None
            del self._cache[self._image_rows + first :]
            self._trimmed = None
        if self._images_changed:
            self._images_changed = False
            options = self._console.options.update(width=width, height=None)
            render = self._console.render
            self._image_segments = [
                segment for image in self._images + self._open_images for segment in render(image, options)
            ]
            self._image_rows = sum(segment.text.count("\n") for segment in self._image_segments)
            self._cache = []
            self._trimmed = None
        styled = self._is_styled()
        if styled != self._styled:
            self._styled = styled
            self._cache = []
            self._trimmed = None

    def _is_styled(self) -> bool:
        """Whether any drawn row has a style: Rich draws a paragraph without any as plain
        segments, and one with some with the null style on its plain parts."""
        if self._settled_ink or self._open_ink:
            return True  # a styled character that is not white space is always drawn
        if not (self._settled_spans or self._open_spans):
            return False
        rows = range(len(self._wrap.starts))
        return any(self._finish(text).spans for text in self._row_texts(list(rows)))

    def _trim(self) -> tuple[int, int]:
        """The rows drawn, as the app's renderer trims blank rows off a block's edges."""
        if self._trimmed is None:
            total = self._image_rows + len(self._wrap.starts)
            start = 0
            while start < total and is_blank(self._row(start)):
                start += 1
            end = total
            while end > start and is_blank(self._row(end - 1)):
                end -= 1
            self._trimmed = start, end
        return self._trimmed

    def _row(self, index: int) -> Row:
        self._fill(index, index + 1)
        row = self._cache[index]
        assert row is not None
        return row

    def _fill(self, start: int, end: int) -> None:
        """Draw the rows in [start, end) that are not drawn yet (before trimming)."""
        cache = self._cache
        size = max(end, self._image_rows + 1) if self._image_segments else end
        if len(cache) < size:
            cache.extend([None] * (size - len(cache)))
        missing = [index for index in range(start, end) if cache[index] is None]
        if not missing:
            return
        image_rows = self._image_rows
        # Rich draws a paragraph's images before its text, with no line break between: the
        # last image row and the first text row share a row, cropped to the width.
        top = bool(self._image_segments) and missing[0] <= image_rows
        wanted = [index - image_rows for index in missing if index >= image_rows]
        if top and (not wanted or wanted[0]):
            wanted.insert(0, 0)
        drawn = [self._draw(self._finish(text)) for text in self._row_texts(wanted)]
        for row, segments in zip(wanted, drawn, strict=True):
            if row or not top:
                cache[row + image_rows] = segments
        if top:
            segments = [*self._image_segments, *drawn[0], Segment.line()]
            rows = Segment.split_and_crop_lines(segments, self._width, pad=True, include_new_lines=False)
            for index, row_segments in enumerate(rows):
                cache[index] = row_segments

    def _row_texts(self, rows: list[int]) -> list[Text]:
        """The paragraph text of each row, sliced from as few chunks as it spans."""
        starts, ends = self._wrap.starts, self._wrap.ends
        source_starts = [*self._chunk_starts, self._settled]
        sources = [*(chunk.text for chunk in self._chunks), self._open_text]
        wanted: dict[int, list[tuple[int, int, int]]] = {}
        for number, row in enumerate(rows):
            low, high = starts[row], ends[row]
            source = max(0, bisect_right(source_starts, low) - 1)
            while low < high:
                base = source_starts[source]
                stop = min(high, base + len(sources[source]))
                if low < stop:
                    wanted.setdefault(source, []).append((number, low - base, stop - base))
                    low = stop
                source += 1
        pieces: list[list[Text]] = [[] for _ in rows]
        for source, entries in wanted.items():
            text = sources[source]
            offsets = sorted({offset for _, low, high in entries for offset in (low, high)} - {0, len(text)})
            lines = text.divide(offsets)
            bounds = [0, *offsets]
            for number, low, _high in entries:
                pieces[number].append(lines[bisect_left(bounds, low)])
        return [found[0] if len(found) == 1 else Text("").join(found) for found in pieces]

    def _finish(self, text: Text) -> Text:
        """What `Text.wrap` does to each row of a left-justified, folding paragraph."""
        width = self._width
        text.rstrip_end(width)
        try:
            text.truncate(width, overflow="fold", pad=True)
        except (ZeroDivisionError, IndexError):  # Rich 15 on a row that opens with two zero-width joiners
            text.plain = " " * width  # what Rich makes of a wide character that does not fit
        text.truncate(width, overflow="fold")
        return text

    def _draw(self, text: Text) -> Row:
        if self._styled and not text.spans:
            # Rich draws the paragraph as one `Text`: once it has any style, plain rows get
            # the text's base style instead of none.
            segments = [Segment(text.plain, self._console.get_style("", default=Style.null()))]
        else:
            segments = list(text.render(self._console))
        # As the app's renderer crops and pads each line (a row can measure otherwise when a
        # zero-width joiner swallows a padding space).
        return Segment.adjust_line_length(segments, self._width, pad=True)

    # -- what the view asks ---------------------------------------------------------------

    def height(self, width: int) -> int:
        """Rows of the paragraph at `width`."""
        self._layout(width)
        start, end = self._trim()
        return end - start

    def rows(self, start: int, end: int, width: int) -> list[Row]:
        """Rows [start, end) at `width` (within the height), each exactly `width` cells."""
        self._layout(width)
        first, stop = self._trim()
        low, high = first + max(0, start), min(stop, first + end)
        if low >= high:
            return []
        self._fill(low, high)
        return [list(row or ()) for row in self._cache[low:high]]

    def settled_rows(self, width: int) -> int:
        """Rows at the top that appending text cannot change, unless it completes an image
        (Rich draws a paragraph's images above its text). A plain segment's style may turn
        from None to the null style, which draws the same, when the paragraph gets its first
        style."""
        self._layout(width)
        first, stop = self._trim()
        if self._open < 0:
            return 0
        row = self._wrap.restart_row(self._slice, self._changeable_from())
        return max(0, min(self._image_rows + row, stop) - first)

    def _changeable_from(self) -> int:
        """Where appended text may change the paragraph's text: the open part, or the chunk
        that a watched place would be parsed again from."""
        if self._first_watched is None:
            return self._settled
        index = max(0, bisect_right([chunk.source for chunk in self._chunks], self._first_watched) - 1)
        return self._chunks[index].start


def _has_ink(text: Text) -> bool:
    """Whether a style covers a character that is not white space."""
    plain = text.plain
    return any(plain[span.start : span.end].strip() for span in text.spans)


def _common_prefix(old: str, new: str) -> int:
    size = min(len(old), len(new))
    if old[:size] == new[:size]:
        return size
    low, high = 0, size
    while low < high:
        middle = (low + high + 1) // 2
        if old[:middle] == new[:middle]:
            low = middle
        else:
            high = middle - 1
    return low
