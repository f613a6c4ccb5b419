"""The command line: `ollama-tui [options]` starts the app; sub-commands work without it."""

from __future__ import annotations

import argparse
import gc
import logging
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from app import __version__, config_cli, debug_log, oneshot_cli, sessions_cli, settings_file
from app.config import Settings
from app.host import split_credentials
from app.paths import default_config_path, default_data_dir
from app.precedence import resolve
from app.servers.registry import secrets_of
from app.settings_file import ConfigFile
from app.store import Store


class _CommandParser(argparse.ArgumentParser):
    """The parser of a command (and of its own commands): it takes the program's shared
    options as well, so they work after the command's name as before it."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        _add_shared_options(self, after_command=True)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ollama-tui",
        description="Chat with local models served by Ollama, full-screen in the terminal.",
        epilog="Environment: OLLAMA_HOST (server address, as Ollama's own clients read it), "
        "OLLAMA_API_KEY (sent as a bearer token). Settings file: `ollama-tui config path` says where it is; "
        "a flag wins over the environment, which wins over the file. "
        "Options other than -m, -c and --session may also follow the command's name.",
    )
    parser.add_argument("--version", action="version", version=f"ollama-tui {__version__}")
    _add_shared_options(parser, after_command=False)
    parser.add_argument(
        "-m",
        "--model",
        metavar="NAME",
        help="model for the first message, NAME@SERVER for another server's (default: the last one used)",
    )
    resume = parser.add_mutually_exclusive_group()
    resume.add_argument(
        "-c", "--continue", dest="continue_last", action="store_true", help="reopen the most recent conversation"
    )
    resume.add_argument("--session", metavar="ID", type=int, help="reopen the conversation with this id")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_CommandParser)
    sessions_cli.register(commands)
    oneshot_cli.register(commands)
    config_cli.register(commands)
    return parser


def _add_shared_options(parser: argparse.ArgumentParser, *, after_command: bool) -> None:
    """The options of the whole program. After a command's name they default to SUPPRESS:
    one given there overrides the same one given before the name, and one not given there
    leaves the value from before it alone."""
    unset: Any = argparse.SUPPRESS if after_command else None
    off: Any = argparse.SUPPRESS if after_command else False
    parser.add_argument(
        "--host",
        metavar="URL",
        default=unset,
        help="Ollama server, the one named local (default: OLLAMA_HOST, else http://127.0.0.1:11434)",
    )
    parser.add_argument(
        "--server",
        metavar="NAME",
        default=unset,
        help="the server to use: local (the --host one) or a [servers.NAME] of the config file",
    )
    parser.add_argument(
        "--data-dir",
        metavar="PATH",
        type=Path,
        default=unset,
        help=f"where conversations are kept (default: {default_data_dir()})",
    )
    parser.add_argument(
        "--config",
        metavar="FILE",
        type=Path,
        default=unset,
        help=f"the config file to read (default: {default_config_path()})",
    )
    log_file = debug_log.default_log_dir() / debug_log.LOG_NAME
    parser.add_argument(
        "--debug",
        action="store_true",
        default=off,
        help=f"log requests and errors, without message text, to {log_file} (rotated)",
    )
    parser.add_argument(
        "--debug-content", action="store_true", default=off, help="like --debug, and log message text too"
    )


def settings_from(args: argparse.Namespace, config: ConfigFile | None = None) -> Settings:
    """The run's settings: flag, then environment, then `config`, then the default.
    Raises ValueError (a sentence without credentials) for a host that cannot be used."""
    return resolve(args, os.environ, config).settings


def read_config(args: argparse.Namespace) -> ConfigFile:
    return settings_file.load(args.config or default_config_path(), named=args.config is not None)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    config = read_config(args)
    try:
        settings = settings_from(args, config)
    except ValueError as error:
        parser.error(str(error))
    _start_log(args, settings)
    if args.command is not None:  # the app shows them itself, once it is on screen
        for problem in config.problems:
            print(f"ollama-tui: {problem}", file=sys.stderr)
    if args.command == "config":
        return config_cli.run(args, config)
    if args.command in oneshot_cli.COMMANDS:
        return oneshot_cli.run(args, settings)
    if args.command == "sessions":
        with Store.open(settings.data_dir or default_data_dir()) as store:
            return sessions_cli.run(args, store)
    # Start-up makes objects that live as long as the app; collecting garbage among them
    # cost 20 ms before the first frame. The app freezes them and collects again when ready.
    gc.disable()
    with ThreadPoolExecutor(1) as pool:
        # The store opens while Textual loads: its check reads the whole file (50 ms at
        # 100,000 messages), and SQLite lets go of the interpreter lock while it reads.
        opening = pool.submit(Store.open, settings.data_dir or default_data_dir())
        from app.app import make_app  # Textual loads only when the app runs

        app = make_app(settings, store=opening.result())
    try:
        app.run()
    except KeyboardInterrupt:
        return 130
    return app.return_code or 0


def _start_log(args: argparse.Namespace, settings: Settings) -> None:
    base_url = split_credentials(settings.host)[0]
    secrets = list(secrets_of(settings.host, settings.api_key, settings.servers))
    try:
        debug_log.configure(args.debug or args.debug_content, content=args.debug_content, secrets=secrets)
    except OSError as error:  # an unusable log folder costs the log, not the app
        print(f"ollama-tui: no debug log ({error.strerror or error}); going on without it.", file=sys.stderr)
        return
    logging.getLogger(__name__).info(
        "ollama-tui %s: host %s, data %s, command %s",
        __version__,
        base_url,
        settings.data_dir,
        args.command or "app",
    )


if __name__ == "__main__":
    sys.exit(main())
