"""The chat screen's second tries: edit one of your messages and send it in its place, ask again
for any reply (or resend a message of yours), and let a stopped or cut-off reply go on.

Redoing a message replaces it and what followed it. When that would also take later questions
and their answers, the person is asked first. `/continue` sends the history ending with the
reply itself, which Ollama continues; the new text is appended to that same reply, one turn.

A part of `ChatScreen` (app/screens/chat.py), which is built from it; it builds on the replies.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from textual import on

from app.conversation import Turn, TurnState
from app.screens.chat_replies import RepliesPart
from app.screens.dialogs import Confirm
from app.servers.config import LOCAL
from app.servers.registry import join_model
from app.widgets.conversation_view import ConversationView
from app.widgets.prompt_input import PromptInput

BUSY = "A reply is still arriving. Esc stops it."


def _messages(count: int) -> str:
    return f"{count} later message{'s' * (count != 1)}"


class RedoPart(RepliesPart):
    def _drop_from(self, first: Turn) -> None:
        raise NotImplementedError  # ChatScreen's: out of the view and the store

    def put_in_input(self, text: str) -> None:
        raise NotImplementedError  # ChatScreen's

    def _later(self, turn: Turn) -> list[Turn]:
        """The turns after `turn`'s exchange (its question and the answers up to the next
        question): what redoing it would take away besides itself."""
        turns = self.current.turns
        index = next(i for i, shown in enumerate(turns) if shown is turn)
        end = next((i for i in range(index + 1, len(turns)) if turns[i].role == "user"), len(turns))
        return turns[end:]

    def _unless_refused(self, later: list[Turn], question: str, yes: str, then: Callable[[], None]) -> None:
        """Run `then`, after asking when there are later turns it would replace."""
        if not later:
            then()
            return

        def answered(ok: bool | None) -> None:
            if ok:
                then()

        self.app.push_screen(Confirm(question, yes=yes), answered)

    # -- edit -------------------------------------------------------------------------------

    @on(ConversationView.EditRequested)
    def _edit_requested(self, event: ConversationView.EditRequested) -> None:
        turn = event.turn
        if turn.role != "user":
            self.notify("Only your own messages can be edited; R asks again for a reply.", severity="warning")
        elif self.streaming is not None:
            self.notify(BUSY, severity="warning")
        elif self.current.holds(turn):
            self.current.editing = turn
            self.put_in_input(turn.content)
            self.notify("Editing your message: Enter sends it in its place, Esc cancels.")

    def send_edited(self, text: str) -> None:
        """Enter while editing: the message and what followed are replaced by `text` and its
        reply, after asking if later questions would go too. Refused, the edit stays."""
        editing = self.current.editing
        if editing is None or not self.current.holds(editing):
            self.current.editing = None
            self.query_one(PromptInput).clear()
            self.send(text)
            return
        later = self._later(editing)

        def send() -> None:
            if self.current.editing is not editing or self.streaming is not None:
                return  # the conversation moved on while the question was up
            self.query_one(PromptInput).clear()
            self._drop_from(editing)
            self.send(text)

        question = f"Send the edited message? It replaces your message, its reply and the {_messages(len(later))}."
        self._unless_refused(later, question, "Send", send)

    # -- retry ------------------------------------------------------------------------------

    @on(ConversationView.RetryRequested)
    def _retry_requested(self, event: ConversationView.RetryRequested) -> None:
        self.retry_turn(event.turn)

    def retry_turn(self, turn: Turn) -> None:
        """A reply asked for again; your message sent again (its reply replaced)."""
        if self.streaming is not None:
            self.notify(BUSY, severity="warning")
            return
        if not self.current.model:
            self.notify("No model to ask: pick one with Ctrl+O or /model NAME.", severity="warning")
            return
        if turn.role not in ("user", "assistant") or not self.current.holds(turn):
            self.notify("R asks again for a reply, or sends your message again.", severity="warning")
            return
        turns = self.current.turns
        index = next(i for i, shown in enumerate(turns) if shown is turn)
        first = turn if turn.role == "assistant" else turns[index + 1] if index + 1 < len(turns) else None
        later = self._later(turn)

        def ask_again() -> None:
            if self.streaming is not None or not self.current.holds(turn):
                return
            if first is not None:
                self._drop_from(first)
            self.start_reply(None)

        what = "this reply" if turn.role == "assistant" else "the reply to this message"
        question = f"Ask again for {what}? It replaces the reply and the {_messages(len(later))}."
        self._unless_refused(later, question, "Ask again", ask_again)

    # -- continue ---------------------------------------------------------------------------

    def continue_reply(self) -> None:
        """The last reply, stopped or cut off, goes on where it ended."""
        if self.streaming is not None:
            self.notify(BUSY, severity="warning")
            return
        turns = self.current.turns
        reply = turns[-1] if turns else None
        if reply is None or reply.role != "assistant" or not reply.content:
            self.notify("Nothing to continue: the conversation does not end with a reply.", severity="warning")
            return
        cut_off = reply.stats is not None and reply.stats.done_reason == "length"
        if reply.state == TurnState.COMPLETE and not cut_off:
            self.notify(
                "The last reply is complete; /continue goes on from one that was stopped or cut off.",
                severity="warning",
            )
            return
        # The model that wrote it goes on, if it is on the current server (the one asked).
        current = self.current
        model = reply.model if reply.model and (reply.server or LOCAL) == current.server else current.model
        if not model:
            self.notify("No model to ask: pick one with Ctrl+O or /model NAME.", severity="warning")
            return
        # The history ends with the reply itself, so the model goes on from its last word.
        can_think = not self.catalog.lacks(join_model(model, current.server), "thinking")
        request = replace(current.request(can_think=can_think), model=model)
        reply.state, reply.error, reply.stats, reply.activity = TurnState.STREAMING, "", None, ""
        self.streaming = reply
        self.query_one(ConversationView).update_turn(reply)
        self.stream_reply(request, None, reply)
