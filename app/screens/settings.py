"""The conversation's settings as a form: system message, model parameters, thinking, keep-alive.

Every field is read through `app.chat_options`, the same rules `/set` follows. Save keeps
nothing unless every field is valid; each invalid field says why beside it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static, Switch, TextArea

from app.chat_options import (
    PARAMETERS,
    STOP,
    ChatOptions,
    format_parameter,
    parse_keep_alive,
    parse_parameter,
)
from app.widgets.safe_text_area import SafeTextArea

# The form's parameters; others set with `/set parameter` (min_p, ...) are kept as they are.
FIELDS = ("temperature", "top_p", "top_k", "num_ctx", "num_predict", "seed", STOP, "repeat_penalty")
KEEP_ALIVE = "keep_alive"
STOP_HELP = 'space-separated; "quote one" with spaces'
KEEP_ALIVE_HELP = "e.g. 10m, 1h, 300 (seconds); -1 stays loaded"


def field_id(name: str) -> str:
    return "field-" + name.replace("_", "-")


def note_id(name: str) -> str:
    return "note-" + name.replace("_", "-")


def field_help(name: str) -> str:
    return {STOP: STOP_HELP, KEEP_ALIVE: KEEP_ALIVE_HELP}.get(name) or PARAMETERS[name].help


class SettingsScreen(ModalScreen[ChatOptions | None]):
    """Edits `options`; dismisses with the new settings on Save, None on Esc."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss(None)", "Cancel"),
        Binding("ctrl+s", "save", "Save", priority=True),  # over the text area's own keys
    ]

    def __init__(self, options: ChatOptions) -> None:
        super().__init__()
        self.options = options

    def compose(self) -> ComposeResult:
        with Vertical(id="settings-dialog"):
            yield Label("Settings for this conversation", id="settings-title")
            with VerticalScroll(id="settings-form"):
                yield Label("System message", classes="field-name")
                yield SafeTextArea(self.options.system, id="field-system", soft_wrap=True)
                for name in FIELDS:
                    value = self.options.parameter(name)
                    yield from self._field(name, "" if value is None else format_parameter(name, value))
                keep = self.options.keep_alive
                yield from self._field(KEEP_ALIVE, "" if keep is None else str(keep))
                with Horizontal(classes="field"):
                    yield Label("think", classes="field-name")
                    yield Switch(self.options.think not in (None, False), id="field-think")
                    yield Static(
                        "thinking models reason first (off: answer at once)",
                        classes="field-note",
                        markup=False,
                    )
            with Horizontal(classes="buttons"):
                yield Button("Save", variant="primary", id="save")
                yield Button("Cancel", id="cancel")

    def _field(self, name: str, value: str) -> ComposeResult:
        with Horizontal(classes="field"):
            yield Label(name, classes="field-name")
            yield Input(value, placeholder="default", id=field_id(name), compact=True)
            yield Static(field_help(name), id=note_id(name), classes="field-note", markup=False)

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()

    @on(Button.Pressed, "#save")
    @on(Input.Submitted)
    def action_save(self) -> None:
        result = replace(self.options, system=self.query_one(TextArea).text.strip())
        invalid: list[Input] = []
        for name in (*FIELDS, KEEP_ALIVE):
            field = self.query_one(f"#{field_id(name)}", Input)
            try:
                value: Any = self._parse(name, field.value)
            except ValueError as error:
                self._mark(name, str(error))
                invalid.append(field)
                continue
            self._mark(name, "")
            if name == KEEP_ALIVE:
                result = replace(result, keep_alive=value)
            else:
                result = result.with_parameter(name, value)
        if invalid:
            invalid[0].focus()
            return
        self.dismiss(replace(result, think=self._think()))

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)

    @staticmethod
    def _parse(name: str, text: str) -> Any:
        if name == KEEP_ALIVE:
            return parse_keep_alive(text) if text.strip() else None
        return parse_parameter(name, text)

    def _think(self) -> bool | str | None:
        # The switch cannot say "the model's default"; left as shown, that default stays.
        on = self.query_one("#field-think", Switch).value
        return self.options.think if on == (self.options.think not in (None, False)) else on

    def _mark(self, name: str, error: str) -> None:
        note = self.query_one(f"#{note_id(name)}", Static)
        note.update(error or field_help(name))
        note.set_class(bool(error), "-error")
        self.query_one(f"#{field_id(name)}", Input).set_class(bool(error), "-invalid")
