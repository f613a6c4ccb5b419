"""Commands about the app rather than the conversation: help and quit."""

from __future__ import annotations

from app.commands.chat import Chat


def show_help(chat: Chat, _: str) -> None:
    chat.action_help()


def quit_app(chat: Chat, _: str) -> None:
    chat.quit()
