"""The saved conversations in the sidebar: newest first, title and date, the open one marked."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import ClassVar

from textual import on
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from app.conversation import ConversationInfo
from app.text import sanitize

NO_CONVERSATIONS = "No saved conversations yet."


def short_date(moment: float, now: float | None = None) -> str:
    """`just now`, `5 min ago`, `3 h ago`, `yesterday`, `Mar 05` this year, `2024-03-05` before."""
    now = time.time() if now is None else now
    age = now - moment
    if age < 60:
        return "just now"
    if age < 3600:
        return f"{int(age // 60)} min ago"
    if age < 86_400:
        return f"{int(age // 3600)} h ago"
    if age < 2 * 86_400:
        return "yesterday"
    try:
        local = time.localtime(moment)
    except (OverflowError, OSError, ValueError):  # a time no clock can show (a bad import)
        return "?"
    return time.strftime("%b %d" if local.tm_year == time.localtime(now).tm_year else "%Y-%m-%d", local)


class ConversationList(OptionList):
    """Posts `Chosen`, `RenameAsked` and `DeleteAsked`; the screen does the work."""

    BINDINGS: ClassVar[list[BindingType]] = [  # ids: the names [keys] uses (app/keys.py)
        Binding("r", "rename", "Rename", id="conversations.rename"),
        Binding("d,delete", "delete", "Delete", id="conversations.delete"),
    ]

    @dataclass
    class Chosen(Message):
        conversation_id: int

    @dataclass
    class RenameAsked(Message):
        conversation_id: int

    @dataclass
    class DeleteAsked(Message):
        conversation_id: int

    def show(self, conversations: list[ConversationInfo], current: int | None) -> None:
        highlighted = self.highlighted_option.id if self.highlighted_option else None
        if not conversations:
            self.set_options([Option(NO_CONVERSATIONS, disabled=True)])
            return
        self.set_options(self._option(info, info.id == current) for info in conversations)
        ids = [str(info.id) for info in conversations]
        target = highlighted if highlighted in ids else str(current) if str(current) in ids else None
        self.highlighted = ids.index(target) if target else 0

    @staticmethod
    def _option(info: ConversationInfo, current: bool) -> Option:
        title = sanitize(info.title) or "New conversation"
        label = Content.assemble(
            ("● " if current else "  ", "$accent"),
            (title, "bold" if current else ""),
            (f"\n    {short_date(info.updated_at)} · {info.message_count} msgs", "$text-muted"),
        )
        return Option(label, id=str(info.id))

    def _highlighted_id(self) -> int | None:
        option = self.highlighted_option
        return int(option.id) if option is not None and option.id else None

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id:
            self.post_message(self.Chosen(int(event.option.id)))

    def action_rename(self) -> None:
        if (conversation_id := self._highlighted_id()) is not None:
            self.post_message(self.RenameAsked(conversation_id))

    def action_delete(self) -> None:
        if (conversation_id := self._highlighted_id()) is not None:
            self.post_message(self.DeleteAsked(conversation_id))
