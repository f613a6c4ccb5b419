"""Per-conversation chat settings: system prompt, model parameters, thinking and keep-alive.

Pure data and parsing, no UI. `/set` commands follow `ollama run`:

    /set system TEXT                 system prompt; `/set system` alone clears it
    /set parameter NAME VALUE        a model parameter (see PARAMETERS)
    /set parameter stop A B ...      adds stop sequences; quote one with spaces: "User:"
    /set parameter NAME              unsets it: the model's own value applies again
    /set think, /set nothink         ask for thinking, or not (thinking models only)
    /set think high                  a thinking level instead (low, medium, high, max): the
                                     only setting gpt-oss honours
    /set keepalive 10m               how long the model stays loaded after a reply: a Go
                                     duration (30s, 5m, 1h30m) or seconds; negative keeps it
                                     loaded, 0 unloads at once; `/set keepalive` alone unsets it

Values are typed and range-checked here, because Ollama fails the whole request on a wrongly
typed option and silently ignores unknown ones. Anything invalid raises `ValueError` with one
line to show.

Stored form: the store keeps `system` as is and `options` as one JSON object; thinking and
keep-alive ride in that object under the reserved keys `_think` and `_keep_alive`, which are
never sent as options.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from app.conversation import Turn, history
from app.protocol import ChatRequest, ToolDefinition

THINK_KEY = "_think"
THINK_LEVELS = ("low", "medium", "high", "max")
KEEP_ALIVE_KEY = "_keep_alive"


@dataclass(frozen=True, slots=True)
class Parameter:
    """One model option `/set parameter` accepts: its type, range and a line of help."""

    name: str
    kind: type[int] | type[float]
    help: str
    minimum: float | None = None
    maximum: float | None = None

    def parse(self, text: str) -> int | float:
        text = text.strip()
        try:
            value = self.kind(text)
        except ValueError:
            noun = "a whole number" if self.kind is int else "a number"
            raise ValueError(f"{self.name} takes {noun}, not {text!r}.") from None
        return self.check(value)

    def accepts(self, value: object) -> bool:
        """Whether a stored value has this parameter's type (a whole float may come back an int)."""
        kinds = int if self.kind is int else int | float
        return isinstance(value, kinds) and not isinstance(value, bool)

    def check(self, value: int | float) -> int | float:
        if not math.isfinite(value):
            raise ValueError(f"{self.name} takes a finite number, not {value}.")
        low, high = self.minimum, self.maximum
        if (low is not None and value < low) or (high is not None and value > high):
            if high is None:
                bound = f"at least {_plain(low)}"
            elif low is None:
                bound = f"at most {_plain(high)}"
            else:
                bound = f"between {_plain(low)} and {_plain(high)}"
            raise ValueError(f"{self.name} must be {bound}, not {_plain(value)}.")
        return value


PARAMETERS: dict[str, Parameter] = {
    parameter.name: parameter
    for parameter in (
        Parameter("temperature", float, "creativity; 0 is nearly deterministic", 0),
        Parameter("top_p", float, "nucleus sampling: keep this probability mass", 0, 1),
        Parameter("top_k", int, "sample from the k most likely tokens (0: all)", 0),
        Parameter("min_p", float, "drop tokens below this share of the best one", 0, 1),
        Parameter("num_ctx", int, "context window in tokens (changing it reloads)", 1),
        Parameter("num_predict", int, "most tokens to generate (-1: no limit)", -2),
        Parameter("seed", int, "fixed seed for repeatable replies (-1: random)"),
        Parameter("repeat_penalty", float, "how strongly to penalise repeats (1: off)", 0),
        Parameter("repeat_last_n", int, "how far back to look for repeats (-1: num_ctx)", -1),
    )
}
STOP = "stop"
PARAMETER_NAMES = (*PARAMETERS, STOP)  # the order settings are kept and shown in

# Go's time.ParseDuration, which Ollama uses: units may be chained (1h30m), a sign may lead.
_DURATION = re.compile(r"[-+]?(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|ms|s|m|h))+")
_WORD = re.compile(r'"(?:[^"\\]|\\.)*"?|\S+')  # a quoted string (maybe unfinished) or a word
_HEAD = re.compile(r"(\S*)\s*(.*)", re.DOTALL)  # first word, then the rest (newlines kept)


