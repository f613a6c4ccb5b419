"""The key bindings a person may change in `[keys]`, by action name.

Each name is the `id` of a binding, so Textual's keymap (`App.set_keymap`) moves it to other
keys. This module knows the names and their default keys without importing Textual: the config
file is read before the app loads. A test checks the table against the real bindings.
"""

from __future__ import annotations

import dataclasses
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from textual.binding import Binding, BindingType


@dataclass(frozen=True, slots=True)
class Action:
    """A binding that `[keys]` can move: its name (the binding's id), where it works, its
    default keys (as Textual writes them) and what it does."""

    name: str
    where: str  # "app" and "chat" work everywhere on the chat screen; the others in one list
    keys: str
    summary: str


ACTIONS: tuple[Action, ...] = (
    Action("quit", "app", "ctrl+q", "quit"),
    Action("command_palette", "app", "ctrl+p", "the command palette: themes, keys, quit"),
    Action("stop", "chat", "escape", "stop the reply that is arriving; leave a list; cancel an edit"),
    Action("stop_reply", "chat", "ctrl+c", "stop the reply that is arriving; else copy the selected text"),
    Action("new_conversation", "chat", "ctrl+n", "start a new conversation"),
    Action("focus_models", "chat", "ctrl+o", "focus the model picker"),
    Action("focus_conversations", "chat", "ctrl+s", "focus the saved conversations"),
    Action("search", "chat", "ctrl+f", "search all conversations"),
    Action("retry", "chat", "ctrl+r", "ask again for the last reply"),
    Action("toggle_thinking", "chat", "ctrl+t", "fold or unfold the last reply's thinking"),
    Action("settings", "chat", "f2", "this conversation's settings"),
    Action("copy_reply", "chat", "ctrl+y", "copy the last reply"),
    Action("open_editor", "chat", "ctrl+g", "write the message in your editor"),
    Action("toggle_sidebar", "chat", "ctrl+b", "show or hide the sidebar"),
    Action("help", "chat", "f1", "help"),
    Action("complete_command", "chat", "tab", "complete the /command being typed"),
    Action("models.info", "models", "i", "the highlighted model's details"),
    Action("models.pull", "models", "p", "pull a model"),
    Action("models.delete", "models", "d,delete", "delete the highlighted model"),
    Action("models.refresh", "models", "r", "refresh the model list"),
    Action("conversations.rename", "conversations", "r", "rename the highlighted conversation"),
    Action("conversations.delete", "conversations", "d,delete", "delete the highlighted conversation"),
)
BY_NAME: dict[str, Action] = {action.name: action for action in ACTIONS}
_TOGETHER = {"app": "chat"}  # app bindings are active wherever the chat screen's are

MODIFIERS = ("ctrl", "alt", "shift", "super", "meta", "hyper")
# Textual's names for keys that are not a printable character.
NAMED_KEYS = frozenset(
    {
        "escape", "enter", "tab", "space", "backspace", "delete", "insert", "home", "end",
        "pageup", "pagedown", "up", "down", "left", "right",
        *(f"f{number}" for number in range(1, 25)),
    }
)  # fmt: skip


def with_ids(bindings: Iterable[Binding]) -> list[BindingType]:
    """The bindings, each with its action's name as its id where it has none: the names
    `[keys]` uses for a screen's own actions."""
    return [binding if binding.id else dataclasses.replace(binding, id=binding.action) for binding in bindings]


def parse_keys(value: object) -> str:
    """A `[keys]` value as Textual's key list: "f9", "ctrl+j", "f9, ctrl+x" or a list of them.
    Raises ValueError with a sentence saying what is wrong."""
    if isinstance(value, str):
        parts = value.split(",")
    elif isinstance(value, list) and all(isinstance(part, str) for part in value):
        parts = list(value)
    else:
        raise ValueError(f'takes a key such as "f9" or "ctrl+j", or a list of keys, not {value!r}')
    keys = [_key(part) for part in parts]
    if not keys:
        raise ValueError("needs at least one key")
    return ",".join(dict.fromkeys(keys))


def _key(text: str) -> str:
    """One key, normalised: modifiers and names lower-cased, a lone character kept as typed."""
    text = text.strip()
    *modifiers, base = text.split("+") if len(text) > 1 else [text]
    modifiers = [modifier.lower() for modifier in modifiers]
    for modifier in modifiers:
        if modifier not in MODIFIERS:
            raise ValueError(f"{text!r} has an unknown modifier {modifier!r} (known: {', '.join(MODIFIERS)})")
    if len(base) == 1 and base.isprintable() and not base.isspace():
        return "+".join([*modifiers, base.lower() if modifiers else base])  # Textual's ctrl+j, not ctrl+J
    name = base.lower()
    if name not in NAMED_KEYS and not _is_character_name(name):
        raise ValueError(f"{text!r} is not a key Textual knows (such as f9, escape, ctrl+j, or a character)")
    return "+".join([*modifiers, name])


def _is_character_name(name: str) -> bool:
    """Textual also names a character by its Unicode name: `question_mark` is `?`."""
    try:
        unicodedata.lookup(name.replace("_", " "))
    except KeyError:
        return False
    return True


def clashes(keymap: Mapping[str, str]) -> dict[str, str]:
    """Remapped actions whose new key another action working in the same place also has,
    each with that other action's name. `keymap` maps action names to keys."""
    final = {action.name: keymap.get(action.name, action.keys) for action in ACTIONS}
    owners: dict[tuple[str, str], list[str]] = {}
    for action in ACTIONS:
        place = _TOGETHER.get(action.where, action.where)
        for key in final[action.name].split(","):
            owners.setdefault((place, key), []).append(action.name)
    found: dict[str, str] = {}
    for names in owners.values():
        for name in names:
            others = [other for other in names if other != name]
            if others and name in keymap and name not in found:
                found[name] = others[0]
    return found
