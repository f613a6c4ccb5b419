"""OllamaClient: Ollama's HTTP API as typed async calls.

Knows nothing of the UI. Every failure leaves as an `OllamaError` whose `str()` is a sentence
to show people; no httpx exception escapes. Streams are async generators: leaving one early
(`aclose()`, a cancelled task) closes the HTTP response at once, which is how Ollama learns
to stop generating.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncGenerator, Callable
from contextlib import aclosing
from time import monotonic
from typing import Protocol, TypeVar

import httpx

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
    error_text,
    parse_chat_line,
    parse_generate_line,
    parse_models,
    parse_pull_line,
    parse_running,
)
from app.servers.capabilities import OLLAMA_CAPABILITIES, Capabilities
from app.servers.transport import (
    OLLAMA_WORDING,
    SHORT_TIMEOUT,
    HttpClient,
    LineSplitter,
    OverlongLine,
    Wording,
    elapsed_ms,
    excerpt,
    open_http,
    plain_text,
    sentence,
    tls_problem,
)

# Methods, paths, statuses, timings and errors; never headers or credentials (see debug_log).
_log = logging.getLogger(__name__)
_content_log = logging.getLogger(CONTENT_LOGGER)  # request bodies and streamed lines


class OllamaError(Exception):
    """Any failure talking to a server. `str()` is a sentence for people."""


# Each error names the server it comes from (`Wording.server`): "Ollama" here, or how the
# OpenAI-compatible client calls itself (`the server "cluster"`); sentences start capitalised.
_OLLAMA = OLLAMA_WORDING.server


class OllamaUnreachable(OllamaError):
    def __init__(
        self,
        url: str,
        tls_problem: str | None = None,
        *,
        server: str = _OLLAMA,
        advice: str = OLLAMA_WORDING.unreachable,
    ) -> None:
        if tls_problem is None:
            message = f"Cannot reach {server} at {url}. {advice}"
        else:  # the server answers, but not so that it can be trusted
            message = f"Cannot connect securely to {server} at {url}: {tls_problem}."
        super().__init__(message)
        self.url = url
        self.tls_problem = tls_problem


class ModelNotFound(OllamaError):
    def __init__(self, model: str, message: str) -> None:
        super().__init__(sentence(message))  # the server's text names the model and the fix
        self.model = model
        self.message = message


class OllamaServerError(OllamaError):
    """An error status, or (status 200) an `{"error": ...}` line in the middle of a stream."""

    def __init__(self, status: int, message: str, *, server: str = _OLLAMA) -> None:
        prefix = f"{server} failed mid-reply" if status == 200 else f"{server} answered {status}"
        super().__init__(sentence(f"{prefix}: {message}"))
        self.status = status
        self.message = message


class Unauthorized(OllamaServerError):
    """401 or 403: the server wants credentials it did not get, or refused the ones it got."""

    def __init__(self, status: int, message: str, url: str, *, wording: Wording = OLLAMA_WORDING) -> None:
        said = f": {message}" if message else ""
        text = (
            f"{wording.server} at {url} refused the request ({status}{said}): "
            f"the API key is wrong or missing; {wording.unauthorized}"
        )
        OllamaError.__init__(self, sentence(text))  # its own sentence, and the parent's fields
        self.status = status
        self.message = message
        self.url = url


class StreamInterrupted(OllamaError):
    def __init__(self, *, server: str = _OLLAMA) -> None:
        super().__init__(sentence(f"The connection to {server} dropped before the reply was complete."))


class BadResponse(OllamaError):
    def __init__(self, excerpt: str, *, server: str = _OLLAMA) -> None:
        super().__init__(sentence(f"{server} sent a response this app cannot read: {excerpt}", end=False))
        self.excerpt = excerpt


class _Ends(Protocol):
    @property
    def done(self) -> bool: ...


_Item = TypeVar("_Item", bound=_Ends)


class OllamaClient(HttpClient):
    """One Ollama server. Credentials in the URL become Basic auth (and win over `api_key`,
    which is sent as a Bearer token, as ollama.com expects)."""

    capabilities: Capabilities = OLLAMA_CAPABILITIES

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        wording: Wording = OLLAMA_WORDING,
    ) -> None:
        self._base_url, credentials = split_credentials(base_url)
        self._wording = wording
        self._http = open_http(self._base_url, auth=credentials, api_key=api_key, transport=transport)

    async def version(self) -> str:
        version = (await self._json("GET", "/api/version")).get("version")
        return version if isinstance(version, str) else ""

    async def list_models(self) -> list[ModelInfo]:
        return parse_models(await self._json("GET", "/api/tags"))

    async def show(self, model: str) -> ModelDetails:
        return ModelDetails.from_json(model, await self._json("POST", "/api/show", {"model": model}, model))

    async def running(self) -> list[RunningModel]:
        return parse_running(await self._json("GET", "/api/ps"))

    async def delete(self, model: str) -> None:
        await self._call("DELETE", "/api/delete", {"model": model}, model)

    async def copy(self, source: str, destination: str) -> None:
        await self._call("POST", "/api/copy", {"source": source, "destination": destination}, source)

    def chat(self, request: ChatRequest) -> AsyncGenerator[ChatChunk, None]:
        """Stream a reply: a chunk per line, the last with `done=True` and `stats`."""
        return each(self.chat_batches(request))

    def chat_batches(self, request: ChatRequest) -> AsyncGenerator[list[ChatChunk], None]:
        """`chat()` with the chunks of one network read in one list: a fast stream then costs
        its reader a step per read, not per token."""
        return self._stream("/api/chat", request.to_json(), request.model, parse_chat_line)

    def generate(self, request: GenerateRequest) -> AsyncGenerator[ChatChunk, None]:
        """Stream a completion, shaped like `chat()`."""
        return each(self._stream("/api/generate", request.to_json(), request.model, parse_generate_line))

    def pull(self, model: str) -> AsyncGenerator[PullProgress, None]:
        """Stream download progress, ending with status `success`."""
        return each(self._stream("/api/pull", {"model": model, "stream": True}, model, parse_pull_line))

    async def _call(self, method: str, path: str, body: JSON | None = None, model: str | None = None) -> httpx.Response:
        started = monotonic()
        try:
            response = await self._http.request(method, path, json=body, timeout=SHORT_TIMEOUT)
        except httpx.HTTPError as error:
            raise _logged(self._failure(error), method, path, started, error) from error
        _log.debug("%s %s: %d in %.0f ms", method, path, response.status_code, elapsed_ms(started))
        if response.is_error:
            raise _logged(self._status_error(response, model), method, path, started)
        return response

    async def _json(self, method: str, path: str, body: JSON | None = None, model: str | None = None) -> JSON:
        response = await self._call(method, path, body, model)
        try:
            data = response.json()
        except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
            raise BadResponse(excerpt(response.text), server=self._wording.server) from None
        if not isinstance(data, dict):
            raise BadResponse(excerpt(response.text), server=self._wording.server)
        return data

    async def _stream(
        self, path: str, body: JSON, model: str, parse: Callable[[str], _Item]
    ) -> AsyncGenerator[list[_Item], None]:
        # The hot path: a split per read, one parse per line.
        finished = False
        started = monotonic()
        log_content = _content_log.isEnabledFor(logging.DEBUG)
        if log_content:
            _content_log.debug("POST %s body: %s", path, json.dumps(body, ensure_ascii=False))
        try:
            async with self._http.stream("POST", path, json=body) as response:
                status = response.status_code
                _log.debug("POST %s (%s): %d after %.0f ms", path, model, status, elapsed_ms(started))
                if response.is_error:
                    await response.aread()
                    raise _logged(self._status_error(response, model), "POST", path, started)
                splitter = LineSplitter()
                async for data in response.aiter_bytes():
                    batch: list[_Item] = []
                    for line in splitter.feed(data):
                        if finished or not line.strip():
                            continue  # read on to the end so the connection can be reused
                        text = line.decode("utf-8", "replace")
                        if log_content:
                            _content_log.debug("POST %s line: %s", path, text)
                        try:
                            item = parse(text)
                        except (StreamLineError, MalformedLine):
                            if batch:
                                yield batch  # what came before the bad line is kept
                            raise
                        finished = item.done
                        batch.append(item)
                    if batch:
                        yield batch
        except httpx.HTTPError as error:
            raise _logged(self._failure(error), "POST", path, started, error) from error
        except StreamLineError as error:
            raise _logged(
                OllamaServerError(200, str(error), server=self._wording.server), "POST", path, started
            ) from None
        except (MalformedLine, OverlongLine) as error:
            raise _logged(
                BadResponse(excerpt(str(error)), server=self._wording.server), "POST", path, started
            ) from None
        except (GeneratorExit, asyncio.CancelledError):
            _log.debug("POST %s: closed by the app after %.0f ms", path, elapsed_ms(started))
            raise
        if not finished:  # EOF without a done line (an unterminated last line counts as cut)
            raise _logged(StreamInterrupted(server=self._wording.server), "POST", path, started)
        _log.debug("POST %s: done in %.0f ms", path, elapsed_ms(started))

    def _failure(self, error: httpx.HTTPError) -> OllamaError:
        return failure(error, self._base_url, self._wording)

    def _status_error(self, response: httpx.Response, model: str | None) -> OllamaError:
        try:
            message = error_text(response.json())
        except (ValueError, RecursionError):
            message = None
        if response.status_code in (401, 403):
            return Unauthorized(response.status_code, message or "", self._base_url, wording=self._wording)
        # A plain-text 404 is an unknown path (wrong host prefix), not a missing model.
        if message is not None and response.status_code == 404 and model is not None:
            return ModelNotFound(model, message)
        return OllamaServerError(response.status_code, message or plain_text(response), server=self._wording.server)


def failure(error: httpx.HTTPError, url: str, wording: Wording) -> OllamaError:
    """The `OllamaError` for a transport failure talking to the server at `url`."""
    if isinstance(error, (httpx.ConnectError, httpx.TimeoutException, httpx.UnsupportedProtocol)):
        return OllamaUnreachable(url, tls_problem(error), server=wording.server, advice=wording.unreachable)
    if isinstance(error, httpx.DecodingError):
        return BadResponse(str(error), server=wording.server)
    return StreamInterrupted(server=wording.server)  # the connection broke after it was made


async def each(batches: AsyncGenerator[list[_Item], None]) -> AsyncGenerator[_Item, None]:
    async with aclosing(batches):  # closing this one closes the stream at once
        async for batch in batches:
            for item in batch:
                yield item


def _logged(
    failure: OllamaError, method: str, path: str, started: float, cause: Exception | None = None
) -> OllamaError:
    """`failure`, once the debug log has it (the sentence names no credentials)."""
    detail = f" [{type(cause).__name__}]" if cause is not None else ""
    _log.warning("%s %s failed after %.0f ms: %s%s", method, path, elapsed_ms(started), failure, detail)
    return failure
