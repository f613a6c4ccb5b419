"""ollama-tui: a full-screen terminal chat app for local models served by Ollama."""

__version__ = "0.1.0"
