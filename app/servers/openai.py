"""OpenAIClient: any OpenAI-compatible `/v1` endpoint (vLLM, SGLang, llama.cpp's server,
Ollama's own `/v1`) behind the interface of `OllamaClient`.

Like that client it knows nothing of the UI, sends every failure as an `OllamaError` whose
`str()` is a sentence, and closes the HTTP response at once when a stream is left early.
It answers chat, completion and the model list; pulling, deleting, describing and listing
loaded models raise `NotSupported` (`capabilities` says so beforehand). The API key is sent
as a Bearer token and lives only in the httpx client's headers: no log line or repr has it.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncGenerator
from time import monotonic
from typing import NoReturn

import httpx

from app.client import (
    BadResponse,
    ModelNotFound,
    OllamaError,
    OllamaServerError,
    StreamInterrupted,
    Unauthorized,
    each,
    failure,
)
from app.debug_log import CONTENT_LOGGER
from app.host import split_credentials
from app.protocol import (
    JSON,
    ChatChunk,
    ChatRequest,
    GenerateRequest,
    MalformedLine,
    ModelDetails,
    ModelInfo,
    PullProgress,
    RunningModel,
    StreamLineError,
)
from app.servers.base import NoModels, NotSupported
from app.servers.capabilities import OPENAI_CAPABILITIES, Capabilities
from app.servers.openai_wire import DONE, ReplyStream, chat_body, error_message, generate_body, parse_model_list
from app.servers.transport import (
    SHORT_TIMEOUT,
    HttpClient,
    LineSplitter,
    OverlongLine,
    Wording,
    elapsed_ms,
    excerpt,
    open_http,
    plain_text,
)

OPENAI_WORDING = Wording(
    "the OpenAI-compatible server",
    "Is it running, and is the URL right? These servers answer under /v1.",
    "give the server's key as its api_key",
)
_CHAT = "/chat/completions"

_log = logging.getLogger(__name__)  # methods, paths, statuses, timings and errors only
_content_log = logging.getLogger(CONTENT_LOGGER)


def with_v1(url: str) -> str:
    """`url` without a trailing slash, with `/v1` when it has no path: the OpenAI API lives
    there on every server this client knows, and people often give just host and port."""
    url = url.rstrip("/")
    return url if httpx.URL(url).path.strip("/") else url + "/v1"


class OpenAIClient(HttpClient):
    """One OpenAI-compatible server. Credentials in the URL become Basic auth; `api_key` is
    sent as `Authorization: Bearer`."""

    capabilities: Capabilities = OPENAI_CAPABILITIES

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        wording: Wording = OPENAI_WORDING,
    ) -> None:
        url, credentials = split_credentials(base_url)
        self._base_url = with_v1(url)
        self._wording = wording
        self._http = open_http(self._base_url, auth=credentials, api_key=api_key, transport=transport)

    async def version(self) -> str:
        return ""  # the OpenAI API has no version call

    async def list_models(self) -> list[ModelInfo]:
        response = await self._call("GET", "/models")
        try:
            body = response.json()
        except (ValueError, RecursionError):
            body = None
        models = parse_model_list(body) if isinstance(body, dict) else None
        if models is None:
            raise BadResponse(excerpt(response.text) or "an empty model list", server=self._wording.server)
        if not models:
            raise NoModels(self._wording.server, self._base_url)
        return models

    async def show(self, model: str) -> ModelDetails:
        self._refuse("show")

    async def running(self) -> list[RunningModel]:
        self._refuse("ps")

    async def delete(self, model: str) -> None:
        self._refuse("delete")

    def pull(self, model: str) -> AsyncGenerator[PullProgress, None]:
        return _refused(NotSupported(self._wording.server, self.capabilities, "pull"))

    def chat(self, request: ChatRequest) -> AsyncGenerator[ChatChunk, None]:
        """Stream a reply: chunks as they come, the last with `done=True` and `stats`."""
        return each(self.chat_batches(request))

    def chat_batches(self, request: ChatRequest) -> AsyncGenerator[list[ChatChunk], None]:
        """`chat()` with the chunks of one network read in one list."""
        return self._stream(chat_body(request), request.model)

    def generate(self, request: GenerateRequest) -> AsyncGenerator[ChatChunk, None]:
        """A single-prompt completion, sent as a chat of one message (see `generate_body`)."""
        return each(self._stream(generate_body(request), request.model))

    def _refuse(self, operation: str) -> NoReturn:
        raise NotSupported(self._wording.server, self.capabilities, operation)

    async def _call(self, method: str, path: str) -> httpx.Response:
        started = monotonic()
        try:
            response = await self._http.request(method, path, timeout=SHORT_TIMEOUT)
        except httpx.HTTPError as error:
            raise self._logged(failure(error, self._base_url, self._wording), method, path, started, error) from error
        _log.debug("%s %s: %d in %.0f ms", method, path, response.status_code, elapsed_ms(started))
        if response.is_error:
            raise self._logged(self._status_error(response, path, None), method, path, started)
        return response

    async def _stream(self, body: JSON, model: str) -> AsyncGenerator[list[ChatChunk], None]:
        # The hot path: a split per read, one JSON parse per event.
        started = monotonic()
        server = self._wording.server
        reply = ReplyStream(started)
        log_content = _content_log.isEnabledFor(logging.DEBUG)
        if log_content:
            _content_log.debug("POST %s body: %s", _CHAT, json.dumps(body, ensure_ascii=False))
        splitter = LineSplitter()
        event = _Event()
        try:
            async with self._http.stream("POST", _CHAT, json=body) as response:
                status = response.status_code
                _log.debug("POST %s (%s): %d after %.0f ms", _CHAT, model, status, elapsed_ms(started))
                if response.is_error:
                    await response.aread()
                    raise self._logged(self._status_error(response, _CHAT, model), "POST", _CHAT, started)
                async for data in response.aiter_bytes():
                    batch: list[ChatChunk] = []
                    for raw in splitter.feed(data):
                        if reply.done:
                            continue  # read on to the end so the connection can be reused
                        line = raw.decode("utf-8", "replace")
                        if log_content:
                            _content_log.debug("POST %s line: %s", _CHAT, line)
                        try:
                            payload = event.line(line)
                            if payload is None:
                                continue
                            chunk = reply.event(payload)
                        except (StreamLineError, MalformedLine):
                            if batch:
                                yield batch  # what came before the bad event is kept
                            raise
                        if chunk is not None:
                            batch.append(chunk)
                        if payload == DONE:
                            batch.append(reply.final())
                    if batch:
                        yield batch
                if not reply.done and not splitter.unfinished:
                    # Some servers end the last event without its blank line, or send no
                    # [DONE] after the finish (forks of llama.cpp's server): both are whole.
                    payload = event.end()
                    chunk = reply.event(payload) if payload is not None else None
                    if reply.finished or reply.done:
                        yield [*([chunk] if chunk is not None else []), reply.final()]
                        reply.done = True
                    elif chunk is not None:
                        yield [chunk]
        except httpx.HTTPError as error:
            raise self._logged(failure(error, self._base_url, self._wording), "POST", _CHAT, started, error) from error
        except StreamLineError as error:
            raise self._logged(OllamaServerError(200, str(error), server=server), "POST", _CHAT, started) from None
        except (MalformedLine, OverlongLine) as error:
            raise self._logged(BadResponse(excerpt(str(error)), server=server), "POST", _CHAT, started) from None
        except (GeneratorExit, asyncio.CancelledError):
            _log.debug("POST %s: closed by the app after %.0f ms", _CHAT, elapsed_ms(started))
            raise
        if not reply.done:  # cut: EOF mid-line, or before the reply finished
            raise self._logged(StreamInterrupted(server=server), "POST", _CHAT, started)
        _log.debug("POST %s: done in %.0f ms", _CHAT, elapsed_ms(started))

    def _status_error(self, response: httpx.Response, path: str, model: str | None) -> OllamaError:
        try:
            body = response.json()
        except (ValueError, RecursionError):
            body = None
        message = error_message(body)
        status = response.status_code
        if status in (401, 403):
            return Unauthorized(status, message or "", self._base_url, wording=self._wording)
        # FastAPI's {"detail": "Not Found"} (and a plain-text 404) is an unknown path, not a model.
        answered = isinstance(body, dict) and ("error" in body or body.get("object") == "error")
        if status == 404 and model is not None and answered and message is not None:
            return ModelNotFound(model, message)
        text = message or plain_text(response)
        if status == 404 and not answered:
            text = f"{text} (it serves no {self._base_url}{path})"
        return OllamaServerError(status, text, server=self._wording.server)

    def _logged(
        self, failure: OllamaError, method: str, path: str, started: float, cause: Exception | None = None
    ) -> OllamaError:
        """`failure`, once the debug log has it (the sentence names no credentials)."""
        detail = f" [{type(cause).__name__}]" if cause is not None else ""
        _log.warning("%s %s failed after %.0f ms: %s%s", method, path, elapsed_ms(started), failure, detail)
        return failure


async def _refused(error: OllamaError) -> AsyncGenerator[PullProgress, None]:
    """A stream, as `OllamaClient.pull` returns, whose first step raises `error`."""
    progress: PullProgress
    for progress in ():  # a loop that never runs, to make this an async generator
        yield progress
    raise error


class _Event:
    """Server-sent events, a line at a time: `line()` returns the data of an event when the
    blank line that ends it arrives. Fields other than `data` are read as the spec says
    (`event`, `id`, `retry`, comments), plus llama.cpp's `error:` line; anything else is
    not an event stream."""

    __slots__ = ("_data", "_name")

    def __init__(self) -> None:
        self._data: list[str] = []
        self._name = ""

    def line(self, line: str) -> str | None:
        if line.endswith("\r"):  # sse-starlette ends lines with \r\n
            line = line[:-1]
        if line.startswith("data: "):  # nearly every line that is not blank
            self._data.append(line[6:])
            return None
        if not line:
            return self.end()
        field, colon, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if field == "data":
            self._data.append(value)
        elif field == "error":  # llama.cpp's server: the error object, on its own line
            raise StreamLineError(_error_text(value))
        elif field == "event":
            self._name = value
        elif field in ("id", "retry") or (not field and colon):
            pass  # an id, a retry delay or a comment (a keep-alive): nothing to show
        else:
            raise MalformedLine(line[:200])
        return None

    def end(self) -> str | None:
        """The data of the event that ends here, if any."""
        if not self._data:
            return None
        data = self._data[0] if len(self._data) == 1 else "\n".join(self._data)
        self._data.clear()
        name, self._name = self._name, ""
        if name == "error":
            raise StreamLineError(_error_text(data))
        return data


def _error_text(value: str) -> str:
    try:
        body = json.loads(value)
    except (ValueError, RecursionError):
        return value
    if isinstance(body, dict) and "error" not in body:
        body = {"error": body}  # llama.cpp sends the inner object
    return error_message(body) or value
