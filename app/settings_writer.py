"""Writing a setting the app changed (the theme) back into the config file.

tomlkit edits the parsed document in place, so the person's comments, order and spacing stay as
they were and only the one value changes. The new text goes to a temporary file beside the old
one, readable by its owner only, which then takes the old one's place in a single rename: a
crash leaves the old file or the new one, never half of either. A file that does not parse is
never rewritten: it is the person's to fix, and they would lose what they wrote; nor is one
they made read-only.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
import tomllib
from pathlib import Path

from app.paths import make_private_dir

BOM = "\ufeff"


class NotSaved(Exception):
    """The setting could not be written; the text says why, naming the file."""


def remember(path: Path, key: str, value: str) -> None:
    """Set top-level `key` to `value` in the file at `path`, creating it if need be.
    Raises NotSaved."""
    import tomlkit  # 17 ms to import, for a write that happens when a person changes a theme
    import tomlkit.exceptions

    target = path.resolve()  # a config file linked from elsewhere stays a link: write its target
    try:
        text = target.read_bytes().decode("utf-8")
        mode: int | None = stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        text, mode = "", None
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise NotSaved(f"{path} cannot be read ({reason}), so {key} was not saved.") from None
    if mode is not None and not mode & stat.S_IWUSR:
        raise NotSaved(f"{path} is read-only, so {key} was not saved.")
    mark = BOM if text.startswith(BOM) else ""  # kept, as the editor that wrote it wants
    text = text.removeprefix(BOM)
    try:
        tomllib.loads(text)  # the same reading the app starts with
        document = tomlkit.parse(text)
    except (tomllib.TOMLDecodeError, tomlkit.exceptions.TOMLKitError):
        raise NotSaved(
            f"{path} is not valid TOML, so the app leaves it as it is and {key} was not saved. "
            f'Fix the file, or write {key} = "{value}" in it yourself.'
        ) from None
    document[key] = value
    new = document.as_string()
    if new == text:
        return
    try:
        if tomllib.loads(new).get(key) != value:
            raise ValueError(key)
    except (tomllib.TOMLDecodeError, ValueError):  # tomlkit made something else: keep the old file
        raise NotSaved(f"{path}: {key} could not be written without changing the rest; it was not saved.") from None
    _replace(target, mark + new, mode, path)


def _replace(target: Path, text: str, mode: int | None, shown: Path) -> None:
    temporary = ""
    try:
        if not target.parent.is_dir():
            make_private_dir(target.parent)
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")  # 0600
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        if mode is not None:
            os.chmod(temporary, mode)  # the person's own choice for their file
        os.replace(temporary, target)
        temporary = ""
    except OSError as error:
        raise NotSaved(f"{shown} cannot be written ({error.strerror or error}); the setting was not saved.") from None
    finally:
        if temporary:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
    with contextlib.suppress(OSError):  # the rename itself reaches the disk (not on Windows)
        directory = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
