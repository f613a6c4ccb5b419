"""The debug log (`--debug`): requests, their outcome and errors, in a private, rotated file.

Message text stays out unless `--debug-content` asks for it, and credentials never go in: the
client logs paths and credential-free URLs, and a filter masks the known secrets besides.
Without `--debug` the app's loggers get a NullHandler, so nothing reaches the terminal.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from io import TextIOWrapper
from logging.handlers import RotatingFileHandler
from pathlib import Path

from platformdirs import user_log_dir

from app.paths import APP_NAME, make_private_dir

LOG_NAME = "ollama-tui.log"
MAX_BYTES = 1_000_000
BACKUPS = 3  # ollama-tui.log.1 … .3: at most 4 MB in all
APP_LOGGER = "app"  # the package: every module logs under it
CONTENT_LOGGER = "app.content"  # message text, at DEBUG; silent unless asked for
_MASK = "***"
_SHORTEST_SECRET = 4  # masking a one-letter password would garble every line


def default_log_dir() -> Path:
    """The user log directory (`XDG_STATE_HOME/ollama-tui/log` on Linux)."""
    return Path(user_log_dir(APP_NAME, appauthor=False))


def configure(
    enabled: bool,
    directory: Path | None = None,
    *,
    content: bool = False,
    secrets: Iterable[str] = (),
    max_bytes: int = MAX_BYTES,
    backups: int = BACKUPS,
) -> Path | None:
    """Send the app's log records to a file, or (not enabled) nowhere. Returns the file.

    The app's records never propagate to the root logger: a library's handler there must not
    write them to the terminal the app draws on.
    """
    logger = logging.getLogger(APP_LOGGER)
    logger.propagate = False
    for handler in logger.handlers[:]:
        logger.removeHandler(handler)
        handler.close()
    if not enabled:
        logger.addHandler(logging.NullHandler())
        return None
    directory = directory or default_log_dir()
    make_private_dir(directory)
    path = directory / LOG_NAME
    handler = _PrivateFileHandler(path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(_Mask(secrets))
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logging.getLogger(CONTENT_LOGGER).setLevel(logging.DEBUG if content else logging.INFO)
    return path


def add_secrets(secrets: Iterable[str]) -> None:
    """Mask these too from now on (a tool server's expanded env and headers, known once it starts)."""
    for handler in logging.getLogger(APP_LOGGER).handlers:
        for mask in handler.filters:
            if isinstance(mask, _Mask):
                mask.add(secrets)


class _PrivateFileHandler(RotatingFileHandler):
    """Every file, rotated ones too, is created 0600: the log names hosts and may hold text."""

    def _open(self) -> TextIOWrapper:
        descriptor = os.open(self.baseFilename, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        os.fchmod(descriptor, 0o600)
        return open(descriptor, "a", encoding=self.encoding, errors=self.errors)


class _Mask(logging.Filter):
    """Replaces known secrets (a password, an API key) wherever they would appear."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self._secrets: tuple[str, ...] = ()
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        known = dict.fromkeys(self._secrets)
        known.update(dict.fromkeys(secret for secret in secrets if len(secret) >= _SHORTEST_SECRET))
        self._secrets = tuple(known)

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._secrets:
            return True
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        masked = message
        for secret in self._secrets:
            masked = masked.replace(secret, _MASK)
            if record.exc_text:
                record.exc_text = record.exc_text.replace(secret, _MASK)
        if masked != message:
            record.msg, record.args = masked, None
        return True
