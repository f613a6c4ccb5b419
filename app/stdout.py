"""What the shell commands share about their output: a reader that went away."""

from __future__ import annotations

import os
import sys


def silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's last flush does not complain again
    (the reader of a pipe went away, as with `| head`)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
