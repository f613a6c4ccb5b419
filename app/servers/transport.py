"""HTTP plumbing the server clients share: one httpx client per server, and failures in words.

No UI and no protocol: how a connection is made (timeouts, TLS, proxies), how a transport
failure or an error page reads for people, and how errors name the server they come from.
"""

from __future__ import annotations

import html
import ipaddress
import logging
import os
import re
import ssl
from dataclasses import dataclass
from time import monotonic
from typing import Self

import httpx

# Loading a model or reading a long prompt can hold back the first byte for minutes,
# so streams have no read timeout; small calls that hang mean the server is stuck.
STREAM_TIMEOUT = httpx.Timeout(connect=5, read=None, write=30, pool=5)
SHORT_TIMEOUT = httpx.Timeout(connect=5, read=10, write=30, pool=5)
MAX_LINE_BYTES = 64 * 1024 * 1024  # one streamed line; a 1 MB reply line is normal, 64 MB is not

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Wording:
    """How a client's errors name its server, and what they advise when it cannot be reached
    or refuses the credentials. The advice is a sentence; `server` starts one after "Cannot reach"."""

    server: str  # "Ollama", 'the server "cluster"'
    unreachable: str
    unauthorized: str


OLLAMA_WORDING = Wording(
    "Ollama",
    "Start it with `ollama serve`, or point OLLAMA_HOST / --host at a running server.",
    "set OLLAMA_API_KEY, or put user:password@ in OLLAMA_HOST / --host",
)


def open_http(
    base_url: str,
    *,
    auth: tuple[str, str] | None = None,
    api_key: str | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> httpx.AsyncClient:
    """The httpx client for one server: Basic `auth` from the URL, or `api_key` as a Bearer
    token; streaming timeouts by default. The key lives only in the client's headers, which
    httpx's own repr masks."""
    loopback = is_loopback(base_url)
    return httpx.AsyncClient(
        base_url=base_url,
        auth=auth,
        headers={"Authorization": f"Bearer {api_key}"} if api_key else None,
        timeout=STREAM_TIMEOUT,
        transport=transport,
        verify=_trust_nothing() if loopback and base_url.startswith("http:") else _verify(),
        # HTTP(S)_PROXY must not capture a local server (Go's clients skip loopback too).
        trust_env=not loopback,
    )


def tls_problem(error: BaseException) -> str | None:
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


def elapsed_ms(started: float) -> float:
    return (monotonic() - started) * 1000


def plain_text(response: httpx.Response) -> str:
    """A short text for a body that is not JSON, such as a proxy's HTML error page."""
    text = _TAG.sub(" ", _HIDDEN_HTML.sub(" ", response.text))
    return excerpt(" ".join(html.unescape(text).split()), 200) or response.reason_phrase


def excerpt(text: str, limit: int = 80) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def sentence(text: str, end: bool = True) -> str:
    """`text` capitalised, with a full stop unless it has one (or `end` is off: an excerpt)."""
    text = text.strip()
    text = text[:1].upper() + text[1:]
    return text if not end or text.endswith((".", "!", "?")) else text + "."


def is_loopback(url: str) -> bool:
    host = httpx.URL(url).host
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class HttpClient:
    """What the clients share: their connection pool, a URL safe to show, and closing it."""

    _base_url: str
    _http: httpx.AsyncClient

    @property
    def base_url(self) -> str:
        """The server's URL without credentials, safe to show."""
        return self._base_url

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._base_url!r})"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()


class LineSplitter:
    """Complete lines out of the reads of a stream, split at b"\\n" only: httpx's aiter_lines
    also breaks at Unicode line separators such as U+0085, which servers send unescaped
    inside JSON strings. The end of a line that continues in the next read waits there."""

    __slots__ = ("_partial", "_size")

    def __init__(self) -> None:
        self._partial: list[bytes] = []
        self._size = 0

    def feed(self, data: bytes) -> list[bytes]:
        *lines, rest = data.split(b"\n")
        if lines and self._partial:
            lines[0] = b"".join((*self._partial, lines[0]))
            self._partial.clear()
            self._size = 0
        if rest:
            self._partial.append(rest)
            self._size += len(rest)
            if self._size > MAX_LINE_BYTES:  # no newline, ever: not a stream of lines
                raise OverlongLine(b"".join(self._partial)[:200].decode("utf-8", "replace"))
        return lines

    @property
    def unfinished(self) -> bool:
        """Whether the stream stopped inside a line: it was cut."""
        return bool(self._partial)


class OverlongLine(Exception):
    """A line with no end in sight; its start is the message."""


_HIDDEN_HTML = re.compile(r"<(head|script|style)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]*>")


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
