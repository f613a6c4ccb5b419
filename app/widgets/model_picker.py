"""The model picker: local models from `/api/tags`, the current one marked."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual import on
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from app.protocol import ModelInfo
from app.text import human_size, sanitize

NO_MODELS = "No models installed.\nTo get one, run:\n  ollama pull llama3.2"
UNREACHABLE = "Models appear when Ollama is reachable."


class ModelPicker(OptionList):
    """Lists models; choosing one posts `ModelPicker.Chosen`, its keys post `Asked`, and
    gaining focus posts `Refresh`. The screen decides what follows."""

    BINDINGS: ClassVar[list[BindingType]] = [  # ids: the names [keys] uses (app/keys.py)
        Binding("i", "ask('info')", "Info", id="models.info"),
        Binding("p", "ask('pull')", "Pull", id="models.pull"),
        Binding("d,delete", "ask('rm')", "Delete", id="models.delete"),
        Binding("r", "refresh", "Refresh", id="models.refresh"),
    ]

    @dataclass
    class Chosen(Message):
        name: str

    @dataclass
    class Asked(Message):
        """A key asked for `action` ("info", "pull", "rm") on the highlighted model."""

        action: str
        name: str

    class Refresh(Message):
        """The list should be fetched again."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._shown: tuple[tuple[ModelInfo, ...], str, bool] | None = None

    def show(self, models: tuple[ModelInfo, ...], current: str, reachable: bool = True) -> None:
        """Redraw the list; keeps the highlight on the same model where it can."""
        if self._shown == (models, current, reachable):
            return
        highlighted = self.highlighted_option.id if self.highlighted_option else None
        self._shown = (models, current, reachable)
        if not models:
            self.set_options([Option(NO_MODELS if reachable else UNREACHABLE, disabled=True)])
            return
        self.set_options(self._option(model, model.name == current) for model in models)
        ids = [model.name for model in models]
        target = highlighted if highlighted in ids else current if current in ids else ids[0]
        self.highlighted = ids.index(target)

    @staticmethod
    def _option(model: ModelInfo, current: bool) -> Option:
        details = [model.parameter_size, model.quantization_level, human_size(model.size) if model.size else ""]
        label = Content.assemble(
            ("● " if current else "  ") + sanitize(model.name),
            ("\n    " + " · ".join(sanitize(part) for part in details if part), "$text-muted"),
        )
        return Option(label.stylize("bold", 0, len(model.name) + 2) if current else label, id=model.name)

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id:
            self.post_message(self.Chosen(event.option.id))

    def action_ask(self, action: str) -> None:
        option = self.highlighted_option
        self.post_message(self.Asked(action, option.id if option is not None and option.id else ""))

    def action_refresh(self) -> None:
        self.post_message(self.Refresh())

    def on_focus(self) -> None:
        self.post_message(self.Refresh())
