"""Commands that take the model's words out, or let it go on: copy a reply, a code block or the
whole conversation; save a code block to a file; continue a reply that stopped."""

from __future__ import annotations

import shlex

from app.commands.chat import Chat

COPY_USAGE = "Usage: /copy, /copy code [N], /copy all"
SAVE_USAGE = "Usage: /save FILE [N] (N: which code block of the last reply; the last by default)"


def copy(chat: Chat, argument: str) -> None:
    """`/copy` the last reply, `/copy code [N]` its N-th code block (the last by default),
    `/copy all` the conversation as Markdown."""
    words = argument.lower().split()
    if not words:
        chat.action_copy_reply()
    elif words == ["all"]:
        chat.copy_conversation()
    elif words[0] == "code" and len(words) <= 2:
        reply = chat.last_reply()
        if reply is None:
            chat.notify("No reply to copy from yet.", severity="warning")
        elif len(words) == 1:
            chat.copy_code(reply, len(chat.code_blocks(reply)) or 1)  # the last; "none" when none
        elif words[1].isdigit() and int(words[1]) > 0:
            chat.copy_code(reply, int(words[1]))
        else:
            chat.notify(f"/copy code takes a block number (1, 2, …), not {words[1]}.", severity="warning")
    else:
        chat.notify(COPY_USAGE, severity="warning")


def save(chat: Chat, argument: str) -> None:
    """`/save FILE [N]`: the last reply's last (or N-th) code block into FILE."""
    try:
        words = shlex.split(argument)
    except ValueError:  # an unclosed quote
        chat.notify(f"Cannot read the file name in {argument!r}: a quote is not closed.", severity="error")
        return
    number = None
    if len(words) > 1 and words[-1].isdigit():
        number = int(words.pop())
    if not words or number == 0:
        chat.notify(SAVE_USAGE, severity="warning")
        return
    chat.save_code(" ".join(words), number)


def continue_reply(chat: Chat, _: str) -> None:
    chat.continue_reply()
