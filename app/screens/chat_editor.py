"""The chat screen's Ctrl+G: the message being written, in the person's own editor.

The app hands the terminal to the editor (`App.suspend`) and takes it back when the editor
exits; what was saved replaces the input. An editor that cannot be found, fails or exits with
an error is named, and the text typed so far stays as it was.

A part of `ChatScreen` (app/screens/chat.py), which is built from it.
"""

from __future__ import annotations

from textual.app import SuspendNotSupported
from textual.screen import Screen

from app import editor
from app.widgets.prompt_input import PromptInput


class EditorPart(Screen[None]):
    def action_open_editor(self) -> None:
        prompt = self.query_one(PromptInput)
        try:
            command = editor.editor_command()
        except editor.NoEditor as error:
            self.notify(str(error), title="Editor", severity="error")
            return
        if self.app.is_headless:  # no terminal to hand over (tests): the editor runs without one
            edited = editor.edit(prompt.text, command)
        else:
            try:
                with self.app.suspend():  # the editor has the terminal until it exits
                    edited = editor.edit(prompt.text, command)
            except SuspendNotSupported:
                self.notify("This terminal cannot be handed over to an editor.", title="Editor", severity="error")
                return
        if edited.error:
            self.notify(f"{edited.error} Your text is as it was.", title="Editor", severity="error")
        else:
            prompt.text = edited.text
            prompt.move_cursor(prompt.document.end)
        prompt.focus()
