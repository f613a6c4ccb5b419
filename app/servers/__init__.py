"""Servers of models: Ollama and OpenAI-compatible endpoints behind one interface (`base.py`),
their settings (`config.py`) and the set of them one run talks to (`registry.py`).

No Textual here, and nothing is imported by this file: the Ollama client loads
`capabilities` and `transport` without the rest.
"""
