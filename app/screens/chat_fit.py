"""The chat screen in any terminal: below 100 columns the sidebar folds away, so the
conversation, the input and the status line keep the width; Ctrl+B brings it back over the
conversation and takes it away again (Esc, or leaving it, too). On a wide screen Ctrl+B hides
and shows it in place. The look is in styles/chat.tcss: `-narrow` and `-wide` are Textual's
breakpoint classes on the screen, `-sidebar-toggled` says Ctrl+B changed the sidebar from what
the width gives.

A part of `ChatScreen` (app/screens/chat.py), which is built from it.
"""

from __future__ import annotations

from textual import events
from textual.screen import Screen
from textual.widget import Widget

from app.widgets.conversation_list import ConversationList
from app.widgets.prompt_input import PromptInput

NARROW_BELOW = 100  # columns: the sidebar's 34 leave too little for the conversation
TOGGLED = "-sidebar-toggled"


class FitPart(Screen[None]):
    # Classes Textual sets on the screen by its width. Not a ClassVar here: Screen declares it
    # as `ClassVar[...] | None`, which mypy reads as an instance variable.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (NARROW_BELOW, "-wide")]  # noqa: RUF012 (see above)
    _was_narrow: bool | None = None  # at the last resize

    @property
    def sidebar_shown(self) -> bool:
        return self.has_class("-narrow") == self.has_class(TOGGLED)

    def action_toggle_sidebar(self) -> None:
        self.show_sidebar(not self.sidebar_shown)

    def show_sidebar(self, show: bool) -> bool:
        """Bring the sidebar in (focusing it) or take it away (the input gets the focus if it
        was there). False when it already was so."""
        if show == self.sidebar_shown:
            return False
        self.toggle_class(TOGGLED)
        sidebar = self.query_one("#sidebar")
        if show and not self._inside(self.focused, sidebar):
            self.query_one(ConversationList).focus()
        elif not show and self._inside(self.focused, sidebar):
            self.query_one(PromptInput).focus()
        return True

    def close_sidebar_over_chat(self) -> bool:
        """Esc: a sidebar shown over the conversation goes; False when there is none."""
        return self.has_class("-narrow") and self.show_sidebar(False)

    @staticmethod
    def _inside(widget: Widget | None, container: Widget) -> bool:
        return widget is not None and (widget is container or container in widget.ancestors)

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        """The sidebar is there while it has the focus (Ctrl+O, Ctrl+S bring it); over the
        conversation, it goes when the focus leaves it (a model or conversation chosen)."""
        inside = self._inside(event.widget, self.query_one("#sidebar"))
        if inside and not self.sidebar_shown:
            self.toggle_class(TOGGLED)
        elif not inside and self.has_class("-narrow", TOGGLED):
            self.remove_class(TOGGLED)

    def on_resize(self, event: events.Resize) -> None:
        """Across the breakpoint the sidebar starts again from what the new width gives."""
        narrow = event.size.width < NARROW_BELOW
        if self._was_narrow is not None and narrow != self._was_narrow:
            self.remove_class(TOGGLED)
        self._was_narrow = narrow
