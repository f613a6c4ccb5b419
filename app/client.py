"""OllamaClient: Ollama's HTTP API as typed async calls.

Knows nothing of the UI. Every failure leaves as an `OllamaError` whose `str()` is a sentence
to show people; no httpx exception escapes. Streams are async generators: leaving one early
(`aclose()`, a cancelled task) closes the HTTP response at once, which is how Ollama learns
to stop generating.
"""

from __future__ import annotations

import asyncio
import html
import ipaddress
import json
import logging
import os
import re
import ssl
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

# Loading a model or reading a long prompt can hold back the first byte for minutes,
# so streams have no read timeout; small calls that hang mean the server is stuck.
_STREAM_TIMEOUT = httpx.Timeout(connect=5, read=None, write=30, pool=5)
_SHORT_TIMEOUT = httpx.Timeout(connect=5, read=10, write=30, pool=5)

# Methods, paths, statuses, timings and errors; never headers or credentials (see debug_log).
_log = logging.getLogger(__name__)
_content_log = logging.getLogger(CONTENT_LOGGER)  # request bodies and streamed lines


class OllamaError(Exception):
    """Any failure talking to Ollama. `str()` is a sentence for people."""


class OllamaUnreachable(OllamaError):
    def __init__(self, url: str, tls_problem: str | None = None) -> None:
        if tls_problem is None:
            message = (
                f"Cannot reach Ollama at {url}. Start it with `ollama serve`, "
                "or point OLLAMA_HOST / --host at a running server."
            )
        else:  # the server answers, but not so that it can be trusted
            message = f"Cannot connect securely to Ollama at {url}: {tls_problem}."
        super().__init__(message)
        self.url = url
        self.tls_problem = tls_problem


class ModelNotFound(OllamaError):
    def __init__(self, model: str, message: str) -> None:
        super().__init__(_sentence(message))  # the server's text names the model and the fix
        self.model = model
        self.message = message


class OllamaServerError(OllamaError):
    """An error status, or (status 200) an `{"error": ...}` line in the middle of a stream."""

    def __init__(self, status: int, message: str) -> None:
        prefix = "Ollama failed mid-reply" if status == 200 else f"Ollama answered {status}"
        super().__init__(_sentence(f"{prefix}: {message}"))
        self.status = status
        self.message = message


class StreamInterrupted(OllamaError):
    def __init__(self) -> None:
        super().__init__("The connection to Ollama dropped before the reply was complete.")


class BadResponse(OllamaError):
    def __init__(self, excerpt: str) -> None:
        super().__init__(f"Ollama sent a response this app cannot read: {excerpt}")
        self.excerpt = excerpt


class _Ends(Protocol):
    @property
    def done(self) -> bool: ...


_Item = TypeVar("_Item", bound=_Ends)


class OllamaClient:
    """One Ollama server. Credentials in the URL become Basic auth (and win over `api_key`,
    which is sent as a Bearer token, as ollama.com expects)."""

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._base_url, credentials = split_credentials(base_url)
        loopback = _is_loopback(self._base_url)
        self._http = httpx.AsyncClient(
            base_url=self._base_url,
            auth=credentials,
            headers={"Authorization": f"Bearer {api_key}"} if api_key else None,
            timeout=_STREAM_TIMEOUT,
            transport=transport,
            verify=_trust_nothing() if loopback and self._base_url.startswith("http:") else _verify(),
            # HTTP(S)_PROXY must not capture a local server (Go's clients skip loopback too).
            trust_env=not loopback,
        )

    @property
    def base_url(self) -> str:
        """The server URL without credentials, safe to show."""
        return self._base_url

    async def __aenter__(self) -> OllamaClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

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
        return _each(self.chat_batches(request))

    def chat_batches(self, request: ChatRequest) -> AsyncGenerator[list[ChatChunk], None]:
        """`chat()` with the chunks of one network read in one list: a fast stream then costs
        its reader a step per read, not per token."""
        return self._stream("/api/chat", request.to_json(), request.model, parse_chat_line)

    def generate(self, request: GenerateRequest) -> AsyncGenerator[ChatChunk, None]:
        """Stream a completion, shaped like `chat()`."""
        return _each(self._stream("/api/generate", request.to_json(), request.model, parse_generate_line))

    def pull(self, model: str) -> AsyncGenerator[PullProgress, None]:
        """Stream download progress, ending with status `success`."""
        return _each(self._stream("/api/pull", {"model": model, "stream": True}, model, parse_pull_line))

    async def _call(self, method: str, path: str, body: JSON | None = None, model: str | None = None) -> httpx.Response:
        started = monotonic()
        try:
            response = await self._http.request(method, path, json=body, timeout=_SHORT_TIMEOUT)
        except httpx.HTTPError as error:
            raise _logged(self._failure(error), method, path, started, error) from error
        _log.debug("%s %s: %d in %.0f ms", method, path, response.status_code, _ms(started))
        if response.is_error:
            raise _logged(_status_error(response, model), method, path, started)
        return response

    async def _json(self, method: str, path: str, body: JSON | None = None, model: str | None = None) -> JSON:
        response = await self._call(method, path, body, model)
        try:
            data = response.json()
        except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
            raise BadResponse(_excerpt(response.text)) from None
        if not isinstance(data, dict):
            raise BadResponse(_excerpt(response.text))
        return data

    async def _stream(
        self, path: str, body: JSON, model: str, parse: Callable[[str], _Item]
    ) -> AsyncGenerator[list[_Item], None]:
        # The hot path. Lines are split by hand: httpx's aiter_lines also breaks at Unicode
        # line separators such as U+0085, which Ollama sends unescaped inside JSON strings.
        finished = False
        started = monotonic()
        log_content = _content_log.isEnabledFor(logging.DEBUG)
        if log_content:
            _content_log.debug("POST %s body: %s", path, json.dumps(body, ensure_ascii=False))
        try:
            async with self._http.stream("POST", path, json=body) as response:
                status = response.status_code
                _log.debug("POST %s (%s): %d after %.0f ms", path, model, status, _ms(started))
                if response.is_error:
                    await response.aread()
                    raise _logged(_status_error(response, model), "POST", path, started)
                partial: list[bytes] = []  # the start of a line that continues in the next read
                async for data in response.aiter_bytes():
                    *lines, rest = data.split(b"\n")
                    if lines and partial:
                        lines[0] = b"".join((*partial, lines[0]))
                        partial.clear()
                    if rest:
                        partial.append(rest)
                        if sum(map(len, partial)) > MAX_LINE_BYTES:  # no newline, ever: not Ollama
                            raise MalformedLine(b"".join(partial)[:200].decode("utf-8", "replace"))
                    batch: list[_Item] = []
                    for line in lines:
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
            raise _logged(OllamaServerError(200, str(error)), "POST", path, started) from None
        except MalformedLine as error:
            raise _logged(BadResponse(_excerpt(str(error))), "POST", path, started) from None
        except (GeneratorExit, asyncio.CancelledError):
            _log.debug("POST %s: closed by the app after %.0f ms", path, _ms(started))
            raise
        if not finished:  # EOF without a done line (an unterminated last line counts as cut)
            raise _logged(StreamInterrupted(), "POST", path, started)
        _log.debug("POST %s: done in %.0f ms", path, _ms(started))

    def _failure(self, error: httpx.HTTPError) -> OllamaError:
        if isinstance(error, (httpx.ConnectError, httpx.TimeoutException, httpx.UnsupportedProtocol)):
            return OllamaUnreachable(self._base_url, _tls_problem(error))
        if isinstance(error, httpx.DecodingError):
            return BadResponse(str(error))
        return StreamInterrupted()  # the connection broke after it was made


