"""The `[mcp_servers.NAME]` sections of the config file, and the tool settings beside them.

`parse_tools_config()` takes the whole parsed config document (a mapping, as tomllib or tomlkit
gives it) and returns typed settings plus one sentence per problem, each naming its key. A
server with a problem is left out, so it never starts half-configured; a bad setting keeps its
default.

`${VAR}` in `env` and `headers` values is expanded from the environment by `resolve()`, when
the server starts. Those values are secrets (tokens, keys): they stay in memory, and no
`repr()` here shows them, written or expanded. Nothing else is expanded (`~` in `args` is
passed as it is, as a program started without a shell gets it).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from app.variables import expand

DEFAULT_MAX_TOOL_ROUNDS = 10
DEFAULT_TOOL_TIMEOUT = 60.0  # seconds

MCP_SERVERS_KEY = "mcp_servers"
SEPARATOR = "__"  # between a server's name and its tool's, in the names the model sees
_SERVER_KEYS = ("command", "args", "env", "url", "headers", "auto_approve", "enabled")
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


class ConfigError(ValueError):
    """A setting that cannot be used, in one sentence naming its key."""


@dataclass(frozen=True, slots=True)
class ToolServerConfig:
    """One MCP server: a command to run (stdio) or a URL (streamable HTTP)."""

    name: str
    command: str = ""
    args: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()  # values as written: they may hold ${VAR}
    url: str = ""
    headers: tuple[tuple[str, str], ...] = ()  # values as written
    auto_approve: frozenset[str] = frozenset()  # the server's own tool names that run unasked
    enabled: bool = True

    @property
    def kind(self) -> str:
        return "stdio" if self.command else "http"

    def __repr__(self) -> str:
        # Textual prints the locals of a crash: values of env and headers may be secrets.
        target = f"command={self.command!r}, args={self.args!r}" if self.command else f"url={self.url!r}"
        return (
            f"ToolServerConfig(name={self.name!r}, {target}, env={_masked(self.env)}, "
            f"headers={_masked(self.headers)}, auto_approve={sorted(self.auto_approve)!r}, "
            f"enabled={self.enabled!r})"
        )


@dataclass(frozen=True, slots=True)
class ToolsConfig:
    servers: tuple[ToolServerConfig, ...] = ()
    max_tool_rounds: int = DEFAULT_MAX_TOOL_ROUNDS  # model replies that may call tools, per message
    tool_timeout: float = DEFAULT_TOOL_TIMEOUT  # seconds one call may take


@dataclass(frozen=True, slots=True)
class ResolvedServer:
    """A server's config with `${VAR}` expanded: what starting it needs. Lives in memory only."""

    config: ToolServerConfig
    env: tuple[tuple[str, str], ...] = ()
    headers: tuple[tuple[str, str], ...] = ()

    @property
    def secrets(self) -> tuple[str, ...]:
        """The expanded values, for a log filter to mask."""
        return tuple(value for _, value in (*self.env, *self.headers) if value)

    def __repr__(self) -> str:
        return f"ResolvedServer({self.config!r}, env={_masked(self.env)}, headers={_masked(self.headers)})"


def parse_tools_config(table: Mapping[str, Any]) -> tuple[ToolsConfig, tuple[str, ...]]:
    """The tool settings of a parsed config document, and a sentence for each problem."""
    unwrap = getattr(table, "unwrap", None)  # a tomlkit document: plain Python values, please
    document: Mapping[str, Any] = unwrap() if callable(unwrap) else table
    problems: list[str] = []
    servers: list[ToolServerConfig] = []
    sections = document.get(MCP_SERVERS_KEY, {})
    if not isinstance(sections, Mapping):
        problems.append(f"{MCP_SERVERS_KEY} must be a table of servers ([{MCP_SERVERS_KEY}.NAME]).")
        sections = {}
    for name, section in sections.items():
        try:
            servers.append(_server(str(name), section))
        except ConfigError as error:
            problems.append(str(error))
    rounds = document.get("max_tool_rounds", DEFAULT_MAX_TOOL_ROUNDS)
    if not _is_integer(rounds) or rounds < 1:
        problems.append(
            f"max_tool_rounds must be a whole number of at least 1, not {rounds!r}; using {DEFAULT_MAX_TOOL_ROUNDS}."
        )
        rounds = DEFAULT_MAX_TOOL_ROUNDS
    timeout = document.get("tool_timeout", DEFAULT_TOOL_TIMEOUT)
    if not _is_number(timeout) or not math.isfinite(timeout) or timeout <= 0:
        problems.append(
            f"tool_timeout must be a number of seconds above 0, not {timeout!r}; using {DEFAULT_TOOL_TIMEOUT:g}."
        )
        timeout = DEFAULT_TOOL_TIMEOUT
    return ToolsConfig(tuple(servers), int(rounds), float(timeout)), tuple(problems)


