"""The App: theme, stylesheets, keys and wiring. Behaviour lives in the screens and widgets.

The config file's theme and `[keys]` apply here; a theme chosen in the command palette is
written back to the file. The file's problems are shown once the screen is up.
"""

from __future__ import annotations

import gc
import logging
import os
import threading
import time
from typing import TYPE_CHECKING, ClassVar

from textual import work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.notifications import SeverityLevel

from app import clipboard
from app.client import OllamaClient
from app.config import Settings
from app.paths import STYLES_DIR
from app.screens.chat import ChatScreen
from app.servers.registry import Servers
from app.settings_file import theme_problem
from app.settings_writer import NotSaved, remember
from app.store import Store, StoreError
from app.store_writer import StoreWriter
from app.text import key_name, sanitize

if TYPE_CHECKING:
    from textual.theme import Theme
    from textual.types import CSSPathType  # only for the annotation: textual.types imports several widgets

_log = logging.getLogger(__name__)
STORE_ERROR_REPEAT_SECONDS = 60.0  # a failing disk is said once a minute, not once a second


class OllamaTui(App[None]):
    TITLE = "ollama-tui"
    CSS_PATH: ClassVar[CSSPathType] = [STYLES_DIR / "app.tcss", STYLES_DIR / "chat.tcss", STYLES_DIR / "models.tcss"]
    # Ids name the bindings for [keys] (app/keys.py); declaring the palette's own binding
    # gives it one too, and Textual then adds no other.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+q", "quit", "Quit", priority=True, id="quit"),
        Binding(
            "ctrl+p",
            "command_palette",
            "Palette",
            show=False,
            priority=True,
            id="command_palette",
            tooltip="the command palette: themes, keys, quit",
        ),
    ]

    def __init__(self, settings: Settings, servers: Servers, store: Store) -> None:
        super().__init__()
        self.settings = settings
        self.servers = servers
        self.store = store
        self.writer = StoreWriter(store, self._store_error)
        self._store_error_shown = -STORE_ERROR_REPEAT_SECONDS
        self.keymap: dict[str, str] = dict(settings.keymap)  # action name -> keys, as [keys] set them
        config = settings.config
        self._notices = [str(problem) for problem in config.problems] if config else []
        if problem := theme_problem(config, self.available_themes):
            self._notices.append(str(problem))
        elif settings.theme in self.available_themes:
            self.theme = settings.theme
        self._saved_theme = self.theme  # what the file says, or would: only a change is written
        self._saving = threading.Lock()  # one write at a time, each of the latest theme

    def on_mount(self) -> None:
        if self.keymap:
            self.set_keymap(self.keymap)
        self.theme_changed_signal.subscribe(self, self._theme_changed)
        for notice in self._notices:
            _log.warning("Config file: %s", notice)
        if self._notices:
            self.notify("\n".join(self._notices), title="Config file", severity="warning", timeout=30)

    def on_ready(self) -> None:
        # Rendered lines are many small long-lived objects: a full collection over them took
        # 100–190 ms, a visible stall. Freeze what start-up made and collect the oldest
        # generation a tenth as often. A fresh process starts with collection off (`cli.main`):
        # it then has some 2,000 objects of garbage, not worth a 20 ms collection to free.
        if gc.isenabled():
            gc.collect()  # garbage of earlier apps in this process, which must not be frozen
        gc.freeze()
        gc.set_threshold(700, 10, 100)
        gc.enable()

    def _theme_changed(self, theme: Theme) -> None:
        if self.settings.config is not None and theme.name != self._saved_theme:
            self._save_theme()

    @work(thread=True, group="config")
    def _save_theme(self) -> None:
        """Remember the theme in the config file, off the UI thread (it waits for the disk).
        Writes are one at a time, each of the theme in use by then, so the last choice stays."""
        assert self.settings.config is not None
        with self._saving:
            name = self.theme
            if name == self._saved_theme:
                return
            try:
                remember(self.settings.config.path, "theme", name)
            except NotSaved as error:
                _log.warning("Theme not saved: %s", error)
                self.call_from_thread(self.notify, str(error), title="Config file", severity="error", timeout=15)
                return
            self._saved_theme = name

    def get_default_screen(self) -> ChatScreen:
        return ChatScreen(self.settings, self.servers, self.writer)

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Every toast is plain, terminal-safe text: messages quote servers, models and files."""
        super().notify(sanitize(message), title=sanitize(title), severity=severity, timeout=timeout, markup=False)

    def copy_to_clipboard(self, text: str, what: str = "") -> None:
        """Every copy, Textual's own (a selection, the input's) and the app's: OSC 52 to the
        terminal, a local clipboard tool in a worker, then one toast saying what went where.

        `what` names the text for that toast ("12 lines of python"); a selection is named by
        its size.
        """
        super().copy_to_clipboard(text)  # OSC 52, written by the driver
        terminal = self._driver is not None and not self.is_headless
        self.run_worker(
            self._report_copy(text, what or clipboard.describe(text, "selected text"), terminal), group="clipboard"
        )

    async def _report_copy(self, text: str, what: str, terminal: bool) -> None:
        report = await clipboard.copy(text, terminal, os.environ)
        self.notify(report.sentence(what), severity="information" if report.routes else "error")

    def action_help_quit(self) -> None:
        """Ctrl+C with no reply to stop and nothing selected to copy: say how to quit.

        Replaces Textual's own hint, which is written in markup that `notify` here shows as text.
        """
        keys = [key for key, active in self.active_bindings.items() if active.binding.action in ("quit", "app.quit")]
        if keys:
            self.notify(f"Press {key_name(keys[0])} to quit the app.", title="Do you want to quit?")

    def _store_error(self, error: StoreError) -> None:
        _log.warning("Saving failed: %s", error)
        now = time.monotonic()
        if now - self._store_error_shown >= STORE_ERROR_REPEAT_SECONDS:  # not one per checkpoint
            self._store_error_shown = now
            self.notify(str(error), title="Conversation storage", severity="error", timeout=15)

    async def on_unmount(self) -> None:
        self.writer.close()
        await self.servers.aclose()


def make_app(settings: Settings, client: OllamaClient | None = None, store: Store | None = None) -> OllamaTui:
    """Build the app as the command line does; tests pass their own client (of `local`) and store."""
    servers = Servers(settings.host, settings.servers, local_api_key=settings.api_key, local_client=client)
    if store is None:
        store = Store.open(settings.data_dir) if settings.data_dir else Store.memory()
    if store.notice:
        _log.warning("Storage is %s: %s", store.mode, store.notice)
    return OllamaTui(settings, servers, store)
