"""Which value each setting takes, and where it came from.

A command-line flag wins, then the environment (`OLLAMA_HOST`, `OLLAMA_API_KEY`), then the
config file, then the built-in default. `resolve()` makes the run's `Settings` and, for
`ollama-tui config show`, a `Choice` per setting saying where its value came from.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from app import keys
from app.chat_options import format_parameter
from app.config import DEFAULT_HOST, DEFAULT_THEME, Settings
from app.host import parse_host, split_credentials
from app.paths import default_data_dir
from app.servers.config import SERVERS_KEY, ServerConfig
from app.settings_file import ConfigFile

HIDDEN = "***"


@dataclass(frozen=True, slots=True)
class Choice:
    """One setting in effect: its name, its value as it may be shown, and its origin."""

    name: str
    value: str
    origin: str  # "flag --host", "env OLLAMA_HOST", "file PATH:LINE" or "default"


@dataclass(frozen=True, slots=True)
class Resolved:
    settings: Settings
    choices: tuple[Choice, ...]


def resolve(args: argparse.Namespace, environ: Mapping[str, str], config: ConfigFile | None) -> Resolved:
    """Settings from the parsed command line, the environment and the config file.

    Raises ValueError (a sentence without credentials) for a host given on the command line or
    in the environment that cannot be used; a bad one in the file is a problem of the file's.
    """
    file = config or ConfigFile(Path())
    choices: list[Choice] = []

    def origin(key: str) -> str:
        line = file.line(key)
        return f"file {file.path}:{line}" if line else f"file {file.path}"

    env_host = environ.get("OLLAMA_HOST", "")
    if args.host is not None:
        host, where = parse_host(args.host), "flag --host"
    elif env_host.strip():
        host, where = parse_host(env_host), "env OLLAMA_HOST"
    elif file.host is not None:
        host, where = file.host, origin("host")
    else:
        host, where = DEFAULT_HOST, "default"
    choices.append(Choice("host", shown_host(host), where))

    api_key = environ.get("OLLAMA_API_KEY") or None
    choices.append(
        Choice("api_key", HIDDEN if api_key else "(not set)", "env OLLAMA_API_KEY" if api_key else "default")
    )

    if args.model:
        choices.append(Choice("model", args.model, "flag --model"))
    elif file.model:
        choices.append(Choice("model", file.model, origin("model")))
    else:
        choices.append(Choice("model", "(the last one used, else the first installed)", "default"))

    theme = file.theme or DEFAULT_THEME
    choices.append(Choice("theme", theme, origin("theme") if file.theme else "default"))

    data_dir = args.data_dir or default_data_dir()
    choices.append(Choice("data_dir", str(data_dir), "flag --data-dir" if args.data_dir else "default"))

    listed = file.section(SERVERS_KEY, tuple) or ()
    servers = tuple(server for server in listed if isinstance(server, ServerConfig))
    for server in servers:
        # Never the key: only whether there is one, as for OLLAMA_API_KEY.
        shown = f"{server.kind} {shown_host(server.url)}{', key ' + HIDDEN if server.api_key else ''}"
        choices.append(Choice(f"{SERVERS_KEY}.{server.name}", shown, origin(f"{SERVERS_KEY}.{server.name}")))
    server_flag = getattr(args, "server", None)  # only the commands that talk to servers have it
    if server_flag:
        choices.append(Choice("server", server_flag, "flag --server"))

    for name, value in file.options.options:
        choices.append(Choice(f"options.{name}", format_parameter(name, value), origin(f"options.{name}")))

    keymap = dict(file.keymap)
    for action in keys.ACTIONS:
        if action.name in keymap:
            choices.append(Choice(f"keys.{action.name}", keymap[action.name], origin(f"keys.{action.name}")))
        else:
            choices.append(Choice(f"keys.{action.name}", action.keys, "default"))

    settings = Settings(
        host=host,
        model=args.model,
        data_dir=data_dir,
        api_key=api_key,
        continue_last=args.continue_last,
        session_id=args.session,
        default_model=file.model,
        theme=theme,
        chat_defaults=file.options,
        keymap=file.keymap,
        config=config,
        servers=servers,
        server=server_flag or None,
    )
    return Resolved(settings, tuple(choices))


def shown_host(url: str) -> str:
    """A base URL as it may be printed: `user:password@` becomes `user:***@`."""
    base, credentials = split_credentials(url)
    if credentials is None:
        return base
    scheme, _, rest = base.partition("://")
    user = credentials[0]
    return f"{scheme}://{user + ':' if user else ''}{HIDDEN}@{rest}"
