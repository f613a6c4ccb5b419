"""The settings one run of the app starts with, defaults in one place."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from app.host import split_credentials

DEFAULT_HOST = "http://127.0.0.1:11434"
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
    host: str = DEFAULT_HOST  # base URL, already parsed from OLLAMA_HOST / --host
    model: str | None = None  # model asked for on the command line
    data_dir: Path | None = None  # None: the store is in memory
    api_key: str | None = None
    continue_last: bool = False
    session_id: int | None = None

    def __repr__(self) -> str:
        # Textual prints the locals of a crash, so a repr must not show the credentials.
        return (
            f"Settings(host={split_credentials(self.host)[0]!r}, model={self.model!r}, "
            f"data_dir={self.data_dir!r}, continue_last={self.continue_last!r}, "
            f"session_id={self.session_id!r})"
        )
