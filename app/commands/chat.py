"""What a slash command may see and do: the chat screen, through the few things commands need.

Handlers take a `Chat` and the text after the command's name. The chat screen is one; a test
may pass another.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, Protocol, TypeVar

from textual.notifications import SeverityLevel
from textual.screen import Screen

from app.chat_options import ChatOptions
from app.conversation import ConversationInfo, Turn
from app.model_catalog import ModelCatalog
from app.open_conversation import OpenConversation
from app.render.sections import CodeText
from app.servers.base import ModelServer
from app.servers.registry import Servers
from app.tools.policy import ToolPolicy
from app.tools.servers import ToolServers

T = TypeVar("T")


class Chat(Protocol):
    @property
    def client(self) -> ModelServer:
        """The client of the current model's server."""

    @property
    def servers(self) -> Servers:
        """Every server of this run, `local` first."""

    @property
    def current(self) -> OpenConversation:
        """The open conversation: turns, settings, model and images for the next message."""

    @property
    def catalog(self) -> ModelCatalog:
        """The servers' states and models, and what is known of each model."""

    @property
    def reply_arriving(self) -> bool: ...

    @property
    def tool_servers(self) -> ToolServers:
        """The MCP servers of the config file and their tools."""

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None: ...

    def show_dialog(self, dialog: Screen[T], then: Callable[[T | None], None] | None = None) -> None:
        """Open a dialog; `then` gets what it was dismissed with."""

    def run_job(self, job: Coroutine[Any, Any, None], group: str) -> None:
        """Run `job` in the background (a worker in `group`), for commands that wait on the
        server, the disk or a dialog."""

    async def saved_info(self, conversation_id: int) -> ConversationInfo | None:
        """The conversation as saved, once the writes queued before are done; None when it is
        gone or the store failed (the person was told)."""

    def put_in_input(self, text: str) -> None:
        """Replace what is typed with `text`, cursor at the end."""

    def context_usage(self) -> tuple[int | None, int | None]:
        """Tokens in the context window after the last reply, and the window; None if unknown."""

    # The same as the chat screen's keys
    def action_new_conversation(self) -> None: ...
    def action_retry(self) -> None: ...
    def action_copy_reply(self) -> None: ...
    def action_toggle_thinking(self) -> None: ...
    def action_search(self, query: str = "") -> None: ...
    def action_settings(self) -> None: ...
    def action_help(self) -> None: ...
    def action_focus_models(self) -> None: ...

    # Changes the screen shows and saves
    def rename_conversation(self, conversation_id: int, title: str) -> None: ...
    def delete_conversation(self, conversation_id: int) -> None: ...
    def apply_options(self, options: ChatOptions | None) -> None: ...
    def set_tool_policy(self, policy: ToolPolicy | None) -> None:
        """This conversation's tool settings (servers and tools on or off, approvals)."""

    def select_model(self, name: str, announce: bool = True) -> None:
        """Use `name` (an address: `model@server`, or a local model's name) from the next
        message on."""

    def refresh_models(self) -> None: ...
    def forget_model(self, name: str) -> None:
        """A model (an address) was deleted: the list is fetched again; if it was the current
        one, another takes its place."""

    def explain_server(self, name: str) -> None:
        """Say what is wrong with a server, if anything is."""

    def start_pull(self, model: str) -> None:
        """Download `model` (an address) with a progress dialog that can go on in the background."""

    def delete_model(self, model: str) -> None:
        """Ask, then delete `model` (an address) from its server."""

    # Taking text out (app/screens/chat_copy.py) and going on (chat_redo.py)
    def last_reply(self) -> Turn | None: ...
    def code_blocks(self, turn: Turn) -> list[CodeText]:
        """The fenced code blocks of `turn`, in order (people number them from 1)."""

    def copy_code(self, turn: Turn, number: int) -> None:
        """Copy code block `number` of `turn`; 0: the only one, or one chosen in a dialog."""

    def copy_conversation(self) -> None: ...
    def save_code(self, target: str, number: int | None) -> None:
        """Write the last reply's code block `number` (None: the last) into the file `target`."""

    def continue_reply(self) -> None:
        """Let the last reply, stopped or cut off, go on."""

    def quit(self) -> None: ...
