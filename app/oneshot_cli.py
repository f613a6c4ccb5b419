"""`ollama-tui ask|models|ps`: one answer, or the models and loaded models, straight in a shell.

With `[servers.NAME]` in the config file, `--server NAME` (or `-m MODEL@NAME`) picks the server
to ask; `models` lists every server's models with a SERVER column (`--server` lists one), and
`ps` the loaded models of every server that can say.

`register()` adds the sub-commands to the main parser; the caller passes the parsed arguments
and settings to `run()` when `args.command` is in `COMMANDS`. No Textual here, so these start
fast and work in pipes: stdout gets only the answer (or the table), sanitized; problems go to
stderr as one sentence, never as a traceback.

Exit codes: 0 done, 1 failed, 2 server unreachable, 3 model missing, 130 interrupted (Ctrl+C).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import sys
import time
from collections.abc import AsyncIterator
from contextlib import aclosing, asynccontextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, TextIO

from app.client import ModelNotFound, OllamaError, OllamaUnreachable
from app.config import Settings
from app.conversation import Turn, TurnState
from app.paths import default_data_dir
from app.protocol import GenerateRequest
from app.servers.base import ModelServer
from app.servers.config import LOCAL
from app.servers.registry import Server, Servers, UnknownServer, join_model
from app.stdout import silence_stdout
from app.store import DB_NAME, Store, StoreError
from app.tables import format_table, model_rows, running_rows
from app.text import StreamSanitizer, sanitize

COMMANDS = frozenset({"ask", "models", "ps"})

EXIT_FAILED = 1
EXIT_UNREACHABLE = 2
EXIT_NO_MODEL = 3
EXIT_INTERRUPTED = 130


class _Failure(Exception):
    """A problem to report on stderr: the message is the whole report."""

    def __init__(self, message: str, code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class _Question:
    prompt: str
    model: str | None  # None: the last model used, else the first installed
    system: str | None
    json: bool


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    ask = subparsers.add_parser(
        "ask",
        help="print one answer to a prompt; text piped on stdin is added to it",
        description="Print the answer to PROMPT as it arrives. Text piped on stdin is added "
        "after the prompt, e.g. `git diff | ollama-tui ask 'review this'`.",
    )
    # Its own dest: a sub-command's default would overwrite a global `-m` given before it.
    ask.add_argument(
        "-m",
        "--model",
        dest="ask_model",
        metavar="NAME",
        help="default: the config file's model, else the last one used, else the first one installed",
    )
    ask.add_argument("--system", metavar="TEXT", help="system prompt (default: the model's own)")
    ask.add_argument("--json", action="store_true", help="ask for the answer as JSON")
    ask.add_argument("--save", action="store_true", help="keep the exchange as a conversation the app can reopen")
    ask.add_argument("prompt", nargs="*", metavar="PROMPT", help="the question (words are joined)")
    subparsers.add_parser("models", help="list the models of every server (or --server's), like `ollama list`")
    subparsers.add_parser("ps", help="list models loaded in memory, like `ollama ps`")


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Carry out `ask`, `models` or `ps`; returns the process exit code."""
    try:
        if args.command == "ask":
            _ask(args, settings)
        else:
            table = asyncio.run(_TABLES[args.command](settings))
            print(format_table(table.rows))
            for failure in table.failures:  # the servers that did answer are listed above
                print(_explain(failure), file=sys.stderr)
            if table.failures:
                return _exit_code(table.failures[0])
    except _Failure as failure:
        print(failure, file=sys.stderr)
        return failure.code
    except OllamaError as error:
        print(_explain(error), file=sys.stderr)
        return _exit_code(error)
    except StoreError as error:
        print(error, file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # the reader went away, as with `| head`
        silence_stdout()
        return EXIT_FAILED
    return 0


# ask


def _ask(args: argparse.Namespace, settings: Settings) -> None:
    # stdin is read before the event loop starts, so Ctrl+C during the read stops at once.
    asked = args.ask_model or settings.model
    question = _Question(
        _prompt(" ".join(args.prompt), _piped_text()),
        # With --server alone, that server's first model: the others name another server's.
        asked or (None if settings.server else settings.default_model),
        args.system,
        args.json,
    )
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(errors="replace")  # a reply in emoji must not crash a C locale
    data_dir = settings.data_dir or default_data_dir()
    if not args.save and not (data_dir / DB_NAME).exists():
        asyncio.run(_answer(settings, question, None))  # no database just to read a setting
        return
    with Store.open(data_dir) as store:
        if args.save and store.mode != "normal":
            raise _Failure(f"Nothing was asked, because --save cannot keep it: {store.notice}")
        if question.model is None and not settings.server:
            question = replace(question, model=store.get_setting("last_model"))
        asyncio.run(_answer(settings, question, store if args.save else None))


def _piped_text() -> str:
    if sys.stdin is None or sys.stdin.isatty():
        return ""
    return sys.stdin.buffer.read().decode("utf-8", "replace")


def _prompt(words: str, piped: str) -> str:
    words, piped = words.strip(), piped.strip()
    if not (words or piped):
        raise _Failure("Nothing to ask: give a prompt, or pipe text on stdin.")
    return f"{words}\n\n{piped}" if words and piped else words or piped


async def _answer(settings: Settings, question: _Question, store: Store | None) -> None:
    async with _opened(settings) as servers:
        wanted, server = _choose(servers, question.model, settings.server)
        client = server.client
        model = wanted or await _first_model(client)
        request = GenerateRequest(model, question.prompt, question.system, format="json" if question.json else None)
        asked_at = time.time()
        reply = Turn("assistant", "", model=model, state=TurnState.STREAMING)
        if len(servers) > 1:
            reply.server = server.name
        try:
            await _stream(client, request, reply)
        except OllamaError as error:
            reply.state = TurnState.INTERRUPTED if reply.content else TurnState.ERROR
            reply.error = str(error)
            raise
        except asyncio.CancelledError:  # Ctrl+C: asyncio.run raises KeyboardInterrupt after
            reply.state, reply.error = TurnState.STOPPED, "Stopped."
            raise
        finally:
            # A failure before any text is reported, not saved: there is nothing to resume.
            if store is not None and (reply.content or reply.state is TurnState.COMPLETE):
                user = Turn("user", request.prompt, created_at=asked_at)
                _save(store, request, join_model(model, server.name), user, reply)


@asynccontextmanager
async def _opened(settings: Settings) -> AsyncIterator[Servers]:
    servers = Servers(settings.host, settings.servers, local_api_key=settings.api_key)
    try:
        yield servers
    finally:
        await servers.aclose()


def _choose(servers: Servers, model: str | None, server_flag: str | None) -> tuple[str | None, Server]:
    """The model to ask (None: the server's first) and its server: `-m MODEL@SERVER`, else
    --server, else local."""
    try:
        wanted, named = servers.resolve(model) if model else (None, None)
        if named and server_flag and named != server_flag:
            raise _Failure(f"The model {model} is on the server {named}, but --server names {server_flag}.")
        return wanted, servers[named or server_flag or LOCAL]
    except UnknownServer as error:
        raise _Failure(str(error)) from None


async def _first_model(client: ModelServer) -> str:
    models = await client.list_models()
    if not models:
        raise _Failure("No models are installed; download one with `ollama pull NAME`.", EXIT_NO_MODEL)
    return models[0].name


async def _stream(client: ModelServer, request: GenerateRequest, reply: Turn) -> None:
    """Print the answer as it arrives; fills `reply` (thinking is kept, never printed)."""
    printer = _Printer(sys.stdout)
    content: list[str] = []
    thinking: list[str] = []
    try:
        async with aclosing(client.generate(request)) as chunks:
            async for chunk in chunks:
                content.append(chunk.content)
                thinking.append(chunk.thinking)
                printer.write(chunk.content)
                if chunk.done:
                    reply.state, reply.stats = TurnState.COMPLETE, chunk.stats
    finally:
        reply.content, reply.thinking = "".join(content), "".join(thinking)
        printer.close()


class _Printer:
    """Writes streamed text to a terminal or pipe, clean and at once."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._clean = StreamSanitizer()  # holds back an escape sequence split across chunks
        self._line_open = False

    def write(self, piece: str) -> None:
        self._put(self._clean.feed(piece))

    def close(self) -> None:
        """Write what was held back and end the last line."""
        self._put(self._clean.flush())
        if self._line_open:
            self._put("\n")

    def _put(self, text: str) -> None:
        if text:
            self._stream.write(text)
            self._stream.flush()
            self._line_open = not text.endswith("\n")


def _save(store: Store, request: GenerateRequest, address: str, user: Turn, reply: Turn) -> None:
    try:
        info = store.create_conversation(address, system=request.system or "")
        store.add_turn(info.id, user)
        store.add_turn(info.id, reply)
    except StoreError as error:
        print(f"The answer was not saved: {error}", file=sys.stderr)
        return
    print(f"Saved as conversation {info.id} (ollama-tui --session {info.id}).", file=sys.stderr)


# models and ps


async def _models(settings: Settings) -> _Table:
    async with _opened(settings) as servers:
        chosen = _servers_for(servers, settings.server)
        answers = await asyncio.gather(*(server.client.list_models() for server in chosen), return_exceptions=True)
        now = datetime.now(UTC)
        return _joined(
            servers,
            [
                (s.name, a if isinstance(a, BaseException) else model_rows(a, now))
                for s, a in zip(chosen, answers, strict=True)
            ],
        )


async def _running(settings: Settings) -> _Table:
    async with _opened(settings) as servers:
        chosen = _servers_for(servers, settings.server)
        if settings.server is None:  # every server that can say; OpenAI-compatible ones cannot
            chosen = [server for server in chosen if server.capabilities.ps]
        answers = await asyncio.gather(*(server.client.running() for server in chosen), return_exceptions=True)
        now = datetime.now(UTC)
        return _joined(
            servers,
            [
                (s.name, a if isinstance(a, BaseException) else running_rows(a, now))
                for s, a in zip(chosen, answers, strict=True)
            ],
        )


@dataclass(frozen=True, slots=True)
class _Table:
    rows: list[tuple[str, ...]]
    failures: tuple[OllamaError, ...] = ()  # servers that could not answer; their rows are missing


def _servers_for(servers: Servers, name: str | None) -> list[Server]:
    if name is None:
        return list(servers)
    try:
        return [servers[name]]
    except UnknownServer as error:
        raise _Failure(str(error)) from None


def _joined(servers: Servers, answers: list[tuple[str, list[tuple[str, ...]] | BaseException]]) -> _Table:
    """One table of every server's rows, with a SERVER column where several are configured.
    Raises the failure when no server answered."""
    failures: list[OllamaError] = []
    header: tuple[str, ...] = ()
    rows: list[tuple[str, ...]] = []
    for name, answer in answers:
        if isinstance(answer, OllamaError):
            failures.append(answer)
            continue
        if isinstance(answer, BaseException):
            raise answer  # not a server's failure: a bug, or Ctrl+C
        header = answer[0]
        rows += [(*row, name) if len(servers) > 1 else row for row in answer[1:]]
    if failures and not header:
        raise failures[0]
    return _Table([(*header, "SERVER") if len(servers) > 1 else header, *rows], tuple(failures))


_TABLES = {"models": _models, "ps": _running}


# errors


def _explain(error: OllamaError) -> str:
    text = sanitize(str(error))  # may quote the server
    if isinstance(error, ModelNotFound):
        return f"{text} Download it with `ollama pull {sanitize(error.model)}`."
    return text


def _exit_code(error: OllamaError) -> int:
    if isinstance(error, OllamaUnreachable):
        return EXIT_UNREACHABLE
    if isinstance(error, ModelNotFound):
        return EXIT_NO_MODEL
    return EXIT_FAILED
