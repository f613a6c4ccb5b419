"""Commands that read or write files: attach an image, export the conversation."""

from __future__ import annotations

import base64
from pathlib import Path

from app.commands.chat import Chat
from app.export import export_text, free_path, write_export
from app.text import human_size

MAX_IMAGE_BYTES = 20_000_000  # read on the UI thread and sent base64 in every later request
# What an image attachment must start with: PNG, JPEG, GIF, WebP (RIFF....WEBP).
IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"RIFF")


def image(chat: Chat, argument: str) -> None:
    """Attach an image to the next message; only vision models can see one."""
    if not argument:
        chat.notify("Usage: /image PATH", severity="warning")
        return
    model = chat.current.model
    if chat.catalog.lacks(chat.current.address, "vision"):
        chat.notify(
            f"{model} cannot see images (it has no vision capability). Switch to a vision model, e.g. /model llava, first.",
            severity="error",
            markup=False,
        )
        return
    try:
        path = Path(argument.strip("\"'")).expanduser()
        size = path.stat().st_size
        if not path.is_file() or size > MAX_IMAGE_BYTES:
            reason = "not a file" if not path.is_file() else f"larger than {human_size(MAX_IMAGE_BYTES)}"
            chat.notify(f"Cannot attach {argument}: {reason}.", severity="error", markup=False)
            return
        data = path.read_bytes()
    except (OSError, RuntimeError, ValueError) as error:  # missing, unreadable, ~nobody, NUL
        chat.notify(
            f"Cannot read {argument}: {getattr(error, 'strerror', None) or error}.", severity="error", markup=False
        )
        return
    if not data.startswith(IMAGE_MAGIC) or (data.startswith(b"RIFF") and data[8:12] != b"WEBP"):
        chat.notify(f"{path.name} is not a PNG, JPEG, GIF or WebP image.", severity="error", markup=False)
        return
    chat.current.images.append((path.name, base64.b64encode(data).decode("ascii")))
    chat.notify(f"Attached {path.name} ({human_size(len(data))}) to your next message.", markup=False)


def export(chat: Chat, argument: str) -> None:
    """`/export [md|json] [FILE]`: a new file in the current folder unless FILE is given."""
    if chat.current.info is None:
        chat.notify("Nothing to export yet: send a message first.", severity="warning")
        return
    chat.run_job(_export(chat, argument), "export")


async def _export(chat: Chat, argument: str) -> None:
    current = chat.current.info
    if current is None:
        return
    turns = list(chat.current.turns)
    words = argument.split(maxsplit=1)
    format = "md"
    if words and words[0].lower() in ("md", "json"):
        format = words.pop(0).lower()
    info = await chat.saved_info(current.id) or current  # the title the store gave it meanwhile
    target = words[0] if words else "the current folder"
    try:
        path = Path(words[0]).expanduser() if words else free_path(Path.cwd(), info, format)
        write_export(path, export_text(info, turns, format))
    except FileExistsError:
        chat.notify(f"{target} already exists; nothing was overwritten.", severity="error", markup=False)
    except (OSError, RuntimeError, ValueError) as error:  # unwritable, ~nobody, a NUL byte
        chat.notify(
            f"Cannot write {target}: {getattr(error, 'strerror', None) or error}.", severity="error", markup=False
        )
    else:
        chat.notify(f"Saved this conversation to {path}.", markup=False)
