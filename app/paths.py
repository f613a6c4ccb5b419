"""Where things live: the user data and config directories, and the stylesheets."""

from __future__ import annotations

from pathlib import Path

from platformdirs import user_config_dir, user_data_dir

APP_NAME = "ollama-tui"
CONFIG_NAME = "config.toml"

# Installed from a wheel the stylesheets are the `app.styles` package; in a source checkout they
# are the top-level `styles/` folder beside `app/`.
_PACKAGED = Path(__file__).parent / "styles"
STYLES_DIR = _PACKAGED if _PACKAGED.is_dir() else Path(__file__).parent.parent / "styles"


def default_data_dir() -> Path:
    """The user data directory (`XDG_DATA_HOME` moves it on Linux)."""
    return Path(user_data_dir(APP_NAME, appauthor=False))


def make_private_dir(directory: Path) -> None:
    """Create the folder and any missing parent 0700 whatever the umask (`mkdir -p` would
    give the parents the umask's permissions); folders that exist are left as they are."""
    missing = [folder for folder in (directory, *directory.parents) if not folder.exists()]
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=0o700)
        except FileExistsError:  # made meanwhile by someone else: theirs to keep
            continue
        folder.chmod(0o700)


def default_config_path() -> Path:
    """The config file in the user config directory (`XDG_CONFIG_HOME` moves it on Linux)."""
    return Path(user_config_dir(APP_NAME, appauthor=False)) / CONFIG_NAME
