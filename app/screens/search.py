"""Search across every saved conversation; choosing a hit opens it at that message."""

from __future__ import annotations

from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from app.store import MATCH_END, MATCH_START, SearchHit, Store, StoreError
from app.text import sanitize
from app.widgets.conversation_list import short_date


def hit_label(hit: SearchHit) -> Content:
    """The conversation's title, then the snippet with the matched words highlighted."""
    parts: list[str | tuple[str, str]] = [
        (sanitize(hit.title) or "New conversation", "bold"),
        (f"  {short_date(hit.created_at)} · {hit.role}\n    ", "$text-muted"),
    ]
    for index, piece in enumerate(sanitize(hit.snippet).replace(MATCH_END, MATCH_START).split(MATCH_START)):
        parts.append((piece, "bold $accent") if index % 2 else piece)
    return Content.assemble(*parts)


class SearchScreen(ModalScreen[SearchHit | None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss(None)", "Close"),
        Binding("down", "focus_hits", show=False),
    ]

    def __init__(self, store: Store, query: str = "") -> None:
        super().__init__()
        self.store, self.query_text = store, query
        self.hits: list[SearchHit] = []

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog search"):
            yield Label("Search all conversations")
            yield Input(self.query_text, placeholder="words to find", id="search-input")
            yield OptionList(id="search-hits")

    def on_mount(self) -> None:
        self.query_one(Input).focus()
        if self.query_text:
            self.run_search(self.query_text)

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        self.run_search(event.value)

    @on(Input.Submitted)
    def _submitted(self) -> None:
        if self.hits:
            self.dismiss(self.hits[0])

    @work(exclusive=True, group="search", thread=True)
    def run_search(self, query: str) -> None:
        """In a thread: the database may be busy with another copy of the app's write."""
        try:
            hits = self.store.search(query)
        except StoreError as error:
            self.app.call_from_thread(self.notify, str(error), severity="error")
            return
        if not get_current_worker().is_cancelled:  # a newer keystroke's search has the last word
            self.app.call_from_thread(self._show_hits, query, hits)

    def _show_hits(self, query: str, hits: list[SearchHit]) -> None:
        self.hits = hits
        options = self.query_one(OptionList)
        if hits:
            options.set_options(Option(hit_label(hit)) for hit in hits)
        else:
            options.set_options([Option("No matches." if query.strip() else "Type to search.", disabled=True)])

    def action_focus_hits(self) -> None:
        self.query_one(OptionList).focus()

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.hits[event.option_index])
