"""`ollama-tui config path|show`: where the config file is, and the settings in effect."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from app.config import DEFAULT_THEME
from app.precedence import Choice, resolve
from app.settings_file import ConfigFile, theme_problem
from app.stdout import silence_stdout


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    config = subparsers.add_parser("config", help="where the config file is, and the settings in effect")
    actions = config.add_subparsers(dest="config_action", required=True, metavar="ACTION")
    actions.add_parser("path", help="print the config file's path (it may not exist yet)")
    actions.add_parser("show", help="print each setting in effect and where it came from (secrets hidden)")


def run(args: argparse.Namespace, config: ConfigFile) -> int:
    """Carry out `config path` or `config show`; returns the process exit code."""
    try:
        if args.config_action == "path":
            print(config.path)
        else:
            _show(args, config)
    except BrokenPipeError:  # the reader went away, as with `| head`
        silence_stdout()
        return 1
    return 0


def _show(args: argparse.Namespace, config: ConfigFile) -> None:
    from textual.theme import BUILTIN_THEMES  # loads much of Textual: only for this command

    resolved = resolve(args, os.environ, config)  # main() already refused a bad host
    choices = list(resolved.choices)
    if problem := theme_problem(config, BUILTIN_THEMES):
        print(f"ollama-tui: {problem}", file=sys.stderr)
        choices = [Choice("theme", DEFAULT_THEME, "default") if c.name == "theme" else c for c in choices]
    state = "found" if config.found else "not found: built-in defaults"
    print(f"config file: {config.path} ({state})")
    width = max(len(choice.name) for choice in choices)
    value_width = min(48, max(len(choice.value) for choice in choices))
    for choice in choices:
        print(f"{choice.name:<{width}}  {choice.value:<{value_width}}  {choice.origin}")
