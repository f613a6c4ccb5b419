"""The chat screen's copying and saving: a message as Markdown, one of its code blocks (chosen
in a dialog when there are several), the whole conversation; a code block into a file, asking
before one is replaced.

Every copy goes through `App.copy_to_clipboard` with a name for what it is, so the app's one
toast can say "Copied 12 lines of python through …". Text the model wrote is copied and saved
without terminal escape sequences (`sanitize`), as it is shown.

A part of `ChatScreen` (app/screens/chat.py), which is built from it.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, cast

from textual import on
from textual.screen import Screen

from app.clipboard import describe
from app.conversation import ConversationInfo, Turn
from app.export import to_markdown, write_export
from app.open_conversation import OpenConversation
from app.render.sections import CodeText
from app.screens.code_chooser import CodeChooser, block_name
from app.screens.dialogs import Confirm
from app.text import sanitize
from app.widgets.conversation_view import ConversationView

if TYPE_CHECKING:
    from app.app import OllamaTui


def _who(turn: Turn) -> str:
    return {"user": "your message", "assistant": "the reply"}.get(turn.role, "the message")


def _code_name(number: int, block: CodeText) -> str:
    return f"{describe(block.code, block_name(block))} (code block {number})"


class CopyPart(Screen[None]):
    current: OpenConversation

    # -- what the view asks for -------------------------------------------------------------

    @on(ConversationView.CopyRequested)
    def _copy_requested(self, event: ConversationView.CopyRequested) -> None:
        if event.code is None:
            self.copy_message(event.turn)
        else:
            self.copy_code(event.turn, event.code)

    # -- copying ----------------------------------------------------------------------------

    def copy_text(self, text: str, what: str) -> None:
        """To the clipboard; the app says where it went. `what` names it for that sentence."""
        cast("OllamaTui", self.app).copy_to_clipboard(text, what=what)

    def code_blocks(self, turn: Turn) -> list[CodeText]:
        return self.query_one(ConversationView).code_blocks(turn)

    def last_reply(self) -> Turn | None:
        return next((turn for turn in reversed(self.current.turns) if turn.role == "assistant"), None)

    def action_copy_reply(self) -> None:
        reply = self.last_reply()
        if reply is None:
            self.notify("No reply to copy yet.", severity="warning")
        else:
            self.copy_message(reply)

    def copy_message(self, turn: Turn) -> None:
        """The message as its Markdown source."""
        text = sanitize(turn.content)
        if not text.strip():
            self.notify(f"Nothing to copy: {_who(turn)} has no text.", severity="warning")
            return
        self.copy_text(text, f"{_who(turn)} as Markdown ({describe(text)})")

    def copy_code(self, turn: Turn, number: int) -> None:
        """Code block `number` (from 1) of `turn`; 0: the only one, or the one chosen in a
        dialog when there are several."""
        blocks = self.code_blocks(turn)
        if not blocks:
            self.notify(f"There is no code block in {_who(turn)}.", severity="warning")
        elif number > len(blocks) or number < 0:
            count = "only one code block" if len(blocks) == 1 else f"{len(blocks)} code blocks"
            self.notify(f"There is no code block {number}: {_who(turn)} has {count}.", severity="warning")
        elif number or len(blocks) == 1:
            number = number or 1
            block = blocks[number - 1]
            self.copy_text(sanitize(block.code), _code_name(number, block))
        else:

            def chosen(choice: int | None) -> None:
                if choice:
                    self.copy_text(sanitize(blocks[choice - 1].code), _code_name(choice, blocks[choice - 1]))

            self.app.push_screen(CodeChooser(blocks), chosen)

    def copy_conversation(self) -> None:
        """The whole conversation as Markdown, as /export writes it."""
        turns = self.current.turns
        if not turns:
            self.notify("Nothing to copy yet: the conversation is empty.", severity="warning")
            return
        now = time.time()
        info = self.current.info or ConversationInfo(0, "", now, now, self.current.model)
        text = to_markdown(info, turns)
        self.copy_text(text, f"the conversation as Markdown ({describe(text)})")

    # -- saving -----------------------------------------------------------------------------

    def save_code(self, target: str, number: int | None) -> None:
        """Code block `number` (None: the last) of the last reply into the file `target`; an
        existing file is replaced only once the person says so."""
        reply = self.last_reply()
        blocks = self.code_blocks(reply) if reply is not None else []
        if not blocks:
            self.notify("There is no code block in the last reply to save.", severity="warning")
            return
        if number is not None and not 1 <= number <= len(blocks):
            count = "only one code block" if len(blocks) == 1 else f"{len(blocks)} code blocks"
            self.notify(f"There is no code block {number}: the last reply has {count}.", severity="warning")
            return
        number = number or len(blocks)
        block = blocks[number - 1]
        try:
            path = Path(target).expanduser()
        except RuntimeError:  # ~nobody/file: no such user
            self.notify(f"Cannot save to {target}: there is no such home folder.", severity="error")
            return
        text, what = sanitize(block.code), _code_name(number, block)
        if path.is_dir():
            self.notify(f"Cannot save to {target}: it is a folder.", severity="error")
        elif not self._write(path, text, what, target, force=False):

            def answered(yes: bool | None) -> None:
                if yes:
                    self._write(path, text, what, target, force=True)
                else:
                    self.notify(f"Not saved: {target} is left as it was.")

            self.app.push_screen(Confirm(f"{target} already exists. Replace it?", yes="Replace"), answered)

    def _write(self, path: Path, text: str, what: str, target: str, force: bool) -> bool:
        """Write the file and say so, or say why not; False only when it exists already."""
        try:
            write_export(path, text, force=force)
        except FileExistsError:
            return False
        except IsADirectoryError:
            self.notify(f"Cannot save to {target}: it is a folder.", severity="error")
        except FileNotFoundError as error:
            missing = not path.parent.is_dir()
            reason = f"the folder {path.parent} does not exist" if missing else error.strerror or str(error)
            self.notify(f"Cannot save to {target}: {reason}.", severity="error")
        except PermissionError:
            self.notify(f"Cannot save to {target}: permission denied.", severity="error")
        except (OSError, ValueError) as error:  # a read-only disk, a name too long, a NUL byte
            self.notify(f"Cannot save to {target}: {getattr(error, 'strerror', None) or error}.", severity="error")
        else:
            self.notify(f"Saved {what} to {path}.")
        return True
