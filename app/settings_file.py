"""The config file, `config.toml`: what it may hold, and what a given file says.

    host = "http://127.0.0.1:11434"   # the Ollama server
    model = "llama3.2"                # the model to start with
    theme = "textual-light"           # a Textual theme; the app writes it back when changed
    [options]                         # defaults for new conversations, as /set parameter
    temperature = 0.7
    [keys]                            # bindings moved by action name (app/keys.py)
    stop = "f9"

Parts that later features read are registered as sections (`SECTIONS`): a table name, the
top-level keys beside it, and the parser of the module that owns them.

Reading never fails: every problem (bad TOML, an unknown key, a wrong type, a bad value) is a
`Problem` naming the file, line and key, and only what is wrong falls back to its default. A
line that is not valid TOML is skipped (a broken table header skips its table) and the rest
of the file still applies. Reading uses the standard `tomllib`; writing back is
`settings_writer`'s job.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from app import keys
from app.chat_options import PARAMETER_NAMES, PARAMETERS, STOP, ChatOptions
from app.config import DEFAULT_THEME
from app.host import parse_host, split_credentials
from app.servers.config import SERVERS_KEY, parse_servers_config
from app.toml_lines import key_lines, line_of
from app.tools.config import MCP_SERVERS_KEY, parse_tools_config

T = TypeVar("T")
MAX_SKIPPED_LINES = 5  # past that the file is more broken than a slip: it is ignored whole
OWN_KEYS = ("host", "model", "theme", "options", "keys")
_ERROR_PLACE = re.compile(r"\s*\((?:at line (\d+), column \d+|at end of document)\)$")
_LEADING_KEY = re.compile(r"[A-Za-z0-9_.\-]+")

SectionParser = Callable[[Mapping[str, Any]], tuple[object, Sequence[str]]]


@dataclass(frozen=True, slots=True)
class Section:
    """A part of the file another module reads: its table, the top-level keys that go with
    it, and its parser. The parser gets the whole document (plain values, as `tomllib` gives
    them) and returns its settings and one sentence per problem, each starting with its key;
    a section without a parser is accepted and not read yet."""

    table: str
    keys: tuple[str, ...] = ()
    parse: SectionParser | None = None


SECTIONS: dict[str, Section] = {}


def register(section: Section) -> None:
    SECTIONS[section.table] = section


# Registration point for the parts of the file other modules own. A feature that reads one
# gives its parser here; its settings are then, e.g., `ConfigFile.section("mcp_servers", ToolsConfig)`.
register(Section(MCP_SERVERS_KEY, ("max_tool_rounds", "tool_timeout"), parse_tools_config))  # app/tools/config.py
register(Section(SERVERS_KEY, (), parse_servers_config))  # several servers, [servers.NAME]: app/servers/config.py


@dataclass(frozen=True, slots=True)
class Problem:
    """Something in the file that cannot be used, and where it is."""

    path: Path
    line: int | None
    key: str  # dotted, as written; "" for the file as a whole
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else str(self.path)
        return f"{where}: {self.key}: {self.message}" if self.key else f"{where}: {self.message}"


@dataclass(frozen=True, slots=True)
class ConfigFile:
    """What one config file says: values that passed their checks, and the problems."""

    path: Path
    found: bool = False
    host: str | None = None  # a base URL, as parse_host makes it (credentials kept)
    model: str | None = None
    theme: str | None = None  # a name; whether the app knows it is checked where themes are
    options: ChatOptions = field(default_factory=ChatOptions)
    keymap: tuple[tuple[str, str], ...] = ()  # action name -> keys
    sections: tuple[tuple[str, object], ...] = ()  # table -> what its parser made
    problems: tuple[Problem, ...] = ()
    lines: tuple[tuple[str, int], ...] = field(default=(), repr=False)

    def line(self, key: str) -> int | None:
        """The line `key` (dotted) is written on, or that of the table holding it."""
        return line_of(dict(self.lines), key)

    def problem(self, key: str, message: str) -> Problem:
        return Problem(self.path, self.line(key), key, message)

    def section(self, table: str, kind: type[T]) -> T | None:
        """The settings a registered section's parser made, if it made that kind."""
        value = dict(self.sections).get(table)
        return value if isinstance(value, kind) else None

    def __repr__(self) -> str:
        # Textual prints the locals of a crash: the host may carry a password.
        host = split_credentials(self.host)[0] if self.host else None
        return f"ConfigFile(path={self.path!r}, found={self.found!r}, host={host!r}, problems={len(self.problems)})"


