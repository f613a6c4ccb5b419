"""Rich drawing a whole message at every update: what the app did before each kind of block
was drawn a part at a time. The scripts that time one part compare it with this."""

from __future__ import annotations

from app.render.console import Row, blank_row
from app.render.markdown import blocks, draw_tokens


class WholeRenderer:
    def __init__(self) -> None:
        self.text = ""
        self._rows: dict[int, list[Row]] = {}

    def update(self, text: str) -> None:
        if text != self.text:
            self.text, self._rows = text, {}

    def lines(self, width: int) -> list[Row]:
        rows = self._rows.get(width)
        if rows is None:
            rows = []
            for found in blocks(self.text):
                drawn = draw_tokens(found.tokens, width)
                if drawn and rows:
                    rows.append(blank_row(width))
                rows.extend(drawn)
            self._rows = {width: rows}
        return rows

    def height(self, width: int) -> int:
        return len(self.lines(width))

    def reveal(self, start: int, end: int, width: int) -> bool:
        return False

    def line(self, y: int, width: int) -> Row:
        return self.lines(width)[y]
