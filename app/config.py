"""The settings one run of the app starts with, defaults in one place."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from app.chat_options import ChatOptions
from app.host import split_credentials

if TYPE_CHECKING:
    from app.servers.config import ServerConfig
    from app.settings_file import ConfigFile

DEFAULT_HOST = "http://127.0.0.1:11434"
DEFAULT_THEME = "textual-dark"  # Textual's own default
FLUSH_SECONDS = 1 / 10  # how often streamed tokens reach the view: smooth enough to read
# as it arrives; each update repaints most of the view, so this rate sets the CPU cost
IDLE_NOTE_SECONDS = 3  # a reply with no new text for this long says how long it has waited
CHECKPOINT_SECONDS = 1.0  # how often a streaming reply is saved
# A stored reply still marked streaming but untouched this long was left by a copy of the app
# that died; a live copy checkpoints it every CHECKPOINT_SECONDS while tokens arrive.
STALE_STREAM_SECONDS = 10.0
RECONNECT_SECONDS = 2.0  # how often an unreachable server is tried again
HEALTH_SECONDS = 10.0  # how often a reachable server is checked while idle


@dataclass(frozen=True, slots=True)
class Settings:
    host: str = DEFAULT_HOST  # base URL, already parsed from --host, OLLAMA_HOST or the config file
    model: str | None = None  # model asked for on the command line
    data_dir: Path | None = None  # None: the store is in memory
    api_key: str | None = None
    continue_last: bool = False
    session_id: int | None = None
    default_model: str | None = None  # the config file's model: for a start no conversation names one
    theme: str = DEFAULT_THEME
    chat_defaults: ChatOptions = field(
        default_factory=ChatOptions
    )  # the config file's [options], for new conversations
    keymap: tuple[tuple[str, str], ...] = ()  # action name -> keys, from [keys]
    config: ConfigFile | None = None  # the file read at start (None: none): its problems, and where to write
    servers: tuple[ServerConfig, ...] = ()  # the config file's [servers.NAME], besides the host's (local)
    server: str | None = None  # --server: the server of the model asked for (None: as the model's name says)

    def __repr__(self) -> str:
        # Textual prints the locals of a crash, so a repr must not show the credentials.
        return (
            f"Settings(host={split_credentials(self.host)[0]!r}, model={self.model!r}, "
            f"data_dir={self.data_dir!r}, continue_last={self.continue_last!r}, "
            f"session_id={self.session_id!r}, default_model={self.default_model!r}, theme={self.theme!r}, "
            f"servers={self.servers!r}, server={self.server!r})"
        )
