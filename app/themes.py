"""Code in replies is drawn in a Pygments style that suits the app's theme.

Pygments styles bring their own background, so a dark one on a light theme (or the reverse)
makes a block that glares. The themes themselves are Textual's: chosen in the command palette
or by `theme` in the config file.
"""

from __future__ import annotations

from app.render.markdown import CODE_THEME

DARK_CODE_THEME = CODE_THEME  # monokai
LIGHT_CODE_THEME = "friendly"


def code_theme(dark: bool) -> str:
    """The Pygments style for code on a dark or a light theme."""
    return DARK_CODE_THEME if dark else LIGHT_CODE_THEME
