"""Which code block to take, when a message has several: each with its number, language, length
and first lines. Enter or its number picks one; Esc takes none."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from app.clipboard import describe
from app.render.sections import CodeText
from app.text import sanitize

PREVIEW_LINES = 3
PREVIEW_WIDTH = 60  # characters of a line shown; the dialog is at most 72 wide


def block_name(block: CodeText) -> str:
    """How a block is named to people: its language, else "code" (the language is the model's:
    a short word, sanitized)."""
    return sanitize(block.language)[:24] or "code"


def preview(number: int, block: CodeText) -> Content:
    lines = block.code.splitlines()
    head = f"{number}  {block_name(block)} · {describe(block.code)}"
    shown = [sanitize(line.expandtabs(4))[:PREVIEW_WIDTH] for line in lines[:PREVIEW_LINES]]
    if len(lines) > PREVIEW_LINES:
        shown.append("…")
    body = "".join(f"\n   {line}" for line in shown)
    return Content.assemble((head, "bold"), (body, "$text-muted"))


class CodeChooser(ModalScreen[int | None]):
    """Dismisses with the chosen block's number (from 1), or None."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss(None)", "Cancel"),
        *(Binding(str(number), f"choose({number})", show=False) for number in range(1, 10)),
    ]

    def __init__(self, blocks: Sequence[CodeText], question: str = "Copy which code block?") -> None:
        super().__init__()
        self.blocks, self.question = list(blocks), question

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(f"{self.question} (Enter or its number; Esc: none)", markup=False)
            yield OptionList(
                *(Option(preview(number, block), id=str(number)) for number, block in enumerate(self.blocks, 1)),
                id="code-blocks",
            )

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(int(event.option.id or 0) or None)

    def action_choose(self, number: int) -> None:
        if number <= len(self.blocks):
            self.dismiss(number)
