"""Pure text helpers: terminal safety for untrusted text, conversation titles, key names.

Textual passes ESC sequences inside widget text through to the terminal, so every string from
a model or the database goes through `sanitize()` before it is drawn. Text is stored raw.
"""

from __future__ import annotations

import re

# ESC-introduced sequences: CSI (colours, cursor moves), OSC (titles, clipboard, hyperlinks),
# DCS/SOS/PM/APC strings, and two-character escapes. An OSC/DCS string ends at BEL or ST, or
# at the end of its line when it was never terminated, so one stray ESC ] hides no more text.
_ESCAPE = re.compile(
    r"""
    \x1b\[[0-?]*[ -/]*[@-~]                 # CSI ... final byte
    | \x1b[\]PX^_][^\x07\x1b\n]*(?:\x07|\x1b\\)?  # OSC / DCS / SOS / PM / APC ... BEL or ST
    | \x1b[ -/]*[0-~]                      # nF / Fp / Fe / Fs escapes
    | \x9b[0-?]*[ -/]*[@-~]                # 8-bit CSI
    | [\x90\x9d\x98\x9e\x9f][^\x07\x1b\x9c\n]*(?:\x07|\x1b\\|\x9c)?  # 8-bit string controls
    """,
    re.VERBOSE,
)
# Every other C0/C1 control except tab and newline; a lone ESC left over goes too.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# A trailing escape sequence that may still be completed by the next chunk of a stream.
_INCOMPLETE_TAIL = re.compile(
    r"""(?:
        \x1b(?:\[[0-?]*[ -/]*|[\]PX^_][^\x07\x1b\n]*|[ -/]*)?  # ESC-introduced, unfinished
        | \x1b[\]PX^_][^\x07\n]*\x1b                        # a string waiting for ST's backslash
        | \x9b[0-?]*[ -/]*                                 # 8-bit CSI, unfinished
        | [\x90\x9d\x98\x9e\x9f][^\x07\x1b\x9c\n]*             # 8-bit string, unfinished
    )\Z""",
    re.VERBOSE,
)
_INTRODUCERS = frozenset("\x1b\x9b\x90\x9d\x98\x9e\x9f")


def sanitize(text: str) -> str:
    """Remove terminal escape sequences and control characters; keep tabs and newlines.

    `\\r\\n` becomes `\\n`; a lone `\\r` (which would move the cursor) is dropped.
    """
    if text.isprintable():
        return text
    text = text.replace("\r\n", "\n")
    return _CONTROL.sub("", _ESCAPE.sub("", text))


class StreamSanitizer:
    """`sanitize()` for text arriving in pieces: an escape sequence split across two pieces
    is held back until it is complete, so no fragment of it leaks into the view."""

    __slots__ = ("_held",)

    def __init__(self) -> None:
        self._held = ""

    def feed(self, piece: str) -> str:
        text = self._held + piece
        self._held = ""
        # An unfinished sequence never spans a newline (an unterminated string ends there), but
        # may be longer than any fixed window: an OSC 52 clipboard payload, for one.
        line = text.rfind("\n") + 1
        if not _INTRODUCERS.isdisjoint(text[line:]) or text.endswith("\r"):
            tail = _INCOMPLETE_TAIL.search(text, line)
            if tail and tail.start() < len(text):
                self._held = text[tail.start() :]
                text = text[: tail.start()]
            elif text.endswith("\r"):
                self._held, text = "\r", text[:-1]
        return sanitize(text)

    def flush(self) -> str:
        text, self._held = self._held, ""
        return sanitize(text)


def cut_bytes(text: str, limit: int, note: str) -> str:
    """`text` if its UTF-8 form fits in `limit` bytes, else as much as fits, then `note`."""
    if len(text) <= limit // 4:  # no character takes more than four bytes
        return text
    encoded = text.encode("utf-8", "surrogatepass")
    if len(encoded) <= limit:
        return text
    return encoded[:limit].decode("utf-8", "ignore") + note  # "ignore": a character cut in two


def make_title(text: str, limit: int = 48) -> str:
    """A one-line title from the first user message, shortened at a word boundary."""
    line = " ".join(sanitize(text).split())
    if len(line) <= limit:
        return line or "New conversation"
    cut = line.rfind(" ", 0, limit - 1)
    return line[: cut if cut > limit // 2 else limit - 1].rstrip(" ,.;:") + "…"


def human_size(size: int) -> str:
    """Bytes as `ollama list` shows them: decimal units, one decimal place above a kilobyte."""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


def key_name(keys: str) -> str:
    """`ctrl+n,f1` → `Ctrl+N, F1`."""
    names = (
        "+".join(part.upper() if len(part) == 1 else part.capitalize() for part in key.split("+"))
        for key in keys.split(",")
    )
    return ", ".join(names).replace("Escape", "Esc")