@dataclass(frozen=True, slots=True)
class ChatOptions:
    """What a conversation sends besides its messages. Empty values mean "the model's own"."""

    system: str = ""
    options: tuple[tuple[str, Any], ...] = ()  # in PARAMETER_NAMES order; stop is a tuple
    think: bool | str | None = None  # None: the server's default (thinking models think)
    keep_alive: str | int | None = None  # None: the server's default (5m)

    def parameter(self, name: str) -> Any:
        """The value set for `name`, or None."""
        return dict(self.options).get(name)

    def with_parameter(self, name: str, value: Any) -> ChatOptions:
        """A copy with `name` set to an already-validated value (None unsets it)."""
        values = dict(self.options)
        if value is None or value == ():
            values.pop(name, None)
        else:
            values[name] = value
        ordered = tuple((key, values[key]) for key in PARAMETER_NAMES if key in values)
        return replace(self, options=ordered)

    def chat_request(self, model: str, turns: Sequence[Turn], tools: Sequence[ToolDefinition] = ()) -> ChatRequest:
        """The request for a reply to `turns` with these settings, offering `tools`."""
        return ChatRequest(
            model,
            history(list(turns), self.system),
            options=self.options,
            think=self.think,
            keep_alive=self.keep_alive,
            tools=tuple(tools),
        )

    def stored_options(self) -> tuple[tuple[str, Any], ...]:
        """The options to save with the conversation (JSON-ready, reserved keys included)."""
        stored: list[tuple[str, Any]] = [(name, list(value) if name == STOP else value) for name, value in self.options]
        if self.think is not None:
            stored.append((THINK_KEY, self.think))
        if self.keep_alive is not None:
            stored.append((KEEP_ALIVE_KEY, self.keep_alive))
        return tuple(stored)

    @classmethod
    def from_stored(cls, system: str, stored: Sequence[tuple[str, Any]]) -> ChatOptions:
        """Settings from a saved conversation. Entries that do not validate (an older or
        hand-edited database) are dropped rather than sent to the server."""
        result = cls(system=system)
        for name, value in stored:
            try:
                if name == THINK_KEY and (isinstance(value, bool) or value in THINK_LEVELS):
                    result = replace(result, think=value)
                elif name == KEEP_ALIVE_KEY and not isinstance(value, bool):
                    result = replace(result, keep_alive=parse_keep_alive(str(value)))
                elif name == STOP and isinstance(value, list | tuple):
                    stops = tuple(dict.fromkeys(s for s in value if isinstance(s, str) and s))
                    result = result.with_parameter(STOP, stops)
                elif name in PARAMETERS and PARAMETERS[name].accepts(value):
                    result = result.with_parameter(name, PARAMETERS[name].check(value))
            except ValueError:
                continue
        return result


@dataclass(frozen=True, slots=True)
class Change:
    """The outcome of a `/set` command: the new settings and a line confirming it."""

    options: ChatOptions
    message: str


def apply_set(current: ChatOptions, argument: str) -> Change:
    """Apply the text after `/set` to `current`. Raises ValueError with a line to show."""
    what, rest = _split(argument)
    match what.lower():
        case "system":
            text = _unquote(rest)
            message = "Set system message." if text else "Cleared the system message."
            return Change(replace(current, system=text), message)
        case "parameter":
            return _set_parameter(current, rest)
        case "think":
            level = rest.strip().lower()
            if not level:
                return Change(replace(current, think=True), "Set 'think' mode.")
            if level not in THINK_LEVELS:
                raise ValueError(f"Thinking levels are {', '.join(THINK_LEVELS)}; /set nothink turns thinking off.")
            return Change(replace(current, think=level), f"Set thinking level to {level!r}.")
        case "nothink":
            return Change(replace(current, think=False), "Set 'nothink' mode.")
        case "keepalive" | "keep_alive":
            value = parse_keep_alive(rest) if rest else None
            if value is None:
                return Change(replace(current, keep_alive=None), "Keep-alive is the server's default again.")
            return Change(replace(current, keep_alive=value), f"Set keep-alive to {value}.")
        case "":
            raise ValueError(
                "Usage: /set system TEXT | parameter NAME VALUE | think [LEVEL] | nothink | keepalive DURATION"
            )
        case _:
            raise ValueError(f"Unknown setting {what!r}. Try system, parameter, think, nothink or keepalive.")