def load(path: Path, *, named: bool = False) -> ConfigFile:
    """Read the config file at `path`. A missing file is no problem unless it was `named`
    (given on the command line), where it is most likely a typing mistake."""
    try:
        text = path.read_bytes().decode("utf-8-sig")  # a byte-order mark, as some editors write, is fine
    except FileNotFoundError:
        missing = (Problem(path, None, "", "no such file; using the defaults."),) if named else ()
        return ConfigFile(path, problems=missing)
    except UnicodeDecodeError as error:
        line = error.object[: error.start].count(b"\n") + 1
        return ConfigFile(path, True, problems=(Problem(path, line, "", "is not UTF-8 text; using the defaults."),))
    except OSError as error:  # unreadable, a folder
        reason = error.strerror or str(error)
        return ConfigFile(
            path, True, problems=(Problem(path, None, "", f"cannot be read ({reason}); using the defaults."),)
        )
    document, problems = _parse(text, path)
    return _Reader(path, document, key_lines(text), problems).read()


def _parse(text: str, path: Path) -> tuple[dict[str, Any], list[Problem]]:
    """The document, with lines that are not valid TOML blanked out (and said)."""
    lines = text.splitlines(keepends=True)
    problems: list[Problem] = []
    first = ""
    for _ in range(MAX_SKIPPED_LINES + 1):
        try:
            return tomllib.loads("".join(lines)), problems
        except tomllib.TOMLDecodeError as error:
            match = _ERROR_PLACE.search(str(error))
            reason = (str(error)[: match.start()] if match else str(error)).rstrip(".")
            if match and match[1]:
                number = int(match[1])
            else:  # at the end: something left open, most likely on the last line written
                number = next((i + 1 for i in range(len(lines) - 1, -1, -1) if lines[i].strip()), 0)
            first = first or (f"{reason}, line {number}" if number else reason)
            if not 0 < number <= len(lines) or not lines[number - 1].strip() or len(problems) == MAX_SKIPPED_LINES:
                break
            if lines[number - 1].lstrip().startswith("["):  # a table header: its keys would land elsewhere
                end = next((i for i in range(number, len(lines)) if lines[i].lstrip().startswith("[")), len(lines))
                what = "this table is skipped"
            else:
                end, what = number, "this line is skipped"
            for index in range(number - 1, end):
                lines[index] = "\n"
            problems.append(Problem(path, number, "", f"not valid TOML ({reason}); {what}."))
    message = f"not valid TOML ({first}); the whole file is ignored, and the app will not rewrite it."
    return {}, [Problem(path, None, "", message)]


