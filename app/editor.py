"""Writing a message in the person's own editor: `$VISUAL`, else `$EDITOR`, else one that is
usually there. The text goes into a private temporary file (0600, removed afterwards), the
editor runs on it, and what was saved comes back. No UI: the screen hands the terminal over.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass

FALLBACKS = ("vi", "nano")  # tried in order when neither VISUAL nor EDITOR is set


@dataclass(frozen=True, slots=True)
class Edited:
    """What came back: the saved text, or why there is none (`error`)."""

    text: str = ""
    error: str = ""


class NoEditor(Exception):
    """No editor to run; the message says which were looked for."""


def editor_command(environ: Mapping[str, str] = os.environ) -> list[str]:
    """The editor's command line without the file: `code --wait` is two words."""
    path = environ.get("PATH")
    for variable in ("VISUAL", "EDITOR"):
        value = environ.get(variable, "").strip()
        if not value:
            continue
        try:
            command = shlex.split(value)
        except ValueError as error:
            raise NoEditor(f"{variable}={value!r} cannot be read ({error}).") from None
        if not command or shutil.which(command[0], path=path) is None:
            raise NoEditor(f"The editor {variable}={value!r} is not installed, or not on PATH.")
        return command
    for name in FALLBACKS:
        if shutil.which(name, path=path):
            return [name]
    raise NoEditor(f"No editor found: set EDITOR (neither VISUAL nor EDITOR is set, and no {' or '.join(FALLBACKS)}).")


def edit(text: str, command: list[str], environ: Mapping[str, str] | None = None) -> Edited:
    """Run `command` on a temporary file holding `text`; waits for the editor to exit.

    The file ends in .md, so editors colour it as Markdown. The one final newline editors add
    is taken off again.
    """
    descriptor, name = tempfile.mkstemp(prefix="ollama-tui-", suffix=".md")  # 0600: for you alone
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(text)
        try:
            status = subprocess.run([*command, name], env=None if environ is None else dict(environ)).returncode
        except OSError as error:
            return Edited(error=f"{command[0]} could not start ({error.strerror or error}).")
        if status != 0:
            how = f"was stopped by signal {-status}" if status < 0 else f"exited with status {status}"
            return Edited(error=f"{command[0]} {how}, so its text was not used.")
        try:
            with open(name, encoding="utf-8", errors="replace") as file:
                saved = file.read()
        except OSError as error:
            return Edited(error=f"The text could not be read back ({error.strerror or error}).")
        return Edited(saved.removesuffix("\n") if not text.endswith("\n") else saved)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(name)
