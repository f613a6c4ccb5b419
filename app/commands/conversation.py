"""Commands on the open conversation: start afresh, ask again, edit, rename, delete, search,
fold the thinking. The conversation list's R and D keys use the same rename and delete."""

from __future__ import annotations

from app.commands.chat import Chat
from app.screens.dialogs import AskText, Confirm
from app.text import sanitize


def new(chat: Chat, _: str) -> None:
    chat.action_new_conversation()


def retry(chat: Chat, _: str) -> None:
    chat.action_retry()


def edit(chat: Chat, _: str) -> None:
    """Put the last user message back in the input; sending it replaces it and what followed."""
    if chat.reply_arriving:
        chat.notify("A reply is still arriving. Esc stops it.", severity="warning")
        return
    last = chat.current.last_user_turn()
    if last is None:
        chat.notify("No message to edit yet.", severity="warning")
        return
    chat.current.editing = last
    chat.put_in_input(last.content)
    chat.notify("Editing your last message: Enter sends it again, Esc cancels.")


def rename(chat: Chat, title: str) -> None:
    conversation_id = chat.current.id
    if conversation_id is None:
        chat.notify("Nothing to rename yet: send a message first.", severity="warning")
    elif not title:
        chat.run_job(ask_rename(chat, conversation_id), "ask")
    else:
        chat.rename_conversation(conversation_id, title)


def delete(chat: Chat, _: str) -> None:
    conversation_id = chat.current.id
    if conversation_id is None:
        chat.notify("Nothing to delete: this conversation is not saved yet.", severity="warning")
    else:
        chat.run_job(ask_delete(chat, conversation_id), "ask")


async def ask_rename(chat: Chat, conversation_id: int) -> None:
    info = await chat.saved_info(conversation_id)
    if info is None:
        return

    def renamed(title: str | None) -> None:
        if title:
            chat.rename_conversation(conversation_id, title)

    chat.show_dialog(AskText("New title for this conversation:", info.title), renamed)


async def ask_delete(chat: Chat, conversation_id: int) -> None:
    info = await chat.saved_info(conversation_id)
    if info is None:
        return

    def answered(yes: bool | None) -> None:
        if yes:
            chat.delete_conversation(conversation_id)

    title = sanitize(info.title) or "this conversation"
    question = f"Delete “{title}” and its {info.message_count} messages? This cannot be undone."
    chat.show_dialog(Confirm(question), answered)


def search(chat: Chat, query: str) -> None:
    chat.action_search(query)


def think(chat: Chat, _: str) -> None:
    chat.action_toggle_thinking()
