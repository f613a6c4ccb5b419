"""Slash commands typed in the input, as `ollama run` users know them.

`table.py` lists every command once (names, usage, summary, handler): /help, dispatch and Tab
completion all read it. Handlers live in one module per area (conversation, models, settings,
files, basics) and see the chat screen only through `chat.Chat`.
"""
