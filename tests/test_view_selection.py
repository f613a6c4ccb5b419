"""Taking text out of the conversation view: a mouse selection, the message cursor, code labels."""

from __future__ import annotations

from typing import ClassVar

from textual.app import App, ComposeResult
from textual.message import Message
from textual.types import CSSPathType

from app.conversation import Turn
from app.paths import STYLES_DIR
from app.widgets.conversation_view import ConversationView

SIZE = (80, 30)
REPLY = "Here is how:\n\n```python\ndef add(a, b):\n    return a + b\n```\n\nThen call it.\n\n```sh\nrun --fast\n```"
TURNS = [
    Turn("user", "first line\nsecond line"),
    Turn("assistant", REPLY, model="qwen3:4b"),
    Turn("user", "thanks"),
]


class Host(App[None]):
    CSS_PATH: ClassVar[CSSPathType] = [STYLES_DIR / "chat.tcss"]  # the view's colours and scrollbar

    def __init__(self) -> None:
        super().__init__()
        self.posted: list[Message] = []

    def compose(self) -> ComposeResult:
        yield ConversationView()

    def on_conversation_view_copy_requested(self, message: ConversationView.CopyRequested) -> None:
        self.posted.append(message)

    def on_conversation_view_edit_requested(self, message: ConversationView.EditRequested) -> None:
        self.posted.append(message)

    def on_conversation_view_retry_requested(self, message: ConversationView.RetryRequested) -> None:
        self.posted.append(message)


def rows(view: ConversationView) -> list[str]:
    return [view.render_line(y).text for y in range(view.size.height)]


def row_of(view: ConversationView, text: str) -> int:
    return next(y for y, row in enumerate(rows(view)) if text in row)


async def test_a_drag_across_two_messages_and_a_code_block_copies_the_text_as_drawn() -> None:
    async with Host().run_test(size=SIZE) as pilot:
        view = pilot.app.query_one(ConversationView)
        view.set_turns(TURNS)
        await pilot.pause()
        start, end = row_of(view, "second line"), row_of(view, "return a + b")
        # From "line" on the first message's second row to the end of the code's last line.
        await pilot.mouse_down(ConversationView, offset=(9, start))
        await pilot.hover(ConversationView, offset=(40, end))
        await pilot.mouse_up(ConversationView, offset=(40, end))
        await pilot.pause()
        copied = pilot.app.screen.get_selected_text()
        # No gutter bar, no code padding, no colour codes; the reply's header is its model.
        assert copied == "line\n\nqwen3:4b\nHere is how:\n\ndef add(a, b):\n    return a + b"
        # What is selected is drawn highlighted.
        selection = pilot.app.screen.get_component_rich_style("screen--selection")
        highlighted = [
            segment
            for segment in view.render_line(start)
            if segment.style and selection.bgcolor == segment.style.bgcolor
        ]
        assert "".join(segment.text for segment in highlighted).strip() == "line"


async def test_code_blocks_carry_their_number_and_a_click_on_it_asks_for_that_block() -> None:
    async with Host().run_test(size=SIZE) as pilot:
        view = pilot.app.query_one(ConversationView)
        view.set_turns(TURNS)
        await pilot.pause()
        labels = [row for row in rows(view) if row.rstrip().endswith((" 1 python", " 2 sh"))]
        assert len(labels) == 2, rows(view)
        second = row_of(view, " 2 sh")
        await pilot.click(ConversationView, offset=(view.size.width - 4, second))
        app = pilot.app
        assert isinstance(app, Host)
        message = app.posted[-1]
        assert isinstance(message, ConversationView.CopyRequested)
        assert message.turn is TURNS[1] and message.code == 2
        assert [code.code for code in view.code_blocks(TURNS[1])] == [
            "def add(a, b):\n    return a + b\n",
            "run --fast\n",
        ]


async def test_the_message_cursor_moves_between_messages_and_its_keys_ask_for_actions() -> None:
    async with Host().run_test(size=SIZE) as pilot:
        view = pilot.app.query_one(ConversationView)
        view.set_turns(TURNS)
        view.focus()
        await pilot.pause()
        await pilot.press("up")  # shows the cursor on the last message on screen
        assert view.cursor_turn is TURNS[2]
        marked = [row for row in rows(view) if row.startswith("▎") and "thanks" in row]
        assert marked
        await pilot.press("up")
        assert view.cursor_turn is TURNS[1]
        await pilot.press("c", "y", "r")
        app = pilot.app
        assert isinstance(app, Host)
        kinds = [(type(message).__name__, getattr(message, "code", None)) for message in app.posted]
        assert kinds == [("CopyRequested", None), ("CopyRequested", 0), ("RetryRequested", None)]
        assert all(getattr(message, "turn", None) is TURNS[1] for message in app.posted)
        await pilot.press("up", "e")
        edit = app.posted[-1]
        assert isinstance(edit, ConversationView.EditRequested) and edit.turn is TURNS[0]
        await pilot.press("up")  # already at the first message: stays
        assert view.cursor_turn is TURNS[0]
        view.blur()
        await pilot.pause()
        assert view.cursor_turn is None
