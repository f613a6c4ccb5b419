"""The question under the conversation while a tool call waits for the person's yes.

The call itself is drawn in the conversation, its arguments unfolded; this says what is asked
and takes the answer: Enter or `y` runs it once, `a` always (for this tool, in this
conversation), `n` declines. Esc is the screen's Stop, which ends the whole reply.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.content import Content
from textual.message import Message
from textual.widgets import Static

from app.tools import display
from app.tools.rounds import Answer


class ToolQuestion(Static, can_focus=True):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter,y", "answer('once')", "Run once"),
        Binding("a", "answer('always')", "Always"),
        Binding("n", "answer('deny')", "Deny"),
    ]

    @dataclass
    class Answered(Message):
        answer: Answer

    def ask(self, name: str, server_kind: str = "") -> None:
        """Show the question for a call of tool `name` and take the keys."""
        where = f" ({server_kind} server)" if server_kind else ""
        self.update(
            Content.assemble(
                ("Run ", "bold"),
                (display.title(name), "bold $text-warning"),
                (f"{where}?\n", "bold"),
                ("Enter/y", "bold $accent"),
                " once · ",
                ("a", "bold $accent"),
                " always, in this conversation · ",
                ("n", "bold $accent"),
                " no · ",
                ("Esc", "bold $accent"),
                " stops",
            )
        )
        self.remove_class("-hidden")
        self.focus()

    def done(self) -> None:
        self.add_class("-hidden")
        self.update("")

    def action_answer(self, answer: str) -> None:
        self.post_message(self.Answered(Answer(answer)))
