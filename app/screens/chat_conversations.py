"""The chat screen's saved conversations: the list beside the chat, opening one (from the list, a
search hit or the command line), renaming and deleting, and reading the store without waiting
for the disk.

A part of `ChatScreen` (app/screens/chat.py), which is built from it; the attributes declared
below are the whole screen's.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from textual import on, work
from textual.screen import Screen

from app.config import STALE_STREAM_SECONDS, Settings
from app.conversation import ConversationInfo, Turn
from app.open_conversation import OpenConversation
from app.store import SearchHit, Store, StoreError
from app.store_writer import StoreWriter
from app.widgets.conversation_list import ConversationList
from app.widgets.conversation_view import ConversationView
from app.widgets.prompt_input import PromptInput

T = TypeVar("T")


class ConversationsPart(Screen[None]):
    settings: Settings
    writer: StoreWriter
    store: Store
    current: OpenConversation

    def open_conversation(
        self, info: ConversationInfo, turns: list[Turn], at_message: int | None = None, keep_model: bool = False
    ) -> None:
        raise NotImplementedError  # ChatScreen's, as is starting a new one

    def action_new_conversation(self) -> None:
        raise NotImplementedError

    def set_initial_model(self, text: str) -> None:
        raise NotImplementedError  # the models part's, as is showing the model

    def show_model(self) -> None:
        raise NotImplementedError

    def open_initial_conversation(self) -> None:
        """At start: the conversation the command line asks for (--session, --continue), if any."""
        info: ConversationInfo | None = None
        try:
            self.store.recover_interrupted(STALE_STREAM_SECONDS)
            if self.settings.session_id is not None:
                info = self.store.conversation(self.settings.session_id)
                if info is None:
                    self.notify(f"No conversation with id {self.settings.session_id}.", severity="error")
            elif self.settings.continue_last:
                info = self.store.latest()
            self.set_initial_model(
                self.settings.model
                or (info.model if info else "")
                or self.settings.default_model
                or self.store.get_setting("last_model")
                or ""
            )
        except StoreError as error:
            self.store_failed(error)
        if info is not None:
            try:
                # --model (or --server) wins over the conversation's own
                keep = bool(self.settings.model or self.settings.server)
                self.open_conversation(info, self.store.turns(info.id), keep_model=keep)
            except StoreError as error:
                self.store_failed(error)
        self.show_model()

    @work(exclusive=True, group="conversations")
    async def refresh_conversations(self) -> None:
        """Redraw the list once the writes queued before it are done."""
        try:
            conversations = await self.writer.run(self.store.conversations, 500)
        except StoreError as error:
            self.store_failed(error)
            return
        # The app may be closing while the store answered: then there is no list to show.
        for shown in self.query(ConversationList):
            shown.show(conversations, self.current.id)

    def action_focus_conversations(self) -> None:
        self.query_one(ConversationList).focus()

    @on(ConversationList.Chosen)
    def _conversation_chosen(self, event: ConversationList.Chosen) -> None:
        self.open_saved(event.conversation_id)
        self.query_one(PromptInput).focus()

    @work(exclusive=True, group="open")
    async def open_saved(self, conversation_id: int, at_message: int | None = None) -> None:
        if self.current.id == conversation_id:
            if (target := self.current.find(at_message)) is not None:  # already open: just go there
                self.query_one(ConversationView).scroll_to_turn(target)
            return
        # Through the writer: the read waits for queued saves (a reply just stopped) and the
        # UI does not wait for the disk.
        info = await self.read(self.store.conversation, conversation_id)
        if info is None:
            self.notify("That conversation no longer exists.", severity="warning")
            self.refresh_conversations()
            return
        turns = await self.read(self.store.turns, conversation_id)
        if turns is not None:
            self.open_conversation(info, turns, at_message)

    async def read(self, read: Callable[..., T], *args: object) -> T | None:
        """A store read after the queued writes; None (and a message) when the store fails."""
        try:
            return await self.writer.run(read, *args)
        except StoreError as error:
            self.store_failed(error)
            return None

    async def saved_info(self, conversation_id: int) -> ConversationInfo | None:
        return await self.read(self.store.conversation, conversation_id)

    def store_failed(self, error: StoreError) -> None:
        self.notify(str(error), title="Conversation storage", severity="error", timeout=15, markup=False)

    def run_job(self, job: Coroutine[Any, Any, None], group: str) -> None:
        self.run_worker(job, group=group)

    def rename_conversation(self, conversation_id: int, title: str) -> None:
        self.writer.submit(self.store.rename, conversation_id, title)
        if self.current.id == conversation_id:
            self.current.rename(title)
        self.refresh_conversations()

    def delete_conversation(self, conversation_id: int) -> None:
        if self.current.id == conversation_id:
            self.action_new_conversation()
        self.writer.submit(self.store.delete, conversation_id)
        self.refresh_conversations()
        self.notify("Conversation deleted.")

    def action_search(self, query: str = "") -> None:
        def open_hit(hit: SearchHit | None) -> None:
            if hit is not None:
                self.open_saved(hit.conversation_id, hit.message_id)
                self.query_one(PromptInput).focus()

        from app.screens.search import SearchScreen  # screens load when first opened: quick start

        self.app.push_screen(SearchScreen(self.store, query), open_hit)