class _Reader:
    """Checks one parsed document key by key; what fails is left out and said."""

    def __init__(self, path: Path, document: dict[str, Any], lines: dict[str, int], problems: list[Problem]) -> None:
        self.path = path
        self.document = document
        self.lines = lines
        self.problems = problems

    def problem(self, key: str, message: str) -> None:
        self.problems.append(Problem(self.path, line_of(self.lines, key), key, message))

    def read(self) -> ConfigFile:
        document = self.document
        known = {*OWN_KEYS, *(name for section in SECTIONS.values() for name in (section.table, *section.keys))}
        for key in document:
            if key not in known:
                self.problem(key, f"unknown setting{suggestion(key, known)}; ignored.")
        return ConfigFile(
            self.path,
            True,
            host=self._host(),
            model=self._name("model"),
            theme=self._name("theme"),
            options=self._options(),
            keymap=self._keymap(),
            sections=self._sections(),
            problems=tuple(self.problems),  # evaluated last: after every check above added its own
            lines=tuple(self.lines.items()),
        )

    def _host(self) -> str | None:
        value = self.document.get("host")
        if value is None:
            return None
        if not isinstance(value, str):
            self.problem("host", f'takes a URL in quotes, such as "http://127.0.0.1:11434", not {value!r}; ignored.')
            return None
        try:
            return parse_host(value)
        except ValueError as error:  # its sentence already hides any password
            self.problem("host", f"{error} Ignored.")
            return None

    def _name(self, key: str) -> str | None:
        value = self.document.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            self.problem(key, f"takes a name in quotes, not {value!r}; ignored.")
            return None
        return value.strip()

    def _table(self, key: str) -> dict[str, Any]:
        value = self.document.get(key, {})
        if not isinstance(value, dict):
            self.problem(key, f"must be a table ([{key}]), not {value!r}; ignored.")
            return {}
        return value

    def _options(self) -> ChatOptions:
        options = ChatOptions()
        for name, value in self._table("options").items():
            key = f"options.{name}"
            if name not in PARAMETER_NAMES:
                known = ", ".join(PARAMETER_NAMES)
                self.problem(key, f"unknown option{suggestion(name, PARAMETER_NAMES)}; ignored. Known: {known}.")
                continue
            try:
                options = options.with_parameter(name, _option(name, value))
            except ValueError as error:
                self.problem(key, f"{error} Ignored.")
        return options

    def _keymap(self) -> tuple[tuple[str, str], ...]:
        keymap: dict[str, str] = {}
        for name, value in _flatten(self._table("keys")):
            key = f"keys.{name}"
            if name not in keys.BY_NAME:
                self.problem(
                    key,
                    f"no action is called {name!r}{suggestion(name, keys.BY_NAME)}; ignored. "
                    "`ollama-tui config show` lists them.",
                )
                continue
            try:
                keymap[name] = keys.parse_keys(value)
            except ValueError as error:
                self.problem(key, f"{error}; ignored.")
        clashing = keys.clashes(keymap)
        for name, other in clashing.items():
            self.problem(f"keys.{name}", f"{keymap[name]} is already {other}'s key; ignored.")
        return tuple((name, value) for name, value in keymap.items() if name not in clashing)

    def _sections(self) -> tuple[tuple[str, object], ...]:
        made: list[tuple[str, object]] = []
        for section in SECTIONS.values():
            if section.parse is None:
                continue
            value, sentences = section.parse(self.document)
            made.append((section.table, value))
            for sentence in sentences:
                named = _LEADING_KEY.match(sentence)
                line = line_of(self.lines, named[0].rstrip(".")) if named else None
                self.problems.append(Problem(self.path, line, "", sentence))
        return tuple(made)


def theme_problem(config: ConfigFile | None, available: Iterable[str]) -> Problem | None:
    """The problem with the file's theme when there is no theme of that name (Textual's
    themes are known only once Textual is loaded, so the app asks, not the reader)."""
    names = sorted(available)
    if config is None or config.theme is None or config.theme in names:
        return None
    message = f"no theme is called {config.theme!r}{suggestion(config.theme, names)}; using {DEFAULT_THEME}."
    return config.problem("theme", f"{message} Known: {', '.join(names)}.")


def _option(name: str, value: object) -> Any:
    """A value from [options], checked as `/set parameter` checks it; ValueError if wrong."""
    if name == STOP:
        stops = [value] if isinstance(value, str) else value
        if not isinstance(stops, list) or not all(isinstance(stop, str) for stop in stops):
            raise ValueError(f'stop takes a string or a list of strings, such as ["User:"], not {value!r}.')
        if not any(stops):
            raise ValueError("stop needs at least one non-empty stop sequence.")
        return tuple(dict.fromkeys(stop for stop in stops if stop))
    parameter = PARAMETERS[name]
    if not parameter.accepts(value):
        noun = "a whole number" if parameter.kind is int else "a number"
        raise ValueError(f"{name} takes {noun}, not {value!r}.")
    assert isinstance(value, int | float)  # accepts() said so
    return parameter.check(float(value) if parameter.kind is float else value)


def _flatten(table: Mapping[str, Any], prefix: str = "") -> list[tuple[str, object]]:
    """`[keys.models] refresh = "f5"` and `"models.refresh" = "f5"` both name models.refresh."""
    pairs: list[tuple[str, object]] = []
    for name, value in table.items():
        if isinstance(value, dict):
            pairs.extend(_flatten(value, f"{prefix}{name}."))
        else:
            pairs.append((f"{prefix}{name}", value))
    return pairs


def suggestion(name: str, known: Iterable[str]) -> str:
    """` (did you mean NAME?)` for the known name nearest a mistyped one, else ""."""
    close = difflib.get_close_matches(name, list(known), n=1)
    return f" (did you mean {close[0]}?)" if close else ""