async def _each(batches: AsyncGenerator[list[_Item], None]) -> AsyncGenerator[_Item, None]:
    async with aclosing(batches):  # closing this one closes the stream at once
        async for batch in batches:
            for item in batch:
                yield item


def _logged(
    failure: OllamaError, method: str, path: str, started: float, cause: Exception | None = None
) -> OllamaError:
    """`failure`, once the debug log has it (the sentence names no credentials)."""
    detail = f" [{type(cause).__name__}]" if cause is not None else ""
    _log.warning("%s %s failed after %.0f ms: %s%s", method, path, _ms(started), failure, detail)
    return failure


def _tls_problem(error: BaseException) -> str | None:
    """Why a TLS handshake under `error` failed, in words for people; None if none did."""
    cause: BaseException | None = error
    for _ in range(10):  # httpx and httpcore wrap the ssl error a few levels down
        if cause is None:
            break
        if isinstance(cause, ssl.SSLCertVerificationError):
            return (
                f"its certificate is not trusted ({cause.verify_message}); point SSL_CERT_FILE "
                "at a file with the certificate of the authority that signed it"
            )
        if isinstance(cause, ssl.SSLError):
            return f"the TLS handshake failed ({cause.reason or cause}); is it serving https?"
        cause = cause.__cause__ or cause.__context__
    return None


def _ms(started: float) -> float:
    return (monotonic() - started) * 1000


def _verify() -> ssl.SSLContext | bool:
    """Trust SSL_CERT_FILE / SSL_CERT_DIR, as httpx does, for loopback hosts too: httpx reads
    them only with `trust_env`, which is off there to keep proxies away."""
    cafile, capath = os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR")
    if not (cafile or capath):
        return True
    try:
        return ssl.create_default_context(cafile=cafile or None, capath=capath or None)
    except (OSError, ssl.SSLError) as error:  # still verified, against the usual certificates
        _log.warning("SSL_CERT_FILE / SSL_CERT_DIR cannot be used: %s", error)
        return True


def _trust_nothing() -> ssl.SSLContext:
    """For plain HTTP to this machine, where no TLS can happen (no proxy either): loading the
    certificates would only cost 20–50 ms of start-up. Were TLS ever tried, it would fail."""
    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


MAX_LINE_BYTES = 64 * 1024 * 1024  # one NDJSON line; a 1 MB reply line is normal, 64 MB is not


def _status_error(response: httpx.Response, model: str | None) -> OllamaError:
    try:
        message = error_text(response.json())
    except (ValueError, RecursionError):
        message = None
    # A plain-text 404 is an unknown path (wrong host prefix), not a missing model.
    if message is not None and response.status_code == 404 and model is not None:
        return ModelNotFound(model, message)
    return OllamaServerError(response.status_code, message or _plain(response))


_HIDDEN_HTML = re.compile(r"<(head|script|style)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]*>")


def _plain(response: httpx.Response) -> str:
    """A short text for a body that is not JSON, such as a proxy's HTML error page."""
    text = _TAG.sub(" ", _HIDDEN_HTML.sub(" ", response.text))
    return _excerpt(" ".join(html.unescape(text).split()), 200) or response.reason_phrase


def _excerpt(text: str, limit: int = 80) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _sentence(text: str) -> str:
    text = text.strip()
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def _is_loopback(url: str) -> bool:
    host = httpx.URL(url).host
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
