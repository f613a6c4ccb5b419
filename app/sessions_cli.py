"""`ollama-tui sessions …`: list, export, import and delete saved conversations from a shell.

`register()` adds the sub-command to the main parser; the caller opens the store and passes
the parsed arguments to `run()` when `args.command == "sessions"`. Problems go to stderr as one
sentence with exit code 1, never as a traceback.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from app.conversation import ConversationInfo
from app.export import export_text, from_json, write_export
from app.stdout import silence_stdout
from app.store import Store, StoreError
from app.text import sanitize


class _Failure(Exception):
    """A problem to report on stderr; the message is the whole report."""


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    sessions = subparsers.add_parser("sessions", help="list, export, import or delete saved conversations")
    actions = sessions.add_subparsers(dest="sessions_action", required=True, metavar="ACTION")
    actions.add_parser("list", help="show saved conversations, newest first")

    export = actions.add_parser("export", help="write a conversation as Markdown or JSON")
    export.add_argument("id", type=int, help="conversation id, as `sessions list` shows it")
    export.add_argument("--format", choices=("md", "json"), default="md", help="default: md")
    export.add_argument("-o", "--output", type=Path, help="file to write (default: stdout)")
    export.add_argument("--force", action="store_true", help="overwrite an existing file")

    load = actions.add_parser("import", help="save a conversation from a JSON export")
    load.add_argument("file", type=Path, help="a file written by `sessions export --format json`")

    delete = actions.add_parser("delete", help="delete a conversation and its messages")
    delete.add_argument("id", type=int, help="conversation id, as `sessions list` shows it")


def run(args: argparse.Namespace, store: Store) -> int:
    """Carry out one `sessions` action; returns the process exit code."""
    try:
        if store.notice:
            print(store.notice, file=sys.stderr)
        _ACTIONS[args.sessions_action](args, store)
    except (_Failure, StoreError) as error:
        print(error, file=sys.stderr)
        return 1
    except BrokenPipeError:  # the reader went away, as with `| head`
        silence_stdout()
        return 1
    return 0


def _list(args: argparse.Namespace, store: Store) -> None:
    conversations = store.conversations()
    if not conversations:
        print("No saved conversations.", file=sys.stderr)
        return
    rows = [("ID", "UPDATED", "MESSAGES", "MODEL", "TITLE")]
    rows.extend(_row(info) for info in conversations)
    widths = [max(len(row[column]) for row in rows) for column in range(4)]
    for row in rows:
        cells = [row[0].rjust(widths[0]), row[1].ljust(widths[1]), row[2].rjust(widths[2])]
        print("  ".join([*cells, row[3].ljust(widths[3]), row[4]]).rstrip())


def _row(info: ConversationInfo) -> tuple[str, str, str, str, str]:
    updated = time.strftime("%Y-%m-%d %H:%M", time.localtime(info.updated_at))
    title = " ".join(sanitize(info.title).split())
    return str(info.id), updated, str(info.message_count), sanitize(info.model), title


def _export(args: argparse.Namespace, store: Store) -> None:
    info = _existing(store, args.id)
    turns = store.turns(info.id)
    text = export_text(info, turns, args.format)
    if args.output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    try:
        write_export(args.output, text, args.force)
    except FileExistsError:
        raise _Failure(f"{args.output} already exists; add --force to overwrite it.") from None
    except OSError as error:
        raise _Failure(f"Cannot write {args.output}: {error.strerror or error}.") from None
    print(f"Wrote conversation {info.id} to {args.output}.", file=sys.stderr)


def _import(args: argparse.Namespace, store: Store) -> None:
    _require_saving(store)
    try:
        text = args.file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise _Failure(f"Cannot read {args.file}: {reason}.") from None
    try:
        info, turns = from_json(text)
    except ValueError as error:
        raise _Failure(f"Cannot import {args.file}: {error}") from None
    print(store.import_conversation(info, turns))


def _delete(args: argparse.Namespace, store: Store) -> None:
    _require_saving(store)
    info = _existing(store, args.id)
    store.delete(info.id)
    print(f"Deleted conversation {info.id} ({sanitize(info.title) or 'untitled'}).")


def _existing(store: Store, conversation_id: int) -> ConversationInfo:
    info = store.conversation(conversation_id)
    if info is None:
        raise _Failure(f"There is no conversation {conversation_id}; see `sessions list`.")
    return info


def _require_saving(store: Store) -> None:
    # Outside normal mode a change would only reach the in-memory copy and vanish on exit.
    if store.mode != "normal":
        raise _Failure("Nothing was changed, because the conversation database cannot be saved.")


_ACTIONS = {"list": _list, "export": _export, "import": _import, "delete": _delete}
