"""Every slash command once: its names, usage and summary (for /help and Tab completion) and the
function that runs it. To add a command, write `def name(chat: Chat, argument: str) -> None` in
the module of its area and add a row here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from app.commands import basics, conversation, copying, files, models, settings, tools
from app.commands.chat import Chat

Handler = Callable[[Chat, str], None]


@dataclass(frozen=True, slots=True)
class Command:
    names: tuple[str, ...]  # the first is the one shown
    usage: str  # arguments, for the help
    summary: str
    handler: Handler  # gets the chat screen and the text after the name


COMMANDS: tuple[Command, ...] = (
    Command(("/model", "/load"), "NAME", "use another model from the next message on (alone: pick one)", models.model),
    Command(("/clear", "/new"), "", "start a new conversation", conversation.new),
    Command(("/retry",), "", "ask again for the last reply (it replaces the old one)", conversation.retry),
    Command(("/edit",), "", "edit your last message and send it again", conversation.edit),
    Command(("/rename",), "TITLE", "rename this conversation", conversation.rename),
    Command(("/delete",), "", "delete this conversation (asks first)", conversation.delete),
    Command(("/search",), "[WORDS]", "search all conversations", conversation.search),
    Command(("/export",), "[md|json] [FILE]", "save this conversation as Markdown or JSON", files.export),
    Command(
        ("/copy",),
        "[code [N] | all]",
        "copy the last reply (code: its last or N-th code block; all: the conversation as Markdown)",
        copying.copy,
    ),
    Command(
        ("/save",),
        "FILE [N]",
        "save the last reply's last (or N-th) code block to FILE (asks before replacing)",
        copying.save,
    ),
    Command(("/continue",), "", "let a stopped or cut-off reply go on, in the same reply", copying.continue_reply),
    Command(
        ("/set",),
        "system TEXT | parameter NAME VALUE | think [LEVEL] | nothink | keepalive D",
        "change this conversation's settings",
        settings.set_value,
    ),
    Command(("/settings",), "", "edit this conversation's settings in a dialog", settings.settings),
    Command(("/show",), "[info]", "show this conversation's settings (info: the model's details)", settings.show),
    Command(("/image",), "PATH", "attach an image to your next message (vision models)", files.image),
    Command(("/think",), "", "fold or unfold the thinking of the last reply", conversation.think),
    Command(("/tools",), "[on|off NAME]", "tool servers and their tools, on or off for this conversation", tools.tools),
    Command(("/pull",), "NAME[@SERVER]", "download a model, with progress", models.pull),
    Command(("/info",), "[NAME[@SERVER]]", "details of a model (default: the current one)", models.info),
    Command(("/rm",), "NAME[@SERVER]", "delete a model from its server (asks first)", models.rm),
    Command(("/ps",), "[SERVER]", "models loaded in memory now (default: the current model's server)", models.ps),
    Command(("/help", "/?"), "", "list commands and keys", basics.show_help),
    Command(("/bye", "/exit", "/quit"), "", "quit", basics.quit_app),
)

_BY_NAME = {name: command for command in COMMANDS for name in command.names}


def parse(line: str) -> tuple[Command | None, str, str]:
    """`/model  qwen3:4b ` → (the /model command, "/model", "qwen3:4b"); unknown → (None, name, arg)."""
    name, _, argument = line.strip().partition(" ")
    return _BY_NAME.get(name.lower()), name, argument.strip()


def run(chat: Chat, line: str) -> None:
    """Run a typed command line; an unknown name says how to find the right one."""
    command, name, argument = parse(line)
    if command is None:
        chat.notify(f"Unknown command {name}. Type /help for the list.", severity="warning", markup=False)
        return
    command.handler(chat, argument)


@dataclass(frozen=True, slots=True)
class Completion:
    text: str  # the input after Tab
    names: tuple[str, ...]  # the command names it may still become, in alphabetical order
    command: Command | None = None  # when only one is left: it, for its usage


def complete(word: str) -> Completion:
    """Tab on a partly typed command name, as in a shell: a single match is completed with a
    space after it; several are completed as far as they agree."""
    names = tuple(sorted(name for name in _BY_NAME if name.startswith(word.lower())))
    if len(names) == 1:
        return Completion(names[0] + " ", names, _BY_NAME[names[0]])
    if not names:
        return Completion(word, names)
    first, last = names[0], names[-1]  # sorted: what these two share, all share
    shared = next((index for index, (a, b) in enumerate(zip(first, last, strict=False)) if a != b), len(first))
    return Completion(first[:shared], names)


def hint(completion: Completion) -> str:
    """What to show beside the input after a Tab: the usage of the one command left, or the
    names still possible."""
    command = completion.command
    if command is not None:
        usage = f" {command.usage}" if command.usage else ""
        return f"{command.names[0]}{usage} · {command.summary}"
    if not completion.names:
        return "no such command · /help lists them"
    return "  ".join(completion.names)
