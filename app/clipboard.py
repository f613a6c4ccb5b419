"""Copying text out of the app, and saying truthfully where it went.

The terminal's clipboard (OSC 52) works over SSH and inside tmux, where tmux passes it on only
with `set-clipboard` on; a terminal cannot say whether it took the text. A local clipboard tool
(wl-copy, xclip, xsel, pbcopy), where one is installed, is used as well and does report.
No UI here: the app writes the OSC 52 sequence and shows the sentence.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass

TOOL_SECONDS = 3.0  # a clipboard tool that takes longer is stuck (no display, a lost session)


@dataclass(frozen=True, slots=True)
class CopyReport:
    """Where a copy went, and why not elsewhere."""

    routes: tuple[str, ...]  # "the terminal (OSC 52)", "xclip"
    problems: tuple[str, ...] = ()

    def sentence(self, what: str) -> str:
        """`what`: "12 lines of python", "the reply (340 characters)"."""
        if not self.routes:
            reasons = "; ".join(self.problems) or "no way to reach a clipboard"
            return f"Could not copy {what}: {reasons}."
        return f"Copied {what} through {' and '.join(self.routes)}."


def local_tool(environ: Mapping[str, str] = os.environ, platform: str = sys.platform) -> list[str] | None:
    """The command line of the clipboard tool for this session, if one is installed."""
    candidates: list[list[str]] = []
    if platform == "darwin":
        candidates.append(["pbcopy"])
    if environ.get("WAYLAND_DISPLAY"):
        candidates.append(["wl-copy"])
    if environ.get("DISPLAY"):
        candidates += [["xclip", "-selection", "clipboard"], ["xsel", "--clipboard", "--input"]]
    path = environ.get("PATH")
    for command in candidates:
        if shutil.which(command[0], path=path):
            return command
    return None


async def _run(command: list[str], text: str, environ: Mapping[str, str]) -> str | None:
    """Give `text` to a clipboard tool; None when it took it, else why not."""
    name = command[0]
    # Its errors go to a file, not a pipe: xclip and wl-copy leave a process behind that holds
    # the selection, and with it any pipe they were given, so reading one to its end would wait
    # until something else takes the clipboard.
    with tempfile.TemporaryFile() as errors:
        try:
            process = await asyncio.create_subprocess_exec(
                *command,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=errors,
                env=dict(environ),
                start_new_session=True,  # so that a stuck tool goes with everything it started
            )
        except OSError as error:
            return f"{name} could not start ({error.strerror or error})"
        try:
            await asyncio.wait_for(process.communicate(text.encode()), TOOL_SECONDS)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            await process.wait()
            return f"{name} did not answer"
        if process.returncode:
            errors.seek(0)
            detail = errors.read(4096).decode(errors="replace").strip().splitlines()
            return f"{name} failed" + (f" ({detail[-1][:80]})" if detail else "")
    return None


async def _tmux_passes_it_on(environ: Mapping[str, str]) -> bool:
    """Inside tmux, whether OSC 52 reaches the outer terminal's clipboard."""
    if not environ.get("TMUX") or not shutil.which("tmux", path=environ.get("PATH")):
        return True
    try:
        process = await asyncio.create_subprocess_exec(
            "tmux",
            "show-options",
            "-gv",
            "set-clipboard",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
            env=dict(environ),
        )
        output, _ = await asyncio.wait_for(process.communicate(), TOOL_SECONDS)
    except (OSError, TimeoutError):
        return True  # cannot tell: say it went to the terminal
    return output.decode(errors="replace").strip() != "off"


async def copy(text: str, terminal: bool, environ: Mapping[str, str] = os.environ) -> CopyReport:
    """Copy through a local tool; `terminal`: whether the app wrote OSC 52 to a terminal."""
    routes: list[str] = []
    problems: list[str] = []
    if terminal:
        if await _tmux_passes_it_on(environ):
            routes.append("the terminal (OSC 52)")
        else:
            problems.append("tmux has set-clipboard off, so the terminal did not get it")
    else:
        problems.append("there is no terminal to pass it to")
    command = local_tool(environ)
    if command is None:
        if not routes:
            problems.append("no clipboard tool is installed (wl-copy, xclip, xsel or pbcopy)")
    elif (problem := await _run(command, text, environ)) is None:
        routes.append(command[0])
    else:
        problems.append(problem)
    return CopyReport(tuple(routes), tuple(problems))


def describe(text: str, kind: str = "") -> str:
    """How a toast names what was copied: "12 lines of python", "1 line", "0 characters"."""
    lines = text.count("\n") + (not text.endswith("\n")) if text else 0
    amount = f"{lines} line{'s' * (lines != 1)}" if lines else "0 characters"
    return f"{amount} of {kind}" if kind else amount
