"""OllamaClient: Ollama's HTTP API as typed async calls.

Knows nothing of the UI. Every failure leaves as an `OllamaError` whose `str()` is a sentence
to show people; no httpx exception escapes. Streams are async generators: leaving one early
(`aclose()`, a cancelled task) closes the HTTP response at once, which is how Ollama learns
to stop generating.
"""

from __future__ import annotations

import html
import ipaddress
import re
from collections.abc import AsyncGenerator, Callable
from typing import Protocol, TypeVar

import httpx

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


class OllamaError(Exception):
    """Any failure talking to Ollama. `str()` is a sentence for people."""


class OllamaUnreachable(OllamaError):
    def __init__(self, url: str) -> None:
        super().__init__(
            f"Cannot reach Ollama at {url}. Start it with `ollama serve`, "
            "or point OLLAMA_HOST / --host at a running server."
        )
        self.url = url


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
        self._http = httpx.AsyncClient(
            base_url=self._base_url,
            auth=credentials,
            headers={"Authorization": f"Bearer {api_key}"} if api_key else None,
            timeout=_STREAM_TIMEOUT,
            transport=transport,
            # HTTP(S)_PROXY must not capture a local server (Go's clients skip loopback too).
            trust_env=not _is_loopback(self._base_url),
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
        return ModelDetails.from_json(
            model, await self._json("POST", "/api/show", {"model": model}, model)
        )

    async def running(self) -> list[RunningModel]:
        return parse_running(await self._json("GET", "/api/ps"))

    async def delete(self, model: str) -> None:
        await self._call("DELETE", "/api/delete", {"model": model}, model)

    async def copy(self, source: str, destination: str) -> None:
        await self._call(
            "POST", "/api/copy", {"source": source, "destination": destination}, source
        )

    def chat(self, request: ChatRequest) -> AsyncGenerator[ChatChunk, None]:
        """Stream a reply: a chunk per line, the last with `done=True` and `stats`."""
        return self._stream("/api/chat", request.to_json(), request.model, parse_chat_line)

    def generate(self, request: GenerateRequest) -> AsyncGenerator[ChatChunk, None]:
        """Stream a completion, shaped like `chat()`."""
        return self._stream("/api/generate", request.to_json(), request.model, parse_generate_line)

    def pull(self, model: str) -> AsyncGenerator[PullProgress, None]:
        """Stream download progress, ending with status `success`."""
        return self._stream("/api/pull", {"model": model, "stream": True}, model, parse_pull_line)

    async def _call(
        self, method: str, path: str, body: JSON | None = None, model: str | None = None
    ) -> httpx.Response:
        try:
            response = await self._http.request(method, path, json=body, timeout=_SHORT_TIMEOUT)
        except httpx.HTTPError as error:
            raise self._failure(error) from error
        if response.is_error:
            raise _status_error(response, model)
        return response

    async def _json(
        self, method: str, path: str, body: JSON | None = None, model: str | None = None
    ) -> JSON:
        response = await self._call(method, path, body, model)
        try:
            data = response.json()
        except ValueError:
            raise BadResponse(_excerpt(response.text)) from None
        if not isinstance(data, dict):
            raise BadResponse(_excerpt(response.text))
        return data

    async def _stream(
        self, path: str, body: JSON, model: str, parse: Callable[[str], _Item]
    ) -> AsyncGenerator[_Item, None]:
        # The hot path. Lines are split by hand: httpx's aiter_lines also breaks at Unicode
        # line separators such as U+0085, which Ollama sends unescaped inside JSON strings.
        finished = False
        try:
            async with self._http.stream("POST", path, json=body) as response:
                if response.is_error:
                    await response.aread()
                    raise _status_error(response, model)
                partial: list[bytes] = []  # the start of a line that continues in the next read
                async for data in response.aiter_bytes():
                    *lines, rest = data.split(b"\n")
                    if lines and partial:
                        lines[0] = b"".join((*partial, lines[0]))
                        partial.clear()
                    if rest:
                        partial.append(rest)
                    for line in lines:
                        if finished or not line.strip():
                            continue  # read on to the end so the connection can be reused
                        item = parse(line.decode("utf-8", "replace"))
                        finished = item.done
                        yield item
        except httpx.HTTPError as error:
            raise self._failure(error) from error
        except StreamLineError as error:
            raise OllamaServerError(200, str(error)) from None
        except MalformedLine as error:
            raise BadResponse(_excerpt(str(error))) from None
        if not finished:  # EOF without a done line (an unterminated last line counts as cut)
            raise StreamInterrupted()

    def _failure(self, error: httpx.HTTPError) -> OllamaError:
        if isinstance(
            error, (httpx.ConnectError, httpx.TimeoutException, httpx.UnsupportedProtocol)
        ):
            return OllamaUnreachable(self._base_url)
        if isinstance(error, httpx.DecodingError):
            return BadResponse(str(error))
        return StreamInterrupted()  # the connection broke after it was made


def _status_error(response: httpx.Response, model: str | None) -> OllamaError:
    try:
        message = error_text(response.json())
    except ValueError:
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