def resolve(config: ToolServerConfig, environ: Mapping[str, str]) -> ResolvedServer:
    """`config` with `${VAR}` in env and header values taken from `environ`.

    Raises ConfigError naming the key and the variable when one is not set.
    """
    where = _key(MCP_SERVERS_KEY, config.name)
    env = tuple(
        (name, expand(value, environ, f"{where}.env.{_key(name)}", error=ConfigError)) for name, value in config.env
    )
    headers = tuple(
        (name, expand(value, environ, f"{where}.headers.{_key(name)}", error=ConfigError))
        for name, value in config.headers
    )
    return ResolvedServer(config, env, headers)


def _server(name: str, section: object) -> ToolServerConfig:
    where = _key(MCP_SERVERS_KEY, name)
    if not _BARE_KEY.fullmatch(name) or SEPARATOR in name:
        raise ConfigError(
            f'{where}: a server name may use only letters, digits, "-" and single "_"'
            " (the names of its tools start with it)."
        )
    if not isinstance(section, Mapping):
        raise ConfigError(f"{where} must be a table ([{where}]).")
    for key in section:
        if key not in _SERVER_KEYS:
            raise ConfigError(
                f"{where}.{_key(str(key))} is not a server setting (they are: {', '.join(sorted(_SERVER_KEYS))})."
            )
    command = _string(section, "command", where)
    url = _string(section, "url", where)
    if command is not None and url is not None:
        raise ConfigError(f"{where} has both command and url; a server is one or the other.")
    if command is None and url is None:
        raise ConfigError(f"{where} needs a command (a program to run) or a url (a streamable HTTP server).")
    wrong = ("args", "env") if url is not None else ("headers",)
    for key in wrong:
        if key in section:
            other = "a server with a url" if url is not None else "a server run by a command"
            raise ConfigError(f"{where}.{key} does not apply to {other}.")
    if command is not None and not command.strip():
        raise ConfigError(f"{where}.command must not be empty.")
    if url is not None and not url.startswith(("http://", "https://")):
        raise ConfigError(f"{where}.url must start with http:// or https://, not {url[:40]!r}.")
    enabled = section.get("enabled", True)
    if not isinstance(enabled, bool):
        raise ConfigError(f"{where}.enabled must be true or false.")
    return ToolServerConfig(
        name=name,
        command=command or "",
        args=_strings(section, "args", where),
        env=_table(section, "env", where),
        url=url or "",
        headers=_table(section, "headers", where),
        auto_approve=frozenset(_strings(section, "auto_approve", where)),
        enabled=enabled,
    )


def _string(section: Mapping[str, Any], key: str, where: str) -> str | None:
    value = section.get(key)
    if value is not None and not isinstance(value, str):
        raise ConfigError(f"{where}.{key} must be a string.")
    return value


def _strings(section: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = section.get(key, [])
    if not isinstance(value, list | tuple) or not all(isinstance(item, str) for item in value):
        raise ConfigError(f"{where}.{key} must be a list of strings.")
    return tuple(value)


def _table(section: Mapping[str, Any], key: str, where: str) -> tuple[tuple[str, str], ...]:
    value = section.get(key, {})
    if not isinstance(value, Mapping):
        raise ConfigError(f'{where}.{key} must be a table of strings ({key} = {{ NAME = "value" }}).')
    for name, item in value.items():
        if not isinstance(item, str):
            raise ConfigError(f"{where}.{key}.{_key(str(name))} must be a string.")
    return tuple((str(name), item) for name, item in value.items())


def _key(*parts: str) -> str:
    """A dotted TOML key, quoting the parts that need it."""
    return ".".join(part if _BARE_KEY.fullmatch(part) else _quoted(part) for part in parts)


def _quoted(part: str) -> str:
    return json.dumps(part)  # TOML's basic strings escape as JSON does


def _masked(pairs: tuple[tuple[str, str], ...]) -> str:
    return "{" + ", ".join(f"{name!r}: '***'" for name, _ in pairs) + "}"


def _is_integer(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