def _set_parameter(current: ChatOptions, text: str) -> Change:
    name, value = _split(text)
    name = name.lower()
    if not name:
        raise ValueError(f"Usage: /set parameter NAME VALUE, where NAME is one of {', '.join(PARAMETER_NAMES)}.")
    if name not in PARAMETER_NAMES:
        raise ValueError(f"Unknown parameter {name!r}. Known: {', '.join(PARAMETER_NAMES)}.")
    if not value:
        return Change(current.with_parameter(name, None), f"Unset parameter '{name}': the model's value applies.")
    if name == STOP:
        added = parse_stop(value)
        stops = tuple(dict.fromkeys((*(current.parameter(STOP) or ()), *added)))
        return Change(current.with_parameter(STOP, stops), f"Set parameter 'stop' to {format_stop(stops)}.")
    parsed = PARAMETERS[name].parse(value)
    return Change(current.with_parameter(name, parsed), f"Set parameter '{name}' to '{_plain(parsed)}'.")


def parse_parameter(name: str, text: str) -> Any:
    """A form field's text as the value of `name`; empty text is None (unset)."""
    text = text.strip()
    if not text:
        return None
    if name == STOP:
        return tuple(dict.fromkeys(parse_stop(text)))
    return PARAMETERS[name].parse(text)


def format_parameter(name: str, value: Any) -> str:
    """A value as a form field or `/show` writes it; `parse_parameter` reads it back."""
    return format_stop(value) if name == STOP else _plain(value)


def parse_stop(text: str) -> tuple[str, ...]:
    """Stop sequences separated by spaces. A quoted one is a JSON string, so it may hold
    spaces, quotes and escapes such as \\n; `ollama show` prints them quoted that way too."""
    stops: list[str] = []
    for word in _WORD.findall(text):
        stop = word
        if word.startswith('"'):
            try:
                stop = json.loads(word)
            except ValueError:
                raise ValueError(f"Stop sequence {word} has an unfinished quote or a bad escape.") from None
        if stop:
            stops.append(stop)
    if not stops:
        raise ValueError("Give at least one non-empty stop sequence.")
    return tuple(stops)


def format_stop(stops: Sequence[str]) -> str:
    return " ".join(
        stop if stop.isprintable() and not any(c in stop for c in ' "\\') else json.dumps(stop, ensure_ascii=False)
        for stop in stops
    )


def parse_keep_alive(text: str) -> str | int:
    """`10m`, `1h30m`, `-1m` stay text (Go parses them); `300`, `-1`, `0` become seconds."""
    text = text.strip()
    if re.fullmatch(r"[-+]?\d+", text):
        return int(text)
    if _DURATION.fullmatch(text):
        return text
    raise ValueError(
        f"Keep-alive takes a duration such as 30s, 5m or 1h30m, or seconds (negative: forever), not {text!r}."
    )


def describe(options: ChatOptions) -> list[str]:
    """The settings as plain lines for `/show` (untrusted: sanitize before drawing)."""
    if options.system:
        lines = ["System message:", *(f"  {line}" for line in options.system.splitlines())]
    else:
        lines = ["System message: the model's own"]
    if options.options:
        lines.append("Parameters:")
        width = max(len(name) for name, _ in options.options)
        lines.extend(f"  {name:<{width}}  {format_parameter(name, value)}" for name, value in options.options)
    else:
        lines.append("Parameters: the model's own")
    if options.think is None:
        think = "the model's default"
    elif options.think is True:
        think = "on"
    elif options.think is False:
        think = "off"
    else:
        think = f"level {options.think}"
    lines.append(f"Thinking: {think}")
    keep = "the server's default" if options.keep_alive is None else describe_keep_alive(options.keep_alive)
    lines.append(f"Keep-alive: {keep}")
    return lines


def describe_keep_alive(value: str | int) -> str:
    if isinstance(value, int):
        negative, zero, shown = value < 0, value == 0, f"{value}s"
    else:  # a duration is zero when no digit in it is
        negative, zero, shown = value.startswith("-"), not re.search(r"[1-9]", value), value
    if negative:
        return f"{shown} (stays loaded)"
    if zero:
        return f"{shown} (unloads after each reply)"
    return shown


def _plain(value: Any) -> str:
    """Numbers without noise: 1.0 -> 1, 0.30000000000000004 stays as Python prints it."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _split(text: str) -> tuple[str, str]:
    match = _HEAD.match(text.strip())
    assert match is not None  # the pattern matches any text
    return match[1], match[2].strip()


def _unquote(text: str) -> str:
    """`ollama run` accepts `/set system "..."` and `\"\"\"...\"\"\"`: drop the quotes."""
    for quote in ('"""', '"'):
        if len(text) >= 2 * len(quote) and text.startswith(quote) and text.endswith(quote):
            return text[len(quote) : -len(quote)].strip()
    return text
