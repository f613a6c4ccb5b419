"""ollama-tui: a full-screen terminal chat app for local models served by Ollama."""

import sys

__version__ = "0.1.0"

# httpx loads its command-line client (click, rich, pygments) whenever click is installed, as it
# is beside the MCP SDK's server parts. The app never runs it and start-up would pay ~13 ms for it;
# a None entry makes that optional import fail, which httpx expects.
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]  # None blocks an import
