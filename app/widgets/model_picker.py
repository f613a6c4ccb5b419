"""The model picker: every server's models, the current one marked.

With one server (no `[servers.*]` in the config file) it is a plain list of that server's
models. With several, each server has a heading with its name and state (connected and its
version, connecting, unreachable, key refused, no models…) and its models under it; a server
that fails shows no models. Enter on a heading asks about its server (`Chosen` with the
heading's id, "@NAME").
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import ClassVar

from textual import on
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from app.model_catalog import ServerState
from app.protocol import ModelInfo
from app.servers.config import LOCAL
from app.servers.registry import join_model
from app.text import human_size, sanitize

NO_MODELS = "No models installed.\nTo get one, run:\n  ollama pull llama3.2"
UNREACHABLE = "Models appear when Ollama is reachable."
HEADING = "@"  # a server heading's id is "@NAME": no model's name starts so


def heading_id(server: str) -> str:
    return HEADING + server


class ModelPicker(OptionList):
    """Lists models; choosing one posts `ModelPicker.Chosen`, its keys post `Asked`, and
    gaining focus posts `Refresh`. The screen decides what follows. A model's id is its
    address (`join_model`): its name for `local`, `model@server` for another server."""

    BINDINGS: ClassVar[list[BindingType]] = [  # ids: the names [keys] uses (app/keys.py)
        Binding("i", "ask('info')", "Info", id="models.info"),
        Binding("p", "ask('pull')", "Pull", id="models.pull"),
        Binding("d,delete", "ask('rm')", "Delete", id="models.delete"),
        Binding("r", "refresh", "Refresh", id="models.refresh"),
    ]

    @dataclass
    class Chosen(Message):
        name: str  # a model's address, or a server heading's id ("@NAME")

    @dataclass
    class Asked(Message):
        """A key asked for `action` ("info", "pull", "rm") on the highlighted entry."""

        action: str
        name: str

    class Refresh(Message):
        """The list should be fetched again."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._shown: tuple[tuple[ServerState, ...], str, bool] | None = None

    def show(self, states: Sequence[ServerState], current: str, *, headings: bool = False) -> None:
        """Redraw the list from the servers' states, in order (`current` is an address)."""
        shown = (tuple(states), current, headings)
        if self._shown == shown:
            return
        highlighted = self.highlighted_option.id if self.highlighted_option else None
        self._shown = shown
        options = list(_grouped(states, current) if headings else _plain(states[0], current))
        self.set_options(options)
        ids = [option.id for option in options if not option.disabled and option.id]
        models = [name for name in ids if not name.startswith(HEADING)]
        # While the person moves in the list the highlight stays where they put it; otherwise
        # it marks the current model (servers report in any order as the list fills in).
        wanted = (highlighted, current) if self.has_focus else (current, highlighted)
        target = next((name for name in (*wanted, *models, *ids) if name in ids), None)
        if target is not None:
            self.highlighted = ids_index(options, target)

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


def ids_index(options: list[Option], target: str) -> int:
    return next(index for index, option in enumerate(options) if option.id == target)


def _plain(state: ServerState, current: str) -> Iterator[Option]:
    """The only server, as the picker has always shown it: its models (the last ones it listed,
    while it cannot be reached), else how to get some; nothing before it first answers."""
    if not state.models and state.reachable is not None:
        yield Option(UNREACHABLE if state.reachable is False else NO_MODELS, disabled=True)
    for model in state.models:
        yield _model_option(model, state.name, current)


def _grouped(states: Sequence[ServerState], current: str) -> Iterator[Option]:
    for state in states:
        yield _heading(state)
        if state.failed:
            continue
        if state.reachable and not state.models:
            how = "ollama pull llama3.2" if state.name == LOCAL else f"/pull NAME@{state.name}"
            yield Option(Content.styled(f"  No models. To get one: {how}", "$text-muted"), disabled=True)
        for model in state.models:
            yield _model_option(model, state.name, current)


def _heading(state: ServerState) -> Option:
    """A server's name and state. Enter on it says more: what is wrong, or its URL and version."""
    name = (sanitize(state.name), "bold")
    if state.reachable is None:
        label = Content.assemble(name, ("  connecting…", "$text-muted"))
    elif state.failed:
        colour = "$warning" if state.reachable else "$error"
        label = Content.assemble(name, (f"  ● {state.problem}", colour), ("\n    Enter: what is wrong", "$text-muted"))
    else:
        version = f" · {sanitize(state.version)}" if state.version else ""
        label = Content.assemble(name, (f"  ● connected{version}", "$success"))
    return Option(label, id=heading_id(state.name))


def _model_option(model: ModelInfo, server: str, current: str) -> Option:
    address = join_model(model.name, server)
    chosen = address == current
    details = [model.parameter_size, model.quantization_level, human_size(model.size) if model.size else ""]
    shown = " · ".join(sanitize(part) for part in details if part)  # OpenAI-compatible servers list none
    label = Content.assemble(
        ("● " if chosen else "  ") + sanitize(model.name), ("\n    " + shown if shown else "", "$text-muted")
    )
    return Option(label.stylize("bold", 0, len(model.name) + 2) if chosen else label, id=address)
